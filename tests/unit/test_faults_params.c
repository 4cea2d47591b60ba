/* tests/unit/test_faults_params.c — parameter values against the kinds' specs: units,
 * defaults, limits, and one-line errors that name the parameter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "faults/faults.h"

static int parse(const char *kind, const char *const *pairs, size_t n, struct fault_params *p,
                 char *err, size_t errlen)
{
    struct fault_kv kv[FAULT_MAX_PARAMS];
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        size_t one;
        assert_int_equal(fault_kv_split(pairs[i], 0, kv + got, FAULT_MAX_PARAMS - got, &one, err,
                                        errlen), 0);
        got += one;
    }
    return fault_params_parse(fault_find(kind), kv, got, p, err, errlen);
}

static double num(const struct fault_params *p, const char *key)
{
    int i = fault_param_index(p->ops, key);
    assert_true(i >= 0);
    return p->v[i].num;
}

static void test_table_complete(void **state)
{
    (void)state;
    static const char *const kinds[] = {"cpu",     "mem",  "disk_fill", "io",     "net",
                                        "kill",    "stop", "gpu_mem",   "knob",   "fs",
                                        "dns",     "connect", "clock",  "straggler"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const struct fault_ops *o = fault_find(kinds[i]);
        assert_non_null(o);
        assert_non_null(o->summary);
        assert_non_null(o->privileges);
        assert_non_null(o->label_kind);
        assert_non_null(o->undo);
        assert_non_null(o->arm);
        for (size_t k = 0; k < o->nparams; k++) {
            assert_non_null(o->params[k].help);
            /* every default parses */
            if (o->params[k].def) {
                struct fault_value v;
                char err[256];
                assert_int_equal(fault_value_parse(&o->params[k], o->params[k].def, &v, err, sizeof err), 0);
            }
        }
    }
    assert_int_equal(fault_table_len, sizeof kinds / sizeof kinds[0]);
    assert_null(fault_find("nope"));
    assert_string_equal(fault_find("kill")->label_kind, "point");
}

static void test_defaults_and_units(void **state)
{
    (void)state;
    struct fault_params p;
    char err[256];
    const char *a[] = {"load=75%", "slice=20ms"};
    assert_int_equal(parse("cpu", a, 2, &p, err, sizeof err), 0);
    assert_true(num(&p, "load") == 75);
    assert_true(p.v[fault_param_index(p.ops, "slice")].ns == 20 * 1000000LL);
    assert_true(num(&p, "mode") == 0); /* duty */
    const char *m[] = {"rate=200M/s", "size=1G", "oom=prefer"};
    assert_int_equal(parse("mem", m, 3, &p, err, sizeof err), 0);
    assert_true(num(&p, "rate") == 200.0 * 1024 * 1024);
    assert_true(num(&p, "size") == 1024.0 * 1024 * 1024);
    assert_true(num(&p, "oom") == 1);
    const char *k[] = {"signal=TERM"};
    assert_int_equal(parse("kill", k, 1, &p, err, sizeof err), 0);
    assert_true(num(&p, "signal") == 15);
    const char *k2[] = {"signal=SIGUSR1"};
    assert_int_equal(parse("kill", k2, 1, &p, err, sizeof err), 0);
    assert_true(num(&p, "signal") == 10);
    const char *g[] = {"size=80%"};
    assert_int_equal(parse("gpu_mem", g, 1, &p, err, sizeof err), 0);
    assert_true(p.v[fault_param_index(p.ops, "size")].is_pct);
    assert_true(num(&p, "size") == 80);
}

static void test_errors_name_the_parameter(void **state)
{
    (void)state;
    struct fault_params p;
    char err[256];
    const char *a[] = {"load=150%"};
    assert_int_equal(parse("cpu", a, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "load=150%"));
    assert_null(strchr(err, '\n'));
    const char *b[] = {"rate=fast"};
    assert_int_equal(parse("io", b, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "rate=fast"));
    const char *c[] = {"bogus=1"};
    assert_int_equal(parse("cpu", c, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "bogus"));
    const char *d[] = {"mode=sideways"};
    assert_int_equal(parse("net", d, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "proxy|netem"));
    const char *e[] = {"signal=NOPE"};
    assert_int_equal(parse("kill", e, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    const char *f[] = {"cpus=0-9999"};
    assert_int_equal(parse("cpu", f, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "cpus="));
    const char *g[] = {"workers=0"};
    assert_int_equal(parse("cpu", g, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    const char *h[] = {"size=150%"};
    assert_int_equal(parse("gpu_mem", h, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
    const char *i[] = {"until_oom=maybe"};
    assert_int_equal(parse("mem", i, 1, &p, err, sizeof err), FAULT_ERR_USAGE);
}

static void test_free_keys(void **state)
{
    (void)state;
    struct fault_params p;
    char err[256];
    const char *a[] = {"lr=10", "undo_lr=0.001"};
    assert_int_equal(parse("knob", a, 2, &p, err, sizeof err), 0);
    assert_int_equal(p.nextra, 2);
    assert_string_equal(p.extra[0].key, "lr");
    assert_string_equal(p.extra[0].val, "10");
}

static void test_kv_split(void **state)
{
    (void)state;
    struct fault_kv kv[4];
    size_t n;
    char err[128];
    assert_int_equal(fault_kv_split("a=1,b=2,,c=x=y", ',', kv, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(kv[2].key, "c");
    assert_string_equal(kv[2].val, "x=y");
    assert_int_equal(fault_kv_split("a=1,b", ',', kv, 4, &n, err, sizeof err), -1);
    assert_int_equal(fault_kv_split("=1", ',', kv, 4, &n, err, sizeof err), -1);
    assert_int_equal(fault_kv_split("a=1,b=1,c=1,d=1,e=1", ',', kv, 4, &n, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_complete),
        cmocka_unit_test(test_defaults_and_units),
        cmocka_unit_test(test_errors_name_the_parameter),
        cmocka_unit_test(test_free_keys),
        cmocka_unit_test(test_kv_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
