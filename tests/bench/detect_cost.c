/* tests/bench/detect_cost.c — the CPU the detectors cost per sample: every detector
 * of core/detect*.c over N synthetic 1 Hz ticks of a frame as wide as a real run's
 * (~120 columns), with a loss and a step logged every tick.  Prints
 * "NS_PER_TICK TICKS".  Built by bench_detect.sh against build/libmoni.a. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/core.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 86400;
    struct det_config cfg;
    det_config_defaults(&cfg);
    struct detect *d = detect_new(&cfg, NULL, NULL);
    struct frame f;
    frame_init(&f);
    static const char *const named[] = {"cpu_pct", "cpu0_pct", "cpu1_pct", "cpu_iowait_pct",
        "psi_cpu_some_avg10", "psi_io_some_avg10", "psi_memory_some_avg10", "proc_cpu_pct",
        "proc_rss_bytes", "proc_alive", "proc_state_T", "proc_state_D", "proc_heartbeat_age_s",
        "mem_available_bytes", "mem_total_bytes", "fs_out_free_bytes", "fs_out_used_pct",
        "net_rx_errors", "net_tx_errors", "gpu0_mem_used_bytes", "gpu0_mem_total_bytes"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        frame_add(&f, named[i], "", METRIC_GAUGE);
    for (int i = 0; f.ncols < 120; i++) { /* the rest of a real run's width */
        char name[32];
        snprintf(name, sizeof name, "filler%d_pct", i);
        frame_add(&f, name, "", METRIC_GAUGE);
    }
    unsigned seed = 1;
    double t0 = cpu_now();
    for (long k = 0; k < n; k++) {
        int64_t mono = 1000000000000LL + k * 1000000000LL;
        detect_metric(d, mono - 500000000, "step", (double)k);
        detect_metric(d, mono - 500000000, "loss", 0.3 + 0.4 * exp(-k / 600.0));
        frame_clear(&f);
        f.t.mono_ns = mono;
        f.t.real_ns = mono + 1700000000000000000LL;
        for (size_t c = 0; c < f.ncols; c++) {
            seed = seed * 1103515245u + 12345u;
            frame_set(&f, (int)c, 40 + (seed >> 16) % 20);
        }
        frame_set(&f, 9, 1);   /* alive */
        frame_set(&f, 10, 0);  /* nobody stopped */
        frame_set(&f, 13, 20e9);
        frame_set(&f, 14, 24e9);
        frame_set(&f, 16, 18.3);
        detect_tick(d, &f);
    }
    double dt = cpu_now() - t0;
    printf("%.0f %ld\n", dt / n * 1e9, n);
    detect_free(d);
    frame_free(&f);
    det_config_free(&cfg);
    return 0;
}
