/* core/cluster-fault.c — faults on chosen nodes of a cluster job (moni-plan(5)
 * CLUSTER FAULTS).  Every node runs the same plan; a fault that names "nodes" or
 * "ranks" is rank 0's to fire: in its own runner when it is named itself, and on the
 * other named nodes through the scheduler:
 *     srun --overlap --jobid=JOB -w NODE -N1 -n1 moni fault run --spec SPEC
 *          --run RUN_DIR_OF_THAT_NODE --id-prefix cK-
 * spawned with argv (no shell), at the fault's time or on its log trigger as rank 0
 * sees it.  The node's `moni fault run` journals into that node's own faults.jsonl,
 * so each node's dataset labels what happened on it; rank 0 keeps what it sent, and
 * how it ended, in its meta.json ("cluster_faults").
 *
 * Nothing here listens on the network: the scheduler carries the command.  MONI_SRUN
 * names another launcher with srun's options (the tests' stand-in). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "faults/faults.h"
#include "logparse/logparse.h"

extern char **environ;

struct cl_target {
    char node[128];
    int rank;
    char dir[PATH_MAX];
    pid_t pid;           /* the srun child while it runs */
    int status;          /* its wait status once reaped */
    bool sent, reaped;
    int64_t sent_real, sent_mono;
    char error[160];     /* could not be sent */
};

struct cl_fault {
    struct cluster_dispatch *d;
    const struct plan_fault *pf;
    size_t idx;          /* in the experiment: the id prefix "c<idx>-" */
    char spec[1200];     /* fires at once on the node: KIND[:params]@0s[+FOR] */
    struct cl_target *t;
    size_t nt;
    int timer;
    bool sent;
};

struct cluster_dispatch {
    struct moni_loop *loop;
    struct node_identity id;
    char launcher[PATH_MAX], exe[PATH_MAX];
    struct cl_fault *f;
    size_t nf;
    int reaper;
    bool quiet;
};

/* Only rank 0 acts on a fault that names nodes or ranks: on itself when named, on
 * the others through srun.  A named node never fires it on its own (it would fire
 * twice). */
bool cluster_fault_here(const struct plan_fault *pf, const struct node_identity *id)
{
    if (!pf->nnodes && !pf->nranks)
        return true;
    if (id->rank != 0)
        return false;
    for (size_t i = 0; i < pf->nnodes; i++)
        if (!strcmp(pf->nodes[i], id->node))
            return true;
    for (size_t i = 0; i < pf->nranks; i++)
        if (pf->ranks[i] == id->rank)
            return true;
    return false;
}

int cluster_faults_check(const struct plan_experiment *e, const char *plan_path,
                         const struct node_identity *id, char *err, size_t errlen)
{
    const char *plan = plan_path ? plan_path : "(plan)";
    for (size_t i = 0; e && i < e->nfaults; i++) {
        const struct plan_fault *pf = &e->faults[i];
        for (size_t k = 0; k < pf->nranks; k++)
            if (pf->ranks[k] >= id->ntasks) {
                if (id->slurm)
                    snprintf(err, errlen, "%s:%d: ranks: rank %d is not in this job (%d tasks)",
                             plan, pf->line, pf->ranks[k], id->ntasks);
                else
                    snprintf(err, errlen, "%s:%d: ranks: rank %d: not in a Slurm job (only "
                             "rank 0, this host)", plan, pf->line, pf->ranks[k]);
                return -1;
            }
        for (size_t k = 0; k < pf->nnodes; k++)
            if (node_first_rank(id, pf->nodes[k]) < 0) {
                if (id->slurm)
                    snprintf(err, errlen, "%s:%d: nodes: node '%s' is not in this job's nodes (%s)",
                             plan, pf->line, pf->nodes[k], id->nodelist);
                else
                    snprintf(err, errlen, "%s:%d: nodes: node '%s': not in a Slurm job (only "
                             "this host, '%s')", plan, pf->line, pf->nodes[k], id->node);
                return -1;
            }
    }
    return 0;
}

bool cluster_fault_needs_control(const struct plan_fault *pf)
{
    const struct fault_ops *ops = fault_find(pf->kind);
    return ops && ops->control_file;
}

/* ---- what rank 0 sends ------------------------------------------------------------------ */

static void fmt_ns(int64_t ns, char *buf, size_t len)
{
    snprintf(buf, len, "%lldms", (long long)(ns / MONI_NS_PER_MS));
}

