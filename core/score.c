/* core/score.c — `moni detect` and `moni validate --detectors`: the dataset's L2 and
 * L3 levels.  Fits the scaler, the Isolation Forest and the autoencoder on the rows
 * of healthy runs, scores every row of other runs, writes the score files and
 * evaluates the scores against the runs' labels per model and fault kind
 * (moni-dataset(5), SCORES and EVALUATION).
 *
 * The matrix is the one `moni build` writes as tse_matrix.csv (the same grid, loaded
 * from the raw files by ds_load).  Features: every column of the first training run
 * except the det_* flags (other detectors' verdicts) and columns no training row
 * fills.  Standardisation (mean, standard deviation; 1 where it is 0, as sklearn's
 * StandardScaler) is fitted on the training rows only; a missing cell is imputed
 * with the training mean, i.e. 0 once standardised. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/dataset-int.h"
#include "core/score-int.h"

/* The L2 and L3 models, then L1: the streaming detectors' verdicts already in the
 * matrix (the det_* columns), scored as how many of them flag the row, so that one
 * table compares all three levels on the same rows (a kill that ends the run shows
 * in no metric of its last row, only in the detectors' process exit). */
enum { M_IFOREST, M_AUTOENC, M_FITTED, M_DETECTORS = M_FITTED, M_N };
static const char *const model_names[M_N] = {"iforest", "autoencoder", "detectors"};

#define CLIP 1e6           /* standardised values beyond this are clipped */
#define THRESHOLD_Q 0.99   /* threshold: this quantile of the training scores */
#define THRESHOLD_ROWS 20000
#define VUS_BUFFER 10      /* VUS-PR: buffers of 0..10 rows */
#define IF_TREES 100
#define IF_PSI 256

struct scaler {
    char **names;
    size_t n;
    double *mean, *scale;
};

static void scaler_free(struct scaler *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->mean);
    free(s->scale);
    memset(s, 0, sizeof *s);
}

static bool is_feature(const char *name)
{
    return strncmp(name, "det_", 4) != 0;
}

/* Columns of the first training run that some training row fills, with their mean
 * and standard deviation over the training runs' healthy rows. */
static int scaler_fit(struct scaler *s, struct ds *tr, size_t ntr)
{
    memset(s, 0, sizeof *s);
    const struct ds *d0 = &tr[0];
    s->names = calloc(d0->ncols + 1, sizeof *s->names);
    s->mean = calloc(d0->ncols + 1, sizeof *s->mean);
    s->scale = calloc(d0->ncols + 1, sizeof *s->scale);
    if (!s->names || !s->mean || !s->scale)
        return -1;
    for (size_t c = 0; c < d0->ncols; c++) {
        if (!is_feature(d0->cols[c].name))
            continue;
        double sum = 0, ss = 0;
        size_t n = 0;
        for (size_t k = 0; k < ntr; k++) {
            int col = ds_find_col(&tr[k], d0->cols[c].name);
            for (size_t r = 0; col >= 0 && r < tr[k].nrows; r++) {
                double v;
                if (tr[k].anomaly[r] || !ds_get(&tr[k], r, (size_t)col, &v) || !isfinite(v))
                    continue;
                sum += v;
                ss += v * v;
                n++;
            }
        }
        if (!n)
            continue;
        double mean = sum / (double)n, var = ss / (double)n - mean * mean;
        s->names[s->n] = strdup(d0->cols[c].name);
        if (!s->names[s->n])
            return -1;
        s->mean[s->n] = mean;
        s->scale[s->n] = var > 1e-12 * (mean * mean + 1) ? sqrt(var) : 1.0;
        s->n++;
    }
    return s->n ? 0 : -1;
}

/* The standardised matrix of d (nrows x s->n); skip_anomalous leaves labelled rows
 * out (training).  NULL on ENOMEM; *rows gets the row count. */
