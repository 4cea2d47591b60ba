/* core/validate.c — `moni validate`'s engine: a data-quality report per run (rows,
 * gaps, late ticks, monotonic time, torn lines, label coverage per fault) and, for
 * every fault, the channels that moved inside its window compared with a baseline
 * (a healthy run, or the run's own rows outside every fault window), as effect
 * sizes — so an injection that had no visible effect is flagged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "faults/faults.h"
#include "logparse/logparse.h"
#include "core/dataset-int.h"

#define EFFECT_MIN 1.0 /* |d| at or above which a channel counts as moved */
#define TOP_CHANNELS 6

struct moved {
    int col;
    double d, base, win;
};

static int cmp_moved(const void *a, const void *b)
{
    double x = fabs(((const struct moved *)a)->d), y = fabs(((const struct moved *)b)->d);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Effect size of a window against a baseline: difference of means over the
 * baseline's standard deviation (pooled with the window's when the baseline is
 * flat); a flat baseline that moved at all is a large effect. */
static double effect_size(double mb, double sb, double mw, double sw)
{
    double diff = mw - mb;
    double sd = sb > 1e-12 ? sb : sw;
    if (fabs(diff) <= 1e-9 + 0.01 * fabs(mb))
        return 0; /* below 1% of the level: noise in any unit */
    if (sd <= 1e-12)
        return diff > 0 ? 99 : -99;
    double d = diff / sd;
    return d > 99 ? 99 : d < -99 ? -99 : d;
}

static void json_fault(cJSON *arr, const struct ds *d, const struct ds_fault *f, double coverage,
                       const struct moved *mv, size_t nmv, bool no_effect)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "fault_id", f->id);
    cJSON_AddStringToObject(o, "kind", f->kind);
    cJSON_AddBoolToObject(o, "fired", f->labelled);
    if (f->labelled) {
        cJSON_AddNumberToObject(o, "window_s", (double)(f->end - f->start) / 1e9);
        cJSON_AddNumberToObject(o, "label_coverage", coverage);
        cJSON *ch = cJSON_AddArrayToObject(o, "moved");
        for (size_t i = 0; i < nmv; i++) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "channel", d->cols[mv[i].col].name);
            cJSON_AddNumberToObject(c, "effect_size", mv[i].d);
            cJSON_AddNumberToObject(c, "baseline_mean", mv[i].base);
            cJSON_AddNumberToObject(c, "window_mean", mv[i].win);
            cJSON_AddItemToArray(ch, c);
        }
        cJSON_AddBoolToObject(o, "no_visible_effect", no_effect);
    }
    cJSON_AddItemToArray(arr, o);
}

/* ---- the machine's time to detect ------------------------------------------------------
 * Per fault: the first detection after it fired that names its effect (the kind's
 * effect_labels), the delay from `fired`, and whether the run's diagnosis (which
 * never reads the journal) names it.  The baseline blind human studies compare with. */

static bool names_effect(const char *kind, const char *label)
{
    const struct fault_ops *ops = fault_find(kind);
    const char *p = ops && ops->effect_labels ? ops->effect_labels : "";
    size_t n = strlen(label);
    while (*p) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, label, n))
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

/* Rank (1 = root cause) at which the diagnosis names the fault's effect; 0 if not. */
static size_t diagnosis_rank(const struct run_diagnosis *rd, const char *kind)
{
    for (size_t i = 0; rd && i < rd->ncauses; i++)
        if (names_effect(kind, rd->causes[i].label))
            return i + 1;
    return 0;
}

