/* Unit tests for a workload restarted inside one run: meta.json's workload.lifetimes
 * written and read back (core/rundir-lifetimes.c), and the dataset's phases per
 * lifetime — the first lifetime keeps its eval and checkpoint rows, the time
 * between two lifetimes is "dead", and a run recorded before lifetimes still reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/dataset-int.h"
#include "tests/unit/fixture-rundir.h"

static struct moni_stamp at(double sec)
{
    return (struct moni_stamp){MONO0 + S(sec), REAL0 + S(sec)};
}

/* samples every 0.5 s from t=0.2 to t=9.7 */
static void write_samples(void)
{
    char buf[8192];
    size_t n = (size_t)sprintf(buf, "timestamp,mono_ns,cpu_pct\n");
    for (int k = 0; k < 20; k++) {
        char ts[MONI_ISO_LEN];
        double t = 0.2 + 0.5 * k;
        fx_iso(t, ts);
        n += (size_t)sprintf(buf + n, "%s,%lld,%d\n", ts, (long long)(MONO0 + S(t)), 10 + k);
    }
    fx_put("samples.csv", buf);
}

static void write_events(void)
{
    const struct {
        double t;
        const char *rec;
    } ev[] = {
        {2.1, "\"kind\":\"phase\",\"event\":\"train\",\"phase\":\"train\""},
        {2.3, "\"kind\":\"metric\",\"fields\":{\"eval_loss\":0.4}"},
        {3.2, "\"kind\":\"phase\",\"event\":\"checkpoint_save\",\"phase\":\"checkpoint_save\""},
        {4.1, "\"kind\":\"metric\",\"fields\":{\"loss\":0.5}"},
        {7.1, "\"kind\":\"metric\",\"fields\":{\"loss\":0.45}"},
    };
    char buf[4096], ts[MONI_ISO_LEN];
    size_t n = 0;
    for (size_t i = 0; i < MONI_ARRAY_LEN(ev); i++) {
        fx_iso(ev[i].t, ts);
        n += (size_t)sprintf(buf + n, "{\"timestamp\":\"%s\",\"mono_ns\":%lld,%s}\n", ts,
                             (long long)(MONO0 + S(ev[i].t)), ev[i].rec);
    }
    fx_put("events.jsonl", buf);
    fx_put("faults.jsonl", "");
}

/* meta.json as the session writes it: lifetime 1 (1.2 s .. 5.3 s, ended by moni's
 * restart with SIGTERM), lifetime 2 (6.4 s .. 8.5 s, resumed, exit 0). */
static void write_meta(bool with_lifetimes)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "interval_ns", 5e8);
    cJSON_AddStringToObject(m, "end", "2026-11-25T10:00:09.900Z");
    cJSON_AddTrueToObject(m, "complete");
    char off[32];
    snprintf(off, sizeof off, "%lld", REAL0 - MONO0);
    cJSON_AddStringToObject(m, "clock_offset_ns", off);
    cJSON *w = cJSON_AddObjectToObject(m, "workload");
    char iso[MONI_ISO_LEN];
    cJSON_AddStringToObject(w, "started", moni_fmt_iso(at(6.4).real_ns, iso, sizeof iso));
    cJSON_AddStringToObject(w, "ended", moni_fmt_iso(at(8.5).real_ns, iso, sizeof iso));
    cJSON_AddNumberToObject(w, "exit_code", 0);
    cJSON_AddNumberToObject(w, "starts", 2);
    if (with_lifetimes) {
        cJSON *l = cJSON_AddArrayToObject(w, "lifetimes");
        struct moni_stamp t;
        assert_int_equal(rundir_lifetime_begin(l, (t = at(1.2), &t), 100, NULL), 0);
        rundir_lifetime_end(l, (t = at(5.3), &t), -1, SIGTERM, true);
        rundir_lifetime_end(l, (t = at(5.9), &t), 0, 0, false); /* none open: no change */
        assert_int_equal(rundir_lifetime_begin(l, (t = at(6.4), &t), 200, "ck/checkpoint-3"), 0);
        rundir_lifetime_end(l, (t = at(8.5), &t), 0, 0, false);
    }
    char err[256];
    assert_int_equal(rundir_meta_write(fx_dir, m, err, sizeof err), 0);
    cJSON_Delete(m);
}

static void test_lifetimes_round_trip(void **state)
{
    (void)state;
    write_meta(true);
    struct rundir_meta m;
    char err[256];
    assert_int_equal(rundir_meta_load(fx_dir, &m, err, sizeof err), 0);
    assert_int_equal(m.nlifetimes, 2);
    assert_int_equal(m.lifetimes[0].started.mono, MONO0 + S(1.2));
    assert_int_equal(m.lifetimes[0].ended.mono, MONO0 + S(5.3));
    assert_true(m.lifetimes[0].crashed && m.lifetimes[0].ended_by_moni);
    assert_string_equal(m.lifetimes[0].resumed_from, "");
    assert_int_equal(m.lifetimes[1].started.real, REAL0 + S(6.4));
    assert_false(m.lifetimes[1].crashed);
    assert_true(m.lifetimes[1].has_exit);
    assert_string_equal(m.lifetimes[1].resumed_from, "ck/checkpoint-3");
    const cJSON *l0 = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(m.root, "workload"), "lifetimes"), 0);
    assert_string_equal(cJSON_GetObjectItem(l0, "exit_signal_name")->valuestring, "TERM");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(l0, "exit_code")));
    rundir_meta_free(&m);
}

static void test_each_lifetime_keeps_its_phases(void **state)
{
    (void)state;
    write_samples();
    write_events();
    write_meta(true);
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    assert_int_equal(d.nrows, 10);
    const char *want[] = {"idle",  "startup", "eval",  "checkpoint", "train",
                          "dead",  "dead",    "train", "train",      "finished"};
    for (size_t r = 0; r < d.nrows; r++)
        assert_string_equal(ds_phase_names[d.phase[r]], want[r]);
    ds_free(&d);
    /* and in labels.csv */
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, err, sizeof err), 0);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/labels.csv", fx_dir);
    char *t = moni_read_file(p, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, ",eval\n"));
    assert_non_null(strstr(t, ",checkpoint\n"));
    assert_non_null(strstr(t, ",dead\n"));
    assert_null(strstr(t, ",idle\n" "2026-11-25T10:00:02")); /* row 2 is not idle */
    free(t);
}

/* A run recorded before lifetimes: its one start and end, as before. */
static void test_without_lifetimes(void **state)
{
    (void)state;
    write_samples();
    write_events();
    write_meta(false);
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    assert_int_equal(d.nlives, 1);
    assert_string_equal(ds_phase_names[d.phase[5]], "idle");
    assert_string_equal(ds_phase_names[d.phase[7]], "train");
    assert_string_equal(ds_phase_names[d.phase[9]], "finished");
    ds_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_RUNDIR_TEST(test_lifetimes_round_trip),
        FX_RUNDIR_TEST(test_each_lifetime_keeps_its_phases),
        FX_RUNDIR_TEST(test_without_lifetimes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
