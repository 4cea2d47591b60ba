/* cmd/cmd-replay.c — `moni replay RUN_DIR [--blind] [--speed X]`: a recorded run in
 * the console, played back on the run's own timestamps (the clock is tui/replay.c's:
 * the keys pause, seek and change its speed).  `moni study run` adds the study's
 * context (--study, --tester, --session, --condition): the answer keys then write
 * the tester's answers file, and the logs condition shows the log panes only. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "logparse/logparse.h"
#include "core/report.h"
#include "tui/tui.h"

struct replay_ctx {
    struct tui_replay *rp;
    struct tui *ui;
    struct moni_loop *loop;
    struct lp_rules *rules;
    const char *dir;
    bool ended;
    unsigned seeks; /* tui_replay_seeks() at the last tick */
};

static void on_tick(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline;
    (void)missed;
    struct replay_ctx *c = arg;
    bool end = tui_replay_tick(c->rp, now);
    if (tui_replay_seeks(c->rp) != c->seeks) { /* moved by hand: the end is news again */
        c->seeks = tui_replay_seeks(c->rp);
        c->ended = false;
    }
    if (end && !c->ended) {
        tui_status(c->ui, false, "end of the recording (%.0f s); q quits%s", tui_replay_duration(c->rp),
                   c->ui->replay ? ", [ or Home goes back" : "");
        c->ui->status_until = INT64_MAX; /* stays */
    } else if (!end && c->ended) { /* sought back */
        c->ui->status_until = 0;
    }
    c->ended = end;
    tui_touch(c->ui); /* the header's clock */
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

static int cmd_replay_exec(struct cmd_args *a)
{
    tui_block_signals(); /* before any thread: the loop's signalfd takes them */
    const char *dir = a->pos[0], *theme = cmd_arg(a, "theme"), *speed_s = cmd_arg(a, "speed");
    bool blind = cmd_flag(a, "blind"), ascii = cmd_flag(a, "ascii"), logs_only = cmd_flag(a, "logs-only");
    double speed = 1;
    char err[1024];
    if (speed_s && (moni_parse_double(speed_s, &speed, err, sizeof err) != 0 || !(speed > 0))) {
        moni_err("replay: --speed: expected a positive number, got '%s'", speed_s);
        return MONI_EXIT_USAGE;
    }
    struct tui_study study = {.dir = cmd_arg(a, "study"), .tester = cmd_arg(a, "tester"),
                              .session = cmd_arg(a, "session"), .condition = cmd_arg(a, "condition")};
    bool answering = study.dir || study.tester || study.session || study.condition;
    if (answering && !(study.dir && study.tester && study.session && study.condition))
        return cmd_usage_error(a, "--study, --tester, --session and --condition go together");
    if (answering && !blind)
        return cmd_usage_error(a, "--study needs --blind (the tester must not see the answer)");
    if (answering && study_context_check(study.dir, study.tester, study.session, study.condition, err,
                                         sizeof err) != 0) {
        moni_err("replay: %s", err);
        return MONI_EXIT_USAGE;
    }
    logs_only |= answering && !strcmp(study.condition, "logs");
    static struct tui_model model;
    tui_model_init(&model);
    struct replay_ctx c = {.dir = dir};
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
        ui.replay = c.rp;
        ui.study = answering ? &study : NULL;
        ui.logs_only = logs_only;
        tui_replay_set_speed(c.rp, speed, moni_mono_ns());
        tui_replay_tick(c.rp, moni_mono_ns());
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

static const struct cmd_opt replay_opts[] = {
    {"blind", 0, NULL, 0, "hide fault names and labels (for detection studies)"},
    {"speed", 0, "X", 0, "play back X times faster (default 1; the < > keys change it)"},
    {"logs-only", 0, NULL, 0, "the log panes only (a study's logs condition)"},
    {"study", 0, "STUDY_DIR", 0, "with --blind: answers go to this study (moni study run)"},
    {"tester", 0, "NAME", 0, "with --study: the tester answering"},
    {"session", 0, "ID", 0, "with --study: the session played"},
    {"condition", 0, "COND", 0, "with --study: its condition (logs shows the log panes only)"},
    {"theme", 0, "NAME", 0, "colour theme"},
    {"ascii", 0, NULL, 0, "ASCII only, no line-drawing characters"},
    {0},
};

const struct cmd_entry cmd_replay_entry = {
    .name = "replay",
    .usage = "replay RUN_DIR [--blind] [--speed X] [--logs-only] [--theme NAME] [--ascii] "
             "[--study STUDY_DIR --tester NAME --session ID --condition COND]",
    .summary = "replay a recorded run in the console",
    .args = {.opts = replay_opts, .min_pos = 1, .max_pos = 1, .pos_name = "RUN_DIR"},
    .exec = cmd_replay_exec,
};
