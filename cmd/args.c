/* cmd/args.c — the one argv parser of every subcommand: reads a command's option
 * spec (struct cmd_spec), prints --help from it, and turns bad input into one line
 * and exit 2 with a "did you mean ...?" for a near miss.  It never runs a command
 * on arguments it could not read completely: nothing is silently dropped. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/base.h"

#define HELP_COL 24 /* where the help text of an option starts */

/* ---- suggestions ------------------------------------------------------------------- */

size_t cmd_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    /* three rows of the optimal string alignment table: i-2, i-1, i */
    size_t *row = malloc(3 * (m + 1) * sizeof *row);
    if (!row)
        return n > m ? n : m;
    size_t *pp = row, *p = row + m + 1, *c = row + 2 * (m + 1);
    for (size_t j = 0; j <= m; j++)
        p[j] = j;
    for (size_t i = 1; i <= n; i++) {
        c[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = p[j] + 1;                 /* deletion */
            if (c[j - 1] + 1 < d)
                d = c[j - 1] + 1;                /* insertion */
            if (p[j - 1] + cost < d)
                d = p[j - 1] + cost;             /* substitution */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;               /* two neighbours swapped */
            c[j] = d;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    size_t d = p[m];
    free(row);
    return d;
}

/* Skips the dashes of an option so "--forse" is compared as "forse". */
static const char *bare(const char *s)
{
    while (*s == '-')
        s++;
    return s;
}

const char *cmd_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *w = bare(word);
    size_t wl = strlen(w);
    if (!wl)
        return NULL;
    /* a typo is a few edits, fewer for short words: 1 up to 2 letters, 2 up to 5, 3 */
    size_t limit = wl <= 2 ? 1 : wl <= 5 ? 2 : 3;
    const char *best = NULL, *prefix_of = NULL;
    size_t bestd = SIZE_MAX, nprefix = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = bare(cands[i]);
        size_t d = cmd_edit_distance(w, c);
        if (d < bestd && d <= limit && d < strlen(c)) {
            bestd = d;
            best = cands[i];
        }
        if (wl >= 2 && !strncmp(c, w, wl)) {
            nprefix++;
            prefix_of = cands[i];
        }
    }
    if (best)
        return best;
    return nprefix == 1 ? prefix_of : NULL;
}

/* ---- help ---------------------------------------------------------------------------- */

static size_t count_opts(const struct cmd_spec *s)
{
    size_t n = 0;
    while (s->opts && s->opts[n].name)
        n++;
    return n;
}

static void print_opt_line(FILE *out, char sh, const char *name, const char *metavar,
                           const char *help, int max)
{
    char left[80];
    int n = snprintf(left, sizeof left, "  %c%c%s--%s%s%s", sh ? '-' : ' ', sh ? sh : ' ',
                     sh ? ", " : "  ", name, metavar ? " " : "", metavar ? metavar : "");
    if (n >= HELP_COL)
        fprintf(out, "%s\n%*s", left, HELP_COL, "");
    else
        fprintf(out, "%-*s", HELP_COL, left);
    if (max >= 2)
        fprintf(out, "%s; repeatable, up to %d\n", help, max);
    else
        fprintf(out, "%s\n", help);
}

void cmd_print_help(const struct cmd_entry *e, const char *path, FILE *out)
{
    (void)path;
    fprintf(out, "usage: moni %s\n%s\n", e->usage, e->summary);
    if (e->subs) {
        fprintf(out, "\ncommands:\n");
        for (size_t i = 0; e->subs[i]; i++)
            if (!e->subs[i]->hidden)
                fprintf(out, "  %-10s %s\n", e->subs[i]->name, e->subs[i]->summary);
        fprintf(out, "\noptions:\n");
        print_opt_line(out, 'h', "help", NULL, "show this help (each command has its own)", 0);
        return;
    }
    fprintf(out, "\noptions:\n");
    size_t n = count_opts(&e->args);
    for (size_t i = 0; i < n; i++) {
        const struct cmd_opt *o = &e->args.opts[i];
        print_opt_line(out, o->short_name, o->name, o->metavar, o->help, o->max);
    }
    print_opt_line(out, 'h', "help", NULL, "show this help", 0);
    if (e->args.command)
        fprintf(out, "  %-*s%s\n", HELP_COL - 2, "-- CMD ARGS...",
                "the workload's command line (after every option)");
}

