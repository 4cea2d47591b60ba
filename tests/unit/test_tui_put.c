/* Unit tests for the console's text drawing (tui/widgets.c): tui_put and tui_addstr
 * hand UTF-8 text to ncurses as wide characters (cheaper than waddnstr), and must
 * leave every cell (character, attributes, colour pair) and the cursor exactly as
 * the byte path did: plain, braille, box and block text, control and invalid bytes,
 * Latin-1 and wide and combining characters, clipping, padding, the right edge and
 * the bottom-right corner, over a coloured background.  tui_strwidth: the same widths
 * as mbrtowc and wcwidth gave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tests/unit/fixture-curses.h"
#include "tui/tui.h"

#define ROWS 6
#define COLS_ 40


/* tui_put as it was before the wide path: the reference. */
static void ref_put(int y, int x, int w, const char *s, bool pad)
{
    if (w <= 0)
        return;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = strlen(s), bytes = 0;
    int used = 0;
    bool clean = true;
    while (bytes < n) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s + bytes, n - bytes, &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            clean = false;
            break;
        }
        int cw = wcwidth(wc);
        if (cw < 0) {
            clean = false;
            break;
        }
        if (used + cw > w)
            break;
        used += cw;
        bytes += k;
    }
    if (clean) {
        mvaddnstr(y, x, s, (int)bytes);
    } else {
        move(y, x);
        used = 0;
        for (size_t i = 0; i < n && used < w; i++) {
            unsigned char c = (unsigned char)s[i];
            addch(c >= 0x20 && c < 0x7f ? c : '?');
            used++;
        }
    }
    if (pad)
        for (int i = used; i < w; i++)
            addch(' ');
}

struct shot {
    wchar_t ch[ROWS][COLS_][CCHARW_MAX + 1];
    attr_t attr[ROWS][COLS_];
    short pair[ROWS][COLS_];
    int cy, cx;
};

static void snap(struct shot *s)
{
    memset(s, 0, sizeof *s);
    getyx(stdscr, s->cy, s->cx);
    for (int y = 0; y < ROWS; y++)
        for (int x = 0; x < COLS_; x++) {
            cchar_t c;
            mvin_wch(y, x, &c);
            getcchar(&c, s->ch[y][x], &s->attr[y][x], &s->pair[y][x], NULL);
        }
}

/* A screen with some text on it, and the attributes a pane would set. */
static void scene(int role)
{
    attrset(A_NORMAL);
    bkgdset(' ' | COLOR_PAIR(1)); /* as the themes set it */
    erase();
    mvaddstr(0, 0, "0123456789abcdefghijklmnopqrstuvwxyzABCD");
    mvaddstr(2, 3, "漢字 wide ones"); /* wide cells under later text */
    attrset(role == 1 ? (A_BOLD | COLOR_PAIR(2)) : role == 2 ? COLOR_PAIR(3) : A_NORMAL);
    if (role == 3) { /* a background of another character: blanks show it */
        bkgdset('.' | A_DIM | COLOR_PAIR(3));
        attrset(A_UNDERLINE);
    }
}

static const char *const texts[] = {
    "",
    "plain ASCII text, long enough to be clipped somewhere",
    "⣿⣿⣀⡇ ⢸⣿ braille",
    "─┐│└┘━ boxes ▁▂▃█ blocks ● ✕ ▲ ◆ …",
    "tab\there",
    "esc\x1b[31m",
    "bad \xff\xfe utf8",
    "cut \xe2\x94",
    "latin é ü µ °",
    "wide 漢字 in the middle",
    "combining e\xcc\x81 mark",
    "nbsp\xc2\xa0x",
    "surrogate \xed\xa0\x80 x",
    "overlong \xc0\xaf x",
    "del\x7fx",
    "   ",
};

static void compare_put(int y, int x, int w, const char *s, bool pad, int role)
{
    struct shot a, b;
    scene(role);
    ref_put(y, x, w, s, pad);
    snap(&a);
    scene(role);
    tui_put(y, x, w, s, pad);
    snap(&b);
    if (memcmp(&a, &b, sizeof a)) {
        fprintf(stderr, "tui_put differs: y=%d x=%d w=%d pad=%d role=%d text \"%s\"\n", y, x, w,
                pad, role, s);
        fail();
    }
}

