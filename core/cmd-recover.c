/* core/cmd-recover.c — `moni recover`. Placeholder until the faults work lands. */
#include "core/core.h"

static int cmd_recover_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("recover: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_recover_entry = {
    .name = "recover",
    .usage = "recover",
    .summary = "undo leftovers of a killed session",
    .exec = cmd_recover_exec,
};
