/* core/dataset-write.c — the derived files of a run (moni-dataset(5)):
 * tse_matrix.csv, labels.csv, ground_truth.csv, windows.json and the "dataset"
 * object of meta.json, written from the grid that core/dataset.c loaded.  Each file
 * goes to NAME.tmp first and is renamed over NAME when complete, so a reader never
 * sees half a file.  It must never change what a file says for the same raw input:
 * users' tools read these bytes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/dataset-int.h"

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
        return moni_seterr(err, errlen, "%s: %s", o->tmp, strerror(errno));
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
        return moni_seterr(err, errlen, "%s: %s", o->path, strerror(e ? e : EIO));
    }
    return 0;
}

/* Writes root (pretty-printed, then freed) to the run's file name, atomically. */
static int write_json(const struct ds *d, const char *name, cJSON *root, char *err, size_t errlen)
{
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return moni_seterr(err, errlen, "out of memory");
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

/* The matrix's columns: the grid's, or the plan's fixed schema (meta.json
 * "dataset_schema") with -1 for a column this run does not have. */
static int *matrix_columns(const struct ds *d, size_t *n)
{
    *n = d->nschema ? d->nschema : d->ncols;
    int *map = malloc((*n + 1) * sizeof *map);
    for (size_t c = 0; map && c < *n; c++)
        map[c] = d->nschema ? ds_find_col(d, d->schema[c]) : (int)c;
    return map;
}

static int write_matrix(const struct ds *d, char *err, size_t errlen)
{
    struct out o;
    if (out_open(&o, d->dir, "tse_matrix.csv", err, errlen) < 0)
        return -1;
    size_t ncols;
    int *map = matrix_columns(d, &ncols);
    fputs("timestamp", o.f);
    for (size_t c = 0; c < ncols; c++) {
        fputc(',', o.f);
        fputs(d->nschema ? d->schema[c] : d->cols[c].name, o.f);
    }
    fputs(",is_anomaly\n", o.f);
    char *line = map ? malloc(64 + ncols * 32) : NULL;
    if (!line) {
        free(map);
        fclose(o.f);
        unlink(o.tmp);
        return moni_seterr(err, errlen, "out of memory");
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
        for (size_t c = 0; c < ncols; c++) {
            line[n++] = ',';
            if (map[c] >= 0 && ok[map[c]])
                n += fmt_num(v[map[c]], line + n);
        }
        line[n++] = ',';
        line[n++] = d->anomaly[r] ? '1' : '0';
        line[n++] = '\n';
        fwrite(line, 1, n, o.f);
    }
    free(line);
    free(map);
    return out_close(&o, err, errlen);
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
            if (!ds_fault_covers(d, f, r))
                continue;
            if (ni < sizeof ids)
                ni += (size_t)snprintf(ids + ni, sizeof ids - ni, "%s%s", ni ? ";" : "", f->id);
            if (nk < sizeof kinds)
                nk += (size_t)snprintf(kinds + nk, sizeof kinds - nk, "%s%s", nk ? ";" : "",
                                       f->kind);
            if (nl < sizeof lk)
                nl += (size_t)snprintf(lk + nl, sizeof lk - nl, "%s%s", nl ? ";" : "",
                                       ds_label_kind_name(f->label_kind));
        }
        fprintf(o.f, "%s,%d,%s,%s,%s,%s\n", iso, d->anomaly[r], ids, kinds, lk,
                ds_phase_names[d->phase[r]]);
    }
    return out_close(&o, err, errlen);
}

/* A journalled dose; empty when it was not journalled. */
static void csv_dose(struct moni_csv_row *row, double v)
{
    char b[64] = "";
    if (!isnan(v))
        fmt_num(v, b);
    moni_csv_text(row, b);
}

