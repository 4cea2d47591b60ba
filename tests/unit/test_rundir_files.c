/* Unit tests for core/rundir: one per run-directory file.  Each reads back what its
 * writer wrote, names FILE:LINE: field on a bad line and reports (not returns) a torn
 * last line.  Also: the journal's compatibility reader, and that rundir's journal
 * writer and faults/'s fault_journal_line write the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MONI_FAULTS_INTERNAL /* fault_journal_line, to compare with rundir's writer */
#include "core/core.h"
#include "faults/faults.h"
#include "logparse/logparse.h"
#include "tests/unit/fixture-rundir.h"

static const struct moni_stamp T1 = {1000000000123LL, 1795600800123000000LL};
static const struct moni_stamp T2 = {9007199254740993LL, 1795600801000000000LL}; /* > 2^53 */

static int open_out(const char *name)
{
    int fd = rundir_open_append(fx_dir, name);
    assert_true(fd >= 0);
    return fd;
}

static int write_str(int fd, const char *s)
{
    return moni_write_all(fd, s, strlen(s));
}

static void append_text(const char *name, const char *text)
{
    int fd = open_out(name);
    assert_int_equal(moni_write_all(fd, text, strlen(text)), 0);
    close(fd);
}

/* The error ends in "/NAME:LINE: FIELD: ..." */
static void assert_err_at(const char *err, const char *name, int line, const char *field)
{
    char want[128];
    snprintf(want, sizeof want, "/%s:%d: %s: ", name, line, field);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

/* ---- meta.json ---------------------------------------------------------------------- */

static void test_meta_round_trip(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "run_id", "r1");
    cJSON_AddNumberToObject(o, "interval_s", 0.5);
    cJSON_AddStringToObject(o, "clock_offset_ns", "1795599800000000000");
    cJSON_AddStringToObject(o, "end", "2026-11-25T10:00:09.000Z");
    cJSON *w = cJSON_AddObjectToObject(o, "workload");
    cJSON_AddStringToObject(w, "started", "2026-11-25T10:00:01.000Z");
    cJSON_AddNullToObject(w, "exit_code");
    cJSON_AddNumberToObject(w, "exit_signal", 9);
    cJSON_AddStringToObject(w, "exit_signal_name", "KILL");
    cJSON *ex = cJSON_AddObjectToObject(o, "experiment_labels");
    cJSON_AddStringToObject(ex, "global", "non_convergence");
    char err[RUNDIR_ERR_LEN];
    assert_int_equal(rundir_meta_write(fx_dir, o, err, sizeof err), 0);
    cJSON_Delete(o);
    struct rundir_meta m;
    assert_int_equal(rundir_meta_load(fx_dir, &m, err, sizeof err), 0);
    assert_string_equal(m.run_id, "r1");
    assert_int_equal(m.interval_ns, 500000000);
    assert_true(m.has_clock_offset);
    assert_int_equal(m.clock_offset_ns, 1795599800000000000LL);
    assert_true(m.complete);
    assert_true(m.has_exit);
    assert_true(m.crashed);
    assert_false(m.exit_code_valid);
    assert_string_equal(m.exit_signal_name, "KILL");
    assert_int_equal(rundir_mono(&m.started, m.clock_offset_ns), 1001000000000LL);
    assert_string_equal(m.global_label, "non_convergence");
    assert_int_equal(m.ticks_late, -1);
    rundir_meta_free(&m);
}

static void test_meta_bad(void **state)
{
    (void)state;
    char err[RUNDIR_ERR_LEN];
    struct rundir_meta m;
    assert_int_equal(rundir_meta_load(fx_dir, &m, err, sizeof err), -1); /* absent */
    assert_non_null(strstr(err, "meta.json"));
    append_text("meta.json", "{\n  \"run_id\": \"x\",\n  \"interval_s\": ,\n}\n");
    assert_int_equal(rundir_meta_load(fx_dir, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "/meta.json:3:"));
}

/* ---- samples.csv ---------------------------------------------------------------------- */

