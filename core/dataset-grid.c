/* core/dataset-grid.c — the dataset's grid: its columns (samples, counters as rates,
 * log rate and heartbeat age, training metrics, event flags) and the phase per row,
 * filled from the records core/dataset.c reads through core/rundir.  Every record
 * is placed by its CLOCK_MONOTONIC stamp; a cell nothing reached stays missing. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/dataset-int.h"

const char *const ds_phase_names[] = {"idle",    "startup",  "train", "eval", "checkpoint",
                                      "crashed", "finished", "dead",  NULL};

/* Training metrics taken from events.jsonl metric records: column, then the field
 * names (as normalised by the log parser, plus common aliases). */
static const struct {
    const char *col;
    const char *fields[4];
} train_cols[] = {
    {"loss", {"loss", NULL}},
    {"grad_norm", {"grad_norm", NULL}},
    {"learning_rate", {"learning_rate", "lr", NULL}},
    {"throughput_samples_per_s", {"samples_per_s", "samples_per_second", "throughput", NULL}},
    {"throughput_it_per_s", {"it_per_s", "steps_per_s", "steps_per_second", NULL}},
    {"eval_loss", {"eval_loss", NULL}},
    {"eval_accuracy", {"eval_accuracy", "accuracy", "eval_acc", NULL}},
};

/* Event flags: a record sets the flag when it carries one of the root-cause labels
 * or (for the severity flags) has that severity. */
static const struct {
    const char *col;
    const char *labels[4];
    const char *severity[3];
} flag_cols[] = {
    {"event_oom", {"CUDA_OutOfMemory", "Host_OOM", NULL}, {NULL}},
    {"event_nan", {"NaN_Loss", NULL}, {NULL}},
    {"event_timeout", {"NCCL_Timeout", "Network_Timeout", "DataLoader_Stuck", NULL}, {NULL}},
    {"event_io_error", {"Disk_Full", "Permission_Denied", "Checkpoint_Corrupt", NULL}, {NULL}},
    {"event_killed", {"Process_Killed", NULL}, {NULL}},
    {"event_warning", {NULL}, {"warning", NULL}},
    {"event_error", {NULL}, {"error", "critical", NULL}},
};


/* ---- columns ------------------------------------------------------------------- */

int ds_add_col(struct ds *d, const char *name, enum ds_kind kind)
{
    struct ds_col *c = realloc(d->cols, (d->ncols + 1) * sizeof *c);
    if (!c)
        return -1;
    d->cols = c;
    c[d->ncols].name = strdup(name);
    c[d->ncols].kind = kind;
    if (!c[d->ncols].name)
        return -1;
    return (int)d->ncols++;
}

int ds_find_col(const struct ds *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (!strcmp(d->cols[i].name, name))
            return (int)i;
    return -1;
}

size_t ds_row_of(const struct ds *d, int64_t mono)
{
    if (mono <= d->t0_mono || d->nrows == 0)
        return 0;
    size_t r = (size_t)((mono - d->t0_mono) / d->grid_ns);
    return r >= d->nrows ? d->nrows - 1 : r;
}

size_t ds_stats(const struct ds *d, size_t col, size_t a, size_t b, const unsigned char *skip,
                double *mean, double *sd)
{
    double s = 0, ss = 0;
    size_t n = 0;
    for (size_t r = a; r < b && r < d->nrows; r++) {
        double v;
        if ((skip && skip[r]) || !ds_get(d, r, col, &v) || !isfinite(v))
            continue;
        s += v;
        ss += v * v;
        n++;
    }
    *mean = n ? s / (double)n : NAN;
    double var = n > 1 ? (ss - s * s / (double)n) / (double)(n - 1) : 0;
    *sd = var > 0 ? sqrt(var) : 0;
    return n;
}


/* "disk_read_total" -> "disk_read_per_s", "psi_io_some_total_us" -> "psi_io_some_us_per_s",
 * "gpu0_ecc_corrected" -> "gpu0_ecc_corrected_per_s" */
static void counter_rate_name(const char *name, char *out, size_t len)
{
    const char *t = strstr(name, "_total");
    if (!t)
        snprintf(out, len, "%s_per_s", name);
    else
        snprintf(out, len, "%.*s%s_per_s", (int)(t - name), name, t + 6);
}


