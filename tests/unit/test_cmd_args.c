/* Unit tests for the shared command-line parser (cmd/args.c): flags, values in both
 * spellings, short options, repeat limits, positional counts, "--" and the workload
 * command, --help, unknown options with a suggestion, a missing value; and the
 * edit distance and suggestion function behind "did you mean". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/base.h"

static int ran;
static int exec_count(struct cmd_args *a)
{
    (void)a;
    ran++;
    return 7;
}

static const struct cmd_opt opts[] = {
    {"out", 0, "DIR", 0, "run directory"},
    {"force", 0, NULL, 0, "accept a non-empty --out"},
    {"quiet", 'q', NULL, 0, "no progress"},
    {"spec", 0, "SPEC", 3, "a fault"},
    {"interval", 0, "D", 0, "sampling period"},
    {0},
};
static const struct cmd_entry entry = {
    .name = "x",
    .usage = "x [--out DIR] [--force] [--spec SPEC]... FILE... [-- CMD ARGS...]",
    .summary = "a test command",
    .args = {.opts = opts, .min_pos = 1, .max_pos = 2, .pos_name = "FILE", .command = true},
    .exec = exec_count,
};

/* ---- stderr/stdout capture ---------------------------------------------------------- */
static char captured[4096];
static int saved_fd = -1, cap_fd = -1;
static void capture(int fd)
{
    char path[] = "/tmp/moni-test-cap-XXXXXX";
    fflush(fd == 1 ? stdout : stderr);
    cap_fd = mkstemp(path);
    assert_true(cap_fd >= 0);
    unlink(path);
    saved_fd = dup(fd);
    dup2(cap_fd, fd);
}
static const char *release(int fd)
{
    fflush(fd == 1 ? stdout : stderr);
    dup2(saved_fd, fd);
    close(saved_fd);
    ssize_t n = pread(cap_fd, captured, sizeof captured - 1, 0);
    close(cap_fd);
    captured[n > 0 ? n : 0] = '\0';
    return captured;
}

/* Parses a NULL-terminated list; returns true/false as cmd_args_parse, the error text
 * (stderr) in captured. */
static bool parse(struct cmd_args *a, int *status, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, status);
    argv[argc++] = (char *)"x";
    for (char *s; (s = va_arg(ap, char *)) != NULL;)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    static char *keep[32]; /* the values point into argv: keep it alive */
    memcpy(keep, argv, sizeof argv);
    capture(2);
    bool ok = cmd_args_parse(&entry, "x", argc, keep, a, status);
    release(2);
    return ok;
}

static void test_flags_and_values(void **state)
{
    (void)state;
    struct cmd_args a;
    int st = -1;
    assert_true(parse(&a, &st, "--out", "d1", "--force", "f1", "--interval=5s", "-q", NULL));
    assert_string_equal(cmd_arg(&a, "out"), "d1");
    assert_string_equal(cmd_arg(&a, "interval"), "5s");
    assert_true(cmd_flag(&a, "force"));
    assert_true(cmd_flag(&a, "quiet"));
    assert_null(cmd_arg(&a, "spec"));
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "f1");
    assert_null(a.cmd);
    cmd_args_free(&a);
    /* a single-value option given twice: the later wins; --name= gives an empty value */
    assert_true(parse(&a, &st, "f1", "--out", "a", "--out=", NULL));
    assert_string_equal(cmd_arg(&a, "out"), "");
    cmd_args_free(&a);
    /* a value may start with a dash */
    assert_true(parse(&a, &st, "--out", "-weird", "f", NULL));
    assert_string_equal(cmd_arg(&a, "out"), "-weird");
    cmd_args_free(&a);
}

static void test_repeat_limits(void **state)
{
    (void)state;
    struct cmd_args a;
    int st = -1;
    assert_true(parse(&a, &st, "--spec", "a", "--spec=b", "--spec", "c", "f", NULL));
    const char *v[8];
    assert_int_equal(cmd_arg_list(&a, "spec", v, 8), 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[2], "c");
    assert_int_equal(cmd_arg_count(&a, "spec"), 3);
    assert_string_equal(cmd_arg(&a, "spec"), "c");
    cmd_args_free(&a);
    assert_false(parse(&a, &st, "--spec", "a", "--spec", "b", "--spec", "c", "--spec", "d", "f", NULL));
    assert_int_equal(st, MONI_EXIT_USAGE);
    assert_non_null(strstr(captured, "'--spec' given 4 times; at most 3 allowed"));
    assert_int_equal(strchr(captured, '\n') - captured, (long)strlen(captured) - 1);
}

static void test_positionals_and_command(void **state)
{
    (void)state;
    struct cmd_args a;
    int st = -1;
    assert_false(parse(&a, &st, "--force", NULL));
    assert_int_equal(st, MONI_EXIT_USAGE);
    assert_non_null(strstr(captured, "missing FILE"));
    assert_false(parse(&a, &st, "a", "b", "c", NULL));
    assert_int_equal(st, MONI_EXIT_USAGE);
    assert_non_null(strstr(captured, "too many arguments at 'c'"));
    /* "-" alone is an argument (standard input), not an option */
    assert_true(parse(&a, &st, "-", "--", "sleep", "1", NULL));
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "-");
    assert_non_null(a.cmd);
    assert_string_equal(a.cmd[0], "sleep");
    assert_string_equal(a.cmd[1], "1");
    assert_null(a.cmd[2]);
    cmd_args_free(&a);
    /* options after "--" belong to the workload */
    assert_true(parse(&a, &st, "f", "--", "prog", "--out", "z", NULL));
    assert_null(cmd_arg(&a, "out"));
    assert_string_equal(a.cmd[1], "--out");
    cmd_args_free(&a);
}

