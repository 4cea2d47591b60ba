/* logparse/diagnose.c — root-cause ranking over the events of a run.
 *
 * The last error of a failed job is often a consequence: a timeout, a cleanup or
 * stop-job failure, a batch-size mismatch, an NCCL watchdog.  Events are clustered
 * by their main label; clusters of primary failures (resource, hardware, data,
 * code, kill) rank before unlabelled errors, which rank before consequence-only
 * clusters; within a group the earliest wins, except that a cluster that is known
 * to cause another (Host_OOM -> Process_Killed, Disk_Full -> Checkpoint_Corrupt)
 * ranks before it when they are close in time.  The root cause "explains" every
 * later error of the other clusters. */
#include <stdlib.h>
#include <string.h>

#include "logparse/lp-int.h"

#define MAX_EVIDENCE 3
#define MAX_EXPLAINS 20
#define RELATED_WINDOW_NS (600 * MONI_NS_PER_SEC)

static const uint32_t consequence_mask =
    LP_LABEL_BIT(LP_LABEL_NETWORK_TIMEOUT) | LP_LABEL_BIT(LP_LABEL_CLEANUP_FAILURE) |
    LP_LABEL_BIT(LP_LABEL_BATCH_MISMATCH) | LP_LABEL_BIT(LP_LABEL_NCCL_TIMEOUT) |
    LP_LABEL_BIT(LP_LABEL_PROCESS_CRASH) | LP_LABEL_BIT(LP_LABEL_SLOWDOWN) |
    LP_LABEL_BIT(LP_LABEL_NETWORK_DEGRADATION);

static const int label_weight[LP_NLABELS] = {
    [LP_LABEL_GPU_HARDWARE] = 100,        [LP_LABEL_CUDA_DRIVER_MISMATCH] = 95,
    [LP_LABEL_CUDA_OOM] = 90,             [LP_LABEL_HOST_OOM] = 91,
    [LP_LABEL_DISK_FULL] = 88,            [LP_LABEL_PERMISSION_DENIED] = 80,
    [LP_LABEL_CHECKPOINT_CORRUPT] = 78,   [LP_LABEL_NAN_LOSS] = 75,
    [LP_LABEL_PROCESS_KILLED] = 70,       [LP_LABEL_DATALOADER_STUCK] = 60,
    [LP_LABEL_MODEL_CODE_ERROR] = 55,     [LP_LABEL_NCCL_TIMEOUT] = 40,
    [LP_LABEL_NETWORK_TIMEOUT] = 35,      [LP_LABEL_BATCH_MISMATCH] = 36,
    [LP_LABEL_CLEANUP_FAILURE] = 37,      [LP_LABEL_MEMORY_LEAK] = 85,
    [LP_LABEL_PROCESS_HANG] = 65,         [LP_LABEL_IO_BOTTLENECK] = 50,
    [LP_LABEL_CPU_CONTENTION] = 50,       [LP_LABEL_NO_CONVERGENCE] = 45,
    [LP_LABEL_NETWORK_DEGRADATION] = 34,  [LP_LABEL_PROCESS_CRASH] = 30,
    [LP_LABEL_SLOWDOWN] = 20,
};