/* ---- the grid ----------------------------------------------------------------------- */

int ds_grid_alloc(struct ds *d)
{
    size_t n = d->nrows * d->ncols;
    d->val = calloc(n ? n : 1, sizeof *d->val);
    d->valid = calloc(n ? n : 1, 1);
    d->phase = calloc(d->nrows ? d->nrows : 1, 1);
    d->anomaly = calloc(d->nrows ? d->nrows : 1, 1);
    return d->val && d->valid && d->phase && d->anomaly ? 0 : -1;
}

void ds_fill_samples(struct ds *d, const struct ds_raw *rs, const int *colmap)
{
    size_t nc = rs->ncols;
    uint32_t *cnt = calloc(d->nrows * nc + 1, sizeof *cnt);
    double *sum = calloc(d->nrows * nc + 1, sizeof *sum);
    int64_t *last_t = calloc(nc + 1, sizeof *last_t);   /* counters: previous cell's last */
    double *last_v = calloc(nc + 1, sizeof *last_v);
    int64_t *cell_t = calloc(d->nrows * nc + 1, sizeof *cell_t);
    double *cell_v = calloc(d->nrows * nc + 1, sizeof *cell_v);
    if (!cnt || !sum || !last_t || !last_v || !cell_t || !cell_v)
        goto out;
    int64_t prev = 0;
    for (size_t i = 0; i < rs->n; i++) {
        int64_t t = rs->mono[i];
        if (i && t <= prev)
            d->nonmonotonic++;
        if (i && d->interval_ns && t - prev > d->interval_ns + d->interval_ns / 2)
            d->raw_gaps++;
        if (i && d->interval_ns && t - prev > d->interval_ns + d->interval_ns / 10 &&
            t - prev <= d->interval_ns + d->interval_ns / 2)
            d->late_ticks++;
        prev = t;
        if (t < d->t0_mono)
            continue;
        size_t r = ds_row_of(d, t);
        const double *v = rs->val + i * nc;
        const unsigned char *ok = rs->valid + i * nc;
        for (size_t c = 0; c < nc; c++) {
            if (!ok[c])
                continue;
            size_t k = r * nc + c;
            if (rs->counter[c]) {
                cell_t[k] = t;
                cell_v[k] = v[c];
            } else {
                sum[k] += v[c];
                cnt[k]++;
            }
        }
    }
    for (size_t r = 0; r < d->nrows; r++) {
        for (size_t c = 0; c < nc; c++) {
            if (colmap[c] < 0)
                continue; /* left out: no sample fills it */
            size_t k = r * nc + c, o = r * d->ncols + (size_t)colmap[c];
            if (rs->counter[c]) {
                if (!cell_t[k])
                    continue;
                if (last_t[c] && cell_t[k] > last_t[c] && cell_v[k] >= last_v[c]) {
                    d->val[o] = (cell_v[k] - last_v[c]) * 1e9 / (double)(cell_t[k] - last_t[c]);
                    d->valid[o] = 1;
                }
                last_t[c] = cell_t[k];
                last_v[c] = cell_v[k];
            } else if (cnt[k]) {
                d->val[o] = sum[k] / cnt[k];
                d->valid[o] = 1;
            }
        }
    }
out:
    free(cnt);
    free(sum);
    free(last_t);
    free(last_v);
    free(cell_t);
    free(cell_v);
}

/* Rows that received no sample: count them and their runs. */
void ds_count_gaps(struct ds *d, const struct ds_raw *rs)
{
    unsigned char *hit = calloc(d->nrows + 1, 1);
    if (!hit)
        return;
    for (size_t i = 0; i < rs->n; i++)
        if (rs->mono[i] >= d->t0_mono)
            hit[ds_row_of(d, rs->mono[i])] = 1;
    d->gap_cells = d->gap_runs = 0;
    for (size_t r = 0; r < d->nrows; r++) {
        if (hit[r])
            continue;
        d->gap_cells++;
        if (r == 0 || hit[r - 1])
            d->gap_runs++;
    }
    free(hit);
}

