/* faults/fault-clock.c — the workload's wall clock jumps or drifts, never the
 * machine's: through its preload library (faults/inject/), CLOCK_REALTIME as
 * clock_gettime(), gettimeofday() and time() return it is shifted by an offset plus a
 * drift since the fault fired.  Effective at the first shifted reading. */
#include <stdio.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/inject-int.h"

#define YEAR_S 31536000.0

static const struct fault_param clock_params[] = {
    {"offset", FP_DOUBLE, "s", "0", -YEAR_S, YEAR_S, NULL,
     "seconds added to the wall clock (negative: back in time)"},
    {"drift", FP_DOUBLE, "ppm", "0", -1e6, 1e6, NULL,
     "extra microseconds per second from the firing on (1e6: twice as fast)"},
};

/* What the parameters alone can refuse, before anything is journalled (plans, forms). */
static int clock_precheck(const struct fault *f, char *err, size_t errlen)
{
    if (!(int64_t)(fault_num(f, "offset") * 1e9) && !(int64_t)fault_num(f, "drift")) {
        snprintf(err, errlen, "give offset= or drift= (it would change nothing)");
        return FAULT_ERR_USAGE;
    }
    return 0;
}

static int clock_arm(struct fault *f, char *err, size_t errlen)
{
    struct inj_rule r = {.kind = INJ_CLOCK, .every = 1};
    r.offset_ns = (int64_t)(fault_num(f, "offset") * 1e9);
    r.drift_ppm = (int64_t)fault_num(f, "drift");
    int rc = clock_precheck(f, err, errlen);
    if (rc)
        return rc;
    snprintf(f->mode, sizeof f->mode, "%s", r.drift_ppm ? "drift" : "offset");
    f->requested = 1;
    return inj_fault_arm(f, &r, err, errlen);
}

const struct fault_ops fault_clock_ops = {
    .name = "clock",
    .summary = "the workload's wall clock (CLOCK_REALTIME) jumps by an offset or drifts",
    .privileges = "none (the workload runs moni's preload library)",
    .label_kind = "interval",
    .effect_labels = "Clock_Skew",
    .check_at_stop = true,
    .dose_unit = "calls",
    .undo = "the rule is cleared from the run's control block (the guardian clears it, and "
            "the library ignores it, when moni dies)",
    .params = clock_params,
    .nparams = MONI_ARRAY_LEN(clock_params),
    .targets = FAULT_TGT_PID,
    .arm = clock_arm,
    .fire = inj_fault_fire,
    .check = inj_fault_check,
    .stop = inj_fault_stop,
    .revert = inj_fault_revert,
    .describe = inj_fault_describe,
    .release = inj_fault_release,
    .precheck = clock_precheck,
};
