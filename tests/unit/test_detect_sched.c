/* Unit tests of the straggler and clock_skew detectors (core/detect-sched.c) on
 * synthetic series: each fires where it must, and stays silent on noise and on the
 * look-alikes another detector owns (CPU contention, I/O pressure, a job that sleeps,
 * the lag of a log line on its way to moni). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "tests/unit/fixture-detect.h"

enum { C_CPU, C_CPU0, C_CPU1, C_IOWAIT, C_PSI_CPU, C_PSI_IO, C_PSI_MEM, C_PROC_CPU, C_ALIVE,
       C_T, C_D, C_R, C_N };
static const char *const names[C_N] = {
    "cpu_pct", "cpu0_pct", "cpu1_pct", "cpu_iowait_pct", "psi_cpu_some_avg10",
    "psi_io_some_avg10", "psi_memory_some_avg10", "proc_cpu_pct", "proc_alive",
    "proc_state_T", "proc_state_D", "proc_state_R"};

#define WALL0 (1700000000LL * 1000000000LL)

static struct sim *sim_new(void) { return sim_open(names, C_N, 4242); }

/* 2 CPUs; the workload at `proc`% of a core, others at `other`%, quiet I/O. */
static void row(struct sim *s, double t, double proc, double other, double r)
{
    frame_clear(&s->f);
    s->f.t.mono_ns = at(t);
    s->f.t.real_ns = at(t) + WALL0;
    proc += 4 * noise(s);
    other += 4 * noise(s);
    frame_set(&s->f, C_PROC_CPU, proc);
    frame_set(&s->f, C_CPU, fmin(100, (proc + other) / 2));
    frame_set(&s->f, C_CPU0, 50);
    frame_set(&s->f, C_CPU1, 50);
    frame_set(&s->f, C_IOWAIT, 0.5 + 0.5 * noise(s));
    frame_set(&s->f, C_PSI_CPU, 3 + 2 * noise(s));
    frame_set(&s->f, C_PSI_IO, 0.5 + 0.4 * noise(s));
    frame_set(&s->f, C_PSI_MEM, 0.2);
    frame_set(&s->f, C_ALIVE, 1);
    frame_set(&s->f, C_T, 0);
    frame_set(&s->f, C_D, 0);
    frame_set(&s->f, C_R, r);
}

/* `rate` steps per second, a step and loss line every 5 steps. */
static void progress(struct sim *s, double t, double rate)
{
    for (double k = 0; k < rate; k += 1) {
        s->step += 1;
        if (s->step >= s->next_log) {
            double tt = t + k / (rate + 1);
            detect_metric(s->d, at(tt), "step", s->step);
            detect_metric(s->d, at(tt), "loss", 0.5 + 0.01 * noise(s));
            s->next_log = s->step + 5;
        }
    }
}

static int count_of(const struct sim *s, const char *detector)
{
    int n = 0;
    for (int i = 0; i < s->ngot; i++)
        n += strcmp(s->got[i].detector, detector) == 0;
    return n;
}

/* ---- straggler ----------------------------------------------------------------------- */

/* A CPU quota from 60 s: the job gets 15% instead of 150%, is still runnable, the
 * others keep their 30%, nothing waits on I/O: a straggler, not contention. */
static void test_straggler_quota(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    for (int t = 0; t < 120; t++) {
        bool quota = t >= 60 && t < 100;
        row(s, t, quota ? 15 : 150, 30, 1);
        progress(s, t, quota ? 1 : 10);
        detect_tick(s->d, &s->f);
    }
    const struct detection *d = first_of(s, "straggler");
    assert_non_null(d);
    assert_string_equal(d->label, "Straggler");
    print_message("straggler at %.0f s: %s\n", det_t(d), d->evidence);
    assert_true(det_t(d) >= 64 && det_t(d) <= 80);
    assert_non_null(strstr(d->evidence, "runnable"));
    assert_int_equal(count_of(s, "straggler"), 1);
    assert_null(first_of(s, "cpu_contention"));
    sim_free(s);
}

/* A quota on an idle machine: the throttled job's waiting shows as CPU pressure, but
 * the CPUs it lost lie idle: a straggler, never contention. */
