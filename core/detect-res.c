/* core/detect-res.c — resource detectors: CPU contention, I/O bottleneck, memory
 * growth toward exhaustion, the run's filesystem filling, GPU memory filling, and
 * network trouble in the log.  Each compares the run with its own baseline (learnt
 * after a warm-up, never from a stretch it is reporting) and needs its condition to
 * hold for a while, so that a healthy run's checkpoints and evaluations stay silent. */
#include "core/detect-int.h"

/* The fit over the last n points of s.  Over the whole window the running sums
 * screen it first (O(1)): only a window that falls about fast and straight enough is
 * fitted afresh, so that a detection's figures are those of the batch fit to the last
 * bit while a quiet tick costs no pass over the points.  The margins are far above
 * the rounding by which the two fits differ (about 1e-12 relative). */
static bool fit_falling(const struct det_series *s, int n, double min_rate, double min_r2,
                        int min_points, double *rate, double *ttf_s)
{
    double slope, icpt, r2;
    if (n < min_points)
        return false;
    if (n == s->n && det_series_fit(s, &slope, &icpt, &r2) &&
        (-slope < min_rate - 1e-6 * (fabs(slope) + min_rate) - 1e-3 || r2 < min_r2 - 0.05))
        return false;
    if (!det_series_fit_last(s, n, &slope, &icpt, &r2))
        return false;
    if (-slope < min_rate || r2 < min_r2)
        return false;
    double last = det_series_v(s, s->n - 1);
    *rate = -slope;
    *ttf_s = last > 0 ? last / -slope : 0;
    return true;
}

/* The whole window, or its last few points when they lie on a steeper, straighter
 * line: a fall that began inside the window bends the line through all of it, and
 * waiting for the flat part to leave the window would cost warning time.  The short
 * fit must be very straight (DET_RECENT_R2) so that noise does not pass for a trend. */
#define DET_RECENT_POINTS 5
#define DET_RECENT_R2 0.95
bool det_falling(const struct det_series *s, double min_rate, double min_r2, int min_points,
                 double *rate, double *ttf_s)
{
    bool whole = fit_falling(s, s->n, min_rate, min_r2, min_points, rate, ttf_s);
    if (s->n <= DET_RECENT_POINTS)
        return whole;
    double r, t;
    if (fit_falling(s, DET_RECENT_POINTS, min_rate, DET_RECENT_R2, DET_RECENT_POINTS, &r, &t) &&
        (!whole || t < *ttf_s)) {
        *rate = r;
        *ttf_s = t;
        return true;
    }
    return whole;
}

#define MIB (1024.0 * 1024.0)

/* ---- cpu_contention --------------------------------------------------------------- */

struct contention_state {
    struct det_latch latch;
    double proc_base, other_base, psi_base, last_t;
};

static bool contention_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct contention_state *st = state;
    const double warmup = c->p[0], tau = c->p[1], share_drop = c->p[2], other_rise = c->p[3],
                 psi_min = c->p[4], psi_rise = c->p[5], sustain = c->p[6], clear = c->p[7];
    double proc, other, psi = c->col[DC_PSI_CPU];
    if (!det_running_cpu(c, &proc, &other)) {
        det_latch_update(&st->latch, false, c->t, sustain, clear);
        return false;
    }
    double dt = st->last_t == 0 ? 1 : c->t - st->last_t;
    st->last_t = c->t;
    bool warm = c->t >= warmup && st->proc_base > 0;
    bool share = warm && st->proc_base >= 10 && proc < share_drop * st->proc_base;
    bool others = warm && other - st->other_base >= other_rise;
    /* CPU pressure with the CPUs the workload lost lying idle is a limit on the
     * workload (a quota: detect-sched.c's straggler), not competition for the CPUs */
    double idle = (100.0 - c->col[DC_CPU_PCT]) * c->ncpu;
    bool pressure = warm && !isnan(psi) && psi >= psi_min &&
                    psi >= psi_rise * (st->psi_base > 1 ? st->psi_base : 1) &&
                    idle < 0.5 * (st->proc_base - proc);
    bool cond = share && (others || pressure);
    bool onset = det_latch_update(&st->latch, cond, c->t, sustain, clear);
    if (!cond && !st->latch.active) {
        st->proc_base = st->proc_base > 0 ? det_ewma(st->proc_base, proc, dt, tau) : proc;
        st->other_base = det_ewma(st->other_base, other, dt, tau);
        if (!isnan(psi))
            st->psi_base = det_ewma(st->psi_base, psi, dt, tau);
    }
    if (!onset)
        return false;
    out->score = 1 - proc / st->proc_base;
    out->threshold = 1 - share_drop;
    char psi_txt[48] = "";
    if (!isnan(psi))
        snprintf(psi_txt, sizeof psi_txt, "; PSI cpu some %.0f%%", psi);
    DET_EVIDENCE(out, "the workload's CPU fell to %.0f%% of a core (usual %.0f%%) while other "
                 "processes took %.0f%% (usual %.0f%%)%s", proc, st->proc_base, other,
                 st->other_base, psi_txt);
    return true;
}

