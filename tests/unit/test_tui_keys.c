/* Unit tests for the console's one key table (tui/keys.c): every footer button and
 * every help line comes from it, a replay refuses and hides the live-only keys, no
 * key code is in two rows, and moni(1)'s CONSOLE KEYS list and the README's key
 * table say the same as the table (on a mismatch the expected text is printed).
 * Also: pane_ops drive focus cycling and selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fixture-curses.h"
#include "tui/tui.h"

#define COLS 200
#define ROWS 40 /* the whole help fits (it scrolls on smaller screens) */

static struct tui_model model;
static struct tui ui;
static int calls; /* live actions reached */

static size_t mock_params(void *ctx, const char *kind, struct tui_param *out, size_t max)
{
    (void)ctx;
    (void)kind;
    (void)out;
    (void)max;
    calls++;
    return 0;
}

static int mock_kind(void *ctx, const char *kind, char *err, size_t errlen)
{
    (void)ctx;
    (void)kind;
    (void)err;
    (void)errlen;
    calls++;
    return 0;
}

static int mock_all(void *ctx, char *err, size_t errlen)
{
    (void)ctx;
    (void)err;
    (void)errlen;
    calls++;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (fx_curses_open(40, 200) < 0)
        return -1;
    tui_model_init(&model);
    model.nfaults = 3;
    for (int i = 0; i < 3; i++) {
        snprintf(model.faults[i].kind, sizeof model.faults[i].kind, "k%d", i);
        model.faults[i].elapsed_ns = model.faults[i].remaining_ns = -1;
    }
    memset(&ui, 0, sizeof ui);
    ui.m = &model;
    ui.lines = ROWS;
    ui.cols = COLS;
    ui.focus = TUI_P_FAULTS;
    ui.active = true;
    ui.act = (struct tui_actions){.params = mock_params, .fire = mock_kind, .stop = mock_kind,
                                  .stop_all = mock_all, .restart = mock_all};
    tui_theme_builtin(&ui.theme);
    tui_theme_apply(&ui.theme, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_curses_close();
    tui_model_free(&model);
    return 0;
}

static void row_text(int y, int x, int n, char *buf)
{
    mvinnstr(y, x, buf, n);
    for (size_t k = strlen(buf); k > 0 && buf[k - 1] == ' '; k--)
        buf[k - 1] = 0;
}

/* The footer's buttons must be exactly the table's labelled rows shown here. */
static void check_footer(void)
{
    ui.overlay = TUI_O_NONE;
    ui.status[0] = 0;
    tui_draw(&ui);
    char line[COLS + 1], want[COLS + 1] = "";
    row_text(ROWS - 1, 0, COLS, line);
    for (size_t i = 0; i < tui_nkeys; i++)
        if (tui_keys[i].label && tui_keybind_shown(&ui, &tui_keys[i]))
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%c%s", want[0] ? " " : "",
                     tui_keys[i].codes[0], tui_keys[i].label);
    char *theme = strstr(line, "   theme "); /* right-aligned after the buttons */
    assert_non_null(theme);
    *theme = 0;
    for (size_t k = strlen(line); k > 0 && line[k - 1] == ' '; k--)
        line[k - 1] = 0;
    assert_string_equal(line, want);
}

/* The help overlay must list exactly the table's rows shown here, in order. */
static void check_help(void)
{
    ui.overlay = TUI_O_NONE;
    tui_key(&ui, '?');
    assert_int_equal(ui.overlay, TUI_O_HELP);
    tui_draw(&ui);
    int n = 0;
    for (size_t i = 0; i < tui_nkeys; i++)
        n += tui_keybind_shown(&ui, &tui_keys[i]);
    int h = n + 4, w = 72, y = (ROWS - h) / 2, x = (COLS - w) / 2;
    int row = y + 2;
    for (size_t i = 0; i < tui_nkeys; i++) {
        if (!tui_keybind_shown(&ui, &tui_keys[i]))
            continue;
        char keys[32], help[80], want[80];
        row_text(row, x + 2, 20, keys);
        row_text(row, x + 23, w - 25, help);
        snprintf(want, sizeof want, "%.*s", w - 25, tui_keys[i].help);
        assert_string_equal(keys, tui_keys[i].keys);
        assert_string_equal(help, want);
        row++;
    }
    char after[80];
    row_text(row, x + 2, w - 4, after); /* nothing more in the box */
    assert_string_equal(after, "");
    tui_key(&ui, 'x');
    assert_int_equal(ui.overlay, TUI_O_NONE);
}

