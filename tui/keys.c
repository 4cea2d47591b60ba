/* tui/keys.c — the console's keys: ONE table (tui_keys[]) of key codes, footer label,
 * help line, action and whether the key works in a replay.  The dispatcher, the
 * footer buttons, the help overlay and moni(1)'s key list all read it (a unit test
 * checks the man page and the README against it), so adding a key is adding a row.
 * Modal overlays (forms, prompts, dialogs) take keys first, then the table.  Keys
 * never block sampling: every action is quick or hands off to the feeder. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

/* ---- actions on the selected fault ------------------------------------------------- */

static const char *sel_kind(struct tui *ui)
{
    return ui->fault_sel < ui->m->nfaults ? ui->m->faults[ui->fault_sel].kind : NULL;
}

static void open_form(struct tui *ui, int key)
{
    (void)key;
    const char *kind = sel_kind(ui);
    if (!kind || !ui->act.params || !ui->act.arm) {
        tui_status(ui, true, "no fault to arm here");
        return;
    }
    struct tui_form *f = &ui->form;
    memset(f, 0, sizeof *f);
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->n = ui->act.params(ui->act.ctx, kind, f->p, TUI_FORM_MAX); /* empty: the defaults */
    ui->overlay = TUI_O_FORM;
}

static void validate_field(struct tui *ui, size_t i)
{
    struct tui_form *f = &ui->form;
    f->err[i][0] = 0;
    if (ui->act.validate && f->val[i][0])
        ui->act.validate(ui->act.ctx, f->kind, f->p[i].name, f->val[i], f->err[i], sizeof f->err[i]);
}

static void submit_form(struct tui *ui)
{
    struct tui_form *f = &ui->form;
    bool bad = false;
    for (size_t i = f->n; i-- > 0;) {
        validate_field(ui, i);
        if (f->err[i][0]) { /* the first bad field gets the focus (and scrolls in) */
            bad = true;
            f->cur = i;
        }
    }
    if (bad) {
        snprintf(f->msg, sizeof f->msg, "%s: %.130s", f->p[f->cur].name, f->err[f->cur]);
        return;
    }
    const char *keys[TUI_FORM_MAX], *vals[TUI_FORM_MAX];
    size_t n = 0;
    bool trigger = false; /* the feeder's fire_* fields: it fires on its own */
    struct tui_preset spec = {0}; /* for "repeat last fault" and presets */
    snprintf(spec.kind, sizeof spec.kind, "%s", f->kind);
    for (size_t i = 0; i < f->n; i++)
        if (f->val[i][0]) {
            keys[n] = f->p[i].name;
            vals[n++] = f->val[i];
            trigger |= !strncmp(f->p[i].name, "fire_", 5);
            tui_preset_add(&spec, f->p[i].name, f->val[i]);
        }
    char err[256] = "";
    if (ui->act.arm(ui->act.ctx, f->kind, keys, vals, n, err, sizeof err) != 0) {
        snprintf(f->msg, sizeof f->msg, "%.150s", err);
        return;
    }
    ui->overlay = TUI_O_NONE;
    tui_preset_armed(ui, &spec);
    tui_status(ui, false, trigger ? "%s armed: fires on its trigger (f fires it now)"
                                  : "%s armed: f fires it", f->kind);
}

static void on_selected(struct tui *ui, int (*fn)(void *, const char *, char *, size_t),
                        const char *verb, const char *done)
{
    const char *kind = sel_kind(ui);
    char err[256] = "";
    if (!fn || !kind)
        tui_status(ui, true, "cannot %s here", verb);
    else if (fn(ui->act.ctx, kind, err, sizeof err) != 0)
        tui_status(ui, true, "%s %s: %s", verb, kind, err);
    else
        tui_status(ui, false, "%s %s", kind, done);
}

static void key_fire(struct tui *ui, int key)
{
    (void)key;
    on_selected(ui, ui->act.fire, "fire", "fired");
    if (!ui->status_error && sel_kind(ui))
        tui_preset_fired(ui, sel_kind(ui));
}

static void key_stop(struct tui *ui, int key)
{
    (void)key;
    on_selected(ui, ui->act.stop, "stop", "stopped");
}