static void test_throttled_pressure_is_not_contention(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    for (int t = 0; t < 120; t++) {
        bool quota = t >= 60;
        row(s, t, quota ? 10 : 150, 10, 1);
        frame_set(&s->f, C_PSI_CPU, quota ? 70 + 5 * noise(s) : 2);
        progress(s, t, quota ? 1 : 10);
        detect_tick(s->d, &s->f);
    }
    assert_non_null(first_of(s, "straggler"));
    assert_null(first_of(s, "cpu_contention"));
    sim_free(s);
}

/* A quota on a saturated machine: the others soak up what the job gave up, no more. */
static void test_straggler_on_a_busy_machine(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    for (int t = 0; t < 120; t++) {
        bool quota = t >= 60;
        row(s, t, quota ? 5 : 40, quota ? 195 : 160, 1);
        frame_set(&s->f, C_PSI_CPU, 95 + 3 * noise(s));
        progress(s, t, quota ? 1 : 6);
        detect_tick(s->d, &s->f);
    }
    const struct detection *d = first_of(s, "straggler");
    assert_non_null(d);
    assert_true(det_t(d) >= 64 && det_t(d) <= 80);
    sim_free(s);
}

/* Burners arrive: the others take more than the job lost -> contention, never straggler. */
static void test_contention_is_not_straggler(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    for (int t = 0; t < 120; t++) {
        bool burn = t >= 60;
        row(s, t, burn ? 60 : 150, burn ? 140 : 30, 1);
        if (burn)
            frame_set(&s->f, C_PSI_CPU, 45 + 3 * noise(s));
        progress(s, t, burn ? 3 : 10);
        detect_tick(s->d, &s->f);
    }
    assert_null(first_of(s, "straggler"));
    assert_non_null(first_of(s, "cpu_contention"));
    sim_free(s);
}

/* Slowed with I/O pressure, or slowed while the job sleeps (waiting on its data or a
 * peer), or slowed with memory pressure: not a straggler. */
static void test_waits_are_not_straggler(void **st)
{
    (void)st;
    for (int variant = 0; variant < 4; variant++) {
        struct sim *s = sim_new();
        for (int t = 0; t < 120; t++) {
            bool slow = t >= 60;
            row(s, t, slow ? 15 : 150, 30, slow && variant == 1 ? 0 : 1);
            if (slow && variant == 0)
                frame_set(&s->f, C_PSI_IO, 40 + 5 * noise(s));
            if (slow && variant == 2)
                frame_set(&s->f, C_PSI_MEM, 35);
            if (slow && variant == 3)
                frame_set(&s->f, C_D, 1);
            progress(s, t, slow ? 1 : 10);
            detect_tick(s->d, &s->f);
        }
        if (first_of(s, "straggler"))
            print_message("variant %d: %s\n", variant, first_of(s, "straggler")->evidence);
        assert_null(first_of(s, "straggler"));
        sim_free(s);
    }
}

/* Noise, evaluation pauses (no progress, CPU as usual) and checkpoint dips (CPU falls
 * one tick) over 10 minutes: silent. */
static void test_straggler_silent_on_noise(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    for (int t = 0; t < 600; t++) {
        bool eval = t % 100 >= 94, ckpt = t % 150 == 149;
        row(s, t, ckpt ? 20 : 150 + 20 * noise(s), 30 + 20 * noise(s), noise(s) > -0.6);
        progress(s, t, eval ? 0 : 10 + 2 * noise(s));
        detect_tick(s->d, &s->f);
    }
    assert_null(first_of(s, "straggler"));
    assert_null(first_of(s, "clock_skew"));
    sim_free(s);
}

/* ---- clock_skew ---------------------------------------------------------------------- */

/* Two stamped lines a second; each arrives `lag` after the time written in it (0 to
 * 1.2 s, a follower's tick), plus the clock's error `skew`. */
