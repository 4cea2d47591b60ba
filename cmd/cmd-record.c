/* cmd/cmd-record.c — `moni record --out DIR [--interval D] [--duration D] [--force]
 * [-- CMD ARGS...]`: a headless observe-only run (no faults).  Starts CMD (or only
 * watches the machine), samples on a drift-free grid, writes the run directory and
 * exits with the workload's status (128+signal if it was killed). */
#include <signal.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/core.h"

static void on_signal(struct moni_loop *loop, int signo, void *arg)
{
    (void)loop;
    struct session *s = arg;
    char why[48];
    snprintf(why, sizeof why, "signal SIG%s", sigabbrev_np(signo) ? sigabbrev_np(signo) : "?");
    session_stop(s, why); /* a second signal while stopping changes nothing */
}

static void on_done(struct session *s, void *arg)
{
    (void)s;
    moni_loop_stop(arg);
}

/* Reads the options into o; -1 after a one-line error. */
static int record_options(const struct cmd_args *a, struct session_opts *o)
{
    char err[512];
    const char *v;
    o->force = cmd_flag(a, "force");
    o->out_dir = cmd_arg(a, "out");
    if (!o->out_dir)
        return cmd_usage_error(a, "--out DIR is required"), -1;
    if (!*o->out_dir)
        return cmd_usage_error(a, "--out: empty directory name"), -1;
    static char out[4096]; /* --out DIR/%n: one directory per node of a Slurm job */
    if (node_expand_out_here(o->out_dir, out, sizeof out, err, sizeof err) < 0) {
        moni_err("record: --out %s", err);
        return -1;
    }
    o->out_dir = out;
    if ((v = cmd_arg(a, "interval"))) {
        if (moni_parse_duration(v, &o->interval_ns, err, sizeof err) < 0) {
            moni_err("record: --interval: %s", err);
            return -1;
        }
        if (o->interval_ns < 10 * MONI_NS_PER_MS || o->interval_ns > 60 * MONI_NS_PER_SEC) {
            moni_err("record: --interval %s: must be between 10ms and 60s", v);
            return -1;
        }
    }
    if ((v = cmd_arg(a, "duration"))) {
        if (moni_parse_duration(v, &o->duration_ns, err, sizeof err) < 0) {
            moni_err("record: --duration: %s", err);
            return -1;
        }
        if (o->duration_ns <= 0) {
            moni_err("record: --duration %s: must be more than 0", v);
            return -1;
        }
    }
    o->argv = a->cmd;
    return 0;
}

/* The session with the exporter/alerts (sre) and the runner (log parser, dataset)
 * attached, on its own loop until the workload ends or a signal stops it. */
static int record_session(const struct session_opts *o, const char *metrics_listen)
{
    char err[512];
    struct moni_loop *loop = moni_loop_new();
    if (!loop) {
        moni_err("record: cannot create the event loop");
        return MONI_EXIT_FAIL;
    }
    bool usage = false;
    struct session *s = session_new(loop, o, err, sizeof err, &usage);
    if (!s) {
        moni_err("record: %s", err);
        moni_loop_free(loop);
        return usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    if (moni_loop_on_signals(loop, sigs, MONI_ARRAY_LEN(sigs), on_signal, s) < 0) {
        moni_err("record: cannot set up signal handling");
        session_free(s);
        moni_loop_free(loop);
        return MONI_EXIT_FAIL;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sre *sre = sre_attach(s, metrics_listen, NULL, err, sizeof err, &usage);
    if (!sre) {
        moni_err("record: %s", err);
        session_free(s);
        moni_loop_free(loop);
        return usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    session_on_done(s, on_done, loop);
    /* the log parser (events.jsonl) and the dataset at the end: the runner, no faults */
    struct runner_opts ro = {.no_faults = true, .attach_to = s};
    struct runner *run = runner_new(loop, &ro, err, sizeof err, &usage);
    if (!run) {
        moni_err("record: %s", err);
        sre_free(sre);
        session_free(s);
        moni_loop_free(loop);
        return usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    /* the log's training metrics on /metrics too (a cluster's straggler rule reads the step) */
    sre_set_sources(sre, runner_parser(run), NULL);
    if (session_start(s, err, sizeof err, &usage) < 0) {
        runner_free(run);
        moni_err("record: %s", err);
        sre_free(sre);
        session_free(s);
        moni_loop_free(loop);
        return usage ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    int rc = MONI_EXIT_OK;
    if (!session_done(s) && moni_loop_run(loop) < 0) {
        moni_err("record: event loop failed");
        rc = MONI_EXIT_FAIL;
    }
    int status = session_finish(s);
    runner_finish(run);
    runner_free(run);
    sre_free(sre);
    session_free(s);
    moni_loop_free(loop);
    return rc ? rc : status;
}

static int cmd_record_exec(struct cmd_args *a)
{
    struct session_opts o = {0};
    if (record_options(a, &o) < 0 || cmd_prometheus_sd(a) < 0)
        return MONI_EXIT_USAGE;
    return record_session(&o, cmd_arg(a, "metrics-listen"));
}

static const struct cmd_opt record_opts[] = {
    {"out", 0, "DIR", 0, "the run directory (required; %n node, %j job, %t rank)"},
    {"interval", 0, "D", 0, "sampling period, 10ms..60s (default 1s)"},
    {"duration", 0, "D", 0, "stop the run after this long"},
    {"force", 0, NULL, 0, "accept an existing, non-empty --out"},
    {"metrics-listen", 0, "[ADDR:]PORT", 0, "serve Prometheus /metrics here"},
    CMD_PROMETHEUS_SD_OPT,
    {0},
};

const struct cmd_entry cmd_record_entry = {
    .name = "record",
    .usage = "record --out DIR [--interval D] [--duration D] [--force] "
             "[--metrics-listen [ADDR:]PORT] [--prometheus-sd FILE] [-- CMD ARGS...]",
    .summary = "headless observe-only run (no faults)",
    .args = {.opts = record_opts, .command = true},
    .exec = cmd_record_exec,
};