static void report_machine(const struct ds *d, const struct ds_fault *f,
                           const struct run_diagnosis *rd, cJSON *farr, FILE *out)
{
    if (!f->labelled)
        return;
    const struct detection *first = NULL;
    for (size_t k = 0; k < d->ndets && !first; k++)
        if (d->dets[k].mono_ns >= f->start && names_effect(f->kind, d->dets[k].label))
            first = &d->dets[k];
    size_t rank = diagnosis_rank(rd, f->kind);
    double mttd = first ? (double)(first->mono_ns - f->start) / 1e9 : NAN;
    if (farr) {
        cJSON *o = cJSON_GetArrayItem(farr, cJSON_GetArraySize(farr) - 1);
        cJSON *m = cJSON_AddObjectToObject(o, "machine");
        if (first) {
            cJSON_AddNumberToObject(m, "detect_s", mttd);
            cJSON_AddStringToObject(m, "detector", first->detector);
            cJSON_AddStringToObject(m, "label", first->label);
        } else {
            cJSON_AddNullToObject(m, "detect_s");
        }
        cJSON_AddNumberToObject(m, "diagnosis_rank", (double)rank);
        cJSON_AddStringToObject(m, "root_cause", !rd ? "" : rd->healthy ? "healthy"
                                                                : rd->causes[0].label);
        return;
    }
    if (first)
        fprintf(out, "    machine: detected %s (%s) %.1fs after fired", first->label,
                first->detector, mttd);
    else
        fprintf(out, "    machine: no detection named its effect");
    if (!rd)
        fprintf(out, "; no diagnosis\n");
    else if (rank == 1)
        fprintf(out, "; diagnosis names it (root cause %s)\n", rd->causes[0].label);
    else
        fprintf(out, "; diagnosis %s (root cause %s)\n", rank ? "ranks it lower" : "misses it",
                rd->healthy ? "healthy" : rd->causes[0].label);
}

/* The run's diagnosis as `moni diagnose` gives it, from the detections already
 * replayed for the dataset.  NULL when the logs cannot be read. */
static struct run_diagnosis *diagnose_for_validate(const struct ds *d)
{
    char err[512];
    struct lp_rules *rules =
        lp_rules_load(NULL, 0, LP_LOAD_BUILTIN | LP_LOAD_USER, err, sizeof err);
    struct run_diagnosis *rd = rules ? malloc(sizeof *rd) : NULL;
    struct lp_diagnosis *logd =
        rd ? run_diagnose_dir(rules, d->dir, NULL, true, d->dets, d->ndets, rd, err, sizeof err)
           : NULL;
    if (!logd) {
        free(rd);
        rd = NULL;
    }
    lp_diagnosis_free(logd);
    lp_rules_free(rules);
    return rd;
}

/* The run's figures: rows, gaps, time, torn lines.  Returns the problems found. */
static int report_run(const struct ds *d, const char *run_dir, const char *baseline_dir,
                      cJSON *root, FILE *out)
{
    size_t anomalous = 0;
    for (size_t r = 0; r < d->nrows; r++)
        anomalous += d->anomaly[r];
    if (root) {
        cJSON_AddStringToObject(root, "run", run_dir);
        cJSON_AddNumberToObject(root, "rows", (double)d->nrows);
        cJSON_AddNumberToObject(root, "samples", (double)d->nsamples);
        cJSON_AddNumberToObject(root, "columns", (double)d->ncols + 2);
        cJSON_AddNumberToObject(root, "gap_rows", (double)d->gap_cells);
        cJSON_AddNumberToObject(root, "gaps", (double)d->gap_runs);
        cJSON_AddNumberToObject(root, "late_ticks", (double)d->late_ticks);
        cJSON_AddNumberToObject(root, "nonmonotonic", (double)d->nonmonotonic);
        cJSON_AddNumberToObject(root, "bad_lines", (double)d->bad_lines);
        cJSON_AddNumberToObject(root, "anomalous_rows", (double)anomalous);
        cJSON_AddBoolToObject(root, "incomplete", d->incomplete);
        cJSON_AddStringToObject(root, "torn", d->torn);
        if (baseline_dir)
            cJSON_AddStringToObject(root, "baseline", baseline_dir);
    } else {
        fprintf(out, "%s\n", run_dir);
        fprintf(out, "  rows %zu (grid %.3gs), samples %zu, columns %zu, anomalous rows %zu%s\n",
                d->nrows, (double)d->grid_ns / 1e9, d->nsamples, d->ncols + 2, anomalous,
                d->global_label[0] ? " (global label)" : "");
        fprintf(out, "  gaps: %zu empty rows in %zu runs; %zu sampling gaps; %zu late ticks\n",
                d->gap_cells, d->gap_runs, d->raw_gaps, d->late_ticks);
        fprintf(out, "  time: %s; %zu unreadable or torn lines%s\n",
                d->nonmonotonic ? "NOT monotonic" : "monotonic", d->bad_lines,
                d->incomplete ? "; run incomplete (killed or still running)" : "");
    }
    int problems = 0;
    if (d->nonmonotonic)
        problems++;
    if (d->ntorn) { /* a write cut short: moni killed mid-line, or the disk filled up */
        problems++;
        if (!root)
            fprintf(out, "  TORN LINES: %s (a write was cut short: killed or disk full)\n",
                    d->torn);
    }
    if (!d->nrows) {
        problems++; /* the workload died before the first tick, or nothing was sampled */
        if (!root)
            fprintf(out, "  NO ROWS: nothing was sampled\n");
    }
    if (d->nrows && d->gap_cells * 20 > d->nrows) /* more than 5% of the grid empty */
        problems++;
    return problems;
}

