/* Unit tests of the detectors' incremental bookkeeping (core/detect.c): the running
 * sums of a series give the fit a pass over its points gives, on random series with
 * random trims; sorted windows give the medians a sort gives; the offline pass reads
 * the columns the engine reads; a detectors file loaded twice is parsed once but an
 * edited one is read again. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/detect-int.h"

static unsigned rnd_state = 12345;
static double rnd(void) /* uniform in [0, 1) */
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) / 16777216.0;
}

/* One random series: a level (bytes of memory, a percentage or a small count), a
 * trend that changes now and then, noise, and ticks of 0.1 to 2 s. */
struct gen {
    double t, v, scale, slope, noise;
};

static void gen_init(struct gen *g)
{
    static const double scales[] = {1, 100, 3e9, 2e10};
    g->t = 1000 * rnd();
    g->scale = scales[(int)(rnd() * 4)];
    g->v = g->scale * (0.5 + rnd());
    g->slope = g->scale * (rnd() - 0.6) * 0.05;
    g->noise = g->scale * (rnd() < 0.3 ? 0 : rnd() * 0.01);
}

static void gen_next(struct gen *g, double *t, double *v)
{
    g->t += rnd() < 0.5 ? 0.1 : 0.1 + 1.9 * rnd();
    if (rnd() < 0.02)
        g->slope = g->scale * (rnd() - 0.6) * 0.05;
    g->v += g->slope * 0.1 + g->noise * (rnd() - 0.5);
    *t = g->t;
    *v = g->v;
}

/* The least-squares line in two passes, in long double, centred on the means: the
 * reference both fits are held to. */
static bool exact_fit(const struct det_series *s, long double *slope, long double *r2)
{
    if (s->n < 3)
        return false;
    long double mt = 0, mv = 0, dtt = 0, dtv = 0, dvv = 0;
    for (int i = 0; i < s->n; i++)
        mt += det_series_t(s, i), mv += det_series_v(s, i);
    mt /= s->n, mv /= s->n;
    for (int i = 0; i < s->n; i++) {
        long double a = det_series_t(s, i) - mt, b = det_series_v(s, i) - mv;
        dtt += a * a, dtv += a * b, dvv += b * b;
    }
    if (dtt <= 0)
        return false;
    *slope = dtv / dtt;
    *r2 = dvv > 0 ? dtv * dtv / (dtt * dvv) : 1;
    return true;
}

/* The running-sum fit, the fit afresh over the same points (the arithmetic the
 * detectors' figures come from) and the exact line agree. */
static void check_same_fit(const struct det_series *s)
{
    double a_slope = 0, a_icpt = 0, a_r2 = 0, b_slope = 0, b_icpt = 0, b_r2 = 0;
    long double x_slope = 0, x_r2 = 0;
    bool a = det_series_fit(s, &a_slope, &a_icpt, &a_r2);
    bool b = det_series_fit_last(s, s->n, &b_slope, &b_icpt, &b_r2);
    bool x = exact_fit(s, &x_slope, &x_r2);
    assert_int_equal(a, b);
    assert_int_equal(a, x);
    if (!a)
        return;
    /* slopes to a part in 1e9 of the series' own scale of slopes */
    double tspan = det_series_t(s, s->n - 1) - det_series_t(s, 0), vmax = 0;
    for (int i = 0; i < s->n; i++)
        vmax = fmax(vmax, fabs(det_series_v(s, i)));
    double slope_scale = fabs(b_slope) + vmax / (tspan > 0 ? tspan : 1);
    if (fabs(a_slope - b_slope) > 1e-9 * slope_scale || fabs(a_slope - (double)x_slope) > 1e-9 * slope_scale)
        fail_msg("slope %.17g vs batch %.17g, exact %.17Lg (n %d)", a_slope, b_slope, x_slope,
                 s->n);
    if (fabs(a_icpt - b_icpt) > 1e-9 * (fabs(b_icpt) + vmax + slope_scale * 1e4))
        fail_msg("intercept %.17g vs %.17g", a_icpt, b_icpt);
    /* r^2: the running sums, centred near the points, are closer to the exact value
     * than the batch fit (uncentred values of 1e10 lose digits in svv - sv^2/n); an
     * almost flat line's r^2 is rounding in every fit */
    if (x_r2 > 0.01 && fabs(a_r2 - (double)x_r2) > 1e-6)
        fail_msg("r2 %.17g vs exact %.17Lg (n %d)", a_r2, x_r2, s->n);
    if (x_r2 > 0.01 && fabs(a_r2 - b_r2) > 1e-3) /* well inside fit_falling's 0.05 */
        fail_msg("r2 %.17g vs batch %.17g (n %d)", a_r2, b_r2, s->n);
}

