/* Unit tests for the runner's console API (core/runner-ctl.c), the only way the
 * console reaches faults and the log parser: a parsed record as a plain view
 * (severity, labels, the loss field), the fault kinds in table order, the arm
 * form's fields (parameters, then target keys and "for") and their validation as
 * typed, and the controls refusing politely when no run is there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/core.h"
#include "logparse/logparse.h"

static void test_record_view(void **state)
{
    (void)state;
    struct lp_field fields[] = {{.name = "loss", .text = "inf", .num = INFINITY, .is_num = true},
                                {.name = "note", .text = "x", .is_num = false}};
    const char *text = "RuntimeError: CUDA out of memory. Tried to allocate";
    struct lp_record r = {
        .kind = LP_KIND_EVENT,
        .rule_id = "cuda_oom",
        .severity = LP_SEV_CRITICAL,
        .labels = LP_LABEL_BIT(LP_LABEL_CUDA_OOM) | LP_LABEL_BIT(LP_LABEL_NAN_LOSS),
        .line_no = 7,
        .text = text,
        .text_len = 12, /* only "RuntimeError" */
        .recv = {.mono_ns = 5, .real_ns = 1795600800123000000LL},
        .nfields = 2,
        .fields = fields,
    };
    struct runner_record v;
    runner_record_view(&r, &v);
    assert_true(v.is_event);
    assert_false(v.is_metric);
    assert_int_equal(v.sev, RUNNER_SEV_CRIT);
    assert_string_equal(v.rule, "cuda_oom");
    assert_string_equal(v.labels, "CUDA_OutOfMemory,NaN_Loss");
    assert_int_equal(v.line, 7);
    assert_int_equal(v.text_len, 12);
    assert_int_equal(v.time_ns, 1795600800123000000LL); /* no in-line time: received */
    double x = 0;
    assert_true(runner_record_num(&r, "loss", &x));
    assert_true(isinf(x));
    assert_false(runner_record_num(&r, "note", &x)); /* text, not a number */
    assert_false(runner_record_num(&r, "lr", &x));
    r.kind = LP_KIND_METRIC;
    r.severity = LP_SEV_WARNING;
    r.rule_id = NULL;
    r.labels = 0;
    runner_record_view(&r, &v);
    assert_true(v.is_metric);
    assert_int_equal(v.sev, RUNNER_SEV_WARN);
    assert_string_equal(v.rule, "");
    assert_string_equal(v.labels, "");
}

static void test_fault_kinds_and_form(void **state)
{
    (void)state;
    const char *names[64], *sums[64];
    size_t n = runner_fault_kinds(names, sums, 64);
    assert_true(n >= 5);
    assert_string_equal(names[0], "cpu");
    for (size_t i = 0; i < n; i++)
        assert_true(sums[i] && sums[i][0]);
    assert_int_equal(runner_fault_kinds(names, sums, 2), 2);
    struct runner_fault_param p[32];
    size_t np = runner_fault_params(NULL, "cpu", p, 32);
    assert_true(np >= 2);
    bool load = false;
    for (size_t i = 0; i < np; i++)
        load |= !strcmp(p[i].name, "load") && strstr(p[i].help, "..");
    assert_true(load); /* a numeric limit in the help */
    assert_string_equal(p[np - 1].name, "for");
    assert_int_equal(runner_fault_params(NULL, "no-such-kind", p, 32), 0);
    char err[256];
    assert_int_equal(runner_fault_validate(NULL, "cpu", "load", "30%", err, sizeof err), 0);
    err[0] = 0;
    assert_int_not_equal(runner_fault_validate(NULL, "cpu", "load", "300%", err, sizeof err), 0);
    assert_true(err[0]);
    assert_int_not_equal(runner_fault_validate(NULL, "cpu", "for", "2 fortnights", err, sizeof err), 0);
    assert_int_equal(runner_fault_validate(NULL, "cpu", "for", "500ms", err, sizeof err), 0);
    assert_int_not_equal(runner_fault_validate(NULL, "cpu", "nosuch", "1", err, sizeof err), 0);
    assert_string_equal(err, "unknown parameter");
    assert_int_not_equal(runner_fault_validate(NULL, "nope", "load", "1", err, sizeof err), 0);
    assert_int_equal(runner_fault_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_view),
        cmocka_unit_test(test_fault_kinds_and_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
