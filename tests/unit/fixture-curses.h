/* tests/unit/fixture-curses.h — an ncurses screen of a given size drawn to /dev/null,
 * in a UTF-8 locale, for the console's unit tests (set up and torn down once a group). */
#ifndef MONI_FIXTURE_CURSES_H
#define MONI_FIXTURE_CURSES_H

/* 0, or -1 when the terminal cannot be set up (xterm-256color). */
int fx_curses_open(int lines, int cols);
void fx_curses_close(void);

#endif