void ds_fill_log_index(struct ds *d, struct rundir_lines *idx, int col_rate, int col_age)
{
    uint32_t *cnt = calloc(d->nrows + 1, sizeof *cnt);
    int64_t *last = calloc(d->nrows + 1, sizeof *last);
    if (!cnt || !last)
        goto out;
    struct rundir_idx x;
    int rc;
    while ((rc = rundir_idx_next(idx, &x)) != 0) {
        int64_t mono = rc > 0 ? (x.mono ? x.mono : x.real - d->offset_ns) : 0;
        if (!mono) {
            d->bad_lines++;
            continue;
        }
        d->nlog_lines++;
        if (!d->workload_start)
            d->workload_start = mono; /* refined by meta.json when present */
        if (!d->nrows || mono < d->t0_mono)
            continue;
        size_t r = ds_row_of(d, mono);
        cnt[r]++;
        if (mono > last[r])
            last[r] = mono;
    }
    int64_t seen = 0;
    double g = (double)d->grid_ns / 1e9;
    for (size_t r = 0; r < d->nrows; r++) {
        size_t o = r * d->ncols;
        d->val[o + (size_t)col_rate] = cnt[r] / g;
        d->valid[o + (size_t)col_rate] = 1;
        if (last[r])
            seen = last[r];
        if (seen && col_age >= 0) {
            int64_t cell_end = d->t0_mono + (int64_t)(r + 1) * d->grid_ns;
            if (d->workload_end && cell_end > d->workload_end)
                continue; /* no heartbeat to speak of once the workload is gone */
            d->val[o + (size_t)col_age] = (double)(cell_end - seen) / 1e9;
            d->valid[o + (size_t)col_age] = 1;
        }
    }
out:
    ds_note_torn(d, idx);
    free(cnt);
    free(last);
}

static bool has_label(const cJSON *labels, const char *name)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, labels)
    {
        if (cJSON_IsString(l) && !strcmp(l->valuestring, name))
            return true;
    }
    return false;
}

static int phase_of_name(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "startup"))
        return DS_PH_STARTUP;
    if (!strcmp(name, "train") || !strcmp(name, "rollout") || !strcmp(name, "weight_update"))
        return DS_PH_TRAIN;
    if (!strcmp(name, "eval"))
        return DS_PH_EVAL;
    if (!strncmp(name, "checkpoint", 10))
        return DS_PH_CKPT;
    if (!strcmp(name, "finished"))
        return DS_PH_FINISHED;
    if (!strcmp(name, "crashed"))
        return DS_PH_CRASHED;
    return -1;
}

/* Training-metric sums of the grid (mean per cell at the end). */
struct train_acc {
    double *sum;
    uint32_t *cnt;
};

/* A metric record: its training metrics into the cell (NaN loss sets event_nan);
 * returns the phase it implies, or -1. */
static int metric_record(struct ds *d, struct train_acc *acc, const cJSON *fields, size_t r,
                         bool in_grid, int flag0)
{
    size_t ntrain = MONI_ARRAY_LEN(train_cols);
    bool eval = false, trainrec = false;
    for (size_t c = 0; c < ntrain; c++) {
        for (size_t a = 0; train_cols[c].fields[a]; a++) {
            double v;
            if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(fields, train_cols[c].fields[a]),
                                 &v))
                continue;
            if (!strncmp(train_cols[c].col, "eval_", 5))
                eval = true;
            else if (!strcmp(train_cols[c].col, "loss"))
                trainrec = true;
            if ((!strcmp(train_cols[c].col, "loss") || !strcmp(train_cols[c].col, "grad_norm")) &&
                !isfinite(v) && in_grid) {
                d->val[r * d->ncols + (size_t)flag0 + 1] = 1; /* event_nan */
            }
            if (!strcmp(train_cols[c].col, "loss") && in_grid) {
                /* loss_nan (just before the flags): a NaN loss is not a missing one */
                size_t k = r * d->ncols + (size_t)flag0 - 1;
                d->valid[k] = 1;
                if (!isfinite(v))
                    d->val[k] = 1;
            }
            if (in_grid) {
                acc->sum[r * ntrain + c] += v;
                acc->cnt[r * ntrain + c]++;
            }
            break;
        }
    }
    /* a training dict after an eval/checkpoint means training resumed; an eval dict
     * closes the evaluation */
    return trainrec ? DS_PH_TRAIN : eval ? DS_PH_EVAL : -1;
}

