/* core/dataset.c — the dataset builder: reads a run directory's raw files
 * (samples.csv, workload.idx, events.jsonl, faults.jsonl, meta.json) and derives
 * tse_matrix.csv, labels.csv, ground_truth.csv and windows.json (moni-dataset(5)).
 *
 * Raw files may end in a torn line (a run killed midway): such a line is skipped.
 * Every source is placed on the grid by its CLOCK_MONOTONIC stamp; wall time comes
 * from one offset (taken from samples.csv), so all files agree to the nanosecond.
 * Labels come only from the injector journal and the plan's whole-run label. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/dataset-int.h"

const char *const ds_phase_names[] = {"idle",       "startup", "train",    "eval",
                                      "checkpoint", "crashed", "finished", NULL};
enum { PH_IDLE, PH_STARTUP, PH_TRAIN, PH_EVAL, PH_CKPT, PH_CRASHED, PH_FINISHED };

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

/* ---- small helpers ------------------------------------------------------------ */

static int seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static char *read_opt(const char *dir, const char *name, size_t *len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return moni_read_file(path, len);
}

/* Iterates the complete lines of text: a last line without its LF is torn (the
 * writer was killed mid-line) and is reported through *torn instead. */
struct lines {
    char *p, *end;
};
static char *next_line(struct lines *it, size_t *len, bool *torn)
{
    if (it->p >= it->end)
        return NULL;
    char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    if (!nl) {
        if (torn)
            *torn = true;
        it->p = it->end;
        return NULL;
    }
    char *line = it->p;
    *nl = '\0';
    *len = (size_t)(nl - line);
    if (*len && line[*len - 1] == '\r')
        line[--*len] = '\0';
    it->p = nl + 1;
    return line;
}

static int64_t json_i64(const cJSON *o, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v))
        return (int64_t)v->valuedouble;
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        long long x = strtoll(v->valuestring, &end, 10);
        if (*end == '\0')
            return x;
    }
    return dflt;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number that may be journalled as a JSON number or as "nan"/"inf" text. */
static bool json_num(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (cJSON_IsString(v)) {
        char *end;
        double x = strtod(v->valuestring, &end);
        if (end != v->valuestring && *end == '\0') {
            *out = x;
            return true;
        }
    }
    return false;
}

/* A record's monotonic time: mono_ns, else its ISO timestamp through the offset. */
static int64_t record_mono(const cJSON *o, int64_t offset, const char *line)
{
    /* exact from the text when we have it: a double holds only 2^53 ns */
    const char *mp = line ? strstr(line, "\"mono_ns\":") : NULL;
    if (mp) {
        char *end;
        long long x = strtoll(mp + 10, &end, 10);
        if (end != mp + 10 && x > 0)
            return x;
    }
    int64_t m = json_i64(o, "mono_ns", 0);
    if (m > 0)
        return m;
    const char *ts = json_str(o, "timestamp");
    if (!ts)
        ts = json_str(o, "time");
    int64_t real;
    if (ts && moni_parse_iso(ts, &real) == 0)
        return real - offset;
    return 0;
}

/* ---- columns ------------------------------------------------------------------- */

static int add_col(struct ds *d, const char *name, enum ds_kind kind)
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

/* ---- samples.csv ---------------------------------------------------------------- */

struct raw_samples {
    size_t n, cap, ncols;
    int64_t *mono;
    double *val;          /* n * ncols */
    unsigned char *valid; /* n * ncols */
    char **names;
    bool *counter;
};

static void raw_free(struct raw_samples *rs)
{
    for (size_t i = 0; i < rs->ncols; i++)
        free(rs->names[i]);
    free(rs->names);
    free(rs->counter);
    free(rs->mono);
    free(rs->val);
    free(rs->valid);
}

/* Cumulative columns (rates are derived per cell): "*_total" by convention. */
static bool is_counter_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 6 && !strcmp(name + n - 6, "_total")) || strstr(name, "_total_");
}

/* "disk_read_total" -> "disk_read_per_s", "psi_io_some_total_us" -> "psi_io_some_us_per_s" */
static void counter_rate_name(const char *name, char *out, size_t len)
{
    const char *t = strstr(name, "_total");
    snprintf(out, len, "%.*s%s_per_s", (int)(t - name), name, t + 6);
}

