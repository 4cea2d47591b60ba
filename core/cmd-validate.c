/* core/cmd-validate.c — `moni validate`. Placeholder until the run work lands. */
#include "core/core.h"

static int cmd_validate_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("validate: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_validate_entry = {
    .name = "validate",
    .usage = "validate RUN_DIR...",
    .summary = "data-quality report per run",
    .exec = cmd_validate_exec,
};
