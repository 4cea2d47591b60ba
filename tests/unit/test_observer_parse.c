/* tests/unit/test_observer_parse.c — CSV rows with missing cells, workload.idx rows,
 * line splitting (LF, CR, CRLF across reads).  The /proc parsers are tested in
 * test_procfs.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/obs-int.h"

static void test_csv_row(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    int a = frame_add(&f, "cpu_pct", "", METRIC_GAUGE);
    int b = frame_add(&f, "mem_used_bytes", "", METRIC_GAUGE);
    int c = frame_add(&f, "gpu0_util_pct", "", METRIC_GAUGE);
    int d = frame_add(&f, "load1", "", METRIC_GAUGE);
    frame_clear(&f);
    frame_set(&f, a, 12.5);
    frame_set(&f, b, 1073741824.0);
    frame_set(&f, d, 0.0);
    (void)c; /* missing */
    f.t.real_ns = 1795638797123000000LL; /* 2026-11-25T20:33:17.123Z */
    f.t.mono_ns = 5000000000LL;
    char buf[256];
    size_t n = obs_csv_header(&f, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf, "timestamp,mono_ns,cpu_pct,mem_used_bytes,gpu0_util_pct,load1\n");
    n = obs_csv_row(&f, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "2026-11-25T20:33:17.123Z,5000000000,12.5,1073741824,,0\n");
    /* too small a buffer: 0, never a torn row */
    assert_int_equal(obs_csv_row(&f, buf, 20), 0);
    frame_clear(&f); /* all missing: only commas */
    obs_csv_row(&f, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-25T20:33:17.123Z,5000000000,,,,\n");
    frame_free(&f);
}

static void test_fmt_value(void **state)
{
    (void)state;
    char b[64];
    obs_fmt_value(100, b, sizeof b);
    assert_string_equal(b, "100");
    obs_fmt_value(0.1234567, b, sizeof b);
    assert_string_equal(b, "0.1235");
    obs_fmt_value(123456.78, b, sizeof b);
    assert_string_equal(b, "123456.8");
    obs_fmt_value(-0.00001, b, sizeof b);
    assert_string_equal(b, "0");
    obs_fmt_value(25276026880.0, b, sizeof b);
    assert_string_equal(b, "25276026880");
}

/* The stdio formatting obs_fmt_value replaced (printf rounds the exact binary
 * value, ties to even): the fast path must print the same text for every value. */
static size_t fmt_reference(double v, char *buf, size_t len)
{
    int n;
    if (!isfinite(v))
        n = snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    else if (fabs(v) >= 1e15 || (v == floor(v) && fabs(v) < 1e15))
        n = snprintf(buf, len, "%.0f", v);
    else if (fabs(v) >= 1000)
        n = snprintf(buf, len, "%.1f", v);
    else {
        n = snprintf(buf, len, "%.4f", v);
        if (n > 0 && (size_t)n < len && strchr(buf, '.')) {
            while (n > 0 && buf[n - 1] == '0')
                buf[--n] = '\0';
            if (n > 0 && buf[n - 1] == '.')
                buf[--n] = '\0';
            if (!strcmp(buf, "-0"))
                n = snprintf(buf, len, "0");
        }
    }
    if (n < 0)
        return 0;
    return (size_t)n < len ? (size_t)n : len - 1;
}

static void check_fmt(double v)
{
    char want[64], got[64];
    size_t wn = fmt_reference(v, want, sizeof want);
    size_t gn = obs_fmt_value(v, got, sizeof got);
    if (strcmp(want, got) != 0 || wn != gn)
        fail_msg("obs_fmt_value(%.17g) = \"%s\", want \"%s\"", v, got, want);
}

static void test_fmt_value_matches_printf(void **state)
{
    (void)state;
    static const double fixed[] = {
        0.0, -0.0, 1.0, -1.0, 0.5, 0.00005, 0.00015, 0.00025, -0.00005, -0.00015,
        1.03125, 2.03125, 0.99995, 0.99994999, 999.99995, 999.99994, 1000.05, 1000.25,
        1000.75, 1000.95, 1234.5, 9999.95, 99999.95, 1e13 + 0.5, 99999999999999.9,
        1e14, 1e14 + 0.5, 1e15, 1e15 + 1, 1e16, -1e16, 1e300, 1e-300, 5e-324,
        4503599627370495.5, 123456.78, 0.1234567, 12.5, 33.33333333, 66.66666667,
        100.0 / 3, 200.0 / 3, 1.0 / 3, 2.0 / 3, 0.1, 0.2, 0.3, 0.7, 1.1, 2.675,
        1.0005, 1.00015, 1.00025, 1.00035, 1.00045, 1.00055, 25276026880.0, -123.45678,
        INFINITY, -INFINITY, NAN,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_fmt(fixed[i]);
    /* ties of every kind: k / 2^j near the rounding digit, and decimals +- an ulp */
    for (int j = 1; j <= 20; j++)
        for (int k = -4000; k <= 4000; k += 7) {
            double v = ldexp(k, -j);
            check_fmt(v);
            check_fmt(v * 1000 + ldexp(1, -j));
        }
    for (int k = 0; k < 200000; k++) {
        double d = (double)k / 10000.0 + 0.00005;
        check_fmt(d);
        check_fmt(nextafter(d, 0));
        check_fmt(nextafter(d, 1e300));
        check_fmt(-d);
        double e = 1000.0 + (double)k * 0.05;
        check_fmt(e);
        check_fmt(nextafter(e, 0));
        check_fmt(nextafter(e, 1e300));
    }
    /* random magnitudes (a fixed LCG: repeatable) */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < 300000; k++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double m = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
        int ex = (int)((x >> 3) % 40) - 12;                 /* 1e-12 .. 1e27 */
        double v = m * pow(10, ex);
        check_fmt((x & 1) ? -v : v);
        check_fmt(round(v * 100) / 100); /* values with few decimals, as /proc gives */
    }
}