/* Baseline rows: outside every fault window (and the point faults' aftermath). */
static unsigned char *outside_mask(const struct ds *d)
{
    unsigned char *inside = calloc(d->nrows + 1, 1);
    for (size_t i = 0; inside && i < d->nfaults; i++) {
        const struct ds_fault *f = &d->faults[i];
        if (!f->labelled)
            continue;
        size_t a = ds_row_of(d, f->start);
        size_t e = f->label_kind == DS_LABEL_POINT ? d->nrows - 1 : ds_row_of(d, f->effect_end);
        for (size_t r = a; r <= e && r < d->nrows; r++)
            inside[r] = 1;
    }
    return inside;
}

/* Rows of the fault's window [a, e] that are labelled and have samples. */
static double label_coverage(const struct ds *d, const struct ds_fault *f, size_t a, size_t e)
{
    size_t want = e - a + 1, have = 0;
    size_t e_lab = f->label_kind == DS_LABEL_POINT ? a : e;
    for (size_t r = a; r <= e_lab && r < d->nrows; r++) {
        bool sampled = false;
        for (size_t c = 0; c < d->ncols && !sampled; c++)
            sampled = d->cols[c].kind == DS_GAUGE && d->valid[r * d->ncols + c];
        if (d->anomaly[r] && sampled)
            have++;
    }
    if (f->label_kind == DS_LABEL_POINT)
        want = 1;
    return want ? (double)have / (double)want : 0;
}

/* The channels that moved in rows [a, e] against the baseline run b (or, when b is
 * NULL, the run's rows outside the mask), largest effect first. */
static size_t moved_channels(const struct ds *d, const struct ds *b, const unsigned char *inside,
                             size_t a, size_t e, struct moved *mv)
{
    size_t nmv = 0;
    for (size_t c = 0; c < d->ncols; c++) {
        double mb, sb, mw, sw;
        size_t nb;
        if (b) {
            int bc = ds_find_col(b, d->cols[c].name);
            if (bc < 0)
                continue;
            nb = ds_stats(b, (size_t)bc, 0, b->nrows, NULL, &mb, &sb);
        } else {
            nb = ds_stats(d, c, 0, d->nrows, inside, &mb, &sb);
        }
        size_t nw = ds_stats(d, c, a, e + 1, NULL, &mw, &sw);
        if (nb < 3 || nw < 1)
            continue;
        double es = effect_size(mb, sb, mw, sw);
        if (fabs(es) >= EFFECT_MIN)
            mv[nmv++] = (struct moved){(int)c, es, mb, mw};
    }
    if (nmv)
        qsort(mv, nmv, sizeof *mv, cmp_moved);
    return nmv;
}

