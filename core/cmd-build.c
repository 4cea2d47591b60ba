/* core/cmd-build.c — `moni build [--grid D] RUN_DIR...`: regenerates the derived
 * dataset files of each run from its raw files (also of a run killed midway).  A
 * plan's output directory (run directories below it) builds every run in it. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int build_one(const char *dir, const struct dataset_opts *o)
{
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

static int build_path(const char *dir, const struct dataset_opts *o)
{
    if (is_run_dir(dir))
        return build_one(dir, o);
    DIR *dp = opendir(dir);
    if (!dp) {
        moni_err("build: %s: %s", dir, strerror(errno));
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
        moni_err("build: %s: not a run directory (no samples.csv) and none below it", dir);
        free(subs);
        return MONI_EXIT_USAGE;
    }
    qsort(subs, n, sizeof *subs, cmp_str);
    int rc = MONI_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        if (subs[i] && build_one(subs[i], o) != MONI_EXIT_OK)
            rc = MONI_EXIT_FAIL;
        free(subs[i]);
    }
    free(subs);
    return rc;
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
        int r = build_path(argv[i], &o);
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
