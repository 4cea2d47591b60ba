/* core/diagnosis.c — a run's diagnosis from everything an operator could see: the
 * detections (metrics), the workload's fate (exit status, who ended it) and the log's
 * ranked causes.  It fuses them into ranked causes with evidence of each kind and a
 * suggested action.  It never reads the fault journal, ground truth or marks: the
 * answer must be the one a person without them could reach.
 *
 * Ranking: a cause that is a failure in itself (a killed process, a NaN loss, CPU
 * contention) beats a prediction (memory that will run out), which beats a
 * consequence (a timeout, a crash whose reason is elsewhere, a slowdown); within a
 * class the earliest wins, so a later error that an earlier cause explains is
 * listed under it, not above it.  One exception: an imminent prediction that began
 * first and can cause the root failure takes its place (promote_imminent). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "logparse/logparse.h"

enum cause_class { CLASS_FAILURE = 0, CLASS_PREDICTION = 1, CLASS_CONSEQUENCE = 2 };

/* What to do about each label moni's metrics can name (log labels bring their
 * rule's action with them). */
static const struct {
    const char *label;
    const char *action;
    bool consequence;
} label_info[] = {
    {"CPU_Contention", "find the processes competing for the CPUs (top -o %CPU) and stop, "
                       "pin or cgroup-limit them, or give the job dedicated cores", false},
    {"IO_Bottleneck", "find the other writers and readers (iotop, /proc/PID/io); move data and "
                      "checkpoints to a faster or dedicated disk, or throttle the others "
                      "(io.max)", false},
    {"Memory_Leak", "find what grows (the job's RSS or another process), cap or fix it before "
                    "the OOM killer picks a victim", false},
    {"No_Convergence", "check the learning rate and schedule (too small?), frozen parameters, "
                       "the optimizer state and the labels of the data", false},
    {"Process_Hang", "the job makes no progress: look for a stopped process (SIGSTOP, job "
                     "control), a deadlock (py-spy dump) or a stuck collective", false},
    {"Network_Degradation", "check the network path (latency, loss, resets) and the service "
                            "the job talks to before raising timeouts", false},
    {"Process_Killed", "find who sent the signal: an operator, a scheduler preemption, a "
                       "watchdog; the job did not end by itself", false},
    {"Host_OOM", "the kernel killed the job for memory: lower the batch size or memory use, "
                 "or find the process that took the memory", false},
    {"NaN_Loss", "lower the learning rate, enable gradient clipping, check the data for "
                 "bad values; resume from the last finite checkpoint", false},
    {"Disk_Full", "free space on the run's filesystem (old checkpoints, caches) or point "
                  "checkpoints elsewhere", false},
    {"CUDA_OutOfMemory", "lower the batch size or sequence length, free other GPU users, "
                         "or enable activation checkpointing", false},
    {"Straggler", "one process or node runs slower than its peers: check its CPU quota and "
                  "throttling (cpu.stat), its node's load, or move it", false},
    {"Clock_Skew", "the job's wall clock jumped or drifts: check NTP/chrony on the node; "
                   "timeouts and timestamps computed from it are wrong", false},
    {"Slowdown", "progress slowed without a resource cause seen: compare with the phases "
                 "and the log around that time", true},
    {"Process_Crash", "the job exited with an error: its last error lines say why", true},
};

static const char *label_action(const char *label, bool *consequence)
{
    for (size_t i = 0; i < MONI_ARRAY_LEN(label_info); i++)
        if (strcmp(label_info[i].label, label) == 0) {
            if (consequence)
                *consequence = label_info[i].consequence;
            return label_info[i].action;
        }
    if (consequence)
        *consequence = false;
    return NULL;
}

/* A failure that explains another: the second's evidence joins the first's. */
static const char *const absorbs[][2] = {
    {"Host_OOM", "Memory_Leak"},  {"Host_OOM", "Process_Killed"},
    {"Host_OOM", "Process_Crash"}, {"NaN_Loss", "Process_Crash"},
    {"Disk_Full", "Process_Crash"}, {"CUDA_OutOfMemory", "Process_Crash"},
    /* a job starved of CPU though runnable stops logging: its silence is no deadlock */
    {"Straggler", "Process_Hang"},
};

