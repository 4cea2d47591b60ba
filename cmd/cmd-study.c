/* cmd/cmd-study.c — `moni study new|report`: blind MTTD studies with people
 * (moni-study(1)).  `new` writes the study directory from recorded runs (hidden truth,
 * anonymised sessions, a seeded order per tester); `report` scores the answers
 * files against the truth and the machine (core/study*.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static const struct cmd_entry *const study_subs[] = {&study_new_entry, &study_report_entry, NULL};

const struct cmd_entry cmd_study_entry = {
    .name = "study",
    .usage = "study new|report ...",
    .summary = "blind MTTD studies: write one from runs, score the testers' answers",
    .subs = study_subs,
};
