/* Unit tests for the dataset builder: grid aggregation (gauge mean, counter rate,
 * flags), missing cells and gaps, label windows from the journal (interval, point,
 * global), torn last lines of a killed run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/dataset-int.h"
#include "tests/unit/fixture-rundir.h"

/* line n (0-based) of text, copied */
static char *line_of(const char *text, int n, char *buf, size_t len)
{
    const char *p = text;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    const char *e = strchr(p, '\n');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    assert_true(l < len);
    memcpy(buf, p, l);
    buf[l] = 0;
    return buf;
}

/* samples every 0.5 s from t=0.2 to t=9.7, with a hole from 5.0 to 7.0 */
static void write_samples(bool torn)
{
    char *buf = malloc(1 << 16);
    size_t n = (size_t)sprintf(buf, "timestamp,mono_ns,cpu_pct,disk_read_total,mem_used_bytes\n");
    for (int k = 0; k < 20; k++) {
        double t = 0.2 + 0.5 * k;
        if (t > 5.0 && t < 7.0)
            continue;
        char ts[MONI_ISO_LEN];
        fx_iso(t, ts);
        /* cpu = 10 in cell 0..1, then 10*cell; counter grows 100/s; mem missing at k=3 */
        double cpu = 10.0 * (k < 4 ? 1 : (int)t);
        n += (size_t)sprintf(buf + n, "%s,%lld,%.1f,%.0f,", ts, (long long)(MONO0 + S(t)), cpu,
                             1000 + 100 * t);
        if (k != 3)
            n += (size_t)sprintf(buf + n, "%d", 4096);
        buf[n++] = '\n';
    }
    if (torn)
        n += (size_t)sprintf(buf + n, "2026-11-25T10:00:10.2");
    buf[n] = 0;
    fx_put("samples.csv", buf);
    free(buf);
}

static void test_grid_aggregation(void **state)
{
    (void)state;
    write_samples(false);
    fx_put("meta.json", "{\"interval_ns\": 500000000, \"end\": \"x\", \"complete\": true}");
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    assert_int_equal(d.nrows, 10); /* cells 0..9 */
    assert_int_equal(d.t0_mono, MONO0);
    int cpu = ds_find_col(&d, "cpu_pct"), rd = ds_find_col(&d, "disk_read_per_s");
    int mem = ds_find_col(&d, "mem_used_bytes");
    assert_true(cpu >= 0 && rd >= 0 && mem >= 0);
    assert_int_equal(ds_find_col(&d, "disk_read_total"), -1);
    double v = 0;
    assert_true(ds_get(&d, 0, (size_t)cpu, &v));
    assert_true(fabs(v - 10) < 1e-9);
    assert_true(ds_get(&d, 3, (size_t)cpu, &v));
    assert_true(fabs(v - 30) < 1e-9); /* samples at 3.2 and 3.7 */
    /* counter: first cell has no rate (no previous), then 100/s */
    assert_false(ds_get(&d, 0, (size_t)rd, &v));
    assert_true(ds_get(&d, 2, (size_t)rd, &v));
    assert_true(fabs(v - 100) < 1e-6);
    /* cell 1 had samples 1.2 (mem missing: k=2? no, k=3 is 1.7) — mean of one value */
    assert_true(ds_get(&d, 1, (size_t)mem, &v));
    assert_true(fabs(v - 4096) < 1e-9);
    /* the hole: cells 5 and 6 have no sample (5.2..6.7 skipped) */
    assert_false(ds_get(&d, 5, (size_t)cpu, &v));
    assert_false(ds_get(&d, 6, (size_t)cpu, &v));
    assert_int_equal(d.gap_cells, 2);
    assert_int_equal(d.gap_runs, 1);
    assert_true(d.raw_gaps >= 1);
    assert_int_equal(d.nonmonotonic, 0);
    ds_free(&d);
}

