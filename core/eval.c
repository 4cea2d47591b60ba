/* core/eval.c — how the dataset's detectors are scored, as the anomaly-detection
 * literature does it: threshold-free AUC-ROC, AUC-PR and VUS-PR over the scores,
 * and, at a threshold, range-based precision/recall (Tatbul et al., NeurIPS 2018)
 * beside the optimistic point-adjusted F1.  Pure functions over arrays: the unit
 * tests check each against hand-computed values. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/score-int.h"

struct scored {
    double s;
    unsigned char y;
};

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The rows sorted by descending score (NaN scores rank lowest); NULL on ENOMEM. */
static struct scored *sorted(const double *s, const unsigned char *y, size_t n, size_t *pos)
{
    struct scored *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    *pos = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].s = isnan(s[i]) ? -INFINITY : s[i];
        v[i].y = y[i] ? 1 : 0;
        *pos += v[i].y;
    }
    qsort(v, n, sizeof *v, by_score_desc);
    return v;
}

double eval_auc_roc(const double *s, const unsigned char *y, size_t n)
{
    size_t P;
    struct scored *v = sorted(s, y, n, &P);
    if (!v)
        return NAN;
    size_t N = n - P;
    double area = 0, tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        double tp0 = tp, fp0 = fp;
        size_t j = i;
        for (; j < n && v[j].s == v[i].s; j++) {
            tp += v[j].y;
            fp += !v[j].y;
        }
        area += (fp - fp0) * (tp + tp0) / 2.0; /* a tie group is one diagonal step */
        i = j;
    }
    free(v);
    return P && N ? area / ((double)P * (double)N) : NAN;
}

double eval_auc_pr(const double *s, const unsigned char *y, size_t n)
{
    size_t P;
    struct scored *v = sorted(s, y, n, &P);
    if (!v)
        return NAN;
    double ap = 0, tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        double tp0 = tp;
        size_t j = i;
        for (; j < n && v[j].s == v[i].s; j++) {
            tp += v[j].y;
            fp += !v[j].y;
        }
        if (P)
            ap += (tp - tp0) / (double)P * (tp / (tp + fp));
        i = j;
    }
    free(v);
    return P && P < n ? ap : NAN;
}

double eval_vus_pr(const double *s, const unsigned char *y, size_t n, size_t max_buffer)
{
    unsigned char *w = malloc(n ? n : 1);
    if (!w)
        return NAN;
    double sum = 0;
    size_t k = 0;
    for (size_t l = 0; l <= max_buffer; l++) {
        memset(w, 0, n);
        for (size_t i = 0; i < n; i++) {
            if (!y[i])
                continue;
            size_t a = i > l ? i - l : 0, b = i + l < n ? i + l : n - 1;
            memset(w + a, 1, b - a + 1);
        }
        double ap = eval_auc_pr(s, w, n);
        if (isnan(ap))
            continue;
        sum += ap;
        k++;
    }
    free(w);
    return k ? sum / (double)k : NAN;
}

/* Contiguous runs of 1 in v: ranges[2k] = first row, ranges[2k+1] = last row. */
static size_t ranges_of(const unsigned char *v, size_t n, size_t *ranges)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || (i && v[i - 1]))
            continue;
        size_t e = i;
        while (e + 1 < n && v[e + 1])
            e++;
        ranges[2 * k] = i;
        ranges[2 * k + 1] = e;
        k++;
    }
    return k;
}

/* The overlap reward of range a against the ranges b: with a flat bias the share of
 * a's rows that b covers, times the cardinality factor 1/k when k > 1 ranges of b
 * overlap it (alpha = 0: no reward for mere existence). */
static double overlap_reward(const size_t *a, const size_t *b, size_t nb)
{
    size_t covered = 0, k = 0;
    for (size_t j = 0; j < nb; j++) {
        size_t lo = a[0] > b[2 * j] ? a[0] : b[2 * j];
        size_t hi = a[1] < b[2 * j + 1] ? a[1] : b[2 * j + 1];
        if (lo > hi)
            continue;
        covered += hi - lo + 1;
        k++;
    }
    double share = (double)covered / (double)(a[1] - a[0] + 1);
    return k > 1 ? share / (double)k : share;
}

static void f1_of(double p, double r, double *f1)
{
    *f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
}

void eval_range_prf(const unsigned char *y, const unsigned char *pred, size_t n, double *p,
                    double *r, double *f1)
{
    size_t *ry = malloc((n + 1) * sizeof *ry), *rp = malloc((n + 1) * sizeof *rp);
    *p = *r = *f1 = NAN;
    if (!ry || !rp)
        goto out;
    size_t ny = ranges_of(y, n, ry), np = ranges_of(pred, n, rp);
    double sr = 0, sp = 0;
    for (size_t i = 0; i < ny; i++)
        sr += overlap_reward(ry + 2 * i, rp, np);
    for (size_t j = 0; j < np; j++)
        sp += overlap_reward(rp + 2 * j, ry, ny);
    *r = ny ? sr / (double)ny : NAN;
    *p = np ? sp / (double)np : 0;
    if (ny)
        f1_of(*p, *r, f1);
out:
    free(ry);
    free(rp);
}

void eval_point_adjusted_prf(const unsigned char *y, const unsigned char *pred, size_t n,
                             double *p, double *r, double *f1)
{
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n;) {
        if (!y[i]) {
            fp += pred[i] != 0;
            i++;
            continue;
        }
        size_t e = i;
        bool hit = false;
        for (; e < n && y[e]; e++)
            hit = hit || pred[e];
        if (hit)
            tp += e - i;
        else
            fn += e - i;
        i = e;
    }
    *r = tp + fn ? (double)tp / (double)(tp + fn) : NAN;
    *p = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    *f1 = NAN;
    if (tp + fn)
        f1_of(*p, *r, f1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

double eval_quantile(double *v, size_t n, double q)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}