static int parse_samples(struct ds *d, struct raw_samples *rs, char *text, size_t len,
                         char *err, size_t errlen)
{
    struct lines it = {text, text + len};
    size_t ll;
    bool torn = false;
    char *hdr = next_line(&it, &ll, &torn);
    if (!hdr)
        return seterr(err, errlen, "%s/samples.csv: no header line", d->dir);
    /* header: timestamp,mono_ns,metrics... (the first two by name, wherever they are) */
    int ts_col = -1, mono_col = -1, nfields = 0;
    size_t cap = 16;
    int *map = malloc(cap * sizeof *map); /* field -> raw column, -1 for ts/mono */
    if (!map)
        return seterr(err, errlen, "out of memory");
    for (char *f = hdr, *next; f; f = next, nfields++) {
        next = strchr(f, ',');
        if (next)
            *next++ = '\0';
        if ((size_t)nfields == cap) {
            cap *= 2;
            int *m2 = realloc(map, cap * sizeof *map);
            if (!m2) {
                free(map);
                return seterr(err, errlen, "out of memory");
            }
            map = m2;
        }
        map[nfields] = -1;
        if (!strcmp(f, "timestamp"))
            ts_col = nfields;
        else if (!strcmp(f, "mono_ns"))
            mono_col = nfields;
        else {
            char **n2 = realloc(rs->names, (rs->ncols + 1) * sizeof *n2);
            bool *c2 = realloc(rs->counter, (rs->ncols + 1) * sizeof *c2);
            if (n2)
                rs->names = n2;
            if (c2)
                rs->counter = c2;
            if (!n2 || !c2 || !(rs->names[rs->ncols] = strdup(f))) {
                free(map);
                return seterr(err, errlen, "out of memory");
            }
            rs->counter[rs->ncols] = is_counter_name(f);
            map[nfields] = (int)rs->ncols++;
        }
    }
    if (ts_col < 0 && mono_col < 0) {
        free(map);
        return seterr(err, errlen, "%s/samples.csv:1: timestamp: no timestamp column", d->dir);
    }
    double *rowv = malloc((rs->ncols + 1) * sizeof *rowv);
    unsigned char *rowok = malloc(rs->ncols + 1);
    if (!rowv || !rowok) {
        free(map);
        free(rowv);
        free(rowok);
        return seterr(err, errlen, "out of memory");
    }
    bool have_offset = false;
    int64_t offset = 0;
    size_t offset_rows = 0;
    char *line;
    while ((line = next_line(&it, &ll, &torn))) {
        if (ll == 0)
            continue;
        int64_t mono = 0, real = 0;
        bool has_real = false, ok = true;
        const char *ts_text = NULL;
        int nf = 0;
        memset(rowok, 0, rs->ncols + 1);
        for (char *f = line, *next; f; f = next, nf++) {
            next = strchr(f, ',');
            if (next)
                *next++ = '\0';
            if (nf >= nfields) {
                ok = false;
                break;
            }
            if (nf == ts_col) {
                ts_text = f; /* parsed below, only when needed */
            } else if (nf == mono_col) {
                char *end;
                mono = strtoll(f, &end, 10);
                if (end == f || *end)
                    mono = 0;
            } else if (*f) {
                char *end;
                double v = strtod(f, &end);
                if (end != f && *end == '\0') {
                    rowv[map[nf]] = v;
                    rowok[map[nf]] = 1;
                }
            }
        }
        /* with a monotonic column the wall stamp only serves the offset */
        if (ts_text && (mono_col < 0 || offset_rows < 64 || !mono))
            has_real = moni_parse_iso(ts_text, &real) == 0;
        if (!ok || nf != nfields || (!mono && !has_real)) {
            d->bad_lines++;
            continue;
        }
        if (mono_col < 0)
            mono = real; /* no monotonic column: wall time is the only clock */
        else if (!mono) {
            if (!have_offset) {
                d->bad_lines++;
                continue;
            }
            mono = real - offset;
        }
        /* real - mono from ms-truncated stamps: the largest of the first rows is
         * the closest to the true offset. */
        if (has_real && mono_col >= 0 && offset_rows < 64) {
            int64_t o = real - mono;
            if (!have_offset || o > offset)
                offset = o;
            have_offset = true;
            offset_rows++;
        }
        if (rs->n == rs->cap) {
            size_t nc = rs->cap ? rs->cap * 2 : 1024;
            int64_t *m2 = realloc(rs->mono, nc * sizeof *m2);
            if (m2)
                rs->mono = m2;
            double *v2 = realloc(rs->val, nc * (rs->ncols ? rs->ncols : 1) * sizeof *v2);
            if (v2)
                rs->val = v2;
            unsigned char *k2 = realloc(rs->valid, nc * (rs->ncols ? rs->ncols : 1));
            if (k2)
                rs->valid = k2;
            if (!m2 || !v2 || !k2) {
                free(map);
                free(rowv);
                free(rowok);
                return seterr(err, errlen, "out of memory");
            }
            rs->cap = nc;
        }
        rs->mono[rs->n] = mono;
        memcpy(rs->val + rs->n * rs->ncols, rowv, rs->ncols * sizeof *rowv);
        memcpy(rs->valid + rs->n * rs->ncols, rowok, rs->ncols);
        rs->n++;
    }
    if (torn)
        d->incomplete = true;
    d->offset_ns = mono_col >= 0 ? offset : 0;
    free(map);
    free(rowv);
    free(rowok);
    return 0;
}

/* ---- meta.json -------------------------------------------------------------------- */

static int64_t meta_time(const cJSON *o, const char *key, int64_t offset)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsObject(v))
        return record_mono(v, offset, NULL);
    int64_t real;
    if (cJSON_IsString(v) && moni_parse_iso(v->valuestring, &real) == 0)
        return real - offset;
    return 0;
}

static void read_meta(struct ds *d, cJSON *meta)
{
    /* moni's exact clock offset, when the run recorded it (older runs: estimated
     * from samples.csv, good to under a millisecond). */
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(meta, "clock_offset_ns");
    if (cJSON_IsString(off) && off->valuestring[0]) {
        char *end;
        long long v = strtoll(off->valuestring, &end, 10);
        if (*end == '\0')
            d->offset_ns = v;
    }
    if (!meta)
        return;
    int64_t iv = json_i64(meta, "interval_ns", 0);
    const cJSON *ivs = cJSON_GetObjectItemCaseSensitive(meta, "interval");
    const cJSON *ivsec = cJSON_GetObjectItemCaseSensitive(meta, "interval_s");
    if (!iv && cJSON_IsNumber(ivsec))
        iv = (int64_t)(ivsec->valuedouble * 1e9);
    if (!iv && cJSON_IsString(ivs))
        moni_parse_duration(ivs->valuestring, &iv, NULL, 0);
    else if (!iv && cJSON_IsNumber(ivs))
        iv = (int64_t)(ivs->valuedouble * 1e9);
    if (iv > 0)
        d->interval_ns = iv;
    /* the session knows its late ticks exactly (it saw the deadlines) */
    const cJSON *late = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(meta, "ticks"), "late");
    if (cJSON_IsNumber(late))
        d->meta_late = (long long)late->valuedouble;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(meta, "workload");
    const cJSON *src = cJSON_IsObject(w) ? w : meta;
    d->workload_start = meta_time(src, "started", d->offset_ns);
    d->workload_end = meta_time(src, "ended", d->offset_ns);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(src, "exit_code");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(src, "exit_signal");
    if (cJSON_IsNumber(code) || cJSON_IsNumber(sig)) {
        d->has_exit = true;
        d->crashed = (cJSON_IsNumber(code) && code->valueint != 0) ||
                     (cJSON_IsNumber(sig) && sig->valueint != 0);
    }
    const cJSON *complete = cJSON_GetObjectItemCaseSensitive(meta, "complete");
    if (cJSON_IsFalse(complete) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "end")))
        d->incomplete = true;
    /* The plan's labels for this run (written by the runner). */
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(meta, "experiment_labels");
    if (cJSON_IsObject(exp)) {
        copy_str(d->global_label, sizeof d->global_label, json_str(exp, "global"));
        copy_str(d->global_root_cause, sizeof d->global_root_cause, json_str(exp, "root_cause"));
        copy_str(d->global_stage, sizeof d->global_stage,
                 json_str(exp, "expected_failure_stage"));
    }
}

