/* tui/pane-queue.c — the plan's queue view, drawn over the panes: every experiment
 * of the loaded plan with its state (queued, running, done, failed, skipped; after
 * an abort: aborted, not run), the
 * running one's progress, the plan's ETA, and the keys that run, skip and abort
 * it (the same actions as the :run, :skip and :abort commands). */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tui/tui.h"

static enum tui_role state_role(const char *state)
{
    if (!strcmp(state, "running"))
        return TUI_R_FAULT_FIRING;
    if (!strcmp(state, "done"))
        return TUI_R_OK;
    if (!strcmp(state, "failed"))
        return TUI_R_ERROR;
    if (!strcmp(state, "skipped") || !strcmp(state, "not run") || !strcmp(state, "aborted"))
        return TUI_R_MUTED;
    return TUI_R_DIALOG;
}

/* "12s of 60s (20%)  step 30/100" for the running item. */
static void running_progress(const struct tui *ui, const struct tui_plan_view *v, char *buf, size_t len)
{
    char el[32], pl[32];
    moni_fmt_duration((int64_t)(v->elapsed_s * 1e9), el, sizeof el);
    if (v->planned_s > 0) {
        moni_fmt_duration((int64_t)(v->planned_s * 1e9), pl, sizeof pl);
        double pct = 100 * v->elapsed_s / v->planned_s;
        snprintf(buf, len, "%s of %s (%.0f%%)", el, pl, pct > 100 ? 100 : pct);
    } else {
        snprintf(buf, len, "%s", el);
    }
    const struct tui_model *m = ui->m;
    size_t n = strlen(buf);
    if (m->step_ok && m->train_max_ok && m->train_max > 0)
        snprintf(buf + n, len - n, "  step %.0f/%.0f", m->step, m->train_max);
    else if (m->step_ok)
        snprintf(buf + n, len - n, "  step %.0f", m->step);
}

static void summary(const struct tui_plan_view *v, char *buf, size_t len)
{
    char eta[32] = "?";
    if (v->eta_s >= 0 && v->eta_s < 1e7)
        moni_fmt_duration((int64_t)(v->eta_s * 1e9), eta, sizeof eta);
    const char *what = v->aborted ? "aborted"
                     : v->finished == v->n ? "all done"
                     : v->running >= 0 ? "running"
                     : v->started ? "waiting (cooldown)" : "not started: r runs it";
    snprintf(buf, len, "%zu runs, %zu done, %s; ETA %s; into %s", v->n, v->finished, what,
             v->finished == v->n || v->aborted ? "-" : eta, v->dir);
}

static void queue_draw(struct tui *ui, struct tui_rect r, bool focus)
{
    (void)focus;
    struct tui_plan_view v;
    bool have = tui_plan_view(ui, &v);
    attrset(tui_attr(TUI_R_DIALOG));
    for (int i = 0; i < r.h; i++)
        mvhline(r.y + i, r.x, ' ', r.w);
    tui_box(r.y, r.x, r.h, r.w, ui->ascii);
    char line[600];
    snprintf(line, sizeof line, " plan %s (r run, s skip, A abort, L load, Esc closes) ",
             have ? v.name : "queue");
    attrset(tui_attr(TUI_R_TITLE_FOCUS));
    tui_put(r.y, r.x + 2, r.w - 4, line, false);
    attrset(tui_attr(TUI_R_MUTED));
    if (!have) {
        tui_put(r.y + 2, r.x + 2, r.w - 4, "no plan loaded: L or :plan FILE loads one (moni-plan(5))", false);
        attrset(tui_attr(TUI_R_TEXT));
        return;
    }
    summary(&v, line, sizeof line);
    tui_put(r.y + 1, r.x + 2, r.w - 4, line, true);
    if (ui->queue_sel >= v.n)
        ui->queue_sel = v.n ? v.n - 1 : 0;
    int rows = r.h - 4;
    size_t top = ui->queue_sel >= (size_t)rows ? ui->queue_sel + 1 - (size_t)rows : 0;
    for (size_t i = top; i < v.n && (int)(i - top) < rows; i++) {
        const char *name, *state, *outcome;
        int ex = 0;
        if (!tui_plan_item(ui, i, &name, &state, &outcome, &ex))
            break;
        char detail[200] = "";
        if ((long)i == v.running)
            running_progress(ui, &v, detail, sizeof detail);
        else if (outcome[0] && ex >= 0)
            snprintf(detail, sizeof detail, "%s, exit %d", outcome, ex);
        else if (outcome[0])
            snprintf(detail, sizeof detail, "%s", outcome);
        int y = r.y + 3 + (int)(i - top);
        snprintf(line, sizeof line, "%c%3zu %-24s", i == ui->queue_sel ? '>' : ' ', i + 1, name);
        attrset(tui_attr(i == ui->queue_sel ? TUI_R_SELECT : TUI_R_DIALOG));
        tui_put(y, r.x + 2, 30, line, true);
        attrset(tui_attr(state_role(state)));
        tui_put(y, r.x + 33, 9, state, true);
        attrset(tui_attr(TUI_R_DIALOG));
        tui_put(y, r.x + 43, r.w - 45, detail, true);
    }
    attrset(tui_attr(TUI_R_TEXT));
}

static size_t queue_rows(const struct tui *ui)
{
    struct tui_plan_view v;
    return tui_plan_view(ui, &v) ? v.n : 0;
}

static void queue_select(struct tui *ui, size_t row)
{
    if (row < queue_rows(ui))
        ui->queue_sel = row;
}

static void queue_key(struct tui *ui, int key)
{
    size_t n = queue_rows(ui);
    if ((key == 'j' || key == KEY_DOWN) && ui->queue_sel + 1 < n)
        ui->queue_sel++;
    else if ((key == 'k' || key == KEY_UP) && ui->queue_sel > 0)
        ui->queue_sel--;
    else if (key == 'r' || key == '\n' || key == '\r' || key == KEY_ENTER)
        tui_key_plan_run(ui, key);
    else if (key == 's')
        tui_key_plan_skip(ui, key);
    else if (key == 'A')
        tui_key_plan_abort(ui, key);
    else if (key == 'L')
        tui_key_plan(ui, key);
    else if (key == ':')
        tui_cmdline_open(ui, "");
    else if (key == 27 || key == 'q' || key == 'o')
        ui->overlay = TUI_O_NONE;
}

const struct pane_ops tui_view_queue = {
    .name = "queue", .title = "plan queue", .draw = queue_draw, .rows = queue_rows,
    .key = queue_key, .select = queue_select,
};

void tui_key_queue(struct tui *ui, int key)
{
    (void)key;
    ui->overlay = TUI_O_QUEUE;
}
