/* cmd/cmd-recover.c — `moni recover`: undo what killed sessions left behind (their
 * guardian died too, or the machine rebooted), from the state files. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "faults/faults.h"

static int cmd_recover_exec(struct cmd_args *a)
{
    bool dry = cmd_flag(a, "dry-run");
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

static const struct cmd_opt recover_opts[] = {
    {"dry-run", 'n', NULL, 0, "show what would be undone, undo nothing"},
    {0},
};

const struct cmd_entry cmd_recover_entry = {
    .name = "recover",
    .usage = "recover [--dry-run]",
    .summary = "undo leftovers of a killed session (fault processes, files, qdiscs)",
    .args = {.opts = recover_opts},
    .exec = cmd_recover_exec,
};