static void key_panic(struct tui *ui, int key)
{
    (void)key;
    char err[256] = "";
    if (!ui->act.stop_all)
        tui_status(ui, true, "nothing to stop here");
    else if (ui->act.stop_all(ui->act.ctx, err, sizeof err) != 0)
        tui_status(ui, true, "panic stop: %s", err);
    else
        tui_status(ui, false, "PANIC: every fault stopped");
}

/* 1-9: the Nth fault kind, in the faults pane; 0: the 10th, and pressed again the
 * ones after it (11, 12, ... then 10 again), so every kind of the table has a key.
 * `:select N` takes any N. */
static void key_digit(struct tui *ui, int key)
{
    size_t n = ui->m->nfaults, want = (size_t)(key - '1');
    if (ui->cmd_arg)
        want = (size_t)atoi(ui->cmd_arg) - 1;
    else if (key == '0')
        want = ui->fault_sel >= 9 && ui->fault_sel + 1 < n ? ui->fault_sel + 1 : 9;
    if (want < n) {
        ui->fault_sel = want;
        ui->focus = TUI_P_FAULTS;
    }
}

/* Enter: the selected fault in detail, in a scrollable view.  Without the feeder's
 * hook (a replay) the row's own facts. */
static void key_detail(struct tui *ui, int key)
{
    (void)key;
    const char *kind = sel_kind(ui);
    if (!kind) {
        tui_status(ui, true, "no fault selected");
        return;
    }
    if (ui->m->blind) {
        tui_status(ui, true, "faults are hidden in a blind replay");
        return;
    }
    char err[256] = "", *t = NULL;
    if (ui->act.fault_detail) {
        t = ui->act.fault_detail(ui->act.ctx, kind, err, sizeof err);
    } else {
        const struct tui_fault_row *f = &ui->m->faults[ui->fault_sel];
        size_t len = 0;
        FILE *fp = open_memstream(&t, &len);
        if (fp) {
            fprintf(fp, "fault %s  %s  %s\nparameters   %s\ndose         %s\nnote         %s\n",
                    f->id[0] ? f->id : "-", f->kind, tui_fault_state_name(f->state),
                    f->params[0] ? f->params : "-", f->dose[0] ? f->dose : "-",
                    f->note[0] ? f->note : "-");
            fclose(fp);
        }
    }
    if (!t) {
        tui_status(ui, true, "%s: %s", kind, err[0] ? err : "no details");
        return;
    }
    free(ui->diag_text);
    ui->diag_text = t;
    ui->diag_scroll = 0;
    snprintf(ui->detail_title, sizeof ui->detail_title, "fault %s (j/k scroll, Esc closes)", kind);
    ui->overlay = TUI_O_DETAIL;
}

/* ---- other actions ----------------------------------------------------------------- */

static void key_help(struct tui *ui, int key)
{
    (void)key;
    ui->overlay = TUI_O_HELP;
}

static void key_quit(struct tui *ui, int key)
{
    (void)key;
    if (ui->m->active_faults > 0 && !ui->m->replay)
        ui->overlay = TUI_O_CONFIRM_QUIT;
    else
        tui_quit(ui);
}

/* j/k and the arrows belong to the focused pane (select a row, scroll). */
static void key_pane(struct tui *ui, int key)
{
    const struct pane_ops *p = tui_panes[ui->focus];
    if (p->key)
        p->key(ui, key);
}

/* The focus moves through the focusable panes in table order. */
static void key_focus(struct tui *ui, int key)
{
    int d = key == 'h' || key == KEY_LEFT || key == KEY_BTAB ? -1 : 1;
    for (int i = 0, p = ui->focus; i < TUI_NPANES; i++) {
        p = (p + d + TUI_NPANES) % TUI_NPANES;
        if (tui_panes[p]->focusable && !(ui->logs_only && ui->rect[p].h <= 0)) {
            ui->focus = p;
            return;
        }
    }
}

static void over_mark(struct tui *ui, int key);

static void key_mark(struct tui *ui, int key)
{
    (void)key;
    snprintf(ui->input, sizeof ui->input, "%s", ui->cmd_arg ? ui->cmd_arg : "");
    ui->overlay = TUI_O_MARK;
    if (ui->cmd_arg) /* `:mark NOTE` */
        over_mark(ui, '\n');
}

/* R asks first: a restart ends the workload's current lifetime.  Where the workload
 * can resume and has a checkpoint, the dialog offers to resume from it. */
