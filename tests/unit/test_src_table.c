/* tests/unit/test_src_table.c — the source table: one row per resource in
 * samples.csv's column order, per-source behaviour read from the descriptor
 * (enabled: --no-gpu leaves the GPU source out), and the shared /proc files read
 * once per tick however many sources ask for them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/obs-int.h"

static void test_table_rows(void **state)
{
    (void)state;
    static const char *const want[] = {"cpu",      "memory",   "disk", "network",
                                       "pressure", "workload", "gpu",  "fs"};
    size_t n = 0;
    for (; obs_sources[n]; n++) {
        const struct source_ops *o = obs_sources[n];
        assert_non_null(o->name);
        assert_non_null(o->init);
        assert_non_null(o->sample);
        assert_true(n < MONI_ARRAY_LEN(want));
        assert_string_equal(o->name, want[n]);
    }
    assert_int_equal(n, MONI_ARRAY_LEN(want));
    /* absence is normal for these; cpu and memory are required */
    assert_true(obs_source_gpu.optional && obs_source_psi.optional &&
                obs_source_workload.optional);
    assert_false(obs_source_cpu.optional || obs_source_mem.optional);
    struct session_opts o = {.no_gpu = true};
    assert_non_null(obs_source_gpu.enabled);
    assert_false(obs_source_gpu.enabled(&o));
    o.no_gpu = false;
    assert_true(obs_source_gpu.enabled(&o));
}

static void on_done(struct session *s, void *arg)
{
    (void)s;
    moni_loop_stop(arg);
}

/* An observe-only session of ~200 ms; returns it (not yet freed). */
static struct session *run(struct moni_loop *loop, bool no_gpu)
{
    struct session_opts o = {.interval_ns = 50 * MONI_NS_PER_MS,
                             .duration_ns = 200 * MONI_NS_PER_MS, .quiet = true,
                             .no_gpu = no_gpu};
    char err[256];
    bool usage;
    struct session *s = session_new(loop, &o, err, sizeof err, &usage);
    assert_non_null(s);
    session_on_done(s, on_done, loop);
    assert_int_equal(session_start(s, err, sizeof err, &usage), 0);
    assert_int_equal(moni_loop_run(loop), 0);
    return s;
}

static void test_columns_in_table_order(void **state)
{
    (void)state;
    setenv("MONI_NVML_LIB", "/nonexistent/libnvidia-ml.so", 1);
    setenv("PATH", "/nonexistent", 1); /* no nvidia-smi either */
    for (int no_gpu = 0; no_gpu <= 1; no_gpu++) {
        struct moni_loop *loop = moni_loop_new();
        struct session *s = run(loop, no_gpu);
        const struct frame *f = session_frame(s);
        static const char *const order[] = {"cpu_pct", "load1", "mem_total_bytes",
                                            "disk_read_Bps", "net_rx_Bps", "fs_out_used_pct",
                                            "moni_cpu_pct", "tick_lag_ms"};
        int prev = -1;
        for (size_t i = 0; i < MONI_ARRAY_LEN(order); i++) {
            int c = frame_find(f, order[i]);
            bool optional = !strncmp(order[i], "disk", 4) || !strncmp(order[i], "net", 3);
            if (c < 0 && optional)
                continue; /* a container may hide /proc/diskstats or /proc/net/dev */
            if (c < 0)
                fail_msg("no column %s", order[i]);
            assert_true(c > prev);
            prev = c;
        }
        double v;
        assert_true(frame_get(f, frame_find(f, "cpu_pct"), &v));
        assert_true(frame_get(f, frame_find(f, "mem_total_bytes"), &v) && v > 0);
        /* the GPU source keeps one GPU's empty columns unless it is left out */
        if (no_gpu)
            assert_int_equal(frame_find(f, "gpu0_util_pct"), -1);
        else
            assert_true(frame_find(f, "gpu0_util_pct") > frame_find(f, "mem_total_bytes"));
        /* observe only: the workload source is optional and adds nothing */
        assert_int_equal(frame_find(f, "proc_cpu_pct"), -1);
        session_free(s);
        moni_loop_free(loop);
    }
}

/* The text of a file is read once per tick: asked again in the same tick it is the
 * same text even though the kernel's has moved on; after a tick it is fresh. */
static void test_procfiles_once_per_tick(void **state)
{
    (void)state;
    struct obs_procfiles *pf = obs_procfiles_new();
    assert_non_null(pf);
    obs_procfiles_tick(pf);
    const char *t1 = obs_procfiles_text(pf, OBS_PF_STAT);
    assert_non_null(t1);
    char *copy = strdup(t1);
    assert_non_null(copy);
    struct timespec ts = {0, 60 * 1000000L}; /* several jiffies */
    nanosleep(&ts, NULL);
    const char *t2 = obs_procfiles_text(pf, OBS_PF_STAT);
    assert_ptr_equal(t1, t2);
    assert_string_equal(t2, copy);
    obs_procfiles_tick(pf);
    const char *t3 = obs_procfiles_text(pf, OBS_PF_STAT);
    assert_non_null(t3);
    assert_true(strcmp(t3, copy) != 0); /* the cpu times moved */
    assert_null(obs_procfiles_text(pf, OBS_NPROCFILES));
    free(copy);
    obs_procfiles_free(pf);
}

int main(void)
{
    moni_clock_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_rows),
        cmocka_unit_test(test_columns_in_table_order),
        cmocka_unit_test(test_procfiles_once_per_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