static struct run_cause *find_cause(struct run_diagnosis *d, const char *label)
{
    for (size_t i = 0; i < d->ncauses; i++)
        if (strcmp(d->causes[i].label, label) == 0)
            return &d->causes[i];
    if (d->ncauses == MONI_ARRAY_LEN(d->causes))
        return NULL;
    struct run_cause *c = &d->causes[d->ncauses++];
    memset(c, 0, sizeof *c);
    snprintf(c->label, sizeof c->label, "%s", label);
    c->first_real_ns = INT64_MAX;
    c->ttf_s = NAN;
    c->cls = CLASS_CONSEQUENCE + 1; /* lowered by the first evidence */
    return c;
}

static void add_evidence(struct run_cause *c, const char *kind, int64_t real_ns, int cls,
                         double score, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add_evidence(struct run_cause *c, const char *kind, int64_t real_ns, int cls,
                         double score, const char *fmt, ...)
{
    if (cls < c->cls)
        c->cls = cls;
    if (real_ns < c->first_real_ns) {
        c->first_real_ns = real_ns;
        snprintf(c->first_kind, sizeof c->first_kind, "%s", kind);
    }
    c->score += score;
    if (!strstr(c->kinds, kind)) {
        size_t n = strlen(c->kinds);
        snprintf(c->kinds + n, sizeof c->kinds - n, "%s%s", n ? "+" : "", kind);
    }
    if (c->nevidence == MONI_ARRAY_LEN(c->evidence))
        return;
    struct run_evidence *e = &c->evidence[c->nevidence++];
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->real_ns = real_ns;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
}

/* moni's own stop makes the workload say it was terminated ("Received SIGTERM"):
 * that line, near the end of a run moni ended, is no failure. */
#define OWN_STOP_WINDOW_NS (10 * MONI_NS_PER_SEC)

static bool own_stop(const struct lp_cause *lc, const struct det_fate *fate)
{
    return fate && fate->scheduled && lc->label == LP_LABEL_PROCESS_KILLED &&
           fate->real_ns && lc->first.time_ns >= fate->real_ns - OWN_STOP_WINDOW_NS;
}

static void add_log_causes(struct run_diagnosis *d, const struct lp_diagnosis *logd,
                           const struct det_fate *fate)
{
    for (size_t i = 0; logd && i < logd->ncauses; i++) {
        const struct lp_cause *lc = &logd->causes[i];
        if (own_stop(lc, fate))
            continue;
        /* an error no rule labels is named by its rule, as the log's own report does */
        bool labelled = (unsigned)lc->label < LP_NLABELS;
        const char *name = labelled ? lp_label_name(lc->label)
                           : lc->first.rule_id && *lc->first.rule_id ? lc->first.rule_id
                                                                     : "unclassified_error";
        struct run_cause *c = find_cause(d, name);
        if (!c)
            return;
        if (!c->action)
            c->action = lc->action;
        add_evidence(c, "log", lc->first.time_ns,
                     lc->consequence ? CLASS_CONSEQUENCE : CLASS_FAILURE, lc->score,
                     "%s:%llu: %.200s", lc->first.source ? lc->first.source : "log",
                     (unsigned long long)lc->first.line_no, lc->first.text ? lc->first.text : "");
    }
}

static void add_detections(struct run_diagnosis *d, const struct detection *dets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct detection *det = &dets[i];
        bool consequence;
        label_action(det->label, &consequence);
        int cls = consequence                             ? CLASS_CONSEQUENCE
                  : isfinite(det->ttf_s) && det->ttf_s > 0 ? CLASS_PREDICTION
                                                           : CLASS_FAILURE;
        struct run_cause *c = find_cause(d, det->label);
        if (!c)
            return;
        if (cls == CLASS_PREDICTION && !(c->ttf_s <= det->ttf_s))
            c->ttf_s = det->ttf_s;
        const char *kind = strcmp(det->detector, "process_exit") == 0 ? "exit" : "metrics";
        add_evidence(c, kind, det->real_ns, cls, 1.0, "%s: %s", det->detector, det->evidence);
        d->ndetections++;
    }
}

static void merge_absorbed(struct run_diagnosis *d)
{
    for (size_t a = 0; a < MONI_ARRAY_LEN(absorbs); a++) {
        struct run_cause *big = NULL, *small = NULL;
        for (size_t i = 0; i < d->ncauses; i++) {
            if (strcmp(d->causes[i].label, absorbs[a][0]) == 0)
                big = &d->causes[i];
            if (strcmp(d->causes[i].label, absorbs[a][1]) == 0)
                small = &d->causes[i];
        }
        if (!big || !small)
            continue;
        for (size_t k = 0; k < small->nevidence; k++) {
            const struct run_evidence *e = &small->evidence[k];
            add_evidence(big, e->kind, e->real_ns, big->cls, 0, "%s: %s", small->label, e->text);
        }
        if (small->first_real_ns < big->first_real_ns)
            big->first_real_ns = small->first_real_ns;
        size_t n = big->nexplains;
        if (n < MONI_ARRAY_LEN(big->explains))
            snprintf(big->explains[big->nexplains++], sizeof big->explains[0], "%s", small->label);
        *small = d->causes[--d->ncauses];
    }
}

