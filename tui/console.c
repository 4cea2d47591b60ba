/* tui/console.c — the live console's glue: the shared experiment runner (session,
 * log parser -> events.jsonl, injector -> faults.jsonl, plan schedule, exporter and
 * alerts, dataset at the end; core/runner.c), all on the console's loop, feeding the
 * model the panes draw and carrying out the keys' actions through the runner's
 * control API (core/runner-ctl.c).  It never calls faults/ or logparse/ itself, and
 * writes no run file except marks.jsonl. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/tui.h"

#define POLL_NS (100 * MONI_NS_PER_MS) /* injector poll and fault rows */

/* ---- model updates ------------------------------------------------------------------ */

/* The workload's state from its process: stopped (T), zombie, or gone with its
 * status (call after update_procs: the root's state comes from the tree). */
static void update_workload(struct tui_live *lv)
{
    struct tui_model *m = lv->m;
    const struct session_workload *w = session_workload(lv->s);
    struct tui_workload_state ws = {
        .has_workload = lv->has_workload, .running = w->running, .ended = w->ended.mono_ns != 0,
        .restarted = w->starts > 1, .pid = (int)w->pid, .exit_signal = w->exit_signal,
        .exit_code = w->exit_code,
    };
    for (size_t i = 0; i < m->nprocs; i++)
        if (m->procs[i].pid == ws.pid)
            ws.state = m->procs[i].state;
    char text[sizeof m->workload];
    tui_fmt_workload(text, sizeof text, &ws);
    if (strcmp(text, m->workload)) {
        snprintf(m->workload, sizeof m->workload, "%s", text);
        m->version++;
    }
    if (w->last_line.mono_ns)
        m->last_line_mono = w->last_line.mono_ns;
}

/* Orders the process list as a tree (parents before children) with depths. */
static void update_procs(struct tui_live *lv)
{
    struct tui_model *m = lv->m;
    const struct obs_proc *p;
    size_t n = session_procs(lv->s, &p);
    if (n > TUI_MAX_PROCS)
        n = TUI_MAX_PROCS;
    bool used[TUI_MAX_PROCS] = {0};
    size_t out = 0;
    /* Roots: processes whose parent is not in the list. */
    struct item { size_t idx; int depth; } stack[TUI_MAX_PROCS];
    size_t sp = 0;
    for (size_t i = n; i-- > 0;) {
        bool has_parent = false;
        for (size_t k = 0; k < n; k++)
            if (k != i && p[k].pid == p[i].ppid)
                has_parent = true;
        if (!has_parent)
            stack[sp++] = (struct item){i, 0};
    }
    while (sp && out < n) {
        size_t i = stack[--sp].idx;
        int depth = stack[sp].depth;
        if (used[i])
            continue;
        used[i] = true;
        struct tui_proc *t = &m->procs[out++];
        t->pid = p[i].pid;
        t->ppid = p[i].ppid;
        t->depth = depth;
        t->state = p[i].state;
        snprintf(t->comm, sizeof t->comm, "%s", p[i].comm);
        snprintf(t->cmd, sizeof t->cmd, "%s", p[i].cmd);
        t->cpu_pct = p[i].cpu_pct;
        t->rss_bytes = (double)p[i].rss_bytes;
        t->threads = p[i].threads;
        for (size_t k = n; k-- > 0;)
            if (!used[k] && p[k].ppid == p[i].pid && sp < TUI_MAX_PROCS)
                stack[sp++] = (struct item){k, depth + 1};
    }
    m->nprocs = out;
}

/* Multi-process workloads: the controller's stage and one row per process (the
 * runner's array may move between calls, so it is copied every time). */
static void update_workers(struct tui_live *lv)
{
    size_t n = 0;
    const struct runner_worker *w = runner_workers(lv->run, &n);
    tui_model_workers(lv->m, runner_stage(lv->run), w, n, moni_mono_ns());
}

static void update_training(struct tui_live *lv)
{
    struct runner_train st;
    runner_train_state(lv->run, &st);
    tui_model_train(lv->m, &st);
}

static enum tui_fault_state row_state(enum runner_fault_state s)
{
    switch (s) {
    case RUNNER_FAULT_ARMED: return TUI_F_ARMED;
    case RUNNER_FAULT_FIRING: return TUI_F_FIRING;
    case RUNNER_FAULT_STOPPED: return TUI_F_STOPPED;
    case RUNNER_FAULT_FAILED: return TUI_F_FAILED;
    default: return TUI_F_IDLE;
    }
}

