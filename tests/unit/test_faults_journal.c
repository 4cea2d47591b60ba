/* tests/unit/test_faults_journal.c — the injector journal: one JSON line per
 * transition with both clocks, ids, doses; the knob kind marked effective from
 * outside; the safety refusals (PID 1, moni itself, outside the tree). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "faults/faults.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/moni-ftest-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    char sd[300];
    snprintf(sd, sizeof sd, "%s/state", dir);
    setenv("MONI_STATE_DIR", sd, 1);
    return 0;
}

static int events_seen;
static void on_event(struct injector *inj, const struct fault_info *fi, enum fault_event ev,
                     const char *line, void *arg)
{
    (void)inj;
    (void)fi;
    (void)arg;
    assert_non_null(strstr(line, fault_event_name(ev)));
    events_seen++;
}

static void test_knob_lifecycle_journal(void **state)
{
    (void)state;
    char journal[400], ctl[400], err[256];
    snprintf(journal, sizeof journal, "%s/faults.jsonl", dir);
    snprintf(ctl, sizeof ctl, "%s/control", dir);
    FILE *fp = fopen(ctl, "w");
    fputs("lr=0.001\nsleep_ms=0\n", fp);
    fclose(fp);
    struct injector *inj = injector_new(journal, "sess1", err, sizeof err);
    assert_non_null(inj);
    injector_on_event(inj, on_event, NULL);
    struct fault_kv kv[2] = {{"lr", "10"}, {"undo_lr", "0.001"}};
    struct fault_target t = {0};
    snprintf(t.path, sizeof t.path, "%s", ctl);
    int id = 0;
    assert_int_equal(injector_arm(inj, "knob", kv, 2, &t, 0, &id, err, sizeof err), 0);
    assert_true(injector_guardian_pid(inj) > 0);
    assert_int_equal(injector_fire(inj, id, err, sizeof err), 0);
    char *c = moni_read_file(ctl, NULL);
    assert_non_null(strstr(c, "lr=10\n"));
    assert_non_null(strstr(c, "sleep_ms=0"));
    assert_null(strstr(c, "lr=0.001"));
    free(c);
    assert_int_equal(injector_poll(inj), 1);
    struct fault_info fi;
    assert_true(injector_info_by_id(inj, id, &fi));
    assert_int_equal(fi.state, FAULT_FIRING);
    assert_false(fi.effective);
    assert_int_equal(injector_mark_effective(inj, id, "[control] lr=10.0 applied at step 812"), 0);
    assert_int_equal(injector_mark_effective(inj, id, "again"), -1);
    assert_int_equal(injector_stop(inj, id), 0);
    c = moni_read_file(ctl, NULL);
    assert_non_null(strstr(c, "lr=0.001\n"));
    free(c);
    assert_true(injector_info(inj, 0, &fi));
    assert_int_equal(fi.state, FAULT_REVERTED);
    assert_true(fi.fired_ns <= fi.effective_ns && fi.effective_ns <= fi.stopped_ns);
    struct injector_stats st;
    injector_stats(inj, &st);
    assert_int_equal(st.fired, 1);
    assert_int_equal(st.active, 0);
    injector_free(inj);
    assert_int_equal(events_seen, 5);

    /* The journal: armed, fired, effective, stopped, reverted; both clocks. */
    static const char *const want[] = {"armed", "fired", "effective", "stopped", "reverted"};
    fp = fopen(journal, "r");
    assert_non_null(fp);
    char line[8192];
    int n = 0;
    long long last_mono = 0;
    while (fgets(line, sizeof line, fp)) {
        assert_true(n < 5);
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, want[n]);
        assert_string_equal(cJSON_GetObjectItem(o, "fault_id")->valuestring, "f1");
        assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "knob");
        assert_string_equal(cJSON_GetObjectItem(o, "session")->valuestring, "sess1");
        const char *ts = cJSON_GetObjectItem(o, "timestamp")->valuestring;
        assert_int_equal(strlen(ts), 24); /* 2026-11-23T20:33:17.123Z */
        assert_true(ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z');
        /* mono_ns is written as an exact integer */
        const char *m = strstr(line, "\"mono_ns\":");
        long long mono = atoll(m + 10);
        assert_true(mono >= last_mono);
        last_mono = mono;
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "requested_dose")));
        assert_true(cJSON_GetObjectItem(o, "requested_dose")->valuedouble == 10);
        assert_non_null(cJSON_GetObjectItem(o, "delivered_dose"));
        assert_non_null(cJSON_GetObjectItem(o, "params"));
        if (n == 2)
            assert_non_null(strstr(cJSON_GetObjectItem(o, "effect")->valuestring, "applied"));
        cJSON_Delete(o);
        n++;
    }
    fclose(fp);
    assert_int_equal(n, 5);
    /* A clean end leaves no state file behind. */
    size_t items, sessions;
    assert_int_equal(guardian_leftovers(&items, &sessions), 0);
}

