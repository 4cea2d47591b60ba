/* tui/answer.c — answering inside a blind study's replay: ! says "I see a problem
 * now", c opens the cause picker.  The picker lists the root-cause labels moni knows
 * (core's study_cause_labels), filtered as the tester types; Enter takes the
 * highlighted one, then (a multi-process run) the component from the run's
 * processes, a confidence and a free-text note, each skipped with Enter.  Every
 * answer is one line of the tester's answers file through core's
 * study_answer_append (the one format, moni-dataset(5)), timed by the replay clock
 * when the cause was chosen; a later answer revises, and all are kept.  Opening the
 * raw log (l) is a `log` answer with the lines written so far. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/report.h"
#include "tui/tui.h"

#define ESC 27
#define PICK_MAX 96

enum pick_stage { PICK_CAUSE, PICK_COMPONENT, PICK_CONFIDENCE, PICK_NOTE };

struct tui_picker {
    enum pick_stage stage;
    char items[PICK_MAX][STUDY_LABEL_LEN]; /* the stage's choices */
    size_t nitems;
    char filter[48];
    size_t sel; /* among the items that pass the filter */
    double replay_s;
    char cause[STUDY_LABEL_LEN], component[64];
    double confidence;
    char note[128];
};

static const char *const confidences[] = {"not given", "0.2 a guess", "0.4", "0.6", "0.8", "1.0 sure"};

static double replay_now(const struct tui *ui)
{
    return ui->replay ? tui_replay_pos(ui->replay, moni_mono_ns()) : NAN;
}

static int record(struct tui *ui, struct study_answer *a)
{
    const struct tui_study *st = ui->study;
    a->tester = st->tester;
    a->session = st->session;
    a->condition = st->condition;
    char err[512];
    if (study_answer_append(st->dir, a, err, sizeof err) != 0) {
        tui_status(ui, true, "answer not recorded: %s", err);
        return -1;
    }
    return 0;
}

void tui_answer_detected(struct tui *ui, int key)
{
    (void)key;
    if (!ui->study)
        return;
    struct study_answer a = {.kind = "detected", .replay_s = replay_now(ui), .confidence = NAN, .lines = -1};
    if (record(ui, &a) == 0)
        tui_status(ui, false, "recorded: a problem seen at %.1f s (c names the cause)", a.replay_s);
}

void tui_answer_log(struct tui *ui)
{
    if (!ui->study)
        return;
    size_t n = ui->m->nlines;
    const struct tui_line *l = n ? tui_model_line_at(ui->m, n - 1) : NULL;
    struct study_answer a = {.kind = "log", .file = "workload.log", .replay_s = replay_now(ui),
                             .confidence = NAN, .lines = l ? (long)l->no : 0};
    record(ui, &a);
}

/* ---- the list: items that pass the filter ------------------------------------------- */

static bool passes(const struct tui_picker *p, size_t i)
{
    return !p->filter[0] || strcasestr(p->items[i], p->filter);
}

static size_t shown_count(const struct tui_picker *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nitems; i++)
        n += passes(p, i);
    return n;
}

/* The k-th item that passes the filter, or NULL. */
static const char *shown_at(const struct tui_picker *p, size_t k)
{
    for (size_t i = 0; i < p->nitems; i++)
        if (passes(p, i) && k-- == 0)
            return p->items[i];
    return NULL;
}

static void add_item(struct tui_picker *p, const char *s)
{
    if (p->nitems < PICK_MAX)
        snprintf(p->items[p->nitems++], STUDY_LABEL_LEN, "%s", s);
}

static void enter_stage(struct tui *ui, enum pick_stage st)
{
    struct tui_picker *p = ui->picker;
    p->stage = st;
    p->nitems = 0;
    p->sel = 0;
    p->filter[0] = 0;
    if (st == PICK_CAUSE) {
        p->nitems = study_cause_labels(p->items, PICK_MAX);
    } else if (st == PICK_COMPONENT) {
        add_item(p, "(not sure / the whole job)");
        for (size_t i = 0; i < ui->m->nworkers; i++)
            add_item(p, ui->m->workers[i].name);
    } else if (st == PICK_CONFIDENCE) {
        for (size_t i = 0; i < MONI_ARRAY_LEN(confidences); i++)
            add_item(p, confidences[i]);
    }
}

void tui_answer_open(struct tui *ui, int key)
{
    (void)key;
    if (!ui->study)
        return;
    if (!ui->picker && !(ui->picker = calloc(1, sizeof *ui->picker))) {
        tui_status(ui, true, "out of memory");
        return;
    }
    memset(ui->picker, 0, sizeof *ui->picker);
    ui->picker->confidence = NAN;
    enter_stage(ui, PICK_CAUSE);
    ui->overlay = TUI_O_ANSWER;
}

void tui_answer_close(struct tui *ui)
{
    free(ui->picker);
    ui->picker = NULL;
    if (ui->overlay == TUI_O_ANSWER)
        ui->overlay = TUI_O_NONE;
}