static void test_samples_round_trip(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    int a = frame_add(&f, "cpu_pct", "", METRIC_GAUGE);
    int b = frame_add(&f, "disk_read_total", "", METRIC_COUNTER);
    int fd = open_out("samples.csv");
    assert_int_equal(rundir_samples_write_header(fd, &f), 0);
    frame_clear(&f);
    frame_set(&f, a, 12.5);
    f.t = T1;
    assert_int_equal(rundir_samples_append(fd, &f), 0);
    frame_clear(&f);
    frame_set(&f, b, 4096);
    f.t = T2;
    assert_int_equal(rundir_samples_append(fd, &f), 0);
    close(fd);
    frame_free(&f);

    struct rundir_samples s;
    char err[RUNDIR_ERR_LEN];
    assert_int_equal(rundir_samples_open(&s, fx_dir, err, sizeof err), 0);
    assert_int_equal(s.ncols, 2);
    assert_string_equal(s.names[0], "cpu_pct");
    assert_string_equal(s.names[1], "disk_read_total");
    struct rundir_sample row;
    assert_int_equal(rundir_samples_next(&s, &row), 1);
    assert_int_equal(row.mono, T1.mono_ns);
    assert_true(row.valid[0]);
    assert_true(row.val[0] == 12.5);
    assert_false(row.valid[1]); /* missing = empty cell, never 0 */
    int64_t real;
    assert_int_equal(moni_parse_iso(row.ts, &real), 0);
    assert_int_equal(real, T1.real_ns);
    assert_int_equal(rundir_samples_next(&s, &row), 1);
    assert_int_equal(row.mono, T2.mono_ns); /* exact beyond 2^53 */
    assert_false(row.valid[0]);
    assert_true(row.val[1] == 4096);
    assert_int_equal(rundir_samples_next(&s, &row), 0);
    assert_false(s.l.torn);
    rundir_samples_close(&s);
}

static void test_samples_bad_and_torn(void **state)
{
    (void)state;
    append_text("samples.csv", "timestamp,mono_ns,cpu_pct\n"
                               "2026-11-25T10:00:00.000Z,1000000000000,1\n"
                               "2026-11-25T10:00:01.000Z,1000000000000,1,7\n"
                               "junk,,2\n"
                               "2026-11-25T10:00:03.000Z,1000000000003,3\n"
                               "2026-11-25T10:00:04.000Z,10000");
    struct rundir_samples s;
    char err[RUNDIR_ERR_LEN];
    assert_int_equal(rundir_samples_open(&s, fx_dir, err, sizeof err), 0);
    struct rundir_sample row;
    assert_int_equal(rundir_samples_next(&s, &row), 1);
    assert_int_equal(rundir_samples_next(&s, &row), -1);
    assert_err_at(s.l.err, "samples.csv", 3, "line");
    assert_int_equal(rundir_samples_next(&s, &row), -1);
    assert_err_at(s.l.err, "samples.csv", 4, "mono_ns");
    assert_int_equal(rundir_samples_next(&s, &row), 1);
    assert_true(row.val[0] == 3);
    assert_int_equal(rundir_samples_next(&s, &row), 0);
    assert_true(s.l.torn);
    assert_err_at(s.l.err, "samples.csv", 6, "line");
    assert_int_equal(s.l.bad, 2);
    rundir_samples_close(&s);
}

static void test_samples_no_header(void **state)
{
    (void)state;
    struct rundir_samples s;
    char err[RUNDIR_ERR_LEN];
    append_text("samples.csv", "cpu_pct,mem_pct\n1,2\n");
    assert_int_equal(rundir_samples_open(&s, fx_dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "samples.csv:1: timestamp:"));
    rundir_samples_close(&s);
}

/* ---- workload.idx --------------------------------------------------------------------- */

