/* core/cmd-alerts.c — `moni alerts`. Placeholder until the sre work lands. */
#include "core/core.h"

static int cmd_alerts_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("alerts: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_alerts_entry = {
    .name = "alerts",
    .usage = "alerts export [--rules FILE]",
    .summary = "export alert rules for Prometheus",
    .exec = cmd_alerts_exec,
};
