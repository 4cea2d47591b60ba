/* core/cmd-build.c — `moni build [--grid D] RUN_DIR...`: regenerates the derived
 * dataset files of each run from its raw files (also of a run killed midway).  A
 * plan's output directory (run directories below it) builds every run in it. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static int build_one(const char *dir, void *opts)
{
    const struct dataset_opts *o = opts;
    char err[1024];
    struct dataset_summary sum;
    if (dataset_build(dir, o, &sum, err, sizeof err) < 0) {
        moni_err("build: %s", err);
        return MONI_EXIT_FAIL;
    }
    printf("%s: %zu rows, %zu columns, %zu gap rows, %zu faults, %zu anomalous rows%s\n", dir,
           sum.rows, sum.columns, sum.gap_rows, sum.faults, sum.anomalous_rows,
           sum.incomplete ? " (incomplete run)" : "");
    return MONI_EXIT_OK;
}

static int cmd_build_exec(int argc, char **argv)
{
    struct dataset_opts o = {0};
    int first = 0, rc = MONI_EXIT_OK, ndirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m = moni_opt_value(argc, argv, &i, "--grid", &v);
        if (m < 0)
            return MONI_EXIT_USAGE;
        if (m > 0) {
            char e[128];
            if (moni_parse_duration(v, &o.grid_ns, e, sizeof e) < 0 ||
                o.grid_ns < 10 * MONI_NS_PER_MS) {
                moni_err("build: --grid %s: %s", v, o.grid_ns > 0 ? "must be >= 10ms" : e);
                return MONI_EXIT_USAGE;
            }
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            moni_err("build: unknown option %s (usage: moni %s)", argv[i], cmd_build_entry.usage);
            return MONI_EXIT_USAGE;
        }
        if (!first)
            first = i;
        ndirs++;
    }
    if (!ndirs) {
        moni_err("build: no run directory (usage: moni %s)", cmd_build_entry.usage);
        return MONI_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--grid")) {
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            continue;
        int r = dataset_for_each_run(argv[i], "build", build_one, &o);
        if (r > rc)
            rc = r;
    }
    return rc;
}

const struct cmd_entry cmd_build_entry = {
    .name = "build",
    .usage = "build [--grid D] RUN_DIR...",
    .summary = "(re)derive the dataset files of runs from their raw files",
    .exec = cmd_build_exec,
};
