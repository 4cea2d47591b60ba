/* tui/logsview.c — the logs-only layout of a blind study's `logs` condition: the
 * situation of an engineer who has the job's log and nothing else.  The panes whose
 * descriptor says `logs` (the header, the log events, the footer) stay; the rest of
 * the body shows the raw log as it grows (l opens it to scroll and search). */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui/tui.h"

/* The raw log's rows: between the top band and the first kept pane below it. */
static struct tui_rect raw_rect(const struct tui *ui)
{
    int top = 0, bottom = ui->lines;
    for (int p = 0; p < TUI_NPANES; p++) {
        const struct tui_rect *r = &ui->rect[p];
        if (r->h <= 0)
            continue;
        if (tui_panes[p]->place == TUI_PLACE_TOP && r->y + r->h > top)
            top = r->y + r->h;
        else if (tui_panes[p]->place != TUI_PLACE_TOP && r->y < bottom)
            bottom = r->y;
    }
    return (struct tui_rect){top, 0, bottom > top ? bottom - top : 0, ui->cols};
}

void tui_logs_layout(struct tui *ui)
{
    int top = 0, bottom = 0;
    for (int p = 0; p < TUI_NPANES; p++) {
        const struct pane_ops *o = tui_panes[p];
        struct tui_rect *r = &ui->rect[p];
        if (!o->logs) {
            *r = (struct tui_rect){0, 0, 0, 0};
        } else if (o->place == TUI_PLACE_TOP) {
            top += r->h;
        } else if (o->place == TUI_PLACE_BOTTOM) {
            bottom += r->h;
        }
    }
    /* the kept wide panes (log events) take the lower third of the body, bottom up */
    int body = ui->lines - top - bottom, y = ui->lines - bottom;
    for (int p = TUI_NPANES; p-- > 0;) {
        const struct pane_ops *o = tui_panes[p];
        if (!o->logs || o->place == TUI_PLACE_TOP || o->place == TUI_PLACE_BOTTOM)
            continue;
        int h = body / 3 > o->min_h ? body / 3 : o->min_h;
        y -= h;
        ui->rect[p] = (struct tui_rect){y, 0, h, ui->cols};
    }
    for (int p = 0, y2 = ui->lines - bottom; p < TUI_NPANES; p++) /* the bottom band, restacked */
        if (tui_panes[p]->logs && tui_panes[p]->place == TUI_PLACE_BOTTOM) {
            ui->rect[p].y = y2;
            y2 += ui->rect[p].h;
        }
    if (ui->rect[ui->focus].h <= 0 || !tui_panes[ui->focus]->focusable)
        for (int p = 0; p < TUI_NPANES; p++)
            if (tui_panes[p]->focusable && ui->rect[p].h > 0) {
                ui->focus = p;
                break;
            }
}

void tui_logs_draw(struct tui *ui)
{
    struct tui_rect r = raw_rect(ui);
    if (r.h < 2)
        return;
    attrset(tui_attr(TUI_R_TITLE));
    mvhline(r.y, r.x, ' ', r.w);
    tui_put(r.y, r.x, r.w, " Log  (logs only: the job's output as it was written; l to scroll and search)",
            false);
    attrset(tui_attr(TUI_R_TEXT));
    int rows = r.h - 1;
    size_t n = ui->m->nlines, first = n > (size_t)rows ? n - (size_t)rows : 0;
    char line[1200];
    for (size_t i = first; i < n; i++) {
        const struct tui_line *l = tui_model_line_at(ui->m, i);
        snprintf(line, sizeof line, "%6llu%s %s", (unsigned long long)l->no, l->stream == 2 ? "!" : " ",
                 l->text ? l->text : "");
        tui_put(r.y + 1 + (int)(i - first), r.x + 1, r.w - 2, line, false);
    }
    if (!n)
        tui_put(r.y + 1, r.x + 1, r.w - 2, "no log lines yet", false);
}
