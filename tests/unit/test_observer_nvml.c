/* tests/unit/test_observer_nvml.c — the GPU source through the real dlopen path,
 * with the fake NVML (build/tests/libfake_nvml.so, next to this binary): scripted
 * values reach the frame, a failing call leaves its value missing (not 0), and a
 * library that cannot be loaded gives empty gpu0 columns and a reason.  Also runs
 * a whole in-memory session (no run directory) with a workload and its hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/obs-int.h"

static char fake_lib[4096];

static void on_done(struct session *s, void *arg)
{
    (void)s;
    moni_loop_stop(arg);
}

struct seen {
    int rows, lines, exits;
    char first_line[64];
    double max_rss; /* proc_rss_bytes over the rows: the last row may be taken while
                     * the workload is being stopped (exiting: no memory left) */
};

static void count_row(struct session *s, struct frame *f, void *arg)
{
    (void)s;
    struct seen *c = arg;
    c->rows++;
    double v;
    if (frame_get(f, frame_find(f, "proc_rss_bytes"), &v) && v > c->max_rss)
        c->max_rss = v;
}

static void count_line(struct session *s, const char *line, size_t len, uint64_t lineno,
                       int stream, const struct moni_stamp *t, void *arg)
{
    (void)s;
    (void)t;
    struct seen *c = arg;
    if (!c->lines++) {
        snprintf(c->first_line, sizeof c->first_line, "%.*s", (int)len, line);
        assert_int_equal(lineno, 1);
        assert_int_equal(stream, 1);
    }
}

static void count_exit(struct session *s, void *arg)
{
    (void)s;
    ((struct seen *)arg)->exits++;
}

/* Runs a session for about 400 ms at 50 ms and returns it (not yet freed). */
static struct session *run(struct moni_loop *loop, char *const *argv, struct seen *seen)
{
    struct session_opts o = {.interval_ns = 50 * MONI_NS_PER_MS,
                             .duration_ns = 400 * MONI_NS_PER_MS, .argv = argv, .quiet = true};
    char err[256];
    bool usage;
    struct session *s = session_new(loop, &o, err, sizeof err, &usage);
    assert_non_null(s);
    session_on_done(s, on_done, loop);
    if (seen) {
        session_on_sample(s, count_row, seen);
        session_on_line(s, count_line, seen);
        session_on_exit(s, count_exit, seen);
    }
    assert_int_equal(session_start(s, err, sizeof err, &usage), 0);
    assert_int_equal(moni_loop_run(loop), 0);
    return s;
}

static double get(const struct frame *f, const char *name, bool *ok)
{
    double v = -1;
    *ok = frame_get(f, frame_find(f, name), &v);
    return v;
}

static void test_fake_nvml(void **state)
{
    (void)state;
    setenv("MONI_NVML_LIB", fake_lib, 1);
    setenv("MONI_FAKE_NVML_GPUS", "2", 1);
    setenv("MONI_FAKE_NVML_FAIL", "DeviceGetPowerUsage", 1);
    setenv("MONI_FAKE_NVML_UTIL", "10,20,30", 1);
    struct moni_loop *loop = moni_loop_new();
    struct session *s = run(loop, NULL, NULL);
    const struct frame *f = session_frame(s);
    bool ok;
    double v = get(f, "gpu0_util_pct", &ok);
    assert_true(ok);
    assert_true(v == 10 || v == 20 || v == 30);
    assert_float_equal(get(f, "gpu0_temp_c", &ok), 55, 0);
    assert_true(ok);
    assert_float_equal(get(f, "gpu1_temp_c", &ok), 56, 0);
    assert_true(ok);
    assert_float_equal(get(f, "gpu0_mem_total_bytes", &ok), 16.0 * 1024 * 1024 * 1024, 0);
    assert_float_equal(get(f, "gpu0_pcie_rx_Bps", &ok), 2048 * 1024.0, 0);
    assert_true(ok);
    get(f, "gpu0_power_w", &ok); /* NOT_SUPPORTED: missing, not 0 */
    assert_false(ok);
    assert_true(frame_find(f, "gpu0_power_w") >= 0);
    assert_true(frame_find(f, "gpu2_util_pct") < 0);
    const struct session_gpu *g;
    assert_int_equal(session_gpus(s, &g), 2);
    assert_string_equal(g[1].name, "Fake GPU 1");
    assert_string_equal(session_gpu_backend(s), "nvml");
    assert_string_equal(session_gpu_driver(s), "999.99-fake");
    assert_null(session_gpu_reason(s));
    assert_int_equal(session_finish(s), 0);
    session_free(s);
    moni_loop_free(loop);
    unsetenv("MONI_FAKE_NVML_FAIL");
    unsetenv("MONI_FAKE_NVML_UTIL");
}