static void test_safety_refusals(void **state)
{
    (void)state;
    char journal[400], err[256];
    snprintf(journal, sizeof journal, "%s/safety.jsonl", dir);
    struct injector *inj = injector_new(journal, "sess2", err, sizeof err);
    assert_non_null(inj);
    struct fault_target t = {.pid = 1, .allow_any = true};
    int id = 0;
    assert_int_equal(injector_arm(inj, "kill", NULL, 0, &t, 0, &id, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "init"));
    t.pid = getpid();
    assert_int_equal(injector_arm(inj, "stop", NULL, 0, &t, 0, &id, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "moni itself"));
    t.pid = getppid();
    assert_int_equal(injector_arm(inj, "kill", NULL, 0, &t, 0, &id, err, sizeof err), FAULT_ERR_USAGE);
    /* missing targets */
    assert_int_equal(injector_arm(inj, "kill", NULL, 0, NULL, 0, &id, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "missing target"));
    assert_int_equal(injector_arm(inj, "net", NULL, 0, NULL, 0, &id, err, sizeof err), FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(injector_arm(inj, "disk_fill", NULL, 0, NULL, 0, &id, err, sizeof err), FAULT_ERR_USAGE);
    /* window beyond the hard maximum */
    injector_set_max_duration(inj, 1000000000LL);
    struct fault_kv kv[1] = {{"load", "10%"}};
    assert_int_equal(injector_arm(inj, "cpu", kv, 1, NULL, 5000000000LL, &id, err, sizeof err),
                     FAULT_ERR_USAGE);
    assert_non_null(strstr(err, "maximum"));
    assert_int_equal(injector_count(inj), 0);
    injector_free(inj);
}

static void test_gpu_without_driver(void **state)
{
    (void)state;
    char journal[400], err[256];
    snprintf(journal, sizeof journal, "%s/gpu.jsonl", dir);
    setenv("MONI_CUDA_LIB", "/nonexistent/libcuda.so.1", 1);
    struct injector *inj = injector_new(journal, "sess3", err, sizeof err);
    int id = 0;
    assert_int_equal(injector_arm(inj, "gpu_mem", NULL, 0, NULL, 0, &id, err, sizeof err), FAULT_ERR_FAIL);
    assert_non_null(strstr(err, "cannot load"));
    struct fault_info fi;
    assert_true(injector_info(inj, 0, &fi));
    assert_int_equal(fi.state, FAULT_FAILED);
    injector_free(inj);
    char *j = moni_read_file(journal, NULL);
    assert_non_null(strstr(j, "\"event\":\"failed\""));
    assert_non_null(strstr(j, "no NVIDIA driver"));
    free(j);
    unsetenv("MONI_CUDA_LIB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knob_lifecycle_journal),
        cmocka_unit_test(test_safety_refusals),
        cmocka_unit_test(test_gpu_without_driver),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
