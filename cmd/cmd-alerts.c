/* cmd/cmd-alerts.c — `moni alerts`: check the alert rules, export them as a
 * Prometheus rules file.
 *
 * `moni alerts _exporter-demo` (not in the usage) serves a synthetic frame through the
 * real exporter on a real loop and counts late ticks: the shell tests use it to
 * check the exposition format, a live Prometheus scrape and hostile clients without
 * needing a whole session. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/core.h"

static struct alerts *load_rules(const char *path)
{
    char err[1024];
    struct alerts *al = alerts_load(path, err, sizeof err);
    if (!al)
        moni_err("%s", err);
    return al;
}

static int alerts_export(struct cmd_args *a)
{
    const char *rules = cmd_arg(a, "rules"), *outp = cmd_arg(a, "out");
    const char *scrape = cmd_arg(a, "scrape-interval");
    int64_t scrape_ns = 15 * MONI_NS_PER_SEC;
    char err[256];
    if (scrape && (moni_parse_duration(scrape, &scrape_ns, err, sizeof err) < 0 ||
                   scrape_ns < MONI_NS_PER_SEC || scrape_ns % MONI_NS_PER_SEC))
        return cmd_usage_error(a, "--scrape-interval %s: want whole seconds, at least 1s", scrape);
    struct alerts *al = load_rules(rules);
    if (!al)
        return MONI_EXIT_USAGE;
    FILE *out = stdout;
    if (outp && !(out = fopen(outp, "w"))) {
        moni_err("%s: %s", outp, strerror(errno));
        alerts_free(al);
        return MONI_EXIT_FAIL;
    }
    int rc = alerts_export_prometheus(al, out);
    if (rc == 0)
        rc = alerts_export_cluster(out, scrape_ns);
    if (out != stdout && fclose(out) != 0)
        rc = -1;
    else if (out == stdout && fflush(out) != 0)
        rc = -1;
    alerts_free(al);
    if (rc < 0) {
        moni_err("alerts export: cannot write the rules");
        return MONI_EXIT_FAIL;
    }
    return MONI_EXIT_OK;
}

static int alerts_check(struct cmd_args *a)
{
    const char *rules = cmd_arg(a, "rules");
    struct alerts *al = load_rules(rules);
    if (!al)
        return MONI_EXIT_USAGE;
    printf("alert rules OK\n");
    alerts_free(al);
    return MONI_EXIT_OK;
}

/* ---- the exporter demo ------------------------------------------------------------ */
struct demo {
    struct frame f;
    struct exporter *ex;
    struct alerts *al;
    int64_t interval_ns, end_ns, late_ns;
    uint64_t ticks, late, missed;
    int64_t max_lag_ns;
};

static const struct {
    const char *name, *help;
    enum metric_kind kind;
} demo_cols[] = {
    {"cpu_pct", "CPU busy, all cores", METRIC_GAUGE},
    {"cpu0_pct", "CPU busy, one core", METRIC_GAUGE},
    {"cpu1_pct", "CPU busy, one core", METRIC_GAUGE},
    {"load1", "Load average over 1 minute", METRIC_GAUGE},
    {"mem_used_bytes", "Memory used", METRIC_GAUGE},
    {"mem_total_bytes", "Memory total", METRIC_GAUGE},
    {"disk_read_Bps", "Disk reads, all devices", METRIC_GAUGE},
    {"disk_write_Bps", "Disk writes, all devices", METRIC_GAUGE},
    {"disk_sda_read_Bps", "Disk reads", METRIC_GAUGE},
    {"fs_out_used_pct", "Filesystem of the run directory, used", METRIC_GAUGE},
    {"net_rx_Bps", "Network received, all interfaces", METRIC_GAUGE},
    {"net_eth0_rx_Bps", "Network received", METRIC_GAUGE},
    {"cpu_iowait_pct", "CPU iowait, all cores", METRIC_GAUGE},
    {"net_tx_Bps", "Network sent, all interfaces", METRIC_GAUGE},
    {"psi_cpu_some_avg10", "PSI cpu some avg10 (%)", METRIC_GAUGE},
    {"psi_memory_some_avg10", "PSI memory some avg10 (%)", METRIC_GAUGE},
    {"psi_io_some_avg10", "PSI io some avg10 (%)", METRIC_GAUGE},
    {"psi_io_some_total_us", "PSI io some total (us)", METRIC_COUNTER},
    {"proc_state_R", "Workload processes running", METRIC_GAUGE},
    {"gpu0_util_pct", "GPU utilisation", METRIC_GAUGE},
    {"gpu0_mem_used_bytes", "GPU memory used", METRIC_GAUGE},
    {"gpu0_mem_total_bytes", "GPU memory total", METRIC_GAUGE},
    {"gpu0_temp_c", "GPU temperature", METRIC_GAUGE},
    {"gpu0_power_w", "GPU power", METRIC_GAUGE},
    {"proc_cpu_pct", "Workload CPU", METRIC_GAUGE},
    {"proc_rss_bytes", "Workload resident memory", METRIC_GAUGE},
    {"proc_alive", "Workload alive (1/0)", METRIC_GAUGE},
    {"proc_heartbeat_age_s", "Seconds since the last log line", METRIC_GAUGE},
    {"proc_read_bytes", "Workload bytes read", METRIC_COUNTER},
    {"gpu1_util_pct", "GPU utilisation (never readable: stays missing)", METRIC_GAUGE},
};

