/* tui/model.c — the snapshot the console draws from: the latest row with one history
 * per column, log events and lines (rings), faults, the timeline. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

void tui_hist_push(struct tui_hist *h, double v, bool valid)
{
    h->v[h->head] = valid && isfinite(v) ? (float)v : NAN;
    h->head = (h->head + 1) % TUI_HIST_LEN;
    if (h->n < TUI_HIST_LEN)
        h->n++;
}

bool tui_hist_get(const struct tui_hist *h, uint32_t back, double *v)
{
    if (back >= h->n)
        return false;
    float x = h->v[(h->head + TUI_HIST_LEN - 1 - back) % TUI_HIST_LEN];
    if (isnan(x))
        return false;
    *v = x;
    return true;
}

double tui_hist_max(const struct tui_hist *h, uint32_t n)
{
    double mx = 0, v;
    for (uint32_t i = 0; i < n && i < h->n; i++)
        if (tui_hist_get(h, i, &v) && v > mx)
            mx = v;
    return mx;
}

const char *tui_fault_state_name(enum tui_fault_state s)
{
    static const char *const names[] = {"idle", "armed", "firing", "stopped", "failed"};
    return (unsigned)s < MONI_ARRAY_LEN(names) ? names[s] : "?";
}

void tui_model_init(struct tui_model *m)
{
    memset(m, 0, sizeof *m);
    frame_init(&m->frame);
    m->moni_cpu_pct = -1;
    m->interval_ns = MONI_NS_PER_SEC;
    snprintf(m->workload, sizeof m->workload, "starting");
    m->pipe_step = -1;
    for (uint32_t i = 0; i < TUI_HIST_LEN; i++)
        m->loss_hist.v[i] = NAN;
}

void tui_model_free(struct tui_model *m)
{
    frame_free(&m->frame);
    free(m->hist);
    for (size_t i = 0; i < TUI_MAX_LINES; i++)
        free(m->lines[i].text);
    memset(m, 0, sizeof *m);
}

void tui_model_sample(struct tui_model *m, const struct frame *f)
{
    if (frame_copy(&m->frame, f) != 0)
        return;
    if (m->nhist < f->ncols) {
        struct tui_hist *h = realloc(m->hist, f->ncols * sizeof *h);
        if (!h)
            return;
        for (size_t i = m->nhist; i < f->ncols; i++) {
            memset(&h[i], 0, sizeof h[i]);
            for (uint32_t k = 0; k < TUI_HIST_LEN; k++)
                h[i].v[k] = NAN;
            /* A column that appears late starts with as many gaps as its peers. */
            h[i].n = m->nhist ? h[0].n : 0;
            h[i].head = m->nhist ? h[0].head : 0;
        }
        m->hist = h;
        m->nhist = f->ncols;
    }
    for (size_t i = 0; i < f->ncols; i++)
        tui_hist_push(&m->hist[i], f->val[i], f->valid[i]);
    m->samples++;
    m->now_mono = f->t.mono_ns;
    m->now_real = f->t.real_ns;
    m->version++;
}

void tui_model_event(struct tui_model *m, const struct tui_event *e)
{
    size_t at = (m->ev_head + m->nevents) % TUI_MAX_EVENTS;
    if (m->nevents == TUI_MAX_EVENTS) {
        at = m->ev_head;
        m->ev_head = (m->ev_head + 1) % TUI_MAX_EVENTS;
    } else {
        m->nevents++;
    }
    m->events[at] = *e;
    m->events_total++;
    m->version++;
}

const struct tui_event *tui_model_event_at(const struct tui_model *m, size_t i)
{
    return i < m->nevents ? &m->events[(m->ev_head + i) % TUI_MAX_EVENTS] : NULL;
}

void tui_model_line(struct tui_model *m, uint64_t no, int stream, const char *text, size_t len)
{
    size_t at = (m->ln_head + m->nlines) % TUI_MAX_LINES;
    if (m->nlines == TUI_MAX_LINES) {
        at = m->ln_head;
        m->ln_head = (m->ln_head + 1) % TUI_MAX_LINES;
    } else {
        m->nlines++;
    }
    struct tui_line *l = &m->lines[at];
    free(l->text);
    if (len > 1000)
        len = 1000;
    l->text = strndup(text, len);
    l->no = no;
    l->stream = stream;
    l->real_ns = 0; /* until tui_model_line_stamp */
    m->version++;
}

const struct tui_line *tui_model_line_at(const struct tui_model *m, size_t i)
{
    return i < m->nlines ? &m->lines[(m->ln_head + i) % TUI_MAX_LINES] : NULL;
}

