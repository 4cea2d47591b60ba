/* tui/cmd-replay.c — `moni replay RUN_DIR [--blind] [--speed X]`: a recorded run in
 * the console, played back on the run's own timestamps. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logparse/logparse.h"
#include "tui/tui.h"

struct replay_ctx {
    struct tui_replay *rp;
    struct tui *ui;
    struct moni_loop *loop;
    struct lp_rules *rules;
    const char *dir;
    double speed;
    int64_t started;
    bool ended;
};

static void on_tick(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline;
    (void)missed;
    struct replay_ctx *c = arg;
    if (c->ended)
        return;
    double t = (double)(now - c->started) / 1e9 * c->speed;
    if (tui_replay_advance(c->rp, t)) {
        c->ended = true;
        tui_status(c->ui, false, "end of the recording (%.0f s); q quits", tui_replay_duration(c->rp));
        c->ui->status_until = INT64_MAX; /* stays */
    }
}

static char *replay_diagnose(void *ctx, char *err, size_t errlen)
{
    struct replay_ctx *c = ctx;
    if (!c->rules) {
        char e[512];
        c->rules = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN | LP_LOAD_USER, e, sizeof e);
        if (!c->rules) {
            snprintf(err, errlen, "%s", e);
            return NULL;
        }
    }
    return tui_diagnose_dir(c->rules, c->dir, err, errlen);
}

static void replay_quit(void *ctx)
{
    struct replay_ctx *c = ctx;
    moni_loop_stop(c->loop);
}

static int cmd_replay_exec(int argc, char **argv)
{
    tui_block_signals(); /* before any thread: the loop's signalfd takes them */
    const char *dir = NULL, *theme = NULL, *speed_s = NULL;
    bool blind = false, ascii = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--blind")) {
            blind = true;
        } else if (!strcmp(argv[i], "--ascii")) {
            ascii = true;
        } else if ((r = moni_opt_value(argc, argv, &i, "--theme", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            theme = v;
        } else if ((r = moni_opt_value(argc, argv, &i, "--speed", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            speed_s = v;
        } else if (argv[i][0] == '-') {
            moni_err("replay: unknown option '%s'", argv[i]);
            return MONI_EXIT_USAGE;
        } else if (!dir) {
            dir = argv[i];
        } else {
            moni_err("replay: one run directory at a time");
            return MONI_EXIT_USAGE;
        }
    }
    if (!dir) {
        moni_err("usage: moni %s", cmd_replay_entry.usage);
        return MONI_EXIT_USAGE;
    }
    double speed = 1;
    char err[1024];
    if (speed_s && (moni_parse_double(speed_s, &speed, err, sizeof err) != 0 || !(speed > 0))) {
        moni_err("replay: --speed: expected a positive number, got '%s'", speed_s);
        return MONI_EXIT_USAGE;
    }
    static struct tui_model model;
    tui_model_init(&model);
    struct replay_ctx c = {.dir = dir, .speed = speed};
    c.rp = tui_replay_open(dir, blind, &model, err, sizeof err);
    if (!c.rp) {
        moni_err("replay: %s", err);
        tui_model_free(&model);
        return MONI_EXIT_USAGE;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        moni_err("replay needs a terminal");
        tui_replay_close(c.rp);
        tui_model_free(&model);
        return MONI_EXIT_USAGE;
    }
    c.loop = moni_loop_new();
    struct tui_actions act = {.ctx = &c, .diagnose = blind ? NULL : replay_diagnose, .quit = replay_quit};
    static struct tui ui;
    struct tui_opts to = {.theme = theme, .ascii = ascii};
    int status = MONI_EXIT_OK;
    if (!c.loop || tui_open(&ui, c.loop, &model, &act, &to, err, sizeof err) != 0) {
        moni_err("%s", c.loop ? err : "cannot create the event loop");
        status = MONI_EXIT_FAIL;
    } else {
        c.ui = &ui;
        c.started = moni_mono_ns();
        tui_replay_advance(c.rp, 0);
        int64_t step = model.interval_ns / 2 > 50 * MONI_NS_PER_MS ? model.interval_ns / 2
                                                                    : 50 * MONI_NS_PER_MS;
        if (step > 250 * MONI_NS_PER_MS)
            step = 250 * MONI_NS_PER_MS;
        moni_loop_add_ticker(c.loop, step, 0, on_tick, &c);
        moni_loop_run(c.loop);
        tui_close(&ui);
    }
    lp_rules_free(c.rules);
    tui_replay_close(c.rp);
    moni_loop_free(c.loop);
    tui_model_free(&model);
    return status;
}

const struct cmd_entry cmd_replay_entry = {
    .name = "replay",
    .usage = "replay RUN_DIR [--blind] [--speed X] [--theme NAME] [--ascii]",
    .summary = "replay a recorded run in the console",
    .exec = cmd_replay_exec,
};
