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
    /* The runs, the plan's queue and the screen (tui/plan-run.c). */
    struct tui_console_opts co = {.out = out, .plan_path = a.plan, .interval_ns = interval,
                                  .cmd = a.cmd, .metrics_listen = a.metrics_listen,
                                  .theme = a.theme, .ascii = a.ascii};
    return tui_console_run(&co);
}

static const struct cmd_opt console_opts[] = {
    {"plan", 0, "FILE", 0, "run the plan's experiments in turn (moni-plan(5))"},
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
