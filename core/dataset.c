/* core/dataset.c — the dataset builder's reading side: loads a run directory's raw
 * files (samples.csv, meta.json, faults.jsonl, workload.idx, events.jsonl) through
 * core/rundir — never with a reader of its own — and aggregates them on the grid
 * (core/dataset-grid.c) with labels (core/dataset-labels.c); core/dataset-write.c
 * writes the derived files (moni-dataset(5)).
 *
 * Raw files may end in a torn line (a run killed midway): such a line is skipped.
 * Every source is placed on the grid by its CLOCK_MONOTONIC stamp; wall time comes
 * from one offset (meta.json's, else estimated from samples.csv), so all files agree
 * to the nanosecond. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/dataset-int.h"

/* ---- samples.csv ---------------------------------------------------------------- */

static void raw_free(struct ds_raw *rs)
{
    for (size_t i = 0; i < rs->ncols; i++)
        free(rs->names[i]);
    free(rs->names);
    free(rs->counter);
    free(rs->mono);
    free(rs->val);
    free(rs->valid);
}

/* Cumulative columns (rates are derived per cell) of a run recorded before meta.json
 * had column_kinds: "*_total" and "*_total_us" by the convention of those versions;
 * "*_total_bytes" are capacities (mem_total_bytes), gauges. */
static bool is_counter_name(const char *name)
{
    size_t n = strlen(name);
    if (n > 12 && !strcmp(name + n - 12, "_total_bytes"))
        return false;
    return (n > 6 && !strcmp(name + n - 6, "_total")) || strstr(name, "_total_");
}

/* The kinds the sources declared (meta.json "column_kinds": name -> "gauge" or
 * "counter") win over the names. */
static void apply_column_kinds(struct ds_raw *rs, const cJSON *meta)
{
    const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(meta, "column_kinds");
    if (!cJSON_IsObject(kinds))
        return;
    for (size_t c = 0; c < rs->ncols; c++) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(kinds, rs->names[c]);
        if (cJSON_IsString(k))
            rs->counter[c] = !strcmp(k->valuestring, "counter");
    }
}

static int raw_columns(struct ds_raw *rs, const struct rundir_samples *s)
{
    rs->names = calloc(s->ncols + 1, sizeof *rs->names);
    rs->counter = calloc(s->ncols + 1, sizeof *rs->counter);
    if (!rs->names || !rs->counter)
        return -1;
    for (size_t c = 0; c < s->ncols; c++) {
        if (!(rs->names[c] = strdup(s->names[c])))
            return -1;
        rs->ncols = c + 1;
        rs->counter[c] = is_counter_name(s->names[c]);
    }
    return 0;
}

static int raw_push(struct ds_raw *rs, int64_t mono, const struct rundir_sample *row)
{
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 1024, w = rs->ncols ? rs->ncols : 1;
        int64_t *m2 = realloc(rs->mono, nc * sizeof *m2);
        if (m2)
            rs->mono = m2;
        double *v2 = realloc(rs->val, nc * w * sizeof *v2);
        if (v2)
            rs->val = v2;
        unsigned char *k2 = realloc(rs->valid, nc * w);
        if (k2)
            rs->valid = k2;
        if (!m2 || !v2 || !k2)
            return -1;
        rs->cap = nc;
    }
    rs->mono[rs->n] = mono;
    memcpy(rs->val + rs->n * rs->ncols, row->val, rs->ncols * sizeof *row->val);
    memcpy(rs->valid + rs->n * rs->ncols, row->valid, rs->ncols);
    rs->n++;
    return 0;
}

/* Offset estimate: real - mono from ms-truncated stamps; the largest of the first
 * rows is the closest to the true offset. */
struct offset_est {
    bool have;
    int64_t offset;
    size_t rows;
};

/* One row's monotonic time, or 0 when it cannot be placed. */
static int64_t row_mono(const struct rundir_samples *s, const struct rundir_sample *row,
                        struct offset_est *oe)
{
    int64_t mono = row->mono, real = row->real;
    bool has_real = !row->mono; /* the reader parsed ts (the row is bad without it) */
    /* with a monotonic column the wall stamp only serves the offset */
    if (row->mono && row->ts && oe->rows < 64)
        has_real = moni_parse_iso(row->ts, &real) == 0;
    if (s->mono_field < 0)
        return real; /* no monotonic column: wall time is the only clock */
    if (!mono) {
        if (!oe->have)
            return 0;
        mono = real - oe->offset;
    }
    if (has_real && oe->rows < 64) {
        int64_t o = real - mono;
        if (!oe->have || o > oe->offset)
            oe->offset = o;
        oe->have = true;
        oe->rows++;
    }
    return mono;
}