/* The spec the node fires at once: the plan's kind, parameters and target, +FOR. */
static int node_spec(const struct plan_fault *pf, char *text, size_t len)
{
    size_t n = (size_t)snprintf(text, len, "%s", pf->kind);
    bool colon = false;
    if (pf->params && pf->params[0]) {
        n += (size_t)snprintf(text + n, len - n, ":%s", pf->params);
        colon = true;
    }
    if (pf->target && n < len)
        n += (size_t)snprintf(text + n, len - n, "%s%s", colon ? "," : ":", pf->target);
    if (n < len)
        n += (size_t)snprintf(text + n, len - n, "@0s");
    if (pf->for_ns && n < len) {
        char d[32];
        fmt_ns(pf->for_ns, d, sizeof d);
        n += (size_t)snprintf(text + n, len - n, "+%s", d);
    }
    return n < len ? 0 : -1;
}

static int add_target(struct cl_fault *cf, const char *node, int rank, const char *out_pattern,
                      char *err, size_t errlen)
{
    for (size_t i = 0; i < cf->nt; i++)
        if (!strcmp(cf->t[i].node, node) && cf->t[i].rank == rank)
            return 0;
    struct cl_target *t = realloc(cf->t, (cf->nt + 1) * sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cf->t = t;
    t = &cf->t[cf->nt];
    memset(t, 0, sizeof *t);
    snprintf(t->node, sizeof t->node, "%s", node);
    t->rank = rank;
    /* that node's run directory: the same --out, expanded for it */
    struct node_identity there = cf->d->id;
    snprintf(there.node, sizeof there.node, "%s", node);
    there.rank = rank;
    if (node_expand_out(out_pattern, &there, t->dir, sizeof t->dir, err, errlen) < 0)
        return -1;
    cf->nt++;
    return 0;
}

/* The other nodes a fault names (this node fires its own share itself). */
static int plan_targets(struct cl_fault *cf, const char *out_pattern, char *err, size_t errlen)
{
    const struct node_identity *id = &cf->d->id;
    const struct plan_fault *pf = cf->pf;
    for (size_t k = 0; k < pf->nranks; k++) {
        char node[128];
        if (pf->ranks[k] == id->rank)
            continue;
        if (node_of_rank(id, pf->ranks[k], node, sizeof node) < 0) {
            snprintf(err, errlen, "rank %d: no node for it in '%s'", pf->ranks[k], id->nodelist);
            return -1;
        }
        if (add_target(cf, node, pf->ranks[k], out_pattern, err, errlen) < 0)
            return -1;
    }
    for (size_t k = 0; k < pf->nnodes; k++)
        if (strcmp(pf->nodes[k], id->node) &&
            add_target(cf, pf->nodes[k], node_first_rank(id, pf->nodes[k]), out_pattern, err,
                       errlen) < 0)
            return -1;
    return 0;
}

static void send_one(struct cluster_dispatch *d, struct cl_fault *cf, struct cl_target *t)
{
    char jobid[48], prefix[16];
    snprintf(jobid, sizeof jobid, "--jobid=%s", d->id.job_id);
    snprintf(prefix, sizeof prefix, "c%zu-", cf->idx + 1);
    char *argv[] = {d->launcher, "--overlap", jobid, "-w", t->node, "-N1", "-n1", "--quiet",
                    d->exe, "fault", "run", "--spec", cf->spec, "--run", t->dir, "--id-prefix",
                    prefix, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* the node's journal lines are its own record; rank 0's output stays its own */
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    int e = posix_spawn(&t->pid, d->launcher, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    t->sent_real = moni_now().real_ns;
    t->sent_mono = moni_mono_ns();
    if (e) {
        t->pid = 0;
        t->reaped = true;
        snprintf(t->error, sizeof t->error, "%s: %s", d->launcher, strerror(e));
        moni_warn("cluster fault %s on %s: %s", cf->spec, t->node, t->error);
        return;
    }
    t->sent = true;
    if (!d->quiet)
        fprintf(stderr, "moni: fault %s sent to %s (rank %d) through %s\n", cf->spec, t->node,
                t->rank, d->launcher);
}

static void send_fault(struct cl_fault *cf)
{
    if (cf->sent)
        return;
    cf->sent = true;
    for (size_t i = 0; i < cf->nt; i++)
        send_one(cf->d, cf, &cf->t[i]);
}

static void on_timer(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns, uint64_t missed,
                     void *arg)
{
    (void)loop;
    (void)deadline_ns;
    (void)now_ns;
    (void)missed;
    struct cl_fault *cf = arg;
    cf->timer = -1;
    send_fault(cf);
}

static void reap(struct cluster_dispatch *d, bool block)
{
    for (size_t i = 0; i < d->nf; i++)
        for (size_t k = 0; k < d->f[i].nt; k++) {
            struct cl_target *t = &d->f[i].t[k];
            if (!t->sent || t->reaped)
                continue;
            pid_t p = waitpid(t->pid, &t->status, block ? 0 : WNOHANG);
            if (p == t->pid || (p < 0 && errno == ECHILD)) {
                t->reaped = true;
                if (!d->quiet && (!WIFEXITED(t->status) || WEXITSTATUS(t->status)))
                    moni_warn("cluster fault %s on %s: %s %d", d->f[i].spec, t->node,
                              WIFEXITED(t->status) ? "exit" : "signal",
                              WIFEXITED(t->status) ? WEXITSTATUS(t->status) : WTERMSIG(t->status));
            }
        }
}

static void on_reap(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns, uint64_t missed,
                    void *arg)
{
    (void)loop;
    (void)deadline_ns;
    (void)now_ns;
    (void)missed;
    reap(arg, false);
}

struct cluster_dispatch *cluster_dispatch_new(struct moni_loop *loop,
                                              const struct plan_experiment *e,
                                              const char *plan_path, const char *out_pattern,
                                              bool quiet, char *err, size_t errlen)
{
    err[0] = '\0';
    struct node_identity id;
    node_identity_read(&id);
    bool any = false;
    for (size_t i = 0; e && i < e->nfaults; i++)
        any |= e->faults[i].nnodes || e->faults[i].nranks;
    if (!any || id.rank != 0)
        return NULL; /* nothing to send, or not this node's job to send it */
    if (cluster_faults_check(e, plan_path, &id, err, errlen) < 0)
        return NULL;
    struct cluster_dispatch *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->loop = loop;
    d->id = id;
    d->quiet = quiet;
    d->reaper = -1;
    const char *l = getenv("MONI_SRUN");
    snprintf(d->launcher, sizeof d->launcher, "%s", l && *l ? l : "srun");
    if (!strchr(d->launcher, '/') && moni_find_program(d->launcher, d->launcher, sizeof d->launcher) < 0)
        snprintf(err, errlen, "%s:%d: %s: faults on other nodes need srun on PATH",
                 plan_path ? plan_path : "(plan)", e->faults[0].line,
                 e->faults[0].nnodes ? "nodes" : "ranks");
    ssize_t n = readlink("/proc/self/exe", d->exe, sizeof d->exe - 1);
    if (!err[0] && n <= 0)
        snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
    if (!err[0] && !out_pattern)
        snprintf(err, errlen, "%s: faults on other nodes need --out (their run directories)",
                 plan_path ? plan_path : "(plan)");
    d->f = calloc(e->nfaults, sizeof *d->f);
    if (!err[0] && !d->f)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; !err[0] && i < e->nfaults; i++) {
        const struct plan_fault *pf = &e->faults[i];
        if (!pf->nnodes && !pf->nranks)
            continue;
        struct cl_fault *cf = &d->f[d->nf];
        cf->d = d;
        cf->pf = pf;
        cf->idx = i;
        cf->timer = -1;
        d->nf++;
        if (node_spec(pf, cf->spec, sizeof cf->spec) < 0)
            snprintf(err, errlen, "%s:%d: fault too long", plan_path ? plan_path : "(plan)", pf->line);
        else if (plan_targets(cf, out_pattern, err, errlen) < 0)
            break;
    }
    if (err[0]) {
        cluster_dispatch_free(d);
        return NULL;
    }
    return d;
}

void cluster_dispatch_start(struct cluster_dispatch *d, int64_t start_mono)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nf; i++) {
        struct cl_fault *cf = &d->f[i];
        if (cf->nt && !cf->pf->when_event && !cf->pf->when_rule)
            cf->timer = moni_loop_add_timeout(d->loop, start_mono + cf->pf->at_ns, on_timer, cf);
    }
    d->reaper = moni_loop_add_ticker(d->loop, 250 * MONI_NS_PER_MS, 0, on_reap, d);
}

