/* core/detect-train.c — training-health detectors over the metrics parsed from the
 * log: a non-finite loss, a diverging loss, a loss that never falls, progress that
 * slows against the run's own baseline, and progress that stops while the process
 * lives.  They read only the shared training state and the tick context. */
#include <stdlib.h>
#include <string.h>

#include "core/detect-int.h"

/* ---- shared progress helpers ------------------------------------------------------ */

static double series_at(const struct det_series *s, int i, bool value)
{
    return value ? det_series_v(s, i) : det_series_t(s, i);
}

int det_series_count_since(const struct det_series *s, double t, double window_s)
{
    int n = 0;
    for (int i = s->n - 1; i >= 0 && series_at(s, i, false) >= t - window_s; i--)
        n++;
    return n;
}

/* The index of the last point at or before t, or 0 when every point is after it
 * (binary search on a series whose times never went back). */
static int last_at_or_before(const struct det_series *s, double t)
{
    if (s->unordered) {
        int k = 0;
        for (int i = 0; i < s->n && series_at(s, i, false) <= t; i++)
            k = i;
        return k;
    }
    int lo = 0, hi = s->n; /* first index after t */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (series_at(s, mid, false) > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo > 0 ? lo - 1 : 0;
}

double det_progress_rate(const struct det_train *tr, double t, double window_s)
{
    const struct det_series *s = tr->steps.n > 0 ? &tr->steps : &tr->record_count;
    if (s->n == 0)
        return NAN;
    /* the value at the window's start is the last point before it (or the first) */
    double start_t = t - window_s;
    int k = last_at_or_before(s, start_t);
    double v0 = series_at(s, k, true), t0 = series_at(s, k, false);
    double from = t0 > start_t ? t0 : start_t;
    if (t - from < window_s * 0.5)
        return NAN; /* too little history to tell a rate */
    return (series_at(s, s->n - 1, true) - v0) / (t - from);
}

double det_median_interval(const struct det_train *tr)
{
    if (tr->intervals.n < 3)
        return NAN;
    return tr->intervals_sorted[tr->nintervals_sorted / 2];
}

/* ---- loss_nonfinite: NaN or Inf in the loss --------------------------------------- */

struct nonfinite_state {
    bool fired;
    double fired_t;
};

static bool nonfinite_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct nonfinite_state *st = state;
    const struct det_train *tr = c->train;
    if (st->fired && tr->nonfinite_pending == 0 && c->t - st->fired_t >= c->p[0])
        st->fired = false;
    if (st->fired || tr->nonfinite_pending == 0)
        return false;
    st->fired = true;
    st->fired_t = c->t;
    out->score = tr->nonfinite_pending;
    out->threshold = 1;
    DET_EVIDENCE(out, "the logged %s is %s (%d non-finite value%s since the last sample)",
                 tr->nonfinite_field ? tr->nonfinite_field : "loss",
                 isnan(tr->nonfinite_value) ? "nan" : tr->nonfinite_value > 0 ? "inf" : "-inf",
                 tr->nonfinite_pending, tr->nonfinite_pending == 1 ? "" : "s");
    return true;
}

static const struct det_param nonfinite_params[] = {
    {"rearm_s", 60, "seconds after a detection before another non-finite loss counts again"},
    {NULL, 0, NULL},
};

const struct detector_ops det_loss_nonfinite = {
    .name = "loss_nonfinite",
    .label = "NaN_Loss",
    .help = "the loss in the log is nan or inf",
    .signals = "loss",
    .params = nonfinite_params,
    .state_size = sizeof(struct nonfinite_state),
    .tick = nonfinite_tick,
};

/* ---- loss_divergence: the loss climbs far above its best -------------------------- */

/* Judged on medians: the level now is the median of the last 5 logged losses, the
 * reference the median of up to 59 losses before them.  Minima are no reference: a
 * healthy 15-epoch run logged 0.08 once among values of 0.2 to 0.4, and its later
 * values then read as 3-5x "the best" all the time; a diverging loss, by contrast,
 * leaves its own recent past behind within a few logged values. */
#define DIV_NOW 5
#define DIV_WIN 64

struct divergence_state {
    long seen, count;
    double recent[DIV_WIN];
    /* recent[] sorted: all of it (the last DIV_WIN losses), and the DIV_WIN - DIV_NOW
     * before the last DIV_NOW (the reference); kept as losses come and go */
    double past_sorted[DIV_WIN], base_sorted[DIV_WIN - DIV_NOW];
    int npast, nbase;
    double base; /* the reference at the last judgement */
    int above;
    bool fired;
};

