/* core/dataset-labels.c — the dataset's ground truth: the faults read from the
 * injector journal (faults.jsonl, through core/rundir) and the plan's labels in
 * meta.json, their label windows, and the channels each fault moved (effect_end).
 * Labels come only from the journal and the plan, never from log events.  A fault's
 * label kind is the journal's (which core/rundir fills from the kind's descriptor,
 * fault_ops.label_kind, for old journals), never derived from the kind's name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/dataset-int.h"

static struct ds_fault *fault_get(struct ds *d, const char *id)
{
    for (size_t i = 0; i < d->nfaults; i++)
        if (!strcmp(d->faults[i].id, id))
            return &d->faults[i];
    struct ds_fault *f = realloc(d->faults, (d->nfaults + 1) * sizeof *f);
    if (!f)
        return NULL;
    d->faults = f;
    f = &d->faults[d->nfaults++];
    memset(f, 0, sizeof *f);
    ds_copy(f->id, sizeof f->id, id);
    f->requested_dose = f->delivered_dose = NAN;
    f->label_kind = DS_LABEL_INTERVAL;
    return f;
}

static void params_text(const cJSON *params, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    const cJSON *p;
    cJSON_ArrayForEach(p, params)
    {
        char val[128];
        if (cJSON_IsString(p))
            ds_copy(val, sizeof val, p->valuestring);
        else if (cJSON_IsNumber(p))
            snprintf(val, sizeof val, "%.10g", p->valuedouble);
        else if (cJSON_IsBool(p))
            ds_copy(val, sizeof val, cJSON_IsTrue(p) ? "true" : "false");
        else
            continue;
        /* ';' separates pairs; keep the CSV field free of commas and quotes */
        for (char *c = val; *c; c++)
            if (*c == ',' || *c == '"' || *c == ';' || *c == '\n')
                *c = ' ';
        int w = snprintf(out + n, len - n, "%s%s=%s", n ? ";" : "", p->string, val);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

/* "point", "interval" or "global" as journalled or in meta.json's plan labels; -1
 * when it is none of these. */
static int label_kind_of(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "point"))
        return DS_LABEL_POINT;
    if (!strcmp(name, "interval"))
        return DS_LABEL_INTERVAL;
    if (!strcmp(name, "global"))
        return DS_LABEL_GLOBAL;
    return -1;
}

/* The first occurrence of each transition counts (a re-fire keeps the start); the
 * journal's wall stamp of it is kept so ground_truth.csv repeats it exactly. */
static void note_transition(struct ds_fault *f, const char *ev, int64_t t, const char *ts)
{
    static const char *const names[] = {"fired", "effective", "stopped", "reverted", "failed"};
    int64_t *slots[] = {&f->fired, &f->effective, &f->stopped, &f->reverted, &f->failed};
    int64_t *slot = !strcmp(ev, "armed") ? &f->armed : NULL;
    int k = -1;
    for (int i = 0; i < 5 && !slot; i++)
        if (!strcmp(ev, names[i])) {
            slot = slots[i];
            k = i;
        }
    if (!slot || !t || *slot)
        return;
    *slot = t;
    if (k >= 0 && *ts && strlen(ts) < sizeof f->stamp_iso[k]) {
        f->stamp_mono[k] = t;
        ds_copy(f->stamp_iso[k], sizeof f->stamp_iso[k], ts);
    }
}

void ds_read_journal(struct ds *d, struct rundir_jsonl *journal)
{
    struct rundir_fault rec;
    int rc;
    while ((rc = rundir_fault_next(journal, &rec)) != 0) {
        if (rc < 0) {
            d->bad_lines++;
            continue;
        }
        struct ds_fault *f = fault_get(d, rec.fault_id);
        if (!f)
            continue;
        int64_t t = rundir_mono(&rec.t, d->offset_ns);
        if (*rec.kind && !f->kind[0])
            ds_copy(f->kind, sizeof f->kind, rec.kind);
        if (*rec.target && !f->target[0])
            ds_copy(f->target, sizeof f->target, rec.target);
        if (rec.params && !f->params[0])
            params_text(rec.params, f->params, sizeof f->params);
        if (!isnan(rec.requested_dose))
            f->requested_dose = rec.requested_dose;
        if (!isnan(rec.delivered_dose))
            f->delivered_dose = rec.delivered_dose;
        if (*rec.root_cause)
            ds_copy(f->root_cause, sizeof f->root_cause, rec.root_cause);
        if (*rec.stage)
            ds_copy(f->stage, sizeof f->stage, rec.stage);
        /* journalled, or (older journals) the kind's descriptor's: rundir_journal_compat */
        int lk = label_kind_of(rec.label_kind);
        if (lk == DS_LABEL_POINT || lk == DS_LABEL_INTERVAL)
            f->label_kind = (enum ds_label_kind)lk;
        note_transition(f, rec.event, t, rec.t.iso);
    }
    ds_note_torn(d, &journal->l);
}