/* ---- parsing --------------------------------------------------------------------------- */

static int find_opt(const struct cmd_spec *s, const char *name, size_t len)
{
    for (size_t i = 0; s->opts && s->opts[i].name; i++)
        if (strlen(s->opts[i].name) == len && !strncmp(s->opts[i].name, name, len))
            return (int)i;
    return -1;
}

static int find_short(const struct cmd_spec *s, char c)
{
    for (size_t i = 0; s->opts && s->opts[i].name; i++)
        if (s->opts[i].short_name && s->opts[i].short_name == c)
            return (int)i;
    return -1;
}

int cmd_usage_error(const struct cmd_args *a, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    moni_err("%s: %s (usage: moni %s)", a->path, what, a->entry->usage);
    return MONI_EXIT_USAGE;
}

static void unknown_option(const struct cmd_args *a, const char *arg)
{
    const struct cmd_spec *s = &a->entry->args;
    size_t n = count_opts(s), len = strcspn(arg, "=");
    char (*names)[48] = calloc(n + 1, sizeof *names);
    const char **cands = calloc(n + 1, sizeof *cands);
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)len, arg);
    const char *hint = NULL;
    if (names && cands) {
        for (size_t i = 0; i < n; i++) {
            snprintf(names[i], sizeof names[i], "--%s", s->opts[i].name);
            cands[i] = names[i];
        }
        snprintf(names[n], sizeof names[n], "--help");
        cands[n] = names[n];
        if (word[1] == '-') /* only long options are spelled out enough to guess */
            hint = cmd_suggest(word, cands, n + 1);
    }
    if (hint)
        moni_err("%s: unknown option '%s' (did you mean '%s'?)", a->path, word, hint);
    else
        moni_err("%s: unknown option '%s' (see 'moni %s --help')", a->path, word, a->path);
    free(names);
    free(cands);
}

/* One option at argv[*i]; advances *i past its value.  0 or -1 after an error. */
static int take_option(struct cmd_args *a, int *count, int argc, char **argv, int *i)
{
    const struct cmd_spec *s = &a->entry->args;
    const char *arg = argv[*i], *eq = NULL;
    int k;
    if (arg[1] == '-') {
        eq = strchr(arg + 2, '=');
        k = find_opt(s, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
    } else {
        k = arg[2] ? -1 : find_short(s, arg[1]);
    }
    if (k < 0) {
        unknown_option(a, arg);
        return -1;
    }
    const struct cmd_opt *o = &s->opts[k];
    const char *value = NULL;
    if (o->metavar) {
        if (eq) {
            value = eq + 1;
        } else if (*i + 1 < argc) {
            value = argv[++*i];
        } else {
            moni_err("%s: option '--%s' needs a value (%s)", a->path, o->name, o->metavar);
            return -1;
        }
    } else if (eq) {
        moni_err("%s: option '--%s' takes no value", a->path, o->name);
        return -1;
    }
    if (++count[k] > o->max && o->max >= 2) {
        moni_err("%s: option '--%s' given %d times; at most %d allowed", a->path, o->name,
                 count[k], o->max);
        return -1;
    }
    a->vals[a->nvals++] = (struct cmd_val){k, value};
    return 0;
}

static int take_positional(struct cmd_args *a, const char *arg)
{
    const struct cmd_spec *s = &a->entry->args;
    if (s->max_pos >= 0 && a->npos >= s->max_pos) {
        if (s->max_pos == 0 && s->command)
            cmd_usage_error(a, "unexpected argument '%s' (put the command after --)", arg);
        else if (s->max_pos == 0)
            cmd_usage_error(a, "unexpected argument '%s'", arg);
        else
            cmd_usage_error(a, "too many arguments at '%s' (at most %d %s)", arg, s->max_pos,
                            s->pos_name ? s->pos_name : "");
        return -1;
    }
    a->pos[a->npos++] = (char *)arg;
    return 0;
}

bool cmd_args_parse(const struct cmd_entry *e, const char *path, int argc, char **argv,
                    struct cmd_args *a, int *status)
{
    memset(a, 0, sizeof *a);
    a->entry = e;
    snprintf(a->path, sizeof a->path, "%s", path ? path : e->name);
    const struct cmd_spec *s = &e->args;
    a->vals = calloc((size_t)argc + 1, sizeof *a->vals);
    a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
    int *count = calloc(count_opts(s) + 1, sizeof *count);
    *status = MONI_EXIT_USAGE;
    if (!a->vals || !a->pos || !count) {
        moni_err("%s: out of memory", a->path);
        goto fail;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--")) {
            if (s->command) {
                a->cmd = i + 1 < argc ? argv + i + 1 : NULL;
                break;
            }
            for (i++; i < argc; i++) /* the rest are arguments, even with a dash */
                if (take_positional(a, argv[i]) < 0)
                    goto fail;
            break;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            cmd_print_help(e, a->path, stdout);
            *status = MONI_EXIT_OK;
            goto fail;
        }
        if (arg[0] == '-' && arg[1] ? take_option(a, count, argc, argv, &i) < 0
                                    : take_positional(a, arg) < 0)
            goto fail;
    }
    if (a->npos < s->min_pos) {
        cmd_usage_error(a, "missing %s", s->pos_name ? s->pos_name : "argument");
        goto fail;
    }
    free(count);
    return true;
fail:
    free(count);
    cmd_args_free(a);
    return false;
}

