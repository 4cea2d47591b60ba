/* Unit tests for the pipeline view rebuilt from a recorded run (pipeline_replay_*):
 * logs/ *.log lines placed at their in-line time (wall - offset), a line without a
 * stamp at the time of the line before it, the controller's stage and the workers'
 * pids, and warnings and errors passed in from events.jsonl records for the
 * pipeline's files only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

#define S(x) ((int64_t)(x) * 1000000000LL)
/* 2026-11-26T10:00:00Z as UTC ns, and a monotonic clock 1000 s after boot then */
#define WALL0 1795687200LL
#define OFFSET (S(WALL0) - S(1000))

static char dir[256];

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/moni-replay-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    char p[512];
    snprintf(p, sizeof p, "%s/logs", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    put("logs/controller.log",
        "2026-11-26 10:00:01.000 INFO [controller] worker train_worker_0 pid=4242 port=1\n"
        "2026-11-26 10:00:02.000 INFO [controller] step 1 stage=rollout\n"
        "2026-11-26 10:00:05.000 INFO [controller] step 1 stage=train\n");
    put("logs/train_worker_0.log",
        "2026-11-26 10:00:03.000 INFO [train_worker_0] step 1\n"
        "2026-11-26 10:00:04.000 ERROR [train_worker_0] Traceback (most recent call last):\n"
        "  File \"x.py\", line 1, in <module>\n");
    put("logs/notes.txt", "not a log\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[512];
    const char *files[] = {"logs/controller.log", "logs/train_worker_0.log", "logs/notes.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/logs", dir);
    rmdir(p);
    rmdir(dir);
    return 0;
}

static const struct runner_worker *worker(struct pipeline_replay *p, const char *name)
{
    size_t n;
    const struct runner_worker *w = pipeline_replay_workers(p, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(w[i].name, name))
            return &w[i];
    return NULL;
}

static void test_replay_in_time_order(void **state)
{
    (void)state;
    struct pipeline_replay *p = pipeline_replay_open(dir, OFFSET);
    assert_non_null(p);
    /* events.jsonl records as the replay reads them (mono_ns = wall - offset:
     * 10:00:04 -> 1004 s): one of a worker, one of workload.log, one info */
    pipeline_replay_event(p, S(1004), "train_worker_0.log", "py_traceback", "error",
                          "RuntimeError: boom");
    pipeline_replay_event(p, S(1004) + S(1) / 2, "workload.log", "cuda_oom", "critical", "OOM");
    pipeline_replay_event(p, S(1004) + S(6) / 10, "controller.log", "rl_stage", "info", "step");
    pipeline_replay_event(p, S(1004), "controller.log", NULL, NULL, NULL);
    size_t n;
    pipeline_replay_workers(p, &n);
    assert_int_equal(n, 2); /* controller, train_worker_0; not notes.txt, not workload */
    assert_null(worker(p, "workload"));

    pipeline_replay_advance(p, S(1000) + S(1) / 2); /* 10:00:00.5: nothing yet */
    assert_int_equal(pipeline_replay_stage(p)->step, -1);
    assert_int_equal(worker(p, "controller")->lines, 0);

    pipeline_replay_advance(p, S(1002)); /* the pid line and the first stage */
    assert_int_equal(worker(p, "train_worker_0")->pid, 4242);
    assert_int_equal(pipeline_replay_stage(p)->step, 1);
    assert_string_equal(pipeline_replay_stage(p)->stage, "rollout");
    assert_true(pipeline_replay_stage(p)->since_mono == S(1002));
    assert_int_equal(worker(p, "controller")->lines, 2);
    assert_int_equal(worker(p, "train_worker_0")->errors, 0);

    /* 10:00:04: the traceback and its unstamped body, and the error event */
    pipeline_replay_advance(p, S(1004));
    const struct runner_worker *w = worker(p, "train_worker_0");
    assert_int_equal(w->lines, 3);
    assert_true(w->last_line_mono == S(1004));
    assert_int_equal(w->errors, 1);
    assert_string_equal(w->last_rule, "py_traceback");
    assert_string_equal(w->last_severity, "error");
    assert_string_equal(w->last_text, "RuntimeError: boom");

    pipeline_replay_advance(p, S(1010));
    assert_string_equal(pipeline_replay_stage(p)->stage, "train");
    assert_int_equal(worker(p, "controller")->errors, 0); /* the info event is no error */
    assert_int_equal(worker(p, "controller")->warnings, 0);
    pipeline_replay_advance(p, S(1010)); /* again: nothing applied twice */
    assert_int_equal(worker(p, "controller")->lines, 3);
    pipeline_replay_free(p);
}

static void test_no_logs_dir(void **state)
{
    (void)state;
    char other[300];
    snprintf(other, sizeof other, "%s/logs", dir); /* a run dir without logs/ in it */
    assert_null(pipeline_replay_open(other, 0));
    pipeline_replay_advance(NULL, 0);
    pipeline_replay_event(NULL, 0, "a.log", "r", "error", "x");
    pipeline_replay_free(NULL);
}

int main(void)
{
    setenv("TZ", "UTC", 1); /* the logs' stamps are naive: local time, made UTC here */
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_in_time_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_logs_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
