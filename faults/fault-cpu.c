/* faults/fault-cpu.c — CPU contention: N burner processes, each running L% of every
 * short slice (10 ms by default) so the load is smooth, optionally pinned to a CPU
 * list; or `mode=topup`: the burners top the whole machine's load up to L%.  The
 * delivered load is measured from outside (/proc/PID/schedstat of each burner). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

#define MAX_BURNERS 256

static const struct fault_param cpu_params[] = {
    {"mode", FP_ENUM, "", "duty", 0, 0, "duty|topup",
     "duty: each burner runs load% of the time; topup: burners top total machine load up to load%"},
    {"workers", FP_INT, "", NULL, 1, MAX_BURNERS, NULL,
     "burner processes (default 1 for duty, one per CPU for topup)"},
    {"load", FP_PERCENT, "%", "100%", 1, 100, NULL,
     "duty: per-burner duty cycle; topup: target total machine load"},
    {"cpus", FP_CPULIST, "", NULL, 0, 0, NULL, "pin burners round-robin to these CPUs (0-3,6)"},
    {"slice", FP_DURATION, "s", "10ms", 0.001, 1, NULL, "duty-cycle period"},
};

struct cpu_shared {
    volatile double duty[MAX_BURNERS]; /* percent; the controller rewrites it in topup */
};

struct cpu_state {
    int n;
    bool topup;
    pid_t pid[MAX_BURNERS];
    int pin[MAX_BURNERS];
    int64_t cpu0[MAX_BURNERS], cpu_last[MAX_BURNERS];
    struct cpu_shared *shm;
    cpu_set_t seen; /* CPUs the burners were seen on (field 39 of /proc/PID/stat) */
    int ncpu;
    int64_t t0, t_last;
    unsigned long long m_busy0, m_total0, m_busy_last, m_total_last;
    double machine_pct;
    double last_pct; /* per-burner average over the last window */
};

struct burner_arg {
    volatile double *duty;
    int cpu;
    int64_t slice_ns;
};

static int64_t cputime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * MONI_NS_PER_SEC + ts.tv_nsec;
}

/* Burn `duty`% of each slice.  Run time is counted in CPU time (not wall time), with
 * the debt carried across slices, so preemption does not lower the average. */
