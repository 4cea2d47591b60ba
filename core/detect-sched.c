/* core/detect-sched.c — detectors of how the workload is scheduled and timed:
 * a straggler (progress slows and the workload gets less CPU while nobody else takes
 * it and no I/O or memory pressure explains it: a CPU quota, a slow node) and clock
 * skew (the times written inside the log's lines jump away from the time the lines
 * arrived, which moni takes from its own monotonic sample clock).  Like every
 * detector they see only what an operator could: samples, parsed lines, never the
 * fault journal. */
#include "core/detect-int.h"

/* ---- straggler -------------------------------------------------------------------- */

struct straggler_state {
    struct det_latch latch;
    double proc_base, other_base, psi_base, last_t;
    int runnable, ticks; /* ticks with a runnable workload, of those while slowed */
};

/* Why the CPU the workload lost is contention, not a limit on it ("" = it is not). */
static const char *cpu_excuse(const struct det_ctx *c, const struct straggler_state *st,
                              double proc, double other)
{
    const double other_margin = c->p[4], psi_rise = c->p[10];
    double all = 100.0 * c->ncpu, lost = st->proc_base - proc;
    double idle_now = all - proc - other, idle_before = all - st->proc_base - st->other_base;
    /* what the workload gave up lies idle: nobody took it, whatever PSI says (a
     * throttled job's waiting counts as CPU pressure) */
    if (idle_now >= 0.5 * lost)
        return "";
    /* a full machine: the others may have soaked up what the job gave up, no more; and
     * the pressure on the CPUs must not have grown */
    if (other - st->other_base > (idle_before > 0 ? lost - idle_before : lost) + other_margin)
        return "others took the CPU";
    if (!isnan(c->col[DC_PSI_CPU]) && c->col[DC_PSI_CPU] >= 20 &&
        c->col[DC_PSI_CPU] >= psi_rise * (st->psi_base > 1 ? st->psi_base : 1))
        return "CPU pressure rose";
    return "";
}

/* Why the workload waits on something else than the CPU ("" = nothing seen). */
static const char *wait_excuse(const struct det_ctx *c)
{
    const double io_max = c->p[5], mem_max = c->p[6];
    if ((!isnan(c->col[DC_PSI_IO]) && c->col[DC_PSI_IO] >= io_max) ||
        (!isnan(c->col[DC_CPU_IOWAIT]) && c->col[DC_CPU_IOWAIT] >= io_max))
        return "I/O pressure";
    if (!isnan(c->col[DC_PSI_MEM]) && c->col[DC_PSI_MEM] >= mem_max)
        return "memory pressure";
    if (!isnan(c->col[DC_PROC_D]) && c->col[DC_PROC_D] >= 1)
        return "waiting on the disk";
    return "";
}

/* The reasons a slowdown is not a straggler's ("" = none). */
static const char *straggler_excuse(const struct det_ctx *c, const struct straggler_state *st,
                                    double proc, double other)
{
    const char *why = cpu_excuse(c, st, proc, other);
    return why[0] ? why : wait_excuse(c);
}

static bool straggler_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct straggler_state *st = state;
    const double warmup = c->p[0], tau = c->p[1], slow_ratio = c->p[2], share_drop = c->p[3],
                 runnable_min = c->p[7], sustain = c->p[8], clear = c->p[9];
    double proc, other, r = c->col[DC_PROC_R];
    if (!det_running_cpu(c, &proc, &other)) {
        det_latch_update(&st->latch, false, c->t, sustain, clear);
        return false;
    }
    double dt = st->last_t == 0 ? 1 : c->t - st->last_t;
    st->last_t = c->t;
    bool warm = c->t >= warmup && st->proc_base > 0;
    bool slowed = warm && !isnan(c->rate) && !isnan(c->rate_base) && c->rate_base > 0 &&
                  c->rate < slow_ratio * c->rate_base;
    bool starved = warm && st->proc_base >= 5 && proc < share_drop * st->proc_base;
    const char *excuse = slowed && starved ? straggler_excuse(c, st, proc, other) : "?";
    /* a quota leaves the workload runnable and waiting; a job that waits on its data
     * or a peer sleeps: count the ticks it had a runnable process (unknown: runnable) */
    if (slowed && starved) {
        st->ticks++;
        st->runnable += isnan(r) || r >= 1;
    } else {
        st->ticks = st->runnable = 0;
    }
    bool runnable = st->ticks > 0 && st->runnable >= runnable_min * st->ticks;
    bool cond = slowed && starved && !excuse[0] && runnable;
    bool onset = det_latch_update(&st->latch, cond, c->t, sustain, clear);
    if (!slowed && !starved && !st->latch.active) {
        bool first = st->proc_base <= 0;
        st->proc_base = first ? proc : det_ewma(st->proc_base, proc, dt, tau);
        st->other_base = first ? other : det_ewma(st->other_base, other, dt, tau);
        double psi = c->col[DC_PSI_CPU];
        if (!isnan(psi))
            st->psi_base = first ? psi : det_ewma(st->psi_base, psi, dt, tau);
    }
    if (!onset)
        return false;
    out->score = 1 - c->rate / c->rate_base;
    out->threshold = 1 - slow_ratio;
    DET_EVIDENCE(out, "progress at %.0f%% of its usual rate while the workload got %.0f%% of a "
                 "core (usual %.0f%%), runnable, and nobody else took the CPUs (others %.0f%%, "
                 "usual %.0f%%); no I/O or memory pressure", 100 * c->rate / c->rate_base, proc,
                 st->proc_base, other, st->other_base);
    return true;
}

