/* tui/plan-run.c — the live console's session: one live run (tui/console.c) at a
 * time on one screen, and a plan's experiment queue (core/queue.c, the same queue
 * `moni run --plan` drives) run in turn.  The console claims the queue's current
 * item, runs it in its own view and reports how it ended; then it starts the next
 * one, after the finished one's cooldown.  Switching runs happens between passes
 * of the loop (moni_loop_run returns when a run is done), never inside a callback
 * of the run being torn down.  Also the plan keys: load, run, skip, abort. */
#include <errno.h>
#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/tui.h"

struct bench { /* hidden redraw benchmark (MONI_TUI_BENCH=N): N full redraws after 2 s */
    struct tui *ui;
    long frames;
    double ms_per_frame;
};

struct tui_console {
    struct tui_console_opts o;
    struct moni_loop *loop;
    struct tui_model *m;
    struct tui *ui;
    struct tui_live live;
    bool live_on;              /* live holds a started run, not finished yet */
    char first_dir[PATH_MAX];  /* the first run's directory (session.cast) */
    int last_status;
    /* the plan */
    struct plan *plan;
    struct queue *queue;
    char plan_out[PATH_MAX];
    long item;                 /* the queue item in the live view, -1 */
    struct plan_experiment *run_exp; /* its experiment with {run_dir} expanded */
    bool plan_running;         /* start items in turn */
    bool plan_failed;          /* an item failed: exit 1 */
    bool cmd_for_plan;         /* --plan with -- CMD: CMD runs every experiment */
    int64_t next_at;           /* no start before: the finished item's cooldown */
    int wait_timer;
    /* the default workload: moni-train writing its checkpoints in the run */
    char train[512], ckpt[PATH_MAX + 16];
    char *def_argv[4];
    struct bench bench;
};

/* ---- one run ------------------------------------------------------------------------ */

/* The workload: the console's CMD (for a plan loaded live, only its own run), the
 * experiment's, or moni-train.  NULL with err. */
static char *const *pick_workload(struct tui_console *c, const struct plan_experiment *exp,
                                  const char *dir, char *err, size_t errlen)
{
    if (c->o.cmd && (!exp || c->cmd_for_plan))
        return c->o.cmd;
    if (exp && exp->argv)
        return exp->argv;
    if (moni_find_program("moni-train", c->train, sizeof c->train) != 0) {
        snprintf(err, errlen, "moni-train not found next to moni or in $PATH; give a workload after '--'");
        return NULL;
    }
    snprintf(c->ckpt, sizeof c->ckpt, "%s/checkpoints", dir);
    c->def_argv[0] = c->train;
    c->def_argv[1] = "--output-dir";
    c->def_argv[2] = c->ckpt;
    c->def_argv[3] = NULL;
    return c->def_argv;
}

/* A fresh model and view for a new run (the plan and preset views stay open). */
static void reset_view(struct tui_console *c)
{
    tui_model_free(c->m);
    tui_model_init(c->m);
    if (!c->ui)
        return;
    struct tui *ui = c->ui;
    ui->fault_sel = ui->proc_sel = ui->ev_scroll = ui->raw_scroll = 0;
    ui->raw_newest = 0;
    ui->paused = false;
    if (ui->overlay != TUI_O_QUEUE && ui->overlay != TUI_O_PRESETS && ui->overlay != TUI_O_CMDLINE &&
        ui->overlay != TUI_O_HELP && ui->overlay != TUI_O_TOO_SMALL)
        ui->overlay = TUI_O_NONE;
    memset(ui->armed, 0, sizeof ui->armed);
    ui->view_dirty = true;
}

