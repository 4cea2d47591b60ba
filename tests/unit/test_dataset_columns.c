/* Unit tests for the dataset's columns (issue 18): counters are what the source
 * declared in meta.json's column_kinds, never guessed from a "_total" in the name
 * (mem_total_bytes is a gauge); a column no sample fills is left out and named in
 * meta.json; lagging averages (load1/5/15) do not stretch a fault's effect_end; a
 * NaN loss is told apart from a missing one by loss_nan. */
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

/* n samples at 1 Hz (t = k + 0.5) of the columns in header; value(k, col) gives a
 * cell ("" = missing). */
static void write_samples(int n, const char *header, void (*value)(int k, int col, char *out))
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    len += (size_t)sprintf(buf, "timestamp,mono_ns,%s\n", header);
    int ncols = 1;
    for (const char *p = header; *p; p++)
        ncols += *p == ',';
    for (int k = 0; k < n; k++) {
        char ts[MONI_ISO_LEN];
        fx_iso(k + 0.5, ts);
        len += (size_t)sprintf(buf + len, "%s,%lld", ts, (long long)(MONO0 + S(k + 0.5)));
        for (int c = 0; c < ncols; c++) {
            char cell[64] = "";
            value(k, c, cell);
            len += (size_t)sprintf(buf + len, ",%s", cell);
        }
        buf[len++] = '\n';
    }
    buf[len] = 0;
    fx_put("samples.csv", buf);
    free(buf);
}

/* mem_total_bytes, swap_total_bytes, gpu0_mem_total_bytes: capacities that move a
 * little; psi_cpu_some_total_us grows 1000 us/s; gpu0_ecc_corrected grows 2/s */
static void kinds_value(int k, int c, char *out)
{
    static const double base[] = {8e9, 2e9, 16e9};
    if (c < 3)
        sprintf(out, "%.0f", base[c] + (k % 2) * 4096);
    else if (c == 3)
        sprintf(out, "%d", 1000 * k);
    else
        sprintf(out, "%d", 2 * k);
}

static const char *kinds_header =
    "mem_total_bytes,swap_total_bytes,gpu0_mem_total_bytes,psi_cpu_some_total_us,"
    "gpu0_ecc_corrected";

static void test_counters_declared_by_the_source(void **state)
{
    (void)state;
    write_samples(10, kinds_header, kinds_value);
    fx_put("meta.json", "{\"interval_ns\": 1000000000, \"end\": \"x\", \"column_kinds\": {"
                        "\"mem_total_bytes\": \"gauge\", \"swap_total_bytes\": \"gauge\", "
                        "\"gpu0_mem_total_bytes\": \"gauge\", \"psi_cpu_some_total_us\": "
                        "\"counter\", \"gpu0_ecc_corrected\": \"counter\"}}");
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    const char *gauges[] = {"mem_total_bytes", "swap_total_bytes", "gpu0_mem_total_bytes"};
    for (size_t i = 0; i < 3; i++) {
        int c = ds_find_col(&d, gauges[i]);
        assert_true(c >= 0);
        assert_int_equal(d.cols[c].kind, DS_GAUGE);
        double v;
        assert_true(ds_get(&d, 3, (size_t)c, &v) && v > 1e9); /* a level, not a rate */
    }
    assert_int_equal(ds_find_col(&d, "mem_bytes_per_s"), -1);
    assert_int_equal(ds_find_col(&d, "swap_bytes_per_s"), -1);
    int c = ds_find_col(&d, "psi_cpu_some_us_per_s");
    assert_true(c >= 0 && d.cols[c].kind == DS_COUNTER);
    double v;
    assert_true(ds_get(&d, 4, (size_t)c, &v) && fabs(v - 1000) < 1e-6);
    /* a counter without "_total" in its name: declared, so a rate */
    c = ds_find_col(&d, "gpu0_ecc_corrected_per_s");
    assert_true(c >= 0 && d.cols[c].kind == DS_COUNTER);
    assert_true(ds_get(&d, 4, (size_t)c, &v) && fabs(v - 2) < 1e-6);
    ds_free(&d);
}

/* A run recorded before meta.json had column_kinds: capacities (_total_bytes) stay
 * gauges, the *_total and *_total_us counters are still rates. */