static double *standardise(const struct scaler *s, const struct ds *d, bool skip_anomalous,
                           size_t *rows)
{
    int *col = malloc((s->n + 1) * sizeof *col);
    double *x = malloc((d->nrows * s->n + 1) * sizeof *x);
    if (!col || !x) {
        free(col);
        free(x);
        return NULL;
    }
    for (size_t j = 0; j < s->n; j++)
        col[j] = ds_find_col(d, s->names[j]);
    size_t m = 0;
    for (size_t r = 0; r < d->nrows; r++) {
        if (skip_anomalous && d->anomaly[r])
            continue;
        double *o = x + m++ * s->n;
        for (size_t j = 0; j < s->n; j++) {
            double v;
            if (col[j] < 0 || !ds_get(d, r, (size_t)col[j], &v) || !isfinite(v)) {
                o[j] = 0; /* imputed: the training mean */
                continue;
            }
            v = (v - s->mean[j]) / s->scale[j];
            o[j] = v > CLIP ? CLIP : v < -CLIP ? -CLIP : v;
        }
    }
    free(col);
    *rows = m;
    return x;
}

struct models {
    struct iforest forest;
    struct autoenc ae;
    double threshold[M_N];
};

static double model_score(const struct models *m, int k, const double *row)
{
    return k == M_IFOREST ? iforest_score(&m->forest, row) : autoenc_score(&m->ae, row);
}

static int models_fit(struct models *m, const double *x, size_t n, int dim, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    struct autoenc_opts ao = {.seed = seed};
    if (iforest_fit(&m->forest, x, n, dim, IF_TREES, IF_PSI, seed) < 0 ||
        autoenc_fit(&m->ae, x, n, dim, &ao) < 0)
        return -1;
    /* the threshold from at most THRESHOLD_ROWS training rows, evenly spaced */
    size_t step = n > THRESHOLD_ROWS ? (n + THRESHOLD_ROWS - 1) / THRESHOLD_ROWS : 1, k_n = 0;
    double *tmp = malloc((n + 1) * sizeof *tmp);
    if (!tmp)
        return -1;
    for (int k = 0; k < M_FITTED; k++) {
        k_n = 0;
        for (size_t r = 0; r < n; r += step)
            tmp[k_n++] = model_score(m, k, x + r * (size_t)dim);
        m->threshold[k] = eval_quantile(tmp, k_n, THRESHOLD_Q);
    }
    m->threshold[M_DETECTORS] = 0.5; /* one detector flagging the row */
    free(tmp);
    return 0;
}

static void models_free(struct models *m)
{
    iforest_free(&m->forest);
    autoenc_free(&m->ae);
}

/* ---- files --------------------------------------------------------------------------- */

static FILE *open_tmp(const char *path, char *tmp, size_t len)
{
    snprintf(tmp, len, "%s.tmp", path);
    return fopen(tmp, "w");
}

static int close_tmp(FILE *f, const char *tmp, const char *path, char *err, size_t errlen)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int e = errno ? errno : EIO;
        unlink(tmp);
        return moni_seterr(err, errlen, "%s: %s", path, strerror(e));
    }
    return 0;
}

/* scores.csv (timestamp and one column per model) and the TimeEval-style files: one
 * score per line, no header, one line per row of tse_matrix.csv. */