/* Starts a live run in dir; -1 with err (*usage for bad input). */
static int start_live(struct tui_console *c, const char *dir, const struct plan_experiment *exp,
                      char *err, size_t errlen, bool *usage)
{
    plan_experiment_in_free(c->run_exp); /* the last run's; that run is freed */
    c->run_exp = exp ? plan_experiment_in(exp, dir) : NULL;
    if (exp && !c->run_exp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    exp = c->run_exp;
    char *const *argv = pick_workload(c, exp, dir, err, errlen);
    if (!argv)
        return -1;
    reset_view(c);
    struct tui_live_opts lo = {
        .out_dir = dir,
        .interval_ns = c->o.interval_ns ? c->o.interval_ns : exp ? exp->interval_ns : 0,
        .argv = argv,
        .metrics_listen = c->o.metrics_listen,
        .plan_exp = exp,
        .plan_name = exp && c->plan ? c->plan->name : NULL,
        .end_with_workload = exp != NULL,
    };
    if (tui_live_start(&c->live, c->loop, c->m, &lo, err, errlen, usage) != 0) {
        tui_live_finish(&c->live);
        tui_live_free(&c->live);
        return -1;
    }
    c->live_on = true;
    if (!c->first_dir[0])
        snprintf(c->first_dir, sizeof c->first_dir, "%s", dir);
    if (c->ui) {
        tui_live_actions(&c->live, &c->ui->act);
        tui_live_attach(&c->live, c->ui);
    }
    return 0;
}

/* Finishes the run in the view (files, dataset) and reports the queue item. */
static void finish_live(struct tui_console *c)
{
    if (!c->live_on)
        return;
    int status = tui_live_finish(&c->live);
    c->last_status = status;
    if (c->item >= 0 && c->queue && c->live.run) {
        const struct session_workload *w = session_workload(runner_session(c->live.run));
        queue_report(c->queue, (size_t)c->item, status, runner_fired(c->live.run), !w->starts);
        struct queue_item_info info;
        if (queue_item(c->queue, (size_t)c->item, &info) && info.state == QUEUE_ITEM_DONE) {
            c->plan_failed |= !strcmp(info.outcome, "failed") || !strcmp(info.outcome, "could_not_start");
            c->next_at = moni_mono_ns() + info.exp->cooldown_ns;
        }
    }
    tui_live_free(&c->live);
    c->live_on = false;
    c->item = -1;
}

/* ---- between runs --------------------------------------------------------------------- */

static void idle_quit(void *ctx)
{
    struct tui_console *c = ctx;
    moni_loop_stop(c->loop);
}

/* No run in the view: the last one stays on screen, read-only; q quits. */
static void go_idle(struct tui_console *c)
{
    c->ui->act = (struct tui_actions){.ctx = c, .quit = idle_quit};
    c->m->recording = false;
    c->m->active_faults = 0;
    c->m->version++;
}

static void on_wait(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    (void)deadline;
    (void)now;
    (void)missed;
    struct tui_console *c = arg;
    c->wait_timer = -1;
    moni_loop_stop(loop); /* the session loop starts the next item */
}

static void wait_until(struct tui_console *c, int64_t at)
{
    if (c->wait_timer >= 0)
        moni_loop_cancel_timer(c->loop, c->wait_timer);
    c->wait_timer = moni_loop_add_timeout(c->loop, at, on_wait, c);
}

/* Claims the queue's current item and starts it.  -1: nothing to start now. */
static int start_item(struct tui_console *c, char *err, size_t errlen, bool *usage)
{
    long k = queue_current(c->queue);
    struct queue_item_info info;
    if (k < 0 || queue_claim(c->queue, (size_t)k) != 0 || !queue_item(c->queue, (size_t)k, &info)) {
        snprintf(err, errlen, "no experiment left to run");
        return -1;
    }
    c->item = k;
    if (start_live(c, info.dir, info.exp, err, errlen, usage) != 0) {
        queue_report(c->queue, (size_t)k, MONI_EXIT_FAIL, 0, true);
        c->plan_failed = true;
        c->item = -1;
        return -1;
    }
    return 0;
}

/* After a run ended: the next item of a running plan, now or after its cooldown. */
static void start_next(struct tui_console *c)
{
    struct queue_progress qp;
    if (!c->queue || !c->plan_running)
        return;
    queue_progress(c->queue, &qp);
    if (qp.interrupted) {
        c->plan_running = false;
        return;
    }
    int64_t now = moni_mono_ns();
    if (now < c->next_at) {
        wait_until(c, c->next_at);
        return;
    }
    if (queue_current(c->queue) < 0) {
        bool pending = false;
        for (size_t i = 0; i < queue_len(c->queue); i++) {
            struct queue_item_info info;
            pending |= queue_item(c->queue, i, &info) && info.state == QUEUE_ITEM_PENDING;
        }
        if (pending) { /* a retry's backoff */
            wait_until(c, now + MONI_NS_PER_SEC);
        } else {
            c->plan_running = false;
            tui_status(c->ui, c->plan_failed, "plan %s done: %zu of %zu run; q quits", c->plan->name,
                       qp.finished, qp.total);
        }
        return;
    }
    char err[1024] = "";
    bool usage = false;
    if (start_item(c, err, sizeof err, &usage) != 0) {
        tui_status(c->ui, true, "plan: %.180s", err);
        wait_until(c, now); /* on to the next one */
        return;
    }
    struct queue_item_info info;
    if (queue_item(c->queue, (size_t)c->item, &info))
        tui_status(c->ui, false, "plan %s: running %s (%zu of %zu)", c->plan->name, info.name,
                   qp.finished + 1, qp.total);
}

/* The loop stopped without a quit: a run ended, or a plan item may start.  false:
 * end the console (a run without a plan ended by itself, as before plans). */
static bool advance(struct tui_console *c)
{
    bool had_run = c->live_on;
    finish_live(c);
    if (!c->queue)
        return !had_run;
    start_next(c);
    if (!c->live_on)
        go_idle(c);
    return true;
}

/* Stops the run in the view (the loop returns when it is done). */
static void stop_live(struct tui_console *c, const char *why)
{
    if (!c->live_on) {
        moni_loop_stop(c->loop);
        return;
    }
    runner_fault_stop_all(c->live.run);
    c->live.user_quit = true;
    runner_stop(c->live.run, why);
    if (runner_done(c->live.run))
        moni_loop_stop(c->loop);
}

/* ---- the plan ------------------------------------------------------------------------- */

static int open_queue(struct tui_console *c, struct plan *p, const char *out, char *err,
                      size_t errlen)
{
    if (c->queue)
        queue_write_runs_csv(c->queue);
    queue_free(c->queue);
    plan_free(c->plan);
    c->plan = p; /* the queue keeps &c->plan */
    struct queue_opts qo = {.out = out, .quiet = true};
    c->queue = queue_new(c->loop, &c->plan, 1, &qo, err, errlen);
    if (!c->queue) {
        plan_free(c->plan);
        c->plan = NULL;
        return -1;
    }
    c->plan_running = false;
    c->plan_failed = false;
    c->next_at = 0;
    snprintf(c->plan_out, sizeof c->plan_out, "%s", out);
    return 0;
}

static struct plan *load_plan(const char *path, char *err, size_t errlen)
{
    struct plan *p = plan_load(path, false, err, errlen);
    if (p && p->nexps == 0) {
        snprintf(err, errlen, "%s: the plan has no experiments", path);
        plan_free(p);
        return NULL;
    }
    return p;
}

int tui_plan_load(struct tui *ui, const char *path, char *err, size_t errlen)
{
    struct tui_console *c = ui->con;
    if (!c) {
        snprintf(err, errlen, "plans run in a live console only");
        return -1;
    }
    if (c->plan_running && (c->item >= 0 || c->wait_timer >= 0)) {
        snprintf(err, errlen, "plan %s is running (A aborts it first)", c->plan->name);
        return -1;
    }
    struct plan *p = load_plan(path, err, errlen);
    if (!p)
        return -1;
    /* beside the console's first run (or --plan's directory): RUN-PLAN, RUN-PLAN-2 */
    const char *base = c->o.plan_path ? c->o.out : c->first_dir;
    char out[PATH_MAX];
    struct stat st;
    snprintf(out, sizeof out, "%s-%s", base, p->name);
    for (int k = 2; stat(out, &st) == 0 && k < 1000; k++)
        snprintf(out, sizeof out, "%s-%s-%d", base, p->name, k);
    return open_queue(c, p, out, err, errlen);
}

bool tui_plan_view(const struct tui *ui, struct tui_plan_view *v)
{
    const struct tui_console *c = ui->con;
    memset(v, 0, sizeof *v);
    v->running = -1;
    if (!c || !c->queue)
        return false;
    struct queue_progress qp;
    queue_progress(c->queue, &qp);
    v->name = c->plan->name;
    v->dir = c->plan_out;
    v->n = qp.total;
    v->finished = qp.finished;
    v->running = c->item;
    v->started = c->plan_running;
    v->aborted = qp.interrupted;
    v->waiting = c->plan_running && c->item < 0;
    v->eta_s = qp.eta_s;
    if (c->item >= 0 && c->live_on)
        runner_progress(c->live.run, &v->elapsed_s, &v->planned_s);
    return true;
}

bool tui_plan_item(const struct tui *ui, size_t idx, const char **name, const char **state,
                   const char **outcome, int *exit_status)
{
    const struct tui_console *c = ui->con;
    struct queue_item_info info;
    if (!c || !c->queue || !queue_item(c->queue, idx, &info))
        return false;
    *name = info.name;
    *outcome = info.state == QUEUE_ITEM_DONE ? info.outcome : "";
    *exit_status = info.exit;
    struct queue_progress qp;
    queue_progress(c->queue, &qp);
    if (info.state == QUEUE_ITEM_PENDING)
        *state = qp.interrupted ? "not run" : "queued";
    else if (info.state == QUEUE_ITEM_RUNNING)
        *state = "running";
    else if (!strcmp(info.outcome, "skipped"))
        *state = "skipped";
    else if (!strcmp(info.outcome, "completed") || !strcmp(info.outcome, "failed_as_injected"))
        *state = "done";
    else if (!strcmp(info.outcome, "interrupted"))
        *state = "aborted";
    else
        *state = "failed";
    return true;
}

/* ---- plan keys and commands ------------------------------------------------------------ */

static struct tui_console *need_plan(struct tui *ui)
{
    if (!ui->con || !ui->con->queue) {
        tui_status(ui, true, "no plan loaded (L or :plan FILE loads one)");
        return NULL;
    }
    return ui->con;
}

void tui_key_plan(struct tui *ui, int key)
{
    (void)key;
    if (!ui->cmd_arg) { /* the file is typed on the command line, where Tab completes it */
        tui_cmdline_open(ui, "plan ");
        return;
    }
    char err[1024] = "";
    if (tui_plan_load(ui, ui->cmd_arg, err, sizeof err) != 0) {
        tui_status(ui, true, "plan: %.190s", err);
        return;
    }
    ui->queue_sel = 0;
    ui->overlay = TUI_O_QUEUE;
    tui_status(ui, false, "plan %s: %zu runs into %s; r runs them", ui->con->plan->name,
               queue_len(ui->con->queue), ui->con->plan_out);
}

void tui_key_plan_run(struct tui *ui, int key)
{
    (void)key;
    struct tui_console *c = need_plan(ui);
    if (!c)
        return;
    struct queue_progress qp;
    queue_progress(c->queue, &qp);
    if (c->plan_running) {
        tui_status(ui, true, "plan %s is running already", c->plan->name);
    } else if (qp.interrupted) {
        tui_status(ui, true, "plan %s was aborted (:plan FILE loads it again)", c->plan->name);
    } else if (queue_current(c->queue) < 0) {
        tui_status(ui, true, "plan %s: nothing left to run", c->plan->name);
    } else {
        c->plan_running = true;
        c->next_at = 0;
        tui_status(ui, false, "plan %s: starting%s", c->plan->name,
                   c->live_on ? " (this run ends first)" : "");
        stop_live(c, "plan started");
    }
}

/* The item an argument names (1-based number or name), else the selected one. */
static long arg_item(struct tui *ui, const struct tui_console *c)
{
    if (!ui->cmd_arg)
        return (long)ui->queue_sel;
    char *end;
    long k = strtol(ui->cmd_arg, &end, 10);
    if (end != ui->cmd_arg && !*end)
        return k - 1;
    for (size_t i = 0; i < queue_len(c->queue); i++) {
        struct queue_item_info info;
        if (queue_item(c->queue, i, &info) && !strcmp(info.name, ui->cmd_arg))
            return (long)i;
    }
    return -1;
}

void tui_key_plan_skip(struct tui *ui, int key)
{
    (void)key;
    struct tui_console *c = need_plan(ui);
    if (!c)
        return;
    long k = arg_item(ui, c);
    struct queue_item_info info;
    if (k < 0 || !queue_item(c->queue, (size_t)k, &info)) {
        tui_status(ui, true, "skip: no experiment %s in the plan", ui->cmd_arg ? ui->cmd_arg : "selected");
        return;
    }
    if (queue_skip(c->queue, (size_t)k) != 0) {
        tui_status(ui, true, "skip: %s is done already", info.name);
        return;
    }
    if (k == c->item) /* reported as skipped when its run is done */
        stop_live(c, "skipped");
    tui_status(ui, false, "%s skipped", info.name);
}

void tui_key_plan_abort(struct tui *ui, int key)
{
    (void)key;
    struct tui_console *c = need_plan(ui);
    if (!c)
        return;
    queue_abort(c->queue, "aborted");
    c->plan_running = false;
    if (c->wait_timer >= 0)
        moni_loop_cancel_timer(c->loop, c->wait_timer);
    c->wait_timer = -1;
    if (c->item >= 0)
        stop_live(c, "plan aborted");
    queue_write_runs_csv(c->queue);
    tui_status(ui, false, "plan %s aborted: nothing more starts", c->plan->name);
}

/* ---- the session ----------------------------------------------------------------------- */

static void bench_run(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline;
    (void)now;
    (void)missed;
    struct bench *b = arg;
    int64_t t0 = moni_mono_ns();
    for (long i = 0; i < b->frames; i++) {
        clearok(curscr, TRUE); /* a full repaint, as after a resize */
        tui_draw(b->ui);
    }
    b->ms_per_frame = (double)(moni_mono_ns() - t0) / 1e6 / (double)b->frames;
    tui_key(b->ui, 'X');
    tui_key(b->ui, 'q');
}

/* The first run: the plan's current item (--plan), or one run in o->out. */
static int first_run(struct tui_console *c)
{
    char err[1024] = "";
    bool usage = false;
    if (c->o.plan_path) {
        struct plan *p = load_plan(c->o.plan_path, err, sizeof err);
        if (!p) {
            moni_err("%s", err);
            return MONI_EXIT_USAGE;
        }
        if (open_queue(c, p, c->o.out, err, sizeof err) != 0) {
            moni_err("%s", err);
            return MONI_EXIT_FAIL;
        }
        c->plan_running = true;
        c->cmd_for_plan = true;
        if (start_item(c, err, sizeof err, &usage) != 0) {
            moni_err("%s", err);
            return usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
        }
        return MONI_EXIT_OK;
    }
    if (start_live(c, c->o.out, NULL, err, sizeof err, &usage) != 0) {
        moni_err("%s", err);
        return usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    return MONI_EXIT_OK;
}

static void console_free(struct tui_console *c)
{
    if (c->live_on)
        finish_live(c);
    if (c->queue)
        queue_write_runs_csv(c->queue);
    queue_free(c->queue);
    plan_experiment_in_free(c->run_exp);
    plan_free(c->plan);
    c->queue = NULL;
    c->plan = NULL;
    c->run_exp = NULL;
}

/* The screen until the user quits; the runs switch between loop passes. */
static void console_loop(struct tui_console *c)
{
    for (;;) {
        if (moni_loop_run(c->loop) != 0) {
            tui_close(c->ui);
            moni_err("event loop failed");
            return;
        }
        moni_loop_resume(c->loop); /* a stop asked for while switching stays asked */
        if (c->ui->quitting || !advance(c))
            return;
    }
}

int tui_console_run(const struct tui_console_opts *o)
{
    static struct tui_console con; /* large (the model, the view): off the stack */
    static struct tui_model model;
    static struct tui ui;
    struct tui_console *c = &con;
    memset(c, 0, sizeof *c);
    c->o = *o;
    c->item = -1;
    c->wait_timer = -1;
    c->m = &model;
    c->loop = moni_loop_new();
    if (!c->loop) {
        moni_err("cannot create the event loop");
        return MONI_EXIT_FAIL;
    }
    tui_model_init(&model);
    int status = first_run(c);
    if (status != MONI_EXIT_OK) {
        console_free(c);
        moni_loop_free(c->loop);
        tui_model_free(&model);
        return status;
    }
    struct tui_actions act;
    tui_live_actions(&c->live, &act);
    char cast[PATH_MAX + 16], err[1024];
    snprintf(cast, sizeof cast, "%s/session.cast", c->first_dir);
    struct tui_opts to = {.theme = o->theme, .ascii = o->ascii, .cast_path = cast};
    if (tui_open(&ui, c->loop, &model, &act, &to, err, sizeof err) != 0) {
        console_free(c);
        moni_err("%s", err);
        moni_loop_free(c->loop);
        tui_model_free(&model);
        return MONI_EXIT_FAIL;
    }
    c->ui = &ui;
    ui.con = c;
    tui_live_attach(&c->live, &ui);
    c->bench.ui = &ui;
    const char *bench = getenv("MONI_TUI_BENCH");
    if (bench && atol(bench) > 0) {
        c->bench.frames = atol(bench);
        moni_loop_add_timeout(c->loop, moni_mono_ns() + 2 * MONI_NS_PER_SEC, bench_run, &c->bench);
    }
    console_loop(c);
    tui_close(&ui); /* the terminal first, then anything that may print */
    bool had_plan = c->queue != NULL;
    console_free(c); /* faults reverted, files and dataset finished, runs.csv */
    status = c->last_status;
    if (had_plan && c->plan_failed && status == MONI_EXIT_OK)
        status = MONI_EXIT_FAIL;
    if (c->bench.frames)
        fprintf(stderr, "redraw %dx%d: %ld frames, %.3f ms/frame\n", ui.cols, ui.lines, c->bench.frames,
                c->bench.ms_per_frame);
    if (!o->plan_path)
        fprintf(stderr, "moni: run saved in %s\n", c->first_dir);
    if (had_plan)
        fprintf(stderr, "moni: plan runs saved in %s\n", c->plan_out);
    ui.con = NULL;
    moni_loop_free(c->loop);
    tui_model_free(&model);
    return status;
}