static const struct det_param contention_params[] = {
    {"warmup_s", 15, "seconds before baselines are trusted"},
    {"baseline_s", 60, "time constant of the baselines"},
    {"share_drop", 0.8, "the workload's CPU below this fraction of its usual share"},
    {"other_rise_pct", 40, "other processes' CPU above their usual level by this (% of a core)"},
    {"psi_min", 20, "or PSI cpu some avg10 at least this (%)"},
    {"psi_rise", 2, "and this many times its usual level"},
    {"sustain_s", 3, "seconds the condition holds before it is reported"},
    {"clear_s", 10, "seconds it is gone before another report"},
    {NULL, 0, NULL},
};

const struct detector_ops det_cpu_contention = {
    .name = "cpu_contention",
    .label = "CPU_Contention",
    .help = "the workload's CPU share falls while other processes take the machine",
    .signals = "proc_cpu_pct,cpu_pct,psi_cpu_some_avg10",
    .params = contention_params,
    .state_size = sizeof(struct contention_state),
    .tick = contention_tick,
};

/* ---- io_bottleneck ---------------------------------------------------------------- */

struct io_state {
    struct det_latch latch;
    double psi_base, iow_base, last_t;
};

/* The share of the disks' bytes that are not the workload's own: NaN when the disk
 * moves almost nothing (a share of nothing says nothing). */
static double io_others_share(const struct det_ctx *c)
{
    double disk = c->col[DC_DISK_RD] + c->col[DC_DISK_WR];
    if (isnan(disk) || isnan(c->col[DC_DISK_BUSY]) || disk < 1e6)
        return NAN;
    double own = 0;
    if (!isnan(c->col[DC_PROC_RD]))
        own += c->col[DC_PROC_RD];
    if (!isnan(c->col[DC_PROC_WR]))
        own += c->col[DC_PROC_WR];
    return own >= disk ? 0 : 1 - own / disk;
}