static void test_put_same_cells(void **state)
{
    (void)state;
    static const int xs[] = {0, 2, 5, 30, 39};
    static const int ws[] = {0, 1, 3, 10, 40, 60};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
            for (size_t j = 0; j < sizeof ws / sizeof ws[0]; j++)
                for (int pad = 0; pad < 2; pad++)
                    for (int role = 0; role < 4; role++) {
                        int w = ws[j]; /* 60: past the right edge, wrapping */
                        compare_put(2, xs[i], w, texts[t], pad, role);
                        compare_put(ROWS - 1, xs[i], w, texts[t], pad, role); /* last line */
                    }
}

static void test_addstr_same_cells(void **state)
{
    (void)state;
    static const int xs[] = {0, 3, 20, 35, 39};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
            for (int role = 0; role < 4; role++)
                for (int y = 1; y < ROWS; y += 1 + (y == 2) * (ROWS - 4)) { /* 1, 2, last */
                    struct shot a, b;
                    scene(role);
                    mvaddstr(y, xs[i], texts[t]);
                    snap(&a);
                    scene(role);
                    tui_addstr(y, xs[i], texts[t]);
                    snap(&b);
                    if (memcmp(&a, &b, sizeof a)) {
                        fprintf(stderr, "tui_addstr differs: y=%d x=%d role=%d text \"%s\"\n", y,
                                xs[i], role, texts[t]);
                        fail();
                    }
                }
}

/* Not a UTF-8 locale: the bytes go to ncurses as before (nothing decoded here). */
static void test_put_c_locale(void **state)
{
    (void)state;
    setlocale(LC_CTYPE, "C");
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
        compare_put(1, 4, 20, texts[t], true, 1);
    setlocale(LC_CTYPE, "C.UTF-8");
}

/* tui_strwidth as it was (mbrtowc and wcwidth for every character): the reference. */
static int ref_strwidth(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = 0;
    size_t n = strlen(s);
    while (n) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s, n, &st);
        if (k == 0)
            break;
        if (k == (size_t)-1 || k == (size_t)-2) {
            memset(&st, 0, sizeof st);
            k = 1;
            w++;
        } else {
            int cw = wcwidth(wc);
            w += cw > 0 ? cw : 0;
        }
        s += k;
        n -= k;
    }
    return w;
}

static void test_strwidth(void **state)
{
    (void)state;
    static const char *const more[] = {"\xf0\x9f\x98\x80 emoji", "\xf4\x90\x80\x80 past U+10FFFF",
                                       "\xe2\x82", "\x80 lone", "ctl \x01\x1f"};
    for (int loc = 0; loc < 2; loc++) {
        setlocale(LC_CTYPE, loc ? "C" : "C.UTF-8");
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
            assert_int_equal(tui_strwidth(texts[t]), ref_strwidth(texts[t]));
        for (size_t t = 0; t < sizeof more / sizeof more[0]; t++)
            assert_int_equal(tui_strwidth(more[t]), ref_strwidth(more[t]));
    }
    setlocale(LC_CTYPE, "C.UTF-8");
    assert_int_equal(tui_strwidth("漢字 ⣿─"), 7);
}

static int setup(void **state)
{
    (void)state;
    if (fx_curses_open(ROWS, COLS_) < 0)
        return -1;
    start_color();
    init_pair(1, COLOR_WHITE, COLOR_BLUE);
    init_pair(2, COLOR_RED, COLOR_BLACK);
    init_pair(3, COLOR_GREEN, COLOR_BLUE);
    bkgdset(' ' | COLOR_PAIR(1)); /* as the themes set it */
    return LINES == ROWS && COLS == COLS_ ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fx_curses_close();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_same_cells),
        cmocka_unit_test(test_addstr_same_cells),
        cmocka_unit_test(test_put_c_locale),
        cmocka_unit_test(test_strwidth),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
