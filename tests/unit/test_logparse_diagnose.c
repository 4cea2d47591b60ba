/* Unit tests for the root-cause diagnosis: masking by consequence errors, cause
 * relations (Host_OOM before the kill it caused), several sources merged by time,
 * and the renderings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lp-test.h"

static struct lp_rules *rules;

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    rules = lpt_builtin();
    return rules ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lp_rules_free(rules);
    return 0;
}

static struct lp_diagnosis *diag(const char *text, struct lp_recset *s)
{
    lpt_parse(rules, "c.log", text, 0, s);
    return lp_diagnose(s);
}

static void test_masked_oom(void **state)
{
    (void)state;
    struct lp_recset s;
    struct lp_diagnosis *d =
        diag("2026-11-25 21:33:17.123 ERROR [controller] TrainEngineError: train_batch failed "
             "on train_worker_5: CUDA out of memory. Tried to allocate 2.00 GiB\n"
             "2026-11-25 21:33:47.130 ERROR [controller] Error stopping job 5: Request timeout\n",
             &s);
    assert_non_null(d);
    assert_true(d->ncauses >= 2);
    assert_int_equal(d->causes[0].label, LP_LABEL_CUDA_OOM);
    assert_false(d->causes[0].consequence);
    assert_true(d->masked);
    assert_int_equal(d->causes[0].nexplains, 1);
    assert_non_null(strstr(d->causes[0].explains[0].text, "Error stopping job 5"));
    assert_int_equal(d->causes[1].label, LP_LABEL_CLEANUP_FAILURE);
    assert_true(d->causes[1].consequence);
    cJSON *j = lp_diagnosis_json(d);
    assert_string_equal(cJSON_GetObjectItem(j, "root_cause")->valuestring, "CUDA_OutOfMemory");
    assert_string_equal(cJSON_GetObjectItem(j, "component")->valuestring, "train_worker_5");
    cJSON_Delete(j);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lp_diagnosis_write_text(d, f);
    fclose(f);
    assert_non_null(strstr(buf, "root cause: CUDA_OutOfMemory"));
    assert_non_null(strstr(buf, "explains later errors:"));
    free(buf);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
}

static void test_kill_then_mismatch(void **state)
{
    (void)state;
    struct lp_recset s;
    struct lp_diagnosis *d =
        diag("2026-11-25 21:40:03.210 ERROR [controller] worker rollout_worker_2 (pid 4242) "
             "exited unexpectedly: killed by SIGKILL (9)\n"
             "2026-11-25 21:40:04.500 ERROR [controller] RuntimeError: batch size mismatch: "
             "Expected input batch_size (48) to match target batch_size (64).\n",
             &s);
    assert_int_equal(d->causes[0].label, LP_LABEL_PROCESS_KILLED);
    assert_int_equal(d->causes[0].nexplains, 1);
    assert_true(d->causes[0].explains[0].labels & LP_LABEL_BIT(LP_LABEL_BATCH_MISMATCH));
    lp_diagnosis_free(d);
    lp_recset_free(&s);
}

/* Only consequences: the earliest is named.  Host OOM outranks the kill it caused
 * even when the kill is logged first. */
static void test_ranking(void **state)
{
    (void)state;
    struct lp_recset s;
    struct lp_diagnosis *d =
        diag("2026-11-25 10:00:00.000 ERROR [rollout_worker_1] weight update failed: GET "
             "/shard/5 timed out after 30.0s\n"
             "2026-11-25 10:00:05.000 ERROR [controller] Error stopping job 1: Request timeout\n",
             &s);
    assert_int_equal(d->causes[0].label, LP_LABEL_NETWORK_TIMEOUT);
    assert_int_equal(d->causes[0].first.line_no, 1);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
    d = diag("2026-11-25 10:00:00.000 ERROR worker 3 was killed\n"
             "2026-11-25 10:00:01.000 kernel: Out of memory: Killed process 4242 (python)\n",
             &s);
    assert_int_equal(d->causes[0].label, LP_LABEL_HOST_OOM);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
    /* nothing wrong */
    d = diag("{'loss': 0.5}\nTraining completed.\n", &s);
    assert_int_equal(d->ncauses, 0);
    assert_false(d->has_last_error);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
}