static void key_restart(struct tui *ui, int key)
{
    (void)key;
    ui->resume_from[0] = '\0';
    if (!ui->act.restart) {
        tui_status(ui, true, "cannot restart here");
        return;
    }
    if (ui->act.resume_point &&
        ui->act.resume_point(ui->act.ctx, ui->resume_from, sizeof ui->resume_from) != 1)
        ui->resume_from[0] = '\0';
    ui->overlay = TUI_O_CONFIRM_RESTART;
}

static void do_restart(struct tui *ui, bool resume)
{
    char err[256] = "";
    int rc = resume && ui->act.restart_resume
                 ? ui->act.restart_resume(ui->act.ctx, true, err, sizeof err)
             : ui->act.restart ? ui->act.restart(ui->act.ctx, err, sizeof err)
                               : (snprintf(err, sizeof err, "cannot restart here"), -1);
    if (rc != 0)
        tui_status(ui, true, "restart: %s", err);
    else if (resume)
        tui_status(ui, false, "workload resumed from %s", ui->resume_from);
    else
        tui_status(ui, false, "workload restarted from scratch");
}

static void key_pause(struct tui *ui, int key)
{
    (void)key;
    if (ui->replay) { /* a replay's clock stops: nothing moves */
        tui_replay_key_pause(ui);
        return;
    }
    ui->paused = !ui->paused;
    ui->pause_samples = ui->m->samples;
    ui->pause_loss = ui->m->loss_samples;
    tui_status(ui, false, ui->paused ? "graphs paused (recording goes on); p resumes" : "graphs resumed");
}

static void over_filter(struct tui *ui, int key);

static void key_filter(struct tui *ui, int key)
{
    (void)key;
    snprintf(ui->input, sizeof ui->input, "%s", ui->cmd_arg ? ui->cmd_arg : ui->filter);
    ui->overlay = TUI_O_FILTER;
    if (ui->cmd_arg) /* `:filter TEXT` */
        over_filter(ui, '\n');
}

static void key_rawlog(struct tui *ui, int key)
{
    (void)key;
    if (ui->study) /* a study counts the log lines a tester opened */
        tui_answer_log(ui);
    ui->raw_scroll = 0;
    ui->overlay = TUI_O_RAWLOG;
}

static void key_diagnose(struct tui *ui, int key)
{
    (void)key;
    if (!ui->act.diagnose) {
        tui_status(ui, true, "no diagnosis available");
        return;
    }
    char err[256] = "";
    char *t = ui->act.diagnose(ui->act.ctx, err, sizeof err);
    if (!t) {
        tui_status(ui, true, "diagnosis: %s", err);
        return;
    }
    free(ui->diag_text);
    ui->diag_text = t;
    ui->diag_scroll = 0;
    ui->overlay = TUI_O_DIAG;
}

static void key_theme(struct tui *ui, int key)
{
    (void)key;
    tui_use_theme(ui, ui->theme_idx + 1, true);
}

static void key_escape(struct tui *ui, int key)
{
    (void)key;
    if (ui->filter[0]) {
        ui->filter[0] = 0;
        tui_status(ui, false, "filter cleared");
    }
}

/* ---- the table ------------------------------------------------------------------------ */

#define CTRL_C 3
#define ESC 27

