/* core/cmd-recover.c — `moni recover`: undo what killed sessions left behind (their
 * guardian died too, or the machine rebooted), from the state files. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "faults/faults.h"

static int cmd_recover_exec(int argc, char **argv)
{
    bool dry = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n"))
            dry = true;
        else {
            moni_err("recover: unknown argument '%s' (usage: moni %s)", argv[i],
                     cmd_recover_entry.usage);
            return MONI_EXIT_USAGE;
        }
    }
    char dir[512];
    if (guardian_state_dir(dir, sizeof dir) == 0)
        printf("state directory: %s\n", dir);
    int failures = guardian_recover(stdout, dry);
    if (failures < 0) return MONI_EXIT_FAIL; /* an untrusted state directory: said why */
    if (failures) {
        moni_err("recover: %d item(s) could not be undone", failures);
        return MONI_EXIT_FAIL;
    }
    return MONI_EXIT_OK;
}

const struct cmd_entry cmd_recover_entry = {
    .name = "recover",
    .usage = "recover [--dry-run]",
    .summary = "undo leftovers of a killed session (fault processes, files, qdiscs)",
    .exec = cmd_recover_exec,
};
