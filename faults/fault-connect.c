/* faults/fault-connect.c — outgoing connections inside the workload are refused, time
 * out, are slowed or reset after some bytes, through its preload library
 * (faults/inject/): connect() to an address matching a glob (and a port, --port or
 * port=N; none = any).  Effective at the first changed connect() the library counts. */
#include <stdio.h>
#include <string.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/inject-int.h"

static const struct fault_param connect_params[] = {
    {"host", FP_STRING, "", "*", 0, 0, NULL,
     "numeric addresses to act on, a glob: \"127.0.0.1\", \"10.0.*\", \"*\" (default)"},
    {"action", FP_ENUM, "", "refuse", 0, 0, "refuse|timeout|delay|reset",
     "refuse: ECONNREFUSED at once; timeout: ETIMEDOUT after delay; delay: connect late; "
     "reset: sends fail with ECONNRESET after `after` bytes"},
    {"after", FP_SIZE, "B", "0", 0, 1ull << 40, NULL, "for reset: bytes sent before the reset"},
    {"delay", FP_DURATION, "s", "1s", 0, 120, NULL, "for timeout and delay"},
    {"every", FP_INT, "", "1", 1, 1000000, NULL, "change one matched connect in N"},
};

static int connect_arm(struct fault *f, char *err, size_t errlen)
{
    struct inj_rule r = {.kind = INJ_CONNECT, .every = (uint32_t)fault_num(f, "every")};
    const char *host = fault_str(f, "host");
    if (strlen(host) >= sizeof r.pattern || !host[0]) {
        snprintf(err, errlen, "host=%s: give an address glob shorter than %zu bytes", host,
                 sizeof r.pattern);
        return FAULT_ERR_USAGE;
    }
    snprintf(r.pattern, sizeof r.pattern, "%s", host);
    static const uint32_t actions[] = {INJ_CONN_REFUSE, INJ_CONN_TIMEOUT, INJ_CONN_DELAY,
                                       INJ_CONN_RESET};
    int a = (int)fault_num(f, "action");
    r.ops = a >= 0 && a < (int)MONI_ARRAY_LEN(actions) ? actions[a] : INJ_CONN_REFUSE;
    r.delay_ns = fault_ns(f, "delay");
    r.reset_after = (uint64_t)fault_num(f, "after");
    r.port = f->target.port > 0 && f->target.port < 65536 ? (uint32_t)f->target.port : 0;
    snprintf(f->mode, sizeof f->mode, "%s", fault_str(f, "action"));
    f->requested = 1;
    return inj_fault_arm(f, &r, err, errlen);
}

const struct fault_ops fault_connect_ops = {
    .name = "connect",
    .summary = "connections from inside the workload are refused, time out or are delayed",
    .privileges = "none (the workload runs moni's preload library)",
    .label_kind = "interval",
    .effect_labels = "Network_Timeout,Network_Degradation",
    .check_at_stop = true,
    .dose_unit = "calls",
    .undo = "the rule is cleared from the run's control block (the guardian clears it, and "
            "the library ignores it, when moni dies)",
    .params = connect_params,
    .nparams = MONI_ARRAY_LEN(connect_params),
    .targets = FAULT_TGT_PORT,
    .arm = connect_arm,
    .fire = inj_fault_fire,
    .check = inj_fault_check,
    .stop = inj_fault_stop,
    .revert = inj_fault_revert,
    .describe = inj_fault_describe,
    .release = inj_fault_release,
};