static void demo_tick(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns, uint64_t missed,
                      void *arg)
{
    struct demo *d = arg;
    int64_t lag = now_ns - deadline_ns;
    d->ticks++;
    d->missed += missed;
    if (lag > d->max_lag_ns)
        d->max_lag_ns = lag;
    if (lag > d->late_ns || missed)
        d->late++;
    double k = (double)d->ticks;
    frame_clear(&d->f);
    d->f.t = moni_now();
    d->f.deadline_ns = deadline_ns;
    d->f.seq = d->ticks;
    for (size_t i = 0; i + 1 < MONI_ARRAY_LEN(demo_cols); i++) /* last one stays missing */
        frame_set(&d->f, (int)i, 0);
    frame_set(&d->f, frame_find(&d->f, "cpu_pct"), 40 + 10 * sin(k / 10));
    frame_set(&d->f, frame_find(&d->f, "cpu0_pct"), 50);
    frame_set(&d->f, frame_find(&d->f, "cpu1_pct"), 30);
    frame_set(&d->f, frame_find(&d->f, "load1"), 1.25);
    frame_set(&d->f, frame_find(&d->f, "mem_used_bytes"), 4.0 * 1024 * 1024 * 1024);
    frame_set(&d->f, frame_find(&d->f, "mem_total_bytes"), 24.0 * 1024 * 1024 * 1024);
    frame_set(&d->f, frame_find(&d->f, "disk_read_Bps"), 1048576);
    frame_set(&d->f, frame_find(&d->f, "disk_sda_read_Bps"), 1048576);
    frame_set(&d->f, frame_find(&d->f, "fs_out_used_pct"), 42.5);
    frame_set(&d->f, frame_find(&d->f, "gpu0_util_pct"), 87);
    frame_set(&d->f, frame_find(&d->f, "gpu0_mem_used_bytes"), 78.0 * 1024 * 1024 * 1024);
    frame_set(&d->f, frame_find(&d->f, "gpu0_mem_total_bytes"), 80.0 * 1024 * 1024 * 1024);
    frame_set(&d->f, frame_find(&d->f, "gpu0_temp_c"), 85);
    frame_set(&d->f, frame_find(&d->f, "gpu0_power_w"), 301.5);
    frame_set(&d->f, frame_find(&d->f, "proc_rss_bytes"), 512.0 * 1024 * 1024);
    frame_set(&d->f, frame_find(&d->f, "proc_alive"), 1);
    frame_set(&d->f, frame_find(&d->f, "proc_heartbeat_age_s"), 0.5);
    frame_set(&d->f, frame_find(&d->f, "proc_read_bytes"), 4096 * k);

    struct moni_train_metric train[] = {
        {"loss", d->ticks >= 20 ? NAN : 2.0 / (1 + k / 100), now_ns}, /* NaN alert after 20 ticks */
        {"learning_rate", 5e-5, now_ns},
        {"throughput", 1234.5, now_ns},
        {"step", k, now_ns},
    };
    struct moni_event_count events[] = {{"CUDA_OutOfMemory", 1}, {"NaN_Loss", d->ticks / 50}};
    struct moni_fault_state faults[] = {
        {"cpu", "f1", true, true, 95, 93.5},
        {"kill", "f2", false, true, NAN, NAN},
        {"mem", "f3", false, false, 1073741824, 0},
    };
    alerts_eval(d->al, &d->f, train, MONI_ARRAY_LEN(train), d->f.t);
    struct exporter_extra x = {.train = train, .ntrain = MONI_ARRAY_LEN(train), .events = events,
                               .nevents = MONI_ARRAY_LEN(events), .faults = faults,
                               .nfaults = MONI_ARRAY_LEN(faults)};
    x.nalerts = alerts_firing(d->al, &x.alerts);
    exporter_publish(d->ex, &d->f, &x);
    if (d->end_ns && now_ns >= d->end_ns)
        moni_loop_stop(loop);
}

static void demo_signal(struct moni_loop *loop, int signo, void *arg)
{
    (void)signo;
    (void)arg;
    moni_loop_stop(loop);
}

