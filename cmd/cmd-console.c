/* cmd/cmd-console.c — `moni [console options] [-- CMD ARGS...]`: the full-screen
 * console on a live run.  Options are parsed and checked before anything starts;
 * the terminal is restored before any message is printed. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "tui/tui.h"

struct console_args {
    const char *plan, *out, *theme, *interval, *metrics_listen;
    bool ascii;
    char **cmd; /* after "--", or NULL */
};

static void read_args(const struct cmd_args *c, struct console_args *a)
{
    a->plan = cmd_arg(c, "plan");
    a->out = cmd_arg(c, "out");
    a->theme = cmd_arg(c, "theme");
    a->interval = cmd_arg(c, "interval");
    a->metrics_listen = cmd_arg(c, "metrics-listen");
    a->ascii = cmd_flag(c, "ascii");
    a->cmd = c->cmd;
}

/* ---- hidden redraw benchmark (MONI_TUI_BENCH=N): N full redraws after 2 s ---------- */
struct bench {
    struct tui *ui;
    long frames;
    double ms_per_frame;
};

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

/* With --plan: the plan's experiment queue (core/queue.c).  The console runs the
 * queue's current item in its own view and reports the result, so runs.csv and the
 * run directory (OUT/EXPERIMENT) are the same as `moni run --plan` makes. */
struct console_plan {
    struct plan *plan;
    struct queue *queue;
    long item;                          /* the claimed item, -1 if none */
    struct queue_item_info info;
};

static int plan_open(struct console_plan *cp, const char *path, const char *out,
                     struct moni_loop *loop)
{
    char err[1024];
    cp->item = -1;
    cp->plan = plan_load(path, false, err, sizeof err);
    if (!cp->plan) {
        moni_err("%s", err);
        return MONI_EXIT_USAGE;
    }
    if (cp->plan->nexps == 0) {
        moni_err("%s: the plan has no experiments", path);
        return MONI_EXIT_USAGE;
    }
    struct queue_opts qo = {.out = out, .quiet = true};
    cp->queue = queue_new(loop, &cp->plan, 1, &qo, err, sizeof err);
    if (!cp->queue) {
        moni_err("%s", err);
        return MONI_EXIT_FAIL;
    }
    cp->item = queue_current(cp->queue);
    if (cp->item < 0 || queue_claim(cp->queue, (size_t)cp->item) < 0 ||
        !queue_item(cp->queue, (size_t)cp->item, &cp->info)) {
        moni_err("%s: no experiment left to run", path);
        return MONI_EXIT_FAIL;
    }
    return MONI_EXIT_OK;
}

/* Reports the claimed item's end (runs.csv) and frees everything. */
static void plan_close(struct console_plan *cp, const struct tui_live *live, int status)
{
    if (cp->queue && cp->item >= 0 && live && live->run) {
        const struct session_workload *w = session_workload(runner_session(live->run));
        queue_report(cp->queue, (size_t)cp->item, status, runner_fired(live->run), !w->starts);
    }
    queue_free(cp->queue);
    plan_free(cp->plan);
    memset(cp, 0, sizeof *cp);
}

/* The workload: CMD, the plan's, or moni-train writing its checkpoints in the run;
 * NULL after an error.  def_argv, train and ckpt hold the default one. */
static char **pick_workload(char **cmd, const struct plan_experiment *exp, const char *out,
                            char *def_argv[], char train[512], char ckpt[600])
{
    if (cmd)
        return cmd;
    if (exp && exp->argv)
        return exp->argv;
    if (moni_find_program("moni-train", train, 512) != 0) {
        moni_err("moni-train not found next to moni or in $PATH; give a workload after '--'");
        return NULL;
    }
    snprintf(ckpt, 600, "%s/checkpoints", out);
    def_argv[0] = train;
    def_argv[1] = "--output-dir";
    def_argv[2] = ckpt;
    def_argv[3] = NULL;
    return def_argv;
}

