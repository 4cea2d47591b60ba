/* tui/cmd-console.c — `moni [options] [-- CMD ARGS...]`.  Until the console lands this
 * runs a headless `moni record` of the workload, so `make run` already records. */
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

static int cmd_console_exec(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 4, sizeof(char *));
    if (!args)
        return MONI_EXIT_FAIL;
    int n = 0;
    args[n++] = "record";
    for (int i = 1; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    int rc = cmd_record_entry.exec(n, args);
    free(args);
    return rc;
}

const struct cmd_entry cmd_console_entry = {
    .name = "console",
    .usage = "[--out DIR] [--interval D] [-- CMD ARGS...]",
    .summary = "full-screen console (default when no command is given)",
    .exec = cmd_console_exec,
};