static void burner_body(void *argp)
{
    struct burner_arg *a = argp;
    if (a->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(a->cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
    int64_t start = moni_mono_ns(), used0 = cputime_ns();
    double owed = 0;
    for (uint64_t k = 1;; k++) {
        double duty = *a->duty;
        int64_t slice_end = start + (int64_t)k * a->slice_ns;
        owed += duty / 100.0 * (double)a->slice_ns;
        int64_t used = cputime_ns() - used0;
        if (owed - (double)used > 2.0 * (double)a->slice_ns) /* do not hoard debt */
            owed = (double)used + 2.0 * (double)a->slice_ns;
        if (duty >= 100.0) {
            while (moni_mono_ns() < slice_end)
                ;
            continue;
        }
        while ((double)(cputime_ns() - used0) < owed && moni_mono_ns() < slice_end) {
            for (volatile int spin = 0; spin < 200; spin++)
                ;
        }
        struct timespec ts = {.tv_sec = slice_end / MONI_NS_PER_SEC,
                              .tv_nsec = slice_end % MONI_NS_PER_SEC};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
}

static int read_machine(unsigned long long *busy, unsigned long long *total)
{
    struct procfs_cpu_times t;
    if (procfs_read_cpu_total(&t) < 0)
        return -1;
    *busy = t.user + t.nice + t.system + t.irq + t.softirq + t.steal;
    *total = *busy + t.idle + t.iowait;
    return 0;
}

static int parse_pins(const char *list, int *pins, int max)
{
    int n = 0;
    const char *p = list;
    while (*p && n < max) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            p = end;
        }
        for (long c = a; c <= b && n < max; c++)
            pins[n++] = (int)c;
        if (*p)
            p++;
    }
    return n;
}

static int cpu_arm(struct fault *f, char *err, size_t errlen)
{
    struct cpu_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->topup = fault_num(f, "mode") == 1;
    snprintf(f->mode, sizeof f->mode, "%s", s->topup ? "topup" : "duty");
    s->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int pins[MAX_BURNERS], npins = 0;
    if (fault_given(f, "cpus"))
        npins = parse_pins(fault_str(f, "cpus"), pins, MAX_BURNERS);
    if (fault_given(f, "workers"))
        s->n = (int)fault_num(f, "workers");
    else
        s->n = s->topup ? (npins ? npins : s->ncpu) : (npins > 1 ? npins : 1);
    for (int i = 0; i < s->n; i++)
        s->pin[i] = npins ? pins[i % npins] : -1;
    f->requested = fault_num(f, "load");
    return 0;
}

static int cpu_fire(struct fault *f, char *err, size_t errlen)
{
    struct cpu_state *s = f->priv;
    s->shm = fault_shared_alloc(sizeof *s->shm);
    if (!s->shm) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    /* topup starts from what is missing now and is corrected every 100 ms. */
    double duty = f->requested;
    read_machine(&s->m_busy0, &s->m_total0);
    s->m_busy_last = s->m_busy0;
    s->m_total_last = s->m_total0;
    for (int i = 0; i < s->n; i++) {
        s->shm->duty[i] = s->topup ? duty * s->ncpu / s->n / 2 : duty;
        if (s->shm->duty[i] > 100)
            s->shm->duty[i] = 100;
    }
    CPU_ZERO(&s->seen);
    s->t0 = s->t_last = moni_mono_ns();
    for (int i = 0; i < s->n; i++) {
        struct burner_arg a = {.duty = &s->shm->duty[i], .cpu = s->pin[i],
                               .slice_ns = fault_ns(f, "slice")};
        s->pid[i] = fault_spawn(f, burner_body, &a, -1);
        if (s->pid[i] < 0) {
            snprintf(err, errlen, "fork: %s", strerror(errno));
            return FAULT_ERR_FAIL;
        }
        s->cpu0[i] = s->cpu_last[i] = 0;
    }
    return 0;
}

static int cpu_measure(struct fault *f, int64_t now, bool final);
static int cpu_check(struct fault *f, int64_t now)
{
    return cpu_measure(f, now, false);
}

static int cpu_measure(struct fault *f, int64_t now, bool final)
{
    struct cpu_state *s = f->priv;
    if (!final && now - s->t_last < 50 * MONI_NS_PER_MS)
        return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
    int64_t total_ns = 0, window_ns = 0;
    for (int i = 0; i < s->n; i++) {
        int64_t c = fault_proc_cpu_ns(s->pid[i]);
        if (c < 0 || fault_proc_state(s->pid[i]) == 'Z') {
            snprintf(f->error, sizeof f->error, "burner %d died", (int)s->pid[i]);
            return FAULT_CHECK_FAILED;
        }
        /* cpu0 = 0: burners are measured from their birth at fire time. */
        total_ns += c - s->cpu0[i];
        window_ns += c - s->cpu_last[i];
        s->cpu_last[i] = c;
        int cpu = fault_proc_last_cpu(s->pid[i]);
        if (cpu >= 0 && cpu < CPU_SETSIZE)
            CPU_SET(cpu, &s->seen);
    }
    int64_t dt = now - s->t_last, elapsed = now - s->t0;
    if (dt <= 0)
        dt = 1;
    s->t_last = now;
    s->last_pct = 100.0 * (double)window_ns / (double)dt / s->n;
    unsigned long long busy, total;
    if (read_machine(&busy, &total) == 0 && total > s->m_total_last) {
        double machine = 100.0 * (double)(busy - s->m_busy_last) / (double)(total - s->m_total_last);
        if (s->topup) {
            /* Others' load = machine - ours; give the burners what is missing. */
            double ours = 100.0 * (double)window_ns / (double)dt / s->ncpu;
            double others = machine - ours;
            double need = (f->requested - others) * s->ncpu / s->n;
            need = need < 0 ? 0 : need > 100 ? 100 : need;
            for (int i = 0; i < s->n; i++)
                s->shm->duty[i] = 0.5 * s->shm->duty[i] + 0.5 * need;
        }
        s->machine_pct = machine;
        s->m_busy_last = busy;
        s->m_total_last = total;
        if (total > s->m_total0)
            f->delivered = s->topup ? 100.0 * (double)(busy - s->m_busy0) / (double)(total - s->m_total0)
                                    : f->delivered;
    }
    if (!s->topup && elapsed > 0)
        f->delivered = 100.0 * (double)total_ns / (double)elapsed / s->n;
    f->delivered_valid = elapsed >= 100 * MONI_NS_PER_MS;
    if (!f->effective && f->delivered_valid) {
        double got = s->topup ? s->machine_pct : s->last_pct;
        double want = f->requested;
        if (got >= want * 0.85 || (s->topup && got >= want - 5)) {
            snprintf(f->effect_detail, sizeof f->effect_detail,
                     "%s load %.1f%% measured over %.0f ms", s->topup ? "machine" : "burner", got,
                     (double)dt / 1e6);
            return FAULT_CHECK_EFFECTIVE;
        }
        /* A saturated machine gives the burners only their fair share: after a second
         * of measured burning the contention is real, at a lower dose (journalled). */
        if (elapsed >= MONI_NS_PER_SEC && total_ns > 0) {
            snprintf(f->effect_detail, sizeof f->effect_detail,
                     "%s load %.1f%% (below the %.0f%% requested: machine saturated)",
                     s->topup ? "machine" : "burner", got, want);
            return FAULT_CHECK_EFFECTIVE;
        }
    }
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void cpu_stop(struct fault *f)
{
    struct cpu_state *s = f->priv;
    if (!s)
        return;
    if (f->state == FAULT_FIRING)
        cpu_measure(f, moni_mono_ns(), true); /* final delivered figure */
    for (int i = 0; i < s->n; i++)
        if (s->pid[i] > 0)
            fault_kill_child(s->pid[i]);
}

static int cpu_revert(struct fault *f, char *err, size_t errlen)
{
    struct cpu_state *s = f->priv;
    for (int i = 0; s && i < s->n; i++) {
        int st = s->pid[i] > 0 ? fault_proc_state(s->pid[i]) : 0;
        if (st && st != 'Z' && st != 'X') {
            snprintf(err, errlen, "burner %d still running", (int)s->pid[i]);
            return -1;
        }
    }
    return 0;
}

static void cpu_describe(const struct fault *f, cJSON *d)
{
    const struct cpu_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddStringToObject(d, "mode", s->topup ? "topup" : "duty");
    cJSON_AddNumberToObject(d, "workers", s->n);
    cJSON *pids = cJSON_AddArrayToObject(d, "pids");
    cJSON *pins = cJSON_AddArrayToObject(d, "pinned");
    for (int i = 0; i < s->n; i++) {
        cJSON_AddItemToArray(pids, cJSON_CreateNumber(s->pid[i]));
        if (s->pin[i] >= 0)
            cJSON_AddItemToArray(pins, cJSON_CreateNumber(s->pin[i]));
    }
    cJSON *seen = cJSON_AddArrayToObject(d, "cpus_used");
    for (int c = 0; c < CPU_SETSIZE && c < 1024; c++)
        if (CPU_ISSET(c, &s->seen))
            cJSON_AddItemToArray(seen, cJSON_CreateNumber(c));
    if (s->t_last > s->t0) {
        cJSON_AddNumberToObject(d, "burner_load_pct_last", s->last_pct);
        cJSON_AddNumberToObject(d, "machine_load_pct_last", s->machine_pct);
    }
}

static void cpu_release(struct fault *f)
{
    struct cpu_state *s = f->priv;
    if (s)
        fault_shared_free(s->shm, sizeof *s->shm);
    free(s);
    f->priv = NULL;
}

const struct fault_ops fault_cpu_ops = {
    .name = "cpu",
    .summary = "CPU contention: burner processes at a duty cycle, or topping machine load up",
    .privileges = "none",
    .label_kind = "interval",
    .effect_labels = "CPU_Contention,Slowdown",
    .dose_unit = "pct",
    .undo = "burners are killed (they also die with moni: PR_SET_PDEATHSIG)",
    .params = cpu_params,
    .nparams = MONI_ARRAY_LEN(cpu_params),
    .targets = 0,
    .arm = cpu_arm,
    .fire = cpu_fire,
    .check = cpu_check,
    .stop = cpu_stop,
    .revert = cpu_revert,
    .describe = cpu_describe,
    .release = cpu_release,
};
