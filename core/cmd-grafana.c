/* core/cmd-grafana.c — `moni grafana`. Placeholder until the sre work lands. */
#include "core/core.h"

static int cmd_grafana_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("grafana: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_grafana_entry = {
    .name = "grafana",
    .usage = "grafana export",
    .summary = "write a Grafana dashboard for the exported metrics",
    .exec = cmd_grafana_exec,
};