void ds_note_torn(struct ds *d, const struct rundir_lines *l)
{
    if (!l->torn)
        return;
    d->incomplete = true;
    const char *base = strrchr(l->path, '/');
    size_t n = strlen(d->torn);
    if (n < sizeof d->torn - 1)
        snprintf(d->torn + n, sizeof d->torn - n, "%s%s line %zu", n ? ", " : "",
                 base ? base + 1 : l->path, l->lineno);
    d->ntorn++;
}

static int read_samples(struct ds *d, struct ds_raw *rs, char *err, size_t errlen)
{
    struct rundir_samples s;
    if (rundir_samples_open(&s, d->dir, err, errlen) < 0) {
        rundir_samples_close(&s);
        return -1;
    }
    if (raw_columns(rs, &s) < 0) {
        rundir_samples_close(&s);
        return moni_seterr(err, errlen, "out of memory");
    }
    struct offset_est oe = {0};
    struct rundir_sample row;
    int rc;
    while ((rc = rundir_samples_next(&s, &row)) != 0) {
        int64_t mono = rc > 0 ? row_mono(&s, &row, &oe) : 0;
        if (!mono) {
            d->bad_lines++;
            continue;
        }
        if (raw_push(rs, mono, &row) < 0) {
            rundir_samples_close(&s);
            return moni_seterr(err, errlen, "out of memory");
        }
    }
    ds_note_torn(d, &s.l);
    d->offset_ns = s.mono_field >= 0 ? oe.offset : 0;
    rundir_samples_close(&s);
    return 0;
}

/* ---- meta.json -------------------------------------------------------------------- */

static void read_meta(struct ds *d, const struct rundir_meta *m, bool have)
{
    if (!have) {
        d->incomplete = true;
        return;
    }
    /* moni's exact clock offset, when the run recorded it (older runs: estimated
     * from samples.csv, good to under a millisecond). */
    if (m->has_clock_offset)
        d->offset_ns = m->clock_offset_ns;
    if (m->interval_ns > 0)
        d->interval_ns = m->interval_ns;
    /* the session knows its late ticks exactly (it saw the deadlines) */
    if (m->ticks_late >= 0)
        d->meta_late = m->ticks_late;
    d->workload_start = rundir_mono(&m->started, d->offset_ns);
    d->workload_end = rundir_mono(&m->ended, d->offset_ns);
    /* every lifetime: the first start and the last end bound the job's phases */
    d->lives = m->nlifetimes ? calloc(m->nlifetimes, sizeof *d->lives) : NULL;
    for (size_t i = 0; d->lives && i < m->nlifetimes; i++) {
        d->lives[i].start = rundir_mono(&m->lifetimes[i].started, d->offset_ns);
        d->lives[i].end = rundir_mono(&m->lifetimes[i].ended, d->offset_ns);
        d->nlives++;
    }
    if (d->nlives && d->lives[0].start)
        d->workload_start = d->lives[0].start;
    d->has_exit = m->has_exit;
    d->crashed = m->crashed;
    if (!m->complete)
        d->incomplete = true;
    /* The plan's fixed schema for the matrix (written by the runner). */
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(m->root, "dataset_schema");
    int nsch = cJSON_IsArray(sch) ? cJSON_GetArraySize(sch) : 0;
    d->schema = nsch > 0 ? calloc((size_t)nsch, sizeof *d->schema) : NULL;
    for (const cJSON *it = d->schema ? sch->child : NULL; it; it = it->next)
        if (cJSON_IsString(it) && (d->schema[d->nschema] = strdup(it->valuestring)))
            d->nschema++;
    /* The plan's labels for this run (written by the runner). */
    ds_copy(d->global_label, sizeof d->global_label, m->global_label);
    ds_copy(d->global_root_cause, sizeof d->global_root_cause, m->global_root_cause);
    ds_copy(d->global_stage, sizeof d->global_stage, m->global_stage);
}

/* ---- loading ----------------------------------------------------------------------- */

