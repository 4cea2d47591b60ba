/* Unit tests of the run diagnosis (core/diagnosis.c): detections, the workload's fate
 * and the log's causes fused into ranked causes; a failure beats a prediction beats a
 * consequence, the earliest wins within a class, and a healthy run is healthy. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "logparse/logparse.h"

#define T0 1764633600000000000LL
#define S(x) ((int64_t)((x) * 1e9))

static struct detection det(const char *detector, const char *label, double t, double ttf)
{
    struct detection d = {.mono_ns = S(t), .real_ns = T0 + S(t), .detector = detector,
                          .label = label, .signals = "", .score = 1, .threshold = 1,
                          .ttf_s = ttf};
    snprintf(d.evidence, sizeof d.evidence, "%s at %.0f s", detector, t);
    return d;
}

static bool explains(const struct run_cause *c, const char *label)
{
    for (size_t i = 0; i < c->nexplains; i++)
        if (strcmp(c->explains[i], label) == 0)
            return true;
    return false;
}

static void test_healthy(void **st)
{
    (void)st;
    struct run_diagnosis d;
    struct det_fate fate = {.real_ns = T0 + S(60), .exit_code = -1, .signal = 15,
                            .scheduled = true};
    run_diagnose(NULL, NULL, 0, &fate, &d);
    assert_true(d.healthy);
    char buf[512] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    run_diagnosis_write_text(&d, f);
    fclose(f);
    assert_non_null(strstr(buf, "healthy"));
    assert_non_null(strstr(buf, "as planned"));
}

static void test_failure_beats_prediction_and_consequence(void **st)
{
    (void)st;
    struct detection dets[] = {
        det("memory_growth", "Memory_Leak", 14, 4000), /* earlier, but only a prediction */
        det("cpu_contention", "CPU_Contention", 16, NAN),
        det("throughput_drop", "Slowdown", 15, NAN),
    };
    struct run_diagnosis d;
    run_diagnose(NULL, dets, 3, NULL, &d);
    assert_false(d.healthy);
    assert_int_equal(d.ncauses, 3);
    assert_string_equal(d.causes[0].label, "CPU_Contention");
    assert_string_equal(d.causes[1].label, "Memory_Leak");
    assert_string_equal(d.causes[2].label, "Slowdown");
    assert_non_null(d.causes[0].action);
    assert_string_equal(d.causes[0].first_kind, "metrics");
}

/* A leak that will exhaust memory in 109 s began 10 s before the contention it causes
 * (its page faults take the job's CPU): the leak is the root, and explains it.  The
 * same contention before the leak stays the root. */
static void test_imminent_leak_before_contention(void **st)
{
    (void)st;
    struct detection dets[] = {
        det("memory_growth", "Memory_Leak", 24, 109),
        det("cpu_contention", "CPU_Contention", 34, NAN),
    };
    struct run_diagnosis d;
    run_diagnose(NULL, dets, 2, NULL, &d);
    assert_int_equal(d.ncauses, 2);
    assert_string_equal(d.causes[0].label, "Memory_Leak");
    assert_true(explains(&d.causes[0], "CPU_Contention"));
    assert_string_equal(d.causes[1].label, "CPU_Contention");
    dets[1].real_ns = T0 + S(20); /* the contention first: not the leak's doing */
    run_diagnose(NULL, dets, 2, NULL, &d);
    assert_string_equal(d.causes[0].label, "CPU_Contention");
    dets[1].real_ns = T0 + S(34);
    dets[0].ttf_s = 4000; /* a slow leak costs no CPU */
    run_diagnose(NULL, dets, 2, NULL, &d);
    assert_string_equal(d.causes[0].label, "CPU_Contention");
}

static void test_earliest_failure_wins(void **st)
{
    (void)st;
    struct detection dets[] = {
        det("process_stopped", "Process_Hang", 30, NAN),
        det("io_bottleneck", "IO_Bottleneck", 12, NAN),
    };
    struct run_diagnosis d;
    run_diagnose(NULL, dets, 2, NULL, &d);
    assert_string_equal(d.causes[0].label, "IO_Bottleneck");
}

static void test_oom_absorbs_the_leak_and_the_kill(void **st)
{
    (void)st;
    struct detection dets[] = {
        det("memory_growth", "Memory_Leak", 10, 30),
        det("process_exit", "Host_OOM", 41, NAN),
    };
    struct run_diagnosis d;
    run_diagnose(NULL, dets, 2, NULL, &d);
    assert_int_equal(d.ncauses, 1);
    assert_string_equal(d.causes[0].label, "Host_OOM");
    assert_true(explains(&d.causes[0], "Memory_Leak"));
    assert_int_equal(d.causes[0].first_real_ns, T0 + S(10));
    assert_non_null(strstr(d.causes[0].kinds, "exit"));
    assert_non_null(strstr(d.causes[0].kinds, "metrics"));
}

