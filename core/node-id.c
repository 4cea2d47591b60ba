/* core/node-id.c — which node of which job this moni is: the Slurm job, step, node
 * name and rank from the SLURM_* environment (the hostname and rank 0 of 1 task
 * outside Slurm), the kernel clock's quality (adjtimex, read only) so that nodes'
 * runs can be aligned, the expansion of %n/%j/%t in --out, and the job's node list
 * ("n[1-3],gpu07") as names with the rank each one holds.
 *
 * It only reads: it never changes the clock (adjtimex with modes 0) and never runs
 * a program (no scontrol, no chronyc). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <unistd.h>

#include "core/core.h"

/* ---- identity ---------------------------------------------------------------------- */

static void copy_env(char *dst, size_t len, const char *v)
{
    snprintf(dst, len, "%s", v ? v : "");
}

/* Only a set, non-empty value replaces what dst holds. */
static void override_env(char *dst, size_t len, const char *v)
{
    if (v && *v)
        snprintf(dst, len, "%s", v);
}

static const char *real_getenv(const char *name, void *arg)
{
    (void)arg;
    return getenv(name);
}

/* A non-negative integer from the environment, or def when absent or malformed. */
static int env_int(node_env_fn get, void *arg, const char *name, int def)
{
    const char *v = get(name, arg);
    if (!v || !*v)
        return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0 || n > 1000000)
        return def;
    return (int)n;
}

void node_identity_from(struct node_identity *id, node_env_fn get, void *arg)
{
    memset(id, 0, sizeof *id);
    if (!get)
        get = real_getenv;
    if (gethostname(id->hostname, sizeof id->hostname - 1) < 0 || !id->hostname[0])
        snprintf(id->hostname, sizeof id->hostname, "localhost");
    copy_env(id->job_id, sizeof id->job_id, get("SLURM_JOB_ID", arg));
    if (!id->job_id[0]) /* older Slurm, and some wrappers */
        copy_env(id->job_id, sizeof id->job_id, get("SLURM_JOBID", arg));
    id->slurm = id->job_id[0] != '\0';
    /* MONI_JOB_ID, MONI_NODE, MONI_RANK: the same for jobs without Slurm (and to
     * override it); they never make moni send faults through srun */
    override_env(id->job_id, sizeof id->job_id, get("MONI_JOB_ID", arg));
    copy_env(id->step_id, sizeof id->step_id, get("SLURM_STEP_ID", arg));
    if (!id->step_id[0])
        copy_env(id->step_id, sizeof id->step_id, get("SLURM_STEPID", arg));
    copy_env(id->node, sizeof id->node, get("SLURMD_NODENAME", arg));
    override_env(id->node, sizeof id->node, get("MONI_NODE", arg));
    if (!id->node[0])
        snprintf(id->node, sizeof id->node, "%s", id->hostname);
    id->rank = env_int(get, arg, "MONI_RANK", env_int(get, arg, "SLURM_PROCID", 0));
    id->local_rank = env_int(get, arg, "SLURM_LOCALID", 0);
    id->ntasks = env_int(get, arg, "SLURM_NTASKS", 0);
    if (!id->ntasks)
        id->ntasks = env_int(get, arg, "SLURM_NPROCS", 1);
    if (id->ntasks < 1)
        id->ntasks = 1;
    copy_env(id->nodelist, sizeof id->nodelist, get("SLURM_STEP_NODELIST", arg));
    if (!id->nodelist[0])
        copy_env(id->nodelist, sizeof id->nodelist, get("SLURM_JOB_NODELIST", arg));
    copy_env(id->tasks_per_node, sizeof id->tasks_per_node,
             get("SLURM_STEP_TASKS_PER_NODE", arg));
    if (!id->tasks_per_node[0])
        copy_env(id->tasks_per_node, sizeof id->tasks_per_node, get("SLURM_TASKS_PER_NODE", arg));
}

void node_identity_read(struct node_identity *id)
{
    node_identity_from(id, real_getenv, NULL);
    node_clock_read(&id->clock);
}

/* ---- clock quality ------------------------------------------------------------------ */

void node_clock_read(struct node_clock *c)
{
    memset(c, 0, sizeof *c);
    struct timex tx = {0}; /* modes 0: read only, no privilege needed */
    int state = adjtimex(&tx);
    if (state < 0) {
        snprintf(c->error, sizeof c->error, "adjtimex: %s", strerror(errno));
        return;
    }
    c->valid = true;
    c->state = state;
    c->synced = !(tx.status & STA_UNSYNC) && state != TIME_ERROR;
    /* offset is in microseconds, or nanoseconds with STA_NANO; the error bounds are
     * always microseconds */
    c->offset_s = (double)tx.offset / ((tx.status & STA_NANO) ? 1e9 : 1e6);
    c->maxerror_s = (double)tx.maxerror / 1e6;
    c->esterror_s = (double)tx.esterror / 1e6;
    c->status = tx.status;
}

