/* tests/unit/fixture-curses.c — see fixture-curses.h. */
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/fixture-curses.h"

static SCREEN *scr;
static FILE *out_f, *in_f;

int fx_curses_open(int lines, int cols)
{
    setlocale(LC_ALL, "C.UTF-8");
    char buf[16];
    snprintf(buf, sizeof buf, "%d", lines);
    setenv("LINES", buf, 1);
    snprintf(buf, sizeof buf, "%d", cols);
    setenv("COLUMNS", buf, 1);
    out_f = fopen("/dev/null", "w");
    in_f = fopen("/dev/null", "r");
    scr = out_f && in_f ? newterm("xterm-256color", out_f, in_f) : NULL;
    if (!scr)
        return -1;
    set_term(scr);
    return 0;
}

void fx_curses_close(void)
{
    if (scr) {
        endwin();
        delscreen(scr);
        scr = NULL;
    }
    if (out_f)
        fclose(out_f);
    if (in_f)
        fclose(in_f);
    out_f = in_f = NULL;
}