static void finish(struct tui *ui)
{
    struct tui_picker *p = ui->picker;
    struct study_answer a = {.kind = "cause", .replay_s = p->replay_s, .cause = p->cause,
                             .component = p->component[0] ? p->component : NULL,
                             .note = p->note[0] ? p->note : NULL, .confidence = p->confidence,
                             .lines = -1};
    if (record(ui, &a) == 0)
        tui_status(ui, false, "recorded: cause %s at %.1f s%s%s (c revises)", p->cause, p->replay_s,
                   p->component[0] ? " in " : "", p->component);
    tui_answer_close(ui);
}

/* Enter on a list: the highlighted item, then the next stage. */
static void choose(struct tui *ui)
{
    struct tui_picker *p = ui->picker;
    const char *it = shown_at(p, p->sel);
    if (!it)
        return; /* the filter leaves nothing: keep typing or Backspace */
    switch (p->stage) {
    case PICK_CAUSE:
        snprintf(p->cause, sizeof p->cause, "%s", it);
        p->replay_s = replay_now(ui); /* diagnosed now, whatever the details take */
        enter_stage(ui, ui->m->nworkers ? PICK_COMPONENT : PICK_CONFIDENCE);
        break;
    case PICK_COMPONENT:
        if (it != p->items[0])
            snprintf(p->component, sizeof p->component, "%s", it);
        enter_stage(ui, PICK_CONFIDENCE);
        break;
    case PICK_CONFIDENCE:
        if (it != p->items[0])
            p->confidence = atof(it);
        enter_stage(ui, PICK_NOTE);
        break;
    case PICK_NOTE:
        break;
    }
}

void tui_answer_key(struct tui *ui, int key)
{
    struct tui_picker *p = ui->picker;
    if (!p) {
        ui->overlay = TUI_O_NONE;
        return;
    }
    if (key == ESC) {
        tui_answer_close(ui);
        tui_status(ui, false, "answer cancelled: nothing recorded");
        return;
    }
    bool enter = key == '\n' || key == '\r' || key == KEY_ENTER;
    char *buf = p->stage == PICK_NOTE ? p->note : p->filter;
    size_t cap = p->stage == PICK_NOTE ? sizeof p->note : sizeof p->filter, n = strlen(buf);
    if (enter && p->stage == PICK_NOTE) {
        finish(ui);
    } else if (enter) {
        choose(ui);
    } else if (key == KEY_UP || key == KEY_BTAB) {
        p->sel = p->sel ? p->sel - 1 : 0;
    } else if (key == KEY_DOWN || key == '\t') {
        if (p->sel + 1 < shown_count(p))
            p->sel++;
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (n)
            buf[n - 1] = 0;
        p->sel = 0;
    } else if (key >= 0x20 && key < 0x7f && n + 1 < cap) {
        buf[n] = (char)key;
        buf[n + 1] = 0;
        p->sel = 0;
    }
}

/* ---- drawing ------------------------------------------------------------------------------ */

void tui_answer_draw(struct tui *ui)
{
    struct tui_picker *p = ui->picker;
    if (!p)
        return;
    static const char *const titles[] = {
        "root cause? type to filter, Up/Down, Enter picks, Esc cancels",
        "which process? Enter picks (the first: not sure)",
        "how sure? Enter picks",
        "a note (optional), Enter records the answer",
    };
    int w = ui->cols > 72 ? 72 : ui->cols, h = ui->lines - 4 > 24 ? 24 : ui->lines - 4;
    int y = (ui->lines - h) / 2, x = (ui->cols - w) / 2;
    attrset(tui_attr(TUI_R_DIALOG));
    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    tui_box(y, x, h, w, ui->ascii);
    attrset(tui_attr(TUI_R_TITLE_FOCUS));
    char t[128];
    snprintf(t, sizeof t, " %s ", titles[p->stage]);
    tui_put(y, x + 2, w - 4, t, false);
    char line[160];
    attrset(tui_attr(TUI_R_INPUT));
    snprintf(line, sizeof line, "%s %s_", p->stage == PICK_NOTE ? "note:" : "filter:",
             p->stage == PICK_NOTE ? p->note : p->filter);
    tui_put(y + 1, x + 2, w - 4, line, true);
    attrset(tui_attr(TUI_R_MUTED));
    if (p->stage != PICK_CAUSE) {
        snprintf(line, sizeof line, "cause %s%s%s", p->cause, p->component[0] ? ", in " : "", p->component);
        tui_put(y + h - 2, x + 2, w - 4, line, true);
    }
    if (p->stage == PICK_NOTE)
        return;
    int rows = h - 4;
    size_t n = shown_count(p), first = p->sel >= (size_t)rows ? p->sel - (size_t)rows + 1 : 0;
    if (!n) {
        tui_put(y + 2, x + 2, w - 4, "nothing matches: Backspace", false);
        return;
    }
    for (size_t k = first; k < n && (int)(k - first) < rows; k++) {
        attrset(tui_attr(k == p->sel ? TUI_R_SELECT : TUI_R_DIALOG));
        snprintf(line, sizeof line, "%s %s", k == p->sel ? ">" : " ", shown_at(p, k));
        tui_put(y + 2 + (int)(k - first), x + 2, w - 4, line, true);
    }
    attrset(tui_attr(TUI_R_TEXT));
}
