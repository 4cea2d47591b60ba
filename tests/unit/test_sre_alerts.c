/* tests/unit/test_sre_alerts.c — the alert engine on synthetic series: `for`
 * durations, resolution, NaN, flat, slope/growth, stale, per-GPU patterns, the
 * journal, bad rule files, and the Prometheus export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static char tmpdir[256];

static const char *write_rules(const char *name, const char *text)
{
    static char path[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "%s/moni-alerts-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static struct alerts *load(const char *text)
{
    char err[512] = "";
    struct alerts *al = alerts_load(write_rules("r.json", text), err, sizeof err);
    if (!al)
        fail_msg("load failed: %s", err);
    return al;
}

static struct moni_stamp at(double s)
{
    struct moni_stamp t = {.mono_ns = (int64_t)(s * 1e9) + MONI_NS_PER_SEC,
                           .real_ns = (int64_t)(s * 1e9) + 1700000000LL * MONI_NS_PER_SEC};
    return t;
}

static void eval_train(struct alerts *al, const char *name, double v, double s)
{
    struct moni_train_metric m = {name, v, 0};
    alerts_eval(al, NULL, &m, 1, at(s));
}

static size_t nfiring(struct alerts *al) { return alerts_firing(al, NULL); }

static void test_for_duration_and_resolution(void **state)
{
    (void)state;
    struct alerts *al = load("{\"rules\":[{\"name\":\"High\",\"series\":\"loss\",\"source\":\"train\","
                             "\"op\":\">\",\"threshold\":10,\"for\":\"5m\"}]}");
    double t = 0;
    for (; t < 299; t += 1) { /* above threshold, but not yet for 5 minutes */
        eval_train(al, "loss", 11, t);
        assert_int_equal(nfiring(al), 0);
    }
    eval_train(al, "loss", 11, 300);
    assert_int_equal(nfiring(al), 1);
    const struct moni_alert_state *a;
    alerts_firing(al, &a);
    assert_string_equal(a[0].name, "High");
    assert_string_equal(a[0].severity, "warning");
    assert_true(a[0].value == 11);
    eval_train(al, "loss", 9, 301); /* resolves at once */
    assert_int_equal(nfiring(al), 0);
    /* a dip restarts the pending time */
    for (t = 302; t < 400; t += 1)
        eval_train(al, "loss", 12, t);
    eval_train(al, "loss", 1, 400);
    for (t = 401; t < 700; t += 1)
        eval_train(al, "loss", 12, t);
    assert_int_equal(nfiring(al), 0);
    eval_train(al, "loss", 12, 701);
    assert_int_equal(nfiring(al), 1);
    alerts_free(al);
}

static void test_nan(void **state)
{
    (void)state;
    struct alerts *al = load("{\"rules\":[{\"name\":\"NaNLoss\",\"series\":\"loss\",\"check\":\"nan\","
                             "\"severity\":\"critical\"}]}");
    eval_train(al, "loss", 0.5, 0);
    assert_int_equal(nfiring(al), 0);
    eval_train(al, "loss", NAN, 1);
    assert_int_equal(nfiring(al), 1);
    eval_train(al, "loss", INFINITY, 2);
    assert_int_equal(nfiring(al), 1);
    eval_train(al, "loss", 0.4, 3);
    assert_int_equal(nfiring(al), 0);
    /* a missing series is not NaN */
    alerts_eval(al, NULL, NULL, 0, at(4));
    assert_int_equal(nfiring(al), 0);
    alerts_free(al);
}

static void test_flat(void **state)
{
    (void)state;
    struct alerts *al = load("{\"rules\":[{\"name\":\"Flat\",\"series\":\"loss\",\"check\":\"flat\","
                             "\"window\":\"15m\",\"tolerance\":0.01}]}");
    double t;
    for (t = 0; t < 600; t += 1) /* falling loss: progress */
        eval_train(al, "loss", 2.0 - t / 1000, t);
    assert_int_equal(nfiring(al), 0);
    for (; t < 600 + 800; t += 1) /* flat but window not yet covered */
        eval_train(al, "loss", 1.4 + 0.001 * sin(t), t);
    assert_int_equal(nfiring(al), 0);
    for (; t < 600 + 1000; t += 1)
        eval_train(al, "loss", 1.4 + 0.001 * sin(t), t);
    assert_int_equal(nfiring(al), 1);
    for (; t < 1700; t += 1) /* learning again */
        eval_train(al, "loss", 1.4 - (t - 1600) / 100, t);
    assert_int_equal(nfiring(al), 0);
    alerts_free(al);
}