static void test_counters_of_older_runs(void **state)
{
    (void)state;
    write_samples(10, kinds_header, kinds_value);
    fx_put("meta.json", "{\"interval_ns\": 1000000000, \"end\": \"x\"}");
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    int c = ds_find_col(&d, "mem_total_bytes");
    assert_true(c >= 0 && d.cols[c].kind == DS_GAUGE);
    c = ds_find_col(&d, "gpu0_mem_total_bytes");
    assert_true(c >= 0 && d.cols[c].kind == DS_GAUGE);
    c = ds_find_col(&d, "psi_cpu_some_us_per_s");
    assert_true(c >= 0 && d.cols[c].kind == DS_COUNTER);
    ds_free(&d);
}

/* gpu0_util_pct and gpu0_temp_c are empty in every row (no GPU): left out of the
 * matrix and listed in meta.json's dataset object. */
static void empty_value(int k, int c, char *out)
{
    if (c == 0)
        sprintf(out, "%d", 10 + k);
}

static void test_empty_columns_left_out(void **state)
{
    (void)state;
    write_samples(8, "cpu_pct,gpu0_util_pct,gpu0_temp_c", empty_value);
    fx_put("meta.json", "{\"interval_ns\": 1000000000, \"end\": \"x\"}");
    char err[256];
    assert_int_equal(dataset_build(fx_dir, NULL, NULL, err, sizeof err), 0);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/tse_matrix.csv", fx_dir);
    char *m = moni_read_file(p, NULL);
    assert_non_null(m);
    assert_true(!strncmp(m, "timestamp,cpu_pct,", 18));
    assert_null(strstr(m, "gpu0_"));
    free(m);
    snprintf(p, sizeof p, "%s/meta.json", fx_dir);
    char *meta = moni_read_file(p, NULL);
    assert_non_null(meta);
    cJSON *root = cJSON_Parse(meta);
    free(meta);
    assert_non_null(root);
    cJSON *left = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "dataset"), "columns_left_out");
    assert_true(cJSON_IsArray(left));
    assert_int_equal(cJSON_GetArraySize(left), 2);
    assert_string_equal(cJSON_GetArrayItem(left, 0)->valuestring, "gpu0_util_pct");
    assert_string_equal(cJSON_GetArrayItem(left, 1)->valuestring, "gpu0_temp_c");
    cJSON_Delete(root);
}

/* A cpu fault from 40 s to 60 s in a 200 s run: cpu_pct is 90 inside and 10
 * outside; the load averages are 3.0 inside and stay there 16 s past the stop (they
 * lag by design), 0.2 otherwise.  The effect ends with cpu_pct: at 60 s. */
static void lag_value(int k, int c, char *out)
{
    if (c == 0)
        sprintf(out, "%d", k >= 40 && k < 60 ? 90 : 10);
    else
        sprintf(out, "%.1f", k >= 40 && k < 76 ? 3.0 : 0.2);
}

static void test_effect_end_not_stretched_by_load(void **state)
{
    (void)state;
    write_samples(200, "cpu_pct,load1,load5,load15", lag_value);
    fx_put("meta.json", "{\"interval_ns\": 1000000000, \"end\": \"x\"}");
    char ts[3][MONI_ISO_LEN], buf[2048];
    fx_iso(0.1, ts[0]);
    fx_iso(40.0, ts[1]);
    fx_iso(60.0, ts[2]);
    snprintf(buf, sizeof buf,
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"event\":\"armed\",\"fault_id\":\"f1\",\"kind\":\"cpu\"}\n"
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"event\":\"fired\",\"fault_id\":\"f1\",\"kind\":\"cpu\"}\n"
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"event\":\"stopped\",\"fault_id\":\"f1\",\"kind\":\"cpu\"}\n",
             ts[0], (long long)(MONO0 + S(0.1)), ts[1], (long long)(MONO0 + S(40)), ts[2],
             (long long)(MONO0 + S(60)));
    fx_put("faults.jsonl", buf);
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    assert_int_equal(d.nfaults, 1);
    const struct ds_fault *f = &d.faults[0];
    assert_non_null(strstr(f->affected, "cpu_pct"));
    assert_non_null(strstr(f->affected, "load1")); /* it moved; it just lags */
    assert_true(f->effect_end == f->end);
    assert_int_equal(d.anomaly[59], 1);
    assert_int_equal(d.anomaly[60], 0);
    ds_free(&d);
}