static void test_errors(void **state)
{
    (void)state;
    struct cmd_args a;
    int st = -1;
    assert_false(parse(&a, &st, "f", "--forse", NULL));
    assert_int_equal(st, MONI_EXIT_USAGE);
    assert_non_null(strstr(captured, "unknown option '--forse' (did you mean '--force'?)"));
    assert_false(parse(&a, &st, "f", "--frobnicate=3", NULL));
    assert_non_null(strstr(captured, "unknown option '--frobnicate'"));
    assert_null(strstr(captured, "did you mean"));
    assert_false(parse(&a, &st, "f", "--out", NULL));
    assert_int_equal(st, MONI_EXIT_USAGE);
    assert_non_null(strstr(captured, "'--out' needs a value"));
    assert_false(parse(&a, &st, "f", "--force=yes", NULL));
    assert_non_null(strstr(captured, "'--force' takes no value"));
    assert_false(parse(&a, &st, "f", "-z", NULL));
    assert_non_null(strstr(captured, "unknown option '-z'"));
    /* every error is one line */
    assert_int_equal(strchr(captured, '\n') - captured, (long)strlen(captured) - 1);
}

static void test_help(void **state)
{
    (void)state;
    struct cmd_args a;
    int st = -1;
    char *argv[] = {"x", "f", "--help", NULL};
    capture(1);
    bool ok = cmd_args_parse(&entry, "x", 3, argv, &a, &st);
    const char *out = release(1);
    assert_false(ok);
    assert_int_equal(st, MONI_EXIT_OK);
    assert_non_null(strstr(out, "usage: moni x [--out DIR]"));
    assert_non_null(strstr(out, "--out DIR"));
    assert_non_null(strstr(out, "-q, --quiet"));
    assert_non_null(strstr(out, "repeatable, up to 3"));
    assert_non_null(strstr(out, "-- CMD ARGS..."));
    /* dispatch runs exec only on a complete parse */
    ran = 0;
    char *ok_argv[] = {"x", "f", NULL};
    assert_int_equal(cmd_dispatch(&entry, "x", 2, ok_argv), 7);
    assert_int_equal(ran, 1);
    char *bad_argv[] = {"x", "f", "--bogus", NULL};
    capture(2);
    assert_int_equal(cmd_dispatch(&entry, "x", 3, bad_argv), MONI_EXIT_USAGE);
    release(2);
    assert_int_equal(ran, 1);
}

static const struct cmd_entry sub_a = {.name = "list", .usage = "p list", .summary = "a",
                                       .exec = exec_count};
static const struct cmd_entry sub_b = {.name = "run", .usage = "p run", .summary = "b",
                                       .exec = exec_count};
static const struct cmd_entry *const subs[] = {&sub_a, &sub_b, NULL};
static const struct cmd_entry parent = {.name = "p", .usage = "p list|run", .summary = "c",
                                        .subs = subs};

static void test_subcommands(void **state)
{
    (void)state;
    ran = 0;
    char *argv[] = {"p", "run", NULL};
    assert_int_equal(cmd_dispatch(&parent, "p", 2, argv), 7);
    assert_int_equal(ran, 1);
    char *typo[] = {"p", "rnu", NULL};
    capture(2);
    assert_int_equal(cmd_dispatch(&parent, "p", 2, typo), MONI_EXIT_USAGE);
    release(2);
    assert_non_null(strstr(captured, "unknown command 'rnu' (did you mean 'run'?)"));
    char *help[] = {"p", "--help", NULL};
    capture(1);
    assert_int_equal(cmd_dispatch(&parent, "p", 2, help), MONI_EXIT_OK);
    release(1);
    assert_non_null(strstr(captured, "usage: moni p list|run"));
    assert_non_null(strstr(captured, "  list "));
    char *sub_help[] = {"p", "list", "-h", NULL};
    capture(1);
    assert_int_equal(cmd_dispatch(&parent, "p", 3, sub_help), MONI_EXIT_OK);
    release(1);
    assert_non_null(strstr(captured, "usage: moni p list"));
    assert_int_equal(ran, 1);
}

static void test_suggest(void **state)
{
    (void)state;
    assert_int_equal(cmd_edit_distance("", ""), 0);
    assert_int_equal(cmd_edit_distance("abc", ""), 3);
    assert_int_equal(cmd_edit_distance("record", "record"), 0);
    assert_int_equal(cmd_edit_distance("recrod", "record"), 1); /* a swap counts once */
    assert_int_equal(cmd_edit_distance("forse", "force"), 1);
    assert_int_equal(cmd_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(cmd_edit_distance("ca", "abc"), 3); /* OSA, not full Damerau (2) */
    static const char *const cmds[] = {"run", "record", "recover", "replay", "fault", "parse"};
    size_t n = sizeof cmds / sizeof cmds[0];
    assert_string_equal(cmd_suggest("recrod", cmds, n), "record");
    assert_string_equal(cmd_suggest("recovr", cmds, n), "recover");
    assert_string_equal(cmd_suggest("rn", cmds, n), "run");
    assert_string_equal(cmd_suggest("faul", cmds, n), "fault");
    assert_null(cmd_suggest("frobnicate", cmds, n));
    assert_null(cmd_suggest("", cmds, n));
    static const char *const opts_[] = {"--force", "--format", "--metrics-listen"};
    assert_string_equal(cmd_suggest("--forse", opts_, 3), "--force");
    assert_string_equal(cmd_suggest("--metrics", opts_, 3), "--metrics-listen"); /* prefix */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_and_values),
        cmocka_unit_test(test_repeat_limits),
        cmocka_unit_test(test_positionals_and_command),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_subcommands),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