static void test_missing_cells_written_empty(void **state)
{
    (void)state;
    write_samples(true); /* torn last line: skipped */
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, (char[256]){0}, 256), 0);
    char *m = fx_get("tse_matrix.csv");
    char l[4096];
    line_of(m, 0, l, sizeof l);
    assert_true(!strncmp(l, "timestamp,", 10));
    size_t ll = strlen(l);
    assert_string_equal(l + ll - 11, ",is_anomaly");
    assert_non_null(strstr(l, ",loss,"));
    assert_non_null(strstr(l, ",event_oom,"));
    /* row 6 (gap): timestamp then only empty cells until is_anomaly; no "0" */
    line_of(m, 7, l, sizeof l);
    char ts[MONI_ISO_LEN];
    fx_iso(6, ts);
    assert_true(!strncmp(l, ts, strlen(ts)));
    const char *p = l + strlen(ts);
    while (*p == ',')
        p++;
    assert_string_equal(p, "0"); /* is_anomaly only */
    /* the first data row's timestamp is the aligned cell start */
    line_of(m, 1, l, sizeof l);
    fx_iso(0, ts);
    assert_true(!strncmp(l, ts, strlen(ts)));
    assert_non_null(strstr(l, "10,")); /* cpu mean 10 printed as an integer */
    free(m);
    char *meta = fx_get("meta.json");
    assert_non_null(strstr(meta, "\"gap_rows\":\t2") ? meta : strstr(meta, "\"gap_rows\": 2"));
    assert_non_null(strstr(meta, "\"incomplete\":\ttrue") ? meta
                                                         : strstr(meta, "\"incomplete\": true"));
    free(meta);
}

static void fault_line(char *buf, size_t *n, const char *ev, const char *id, const char *kind,
                       double t)
{
    char ts[MONI_ISO_LEN];
    fx_iso(t, ts);
    *n += (size_t)sprintf(buf + *n,
                          "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"event\":\"%s\",\"fault_id\":"
                          "\"%s\",\"kind\":\"%s\",\"target\":\"pid:42\",\"params\":{\"load\":"
                          "\"95%%\",\"workers\":\"2\"},\"requested_dose\":95,\"delivered_dose\":%s}\n",
                          ts, (long long)(MONO0 + S(t)), ev, id, kind,
                          strcmp(ev, "effective") ? "null" : "93.5");
}

