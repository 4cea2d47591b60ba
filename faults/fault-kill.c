/* faults/fault-kill.c — a signal (default SIGKILL) to the workload, or to a PID or a
 * process name inside its tree.  A point fault: effective when the process is gone
 * (for signals that end it by default) or when the signal was delivered.  Stopping
 * signals (STOP, TSTP, TTIN, TTOU) are refused: that is the `stop` kind. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static const struct fault_param kill_params[] = {
    {"signal", FP_SIGNAL, "", "KILL", 0, 0, NULL, "signal name or number"},
    {"name", FP_STRING, "", NULL, 0, 0, NULL,
     "a process name (comm) in the target's tree instead of the target itself"},
    {"survive", FP_DURATION, "s", "10s", 0.01, 600, NULL,
     "give up (failed) if a terminating signal has not ended the process after this"},
};

struct kill_state {
    pid_t pid;
    uint64_t start;
    int sig;
    bool terminating;
    char end[64];
};

static bool ends_process(int sig)
{
    switch (sig) {
    case SIGCONT: case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU: case SIGCHLD:
    case SIGURG: case SIGWINCH:
        return false;
    default:
        return true;
    }
}

static int kill_arm(struct fault *f, char *err, size_t errlen)
{
    struct kill_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->pid = fault_target_pid_named(f, err, errlen);
    if (s->pid < 0)
        return FAULT_ERR_USAGE;
    s->sig = (int)fault_num(f, "signal");
    if (s->sig == SIGSTOP || s->sig == SIGTSTP || s->sig == SIGTTIN || s->sig == SIGTTOU) {
        /* nothing would continue it: a hang is the stop kind, with its undo and maximum */
        snprintf(err, errlen, "signal=%s would leave the target stopped for good; use the stop "
                 "fault (stop:duration=D) instead", sigabbrev_np(s->sig));
        return FAULT_ERR_USAGE;
    }
    s->terminating = ends_process(s->sig);
    snprintf(f->mode, sizeof f->mode, "SIG%s", sigabbrev_np(s->sig) ? sigabbrev_np(s->sig) : "?");
    f->requested = 1;
    return 0;
}

static int kill_fire(struct fault *f, char *err, size_t errlen)
{
    struct kill_state *s = f->priv;
    s->start = fault_proc_starttime(s->pid);
    if (s->start == 0 || kill(s->pid, s->sig) != 0) {
        snprintf(err, errlen, "kill(%d, %s): %s", (int)s->pid, f->mode,
                 s->start ? strerror(errno) : "no such process");
        return FAULT_ERR_FAIL;
    }
    return 0;
}

static int kill_check(struct fault *f, int64_t now)
{
    struct kill_state *s = f->priv;
    f->delivered = 1;
    f->delivered_valid = true;
    if (!s->terminating) {
        snprintf(f->effect_detail, sizeof f->effect_detail, "%s delivered to %d", f->mode, (int)s->pid);
        return FAULT_CHECK_DONE;
    }
    int st = fault_proc_state(s->pid);
    if (st == 0 || st == 'Z' || st == 'X' || fault_proc_starttime(s->pid) != s->start) {
        snprintf(s->end, sizeof s->end, "%s", st == 'Z' ? "zombie" : "gone");
        snprintf(f->effect_detail, sizeof f->effect_detail, "process %d %s", (int)s->pid, s->end);
        return FAULT_CHECK_DONE;
    }
    if (now - f->fired_ns > fault_ns(f, "survive")) {
        snprintf(f->error, sizeof f->error, "process %d survived %s", (int)s->pid, f->mode);
        return FAULT_CHECK_FAILED;
    }
    return FAULT_CHECK_WAIT;
}

static void kill_describe(const struct fault *f, cJSON *d)
{
    const struct kill_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddNumberToObject(d, "pid", s->pid);
    cJSON_AddNumberToObject(d, "signal", s->sig);
    if (s->end[0])
        cJSON_AddStringToObject(d, "process", s->end);
}

const struct fault_ops fault_kill_ops = {
    .name = "kill",
    .summary = "send a signal (default SIGKILL) to the workload or a process in its tree",
    .privileges = "permission to signal the target (same user or CAP_KILL)",
    .label_kind = "point",
    .effect_labels = "Process_Killed,Host_OOM",
    .dose_unit = "signals",
    .undo = "nothing to undo",
    .params = kill_params,
    .nparams = MONI_ARRAY_LEN(kill_params),
    .targets = FAULT_TGT_PID | FAULT_TGT_REQUIRED,
    .arm = kill_arm,
    .fire = kill_fire,
    .check = kill_check,
    .describe = kill_describe,
    .release = fault_release_priv,
};