static int write_scores(const struct ds *d, double *const sc[M_N], char *err, size_t errlen)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/scores.csv", d->dir);
    FILE *f = open_tmp(path, tmp, sizeof tmp);
    if (!f)
        return moni_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
    fputs("timestamp", f);
    for (int k = 0; k < M_N; k++)
        fprintf(f, ",%s", model_names[k]);
    fputc('\n', f);
    char iso[MONI_ISO_LEN];
    for (size_t r = 0; r < d->nrows; r++) {
        moni_fmt_iso(d->t0_mono + (int64_t)r * d->grid_ns + d->offset_ns, iso, sizeof iso);
        fputs(iso, f);
        for (int k = 0; k < M_N; k++)
            fprintf(f, ",%.9g", sc[k][r]);
        fputc('\n', f);
    }
    if (close_tmp(f, tmp, path, err, errlen) < 0)
        return -1;
    for (int k = 0; k < M_N; k++) {
        snprintf(path, sizeof path, "%s/scores-%s.ts", d->dir, model_names[k]);
        if (!(f = open_tmp(path, tmp, sizeof tmp)))
            return moni_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
        for (size_t r = 0; r < d->nrows; r++)
            fprintf(f, "%.9g\n", sc[k][r]);
        if (close_tmp(f, tmp, path, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* A standardised matrix for other tools (the sklearn cross-check): a header of the
 * feature names (and is_anomaly when labels are given), then the rows. */
static int export_matrix(const char *dir, const char *name, const struct scaler *s,
                         const double *x, size_t n, const unsigned char *labels, char *err,
                         size_t errlen)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 72];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = open_tmp(path, tmp, sizeof tmp);
    if (!f)
        return moni_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
    for (size_t j = 0; j < s->n; j++)
        fprintf(f, "%s%s", j ? "," : "", s->names[j]);
    fputs(labels ? ",is_anomaly\n" : "\n", f);
    for (size_t r = 0; r < n; r++) {
        for (size_t j = 0; j < s->n; j++)
            fprintf(f, "%s%.17g", j ? "," : "", x[r * s->n + j]);
        if (labels)
            fprintf(f, ",%d", labels[r]);
        fputc('\n', f);
    }
    return close_tmp(f, tmp, path, err, errlen);
}

/* ---- evaluation per model and fault kind ------------------------------------------- */

/* The rows of every scored run that has a fault of this kind: its windows are the
 * positives, rows outside every label the negatives (other faults' rows are left
 * out), plus each fault's detection delay per model. */
struct kind_acc {
    char kind[160];  /* "cpu", or "knob (batch_too_large)" with the fault's root cause */
    size_t n, cap, runs, faults;
    double *s[M_N];
    unsigned char *y;
    size_t detected[M_N];
    double *delay[M_N]; /* per detected fault, seconds from its start */
};

struct evaluation {
    struct kind_acc *k;
    size_t n;
};

static struct kind_acc *kind_get(struct evaluation *ev, const char *kind)
{
    for (size_t i = 0; i < ev->n; i++)
        if (!strcmp(ev->k[i].kind, kind))
            return &ev->k[i];
    struct kind_acc *k = realloc(ev->k, (ev->n + 1) * sizeof *k);
    if (!k)
        return NULL;
    ev->k = k;
    k = &ev->k[ev->n++];
    memset(k, 0, sizeof *k);
    snprintf(k->kind, sizeof k->kind, "%s", kind);
    return k;
}

/* The table's row of a fault: its kind, and its root cause when the plan named one
 * (two knob faults are different failures). */
static void fault_key(const struct ds_fault *f, char *key, size_t len)
{
    if (f->root_cause[0])
        snprintf(key, len, "%s (%s)", f->kind, f->root_cause);
    else
        snprintf(key, len, "%s", f->kind);
}

static int kind_push(struct kind_acc *k, double *const sc[M_N], size_t r, unsigned char y)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4096;
        unsigned char *ny = realloc(k->y, cap);
        if (!ny)
            return -1;
        k->y = ny;
        for (int m = 0; m < M_N; m++) {
            double *ns = realloc(k->s[m], cap * sizeof *ns);
            if (!ns)
                return -1;
            k->s[m] = ns;
        }
        k->cap = cap;
    }
    for (int m = 0; m < M_N; m++)
        k->s[m][k->n] = sc[m][r];
    k->y[k->n++] = y;
    return 0;
}

/* First row at or after the fault's start (up to its effect's end) scored above the
 * threshold: the delay in seconds, or NaN. */
static double detection_delay(const struct ds *d, const struct ds_fault *f, const double *sc,
                              double threshold)
{
    size_t a = ds_row_of(d, f->start);
    size_t b = f->label_kind == DS_LABEL_POINT ? a : ds_row_end_of(d, f->start, f->effect_end);
    for (size_t r = a; r <= b && r < d->nrows; r++)
        if (sc[r] > threshold) {
            int64_t t = d->t0_mono + (int64_t)r * d->grid_ns - f->start;
            return t > 0 ? (double)t / 1e9 : 0;
        }
    return NAN;
}