/* Records of several sources are merged by their in-line time. */
static void test_merge_sources(void **state)
{
    (void)state;
    struct lp_recset s;
    lp_recset_init(&s);
    struct lp_parser *p = lp_parser_new(rules, lp_recset_collect, &s);
    const char *a = "2026-11-25 10:00:30.000 ERROR [controller] Error stopping job 2: Request timeout\n";
    const char *b = "2026-11-25 10:00:00.000 ERROR [train_worker_2] No space left on device\n";
    lp_parser_feed(p, "controller.log", a, strlen(a), lpt_stamp());
    lp_parser_feed(p, "train_worker_2.log", b, strlen(b), lpt_stamp());
    lp_parser_free(p);
    lp_recset_sort(&s);
    assert_string_equal(s.v[0].source, "train_worker_2.log");
    struct lp_diagnosis *d = lp_diagnose(&s);
    assert_int_equal(d->causes[0].label, LP_LABEL_DISK_FULL);
    assert_string_equal(d->causes[0].first.source, "train_worker_2.log");
    assert_true(d->masked);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
}

/* Causes behind wrappers and quiet failures. */
static void test_wrappers_and_quiet(void **state)
{
    (void)state;
    struct lp_recset s;
    struct lp_diagnosis *d =
        diag("node7:2211:2290 [3] include/alloc.h:124 NCCL WARN Cuda failure 'out of memory'\n"
             "[rank0]:[E1012 04:41:10.102000 ProcessGroupNCCL.cpp:616] [Rank 0] Watchdog caught "
             "collective operation timeout: WorkNCCL(SeqNum=912, OpType=ALLREDUCE)\n",
             &s);
    assert_int_equal(d->causes[0].label, LP_LABEL_CUDA_OOM);
    assert_true(d->masked);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
    /* NaN only in a metrics line, and a run that says it succeeded */
    d = diag("epoch 1 | loss 2.1033\nepoch 2 | loss nan\nDone. Model saved.\n", &s);
    assert_int_equal(d->ncauses, 1);
    assert_int_equal(d->causes[0].label, LP_LABEL_NAN_LOSS);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
    /* fp16 overflow bursts and other warnings alone: no root cause */
    d = diag("Gradient overflow.  Skipping step, loss scaler 0 reducing loss scale to 16384.0\n"
             "WARNING: tokenizer has no pad token\n"
             "{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 0.0, 'epoch': 0.0}\n"
             "{'loss': 3.1, 'grad_norm': 2.5, 'learning_rate': 1e-05, 'epoch': 0.1}\n",
             &s);
    assert_int_equal(d->ncauses, 0);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
    /* progress that stops: the hang is named with its last progress line */
    d = diag("2026-05-20 01:00:00 INFO step 1000 loss 1.71\n"
             "2026-05-20 01:00:10 INFO step 1010 loss 1.70\n"
             "2026-05-20 01:00:20 INFO step 1020 loss 1.70\n"
             "2026-05-20 01:00:30 INFO step 1030 loss 1.69\n"
             "2026-05-20 03:00:00 slurmstepd: error: *** JOB 12 ON n1 CANCELLED AT "
             "2026-05-20T03:00:00 DUE TO TIME LIMIT ***\n",
             &s);
    assert_int_equal(d->causes[0].label, LP_LABEL_PROCESS_HANG);
    assert_int_equal(d->causes[0].first.line_no, 4);
    assert_non_null(strstr(d->causes[0].first.text, "no progress for 7170 s"));
    lp_diagnosis_free(d);
    lp_recset_free(&s);
    /* ... but not when the log goes on with progress after a pause */
    d = diag("2026-05-20 01:00:00 INFO step 1000 loss 1.71\n"
             "2026-05-20 01:00:10 INFO step 1010 loss 1.70\n"
             "2026-05-20 01:00:20 INFO step 1020 loss 1.70\n"
             "2026-05-20 01:30:20 INFO eval_loss=1.80\n",
             &s);
    assert_int_equal(d->ncauses, 0);
    lp_diagnosis_free(d);
    lp_recset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masked_oom),
        cmocka_unit_test(test_kill_then_mismatch),
        cmocka_unit_test(test_ranking),
        cmocka_unit_test(test_merge_sources),
        cmocka_unit_test(test_wrappers_and_quiet),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
