/* core/src-cpu.c — the CPU source: time of all cores and of each core (busy, user,
 * system, iowait, steal, idle, in %) from /proc/stat, and the load averages from
 * /proc/loadavg.  Rates need two samples, so the first row has them missing.
 * It reads through the session's shared files and never opens one itself. */
#include <stdlib.h>
#include <string.h>

#include "core/obs-int.h"

enum { CPU_ALL, CPU_USER, CPU_SYSTEM, CPU_IOWAIT, CPU_STEAL, CPU_IDLE, CPU_NCOLS };
static const char *const cpu_suffix[CPU_NCOLS] = {"pct", "user_pct", "system_pct",
                                                  "iowait_pct", "steal_pct", "idle_pct"};

struct cpu_state {
    int ncpu;
    int (*col)[CPU_NCOLS]; /* [0] = total, [1+i] = core i */
    struct procfs_cpu_times *prev;
    bool *seen;
    int load_col[3];
};

static void cpu_free(void *state)
{
    struct cpu_state *st = state;
    if (!st)
        return;
    free(st->col);
    free(st->prev);
    free(st->seen);
    free(st);
}

/* The highest core number in /proc/stat, plus one. */
static int count_cores(const char *text)
{
    int maxcpu = -1;
    for (const char *l = text; l && *l; l = procfs_next_line(l)) {
        int idx;
        struct procfs_cpu_times t;
        if (procfs_parse_cpu_line(l, &idx, &t) == 0 && idx > maxcpu)
            maxcpu = idx;
    }
    return maxcpu + 1;
}

static int cpu_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                    size_t errlen)
{
    (void)arg;
    const char *text = obs_session_procfile(s, OBS_PF_STAT);
    if (!text) {
        snprintf(err, errlen, "cannot read /proc/stat");
        return -1;
    }
    struct cpu_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->ncpu = count_cores(text);
    st->col = calloc((size_t)st->ncpu + 1, sizeof *st->col);
    st->prev = calloc((size_t)st->ncpu + 1, sizeof *st->prev);
    st->seen = calloc((size_t)st->ncpu + 1, sizeof *st->seen);
    if (!st->col || !st->prev || !st->seen) {
        cpu_free(st);
        return -1;
    }
    char name[96];
    for (int k = 0; k < CPU_NCOLS; k++) {
        snprintf(name, sizeof name, "cpu_%s", cpu_suffix[k]);
        st->col[0][k] = frame_add(f, name, "CPU time of all cores, %", METRIC_GAUGE);
    }
    for (int c = 0; c < st->ncpu; c++)
        for (int k = 0; k < CPU_NCOLS; k++) {
            snprintf(name, sizeof name, "cpu%d_%s", c, cpu_suffix[k]);
            st->col[c + 1][k] = frame_add(f, name, "CPU time of one core, %", METRIC_GAUGE);
        }
    st->load_col[0] = frame_add(f, "load1", "load average, 1 min", METRIC_GAUGE);
    st->load_col[1] = frame_add(f, "load5", "load average, 5 min", METRIC_GAUGE);
    st->load_col[2] = frame_add(f, "load15", "load average, 15 min", METRIC_GAUGE);
    *state = st;
    return 0;
}

/* The shares of one core (or of all) between two reads. */
static void set_shares(struct frame *f, const int *c, const struct procfs_cpu_times *t,
                       const struct procfs_cpu_times *p)
{
    double user = (double)(t->user + t->nice) - (double)(p->user + p->nice);
    double sys = (double)(t->system + t->irq + t->softirq) -
                 (double)(p->system + p->irq + p->softirq);
    double iow = (double)t->iowait - (double)p->iowait;
    double steal = (double)t->steal - (double)p->steal;
    double idle = (double)t->idle - (double)p->idle;
    if (iow < 0) /* iowait may go backwards on some kernels */
        iow = 0;
    double total = user + sys + iow + steal + idle;
    if (total <= 0)
        return;
    frame_set(f, c[CPU_ALL], 100.0 * (user + sys + steal) / total);
    frame_set(f, c[CPU_USER], 100.0 * user / total);
    frame_set(f, c[CPU_SYSTEM], 100.0 * sys / total);
    frame_set(f, c[CPU_IOWAIT], 100.0 * iow / total);
    frame_set(f, c[CPU_STEAL], 100.0 * steal / total);
    frame_set(f, c[CPU_IDLE], 100.0 * idle / total);
}

static void cpu_sample(struct session *s, void *state, struct frame *f)
{
    struct cpu_state *st = state;
    const char *text = obs_session_procfile(s, OBS_PF_STAT);
    for (const char *l = text; l && *l; l = procfs_next_line(l)) {
        int idx;
        struct procfs_cpu_times t;
        if (strncmp(l, "cpu", 3) != 0)
            break; /* the cpu lines come first */
        if (procfs_parse_cpu_line(l, &idx, &t) < 0 || idx >= st->ncpu)
            continue;
        int slot = idx + 1;
        if (st->seen[slot])
            set_shares(f, st->col[slot], &t, &st->prev[slot]);
        st->prev[slot] = t;
        st->seen[slot] = true;
    }
    double l[3];
    const char *load = obs_session_procfile(s, OBS_PF_LOADAVG);
    if (load && procfs_parse_loadavg(load, l) == 0)
        for (int i = 0; i < 3; i++)
            frame_set(f, st->load_col[i], l[i]);
}

const struct source_ops obs_source_cpu = {
    .name = "cpu",
    .init = cpu_init,
    .sample = cpu_sample,
    .free = cpu_free,
};