/* loss_nan: 1 in a cell whose loss was NaN, 0 in a cell with a finite loss, missing
 * where no loss was logged (pandas reads both an empty cell and "nan" as NaN). */
static void one_col(int k, int c, char *out)
{
    (void)c;
    sprintf(out, "%d", k);
}

static void test_loss_nan_column(void **state)
{
    (void)state;
    write_samples(6, "cpu_pct", one_col);
    fx_put("meta.json", "{\"interval_ns\": 1000000000, \"end\": \"x\"}");
    char ts[2][MONI_ISO_LEN], buf[1024];
    fx_iso(1.5, ts[0]);
    fx_iso(3.5, ts[1]);
    snprintf(buf, sizeof buf,
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"kind\":\"metric\",\"fields\":{\"loss\":0.5}}\n"
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"kind\":\"metric\",\"fields\":{\"loss\":\"nan\"}}\n",
             ts[0], (long long)(MONO0 + S(1.5)), ts[1], (long long)(MONO0 + S(3.5)));
    fx_put("events.jsonl", buf);
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    int c = ds_find_col(&d, "loss_nan"), l = ds_find_col(&d, "loss");
    assert_true(c >= 0 && l >= 0);
    assert_int_equal(c, l + 1 + 6); /* after the training metrics */
    double v;
    assert_true(ds_get(&d, 1, (size_t)c, &v) && v == 0);
    assert_true(ds_get(&d, 3, (size_t)c, &v) && v == 1);
    assert_false(ds_get(&d, 2, (size_t)c, &v)); /* no loss logged: missing */
    ds_free(&d);
}

/* A cpu fault from 45 s to 55 s while the job trains (20 s .. 80 s): the job's CPU
 * share is 50 while it trains, 35 inside the fault, 0 before it starts and after it
 * ends.  The fault moved it (from 50 to 35), which a baseline that mixes in the
 * idle and finished rows (mean 27.8, sd 24) cannot see. */
static void share_value(int k, int c, char *out)
{
    (void)c;
    double v = k < 20 || k >= 80 ? 0 : k >= 45 && k < 55 ? 35 : 50;
    sprintf(out, "%.1f", v + (k % 3) * 0.5);
}

static void test_effect_against_running_rows(void **state)
{
    (void)state;
    write_samples(100, "proc_cpu_pct", share_value);
    char ts[5][MONI_ISO_LEN], buf[2048];
    fx_iso(10, ts[0]);
    fx_iso(80, ts[1]);
    snprintf(buf, sizeof buf,
             "{\"interval_ns\": 1000000000, \"end\": \"x\", \"workload\": {\"started\": \"%s\", "
             "\"exit_code\": 0, \"ended\": \"%s\"}}",
             ts[0], ts[1]);
    fx_put("meta.json", buf);
    fx_iso(20, ts[2]);
    snprintf(buf, sizeof buf,
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"kind\":\"phase\",\"event\":\"train\",\"phase\":\"train\"}\n",
             ts[2], (long long)(MONO0 + S(20)));
    fx_put("events.jsonl", buf);
    fx_iso(45, ts[3]);
    fx_iso(55, ts[4]);
    snprintf(buf, sizeof buf,
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"event\":\"fired\",\"fault_id\":\"f1\",\"kind\":\"cpu\"}\n"
             "{\"timestamp\":\"%s\",\"mono_ns\":%lld,\"event\":\"stopped\",\"fault_id\":\"f1\",\"kind\":\"cpu\"}\n",
             ts[3], (long long)(MONO0 + S(45)), ts[4], (long long)(MONO0 + S(55)));
    fx_put("faults.jsonl", buf);
    struct ds d;
    char err[256];
    assert_int_equal(ds_load(&d, fx_dir, 0, err, sizeof err), 0);
    assert_int_equal(d.phase[50], 2); /* train */
    assert_int_equal(d.nfaults, 1);
    assert_non_null(strstr(d.faults[0].affected, "proc_cpu_pct"));
    ds_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_RUNDIR_TEST(test_counters_declared_by_the_source),
        FX_RUNDIR_TEST(test_counters_of_older_runs),
        FX_RUNDIR_TEST(test_empty_columns_left_out),
        FX_RUNDIR_TEST(test_effect_end_not_stretched_by_load),
        FX_RUNDIR_TEST(test_loss_nan_column),
        FX_RUNDIR_TEST(test_effect_against_running_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
