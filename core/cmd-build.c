/* core/cmd-build.c — `moni build`. Placeholder until the run work lands. */
#include "core/core.h"

static int cmd_build_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("build: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_build_entry = {
    .name = "build",
    .usage = "build RUN_DIR...",
    .summary = "(re)derive the dataset files from raw files",
    .exec = cmd_build_exec,
};