/* An imminent prediction that began before the root failure and can bring it about
 * is the root instead: memory faulted in at hundreds of MiB/s costs CPU (page faults,
 * reclaim), so contention that starts after a fast leak is the leak's doing (on one
 * core, a 200 MiB/s leak took a third of the job's CPU). */
#define IMMINENT_S 300
static const char *const brings_about[][2] = {{"Memory_Leak", "CPU_Contention"}};

static void promote_imminent(struct run_diagnosis *d)
{
    struct run_cause *root = &d->causes[0];
    for (size_t k = 0; d->ncauses > 1 && k < MONI_ARRAY_LEN(brings_about); k++) {
        if (strcmp(root->label, brings_about[k][1]) != 0)
            continue;
        for (size_t i = 1; i < d->ncauses; i++) {
            const struct run_cause *c = &d->causes[i];
            if (strcmp(c->label, brings_about[k][0]) != 0 || c->cls != CLASS_PREDICTION ||
                !(c->ttf_s <= IMMINENT_S) || c->first_real_ns >= root->first_real_ns)
                continue;
            struct run_cause cause = *c;
            memmove(&d->causes[1], &d->causes[0], i * sizeof *c);
            d->causes[0] = cause;
            if (d->causes[0].nexplains < MONI_ARRAY_LEN(d->causes[0].explains))
                snprintf(d->causes[0].explains[d->causes[0].nexplains++],
                         sizeof d->causes[0].explains[0], "%s", d->causes[1].label);
            return;
        }
    }
}

/* A failure that absorbed the workload's crash or kill (absorbs[]: an OOM, NaN, a full
 * disk) is what ended the job.  An earlier failure that explains no part of that end
 * (a rollout worker slow on a loaded machine, then a CUDA OOM that kills the trainer)
 * is not its cause: the fatal one ranks first.  An earlier cause that did bring the end
 * about does so through a failure of its own (a timeout, a batch mismatch, a hang then
 * a kill) that absorbs no crash, so it is not outranked. */
static void mark_fatal(struct run_diagnosis *d, const struct det_fate *fate)
{
    bool crashed = fate && !fate->scheduled;
    for (size_t i = 0; i < d->ncauses; i++) {
        struct run_cause *c = &d->causes[i];
        c->fatal = false;
        for (size_t k = 0; crashed && c->cls == CLASS_FAILURE && k < c->nexplains; k++)
            if (!strcmp(c->explains[k], "Process_Crash") || !strcmp(c->explains[k], "Process_Killed"))
                c->fatal = true;
    }
}

static int cause_cmp(const void *pa, const void *pb)
{
    const struct run_cause *a = pa, *b = pb;
    if (a->cls != b->cls)
        return a->cls - b->cls;
    if (a->fatal != b->fatal)
        return a->fatal ? -1 : 1;
    if (a->first_real_ns != b->first_real_ns)
        return a->first_real_ns < b->first_real_ns ? -1 : 1;
    return (a->score < b->score) - (a->score > b->score);
}

void run_diagnose(const struct lp_diagnosis *logd, const struct detection *dets, size_t ndets,
                  const struct det_fate *fate, struct run_diagnosis *out)
{
    memset(out, 0, sizeof *out);
    add_log_causes(out, logd, fate);
    add_detections(out, dets, ndets);
    merge_absorbed(out);
    for (size_t i = 0; i < out->ncauses; i++) {
        struct run_cause *c = &out->causes[i];
        const char *act = label_action(c->label, NULL);
        if (!c->action || (act && strcmp(c->first_kind, "log") != 0))
            c->action = act;
    }
    mark_fatal(out, fate);
    qsort(out->causes, out->ncauses, sizeof out->causes[0], cause_cmp);
    promote_imminent(out);
    /* what the root explains: every later cause of a weaker class */
    if (out->ncauses > 1) {
        struct run_cause *root = &out->causes[0];
        for (size_t i = 1; i < out->ncauses; i++) {
            const struct run_cause *c = &out->causes[i];
            if (c->cls > root->cls && c->first_real_ns >= root->first_real_ns &&
                root->nexplains < MONI_ARRAY_LEN(root->explains))
                snprintf(root->explains[root->nexplains++], sizeof root->explains[0], "%s",
                         c->label);
        }
    }
    out->healthy = out->ncauses == 0;
    out->nlog_events = logd ? logd->nevents : 0;
    if (fate) {
        out->have_fate = true;
        out->fate = *fate;
    }
}