/* On a screen shorter than the list, j/k scroll the help and every key can be
 * read; any other key closes it. */
static void test_help_scrolls(void **state)
{
    (void)state;
    model.replay = false;
    ui.lines = 24;
    ui.overlay = TUI_O_NONE;
    tui_key(&ui, '?');
    int n = 0;
    for (size_t i = 0; i < tui_nkeys; i++)
        n += tui_keybind_shown(&ui, &tui_keys[i]);
    assert_true(n + 4 > 24); /* else there is nothing to scroll */
    int x = (COLS - 72) / 2;
    char keys[32];
    tui_draw(&ui);
    row_text(2, x + 2, 20, keys); /* box at row 0: the first key on row 2 */
    assert_string_equal(keys, tui_keys[0].keys);
    tui_key(&ui, 'j');
    tui_key(&ui, KEY_DOWN);
    tui_draw(&ui);
    row_text(2, x + 2, 20, keys);
    assert_string_equal(keys, tui_keys[2].keys);
    for (int i = 0; i < 60; i++) /* past the end: the last key stays on the last row */
        tui_key(&ui, 'j');
    tui_draw(&ui);
    row_text(24 - 2, x + 2, 20, keys);
    assert_string_equal(keys, tui_keys[tui_nkeys - 1].keys);
    tui_key(&ui, 'k');
    assert_int_equal(ui.overlay, TUI_O_HELP);
    tui_key(&ui, 'x');
    assert_int_equal(ui.overlay, TUI_O_NONE);
    assert_int_equal(ui.help_scroll, 0);
    ui.lines = ROWS;
}

static void test_table_is_sound(void **state)
{
    (void)state;
    assert_true(tui_nkeys > 10);
    for (size_t i = 0; i < tui_nkeys; i++) {
        const struct tui_keybind *b = &tui_keys[i];
        assert_non_null(b->keys);
        assert_non_null(b->help);
        assert_true(b->action || !b->codes[0]); /* a key that does nothing is a bug */
        /* every action is a `:` command, found by its name, named once */
        assert_true(!b->action || (b->cmd && b->cmd[0]));
        if (b->cmd)
            assert_ptr_equal(tui_cmd_find(&ui, b->cmd, strlen(b->cmd)), b);
        assert_true(b->codes[0] || b->cmd || !b->action); /* a row without a key is a command */
        if (b->label) /* the footer shows codes[0] as a character */
            assert_true(b->codes[0] > ' ' && b->codes[0] < 0x7f);
        for (size_t k = 0; k < MONI_ARRAY_LEN(b->codes) && b->codes[k]; k++)
            assert_ptr_equal(tui_keybind_find(b->codes[k]), b); /* in one row only */
    }
    assert_null(tui_keybind_find('Z'));
}

static void test_footer_and_help_live(void **state)
{
    (void)state;
    model.replay = false;
    check_footer();
    check_help();
    /* a live-only key reaches its action */
    calls = 0;
    tui_key(&ui, 'f');
    tui_key(&ui, 'X');
    assert_int_equal(calls, 2);
    assert_false(ui.status_error);
}

static void test_replay_refuses_live_keys(void **state)
{
    (void)state;
    model.replay = true;
    check_footer();
    check_help();
    size_t live = 0;
    for (size_t i = 0; i < tui_nkeys; i++) {
        const struct tui_keybind *b = &tui_keys[i];
        if (b->where != TUI_KEY_LIVE || !b->codes[0])
            continue;
        live++;
        calls = 0;
        ui.status_error = false;
        tui_key(&ui, b->codes[0]);
        assert_int_equal(calls, 0);
        assert_int_equal(ui.overlay, TUI_O_NONE);
        assert_true(ui.status_error);
        assert_non_null(strstr(ui.status, "not in a replay"));
    }
    assert_true(live >= 6); /* a f s X m R */
    tui_key(&ui, 'p'); /* replay keys still work */
    assert_true(ui.paused);
    tui_key(&ui, 'p');
    model.replay = false;
}