static void test_idx_round_trip(void **state)
{
    (void)state;
    int fd = open_out("workload.idx");
    assert_int_equal(write_str(fd, "line,timestamp,mono_ns,stream\n"), 0);
    assert_int_equal(rundir_idx_append(fd, 1, &T1, 1), 0);
    assert_int_equal(rundir_idx_append(fd, 2, &T2, 2), 0);
    assert_int_equal(write_str(fd, "3,nonsense,,stdout\n4,2026"), 0);
    close(fd);
    struct rundir_lines r;
    assert_int_equal(rundir_idx_open(&r, fx_dir), 0);
    struct rundir_idx x;
    assert_int_equal(rundir_idx_next(&r, &x), 1);
    assert_int_equal(x.line, 1);
    assert_int_equal(x.mono, T1.mono_ns);
    assert_int_equal(x.real / 1000000, T1.real_ns / 1000000); /* the wall time too */
    assert_int_equal(x.stream, 1);
    assert_int_equal(rundir_idx_next(&r, &x), 1);
    assert_int_equal(x.mono, T2.mono_ns);
    assert_int_equal(x.stream, 2);
    assert_int_equal(rundir_idx_next(&r, &x), -1);
    assert_err_at(r.err, "workload.idx", 4, "mono_ns");
    assert_int_equal(rundir_idx_next(&r, &x), 0);
    assert_true(r.torn);
    rundir_lines_close(&r);
}

/* ---- events.jsonl ---------------------------------------------------------------------- */

static void test_events_round_trip(void **state)
{
    (void)state;
    struct lp_field fields[] = {{.name = "loss", .text = "nan", .num = NAN, .is_num = true},
                                {.name = "step", .text = "7", .num = 7, .is_num = true}};
    struct lp_record rec = {.kind = LP_KIND_METRIC, .rule_id = "hf_metrics", .event = "",
                            .severity = LP_SEV_INFO, .source = "workload.log", .line_no = 42,
                            .text = "{'loss': nan}", .text_len = 13, .recv = T2,
                            .nfields = 2, .fields = fields};
    int fd = open_out("events.jsonl");
    assert_int_equal(rundir_event_append(fd, &rec), 0);
    assert_int_equal(write_str(fd, "{\"kind\":\"metric\"}\nnot json\n{\"timest"), 0);
    close(fd);
    struct rundir_jsonl r;
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "events.jsonl"), 0);
    struct rundir_event ev;
    assert_int_equal(rundir_event_next(&r, &ev), 1);
    assert_int_equal(ev.t.mono, T2.mono_ns);
    assert_int_equal(ev.t.real, T2.real_ns);
    assert_string_equal(ev.kind, "metric");
    assert_string_equal(ev.rule, "hf_metrics");
    assert_string_equal(ev.file, "workload.log");
    assert_int_equal(ev.line, 42);
    assert_string_equal(ev.text, "{'loss': nan}");
    double v;
    assert_true(rundir_json_num(cJSON_GetObjectItemCaseSensitive(ev.fields, "loss"), &v));
    assert_true(isnan(v));
    assert_int_equal(rundir_event_next(&r, &ev), -1);
    assert_err_at(r.l.err, "events.jsonl", 2, "mono_ns");
    assert_int_equal(rundir_event_next(&r, &ev), -1);
    assert_err_at(r.l.err, "events.jsonl", 3, "(line)");
    assert_int_equal(rundir_event_next(&r, &ev), 0);
    assert_true(r.l.torn);
    assert_err_at(r.l.err, "events.jsonl", 4, "line");
    rundir_jsonl_close(&r);
}

/* ---- faults.jsonl ----------------------------------------------------------------------- */

static cJSON *journal_object(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "fired");
    cJSON_AddStringToObject(o, "fault_id", "f1");
    cJSON_AddStringToObject(o, "kind", "cpu");
    cJSON_AddStringToObject(o, "label_kind", "interval");
    cJSON_AddStringToObject(o, "target", "pid:12");
    cJSON *p = cJSON_AddObjectToObject(o, "params");
    cJSON_AddStringToObject(p, "load", "95%");
    cJSON_AddNumberToObject(o, "requested_dose", 95);
    cJSON_AddNullToObject(o, "delivered_dose");
    cJSON_AddStringToObject(o, "dose_unit", "pct");
    return o;
}