struct tui_tl_item *tui_model_tl_add(struct tui_model *m, enum tui_mark_kind kind, int64_t start,
                                     int64_t end, const char *label)
{
    if (m->ntl == TUI_MAX_TL) { /* drop the oldest */
        memmove(&m->tl[0], &m->tl[1], (TUI_MAX_TL - 1) * sizeof m->tl[0]);
        m->ntl--;
    }
    struct tui_tl_item *it = &m->tl[m->ntl++];
    it->kind = kind;
    it->start_mono = start;
    it->end_mono = end;
    snprintf(it->label, sizeof it->label, "%s", label ? label : "");
    m->version++;
    return it;
}

const char *tui_worker_state_name(enum tui_worker_state s)
{
    static const char *const names[] = {"running", "quiet", "error", "gone"};
    return (unsigned)s < MONI_ARRAY_LEN(names) ? names[s] : "?";
}

static const struct tui_proc *proc_by_pid(const struct tui_model *m, int pid)
{
    for (size_t i = 0; pid > 0 && i < m->nprocs; i++)
        if (m->procs[i].pid == pid)
            return &m->procs[i];
    return NULL;
}

/* Problems first (gone, error, quiet), then by name ("worker_10" after "worker_9"):
 * a short pane shows what needs attention. */
static int worker_rank(enum tui_worker_state s)
{
    return s == TUI_W_GONE ? 0 : s == TUI_W_ERROR ? 1 : s == TUI_W_QUIET ? 2 : 3;
}

static int worker_cmp(const void *pa, const void *pb)
{
    const struct tui_worker *a = pa, *b = pb;
    int d = worker_rank(a->state) - worker_rank(b->state);
    return d ? d : strverscmp(a->name, b->name);
}

void tui_model_workers(struct tui_model *m, const struct runner_stage *st,
                       const struct runner_worker *w, size_t n, int64_t now)
{
    bool changed = false;
    if (st && (st->step != m->pipe_step || st->since_mono != m->pipe_since_mono ||
               strcmp(st->stage, m->pipe_stage))) {
        m->pipe_step = st->step;
        m->pipe_since_mono = st->since_mono;
        snprintf(m->pipe_stage, sizeof m->pipe_stage, "%s", st->stage);
        changed = true;
    }
    if (!w || n > TUI_MAX_WORKERS)
        n = w ? TUI_MAX_WORKERS : 0;
    struct tui_worker rows[TUI_MAX_WORKERS]; /* ~27 KB: only the n used are cleared */
    memset(rows, 0, n * sizeof rows[0]); /* padding too: rows are compared with memcmp */
    for (size_t i = 0; i < n; i++) {
        struct tui_worker *t = &rows[i];
        snprintf(t->name, sizeof t->name, "%s", w[i].name);
        t->pid = w[i].pid;
        const struct tui_worker *prev = NULL;
        for (size_t k = 0; k < m->nworkers && !prev; k++)
            if (!strcmp(m->workers[k].name, t->name))
                prev = &m->workers[k];
        /* the controller is the workload itself: the tree's root (kept once known) */
        if (!t->pid && !strcmp(t->name, "controller")) {
            if (m->nprocs && m->procs[0].depth == 0)
                t->pid = m->procs[0].pid;
            else if (prev)
                t->pid = prev->pid;
        }
        t->lines = w[i].lines;
        t->warnings = w[i].warnings;
        t->errors = w[i].errors;
        snprintf(t->last_rule, sizeof t->last_rule, "%s", w[i].last_rule);
        snprintf(t->last_severity, sizeof t->last_severity, "%s", w[i].last_severity);
        snprintf(t->last_text, sizeof t->last_text, "%s", w[i].last_text);
        t->last_line_mono = w[i].last_line_mono;
        const struct tui_proc *p = proc_by_pid(m, t->pid);
        t->cpu_pct = p ? p->cpu_pct : -1;
        t->rss_bytes = p ? p->rss_bytes : -1;
        /* A pid learned from the log may precede the next tree sample: only a pid
         * once seen in the tree (or an empty tree) counts as gone. */
        t->seen = p || (prev && prev->seen && prev->pid == t->pid);
        /* Precedence: gone whatever it logged last; then its latest error; then silence. */
        bool err = t->last_severity[0] && strcmp(t->last_severity, "warning");
        /* a replay has no process tree: nothing reads as gone there */
        if (t->pid > 0 && !p && !m->replay && (t->seen || (m->samples > 0 && m->nprocs == 0)))
            t->state = TUI_W_GONE;
        else if (err)
            t->state = TUI_W_ERROR;
        else if (t->last_line_mono && now - t->last_line_mono >= TUI_WORKER_QUIET_NS)
            t->state = TUI_W_QUIET;
        else
            t->state = TUI_W_RUNNING;
    }
    qsort(rows, n, sizeof rows[0], worker_cmp);
    if (n != m->nworkers || memcmp(rows, m->workers, n * sizeof rows[0])) {
        memcpy(m->workers, rows, n * sizeof rows[0]);
        m->nworkers = n;
        changed = true;
    }
    if (changed)
        m->version++;
}

