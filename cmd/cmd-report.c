/* cmd/cmd-report.c — `moni report [--blind] [--out FILE] RUN_DIR`: a self-contained
 * HTML page with the run's fault propagation path and its key metrics over time
 * (core/report*.c).  Written to RUN_DIR/report.html unless --out says otherwise
 * ("-" is standard output); the file appears whole (a temporary file, renamed). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "core/report.h"

static int cmd_report_exec(struct cmd_args *a)
{
    const char *dir = a->pos[0], *out = cmd_arg(a, "out");
    bool blind = cmd_flag(a, "blind");
    if (!dataset_is_run_dir(dir)) {
        moni_err("report: %s: not a run directory (no samples.csv)", dir);
        return MONI_EXIT_USAGE;
    }
    char path[PATH_MAX], tmp[PATH_MAX + 8], err[1024];
    if (!out)
        snprintf(path, sizeof path, "%s/%s", dir, blind ? "report-blind.html" : "report.html");
    else
        snprintf(path, sizeof path, "%s", out);
    if (!strcmp(path, "-")) {
        if (report_run_html(dir, blind, stdout, err, sizeof err) < 0) {
            moni_err("report: %s", err);
            return MONI_EXIT_USAGE;
        }
        return MONI_EXIT_OK;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        moni_err("report: %s: %s", tmp, strerror(errno));
        return MONI_EXIT_FAIL;
    }
    int rc = report_run_html(dir, blind, f, err, sizeof err);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, sizeof err, "%s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc < 0 || rename(tmp, path) < 0) {
        if (rc == 0)
            snprintf(err, sizeof err, "%s: %s", path, strerror(errno));
        unlink(tmp);
        moni_err("report: %s", err);
        return MONI_EXIT_USAGE;
    }
    printf("%s\n", path);
    return MONI_EXIT_OK;
}

static const struct cmd_opt report_opts[] = {
    {"out", 'o', "FILE", 0, "where to write the page (default RUN_DIR/report.html; - for stdout)"},
    {"blind", 0, NULL, 0, "hide the injected faults (default file RUN_DIR/report-blind.html)"},
    {0},
};

const struct cmd_entry cmd_report_entry = {
    .name = "report",
    .usage = "report [--blind] [--out FILE] RUN_DIR",
    .summary = "HTML report of a run: fault propagation path and key metrics (SVG)",
    .args = {.opts = report_opts, .min_pos = 1, .max_pos = 1, .pos_name = "RUN_DIR"},
    .exec = cmd_report_exec,
};