static const char *const default_action[LP_NLABELS] = {
    [LP_LABEL_CUDA_OOM] = "reduce the batch size (or use gradient accumulation / activation "
                          "checkpointing), then restart from the last good checkpoint",
    [LP_LABEL_HOST_OOM] = "reduce host memory use (fewer DataLoader workers, smaller prefetch) "
                          "or raise the memory limit; restart from the last good checkpoint",
    [LP_LABEL_NAN_LOSS] = "lower the learning rate or enable gradient clipping; restart from "
                          "the last checkpoint before the divergence",
    [LP_LABEL_NCCL_TIMEOUT] = "find the rank that stalled first (an earlier error on that rank); "
                              "check the interconnect before raising the NCCL timeout",
    [LP_LABEL_NETWORK_TIMEOUT] = "check the service that was called and the network path "
                                 "(latency, loss, proxy), then retry",
    [LP_LABEL_DATALOADER_STUCK] = "check the data source and the loader workers (I/O stalls, "
                                  "memory); lower num_workers or raise the timeout",
    [LP_LABEL_DISK_FULL] = "free disk space or move checkpoints to a larger volume, then "
                           "restart from the last good checkpoint",
    [LP_LABEL_PERMISSION_DENIED] = "fix the ownership or permissions of the path in the error",
    [LP_LABEL_CHECKPOINT_CORRUPT] = "remove the corrupt checkpoint and restart from the previous "
                                    "good one; check disk space and I/O errors at save time",
    [LP_LABEL_CUDA_DRIVER_MISMATCH] = "install a CUDA runtime that matches the driver, or "
                                      "update the driver",
    [LP_LABEL_GPU_HARDWARE] = "drain the node: GPU hardware error (Xid/ECC); reset or replace "
                              "the GPU, then restart from the last good checkpoint",
    [LP_LABEL_MODEL_CODE_ERROR] = "fix the code at the last frame of the traceback",
    [LP_LABEL_PROCESS_KILLED] = "find who killed the process (OOM killer, scheduler, operator): "
                                "see dmesg and the scheduler log; restart from the last checkpoint",
    [LP_LABEL_CLEANUP_FAILURE] = "look before the cleanup: the failure that triggered it is the "
                                 "root cause; stop leftover jobs by hand",
    [LP_LABEL_BATCH_MISMATCH] = "check that every producer (rollout/data worker) delivered its "
                                "share; look for an earlier worker failure",
};

/* cause -> effect pairs: the cause ranks first when both are close in time */
static const struct { enum lp_label cause, effect; } causes_rel[] = {
    {LP_LABEL_HOST_OOM, LP_LABEL_PROCESS_KILLED},
    {LP_LABEL_HOST_OOM, LP_LABEL_DATALOADER_STUCK},
    {LP_LABEL_DISK_FULL, LP_LABEL_CHECKPOINT_CORRUPT},
    {LP_LABEL_GPU_HARDWARE, LP_LABEL_CUDA_OOM},
    {LP_LABEL_GPU_HARDWARE, LP_LABEL_PROCESS_KILLED},
    {LP_LABEL_CUDA_OOM, LP_LABEL_PROCESS_KILLED},
    {LP_LABEL_CUDA_OOM, LP_LABEL_MODEL_CODE_ERROR},
    {LP_LABEL_DISK_FULL, LP_LABEL_MODEL_CODE_ERROR},
    {LP_LABEL_NAN_LOSS, LP_LABEL_MODEL_CODE_ERROR},
    {LP_LABEL_MEMORY_LEAK, LP_LABEL_HOST_OOM},
    {LP_LABEL_MEMORY_LEAK, LP_LABEL_PROCESS_KILLED},
    {LP_LABEL_PROCESS_HANG, LP_LABEL_PROCESS_KILLED},
    /* a slow or lossy path comes before the timeouts it causes */
    {LP_LABEL_NETWORK_DEGRADATION, LP_LABEL_NETWORK_TIMEOUT},
    {LP_LABEL_NETWORK_DEGRADATION, LP_LABEL_NCCL_TIMEOUT},
    {LP_LABEL_NETWORK_DEGRADATION, LP_LABEL_CLEANUP_FAILURE},
};

static bool causes(enum lp_label a, enum lp_label b)
{
    for (size_t i = 0; i < MONI_ARRAY_LEN(causes_rel); i++)
        if (causes_rel[i].cause == a && causes_rel[i].effect == b)
            return true;
    return false;
}

static int main_label(uint32_t labels)
{
    int best = -1;
    for (int l = 0; l < LP_NLABELS; l++)
        if ((labels & LP_LABEL_BIT(l)) && (best < 0 || label_weight[l] > label_weight[best]))
            best = l;
    return best;
}