static const struct det_param straggler_params[] = {
    {"warmup_s", 20, "seconds before baselines are trusted"},
    {"baseline_s", 60, "time constant of the baselines"},
    {"slow_ratio", 0.6, "progress below this fraction of its usual rate"},
    {"share_drop", 0.6, "and the workload's CPU below this fraction of its usual share"},
    {"other_margin_pct", 30, "others may take what the workload gave up plus this (% of a core)"},
    {"io_max", 10, "no PSI io some avg10 or iowait at or above this (%)"},
    {"mem_max", 10, "no PSI memory some avg10 at or above this (%)"},
    {"runnable_min", 0.6, "share of the slowed ticks with a runnable workload process"},
    {"sustain_s", 6, "seconds the condition holds before it is reported"},
    {"clear_s", 20, "seconds it is gone before another report"},
    {"psi_rise", 2, "on a full machine, PSI cpu some this many times its usual level is "
                    "contention, not a straggler"},
    {NULL, 0, NULL},
};

const struct detector_ops det_straggler = {
    .name = "straggler",
    .label = "Straggler",
    .help = "progress slows and the workload gets less CPU though it is runnable, while "
            "nobody else takes the CPUs and no I/O or memory pressure explains it (a CPU "
            "quota, a throttled or slow node)",
    .signals = "progress_rate,proc_cpu_pct,cpu_pct,proc_state_R,psi_io_some_avg10,"
               "psi_memory_some_avg10",
    .params = straggler_params,
    .state_size = sizeof(struct straggler_state),
    .tick = straggler_tick,
};

/* ---- clock_skew ------------------------------------------------------------------- */

struct clock_state {
    double base;  /* usual offset of in-line times from arrival times, s */
    int learnt;   /* lines folded into base (0: base unknown) */
    long off_n;   /* the series' total count when last read */
    int away;     /* consecutive lines away from base, same side */
    double away_sign, last_dev;
    struct det_latch latch;
};

static bool clock_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct clock_state *st = state;
    const struct det_train *tr = c->train;
    const double jump = c->p[0], abs_max = c->p[1], min_lines = c->p[2], learn = c->p[3],
                 slow = c->p[4], clear = c->p[5];
    long fresh = tr->clock_n - st->off_n;
    if (fresh > tr->clock_off.n)
        fresh = tr->clock_off.n;
    st->off_n = tr->clock_n;
    int cap = (int)MONI_ARRAY_LEN(tr->clock_off.t);
    for (long i = tr->clock_off.n - fresh; i < tr->clock_off.n; i++) {
        double off = tr->clock_off.v[(tr->clock_off.head + i) % cap];
        double dev = st->learnt ? off - st->base : 0;
        /* far from where this machine's clock is, or jumped from the log's own level */
        bool out_abs = fabs(off) >= abs_max;
        bool out_jump = st->learnt >= (int)learn && fabs(dev) >= jump;
        if (out_abs || out_jump) {
            double sign = (out_jump ? dev : off) > 0 ? 1 : -1;
            st->away = sign == st->away_sign ? st->away + 1 : 1;
            st->away_sign = sign;
            st->last_dev = out_jump ? dev : off;
            continue;
        }
        st->away = 0;
        /* the first lines set the level, later ones move it slowly: a drift must not
         * carry the baseline along with it */
        st->learnt++;
        st->base = st->learnt == 1       ? off
                   : st->learnt <= learn ? st->base + (off - st->base) / st->learnt
                                         : det_ewma(st->base, off, 1, slow);
    }
    bool cond = st->away >= (int)min_lines;
    if (!det_latch_update(&st->latch, cond, c->t, 0, clear))
        return false;
    out->score = fabs(st->last_dev);
    out->threshold = jump;
    DET_EVIDENCE(out, "the times written in the log's lines are %.1f s %s the time they "
                 "arrived (usual offset %.1f s; %d lines in a row): the workload's wall "
                 "clock %s", fabs(st->last_dev), st->last_dev > 0 ? "ahead of" : "behind",
                 st->base, st->away,
                 st->last_dev > 0 ? "jumped forward" : "went backwards");
    return true;
}

static const struct det_param clock_params[] = {
    {"jump_s", 5, "in-line times move this far from their usual offset to the arrival time"},
    {"abs_max_s", 600, "or lie this far from the arrival time at all (s)"},
    {"min_lines", 3, "lines in a row, on the same side"},
    {"learn_lines", 5, "lines that set the usual offset before a jump counts"},
    {"follow_lines", 200, "then the usual offset follows new lines with this time constant"},
    {"clear_s", 30, "seconds back at the usual offset before another report"},
    {NULL, 0, NULL},
};

const struct detector_ops det_clock_skew = {
    .name = "clock_skew",
    .label = "Clock_Skew",
    .help = "the timestamps inside the log's lines jump forward or back against the time "
            "moni received the lines (the workload's wall clock jumped or drifts)",
    .signals = "log_time,recv_time",
    .params = clock_params,
    .state_size = sizeof(struct clock_state),
    .tick = clock_tick,
};
