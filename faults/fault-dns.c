/* faults/fault-dns.c — name lookups inside the workload fail or slow down, through its
 * preload library (faults/inject/): getaddrinfo() (or gethostbyname()) of a host
 * matching a glob returns EAI_AGAIN or EAI_NONAME, after an optional delay.  Effective at the first changed
 * lookup the library counts. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/inject-int.h"

static const struct fault_param dns_params[] = {
    {"host", FP_STRING, "", NULL, 0, 0, NULL,
     "host names to fail, a glob (case-insensitive): \"rdzv.local\", \"*.example.com\""},
    {"error", FP_ENUM, "", "EAI_AGAIN", 0, 0, "EAI_AGAIN|EAI_NONAME|none",
     "what getaddrinfo returns (EAI_AGAIN: temporary failure; EAI_NONAME: unknown host)"},
    {"delay", FP_DURATION, "s", "0", 0, 30, NULL, "added before each changed lookup"},
    {"every", FP_INT, "", "1", 1, 1000000, NULL, "change one matched lookup in N"},
};
static const int dns_errors[] = {EAI_AGAIN, EAI_NONAME, 0}; /* as the enum's choices */

/* What the parameters alone can refuse, before anything is journalled (plans, forms). */
static int dns_precheck(const struct fault *f, char *err, size_t errlen)
{
    const char *host = fault_str(f, "host");
    if (!host[0]) {
        snprintf(err, errlen, "host: give the host names to fail (a glob, e.g. host=*.local)");
        return FAULT_ERR_USAGE;
    }
    if (strlen(host) >= INJ_PAT_LEN) {
        snprintf(err, errlen, "host=%s: longer than %d bytes", host, INJ_PAT_LEN - 1);
        return FAULT_ERR_USAGE;
    }
    int e = (int)fault_num(f, "error");
    if ((e < 0 || e >= (int)MONI_ARRAY_LEN(dns_errors) || !dns_errors[e]) && !fault_ns(f, "delay")) {
        snprintf(err, errlen, "error=none needs delay= (it would change nothing)");
        return FAULT_ERR_USAGE;
    }
    return 0;
}

static int dns_arm(struct fault *f, char *err, size_t errlen)
{
    struct inj_rule r = {.kind = INJ_DNS, .every = (uint32_t)fault_num(f, "every")};
    int rc = dns_precheck(f, err, errlen);
    if (rc)
        return rc;
    snprintf(r.pattern, sizeof r.pattern, "%s", fault_str(f, "host"));
    int e = (int)fault_num(f, "error");
    r.err = e >= 0 && e < (int)MONI_ARRAY_LEN(dns_errors) ? dns_errors[e] : 0;
    r.delay_ns = fault_ns(f, "delay");
    snprintf(f->mode, sizeof f->mode, "%s", r.err ? fault_str(f, "error") : "delay");
    f->requested = 1;
    return inj_fault_arm(f, &r, err, errlen);
}

const struct fault_ops fault_dns_ops = {
    .name = "dns",
    .summary = "name lookups inside the workload fail (EAI_AGAIN, EAI_NONAME) or slow down",
    .privileges = "none (the workload runs moni's preload library)",
    .label_kind = "interval",
    .effect_labels = "Network_Timeout,Network_Degradation",
    .check_at_stop = true,
    .dose_unit = "calls",
    .undo = "the rule is cleared from the run's control block (the guardian clears it, and "
            "the library ignores it, when moni dies)",
    .params = dns_params,
    .nparams = MONI_ARRAY_LEN(dns_params),
    .targets = FAULT_TGT_PID,
    .arm = dns_arm,
    .fire = inj_fault_fire,
    .check = inj_fault_check,
    .stop = inj_fault_stop,
    .revert = inj_fault_revert,
    .describe = inj_fault_describe,
    .release = inj_fault_release,
    .precheck = dns_precheck,
};