static const char *clock_state_name(int state)
{
    switch (state) {
    case TIME_OK: return "TIME_OK";
    case TIME_INS: return "TIME_INS";
    case TIME_DEL: return "TIME_DEL";
    case TIME_OOP: return "TIME_OOP";
    case TIME_WAIT: return "TIME_WAIT";
    case TIME_ERROR: return "TIME_ERROR";
    }
    return "?";
}

cJSON *node_identity_json(const struct node_identity *id)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "source", id->slurm ? "slurm" : "host");
    if (id->slurm)
        cJSON_AddStringToObject(o, "job_id", id->job_id);
    else
        cJSON_AddNullToObject(o, "job_id");
    if (id->step_id[0])
        cJSON_AddStringToObject(o, "step_id", id->step_id);
    else
        cJSON_AddNullToObject(o, "step_id");
    cJSON_AddStringToObject(o, "node", id->node);
    cJSON_AddStringToObject(o, "hostname", id->hostname);
    cJSON_AddNumberToObject(o, "rank", id->rank);
    cJSON_AddNumberToObject(o, "local_rank", id->local_rank);
    cJSON_AddNumberToObject(o, "ntasks", id->ntasks);
    if (id->nodelist[0])
        cJSON_AddStringToObject(o, "nodelist", id->nodelist);
    cJSON *c = cJSON_AddObjectToObject(o, "clock");
    cJSON_AddStringToObject(c, "source", "adjtimex");
    if (!id->clock.valid) {
        cJSON_AddStringToObject(c, "error", id->clock.error);
        return o;
    }
    cJSON_AddBoolToObject(c, "synchronized", id->clock.synced);
    cJSON_AddStringToObject(c, "state", clock_state_name(id->clock.state));
    cJSON_AddNumberToObject(c, "offset_s", id->clock.offset_s);
    cJSON_AddNumberToObject(c, "maxerror_s", id->clock.maxerror_s);
    cJSON_AddNumberToObject(c, "esterror_s", id->clock.esterror_s);
    cJSON_AddNumberToObject(c, "status", id->clock.status);
    return o;
}

cJSON *node_meta_json(void)
{
    struct node_identity id;
    node_identity_read(&id);
    return node_identity_json(&id);
}

/* ---- --out DIR/%n ------------------------------------------------------------------- */

int node_expand_out(const char *pattern, const struct node_identity *id, char *out, size_t len,
                    char *err, size_t errlen)
{
    size_t n = 0;
    for (const char *p = pattern; *p; p++) {
        char rank[16];
        const char *add;
        char one[2] = {*p, '\0'};
        if (*p != '%') {
            add = one;
        } else {
            switch (*++p) {
            case 'n': add = id->node; break;
            case 'j': add = id->slurm ? id->job_id : "local"; break;
            case 't': snprintf(rank, sizeof rank, "%d", id->rank); add = rank; break;
            case '%': add = "%"; break;
            default:
                snprintf(err, errlen, "%s: unknown '%%%c' (%%n node, %%j job id, %%t rank, %%%% a %%)",
                         pattern, *p ? *p : ' ');
                return -1;
            }
        }
        size_t k = strlen(add);
        if (n + k >= len) {
            snprintf(err, errlen, "%s: too long once expanded", pattern);
            return -1;
        }
        memcpy(out + n, add, k);
        n += k;
    }
    out[n] = '\0';
    return 0;
}

int node_expand_out_here(const char *pattern, char *out, size_t len, char *err, size_t errlen)
{
    struct node_identity id;
    node_identity_from(&id, real_getenv, NULL);
    return node_expand_out(pattern, &id, out, len, err, errlen);
}

bool node_out_has_pattern(const char *pattern)
{
    for (const char *p = pattern; p && *p; p++)
        if (*p == '%' && p[1]) {
            if (p[1] != '%')
                return true;
            p++;
        }
    return false;
}

/* ---- the job's node list and where each rank runs --------------------------------- */

static int push_name(char ***names, size_t *n, const char *s, size_t len)
{
    char **v = realloc(*names, (*n + 1) * sizeof *v);
    if (!v)
        return -1;
    *names = v;
    if (!(v[*n] = strndup(s, len)))
        return -1;
    (*n)++;
    return 0;
}