/* The median of the last n (at most DIV_NOW) logged losses. */
static double level_median(const struct divergence_state *st, int n)
{
    if (n > st->count)
        n = (int)st->count;
    if (n <= 0)
        return NAN;
    double v[DIV_NOW];
    for (int i = 0; i < n; i++) { /* insertion sort of at most DIV_NOW */
        double x = st->recent[(st->count - 1 - i) % DIV_WIN];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return det_sorted_median(v, n);
}

/* Logs one loss: the ring and both sorted windows move by one. */
static void divergence_push(struct divergence_state *st, double v)
{
    long c = st->count;
    if (c >= DIV_WIN) { /* the oldest leaves both windows */
        double old = st->recent[c % DIV_WIN];
        det_sorted_remove(st->past_sorted, &st->npast, old);
        det_sorted_remove(st->base_sorted, &st->nbase, old);
    }
    if (c >= DIV_NOW) /* the loss DIV_NOW back joins the reference */
        det_sorted_insert(st->base_sorted, &st->nbase, st->recent[(c - DIV_NOW) % DIV_WIN]);
    det_sorted_insert(st->past_sorted, &st->npast, v);
    st->recent[c % DIV_WIN] = v;
    st->count++;
}

static bool divergence_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct divergence_state *st = state;
    const struct det_train *tr = c->train;
    const double ratio = c->p[0], min_losses = c->p[1], sustain = c->p[2], extreme = c->p[3];
    long fresh = tr->nloss - st->seen;
    if (fresh > tr->loss.n)
        fresh = tr->loss.n;
    st->seen = tr->nloss;
    double last = NAN, level = NAN;
    bool blown = false;
    for (long i = tr->loss.n - fresh; i < tr->loss.n; i++) {
        double v = series_at(&tr->loss, (int)i, true);
        if (!isfinite(v))
            continue; /* loss_nonfinite's business */
        /* orders of magnitude above the past need no history: an lr of 10 takes a
         * loss of 0.69 to 1e7 in one logging interval */
        double past = det_sorted_median(st->past_sorted, st->npast);
        if (st->count >= 2 && past > 0 && v > extreme * past) {
            blown = true;
            st->base = past;
        }
        divergence_push(st, v);
        if (blown)
            break;
        level = level_median(st, DIV_NOW);
        double base = det_sorted_median(st->base_sorted, st->nbase);
        if (st->count > (long)min_losses && base > 0 && level > ratio * base) {
            if (!st->above)
                st->base = base;
            st->above++;
        } else {
            st->above = 0;
        }
        last = v;
    }
    if (st->fired || (st->above < (int)sustain && !blown))
        return false;
    st->fired = true;
    double shown = blown ? st->recent[(st->count - 1) % DIV_WIN] : level;
    (void)last;
    out->score = shown / st->base;
    out->threshold = ratio;
    DET_EVIDENCE(out, "the loss rose to %.4g, %.3gx its level before, %.4g (%s)", shown,
                 shown / st->base, st->base,
                 blown ? "one logged value" : "median of the last 5 logged values");
    return true;
}

static const struct det_param divergence_params[] = {
    {"ratio", 3, "the median of the last 5 losses is this many times the median of the 59 before"},
    {"min_losses", 10, "logged losses before the detector judges"},
    {"sustain", 1, "logged losses in a row whose 5-median is above the ratio (a median is 3 values already)"},
    {"extreme_ratio", 100, "a loss this many times the median before it is divergence at once"},
    {NULL, 0, NULL},
};

const struct detector_ops det_loss_divergence = {
    .name = "loss_divergence",
    .label = "NaN_Loss",
    .help = "the loss climbs far above its best value: divergence, usually on the way to nan",
    .signals = "loss",
    .params = divergence_params,
    .state_size = sizeof(struct divergence_state),
    .tick = divergence_tick,
};

/* ---- no_convergence: the loss never falls from where it started ------------------- */

struct noconv_state {
    bool fired;
};

static bool noconv_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct noconv_state *st = state;
    const struct det_train *tr = c->train;
    const double min_time = c->p[0], min_losses = c->p[1], min_drop = c->p[2],
                 frac = c->p[3], min_window = c->p[4];
    if (st->fired || tr->loss_first_n < DET_LOSS_FIRST || tr->nloss < (long)min_losses ||
        c->t < min_time)
        return false;
    double first = 0;
    for (int i = 0; i < DET_LOSS_FIRST; i++)
        first += tr->loss_first[i] / DET_LOSS_FIRST;
    double window = frac * c->t > min_window ? frac * c->t : min_window, sum = 0;
    int n = 0;
    for (int i = tr->loss.n - 1; i >= 0 && series_at(&tr->loss, i, false) >= c->t - window; i--)
        sum += series_at(&tr->loss, i, true), n++;
    if (n < 3 || first <= 0)
        return false;
    double recent = sum / n, drop = 1.0 - recent / first;
    if (drop >= min_drop)
        return false;
    st->fired = true;
    out->score = drop;
    out->threshold = min_drop;
    DET_EVIDENCE(out, "after %.0f s and %ld logged losses the loss is %.4g, %.1f%% below its "
                 "starting %.4g (a learning run falls by %.0f%% or more)",
                 c->t, tr->nloss, recent, 100 * drop, first, 100 * min_drop);
    return true;
}