void cluster_dispatch_record(struct cluster_dispatch *d, const struct lp_record *rec)
{
    for (size_t i = 0; d && i < d->nf; i++) {
        struct cl_fault *cf = &d->f[i];
        const struct plan_fault *pf = cf->pf;
        if (cf->sent || cf->timer >= 0 || !cf->nt || (!pf->when_event && !pf->when_rule))
            continue;
        bool hit = pf->when_rule ? rec->rule_id && !strcmp(rec->rule_id, pf->when_rule)
                                 : (rec->event && !strcmp(rec->event, pf->when_event)) ||
                                       (rec->kind == LP_KIND_PHASE &&
                                        !strcmp(lp_phase_name(rec->phase), pf->when_event));
        if (hit && pf->when_text)
            hit = rec->text && memmem(rec->text, rec->text_len, pf->when_text, strlen(pf->when_text));
        if (!hit)
            continue;
        int64_t at = rec->recv.mono_ns + pf->delay_ns, now = moni_mono_ns();
        cf->timer = moni_loop_add_timeout(d->loop, at > now ? at : now, on_timer, cf);
    }
}

/* Waits for what still runs on other nodes to end its window (killing srun early
 * can cancel the step, and Slurm then kills the node's `moni fault run` and its
 * guardian together: nothing would revert), then SIGTERM to srun for what is left,
 * 5 s, SIGKILL. */
