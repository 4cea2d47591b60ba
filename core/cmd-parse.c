/* core/cmd-parse.c — `moni parse`. Placeholder until the logparse work lands. */
#include "core/core.h"

static int cmd_parse_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("parse: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_parse_entry = {
    .name = "parse",
    .usage = "parse [--rules PATH]... [--format jsonl|csv|text] FILE...|-",
    .summary = "turn log lines into metrics and events",
    .exec = cmd_parse_exec,
};
