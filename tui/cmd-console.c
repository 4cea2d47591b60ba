/* tui/cmd-console.c — `moni [console options] [-- CMD ARGS...]`: the full-screen
 * console on a live run.  Options are parsed and checked before anything starts;
 * the terminal is restored before any message is printed. */
#include <curses.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/tui.h"

struct console_args {
    const char *plan, *out, *theme, *interval, *metrics_listen;
    bool ascii;
    char **cmd; /* after "--", or NULL */
};

static int parse_args(int argc, char **argv, struct console_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--")) {
            if (i + 1 < argc)
                a->cmd = argv + i + 1;
            return 0;
        }
        if (!strcmp(argv[i], "--ascii")) {
            a->ascii = true;
            continue;
        }
        static const struct { const char *name; size_t off; } opts[] = {
            {"--plan", offsetof(struct console_args, plan)},
            {"--out", offsetof(struct console_args, out)},
            {"--theme", offsetof(struct console_args, theme)},
            {"--interval", offsetof(struct console_args, interval)},
            {"--metrics-listen", offsetof(struct console_args, metrics_listen)},
        };
        bool matched = false;
        for (size_t k = 0; k < MONI_ARRAY_LEN(opts) && !matched; k++) {
            /* exact name or name=..., not a longer option sharing the prefix */
            size_t n = strlen(opts[k].name);
            if (strncmp(argv[i], opts[k].name, n) || (argv[i][n] && argv[i][n] != '='))
                continue;
            r = moni_opt_value(argc, argv, &i, opts[k].name, &v);
            if (r < 0)
                return -1;
            if (r > 0) {
                *(const char **)((char *)a + opts[k].off) = v;
                matched = true;
            }
        }
        if (!matched) {
            moni_err("unknown console option '%s' (see 'moni help')", argv[i]);
            return -1;
        }
    }
    return 0;
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

static int cmd_console_exec(int argc, char **argv)
{
    /* Before any thread exists (recorder, GPU poller, screen pump): the loop takes
     * these through its signalfd, and a thread with them unblocked would swallow
     * them (SIGWINCH into ncurses' handler, SIGTERM killing us without cleanup). */
    tui_block_signals();
    struct console_args a;
    if (parse_args(argc, argv, &a) != 0)
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
    struct plan *plan = NULL;
    if (a.plan) {
        plan = plan_load(a.plan, false, err, sizeof err);
        if (!plan) {
            moni_err("%s", err);
            return MONI_EXIT_USAGE;
        }
        if (plan->nexps == 0) {
            moni_err("%s: the plan has no experiments", a.plan);
            plan_free(plan);
            return MONI_EXIT_USAGE;
        }
    }
    const struct plan_experiment *exp = plan ? &plan->exps[0] : NULL;
    if (!interval && exp)
        interval = exp->interval_ns;
    char out[512];
    if (a.out) {
        snprintf(out, sizeof out, "%s", a.out);
    } else {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, sizeof out, "runs/%Y%m%dT%H%M%SZ", &tm);
    }
    /* The workload: CMD, the plan's, or moni-train writing its checkpoints in the run. */
    char train[512], ckpt[600];
    char *def_argv[5];
    char **wargv = a.cmd;
    if (!wargv && exp && exp->argv)
        wargv = exp->argv;
    if (!wargv) {
        if (moni_find_program("moni-train", train, sizeof train) != 0) {
            moni_err("moni-train not found next to moni or in $PATH; give a workload after '--'");
            plan_free(plan);
            return MONI_EXIT_FAIL;
        }
        snprintf(ckpt, sizeof ckpt, "%s/checkpoints", out);
        def_argv[0] = train;
        def_argv[1] = "--output-dir";
        def_argv[2] = ckpt;
        def_argv[3] = NULL;
        wargv = def_argv;
    }
    struct moni_loop *loop = moni_loop_new();
    static struct tui_model model; /* large: keep it off the stack */
    tui_model_init(&model);
    struct tui_live live;
    bool usage = false;
    struct tui_live_opts lo = {.out_dir = out, .interval_ns = interval, .argv = wargv,
                               .metrics_listen = a.metrics_listen, .plan_exp = exp,
                               .plan_name = plan ? plan->name : NULL};
    if (!loop || tui_live_start(&live, loop, &model, &lo, err, sizeof err, &usage) != 0) {
        moni_err("%s", loop ? err : "cannot create the event loop");
        if (loop) {
            tui_live_finish(&live);
            tui_live_free(&live);
        }
        moni_loop_free(loop);
        tui_model_free(&model);
        plan_free(plan);
        return usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    struct tui_actions act;
    tui_live_actions(&live, &act);
    static struct tui ui;
    char cast[600];
    snprintf(cast, sizeof cast, "%s/session.cast", out);
    struct tui_opts to = {.theme = a.theme, .ascii = a.ascii, .cast_path = cast};
    int status;
    if (tui_open(&ui, loop, &model, &act, &to, err, sizeof err) != 0) {
        tui_live_finish(&live);
        moni_err("%s", err);
        status = MONI_EXIT_FAIL;
    } else {
        tui_live_attach(&live, &ui);
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
        status = tui_live_finish(&live); /* faults reverted, files and dataset finished */
        if (b.frames)
            fprintf(stderr, "redraw %dx%d: %ld frames, %.3f ms/frame\n", ui.cols, ui.lines, b.frames,
                   b.ms_per_frame);
        fprintf(stderr, "moni: run saved in %s\n", out);
    }
    tui_live_free(&live);
    moni_loop_free(loop);
    tui_model_free(&model);
    plan_free(plan);
    return status;
}

const struct cmd_entry cmd_console_entry = {
    .name = "console",
    .usage = "[--plan FILE] [--out DIR] [--theme NAME] [--interval D] [--ascii] "
             "[--metrics-listen [ADDR:]PORT] [-- CMD ARGS...]",
    .summary = "full-screen console (default when no command is given)",
    .exec = cmd_console_exec,
};