static void fmt_dose(double v, const char *unit, char *buf, size_t len)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
    } else if (unit && (!strcmp(unit, "bytes") || !strcmp(unit, "B"))) {
        tui_fmt_rate(v, true, buf, len);
    } else if (unit && !strcmp(unit, "Bps")) {
        char b[16];
        snprintf(buf, len, "%s/s", tui_fmt_rate(v, true, b, sizeof b));
    } else if (unit && !strcmp(unit, "pct")) {
        snprintf(buf, len, "%.0f%%", v);
    } else {
        snprintf(buf, len, "%.3g%s%s", v, unit && *unit ? " " : "", unit ? unit : "");
    }
}

/* One row per fault kind, showing its latest instance. */
static void update_faults(struct tui_live *lv)
{
    struct tui_model *m = lv->m;
    /* one row per kind, as no fault of it is armed: the kind table is static, so
     * these are made once (formatting them 10 times a second showed in profiles) */
    static struct tui_fault_row idle[TUI_MAX_FAULTS];
    static size_t nidle;
    if (!nidle) {
        const char *names[TUI_MAX_FAULTS], *summaries[TUI_MAX_FAULTS];
        nidle = runner_fault_kinds(names, summaries, TUI_MAX_FAULTS);
        for (size_t k = 0; k < nidle; k++) {
            struct tui_fault_row *r = &idle[k];
            memset(r, 0, sizeof *r);
            snprintf(r->kind, sizeof r->kind, "%s", names[k]);
            snprintf(r->note, sizeof r->note, "%s", summaries[k]);
            r->elapsed_ns = r->remaining_ns = -1;
        }
    }
    struct tui_fault_row rows[TUI_MAX_FAULTS];
    size_t nrows = nidle;
    memcpy(rows, idle, nrows * sizeof rows[0]);
    int64_t now = moni_mono_ns();
    size_t n = runner_fault_count(lv->run);
    for (size_t i = 0; i < n; i++) {
        struct runner_fault fi;
        if (!runner_fault_get(lv->run, i, &fi))
            continue;
        for (size_t k = 0; k < nrows; k++) {
            struct tui_fault_row *r = &rows[k];
            if (strcmp(r->kind, fi.kind))
                continue;
            r->state = row_state(fi.state);
            snprintf(r->id, sizeof r->id, "%s", fi.id_str);
            snprintf(r->params, sizeof r->params, "%.95s", fi.params);
            for (char *c = r->params; *c; c++)
                if (*c == ',')
                    *c = ' ';
            if (fi.fired_ns)
                r->elapsed_ns = (fi.stopped_ns ? fi.stopped_ns : now) - fi.fired_ns;
            else
                r->elapsed_ns = -1;
            r->remaining_ns = fi.state == RUNNER_FAULT_FIRING ? fi.remaining_ns : -1;
            char a[24], b[24];
            fmt_dose(fi.requested_dose, fi.dose_unit, a, sizeof a);
            fmt_dose(fi.delivered_valid ? fi.delivered_dose : NAN, fi.dose_unit, b, sizeof b);
            /* compact, so that it shows at every width: requested->delivered */
            if (fi.state >= RUNNER_FAULT_FIRING || fi.delivered_valid)
                snprintf(r->dose, sizeof r->dose, "%s->%s", a, fi.delivered_valid ? b : "?");
            else
                snprintf(r->dose, sizeof r->dose, "%s", a);
            snprintf(r->note, sizeof r->note, "%s%.80s", fi.error[0] ? "failed: " : "",
                     fi.error[0] ? fi.error : fi.effective ? "effective" : "");
        }
    }
    int active = (int)runner_faults_active(lv->run);
    if (nrows != m->nfaults || memcmp(rows, m->faults, nrows * sizeof rows[0]) ||
        m->active_faults != active) {
        memcpy(m->faults, rows, nrows * sizeof rows[0]);
        m->nfaults = nrows;
        m->active_faults = active;
        m->version++;
    }
}

static void update_alerts(struct tui_live *lv);
static void check_step_triggers(struct tui_live *lv);
static void check_event_triggers(struct tui_live *lv, const struct runner_record *r);

/* ---- hooks -------------------------------------------------------------------------- */