/* 0 = labelled primary; 1 = an unlabelled error or a consequence (timeout,
 * cleanup, a launcher's report): among these the earliest explains the rest. */
static int record_group(const struct lp_record *r)
{
    return (r->labels & ~consequence_mask) ? 0 : 1;
}

struct cluster {
    int label;            /* main label, or -1 */
    const char *key;      /* rule id for unlabelled clusters */
    int group;
    enum lp_severity maxsev;
    uint32_t labels;
    size_t count;
    const struct lp_record *first;
    const struct lp_record *last;
    const struct lp_record *ev[MAX_EVIDENCE];
    size_t nev;
    const char *action;
};

static char *dup_text(const char *s, size_t n)
{
    if (n > 500)
        n = 500;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) /* control bytes would spoil the report */
        d[i] = ((unsigned char)s[i] < 0x20 && s[i] != '\t') ? '?' : s[i];
    d[n] = '\0';
    return d;
}

static void fill_evidence(struct lp_evidence *e, const struct lp_record *r)
{
    e->source = strdup(r->source ? r->source : "");
    e->line_no = r->line_no;
    e->time_ns = lp_record_time(r);
    e->has_time = r->time_ns != 0;
    e->rule_id = strdup(r->rule_id ? r->rule_id : "");
    e->labels = r->labels;
    e->severity = r->severity;
    e->text = dup_text(r->text ? r->text : "", r->text ? r->text_len : 0);
}

static void free_evidence(struct lp_evidence *e)
{
    free((char *)e->source);
    free((char *)e->rule_id);
    free((char *)e->text);
}

/* Within one log its line order is the time order (lines before the first stamp
 * have only the receive time); across logs, the times. */
static int cmp_rec(const void *a, const void *b)
{
    const struct lp_record *x = *(const struct lp_record *const *)a;
    const struct lp_record *y = *(const struct lp_record *const *)b;
    if (!strcmp(x->source, y->source) && x->line_no != y->line_no)
        return x->line_no < y->line_no ? -1 : 1;
    int64_t tx = lp_record_time(x), ty = lp_record_time(y);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    int c = strcmp(x->source, y->source);
    if (c)
        return c;
    return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

static int64_t cl_time(const struct cluster *c) { return lp_record_time(c->first); }

/* The effect's first event comes within the window of the cause's events (a
 * memory climb may start long before the kill; its last warning is what counts). */
static bool related(const struct cluster *cause, const struct cluster *effect)
{
    int64_t te = cl_time(effect), t0 = cl_time(cause);
    int64_t t1 = lp_record_time(cause->last ? cause->last : cause->first);
    return te >= t0 - RELATED_WINDOW_NS && te <= t1 + RELATED_WINDOW_NS;
}

static int cmp_cluster(const void *a, const void *b)
{
    const struct cluster *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    /* a known cause ranks before its effect when both are close in time, whatever
     * their severities (host memory at 97% is a warning, the kill it causes an error) */
    if (x->label >= 0 && y->label >= 0) {
        if (causes(x->label, y->label) && related(x, y))
            return -1;
        if (causes(y->label, x->label) && related(y, x))
            return 1;
    }
    /* errors before warning-only clusters */
    bool ex = x->maxsev >= LP_SEV_ERROR, ey = y->maxsev >= LP_SEV_ERROR;
    if (ex != ey)
        return ex ? -1 : 1;
    return cmp_rec(&x->first, &y->first);
}

/* A traceback whose exception line was not recognised (a prefixed log, a cut
 * output): it names nothing, so it cannot outrank the lines that follow it. */
static bool is_empty_traceback(const struct lp_record *r)
{
    if (r->labels || strcmp(r->rule_id, "unclassified") || strcmp(r->event, "traceback"))
        return false;
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].name, "exc_type"))
            return false;
    return true;
}