/* The sampling interval when meta.json does not say: the median spacing. */
static void median_interval(struct ds *d, const struct ds_raw *rs)
{
    size_t m = rs->n - 1 < 1001 ? rs->n - 1 : 1001;
    int64_t *sp = malloc(m * sizeof *sp);
    if (!sp)
        return;
    for (size_t i = 0; i < m; i++)
        sp[i] = rs->mono[i + 1] - rs->mono[i];
    for (size_t i = 1; i < m; i++) /* insertion sort: m is small */
        for (size_t j = i; j > 0 && sp[j - 1] > sp[j]; j--) {
            int64_t t = sp[j];
            sp[j] = sp[j - 1];
            sp[j - 1] = t;
        }
    d->interval_ns = sp[m / 2] > 0 ? sp[m / 2] : 0;
    free(sp);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One corrupt mono_ns (years away) must not make a grid of terabytes: samples outside
 * the run's span (meta.json's start and end, a minute of slack) or, without them, away
 * from the cluster around the median (a gap of more than an hour and 1000 intervals)
 * are left out and counted as bad lines. */
static void drop_outliers(struct ds *d, struct ds_raw *rs)
{
    if (rs->n < 2)
        return;
    int64_t *s = malloc(rs->n * sizeof *s);
    if (!s)
        return;
    memcpy(s, rs->mono, rs->n * sizeof *s);
    qsort(s, rs->n, sizeof *s, cmp_i64);
    int64_t iv = d->interval_ns > 0 ? d->interval_ns : MONI_NS_PER_SEC;
    int64_t gap = 3600 * MONI_NS_PER_SEC;
    if (iv < INT64_MAX / 2000 && 1000 * iv > gap)
        gap = 1000 * iv;
    size_t m = rs->n / 2, a = m, b = m;
    while (a > 0 && s[a] - s[a - 1] <= gap)
        a--;
    while (b + 1 < rs->n && s[b + 1] - s[b] <= gap)
        b++;
    int64_t lo = s[a], hi = s[b];
    free(s);
    const int64_t slack = 60 * MONI_NS_PER_SEC;
    if (d->span_lo && d->span_lo - slack > lo)
        lo = d->span_lo - slack;
    if (d->span_hi && d->span_hi + slack < hi)
        hi = d->span_hi + slack;
    size_t k = 0, nc = rs->ncols;
    for (size_t i = 0; i < rs->n; i++) {
        if (rs->mono[i] < lo || rs->mono[i] > hi) {
            d->outliers++;
            continue;
        }
        if (k != i) {
            rs->mono[k] = rs->mono[i];
            memmove(rs->val + k * nc, rs->val + i * nc, nc * sizeof *rs->val);
            memmove(rs->valid + k * nc, rs->valid + i * nc, nc);
        }
        k++;
    }
    d->bad_lines += rs->n - k;
    rs->n = k;
}

/* The grid: from the cell (aligned in wall time) of the first sample to the last. */
static void grid_geometry(struct ds *d, const struct ds_raw *rs)
{
    if (!rs->n)
        return;
    int64_t first = rs->mono[0], lastm = rs->mono[0];
    for (size_t i = 1; i < rs->n; i++) {
        if (rs->mono[i] < first)
            first = rs->mono[i];
        if (rs->mono[i] > lastm)
            lastm = rs->mono[i];
    }
    int64_t real0 = first + d->offset_ns;
    int64_t aligned = real0 - ((real0 % d->grid_ns) + d->grid_ns) % d->grid_ns;
    d->t0_mono = aligned - d->offset_ns;
    d->first_mono = first;
    d->last_mono = lastm;
    d->nrows = (size_t)((lastm - d->t0_mono) / d->grid_ns) + 1;
}

/* The optional raw files, opened once: a missing one adds no columns. */
struct ds_inputs {
    struct rundir_lines idx;
    struct rundir_jsonl events, journal;
    bool has_idx, has_events, has_journal;
};

static void inputs_open(struct ds_inputs *in, const char *dir)
{
    memset(in, 0, sizeof *in);
    in->has_idx = rundir_idx_open(&in->idx, dir) == 0;
    in->has_events = rundir_jsonl_open(&in->events, dir, "events.jsonl") == 0;
    in->has_journal = rundir_jsonl_open(&in->journal, dir, "faults.jsonl") == 0;
}

static void inputs_close(struct ds_inputs *in)
{
    rundir_lines_close(&in->idx);
    rundir_jsonl_close(&in->events);
    rundir_jsonl_close(&in->journal);
}

