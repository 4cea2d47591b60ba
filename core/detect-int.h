/* core/detect-int.h — what the detector files (core/detect-*.c) share with the engine:
 * the tick context, the training state folded from the log, and small helpers.
 * Not exported beyond core/detect*.c. */
#ifndef MONI_DETECT_INT_H
#define MONI_DETECT_INT_H

#include <math.h>
#include <stdio.h>

#include "core/detect.h"

/* The columns detectors read, resolved by name once per frame layout. */
enum det_col {
    DC_CPU_PCT,    /* machine CPU busy, % of all CPUs */
    DC_CPU_IOWAIT, /* % of all CPUs */
    DC_PSI_CPU,    /* psi cpu some avg10, % */
    DC_PSI_IO,
    DC_PSI_MEM,
    DC_PROC_CPU,   /* workload tree, % of one core */
    DC_PROC_RSS,
    DC_PROC_ALIVE,
    DC_PROC_T,     /* processes in state T */
    DC_PROC_D,
    DC_HEARTBEAT,  /* seconds since the last workload log line */
    DC_MEM_AVAIL,
    DC_MEM_TOTAL,
    DC_FS_FREE,    /* the run directory's filesystem */
    DC_FS_USED,
    DC_NET_ERR,    /* rx + tx errors per second */
    DC_GPU_USED,   /* summed over GPUs */
    DC_GPU_TOTAL,
    DC_PROC_R,     /* workload processes in state R (runnable) */
    DC_DISK_BUSY,  /* % of the busiest disk's time with I/O in flight */
    DC_DISK_RD,    /* bytes/s over all disks */
    DC_DISK_WR,
    DC_PROC_RD,    /* the workload tree's storage bytes/s (/proc/PID/io) */
    DC_PROC_WR,
    DC_N
};

#define DET_LOSS_FIRST 5 /* losses averaged as the run's starting level */

/* Training state from parsed metrics and events, shared by every detector. */
struct det_train {
    struct det_series loss;          /* recent finite losses */
    double loss_first[DET_LOSS_FIRST];
    int loss_first_n;
    double loss_last;
    long nloss;
    int nonfinite_pending;           /* non-finite losses since the last tick */
    double nonfinite_value;
    const char *nonfinite_field;
    struct det_series steps;         /* (t, step) when the log has a step counter */
    struct det_series record_count;  /* (t, number of progress records so far) */
    struct det_series intervals;     /* (t, seconds between progress records) */
    double intervals_sorted[128];    /* the same values, sorted: the median in O(1) */
    int nintervals_sorted;
    long records;
    double last_progress_t;          /* NaN before the first */
    int64_t last_progress_mono;
    double step;                     /* NaN before the first */
    struct det_series thr;           /* explicit throughput values */
    struct det_series net_events;    /* network-trouble log events */
    struct det_series clock_off;     /* (t, in-line time - arrival time, s) of stamped lines */
    long clock_n;                    /* stamped lines so far */
};

struct det_ctx {
    int64_t mono_ns, real_ns;
    double t;                /* seconds since the first input */
    double col[DC_N];        /* NaN when missing */
    int ncpu;
    const double *p;         /* this detector's parameters, in spec order */
    const struct det_train *train;
    double rate, rate_base;  /* progress per second now (last progress window) and its
                                usual level; NaN until known */
    const struct det_fate *fate; /* set only in the fate pass */
    bool ended;              /* the workload has ended */
};

/* A condition that must hold need_on_s before it fires and be gone need_off_s
 * before it may fire again.  All zero is a valid, inactive latch (detector states
 * are zeroed per run). */
struct det_latch {
    bool active, on_set, off_set;
    double on_since, off_since;
};
/* Returns true on the onset (the moment it becomes active). */
/* The workload's CPU and the other processes' (both in % of one core) when the
 * workload is running; false when it ended, is stopped (state T) or dead, or a value is
 * missing: process_stopped/_exit speak for it then, no CPU detector does. */
static inline bool det_running_cpu(const struct det_ctx *c, double *proc, double *other)
{
    *proc = c->col[DC_PROC_CPU];
    double cpu = c->col[DC_CPU_PCT];
    if (c->ended || isnan(*proc) || isnan(cpu) || c->ncpu <= 0 || c->col[DC_PROC_ALIVE] == 0 ||
        c->col[DC_PROC_T] >= 1)
        return false;
    *other = cpu * c->ncpu - *proc; /* the machine's busy time less the workload's */
    if (*other < 0)
        *other = 0;
    return true;
}

bool det_latch_update(struct det_latch *l, bool cond, double t, double need_on_s,
                      double need_off_s);
/* Sorted windows of values that come and go one at a time: a median without sorting
 * the window again at every tick.  remove drops one value equal to v (if any). */
void det_sorted_insert(double *a, int *n, double v);
void det_sorted_remove(double *a, int *n, double v);
double det_sorted_median(const double *a, int n); /* NaN when n is 0 */
/* Exponentially weighted average with time constant tau_s (NaN avg: starts at v). */
double det_ewma(double avg, double v, double dt, double tau_s);

/* Progress rate (per second) over the last window_s up to t: steps when the log has a
 * step counter, else progress records.  NaN before the first progress record. */
double det_progress_rate(const struct det_train *tr, double t, double window_s);
/* Median interval between progress records (NaN with fewer than 3). */
double det_median_interval(const struct det_train *tr);
/* Counts the points of s at or after t - window_s. */
int det_series_count_since(const struct det_series *s, double t, double window_s);
/* A quantity that falls toward zero (free bytes, available memory): fits the
 * points and, when it falls at >= min_rate per second with r^2 >= min_r2 over >=
 * min_points, sets *rate (per second, > 0) and *ttf_s (time until it reaches 0). */
bool det_falling(const struct det_series *s, double min_rate, double min_r2, int min_points,
                 double *rate, double *ttf_s);

/* What the engine does with a samples column: 0 nothing, 1 counts it (cpuN_pct: the
 * number of CPUs), 2 reads its values.  The offline pass loads only these. */
int detect_column_use(const char *name);

#define DET_EVIDENCE(out, ...) snprintf((out)->evidence, sizeof (out)->evidence, __VA_ARGS__)

extern const struct detector_ops det_loss_nonfinite, det_loss_divergence, det_no_convergence,
    det_throughput_drop, det_progress_stall, det_process_stopped, det_cpu_contention,
    det_io_bottleneck, det_memory_growth, det_fs_fill, det_gpu_mem, det_net_errors,
    det_process_exit, det_straggler, det_clock_skew;

#endif /* MONI_DETECT_INT_H */