static void test_panes_focus_and_select(void **state)
{
    (void)state;
    ui.focus = TUI_P_FAULTS;
    ui.fault_sel = 0;
    tui_key(&ui, 'j');
    tui_key(&ui, KEY_DOWN);
    tui_key(&ui, 'j'); /* stops at the last row */
    assert_int_equal(ui.fault_sel, 2);
    tui_key(&ui, 'k');
    assert_int_equal(ui.fault_sel, 1);
    /* Tab visits every focusable pane once, in table order, and comes back */
    int seen = 0;
    for (int i = 0; i < TUI_NPANES; i++) {
        tui_key(&ui, '\t');
        assert_true(tui_panes[ui.focus]->focusable);
        seen += ui.focus != TUI_P_FAULTS;
        if (ui.focus == TUI_P_FAULTS)
            break;
    }
    int focusable = 0;
    for (int p = 0; p < TUI_NPANES; p++)
        focusable += tui_panes[p]->focusable;
    assert_int_equal(seen, focusable - 1);
    tui_key(&ui, 'h');
    tui_key(&ui, KEY_RIGHT);
    assert_int_equal(ui.focus, TUI_P_FAULTS);
    /* digits select a fault kind; a click selects through the pane's handler */
    tui_key(&ui, '3');
    assert_int_equal(ui.fault_sel, 2);
    ui.focus = TUI_P_CPU;
    tui_draw(&ui);
    const struct tui_click *row1 = NULL;
    for (size_t i = 0; i < ui.nclicks; i++)
        if (ui.clicks[i].pane == TUI_P_FAULTS && ui.clicks[i].row == 1)
            row1 = &ui.clicks[i];
    assert_non_null(row1);
    tui_key_mouse(&ui, row1->y, row1->x + 1);
    assert_int_equal(ui.focus, TUI_P_FAULTS);
    assert_int_equal(ui.fault_sel, 1);
}

/* ---- documentation against the table -------------------------------------------- */

static char *slurp(const char *rel)
{
    const char *src = getenv("MONI_SRC");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

/* The README's "In a replay" column for a key. */
static const char *where_text(enum tui_key_where w)
{
    return w == TUI_KEY_LIVE ? "no" : w == TUI_KEY_REPLAY ? "only" : w == TUI_KEY_STUDY ? "study" : "yes";
}

/* A man page .It line as the table spells keys: "Ic \&? , F1" -> "?  F1". */
static void man_keys(const char *it, char *out, size_t len)
{
    out[0] = 0;
    char tok[64];
    for (const char *p = it; *p && *p != '\n';) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " \n");
        snprintf(tok, sizeof tok, "%.*s", (int)n, p);
        p += n;
        if (!tok[0] || !strcmp(tok, "Ic") || !strcmp(tok, ","))
            continue;
        char clean[64], *c = clean;
        for (const char *t = tok; *t && c < clean + sizeof clean - 2;) {
            if (!strncmp(t, "\\&", 2)) {
                t += 2;
            } else if (!strncmp(t, "\\e", 2)) { /* a backslash */
                *c++ = '\\';
                t += 2;
            } else if (!strncmp(t, "\\(en", 4)) {
                *c++ = '-';
                t += 4;
            } else {
                *c++ = *t++;
            }
        }
        *c = 0;
        snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "  " : "", clean);
    }
}

