/* Unit tests for the study's numbers and the reports' writers: percentiles as numpy
 * computes them (linear between closest ranks), HTML escaping of text that comes
 * from logs, and the MTTD bars (labels, "no attempts" against "not detected", a
 * whisker only where p90 exceeds the median). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"

static void test_percentile_numpy(void **state)
{
    (void)state;
    double v[] = {4, 1, 3, 2};
    /* numpy.percentile([1, 2, 3, 4], 50) == 2.5, 90 -> 3.7, 0 -> 1, 100 -> 4 */
    assert_true(fabs(study_percentile(v, 4, 50) - 2.5) < 1e-12);
    assert_true(fabs(study_percentile(v, 4, 90) - 3.7) < 1e-12);
    assert_true(fabs(study_percentile(v, 4, 0) - 1) < 1e-12);
    assert_true(fabs(study_percentile(v, 4, 100) - 4) < 1e-12);
    /* the input is not reordered */
    assert_true(v[0] == 4 && v[1] == 1);
    double one = 7.5;
    assert_true(study_percentile(&one, 1, 90) == 7.5);
    assert_true(isnan(study_percentile(v, 0, 50)));
    double two[] = {2, 3}; /* p90 of two: 2 + 0.9 * 1 */
    assert_true(fabs(study_percentile(two, 2, 90) - 2.9) < 1e-12);
}

/* Writes through fn into memory and returns the text (malloc'd). */
static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, arg);
    fclose(f);
    return buf;
}

static void escape(FILE *f, const void *s)
{
    report_html_text(f, s);
}

static void test_html_escape(void **state)
{
    (void)state;
    char *t = capture(escape, "RuntimeError: <a & \"b\">\x01 \xe2\x96\x88");
    assert_string_equal(t, "RuntimeError: &lt;a &amp; &quot;b&quot;&gt; \xe2\x96\x88");
    free(t);
}

static void bars(FILE *f, const void *b)
{
    report_fig_bars(f, b);
}

static void test_bars(void **state)
{
    (void)state;
    const char *groups[] = {"oom", "kill"}, *series[] = {"logs", "full", "machine"};
    double med[] = {12.5, NAN, 3, 4, 5, NAN}, p90[] = {20, NAN, 3, 4, 5, NAN};
    size_t att[] = {2, 0, 1, 1, 1, 1};
    struct report_bars b = {.title = "MTTD <by> scenario", .unit = "seconds", .ngroups = 2,
                            .nseries = 3, .groups = groups, .series = series, .median = med,
                            .p90 = p90, .attempts = att};
    char *t = capture(bars, &b);
    assert_non_null(strstr(t, "<svg"));
    assert_non_null(strstr(t, "MTTD &lt;by&gt; scenario"));
    assert_non_null(strstr(t, ">logs 12.5<"));
    assert_non_null(strstr(t, ">full: no attempts<"));
    assert_non_null(strstr(t, ">machine: not detected<"));
    assert_non_null(strstr(t, ">machine 3.0<"));
    /* one whisker: only oom/logs has p90 > median */
    size_t whiskers = 0;
    for (const char *p = t; (p = strstr(p, "stroke=\"#1c2833\" fill=\"none\"")); p++)
        whiskers++;
    assert_int_equal(whiskers, 1);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_numpy),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_bars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