const struct tui_keybind tui_keys[] = {
    {{'?', KEY_F(1)}, "?  F1", "Help", "this help", key_help, false, "help", NULL},
    {{'1', '2', '3', '4', '5', '6', '7', '8', '9'}, "1-9", NULL, "select fault kind N", key_digit, false,
     "select", "N|KIND"},
    {{'0'}, "0", NULL, "select fault kind 10; again: 11, 12, ... (the in-process kinds)", key_digit,
     false, "next-kind", NULL},
    {{'j', 'k', KEY_UP, KEY_DOWN}, "j  k  Up  Down", NULL, "select a row / scroll the focused pane",
     key_pane, false, "down", NULL},
    {{'h', KEY_LEFT, KEY_RIGHT, '\t', KEY_BTAB}, "h  Left  Right  Tab", NULL,
     "move the focus between panes", key_focus, false, "focus", NULL},
    {{'a'}, "a", "Arm", "arm the selected fault (a form of every parameter)", open_form, true, "arm",
     "[KIND]"},
    {{'f'}, "f", "Fire", "fire the armed fault", key_fire, true, "fire", "[KIND]"},
    {{'s'}, "s", "Stop", "stop the selected fault", key_stop, true, "stop", "[KIND]"},
    {{'\r', '\n', KEY_ENTER}, "Enter", NULL,
     "the selected fault in detail: journal, dose, effect, failure", key_detail, false, "detail",
     "[KIND]"},
    {{'X'}, "X", "Panic", "panic: stop every fault now", key_panic, true, "panic", NULL},
    {{'.'}, ".", NULL, "fire the last fired fault again (same fields)", tui_key_again, true, "again",
     NULL},
    {{'v'}, "v", NULL, "fault presets: list, fire, save the last fault", tui_key_preset, true, "preset",
     "[list|save|fire] [NAME]"},
    {{'m'}, "m", "Mark", "mark: type a note (marks.jsonl)", key_mark, true, "mark", "[NOTE]"},
    {{'R'}, "R", "Restart", "restart the workload (asks first; offers resume)", key_restart, true, "restart", NULL},
    {{'p'}, "p", "Pause", "pause the graphs (recording goes on); in a replay, the replay", key_pause,
     false, "pause", NULL},
    {{'[', ']', '{', '}', KEY_SLEFT, KEY_SRIGHT}, "[  ]  {  }", NULL,
     "replay: back, forward 10 s (also Shift-Left, Shift-Right); { } 60 s", tui_replay_key_seek,
     TUI_KEY_REPLAY, "seek", NULL},
    {{KEY_HOME, KEY_END}, "Home  End", NULL, "replay: to the start, to the end", tui_replay_key_seek,
     TUI_KEY_REPLAY, "start", NULL},
    {{'g'}, "g", NULL, "replay: go to a time (90, 1:30, 1m30s)", tui_replay_key_goto, TUI_KEY_REPLAY,
     "goto", NULL},
    {{'>', '<', '+', '-'}, "<  >", NULL, "replay speed down, up: 0.5x 1x 2x 5x 10x max",
     tui_replay_key_speed, TUI_KEY_REPLAY, "faster", NULL},
    {{'!'}, "!", "Problem", "study: I see a problem now (recorded with the replay time)",
     tui_answer_detected, TUI_KEY_STUDY, "problem", NULL},
    {{'c'}, "c", "Cause", "study: name the root cause (a picker; again to revise)", tui_answer_open,
     TUI_KEY_STUDY, "cause", NULL},
    {{'/'}, "/", "Filter", "filter log events (Esc clears)", key_filter, false, "filter", "[TEXT]"},
    {{'l'}, "l", "Log", "raw log: / n N search, e E errors, w W warnings", key_rawlog, false, "log",
     NULL},
    {{'d'}, "d", "Diag", "run the diagnosis now", key_diagnose, false, "diag", NULL},
    {{'t'}, "t", "Theme", "next colour theme", key_theme, false, "theme", NULL},
    {{'o'}, "o", NULL, "plan queue: each experiment, progress, ETA", tui_key_queue, true, "queue", NULL},
    {{'L'}, "L", NULL, "load a plan file (moni-plan(5)); o r runs it", tui_key_plan, true, "plan",
     "FILE"},
    {{0}, "o  r", NULL, "run the plan's experiments in turn", tui_key_plan_run, true, "run", NULL},
    {{0}, "o  s", NULL, "skip an experiment (stops it when running)", tui_key_plan_skip, true,
     "skip", "[N|NAME]"},
    {{0}, "o  A", NULL, "abort the plan: stop its run, start no more", tui_key_plan_abort, true,
     "abort", NULL},
    {{'O', '\\', 'K', KEY_F(6), KEY_F(4), KEY_F(9)}, "O  \\  K  F6  F4  F9", NULL,
     "processes: O sort, \\ filter, K signal (asks)", tui_procs_key, false, "procs", NULL},
    {{':'}, ":", NULL, "command line: a command per key; Tab completes", tui_key_cmdline, false,
     "command", "[TEXT]"},
    {{ESC}, "Esc", NULL, "close a view, form or prompt; clear the filter", key_escape, false, "clear",
     NULL},
    {{'q', 'Q', KEY_F(10), CTRL_C}, "q  F10", "Quit", "quit (asks while faults are active)", key_quit,
     false, "quit", NULL},
    {{0}, "mouse", NULL, "click a pane, a row or a bottom-bar button", NULL, false, NULL, NULL},
};
const size_t tui_nkeys = MONI_ARRAY_LEN(tui_keys);

