/* Unit test for the experiment queue's caller-driven side (core/queue.c), the way
 * the console uses it: priority order, claim the current item, report its end,
 * skip one, progress counts, runs.csv rows and the queue's exit status; and the
 * headless side on a real loop: a running item skipped is stopped and recorded as
 * skipped, and the queue goes on (tests/sh/test_run_plan.sh covers the rest). */
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

static const char *plan_text =
    "{\"name\": \"qt\", \"defaults\": {\"duration\": \"2s\", \"cooldown\": \"0s\"},\n"
    " \"queue\": {\"retries\": 0},\n"
    " \"experiments\": [\n"
    "   {\"name\": \"low\", \"workload\": [\"true\"]},\n"
    "   {\"name\": \"high\", \"priority\": 5, \"workload\": [\"true\"]},\n"
    "   {\"name\": \"last\", \"workload\": [\"true\"]}]}\n";

/* Writes text as DIR/plan.json in a fresh directory and loads it. */
static struct plan *load_text(const char *text, char *dir, size_t len)
{
    char path[PATH_MAX + 16], err[1024];
    snprintf(dir, len, "%s/moni-queue-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/plan.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    struct plan *p = plan_load(path, false, err, sizeof err);
    if (!p)
        fprintf(stderr, "%s\n", err);
    assert_non_null(p);
    return p;
}

static void test_claim_report_skip(void **state)
{
    (void)state;
    char dir[PATH_MAX], err[1024];
    struct plan *p = load_text(plan_text, dir, sizeof dir);
    char out[PATH_MAX + 8];
    snprintf(out, sizeof out, "%s/out", dir);
    struct moni_loop *loop = moni_loop_new();
    struct queue_opts qo = {.out = out, .quiet = true};
    struct queue *q = queue_new(loop, &p, 1, &qo, err, sizeof err);
    assert_non_null(q);
    assert_int_equal(queue_len(q), 3);
    assert_string_equal(queue_dir(q), out);

    /* the higher priority comes first */
    long k = queue_current(q);
    assert_true(k >= 0);
    struct queue_item_info in;
    assert_true(queue_item(q, (size_t)k, &in));
    assert_string_equal(in.name, "high");
    assert_int_equal(in.state, QUEUE_ITEM_PENDING);
    assert_int_equal(queue_claim(q, (size_t)k), 0);
    assert_int_equal(queue_claim(q, (size_t)k), -1); /* not twice */
    struct queue_progress pr;
    queue_progress(q, &pr);
    assert_int_equal(pr.total, 3);
    assert_int_equal(pr.running, 1);
    assert_int_equal(pr.finished, 0);
    assert_true(pr.eta_s > 0);
    queue_report(q, (size_t)k, 0, 0, false);
    assert_true(queue_item(q, (size_t)k, &in));
    assert_int_equal(in.state, QUEUE_ITEM_DONE);
    assert_string_equal(in.outcome, "completed");

    /* the next one is skipped, the last fails (no faults of its own: plain failure) */
    k = queue_current(q);
    assert_true(queue_item(q, (size_t)k, &in));
    assert_string_equal(in.name, "low");
    assert_int_equal(queue_skip(q, (size_t)k), 0);
    assert_int_equal(queue_skip(q, (size_t)k), -1);
    k = queue_current(q);
    assert_true(queue_item(q, (size_t)k, &in));
    assert_string_equal(in.name, "last");
    assert_int_equal(queue_claim(q, (size_t)k), 0);
    queue_report(q, (size_t)k, 3, 0, false);
    assert_int_equal(queue_current(q), -1);
    queue_progress(q, &pr);
    assert_int_equal(pr.finished, 3);
    assert_int_equal(pr.running, 0);

    assert_int_equal(queue_finish(q), MONI_EXIT_FAIL);
    char csv[PATH_MAX + 16];
    snprintf(csv, sizeof csv, "%s/runs.csv", out);
    char *text = moni_read_file(csv, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nhigh,completed,0,,high,1,0,"));
    assert_non_null(strstr(text, "\nlow,skipped,,,low,1,0,"));
    assert_non_null(strstr(text, "\nlast,failed,3,,last,1,0,"));
    free(text);
    queue_free(q);
    moni_loop_free(loop);
    plan_free(p);
}

static void test_skip_running(void **state)
{
    (void)state;
    char dir[PATH_MAX], err[1024], out[PATH_MAX + 8];
    struct plan *p = load_text(
        "{\"name\": \"qs\", \"defaults\": {\"duration\": \"20s\", \"cooldown\": \"0s\", "
        "\"interval\": \"100ms\"},\n"
        " \"queue\": {\"retries\": 0, \"gate\": {\"cpu\": \"100%\", \"mem\": \"100%\", \"disk\": \"100%\"}},\n"
        " \"experiments\": [\n"
        "   {\"name\": \"long\", \"priority\": 1, \"workload\": [\"sleep\", \"30\"]},\n"
        "   {\"name\": \"short\", \"workload\": [\"true\"]}]}\n",
        dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out", dir);
    struct moni_loop *loop = moni_loop_new();
    struct queue_opts qo = {.out = out, .quiet = true};
    struct queue *q = queue_new(loop, &p, 1, &qo, err, sizeof err);
    assert_non_null(q);
    struct queue_item_info in;
    int64_t deadline = moni_mono_ns() + 15 * MONI_NS_PER_SEC;
    bool skipped = false;
    while (queue_step(q)) {
        assert_true(moni_mono_ns() < deadline);
        assert_true(queue_item(q, 0, &in));
        if (!skipped && in.state == QUEUE_ITEM_RUNNING) {
            assert_string_equal(in.name, "long");
            assert_non_null(in.runner);
            assert_int_equal(queue_skip(q, 0), 0);
            skipped = true;
        }
        moni_loop_once(loop, queue_wait_ms(q));
    }
    assert_true(skipped);
    assert_true(queue_item(q, 0, &in));
    assert_string_equal(in.outcome, "skipped");
    assert_true(queue_item(q, 1, &in));
    assert_string_equal(in.name, "short");
    assert_string_equal(in.outcome, "completed");
    assert_int_equal(queue_finish(q), MONI_EXIT_OK);
    queue_free(q);
    moni_loop_free(loop);
    plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_report_skip),
        cmocka_unit_test(test_skip_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
