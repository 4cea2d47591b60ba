/* core/runner.c — one experiment run: the session (workload + sampling + run
 * directory), the log parser on the workload's lines (events.jsonl, written live),
 * the injector (faults.jsonl) with the fault schedule (offsets from the start, or
 * log triggers plus a delay), knob faults through moni-train's control file, and the
 * dataset at the end.  `moni run`, `moni record` and the console share it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/runner-int.h"
#include "faults/faults.h"
#include "logparse/logparse.h"

#define RUNNER_MAX_HOOKS 8
#define RUNNER_POLL_NS (100 * MONI_NS_PER_MS) /* injector checks: effective stamps to 0.1 s */
/* The log rules see at most this much of a line: a 50 MB line (cut into 1 MB pieces
 * by the executor) must not cost the sampling loop its ticks.  workload.log keeps it all. */
#define RUNNER_PARSE_MAX (64 * 1024)

enum sched_state { SCHED_WAIT, SCHED_ARMED, SCHED_TIMED, SCHED_FIRED, SCHED_FAILED };

struct sched {
    struct fault_spec spec;
    char text[1200];          /* the SPEC, for messages and meta.json */
    const struct plan_fault *pf; /* NULL for --fault */
    char *when_event, *when_rule;
    const char *when_text;    /* the trigger's line must contain it (or NULL) */
    int64_t delay_ns;
    int id;                   /* injector id once armed */
    int timer;
    struct runner *r;         /* for the timer callback */
    enum sched_state state;
    bool knob;
};

struct runner {
    struct moni_loop *loop;
    struct runner_opts o;
    char out_dir[PATH_MAX];
    char control_path[PATH_MAX + 16];
    char **argv;              /* owned */
    struct session *s;
    struct lp_rules *rules;
    struct lp_parser *parser;
    struct injector *inj;
    struct sre *sre;          /* exporter + alerts of an owned session */
    int events_fd;
    struct moni_jbuf events;  /* lines not yet written: written at each tick */
    int64_t events_synced;    /* last fdatasync of events.jsonl */
    bool events_dirty;
    int poll_timer;
    struct sched *sched;
    size_t nsched, cap_sched;
    int64_t start_mono;
    bool started, done, finished;
    uint64_t events_errors;   /* events.jsonl lines that could not be written */
    char write_error[300];    /* the first failed write in the run directory, "" if none */
    int status;
    struct {
        runner_record_cb cb;
        void *arg;
    } rec_hooks[RUNNER_MAX_HOOKS];
    size_t nrec_hooks;
    struct {
        runner_fault_cb cb;
        void *arg;
    } fault_hooks[RUNNER_MAX_HOOKS];
    size_t nfault_hooks;
    uint64_t fired;           /* faults that fired (for the queue's retry decision) */
    bool attached;            /* the session belongs to the caller */
    struct runner_logs *logs; /* RUN_DIR/logs/ *.log followers (multi-process workloads) */
    bool rlsim;               /* stdout repeats controller.log: do not parse it twice */
    struct runner_det *det;   /* the live detectors */
    struct cluster_dispatch *cl; /* rank 0: plan faults sent to other nodes */
};