static void on_sample(struct session *s, struct frame *f, void *arg)
{
    struct tui_live *lv = arg;
    tui_model_sample(lv->m, f);
    lv->m->moni_cpu_pct = session_stats(s)->moni_cpu_pct;
    update_procs(lv);
    update_workload(lv);
    update_workers(lv);
    update_training(lv);
    check_step_triggers(lv);
    update_alerts(lv);
}

static void on_record(struct runner *run, const struct lp_record *rec, void *arg)
{
    (void)run;
    struct tui_live *lv = arg;
    struct tui_model *m = lv->m;
    struct runner_record r;
    runner_record_view(rec, &r);
    double v;
    if (r.is_metric) {
        if (runner_record_num(rec, "loss", &v)) {
            tui_hist_push(&m->loss_hist, v, true);
            m->loss_samples++;
            if (isfinite(v) && (m->loss_samples == 1 || v < m->loss_min))
                m->loss_min = v;
            m->diverged = isinf(v) || (m->loss_samples > 20 && isfinite(v) && m->loss_min > 0 &&
                                       v > 4 * m->loss_min);
            m->version++;
        }
        return;
    }
    if (r.is_phase)
        tui_model_phase(m, r.phase);
    if (r.is_phase || r.is_event)
        check_event_triggers(lv, &r);
    if (!r.is_event && !r.is_phase) /* a phase line is an event too: evaluations, checkpoints */
        return;
    struct tui_event e = {0};
    e.real_ns = r.time_ns;
    e.mono_ns = r.recv.mono_ns;
    e.line = r.line;
    e.sev = r.sev == RUNNER_SEV_CRIT ? TUI_SEV_CRIT : r.sev == RUNNER_SEV_ERROR ? TUI_SEV_ERROR
          : r.sev == RUNNER_SEV_WARN ? TUI_SEV_WARN : TUI_SEV_INFO;
    snprintf(e.rule, sizeof e.rule, "%s", r.rule);
    snprintf(e.labels, sizeof e.labels, "%s", r.labels);
    snprintf(e.text, sizeof e.text, "%.*s", (int)(r.text_len < sizeof e.text ? r.text_len : sizeof e.text - 1),
             r.text);
    tui_model_event(m, &e);
}

/* A detection: a line in the events pane (rule "detect:NAME", its label) and a
 * point on the timeline, as it happens. */
static void on_detection(struct runner *run, const struct detection *det, void *arg)
{
    (void)run;
    struct tui_live *lv = arg;
    struct tui_event e = {.real_ns = det->real_ns, .mono_ns = det->mono_ns, .sev = TUI_SEV_WARN};
    snprintf(e.rule, sizeof e.rule, "detect:%s", det->detector);
    snprintf(e.labels, sizeof e.labels, "%s", det->label);
    snprintf(e.text, sizeof e.text, "%s", det->evidence);
    tui_model_event(lv->m, &e);
    tui_model_tl_add(lv->m, TUI_TL_DETECT, det->mono_ns, det->mono_ns, det->label);
    lv->m->version++;
    if (lv->ui)
        tui_status(lv->ui, false, "detected %s: %.120s", det->label, det->evidence);
}

static void on_line(struct session *s, const char *line, size_t len, uint64_t lineno, int stream,
                    const struct moni_stamp *t, void *arg)
{
    (void)s;
    struct tui_live *lv = arg;
    tui_model_line(lv->m, lineno, stream, line, len);
    tui_model_line_stamp(lv->m, t->real_ns);
    lv->m->last_line_mono = t->mono_ns;
}

static void on_exit_cb(struct session *s, void *arg)
{
    struct tui_live *lv = arg;
    const struct session_workload *w = session_workload(s);
    update_workload(lv);
    if (lv->restarting) /* the exit a restart asked for */
        lv->restarting = false;
    else if (!lv->user_quit)
        lv->exited_itself = true;
    if (w->exit_signal)
        tui_model_tl_add(lv->m, TUI_TL_KILL, w->ended.mono_ns, w->ended.mono_ns, lv->m->workload);
    lv->m->version++;
    if (lv->ui)
        tui_status(lv->ui, w->exit_signal || w->exit_code, "workload %s (R restarts it)", lv->m->workload);
}

static void on_done(struct session *s, void *arg)
{
    (void)s;
    struct tui_live *lv = arg;
    lv->done = true;
    moni_loop_stop(lv->loop);
}