static void test_faults_round_trip(void **state)
{
    (void)state;
    cJSON *o = journal_object();
    int fd = open_out("faults.jsonl");
    assert_int_equal(rundir_fault_append(fd, o, T2), 0);
    close(fd);
    /* the injector's own line format gives the same bytes */
    size_t len;
    char *line = fault_journal_line(o, T2.real_ns, T2.mono_ns, &len);
    assert_non_null(line);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/faults.jsonl", fx_dir);
    char *text = moni_read_file(p, NULL);
    assert_non_null(text);
    assert_string_equal(text, line);
    free(text);
    free(line);
    cJSON_Delete(o);
    append_text("faults.jsonl", "{\"event\":\"armed\"}\n{\"event\":\"stopped\",\"fault_id\":\"f");
    struct rundir_jsonl r;
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "faults.jsonl"), 0);
    struct rundir_fault f;
    assert_int_equal(rundir_fault_next(&r, &f), 1);
    assert_int_equal(f.t.mono, T2.mono_ns);
    assert_string_equal(f.event, "fired");
    assert_string_equal(f.fault_id, "f1");
    assert_string_equal(f.kind, "cpu");
    assert_string_equal(f.target, "pid:12");
    assert_true(f.requested_dose == 95);
    assert_true(isnan(f.delivered_dose));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(f.params, "load")->valuestring, "95%");
    assert_int_equal(rundir_fault_next(&r, &f), -1);
    assert_err_at(r.l.err, "faults.jsonl", 2, "fault_id");
    assert_int_equal(rundir_fault_next(&r, &f), 0);
    assert_true(r.l.torn);
    rundir_jsonl_close(&r);
}

/* Older journals: state/transition, id, parameters, requested/delivered, dose{}. */
static void test_journal_compat(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"state\":\"fired\",\"id\":\"f2\",\"kind\":\"kill\",\"target\":77,"
                           "\"parameters\":{\"signal\":\"KILL\"},\"requested\":1,"
                           "\"dose\":{\"delivered\":\"1\"}}");
    assert_non_null(o);
    rundir_journal_compat(o);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "event")->valuestring, "fired");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "fault_id")->valuestring, "f2");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "target")->valuestring, "77");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(params, "signal")->valuestring, "KILL");
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "requested_dose")->valuedouble == 1);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "delivered_dose")->valuedouble == 1);
    /* no label_kind journalled: the kind's descriptor's (kill is a point fault) */
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "label_kind")->valuestring, "point");
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "state"));
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "id"));
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "parameters"));
    cJSON_Delete(o);
    /* the canonical spelling wins when both are there */
    o = cJSON_Parse("{\"event\":\"stopped\",\"transition\":\"fired\",\"fault_id\":\"f3\","
                    "\"id\":\"x\",\"requested_dose\":5,\"requested\":6}");
    rundir_journal_compat(o);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "event")->valuestring, "stopped");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "fault_id")->valuestring, "f3");
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "requested_dose")->valuedouble == 5);
    cJSON_Delete(o);
    /* and the reader applies it: an old journal reads like a new one */
    append_text("faults.jsonl", "{\"timestamp\":\"2026-11-25T10:00:00.123Z\",\"transition\":\"armed\","
                                "\"id\":\"f4\",\"kind\":\"cpu\"}\n");
    struct rundir_jsonl r;
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "faults.jsonl"), 0);
    struct rundir_fault f;
    assert_int_equal(rundir_fault_next(&r, &f), 1);
    assert_string_equal(f.event, "armed");
    assert_string_equal(f.fault_id, "f4");
    assert_int_equal(f.t.mono, 0);
    assert_int_equal(f.t.real, T1.real_ns);
    assert_int_equal(rundir_mono(&f.t, T1.real_ns - T1.mono_ns), T1.mono_ns);
    rundir_jsonl_close(&r);
}

/* ---- marks.jsonl, alerts.jsonl, detections.jsonl ----------------------------------------- */

static void test_marks_round_trip(void **state)
{
    (void)state;
    int fd = rundir_mark_open(fx_dir);
    assert_true(fd >= 0);
    assert_int_equal(rundir_mark_append(fd, T2, "loss looks \"odd\", check"), 0);
    close(fd);
    append_text("marks.jsonl", "{\"note\":\"no time\"}\n{\"timestamp\":");
    struct rundir_jsonl r;
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "marks.jsonl"), 0);
    struct rundir_mark mk;
    assert_int_equal(rundir_mark_next(&r, &mk), 1);
    assert_int_equal(mk.t.mono, T2.mono_ns);
    assert_string_equal(mk.note, "loss looks \"odd\", check");
    assert_int_equal(rundir_mark_next(&r, &mk), -1);
    assert_err_at(r.l.err, "marks.jsonl", 2, "mono_ns");
    assert_int_equal(rundir_mark_next(&r, &mk), 0);
    assert_true(r.l.torn);
    rundir_jsonl_close(&r);
}