/* "ERROR [train_worker_3] Exception in update_weights:" announces the traceback that
 * follows, whose exception line is its own (labelled) record: an unlabelled header
 * would otherwise outrank it as an "unclassified" error. */
static bool is_traceback_header(const struct lp_record *r)
{
    if (r->labels || !r->text || r->text_len < 2 || strcmp(r->rule_id, "unclassified"))
        return false;
    size_t n = r->text_len;
    while (n && (r->text[n - 1] == ' ' || r->text[n - 1] == '\r'))
        n--;
    return n && r->text[n - 1] == ':' && memmem(r->text, n, "Exception in ", 13);
}

/* The error and labelled-warning events of set and the quiet failures q, counted
 * into d, in time order.  A run whose worst line is a warning has no root cause,
 * unless it is a signal (SIGTERM, KeyboardInterrupt). */
static size_t select_records(const struct lp_recset *set, const struct lp_quiet *q,
                             struct lp_diagnosis *d, const struct lp_record **rec)
{
    size_t nrec = 0;
    bool any_error = false;
    for (size_t i = 0; i < set->n + q->n; i++) {
        const struct lp_record *r = i < set->n ? &set->v[i] : &q->rec[i - set->n];
        if (r->kind != LP_KIND_EVENT || !strcmp(r->rule_id, "line_truncated"))
            continue;
        d->nevents++;
        if (!strcmp(r->rule_id, "unclassified"))
            d->nunclassified++;
        if (r->severity >= LP_SEV_ERROR)
            d->nerrors++;
        if (is_traceback_header(r) || is_empty_traceback(r))
            continue;
        if (r->severity >= LP_SEV_ERROR || (r->severity == LP_SEV_WARNING && r->labels)) {
            rec[nrec++] = r;
            /* a signal that ended the run is its fate even as a warning */
            any_error |= r->severity >= LP_SEV_ERROR ||
                         (r->labels & LP_LABEL_BIT(LP_LABEL_PROCESS_KILLED));
        }
    }
    if (!any_error)
        return 0;
    if (nrec)
        qsort(rec, nrec, sizeof *rec, cmp_rec);
    return nrec;
}

/* One cluster per main label (per rule for unlabelled records); returns how many. */
static size_t build_clusters(const struct lp_record *const *rec, size_t nrec, struct cluster *cl)
{
    size_t ncl = 0;
    for (size_t i = 0; i < nrec; i++) {
        const struct lp_record *r = rec[i];
        int lab = main_label(r->labels);
        struct cluster *c = NULL;
        for (size_t k = 0; k < ncl && !c; k++)
            if (cl[k].label == lab && (lab >= 0 || !strcmp(cl[k].key, r->rule_id)))
                c = &cl[k];
        if (!c) {
            c = &cl[ncl++];
            c->label = lab;
            c->key = r->rule_id;
            c->group = record_group(r);
            c->first = r;
            c->action = "";
        }
        c->count++;
        c->last = r;
        c->labels |= r->labels;
        if (r->severity > c->maxsev)
            c->maxsev = r->severity;
        if (!*c->action && r->action && *r->action)
            c->action = r->action;
        if (c->nev < MAX_EVIDENCE)
            c->ev[c->nev++] = r;
    }
    return ncl;
}

/* Insertion sort: the comparator is not a strict weak order across groups of
 * related labels, so keep it simple and deterministic. */
static void rank_clusters(struct cluster *cl, size_t ncl)
{
    for (size_t i = 1; i < ncl; i++) {
        struct cluster t = cl[i];
        size_t j = i;
        while (j > 0 && cmp_cluster(&t, &cl[j - 1]) < 0) {
            cl[j] = cl[j - 1];
            j--;
        }
        cl[j] = t;
    }
}

