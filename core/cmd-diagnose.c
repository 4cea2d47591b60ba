/* core/cmd-diagnose.c — `moni diagnose`. Placeholder until the logparse work lands. */
#include "core/core.h"

static int cmd_diagnose_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("diagnose: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_diagnose_entry = {
    .name = "diagnose",
    .usage = "diagnose RUN_DIR|LOGFILE... [--json]",
    .summary = "name the root cause of a failed run",
    .exec = cmd_diagnose_exec,
};
