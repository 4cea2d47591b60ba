/* tui/logview.c — the raw log view (l) as lnav users expect it: each line with its
 * number and time (t hides the times), coloured by the severity the log parser gave
 * it, progress-bar redraws collapsed to the bar's last state (r shows them all),
 * and jumps to the previous or next error (e, E) or warning (w, W) from the parsed
 * events.  Search (/, n, N) stays in tui/keys.c.  raw_scroll counts lines back from
 * the newest; the bottom line shown is the first visible one at or after it. */
#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui/tui.h"

void tui_model_line_stamp(struct tui_model *m, int64_t real_ns)
{
    if (m->nlines)
        m->lines[(m->ln_head + m->nlines - 1) % TUI_MAX_LINES].real_ns = real_ns;
}

/* ---- progress bars ------------------------------------------------------------------ */

static const char *digits(const char *p)
{
    while (isdigit((unsigned char)*p))
        p++;
    return p;
}

/* tqdm ("desc: 42%|████  | 42/100 [00:01<...]") or Keras ("42/100 [====>...]"): the
 * key is what stays the same while the bar is redrawn (the description and the
 * total), so that an evaluation's bar is not taken for a redraw of training's. */
bool tui_line_bar_key(const char *s, char *key, size_t len)
{
    if (!s)
        return false;
    const char *pct = strstr(s, "%|");
    if (pct) {
        const char *num = pct;
        while (num > s && (isdigit((unsigned char)num[-1]) || num[-1] == '.'))
            num--;
        const char *bar_end = num < pct ? strchr(pct + 2, '|') : NULL;
        if (!bar_end)
            return false;
        const char *n = bar_end + 1;
        while (*n == ' ')
            n++;
        const char *slash = digits(n);
        if (slash == n || *slash != '/')
            return false;
        const char *tot = slash + 1, *tend = digits(tot);
        if (tend == tot)
            return false;
        const char *d = s; /* the description, without its ": " and blanks */
        while (d < num && (*d == ' ' || *d == '\r'))
            d++;
        const char *de = num;
        while (de > d && (de[-1] == ' ' || de[-1] == ':'))
            de--;
        snprintf(key, len, "%.*s/%.*s", (int)(de - d), d, (int)(tend - tot), tot);
        return true;
    }
    const char *p = s;
    while (*p == ' ' || *p == '\r')
        p++;
    const char *slash = digits(p);
    if (slash == p || *slash != '/')
        return false;
    const char *tend = digits(slash + 1);
    if (tend == slash + 1 || strncmp(tend, " [", 2) || !strchr("=>.", tend[2]))
        return false;
    snprintf(key, len, "keras/%.*s", (int)(tend - slash - 1), slash + 1);
    return true;
}

/* Line i is a redraw that a newer line of the same bar replaced. */
static bool hidden(const struct tui *ui, size_t i)
{
    if (ui->raw_all_redraws || i + 1 >= ui->m->nlines)
        return false;
    char a[160], b[160];
    return tui_line_bar_key(tui_model_line_at(ui->m, i)->text, a, sizeof a) &&
           tui_line_bar_key(tui_model_line_at(ui->m, i + 1)->text, b, sizeof b) && !strcmp(a, b);
}

/* The bottom line shown: at raw_scroll, or the first visible one after it. */
static size_t bottom(const struct tui *ui)
{
    size_t n = ui->m->nlines;
    size_t b = n - 1 - (ui->raw_scroll < n ? ui->raw_scroll : n - 1);
    while (b + 1 < n && hidden(ui, b))
        b++;
    return b;
}

static void show_bottom(struct tui *ui, size_t b) { ui->raw_scroll = ui->m->nlines - 1 - b; }

/* ---- severities from the parsed events ------------------------------------------------ */

/* The worst severity the parser gave line number no (-1 if none). */
static int line_sev(const struct tui_model *m, uint64_t no)
{
    int sev = -1;
    for (size_t i = m->nevents; i-- > 0;) {
        const struct tui_event *e = tui_model_event_at(m, i);
        if (e->line == no && (int)e->sev > sev)
            sev = (int)e->sev;
        else if (e->line && e->line + 64 < no) /* events come in line order (detections: 0) */
            break;
    }
    return sev;
}

/* The newest (dir < 0: older than the bottom line) or oldest (dir > 0: newer)
 * event of severity >= min that still has its line in the view. */