/* The ranked clusters as causes, each with its action and evidence. */
static int fill_causes(struct lp_diagnosis *d, const struct cluster *cl, size_t ncl)
{
    d->causes = calloc(ncl ? ncl : 1, sizeof *d->causes);
    if (!d->causes)
        return -1;
    d->ncauses = ncl;
    for (size_t k = 0; k < ncl; k++) {
        struct lp_cause *c = &d->causes[k];
        const struct cluster *s = &cl[k];
        c->label = s->label >= 0 ? (enum lp_label)s->label : LP_NLABELS;
        c->labels = s->labels;
        c->consequence = s->labels && !(s->labels & ~consequence_mask);
        c->count = s->count;
        c->score = (double)(ncl - k) / (double)ncl;
        const char *act = s->action;
        if (!*act && s->label >= 0 && default_action[s->label])
            act = default_action[s->label];
        if (!*act)
            act = "read the evidence lines; add a rule for this error (moni-rules(5))";
        c->action = strdup(act);
        fill_evidence(&c->first, s->first);
        c->evidence = calloc(s->nev ? s->nev : 1, sizeof *c->evidence);
        if (c->evidence) {
            for (size_t e = 0; e < s->nev; e++)
                fill_evidence(&c->evidence[e], s->ev[e]);
            c->nevidence = s->nev;
        }
    }
    return 0;
}

static bool in_cluster(const struct cluster *c, const struct lp_record *r)
{
    int lab = main_label(r->labels);
    return lab == c->label && (lab >= 0 || !strcmp(c->key, r->rule_id));
}

/* The root cause explains the later errors of the other clusters. */
static void fill_explains(struct lp_cause *root, const struct cluster *rc,
                          const struct lp_record *const *rec, size_t nrec)
{
    root->explains = calloc(MAX_EXPLAINS, sizeof *root->explains);
    int64_t t0 = cl_time(rc);
    for (size_t i = 0; i < nrec && root->explains; i++) {
        const struct lp_record *r = rec[i];
        if (r->severity < LP_SEV_ERROR || lp_record_time(r) < t0)
            continue;
        if (in_cluster(rc, r))
            continue;
        if (root->nexplains < MAX_EXPLAINS)
            fill_evidence(&root->explains[root->nexplains++], r);
    }
}

/* The last error of the run, and whether it hides the root cause. */
static void fill_last_error(struct lp_diagnosis *d, const struct cluster *cl, size_t ncl,
                            const struct lp_record *const *rec, size_t nrec)
{
    for (size_t i = nrec; i-- > 0;) {
        if (rec[i]->severity >= LP_SEV_ERROR) {
            fill_evidence(&d->last_error, rec[i]);
            d->has_last_error = true;
            if (ncl)
                d->masked = !in_cluster(&cl[0], rec[i]);
            break;
        }
    }
}

struct lp_diagnosis *lp_diagnose(const struct lp_recset *set)
{
    struct lp_diagnosis *d = calloc(1, sizeof *d);
    struct lp_quiet *q = malloc(sizeof *q);
    const struct lp_record **rec = calloc(set->n + 2, sizeof *rec);
    struct cluster *cl = calloc(set->n + 2, sizeof *cl);
    if (!d || !q || !rec || !cl)
        goto oom;
    lp_quiet_find(set, q);
    size_t nrec = select_records(set, q, d, rec);
    size_t ncl = build_clusters(rec, nrec, cl);
    rank_clusters(cl, ncl);
    if (fill_causes(d, cl, ncl) < 0)
        goto oom;
    if (ncl)
        fill_explains(&d->causes[0], &cl[0], rec, nrec);
    fill_last_error(d, cl, ncl, rec, nrec);
    free(q);
    free(rec);
    free(cl);
    return d;
oom:
    free(q);
    free(rec);
    free(cl);
    lp_diagnosis_free(d);
    return NULL;
}