const struct tui_keybind *tui_keybind_find(int key)
{
    for (size_t i = 0; i < tui_nkeys; i++)
        for (size_t k = 0; k < MONI_ARRAY_LEN(tui_keys[i].codes) && tui_keys[i].codes[k]; k++)
            if (tui_keys[i].codes[k] == key)
                return &tui_keys[i];
    return NULL;
}

bool tui_keybind_shown(const struct tui *ui, const struct tui_keybind *k)
{
    switch (k->where) {
    case TUI_KEY_LIVE: return !ui->m->replay;
    case TUI_KEY_REPLAY: return ui->m->replay;
    case TUI_KEY_STUDY: return ui->m->replay && ui->study;
    default: return true;
    }
}

/* ---- overlays: modal on screen, so they take keys before the table ------------------ */

/* Edits a line buffer; returns 1 on Enter, -1 on Esc, 0 otherwise. */
static int edit_line(char *buf, size_t len, int key)
{
    size_t n = strlen(buf);
    if (key == '\n' || key == '\r' || key == KEY_ENTER)
        return 1;
    if (key == ESC)
        return -1;
    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (n) { /* drop a whole UTF-8 character */
            do
                n--;
            while (n && ((unsigned char)buf[n] & 0xc0) == 0x80);
            buf[n] = 0;
        }
    } else if (key == 21) { /* ^U */
        buf[0] = 0;
    } else if (key >= 0x20 && key < 0x100 && key != 0x7f && n + 1 < len) {
        buf[n] = (char)key;
        buf[n + 1] = 0;
    }
    return 0;
}

int tui_edit_line(char *buf, size_t len, int key) { return edit_line(buf, len, key); }

static void over_help(struct tui *ui, int key)
{
    if (key == 'j' || key == KEY_DOWN || key == KEY_NPAGE) { /* when it is longer than the screen */
        ui->help_scroll += key == KEY_NPAGE ? 10 : 1;
        return;
    }
    if (key == 'k' || key == KEY_UP || key == KEY_PPAGE) {
        size_t d = key == KEY_PPAGE ? 10 : 1;
        ui->help_scroll = ui->help_scroll > d ? ui->help_scroll - d : 0;
        return;
    }
    ui->help_scroll = 0; /* any other key closes */
    ui->overlay = TUI_O_NONE;
}

static void over_view(struct tui *ui, int key)
{
    const struct pane_ops *v = ui->overlay == TUI_O_QUEUE ? &tui_view_queue : &tui_view_presets;
    v->key(ui, key);
}

static void over_too_small(struct tui *ui, int key)
{
    const struct tui_keybind *b = tui_keybind_find(key);
    if (b && b->action == key_quit)
        tui_quit(ui);
}

static void over_confirm(struct tui *ui, int key)
{
    if (key == 'y' || key == 'Y' || key == '\n' || key == '\r')
        tui_quit(ui);
    else if (key == 'n' || key == 'N' || key == ESC || key == 'q')
        ui->overlay = TUI_O_NONE;
}

static void over_restart(struct tui *ui, int key)
{
    if (key == 'r' && ui->resume_from[0]) {
        ui->overlay = TUI_O_NONE;
        do_restart(ui, true);
    } else if (key == 'y' || key == 'Y' || key == '\n' || key == '\r') {
        ui->overlay = TUI_O_NONE;
        do_restart(ui, false);
    } else if (key == 'n' || key == 'N' || key == ESC || key == 'q') {
        ui->overlay = TUI_O_NONE;
        tui_status(ui, false, "restart cancelled");
    }
}

