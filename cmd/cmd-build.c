/* cmd/cmd-build.c — `moni build [--grid D] [--cluster] RUN_DIR...`: regenerates the
 * derived dataset files of each run from its raw files (also of a run killed
 * midway).  A plan's output directory (run directories below it) builds every run in
 * it; --cluster merges the per-node runs of a cluster job into DIR/cluster. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/core.h"

static int build_one(const char *dir, void *opts)
{
    const struct dataset_opts *o = opts;
    char err[1024];
    struct dataset_summary sum;
    if (dataset_build(dir, o, &sum, err, sizeof err) < 0) {
        moni_err("build: %s", err);
        return sum.bad_input ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    printf("%s: %zu rows, %zu columns, %zu gap rows, %zu faults, %zu anomalous rows%s\n", dir,
           sum.rows, sum.columns, sum.gap_rows, sum.faults, sum.anomalous_rows,
           sum.incomplete ? " (incomplete run)" : "");
    return MONI_EXIT_OK;
}

/* --cluster DIR: every node's run of one job merged (core/cluster-build.c). */
static int build_cluster(const char *dir, const struct dataset_opts *o)
{
    char err[1024];
    struct cluster_build_summary sum;
    if (cluster_build(dir, o, stdout, &sum, err, sizeof err) < 0) {
        moni_err("build: %s", err);
        return sum.bad_input ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    printf("%s: cluster of %zu node runs: %zu rows, %zu faults, %zu anomalous rows\n", dir,
           sum.nodes, sum.rows, sum.faults, sum.anomalous_rows);
    return MONI_EXIT_OK;
}

static int cmd_build_exec(struct cmd_args *a)
{
    struct dataset_opts o = {0};
    const char *v = cmd_arg(a, "grid");
    if (v) {
        char e[128];
        if (moni_parse_duration(v, &o.grid_ns, e, sizeof e) < 0 || o.grid_ns < 10 * MONI_NS_PER_MS) {
            moni_err("build: --grid %s: %s", v, o.grid_ns > 0 ? "must be >= 10ms" : e);
            return MONI_EXIT_USAGE;
        }
    }
    int rc = MONI_EXIT_OK;
    for (int i = 0; i < a->npos; i++) {
        int r = cmd_flag(a, "cluster") ? build_cluster(a->pos[i], &o)
                                       : dataset_for_each_run(a->pos[i], "build", build_one, &o);
        if (r > rc)
            rc = r;
    }
    return rc;
}

static const struct cmd_opt build_opts[] = {
    {"grid", 0, "D", 0, "dataset grid step (default 1s, at least 10ms)"},
    {"cluster", 0, NULL, 0, "DIR holds one run per node of a job: merge them into DIR/cluster"},
    {0},
};

const struct cmd_entry cmd_build_entry = {
    .name = "build",
    .usage = "build [--grid D] [--cluster] RUN_DIR...",
    .summary = "(re)derive the dataset files of runs from their raw files",
    .args = {.opts = build_opts, .min_pos = 1, .max_pos = -1, .pos_name = "RUN_DIR"},
    .exec = cmd_build_exec,
};