static int alerts_exporter_demo(struct cmd_args *a)
{
    const char *listen = cmd_arg(a, "metrics-listen"), *interval = cmd_arg(a, "interval");
    const char *duration = cmd_arg(a, "duration"), *rules = cmd_arg(a, "rules");
    if (!listen)
        listen = "0";
    if (!interval)
        interval = "100ms";
    struct demo d = {0};
    char err[1024];
    int64_t dur = 0;
    if (moni_parse_duration(interval, &d.interval_ns, err, sizeof err) < 0 ||
        d.interval_ns < 10 * MONI_NS_PER_MS ||
        (duration && moni_parse_duration(duration, &dur, err, sizeof err) < 0)) {
        moni_err("bad --interval or --duration");
        return MONI_EXIT_USAGE;
    }
    d.late_ns = d.interval_ns / 2 < 50 * MONI_NS_PER_MS ? d.interval_ns / 2 : 50 * MONI_NS_PER_MS;
    d.al = load_rules(rules);
    if (!d.al)
        return MONI_EXIT_USAGE;
    frame_init(&d.f);
    for (size_t i = 0; i < MONI_ARRAY_LEN(demo_cols); i++)
        frame_add(&d.f, demo_cols[i].name, demo_cols[i].help, demo_cols[i].kind);
    struct moni_loop *loop = moni_loop_new();
    signal(SIGPIPE, SIG_IGN);
    d.ex = loop ? exporter_start(loop, listen, err, sizeof err) : NULL;
    if (!d.ex) {
        moni_err("%s", loop ? err : "cannot create the event loop");
        moni_loop_free(loop);
        frame_free(&d.f);
        alerts_free(d.al);
        return MONI_EXIT_USAGE;
    }
    static const int sigs[] = {SIGINT, SIGTERM};
    moni_loop_on_signals(loop, sigs, MONI_ARRAY_LEN(sigs), demo_signal, NULL);
    if (dur)
        d.end_ns = moni_mono_ns() + dur;
    moni_loop_add_ticker(loop, d.interval_ns, 0, demo_tick, &d);
    printf("listening on 127.0.0.1:%d\n", exporter_port(d.ex));
    fflush(stdout);
    int rc = moni_loop_run(loop);
    printf("ticks %llu late %llu missed %llu max_lag_ms %.3f\n", (unsigned long long)d.ticks,
           (unsigned long long)d.late, (unsigned long long)d.missed, (double)d.max_lag_ns / 1e6);
    exporter_stop(d.ex);
    moni_loop_free(loop);
    frame_free(&d.f);
    alerts_free(d.al);
    return rc < 0 ? MONI_EXIT_FAIL : MONI_EXIT_OK;
}

static const struct cmd_opt export_opts[] = {
    {"rules", 0, "FILE", 0, "alert rules (default: the user's file, else the shipped one)"},
    {"out", 0, "FILE", 0, "write the Prometheus rules here (default: standard output)"},
    {"scrape-interval", 0, "D", 0, "Prometheus' scrape interval, for the cross-node rules (default 15s)"},
    {0},
};
static const struct cmd_opt check_opts[] = {
    {"rules", 0, "FILE", 0, "alert rules (default: the user's file, else the shipped one)"},
    {0},
};
static const struct cmd_opt demo_opts[] = {
    {"metrics-listen", 0, "[ADDR:]PORT", 0, "where to serve /metrics (default 0: any free port)"},
    {"interval", 0, "D", 0, "tick (default 100ms)"},
    {"duration", 0, "D", 0, "stop after this long (default: at SIGINT/SIGTERM)"},
    {"rules", 0, "FILE", 0, "alert rules"},
    {0},
};

static const struct cmd_entry alerts_export_entry = {
    .name = "export",
    .usage = "alerts export [--rules FILE] [--out FILE] [--scrape-interval D]",
    .summary = "write the alert rules as a Prometheus rules file",
    .args = {.opts = export_opts},
    .exec = alerts_export,
};
static const struct cmd_entry alerts_check_entry = {
    .name = "check",
    .usage = "alerts check [--rules FILE]",
    .summary = "load the alert rules and report the first error",
    .args = {.opts = check_opts},
    .exec = alerts_check,
};
static const struct cmd_entry alerts_demo_entry = {
    .name = "_exporter-demo",
    .usage = "alerts _exporter-demo [--metrics-listen [ADDR:]PORT] [--interval D] [--duration D]",
    .summary = "serve a synthetic frame through the exporter (for the tests)",
    .args = {.opts = demo_opts},
    .hidden = true,
    .exec = alerts_exporter_demo,
};

static const struct cmd_entry *const alerts_subs[] = {&alerts_export_entry, &alerts_check_entry,
                                                      &alerts_demo_entry, NULL};

const struct cmd_entry cmd_alerts_entry = {
    .name = "alerts",
    .usage = "alerts export|check [--rules FILE] [--out FILE]",
    .summary = "check the alert rules; export them for Prometheus",
    .subs = alerts_subs,
};
