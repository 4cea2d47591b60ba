/* cmd/cmd-study.c — `moni study new|report`: blind MTTD studies with people
 * (moni-study(1)).  `new` writes the study directory from recorded runs (hidden truth,
 * anonymised sessions, a seeded order per tester); `report` scores the answers
 * files against the truth and the machine (core/study*.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "core/report.h"

#define STUDY_MAX_LIST 64

static int study_new_exec(struct cmd_args *a)
{
    const char *testers[STUDY_MAX_LIST], *conds[8], *accept[STUDY_MAX_LIST];
    struct study_new_opts o = {
        .runs = (const char *const *)a->pos,
        .nruns = (size_t)a->npos,
        .testers = testers,
        .ntesters = cmd_arg_list(a, "tester", testers, STUDY_MAX_LIST),
        .conditions = conds,
        .nconditions = cmd_arg_list(a, "condition", conds, 8),
        .accept = accept,
        .naccept = cmd_arg_list(a, "accept", accept, STUDY_MAX_LIST),
        .each_condition = cmd_flag(a, "each-condition"),
        .seed = 1,
    };
    const char *seed = cmd_arg(a, "seed"), *out = cmd_arg(a, "out");
    if (!out)
        return cmd_usage_error(a, "--out STUDY_DIR is required");
    if (!o.ntesters)
        return cmd_usage_error(a, "at least one --tester NAME is required");
    if (seed) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed, &end, 10);
        if (errno || end == seed || *end || seed[0] == '-')
            return cmd_usage_error(a, "--seed %s: must be a non-negative integer", seed);
        o.seed = v;
    }
    for (size_t i = 0; i < o.naccept; i++)
        if (!strchr(accept[i], '=') || accept[i][0] == '=')
            return cmd_usage_error(a, "--accept %s: must be SCENARIO=LABEL[,LABEL...]", accept[i]);
    char err[1024];
    if (study_new(out, &o, err, sizeof err) < 0) {
        moni_err("study new: %s", err);
        return MONI_EXIT_USAGE;
    }
    printf("%s: study written (truth in %s/truth.json; give each tester only their order)\n", out, out);
    return MONI_EXIT_OK;
}

static int study_report_exec(struct cmd_args *a)
{
    char err[1024];
    if (study_report(a->pos[0], stdout, err, sizeof err) < 0) {
        moni_err("study report: %s", err);
        return MONI_EXIT_USAGE;
    }
    printf("\n%s/report/: scores.csv scores.json attempts.csv attempts.json report.html\n", a->pos[0]);
    return MONI_EXIT_OK;
}

/* A number option: def when absent; -1 after a usage error. */
static int num_arg(struct cmd_args *a, const char *name, double def, double *out)
{
    const char *v = cmd_arg(a, name);
    *out = def;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(*out)) {
        cmd_usage_error(a, "--%s %s: expected a number", name, v);
        return -1;
    }
    return 0;
}

static int study_answer_exec(struct cmd_args *a)
{
    static const char *const flags[] = {"start", "detected", "done"};
    struct study_answer ans = {.tester = cmd_arg(a, "tester"), .session = cmd_arg(a, "session"),
                               .condition = cmd_arg(a, "condition"), .cause = cmd_arg(a, "cause"),
                               .component = cmd_arg(a, "component"), .note = cmd_arg(a, "note"),
                               .file = cmd_arg(a, "log"), .lines = -1};
    int kinds = 0;
    for (size_t i = 0; i < 3; i++)
        if (cmd_flag(a, flags[i])) {
            ans.kind = flags[i];
            kinds++;
        }
    if (ans.cause) {
        ans.kind = "cause";
        kinds++;
    }
    if (ans.file) {
        ans.kind = "log";
        kinds++;
    }
    if (kinds != 1)
        return cmd_usage_error(a, "exactly one of --start, --detected, --cause, --log, --done");
    if (!ans.tester || !ans.session || !ans.condition)
        return cmd_usage_error(a, "--tester, --session and --condition are required");
    double lines;
    if (num_arg(a, "replay-s", NAN, &ans.replay_s) < 0 || num_arg(a, "confidence", NAN, &ans.confidence) < 0 ||
        num_arg(a, "lines", -1, &lines) < 0)
        return MONI_EXIT_USAGE;
    if (cmd_arg(a, "lines") && (lines < 0 || lines != (double)(long)lines))
        return cmd_usage_error(a, "--lines: expected a count");
    ans.lines = (long)lines;
    char err[1024];
    if (study_answer_append(a->pos[0], &ans, err, sizeof err) < 0) {
        moni_err("study answer: %s", err);
        return MONI_EXIT_USAGE;
    }
    return MONI_EXIT_OK;
}

