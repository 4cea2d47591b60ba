/* core/score-int.h — private to the L2/L3 detectors of the dataset (issue 18):
 * the Isolation Forest (core/iforest.c), the autoencoder (core/autoenc.c), the
 * evaluation metrics (core/eval.c) and the driver that trains them on baseline runs
 * and scores other runs (core/score.c).  What commands use is in core.h
 * (detect_score_runs). */
#ifndef MONI_SCORE_INT_H
#define MONI_SCORE_INT_H

#include <stddef.h>
#include <stdint.h>

/* ---- Isolation Forest (Liu, Ting, Zhou 2008) ------------------------------------- */
struct if_node {
    int32_t feat;     /* -1: external node */
    uint32_t size;    /* external: training points that reached it */
    double split;     /* internal: x[feat] < split goes left; external: c(size) */
    uint32_t left, right;
};
struct iforest {
    size_t ntrees, psi;   /* trees, subsample size actually used */
    int dim;
    double c_psi;         /* c(psi): the score's normaliser */
    struct if_node *nodes;
    size_t nnodes, cap;
    uint32_t *root;       /* ntrees */
};
/* c(n) = 2 H(n-1) - 2 (n-1) / n, the average path length of an unsuccessful search
 * in a binary search tree of n points (c(1) = 0, c(2) = 1). */
double iforest_c(double n);
/* Fits ntrees trees on x (n rows of dim), each on min(psi, n) rows drawn without
 * replacement, grown to ceil(log2 psi).  0, or -1 (out of memory, n == 0). */
int iforest_fit(struct iforest *f, const double *x, size_t n, int dim, size_t ntrees, size_t psi,
                uint64_t seed);
/* s(x) = 2^(-E[h(x)] / c(psi)) in (0, 1]: near 1 anomalous, below 0.5 normal. */
double iforest_score(const struct iforest *f, const double *row);
void iforest_free(struct iforest *f);

/* ---- a dense layer and the autoencoder built from two of them --------------------- */
struct dense {
    int in, out;
    double *w, *b;        /* w: out x in, row-major */
    double *gw, *gb;      /* gradients of the current batch */
    double *mw, *vw, *mb, *vb; /* Adam moments */
};
int dense_init(struct dense *l, int in, int out, uint64_t *seed);
void dense_free(struct dense *l);
/* y = W x + b */
void dense_forward(const struct dense *l, const double *x, double *y);
/* Accumulates the gradients for dy (d loss / d y) at input x; dx (may be NULL) gets
 * d loss / d x. */
void dense_backward(struct dense *l, const double *x, const double *dy, double *dx);
/* One Adam step (Kingma & Ba 2015) with the accumulated gradients scaled by scale,
 * then clears them; t counts steps from 1. */
void dense_adam(struct dense *l, double lr, double scale, long t);

struct autoenc {
    int dim, hidden;
    struct dense enc, dec;  /* dim -> hidden (tanh) -> dim (linear) */
};
struct autoenc_opts {
    int hidden;        /* 0: dim / 4 clamped to [2, 16] */
    int epochs;        /* 0: 15, more when that is fewer than min_steps batches */
    long min_steps;    /* 0: 4000 */
    int batch;         /* 0: 32 */
    double lr;         /* 0: 3e-3 */
    size_t max_rows;   /* 0: 8192 rows per epoch (a fresh seeded draw each epoch) */
    uint64_t seed;
};
/* Trains on x (n rows of dim) to reproduce its input (mean squared error).  0 or -1. */
int autoenc_fit(struct autoenc *a, const double *x, size_t n, int dim,
                const struct autoenc_opts *o);
/* Mean squared reconstruction error of one row. */
double autoenc_score(const struct autoenc *a, const double *row);
void autoenc_free(struct autoenc *a);

/* ---- evaluation (core/eval.c) ----------------------------------------------------
 * s: scores (higher = more anomalous), y: 0/1 labels, n rows.  Metrics are NaN when
 * they are undefined (no positive or no negative row). */
/* Area under the ROC curve, ties counted as half (trapezoids between score groups). */
double eval_auc_roc(const double *s, const unsigned char *y, size_t n);
/* Area under the precision-recall curve as average precision: the sum over score
 * thresholds of (R_k - R_k-1) * P_k (sklearn's average_precision_score). */
double eval_auc_pr(const double *s, const unsigned char *y, size_t n);
/* VUS-PR, buffer-based: the mean of eval_auc_pr over labels widened by l rows on
 * each side of every anomalous range, l = 0 .. max_buffer. */
double eval_vus_pr(const double *s, const unsigned char *y, size_t n, size_t max_buffer);
/* Range-based precision and recall (Tatbul et al. 2018) of predictions pred against
 * labels y: flat positional bias, existence reward alpha = 0, cardinality factor
 * 1/k for a range overlapped by k ranges of the other side.  Precision is 0 when
 * nothing is predicted; f1 0 when both are 0. */
void eval_range_prf(const unsigned char *y, const unsigned char *pred, size_t n, double *p,
                    double *r, double *f1);
/* Point-adjusted precision, recall, F1: a true range counts as wholly found when any
 * of its rows is predicted.  Optimistic by construction (Kim et al. 2022). */
void eval_point_adjusted_prf(const unsigned char *y, const unsigned char *pred, size_t n,
                             double *p, double *r, double *f1);
/* The q-quantile (0..1) of n values (linear interpolation), NaN when n == 0;
 * sorts v in place. */
double eval_quantile(double *v, size_t n, double q);

#endif
