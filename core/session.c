/* core/session.c — one run: the sources, the workload, the run directory and the
 * ticker that ties them together; the hooks others attach to (see core.h).
 *
 * A tick: clear the frame (everything missing), let each source fill its columns,
 * run the on_tick hooks, write the row, run the on_sample hooks.  Deadlines are
 * absolute (start + k * interval); a tick that runs late is counted as late, and
 * deadlines that passed without a tick as missed, never shifted.  meta.json is built
 * in core/session-meta.c from the state both share (core/session-int.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/obs-int.h"
#include "core/session-int.h"
#include "faults/faults.h"

/* The built-in sources, one per resource, in samples.csv's column order. */
const struct source_ops *const obs_sources[] = {
    &obs_source_cpu,  &obs_source_mem,      &obs_source_disk, &obs_source_net,
    &obs_source_psi,  &obs_source_workload, &obs_source_gpu,  &obs_source_fs,
    NULL,
};

/* ---- small helpers ------------------------------------------------------------------ */

static char **dup_argv(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **c = calloc(n + 1, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = strdup(v[i])))
            return c; /* partial copy; freed by free_argv */
    return c;
}

static void free_argv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int add_hook(struct hooks *hs, struct hook h)
{
    struct hook *n = realloc(hs->h, (hs->n + 1) * sizeof *n);
    if (!n)
        return -1;
    hs->h = n;
    hs->h[hs->n++] = h;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- construction ------------------------------------------------------------------- */

struct session *session_new(struct moni_loop *loop, const struct session_opts *opts,
                            char *err, size_t errlen, bool *usage_error)
{
    bool dummy;
    if (!usage_error)
        usage_error = &dummy;
    *usage_error = false;
    int64_t iv = opts->interval_ns ? opts->interval_ns : MONI_NS_PER_SEC;
    if (iv < 10 * MONI_NS_PER_MS || iv > 60 * MONI_NS_PER_SEC) {
        snprintf(err, errlen, "--interval: must be between 10ms and 60s");
        *usage_error = true;
        return NULL;
    }
    if (opts->duration_ns < 0) {
        snprintf(err, errlen, "--duration: must be positive");
        *usage_error = true;
        return NULL;
    }
    if (opts->argv && !opts->argv[0]) {
        snprintf(err, errlen, "empty workload command");
        *usage_error = true;
        return NULL;
    }
    if (opts->argv) {
        char path[4096];
        if (obs_which(opts->argv[0], path, sizeof path) < 0) {
            snprintf(err, errlen, "cannot execute %s: %s", opts->argv[0], strerror(errno));
            *usage_error = true;
            return NULL;
        }
    }
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    s->dir_lock = -1;
    s->o = *opts;
    s->o.interval_ns = iv;
    if (s->o.grace_ns <= 0)
        s->o.grace_ns = 5 * MONI_NS_PER_SEC;
    s->out_dir = dup_or_null(opts->out_dir);
    s->experiment = dup_or_null(opts->experiment);
    s->argv = opts->argv ? dup_argv(opts->argv) : NULL;
    s->env_add = opts->env_add ? dup_argv(opts->env_add) : NULL;
    s->o.out_dir = s->out_dir;
    s->o.experiment = s->experiment;
    s->o.argv = s->argv;
    s->o.env_add = s->env_add;
    s->ticker = s->duration_timer = -1;
    s->col_moni_cpu = s->col_lag = -1;
    s->extra = cJSON_CreateObject();
    s->procfiles = obs_procfiles_new();
    s->notes = cJSON_CreateArray();
    s->lifetimes = cJSON_CreateArray();
    frame_init(&s->frame);
    moni_clock_init();
    if (opts->run_id) {
        s->run_id = strdup(opts->run_id);
    } else {
        char host[64] = "host", iso[MONI_ISO_LEN], id[128];
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        moni_fmt_iso(moni_now().real_ns, iso, sizeof iso);
        /* 2026-11-23T20:33:17.123Z -> 20261123T203317Z-host */
        char compact[32];
        size_t k = 0;
        for (size_t i = 0; iso[i] && k < sizeof compact - 1; i++) {
            if (iso[i] == '.') {
                compact[k++] = 'Z';
                break;
            }
            if (iso[i] != '-' && iso[i] != ':')
                compact[k++] = iso[i];
        }
        compact[k] = '\0';
        snprintf(id, sizeof id, "%s-%s-%d", compact, host, (int)getpid());
        s->run_id = strdup(id);
    }
    if (!s->run_id || !s->extra || !s->notes || !s->lifetimes || !s->procfiles || (opts->argv && !s->argv) ||
        (opts->out_dir && !s->out_dir)) {
        session_free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return s;
}

int session_add_source(struct session *s, const struct source_ops *ops, void *arg)
{
    if (s->started)
        return -1;
    struct src_inst *n = realloc(s->src, (s->nsrc + 1) * sizeof *n);
    if (!n)
        return -1;
    s->src = n;
    memset(&s->src[s->nsrc], 0, sizeof *s->src);
    s->src[s->nsrc].ops = ops;
    s->src[s->nsrc].arg = arg;
    s->nsrc++;
    return 0;
}

uint64_t session_write_errors(const struct session *s, const char **first)
{
    if (first)
        *first = s->rec ? obs_rec_first_error(s->rec) : s->write_error;
    return s->rec ? obs_rec_errors(s->rec) : s->write_errors;
}

/* ---- sampling ---------------------------------------------------------------------- */

static void sample_sources(struct session *s, int64_t now)
{
    struct frame *f = &s->frame;
    obs_procfiles_tick(s->procfiles);
    for (size_t i = 0; i < s->nsrc; i++) {
        struct src_inst *si = &s->src[i];
        if (!si->active)
            continue;
        size_t n = si->col_hi - si->col_lo;
        if (si->ops->cadence_ns && si->last_ns && now - si->last_ns < si->ops->cadence_ns) {
            if (si->held) /* values stay in f->val; bring back their validity */
                memcpy(f->valid + si->col_lo, si->held, n);
            continue;
        }
        si->ops->sample(s, si->state, f);
        si->last_ns = now;
        if (si->held)
            memcpy(si->held, f->valid + si->col_lo, n);
    }
}

static void sample_self(struct session *s, int64_t now)
{
    /* the process CPU clock, not getrusage: same figure (all threads), a lighter call */
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
        return;
    int64_t cpu = (int64_t)ts.tv_sec * MONI_NS_PER_SEC + ts.tv_nsec;
    if (s->prev_cpu_at && now > s->prev_cpu_at) {
        s->stats.moni_cpu_pct = 100.0 * (double)(cpu - s->prev_cpu_ns) /
                                (double)(now - s->prev_cpu_at);
        frame_set(&s->frame, s->col_moni_cpu, s->stats.moni_cpu_pct);
    }
    s->prev_cpu_ns = cpu;
    s->prev_cpu_at = now;
}

static void on_tick(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns, uint64_t missed,
                    void *arg)
{
    (void)loop;
    struct session *s = arg;
    if (s->done)
        return;
    int64_t lag = now_ns - deadline_ns;
    int64_t late_after = s->o.interval_ns / 10 > MONI_NS_PER_MS ? s->o.interval_ns / 10
                                                                 : MONI_NS_PER_MS;
    if (missed) {
        s->stats.missed += missed;
        s->stats.gaps++;
    }
    if (lag > late_after)
        s->stats.late++;
    if (lag > s->stats.max_lag_ns)
        s->stats.max_lag_ns = lag;

    struct frame *f = &s->frame;
    frame_clear(f);
    f->t = moni_now();
    f->deadline_ns = deadline_ns;
    f->seq = s->stats.ticks;
    sample_sources(s, f->t.mono_ns);
    sample_self(s, f->t.mono_ns);
    frame_set(f, s->col_lag, (double)lag / 1e6);
    for (size_t i = 0; i < s->on_tick.n; i++)
        s->on_tick.h[i].cb.frame(s, f, s->on_tick.h[i].arg);
    if (s->rec)
        obs_rec_row(s->rec, f);
    s->stats.ticks++;
    for (size_t i = 0; i < s->on_sample.n; i++)
        s->on_sample.h[i].cb.frame(s, f, s->on_sample.h[i].arg);
    if (s->exec)
        obs_exec_running(s->exec); /* reaps when there is no pidfd */
}

/* ---- the workload ----------------------------------------------------------------- */

static void mark_done(struct session *s)
{
    if (s->done)
        return;
    s->done = true;
    s->end = moni_now();
    if (s->ticker >= 0) {
        moni_loop_cancel_timer(s->loop, s->ticker);
        s->ticker = -1;
    }
    if (s->duration_timer >= 0) {
        moni_loop_cancel_timer(s->loop, s->duration_timer);
        s->duration_timer = -1;
    }
    for (size_t i = 0; i < s->on_done.n; i++)
        s->on_done.h[i].cb.event(s, s->on_done.h[i].arg);
}

static void exec_line(void *arg, const char *line, size_t len, size_t term_len, int stream,
                      const struct moni_stamp *t)
{
    struct session *s = arg;
    uint64_t lineno = ++s->w.lines;
    s->w.last_line = *t;
    if (s->rec)
        obs_rec_line(s->rec, line, len, lineno, stream, t);
    for (size_t i = 0; i < s->on_line.n; i++)
        s->on_line.h[i].cb.line(s, line, len - term_len, lineno, stream, t, s->on_line.h[i].arg);
}

/* In-process faults: the preload library and its control block go into the
 * workload's environment (faults/inject.c says why when they cannot). */
static int inject_env(struct session *s)
{
    char exe[4096], *env[3];
    if (obs_which(s->argv[0], exe, sizeof exe) < 0)
        snprintf(exe, sizeof exe, "%s", s->argv[0]);
    s->inject = fault_inject_prepare(s->out_dir, exe, env);
    if (!env[0])
        return 0;
    size_t n = 0;
    while (s->env_add && s->env_add[n])
        n++;
    char **ne = realloc(s->env_add, (n + 4) * sizeof *ne);
    if (!ne) {
        for (int i = 0; i < 3; i++)
            free(env[i]);
        return -1;
    }
    for (int i = 0; i < 3 && env[i]; i++)
        ne[n++] = env[i];
    ne[n] = NULL;
    s->env_add = ne;
    s->o.env_add = ne;
    return 0;
}

static int spawn_workload(struct session *s, char *err, size_t errlen)
{
    if (obs_exec_start(s->exec, err, errlen) < 0)
        return -1;
    s->w.pid = obs_exec_pid(s->exec);
    s->w.running = true;
    s->w.exit_code = 0;
    s->w.exit_signal = 0;
    s->w.started = moni_now();
    s->w.ended = (struct moni_stamp){0, 0};
    s->w.starts++;
    rundir_lifetime_begin(s->lifetimes, &s->w.started, (int)s->w.pid, s->resumed_from);
    if (s->w.starts > 1) {
        session_note(s, "workload restarted (start %u, pid %d)%s%s", s->w.starts,
                     (int)s->w.pid, s->resumed_from ? ", resumed from " : "",
                     s->resumed_from ? s->resumed_from : "");
        session_write_meta(s); /* the lifetimes so far survive a kill of moni */
    }
    return 0;
}

static void exec_exit(void *arg, int wstatus, const struct moni_stamp *t)
{
    struct session *s = arg;
    s->w.running = false;
    s->w.ended = *t;
    if (WIFSIGNALED(wstatus)) {
        s->w.exit_signal = WTERMSIG(wstatus);
        s->w.exit_code = -1;
    } else {
        s->w.exit_signal = 0;
        s->w.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 0;
    }
    /* moni's own stop (duration, quit, a signal to moni) or restart is not a failure;
     * anything else is, and a SIGKILL the kernel log pins on the OOM killer is one */
    s->w.ended_by_moni = s->stopping || s->restart_pending;
    s->w.oom_killed = s->w.exit_signal == SIGKILL && !s->w.ended_by_moni &&
                      det_kmsg_oom_killed(s->w.pid, s->w.started.mono_ns);
    rundir_lifetime_end(s->lifetimes, t, s->w.exit_code, s->w.exit_signal, s->w.ended_by_moni);
    for (size_t i = 0; i < s->on_exit.n; i++)
        s->on_exit.h[i].cb.event(s, s->on_exit.h[i].arg);
    if (s->restart_pending && !s->stopping) {
        s->restart_pending = false;
        char err[256];
        if (spawn_workload(s, err, sizeof err) < 0) {
            session_note(s, "restart failed: %s", err);
            if (!s->o.quiet)
                moni_warn("%s", err);
        }
        return;
    }
    if (s->stopping || !s->o.keep_after_exit) {
        if (!s->stop_why[0])
            snprintf(s->stop_why, sizeof s->stop_why, "workload exited");
        mark_done(s);
    }
}

int session_restart_workload(struct session *s)
{
    return session_restart_workload_with(s, NULL, NULL);
}

int session_restart_workload_with(struct session *s, char *const *extra, const char *resumed_from)
{
    if (!s->exec || !s->started || s->done)
        return -1;
    /* the next start's argv: the run's own, plus extra (e.g. --resume) */
    char **next = NULL;
    size_t n = 0, k = 0;
    while (extra && extra[k])
        k++;
    if (k) {
        while (s->argv[n])
            n++;
        if (!(next = calloc(n + k + 1, sizeof *next)))
            return -1;
        for (size_t i = 0; i < n + k; i++)
            if (!(next[i] = strdup(i < n ? s->argv[i] : extra[i - n]))) {
                free_argv(next);
                return -1;
            }
    }
    obs_exec_set_argv(s->exec, next ? next : s->argv);
    free_argv(s->argv_next);
    s->argv_next = next;
    free(s->resumed_from);
    s->resumed_from = resumed_from ? strdup(resumed_from) : NULL;
    if (s->w.running) {
        s->restart_pending = true;
        obs_exec_stop(s->exec);
        return 0;
    }
    char err[256];
    if (spawn_workload(s, err, sizeof err) < 0) {
        session_note(s, "restart failed: %s", err);
        return -1;
    }
    return 0;
}

int session_stop_workload(struct session *s)
{
    if (!s->exec || !s->w.running)
        return -1;
    s->restart_pending = false;
    obs_exec_stop(s->exec);
    return 0;
}

int session_signal_workload(struct session *s, int signo)
{
    if (!s->exec || !s->w.running)
        return -1;
    return obs_exec_signal(s->exec, signo);
}

/* ---- lifecycle ------------------------------------------------------------------- */

static void duration_up(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns,
                        uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline_ns;
    (void)now_ns;
    (void)missed;
    struct session *s = arg;
    s->duration_timer = -1;
    session_stop(s, "duration");
}

static bool source_enabled(const struct source_ops *ops, const struct session_opts *o)
{
    return !ops->enabled || ops->enabled(o);
}

int session_start(struct session *s, char *err, size_t errlen, bool *usage_error)
{
    bool dummy;
    if (!usage_error)
        usage_error = &dummy;
    *usage_error = false;
    if (s->started) {
        snprintf(err, errlen, "session already started");
        return -1;
    }
    if (s->out_dir) {
        s->rec = obs_rec_open(s->out_dir, s->o.force, err, errlen, usage_error);
        if (!s->rec)
            return -1;
        s->dir_lock = obs_rec_take_lock(s->rec);
    }
    /* Built-in sources first, then the ones others added, in that column order. */
    size_t extra = s->nsrc;
    struct src_inst *all = calloc(extra + MONI_ARRAY_LEN(obs_sources), sizeof *all);
    if (!all) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; obs_sources[i]; i++)
        if (source_enabled(obs_sources[i], &s->o))
            all[k++].ops = obs_sources[i];
    for (size_t i = 0; i < extra; i++)
        if (source_enabled(s->src[i].ops, &s->o))
            all[k++] = s->src[i];
    free(s->src);
    s->src = all;
    s->nsrc = k;
    s->started = true;
    if (s->argv && s->out_dir && s->o.inject && inject_env(s) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (s->argv) {
        s->exec = obs_exec_new(s->loop, s->argv, s->env_add, s->o.grace_ns, exec_line,
                               exec_exit, s);
        if (!s->exec) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    for (size_t i = 0; i < s->nsrc; i++) {
        struct src_inst *si = &s->src[i];
        si->col_lo = s->frame.ncols;
        if (si->ops->init(s, &s->frame, si->arg, &si->state, si->reason, sizeof si->reason) == 0) {
            si->active = true;
            si->col_hi = s->frame.ncols;
            if (si->ops->cadence_ns && si->col_hi > si->col_lo)
                si->held = calloc(si->col_hi - si->col_lo, 1);
        } else {
            si->col_hi = si->col_lo = s->frame.ncols; /* columns of a failed init: none */
            if (!si->reason[0])
                snprintf(si->reason, sizeof si->reason, "unavailable");
            if (!si->ops->optional && !s->o.quiet)
                moni_warn("%s source: %s (its columns are left out)", si->ops->name,
                          si->reason);
        }
    }
    s->col_moni_cpu = frame_add(&s->frame, "moni_cpu_pct", "moni's own CPU, % of one core",
                                METRIC_GAUGE);
    s->col_lag = frame_add(&s->frame, "tick_lag_ms", "how late this row was taken",
                           METRIC_GAUGE);
    if (s->gpu_reason[0] && !s->o.quiet)
        moni_warn("%s", s->gpu_reason);
    if (s->rec && obs_rec_header(s->rec, &s->frame) < 0) {
        snprintf(err, errlen, "%s/samples.csv: cannot write", s->out_dir);
        return -1;
    }
    s->start = moni_now();
    if (s->exec && spawn_workload(s, err, errlen) < 0) {
        *usage_error = true;
        return -1;
    }
    /* Prime the rate counters so the first row already has rates. */
    frame_clear(&s->frame);
    sample_sources(s, s->start.mono_ns);
    sample_self(s, s->start.mono_ns);
    frame_clear(&s->frame);
    session_write_meta(s);
    s->ticker = moni_loop_add_ticker(s->loop, s->o.interval_ns,
                                     s->start.mono_ns + s->o.interval_ns, on_tick, s);
    if (s->ticker < 0) {
        snprintf(err, errlen, "cannot start the sampling timer: %s", strerror(errno));
        return -1;
    }
    if (s->o.duration_ns)
        s->duration_timer = moni_loop_add_timeout(s->loop, s->start.mono_ns + s->o.duration_ns,
                                                  duration_up, s);
    return 0;
}

void session_stop(struct session *s, const char *why)
{
    if (s->done)
        return;
    if (!s->stop_why[0] && why)
        snprintf(s->stop_why, sizeof s->stop_why, "%s", why);
    s->stopping = true;
    s->restart_pending = false;
    if (s->exec && s->w.running)
        obs_exec_stop(s->exec); /* done when it has exited (exec_exit) */
    else
        mark_done(s);
}

bool session_done(const struct session *s)
{
    return s->done;
}

int session_finish(struct session *s)
{
    if (s->finished)
        return s->exit_status;
    if (!s->done) {
        /* Called without a stop: end now, hard. */
        if (!s->stop_why[0])
            snprintf(s->stop_why, sizeof s->stop_why, "finished");
        s->stopping = true;
        mark_done(s);
    }
    if (s->exec) {
        obs_exec_drain(s->exec); /* partial last lines */
        if (s->w.running) {
            s->w.running = false;
            s->w.ended = moni_now();
            s->w.exit_signal = SIGKILL;
            rundir_lifetime_end(s->lifetimes, &s->w.ended, 0, SIGKILL, true);
            session_note(s, "workload still running at the end: killed");
        }
        obs_exec_free(s->exec); /* SIGKILLs what is left of the group, reaps */
        s->exec = NULL;
    }
    int status = 0;
    if (s->argv && s->w.starts) {
        if (s->w.exit_signal && !strcmp(s->stop_why, "duration"))
            status = 0; /* we ended it on schedule: the run is complete */
        else if (s->w.exit_signal)
            status = 128 + s->w.exit_signal;
        else
            status = s->w.exit_code;
    }
    if (s->rec && obs_rec_errors(s->rec)) {
        session_note(s, "%llu write errors in the run directory",
                     (unsigned long long)obs_rec_errors(s->rec));
        if (!s->o.quiet)
            moni_warn("%s: some writes failed", s->out_dir);
    }
    s->finished = true;
    session_write_meta(s);
    if (s->rec) {
        s->write_errors = obs_rec_errors(s->rec);
        snprintf(s->write_error, sizeof s->write_error, "%s", obs_rec_first_error(s->rec));
        obs_rec_close(s->rec);
        s->rec = NULL;
    }
    s->exit_status = status;
    return status;
}

void session_free(struct session *s)
{
    if (!s)
        return;
    if (s->ticker >= 0)
        moni_loop_cancel_timer(s->loop, s->ticker);
    if (s->duration_timer >= 0)
        moni_loop_cancel_timer(s->loop, s->duration_timer);
    if (s->exec)
        obs_exec_free(s->exec);
    for (size_t i = 0; i < s->nsrc; i++) {
        if (s->src[i].active && s->src[i].ops->free)
            s->src[i].ops->free(s->src[i].state);
        free(s->src[i].held);
    }
    free(s->src);
    if (s->rec)
        obs_rec_close(s->rec);
    if (s->dir_lock >= 0)
        close(s->dir_lock);
    frame_free(&s->frame);
    struct hooks *hs[] = {&s->on_tick, &s->on_sample, &s->on_line, &s->on_exit, &s->on_done};
    for (size_t i = 0; i < MONI_ARRAY_LEN(hs); i++)
        free(hs[i]->h);
    cJSON_Delete(s->extra);
    cJSON_Delete(s->inject);
    cJSON_Delete(s->lifetimes);
    free_argv(s->argv_next);
    free(s->resumed_from);
    obs_procfiles_free(s->procfiles);
    cJSON_Delete(s->notes);
    free(s->procs);
    free(s->pids);
    free_argv(s->argv);
    free_argv(s->env_add);
    free(s->out_dir);
    free(s->run_id);
    free(s->experiment);
    free(s);
}

/* ---- accessors and hooks ------------------------------------------------------------ */

const struct frame *session_frame(const struct session *s) { return &s->frame; }
const char *session_run_dir(const struct session *s) { return s->out_dir; }
const char *session_run_id(const struct session *s) { return s->run_id; }
int64_t session_interval_ns(const struct session *s) { return s->o.interval_ns; }
struct moni_loop *session_loop(const struct session *s) { return s->loop; }
bool session_has_workload(const struct session *s) { return s->argv != NULL; }
const struct session_workload *session_workload(const struct session *s) { return &s->w; }
const struct session_stats *session_stats(const struct session *s) { return &s->stats; }

size_t session_procs(const struct session *s, const struct obs_proc **procs)
{
    *procs = s->procs;
    return s->nprocs;
}

size_t session_pids(const struct session *s, const pid_t **pids)
{
    *pids = s->pids;
    return s->npids;
}

size_t session_gpus(const struct session *s, const struct session_gpu **gpus)
{
    *gpus = s->gpus;
    return s->ngpus;
}

const char *session_gpu_backend(const struct session *s)
{
    return s->gpu_backend[0] ? s->gpu_backend : NULL;
}

const char *obs_session_procfile(struct session *s, enum obs_procfile which)
{
    return obs_procfiles_text(s->procfiles, which);
}

const char *session_gpu_reason(const struct session *s)
{
    return s->gpu_reason[0] ? s->gpu_reason : NULL;
}

const char *session_gpu_driver(const struct session *s)
{
    return s->gpu_driver;
}

void obs_session_set_procs(struct session *s, const struct obs_proc *procs, size_t n)
{
    if (n > s->capprocs) {
        struct obs_proc *p = realloc(s->procs, n * sizeof *p);
        pid_t *q = realloc(s->pids, n * sizeof *q);
        if (p)
            s->procs = p;
        if (q)
            s->pids = q;
        if (!p || !q)
            return;
        s->capprocs = n;
    }
    if (n)
        memcpy(s->procs, procs, n * sizeof *procs);
    for (size_t i = 0; i < n; i++)
        s->pids[i] = procs[i].pid;
    s->nprocs = s->npids = n;
}

void obs_session_set_gpus(struct session *s, const char *backend, const char *reason,
                          const char *driver, const struct session_gpu *gpus, size_t n)
{
    snprintf(s->gpu_backend, sizeof s->gpu_backend, "%s", backend ? backend : "");
    snprintf(s->gpu_reason, sizeof s->gpu_reason, "%s", reason ? reason : "");
    snprintf(s->gpu_driver, sizeof s->gpu_driver, "%s", driver ? driver : "");
    if (n > OBS_GPU_MAX)
        n = OBS_GPU_MAX;
    if (n)
        memcpy(s->gpus, gpus, n * sizeof *gpus);
    s->ngpus = n;
    s->gpu_known = true;
}

void obs_session_set_gpu_restarts(struct session *s, unsigned n)
{
    s->gpu_restarts = n;
}

int session_on_tick(struct session *s, session_frame_cb cb, void *arg)
{
    return add_hook(&s->on_tick, (struct hook){.cb.frame = cb, .arg = arg});
}
int session_on_sample(struct session *s, session_frame_cb cb, void *arg)
{
    return add_hook(&s->on_sample, (struct hook){.cb.frame = cb, .arg = arg});
}
int session_on_line(struct session *s, session_line_cb cb, void *arg)
{
    return add_hook(&s->on_line, (struct hook){.cb.line = cb, .arg = arg});
}
int session_on_exit(struct session *s, session_event_cb cb, void *arg)
{
    return add_hook(&s->on_exit, (struct hook){.cb.event = cb, .arg = arg});
}
int session_on_done(struct session *s, session_event_cb cb, void *arg)
{
    return add_hook(&s->on_done, (struct hook){.cb.event = cb, .arg = arg});
}
