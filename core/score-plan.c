/* core/score-plan.c — a plan's detectors.csv: when every run of a plan has finished,
 * `moni run --plan` trains the L2/L3 detectors on the plan's baseline runs and
 * evaluates them on its other runs, with the same code as `moni validate
 * --detectors` (detect_score_runs in core/score.c); this file only decides which
 * runs train and which are scored, by the one rule both commands use. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

bool detect_is_baseline_run(const char *run_dir)
{
    size_t n = strlen(run_dir);
    while (n > 1 && run_dir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && run_dir[b - 1] != '/')
        b--;
    return n - b >= 8 && !strncmp(run_dir + b, "baseline", 8);
}

int detect_plan_csv(const char *plan_dir, const char *const *runs, size_t nruns, int64_t grid_ns,
                    char *msg, size_t msglen)
{
    const char **train = calloc(nruns + 1, sizeof *train);
    const char **scored = calloc(nruns + 1, sizeof *scored);
    size_t nt = 0, ns = 0;
    int rc = 0;
    if (!train || !scored) {
        snprintf(msg, msglen, "out of memory");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < nruns; i++) {
        if (!dataset_is_run_dir(runs[i]))
            continue; /* never started: nothing to train on or to score */
        if (detect_is_baseline_run(runs[i]))
            train[nt++] = runs[i];
        else
            scored[ns++] = runs[i];
    }
    if (rc == 0 && !nt) {
        snprintf(msg, msglen, "%s: no detectors.csv: the plan has no baseline run (an "
                 "experiment named baseline*) to train the detectors on", plan_dir);
    } else if (rc == 0 && !ns) {
        snprintf(msg, msglen, "%s: no detectors.csv: the plan has no run besides its "
                 "baseline to score", plan_dir);
    } else if (rc == 0) {
        char csv[PATH_MAX + 32], err[1024];
        snprintf(csv, sizeof csv, "%s/detectors.csv", plan_dir);
        struct detect_opts o = {.train = train, .ntrain = nt, .grid_ns = grid_ns,
                                .csv_path = csv};
        if (detect_score_runs(scored, ns, &o, err, sizeof err) < 0) {
            snprintf(msg, msglen, "%s: detectors.csv: %s", plan_dir, err);
            rc = -1;
        } else {
            snprintf(msg, msglen, "%s: detectors trained on %zu baseline run%s, %zu run%s "
                     "scored", csv, nt, nt == 1 ? "" : "s", ns, ns == 1 ? "" : "s");
            rc = 1;
        }
    }
    free(train);
    free(scored);
    return rc;
}