static void jump(struct tui *ui, int dir, enum tui_sev min)
{
    const struct tui_model *m = ui->m;
    size_t n = m->nlines;
    if (!n)
        return;
    size_t b = bottom(ui);
    uint64_t at = tui_model_line_at(m, b)->no, first = tui_model_line_at(m, 0)->no;
    uint64_t best = 0;
    for (size_t i = 0; i < m->nevents; i++) {
        const struct tui_event *e = tui_model_event_at(m, i);
        if (e->sev < min || !e->line || e->line < first || e->line > first + n - 1)
            continue;
        if (dir < 0 && e->line < at && e->line > best)
            best = e->line;
        else if (dir > 0 && e->line > at && (!best || e->line < best))
            best = e->line;
    }
    const char *what = min >= TUI_SEV_ERROR ? "error" : "warning or error";
    if (!best) {
        tui_status(ui, true, "no %s %s in the view", dir < 0 ? "older" : "newer", what);
        return;
    }
    show_bottom(ui, (size_t)(best - first));
    tui_status(ui, false, "line %llu: %s", (unsigned long long)best, what);
}

/* ---- keys and drawing ---------------------------------------------------------------- */

bool tui_rawlog_key(struct tui *ui, int key)
{
    size_t n = ui->m->nlines;
    switch (key) {
    case 'e': case 'E': jump(ui, key == 'e' ? -1 : 1, TUI_SEV_ERROR); return true;
    case 'w': case 'W': jump(ui, key == 'w' ? -1 : 1, TUI_SEV_WARN); return true;
    case 't':
        ui->raw_no_times = !ui->raw_no_times;
        tui_status(ui, false, "times %s", ui->raw_no_times ? "hidden" : "shown");
        return true;
    case 'r':
        ui->raw_all_redraws = !ui->raw_all_redraws;
        tui_status(ui, false, "progress-bar redraws %s", ui->raw_all_redraws ? "shown" : "collapsed");
        return true;
    case 'k': case KEY_UP: { /* one visible line older */
        if (!n)
            return true;
        size_t b = bottom(ui);
        while (b > 0 && hidden(ui, --b)) {}
        show_bottom(ui, b);
        return true;
    }
    case 'j': case KEY_DOWN: { /* one visible line newer */
        size_t b = n ? bottom(ui) : 0;
        if (b + 1 < n)
            show_bottom(ui, b + 1);
        return true;
    }
    default: return false;
    }
}

void tui_rawlog_draw(struct tui *ui)
{
    const struct tui_model *m = ui->m;
    int y = 1, h = ui->lines - 2, w = ui->cols;
    attrset(tui_attr(TUI_R_DIALOG));
    for (int i = 0; i < h; i++)
        mvhline(y + i, 0, ' ', w);
    tui_box(y, 0, h, w, ui->ascii);
    char t[200];
    /* the search first: a narrow screen clips the key list, not it */
    snprintf(t, sizeof t, " raw log%s%s (workload.log; / n N search, e E errors, w W warnings, t times %s, "
             "r redraws %s, Esc closes) ", ui->raw_search[0] ? " /" : "", ui->raw_search,
             ui->raw_no_times ? "off" : "on", ui->raw_all_redraws ? "shown" : "collapsed");
    attrset(tui_attr(TUI_R_TITLE_FOCUS));
    tui_put(y, 2, w - 4, t, false);
    int rows = h - 2;
    if (!m->nlines || rows <= 0)
        return;
    size_t idx[512];
    int k = 0;
    for (size_t i = bottom(ui) + 1; i-- > 0 && k < rows && k < 512;)
        if (!hidden(ui, i))
            idx[k++] = i;
    static const enum tui_role role[] = {TUI_R_TEXT, TUI_R_WARN, TUI_R_ERROR, TUI_R_CRIT};
    for (int r = 0; r < k; r++) {
        const struct tui_line *l = tui_model_line_at(m, idx[k - 1 - r]);
        char ts[MONI_ISO_LEN] = "", buf[1200];
        if (!ui->raw_no_times && l->real_ns)
            moni_fmt_iso(l->real_ns, ts, sizeof ts);
        snprintf(buf, sizeof buf, "%6llu%s %.12s%s%s", (unsigned long long)l->no, l->stream == 2 ? "!" : " ",
                 ts[0] ? ts + 11 : "", ts[0] ? " " : "", l->text ? l->text : "");
        int sev = line_sev(m, l->no);
        attrset(tui_attr(sev > 0 ? role[sev] : TUI_R_DIALOG));
        tui_put(y + 1 + r, 1, w - 2, buf, false);
    }
    attrset(tui_attr(TUI_R_TEXT));
}
