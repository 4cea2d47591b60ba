/* core/cmd-doctor.c — `moni doctor`. Placeholder until the sre work lands. */
#include "core/core.h"

static int cmd_doctor_exec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moni_err("doctor: not available in this build");
    return MONI_EXIT_FAIL;
}

const struct cmd_entry cmd_doctor_entry = {
    .name = "doctor",
    .usage = "doctor",
    .summary = "what works on this machine and why not",
    .exec = cmd_doctor_exec,
};