/* Per-fault labels the runner put in meta.json: experiment_labels.faults[] =
 * {fault_id, root_cause, expected_failure_stage, label_kind}. */
static void apply_meta_fault_labels(struct ds *d, const cJSON *meta)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(meta, "experiment_labels");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(exp, "faults");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const char *id = json_str(it, "fault_id");
        for (size_t i = 0; id && i < d->nfaults; i++) {
            struct ds_fault *f = &d->faults[i];
            if (strcmp(f->id, id))
                continue;
            const char *rc = json_str(it, "root_cause"), *st = json_str(it, "expected_failure_stage");
            const char *lk = json_str(it, "label_kind");
            if (rc && !f->root_cause[0])
                copy_str(f->root_cause, sizeof f->root_cause, rc);
            if (st && !f->stage[0])
                copy_str(f->stage, sizeof f->stage, st);
            if (lk && !strcmp(lk, "point"))
                f->label_kind = DS_LABEL_POINT;
            else if (lk && !strcmp(lk, "interval"))
                f->label_kind = DS_LABEL_INTERVAL;
        }
    }
}

/* ---- faults.jsonl --------------------------------------------------------------- */

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
    copy_str(f->id, sizeof f->id, id);
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
            copy_str(val, sizeof val, p->valuestring);
        else if (cJSON_IsNumber(p))
            snprintf(val, sizeof val, "%.10g", p->valuedouble);
        else if (cJSON_IsBool(p))
            copy_str(val, sizeof val, cJSON_IsTrue(p) ? "true" : "false");
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

static void parse_faults(struct ds *d, char *text, size_t len)
{
    struct lines it = {text, text + len};
    size_t ll;
    char *line;
    bool torn = false;
    while ((line = next_line(&it, &ll, &torn))) {
        if (!ll)
            continue;
        cJSON *o = cJSON_ParseWithLength(line, ll);
        const char *id = o ? json_str(o, "fault_id") : NULL;
        if (!id && o)
            id = json_str(o, "id");
        const char *ev = o ? json_str(o, "event") : NULL;
        if (!ev && o)
            ev = json_str(o, "state");
        if (!ev && o)
            ev = json_str(o, "transition");
        if (!id || !ev) {
            d->bad_lines++;
            cJSON_Delete(o);
            continue;
        }
        struct ds_fault *f = fault_get(d, id);
        if (!f) {
            cJSON_Delete(o);
            continue;
        }
        int64_t t = record_mono(o, d->offset_ns, line);
        const char *kind = json_str(o, "kind");
        if (kind && !f->kind[0]) {
            copy_str(f->kind, sizeof f->kind, kind);
            if (!strcmp(kind, "kill"))
                f->label_kind = DS_LABEL_POINT;
        }
        const cJSON *tg = cJSON_GetObjectItemCaseSensitive(o, "target");
        if (cJSON_IsString(tg) && !f->target[0])
            copy_str(f->target, sizeof f->target, tg->valuestring);
        else if (cJSON_IsNumber(tg) && !f->target[0])
            snprintf(f->target, sizeof f->target, "%d", tg->valueint);
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
        if (!params)
            params = cJSON_GetObjectItemCaseSensitive(o, "parameters");
        if (cJSON_IsObject(params) && !f->params[0])
            params_text(params, f->params, sizeof f->params);
        double x;
        const cJSON *dose = cJSON_GetObjectItemCaseSensitive(o, "dose");
        if (json_num(cJSON_GetObjectItemCaseSensitive(o, "requested_dose"), &x) ||
            json_num(cJSON_GetObjectItemCaseSensitive(o, "requested"), &x) ||
            json_num(cJSON_GetObjectItemCaseSensitive(dose, "requested"), &x))
            f->requested_dose = x;
        if (json_num(cJSON_GetObjectItemCaseSensitive(o, "delivered_dose"), &x) ||
            json_num(cJSON_GetObjectItemCaseSensitive(o, "delivered"), &x) ||
            json_num(cJSON_GetObjectItemCaseSensitive(dose, "delivered"), &x))
            f->delivered_dose = x;
        const char *rc = json_str(o, "root_cause"), *st = json_str(o, "expected_failure_stage");
        if (rc)
            copy_str(f->root_cause, sizeof f->root_cause, rc);
        if (st)
            copy_str(f->stage, sizeof f->stage, st);
        const char *lk = json_str(o, "label_kind");
        if (lk && !strcmp(lk, "point"))
            f->label_kind = DS_LABEL_POINT;
        else if (lk && !strcmp(lk, "interval"))
            f->label_kind = DS_LABEL_INTERVAL;
        /* first occurrence of each transition counts (a re-fire keeps the start) */
        int64_t *slot = NULL;
        if (!strcmp(ev, "armed"))
            slot = &f->armed;
        else if (!strcmp(ev, "fired"))
            slot = &f->fired;
        else if (!strcmp(ev, "effective"))
            slot = &f->effective;
        else if (!strcmp(ev, "stopped"))
            slot = &f->stopped;
        else if (!strcmp(ev, "reverted"))
            slot = &f->reverted;
        else if (!strcmp(ev, "failed"))
            slot = &f->failed;
        if (slot && t && !*slot) {
            *slot = t;
            const char *ts = json_str(o, "timestamp");
            int k = slot == &f->fired       ? 0
                    : slot == &f->effective ? 1
                    : slot == &f->stopped   ? 2
                    : slot == &f->reverted  ? 3
                    : slot == &f->failed    ? 4 : -1;
            if (k >= 0 && ts && strlen(ts) < sizeof f->stamp_iso[k]) {
                f->stamp_mono[k] = t;
                copy_str(f->stamp_iso[k], sizeof f->stamp_iso[k], ts);
            }
        }
        cJSON_Delete(o);
    }
    if (torn)
        d->incomplete = true;
}

/* ---- the grid ----------------------------------------------------------------------- */

struct cell_acc {
    double *sum;
    uint32_t *cnt;
};

