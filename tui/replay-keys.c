/* tui/replay-keys.c — the keys that drive a replay's clock (rows of tui/keys.c's
 * table): pause, seek by 10 s or a minute, start and end, go to a typed time, and
 * the speed steps.  The clock itself is tui/replay.c's. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

#define ESC 27

static const double speeds[] = {0.5, 1, 2, 5, 10, TUI_REPLAY_MAX_SPEED};

static void say_clock(struct tui *ui, const char *what)
{
    char c[64];
    tui_replay_clock_text(ui->replay, moni_mono_ns(), c, sizeof c);
    tui_status(ui, false, "%s: %s", what, c);
}

void tui_replay_key_pause(struct tui *ui)
{
    int64_t now = moni_mono_ns();
    tui_replay_pause(ui->replay, !tui_replay_paused(ui->replay), now);
    say_clock(ui, tui_replay_paused(ui->replay) ? "replay paused (p resumes)" : "replay resumed");
}

void tui_replay_key_seek(struct tui *ui, int key)
{
    if (!ui->replay)
        return;
    int64_t now = moni_mono_ns();
    double t = tui_replay_pos(ui->replay, now), d = tui_replay_duration(ui->replay);
    switch (key) {
    case '[': case KEY_SLEFT: t -= 10; break;
    case ']': case KEY_SRIGHT: t += 10; break;
    case '{': t -= 60; break;
    case '}': t += 60; break;
    case KEY_HOME: t = 0; break;
    case KEY_END: t = d; break;
    default: return;
    }
    tui_replay_seek(ui->replay, t, now);
    say_clock(ui, "replay at");
}

void tui_replay_key_speed(struct tui *ui, int key)
{
    if (!ui->replay)
        return;
    double cur = tui_replay_speed(ui->replay);
    size_t n = MONI_ARRAY_LEN(speeds), i = 0;
    while (i + 1 < n && speeds[i] < cur - 1e-9) /* the step at or above the speed now */
        i++;
    bool up = key == '>' || key == '+' || key == '.';
    if (up && speeds[i] <= cur + 1e-9 && i + 1 < n)
        i++;
    else if (!up && i > 0)
        i--;
    tui_replay_set_speed(ui->replay, speeds[i], moni_mono_ns());
    say_clock(ui, "replay speed");
}

void tui_replay_key_goto(struct tui *ui, int key)
{
    (void)key;
    if (!ui->replay)
        return;
    ui->input[0] = 0;
    ui->overlay = TUI_O_GOTO;
}

int tui_replay_parse_time(const char *s, double *out)
{
    double t = 0;
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!*p)
        return -1;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || v < 0)
            return -1;
        p = end;
        if (*p == 'h') {
            t += v * 3600;
            p++;
        } else if (*p == 'm') {
            t += v * 60;
            p++;
        } else if (*p == ':') { /* m:ss or h:mm:ss: what came before is 60 times more */
            t = (t + v) * 60;
            p++;
            if (!*p)
                return -1;
        } else {
            t += v;
            if (*p == 's')
                p++;
            if (*p)
                return -1;
        }
    }
    *out = t;
    return 0;
}

void tui_replay_over_goto(struct tui *ui, int key)
{
    size_t n = strlen(ui->input);
    if (key == ESC) {
        ui->overlay = TUI_O_NONE;
    } else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        ui->overlay = TUI_O_NONE;
        double t;
        if (tui_replay_parse_time(ui->input, &t) != 0) {
            tui_status(ui, true, "go to: '%s' is not a time (90, 90s, 1:30, 1m30s)", ui->input);
            return;
        }
        tui_replay_seek(ui->replay, t, moni_mono_ns());
        say_clock(ui, "replay at");
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (n)
            ui->input[n - 1] = 0;
    } else if (key < 0x100 && strchr("0123456789.:hms", key) && key && n + 1 < sizeof ui->input) {
        ui->input[n] = (char)key;
        ui->input[n + 1] = 0;
    }
}