/* The detectors over the raw files, as the live run ran them: d->dets.  A bad
 * thresholds file is reported once and leaves the dataset without detections. */
static void on_detection(const struct detection *det, void *arg)
{
    struct ds *d = arg;
    struct detection *n = realloc(d->dets, (d->ndets + 1) * sizeof *n);
    if (!n)
        return;
    d->dets = n;
    d->dets[d->ndets++] = *det;
}

static void run_detectors(struct ds *d)
{
    char live[PATH_MAX + 32];
    snprintf(live, sizeof live, "%s/detections.jsonl", d->dir);
    d->has_live_detections = access(live, F_OK) == 0;
    struct det_config cfg;
    char err[512];
    if (det_config_load(&cfg, NULL, err, sizeof err) < 0) {
        moni_warn("%s: no detections: %s", d->dir, err);
        return;
    }
    if (detect_run_dir_meta(d->dir, d->have_meta ? &d->meta : NULL, &cfg, on_detection, d, err,
                            sizeof err) < 0)
        moni_warn("%s: no detections: %s", d->dir, err);
    else
        d->dets_ran = true;
    det_config_free(&cfg);
}

/* One flag column per detector: 1 in the row where it fired. */
static int add_detection_cols(struct ds *d, int *det0)
{
    *det0 = -1;
    for (size_t i = 0; i < ndetectors; i++) {
        char name[64];
        snprintf(name, sizeof name, "det_%s", detectors[i]->name);
        int k = ds_add_col(d, name, DS_FLAG);
        if (k < 0)
            return -1;
        if (i == 0)
            *det0 = k;
    }
    return 0;
}

/* The flags are known (0) in rows the detectors saw, i.e. rows with samples; a
 * gap row, or a run whose detectors could not run, keeps them missing. */
static void fill_detections(struct ds *d, int det0)
{
    if (!d->dets_ran)
        return;
    for (size_t r = 0; r < d->nrows; r++) {
        bool seen = false;
        for (size_t c = 0; c < (size_t)det0 && !seen; c++)
            seen = d->valid[r * d->ncols + c] && strncmp(d->cols[c].name, "event_", 6) != 0;
        for (size_t i = 0; seen && i < ndetectors; i++) {
            d->val[r * d->ncols + (size_t)det0 + i] = 0;
            d->valid[r * d->ncols + (size_t)det0 + i] = 1;
        }
    }
    for (size_t k = 0; k < d->ndets && d->nrows; k++) {
        if (d->dets[k].mono_ns < d->t0_mono)
            continue;
        for (size_t i = 0; i < ndetectors; i++)
            if (!strcmp(detectors[i]->name, d->dets[k].detector))
                d->val[ds_row_of(d, d->dets[k].mono_ns) * d->ncols + (size_t)det0 + i] = 1;
    }
}

/* Columns, then every source onto the grid, then phases and labels. */
static int build_grid(struct ds *d, const struct ds_raw *rs, struct ds_inputs *in,
                      const struct rundir_meta *meta)
{
    int *colmap = calloc(rs->ncols + 1, sizeof *colmap);
    bool heartbeat = false;
    int col_rate = -1, col_age = -1, train0 = -1, flag0 = -1, det0 = -1;
    int rc = colmap ? ds_add_sample_cols(d, rs, colmap, &heartbeat) : -1;
    if (rc == 0 && in->has_idx) {
        col_rate = ds_add_col(d, "log_lines_per_s", DS_GAUGE);
        if (!heartbeat)
            col_age = ds_add_col(d, "log_heartbeat_age_s", DS_AGE);
    }
    if (rc == 0)
        rc = ds_add_log_cols(d, &train0, &flag0);
    if (rc == 0)
        rc = add_detection_cols(d, &det0);
    if (rc == 0)
        rc = ds_grid_alloc(d);
    if (rc < 0) {
        free(colmap);
        return -1;
    }
    struct ds_phase_change *pc = NULL;
    size_t npc = 0;
    ds_fill_samples(d, rs, colmap);
    if (d->meta_late >= 0)
        d->late_ticks = (size_t)d->meta_late;
    ds_count_gaps(d, rs);
    if (in->has_journal)
        ds_read_journal(d, &in->journal);
    if (meta)
        ds_apply_meta_labels(d, meta);
    if (in->has_idx)
        ds_fill_log_index(d, &in->idx, col_rate, col_age);
    if (in->has_events)
        ds_fill_events(d, &in->events, train0, flag0, &pc, &npc);
    fill_detections(d, det0);
    if (ds_add_lifetime_changes(d, &pc, &npc) < 0)
        npc = 0; /* out of memory: no phases rather than wrong ones */
    ds_fill_phases(d, pc, npc);
    ds_compute_labels(d);
    free(pc);
    free(colmap);
    return 0;
}