bool tui_model_get(const struct tui_model *m, const char *col, double *v)
{
    int i = frame_find(&m->frame, col);
    return i >= 0 && frame_get(&m->frame, i, v);
}

const struct tui_hist *tui_model_hist(const struct tui_model *m, const char *col)
{
    int i = frame_find(&m->frame, col);
    return i >= 0 && (size_t)i < m->nhist ? &m->hist[i] : NULL;
}

bool tui_model_sum(const struct tui_model *m, const char *prefix, const char *suffix, double *v)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    bool any = false;
    double sum = 0;
    for (size_t i = 0; i < m->frame.ncols; i++) {
        const char *n = m->frame.cols[i].name;
        size_t nl = strlen(n);
        if (nl < pl + sl || strncmp(n, prefix, pl) || strcmp(n + nl - sl, suffix))
            continue;
        double x;
        if (frame_get(&m->frame, (int)i, &x)) {
            sum += x;
            any = true;
        }
    }
    *v = sum;
    return any;
}

/* ---- training state: what is true now ----------------------------------------------- */

/* Phases that end by themselves: training going on again ends them. */
static bool transient_phase(const char *p)
{
    return !strcmp(p, "eval") || !strncmp(p, "checkpoint", 10);
}

static void show_phase(struct tui_model *m)
{
    bool resumed = m->loss_samples > m->phase_loss_mark ||
                   (m->step_ok && m->phase_step_mark >= 0 && m->step > m->phase_step_mark);
    const char *p = transient_phase(m->phase_raw) && resumed ? "train" : m->phase_raw;
    if (strcmp(p, m->phase)) {
        snprintf(m->phase, sizeof m->phase, "%s", p);
        m->version++;
    }
}

void tui_model_phase(struct tui_model *m, const char *phase)
{
    snprintf(m->phase_raw, sizeof m->phase_raw, "%s", phase ? phase : "");
    m->phase_loss_mark = m->loss_samples;
    m->phase_step_mark = m->step_ok ? m->step : -1;
    show_phase(m);
}

void tui_model_train(struct tui_model *m, const struct runner_train *st)
{
    if (strcmp(st->phase, m->phase_raw)) /* a phase the records did not say */
        tui_model_phase(m, st->phase);
    m->loss_ok = st->loss_ok;
    m->loss = st->loss;
    m->lr_ok = st->lr_ok;
    m->lr = st->lr;
    m->epoch_ok = st->epoch_ok;
    m->epoch = st->epoch;
    /* A progress bar of another total, or any bar while evaluating, is not the
     * training's: it is the evaluation's, shown apart. */
    bool eval = !strcmp(m->phase_raw, "eval");
    bool other_total = m->train_max_ok && st->max_steps_ok && st->max_steps != m->train_max;
    if (st->step_ok && (eval || other_total)) {
        m->eval_ok = true;
        m->eval_step = st->step;
        m->eval_max = st->max_steps_ok ? st->max_steps : 0;
    } else {
        m->step_ok = st->step_ok;
        m->step = st->step;
        if (st->max_steps_ok) {
            m->train_max_ok = true;
            m->train_max = st->max_steps;
        }
        m->max_steps_ok = m->train_max_ok;
        m->max_steps = m->train_max;
    }
    if (st->tput_ok && !eval && !other_total) { /* the last known rate stays until a new one */
        m->tput_ok = true;
        m->throughput = st->throughput;
        snprintf(m->tput_unit, sizeof m->tput_unit, "%s", st->tput_unit);
    }
    m->nan_seen = st->nan_seen;
    show_phase(m);
}

void tui_fmt_workload(char *buf, size_t len, const struct tui_workload_state *w)
{
    if (!w->has_workload) {
        snprintf(buf, len, "none (observing)");
    } else if (w->running) {
        const char *st = "running";
        const char *why = "";
        switch (w->state) {
        case 'T': st = "stopped"; why = " (SIGSTOP: state T)"; break;
        case 't': st = "stopped"; why = " (traced: state t)"; break;
        case 'Z': st = "zombie"; why = " (exited, not reaped)"; break;
        case 'X': st = "dead"; break;
        case 'D': why = " (disk wait: state D)"; break;
        default: break;
        }
        snprintf(buf, len, "%s pid %d%s%s", st, w->pid, why, w->restarted ? " (restarted)" : "");
    } else if (w->exit_signal) {
        const char *abbrev = sigabbrev_np(w->exit_signal);
        snprintf(buf, len, "killed by SIG%s", abbrev ? abbrev : "?");
    } else if (w->ended) {
        snprintf(buf, len, "exited %d", w->exit_code);
    } else {
        snprintf(buf, len, "starting");
    }
}