static int evaluate_run(struct evaluation *ev, const struct ds *d, double *const sc[M_N],
                        const struct models *m)
{
    for (size_t i = 0; i < d->nfaults; i++) {
        const struct ds_fault *f = &d->faults[i];
        if (!f->labelled)
            continue;
        char key[160];
        fault_key(f, key, sizeof key);
        struct kind_acc *k = kind_get(ev, key);
        if (!k)
            return -1;
        k->faults++;
        for (int mo = 0; mo < M_N; mo++) {
            double dl = detection_delay(d, f, sc[mo], m->threshold[mo]);
            if (isnan(dl))
                continue;
            double *nd = realloc(k->delay[mo], (k->detected[mo] + 1) * sizeof *nd);
            if (!nd)
                return -1;
            k->delay[mo] = nd;
            nd[k->detected[mo]++] = dl;
        }
        bool first = true; /* this kind's rows of this run, once */
        char other[160];
        for (size_t j = 0; j < i; j++) {
            fault_key(&d->faults[j], other, sizeof other);
            if (d->faults[j].labelled && !strcmp(other, key))
                first = false;
        }
        if (!first)
            continue;
        k->runs++;
        for (size_t r = 0; r < d->nrows; r++) {
            bool mine = false;
            for (size_t j = 0; j < d->nfaults && !mine; j++) {
                fault_key(&d->faults[j], other, sizeof other);
                mine = d->faults[j].labelled && !strcmp(other, key) &&
                       ds_fault_covers(d, &d->faults[j], r);
            }
            if ((mine || !d->anomaly[r]) && kind_push(k, sc, r, mine) < 0)
                return -1;
        }
    }
    return 0;
}

struct table_row {
    double ratio, auc_roc, auc_pr, vus_pr, rp, rr, rf1, pa_f1, delay;
};

static void table_row_of(const struct kind_acc *k, int mo, double threshold, struct table_row *t)
{
    size_t pos = 0;
    for (size_t i = 0; i < k->n; i++)
        pos += k->y[i];
    t->ratio = k->n ? (double)pos / (double)k->n : NAN;
    t->auc_roc = eval_auc_roc(k->s[mo], k->y, k->n);
    t->auc_pr = eval_auc_pr(k->s[mo], k->y, k->n);
    t->vus_pr = eval_vus_pr(k->s[mo], k->y, k->n, VUS_BUFFER);
    unsigned char *pred = malloc(k->n + 1);
    t->rp = t->rr = t->rf1 = t->pa_f1 = NAN;
    if (pred) {
        for (size_t i = 0; i < k->n; i++)
            pred[i] = k->s[mo][i] > threshold;
        double p, r;
        eval_range_prf(k->y, pred, k->n, &t->rp, &t->rr, &t->rf1);
        eval_point_adjusted_prf(k->y, pred, k->n, &p, &r, &t->pa_f1);
        free(pred);
    }
    double *dl = k->detected[mo] ? malloc(k->detected[mo] * sizeof *dl) : NULL;
    if (dl)
        memcpy(dl, k->delay[mo], k->detected[mo] * sizeof *dl);
    t->delay = dl ? eval_quantile(dl, k->detected[mo], 0.5) : NAN;
    free(dl);
}

static void fmt_metric(char *b, size_t len, double v)
{
    if (isnan(v))
        snprintf(b, len, "-");
    else
        snprintf(b, len, "%.3f", v);
}