static void test_alerts_round_trip(void **state)
{
    (void)state;
    int fd = open_out("alerts.jsonl");
    assert_int_equal(rundir_alert_append(fd, T1, "GpuHot", "firing", 91.5, "warning", "gpu", "0",
                                         "GPU 0 is hot"),
                     0);
    assert_int_equal(rundir_alert_append(fd, T2, "LossNaN", "resolved", NAN, "critical", NULL,
                                         NULL, "loss is NaN"),
                     0);
    assert_int_equal(write_str(fd, "{\"state\":\"firing\"}\n{"), 0);
    close(fd);
    /* the line alert engine writes today (core/alerts.c), byte for byte */
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/alerts.jsonl", fx_dir);
    char *text = moni_read_file(p, NULL);
    assert_non_null(text);
    const char *want = "{\"timestamp\":\"2026-11-25T10:00:00.123Z\",\"mono_ns\":1000000000123,"
                       "\"alert\":\"GpuHot\",\"state\":\"firing\",\"value\":91.5,"
                       "\"severity\":\"warning\",\"labels\":{\"gpu\":\"0\"},"
                       "\"summary\":\"GPU 0 is hot\"}\n";
    assert_memory_equal(text, want, strlen(want));
    free(text);
    struct rundir_jsonl r;
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "alerts.jsonl"), 0);
    struct rundir_alert a;
    assert_int_equal(rundir_alert_next(&r, &a), 1);
    assert_string_equal(a.alert, "GpuHot");
    assert_string_equal(a.state, "firing");
    assert_true(a.value == 91.5);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(a.labels, "gpu")->valuestring, "0");
    assert_int_equal(rundir_alert_next(&r, &a), 1);
    assert_int_equal(a.t.mono, T2.mono_ns);
    assert_true(isnan(a.value));
    assert_string_equal(a.severity, "critical");
    assert_int_equal(rundir_alert_next(&r, &a), -1);
    assert_err_at(r.l.err, "alerts.jsonl", 3, "alert");
    assert_int_equal(rundir_alert_next(&r, &a), 0);
    assert_true(r.l.torn);
    rundir_jsonl_close(&r);
}

static void test_detections_round_trip(void **state)
{
    (void)state;
    int fd = open_out("detections.jsonl");
    struct detection d = {.mono_ns = T1.mono_ns, .real_ns = T1.real_ns, .detector = "iforest",
                          .label = "CPU_Contention", .signals = "cpu_pct,loss", .score = 0.71,
                          .threshold = 0.6, .ttf_s = NAN};
    snprintf(d.evidence, sizeof d.evidence, "cpu_pct +4 sd, a \"quoted\" word");
    assert_int_equal(rundir_detection_append(fd, &d), 0);
    assert_int_equal(write_str(fd, "{\"detector\":\"x\",\"score\":\"high\"}\n{\"det"), 0);
    close(fd);
    struct rundir_jsonl r;
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "detections.jsonl"), 0);
    struct rundir_detection got;
    assert_int_equal(rundir_detection_next(&r, &got), 1);
    assert_int_equal(got.t.mono, T1.mono_ns);
    assert_string_equal(got.detector, "iforest");
    assert_string_equal(got.label, "CPU_Contention");
    assert_string_equal(got.signals, "cpu_pct,loss");
    assert_string_equal(got.evidence, "cpu_pct +4 sd, a \"quoted\" word");
    assert_true(got.score == 0.71 && got.threshold == 0.6);
    assert_true(isnan(got.ttf_s));
    assert_int_equal(rundir_detection_next(&r, &got), -1);
    assert_err_at(r.l.err, "detections.jsonl", 2, "score");
    assert_int_equal(rundir_detection_next(&r, &got), 0);
    assert_true(r.l.torn);
    rundir_jsonl_close(&r);
}

