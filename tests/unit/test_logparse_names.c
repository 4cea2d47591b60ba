/* Unit tests for canonical metric names and units (logparse/metricnames.c and the
 * extractors): one name per metric whatever the framework calls it, values read
 * with their units, the raw key kept; and dates completed into the past. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lp-test.h"
#include "logparse/lp-int.h"

static struct lp_rules *rules;

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    rules = lpt_builtin();
    return rules ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lp_rules_free(rules);
    return 0;
}

static void near(double a, double b, int line)
{
    if (!(fabs(a - b) <= 1e-9 * (fabs(b) + 1)))
        fail_msg("line %d: got %.17g, want %.17g", line, a, b);
}
#define NEAR(a, b) near((a), (double)(b), __LINE__)

/* The metric record of the only line of text. */
static const struct lp_record *metric_of(const char *text, struct lp_recset *s)
{
    lpt_parse(rules, "t.log", text, 0, s);
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].kind == LP_KIND_METRIC)
            return &s->v[i];
    fail_msg("no metric record for: %s", text);
    return NULL;
}

static void test_table_and_units(void **state)
{
    (void)state;
    struct lp_canon u;
    char name[64];
    assert_true(lp_canon_name("val_acc", name, sizeof name, &u));
    assert_string_equal(name, "eval_accuracy");
    assert_true(lp_canon_name("train_samples_per_second", name, sizeof name, &u));
    assert_string_equal(name, "samples_per_s");
    assert_false(lp_canon_name("train_runtime", name, sizeof name, &u));
    assert_false(lp_canon_name("train_loss", name, sizeof name, &u));
    double v;
    const struct lp_canon *mem = lp_canon_lookup("max_mem");
    assert_non_null(mem);
    assert_true(lp_parse_value("3961M", 5, mem, &v));
    NEAR(v, 3961.0 * 1024 * 1024);
    assert_true(lp_parse_value("9874", 4, mem, &v)); /* MB when the value has no unit */
    NEAR(v, 9874.0 * 1024 * 1024);
    assert_true(lp_parse_value("48.13GiB(50.67%)", 16, mem, &v));
    NEAR(v, 48.13 * 1024 * 1024 * 1024);
    const struct lp_canon *t = lp_canon_lookup("dt");
    assert_true(lp_parse_value("991.44ms", 8, t, &v));
    NEAR(v, 0.99144);
    assert_true(lp_parse_value("10,050", 6, NULL, &v));
    NEAR(v, 10050);
    assert_false(lp_parse_value("1,23", 4, NULL, &v));
    assert_false(lp_parse_value("12ab", 4, t, &v));
}

/* A value scaled by 10^-k is the double nearest the true value, exactly as if the log
 * had written it in the canonical unit: 1450.2 ms is 1.4502 s (1450.2 * 1e-3 is one
 * unit in the last place above it and printed as 1.4502000000000002). */
static void test_scale_is_exact(void **state)
{
    (void)state;
    assert_true(lp_scale("1450.2", 6, 1450.2, 1e-3) == 1.4502);
    assert_true(lp_scale("-0.5", 4, -0.5, 1e-6) == -0.5e-6);
    assert_true(lp_scale("3", 1, 3, 1024) == 3072);        /* not a power of ten: times */
    assert_true(lp_scale("1e3", 3, 1000, 1e-3) == 1);      /* an exponent: times */
    double v;
    const struct lp_canon *t = lp_canon_lookup("dt");
    assert_true(lp_parse_value("1450.2ms", 8, t, &v));
    assert_true(v == 1.4502);
    const struct lp_canon *it = lp_canon_lookup("elapsed_time_per_iteration_ms");
    assert_non_null(it);
    assert_true(lp_parse_value("1450.2", 6, it, &v));
    assert_true(v == 1.4502);
}