/* A journal line (faults.jsonl) as the runner wrote it: timeline windows and points. */
static void on_fault_event(struct runner *run, const char *fault_id, const char *event,
                           const char *json_line, void *arg)
{
    (void)run;
    (void)fault_id;
    struct tui_live *lv = arg;
    struct tui_model *m = lv->m;
    if (json_line) { /* kept for the drill-down (Enter on a fault row) */
        size_t n = strlen(json_line);
        char *j = realloc(lv->journal, lv->journal_len + n + 2);
        if (j) {
            memcpy(j + lv->journal_len, json_line, n);
            lv->journal_len += n;
            if (!n || json_line[n - 1] != '\n')
                j[lv->journal_len++] = '\n';
            j[lv->journal_len] = 0;
            lv->journal = j;
        }
    }
    cJSON *o = json_line ? cJSON_Parse(json_line) : NULL;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *lk = cJSON_GetObjectItemCaseSensitive(o, "label_kind");
    const char *kind = cJSON_IsString(k) ? k->valuestring : "?";
    bool point = cJSON_IsString(lk) && !strcmp(lk->valuestring, "point");
    int64_t now = moni_mono_ns();
    if (!strcmp(event, "fired")) {
        tui_model_tl_add(m, point ? TUI_TL_KILL : TUI_TL_FAULT, now, point ? now : 0, kind);
    } else if (!strcmp(event, "stopped") || !strcmp(event, "failed") || !strcmp(event, "reverted")) {
        for (size_t i = m->ntl; i-- > 0;)
            if (m->tl[i].kind == TUI_TL_FAULT && !m->tl[i].end_mono && !strcmp(m->tl[i].label, kind)) {
                m->tl[i].end_mono = now;
                break;
            }
    }
    cJSON_Delete(o);
    update_faults(lv);
    m->version++;
}

/* Firing alerts: the model's list and open windows on the timeline. */
static void update_alerts(struct tui_live *lv)
{
    struct tui_model *m = lv->m;
    const struct moni_alert_state *a = NULL;
    size_t n = sre_firing(runner_sre(lv->run), &a);
    m->nalerts = 0;
    for (size_t i = 0; i < n && m->nalerts < MONI_ARRAY_LEN(m->alerts); i++)
        snprintf(m->alerts[m->nalerts++], sizeof m->alerts[0], "%s: %.80s", a[i].name,
                 a[i].summary ? a[i].summary : "");
    int64_t now = moni_mono_ns();
    /* close windows of alerts no longer firing, open new ones */
    for (size_t t = 0; t < m->ntl; t++) {
        struct tui_tl_item *it = &m->tl[t];
        if (it->kind != TUI_TL_ALERT || it->end_mono)
            continue;
        bool still = false;
        for (size_t i = 0; i < n; i++)
            still |= !strncmp(it->label, a[i].name, sizeof it->label - 1);
        if (!still)
            it->end_mono = now;
    }
    for (size_t i = 0; i < n; i++) {
        bool open = false;
        for (size_t t = 0; t < m->ntl; t++)
            open |= m->tl[t].kind == TUI_TL_ALERT && !m->tl[t].end_mono &&
                    !strncmp(m->tl[t].label, a[i].name, sizeof m->tl[t].label - 1);
        if (!open)
            tui_model_tl_add(m, TUI_TL_ALERT, now, 0, a[i].name);
    }
}

static void on_poll(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline;
    (void)now;
    (void)missed;
    struct tui_live *lv = arg;
    update_faults(lv); /* the runner polls the injector; this only shows it */
    update_workers(lv); /* stage lines are read every 500 ms */
}

/* ---- actions ---------------------------------------------------------------------------- */

static size_t act_params(void *ctx, const char *kind, struct tui_param *out, size_t max)
{
    struct tui_live *lv = ctx;
    struct runner_fault_param p[TUI_FORM_MAX];
    size_t n = runner_fault_params(lv->run, kind, p, max < TUI_FORM_MAX ? max : TUI_FORM_MAX);
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        snprintf(out[i].name, sizeof out[i].name, "%s", p[i].name);
        snprintf(out[i].unit, sizeof out[i].unit, "%s", p[i].unit);
        snprintf(out[i].def, sizeof out[i].def, "%s", p[i].def);
        snprintf(out[i].help, sizeof out[i].help, "%s", p[i].help);
    }
    /* When it fires: the console's own fields, after the kind's */
    static const struct tui_param trig[] = {
        {"fire_after", "s", "", "fire this long after arming (30s); empty: by f"},
        {"fire_at_step", "", "", "fire when training reaches this step"},
        {"fire_on", "", "", "fire on a log event or phase: checkpoint_save, hf_running_eval, ..."},
    };
    for (size_t i = 0; n && i < MONI_ARRAY_LEN(trig) && n < max; i++)
        out[n++] = trig[i];
    return n;
}

