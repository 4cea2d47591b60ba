/* tui/layout.c — places the panes from their descriptors' hints (place, minimum and
 * preferred height, priority, share of the body, rows kept): no pane is named here,
 * so a new pane is laid out by its pane_ops row alone. */
#include <string.h>

#include "tui/tui.h"

/* ---- layout: from the descriptors' hints ------------------------------------------ */

/* The panes of one place in table order; returns the count. */
static int panes_at(enum tui_place place, int *ids)
{
    int n = 0;
    for (int p = 0; p < TUI_NPANES; p++)
        if (tui_panes[p]->place == place)
            ids[n++] = p;
    return n;
}

/* Stacks a column of height h: every pane gets its minimum, then up to its
 * preferred height in priority order, then the rest is shared out evenly. */
static void stack(enum tui_place place, int y, int x, int w, int h, struct tui_rect *out)
{
    int ids[TUI_NPANES], order[TUI_NPANES], hs[TUI_NPANES], used = 0;
    int n = panes_at(place, ids);
    if (n == 0)
        return;
    for (int i = 0; i < n; i++) {
        hs[i] = tui_panes[ids[i]]->min_h;
        used += hs[i];
        int k = i; /* insertion by prio, stable */
        while (k > 0 && tui_panes[ids[order[k - 1]]]->prio > tui_panes[ids[i]]->prio) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    for (int k = 0; k < n && used < h; k++) {
        int i = order[k];
        int add = tui_panes[ids[i]]->pref_h - hs[i];
        if (add > h - used)
            add = h - used;
        if (add > 0) {
            hs[i] += add;
            used += add;
        }
    }
    for (int i = 0; used < h; i = (i + 1) % n) {
        hs[i]++;
        used++;
    }
    for (int i = 0; i < n; i++) {
        out[ids[i]] = (struct tui_rect){y, x, hs[i], w};
        y += hs[i];
    }
}

/* Full-width panes of fixed height from y down; returns the rows used. */
static int band(enum tui_place place, int y, int cols, struct tui_rect *out)
{
    int ids[TUI_NPANES], n = panes_at(place, ids), used = 0;
    for (int i = 0; i < n; i++) {
        int h = tui_panes[ids[i]]->pref_h;
        out[ids[i]] = (struct tui_rect){y + used, 0, h, cols};
        used += h;
    }
    return used;
}

static int band_height(enum tui_place place, int body)
{
    int ids[TUI_NPANES], n = panes_at(place, ids), h = 0;
    for (int i = 0; i < n; i++) {
        const struct pane_ops *o = tui_panes[ids[i]];
        int ph = place == TUI_PLACE_WIDE ? body * o->body_pct / 100 : o->pref_h;
        h += ph > o->min_h ? ph : o->min_h;
    }
    return h;
}

bool tui_layout(int lines, int cols, struct tui_rect out[TUI_NPANES])
{
    memset(out, 0, sizeof(struct tui_rect) * TUI_NPANES);
    if (lines < TUI_MIN_LINES || cols < TUI_MIN_COLS)
        return false;
    int top = band(TUI_PLACE_TOP, 0, cols, out);
    int bottom = band_height(TUI_PLACE_BOTTOM, 0);
    band(TUI_PLACE_BOTTOM, lines - bottom, cols, out);
    int body = lines - top - bottom;
    int wide = band_height(TUI_PLACE_WIDE, body);
    int ids[TUI_NPANES], n = panes_at(TUI_PLACE_WIDE, ids);
    for (int i = 0, y = lines - bottom - wide; i < n; i++) {
        const struct pane_ops *o = tui_panes[ids[i]];
        int h = body * o->body_pct / 100;
        h = h > o->min_h ? h : o->min_h;
        out[ids[i]] = (struct tui_rect){y, 0, h, cols};
        y += h;
    }
    int mid = body - wide, lw = cols / 2;
    stack(TUI_PLACE_LEFT, top, 0, lw, mid, out);
    stack(TUI_PLACE_RIGHT, top, lw, cols - lw, mid, out);
    return true;
}

/* Rows pane q can give up, at most want. */
static int can_give(const struct tui_rect *out, int q, int want)
{
    const struct pane_ops *o = tui_panes[q];
    int give = out[q].h - (o->keep_h ? o->keep_h : o->min_h);
    return give < 0 ? 0 : give > want ? want : give;
}

/* A pane that needs fewer rows now gives them to its neighbour in the column. */
static void layout_fit(struct tui_rect out[TUI_NPANES], const struct tui *ui)
{
    for (int p = 0; p < TUI_NPANES; p++) {
        const struct pane_ops *o = tui_panes[p];
        int need = o->fit_h ? o->fit_h(ui) : 0;
        if (need <= 0 || need >= out[p].h)
            continue;
        int ids[TUI_NPANES], n = panes_at(o->place, ids), at = 0;
        while (ids[at] != p)
            at++;
        if (n < 2)
            continue;
        int to = at + 1 < n ? at + 1 : at - 1;
        out[ids[to]].h += out[p].h - need;
        out[p].h = need;
        for (int k = 1; k < n; k++) /* restacked from the column's top */
            out[ids[k]].y = out[ids[k - 1]].y + out[ids[k - 1]].h;
    }
}

void tui_layout_grow(struct tui_rect out[TUI_NPANES], const struct tui *ui)
{
    layout_fit(out, ui);
    for (int p = 0; p < TUI_NPANES; p++) {
        const struct pane_ops *o = tui_panes[p];
        if (!o->want_h || out[p].h <= 0)
            continue;
        int want = o->want_h(ui) - out[p].h;
        if (want <= 0)
            continue;
        int ids[TUI_NPANES], n = panes_at(o->place, ids), at = 0, take[TUI_NPANES] = {0};
        while (ids[at] != p)
            at++;
        for (int k = at + 1; k < n && want > 0; want -= take[k], k++) /* below first */
            take[k] = can_give(out, ids[k], want);
        for (int k = at - 1; k >= 0 && want > 0; want -= take[k], k--) /* then above */
            take[k] = can_give(out, ids[k], want);
        for (int k = 0; k < n; k++) {
            out[p].h += take[k];
            out[ids[k]].h -= take[k];
        }
        for (int k = 1; k < n; k++) /* restacked from the column's top */
            out[ids[k]].y = out[ids[k - 1]].y + out[ids[k - 1]].h;
    }
}