static void test_framework_spellings(void **state)
{
    (void)state;
    struct lp_recset s;
    const struct lp_record *r = metric_of(
        " iteration      200/    5000 | consumed samples:       102400 | elapsed time per "
        "iteration (ms): 1872.3 | learning rate: 2.997E-04 | global batch size:   512 | lm "
        "loss: 5.873412E+00 | loss scale: 65536.0 | grad norm: 1.112 | number of skipped "
        "iterations:   0 | number of nan iterations:   0 |\n", &s);
    NEAR(lpt_num(r, "iter_time_s"), 1.8723);
    NEAR(lpt_num(r, "loss"), 5.873412);
    NEAR(lpt_num(r, "loss_scale"), 65536);
    NEAR(lpt_num(r, "skipped_steps"), 0);
    NEAR(lpt_num(r, "total_steps"), 5000);
    const struct lp_field *f = lp_record_field(r, "loss");
    assert_string_equal(f->raw, "lm loss");
    assert_true(lp_record_field(r, "iter_time_s")->scaled);
    lp_recset_free(&s);
    r = metric_of("[rank0]:[titan] 2026-06-02 18:23:56,204 - root - INFO - step: 120  loss:  "
                  "4.21177  grad_norm:  0.8812  memory: 48.13GiB(50.67%)  tps: 6,412  tflops: "
                  "371.25  mfu: 37.54%\n", &s);
    NEAR(lpt_num(r, "tokens_per_s"), 6412);
    NEAR(lpt_num(r, "mfu_pct"), 37.54);
    NEAR(lpt_num(r, "mem_reserved_bytes"), 48.13 * 1024 * 1024 * 1024);
    NEAR(lpt_num(r, "mem_pct"), 50.67);
    lp_recset_free(&s);
    r = metric_of("[300/1000] closs: 0.4123 | dloss: 0.2011 | time: 0.211\n", &s);
    NEAR(lpt_num(r, "step"), 300);
    NEAR(lpt_num(r, "total_steps"), 1000);
    NEAR(lpt_num(r, "loss"), 0.4123); /* the first training loss, copied */
    assert_string_equal(lp_record_field(r, "loss")->raw, "closs");
    NEAR(lpt_num(r, "iter_time_s"), 0.211);
    lp_recset_free(&s);
    r = metric_of("step 2000: train loss 1.1019, val loss 1.4511\n", &s);
    NEAR(lpt_num(r, "step"), 2000);
    NEAR(lpt_num(r, "train_loss"), 1.1019);
    NEAR(lpt_num(r, "eval_loss"), 1.4511);
    lp_recset_free(&s);
    r = metric_of("1875/1875 [==============================] - 8s 4ms/step - loss: 0.1587 - "
                  "accuracy: 0.9531 - val_loss: 0.1412 - val_accuracy: 0.9588\n", &s);
    NEAR(lpt_num(r, "iter_time_s"), 0.004);
    NEAR(lpt_num(r, "eval_accuracy"), 0.9588);
    lp_recset_free(&s);
    r = metric_of("iter 40 loss=0.5 throughput: 1234 samples/s\n", &s);
    NEAR(lpt_num(r, "samples_per_s"), 1234);
    lp_recset_free(&s);
}

/* A time of day alone belongs to the latest past day, not to the nearest one. */
static void test_time_of_day_past(void **state)
{
    (void)state;
    int64_t now = 1795000000LL * MONI_NS_PER_SEC; /* 2026-11-18 11:06:40 UTC */
    int64_t t;
    assert_int_equal(lp_parse_timestamp_ref("[11:30:00.000001] x", 19, now, true, &t), 1);
    assert_true(t <= now);
    assert_true(now - t < 24 * 3600LL * MONI_NS_PER_SEC);
    assert_int_equal(lp_parse_timestamp_ref("[10:30:00.5] x", 14, now, true, &t), 1);
    assert_true(t <= now && now - t < 3600LL * MONI_NS_PER_SEC);
    /* with a date the log gave, the nearest day is right (past midnight) */
    int64_t ref = now - 10 * 3600LL * MONI_NS_PER_SEC + 0; /* 01:06:40 */
    assert_int_equal(lp_parse_timestamp_ref("[23:59:00] x", 12, ref, false, &t), 1);
    assert_true(t < ref);
    /* "[rank3]:" before a glog stamp */
    assert_int_equal(lp_parse_timestamp_ref("[rank3]:[E1101 22:14:03.412000 x] y", 35, now,
                                            true, &t), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_units),
        cmocka_unit_test(test_scale_is_exact),
        cmocka_unit_test(test_framework_spellings),
        cmocka_unit_test(test_time_of_day_past),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