/* Empty lines are skipped; a missing file is an error the caller may ignore. */
static void test_lines_empty_and_missing(void **state)
{
    (void)state;
    struct rundir_jsonl r;
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "b.jsonl"), -1);
    rundir_jsonl_close(&r);
    append_text("a.jsonl", "\n\r\n{\"timestamp\":\"2026-11-25T10:00:00.123Z\",\"note\":\"n\"}\n\n");
    assert_int_equal(rundir_jsonl_open(&r, fx_dir, "a.jsonl"), 0);
    struct rundir_mark mk;
    assert_int_equal(rundir_mark_next(&r, &mk), 1);
    assert_int_equal(r.l.lineno, 3);
    assert_int_equal(mk.t.real, T1.real_ns);
    assert_int_equal(rundir_mark_next(&r, &mk), 0);
    assert_false(r.l.torn);
    assert_int_equal(r.l.bad, 0);
    rundir_jsonl_close(&r);
}

/* The run's log files in diagnose's order; parsing them as files gives what parsing
 * the directory gives. */
static void test_log_files(void **state)
{
    (void)state;
    char sub[PATH_MAX + 8];
    snprintf(sub, sizeof sub, "%s/logs", fx_dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    append_text("workload.log", "2026-11-25 10:00:00 step 1 stage=rollout\n");
    append_text("x.log", "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n");
    append_text("logs/b.log", "2026-11-25 10:00:01 WARNING slow\n");
    append_text("logs/a.log", "2026-11-25 10:00:02 ERROR NCCL timeout\n");
    append_text("logs/notes.txt", "not a log\n");
    char **paths;
    size_t n;
    char err[RUNDIR_ERR_LEN];
    assert_int_equal(rundir_log_files(fx_dir, &paths, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    const char *want[] = {"/workload.log", "/logs/a.log", "/logs/b.log", "/x.log"};
    for (size_t i = 0; i < n; i++)
        assert_non_null(strstr(paths[i], want[i]));
    struct lp_rules *rules = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN, err, sizeof err);
    assert_non_null(rules);
    struct lp_recset a, b;
    lp_recset_init(&a);
    lp_recset_init(&b);
    const char *d1[] = {fx_dir};
    assert_int_equal(lp_parse_paths(rules, d1, 1, 0, &a, err, sizeof err), 0);
    assert_int_equal(lp_parse_paths(rules, (const char *const *)paths, n, 0, &b, err, sizeof err), 0);
    assert_true(a.n > 0);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.v[i].source, b.v[i].source);
        assert_int_equal(a.v[i].line_no, b.v[i].line_no);
    }
    lp_recset_free(&a);
    lp_recset_free(&b);
    lp_rules_free(rules);
    rundir_paths_free(paths, n);
    /* with logs/controller.log, workload.log is its copy and left out */
    append_text("logs/controller.log", "2026-11-25 10:00:00 step 1 stage=rollout\n");
    assert_int_equal(rundir_log_files(fx_dir, &paths, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_non_null(strstr(paths[0], "/logs/a.log"));
    assert_non_null(strstr(paths[2], "/logs/controller.log"));
    rundir_paths_free(paths, n);
    static const char *const rm[] = {"workload.log", "x.log", "logs/a.log", "logs/b.log",
                                     "logs/controller.log", "logs/notes.txt"};
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < MONI_ARRAY_LEN(rm); i++) {
        snprintf(p, sizeof p, "%s/%s", fx_dir, rm[i]);
        unlink(p);
    }
    rmdir(sub);
    assert_int_equal(rundir_log_files(fx_dir, &paths, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "no workload.log"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_RUNDIR_TEST(test_meta_round_trip),
        FX_RUNDIR_TEST(test_meta_bad),
        FX_RUNDIR_TEST(test_samples_round_trip),
        FX_RUNDIR_TEST(test_samples_bad_and_torn),
        FX_RUNDIR_TEST(test_samples_no_header),
        FX_RUNDIR_TEST(test_idx_round_trip),
        FX_RUNDIR_TEST(test_events_round_trip),
        FX_RUNDIR_TEST(test_faults_round_trip),
        FX_RUNDIR_TEST(test_journal_compat),
        FX_RUNDIR_TEST(test_marks_round_trip),
        FX_RUNDIR_TEST(test_alerts_round_trip),
        FX_RUNDIR_TEST(test_detections_round_trip),
        FX_RUNDIR_TEST(test_lines_empty_and_missing),
        FX_RUNDIR_TEST(test_log_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
