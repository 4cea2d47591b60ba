/* core/cmd-replay.c — `moni replay`. Placeholder until the tui work lands. */
#include "core/core.h"

static int cmd_replay_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("replay: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_replay_entry = {
    .name = "replay",
    .usage = "replay RUN_DIR [--blind]",
    .summary = "replay a recorded run in the console",
    .exec = cmd_replay_exec,
};
