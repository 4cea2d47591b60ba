/* core/detect-fate.c — process detectors: the workload stopped (state T), and how it
 * ended: moni's own scheduled stop is not a failure; a signal from elsewhere is a
 * kill (Host_OOM when the kernel log shows an OOM kill of it); a non-zero exit is a
 * crash whose cause the log tells. */
#include <string.h>

#include "core/detect-int.h"

/* ---- process_stopped ---------------------------------------------------------------- */

struct stopped_state {
    double since;
    bool seen, fired;
};

static bool stopped_tick(struct det_ctx *c, void *state, struct detection *out)
{
    struct stopped_state *st = state;
    double t_count = c->col[DC_PROC_T];
    if (c->ended || isnan(t_count) || t_count < 1) {
        st->seen = st->fired = false;
        return false;
    }
    if (!st->seen) {
        st->seen = true;
        st->since = c->t;
    }
    if (st->fired || c->t - st->since < c->p[0] - 1e-6)
        return false;
    st->fired = true;
    out->score = c->t - st->since;
    out->threshold = c->p[0];
    double hb = c->col[DC_HEARTBEAT];
    if (!isnan(hb))
        DET_EVIDENCE(out, "%.0f workload process(es) stopped (state T) for %.1f s; last log "
                     "line %.1f s ago", t_count, c->t - st->since, hb);
    else
        DET_EVIDENCE(out, "%.0f workload process(es) stopped (state T) for %.1f s", t_count,
                     c->t - st->since);
    return true;
}

static const struct det_param stopped_params[] = {
    {"min_stopped_s", 0.5, "seconds a workload process stays in state T before it is reported"},
    {NULL, 0, NULL},
};

const struct detector_ops det_process_stopped = {
    .name = "process_stopped",
    .label = "Process_Hang",
    .help = "a workload process is stopped (SIGSTOP, job control): it makes no progress",
    .signals = "proc_state_T,proc_heartbeat_age_s",
    .params = stopped_params,
    .state_size = sizeof(struct stopped_state),
    .tick = stopped_tick,
};

/* ---- process_exit ------------------------------------------------------------------- */

static bool exit_tick(struct det_ctx *c, void *state, struct detection *out)
{
    const struct det_fate *fate = c->fate;
    (void)state;
    if (!fate || fate->scheduled || (fate->signal == 0 && fate->exit_code == 0))
        return false;
    out->threshold = 0;
    if (fate->signal) {
        out->score = fate->signal;
        out->label = fate->oom_killed ? "Host_OOM" : "Process_Killed";
        DET_EVIDENCE(out, "the workload was killed by signal %d (%s), not by moni%s",
                     fate->signal, strsignal(fate->signal),
                     fate->oom_killed ? "; the kernel log shows an OOM kill of it" : "");
    } else {
        out->score = fate->exit_code;
        out->label = fate->exit_code == 137 && fate->oom_killed ? "Host_OOM" : "Process_Crash";
        DET_EVIDENCE(out, "the workload exited with status %d before moni stopped it",
                     fate->exit_code);
    }
    return true;
}

static const struct det_param exit_params[] = {
    {NULL, 0, NULL},
};

const struct detector_ops det_process_exit = {
    .name = "process_exit",
    .label = "Process_Killed",
    .help = "the workload ended by itself: killed by a signal (Host_OOM when the kernel "
            "killed it for memory) or a non-zero exit status (Process_Crash)",
    .signals = "exit_status",
    .params = exit_params,
    .state_size = 0,
    .tick = exit_tick,
};