static bool trigger_key(const char *key) { return !strncmp(key, "fire_", 5); }

static int act_validate(void *ctx, const char *kind, const char *key, const char *value, char *err,
                        size_t errlen)
{
    struct tui_live *lv = ctx;
    int64_t ns;
    long long step;
    if (!strcmp(key, "fire_after"))
        return moni_parse_duration(value, &ns, err, errlen);
    if (!strcmp(key, "fire_at_step"))
        return moni_parse_int(value, 1, 1000000000000LL, &step, err, errlen);
    if (!strcmp(key, "fire_on"))
        return value[0] ? 0 : -1;
    return runner_fault_validate(lv->run, kind, key, value, err, errlen);
}

static void fire_trigger(struct tui_trigger *t, const char *why)
{
    struct tui_live *lv = t->lv;
    if (!t->pending)
        return;
    t->pending = false;
    if (t->timer >= 0)
        moni_loop_cancel_timer(lv->loop, t->timer);
    t->timer = -1;
    char err[256] = "";
    bool armed = false;
    size_t n = runner_fault_count(lv->run);
    for (size_t i = 0; i < n; i++) {
        struct runner_fault fi;
        if (runner_fault_get(lv->run, i, &fi) && fi.id == t->fault_id)
            armed = fi.state == RUNNER_FAULT_ARMED;
    }
    if (!armed) /* fired by hand, or stopped, meanwhile */
        return;
    int rc = runner_fault_fire(lv->run, t->fault_id, err, sizeof err);
    update_faults(lv);
    if (lv->ui)
        tui_status(lv->ui, rc != 0, rc ? "%s did not fire (%s): %s" : "%s fired: %s%.0s", t->kind,
                   why, err);
}

static void on_trigger_timer(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed,
                             void *arg)
{
    (void)loop;
    (void)deadline;
    (void)now;
    (void)missed;
    struct tui_trigger *t = arg;
    t->timer = -1;
    fire_trigger(t, "its delay passed");
}

/* Triggers waiting on the training step (after update_training). */
static void check_step_triggers(struct tui_live *lv)
{
    for (size_t i = 0; i < MONI_ARRAY_LEN(lv->trig); i++) {
        struct tui_trigger *t = &lv->trig[i];
        if (t->pending && t->at_step > 0 && lv->m->step_ok && lv->m->step >= t->at_step)
            fire_trigger(t, "its step was reached");
    }
}

/* Triggers waiting on a log event or phase. */
static void check_event_triggers(struct tui_live *lv, const struct runner_record *r)
{
    for (size_t i = 0; i < MONI_ARRAY_LEN(lv->trig); i++) {
        struct tui_trigger *t = &lv->trig[i];
        if (t->pending && t->on[0] && (!strcmp(t->on, r->rule) || (r->is_phase && !strcmp(t->on, r->phase))))
            fire_trigger(t, t->on);
    }
}

static int add_trigger(struct tui_live *lv, const char *kind, int id, const char *const *keys,
                       const char *const *values, size_t n, char *err, size_t errlen)
{
    struct tui_trigger *t = NULL;
    for (size_t i = 0; i < MONI_ARRAY_LEN(lv->trig) && !t; i++)
        if (!lv->trig[i].pending)
            t = &lv->trig[i];
    if (!t) {
        snprintf(err, errlen, "too many faults waiting on a trigger");
        return -1;
    }
    *t = (struct tui_trigger){.lv = lv, .fault_id = id, .timer = -1, .pending = true};
    snprintf(t->kind, sizeof t->kind, "%s", kind);
    for (size_t i = 0; i < n; i++) {
        int64_t ns;
        if (!strcmp(keys[i], "fire_after") && !moni_parse_duration(values[i], &ns, err, errlen))
            t->timer = moni_loop_add_timeout(lv->loop, moni_mono_ns() + ns, on_trigger_timer, t);
        else if (!strcmp(keys[i], "fire_at_step"))
            t->at_step = atof(values[i]);
        else if (!strcmp(keys[i], "fire_on"))
            snprintf(t->on, sizeof t->on, "%s", values[i]);
    }
    return 0;
}

