/* Unit tests for the console's pure parts: history rings, levels and braille cells,
 * number formatting, the asciicast escaper, the layout, and theme files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/tui.h"

static void test_hist(void **state)
{
    (void)state;
    static struct tui_hist h;
    memset(&h, 0, sizeof h);
    double v;
    assert_false(tui_hist_get(&h, 0, &v));
    tui_hist_push(&h, 1, true);
    tui_hist_push(&h, 0, false); /* missing stays missing, never 0 */
    tui_hist_push(&h, 3, true);
    assert_true(tui_hist_get(&h, 0, &v));
    assert_true(v == 3);
    assert_false(tui_hist_get(&h, 1, &v));
    assert_true(tui_hist_get(&h, 2, &v));
    assert_true(v == 1);
    for (int i = 0; i < TUI_HIST_LEN + 10; i++)
        tui_hist_push(&h, i, true);
    assert_int_equal(h.n, TUI_HIST_LEN);
    assert_true(tui_hist_get(&h, 0, &v));
    assert_true(v == TUI_HIST_LEN + 9);
    assert_true(tui_hist_max(&h, 5) == TUI_HIST_LEN + 9);
}

static void test_levels_and_braille(void **state)
{
    (void)state;
    assert_int_equal(tui_level(0, 100, 8), 0);
    assert_int_equal(tui_level(0.1, 100, 8), 1); /* anything above zero shows */
    assert_int_equal(tui_level(100, 100, 8), 8);
    assert_int_equal(tui_level(500, 100, 8), 8);
    assert_int_equal(tui_level(50, 0, 8), 0);
    assert_int_equal(tui_level(NAN, 100, 8), 0);
    char g[4];
    tui_braille(0, g);
    assert_string_equal(g, "\xe2\xa0\x80"); /* U+2800 */
    tui_braille(0xff, g);
    assert_string_equal(g, "\xe2\xa3\xbf"); /* U+28FF, all eight dots */
    tui_braille(0x40 | 0x80, g);            /* bottom row of both columns */
    assert_string_equal(g, "\xe2\xa3\x80"); /* U+28C0 */
}

static void test_format(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(tui_fmt_rate(0, false, b, sizeof b), "-");
    assert_string_equal(tui_fmt_rate(512, true, b, sizeof b), "512B");
    assert_string_equal(tui_fmt_rate(1536, true, b, sizeof b), "1.5K");
    assert_string_equal(tui_fmt_rate(3.0 * 1024 * 1024 * 1024, true, b, sizeof b), "3.0G");
    assert_string_equal(tui_fmt_num(0, false, b, sizeof b), "-");
    assert_string_equal(tui_fmt_num(NAN, true, b, sizeof b), "NaN");
    assert_string_equal(tui_fmt_num(INFINITY, true, b, sizeof b), "+Inf");
    assert_string_equal(tui_fmt_num(42, true, b, sizeof b), "42");
    assert_string_equal(tui_fmt_num(2.5, true, b, sizeof b), "2.5000");
    assert_string_equal(tui_fmt_num(3e-4, true, b, sizeof b), "3.00e-04");
}

static void test_cast_escape(void **state)
{
    (void)state;
    char out[256];
    size_t on;
    /* quotes, backslash, ESC and newline */
    const char in1[] = "a\"b\\c\x1b[1m\n";
    size_t used = tui_cast_escape(in1, sizeof in1 - 1, out, sizeof out, &on);
    assert_int_equal(used, sizeof in1 - 1);
    out[on] = 0;
    assert_string_equal(out, "a\\\"b\\\\c\\u001b[1m\\n");
    /* the other control bytes as \u00XX, lower-case hex as JSON writers do */
    const char in5[] = "\x01\x1f\x7f.";
    used = tui_cast_escape(in5, sizeof in5 - 1, out, sizeof out, &on);
    assert_int_equal(used, sizeof in5 - 1);
    out[on] = 0;
    assert_string_equal(out, "\\u0001\\u001f\\u007f.");
    /* a UTF-8 character split across two writes is carried, not mangled */
    const char in2[] = "x\xe2\xa3"; /* first two bytes of U+28FF */
    used = tui_cast_escape(in2, 3, out, sizeof out, &on);
    assert_int_equal(used, 1);
    out[on] = 0;
    assert_string_equal(out, "x");
    const char in3[] = "\xe2\xa3\xbfy";
    used = tui_cast_escape(in3, 4, out, sizeof out, &on);
    assert_int_equal(used, 4);
    out[on] = 0;
    assert_string_equal(out, "\xe2\xa3\xbfy");
    /* invalid bytes become U+FFFD */
    const char in4[] = "\xff" "z";
    used = tui_cast_escape(in4, 2, out, sizeof out, &on);
    assert_int_equal(used, 2);
    out[on] = 0;
    assert_string_equal(out, "\\ufffdz");
}