static void clock_run(struct sim *s, int secs, double (*skew)(double t))
{
    for (int t = 0; t < secs; t++) {
        row(s, t, 150, 30, 1);
        for (int k = 0; k < 2; k++) {
            double tt = t + 0.5 * k, lag = 0.6 + 0.6 * noise(s);
            int64_t recv_mono = at(tt + lag), recv_real = recv_mono + WALL0;
            int64_t line = at(tt) + WALL0 + (int64_t)(skew(tt) * 1e9);
            detect_log_time(s->d, recv_mono, recv_real, line);
        }
        detect_tick(s->d, &s->f);
    }
}

static double skew_none(double t) { (void)t; return 0; }
static double skew_jump(double t) { return t >= 60 && t < 90 ? 3600 : 0; }
static double skew_back(double t) { return t >= 60 ? -7200 : 0; }
static double skew_drift(double t) { return t >= 60 ? 0.5 * (t - 60) : 0; }
static double skew_from_start(double t) { (void)t; return -86400; }
static double skew_small(double t) { return t >= 60 ? 2 : 0; }

static void test_clock_jump_forward_and_back(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    clock_run(s, 150, skew_jump);
    const struct detection *d = first_of(s, "clock_skew");
    assert_non_null(d);
    assert_string_equal(d->label, "Clock_Skew");
    print_message("jump at %.0f s: %s\n", det_t(d), d->evidence);
    assert_true(det_t(d) >= 60 && det_t(d) <= 63);
    assert_non_null(strstr(d->evidence, "ahead of"));
    assert_int_equal(count_of(s, "clock_skew"), 1); /* the jump back is its end */
    sim_free(s);

    s = sim_new();
    clock_run(s, 100, skew_back);
    d = first_of(s, "clock_skew");
    assert_non_null(d);
    assert_true(det_t(d) >= 60 && det_t(d) <= 63);
    assert_non_null(strstr(d->evidence, "backwards"));
    sim_free(s);
}

static void test_clock_drift_and_absolute(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    clock_run(s, 120, skew_drift); /* 0.5 s/s: 5 s away after 10 s */
    const struct detection *d = first_of(s, "clock_skew");
    assert_non_null(d);
    assert_true(det_t(d) >= 69 && det_t(d) <= 75);
    sim_free(s);

    s = sim_new();
    clock_run(s, 30, skew_from_start); /* a day behind from the first line */
    d = first_of(s, "clock_skew");
    assert_non_null(d);
    assert_true(det_t(d) <= 3);
    sim_free(s);
}

static void test_clock_silent_on_lag_and_small_steps(void **st)
{
    (void)st;
    struct sim *s = sim_new();
    clock_run(s, 600, skew_none);
    assert_null(first_of(s, "clock_skew"));
    sim_free(s);
    s = sim_new();
    clock_run(s, 120, skew_small); /* 2 s: under jump_s */
    assert_null(first_of(s, "clock_skew"));
    sim_free(s);
    /* a log without in-line times says nothing about the clock */
    s = sim_new();
    for (int t = 0; t < 120; t++) {
        row(s, t, 150, 30, 1);
        progress(s, t, 10);
        detect_tick(s->d, &s->f);
    }
    assert_null(first_of(s, "clock_skew"));
    sim_free(s);
}

/* Every detector's parameters fit the configuration's table (DET_MAX_PARAMS). */
static void test_params_fit(void **st)
{
    (void)st;
    for (size_t i = 0; i < ndetectors; i++) {
        size_t n = 0;
        while (detectors[i]->params[n].name)
            n++;
        if (n > DET_MAX_PARAMS)
            print_message("%s has %zu parameters\n", detectors[i]->name, n);
        assert_true(n <= DET_MAX_PARAMS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_fit),
        cmocka_unit_test(test_straggler_quota),
        cmocka_unit_test(test_straggler_on_a_busy_machine),
        cmocka_unit_test(test_throttled_pressure_is_not_contention),
        cmocka_unit_test(test_contention_is_not_straggler),
        cmocka_unit_test(test_waits_are_not_straggler),
        cmocka_unit_test(test_straggler_silent_on_noise),
        cmocka_unit_test(test_clock_jump_forward_and_back),
        cmocka_unit_test(test_clock_drift_and_absolute),
        cmocka_unit_test(test_clock_silent_on_lag_and_small_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