static const struct det_param noconv_params[] = {
    {"min_time_s", 30, "seconds of run before the detector judges"},
    {"min_losses", 10, "logged losses before the detector judges"},
    {"min_drop", 0.05, "the fraction by which a learning run's loss has fallen"},
    {"window_frac", 0.25, "the recent window, as a fraction of the run so far"},
    {"min_window_s", 15, "the recent window is at least this long"},
    {NULL, 0, NULL},
};

const struct detector_ops det_no_convergence = {
    .name = "no_convergence",
    .label = "No_Convergence",
    .help = "the loss stays at its starting level (learning rate too small, frozen weights)",
    .signals = "loss",
    .params = noconv_params,
    .state_size = sizeof(struct noconv_state),
    .tick = noconv_tick,
};

/* ---- throughput_drop: progress well below the run's own usual rate ---------------- */

struct thr_state {
    struct det_latch latch;
};

static bool thr_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct thr_state *st = state;
    const double ratio = c->p[0], sustain = c->p[1], clear = c->p[2];
    bool cond = !c->ended && !isnan(c->rate) && !isnan(c->rate_base) && c->rate_base > 0 &&
                c->rate < ratio * c->rate_base;
    if (!det_latch_update(&st->latch, cond, c->t, sustain, clear))
        return false;
    out->score = c->rate / c->rate_base;
    out->threshold = ratio;
    DET_EVIDENCE(out, "progress at %.3g/s, %.0f%% of the run's usual %.3g/s", c->rate,
                 100 * c->rate / c->rate_base, c->rate_base);
    return true;
}

static const struct det_param thr_params[] = {
    {"ratio", 0.5, "progress below this fraction of the run's usual rate"},
    {"sustain_s", 5, "seconds the drop lasts before it is reported"},
    {"clear_s", 10, "seconds back at the usual rate before another report"},
    {NULL, 0, NULL},
};

const struct detector_ops det_throughput_drop = {
    .name = "throughput_drop",
    .label = "Slowdown",
    .help = "training progress (steps or logged records per second) falls well below the "
            "run's own recent rate",
    .signals = "step,progress_rate",
    .params = thr_params,
    .state_size = sizeof(struct thr_state),
    .tick = thr_tick,
};

/* ---- progress_stall: no progress while the process lives -------------------------- */

struct stall_state {
    bool fired;
};

static bool stall_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct stall_state *st = state;
    const struct det_train *tr = c->train;
    const double min_silence = c->p[0], mult = c->p[1];
    if (c->ended || isnan(tr->last_progress_t) || c->col[DC_PROC_ALIVE] == 0)
        return false;
    double silence = c->t - tr->last_progress_t, med = det_median_interval(tr);
    double limit = !isnan(med) && mult * med > min_silence ? mult * med : min_silence;
    if (silence < limit) {
        st->fired = false;
        return false;
    }
    if (st->fired)
        return false;
    st->fired = true;
    out->score = silence;
    out->threshold = limit;
    if (!isnan(tr->step))
        DET_EVIDENCE(out, "no progress line for %.0f s while the workload lives (usual interval "
                     "%.2g s); the last was at step %.0f", silence, isnan(med) ? 0 : med,
                     tr->step);
    else
        DET_EVIDENCE(out, "no progress line for %.0f s while the workload lives (usual interval "
                     "%.2g s)", silence, isnan(med) ? 0 : med);
    return true;
}

static const struct det_param stall_params[] = {
    {"min_silence_s", 30, "seconds without a progress line before a stall is reported"},
    {"interval_mult", 10, "or this many times the usual interval between progress lines"},
    {NULL, 0, NULL},
};

const struct detector_ops det_progress_stall = {
    .name = "progress_stall",
    .label = "Process_Hang",
    .help = "progress lines stop while the workload's process is alive (a hang or deadlock)",
    .signals = "step,proc_alive",
    .params = stall_params,
    .state_size = sizeof(struct stall_state),
    .tick = stall_tick,
};