/* Per-fault labels the runner put in meta.json: experiment_labels.faults[] =
 * {fault_id, root_cause, expected_failure_stage, label_kind}. */
void ds_apply_meta_labels(struct ds *d, const struct rundir_meta *meta)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, meta->fault_labels)
    {
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(it, "fault_id");
        const char *id = cJSON_IsString(idv) ? idv->valuestring : NULL;
        for (size_t i = 0; id && i < d->nfaults; i++) {
            struct ds_fault *f = &d->faults[i];
            if (strcmp(f->id, id))
                continue;
            const cJSON *rc = cJSON_GetObjectItemCaseSensitive(it, "root_cause");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "expected_failure_stage");
            const cJSON *lkv = cJSON_GetObjectItemCaseSensitive(it, "label_kind");
            if (cJSON_IsString(rc) && !f->root_cause[0])
                ds_copy(f->root_cause, sizeof f->root_cause, rc->valuestring);
            if (cJSON_IsString(st) && !f->stage[0])
                ds_copy(f->stage, sizeof f->stage, st->valuestring);
            int lk = label_kind_of(cJSON_IsString(lkv) ? lkv->valuestring : NULL);
            if (lk == DS_LABEL_POINT || lk == DS_LABEL_INTERVAL)
                f->label_kind = (enum ds_label_kind)lk;
        }
    }
}

/* ---- windows and effects ------------------------------------------------------------- */

size_t ds_row_end_of(const struct ds *d, int64_t start, int64_t end)
{
    /* a window ending exactly on a cell boundary does not reach into that cell */
    return ds_row_of(d, end > start ? end - 1 : end);
}

/* Which channels moved inside the fault's window compared with the rows outside
 * every fault window (effect size), and how long after its end they stayed away
 * from that baseline (effect_end). */
struct base_stats {
    double mean, sd;
    size_t n;
};

/* Moving averages of the kernel (load1/5/15, PSI's avg10/60/300) trail the effect by
 * design: they say an effect happened, never when it ended. */
static bool lags_by_design(const char *name)
{
    return !strcmp(name, "load1") || !strcmp(name, "load5") || !strcmp(name, "load15") ||
           (!strncmp(name, "psi_", 4) && strstr(name, "_avg"));
}

static void fault_effects(struct ds *d, struct ds_fault *f, const struct base_stats *bs)
{
    size_t a = ds_row_of(d, f->start);
    size_t b = f->label_kind == DS_LABEL_POINT ? a + 5 : ds_row_end_of(d, f->start, f->end);
    if (b >= d->nrows)
        b = d->nrows ? d->nrows - 1 : 0;
    size_t n = 0;
    f->affected[0] = '\0';
    size_t nmoved = 0;
    int moved[64];
    double bmean[64], bsd[64];
    for (size_t c = 0; c < d->ncols; c++) {
        double mb = bs[c].mean, sb = bs[c].sd, mw, sw;
        size_t nb = bs[c].n;
        size_t nw = ds_stats(d, c, a, b + 1, NULL, &mw, &sw);
        if (nb < 3 || nw < 1)
            continue;
        double diff = fabs(mw - mb);
        double pooled = sqrt((sb * sb + sw * sw) / 2);
        bool big = pooled > 1e-12 ? diff / pooled >= 1.0 : diff > 1e-9;
        if (!big || diff < 0.05 * fabs(mb) + 1e-9)
            continue;
        int w = snprintf(f->affected + n, sizeof f->affected - n, "%s%s", n ? ";" : "",
                         d->cols[c].name);
        if (w > 0 && (size_t)w < sizeof f->affected - n)
            n += (size_t)w;
        if (nmoved < MONI_ARRAY_LEN(moved) && !lags_by_design(d->cols[c].name)) {
            moved[nmoved] = (int)c;
            bmean[nmoved] = mb;
            bsd[nmoved] = sb;
            nmoved++;
        }
    }
    f->effect_end = f->end;
    if (f->label_kind != DS_LABEL_INTERVAL || !nmoved)
        return;
    /* extend while any moved channel (not a lagging average) stays beyond 3 sd (and
     * 5%) of its baseline, for at most the fault's own length plus 30 s */
    size_t limit = b + (b - a + 1) + (size_t)(30 * MONI_NS_PER_SEC / d->grid_ns);
    size_t r = b + 1;
    for (; r < d->nrows && r <= limit; r++) {
        if (d->phase[r] == DS_PH_FINISHED || d->phase[r] == DS_PH_IDLE ||
            d->phase[r] == DS_PH_DEAD)
            break; /* the job is not running: nothing of it can stay away */
        bool away = false;
        for (size_t k = 0; k < nmoved && !away; k++) {
            double v;
            if (!ds_get(d, r, (size_t)moved[k], &v) || !isfinite(v))
                continue;
            double dev = fabs(v - bmean[k]);
            away = dev > 3 * bsd[k] && dev > 0.05 * fabs(bmean[k]) + 1e-9;
        }
        if (!away)
            break;
    }
    if (r > b + 1)
        f->effect_end = d->t0_mono + (int64_t)r * d->grid_ns;
}