/* Any other record sets the event flags its labels or severity name. */
static void flag_record(struct ds *d, const struct rundir_event *ev, size_t r, int flag0)
{
    for (size_t f = 0; f < MONI_ARRAY_LEN(flag_cols); f++) {
        bool hit = false;
        for (size_t a = 0; flag_cols[f].labels[a] && !hit; a++)
            hit = has_label(ev->labels, flag_cols[f].labels[a]);
        for (size_t a = 0; flag_cols[f].severity[a] && !hit; a++)
            hit = !strcmp(ev->severity, flag_cols[f].severity[a]);
        if (hit)
            d->val[r * d->ncols + (size_t)flag0 + f] = 1;
    }
}

static int add_phase_change(struct ds_phase_change **pc, size_t *npc, size_t *pcap, int64_t t,
                            int phase)
{
    if (*npc == *pcap) {
        size_t nc = *pcap ? *pcap * 2 : 64;
        struct ds_phase_change *p2 = realloc(*pc, nc * sizeof *p2);
        if (!p2)
            return -1;
        *pc = p2;
        *pcap = nc;
    }
    (*pc)[(*npc)++] = (struct ds_phase_change){t, phase};
    return 0;
}

void ds_fill_events(struct ds *d, struct rundir_jsonl *evr, int train0, int flag0,
                    struct ds_phase_change **pc, size_t *npc)
{
    size_t ntrain = MONI_ARRAY_LEN(train_cols), nflag = MONI_ARRAY_LEN(flag_cols);
    struct train_acc acc = {calloc(d->nrows * ntrain + 1, sizeof *acc.sum),
                            calloc(d->nrows * ntrain + 1, sizeof *acc.cnt)};
    size_t pcap = 0;
    if (!acc.sum || !acc.cnt)
        goto out;
    /* flags are known (0) wherever the log was parsed */
    for (size_t r = 0; r < d->nrows; r++)
        for (size_t f = 0; f < nflag; f++)
            d->valid[r * d->ncols + (size_t)flag0 + f] = 1;
    struct rundir_event ev;
    int rc;
    while ((rc = rundir_event_next(evr, &ev)) != 0) {
        int64_t t = rc > 0 ? rundir_mono(&ev.t, d->offset_ns) : 0;
        if (!t) {
            d->bad_lines++;
            continue;
        }
        d->nevents++;
        bool in_grid = d->nrows && t >= d->t0_mono;
        size_t r = ds_row_of(d, t);
        int newphase = -1;
        if (!strcmp(ev.kind, "phase"))
            newphase = phase_of_name(*ev.phase ? ev.phase : ev.event);
        else if (!strcmp(ev.kind, "metric"))
            newphase = metric_record(d, &acc, ev.fields, r, in_grid, flag0);
        else if (in_grid)
            flag_record(d, &ev, r, flag0);
        if (newphase >= 0 && add_phase_change(pc, npc, &pcap, t, newphase) < 0)
            break;
    }
    for (size_t r = 0; r < d->nrows; r++)
        for (size_t c = 0; c < ntrain; c++) {
            size_t k = r * ntrain + c;
            if (!acc.cnt[k])
                continue;
            d->val[r * d->ncols + (size_t)train0 + c] = acc.sum[k] / acc.cnt[k];
            d->valid[r * d->ncols + (size_t)train0 + c] = 1;
        }
out:
    ds_note_torn(d, &evr->l);
    free(acc.sum);
    free(acc.cnt);
}

/* The log's columns: training metrics, loss_nan, then event flags. */
int ds_add_log_cols(struct ds *d, int *train0, int *flag0)
{
    *train0 = *flag0 = -1;
    for (size_t c = 0; c < MONI_ARRAY_LEN(train_cols); c++) {
        int k = ds_add_col(d, train_cols[c].col, DS_GAUGE);
        if (k < 0)
            return -1;
        if (c == 0)
            *train0 = k;
    }
    /* 1 where a logged loss was NaN or infinite, 0 where it was finite, missing where
     * no loss was logged (both an empty cell and "nan" read as NaN in pandas) */
    if (ds_add_col(d, "loss_nan", DS_FLAG) < 0)
        return -1;
    for (size_t c = 0; c < MONI_ARRAY_LEN(flag_cols); c++) {
        int k = ds_add_col(d, flag_cols[c].col, DS_FLAG);
        if (k < 0)
            return -1;
        if (c == 0)
            *flag0 = k;
    }
    return 0;
}