static bool io_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct io_state *st = state;
    const double warmup = c->p[0], tau = c->p[1], psi_min = c->p[2], rise = c->p[3],
                 iow_min = c->p[4], slow_ratio = c->p[5], need_slow = c->p[6],
                 sustain = c->p[7], clear = c->p[8], busy_min = c->p[9], others_min = c->p[10];
    double psi = c->col[DC_PSI_IO], iow = c->col[DC_CPU_IOWAIT], d = c->col[DC_PROC_D];
    double dt = st->last_t == 0 ? 1 : c->t - st->last_t;
    st->last_t = c->t;
    bool warm = c->t >= warmup;
    bool by_psi = !isnan(psi) && psi >= psi_min && psi >= rise * (st->psi_base > 1 ? st->psi_base : 1);
    bool by_iow = !isnan(iow) && iow >= iow_min && iow >= rise * (st->iow_base > 0.5 ? st->iow_base : 0.5);
    bool slowed = (!isnan(c->rate) && !isnan(c->rate_base) && c->rate < slow_ratio * c->rate_base) ||
                  (!isnan(d) && d >= 1);
    /* A disk kept busy by other processes is contention the workload will meet at its
     * next checkpoint or shard read, even while its compute-bound steps run on. */
    double others = io_others_share(c);
    bool saturated = !isnan(others) && c->col[DC_DISK_BUSY] >= busy_min && others >= others_min;
    bool cond = warm && !c->ended && (by_psi || by_iow) && (slowed || saturated || need_slow == 0);
    bool onset = det_latch_update(&st->latch, cond, c->t, sustain, clear);
    if (!cond && !st->latch.active) {
        if (!isnan(psi))
            st->psi_base = det_ewma(st->psi_base, psi, dt, tau);
        if (!isnan(iow))
            st->iow_base = det_ewma(st->iow_base, iow, dt, tau);
    }
    if (!onset)
        return false;
    out->score = !isnan(psi) ? psi : iow;
    out->threshold = !isnan(psi) ? psi_min : iow_min;
    char slow[96] = "";
    if (!isnan(c->rate) && !isnan(c->rate_base) && c->rate_base > 0)
        snprintf(slow, sizeof slow, "; progress at %.0f%% of its usual rate",
                 100 * c->rate / c->rate_base);
    else if (!isnan(d) && d >= 1)
        snprintf(slow, sizeof slow, "; %.0f workload process(es) in state D", d);
    if (saturated && !slowed)
        snprintf(slow, sizeof slow, "; disk %.0f%% busy, %.0f%% of its bytes from other processes",
                 c->col[DC_DISK_BUSY], 100 * others);
    DET_EVIDENCE(out, "I/O pressure: PSI io some %.1f%% (usual %.1f%%), iowait %.1f%%%s",
                 isnan(psi) ? 0 : psi, st->psi_base, isnan(iow) ? 0 : iow, slow);
    return true;
}

static const struct det_param io_params[] = {
    {"warmup_s", 15, "seconds before baselines are trusted"},
    {"baseline_s", 60, "time constant of the baselines"},
    {"psi_min", 10, "PSI io some avg10 at least this (%)"},
    {"rise", 3, "and this many times its usual level (also for iowait)"},
    {"iowait_min", 10, "or CPU iowait at least this (%)"},
    {"slow_ratio", 0.8, "progress below this fraction of its usual rate counts as slowed"},
    {"require_slowdown", 1,
     "1: report only when the workload slowed, sits in state D, or others saturate the disk"},
    {"sustain_s", 3, "seconds the condition holds before it is reported"},
    {"clear_s", 10, "seconds it is gone before another report"},
    {"busy_min", 50, "the disk busy at least this (%) counts as saturated"},
    {"others_share", 0.8, "when at least this share of its bytes is other processes' I/O"},
    {NULL, 0, NULL},
};

const struct detector_ops det_io_bottleneck = {
    .name = "io_bottleneck",
    .label = "IO_Bottleneck",
    .help = "I/O pressure (PSI io, iowait) rises while the workload slows or others saturate the disk",
    .signals = "psi_io_some_avg10,cpu_iowait_pct,progress_rate,disk_busy_pct,proc_read_Bps",
    .params = io_params,
    .state_size = sizeof(struct io_state),
    .tick = io_tick,
};

/* ---- memory_growth: predict_linear on memory ---------------------------------------- */

struct mem_state {
    struct det_series neg_rss, avail; /* RSS negated: it grows toward the limit */
    struct det_latch latch;
};

static bool mem_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct mem_state *st = state;
    const double warmup = c->p[0], window = c->p[1], min_points = c->p[2],
                 min_rate = c->p[3] * MIB, min_r2 = c->p[4], horizon = c->p[5], clear = c->p[6];
    double rss = c->col[DC_PROC_RSS], avail = c->col[DC_MEM_AVAIL];
    if (!isnan(rss))
        det_series_push(&st->neg_rss, c->t, -rss);
    if (!isnan(avail))
        det_series_push(&st->avail, c->t, avail);
    det_series_trim(&st->neg_rss, c->t, window);
    det_series_trim(&st->avail, c->t, window);
    double rate = 0, ttf = INFINITY, r, t;
    bool workload = false;
    /* the workload's own RSS growing is a leak in the job; available memory falling
     * (a leak elsewhere, a hog) threatens the job all the same */
    if (det_falling(&st->neg_rss, min_rate, min_r2, (int)min_points, &r, &t) && !isnan(avail)) {
        rate = r, ttf = avail / r, workload = true;
    }
    if (det_falling(&st->avail, min_rate, min_r2, (int)min_points, &r, &t) && t < ttf) {
        rate = r, ttf = t, workload = false;
    }
    bool cond = c->t >= warmup && !c->ended && ttf <= horizon;
    if (!det_latch_update(&st->latch, cond, c->t, 0, clear))
        return false;
    out->score = ttf;
    out->threshold = horizon;
    out->ttf_s = ttf;
    DET_EVIDENCE(out, "%s grows %.0f MiB/s: OOM in %.0f s (%.0f MiB of host memory "
                 "available)", workload ? "the workload's RSS" : "used host memory", rate / MIB,
                 ttf, isnan(avail) ? 0 : avail / MIB);
    return true;
}