static void over_form(struct tui *ui, int key)
{
    struct tui_form *f = &ui->form;
    if (key == '\t' || key == KEY_DOWN) {
        validate_field(ui, f->cur);
        if (f->n)
            f->cur = (f->cur + 1) % f->n;
    } else if (key == KEY_BTAB || key == KEY_UP) {
        validate_field(ui, f->cur);
        if (f->n)
            f->cur = (f->cur + f->n - 1) % f->n;
    } else if (key == KEY_NPAGE || key == KEY_PPAGE) {
        validate_field(ui, f->cur);
        size_t page = ui->lines > 8 ? (size_t)(ui->lines - 6) / 2 : 1; /* the fields shown */
        if (key == KEY_NPAGE)
            f->cur = f->cur + page < f->n ? f->cur + page : (f->n ? f->n - 1 : 0);
        else
            f->cur = f->cur > page ? f->cur - page : 0;
    } else if (f->n == 0 && (key == '\n' || key == '\r' || key == KEY_ENTER)) {
        submit_form(ui);
    } else if (f->n == 0 && key == ESC) {
        ui->overlay = TUI_O_NONE;
    } else if (f->n) {
        int r = edit_line(f->val[f->cur], sizeof f->val[f->cur], key);
        if (r > 0)
            submit_form(ui);
        else if (r < 0)
            ui->overlay = TUI_O_NONE;
        else
            validate_field(ui, f->cur);
    }
}

static void over_mark(struct tui *ui, int key)
{
    int r = edit_line(ui->input, sizeof ui->input, key);
    if (r == 0)
        return;
    ui->overlay = TUI_O_NONE;
    if (r < 0)
        return;
    char err[256] = "";
    if (!ui->act.mark)
        tui_status(ui, true, "marks need a live run");
    else if (ui->act.mark(ui->act.ctx, ui->input, err, sizeof err) != 0)
        tui_status(ui, true, "mark: %s", err);
    else
        tui_status(ui, false, "marked: %s", ui->input);
}

static void over_filter(struct tui *ui, int key)
{
    int r = edit_line(ui->input, sizeof ui->input, key);
    if (r < 0) {
        ui->filter[0] = 0;
        ui->overlay = TUI_O_NONE;
        return;
    }
    snprintf(ui->filter, sizeof ui->filter, "%.63s", ui->input);
    ui->ev_scroll = 0;
    if (r > 0)
        ui->overlay = TUI_O_NONE;
}

void tui_raw_pin(struct tui *ui)
{
    size_t n = ui->m->nlines;
    uint64_t newest = n ? tui_model_line_at(ui->m, n - 1)->no : 0;
    if (ui->raw_scroll && newest > ui->raw_newest) {
        ui->raw_scroll += (size_t)(newest - ui->raw_newest);
        if (ui->raw_scroll >= n)
            ui->raw_scroll = n ? n - 1 : 0;
    }
    ui->raw_newest = newest;
}

/* The raw log line nearest to the bottom of the view that contains the search,
 * going back (older, dir < 0) or forward (newer) from the line shown last. */
static void raw_find(struct tui *ui, int dir)
{
    tui_raw_pin(ui);
    size_t n = ui->m->nlines;
    if (!ui->raw_search[0] || !n)
        return;
    size_t last = n - 1 - (ui->raw_scroll < n ? ui->raw_scroll : n - 1);
    for (size_t k = 1; k <= n; k++) {
        size_t i;
        if (dir < 0) {
            if (k > last)
                break;
            i = last - k;
        } else {
            if (last + k >= n)
                break;
            i = last + k;
        }
        const struct tui_line *l = tui_model_line_at(ui->m, i);
        if (l->text && strcasestr(l->text, ui->raw_search)) {
            ui->raw_scroll = n - 1 - i;
            return;
        }
    }
    tui_status(ui, true, "no %s line with \"%s\"", dir < 0 ? "older" : "newer", ui->raw_search);
}

static void over_rawsearch(struct tui *ui, int key)
{
    int r = edit_line(ui->input, sizeof ui->input, key);
    if (r == 0)
        return;
    ui->overlay = TUI_O_RAWLOG;
    if (r < 0)
        return;
    snprintf(ui->raw_search, sizeof ui->raw_search, "%.63s", ui->input);
    ui->raw_scroll = 0; /* from the newest line back */
    tui_raw_pin(ui);
    size_t n = ui->m->nlines;
    const struct tui_line *l = n ? tui_model_line_at(ui->m, n - 1) : NULL;
    if (!(l && l->text && strcasestr(l->text, ui->raw_search)))
        raw_find(ui, -1);
}

