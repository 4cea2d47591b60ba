/* cmd/main.c — moni's entry point: the command table and dispatch.
 * `moni` with no command (or with console options / `-- CMD`) starts the console.
 * Everything a command accepts lives in its cmd_entry; this file only picks one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/base.h"

static const struct cmd_entry *const command_table[] = {
    &cmd_console_entry, &cmd_run_entry,      &cmd_record_entry,   &cmd_fault_entry,
    &cmd_parse_entry,   &cmd_diagnose_entry, &cmd_build_entry,    &cmd_validate_entry,
    &cmd_replay_entry,  &cmd_doctor_entry,   &cmd_recover_entry,  &cmd_alerts_entry,
    &cmd_grafana_entry, &cmd_report_entry,   &cmd_study_entry,    &cmd_detect_entry,
    &cmd_top_entry,
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: moni [console options] [-- CMD ARGS...]\n");
    for (size_t i = 0; i < MONI_ARRAY_LEN(command_table); i++) {
        const struct cmd_entry *c = command_table[i];
        if (c == &cmd_console_entry)
            continue;
        fprintf(out, "       moni %s\n", c->usage);
    }
    fprintf(out, "\ncommands:\n");
    for (size_t i = 0; i < MONI_ARRAY_LEN(command_table); i++)
        fprintf(out, "  %-10s %s\n", command_table[i]->name, command_table[i]->summary);
    fprintf(out, "\nEvery command answers --help ('moni run --help').  See moni(1).\n");
}

static const struct cmd_entry *find_command(const char *name)
{
    for (size_t i = 0; i < MONI_ARRAY_LEN(command_table); i++)
        if (strcmp(command_table[i]->name, name) == 0)
            return command_table[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *names[MONI_ARRAY_LEN(command_table) + 1];
    for (size_t i = 0; i < MONI_ARRAY_LEN(command_table); i++)
        names[i] = command_table[i]->name;
    names[MONI_ARRAY_LEN(command_table)] = "help";
    const char *hint = cmd_suggest(name, names, MONI_ARRAY_LEN(names));
    if (hint)
        moni_err("unknown command '%s' (did you mean '%s'?)", name, hint);
    else
        moni_err("unknown command '%s' (see 'moni help')", name);
    return MONI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    moni_clock_init();
    if (argc >= 2) {
        const char *a = argv[1];
        if (!strcmp(a, "help") || !strcmp(a, "--help") || !strcmp(a, "-h")) {
            /* `moni help run` is `moni run --help` */
            const struct cmd_entry *c = argc >= 3 ? find_command(argv[2]) : NULL;
            if (argc >= 3 && !c)
                return unknown_command(argv[2]);
            if (c)
                cmd_print_help(c, c->name, stdout);
            else
                print_usage(stdout);
            return MONI_EXIT_OK;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "version")) {
            printf("moni %s\n", MONI_VERSION);
            return MONI_EXIT_OK;
        }
        const struct cmd_entry *c = find_command(a);
        if (c)
            return cmd_dispatch(c, c->name, argc - 1, argv + 1);
        if (a[0] != '-')
            return unknown_command(a);
    }
    /* No command: the console; it sees its own options as argv[1..]. */
    argv[0] = (char *)"console";
    return cmd_dispatch(&cmd_console_entry, "console", argc, argv);
}