void lp_diagnosis_free(struct lp_diagnosis *d)
{
    if (!d)
        return;
    for (size_t k = 0; k < d->ncauses; k++) {
        struct lp_cause *c = &d->causes[k];
        free((char *)c->action);
        free_evidence(&c->first);
        for (size_t e = 0; e < c->nevidence; e++)
            free_evidence(&c->evidence[e]);
        free(c->evidence);
        for (size_t e = 0; e < c->nexplains; e++)
            free_evidence(&c->explains[e]);
        free(c->explains);
    }
    free(d->causes);
    if (d->has_last_error)
        free_evidence(&d->last_error);
    free(d);
}

/* ---- rendering ------------------------------------------------------------------ */
static const char *cause_name(const struct lp_cause *c)
{
    return c->label < LP_NLABELS ? lp_label_name(c->label) : c->first.rule_id;
}

/* The component a cause belongs to: a worker named in its line ("rollout_worker_2"),
 * else the log it came from without ".log". */
static void cause_component(const struct lp_cause *c, char *out, size_t len)
{
    const char *t = c->first.text ? c->first.text : "";
    /* A line that blames where its data came from ("shard ... (from train_worker_3)
     * not available") belongs to that worker, not to the one that logged it. */
    const char *from = strstr(t, "(from ");
    const char *w = from ? strstr(from, "_worker_") : NULL;
    if (!w || w - from > 32)
        w = strstr(t, "_worker_");
    if (w) {
        const char *b = w, *e = w + 8;
        while (b > t && ((b[-1] >= 'a' && b[-1] <= 'z') || b[-1] == '_'))
            b--;
        while (*e >= '0' && *e <= '9')
            e++;
        if (b < w && e > w + 8) {
            snprintf(out, len, "%.*s", (int)(e - b), b);
            return;
        }
    }
    const char *src = c->first.source ? c->first.source : "";
    size_t n = strlen(src);
    if (n > 4 && !strcmp(src + n - 4, ".log"))
        n -= 4;
    snprintf(out, len, "%.*s", (int)n, src);
}

static cJSON *labels_json(uint32_t labels)
{
    cJSON *a = cJSON_CreateArray();
    for (int l = 0; l < LP_NLABELS && a; l++)
        if (labels & LP_LABEL_BIT(l))
            cJSON_AddItemToArray(a, cJSON_CreateString(lp_label_name(l)));
    return a;
}

static cJSON *evidence_json(const struct lp_evidence *e)
{
    char iso[MONI_ISO_LEN];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "source", e->source ? e->source : "");
    cJSON_AddNumberToObject(o, "line", (double)e->line_no);
    if (e->has_time)
        cJSON_AddStringToObject(o, "time", moni_fmt_iso(e->time_ns, iso, sizeof iso));
    else
        cJSON_AddNullToObject(o, "time");
    cJSON_AddStringToObject(o, "rule", e->rule_id ? e->rule_id : "");
    cJSON_AddStringToObject(o, "severity", lp_severity_name(e->severity));
    cJSON_AddItemToObject(o, "labels", labels_json(e->labels));
    cJSON_AddStringToObject(o, "text", e->text ? e->text : "");
    return o;
}

