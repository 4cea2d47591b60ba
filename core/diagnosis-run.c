/* core/diagnosis-run.c — the diagnosis of a run directory, live or recorded: the
 * log's causes (workload.log + logs/ *.log through the run directory's list of log
 * files), the detections (given by a live runner, else replayed from the raw files)
 * and the fate from meta.json, fused by core/diagnosis.c.  `moni diagnose` and the
 * console's `d` both come here.  Never reads the fault journal, ground truth or marks. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "logparse/logparse.h"

/* Lines of workload.log carry no time of their own: workload.idx has when each
 * arrived, which is what the detectors' times are too. */
static void place_evidence(struct lp_evidence *e, uint64_t line, int64_t real)
{
    if (!e->has_time && e->source && !strcmp(e->source, "workload.log") && e->line_no == line)
        e->time_ns = real;
}

static void place_log_times(struct lp_diagnosis *d, const char *dir)
{
    struct rundir_lines r;
    if (!d->ncauses || rundir_idx_open(&r, dir) < 0)
        return;
    struct rundir_idx x;
    int rc;
    while ((rc = rundir_idx_next(&r, &x)) != 0) {
        if (rc < 0 || !x.real)
            continue;
        for (size_t i = 0; i < d->ncauses; i++) {
            place_evidence(&d->causes[i].first, x.line, x.real);
            for (size_t k = 0; k < d->causes[i].nevidence; k++)
                place_evidence(&d->causes[i].evidence[k], x.line, x.real);
        }
    }
    rundir_lines_close(&r);
}

struct det_list {
    struct detection *v;
    size_t n;
};

static void collect(const struct detection *det, void *arg)
{
    struct det_list *c = arg;
    struct detection *n = realloc(c->v, (c->n + 1) * sizeof *n);
    if (n) {
        c->v = n;
        c->v[c->n++] = *det;
    }
}

static struct lp_diagnosis *log_diagnosis(const struct lp_rules *rules, const char *dir,
                                          char *err, size_t errlen)
{
    char **files = NULL;
    size_t nfiles = 0;
    if (rundir_log_files(dir, &files, &nfiles, err, errlen) < 0)
        return NULL;
    struct lp_recset set;
    lp_recset_init(&set);
    int rc = nfiles ? lp_parse_paths(rules, (const char *const *)files, nfiles,
                                     LP_KIND_BIT(LP_KIND_EVENT) | LP_KIND_BIT(LP_KIND_METRIC),
                                     &set, err, errlen)
                    : 0;
    rundir_paths_free(files, nfiles);
    struct lp_diagnosis *d = rc == 0 ? lp_diagnose(&set) : NULL;
    if (rc == 0 && !d)
        snprintf(err, errlen, "out of memory");
    lp_recset_free(&set);
    if (d)
        place_log_times(d, dir);
    return d;
}

struct lp_diagnosis *run_diagnose_dir(const struct lp_rules *rules, const char *dir,
                                      const struct det_config *cfg, bool live,
                                      const struct detection *live_dets, size_t nlive,
                                      struct run_diagnosis *out, char *err, size_t errlen)
{
    struct det_list dets = {0};
    if (!live && detect_run_dir(dir, cfg, collect, &dets, err, errlen) < 0)
        return NULL;
    struct lp_diagnosis *logd = log_diagnosis(rules, dir, err, errlen);
    if (logd) {
        struct rundir_meta meta = {0};
        struct det_fate fate;
        char merr[RUNDIR_ERR_LEN];
        bool have_fate = rundir_meta_load(dir, &meta, merr, sizeof merr) == 0 &&
                         detect_fate_from_meta(&meta, &fate);
        if (meta.root)
            rundir_meta_free(&meta);
        run_diagnose(logd, live ? live_dets : dets.v, live ? nlive : dets.n,
                     have_fate ? &fate : NULL, out);
    }
    free(dets.v);
    return logd;
}
