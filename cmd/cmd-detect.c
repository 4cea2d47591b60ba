/* cmd/cmd-detect.c — `moni detect --train RUN... RUN...`: the dataset's L2 and L3
 * detectors (core/score.c).  Trains an Isolation Forest and an autoencoder on the
 * healthy runs given with --train, writes scores.csv and the TimeEval-style score
 * files into every other run (a plan's output: every run in it), and prints the
 * evaluation table per model and fault kind. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/core.h"

#define MAX_RUNS 1024

struct run_list {
    char *path[MAX_RUNS];
    size_t n;
};

static int collect_run(const char *run, void *arg)
{
    struct run_list *l = arg;
    if (l->n == MAX_RUNS) {
        moni_err("detect: more than %d runs", MAX_RUNS);
        return MONI_EXIT_USAGE;
    }
    l->path[l->n] = strdup(run);
    if (!l->path[l->n])
        return MONI_EXIT_FAIL;
    l->n++;
    return MONI_EXIT_OK;
}

static int cmd_detect_exec(struct cmd_args *a)
{
    const char *train[64];
    size_t ntrain = cmd_arg_list(a, "train", train, 64);
    const char *g = cmd_arg(a, "grid"), *csv = cmd_arg(a, "csv");
    int64_t grid = 0;
    if (!ntrain)
        return cmd_usage_error(a, "--train RUN_DIR: at least one healthy run to train on");
    for (size_t i = 0; i < ntrain; i++)
        if (!dataset_is_run_dir(train[i])) {
            moni_err("detect: --train %s: not a run directory (no samples.csv)", train[i]);
            return MONI_EXIT_USAGE;
        }
    if (g) {
        char e[128];
        if (moni_parse_duration(g, &grid, e, sizeof e) < 0 || grid < 10 * MONI_NS_PER_MS) {
            moni_err("detect: --grid %s: must be a duration >= 10ms", g);
            return MONI_EXIT_USAGE;
        }
    }
    struct run_list *runs = calloc(1, sizeof *runs);
    if (!runs)
        return MONI_EXIT_FAIL;
    int rc = MONI_EXIT_OK;
    for (int i = 0; i < a->npos && rc == MONI_EXIT_OK; i++)
        rc = dataset_for_each_run(a->pos[i], "detect", collect_run, runs);
    if (rc == MONI_EXIT_OK) {
        struct detect_opts o = {
            .train = train,
            .ntrain = ntrain,
            .grid_ns = grid,
            .write_scores = true,
            .export_dir = cmd_arg(a, "export"),
            .table = cmd_flag(a, "quiet") ? NULL : stdout,
            .csv_path = csv,
        };
        char err[1024];
        if (detect_score_runs((const char *const *)runs->path, runs->n, &o, err, sizeof err) <
            0) {
            moni_err("detect: %s", err);
            rc = MONI_EXIT_FAIL;
        }
    }
    for (size_t i = 0; i < runs->n; i++)
        free(runs->path[i]);
    free(runs);
    return rc;
}

static const struct cmd_opt detect_opts[] = {
    {"train", 0, "RUN_DIR", 64, "a healthy run to train on"},
    {"grid", 0, "D", 0, "grid step (default 1s, at least 10ms), as moni build"},
    {"csv", 0, "FILE", 0, "also write the evaluation table as CSV"},
    {"export", 0, "DIR", 0, "write the standardised matrices (train.csv, score-N.csv)"},
    {"quiet", 'q', NULL, 0, "no table on stdout"},
    {0},
};

const struct cmd_entry cmd_detect_entry = {
    .name = "detect",
    .usage = "detect --train RUN_DIR... [--grid D] [--csv FILE] [--export DIR] RUN_DIR...",
    .summary = "Isolation Forest and autoencoder scores per row, trained on healthy runs",
    .args = {.opts = detect_opts, .min_pos = 1, .max_pos = 256, .pos_name = "RUN_DIR"},
    .exec = cmd_detect_exec,
};