static const struct cmd_opt answer_opts[] = {
    {"tester", 't', "NAME", 0, "who answers"},
    {"session", 's', "ID", 0, "the session (s01, ...)"},
    {"condition", 'c', "COND", 0, "the session's condition (logs, full)"},
    {"replay-s", 'r', "S", 0, "the replay clock now, in seconds (detected, cause)"},
    {"start", 0, NULL, 0, "the session begins"},
    {"detected", 0, NULL, 0, "the tester sees a problem now"},
    {"cause", 0, "LABEL", 0, "the suspected root cause (a later one revises it)"},
    {"component", 0, "NAME", 0, "with --cause: the process or stage (train_worker_3)"},
    {"confidence", 0, "P", 0, "with --cause: from 0 to 1"},
    {"log", 0, "FILE", 0, "the tester opened this log file"},
    {"lines", 0, "N", 0, "with --log: lines of it seen so far"},
    {"note", 0, "TEXT", 0, "free text"},
    {"done", 0, NULL, 0, "the session ends"},
    {0},
};

static const struct cmd_entry study_answer_entry = {
    .name = "answer",
    .usage = "study answer STUDY_DIR --tester NAME --session ID --condition COND "
             "(--start|--detected|--cause LABEL|--log FILE|--done) [--replay-s S] [--component NAME] "
             "[--confidence P] [--lines N] [--note TEXT]",
    .summary = "append one checked answer to a tester's answers file",
    .args = {.opts = answer_opts, .min_pos = 1, .max_pos = 1, .pos_name = "STUDY_DIR"},
    .exec = study_answer_exec,
};

static int study_run_exec(struct cmd_args *a)
{
    const char *tester = cmd_arg(a, "tester"), *speed = cmd_arg(a, "speed");
    if (!tester)
        return cmd_usage_error(a, "--tester NAME is required");
    double x;
    if (num_arg(a, "speed", 1, &x) < 0)
        return MONI_EXIT_USAGE;
    if (!(x > 0))
        return cmd_usage_error(a, "--speed %s: must be > 0", speed);
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        moni_err("study run: needs a terminal (the replay is the console)");
        return MONI_EXIT_USAGE;
    }
    char err[1024];
    if (study_run(a->pos[0], tester, speed, stdin, stdout, err, sizeof err) < 0) {
        moni_err("study run: %s", err);
        return MONI_EXIT_USAGE;
    }
    return MONI_EXIT_OK;
}

static const struct cmd_opt run_opts[] = {
    {"tester", 't', "NAME", 0, "whose order to play"},
    {"speed", 0, "X", 0, "replay speed (default 1)"},
    {0},
};

static const struct cmd_entry study_run_entry = {
    .name = "run",
    .usage = "study run STUDY_DIR --tester NAME [--speed X]",
    .summary = "play a tester's sessions in order in the blind replay",
    .args = {.opts = run_opts, .min_pos = 1, .max_pos = 1, .pos_name = "STUDY_DIR"},
    .exec = study_run_exec,
};

static const struct cmd_opt new_opts[] = {
    {"out", 'o', "STUDY_DIR", 0, "the study directory to write (absent or empty)"},
    {"tester", 't', "NAME", STUDY_MAX_LIST, "a tester (repeatable)"},
    {"condition", 'c', "COND", 8, "logs (log panes only) or full (every pane); default both"},
    {"seed", 0, "N", 0, "seed of the shuffles (default 1)"},
    {"each-condition", 0, NULL, 0, "every tester plays every run in every condition"},
    {"accept", 0, "SCENARIO=LABELS", STUDY_MAX_LIST,
     "the cause labels that count as right for a scenario (repeatable)"},
    {0},
};

static const struct cmd_entry study_new_entry = {
    .name = "new",
    .usage = "study new --out STUDY_DIR --tester NAME... [--condition COND]... [--seed N] "
             "[--each-condition] [--accept SCENARIO=LABELS]... RUN_DIR...",
    .summary = "write a blind study from recorded runs (single runs or plan outputs)",
    .args = {.opts = new_opts, .min_pos = 1, .max_pos = 256, .pos_name = "RUN_DIR"},
    .exec = study_new_exec,
};

static const struct cmd_entry study_report_entry = {
    .name = "report",
    .usage = "study report STUDY_DIR",
    .summary = "score the answers: MTTD, detection and misdiagnosis rates, the machine",
    .args = {.min_pos = 1, .max_pos = 1, .pos_name = "STUDY_DIR"},
    .exec = study_report_exec,
};

static const struct cmd_entry *const study_subs[] = {&study_new_entry, &study_run_entry,
                                                     &study_answer_entry, &study_report_entry, NULL};

const struct cmd_entry cmd_study_entry = {
    .name = "study",
    .usage = "study new|run|answer|report ...",
    .summary = "blind MTTD studies: write one from runs, score the testers' answers",
    .subs = study_subs,
};
