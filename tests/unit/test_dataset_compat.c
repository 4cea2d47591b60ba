/* Unit test: a journal in an older spelling (state/transition, id, parameters,
 * requested/delivered or a dose object, a numeric target, no label_kind, no mono_ns)
 * gives the same derived files as the same journal in today's spelling: the dataset
 * reads it through core/rundir's one compatibility reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "tests/unit/fixture-rundir.h"

static const char *const outputs[] = {"tse_matrix.csv", "labels.csv", "ground_truth.csv",
                                      "windows.json"};

static void write_samples(void)
{
    char buf[8192];
    size_t n = (size_t)sprintf(buf, "timestamp,mono_ns,cpu_pct\n");
    for (int k = 0; k < 12; k++) {
        char ts[MONI_ISO_LEN];
        moni_fmt_iso(REAL0 + k * 1000000000LL + 100000000LL, ts, sizeof ts);
        n += (size_t)sprintf(buf + n, "%s,%lld,%d\n", ts, MONO0 + k * 1000000000LL + 100000000LL,
                             k >= 3 && k < 6 ? 95 : 10);
    }
    fx_put("samples.csv", buf);
    fx_put("meta.json", "{\"interval_ns\": 1000000000, \"end\": \"x\", \"complete\": true}\n");
}

/* One transition at t seconds; old: the spelling of older journals. */
static size_t line(char *buf, bool old, const char *ev, const char *id, const char *kind, double t)
{
    char ts[MONI_ISO_LEN];
    int64_t off = (int64_t)(t * 1e9);
    moni_fmt_iso(REAL0 + off, ts, sizeof ts);
    if (!old)
        return (size_t)sprintf(buf,
                               "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"event\":\"%s\","
                               "\"fault_id\":\"%s\",\"kind\":\"%s\",\"label_kind\":\"%s\","
                               "\"target\":\"7\",\"params\":{\"load\":\"95%%\"},"
                               "\"requested_dose\":95,\"delivered_dose\":%s}\n",
                               ts, MONO0 + off, ev, id, kind, strcmp(kind, "kill") ? "interval" : "point",
                               strcmp(ev, "effective") ? "null" : "90");
    /* no mono_ns: placed through the clock offset, as it was in old runs */
    return (size_t)sprintf(buf,
                           "{\"timestamp\":\"%s\",\"%s\":\"%s\",\"id\":\"%s\",\"kind\":\"%s\","
                           "\"target\":7,\"parameters\":{\"load\":\"95%%\"},%s}\n",
                           ts, strcmp(ev, "fired") ? "state" : "transition", ev, id, kind,
                           strcmp(ev, "effective") ? "\"requested\":95"
                                                   : "\"dose\":{\"requested\":95,\"delivered\":90}");
}

static void write_journal(bool old)
{
    char buf[8192];
    size_t n = 0;
    n += line(buf + n, old, "armed", "f1", "cpu", 0.5);
    n += line(buf + n, old, "fired", "f1", "cpu", 3.0);
    n += line(buf + n, old, "effective", "f1", "cpu", 3.2);
    n += line(buf + n, old, "stopped", "f1", "cpu", 6.0);
    n += line(buf + n, old, "armed", "f2", "kill", 0.5);
    n += line(buf + n, old, "fired", "f2", "kill", 9.4);
    fx_put("faults.jsonl", buf);
}

static void test_old_journal_same_dataset(void **state)
{
    (void)state;
    write_samples();
    write_journal(false);
    char err[256];
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, err, sizeof err), 0);
    char *want[4];
    for (int i = 0; i < 4; i++)
        want[i] = fx_get(outputs[i]);
    assert_non_null(strstr(want[2], "\nf2,kill,7,point,load=95%,"));
    assert_non_null(strstr(want[2], ",95,90\n")); /* requested, delivered */
    write_journal(true);
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, err, sizeof err), 0);
    for (int i = 0; i < 4; i++) {
        char *got = fx_get(outputs[i]);
        if (strcmp(got, want[i]))
            fail_msg("%s differs:\n%s\n--- vs today's spelling ---\n%s", outputs[i], got, want[i]);
        free(got);
        free(want[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_RUNDIR_TEST(test_old_journal_same_dataset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