int ds_add_sample_cols(struct ds *d, const struct ds_raw *rs, int *colmap, bool *heartbeat)
{
    *heartbeat = false;
    for (size_t c = 0; c < rs->ncols; c++) {
        char name[256];
        if (strstr(rs->names[c], "heartbeat"))
            *heartbeat = true;
        if (rs->counter[c])
            counter_rate_name(rs->names[c], name, sizeof name);
        else
            ds_copy(name, sizeof name, rs->names[c]);
        bool filled = false;
        for (size_t i = 0; i < rs->n && !filled; i++)
            filled = rs->valid[i * rs->ncols + c];
        if (!filled && rs->n) {
            /* a column this machine cannot fill: out of the matrix, noted in meta.json */
            char **l = realloc(d->left_out, (d->nleft_out + 1) * sizeof *l);
            if (!l || !(l[d->nleft_out] = strdup(rs->names[c])))
                return -1;
            d->left_out = l;
            d->nleft_out++;
            colmap[c] = -1;
            continue;
        }
        colmap[c] = ds_add_col(d, name, rs->counter[c] ? DS_COUNTER : DS_GAUGE);
        if (colmap[c] < 0)
            return -1;
    }
    return 0;
}

static int cmp_pc(const void *a, const void *b)
{
    const struct ds_phase_change *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* The lifetimes as phase changes: each start begins afresh (startup: the last
 * lifetime's phase does not carry over), each end but the last begins "dead". */
int ds_add_lifetime_changes(const struct ds *d, struct ds_phase_change **pc, size_t *npc)
{
    if (d->nlives < 2)
        return 0;
    struct ds_phase_change *p2 = realloc(*pc, (*npc + 2 * d->nlives) * sizeof *p2);
    if (!p2)
        return -1;
    *pc = p2;
    for (size_t i = 0; i < d->nlives; i++) {
        if (i && d->lives[i].start)
            p2[(*npc)++] = (struct ds_phase_change){d->lives[i].start, DS_PH_STARTUP};
        if (i + 1 < d->nlives && d->lives[i].end)
            p2[(*npc)++] = (struct ds_phase_change){d->lives[i].end, DS_PH_DEAD};
    }
    return 0;
}

/* Phase per row: the phase in effect at the cell's end, except that an eval or a
 * checkpoint that began inside the cell names the cell (short stages stay visible),
 * and a cell in which the workload was dead between two lifetimes is "dead" (a
 * restart shows however fast it was). */
void ds_fill_phases(struct ds *d, struct ds_phase_change *pc, size_t npc)
{
    if (npc)
        qsort(pc, npc, sizeof *pc, cmp_pc);
    size_t j = 0;
    int cur = d->workload_start ? DS_PH_STARTUP : DS_PH_IDLE;
    for (size_t r = 0; r < d->nrows; r++) {
        int64_t a = d->t0_mono + (int64_t)r * d->grid_ns, b = a + d->grid_ns;
        int special = -1;
        if (cur == DS_PH_DEAD)
            special = cur;
        while (j < npc && pc[j].t < b) {
            cur = pc[j].phase;
            if (cur == DS_PH_DEAD || ((cur == DS_PH_EVAL || cur == DS_PH_CKPT) && special != DS_PH_DEAD))
                special = cur;
            j++;
        }
        int ph = special >= 0 ? special : cur;
        if (d->workload_start && b <= d->workload_start)
            ph = DS_PH_IDLE;
        else if (ph == DS_PH_IDLE && d->workload_start && b > d->workload_start)
            ph = cur = DS_PH_STARTUP;
        if (d->workload_end && a >= d->workload_end)
            ph = d->crashed ? DS_PH_CRASHED : DS_PH_FINISHED;
        d->phase[r] = (unsigned char)ph;
    }
}

