/* tests/unit/test_fault_qdisc_foreign.c — issue 14: netem treats every existing root
 * qdisc as foreign without force=1, also the defaults with handle 0: (pfifo_fast,
 * fq_codel, mq); only noqueue (no qdisc) and moni's own 4d6e: are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define MONI_FAULTS_INTERNAL
#include "core/base.h"
#include "faults/faults.h"

static void test_defaults_are_foreign(void **state)
{
    (void)state;
    char what[100];
    assert_int_equal(fault_qdisc_foreign("qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2\n",
                                         what, sizeof what), 1);
    assert_string_equal(what, "pfifo_fast 0:");
    assert_int_equal(fault_qdisc_foreign("qdisc fq_codel 0: root refcnt 2 limit 10240p\n", what,
                                         sizeof what), 1);
    assert_int_equal(fault_qdisc_foreign("qdisc mq 0: root\nqdisc fq_codel 0: parent :1 limit\n",
                                         what, sizeof what), 1);
    assert_int_equal(fault_qdisc_foreign("qdisc htb 1: root refcnt 2 r2q 10\n", what, sizeof what),
                     1);
}

static void test_none_or_ours(void **state)
{
    (void)state;
    char what[100];
    assert_int_equal(fault_qdisc_foreign("qdisc noqueue 0: root refcnt 2\n", what, sizeof what), 0);
    assert_int_equal(fault_qdisc_foreign("qdisc prio 4d6e: root refcnt 2 bands 3\n"
                                         "qdisc netem 8001: parent 4d6e:3 limit 1000\n",
                                         what, sizeof what), 0);
    assert_int_equal(fault_qdisc_foreign("", what, sizeof what), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_foreign),
        cmocka_unit_test(test_none_or_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