static const char *fate_text(const struct run_diagnosis *d, char *buf, size_t len)
{
    if (!d->have_fate)
        snprintf(buf, len, "the workload's end is not recorded");
    else if (d->fate.scheduled)
        snprintf(buf, len, "moni stopped the workload as planned");
    else if (d->fate.signal)
        snprintf(buf, len, "the workload was killed by signal %d", d->fate.signal);
    else
        snprintf(buf, len, "the workload exited with status %d", d->fate.exit_code);
    return buf;
}

void run_diagnosis_write_text(const struct run_diagnosis *d, FILE *out)
{
    char iso[MONI_ISO_LEN], fate[96];
    if (d->healthy) {
        fprintf(out, "healthy: no failure found (%zu log events, %zu detections; %s)\n",
                d->nlog_events, d->ndetections, fate_text(d, fate, sizeof fate));
        return;
    }
    for (size_t i = 0; i < d->ncauses; i++) {
        const struct run_cause *c = &d->causes[i];
        fprintf(out, "%s%zu. %s  [%s]  first at %s (%s)\n", i == 0 ? "root cause: " : "   ",
                i + 1, c->label, c->kinds, moni_fmt_iso(c->first_real_ns, iso, sizeof iso),
                c->first_kind);
        for (size_t k = 0; k < c->nevidence; k++)
            fprintf(out, "     %-7s %s  %s\n", c->evidence[k].kind,
                    moni_fmt_iso(c->evidence[k].real_ns, iso, sizeof iso), c->evidence[k].text);
        if (c->nexplains) {
            fprintf(out, "     explains:");
            for (size_t k = 0; k < c->nexplains; k++)
                fprintf(out, " %s", c->explains[k]);
            fputc('\n', out);
        }
        if (c->action)
            fprintf(out, "     action: %s\n", c->action);
    }
    fprintf(out, "(%zu log events, %zu detections; %s)\n", d->nlog_events, d->ndetections,
            fate_text(d, fate, sizeof fate));
}

cJSON *run_diagnosis_json(const struct run_diagnosis *d)
{
    char iso[MONI_ISO_LEN], fate[96];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddBoolToObject(o, "healthy", d->healthy);
    cJSON_AddStringToObject(o, "root_cause", d->healthy ? "healthy" : d->causes[0].label);
    cJSON_AddStringToObject(o, "fate", fate_text(d, fate, sizeof fate));
    cJSON_AddNumberToObject(o, "log_events", (double)d->nlog_events);
    cJSON_AddNumberToObject(o, "detections", (double)d->ndetections);
    cJSON *arr = cJSON_AddArrayToObject(o, "causes");
    for (size_t i = 0; i < d->ncauses; i++) {
        const struct run_cause *c = &d->causes[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "label", c->label);
        cJSON_AddStringToObject(j, "class", c->cls == CLASS_FAILURE      ? "failure"
                                             : c->cls == CLASS_PREDICTION ? "prediction"
                                                                          : "consequence");
        cJSON_AddStringToObject(j, "kinds", c->kinds);
        cJSON_AddStringToObject(j, "first", moni_fmt_iso(c->first_real_ns, iso, sizeof iso));
        cJSON_AddStringToObject(j, "first_kind", c->first_kind);
        cJSON_AddNumberToObject(j, "score", c->score);
        if (c->action)
            cJSON_AddStringToObject(j, "action", c->action);
        cJSON *ev = cJSON_AddArrayToObject(j, "evidence");
        for (size_t k = 0; k < c->nevidence; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "kind", c->evidence[k].kind);
            cJSON_AddStringToObject(e, "timestamp",
                                    moni_fmt_iso(c->evidence[k].real_ns, iso, sizeof iso));
            cJSON_AddStringToObject(e, "text", c->evidence[k].text);
            cJSON_AddItemToArray(ev, e);
        }
        cJSON *ex = cJSON_AddArrayToObject(j, "explains");
        for (size_t k = 0; k < c->nexplains; k++)
            cJSON_AddItemToArray(ex, cJSON_CreateString(c->explains[k]));
        cJSON_AddItemToArray(arr, j);
    }
    return o;
}
