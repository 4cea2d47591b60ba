/* core/cmd-record.c — `moni record`. Placeholder until the observer work lands. */
#include "core/core.h"

static int cmd_record_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("record: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_record_entry = {
    .name = "record",
    .usage = "record --out DIR [--interval D] [--duration D] [--force] [-- CMD ARGS...]",
    .summary = "headless observe-only run (no faults)",
    .exec = cmd_record_exec,
};