static const struct det_param mem_params[] = {
    {"warmup_s", 10, "seconds before the detector judges (start-up allocations)"},
    {"window_s", 15, "seconds of samples fitted"},
    {"min_points", 4, "samples in the window before a fit counts"},
    {"min_rate_mib_s", 16, "growth of at least this many MiB per second"},
    {"min_r2", 0.8, "a fit at least this straight (r squared)"},
    {"horizon_s", 300, "report when memory runs out within this many seconds"},
    {"clear_s", 30, "seconds without growth before another report"},
    {NULL, 0, NULL},
};

const struct detector_ops det_memory_growth = {
    .name = "memory_growth",
    .label = "Memory_Leak",
    .help = "memory grows steadily: predicts the time until host memory runs out (OOM)",
    .signals = "proc_rss_bytes,mem_available_bytes",
    .params = mem_params,
    .state_size = sizeof(struct mem_state),
    .tick = mem_tick,
};

/* ---- fs_fill: the run's filesystem filling ---------------------------------------- */

struct fill_state {
    struct det_series free, used;
    long used_pushes;      /* points ever pushed to used */
    double low;            /* the lowest used% in the window ... */
    long low_push;         /* ... and the push that brought it (the latest of equals) */
    struct det_latch latch;
};

/* The lowest used% in the window, kept as points come and leave: the points are
 * looked at again only when the lowest left (points leave in the order they came). */
static double fill_low(struct fill_state *st, double used_pct, double t, double window)
{
    if (!isnan(used_pct)) {
        det_series_push(&st->used, t, used_pct);
        st->used_pushes++;
        if (st->used.n == 1 || used_pct <= st->low) {
            st->low = used_pct;
            st->low_push = st->used_pushes;
        }
    }
    det_series_trim(&st->used, t, window);
    long oldest = st->used_pushes - st->used.n + 1; /* the push of the oldest point left */
    if (st->used.n > 0 && st->low_push >= oldest)
        return st->low;
    st->low = INFINITY;
    for (int i = 0; i < st->used.n; i++) {
        double v = det_series_v(&st->used, i);
        if (v <= st->low) {
            st->low = v;
            st->low_push = oldest + i;
        }
    }
    return st->low;
}

/* Shared by fs_fill and gpu_mem: free falls toward 0, or used% jumps or is high. */
static bool fill_check(struct det_ctx *c, struct fill_state *st, double free_v, double used_pct,
                       struct detection *out, const char *what)
{
    const double window = c->p[0], min_points = c->p[1], min_rate = c->p[2] * MIB,
                 min_r2 = c->p[3], horizon = c->p[4], used_max = c->p[5], jump = c->p[6],
                 clear = c->p[7];
    if (!isnan(free_v))
        det_series_push(&st->free, c->t, free_v);
    det_series_trim(&st->free, c->t, window);
    double rate = 0, ttf = NAN, low = fill_low(st, used_pct, c->t, window);
    bool trend = det_falling(&st->free, min_rate, min_r2, (int)min_points, &rate, &ttf) &&
                 ttf <= horizon;
    bool full = !isnan(used_pct) && used_pct >= used_max;
    bool jumped = !isnan(used_pct) && used_pct - low >= jump;
    bool cond = !c->ended && (trend || full || jumped);
    if (!det_latch_update(&st->latch, cond, c->t, 0, clear))
        return false;
    out->score = isnan(used_pct) ? 0 : used_pct;
    out->threshold = used_max;
    out->ttf_s = trend ? ttf : full ? 0 : NAN;
    if (trend)
        DET_EVIDENCE(out, "%s fills at %.0f MiB/s: full in %.0f s (%.1f%% used)", what,
                     rate / MIB, ttf, isnan(used_pct) ? 0 : used_pct);
    else
        DET_EVIDENCE(out, "%s went from %.1f%% to %.1f%% used within %.0f s", what, low,
                     used_pct, window);
    return true;
}

