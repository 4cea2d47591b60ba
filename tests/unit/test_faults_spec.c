/* tests/unit/test_faults_spec.c — fault SPECs: KIND[:key=value,...][@AT][+FOR]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "faults/faults.h"

#define SEC 1000000000LL

static void test_full_spec(void **state)
{
    (void)state;
    struct fault_spec s;
    char err[256];
    assert_int_equal(fault_spec_parse("cpu:workers=2,load=95%@10s+30s", &s, err, sizeof err), 0);
    assert_string_equal(s.ops->name, "cpu");
    assert_true(s.has_at);
    assert_true(s.at_ns == 10 * SEC);
    assert_true(s.for_ns == 30 * SEC);
    assert_int_equal(s.nkv, 2);
    int i = fault_param_index(s.ops, "load");
    assert_true(s.params.v[i].num == 95);
    assert_true(s.params.v[fault_param_index(s.ops, "workers")].num == 2);
}

static void test_short_specs(void **state)
{
    (void)state;
    struct fault_spec s;
    char err[256];
    assert_int_equal(fault_spec_parse("kill@40s", &s, err, sizeof err), 0);
    assert_string_equal(s.ops->name, "kill");
    assert_true(s.at_ns == 40 * SEC);
    assert_true(s.for_ns == 0);
    assert_int_equal(fault_spec_parse("stop+5s", &s, err, sizeof err), 0);
    assert_false(s.has_at);
    assert_true(s.for_ns == 5 * SEC);
    assert_int_equal(fault_spec_parse("mem", &s, err, sizeof err), 0);
    assert_int_equal(fault_spec_parse("knob:lr=10@2m", &s, err, sizeof err), 0);
    assert_true(s.at_ns == 120 * SEC);
    assert_int_equal(s.params.nextra, 1);
    assert_int_equal(fault_spec_parse("io:rate=1G/s,block=4M,fsync=each@500ms+1m", &s, err, sizeof err), 0);
    assert_true(s.at_ns == SEC / 2);
    assert_true(s.for_ns == 60 * SEC);
}

static void test_target_keys(void **state)
{
    (void)state;
    struct fault_spec s;
    char err[256];
    assert_int_equal(fault_spec_parse("net:delay=100ms,port=8080@1s", &s, err, sizeof err), 0);
    assert_int_equal(s.target.port, 8080);
    assert_int_equal(s.nkv, 1);
    assert_int_equal(fault_spec_parse("disk_fill:to=90%,path=/data", &s, err, sizeof err), 0);
    assert_string_equal(s.target.path, "/data");
    assert_int_equal(fault_spec_parse("kill:pid=1234,allow_any=1,signal=TERM", &s, err, sizeof err), 0);
    assert_int_equal(s.target.pid, 1234);
    assert_true(s.target.allow_any);
    assert_int_equal(fault_spec_parse("kill:pid=abc", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "pid=abc"));
}

static void test_bad_specs(void **state)
{
    (void)state;
    struct fault_spec s;
    char err[256];
    assert_int_equal(fault_spec_parse("", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_int_equal(fault_spec_parse("warp:x=1", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "warp"));
    assert_int_equal(fault_spec_parse("cpu:load=150%@1s", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "load=150%"));
    assert_int_equal(fault_spec_parse("cpu@soon", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_int_equal(fault_spec_parse("cpu@1s+-3s", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_int_equal(fault_spec_parse("cpu:load", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_int_equal(fault_spec_parse("io:rate=fast", &s, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "rate=fast"));
    assert_int_equal(fault_spec_parse("cpuX", &s, err, sizeof err), FAULT_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_spec),
        cmocka_unit_test(test_short_specs),
        cmocka_unit_test(test_target_keys),
        cmocka_unit_test(test_bad_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