static void test_label_windows(void **state)
{
    (void)state;
    write_samples(false);
    fx_put("meta.json", "{\"interval_ns\": 500000000, \"end\": \"x\", \"complete\": true, \"experiment_labels\": "
                        "{\"faults\": [{\"fault_id\": \"f1\", \"root_cause\": \"cpu_contention\", "
                        "\"expected_failure_stage\": \"train\"}]}}");
    char buf[8192];
    size_t n = 0;
    fault_line(buf, &n, "armed", "f1", "cpu", 0.1);
    fault_line(buf, &n, "fired", "f1", "cpu", 2.3);
    fault_line(buf, &n, "effective", "f1", "cpu", 2.5);
    fault_line(buf, &n, "stopped", "f1", "cpu", 4.0); /* ends on a boundary: row 3 last */
    fault_line(buf, &n, "reverted", "f1", "cpu", 4.1);
    fault_line(buf, &n, "armed", "f2", "kill", 0.1);
    fault_line(buf, &n, "fired", "f2", "kill", 8.6);
    fault_line(buf, &n, "armed", "f3", "mem", 0.1); /* never fired: no labels */
    n += (size_t)sprintf(buf + n, "{\"timestamp\":\"2026-11-25T10:00:09.0"); /* torn */
    fx_put("faults.jsonl", buf);
    char err[256];
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, err, sizeof err), 0);
    char *lab = fx_get("labels.csv");
    char l[512], ts[MONI_ISO_LEN];
    line_of(lab, 0, l, sizeof l);
    assert_string_equal(l, "timestamp,is_anomaly,fault_id,fault_kind,label_kind,phase");
    line_of(lab, 2, l, sizeof l); /* row 1 */
    assert_non_null(strstr(l, ",0,,,,"));
    line_of(lab, 3, l, sizeof l); /* row 2: fired at 2.3 */
    fx_iso(2, ts);
    assert_true(!strncmp(l, ts, strlen(ts)));
    assert_non_null(strstr(l, ",1,f1,cpu,interval,"));
    line_of(lab, 4, l, sizeof l); /* row 3 */
    assert_non_null(strstr(l, ",1,f1,cpu,interval,"));
    line_of(lab, 9, l, sizeof l); /* row 8: the kill */
    assert_non_null(strstr(l, ",1,f2,kill,point,"));
    line_of(lab, 10, l, sizeof l); /* row 9 */
    assert_non_null(strstr(l, ",0,"));
    free(lab);
    char *gt = fx_get("ground_truth.csv");
    line_of(gt, 1, l, sizeof l);
    char s1[MONI_ISO_LEN], s2[MONI_ISO_LEN];
    fx_iso(2.3, s1);
    fx_iso(4.0, s2);
    assert_true(!strncmp(l, "f1,cpu,pid:42,interval,load=95%;workers=2,", 42));
    assert_non_null(strstr(l, s1));
    assert_non_null(strstr(l, s2));
    assert_non_null(strstr(l, ",cpu_contention,train,"));
    assert_non_null(strstr(l, ",95,93.5"));
    line_of(gt, 2, l, sizeof l);
    assert_true(!strncmp(l, "f2,kill,pid:42,point,", 21));
    line_of(gt, 3, l, sizeof l);
    assert_true(!strncmp(l, "f3,mem,pid:42,interval,", 23));
    assert_non_null(strstr(l, ",,,,")); /* no start/end */
    free(gt);
    char *w = fx_get("windows.json");
    assert_non_null(strstr(w, "2026-11-25 10:00:02.000000"));
    assert_non_null(strstr(w, "2026-11-25 10:00:03.000000"));
    assert_non_null(strstr(w, "2026-11-25 10:00:08.000000"));
    free(w);
}

static void test_global_label_and_phases(void **state)
{
    (void)state;
    write_samples(false);
    fx_put("faults.jsonl", "");
    char ts[MONI_ISO_LEN], meta[1024], buf[4096];
    fx_iso(1.2, ts);
    snprintf(meta, sizeof meta,
             "{\"interval_ns\": 500000000, \"end\": \"x\", \"complete\": true, \"workload\": {\"started\": \"%s\", "
             "\"exit_code\": 1, \"ended\": ",
             ts);
    fx_iso(8.5, ts);
    snprintf(meta + strlen(meta), sizeof meta - strlen(meta),
             "\"%s\"}, \"experiment_labels\": {\"global\": \"non_convergence\", "
             "\"root_cause\": \"lr_too_small\"}}",
             ts);
    fx_put("meta.json", meta);
    size_t n = 0;
    const struct {
        double t;
        const char *rec;
    } ev[] = {
        {2.1, "\"kind\":\"phase\",\"event\":\"train\",\"phase\":\"train\""},
        {2.5, "\"kind\":\"metric\",\"fields\":{\"loss\":0.5,\"learning_rate\":1e-9}"},
        {2.7, "\"kind\":\"metric\",\"fields\":{\"loss\":0.7}"},
        {3.4, "\"kind\":\"metric\",\"fields\":{\"loss\":\"nan\"}"},
        {4.2, "\"kind\":\"phase\",\"event\":\"checkpoint_save\",\"phase\":\"checkpoint_save\""},
        {4.6, "\"kind\":\"event\",\"severity\":\"error\",\"labels\":[\"Host_OOM\"]"},
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(ev); i++) {
        fx_iso(ev[i].t, ts);
        n += (size_t)sprintf(buf + n, "{\"timestamp\":\"%s\",\"mono_ns\":%lld,%s}\n", ts,
                             (long long)(MONO0 + S(ev[i].t)), ev[i].rec);
    }
    fx_put("events.jsonl", buf);
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    for (size_t r = 0; r < d.nrows; r++)
        assert_int_equal(d.anomaly[r], 1);
    assert_string_equal(ds_phase_names[d.phase[0]], "idle");
    assert_string_equal(ds_phase_names[d.phase[1]], "startup");
    assert_string_equal(ds_phase_names[d.phase[2]], "train");
    assert_string_equal(ds_phase_names[d.phase[4]], "checkpoint");
    assert_string_equal(ds_phase_names[d.phase[5]], "checkpoint");
    assert_string_equal(ds_phase_names[d.phase[9]], "crashed");
    double v = 0;
    int loss = ds_find_col(&d, "loss"), nan_f = ds_find_col(&d, "event_nan");
    int oom = ds_find_col(&d, "event_oom"), er = ds_find_col(&d, "event_error");
    assert_true(ds_get(&d, 2, (size_t)loss, &v));
    assert_true(fabs(v - 0.6) < 1e-9);
    assert_false(ds_get(&d, 1, (size_t)loss, &v)); /* no record: missing */
    assert_true(ds_get(&d, 3, (size_t)loss, &v) && isnan(v));
    assert_true(ds_get(&d, 3, (size_t)nan_f, &v) && v == 1);
    assert_true(ds_get(&d, 2, (size_t)nan_f, &v) && v == 0); /* flags are 0, not missing */
    assert_true(ds_get(&d, 4, (size_t)oom, &v) && v == 1);
    assert_true(ds_get(&d, 4, (size_t)er, &v) && v == 1);
    ds_free(&d);
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, err, sizeof err), 0);
    char *gt = fx_get("ground_truth.csv");
    char l[512];
    line_of(gt, 1, l, sizeof l);
    assert_true(!strncmp(l, "global,non_convergence,workload,global,", 39));
    assert_non_null(strstr(l, "lr_too_small"));
    free(gt);
    unlink("events.jsonl");
}