static void test_log_and_metrics_agree(void **st)
{
    (void)st;
    struct lp_cause causes[2] = {
        {.label = LP_LABEL_NAN_LOSS, .score = 5, .action = "lower the lr",
         .first = {.source = "workload.log", .line_no = 120, .time_ns = T0 + S(21),
                   .text = "loss is nan"}},
        {.label = LP_LABEL_NETWORK_TIMEOUT, .score = 2, .consequence = true,
         .first = {.source = "workload.log", .line_no = 130, .time_ns = T0 + S(25),
                   .text = "Read timed out"}},
    };
    struct lp_diagnosis logd = {.ncauses = 2, .causes = causes, .nevents = 7};
    struct detection dets[] = {
        det("loss_nonfinite", "NaN_Loss", 22, NAN),
        det("process_exit", "Process_Crash", 30, NAN),
    };
    struct run_diagnosis d;
    run_diagnose(&logd, dets, 2, NULL, &d);
    assert_string_equal(d.causes[0].label, "NaN_Loss");
    assert_string_equal(d.causes[0].kinds, "log+metrics+exit"); /* the crash joined it */
    assert_string_equal(d.causes[0].first_kind, "log");
    assert_int_equal(d.causes[0].nevidence, 3); /* log line, detection, the absorbed crash */
    assert_true(explains(&d.causes[0], "Process_Crash"));
    assert_true(explains(&d.causes[0], "Network_Timeout"));
    cJSON *j = run_diagnosis_json(&d);
    assert_string_equal(cJSON_GetObjectItem(j, "root_cause")->valuestring, "NaN_Loss");
    cJSON_Delete(j);
}

static void test_external_kill(void **st)
{
    (void)st;
    struct detection dets[] = {det("process_exit", "Process_Killed", 25, NAN)};
    struct det_fate fate = {.real_ns = T0 + S(25), .exit_code = -1, .signal = 9};
    struct run_diagnosis d;
    run_diagnose(NULL, dets, 1, &fate, &d);
    assert_string_equal(d.causes[0].label, "Process_Killed");
    assert_string_equal(d.causes[0].first_kind, "exit");
}

/* A rollout worker slow on a loaded machine at 5 s, then a CUDA OOM kills the
 * trainer at 35 s: the OOM absorbed the crash, so it ended the job, and the earlier
 * slowness explains none of that.  Without the crash (the job went on and moni stopped
 * it) the earliest failure is the root as before; and a hang that ends in a kill is
 * still the hang (a kill absorbs nothing). */
static void test_fatal_failure_beats_earlier_slowness(void **st)
{
    (void)st;
    struct lp_cause causes[2] = {
        {.label = LP_LABEL_CPU_CONTENTION, .score = 0.75,
         .first = {.source = "rollout_worker_1.log", .line_no = 2, .time_ns = T0 + S(5),
                   .text = "generate slow: 3% of one core"}},
        {.label = LP_LABEL_CUDA_OOM, .score = 1,
         .first = {.source = "train_worker_3.log", .line_no = 13, .time_ns = T0 + S(35),
                   .text = "torch.OutOfMemoryError: CUDA out of memory"}},
    };
    struct lp_diagnosis logd = {.ncauses = 2, .causes = causes, .nevents = 9};
    struct detection dets[] = {det("process_exit", "Process_Crash", 41, NAN)};
    struct det_fate crash = {.real_ns = T0 + S(41), .exit_code = 1};
    struct run_diagnosis d;
    run_diagnose(&logd, dets, 1, &crash, &d);
    assert_string_equal(d.causes[0].label, "CUDA_OutOfMemory");
    assert_true(d.causes[0].fatal);
    assert_string_equal(d.causes[1].label, "CPU_Contention");
    struct det_fate stopped = {.real_ns = T0 + S(60), .exit_code = -1, .signal = 15,
                               .scheduled = true};
    run_diagnose(&logd, NULL, 0, &stopped, &d);
    assert_string_equal(d.causes[0].label, "CPU_Contention");

    struct detection hang[] = {det("process_stopped", "Process_Hang", 20, NAN),
                               det("process_exit", "Process_Killed", 50, NAN)};
    struct det_fate killed = {.real_ns = T0 + S(50), .exit_code = -1, .signal = 9};
    run_diagnose(NULL, hang, 2, &killed, &d);
    assert_string_equal(d.causes[0].label, "Process_Hang");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy),
        cmocka_unit_test(test_failure_beats_prediction_and_consequence),
        cmocka_unit_test(test_imminent_leak_before_contention),
        cmocka_unit_test(test_earliest_failure_wins),
        cmocka_unit_test(test_oom_absorbs_the_leak_and_the_kill),
        cmocka_unit_test(test_log_and_metrics_agree),
        cmocka_unit_test(test_external_kill),
        cmocka_unit_test(test_fatal_failure_beats_earlier_slowness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