static void test_man_page_matches(void **state)
{
    (void)state;
    char *man = slurp("man/moni.1");
    if (!man)
        skip();
    char *sec = strstr(man, "\n.Sh CONSOLE KEYS\n");
    assert_non_null(sec);
    char *end = strstr(sec + 1, "\n.El\n");
    assert_non_null(end);
    *end = 0;
    size_t i = 0;
    bool ok = true;
    for (char *it = strstr(sec, "\n.It "); it; it = strstr(it + 1, "\n.It "), i++) {
        char keys[128];
        man_keys(it + 5, keys, sizeof keys);
        char *next = strstr(it + 1, "\n.It ");
        size_t dlen = next ? (size_t)(next - it) : strlen(it);
        char *desc = strndup(it, dlen), *desc0 = desc;
        for (char *c = desc; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        /* where a key works, as the page says it */
        enum tui_key_where says = strstr(desc, "not in a replay")            ? TUI_KEY_LIVE
                                : strstr(desc, "only in a blind study")      ? TUI_KEY_STUDY
                                : strstr(desc, "only in a replay")           ? TUI_KEY_REPLAY
                                                                             : TUI_KEY_ANY;
        char cmd[64] = "";
        if (i < tui_nkeys && tui_keys[i].cmd) /* the command, as ".Ic :fire" */
            snprintf(cmd, sizeof cmd, "\n.ic :%s", tui_keys[i].cmd);
        bool says_cmd = !cmd[0] || ((desc = strstr(desc, cmd)) && strchr(" \n", desc[strlen(cmd)]));
        if (!says_cmd)
            fprintf(stderr, "man/moni.1 CONSOLE KEYS item %zu lacks '.Ic :%s'\n", i + 1, tui_keys[i].cmd);
        free(desc0);
        if (!says_cmd || i >= tui_nkeys || strcmp(keys, tui_keys[i].keys) || says != tui_keys[i].where) {
            fprintf(stderr, "man/moni.1 CONSOLE KEYS item %zu: '%s' (%s); the table has '%s' (%s)\n", i + 1,
                    keys, where_text(says), i < tui_nkeys ? tui_keys[i].keys : "-",
                    i < tui_nkeys ? where_text(tui_keys[i].where) : "-");
            ok = false;
        }
    }
    if (i != tui_nkeys)
        fprintf(stderr, "man/moni.1 lists %zu keys, the table %zu\n", i, tui_nkeys);
    free(man);
    assert_true(ok);
    assert_int_equal(i, tui_nkeys);
}

/* The README's key table, exactly as generated from tui_keys[]. */
static void test_readme_matches(void **state)
{
    (void)state;
    char *readme = slurp("README.md");
    if (!readme)
        skip();
    char want[8192] = "| Key | Command | Does | In a replay |\n|---|---|---|---|\n";
    for (size_t i = 0; i < tui_nkeys; i++) {
        size_t n = strlen(want);
        n += (size_t)snprintf(want + n, sizeof want - n, "|");
        char keys[64];
        snprintf(keys, sizeof keys, "%s", tui_keys[i].keys);
        for (char *k = strtok(keys, " "); k; k = strtok(NULL, " "))
            n += (size_t)snprintf(want + n, sizeof want - n, " `%s`", k);
        char arg[96] = "", *o = arg; /* a '|' in a table cell is written \| */
        for (const char *c = tui_keys[i].cmd_arg; c && *c && o < arg + sizeof arg - 3; c++) {
            if (*c == '|')
                *o++ = '\\';
            *o++ = *c;
        }
        *o = 0;
        if (tui_keys[i].cmd)
            n += (size_t)snprintf(want + n, sizeof want - n, " | `:%s%s%s`", tui_keys[i].cmd,
                                  arg[0] ? " " : "", arg);
        else
            n += (size_t)snprintf(want + n, sizeof want - n, " | -");
        snprintf(want + n, sizeof want - n, " | %s | %s |\n", tui_keys[i].help,
                 where_text(tui_keys[i].where));
    }
    if (!strstr(readme, want))
        fprintf(stderr, "README.md should hold this key table (from tui/keys.c):\n%s", want);
    assert_non_null(strstr(readme, want));
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_sound),
        cmocka_unit_test(test_footer_and_help_live),
        cmocka_unit_test(test_replay_refuses_live_keys),
        cmocka_unit_test(test_panes_focus_and_select),
        cmocka_unit_test(test_help_scrolls),
        cmocka_unit_test(test_man_page_matches),
        cmocka_unit_test(test_readme_matches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