static void test_incremental_fit_equals_batch(void **st)
{
    (void)st;
    for (int run = 0; run < 200; run++) {
        struct det_series s = {0};
        struct gen g;
        gen_init(&g);
        int steps = 50 + (int)(rnd() * 1000);
        double window = 2 + rnd() * 60;
        for (int k = 0; k < steps; k++) {
            double t, v;
            gen_next(&g, &t, &v);
            det_series_push(&s, t, v);
            if (rnd() < 0.8)
                det_series_trim(&s, t, window);
            if (rnd() < 0.01) /* a gap that empties the window */
                det_series_trim(&s, t + 2 * window, window);
            check_same_fit(&s);
        }
    }
}

/* A non-finite value poisons running sums; the fit must still be the batch one. */
static void test_fit_after_a_nonfinite_value(void **st)
{
    (void)st;
    struct det_series s = {0};
    for (int i = 0; i < 20; i++)
        det_series_push(&s, i, 5.0 * i);
    det_series_push(&s, 20, NAN);
    for (int i = 21; i < 40; i++)
        det_series_push(&s, i, 5.0 * i);
    det_series_trim(&s, 39, 15); /* the NaN has left the window, not the sums */
    double slope, icpt, r2;
    assert_true(det_series_fit(&s, &slope, &icpt, &r2));
    assert_true(fabs(slope - 5) < 1e-12 && fabs(r2 - 1) < 1e-12);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A window of the last w values, kept sorted by insert/remove, has the median of
 * the same values sorted afresh, duplicates included. */
static void test_sorted_window_median(void **st)
{
    (void)st;
    enum { W = 59 };
    double ring[W], sorted[W], tmp[W];
    int n = 0;
    for (int k = 0; k < 5000; k++) {
        double v = rnd() < 0.2 ? 1.0 : floor(rnd() * 50) / 4; /* many equal values */
        if (k >= W)
            det_sorted_remove(sorted, &n, ring[k % W]);
        det_sorted_insert(sorted, &n, v);
        ring[k % W] = v;
        int m = k + 1 < W ? k + 1 : W;
        assert_int_equal(n, m);
        memcpy(tmp, sorted, sizeof tmp);
        for (int i = 0; i < m; i++)
            tmp[i] = ring[i];
        qsort(tmp, (size_t)m, sizeof tmp[0], cmp_double);
        for (int i = 0; i < m; i++)
            assert_true(tmp[i] == sorted[i]);
        double want = m % 2 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2;
        assert_true(det_sorted_median(sorted, n) == want);
    }
    assert_true(isnan(det_sorted_median(sorted, 0)));
}

/* loss_divergence as first written: every median sorted afresh from the last
 * losses.  Returns the loss index at which it fires (-1: never) and its score. */
static double naive_median(const double *v, long from, long to) /* v[from..to) */
{
    double tmp[64];
    int n = 0;
    for (long i = from < 0 ? 0 : from; i < to; i++)
        tmp[n++] = v[i];
    if (n == 0)
        return NAN;
    qsort(tmp, (size_t)n, sizeof tmp[0], cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static long naive_divergence(const double *loss, long n, double *score)
{
    const double ratio = 3, min_losses = 10, sustain = 1, extreme = 100;
    int above = 0;
    double base_at = 0;
    for (long c = 0; c < n; c++) { /* c losses before this one */
        double v = loss[c], past = naive_median(loss, c - 64, c);
        if (c >= 2 && past > 0 && v > extreme * past) {
            *score = v / past;
            return c;
        }
        long cnt = c + 1;
        double level = naive_median(loss, cnt - 5, cnt);
        double base = naive_median(loss, cnt - 64, cnt - 5);
        if (cnt > (long)min_losses && base > 0 && level > ratio * base) {
            if (!above)
                base_at = base;
            above++;
        } else {
            above = 0;
        }
        if (above >= (int)sustain) {
            *score = level / base_at;
            return c;
        }
    }
    return -1;
}

struct first_hit {
    long tick;
    double score;
};

static void on_first(const struct detection *det, void *arg)
{
    struct first_hit *h = arg;
    if (strcmp(det->detector, "loss_divergence") == 0 && h->tick < 0) {
        h->tick = (long)(det->mono_ns / 1000000000LL) - 1000;
        h->score = det->score;
    }
}

/* The sorted windows give loss_divergence the very medians of a sort: the same
 * loss fires, with the same score to the bit, on series that switch between levels
 * near the ratio and now and then blow up. */
static void test_divergence_equals_sorted_medians(void **st)
{
    (void)st;
    struct det_config cfg;
    det_config_defaults(&cfg);
    int fired = 0;
    for (int run = 0; run < 300; run++) {
        enum { N = 400 };
        double loss[N];
        double level = 1;
        for (int i = 0; i < N; i++) {
            if (rnd() < 0.03)
                level = rnd() < 0.5 ? 1 : 2.6 + rnd() * 0.8; /* about 3x: near the ratio */
            loss[i] = level * (0.7 + 0.6 * rnd());
            if (rnd() < 0.002)
                loss[i] *= 150; /* one logged value blown up */
            if (rnd() < 0.1)
                loss[i] = floor(loss[i] * 4) / 4; /* equal values */
        }
        struct first_hit h = {.tick = -1};
        struct detect *d = detect_new(&cfg, on_first, &h);
        struct frame f;
        frame_init(&f);
        for (int i = 0; i < N; i++) {
            int64_t mono = (1000LL + i) * 1000000000LL;
            detect_metric(d, mono - 1000, "loss", loss[i]);
            frame_clear(&f);
            f.t.mono_ns = mono;
            detect_tick(d, &f);
        }
        double want_score = 0;
        long want = naive_divergence(loss, N, &want_score);
        if (h.tick != want || (want >= 0 && h.score != want_score))
            fail_msg("run %d: fired at %ld (score %.17g), a sort says %ld (%.17g)", run, h.tick,
                     h.score, want, want_score);
        fired += want >= 0;
        frame_free(&f);
        detect_free(d);
    }
    assert_true(fired > 30); /* the series do reach the detector */
    det_config_free(&cfg);
}

/* The offline pass loads the columns the engine reads, counts the CPUs, and no
 * others (a name must be written as %d writes it). */
static void test_column_use(void **st)
{
    (void)st;
    assert_int_equal(detect_column_use("cpu_pct"), 2);
    assert_int_equal(detect_column_use("mem_available_bytes"), 2);
    assert_int_equal(detect_column_use("net_tx_errors"), 2);
    assert_int_equal(detect_column_use("gpu3_mem_used_bytes"), 2);
    assert_int_equal(detect_column_use("gpu12_mem_total_bytes"), 2);
    assert_int_equal(detect_column_use("cpu7_pct"), 1);
    assert_int_equal(detect_column_use("cpu07_pct"), 0);
    assert_int_equal(detect_column_use("cpu_user_pct"), 0);
    assert_int_equal(detect_column_use("gpu0_util_pct"), 0);
    assert_int_equal(detect_column_use("disk_read_Bps"), 2); /* io_bottleneck: whose bytes */
    assert_int_equal(detect_column_use("disk_read_iops"), 0);
    assert_int_equal(detect_column_use(""), 0);
}

/* The second load of one file comes from the cache and equals the first; a file
 * rewritten in place is read again. */
static void test_config_cache(void **st)
{
    (void)st;
    const char *tmpdir = getenv("TMPDIR");
    char p[4096];
    snprintf(p, sizeof p, "%s/moni-t.detcfg.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    const char *one = "{\"detectors\": {\"fs_fill\": {\"horizon_s\": 123}},"
                      " \"loss_fields\": [\"my_loss\"]}\n";
    assert_int_equal(write(fd, one, strlen(one)), (ssize_t)strlen(one));
    close(fd);
    struct det_config a, b;
    char err[256];
    size_t fs = 0;
    while (fs < ndetectors && strcmp(detectors[fs]->name, "fs_fill") != 0)
        fs++;
    assert_true(fs < ndetectors);
    assert_int_equal(det_config_load(&a, p, err, sizeof err), 0);
    assert_int_equal(det_config_load(&b, p, err, sizeof err), 0);
    assert_true(a.p[fs][4] == 123 && b.p[fs][4] == 123);
    assert_string_equal(b.loss_fields[0], "my_loss");
    assert_null(b.loss_fields[1]);
    assert_true(a.loss_fields != b.loss_fields); /* a copy each, freed each */
    det_config_free(&a);
    det_config_free(&b);
    const char *two = "{\"detectors\": {\"fs_fill\": {\"horizon_s\": 45}}}\n";
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(two, f);
    fclose(f);
    assert_int_equal(det_config_load(&b, p, err, sizeof err), 0);
    assert_true(b.p[fs][4] == 45);
    assert_string_equal(b.loss_fields[0], "loss"); /* the defaults again */
    det_config_free(&b);
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_fit_equals_batch),
        cmocka_unit_test(test_fit_after_a_nonfinite_value),
        cmocka_unit_test(test_sorted_window_median),
        cmocka_unit_test(test_divergence_equals_sorted_medians),
        cmocka_unit_test(test_column_use),
        cmocka_unit_test(test_config_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