/* killed before the first tick: a header, log lines and events, no rows */
static void test_no_rows(void **state)
{
    (void)state;
    fx_put("samples.csv", "timestamp,mono_ns,cpu_pct\n");
    fx_put("meta.json", "{\"complete\": false}");
    fx_put("workload.idx", "line,timestamp,mono_ns,stream\n1,2026-11-25T10:00:00.100Z,1000100000000,1\n");
    fx_put("events.jsonl", "{\"timestamp\":\"2026-11-25T10:00:00.100Z\",\"mono_ns\":1000100000000,"
                           "\"kind\":\"metric\",\"fields\":{\"loss\":0.5,\"eval_accuracy\":0.9}}\n"
                           "{\"timestamp\":\"2026-11-25T10:00:00.100Z\",\"mono_ns\":1000100000000,"
                           "\"kind\":\"event\",\"severity\":\"error\",\"labels\":[\"Host_OOM\"]}\n");
    fx_put("faults.jsonl", "");
    struct dataset_summary sum;
    char err[256];
    assert_int_equal(dataset_build(fx_dir, NULL, &sum, err, sizeof err), 0);
    assert_int_equal(sum.rows, 0);
    assert_true(sum.incomplete);
    char *m = fx_get("tse_matrix.csv");
    assert_non_null(strstr(m, "timestamp,cpu_pct,"));
    assert_null(strchr(strchr(m, '\n') + 1, '\n')); /* header only */
    free(m);
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    assert_int_equal(dataset_validate(fx_dir, NULL, 0, null, false, err, sizeof err), 1);
    fclose(null);
    unlink("events.jsonl");
}

static void test_no_samples_file(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "samples.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_RUNDIR_TEST(test_grid_aggregation),
        FX_RUNDIR_TEST(test_missing_cells_written_empty),
        FX_RUNDIR_TEST(test_label_windows),
        FX_RUNDIR_TEST(test_global_label_and_phases),
        FX_RUNDIR_TEST(test_no_rows),
        FX_RUNDIR_TEST(test_no_samples_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