static void test_growth_and_slope(void **state)
{
    (void)state;
    struct alerts *al =
        load("{\"rules\":[{\"name\":\"Leak\",\"series\":\"proc_rss_bytes\",\"check\":\"growth\","
             "\"window\":\"10m\",\"min_slope\":65536,\"min_fit\":0.9,\"while\":\"proc_alive\"},"
             "{\"name\":\"Falling\",\"series\":\"proc_rss_bytes\",\"check\":\"slope\","
             "\"window\":\"1m\",\"op\":\"<\",\"threshold\":-1000}]}");
    struct frame f;
    frame_init(&f);
    int rss = frame_add(&f, "proc_rss_bytes", "rss", METRIC_GAUGE);
    int alive = frame_add(&f, "proc_alive", "alive", METRIC_GAUGE);
    double t;
    /* noisy but flat RSS: no leak */
    for (t = 0; t < 700; t += 1) {
        frame_clear(&f);
        frame_set(&f, rss, 1e9 + ((int)t % 7) * 1e6);
        frame_set(&f, alive, 1);
        alerts_eval(al, &f, NULL, 0, at(t));
    }
    assert_int_equal(nfiring(al), 0);
    /* steady growth at 1 MiB/s */
    for (; t < 1400; t += 1) {
        frame_clear(&f);
        frame_set(&f, rss, 1e9 + (t - 700) * 1048576.0);
        frame_set(&f, alive, 1);
        alerts_eval(al, &f, NULL, 0, at(t));
    }
    const struct moni_alert_state *a;
    assert_int_equal(alerts_firing(al, &a), 1);
    assert_string_equal(a[0].name, "Leak");
    assert_true(fabs(a[0].value - 1048576.0) < 1000);
    /* the workload died: the gate closes, the alert resolves */
    frame_clear(&f);
    frame_set(&f, rss, 2e9);
    frame_set(&f, alive, 0);
    alerts_eval(al, &f, NULL, 0, at(t++));
    assert_int_equal(nfiring(al), 0);
    /* falling RSS trips the slope rule */
    for (double t0 = t; t < t0 + 70; t += 1) {
        frame_clear(&f);
        frame_set(&f, rss, 2e9 - (t - t0) * 1e6);
        frame_set(&f, alive, 1);
        alerts_eval(al, &f, NULL, 0, at(t));
    }
    size_t n = alerts_firing(al, &a);
    bool falling = false;
    for (size_t i = 0; i < n; i++)
        falling |= !strcmp(a[i].name, "Falling");
    assert_true(falling);
    frame_free(&f);
    alerts_free(al);
}

static void test_stale(void **state)
{
    (void)state;
    struct alerts *al = load("{\"rules\":[{\"name\":\"Stall\",\"series\":\"step\",\"check\":\"stale\","
                             "\"window\":\"30s\"}]}");
    double t;
    for (t = 0; t < 40; t += 1)
        eval_train(al, "step", t, t);
    assert_int_equal(nfiring(al), 0);
    for (; t < 69; t += 1)
        eval_train(al, "step", 39, t);
    assert_int_equal(nfiring(al), 0);
    eval_train(al, "step", 39, 70);
    assert_int_equal(nfiring(al), 1);
    eval_train(al, "step", 40, 71);
    assert_int_equal(nfiring(al), 0);
    alerts_free(al);
}

