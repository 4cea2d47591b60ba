/* Unit tests for the dataset's L2/L3 detectors and their evaluation (core/iforest.c,
 * core/autoenc.c, core/eval.c): every metric against values worked out by hand on
 * small series (the arithmetic is in the comments), the forest's c(n), and both
 * models ranking an obvious outlier above the rows they were trained on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/score-int.h"

static void bits(const char *s, unsigned char *v)
{
    for (size_t i = 0; s[i]; i++)
        v[i] = s[i] == '1';
}

static void test_iforest_c(void **state)
{
    (void)state;
    assert_true(iforest_c(1) == 0);
    assert_true(iforest_c(2) == 1);
    /* c(3) = 2 (ln 2 + 0.5772156649) - 2 * 2 / 3 = 2 * 1.2703628455 - 1.3333333333 */
    assert_true(fabs(iforest_c(3) - 1.2073923576) < 1e-9);
    /* c(256) = 2 (ln 255 + 0.5772156649) - 2 * 255 / 256 = 12.2369584201 - 1.9921875 */
    assert_true(fabs(iforest_c(256) - 10.2447709201) < 1e-9);
}

/* 500 points in a tight 2-D cluster; a far point isolates in fewer splits. */
static void test_iforest_outlier(void **state)
{
    (void)state;
    size_t n = 500;
    double *x = malloc(n * 2 * sizeof *x);
    uint64_t s = 1;
    for (size_t i = 0; i < 2 * n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (double)(s >> 11) / 9007199254740992.0; /* U(0, 1) */
    }
    struct iforest f;
    assert_int_equal(iforest_fit(&f, x, n, 2, 100, 256, 7), 0);
    assert_int_equal(f.psi, 256);
    double centre[2] = {0.5, 0.5}, far[2] = {8, -8};
    double sc = iforest_score(&f, centre), sf = iforest_score(&f, far);
    assert_true(sc < 0.5);  /* normal: E[h] above c(psi) */
    assert_true(sf > 0.65); /* anomalous: isolated at the first splits */
    /* a far point reaches an external node after a few splits every time */
    iforest_free(&f);
    /* fewer rows than psi: the subsample is all of them */
    assert_int_equal(iforest_fit(&f, x, 10, 2, 5, 256, 7), 0);
    assert_int_equal(f.psi, 10);
    iforest_free(&f);
    free(x);
}

/* Rows on the line x1 = x0 = x2 / 2: the autoencoder learns it; a row off it
 * reconstructs worse than any training row. */
static void test_autoenc_outlier(void **state)
{
    (void)state;
    size_t n = 400;
    double *x = malloc(n * 3 * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        double t = -1.5 + 3.0 * (double)i / (double)n;
        x[3 * i] = t;
        x[3 * i + 1] = t;
        x[3 * i + 2] = 2 * t;
    }
    struct autoenc a;
    struct autoenc_opts o = {.hidden = 2, .seed = 3}; /* 4000 steps: 308 epochs */
    assert_int_equal(autoenc_fit(&a, x, n, 3, &o), 0);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = autoenc_score(&a, x + 3 * i);
        worst = e > worst ? e : worst;
    }
    double off[3] = {1, -1, 0};
    assert_true(worst < 0.05);
    assert_true(autoenc_score(&a, off) > 5 * worst);
    autoenc_free(&a);
    free(x);
}

/* One dense layer's gradient against a finite difference. */
static void test_dense_gradient(void **state)
{
    (void)state;
    uint64_t seed = 5;
    struct dense l;
    assert_int_equal(dense_init(&l, 3, 2, &seed), 0);
    double x[3] = {0.3, -1.2, 2.0}, y[2], dy[2] = {1.0, -0.5}, dx[3];
    /* loss = dy . (W x + b): d loss / d w[o][i] = dy[o] x[i], d loss / d x = W^T dy */
    dense_backward(&l, x, dy, dx);
    assert_true(fabs(l.gw[1 * 3 + 2] - (-0.5 * 2.0)) < 1e-12);
    assert_true(fabs(l.gb[0] - 1.0) < 1e-12);
    double h = 1e-6, base, bumped;
    dense_forward(&l, x, y);
    base = dy[0] * y[0] + dy[1] * y[1];
    x[1] += h;
    dense_forward(&l, x, y);
    bumped = dy[0] * y[0] + dy[1] * y[1];
    assert_true(fabs((bumped - base) / h - dx[1]) < 1e-6);
    dense_free(&l);
}

