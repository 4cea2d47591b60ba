/* tests/unit/test_fault_spec_strict.c — issue 14: a fault SPEC with something left
 * over ("cpu@@1s") or a key given twice is an error, not silently half-read; and the
 * pre-flight a plan runs before anything starts refuses what arming would refuse
 * (fault_spec_preflight). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "faults/faults.h"

static void test_leftovers_refused(void **state)
{
    (void)state;
    struct fault_spec s;
    char err[256];
    assert_int_equal(fault_spec_parse("cpu@@1s", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_int_equal(fault_spec_parse("cpu@1s@2s", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_int_equal(fault_spec_parse("cpu@1s", &s, err, sizeof err), 0);
    assert_int_equal(fault_spec_parse("cpu+3s", &s, err, sizeof err), 0);
    /* a knob value may hold an '@' of its own */
    assert_int_equal(fault_spec_parse("knob:loss_pct=10@2@1s", &s, err, sizeof err), 0);
}

static void test_duplicate_keys_refused(void **state)
{
    (void)state;
    struct fault_spec s;
    char err[256];
    assert_int_equal(fault_spec_parse("cpu:load=5%,load=6%@1s", &s, err, sizeof err),
                     FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "load= given twice"));
    assert_int_equal(fault_spec_parse("kill:pid=3,pid=4@1s", &s, err, sizeof err),
                     FAULT_ERR_USAGE);
    assert_int_equal(fault_spec_parse("knob:lr=1,lr=2@1s", &s, err, sizeof err), FAULT_ERR_USAGE);
}

static int preflight(const char *text, char *err, size_t errlen)
{
    struct fault_spec s;
    int rc = fault_spec_parse(text, &s, err, errlen);
    return rc ? rc : fault_spec_preflight(&s, err, errlen);
}

static void test_preflight(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(preflight("cpu:load=50%@1s+2s", err, sizeof err), 0);
    assert_int_not_equal(preflight("disk_fill:to=50%,size=1M@1s", err, sizeof err), 0);
    assert_non_null(strstr(err, "exactly one of"));
    assert_int_not_equal(preflight("net:port=9,host=1.2.3@1s", err, sizeof err), 0);
    assert_non_null(strstr(err, "IPv4"));
    assert_int_not_equal(preflight("stop:pid=1,allow_any=1@1s+1s", err, sizeof err), 0);
    assert_int_not_equal(preflight("cpu@1s+11m", err, sizeof err), 0);
    assert_non_null(strstr(err, "hard maximum"));
    setenv("MONI_CUDA_LIB", "/nonexistent/libcuda.so.1", 1);
    assert_int_not_equal(preflight("gpu_mem:size=1M@1s", err, sizeof err), 0);
    assert_non_null(strstr(err, "cannot load"));
    unsetenv("MONI_CUDA_LIB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leftovers_refused),
        cmocka_unit_test(test_duplicate_keys_refused),
        cmocka_unit_test(test_preflight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