int ds_load(struct ds *d, const char *run_dir, int64_t grid_ns, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    /* A meta.json that is there but cannot be read is bad input, never "no meta":
     * building on would replace it with a stub and lose the run id, argv and clock
     * offset.  (A run killed before its first meta.json has none at all.) */
    char mpath[4096];
    struct stat mst;
    snprintf(mpath, sizeof mpath, "%s/meta.json", run_dir);
    if (stat(mpath, &mst) == 0) {
        if (rundir_meta_load(run_dir, &d->meta, err, errlen) < 0)
            return DS_BAD_INPUT;
        d->have_meta = true;
    }
    ds_copy(d->dir, sizeof d->dir, run_dir);
    d->grid_ns = grid_ns > 0 ? grid_ns : MONI_NS_PER_SEC;
    d->meta_late = -1;
    struct ds_raw rs = {0};
    if (read_samples(d, &rs, err, errlen) < 0) {
        raw_free(&rs);
        ds_free(d);
        return -1;
    }
    d->nsamples = rs.n;
    bool have_meta = d->have_meta;
    const struct rundir_meta *meta = &d->meta;
    read_meta(d, meta, have_meta);
    if (have_meta)
        apply_column_kinds(&rs, meta->root);
    if (have_meta) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(meta->root, "start_mono_ns");
        d->span_lo = cJSON_IsNumber(a) ? (int64_t)a->valuedouble : 0;
        d->span_hi = meta->end_mono_ns;
    }
    if (!d->interval_ns && rs.n > 2)
        median_interval(d, &rs);
    drop_outliers(d, &rs);
    grid_geometry(d, &rs);
    run_detectors(d);
    struct ds_inputs in;
    inputs_open(&in, run_dir);
    int rc = build_grid(d, &rs, &in, have_meta ? meta : NULL);
    inputs_close(&in);
    raw_free(&rs);
    if (rc < 0) {
        ds_free(d);
        return moni_seterr(err, errlen, "%s: out of memory", run_dir);
    }
    return 0;
}

void ds_free(struct ds *d)
{
    for (size_t i = 0; i < d->ncols; i++)
        free(d->cols[i].name);
    free(d->cols);
    free(d->val);
    free(d->valid);
    free(d->phase);
    free(d->anomaly);
    free(d->faults);
    free(d->dets);
    free(d->lives);
    for (size_t i = 0; i < d->nschema; i++)
        free(d->schema[i]);
    free(d->schema);
    for (size_t i = 0; i < d->nleft_out; i++)
        free(d->left_out[i]);
    free(d->left_out);
    if (d->have_meta)
        rundir_meta_free(&d->meta);
    memset(d, 0, sizeof *d);
}

bool dataset_is_run_dir(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/samples.csv", dir);
    return access(p, R_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int dataset_for_each_run(const char *dir, const char *cmd, int (*fn)(const char *run, void *arg),
                         void *arg)
{
    if (dataset_is_run_dir(dir))
        return fn(dir, arg);
    DIR *dp = opendir(dir);
    if (!dp) {
        moni_err("%s: %s: %s", cmd, dir, strerror(errno));
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
        char **s2 = dataset_is_run_dir(p) ? realloc(subs, (n + 1) * sizeof *s2) : NULL;
        if (s2) {
            subs = s2;
            subs[n++] = strdup(p);
        }
    }
    closedir(dp);
    if (!n) {
        moni_err("%s: %s: not a run directory (no samples.csv) and none below it", cmd, dir);
        free(subs);
        return MONI_EXIT_USAGE;
    }
    qsort(subs, n, sizeof *subs, cmp_str);
    int rc = MONI_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        int r = subs[i] ? fn(subs[i], arg) : MONI_EXIT_FAIL;
        if (r > rc)
            rc = r;
        free(subs[i]);
    }
    free(subs);
    return rc;
}