static void over_textview(struct tui *ui, int key)
{
    if (ui->overlay == TUI_O_RAWLOG)
        tui_raw_pin(ui);
    if (ui->overlay == TUI_O_RAWLOG && tui_rawlog_key(ui, key))
        return;
    if (ui->overlay == TUI_O_RAWLOG && (key == '/' || key == 'n' || key == 'N')) {
        if (key == '/') {
            snprintf(ui->input, sizeof ui->input, "%s", ui->raw_search);
            ui->overlay = TUI_O_RAWSEARCH;
        } else {
            raw_find(ui, key == 'n' ? -1 : 1);
        }
        return;
    }
    size_t *sc = ui->overlay == TUI_O_RAWLOG ? &ui->raw_scroll : &ui->diag_scroll;
    size_t page = ui->lines > 6 ? (size_t)ui->lines - 6 : 1;
    if (key == 'k' || key == KEY_UP)
        (*sc)++;
    else if ((key == 'j' || key == KEY_DOWN) && *sc)
        (*sc)--;
    else if (key == KEY_PPAGE)
        *sc += page;
    else if (key == KEY_NPAGE)
        *sc = *sc > page ? *sc - page : 0;
    else if (key == ESC || key == 'q' || key == 'l' || key == 'd' || key == '\n')
        ui->overlay = TUI_O_NONE;
}

static void (*const overlay_keys[])(struct tui *ui, int key) = {
    [TUI_O_HELP] = over_help,       [TUI_O_FORM] = over_form,     [TUI_O_CONFIRM_QUIT] = over_confirm,
    [TUI_O_MARK] = over_mark,       [TUI_O_FILTER] = over_filter, [TUI_O_RAWLOG] = over_textview,
    [TUI_O_DIAG] = over_textview,   [TUI_O_TOO_SMALL] = over_too_small,
    [TUI_O_DETAIL] = over_textview, [TUI_O_CONFIRM_RESTART] = over_restart,
    [TUI_O_RAWSEARCH] = over_rawsearch, [TUI_O_CMDLINE] = tui_cmdline_key,
    [TUI_O_QUEUE] = over_view,      [TUI_O_PRESETS] = over_view,
    [TUI_O_PROC_SIGNAL] = tui_procs_overlay_key, [TUI_O_PROC_FILTER] = tui_procs_overlay_key,
    [TUI_O_GOTO] = tui_replay_over_goto, [TUI_O_ANSWER] = tui_answer_key,
};

/* ---- dispatch ------------------------------------------------------------------------- */

void tui_key(struct tui *ui, int key)
{
    ui->view_dirty = true;
    if (key == KEY_MOUSE) {
        MEVENT ev;
        if (getmouse(&ev) == OK && (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED)))
            tui_key_mouse(ui, ev.y, ev.x);
        return;
    }
    if (ui->overlay != TUI_O_NONE) {
        if ((size_t)ui->overlay < MONI_ARRAY_LEN(overlay_keys) && overlay_keys[ui->overlay])
            overlay_keys[ui->overlay](ui, key);
        return;
    }
    const struct tui_keybind *b = tui_keybind_find(key);
    if (!b || !b->action)
        return;
    if (!tui_keybind_shown(ui, b)) {
        tui_status(ui, true, "%s (%s): only %s", b->keys, b->label ? b->label : b->help,
                   b->where == TUI_KEY_LIVE    ? "in a live run, not in a replay"
                   : b->where == TUI_KEY_STUDY ? "while answering a blind study (moni study run)"
                                               : "in a replay");
        return;
    }
    b->action(ui, key);
}

void tui_key_mouse(struct tui *ui, int y, int x)
{
    ui->view_dirty = true;
    for (size_t i = ui->nclicks; i-- > 0;) { /* last drawn is on top */
        const struct tui_click *c = &ui->clicks[i];
        if (y != c->y || x < c->x || x >= c->x + c->w)
            continue;
        if (c->key) {
            tui_key(ui, c->key);
        } else if (c->pane == -2 && ui->overlay == TUI_O_FORM) {
            ui->form.cur = (size_t)c->row;
        } else if (c->pane >= 0 && ui->overlay == TUI_O_NONE) {
            ui->focus = c->pane;
            if (c->row >= 0 && tui_panes[c->pane]->select)
                tui_panes[c->pane]->select(ui, (size_t)c->row);
        }
        return;
    }
}