static bool overlaps(struct tui_rect a, struct tui_rect b)
{
    return a.y < b.y + b.h && b.y < a.y + a.h && a.x < b.x + b.w && b.x < a.x + a.w;
}

static void check_layout(int lines, int cols)
{
    struct tui_rect r[TUI_NPANES];
    assert_true(tui_layout(lines, cols, r));
    for (int i = 0; i < TUI_NPANES; i++) {
        assert_true(r[i].h >= tui_panes[i]->min_h);
        assert_true(r[i].y >= 0 && r[i].y + r[i].h <= lines);
        assert_true(r[i].x >= 0 && r[i].x + r[i].w <= cols);
        for (int k = 0; k < i; k++)
            assert_false(overlaps(r[i], r[k]));
    }
    /* every row of the screen belongs to some pane */
    for (int y = 0; y < lines; y++) {
        int covered = 0;
        for (int i = 0; i < TUI_NPANES; i++)
            if (y >= r[i].y && y < r[i].y + r[i].h)
                covered += r[i].w;
        assert_int_equal(covered, cols);
    }
}

static void test_layout(void **state)
{
    (void)state;
    check_layout(24, 80);
    check_layout(60, 200);
    check_layout(37, 131);
    struct tui_rect r[TUI_NPANES];
    assert_false(tui_layout(23, 80, r));
    assert_false(tui_layout(24, 79, r));
    /* the faults pane shows at least a few kinds even at 80x24 */
    tui_layout(24, 80, r);
    assert_true(r[TUI_P_FAULTS].h >= 5);
}

static const char *src_dir(void)
{
    const char *s = getenv("MONI_SRC");
    return s && *s ? s : ".";
}

static void test_shipped_themes(void **state)
{
    (void)state;
    static const char *const names[] = {"default", "light", "high-contrast", "colorblind"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(names); i++) {
        char path[600], err[512] = "";
        struct tui_theme t;
        snprintf(path, sizeof path, "%s/themes/%s.json", src_dir(), names[i]);
        if (tui_theme_load(path, &t, err, sizeof err) != 0)
            fail_msg("%s", err);
        assert_string_equal(t.name, names[i]);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_theme(void **state)
{
    (void)state;
    char dir[] = "/tmp/moni-theme-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[512];
    struct tui_theme t;
    snprintf(path, sizeof path, "%s/bad.json", dir);
    /* an out-of-range 16-colour value on line 4 */
    write_file(path, "{\n  \"name\": \"bad\",\n  \"roles\": {\n    \"text\": {\"fg\": [252, 99, 7]}\n  }\n}\n");
    assert_int_equal(tui_theme_load(path, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, ":4:"));
    assert_non_null(strstr(err, "roles.text.fg"));
    assert_string_equal(t.name, "default"); /* the default is used */
    /* an unknown role */
    write_file(path, "{\n  \"roles\": {\n    \"txet\": {\"fg\": [1, 1, 1]}\n  }\n}\n");
    assert_int_equal(tui_theme_load(path, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3:"));
    assert_non_null(strstr(err, "roles.txet"));
    /* a syntax error */
    write_file(path, "{\n  \"roles\": {,\n}\n");
    assert_int_equal(tui_theme_load(path, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    /* a partial theme keeps the default for roles it does not name */
    write_file(path, "{\"roles\": {\"accent\": {\"fg\": [1, 1, 1], \"bold\": true}}}\n");
    assert_int_equal(tui_theme_load(path, &t, err, sizeof err), 0);
    assert_int_equal(t.role[TUI_R_ACCENT].fg.c256, 1);
    assert_true(t.role[TUI_R_ACCENT].bold);
    struct tui_theme def;
    tui_theme_builtin(&def);
    assert_int_equal(t.role[TUI_R_TEXT].fg.c256, def.role[TUI_R_TEXT].fg.c256);
    unlink(path);
    rmdir(dir);
}

static void test_role_names(void **state)
{
    (void)state;
    for (int i = 0; i < TUI_NROLES; i++) {
        assert_non_null(tui_role_name((enum tui_role)i));
        assert_string_not_equal(tui_role_name((enum tui_role)i), "?");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist),          cmocka_unit_test(test_levels_and_braille),
        cmocka_unit_test(test_format),        cmocka_unit_test(test_cast_escape),
        cmocka_unit_test(test_layout),        cmocka_unit_test(test_shipped_themes),
        cmocka_unit_test(test_bad_theme),     cmocka_unit_test(test_role_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