/* One fault: fired, coverage, effect.  Returns the problems found. */
static int report_fault(const struct ds *d, const struct ds *b, const unsigned char *inside,
                        const struct ds_fault *f, cJSON *farr, FILE *out)
{
    if (!f->labelled) {
        if (farr)
            json_fault(farr, d, f, 0, NULL, 0, false);
        else
            fprintf(out, "  fault %s %s: NEVER FIRED (armed %s)\n", f->id, f->kind,
                    f->failed ? "then failed" : "only");
        return 1;
    }
    int problems = 0;
    size_t a = ds_row_of(d, f->start);
    size_t e = f->label_kind == DS_LABEL_POINT ? (a + 5 < d->nrows ? a + 5 : d->nrows - 1)
                                               : ds_row_end_of(d, f->start, f->end);
    double coverage = label_coverage(d, f, a, e);
    if (coverage < 0.9)
        problems++;
    struct moved *mv = calloc(d->ncols + 1, sizeof *mv);
    size_t nmv = mv ? moved_channels(d, b, inside, a, e, mv) : 0;
    bool no_effect = nmv == 0;
    if (no_effect)
        problems++;
    if (farr) {
        json_fault(farr, d, f, coverage, mv, nmv, no_effect);
    } else {
        fprintf(out, "  fault %s %s (%s, %.1fs): label coverage %.0f%%%s\n", f->id, f->kind,
                f->label_kind == DS_LABEL_POINT ? "point" : "interval",
                (double)(f->end - f->start) / 1e9, 100 * coverage, coverage < 0.9 ? " LOW" : "");
        if (no_effect)
            fprintf(out, "    NO VISIBLE EFFECT: no channel moved against the %s\n",
                    b ? "baseline run" : "rows outside the fault windows");
        for (size_t k = 0; k < nmv && k < TOP_CHANNELS; k++)
            fprintf(out, "    %-28s effect %+6.1f  (%.4g -> %.4g)\n", d->cols[mv[k].col].name,
                    mv[k].d, mv[k].base, mv[k].win);
        if (nmv > TOP_CHANNELS)
            fprintf(out, "    ... and %zu more channels\n", nmv - TOP_CHANNELS);
    }
    free(mv);
    return problems;
}

int dataset_validate(const char *run_dir, const char *baseline_dir, int64_t grid_ns, FILE *out,
                     bool json, char *err, size_t errlen)
{
    struct ds d, b;
    bool have_base = false;
    if (ds_load(&d, run_dir, grid_ns, err, errlen) < 0)
        return -1;
    if (baseline_dir && strcmp(baseline_dir, run_dir)) {
        char e2[512];
        if (ds_load(&b, baseline_dir, grid_ns, e2, sizeof e2) == 0)
            have_base = true;
        else if (!json)
            fprintf(out, "  baseline %s: unusable (%s); using the run's own rows\n", baseline_dir,
                    e2);
    }
    cJSON *root = json ? cJSON_CreateObject() : NULL;
    int problems = report_run(&d, run_dir, have_base ? baseline_dir : NULL, root, out);
    unsigned char *inside = outside_mask(&d);
    cJSON *farr = json ? cJSON_AddArrayToObject(root, "faults") : NULL;
    if (!json && !d.nfaults)
        fprintf(out, "  faults: none journalled%s\n",
                d.global_label[0] ? "" : " (a baseline run?)");
    struct run_diagnosis *rd = d.nfaults ? diagnose_for_validate(&d) : NULL;
    for (size_t i = 0; i < d.nfaults; i++) {
        problems += report_fault(&d, have_base ? &b : NULL, inside, &d.faults[i], farr, out);
        report_machine(&d, &d.faults[i], rd, farr, out);
    }
    free(rd);
    free(inside);
    if (json) {
        cJSON_AddNumberToObject(root, "problems", problems);
        char *text = cJSON_Print(root);
        if (text) {
            fprintf(out, "%s\n", text);
            free(text);
        }
        cJSON_Delete(root);
    } else {
        fprintf(out, "  %s\n", problems ? "PROBLEMS FOUND" : "ok");
    }
    if (have_base)
        ds_free(&b);
    ds_free(&d);
    return problems;
}