static int write_table(const struct evaluation *ev, const struct models *m, FILE *out,
                       const char *csv_path, char *err, size_t errlen)
{
    FILE *csv = NULL;
    char tmp[PATH_MAX + 16];
    if (csv_path && !(csv = open_tmp(csv_path, tmp, sizeof tmp)))
        return moni_seterr(err, errlen, "%s: %s", csv_path, strerror(errno));
    if (csv)
        fputs("model,fault_kind,runs,faults,rows,anomaly_ratio,auc_roc,auc_pr,vus_pr,range_precision,"
              "range_recall,range_f1,pa_f1_optimistic,detected,median_delay_s,threshold\n",
              csv);
    if (out)
        fprintf(out, "%-11s %-28s %6s %6s %7s %7s %7s %7s %7s %7s %8s %8s %8s\n", "model",
                "fault_kind", "faults", "ratio", "auc_roc", "auc_pr", "vus_pr", "rng_p", "rng_r",
                "rng_f1", "pa_f1*", "detected", "delay_s");
    for (int mo = 0; mo < M_N; mo++)
        for (size_t i = 0; i < ev->n; i++) {
            const struct kind_acc *k = &ev->k[i];
            struct table_row t;
            table_row_of(k, mo, m->threshold[mo], &t);
            double v[] = {t.ratio, t.auc_roc, t.auc_pr, t.vus_pr, t.rp, t.rr, t.rf1, t.pa_f1};
            char b[8][16], det[24], dl[16];
            for (int j = 0; j < 8; j++)
                fmt_metric(b[j], sizeof b[j], v[j]);
            snprintf(det, sizeof det, "%zu/%zu", k->detected[mo], k->faults);
            if (isnan(t.delay))
                snprintf(dl, sizeof dl, "-");
            else
                snprintf(dl, sizeof dl, "%.0f", t.delay);
            if (out)
                fprintf(out, "%-11s %-28s %6zu %6s %7s %7s %7s %7s %7s %7s %8s %8s %8s\n",
                        model_names[mo], k->kind, k->faults, b[0], b[1], b[2], b[3], b[4], b[5],
                        b[6], b[7], det, dl);
            if (csv) {
                struct moni_csv_row row = {csv, 0};
                moni_csv_text(&row, model_names[mo]);
                moni_csv_text(&row, k->kind);
                moni_csv_fmt(&row, "%zu", k->runs);
                moni_csv_fmt(&row, "%zu", k->faults);
                moni_csv_fmt(&row, "%zu", k->n);
                for (int j = 0; j < 8; j++)
                    moni_csv_num(&row, "%.3f", v[j]);
                moni_csv_fmt(&row, "%zu", k->detected[mo]);
                moni_csv_num(&row, "%.3f", t.delay);
                moni_csv_fmt(&row, "%.9g", m->threshold[mo]);
                moni_csv_end(&row);
            }
        }
    if (out)
        fprintf(out, "ratio: share of anomalous rows (AUC-PR of a random score); range "
                     "p/r/f1 and detections at the 99th percentile of the training scores; "
                     "pa_f1*: point-adjusted F1, optimistic\n");
    return csv ? close_tmp(csv, tmp, csv_path, err, errlen) : 0;
}

static void evaluation_free(struct evaluation *ev)
{
    for (size_t i = 0; i < ev->n; i++) {
        free(ev->k[i].y);
        for (int m = 0; m < M_N; m++) {
            free(ev->k[i].s[m]);
            free(ev->k[i].delay[m]);
        }
    }
    free(ev->k);
}

/* ---- the driver ------------------------------------------------------------------- */

/* The training matrix: the healthy rows of every training run, standardised. */
static double *training_matrix(const struct scaler *s, struct ds *tr, size_t ntr, size_t *rows)
{
    size_t total = 0;
    for (size_t k = 0; k < ntr; k++)
        total += tr[k].nrows;
    double *x = malloc((total * s->n + 1) * sizeof *x);
    *rows = 0;
    for (size_t k = 0; x && k < ntr; k++) {
        size_t m;
        double *part = standardise(s, &tr[k], true, &m);
        if (!part) {
            free(x);
            return NULL;
        }
        memcpy(x + *rows * s->n, part, m * s->n * sizeof *x);
        *rows += m;
        free(part);
    }
    return x;
}

/* How many streaming detectors flag row r (det: their det_* columns, found once). */
static double detectors_score(const struct ds *d, const size_t *det, size_t ndet, size_t r)
{
    double n = 0;
    for (size_t k = 0; k < ndet; k++)
        if (d->valid[r * d->ncols + det[k]] && d->val[r * d->ncols + det[k]] > 0)
            n++;
    return n;
}

