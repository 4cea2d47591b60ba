/* cmd/cmd.h — moni's subcommands as data.
 *
 * Every command is one const struct cmd_entry (the way tmux's cmd_entry carries
 * .args): its name, usage line, summary, option spec and exec function.  One shared
 * parser (cmd/args.c) reads argv from the spec, so every command answers --help
 * with its options, and a mistyped command or option gets one line, exit 2 and a
 * "did you mean ...?".  Commands with subcommands ("fault list|run", "alerts
 * export|check") list them in .subs and are dispatched the same way.
 *
 * cmd/ sits at the top beside tui/: it may include core, tui, faults and logparse
 * headers; nothing below includes cmd/ (tests/check-layers.sh).
 *
 *   static const struct cmd_opt opts[] = {
 *       {"out", 0, "DIR", 0, "run directory"},
 *       {"force", 0, NULL, 0, "accept a non-empty --out"},
 *       {0}};
 *   const struct cmd_entry cmd_x_entry = {.name = "x", .usage = "x [--out DIR]",
 *       .summary = "...", .args = {.opts = opts}, .exec = x_exec};
 *   static int x_exec(struct cmd_args *a) { const char *out = cmd_arg(a, "out"); ... } */
#ifndef MONI_CMD_H
#define MONI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One option of a command. */
struct cmd_opt {
    const char *name;    /* long name without the dashes: "out" for --out */
    char short_name;     /* 'q' for -q, or 0 */
    const char *metavar; /* the value's kind as shown in help ("DIR", "D", "SPEC");
                            NULL = a flag without a value */
    int max;             /* 0: once (given again, the later value wins);
                            N >= 2: repeatable up to N times, more is an error */
    const char *help;    /* one line for --help */
};

/* What a command accepts besides its options. */
struct cmd_spec {
    const struct cmd_opt *opts; /* ends with an entry whose name is NULL; NULL = none */
    int min_pos, max_pos;       /* positional arguments (anywhere between options);
                                   max_pos < 0 = no limit */
    const char *pos_name;       /* what they are, for messages: "RUN_DIR" */
    bool command;               /* takes "-- CMD ARGS..." (the workload) */
};

struct cmd_args;

struct cmd_entry {
    const char *name;
    const char *usage;   /* after "moni ": "record --out DIR [--interval D] ..." */
    const char *summary; /* one line for `moni help` */
    struct cmd_spec args;
    /* Nested subcommands (NULL-terminated), dispatched on the first argument; a
     * command with subs has no exec of its own. */
    const struct cmd_entry *const *subs;
    bool hidden;         /* not listed in help (test helpers) */
    /* Runs the command on parsed arguments; returns the exit status. */
    int (*exec)(struct cmd_args *a);
};

/* Parsed arguments: option values point into argv. */
struct cmd_val {
    int opt;           /* index in the spec's opts */
    const char *value; /* NULL for a flag */
};
struct cmd_args {
    const struct cmd_entry *entry;
    char path[64];      /* "fault run": how messages name the command */
    struct cmd_val *vals; /* in command-line order */
    int nvals;
    char **pos;         /* positional arguments, NULL-terminated */
    int npos;
    char **cmd;         /* after "--" when the spec takes a command (NULL-terminated), or NULL */
};

/* Parses argv (argv[0] = the command's name) with e->args.  true: a is filled (free
 * it with cmd_args_free).  false: *status is the exit status, after --help was
 * printed (0) or after a one-line error on stderr (2). */
bool cmd_args_parse(const struct cmd_entry *e, const char *path, int argc, char **argv,
                    struct cmd_args *a, int *status);
void cmd_args_free(struct cmd_args *a);
/* Looking up an option by its long name (a name not in the spec is a bug: abort).
 * cmd_arg: the last value given, or NULL.  cmd_flag: given at least once.
 * cmd_arg_count: how often.  cmd_arg_list: the values in order into out (room for
 * cap); returns the count. */
const char *cmd_arg(const struct cmd_args *a, const char *name);
bool cmd_flag(const struct cmd_args *a, const char *name);
int cmd_arg_count(const struct cmd_args *a, const char *name);
size_t cmd_arg_list(const struct cmd_args *a, const char *name, const char **out, size_t cap);
/* A one-line usage error: "moni: PATH: what (usage: moni USAGE)"; returns 2. */
int cmd_usage_error(const struct cmd_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses and runs e (its subcommand when it has subs).  path names it in messages
 * ("fault"); argv[0] is its name. */
int cmd_dispatch(const struct cmd_entry *e, const char *path, int argc, char **argv);
/* --help text of a command: usage, summary, options (or subcommands). */
void cmd_print_help(const struct cmd_entry *e, const char *path, FILE *out);

/* Suggestions.  cmd_edit_distance is the optimal string alignment distance
 * (Damerau-Levenshtein where a swap of two neighbours counts 1).  cmd_suggest
 * returns the candidate closest to word when it is close enough to be a typo (or
 * the only candidate word is a prefix of), else NULL. */
size_t cmd_edit_distance(const char *a, const char *b);
const char *cmd_suggest(const char *word, const char *const *cands, size_t n);

/* --prometheus-sd FILE (cmd/prom-opts.c): checked (it needs --metrics-listen) and
 * set for the exporters to come; 0, or -1 after a usage error. */
#define CMD_PROMETHEUS_SD_OPT                                                              \
    {"prometheus-sd", 0, "FILE", 0,                                                        \
     "write a Prometheus file_sd target file (%j %n %r: job id, node, rank)"}
int cmd_prometheus_sd(const struct cmd_args *a);

/* The commands (cmd/cmd-*.c); the table is in cmd/main.c. */
extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_record_entry;
extern const struct cmd_entry cmd_fault_entry;
extern const struct cmd_entry cmd_parse_entry;
extern const struct cmd_entry cmd_diagnose_entry;
extern const struct cmd_entry cmd_build_entry;
extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_detect_entry;
extern const struct cmd_entry cmd_replay_entry;
extern const struct cmd_entry cmd_doctor_entry;
extern const struct cmd_entry cmd_recover_entry;
extern const struct cmd_entry cmd_top_entry;
extern const struct cmd_entry cmd_alerts_entry;
extern const struct cmd_entry cmd_grafana_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_study_entry;

#endif