/* Arms with the kind's fields; the fire_* fields set a trigger the console keeps. */
static int act_arm(void *ctx, const char *kind, const char *const *keys, const char *const *values,
                   size_t n, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    const char *k[TUI_FORM_MAX] = {0}, *v[TUI_FORM_MAX] = {0};
    size_t nk = 0;
    bool trig = false;
    for (size_t i = 0; i < n && nk < TUI_FORM_MAX; i++) {
        if (trigger_key(keys[i])) {
            trig = true;
            continue;
        }
        k[nk] = keys[i];
        v[nk++] = values[i];
    }
    int id;
    int rc = runner_fault_arm(lv->run, kind, k, v, nk, &id, err, errlen);
    if (rc == 0 && trig)
        rc = add_trigger(lv, kind, id, keys, values, n, err, errlen);
    update_faults(lv);
    return rc;
}

/* The latest instance of kind in one of the given states; -1 if none. */
static int find_fault(struct tui_live *lv, const char *kind, bool armed, bool firing)
{
    int id = -1;
    size_t n = runner_fault_count(lv->run);
    for (size_t i = 0; i < n; i++) {
        struct runner_fault fi;
        if (runner_fault_get(lv->run, i, &fi) && !strcmp(fi.kind, kind) &&
            ((armed && fi.state == RUNNER_FAULT_ARMED) || (firing && fi.state == RUNNER_FAULT_FIRING)))
            id = fi.id;
    }
    return id;
}

static int act_fire(void *ctx, const char *kind, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    int id = find_fault(lv, kind, true, false);
    if (id < 0) {
        snprintf(err, errlen, "not armed (press a first)");
        return -1;
    }
    int rc = runner_fault_fire(lv->run, id, err, errlen);
    update_faults(lv);
    return rc;
}

static int act_stop(void *ctx, const char *kind, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    int id = find_fault(lv, kind, true, true);
    if (id < 0) {
        snprintf(err, errlen, "not armed or firing");
        return -1;
    }
    int rc = runner_fault_stop(lv->run, id, err, errlen);
    update_faults(lv);
    return rc;
}

static int act_stop_all(void *ctx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct tui_live *lv = ctx;
    runner_fault_stop_all(lv->run);
    update_faults(lv);
    return 0;
}

static int act_mark(void *ctx, const char *note, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    struct moni_stamp t = moni_now();
    if (lv->marks_fd < 0 && (lv->marks_fd = rundir_mark_open(lv->dir)) < 0) {
        snprintf(err, errlen, "%s/marks.jsonl: %s", lv->dir, strerror(errno));
        return -1;
    }
    if (rundir_mark_append(lv->marks_fd, t, note) != 0) {
        snprintf(err, errlen, "marks.jsonl: %s", strerror(errno));
        return -1;
    }
    tui_model_tl_add(lv->m, TUI_TL_MARK, t.mono_ns, t.mono_ns, note);
    return 0;
}

static int act_restart(void *ctx, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    if (!lv->has_workload) {
        snprintf(err, errlen, "no workload (observing only)");
        return -1;
    }
    const struct session_workload *w = session_workload(lv->s);
    lv->restarting = w->running;
    lv->exited_itself = false;
    if (runner_restart_workload(lv->run, err, errlen) != 0) {
        lv->restarting = false;
        return -1;
    }
    update_workload(lv);
    lv->m->version++;
    return 0;
}

static int act_resume_point(void *ctx, char *ckpt, size_t len)
{
    struct tui_live *lv = ctx;
    return lv->has_workload ? runner_resume_point(lv->run, ckpt, len) : 0;
}

/* R: from scratch, or from the workload's latest checkpoint */
static int act_restart_resume(void *ctx, bool resume, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    if (!resume)
        return act_restart(ctx, err, errlen);
    if (!lv->has_workload) {
        snprintf(err, errlen, "no workload (observing only)");
        return -1;
    }
    lv->restarting = session_workload(lv->s)->running;
    lv->exited_itself = false;
    if (runner_restart_resume(lv->run, true, err, errlen) != 0) {
        lv->restarting = false;
        return -1;
    }
    update_workload(lv);
    lv->m->version++;
    return 0;
}

static const char *state_text(enum runner_fault_state s)
{
    return tui_fault_state_name(row_state(s));
}