static void free_argv(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

static bool is_builtin(const char *arg0, const char *name)
{
    const char *b = strrchr(arg0, '/');
    return !strcmp(b ? b + 1 : arg0, name);
}

static bool is_moni_train(const char *arg0)
{
    return is_builtin(arg0, "moni-train");
}

/* The workload argv: given, the experiment's, or moni-train.  "moni-train" is looked
 * up next to moni first; with knob faults it gets --control RUN_DIR/control. */
static char **build_argv(const struct runner *r, bool need_control)
{
    char *const *src = r->o.argv ? r->o.argv : r->o.exp ? r->o.exp->argv : NULL;
    static char *const dflt[] = {(char *)"moni-train", NULL};
    if (!src || !src[0])
        src = dflt;
    size_t n = 0;
    while (src[n])
        n++;
    char **out = calloc(n + 3, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = strdup(src[i]);
    if (!strcmp(out[0], "moni-train") || !strcmp(out[0], "moni-rlsim")) {
        char path[PATH_MAX];
        if (moni_find_program(out[0], path, sizeof path) == 0) {
            free(out[0]);
            out[0] = strdup(path);
        }
    }
    bool has_control = false;
    for (size_t i = 1; i < n; i++)
        if (!strcmp(out[i], "--control") || !strncmp(out[i], "--control=", 10))
            has_control = true;
    bool has_outdir = false, rlsim = is_builtin(out[0], "moni-rlsim");
    const char *dir_opt = rlsim ? "--log-dir" : "--output-dir";
    for (size_t i = 1; i < n; i++)
        if (!strncmp(out[i], dir_opt, strlen(dir_opt)) &&
            (out[i][strlen(dir_opt)] == '\0' || out[i][strlen(dir_opt)] == '='))
            has_outdir = true;
    if (!has_outdir && (is_moni_train(out[0]) || rlsim) && r->out_dir[0]) {
        /* checkpoints belong to the run, not to the current directory */
        char **o2 = realloc(out, (n + 5) * sizeof *o2);
        if (!o2) {
            free_argv(out);
            return NULL;
        }
        out = o2;
        char ck[PATH_MAX + 16];
        /* moni-rlsim's per-process logs go next to workload.log */
        snprintf(ck, sizeof ck, "%s/%s", r->out_dir, rlsim ? "logs" : "checkpoints");
        out[n++] = strdup(dir_opt);
        out[n++] = strdup(ck);
    }
    if (need_control && !has_control && (is_moni_train(out[0]) || rlsim)) {
        out[n++] = strdup("--control");
        out[n++] = strdup(r->control_path);
    }
    out[n] = NULL;
    return out;
}

static void fmt_dur(int64_t ns, char *buf, size_t len)
{
    if (ns % MONI_NS_PER_MS == 0)
        snprintf(buf, len, "%lldms", (long long)(ns / MONI_NS_PER_MS));
    else
        snprintf(buf, len, "%.6fs", (double)ns / 1e9);
}

/* A plan fault as a SPEC ("kind:k=v,...,target@AT+FOR"), parsed by the faults
 * module exactly like --fault. */
static int plan_fault_spec(const struct plan_fault *pf, char *text, size_t len)
{
    size_t n = (size_t)snprintf(text, len, "%s", pf->kind);
    bool colon = false;
    if (pf->params && pf->params[0]) {
        n += (size_t)snprintf(text + n, len - n, ":%s", pf->params);
        colon = true;
    }
    if (pf->target)
        n += (size_t)snprintf(text + n, len - n, "%s%s", colon ? "," : ":", pf->target);
    /* always an @AT: the spec grammar takes the last '@', and knob values may hold
     * one ("loss_pct=10@2": from step 2 on); a trigger ignores it */
    char d[64];
    fmt_dur(pf->when_event || pf->when_rule ? 0 : pf->at_ns, d, sizeof d);
    n += (size_t)snprintf(text + n, len - n, "@%s", d);
    if (pf->for_ns) {
        fmt_dur(pf->for_ns, d, sizeof d);
        n += (size_t)snprintf(text + n, len - n, "+%s", d);
    }
    return n < len ? 0 : -1;
}

static int add_sched(struct runner *r, const char *text, const struct plan_fault *pf, char *err,
                     size_t errlen)
{
    if (r->nsched == r->cap_sched) { /* doubling: a plan may hold thousands */
        size_t cap = r->cap_sched ? 2 * r->cap_sched : 8;
        struct sched *s2 = realloc(r->sched, cap * sizeof *s2);
        if (!s2) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        r->sched = s2;
        r->cap_sched = cap;
    }
    struct sched *s = &r->sched[r->nsched];
    memset(s, 0, sizeof *s);
    s->timer = -1;
    snprintf(s->text, sizeof s->text, "%s", text);
    char e[512];
    if (fault_spec_parse(text, &s->spec, e, sizeof e) != 0) {
        if (pf && r->o.plan_path)
            snprintf(err, errlen, "%s:%d: %s", r->o.plan_path, pf->line, e);
        else if (pf)
            snprintf(err, errlen, "fault at line %d (%s): %s", pf->line, text, e);
        else
            snprintf(err, errlen, "--fault %s: %s", text, e);
        return -1;
    }
    s->pf = pf;
    if (pf) {
        s->when_event = pf->when_event;
        s->when_rule = pf->when_rule;
        s->when_text = pf->when_text;
        s->delay_ns = pf->delay_ns;
    }
    if (s->when_event || s->when_rule)
        s->spec.has_at = false;
    if (!s->spec.has_at && !s->when_event && !s->when_rule) {
        s->spec.has_at = true; /* no time given: at the start */
        s->spec.at_ns = 0;
    }
    /* the kind's own pre-flight now: a fault that cannot arm fails the run before
     * the workload starts (moni-plan(5)), not as a note after it; before the
     * defaults below, so a path given is checked and the run directory is not */
    if (fault_spec_preflight(&s->spec, e, sizeof e) != 0) {
        if (pf && r->o.plan_path)
            snprintf(err, errlen, "%s:%d: %s", r->o.plan_path, pf->line, e);
        else if (pf)
            snprintf(err, errlen, "fault at line %d (%s): %s", pf->line, text, e);
        else
            snprintf(err, errlen, "--fault %s: %s", text, e);
        return -1;
    }
    s->knob = s->spec.ops->control_file;
    /* kinds that work in a directory default to the run directory */
    if (!s->knob && (s->spec.ops->targets & FAULT_TGT_PATH) && !s->spec.target.path[0] &&
        r->out_dir[0])
        snprintf(s->spec.target.path, sizeof s->spec.target.path, "%s", r->out_dir);
    if (s->knob && !s->spec.target.path[0])
        snprintf(s->spec.target.path, sizeof s->spec.target.path, "%s", r->control_path);
    r->nsched++;
    return 0;
}

static void fire_sched(struct runner *r, struct sched *s);
static int post_start(struct runner *r, char *err, size_t errlen);

static void on_fire_timer(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns,
                          uint64_t missed, void *arg);

static void schedule_at(struct runner *r, size_t idx, int64_t at_mono)
{
    struct sched *s = &r->sched[idx];
    s->r = r; /* the array no longer moves once the run started */
    s->timer = moni_loop_add_timeout(r->loop, at_mono, on_fire_timer, s);
    if (s->timer >= 0)
        s->state = SCHED_TIMED;
}

/* ---- events.jsonl ----------------------------------------------------------------
 * Lines are gathered and written once per tick (each sample, right after the
 * recorder wrote the tick's workload lines) and at the end: a write per log line
 * cost more than the line's parsing.  A kill -9 loses at most the lines of the
 * current tick; every line written is whole. */
#define EVENTS_LINE_MAX 8191          /* a longer line is dropped (runner_event_json) */
#define EVENTS_FLUSH_AT (64 * 1024)   /* a burst of lines is written before the tick */

static void events_flush(struct runner *r)
{
    if (!r->events.n || r->events_fd < 0)
        return;
    if (moni_write_all(r->events_fd, r->events.b, r->events.n) == 0)
        r->events_dirty = true;
    else if (!r->events_errors++)
        snprintf(r->write_error, sizeof r->write_error, "events.jsonl: %s", strerror(errno));
    r->events.n = 0;
}

static void on_record(const struct lp_record *rec, void *arg)
{
    struct runner *r = arg;
    size_t start = r->events.n;
    if (r->events_fd >= 0 && runner_event_jb(rec, &r->events, EVENTS_LINE_MAX)) {
        moni_jb_putc(&r->events, '\n');
        if (r->events.oom) { /* out of memory: the line is dropped, as it always was */
            r->events.n = start;
            r->events.oom = false;
        } else if (r->events.n >= EVENTS_FLUSH_AT) {
            events_flush(r);
        }
    }
    /* log triggers: the first matching record arms the fault's timer */
    for (size_t i = 0; i < r->nsched; i++) {
        struct sched *s = &r->sched[i];
        if (s->state != SCHED_ARMED || (!s->when_event && !s->when_rule))
            continue;
        bool hit = false;
        if (s->when_rule)
            hit = rec->rule_id && !strcmp(rec->rule_id, s->when_rule);
        else
            hit = (rec->event && !strcmp(rec->event, s->when_event)) ||
                  (rec->kind == LP_KIND_PHASE && !strcmp(lp_phase_name(rec->phase), s->when_event));
        if (hit && s->when_text)
            hit = rec->text && memmem(rec->text, rec->text_len, s->when_text, strlen(s->when_text));
        if (!hit)
            continue;
        if (!r->o.quiet)
            fprintf(stderr, "moni: %s: trigger '%s' at log line %llu: firing in %.1fs\n", s->text,
                      s->when_rule ? s->when_rule : s->when_event,
                      (unsigned long long)rec->line_no, (double)s->delay_ns / 1e9);
        int64_t at = rec->recv.mono_ns + s->delay_ns, now = moni_mono_ns();
        schedule_at(r, i, at > now ? at : now);
    }
    if (r->logs)
        runner_logs_note_record(r->logs, rec);
    if (r->det)
        runner_det_record(r->det, rec);
    cluster_dispatch_record(r->cl, rec);
    for (size_t i = 0; i < r->nrec_hooks; i++)
        r->rec_hooks[i].cb(r, rec, r->rec_hooks[i].arg);
}

static void on_line(struct session *s, const char *line, size_t len, uint64_t lineno, int stream,
                    const struct moni_stamp *t, void *arg)
{
    (void)s;
    (void)lineno;
    (void)stream;
    struct runner *r = arg;
    if (r->attached && !r->started) {
        char e[256];
        if (post_start(r, e, sizeof e) < 0)
            moni_warn("%s", e);
    }
    if (r->parser && !r->rlsim)
        lp_parser_line(r->parser, "workload.log", line,
                       len < RUNNER_PARSE_MAX ? len : RUNNER_PARSE_MAX, *t);
}

static void fire_sched(struct runner *r, struct sched *s)
{
    char e[512];
    if (!r->inj || s->state == SCHED_FIRED || s->state == SCHED_FAILED || r->done ||
        r->write_error[0])
        return;
    if (injector_fire(r->inj, s->id, e, sizeof e) != 0) {
        s->state = SCHED_FAILED;
        session_note(r->s, "fault %s did not fire: %s", s->text, e);
        if (!r->o.quiet)
            moni_warn("fault %s did not fire: %s", s->text, e);
        return;
    }
    s->state = SCHED_FIRED;
    r->fired++;
    /* moni-rlsim reads its control file at every use and writes no ack file: a
     * knob takes effect when it is written (plans fire it on the stage before) */
    if (s->knob && r->rlsim)
        injector_mark_effective(r->inj, s->id, "moni-rlsim reads the control file at every use");
}

static void on_fire_timer(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns,
                          uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline_ns;
    (void)now_ns;
    (void)missed;
    struct sched *s = arg;
    struct runner *r = s->r;
    s->timer = -1;
    fire_sched(r, s);
}

/* A write that failed in the run directory (disk full, EIO) ends the run: the
 * faults stop at once (their labels could no longer be told), nothing more fires,
 * and runner_finish exits non-zero saying what could not be finalised. */
static bool write_failed(struct runner *r)
{
    if (r->write_error[0])
        return true;
    const char *what = "";
    struct injector_stats st = {0};
    if (r->inj)
        injector_stats(r->inj, &st);
    if (r->s && session_write_errors(r->s, &what))
        snprintf(r->write_error, sizeof r->write_error, "%s", what);
    else if (st.journal_errors)
        snprintf(r->write_error, sizeof r->write_error, "faults.jsonl: a transition could "
                 "not be journalled");
    return r->write_error[0] != 0;
}

static void check_writes(struct runner *r)
{
    if (r->write_error[0] || !r->started || !write_failed(r))
        return;
    for (size_t i = 0; i < r->nsched; i++)
        if (r->sched[i].timer >= 0) {
            moni_loop_cancel_timer(r->loop, r->sched[i].timer);
            r->sched[i].timer = -1;
        }
    if (r->inj)
        injector_stop_all(r->inj);
    session_note(r->s, "write failed in the run directory (%s): faults stopped, run ended",
                 r->write_error);
    moni_err("run %s: %s: faults stopped, ending the run", r->out_dir[0] ? r->out_dir : ".",
             r->write_error);
    runner_stop(r, "write error");
}

static void on_poll(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns, uint64_t missed,
                    void *arg)
{
    (void)loop;
    (void)deadline_ns;
    (void)now_ns;
    (void)missed;
    struct runner *r = arg;
    if (r->logs)
        runner_logs_poll(r->logs, false);
    /* At --duration the faults end first: a stopped workload cannot act on SIGTERM. */
    int64_t d = r->o.duration_ns ? r->o.duration_ns : r->o.exp ? r->o.exp->duration_ns : 0;
    if (r->inj && d > 0 && moni_mono_ns() - r->start_mono >= d)
        injector_stop_all_why(r->inj, "run duration reached");
    if (r->inj)
        injector_poll(r->inj);
    check_writes(r);
}

static void on_sample(struct session *s, struct frame *f, void *arg)
{
    (void)s;
    (void)f;
    struct runner *r = arg;
    if (r->attached && !r->started) {
        char e[256];
        if (post_start(r, e, sizeof e) < 0)
            moni_warn("%s", e);
    }
    /* Without faults there is no poll ticker: the log followers run here. */
    if (r->o.no_faults && r->logs)
        runner_logs_poll(r->logs, false);
    if (r->det)
        runner_det_tick(r->det, f);
    /* events.jsonl is made durable like samples.csv: every 5 s and at the end
     * (written rows survive a kill -9 in the page cache; a sync costs ~0.3 ms). */
    events_flush(r);
    int64_t now = moni_mono_ns();
    if (r->events_dirty && r->events_fd >= 0 && now - r->events_synced >= 5 * MONI_NS_PER_SEC) {
        fdatasync(r->events_fd);
        r->events_dirty = false;
        r->events_synced = now;
    }
    check_writes(r); /* a row that could not be written ends the run */
}

static void on_inj_event(struct injector *inj, const struct fault_info *fi, enum fault_event ev,
                         const char *json_line, void *arg)
{
    (void)inj;
    struct runner *r = arg;
    if (!r->o.quiet && ev != FAULT_EV_ARMED) {
        double at = (double)(moni_mono_ns() - r->start_mono) / 1e9;
        fprintf(stderr, "moni: fault %s %s %s at %.1fs%s%s\n", fi->id_str, fi->ops ? fi->ops->name : "?",
                  fault_event_name(ev), at, fi->error[0] && ev == FAULT_EV_FAILED ? ": " : "",
                  ev == FAULT_EV_FAILED ? fi->error : "");
    }
    for (size_t i = 0; i < r->nfault_hooks; i++)
        r->fault_hooks[i].cb(r, fi->id_str, fault_event_name(ev), json_line,
                             r->fault_hooks[i].arg);
}

static void on_exit_hook(struct session *s, void *arg)
{
    struct runner *r = arg;
    if (r->det)
        runner_det_exit(r->det, session_workload(s));
}

static void on_done(struct session *s, void *arg)
{
    (void)s;
    struct runner *r = arg;
    r->done = true;
    /* a fault that ended the workload (kill) sees it gone now, before the faults
     * are stopped: its effective line is journalled */
    if (r->inj)
        injector_poll(r->inj);
    if (!r->o.keep_loop && !r->attached)
        moni_loop_stop(r->loop);
}

/* meta.json: the plan's labels for the dataset builder, the fault ids they map to. */
static void write_labels_meta(struct runner *r)
{
    cJSON *lab = cJSON_CreateObject();
    const struct plan_experiment *e = r->o.exp;
    if (e && e->global_label)
        cJSON_AddStringToObject(lab, "global", e->global_label);
    if (e && e->root_cause)
        cJSON_AddStringToObject(lab, "root_cause", e->root_cause);
    if (e && e->expected_failure_stage)
        cJSON_AddStringToObject(lab, "expected_failure_stage", e->expected_failure_stage);
    cJSON *fa = cJSON_AddArrayToObject(lab, "faults");
    for (size_t i = 0; i < r->nsched; i++) {
        const struct sched *s = &r->sched[i];
        struct fault_info fi;
        cJSON *o = cJSON_CreateObject();
        if (r->inj && s->state != SCHED_WAIT && injector_info_by_id(r->inj, s->id, &fi))
            cJSON_AddStringToObject(o, "fault_id", fi.id_str);
        cJSON_AddStringToObject(o, "spec", s->text);
        if (s->when_event || s->when_rule) {
            cJSON *w = cJSON_AddObjectToObject(o, "when");
            cJSON_AddStringToObject(w, s->when_rule ? "rule" : "event",
                                    s->when_rule ? s->when_rule : s->when_event);
            cJSON_AddNumberToObject(w, "delay_s", (double)s->delay_ns / 1e9);
        }
        const char *rc = s->pf && s->pf->root_cause ? s->pf->root_cause : e ? e->root_cause : NULL;
        const char *st = s->pf && s->pf->expected_failure_stage ? s->pf->expected_failure_stage
                         : e ? e->expected_failure_stage : NULL;
        if (rc)
            cJSON_AddStringToObject(o, "root_cause", rc);
        if (st)
            cJSON_AddStringToObject(o, "expected_failure_stage", st);
        cJSON_AddItemToArray(fa, o);
    }
    session_meta_set(r->s, "experiment_labels", lab);
    if (e && e->schema) { /* the plan's fixed matrix columns, for every build of the run */
        cJSON *sch = cJSON_CreateArray();
        for (size_t i = 0; sch && e->schema[i]; i++)
            cJSON_AddItemToArray(sch, cJSON_CreateString(e->schema[i]));
        session_meta_set(r->s, "dataset_schema", sch);
    }
    if (r->o.plan_name)
        session_meta_set(r->s, "plan", cJSON_CreateString(r->o.plan_name));
}

/* ---- API ----------------------------------------------------------------------------- */

/* The rule packs: built-in, the user's and --rules.  Without installed packs the run
 * still goes on (no events), and says so.  NULL with err on a bad pack. */
static struct lp_rules *load_rules(const struct runner_opts *opts, char *err, size_t errlen)
{
    struct lp_rules *rules = lp_rules_load(opts->rule_paths, opts->nrule_paths,
                                           LP_LOAD_BUILTIN | LP_LOAD_USER, err, errlen);
    if (!rules && strstr(err, "not found")) {
        if (!opts->quiet)
            moni_warn("%s; the log is recorded but not parsed", err);
        rules = lp_rules_load(opts->rule_paths, opts->nrule_paths, LP_LOAD_USER, err, errlen);
        if (!rules) {
            rules = lp_rules_new();
            if (rules && lp_rules_finish(rules, err, errlen) < 0) {
                lp_rules_free(rules);
                rules = NULL;
            }
        }
    }
    return rules;
}

/* The plan's faults for this node (a cluster fault is rank 0's: core/cluster-fault.c),
 * then the --fault SPECs, each checked now.  *ctl_elsewhere: a knob planned for
 * another node (this workload needs --control too).  0, or -1 with err. */
static int add_faults(struct runner *r, const struct runner_opts *opts, bool *ctl_elsewhere,
                      char *err, size_t errlen)
{
    const struct plan_experiment *e = opts->exp;
    struct node_identity self;
    node_identity_from(&self, NULL, NULL);
    if (e && cluster_faults_check(e, opts->plan_path, &self, err, errlen) < 0)
        return -1;
    for (size_t i = 0; e && i < e->nfaults; i++) {
        char text[1200];
        if (!cluster_fault_here(&e->faults[i], &self)) { /* another node's */
            *ctl_elsewhere |= cluster_fault_needs_control(&e->faults[i]);
            continue;
        }
        if (plan_fault_spec(&e->faults[i], text, sizeof text) < 0 ||
            add_sched(r, text, &e->faults[i], err, errlen) < 0)
            return -1;
    }
    for (size_t i = 0; i < opts->nfault_specs; i++)
        if (add_sched(r, opts->fault_specs[i], NULL, err, errlen) < 0)
            return -1;
    return 0;
}

struct runner *runner_new(struct moni_loop *loop, const struct runner_opts *opts, char *err,
                          size_t errlen, bool *usage_error)
{
    bool dummy;
    if (!usage_error)
        usage_error = &dummy;
    *usage_error = false;
    struct runner *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->loop = loop;
    r->o = *opts;
    r->events_fd = -1;
    bool opts_control = false; /* a knob planned for another node: its --control too */
    r->poll_timer = -1;
    if (opts->out_dir)
        snprintf(r->out_dir, sizeof r->out_dir, "%s", opts->out_dir);
    snprintf(r->control_path, sizeof r->control_path, "%s/control", r->out_dir[0] ? r->out_dir : ".");
    /* faults: plan ones, then --fault SPECs; every one validated now */
    if (!opts->no_faults && add_faults(r, opts, &opts_control, err, errlen) < 0) {
        *usage_error = true;
        goto fail;
    }
    bool need_control = opts->control || opts_control;
    for (size_t i = 0; i < r->nsched; i++)
        need_control |= r->sched[i].knob;
    r->argv = build_argv(r, need_control);
    if (!r->argv) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    r->rlsim = is_builtin(r->argv[0], "moni-rlsim");
    r->rules = load_rules(opts, err, errlen);
    if (!r->rules) {
        *usage_error = true;
        goto fail;
    }
    r->parser = lp_parser_new(r->rules, on_record, r);
    if (!r->parser) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    r->det = runner_det_new(r, opts->detectors_path, opts->quiet, err, errlen);
    if (!r->det) {
        *usage_error = true;
        goto fail;
    }
    if (!opts->no_faults && opts->exp &&
        !(r->cl = cluster_dispatch_new(r->loop, opts->exp, opts->plan_path, opts->out_pattern,
                                       opts->quiet, err, errlen)) && err[0]) {
        *usage_error = true;
        goto fail;
    }
    if (opts->attach_to) {
        r->attached = true;
        r->s = opts->attach_to;
        r->loop = session_loop(r->s);
        session_on_line(r->s, on_line, r);
        session_on_sample(r->s, on_sample, r);
        session_on_exit(r->s, on_exit_hook, r);
        session_on_done(r->s, on_done, r);
        return r;
    }
    const struct plan_experiment *e = opts->exp;
    struct session_opts so = {
        .out_dir = opts->out_dir,
        .force = opts->force,
        .interval_ns = opts->interval_ns ? opts->interval_ns : e ? e->interval_ns : 0,
        .duration_ns = opts->duration_ns ? opts->duration_ns : e ? e->duration_ns : 0,
        .argv = r->argv,
        .experiment = e ? e->name : NULL,
        .keep_after_exit = opts->keep_after_exit,
        .quiet = opts->quiet,
        .no_gpu = opts->no_gpu,
        .inject = !opts->no_inject,
    };
    r->s = session_new(loop, &so, err, errlen, usage_error);
    if (!r->s)
        goto fail;
    if (opts->no_inject && r->argv) { /* meta.json says why in-process faults are off */
        cJSON *inj = cJSON_CreateObject();
        cJSON_AddBoolToObject(inj, "enabled", false);
        cJSON_AddStringToObject(inj, "reason", "--no-inject");
        session_meta_set(r->s, "inject", inj);
    }
    if (!opts->no_sre) {
        r->sre = sre_attach(r->s, opts->metrics_listen, NULL, err, errlen, usage_error);
        if (!r->sre)
            goto fail;
        sre_set_sources(r->sre, r->parser, NULL);
        sre_set_detect(r->sre, runner_det_engine(r->det));
    }
    session_on_line(r->s, on_line, r);
    session_on_sample(r->s, on_sample, r);
    session_on_exit(r->s, on_exit_hook, r);
    session_on_done(r->s, on_done, r);
    return r;
fail:
    runner_free(r);
    return NULL;
}

int runner_check(const struct runner_opts *opts, char *err, size_t errlen)
{
    struct runner r = {.o = *opts, .events_fd = -1};
    snprintf(r.control_path, sizeof r.control_path, "./control");
    int rc = 0;
    const struct plan_experiment *e = opts->exp;
    struct node_identity self; /* the nodes and ranks the faults name are in the job */
    node_identity_from(&self, NULL, NULL);
    if (e && cluster_faults_check(e, opts->plan_path, &self, err, errlen) < 0)
        return -1;
    for (size_t i = 0; rc == 0 && e && i < e->nfaults; i++) {
        char text[1200];
        if (plan_fault_spec(&e->faults[i], text, sizeof text) < 0) {
            snprintf(err, errlen, "fault at line %d: too long", e->faults[i].line);
            rc = -1;
        } else {
            rc = add_sched(&r, text, &e->faults[i], err, errlen);
        }
        r.nsched = 0; /* checked: one slot (~14 KB) is reused for the next */
    }
    for (size_t i = 0; rc == 0 && i < opts->nfault_specs; i++) {
        rc = add_sched(&r, opts->fault_specs[i], NULL, err, errlen);
        r.nsched = 0;
    }
    free(r.sched);
    return rc;
}

int runner_on_record(struct runner *r, runner_record_cb cb, void *arg)
{
    if (r->nrec_hooks == RUNNER_MAX_HOOKS)
        return -1;
    r->rec_hooks[r->nrec_hooks].cb = cb;
    r->rec_hooks[r->nrec_hooks++].arg = arg;
    return 0;
}

int runner_on_detection(struct runner *r, runner_detection_cb cb, void *arg)
{
    return r->det ? runner_det_on(r->det, cb, arg) : -1;
}

size_t runner_detections(const struct runner *r, const struct detection **out)
{
    *out = NULL;
    return r->det ? runner_det_list(r->det, out) : 0;
}

int runner_on_fault(struct runner *r, runner_fault_cb cb, void *arg)
{
    if (r->nfault_hooks == RUNNER_MAX_HOOKS)
        return -1;
    r->fault_hooks[r->nfault_hooks].cb = cb;
    r->fault_hooks[r->nfault_hooks++].arg = arg;
    return 0;
}

/* What follows session_start: events.jsonl, the injector, arming and scheduling. */
static int post_start(struct runner *r, char *err, size_t errlen)
{
    r->started = true;
    r->start_mono = moni_mono_ns();
    const char *dir = session_run_dir(r->s);
    if (dir) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/events.jsonl", dir);
        r->events_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (r->events_fd < 0)
            session_note(r->s, "events.jsonl: %s", strerror(errno));
        runner_det_start(r->det, dir, r->start_mono);
        /* per-process logs of a multi-process workload (moni-rlsim --log-dir) */
        snprintf(path, sizeof path, "%s/logs", dir);
        r->logs = runner_logs_new(path, r->parser);
    }
    /* the tick: log followers and fault checks.  Without faults the followers
     * run on each sample instead: waking 10 times a second for nothing was most
     * of an observe-only run's CPU cost. */
    if (!r->o.no_faults)
        r->poll_timer = moni_loop_add_ticker(r->loop, RUNNER_POLL_NS,
                                             (moni_mono_ns() / RUNNER_POLL_NS + 1) * RUNNER_POLL_NS,
                                             on_poll, r); /* on the clock's 100 ms grid: the
                                                            * console's tickers share its wakeup */
    if (r->o.no_faults)
        return 0;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/faults.jsonl", dir ? dir : ".");
    if (r->nsched || dir) {
        /* the journal exists even without faults: an empty one says "none injected" */
        r->inj = injector_new(path, session_run_id(r->s), err, errlen);
        if (!r->inj) {
            session_stop(r->s, "fault journal");
            return -1;
        }
        injector_on_event(r->inj, on_inj_event, r);
        if (r->sre)
            sre_set_sources(r->sre, r->parser, r->inj);
        const struct session_workload *w = session_workload(r->s);
        if (w->pid > 0)
            injector_set_workload(r->inj, w->pid);
    }
    for (size_t i = 0; i < r->nsched; i++) {
        struct sched *s = &r->sched[i];
        char e[512];
        if (injector_arm_spec(r->inj, &s->spec, &s->id, e, sizeof e) != 0) {
            s->state = SCHED_FAILED;
            session_note(r->s, "fault %s could not be armed: %s", s->text, e);
            if (!r->o.quiet)
                moni_warn("fault %s could not be armed: %s", s->text, e);
            continue;
        }
        s->state = SCHED_ARMED;
        if (s->spec.has_at && !s->when_event && !s->when_rule)
            schedule_at(r, i, r->start_mono + s->spec.at_ns);
    }
    cluster_dispatch_start(r->cl, r->start_mono);
    if (r->o.exp || r->o.plan_name || r->nsched) {
        write_labels_meta(r);
        session_write_meta(r->s);
    }
    return 0;
}

int runner_start(struct runner *r, char *err, size_t errlen, bool *usage_error)
{
    bool dummy;
    if (!usage_error)
        usage_error = &dummy;
    *usage_error = false;
    if (r->attached) {
        snprintf(err, errlen, "an attached runner starts with its session");
        return -1;
    }
    if (r->o.exp || r->o.plan_name)
        write_labels_meta(r);
    if (session_start(r->s, err, errlen, usage_error) < 0)
        return -1;
    return post_start(r, err, errlen);
}

void runner_stop(struct runner *r, const char *why)
{
    if (r->s)
        session_stop(r->s, why);
}

bool runner_done(const struct runner *r)
{
    return r->done || (r->s && session_done(r->s));
}

int runner_finish(struct runner *r)
{
    if (r->finished)
        return r->status;
    r->finished = true;
    for (size_t i = 0; i < r->nsched; i++)
        if (r->sched[i].timer >= 0) {
            moni_loop_cancel_timer(r->loop, r->sched[i].timer);
            r->sched[i].timer = -1;
        }
    if (r->poll_timer >= 0) {
        moni_loop_cancel_timer(r->loop, r->poll_timer);
        r->poll_timer = -1;
    }
    if (r->cl) { /* what rank 0 sent to other nodes, and how each ended */
        cluster_dispatch_finish(r->cl);
        session_meta_set(r->s, "cluster_faults", cluster_dispatch_json(r->cl));
    }
    uint64_t werr_before = session_write_errors(r->s, NULL);
    int status = session_finish(r->s); /* drains the last lines into the parser */
    bool meta_final = session_write_errors(r->s, NULL) == werr_before;
    if (r->logs)
        runner_logs_poll(r->logs, true);
    if (r->parser)
        lp_parser_flush(r->parser, NULL);
    if (r->sre) {
        sre_free(r->sre); /* it reads the injector: free it first */
        r->sre = NULL;
    }
    bool journal_ok = true;
    if (r->inj) {
        injector_poll(r->inj); /* effects seen at the very end (the workload gone) */
        injector_stop_all(r->inj); /* journals the stops while it can still be asked */
        struct injector_stats st;
        injector_stats(r->inj, &st);
        journal_ok = st.journal_errors == 0;
        injector_free(r->inj); /* reverts what is left, journals it */
        r->inj = NULL;
    }
    if (r->events_fd >= 0) {
        events_flush(r);
        if (fsync(r->events_fd) < 0 && !r->events_errors++)
            snprintf(r->write_error, sizeof r->write_error, "events.jsonl: %s", strerror(errno));
        close(r->events_fd);
        r->events_fd = -1;
    }
    const char *dir = session_run_dir(r->s);
    bool built = false;
    if (dir && r->started && !r->o.no_build) {
        char err[1024];
        struct dataset_opts dopts = {.grid_ns = r->o.grid_ns, .keep_detections = true};
        struct dataset_summary sum;
        if (dataset_build(dir, &dopts, &sum, err, sizeof err) < 0)
            moni_warn("dataset: %s", err);
        else
            built = true;
    }
    if (r->started && write_failed(r)) {
        /* say what the run directory lacks; the run failed whatever the workload did */
        moni_err("run %s: incomplete (%s): meta.json %s, faults.jsonl %s, dataset %s",
                 dir ? dir : ".", r->write_error, meta_final ? "finalised" : "NOT finalised",
                 journal_ok ? "complete" : "has lost transitions",
                 built ? "built" : r->o.no_build ? "not asked for" : "NOT built");
        status = MONI_EXIT_FAIL;
    }
    r->status = status;
    return status;
}

void runner_free(struct runner *r)
{
    if (!r)
        return;
    if (r->started && !r->finished)
        runner_finish(r);
    for (size_t i = 0; i < r->nsched; i++)
        if (r->sched[i].timer >= 0)
            moni_loop_cancel_timer(r->loop, r->sched[i].timer);
    if (r->poll_timer >= 0)
        moni_loop_cancel_timer(r->loop, r->poll_timer);
    sre_free(r->sre);
    if (r->inj)
        injector_free(r->inj);
    if (r->events_fd >= 0) {
        events_flush(r);
        close(r->events_fd);
    }
    moni_jb_free(&r->events);
    if (!r->attached)
        session_free(r->s);
    runner_logs_free(r->logs);
    runner_det_free(r->det);
    cluster_dispatch_free(r->cl);
    lp_parser_free(r->parser);
    lp_rules_free(r->rules);
    free_argv(r->argv);
    free(r->sched);
    free(r);
}

struct session *runner_session(const struct runner *r) { return r->s; }
struct injector *runner_injector(const struct runner *r) { return r->inj; }
struct lp_parser *runner_parser(const struct runner *r) { return r->parser; }

void runner_progress(const struct runner *r, double *elapsed_s, double *planned_s)
{
    *elapsed_s = r->start_mono ? (double)(moni_mono_ns() - r->start_mono) / 1e9 : 0;
    int64_t d = r->o.duration_ns ? r->o.duration_ns : r->o.exp ? r->o.exp->duration_ns : 0;
    *planned_s = (double)d / 1e9;
}

uint64_t runner_fired(const struct runner *r) { return r->fired; }
char *const *runner_argv(const struct runner *r) { return r->argv; }

const struct runner_stage *runner_stage(const struct runner *r)
{
    static const struct runner_stage none = {.step = -1};
    return r->logs ? runner_logs_stage(r->logs) : &none;
}

const struct runner_worker *runner_workers(const struct runner *r, size_t *n)
{
    *n = 0;
    return r->logs ? runner_logs_workers(r->logs, n) : NULL;
}

struct sre *runner_sre(const struct runner *r) { return r->sre; }
const struct lp_rules *runner_rules(const struct runner *r) { return r->rules; }
