/* cmd/cmd-validate.c — `moni validate [--baseline DIR] [--grid D] [--json] RUN...`:
 * a data-quality report per run (see core/validate.c).  A plan's output directory
 * validates every run in it against its "baseline" run when there is one.  Exit 0
 * when every run is clean, 1 when problems were found.  --detectors: the L2/L3
 * detectors' evaluation table instead (core/score.c). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/core.h"

/* A sibling run called "baseline" (plans name their healthy run so). */
static bool find_baseline(const char *run, char *out, size_t len)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", run);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *s = strrchr(parent, '/');
    if (s)
        *s = '\0';
    else
        snprintf(parent, sizeof parent, ".");
    static const char *const names[] = {"baseline", "baseline-1", NULL};
    for (size_t i = 0; names[i]; i++) {
        snprintf(out, len, "%s/%s", parent, names[i]);
        if (dataset_is_run_dir(out))
            return true;
    }
    return false;
}

static int validate_one(const char *dir, const char *baseline, int64_t grid, bool json)
{
    char err[1024], auto_base[PATH_MAX];
    if (!baseline && find_baseline(dir, auto_base, sizeof auto_base))
        baseline = auto_base;
    int p = dataset_validate(dir, baseline, grid, stdout, json, err, sizeof err);
    if (p < 0) {
        moni_err("validate: %s", err);
        return MONI_EXIT_USAGE;
    }
    return p ? MONI_EXIT_FAIL : MONI_EXIT_OK;
}

struct validate_args {
    const char *baseline;
    int64_t grid;
    bool json;
};

static int validate_run(const char *run, void *arg)
{
    const struct validate_args *a = arg;
    return validate_one(run, a->baseline, a->grid, a->json);
}

/* --detectors: the runs named baseline* (or --baseline) train the L2/L3 detectors,
 * the others are scored and the evaluation table printed; a plan's output directory
 * also gets detectors.csv. */
struct run_list {
    char *path[1024];
    bool is_base[1024];
    size_t n;
    const char *baseline;
};

static int collect_run(const char *run, void *arg)
{
    struct run_list *l = arg;
    if (l->n == 1024)
        return MONI_EXIT_OK;
    l->is_base[l->n] = l->baseline ? !strcmp(run, l->baseline) : detect_is_baseline_run(run);
    l->path[l->n] = strdup(run);
    if (l->path[l->n])
        l->n++;
    return MONI_EXIT_OK;
}

static int validate_detectors(struct cmd_args *a, const char *baseline, int64_t grid)
{
    struct run_list *l = calloc(1, sizeof *l);
    if (!l)
        return MONI_EXIT_FAIL;
    l->baseline = baseline;
    int rc = MONI_EXIT_OK;
    for (int i = 0; i < a->npos && rc == MONI_EXIT_OK; i++)
        rc = dataset_for_each_run(a->pos[i], "validate", collect_run, l);
    const char *train[64], *runs[1024];
    size_t nt = 0, nr = 0;
    char sibling[PATH_MAX];
    if (!baseline && a->npos >= 1 && dataset_is_run_dir(a->pos[0]) &&
        find_baseline(a->pos[0], sibling, sizeof sibling))
        baseline = sibling; /* a run of a plan: its plan's baseline */
    if (baseline)
        train[nt++] = baseline;
    for (size_t i = 0; i < l->n; i++) {
        if (l->is_base[i] && !baseline && nt < 64)
            train[nt++] = l->path[i];
        else if (!l->is_base[i])
            runs[nr++] = l->path[i];
    }
    char csv[PATH_MAX + 32] = "";
    if (a->npos == 1 && !dataset_is_run_dir(a->pos[0]))
        snprintf(csv, sizeof csv, "%s/detectors.csv", a->pos[0]);
    if (rc == MONI_EXIT_OK && !nt) {
        moni_err("validate: --detectors: no healthy run to train on (a run named baseline, "
                 "or --baseline RUN_DIR)");
        rc = MONI_EXIT_USAGE;
    }
    if (rc == MONI_EXIT_OK) {
        struct detect_opts o = {.train = train, .ntrain = nt, .grid_ns = grid,
                                .table = stdout, .csv_path = csv[0] ? csv : NULL};
        char err[1024];
        if (detect_score_runs(runs, nr, &o, err, sizeof err) < 0) {
            moni_err("validate: %s", err);
            rc = MONI_EXIT_FAIL;
        }
    }
    for (size_t i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l);
    return rc;
}

static int cmd_validate_exec(struct cmd_args *a)
{
    const char *baseline = cmd_arg(a, "baseline"), *v = cmd_arg(a, "grid");
    int64_t grid = 0;
    bool json = cmd_flag(a, "json");
    if (baseline && !dataset_is_run_dir(baseline)) {
        moni_err("validate: --baseline %s: not a run directory (no samples.csv)", baseline);
        return MONI_EXIT_USAGE;
    }
    if (v) {
        char e[128];
        if (moni_parse_duration(v, &grid, e, sizeof e) < 0 || grid < 10 * MONI_NS_PER_MS) {
            moni_err("validate: --grid %s: must be a duration >= 10ms", v);
            return MONI_EXIT_USAGE;
        }
    }
    if (cmd_flag(a, "detectors"))
        return validate_detectors(a, baseline, grid);
    struct validate_args args = {baseline, grid, json};
    int rc = MONI_EXIT_OK;
    for (int i = 0; i < a->npos; i++) {
        int r = dataset_for_each_run(a->pos[i], "validate", validate_run, &args);
        if (r > rc)
            rc = r;
    }
    return rc;
}

static const struct cmd_opt validate_opts[] = {
    {"baseline", 0, "RUN_DIR", 0, "a healthy run to measure fault effects against"},
    {"grid", 0, "D", 0, "grid step (default 1s, at least 10ms)"},
    {"json", 0, NULL, 0, "the report as JSON"},
    {"detectors", 0, NULL, 0,
     "train the Isolation Forest and autoencoder on the baseline runs, evaluate on the others"},
    {0},
};

const struct cmd_entry cmd_validate_entry = {
    .name = "validate",
    .usage = "validate [--baseline RUN_DIR] [--grid D] [--json] [--detectors] RUN_DIR...",
    .summary = "data-quality report per run: gaps, time, labels, fault effects",
    .args = {.opts = validate_opts, .min_pos = 1, .max_pos = 256, .pos_name = "RUN_DIR"},
    .exec = cmd_validate_exec,
};