void cluster_dispatch_finish(struct cluster_dispatch *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nf; i++)
        if (d->f[i].timer >= 0) {
            moni_loop_cancel_timer(d->loop, d->f[i].timer);
            d->f[i].timer = -1;
        }
    if (d->reaper >= 0) {
        moni_loop_cancel_timer(d->loop, d->reaper);
        d->reaper = -1;
    }
    reap(d, false);
    int64_t until = 0;
    for (size_t i = 0; i < d->nf; i++)
        for (size_t k = 0; k < d->f[i].nt; k++) {
            const struct cl_target *t = &d->f[i].t[k];
            int64_t end = t->sent_mono + d->f[i].pf->for_ns + 5 * MONI_NS_PER_SEC;
            if (t->sent && !t->reaped && d->f[i].pf->for_ns && end > until)
                until = end;
        }
    for (bool running = true; running && moni_mono_ns() < until;) {
        moni_sleep_ns(100 * MONI_NS_PER_MS);
        reap(d, false);
        running = false;
        for (size_t i = 0; i < d->nf; i++)
            for (size_t k = 0; k < d->f[i].nt; k++)
                running |= d->f[i].t[k].sent && !d->f[i].t[k].reaped;
    }
    int64_t deadline = moni_mono_ns() + 5 * MONI_NS_PER_SEC;
    bool left = false;
    for (size_t i = 0; i < d->nf; i++)
        for (size_t k = 0; k < d->f[i].nt; k++)
            if (d->f[i].t[k].sent && !d->f[i].t[k].reaped) {
                kill(d->f[i].t[k].pid, SIGTERM);
                left = true;
            }
    while (left && moni_mono_ns() < deadline) {
        moni_sleep_ns(50 * MONI_NS_PER_MS);
        reap(d, false);
        left = false;
        for (size_t i = 0; i < d->nf; i++)
            for (size_t k = 0; k < d->f[i].nt; k++)
                left |= d->f[i].t[k].sent && !d->f[i].t[k].reaped;
    }
    for (size_t i = 0; left && i < d->nf; i++)
        for (size_t k = 0; k < d->f[i].nt; k++)
            if (d->f[i].t[k].sent && !d->f[i].t[k].reaped)
                kill(d->f[i].t[k].pid, SIGKILL);
    reap(d, true);
}

cJSON *cluster_dispatch_json(const struct cluster_dispatch *d)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && d && i < d->nf; i++) {
        const struct cl_fault *cf = &d->f[i];
        for (size_t k = 0; k < cf->nt; k++) {
            const struct cl_target *t = &cf->t[k];
            cJSON *o = cJSON_CreateObject();
            char iso[MONI_ISO_LEN], prefix[16];
            snprintf(prefix, sizeof prefix, "c%zu-", cf->idx + 1);
            cJSON_AddNumberToObject(o, "plan_line", cf->pf->line);
            cJSON_AddStringToObject(o, "spec", cf->spec);
            cJSON_AddStringToObject(o, "node", t->node);
            cJSON_AddNumberToObject(o, "rank", t->rank);
            cJSON_AddStringToObject(o, "run_dir", t->dir);
            cJSON_AddStringToObject(o, "fault_id_prefix", prefix);
            cJSON_AddBoolToObject(o, "sent", t->sent);
            if (t->sent_real)
                cJSON_AddStringToObject(o, "sent_at", moni_fmt_iso(t->sent_real, iso, sizeof iso));
            if (t->error[0])
                cJSON_AddStringToObject(o, "error", t->error);
            if (t->sent && t->reaped && WIFEXITED(t->status))
                cJSON_AddNumberToObject(o, "exit_code", WEXITSTATUS(t->status));
            else if (t->sent && t->reaped)
                cJSON_AddNumberToObject(o, "exit_signal", WTERMSIG(t->status));
            cJSON_AddItemToArray(a, o);
        }
    }
    return a;
}

void cluster_dispatch_free(struct cluster_dispatch *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nf; i++) {
        if (d->f[i].timer >= 0)
            moni_loop_cancel_timer(d->loop, d->f[i].timer);
        free(d->f[i].t);
    }
    if (d->reaper >= 0)
        moni_loop_cancel_timer(d->loop, d->reaper);
    free(d->f);
    free(d);
}