static void test_auc_roc(void **state)
{
    (void)state;
    double s[] = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
    unsigned char y[6];
    bits("101000", y);
    /* P = 2, N = 4.  Pairs ranked right: 0.9 beats all 4 negatives, 0.7 beats 0.6,
     * 0.5, 0.4 (3), loses to 0.8: 7 of 8 = 0.875 */
    assert_true(fabs(eval_auc_roc(s, y, 6) - 0.875) < 1e-12);
    /* a tie counts half: 0.5 (pos) vs 0.5 (neg) = 0.5, vs 0.2 = 1: 1.5 / 2 */
    double t[] = {0.5, 0.5, 0.2};
    bits("100", y);
    assert_true(fabs(eval_auc_roc(t, y, 3) - 0.75) < 1e-12);
    bits("000", y);
    assert_true(isnan(eval_auc_roc(t, y, 3))); /* no positive: undefined */
}

static void test_auc_pr_and_vus(void **state)
{
    (void)state;
    double s[] = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
    unsigned char y[6];
    bits("101000", y);
    /* average precision: recall 0 -> 0.5 at precision 1/1, 0.5 -> 1 at 2/3:
     * 0.5 * 1 + 0.5 * 2/3 = 0.8333 */
    assert_true(fabs(eval_auc_pr(s, y, 6) - 5.0 / 6.0) < 1e-12);
    /* VUS-PR with buffers 0 and 1: l = 0 gives 0.8333; l = 1 widens rows 0 and 2 to
     * rows 0..3, the four best scores: AP 1.  Mean (0.8333 + 1) / 2 = 0.91667 */
    assert_true(fabs(eval_vus_pr(s, y, 6, 1) - (5.0 / 6.0 + 1.0) / 2) < 1e-12);
}

static void test_range_prf(void **state)
{
    (void)state;
    unsigned char y[10], p[10];
    double pr, rc, f1;
    /* truth range [2,5]; predictions [3,4] and [7,8].  Recall: [3,4] covers 2 of 4
     * rows of the one true range = 0.5 (one overlapping range: factor 1).
     * Precision: [3,4] wholly inside (1), [7,8] outside (0): mean 0.5.  F1 0.5 */
    bits("0011110000", y);
    bits("0001100110", p);
    eval_range_prf(y, p, 10, &pr, &rc, &f1);
    assert_true(fabs(rc - 0.5) < 1e-12 && fabs(pr - 0.5) < 1e-12 && fabs(f1 - 0.5) < 1e-12);
    /* point-adjusted on the same: the true range is hit, so its 4 rows are TP; rows 7
     * and 8 are FP: precision 4/6, recall 1, F1 = 2 (2/3) / (5/3) = 0.8 */
    eval_point_adjusted_prf(y, p, 10, &pr, &rc, &f1);
    assert_true(fabs(pr - 4.0 / 6.0) < 1e-12 && fabs(rc - 1) < 1e-12 && fabs(f1 - 0.8) < 1e-12);
    /* cardinality: truth [1,6] split by predictions [1,2] and [4,5]: overlap 4 of 6
     * rows, two ranges overlap it: (4/6) / 2 = 0.3333 recall; each prediction lies
     * wholly inside the truth: precision 1.  F1 = 2 (1/3) / (4/3) = 0.5 */
    bits("0111111000", y);
    bits("0110110000", p);
    eval_range_prf(y, p, 10, &pr, &rc, &f1);
    assert_true(fabs(rc - 1.0 / 3.0) < 1e-12 && fabs(pr - 1) < 1e-12 && fabs(f1 - 0.5) < 1e-12);
    /* nothing predicted: precision 0, recall 0, F1 0 */
    bits("0000000000", p);
    eval_range_prf(y, p, 10, &pr, &rc, &f1);
    assert_true(pr == 0 && rc == 0 && f1 == 0);
}

static void test_quantile(void **state)
{
    (void)state;
    double v[] = {4, 1, 3, 2};
    /* sorted 1 2 3 4: position 0.5 * 3 = 1.5, between 2 and 3 */
    assert_true(fabs(eval_quantile(v, 4, 0.5) - 2.5) < 1e-12);
    assert_true(eval_quantile(v, 4, 1.0) == 4);
    assert_true(isnan(eval_quantile(v, 0, 0.5)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iforest_c),      cmocka_unit_test(test_iforest_outlier),
        cmocka_unit_test(test_autoenc_outlier), cmocka_unit_test(test_dense_gradient),
        cmocka_unit_test(test_auc_roc),        cmocka_unit_test(test_auc_pr_and_vus),
        cmocka_unit_test(test_range_prf),      cmocka_unit_test(test_quantile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