/* A fault's time as the journal wrote it when it is one of its transitions. */
static void fmt_fault_time(const struct ds *d, const struct ds_fault *f, int64_t mono, char *iso,
                           size_t len)
{
    for (int k = 0; mono && k < 5; k++)
        if (f->stamp_mono[k] == mono && f->stamp_iso[k][0]) {
            ds_copy(iso, len, f->stamp_iso[k]);
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
    struct moni_csv_row row = {o.f, 0};
    if (d->global_label[0] && d->nrows) {
        fmt_row_time(d, 0, a, sizeof a);
        fmt_mono(d, d->last_mono, b, sizeof b);
        const char *cells[] = {"global", d->global_label, "workload", "global", "", a, b, b,
                               d->global_root_cause[0] ? d->global_root_cause : d->global_label,
                               d->global_stage, "", "", ""};
        for (size_t k = 0; k < MONI_ARRAY_LEN(cells); k++)
            moni_csv_text(&row, cells[k]);
        moni_csv_end(&row);
    }
    for (size_t i = 0; i < d->nfaults; i++) {
        const struct ds_fault *f = &d->faults[i];
        fmt_fault_time(d, f, f->labelled ? f->start : 0, a, sizeof a);
        fmt_fault_time(d, f, f->labelled ? f->end : 0, b, sizeof b);
        fmt_fault_time(d, f, f->labelled ? f->effect_end : 0, c, sizeof c);
        const char *cells[] = {f->id, f->kind, f->target, ds_label_kind_name(f->label_kind),
                               f->params, a, b, c, f->root_cause, f->stage, f->affected};
        for (size_t k = 0; k < MONI_ARRAY_LEN(cells); k++)
            moni_csv_text(&row, cells[k]);
        csv_dose(&row, f->requested_dose);
        csv_dose(&row, f->delivered_dose);
        moni_csv_end(&row);
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

/* A fixed schema's notes: the schema's columns this run left empty (the machine has
 * no such column, or no sample filled it) and the run's columns it left out. */
static void schema_meta(const struct ds *d, cJSON *ds)
{
    cJSON *s = cJSON_AddObjectToObject(ds, "schema");
    cJSON_AddNumberToObject(s, "columns", (double)d->nschema);
    cJSON *empty = cJSON_AddArrayToObject(s, "columns_empty");
    for (size_t i = 0; i < d->nschema; i++) {
        int c = ds_find_col(d, d->schema[i]);
        bool filled = false;
        for (size_t r = 0; c >= 0 && r < d->nrows && !filled; r++)
            filled = d->valid[r * d->ncols + (size_t)c];
        if (!filled)
            cJSON_AddItemToArray(empty, cJSON_CreateString(d->schema[i]));
    }
    cJSON *out = cJSON_AddArrayToObject(s, "columns_not_in_schema");
    for (size_t c = 0; c < d->ncols; c++) {
        bool in = false;
        for (size_t i = 0; i < d->nschema && !in; i++)
            in = !strcmp(d->schema[i], d->cols[c].name);
        if (!in)
            cJSON_AddItemToArray(out, cJSON_CreateString(d->cols[c].name));
    }
}

/* meta.json gets a "dataset" object: what was built and the data-quality counts. */
static int update_meta(struct ds *d, char *err, size_t errlen)
{
    /* the document ds_load read (it refuses a meta.json it cannot read, so this never
     * overwrites one); none when the run was killed before its first meta.json */
    cJSON *own = d->have_meta ? NULL : cJSON_CreateObject();
    cJSON *meta = d->have_meta ? d->meta.root : own;
    if (!meta)
        return moni_seterr(err, errlen, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "dataset");
    cJSON *ds = cJSON_AddObjectToObject(meta, "dataset");
    char iso[MONI_ISO_LEN];
    cJSON_AddNumberToObject(ds, "grid_ns", (double)d->grid_ns);
    cJSON_AddNumberToObject(ds, "rows", (double)d->nrows);
    cJSON_AddNumberToObject(ds, "columns", (double)(d->nschema ? d->nschema : d->ncols) + 2);
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
    cJSON *left = cJSON_AddArrayToObject(ds, "columns_left_out");
    for (size_t i = 0; left && i < d->nleft_out; i++)
        cJSON_AddItemToArray(left, cJSON_CreateString(d->left_out[i]));
    if (d->nschema)
        schema_meta(d, ds);
    cJSON_AddStringToObject(ds, "built", moni_fmt_iso(moni_now().real_ns, iso, sizeof iso));
    int rc = rundir_meta_write(d->dir, meta, err, errlen);
    cJSON_Delete(own);
    return rc;
}

/* detections.jsonl as the detectors give it over the raw files: written whole to a
 * temporary file and renamed, so a reader never sees half of it. */
static int write_detections(const struct ds *d, char *err, size_t errlen)
{
    char tmp[PATH_MAX + 32], path[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/.detections.jsonl.tmp", d->dir);
    snprintf(path, sizeof path, "%s/detections.jsonl", d->dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return moni_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
    int rc = 0;
    for (size_t i = 0; i < d->ndets && rc == 0; i++)
        rc = rundir_detection_append(fd, &d->dets[i]);
    if (rc == 0)
        rc = fsync(fd);
    if (close(fd) < 0 || rc < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return moni_seterr(err, errlen, "%s: %s", path, strerror(e));
    }
    return 0;
}

int dataset_build(const char *run_dir, const struct dataset_opts *opts,
                  struct dataset_summary *sum, char *err, size_t errlen)
{
    struct ds d;
    int lrc = ds_load(&d, run_dir, opts ? opts->grid_ns : 0, err, errlen);
    if (lrc < 0) {
        if (sum) {
            memset(sum, 0, sizeof *sum);
            sum->bad_input = lrc == DS_BAD_INPUT;
        }
        return -1;
    }
    int rc = write_matrix(&d, err, errlen);
    if (rc == 0)
        rc = write_labels(&d, err, errlen);
    if (rc == 0)
        rc = write_ground_truth(&d, err, errlen);
    if (rc == 0)
        rc = write_windows(&d, err, errlen);
    if (rc == 0 && !(opts && opts->keep_detections && d.has_live_detections))
        rc = write_detections(&d, err, errlen);
    if (rc == 0)
        rc = update_meta(&d, err, errlen);
    if (sum) {
        memset(sum, 0, sizeof *sum);
        sum->rows = d.nrows;
        sum->columns = (d.nschema ? d.nschema : d.ncols) + 2;
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

