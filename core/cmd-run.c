/* core/cmd-run.c — `moni run`. Placeholder until the  one run or a whole plan:run work lands. */
#include "core/core.h"

static int cmd_run_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("run: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .usage = "run [--plan FILE]... [--fault SPEC]... [--out DIR] [--interval D] [--duration D] [--quick] [-- CMD ARGS...]",
    .summary = "headless run",
    .exec = cmd_run_exec,
};