static int grid_alloc(struct ds *d)
{
    size_t n = d->nrows * d->ncols;
    d->val = calloc(n ? n : 1, sizeof *d->val);
    d->valid = calloc(n ? n : 1, 1);
    d->phase = calloc(d->nrows ? d->nrows : 1, 1);
    d->anomaly = calloc(d->nrows ? d->nrows : 1, 1);
    return d->val && d->valid && d->phase && d->anomaly ? 0 : -1;
}

static void fill_samples(struct ds *d, const struct raw_samples *rs, const int *colmap)
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
static void count_gaps(struct ds *d, const struct raw_samples *rs)
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

static void fill_log_index(struct ds *d, char *text, size_t len, int col_rate, int col_age)
{
    struct lines it = {text, text + len};
    size_t ll;
    char *line;
    bool torn = false;
    uint32_t *cnt = calloc(d->nrows + 1, sizeof *cnt);
    int64_t *last = calloc(d->nrows + 1, sizeof *last);
    if (!cnt || !last)
        goto out;
    while ((line = next_line(&it, &ll, &torn))) {
        if (!isdigit((unsigned char)line[0]))
            continue; /* header */
        /* line,timestamp,mono_ns,stream */
        char *f2 = strchr(line, ',');
        char *f3 = f2 ? strchr(f2 + 1, ',') : NULL;
        int64_t mono = f3 ? strtoll(f3 + 1, NULL, 10) : 0;
        if (!mono && f2) {
            char ts[64];
            size_t n = f3 ? (size_t)(f3 - f2 - 1) : 0;
            if (n && n < sizeof ts) {
                memcpy(ts, f2 + 1, n);
                ts[n] = '\0';
                int64_t real;
                if (moni_parse_iso(ts, &real) == 0)
                    mono = real - d->offset_ns;
            }
        }
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
        return PH_STARTUP;
    if (!strcmp(name, "train") || !strcmp(name, "rollout") || !strcmp(name, "weight_update"))
        return PH_TRAIN;
    if (!strcmp(name, "eval"))
        return PH_EVAL;
    if (!strncmp(name, "checkpoint", 10))
        return PH_CKPT;
    if (!strcmp(name, "finished"))
        return PH_FINISHED;
    if (!strcmp(name, "crashed"))
        return PH_CRASHED;
    return -1;
}

struct phase_change {
    int64_t t;
    int phase;
};

static void fill_events(struct ds *d, char *text, size_t len, int train0, int flag0,
                        struct phase_change **pc, size_t *npc)
{
    size_t ntrain = MONI_ARRAY_LEN(train_cols), nflag = MONI_ARRAY_LEN(flag_cols);
    double *sum = calloc(d->nrows * ntrain + 1, sizeof *sum);
    uint32_t *cnt = calloc(d->nrows * ntrain + 1, sizeof *cnt);
    size_t pcap = 0;
    if (!sum || !cnt)
        goto out;
    /* flags are known (0) wherever the log was parsed */
    for (size_t r = 0; r < d->nrows; r++)
        for (size_t f = 0; f < nflag; f++) {
            d->valid[r * d->ncols + (size_t)flag0 + f] = 1;
        }
    struct lines it = {text, text + len};
    size_t ll;
    char *line;
    bool torn = false;
    while ((line = next_line(&it, &ll, &torn))) {
        if (!ll)
            continue;
        cJSON *o = cJSON_ParseWithLength(line, ll);
        int64_t t = o ? record_mono(o, d->offset_ns, line) : 0;
        if (!t) {
            d->bad_lines++;
            cJSON_Delete(o);
            continue;
        }
        d->nevents++;
        const char *kind = json_str(o, "kind");
        const char *evname = json_str(o, "event");
        const cJSON *fields = cJSON_GetObjectItemCaseSensitive(o, "fields");
        bool in_grid = d->nrows && t >= d->t0_mono;
        size_t r = ds_row_of(d, t);
        int newphase = -1;
        if (kind && !strcmp(kind, "phase")) {
            const char *ph = json_str(o, "phase");
            newphase = phase_of_name(ph ? ph : evname);
        } else if (kind && !strcmp(kind, "metric")) {
            bool eval = false, trainrec = false;
            for (size_t c = 0; c < ntrain; c++) {
                for (size_t a = 0; train_cols[c].fields[a]; a++) {
                    double v;
                    if (!json_num(cJSON_GetObjectItemCaseSensitive(fields, train_cols[c].fields[a]),
                                  &v))
                        continue;
                    if (!strncmp(train_cols[c].col, "eval_", 5))
                        eval = true;
                    else if (!strcmp(train_cols[c].col, "loss"))
                        trainrec = true;
                    if ((!strcmp(train_cols[c].col, "loss") ||
                         !strcmp(train_cols[c].col, "grad_norm")) &&
                        !isfinite(v) && in_grid) {
                        d->val[r * d->ncols + (size_t)flag0 + 1] = 1; /* event_nan */
                    }
                    if (in_grid) {
                        sum[r * ntrain + c] += v;
                        cnt[r * ntrain + c]++;
                    }
                    break;
                }
            }
            /* a training dict after an eval/checkpoint means training resumed; an
             * eval dict closes the evaluation */
            if (trainrec)
                newphase = PH_TRAIN;
            else if (eval)
                newphase = PH_EVAL;
        } else if (in_grid) {
            const cJSON *labels = cJSON_GetObjectItemCaseSensitive(o, "labels");
            const char *sev = json_str(o, "severity");
            for (size_t f = 0; f < nflag; f++) {
                bool hit = false;
                for (size_t a = 0; flag_cols[f].labels[a] && !hit; a++)
                    hit = has_label(labels, flag_cols[f].labels[a]);
                for (size_t a = 0; sev && flag_cols[f].severity[a] && !hit; a++)
                    hit = !strcmp(sev, flag_cols[f].severity[a]);
                if (hit)
                    d->val[r * d->ncols + (size_t)flag0 + f] = 1;
            }
        }
        if (newphase >= 0) {
            if (*npc == pcap) {
                pcap = pcap ? pcap * 2 : 64;
                struct phase_change *p2 = realloc(*pc, pcap * sizeof *p2);
                if (!p2) {
                    cJSON_Delete(o);
                    break;
                }
                *pc = p2;
            }
            (*pc)[(*npc)++] = (struct phase_change){t, newphase};
        }
        cJSON_Delete(o);
    }
    for (size_t r = 0; r < d->nrows; r++)
        for (size_t c = 0; c < ntrain; c++) {
            size_t k = r * ntrain + c;
            if (!cnt[k])
                continue;
            d->val[r * d->ncols + (size_t)train0 + c] = sum[k] / cnt[k];
            d->valid[r * d->ncols + (size_t)train0 + c] = 1;
        }
out:
    free(sum);
    free(cnt);
}

static int cmp_pc(const void *a, const void *b)
{
    const struct phase_change *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Phase per row: the phase in effect at the cell's end, except that an eval or a
 * checkpoint that began inside the cell names the cell (short stages stay visible). */
static void fill_phases(struct ds *d, struct phase_change *pc, size_t npc)
{
    if (npc)
        qsort(pc, npc, sizeof *pc, cmp_pc);
    size_t j = 0;
    int cur = d->workload_start ? PH_STARTUP : PH_IDLE;
    for (size_t r = 0; r < d->nrows; r++) {
        int64_t a = d->t0_mono + (int64_t)r * d->grid_ns, b = a + d->grid_ns;
        int special = -1;
        while (j < npc && pc[j].t < b) {
            cur = pc[j].phase;
            if (cur == PH_EVAL || cur == PH_CKPT)
                special = cur;
            j++;
        }
        int ph = special >= 0 ? special : cur;
        if (d->workload_start && b <= d->workload_start)
            ph = PH_IDLE;
        else if (ph == PH_IDLE && d->workload_start && b > d->workload_start)
            ph = cur = PH_STARTUP;
        if (d->workload_end && a >= d->workload_end)
            ph = d->crashed ? PH_CRASHED : PH_FINISHED;
        d->phase[r] = (unsigned char)ph;
    }
}

/* ---- labels -------------------------------------------------------------------------- */

static size_t row_end_of(const struct ds *d, int64_t start, int64_t end)
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

static void fault_effects(struct ds *d, struct ds_fault *f, const struct base_stats *bs)
{
    size_t a = ds_row_of(d, f->start);
    size_t b = f->label_kind == DS_LABEL_POINT ? a + 5 : row_end_of(d, f->start, f->end);
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
        if (nmoved < MONI_ARRAY_LEN(moved)) {
            moved[nmoved] = (int)c;
            bmean[nmoved] = mb;
            bsd[nmoved] = sb;
            nmoved++;
        }
    }
    f->effect_end = f->end;
    if (f->label_kind != DS_LABEL_INTERVAL || !nmoved)
        return;
    /* extend while any moved channel stays beyond 3 sd (and 5%) of its baseline,
     * for at most the fault's own length plus 30 s */
    size_t limit = b + (b - a + 1) + (size_t)(30 * MONI_NS_PER_SEC / d->grid_ns);
    size_t r = b + 1;
    for (; r < d->nrows && r <= limit; r++) {
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

static void compute_labels(struct ds *d)
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
            size_t a = ds_row_of(d, f->start), b = row_end_of(d, f->start, f->end);
            if (f->label_kind == DS_LABEL_POINT)
                b = a + 10 < d->nrows ? a + 10 : d->nrows - 1;
            for (size_t r = a; r <= b; r++)
                inside[r] = 1;
        }
    }
    /* the baseline (rows outside every window) is the same for every fault */
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
        size_t b = f->label_kind == DS_LABEL_POINT ? a : row_end_of(d, f->start, f->effect_end);
        for (size_t r = a; r <= b; r++)
            d->anomaly[r] = 1;
    }
    if (d->global_label[0])
        memset(d->anomaly, 1, d->nrows);
}