static void test_per_gpu_and_journal(void **state)
{
    (void)state;
    struct alerts *al =
        load("{\"rules\":[{\"name\":\"GPUMem\",\"series\":\"gpu{gpu}_mem_used_bytes\","
             "\"per\":\"gpu{gpu}_mem_total_bytes\",\"scale\":100,\"op\":\">\",\"threshold\":90,"
             "\"for\":\"10s\",\"severity\":\"critical\",\"summary\":\"GPU \\\"memory\\\"\"}]}");
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/alerts.jsonl", tmpdir);
    FILE *jf = fopen(jpath, "w+");
    assert_non_null(jf);
    alerts_set_journal(al, fileno(jf));
    struct frame f;
    frame_init(&f);
    int u0 = frame_add(&f, "gpu0_mem_used_bytes", "", METRIC_GAUGE);
    int t0 = frame_add(&f, "gpu0_mem_total_bytes", "", METRIC_GAUGE);
    int u1 = frame_add(&f, "gpu1_mem_used_bytes", "", METRIC_GAUGE);
    int t1 = frame_add(&f, "gpu1_mem_total_bytes", "", METRIC_GAUGE);
    frame_add(&f, "gpux_mem_used_bytes", "", METRIC_GAUGE); /* not a GPU index */
    for (double t = 0; t <= 20; t += 1) {
        frame_clear(&f);
        frame_set(&f, u0, 95);
        frame_set(&f, t0, 100);
        frame_set(&f, u1, 50);
        frame_set(&f, t1, 100);
        alerts_eval(al, &f, NULL, 0, at(t));
    }
    const struct moni_alert_state *a;
    assert_int_equal(alerts_firing(al, &a), 1);
    assert_string_equal(a[0].label_key, "gpu");
    assert_string_equal(a[0].label_value, "0");
    assert_true(fabs(a[0].value - 95) < 1e-9);
    /* the GPU's memory becomes unreadable: resolved, never "0%" */
    frame_clear(&f);
    frame_set(&f, u1, 50);
    frame_set(&f, t1, 100);
    alerts_eval(al, &f, NULL, 0, at(21));
    assert_int_equal(nfiring(al), 0);
    fflush(jf);
    rewind(jf);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, jf)) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        const char *st = cJSON_GetObjectItem(o, "state")->valuestring;
        assert_string_equal(n == 0 ? "firing" : "resolved", st);
        assert_string_equal(cJSON_GetObjectItem(o, "alert")->valuestring, "GPUMem");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "labels"), "gpu")->valuestring,
                            "0");
        const char *ts = cJSON_GetObjectItem(o, "timestamp")->valuestring;
        int64_t real;
        assert_int_equal(moni_parse_iso(ts, &real), 0);
        assert_non_null(strchr(ts, '.'));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "mono_ns")));
        cJSON_Delete(o);
        n++;
    }
    assert_int_equal(n, 2);
    fclose(jf);
    frame_free(&f);
    alerts_free(al);
}

static void expect_error(const char *text, const char *needle)
{
    char err[512] = "";
    const char *p = write_rules("bad.json", text);
    struct alerts *al = alerts_load(p, err, sizeof err);
    if (al)
        fail_msg("accepted a bad file: %s", text);
    if (!strstr(err, needle) || !strstr(err, "bad.json:"))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    assert_null(strchr(err, '\n'));
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_error("{\"rules\": [\n {\"name\":\"A\",\"series\":\"x\",\n \"op\":\"~\",\"threshold\":1}]}",
                 "bad.json:3: op:");
    expect_error("{\"rules\": [{\"name\":\"A\",\"series\":\"x\",\"op\":\">\"}]}", "threshold");
    expect_error("{\"rules\": [{\"name\":\"A\",\"series\":\"x\",\"check\":\"flat\"}]}", "window");
    expect_error("{\"rules\": [{\"name\":\"A\",\"series\":\"x\",\"check\":\"nan\",\n\"colour\":1}]}",
                 "bad.json:2: colour: unknown key");
    expect_error("{\"rules\": [{\"name\":\"A\",\"series\":\"x\",\"check\":\"nan\",\"for\":\"5x\"}]}",
                 "for: bad duration");
    expect_error("{\"rules\": [{\"name\":\"A\",\"series\":\"x\",\"check\":\"nan\"},"
                 "{\"name\":\"A\",\"series\":\"y\",\"check\":\"nan\"}]}",
                 "duplicate");
    expect_error("{\"rules\": [{\"name\":\"A b\",\"series\":\"x\",\"check\":\"nan\"}]}", "name:");
    expect_error("{\"rules\": [{\"name\":\"A\",\"series\":\"gpu{gpu}_x\",\"per\":\"y\","
                 "\"op\":\">\",\"threshold\":1}]}",
                 "per:");
    expect_error("{\"rules\": [{\"name\":\"A\",\"series\":\"x\",\"check\":\"nan\",\"\\nbad\":1}]}",
                 "unknown key"); /* a newline in a key stays out of the one-line error */
    expect_error("{\"rules\": {}}", "rules");
    expect_error("{\"rules\": [", "bad.json");
    expect_error("[]", "bad.json");
}