void cmd_args_free(struct cmd_args *a)
{
    free(a->vals);
    free(a->pos);
    a->vals = NULL;
    a->pos = NULL;
    a->nvals = a->npos = 0;
}

static int opt_index(const struct cmd_args *a, const char *name)
{
    int k = find_opt(&a->entry->args, name, strlen(name));
    if (k < 0) { /* the command asked for an option its spec does not have */
        fprintf(stderr, "moni: bug: %s has no option --%s\n", a->entry->name, name);
        abort();
    }
    return k;
}

const char *cmd_arg(const struct cmd_args *a, const char *name)
{
    int k = opt_index(a, name);
    for (int i = a->nvals - 1; i >= 0; i--)
        if (a->vals[i].opt == k)
            return a->vals[i].value;
    return NULL;
}

bool cmd_flag(const struct cmd_args *a, const char *name)
{
    return cmd_arg_count(a, name) > 0;
}

int cmd_arg_count(const struct cmd_args *a, const char *name)
{
    int k = opt_index(a, name), n = 0;
    for (int i = 0; i < a->nvals; i++)
        n += a->vals[i].opt == k;
    return n;
}

size_t cmd_arg_list(const struct cmd_args *a, const char *name, const char **out, size_t cap)
{
    int k = opt_index(a, name);
    size_t n = 0;
    for (int i = 0; i < a->nvals && n < cap; i++)
        if (a->vals[i].opt == k)
            out[n++] = a->vals[i].value;
    return n;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static int dispatch_sub(const struct cmd_entry *e, const char *path, int argc, char **argv)
{
    if (argc < 2) {
        moni_err("%s: missing command (see 'moni %s --help')", path, path);
        return MONI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        cmd_print_help(e, path, stdout);
        return MONI_EXIT_OK;
    }
    const char *names[32];
    size_t n = 0;
    for (size_t i = 0; e->subs[i]; i++) {
        if (!strcmp(e->subs[i]->name, name)) {
            char sub[64];
            snprintf(sub, sizeof sub, "%s %s", path, e->subs[i]->name);
            return cmd_dispatch(e->subs[i], sub, argc - 1, argv + 1);
        }
        if (!e->subs[i]->hidden && n < MONI_ARRAY_LEN(names))
            names[n++] = e->subs[i]->name;
    }
    const char *hint = name[0] == '-' ? NULL : cmd_suggest(name, names, n);
    if (hint)
        moni_err("%s: unknown command '%s' (did you mean '%s'?)", path, name, hint);
    else
        moni_err("%s: unknown command '%s' (see 'moni %s --help')", path, name, path);
    return MONI_EXIT_USAGE;
}

int cmd_dispatch(const struct cmd_entry *e, const char *path, int argc, char **argv)
{
    if (e->subs)
        return dispatch_sub(e, path, argc, argv);
    struct cmd_args a;
    int status;
    if (!cmd_args_parse(e, path, argc, argv, &a, &status))
        return status;
    status = e->exec(&a);
    cmd_args_free(&a);
    return status;
}