/* ---- loading ----------------------------------------------------------------------- */

int ds_load(struct ds *d, const char *run_dir, int64_t grid_ns, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    copy_str(d->dir, sizeof d->dir, run_dir);
    d->grid_ns = grid_ns > 0 ? grid_ns : MONI_NS_PER_SEC;
    d->meta_late = -1;
    size_t len;
    char *text = read_opt(run_dir, "samples.csv", &len);
    if (!text)
        return seterr(err, errlen, "%s/samples.csv: %s", run_dir, strerror(errno));
    struct raw_samples rs = {0};
    int rc = parse_samples(d, &rs, text, len, err, errlen);
    free(text);
    if (rc < 0) {
        raw_free(&rs);
        return -1;
    }
    d->nsamples = rs.n;
    char *mtext = read_opt(run_dir, "meta.json", &len);
    cJSON *meta = mtext ? cJSON_ParseWithLength(mtext, len) : NULL;
    free(mtext);
    if (!meta)
        d->incomplete = true;
    read_meta(d, meta);
    if (!d->interval_ns && rs.n > 2) {
        /* median spacing */
        size_t m = rs.n - 1 < 1001 ? rs.n - 1 : 1001;
        int64_t *sp = malloc(m * sizeof *sp);
        if (sp) {
            for (size_t i = 0; i < m; i++)
                sp[i] = rs.mono[i + 1] - rs.mono[i];
            for (size_t i = 1; i < m; i++) /* insertion sort: m is small */
                for (size_t j = i; j > 0 && sp[j - 1] > sp[j]; j--) {
                    int64_t t = sp[j];
                    sp[j] = sp[j - 1];
                    sp[j - 1] = t;
                }
            d->interval_ns = sp[m / 2] > 0 ? sp[m / 2] : 0;
            free(sp);
        }
    }
    /* grid: from the cell (aligned in wall time) of the first sample to the last */
    if (rs.n) {
        int64_t first = rs.mono[0], lastm = rs.mono[0];
        for (size_t i = 1; i < rs.n; i++) {
            if (rs.mono[i] < first)
                first = rs.mono[i];
            if (rs.mono[i] > lastm)
                lastm = rs.mono[i];
        }
        int64_t real0 = first + d->offset_ns;
        int64_t aligned = real0 - ((real0 % d->grid_ns) + d->grid_ns) % d->grid_ns;
        d->t0_mono = aligned - d->offset_ns;
        d->first_mono = first;
        d->last_mono = lastm;
        d->nrows = (size_t)((lastm - d->t0_mono) / d->grid_ns) + 1;
    }
    /* columns: samples (counters become rates), log-derived, training, flags */
    int *colmap = calloc(rs.ncols + 1, sizeof *colmap);
    bool have_heartbeat = false;
    rc = colmap ? 0 : -1;
    for (size_t c = 0; rc == 0 && c < rs.ncols; c++) {
        char name[256];
        if (strstr(rs.names[c], "heartbeat"))
            have_heartbeat = true;
        if (rs.counter[c])
            counter_rate_name(rs.names[c], name, sizeof name);
        else
            copy_str(name, sizeof name, rs.names[c]);
        colmap[c] = add_col(d, name, rs.counter[c] ? DS_COUNTER : DS_GAUGE);
        if (colmap[c] < 0)
            rc = -1;
    }
    size_t idxlen = 0, evlen = 0, flen = 0;
    char *idx = read_opt(run_dir, "workload.idx", &idxlen);
    char *ev = read_opt(run_dir, "events.jsonl", &evlen);
    char *ft = read_opt(run_dir, "faults.jsonl", &flen);
    int col_rate = -1, col_age = -1, train0 = -1, flag0 = -1;
    if (rc == 0 && idx) {
        col_rate = add_col(d, "log_lines_per_s", DS_GAUGE);
        if (!have_heartbeat)
            col_age = add_col(d, "log_heartbeat_age_s", DS_AGE);
    }
    for (size_t c = 0; rc == 0 && c < MONI_ARRAY_LEN(train_cols); c++) {
        int k = add_col(d, train_cols[c].col, DS_GAUGE);
        if (c == 0)
            train0 = k;
    }
    for (size_t c = 0; rc == 0 && c < MONI_ARRAY_LEN(flag_cols); c++) {
        int k = add_col(d, flag_cols[c].col, DS_FLAG);
        if (c == 0)
            flag0 = k;
    }
    if (rc == 0 && (train0 < 0 || flag0 < 0))
        rc = -1;
    if (rc == 0)
        rc = grid_alloc(d);
    struct phase_change *pc = NULL;
    size_t npc = 0;
    if (rc == 0) {
        fill_samples(d, &rs, colmap);
        if (d->meta_late >= 0)
            d->late_ticks = (size_t)d->meta_late;
        count_gaps(d, &rs);
        if (ft)
            parse_faults(d, ft, flen);
        if (meta)
            apply_meta_fault_labels(d, meta);
        if (idx)
            fill_log_index(d, idx, idxlen, col_rate, col_age);
        if (ev)
            fill_events(d, ev, evlen, train0, flag0, &pc, &npc);
        fill_phases(d, pc, npc);
        compute_labels(d);
    }
    free(pc);
    free(idx);
    free(ev);
    free(ft);
    free(colmap);
    cJSON_Delete(meta);
    raw_free(&rs);
    if (rc < 0) {
        ds_free(d);
        return seterr(err, errlen, "%s: out of memory", run_dir);
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
    memset(d, 0, sizeof *d);
}

/* ---- writing ------------------------------------------------------------------------ */

/* Buffered writer into DIR/NAME.tmp, renamed over NAME when complete. */
struct out {
    FILE *f;
    char path[PATH_MAX], tmp[PATH_MAX + 8];
};

static int out_open(struct out *o, const char *dir, const char *name, char *err, size_t errlen)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp", o->path);
    o->f = fopen(o->tmp, "w");
    if (!o->f)
        return seterr(err, errlen, "%s: %s", o->tmp, strerror(errno));
    setvbuf(o->f, NULL, _IOFBF, 1 << 16);
    return 0;
}