static void test_no_nvml(void **state)
{
    (void)state;
    setenv("MONI_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    setenv("PATH", "/nonexistent", 1); /* no nvidia-smi either */
    struct moni_loop *loop = moni_loop_new();
    struct session *s = run(loop, NULL, NULL);
    const struct frame *f = session_frame(s);
    bool ok;
    assert_true(frame_find(f, "gpu0_util_pct") >= 0);
    get(f, "gpu0_util_pct", &ok);
    assert_false(ok);
    assert_non_null(session_gpu_reason(s));
    assert_null(session_gpu_backend(s));
    const struct session_gpu *g;
    assert_int_equal(session_gpus(s, &g), 0);
    session_finish(s);
    session_free(s);
    moni_loop_free(loop);
    setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
}

static void test_workload_session(void **state)
{
    (void)state;
    setenv("MONI_NVML_LIB", fake_lib, 1);
    setenv("MONI_FAKE_NVML_GPUS", "1", 1);
    char *argv[] = {"/bin/sh", "-c", "echo started; exec sleep 5", NULL};
    struct moni_loop *loop = moni_loop_new();
    struct seen seen = {0};
    struct session *s = run(loop, argv, &seen);
    const struct frame *f = session_frame(s);
    bool ok;
    assert_float_equal(get(f, "proc_alive", &ok), 1, 0);
    assert_true(ok);
    assert_true(get(f, "proc_count", &ok) >= 1);
    assert_true(seen.max_rss > 0);
    /* the fake reports moni's children as GPU users: the workload's memory */
    assert_float_equal(get(f, "gpu0_proc_mem_bytes", &ok), 512.0 * 1024 * 1024, 0);
    assert_true(ok);
    const struct obs_proc *procs;
    assert_true(session_procs(s, &procs) >= 1);
    assert_string_equal(procs[0].comm, "sleep");
    assert_true(seen.rows >= 6);
    assert_int_equal(seen.lines, 1);
    assert_string_equal(seen.first_line, "started");
    /* duration ended it: SIGTERM, and the run counts as complete */
    assert_int_equal(session_finish(s), 0);
    assert_int_equal(seen.exits, 1);
    const struct session_workload *w = session_workload(s);
    assert_false(w->running);
    assert_int_equal(w->exit_signal, 15);
    assert_true(w->last_line.mono_ns > 0);
    session_free(s);
    moni_loop_free(loop);
}

static void test_bad_command(void **state)
{
    (void)state;
    char *argv[] = {"/nonexistent/cmd", NULL};
    struct moni_loop *loop = moni_loop_new();
    struct session_opts o = {.argv = argv};
    char err[256];
    bool usage = false;
    assert_null(session_new(loop, &o, err, sizeof err, &usage));
    assert_true(usage);
    assert_non_null(strstr(err, "cannot execute"));
    struct session_opts o2 = {.interval_ns = 5 * MONI_NS_PER_MS};
    assert_null(session_new(loop, &o2, err, sizeof err, &usage));
    assert_true(usage);
    moni_loop_free(loop);
}

int main(void)
{
    moni_clock_init();
    char dir[4096];
    if (moni_exe_dir(dir, sizeof dir) < 0)
        return 1;
    snprintf(fake_lib, sizeof fake_lib, "%s/libfake_nvml.so", dir);
    if (access(fake_lib, R_OK) != 0) {
        const char *b = getenv("MONI_BUILD");
        if (b)
            snprintf(fake_lib, sizeof fake_lib, "%s/tests/libfake_nvml.so", b);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_nvml),
        cmocka_unit_test(test_no_nvml),
        cmocka_unit_test(test_workload_session),
        cmocka_unit_test(test_bad_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
