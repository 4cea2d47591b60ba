/* core/cmd-validate.c — `moni validate [--baseline DIR] [--grid D] [--json] RUN...`:
 * a data-quality report per run (see core/validate.c).  A plan's output directory
 * validates every run in it against its "baseline" run when there is one.  Exit 0
 * when every run is clean, 1 when problems were found. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static bool is_run_dir(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/samples.csv", dir);
    return access(p, R_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

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
        if (is_run_dir(out))
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

static int validate_path(const char *dir, const char *baseline, int64_t grid, bool json)
{
    if (is_run_dir(dir))
        return validate_one(dir, baseline, grid, json);
    DIR *dp = opendir(dir);
    if (!dp) {
        moni_err("validate: %s: %s", dir, strerror(errno));
        return MONI_EXIT_USAGE;
    }
    char **subs = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        char **s2 = is_run_dir(p) ? realloc(subs, (n + 1) * sizeof *s2) : NULL;
        if (s2) {
            subs = s2;
            subs[n++] = strdup(p);
        }
    }
    closedir(dp);
    if (!n) {
        moni_err("validate: %s: not a run directory (no samples.csv) and none below it", dir);
        free(subs);
        return MONI_EXIT_USAGE;
    }
    qsort(subs, n, sizeof *subs, cmp_str);
    int rc = MONI_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        int r = subs[i] ? validate_one(subs[i], baseline, grid, json) : MONI_EXIT_FAIL;
        if (r > rc)
            rc = r;
        free(subs[i]);
    }
    free(subs);
    return rc;
}

static int cmd_validate_exec(int argc, char **argv)
{
    const char *baseline = NULL;
    int64_t grid = 0;
    bool json = false;
    char *dirs[256];
    size_t ndirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if (!strcmp(argv[i], "--json")) {
            json = true;
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--baseline", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            if (!is_run_dir(v)) {
                moni_err("validate: --baseline %s: not a run directory (no samples.csv)", v);
                return MONI_EXIT_USAGE;
            }
            baseline = v;
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--grid", &v)) != 0) {
            char e[128];
            if (m < 0)
                return MONI_EXIT_USAGE;
            if (moni_parse_duration(v, &grid, e, sizeof e) < 0 || grid < 10 * MONI_NS_PER_MS) {
                moni_err("validate: --grid %s: must be a duration >= 10ms", v);
                return MONI_EXIT_USAGE;
            }
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            moni_err("validate: unknown option %s (usage: moni %s)", argv[i],
                     cmd_validate_entry.usage);
            return MONI_EXIT_USAGE;
        }
        if (ndirs == MONI_ARRAY_LEN(dirs)) {
            moni_err("validate: too many run directories");
            return MONI_EXIT_USAGE;
        }
        dirs[ndirs++] = argv[i];
    }
    if (!ndirs) {
        moni_err("validate: no run directory (usage: moni %s)", cmd_validate_entry.usage);
        return MONI_EXIT_USAGE;
    }
    int rc = MONI_EXIT_OK;
    for (size_t i = 0; i < ndirs; i++) {
        int r = validate_path(dirs[i], baseline, grid, json);
        if (r > rc)
            rc = r;
    }
    return rc;
}

const struct cmd_entry cmd_validate_entry = {
    .name = "validate",
    .usage = "validate [--baseline RUN_DIR] [--grid D] [--json] RUN_DIR...",
    .summary = "data-quality report per run: gaps, time, labels, fault effects",
    .exec = cmd_validate_exec,
};