static int out_close(struct out *o, char *err, size_t errlen)
{
    int bad = ferror(o->f);
    if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0)
        bad = 1;
    if (fclose(o->f) != 0)
        bad = 1;
    if (bad || rename(o->tmp, o->path) != 0) {
        int e = errno;
        unlink(o->tmp);
        return seterr(err, errlen, "%s: %s", o->path, strerror(e ? e : EIO));
    }
    return 0;
}

/* Writes root (pretty-printed, then freed) to the run's file name, atomically. */
static int write_json(const struct ds *d, const char *name, cJSON *root, char *err, size_t errlen)
{
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return seterr(err, errlen, "out of memory");
    struct out o;
    if (out_open(&o, d->dir, name, err, errlen) < 0) {
        free(text);
        return -1;
    }
    fputs(text, o.f);
    fputc('\n', o.f);
    free(text);
    return out_close(&o, err, errlen);
}

/* Numbers: integers as integers, others with 10 significant digits; NaN and
 * infinities spelled the way pandas reads them. */
static size_t fmt_num(double v, char *buf)
{
    if (isnan(v))
        return (size_t)sprintf(buf, "nan");
    if (isinf(v))
        return (size_t)sprintf(buf, v > 0 ? "inf" : "-inf");
    if (v == (double)(long long)v && fabs(v) < 1e15) {
        long long x = (long long)v;
        char tmp[24];
        size_t n = 0, o = 0;
        bool neg = x < 0;
        unsigned long long u = neg ? (unsigned long long)(-x) : (unsigned long long)x;
        do {
            tmp[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (neg)
            buf[o++] = '-';
        while (n)
            buf[o++] = tmp[--n];
        buf[o] = '\0';
        return o;
    }
    double a = fabs(v);
    if (a >= 1e-3 && a < 1e15) {
        /* ~10 significant digits without printf: the matrix is millions of cells */
        unsigned long long ip = (unsigned long long)a;
        int ndig = 1;
        for (unsigned long long t = ip; t >= 10; t /= 10)
            ndig++;
        int dec = ip ? (10 - ndig > 0 ? 10 - ndig : 0) : 12;
        static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
                                     1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
        unsigned long long fr = (unsigned long long)llround((a - (double)ip) * p10[dec]);
        if ((double)fr >= p10[dec]) {
            ip++;
            fr = 0;
        }
        size_t o = 0;
        if (v < 0)
            buf[o++] = '-';
        o += fmt_num((double)ip, buf + o);
        if (fr) {
            char tmp[16];
            for (int k = dec - 1; k >= 0; k--) {
                tmp[k] = (char)('0' + fr % 10);
                fr /= 10;
            }
            int n = dec;
            while (n > 0 && tmp[n - 1] == '0')
                n--;
            buf[o++] = '.';
            memcpy(buf + o, tmp, (size_t)n);
            o += (size_t)n;
        }
        buf[o] = '\0';
        return o;
    }
    return (size_t)sprintf(buf, "%.10g", v);
}

static void fmt_row_time(const struct ds *d, size_t r, char *iso, size_t len)
{
    moni_fmt_iso(d->t0_mono + (int64_t)r * d->grid_ns + d->offset_ns, iso, len);
}

static void fmt_mono(const struct ds *d, int64_t mono, char *iso, size_t len)
{
    if (!mono)
        iso[0] = '\0';
    else
        moni_fmt_iso(mono + d->offset_ns, iso, len);
}

static int write_matrix(const struct ds *d, char *err, size_t errlen)
{
    struct out o;
    if (out_open(&o, d->dir, "tse_matrix.csv", err, errlen) < 0)
        return -1;
    fputs("timestamp", o.f);
    for (size_t c = 0; c < d->ncols; c++) {
        fputc(',', o.f);
        fputs(d->cols[c].name, o.f);
    }
    fputs(",is_anomaly\n", o.f);
    char *line = malloc(64 + d->ncols * 32);
    if (!line) {
        fclose(o.f);
        unlink(o.tmp);
        return seterr(err, errlen, "out of memory");
    }
    int64_t real0 = d->t0_mono + d->offset_ns;
    char iso[MONI_ISO_LEN];
    int64_t last_sec = INT64_MIN;
    for (size_t r = 0; r < d->nrows; r++) {
        int64_t real = real0 + (int64_t)r * d->grid_ns;
        /* the date part changes once a day: format it only then */
        if (real / MONI_NS_PER_SEC != last_sec || d->grid_ns % MONI_NS_PER_SEC) {
            moni_fmt_iso(real, iso, sizeof iso);
            last_sec = real / MONI_NS_PER_SEC;
        }
        size_t n = strlen(iso);
        memcpy(line, iso, n);
        const double *v = d->val + r * d->ncols;
        const unsigned char *ok = d->valid + r * d->ncols;
        for (size_t c = 0; c < d->ncols; c++) {
            line[n++] = ',';
            if (ok[c])
                n += fmt_num(v[c], line + n);
        }
        line[n++] = ',';
        line[n++] = d->anomaly[r] ? '1' : '0';
        line[n++] = '\n';
        fwrite(line, 1, n, o.f);
    }
    free(line);
    return out_close(&o, err, errlen);
}

static const char *label_kind_name(enum ds_label_kind k)
{
    return k == DS_LABEL_POINT ? "point" : k == DS_LABEL_GLOBAL ? "global" : "interval";
}

static bool fault_covers(const struct ds *d, const struct ds_fault *f, size_t r)
{
    if (!f->labelled)
        return false;
    size_t a = ds_row_of(d, f->start);
    size_t b = f->label_kind == DS_LABEL_POINT ? a : row_end_of(d, f->start, f->effect_end);
    return r >= a && r <= b;
}

static int write_labels(const struct ds *d, char *err, size_t errlen)
{
    struct out o;
    if (out_open(&o, d->dir, "labels.csv", err, errlen) < 0)
        return -1;
    fputs("timestamp,is_anomaly,fault_id,fault_kind,label_kind,phase\n", o.f);
    char iso[MONI_ISO_LEN];
    for (size_t r = 0; r < d->nrows; r++) {
        fmt_row_time(d, r, iso, sizeof iso);
        char ids[512] = "", kinds[256] = "", lk[128] = "";
        size_t ni = 0, nk = 0, nl = 0;
        if (d->global_label[0]) {
            ni += (size_t)snprintf(ids, sizeof ids, "global");
            nk += (size_t)snprintf(kinds, sizeof kinds, "%s", d->global_label);
            nl += (size_t)snprintf(lk, sizeof lk, "global");
        }
        for (size_t i = 0; i < d->nfaults; i++) {
            const struct ds_fault *f = &d->faults[i];
            if (!fault_covers(d, f, r))
                continue;
            if (ni < sizeof ids)
                ni += (size_t)snprintf(ids + ni, sizeof ids - ni, "%s%s", ni ? ";" : "", f->id);
            if (nk < sizeof kinds)
                nk += (size_t)snprintf(kinds + nk, sizeof kinds - nk, "%s%s", nk ? ";" : "",
                                       f->kind);
            if (nl < sizeof lk)
                nl += (size_t)snprintf(lk + nl, sizeof lk - nl, "%s%s", nl ? ";" : "",
                                       label_kind_name(f->label_kind));
        }
        fprintf(o.f, "%s,%d,%s,%s,%s,%s\n", iso, d->anomaly[r], ids, kinds, lk,
                ds_phase_names[d->phase[r]]);
    }
    return out_close(&o, err, errlen);
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
    char b[64];
    if (isnan(v))
        return; /* not journalled: empty */
    fmt_num(v, b);
    fputs(b, f);
}

/* A fault's time as the journal wrote it when it is one of its transitions. */
static void fmt_fault_time(const struct ds *d, const struct ds_fault *f, int64_t mono, char *iso,
                           size_t len)
{
    for (int k = 0; mono && k < 5; k++)
        if (f->stamp_mono[k] == mono && f->stamp_iso[k][0]) {
            copy_str(iso, len, f->stamp_iso[k]);
            return;
        }
    fmt_mono(d, mono, iso, len);
}

static int write_ground_truth(const struct ds *d, char *err, size_t errlen)
{
    struct out o;
    if (out_open(&o, d->dir, "ground_truth.csv", err, errlen) < 0)
        return -1;
    fputs("fault_id,kind,target,label_kind,requested,start,end,effect_end,root_cause,"
          "expected_failure_stage,affected_channels,requested_dose,delivered_dose\n",
          o.f);
    char a[MONI_ISO_LEN], b[MONI_ISO_LEN], c[MONI_ISO_LEN];
    if (d->global_label[0] && d->nrows) {
        fmt_row_time(d, 0, a, sizeof a);
        fmt_mono(d, d->last_mono, b, sizeof b);
        fprintf(o.f, "global,");
        csv_field(o.f, d->global_label);
        fprintf(o.f, ",workload,global,,%s,%s,%s,", a, b, b);
        csv_field(o.f, d->global_root_cause[0] ? d->global_root_cause : d->global_label);
        fputc(',', o.f);
        csv_field(o.f, d->global_stage);
        fputs(",,,\n", o.f);
    }
    for (size_t i = 0; i < d->nfaults; i++) {
        const struct ds_fault *f = &d->faults[i];
        fmt_fault_time(d, f, f->labelled ? f->start : 0, a, sizeof a);
        fmt_fault_time(d, f, f->labelled ? f->end : 0, b, sizeof b);
        fmt_fault_time(d, f, f->labelled ? f->effect_end : 0, c, sizeof c);
        csv_field(o.f, f->id);
        fputc(',', o.f);
        csv_field(o.f, f->kind);
        fputc(',', o.f);
        csv_field(o.f, f->target);
        fprintf(o.f, ",%s,", label_kind_name(f->label_kind));
        csv_field(o.f, f->params);
        fprintf(o.f, ",%s,%s,%s,", a, b, c);
        csv_field(o.f, f->root_cause);
        fputc(',', o.f);
        csv_field(o.f, f->stage);
        fputc(',', o.f);
        csv_field(o.f, f->affected);
        fputc(',', o.f);
        csv_num(o.f, f->requested_dose);
        fputc(',', o.f);
        csv_num(o.f, f->delivered_dose);
        fputc('\n', o.f);
    }
    return out_close(&o, err, errlen);
}

/* NAB's timestamp spelling: "2014-04-10 07:15:00.000000". */
static void fmt_nab(const struct ds *d, size_t row, bool end, char *buf, size_t len)
{
    char iso[MONI_ISO_LEN];
    int64_t t = d->t0_mono + (int64_t)row * d->grid_ns + d->offset_ns;
    (void)end;
    moni_fmt_iso(t, iso, sizeof iso);
    /* 2026-11-23T20:33:17.123Z -> 2026-11-23 20:33:17.123000 */
    iso[10] = ' ';
    iso[23] = '\0';
    snprintf(buf, len, "%s000", iso);
}

static int write_windows(const struct ds *d, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    char key[PATH_MAX];
    const char *base = strrchr(d->dir, '/');
    base = base && base[1] ? base + 1 : d->dir;
    snprintf(key, sizeof key, "%s/tse_matrix.csv", base);
    cJSON_AddItemToObject(root, key, arr);
    for (size_t r = 0; r < d->nrows;) {
        if (!d->anomaly[r]) {
            r++;
            continue;
        }
        size_t e = r;
        while (e + 1 < d->nrows && d->anomaly[e + 1])
            e++;
        char a[48], b[48];
        fmt_nab(d, r, false, a, sizeof a);
        fmt_nab(d, e, true, b, sizeof b);
        cJSON *w = cJSON_CreateArray();
        cJSON_AddItemToArray(w, cJSON_CreateString(a));
        cJSON_AddItemToArray(w, cJSON_CreateString(b));
        cJSON_AddItemToArray(arr, w);
        r = e + 1;
    }
    return write_json(d, "windows.json", root, err, errlen);
}

/* meta.json gets a "dataset" object: what was built and the data-quality counts. */
static int update_meta(const struct ds *d, char *err, size_t errlen)
{
    size_t len;
    char *text = read_opt(d->dir, "meta.json", &len);
    cJSON *meta = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!cJSON_IsObject(meta)) {
        cJSON_Delete(meta);
        meta = cJSON_CreateObject(); /* killed before meta.json was complete */
    }
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "dataset");
    cJSON *ds = cJSON_AddObjectToObject(meta, "dataset");
    char iso[MONI_ISO_LEN];
    cJSON_AddNumberToObject(ds, "grid_ns", (double)d->grid_ns);
    cJSON_AddNumberToObject(ds, "rows", (double)d->nrows);
    cJSON_AddNumberToObject(ds, "columns", (double)d->ncols + 2);
    cJSON_AddNumberToObject(ds, "samples", (double)d->nsamples);
    cJSON_AddNumberToObject(ds, "gap_rows", (double)d->gap_cells);
    cJSON_AddNumberToObject(ds, "gaps", (double)d->gap_runs);
    cJSON_AddNumberToObject(ds, "raw_gaps", (double)d->raw_gaps);
    cJSON_AddNumberToObject(ds, "late_ticks", (double)d->late_ticks);
    cJSON_AddNumberToObject(ds, "nonmonotonic", (double)d->nonmonotonic);
    cJSON_AddNumberToObject(ds, "bad_lines", (double)d->bad_lines);
    cJSON_AddNumberToObject(ds, "events", (double)d->nevents);
    cJSON_AddNumberToObject(ds, "faults", (double)d->nfaults);
    size_t an = 0;
    for (size_t r = 0; r < d->nrows; r++)
        an += d->anomaly[r];
    cJSON_AddNumberToObject(ds, "anomalous_rows", (double)an);
    cJSON_AddBoolToObject(ds, "incomplete", d->incomplete);
    cJSON_AddStringToObject(ds, "built", moni_fmt_iso(moni_now().real_ns, iso, sizeof iso));
    return write_json(d, "meta.json", meta, err, errlen);
}

int dataset_build(const char *run_dir, const struct dataset_opts *opts,
                  struct dataset_summary *sum, char *err, size_t errlen)
{
    struct ds d;
    if (ds_load(&d, run_dir, opts ? opts->grid_ns : 0, err, errlen) < 0)
        return -1;
    int rc = write_matrix(&d, err, errlen);
    if (rc == 0)
        rc = write_labels(&d, err, errlen);
    if (rc == 0)
        rc = write_ground_truth(&d, err, errlen);
    if (rc == 0)
        rc = write_windows(&d, err, errlen);
    if (rc == 0)
        rc = update_meta(&d, err, errlen);
    if (sum) {
        memset(sum, 0, sizeof *sum);
        sum->rows = d.nrows;
        sum->columns = d.ncols + 2;
        sum->gap_rows = d.gap_cells;
        sum->gaps = d.gap_runs;
        sum->faults = d.nfaults;
        for (size_t r = 0; r < d.nrows; r++)
            sum->anomalous_rows += d.anomaly[r];
        sum->incomplete = d.incomplete;
        sum->bad_lines = d.bad_lines;
    }
    ds_free(&d);
    return rc;
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