void ds_compute_labels(struct ds *d)
{
    int64_t last = d->t0_mono + (int64_t)d->nrows * d->grid_ns;
    unsigned char *inside = calloc(d->nrows + 1, 1);
    for (size_t i = 0; i < d->nfaults; i++) {
        struct ds_fault *f = &d->faults[i];
        int64_t start = f->fired ? f->fired : f->effective;
        f->labelled = start != 0;
        if (!f->labelled)
            continue;
        f->start = start;
        if (f->label_kind == DS_LABEL_POINT)
            f->end = start;
        else if (f->stopped)
            f->end = f->stopped;
        else if (f->reverted)
            f->end = f->reverted;
        else if (f->failed && f->failed > start)
            f->end = f->failed;
        else
            f->end = d->last_mono > start ? d->last_mono : last; /* still on at the end */
        if (f->end < f->start)
            f->end = f->start;
        if (inside && d->nrows) {
            size_t a = ds_row_of(d, f->start), b = ds_row_end_of(d, f->start, f->end);
            if (f->label_kind == DS_LABEL_POINT)
                b = a + 10 < d->nrows ? a + 10 : d->nrows - 1;
            for (size_t r = a; r <= b; r++)
                inside[r] = 1;
        }
    }
    /* the baseline (rows outside every window) is the same for every fault: the
     * rows where the job runs when there are enough of them, so that its idle and
     * finished rows do not hide what a fault did to its CPU share or progress */
    size_t running = 0;
    for (size_t r = 0; inside && r < d->nrows; r++) {
        bool run = d->phase[r] == DS_PH_TRAIN || d->phase[r] == DS_PH_EVAL ||
                   d->phase[r] == DS_PH_CKPT;
        if (!run && !inside[r])
            inside[r] = 2; /* outside the baseline, not in a window */
        running += run && !inside[r];
    }
    for (size_t r = 0; inside && running < 10 && r < d->nrows; r++)
        if (inside[r] == 2)
            inside[r] = 0; /* too few running rows: every row outside the windows */
    struct base_stats *bs = d->nfaults && inside ? calloc(d->ncols + 1, sizeof *bs) : NULL;
    for (size_t c = 0; bs && c < d->ncols; c++)
        bs[c].n = ds_stats(d, c, 0, d->nrows, inside, &bs[c].mean, &bs[c].sd);
    for (size_t i = 0; bs && i < d->nfaults; i++)
        if (d->faults[i].labelled && d->nrows)
            fault_effects(d, &d->faults[i], bs);
    free(bs);
    free(inside);
    for (size_t i = 0; i < d->nfaults; i++) {
        struct ds_fault *f = &d->faults[i];
        if (!f->labelled || !d->nrows)
            continue;
        size_t a = ds_row_of(d, f->start);
        size_t b = f->label_kind == DS_LABEL_POINT ? a : ds_row_end_of(d, f->start, f->effect_end);
        for (size_t r = a; r <= b; r++)
            d->anomaly[r] = 1;
    }
    if (d->global_label[0])
        memset(d->anomaly, 1, d->nrows);
}


const char *ds_label_kind_name(enum ds_label_kind k)
{
    return k == DS_LABEL_POINT ? "point" : k == DS_LABEL_GLOBAL ? "global" : "interval";
}

bool ds_fault_covers(const struct ds *d, const struct ds_fault *f, size_t r)
{
    if (!f->labelled)
        return false;
    size_t a = ds_row_of(d, f->start);
    size_t b = f->label_kind == DS_LABEL_POINT ? a : ds_row_end_of(d, f->start, f->effect_end);
    return r >= a && r <= b;
}