/* Rows print the timestamp with a per-second cache: the same text as moni_fmt_iso,
 * across second boundaries, backwards steps and before 1970. */
static void test_csv_row_timestamps(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    frame_add(&f, "x", "", METRIC_GAUGE);
    frame_clear(&f);
    char row[256], iso[MONI_ISO_LEN];
    uint64_t x = 12345;
    for (int k = 0; k < 20000; k++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t t = 1795638797000000000LL + (int64_t)(x >> 34);
        if (k % 5 == 0)
            t = -(int64_t)(x >> 20); /* before 1970 */
        if (k % 11 == 0)
            t = (t / MONI_NS_PER_SEC) * MONI_NS_PER_SEC - 1; /* just before a second */
        f.t.real_ns = t;
        f.t.mono_ns = (int64_t)(x >> 40) - 5;
        assert_true(obs_csv_row(&f, row, sizeof row) > 0);
        moni_fmt_iso(t, iso, sizeof iso);
        char want[128];
        snprintf(want, sizeof want, "%s,%lld,\n", iso, (long long)f.t.mono_ns);
        assert_string_equal(row, want);
        struct moni_stamp st = {.mono_ns = f.t.mono_ns, .real_ns = t};
        char idx[160];
        snprintf(want, sizeof want, "%d,%s,%lld,stdout\n", k, iso, (long long)f.t.mono_ns);
        obs_idx_row((uint64_t)k, &st, 1, idx, sizeof idx);
        assert_string_equal(idx, want);
    }
    frame_free(&f);
}

static void test_idx_row(void **state)
{
    (void)state;
    struct moni_stamp t = {.mono_ns = 42, .real_ns = 1795638797123000000LL};
    char buf[128];
    size_t n = obs_idx_row(7, &t, 2, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "7,2026-11-25T20:33:17.123Z,42,stderr\n");
    obs_idx_row(1, &t, 1, buf, sizeof buf);
    assert_string_equal(buf, "1,2026-11-25T20:33:17.123Z,42,stdout\n");
}

struct lines {
    char got[16][64];
    size_t term[16];
    int n;
};

static void collect(void *arg, const char *line, size_t len, size_t term_len)
{
    struct lines *l = arg;
    if (l->n < 16) {
        snprintf(l->got[l->n], sizeof l->got[0], "%.*s", (int)len, line);
        l->term[l->n] = term_len;
        l->n++;
    }
}

static void test_linebuf(void **state)
{
    (void)state;
    struct obs_linebuf lb = {0};
    struct lines l = {0};
    obs_linebuf_feed(&lb, "one\ntw", 6, collect, &l);
    obs_linebuf_feed(&lb, "o\r", 2, collect, &l); /* CR at the end: held */
    assert_int_equal(l.n, 1);
    obs_linebuf_feed(&lb, "\nthree\rfour\r\r\n", 14, collect, &l);
    assert_int_equal(l.n, 5);
    obs_linebuf_feed(&lb, "tail", 4, collect, &l);
    obs_linebuf_flush(&lb, collect, &l);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.got[0], "one\n");
    assert_string_equal(l.got[1], "two\r\n");
    assert_int_equal(l.term[1], 2);
    assert_string_equal(l.got[2], "three\r");
    assert_string_equal(l.got[3], "four\r");
    assert_string_equal(l.got[4], "\r\n");
    assert_string_equal(l.got[5], "tail");
    assert_int_equal(l.term[5], 0);
    obs_linebuf_free(&lb);
}

int main(void)
{
    moni_clock_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_row),
        cmocka_unit_test(test_fmt_value),  cmocka_unit_test(test_idx_row),
        cmocka_unit_test(test_fmt_value_matches_printf),
        cmocka_unit_test(test_csv_row_timestamps),
        cmocka_unit_test(test_linebuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
