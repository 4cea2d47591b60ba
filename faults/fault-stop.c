/* faults/fault-stop.c — a hang: SIGSTOP the workload (or a process in its tree) for
 * the fault's window, then SIGCONT.  Effective when /proc shows state T; the guardian
 * holds the pid so it is continued even if moni dies. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static const struct fault_param stop_params[] = {
    {"duration", FP_DURATION, "s", NULL, 0.001, 86400, NULL,
     "how long to stay stopped (default: the fault's window, --for / +FOR)"},
    {"name", FP_STRING, "", NULL, 0, 0, NULL, "a process name (comm) in the target's tree"},
};

struct stop_state {
    pid_t pid;
    uint64_t start;
    bool sent;
    int64_t stopped_ns, continued_ns;
};

static int stop_arm(struct fault *f, char *err, size_t errlen)
{
    struct stop_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->pid = fault_target_pid_named(f, err, errlen);
    if (s->pid < 0)
        return FAULT_ERR_USAGE;
    if (fault_given(f, "duration") && f->for_ns == 0)
        f->for_ns = fault_ns(f, "duration");
    if (f->for_ns > f->max_ns)
        f->for_ns = f->max_ns;
    f->requested = (double)(f->for_ns ? f->for_ns : f->max_ns) / 1e9;
    snprintf(f->mode, sizeof f->mode, "SIGSTOP");
    return 0;
}

static int stop_fire(struct fault *f, char *err, size_t errlen)
{
    struct stop_state *s = f->priv;
    s->start = fault_proc_starttime(s->pid);
    fault_undo_cont(f, s->pid); /* before it is stopped */
    if (s->start == 0 || kill(s->pid, SIGSTOP) != 0) {
        snprintf(err, errlen, "kill(%d, SIGSTOP): %s", (int)s->pid,
                 s->start ? strerror(errno) : "no such process");
        return FAULT_ERR_FAIL;
    }
    s->sent = true;
    return 0;
}

static int stop_check(struct fault *f, int64_t now)
{
    struct stop_state *s = f->priv;
    int st = fault_proc_state(s->pid);
    if (st == 0 || st == 'Z' || fault_proc_starttime(s->pid) != s->start) {
        snprintf(f->error, sizeof f->error, "target %d exited while stopped", (int)s->pid);
        return FAULT_CHECK_FAILED;
    }
    if (!f->effective && (st == 'T' || st == 't')) {
        s->stopped_ns = now;
        snprintf(f->effect_detail, sizeof f->effect_detail, "process %d in state T", (int)s->pid);
        return FAULT_CHECK_EFFECTIVE;
    }
    if (f->effective) {
        f->delivered = (double)(now - s->stopped_ns) / 1e9;
        f->delivered_valid = true;
    }
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void stop_stop(struct fault *f)
{
    struct stop_state *s = f->priv;
    if (!s || !s->sent)
        return;
    if (fault_proc_starttime(s->pid) == s->start)
        kill(s->pid, SIGCONT);
    s->continued_ns = moni_mono_ns();
    if (s->stopped_ns) {
        f->delivered = (double)(s->continued_ns - s->stopped_ns) / 1e9;
        f->delivered_valid = true;
    }
}

static int stop_revert(struct fault *f, char *err, size_t errlen)
{
    struct stop_state *s = f->priv;
    if (!s || !s->sent)
        return 0;
    int st = 'T';
    for (int i = 0; i < 100; i++) {
        st = fault_proc_state(s->pid);
        if (st != 'T' && st != 't')
            return 0;
        if (fault_proc_starttime(s->pid) != s->start)
            return 0;
        moni_sleep_ns(2 * MONI_NS_PER_MS);
    }
    snprintf(err, errlen, "process %d still stopped after SIGCONT", (int)s->pid);
    return -1;
}

static void stop_describe(const struct fault *f, cJSON *d)
{
    const struct stop_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddNumberToObject(d, "pid", s->pid);
    if (s->stopped_ns && (s->continued_ns || f->state == FAULT_FIRING))
        cJSON_AddNumberToObject(d, "stopped_s", f->delivered);
}

const struct fault_ops fault_stop_ops = {
    .name = "stop",
    .summary = "hang the workload: SIGSTOP for a duration, then SIGCONT",
    .privileges = "permission to signal the target (same user or CAP_KILL)",
    .label_kind = "interval",
    .effect_labels = "Process_Hang",
    .dose_unit = "s",
    .undo = "SIGCONT (also sent by the guardian if moni dies)",
    .params = stop_params,
    .nparams = MONI_ARRAY_LEN(stop_params),
    .targets = FAULT_TGT_PID | FAULT_TGT_REQUIRED,
    .arm = stop_arm,
    .fire = stop_fire,
    .check = stop_check,
    .stop = stop_stop,
    .revert = stop_revert,
    .describe = stop_describe,
    .release = fault_release_priv,
};