cJSON *lp_diagnosis_json(const struct lp_diagnosis *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (d->ncauses) {
        char comp[128];
        cause_component(&d->causes[0], comp, sizeof comp);
        cJSON_AddStringToObject(o, "root_cause", cause_name(&d->causes[0]));
        cJSON_AddStringToObject(o, "component", comp);
    } else {
        cJSON_AddNullToObject(o, "root_cause");
        cJSON_AddNullToObject(o, "component");
    }
    cJSON_AddBoolToObject(o, "masked", d->masked);
    cJSON_AddItemToObject(o, "last_error",
                          d->has_last_error ? evidence_json(&d->last_error) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "events", (double)d->nevents);
    cJSON_AddNumberToObject(o, "errors", (double)d->nerrors);
    cJSON_AddNumberToObject(o, "unclassified", (double)d->nunclassified);
    cJSON *arr = cJSON_AddArrayToObject(o, "candidates");
    for (size_t k = 0; k < d->ncauses && arr; k++) {
        const struct lp_cause *c = &d->causes[k];
        cJSON *j = cJSON_CreateObject();
        if (!j)
            break;
        cJSON_AddNumberToObject(j, "rank", (double)(k + 1));
        char comp[128];
        cause_component(c, comp, sizeof comp);
        cJSON_AddStringToObject(j, "label", cause_name(c));
        cJSON_AddStringToObject(j, "component", comp);
        cJSON_AddItemToObject(j, "labels", labels_json(c->labels));
        cJSON_AddBoolToObject(j, "consequence", c->consequence);
        cJSON_AddNumberToObject(j, "score", c->score);
        cJSON_AddNumberToObject(j, "count", (double)c->count);
        cJSON_AddItemToObject(j, "first", evidence_json(&c->first));
        cJSON *ev = cJSON_AddArrayToObject(j, "evidence");
        for (size_t e = 0; e < c->nevidence && ev; e++)
            cJSON_AddItemToArray(ev, evidence_json(&c->evidence[e]));
        cJSON *ex = cJSON_AddArrayToObject(j, "explains");
        for (size_t e = 0; e < c->nexplains && ex; e++)
            cJSON_AddItemToArray(ex, evidence_json(&c->explains[e]));
        cJSON_AddStringToObject(j, "action", c->action ? c->action : "");
        cJSON_AddItemToArray(arr, j);
    }
    return o;
}

static void write_ev(FILE *out, const char *indent, const struct lp_evidence *e)
{
    char iso[MONI_ISO_LEN] = "";
    if (e->has_time)
        moni_fmt_iso(e->time_ns, iso, sizeof iso);
    char lab[256];
    lp_labels_format(e->labels, ",", lab, sizeof lab);
    fprintf(out, "%s%s:%llu%s%s  %s%s%s%s\n", indent, e->source, (unsigned long long)e->line_no,
            *iso ? " " : "", iso, e->text, *lab ? "  [" : "", lab, *lab ? "]" : "");
}

void lp_diagnosis_write_text(const struct lp_diagnosis *d, FILE *out)
{
    if (!d->ncauses) {
        fprintf(out, "no errors found (%zu events)\n", d->nevents);
        return;
    }
    const struct lp_cause *root = &d->causes[0];
    char lab[256], comp[128];
    cause_component(root, comp, sizeof comp);
    fprintf(out, "root cause: %s in %s  (%s line %llu)\n", cause_name(root), comp,
            root->first.source, (unsigned long long)root->first.line_no);
    lp_labels_format(root->labels, ", ", lab, sizeof lab);
    if (*lab)
        fprintf(out, "  labels: %s\n", lab);
    fprintf(out, "  evidence (%zu event%s):\n", root->count, root->count == 1 ? "" : "s");
    for (size_t e = 0; e < root->nevidence; e++)
        write_ev(out, "    ", &root->evidence[e]);
    if (root->nexplains) {
        fprintf(out, "  explains later errors:\n");
        for (size_t e = 0; e < root->nexplains; e++)
            write_ev(out, "    ", &root->explains[e]);
    }
    fprintf(out, "  suggested action: %s\n", root->action);
    if (d->masked && d->has_last_error) {
        fprintf(out, "note: the last error is a consequence, not the cause:\n");
        write_ev(out, "    ", &d->last_error);
    }
    if (d->ncauses > 1) {
        fprintf(out, "other candidates:\n");
        for (size_t k = 1; k < d->ncauses; k++) {
            const struct lp_cause *c = &d->causes[k];
            fprintf(out, "  %zu. %s%s (%zu event%s), first:\n", k + 1, cause_name(c),
                    c->consequence ? " (consequence)" : "", c->count, c->count == 1 ? "" : "s");
            write_ev(out, "       ", &c->first);
            fprintf(out, "     action: %s\n", c->action);
        }
    }
    fprintf(out, "%zu events, %zu errors, %zu unclassified\n", d->nevents, d->nerrors,
            d->nunclassified);
}