static bool fs_tick(struct det_ctx *c, void *state, struct detection *out)
{
    return fill_check(c, state, c->col[DC_FS_FREE], c->col[DC_FS_USED], out,
                      "the run directory's filesystem");
}

static const struct det_param fs_params[] = {
    {"window_s", 15, "seconds of samples fitted"},
    {"min_points", 4, "samples in the window before a fit counts"},
    {"min_rate_mib_s", 8, "falling by at least this many MiB per second"},
    {"min_r2", 0.8, "a fit at least this straight (r squared)"},
    {"horizon_s", 600, "report when it is full within this many seconds"},
    {"used_max_pct", 95, "or when it is at least this full"},
    {"jump_pct", 20, "or when its use rose by this many points within the window"},
    {"clear_s", 30, "seconds without the condition before another report"},
    {NULL, 0, NULL},
};

const struct detector_ops det_fs_fill = {
    .name = "fs_fill",
    .label = "Disk_Full",
    .help = "the run directory's filesystem fills: time until full, or a sudden large fill",
    .signals = "fs_out_free_bytes,fs_out_used_pct",
    .params = fs_params,
    .state_size = sizeof(struct fill_state),
    .tick = fs_tick,
};

static bool gpu_tick(struct det_ctx *c, void *state, struct detection *out)
{
    double used = c->col[DC_GPU_USED], total = c->col[DC_GPU_TOTAL];
    if (isnan(used) || isnan(total) || total <= 0)
        return false;
    return fill_check(c, state, total - used, 100 * used / total, out, "GPU memory");
}

static const struct det_param gpu_params[] = {
    {"window_s", 15, "seconds of samples fitted"},
    {"min_points", 4, "samples in the window before a fit counts"},
    {"min_rate_mib_s", 64, "growing by at least this many MiB per second"},
    {"min_r2", 0.8, "a fit at least this straight (r squared)"},
    {"horizon_s", 600, "report when it is full within this many seconds"},
    {"used_max_pct", 97, "or when it is at least this full"},
    {"jump_pct", 25, "or when its use rose by this many points within the window"},
    {"clear_s", 30, "seconds without the condition before another report"},
    {NULL, 0, NULL},
};

const struct detector_ops det_gpu_mem = {
    .name = "gpu_mem",
    .label = "CUDA_OutOfMemory",
    .help = "GPU memory fills: time until full, or a sudden large allocation",
    .signals = "gpu_mem_used_bytes,gpu_mem_total_bytes",
    .params = gpu_params,
    .state_size = sizeof(struct fill_state),
    .tick = gpu_tick,
};

/* ---- net_errors: network trouble in the log ------------------------------------- */

struct net_state {
    struct det_latch latch;
};

static bool net_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct net_state *st = state;
    const double window = c->p[0], min_events = c->p[1], clear = c->p[2];
    int n = det_series_count_since(&c->train->net_events, c->t, window);
    if (!det_latch_update(&st->latch, n >= (int)min_events, c->t, 0, clear))
        return false;
    out->score = n;
    out->threshold = min_events;
    DET_EVIDENCE(out, "%d network timeouts or connection errors in the log within %.0f s", n,
                 window);
    return true;
}

static const struct det_param net_params[] = {
    {"window_s", 60, "seconds counted"},
    {"min_events", 3, "network error lines within the window"},
    {"clear_s", 60, "seconds without them before another report"},
    {NULL, 0, NULL},
};

const struct detector_ops det_net_errors = {
    .name = "net_errors",
    .label = "Network_Degradation",
    .help = "network timeouts and connection errors pile up in the log",
    .signals = "log_events",
    .params = net_params,
    .state_size = sizeof(struct net_state),
    .tick = net_tick,
};