/* "pre[1-3,07]suf" -> pre1suf pre2suf pre3suf pre07suf (zero padding kept). */
static int expand_bracket(const char *item, size_t len, char ***names, size_t *n)
{
    const char *lb = memchr(item, '[', len);
    if (!lb)
        return push_name(names, n, item, len);
    const char *rb = memchr(lb, ']', len - (size_t)(lb - item));
    if (!rb)
        return -1;
    size_t plen = (size_t)(lb - item), slen = len - (size_t)(rb + 1 - item);
    const char *p = lb + 1;
    while (p < rb) {
        const char *comma = memchr(p, ',', (size_t)(rb - p));
        const char *end = comma ? comma : rb;
        char *dash, range[64];
        if ((size_t)(end - p) >= sizeof range || end == p)
            return -1;
        memcpy(range, p, (size_t)(end - p));
        range[end - p] = '\0';
        long lo = strtol(range, &dash, 10), hi = lo;
        int width = (int)(dash - range);
        if (*dash == '-')
            hi = strtol(dash + 1, NULL, 10);
        else if (*dash)
            return -1;
        if (hi < lo || hi - lo > 100000)
            return -1;
        for (long k = lo; k <= hi; k++) {
            char name[512];
            int w = snprintf(name, sizeof name, "%.*s%0*ld%.*s", (int)plen, item, width, k,
                             (int)slen, rb + 1);
            if (w < 0 || (size_t)w >= sizeof name || push_name(names, n, name, (size_t)w) < 0)
                return -1;
        }
        p = comma ? comma + 1 : rb;
    }
    return 0;
}

int node_list_expand(const char *list, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    const char *p = list ? list : "";
    while (*p) {
        /* an item ends at a comma outside brackets */
        const char *q = p;
        int depth = 0;
        while (*q && (depth || *q != ',')) {
            depth += *q == '[' ? 1 : *q == ']' ? -1 : 0;
            q++;
        }
        if (q > p && expand_bracket(p, (size_t)(q - p), names, n) < 0) {
            node_list_free(*names, *n);
            *names = NULL;
            *n = 0;
            return -1;
        }
        p = *q ? q + 1 : q;
    }
    return 0;
}

void node_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* SLURM_TASKS_PER_NODE "2(x3),1" -> the task count of node i (block distribution:
 * ranks fill the first node, then the next). */
static int tasks_on(const char *tpn, size_t node)
{
    size_t seen = 0;
    const char *p = tpn;
    while (p && *p) {
        char *end;
        long count = strtol(p, &end, 10), times = 1;
        if (end == p)
            return -1;
        if (!strncmp(end, "(x", 2)) {
            times = strtol(end + 2, &end, 10);
            if (*end != ')')
                return -1;
            end++;
        }
        if (node < seen + (size_t)times)
            return (int)count;
        seen += (size_t)times;
        p = *end == ',' ? end + 1 : NULL;
    }
    return -1;
}

int node_of_rank(const struct node_identity *id, int rank, char *out, size_t len)
{
    if (rank < 0 || rank >= id->ntasks)
        return -1;
    if (!id->slurm || !id->nodelist[0]) {
        snprintf(out, len, "%s", id->node); /* one task, this host */
        return 0;
    }
    char **names;
    size_t n;
    if (node_list_expand(id->nodelist, &names, &n) < 0)
        return -1;
    int first = 0, rc = -1;
    for (size_t i = 0; i < n; i++) {
        int k = id->tasks_per_node[0] ? tasks_on(id->tasks_per_node, i) : 1;
        if (k < 0)
            break;
        if (rank < first + k) {
            snprintf(out, len, "%s", names[i]);
            rc = 0;
            break;
        }
        first += k;
    }
    node_list_free(names, n);
    return rc;
}

int node_first_rank(const struct node_identity *id, const char *node)
{
    if (!id->slurm || !id->nodelist[0])
        return strcmp(node, id->node) ? -1 : 0;
    char **names;
    size_t n;
    if (node_list_expand(id->nodelist, &names, &n) < 0)
        return -1;
    int first = 0, rc = -1;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], node)) {
            rc = first;
            break;
        }
        int k = id->tasks_per_node[0] ? tasks_on(id->tasks_per_node, i) : 1;
        if (k < 0)
            break;
        first += k;
    }
    node_list_free(names, n);
    return rc < id->ntasks ? rc : -1;
}
