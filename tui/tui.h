/* tui/tui.h — what tui/ exports: the console command. */
#ifndef MONI_TUI_H
#define MONI_TUI_H

#include "core/core.h"

/* `moni [console options] [-- CMD ARGS...]`: the full-screen console. */
extern const struct cmd_entry cmd_console_entry;

#endif
