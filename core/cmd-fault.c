/* core/cmd-fault.c — `moni fault`. Placeholder until the faults work lands. */
#include "core/core.h"

static int cmd_fault_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("fault: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_fault_entry = {
    .name = "fault",
    .usage = "fault list | fault run KIND [key=value...] [--for D] [--out DIR]",
    .summary = "list fault kinds or fire one now",
    .exec = cmd_fault_exec,
};