/* The screen on a started live run until the user quits; returns the exit status. */
static int console_view(struct tui_live *live, struct moni_loop *loop, struct tui_model *model,
                        const struct console_args *a, const char *out)
{
    struct tui_actions act;
    tui_live_actions(live, &act);
    static struct tui ui;
    char cast[600], err[1024];
    snprintf(cast, sizeof cast, "%s/session.cast", out);
    struct tui_opts to = {.theme = a->theme, .ascii = a->ascii, .cast_path = cast};
    if (tui_open(&ui, loop, model, &act, &to, err, sizeof err) != 0) {
        tui_live_finish(live);
        moni_err("%s", err);
        return MONI_EXIT_FAIL;
    }
    tui_live_attach(live, &ui);
    struct bench b = {.ui = &ui};
    const char *bench = getenv("MONI_TUI_BENCH");
    if (bench && atol(bench) > 0) {
        b.frames = atol(bench);
        moni_loop_add_timeout(loop, moni_mono_ns() + 2 * MONI_NS_PER_SEC, bench_run, &b);
    }
    if (moni_loop_run(loop) != 0) {
        tui_close(&ui);
        moni_err("event loop failed");
    }
    tui_close(&ui); /* the terminal first, then anything that may print */
    int status = tui_live_finish(live); /* faults reverted, files and dataset finished */
    if (b.frames)
        fprintf(stderr, "redraw %dx%d: %ld frames, %.3f ms/frame\n", ui.cols, ui.lines, b.frames,
                b.ms_per_frame);
    fprintf(stderr, "moni: run saved in %s\n", out);
    return status;
}

static int cmd_console_exec(struct cmd_args *ca)
{
    /* Before any thread exists (recorder, GPU poller, screen pump): the loop takes
     * these through its signalfd, and a thread with them unblocked would swallow
     * them (SIGWINCH into ncurses' handler, SIGTERM killing us without cleanup). */
    tui_block_signals();
    struct console_args a;
    read_args(ca, &a);
    if (cmd_prometheus_sd(ca) < 0)
        return MONI_EXIT_USAGE;
    int64_t interval = 0;
    char err[1024];
    if (a.interval && moni_parse_duration(a.interval, &interval, err, sizeof err) != 0) {
        moni_err("--interval: %s", err);
        return MONI_EXIT_USAGE;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        moni_err("the console needs a terminal (use 'moni run' or 'moni record' headless)");
        return MONI_EXIT_USAGE;
    }
    char out[512];
    if (a.out) {
        snprintf(out, sizeof out, "%s", a.out);
    } else {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, sizeof out, "runs/%Y%m%dT%H%M%SZ", &tm);
    }
    struct moni_loop *loop = moni_loop_new();
    if (!loop) {
        moni_err("cannot create the event loop");
        return MONI_EXIT_FAIL;
    }
    struct console_plan cp = {.item = -1};
    int status = a.plan ? plan_open(&cp, a.plan, out, loop) : MONI_EXIT_OK;
    const struct plan_experiment *exp = cp.item >= 0 ? cp.info.exp : NULL;
    if (exp)
        snprintf(out, sizeof out, "%s", cp.info.dir); /* the item's run directory */
    if (!interval && exp)
        interval = exp->interval_ns;
    char train[512], ckpt[600], *def_argv[5];
    char **wargv = status ? NULL : pick_workload(a.cmd, exp, out, def_argv, train, ckpt);
    if (!wargv) {
        plan_close(&cp, NULL, 0);
        moni_loop_free(loop);
        return status ? status : MONI_EXIT_FAIL;
    }
    static struct tui_model model; /* large: keep it off the stack */
    tui_model_init(&model);
    struct tui_live live;
    bool usage = false;
    struct tui_live_opts lo = {.out_dir = out, .interval_ns = interval, .argv = wargv,
                               .metrics_listen = a.metrics_listen, .plan_exp = exp,
                               .plan_name = cp.plan ? cp.plan->name : NULL};
    if (tui_live_start(&live, loop, &model, &lo, err, sizeof err, &usage) != 0) {
        moni_err("%s", err);
        tui_live_finish(&live);
        status = usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    } else {
        status = console_view(&live, loop, &model, &a, out);
    }
    plan_close(&cp, &live, status);
    tui_live_free(&live);
    moni_loop_free(loop);
    tui_model_free(&model);
    return status;
}

static const struct cmd_opt console_opts[] = {
    {"plan", 0, "FILE", 0, "run the plan's next experiment (moni-plan(5))"},
    {"out", 0, "DIR", 0, "run directory (default runs/TIME)"},
    {"theme", 0, "NAME", 0, "colour theme"},
    {"interval", 0, "D", 0, "sampling period (default 1s)"},
    {"ascii", 0, NULL, 0, "ASCII only, no line-drawing characters"},
    {"metrics-listen", 0, "[ADDR:]PORT", 0, "serve Prometheus /metrics here"},
    CMD_PROMETHEUS_SD_OPT,
    {0},
};

const struct cmd_entry cmd_console_entry = {
    .name = "console",
    .usage = "[--plan FILE] [--out DIR] [--theme NAME] [--interval D] [--ascii] "
             "[--metrics-listen [ADDR:]PORT] [--prometheus-sd FILE] [-- CMD ARGS...]",
    .summary = "full-screen console (default when no command is given)",
    .args = {.opts = console_opts, .command = true},
    .exec = cmd_console_exec,
};