static int score_one(const char *run, size_t index, const struct scaler *s,
                     const struct models *m, const struct detect_opts *o,
                     struct evaluation *ev, char *err, size_t errlen)
{
    struct ds d;
    if (ds_load(&d, run, o->grid_ns, err, errlen) < 0)
        return -1;
    size_t n;
    double *x = standardise(s, &d, false, &n);
    double *sc[M_N] = {0};
    int rc = x ? 0 : moni_seterr(err, errlen, "%s: out of memory", run);
    size_t *det = malloc((d.ncols + 1) * sizeof *det), ndet = 0;
    for (size_t c = 0; det && c < d.ncols; c++)
        if (!strncmp(d.cols[c].name, "det_", 4))
            det[ndet++] = c;
    if (!det && rc == 0)
        rc = moni_seterr(err, errlen, "%s: out of memory", run);
    for (int k = 0; rc == 0 && k < M_N; k++) {
        sc[k] = malloc((n + 1) * sizeof *sc[k]);
        if (!sc[k]) {
            rc = moni_seterr(err, errlen, "%s: out of memory", run);
            break;
        }
        for (size_t r = 0; r < n; r++)
            sc[k][r] = k == M_DETECTORS ? detectors_score(&d, det, ndet, r)
                                        : model_score(m, k, x + r * s->n);
    }
    if (rc == 0 && o->write_scores)
        rc = write_scores(&d, sc, err, errlen);
    if (rc == 0 && o->export_dir) {
        char name[64];
        snprintf(name, sizeof name, "score-%zu.csv", index + 1);
        rc = export_matrix(o->export_dir, name, s, x, n, d.anomaly, err, errlen);
    }
    if (rc == 0 && evaluate_run(ev, &d, sc, m) < 0)
        rc = moni_seterr(err, errlen, "%s: out of memory", run);
    for (int k = 0; k < M_N; k++)
        free(sc[k]);
    free(det);
    free(x);
    ds_free(&d);
    return rc;
}

int detect_score_runs(const char *const *runs, size_t nruns, const struct detect_opts *o,
                      char *err, size_t errlen)
{
    if (!o->ntrain)
        return moni_seterr(err, errlen, "no training run");
    struct ds *tr = calloc(o->ntrain, sizeof *tr);
    if (!tr)
        return moni_seterr(err, errlen, "out of memory");
    size_t loaded = 0;
    int rc = 0;
    for (; loaded < o->ntrain; loaded++)
        if (ds_load(&tr[loaded], o->train[loaded], o->grid_ns, err, errlen) < 0) {
            rc = -1;
            break;
        }
    struct scaler s = {0};
    struct models m = {0};
    struct evaluation ev = {0};
    double *x = NULL;
    size_t n = 0;
    if (rc == 0 && scaler_fit(&s, tr, o->ntrain) < 0)
        rc = moni_seterr(err, errlen, "%s: no column with a value to train on", o->train[0]);
    if (rc == 0 && !(x = training_matrix(&s, tr, o->ntrain, &n)))
        rc = moni_seterr(err, errlen, "out of memory");
    if (rc == 0 && n < 2)
        rc = moni_seterr(err, errlen, "%s: fewer than 2 healthy rows to train on", o->train[0]);
    for (size_t k = 0; k < loaded; k++)
        ds_free(&tr[k]);
    free(tr);
    if (rc == 0 && models_fit(&m, x, n, (int)s.n, o->seed ? o->seed : 42) < 0)
        rc = moni_seterr(err, errlen, "out of memory training the models");
    if (rc == 0 && o->export_dir)
        rc = export_matrix(o->export_dir, "train.csv", &s, x, n, NULL, err, errlen);
    free(x);
    for (size_t i = 0; rc == 0 && i < nruns; i++)
        rc = score_one(runs[i], i, &s, &m, o, &ev, err, errlen);
    if (rc == 0 && (o->table || o->csv_path))
        rc = write_table(&ev, &m, o->table, o->csv_path, err, errlen);
    evaluation_free(&ev);
    models_free(&m);
    scaler_free(&s);
    return rc;
}