/* The time of t after the run's start ("+12.3s"), or "-" when not reached. */
static void since(const struct tui_live *lv, int64_t t, char *buf, size_t len)
{
    if (t)
        snprintf(buf, len, "+%.1fs", (double)(t - lv->m->start_mono) / 1e9);
    else
        snprintf(buf, len, "-");
}

static void detail_text(struct tui_live *lv, const struct runner_fault *fi, FILE *f)
{
    char a[24], b[24], t1[24], t2[24], t3[24], t4[24];
    fprintf(f, "fault %s  %s  %s\n", fi->id_str, fi->kind, state_text(fi->state));
    fprintf(f, "parameters   %s\n", fi->params[0] ? fi->params : "(defaults)");
    fprintf(f, "target       %s\n", fi->target[0] ? fi->target : "the workload");
    fmt_dose(fi->requested_dose, fi->dose_unit, a, sizeof a);
    fmt_dose(fi->delivered_valid ? fi->delivered_dose : NAN, fi->dose_unit, b, sizeof b);
    fprintf(f, "dose         requested %s, delivered %s\n", a, fi->delivered_valid ? b : "not measured");
    since(lv, fi->armed_ns, t1, sizeof t1);
    since(lv, fi->fired_ns, t2, sizeof t2);
    since(lv, fi->effective_ns, t3, sizeof t3);
    since(lv, fi->stopped_ns, t4, sizeof t4);
    fprintf(f, "times        armed %s  fired %s  effective %s  stopped %s\n", t1, t2, t3, t4);
    const char *verdict = fi->effective ? "effective: its effect was seen from outside"
                        : fi->state == RUNNER_FAULT_ARMED ? "not fired yet"
                        : fi->state == RUNNER_FAULT_FAILED ? "failed"
                        : fi->state == RUNNER_FAULT_FIRING ? "no effect seen yet"
                        : "no effect seen while it fired";
    fprintf(f, "effect       %s\n", verdict);
    fprintf(f, "failure      %s\n", fi->error[0] ? fi->error : "none");
    fprintf(f, "journal      (faults.jsonl, this fault's lines)\n");
    char key[48];
    snprintf(key, sizeof key, "\"fault_id\":\"%s\"", fi->id_str);
    for (const char *p = lv->journal; p && *p;) {
        size_t n = strcspn(p, "\n");
        if (memmem(p, n, key, strlen(key)))
            fprintf(f, "  %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

static char *act_fault_detail(void *ctx, const char *kind, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    struct runner_fault fi;
    bool found = false;
    size_t n = runner_fault_count(lv->run);
    for (size_t i = 0; i < n; i++) {
        struct runner_fault x;
        if (runner_fault_get(lv->run, i, &x) && !strcmp(x.kind, kind)) {
            fi = x;
            found = true;
        }
    }
    if (!found) {
        snprintf(err, errlen, "no %s fault in this run yet (a arms one)", kind);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    detail_text(lv, &fi, f);
    fclose(f);
    return buf;
}

static char *act_diagnose(void *ctx, char *err, size_t errlen)
{
    struct tui_live *lv = ctx;
    return runner_diagnose(lv->run, err, errlen);
}

static void act_quit(void *ctx)
{
    struct tui_live *lv = ctx;
    runner_fault_stop_all(lv->run);
    update_faults(lv);
    lv->user_quit = true;
    runner_stop(lv->run, "user");
    if (runner_done(lv->run))
        moni_loop_stop(lv->loop);
}

char *tui_diagnose_dir(const struct lp_rules *rules, const char *dir, char *err, size_t errlen)
{
    return runner_diagnose_dir(rules, dir, err, errlen);
}

/* ---- setup / teardown -------------------------------------------------------------------- */

int tui_live_start(struct tui_live *lv, struct moni_loop *loop, struct tui_model *m,
                   const struct tui_live_opts *o, char *err, size_t errlen, bool *usage)
{
    memset(lv, 0, sizeof *lv);
    lv->loop = loop;
    lv->m = m;
    lv->marks_fd = -1;
    lv->poll_timer = -1;
    snprintf(lv->dir, sizeof lv->dir, "%s", o->out_dir);
    lv->has_workload = o->argv && o->argv[0];
    struct runner_opts ro = {
        .out_dir = o->out_dir,
        .interval_ns = o->interval_ns,
        .argv = o->argv,
        .exp = o->plan_exp,
        .plan_name = o->plan_name,
        .quiet = true,          /* the screen shows notes; stderr would tear it */
        .keep_after_exit = !o->end_with_workload, /* else the console stays up after it */
        .keep_loop = true,
        .control = true,         /* moni-train gets --control: knobs are armed live */
        .metrics_listen = o->metrics_listen, /* the runner's exporter and alerts */
    };
    lv->run = runner_new(loop, &ro, err, errlen, usage);
    if (!lv->run)
        return -1;
    lv->s = runner_session(lv->run);
    runner_on_record(lv->run, on_record, lv);
    runner_on_detection(lv->run, on_detection, lv);
    runner_on_fault(lv->run, on_fault_event, lv);
    session_on_sample(lv->s, on_sample, lv);
    session_on_line(lv->s, on_line, lv);
    session_on_exit(lv->s, on_exit_cb, lv);
    session_on_done(lv->s, on_done, lv);
    if (runner_start(lv->run, err, errlen, usage) != 0)
        return -1;
    lv->started = true;
    /* Header facts. */
    snprintf(m->run_id, sizeof m->run_id, "%s", session_run_id(lv->s));
    snprintf(m->run_dir, sizeof m->run_dir, "%s", lv->dir);
    m->recording = true;
    m->interval_ns = session_interval_ns(lv->s);
    m->start_mono = moni_mono_ns();
    m->now_mono = m->start_mono;
    const struct session_gpu *g;
    size_t ng = session_gpus(lv->s, &g);
    m->ngpus = (int)(ng > TUI_MAX_GPUS ? TUI_MAX_GPUS : ng);
    for (int i = 0; i < m->ngpus; i++)
        snprintf(m->gpu_names[i], sizeof m->gpu_names[i], "%.63s", g[i].name);
    const char *why = session_gpu_reason(lv->s);
    snprintf(m->gpu_reason, sizeof m->gpu_reason, "%s", why ? why : "");
    update_workload(lv);
    update_faults(lv);
    /* on the 100 ms grid of the clock, as the runner's poll and the redraw check:
     * the three are served by one wakeup instead of three */
    lv->poll_timer = moni_loop_add_ticker(loop, POLL_NS, (moni_mono_ns() / POLL_NS + 1) * POLL_NS,
                                          on_poll, lv);
    return 0;
}

void tui_live_attach(struct tui_live *lv, struct tui *ui)
{
    lv->ui = ui;
    const char *why = NULL;
    if (!runner_faults_ready(lv->run, &why))
        tui_status(ui, true, "moni: faults unavailable: %s", why);
}

void tui_live_actions(struct tui_live *lv, struct tui_actions *act)
{
    *act = (struct tui_actions){
        .ctx = lv,
        .params = act_params,
        .validate = act_validate,
        .arm = act_arm,
        .fire = act_fire,
        .stop = act_stop,
        .stop_all = act_stop_all,
        .mark = act_mark,
        .restart = act_restart,
        .resume_point = act_resume_point,
        .restart_resume = act_restart_resume,
        .diagnose = act_diagnose,
        .fault_detail = act_fault_detail,
        .quit = act_quit,
    };
}

int tui_live_finish(struct tui_live *lv)
{
    if (lv->poll_timer >= 0)
        moni_loop_cancel_timer(lv->loop, lv->poll_timer);
    lv->poll_timer = -1;
    if (!lv->run || !lv->started)
        return MONI_EXIT_FAIL;
    runner_fault_stop_all(lv->run); /* reverted and journalled before the files close */
    if (!runner_done(lv->run)) {
        runner_stop(lv->run, "user");
        /* Let the workload go (SIGTERM, then SIGKILL after the grace). */
        for (int i = 0; i < 400 && !runner_done(lv->run); i++)
            moni_loop_once(lv->loop, 50);
    }
    int status = runner_finish(lv->run); /* session, journal, events, dataset */
    /* The workload's own status when it ended by itself; 0 when the user ended it. */
    if (!lv->exited_itself && lv->user_quit && status > 128)
        status = MONI_EXIT_OK;
    if (lv->marks_fd >= 0)
        close(lv->marks_fd);
    lv->marks_fd = -1;
    return status;
}

void tui_live_free(struct tui_live *lv)
{
    runner_free(lv->run);
    free(lv->journal);
    memset(lv, 0, sizeof *lv);
}