static void test_default_rules_and_export(void **state)
{
    (void)state;
    char dir[1024], path[1100], err[512];
    if (getenv("MONI_SRC") && !getenv("MONI_DATA_DIR"))
        setenv("MONI_DATA_DIR", getenv("MONI_SRC"), 1);
    if (moni_data_dir("examples", dir, sizeof dir) < 0)
        snprintf(dir, sizeof dir, "examples"); /* run from the source tree */
    snprintf(path, sizeof path, "%s/alerts.json", dir);
    struct alerts *al = alerts_load(path, err, sizeof err);
    if (!al)
        fail_msg("%s", err);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_int_equal(alerts_export_prometheus(al, mem), 0);
    fclose(mem);
    assert_non_null(strstr(buf, "alert: TrainingLossHigh"));
    assert_non_null(strstr(buf, "expr: \"moni_training_loss > 10\""));
    assert_non_null(strstr(buf, "for: 5m"));
    assert_non_null(strstr(buf, "moni_gpu_memory_used_bytes / moni_gpu_memory_total_bytes * 100 > 90"));
    assert_non_null(strstr(buf, "moni_gpu_temperature_celsius > 80"));
    assert_non_null(strstr(buf, "(moni_training_loss != moni_training_loss)"));
    free(buf);
    alerts_free(al);
}

/* The engine caches where each rule's columns are: a second frame with the columns in
 * another order (and a column added to the first) must still be read by name. */
static void test_column_cache(void **state)
{
    (void)state;
    struct alerts *al = load("{\"rules\":[{\"name\":\"Big\",\"series\":\"proc_rss_bytes\","
                             "\"op\":\">\",\"threshold\":100},"
                             "{\"name\":\"GpuFull\",\"series\":\"gpu{gpu}_mem_used_bytes\","
                             "\"per\":\"gpu{gpu}_mem_total_bytes\",\"op\":\">\",\"threshold\":0.9}]}");
    struct frame a, b;
    frame_init(&a);
    frame_init(&b);
    int a_rss = frame_add(&a, "proc_rss_bytes", "", METRIC_GAUGE);
    int a_other = frame_add(&a, "cpu_pct", "", METRIC_GAUGE);
    int b_other = frame_add(&b, "cpu_pct", "", METRIC_GAUGE);
    int b_rss = frame_add(&b, "proc_rss_bytes", "", METRIC_GAUGE);
    frame_set(&a, a_rss, 50);
    frame_set(&a, a_other, 500);
    alerts_eval(al, &a, NULL, 0, at(0));
    assert_int_equal(nfiring(al), 0);
    frame_set(&b, b_rss, 500);
    frame_set(&b, b_other, 50);
    alerts_eval(al, &b, NULL, 0, at(1));
    assert_int_equal(nfiring(al), 1);
    alerts_eval(al, &a, NULL, 0, at(2));
    assert_int_equal(nfiring(al), 0);
    /* a GPU appears in frame a: its columns are found */
    int u0 = frame_add(&a, "gpu0_mem_used_bytes", "", METRIC_GAUGE);
    int t0 = frame_add(&a, "gpu0_mem_total_bytes", "", METRIC_GAUGE);
    frame_set(&a, a_rss, 50);
    frame_set(&a, u0, 95);
    frame_set(&a, t0, 100);
    alerts_eval(al, &a, NULL, 0, at(3));
    const struct moni_alert_state *f;
    assert_int_equal(alerts_firing(al, &f), 1);
    assert_string_equal(f[0].name, "GpuFull");
    assert_string_equal(f[0].label_value, "0");
    frame_free(&a);
    frame_free(&b);
    alerts_free(al);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_for_duration_and_resolution),
        cmocka_unit_test(test_nan),
        cmocka_unit_test(test_flat),
        cmocka_unit_test(test_growth_and_slope),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_per_gpu_and_journal),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_default_rules_and_export),
        cmocka_unit_test(test_column_cache),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (tmpdir[0]) {
        char p[600];
        snprintf(p, sizeof p, "%s/r.json", tmpdir);
        unlink(p);
        snprintf(p, sizeof p, "%s/bad.json", tmpdir);
        unlink(p);
        snprintf(p, sizeof p, "%s/alerts.jsonl", tmpdir);
        unlink(p);
        rmdir(tmpdir);
    }
    return rc;
}
