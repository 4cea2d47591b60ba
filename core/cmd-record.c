/* core/cmd-record.c — `moni record --out DIR [--interval D] [--duration D] [--force]
 * [-- CMD ARGS...]`: a headless observe-only run (no faults).  Starts CMD (or only
 * watches the machine), samples on a drift-free grid, writes the run directory and
 * exits with the workload's status (128+signal if it was killed). */
#include <signal.h>
#include <string.h>

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

static int usage_error(const char *what)
{
    moni_err("record: %s (usage: moni %s)", what, cmd_record_entry.usage);
    return MONI_EXIT_USAGE;
}

static int cmd_record_exec(int argc, char **argv)
{
    struct session_opts o = {0};
    const char *metrics_listen = NULL; /* --metrics-listen (core/sre.c) */
    char err[512];
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: moni %s\n", cmd_record_entry.usage);
            return MONI_EXIT_OK;
        }
        if (!strcmp(a, "--force")) {
            o.force = true;
            continue;
        }
        if ((r = moni_opt_value(argc, argv, &i, "--out", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            if (!*v)
                return usage_error("--out: empty directory name");
            o.out_dir = v;
            continue;
        }
        if ((r = moni_opt_value(argc, argv, &i, "--metrics-listen", &metrics_listen)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            continue;
        }
        if ((r = moni_opt_value(argc, argv, &i, "--interval", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            if (moni_parse_duration(v, &o.interval_ns, err, sizeof err) < 0) {
                moni_err("record: --interval: %s", err);
                return MONI_EXIT_USAGE;
            }
            if (o.interval_ns < 10 * MONI_NS_PER_MS || o.interval_ns > 60 * MONI_NS_PER_SEC) {
                moni_err("record: --interval %s: must be between 10ms and 60s", v);
                return MONI_EXIT_USAGE;
            }
            continue;
        }
        if ((r = moni_opt_value(argc, argv, &i, "--duration", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            if (moni_parse_duration(v, &o.duration_ns, err, sizeof err) < 0) {
                moni_err("record: --duration: %s", err);
                return MONI_EXIT_USAGE;
            }
            if (o.duration_ns <= 0) {
                moni_err("record: --duration %s: must be more than 0", v);
                return MONI_EXIT_USAGE;
            }
            continue;
        }
        if (a[0] == '-') {
            char what[300];
            snprintf(what, sizeof what, "unknown option '%s'", a);
            return usage_error(what);
        }
        char what[300];
        snprintf(what, sizeof what, "unexpected argument '%s' (put the command after --)", a);
        return usage_error(what);
    }
    if (!o.out_dir)
        return usage_error("--out DIR is required");
    if (i < argc)
        o.argv = argv + i;

    struct moni_loop *loop = moni_loop_new();
    if (!loop) {
        moni_err("record: cannot create the event loop");
        return MONI_EXIT_FAIL;
    }
    bool usage = false;
    struct session *s = session_new(loop, &o, err, sizeof err, &usage);
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

const struct cmd_entry cmd_record_entry = {
    .name = "record",
    .usage = "record --out DIR [--interval D] [--duration D] [--force] "
             "[--metrics-listen [ADDR:]PORT] [-- CMD ARGS...]",
    .summary = "headless observe-only run (no faults)",
    .exec = cmd_record_exec,
};
