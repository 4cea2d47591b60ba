/* tui/ui.c — the console itself: terminal setup on the shared loop (stdin and
 * SIGWINCH are loop sources, so keys never block sampling), the redraw timer (only
 * on change: at most 2 Hz for new data, ~10 Hz after keys), themes, and the
 * modal-on-screen overlays: help (from the key table, tui/keys.c), the arm form,
 * the quit and restart dialogs, prompts, raw log, diagnosis and fault views. */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/epoll.h>
#include <string.h>
#include <unistd.h>

#include "tui/tui.h"

#define REDRAW_NS (100 * MONI_NS_PER_MS)       /* keys: the next tick draws */
#define MODEL_REDRAW_NS (500 * MONI_NS_PER_MS) /* new samples: at most twice a second */
#define LINES_REDRAW_NS MONI_NS_PER_SEC       /* log lines alone: once a second */
#define STATUS_NS (4 * MONI_NS_PER_SEC)

static struct tui *fatal_ui; /* for tui_fatal: restore before printing */

void tui_touch(struct tui *ui) { ui->view_dirty = true; }

void tui_status(struct tui *ui, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->status, sizeof ui->status, fmt, ap);
    va_end(ap);
    ui->status_error = error;
    ui->status_until = moni_mono_ns() + STATUS_NS;
    ui->view_dirty = true;
}

void tui_fatal(const char *fmt, ...)
{
    if (fatal_ui)
        tui_close(fatal_ui);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    moni_err("%s", msg);
}

/* ---- themes ------------------------------------------------------------------------- */

void tui_use_theme(struct tui *ui, size_t idx, bool announce)
{
    char err[512];
    if (idx >= ui->themes.n)
        idx = 0;
    ui->theme_idx = idx;
    if (tui_theme_find(&ui->themes, ui->themes.name[idx], &ui->theme, err, sizeof err) != 0) {
        tui_status(ui, true, "moni: %s (using the default theme)", err);
    } else if (announce) {
        tui_status(ui, false, "theme %s", ui->theme.name);
    }
    if (ui->active) {
        tui_theme_apply(&ui->theme, ui->color);
        clearok(curscr, TRUE);
    }
    ui->view_dirty = true;
}

/* ---- overlays ------------------------------------------------------------------------ */

static void box_at(struct tui *ui, int y, int x, int h, int w, const char *title)
{
    attrset(tui_attr(TUI_R_DIALOG));
    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    tui_box(y, x, h, w, ui->ascii);
    if (title) {
        attrset(tui_attr(TUI_R_TITLE_FOCUS));
        char t[128];
        snprintf(t, sizeof t, " %s ", title);
        tui_put(y, x + 2, w - 4, t, false);
    }
    attrset(tui_attr(TUI_R_DIALOG));
}

static void button(struct tui *ui, int y, int x, const char *label, int key)
{
    attrset(tui_attr(TUI_R_BUTTON));
    mvaddstr(y, x, label);
    if (ui->nclicks < MONI_ARRAY_LEN(ui->clicks))
        ui->clicks[ui->nclicks++] = (struct tui_click){y, x, (int)strlen(label), key, -1, -1};
    attrset(tui_attr(TUI_R_DIALOG));
}

/* The keys of the table that work here (a replay lists only its own). */
static void draw_help(struct tui *ui)
{
    int n = 0;
    for (size_t i = 0; i < tui_nkeys; i++)
        n += tui_keybind_shown(ui, &tui_keys[i]);
    int h = n + 4, w = 72;
    if (h > ui->lines)
        h = ui->lines;
    if (w > ui->cols)
        w = ui->cols;
    int y = (ui->lines - h) / 2, x = (ui->cols - w) / 2;
    bool longer = n + 4 > h; /* then j/k scroll it (keys on rows 2 .. h-2) */
    size_t most = longer && n > h - 3 ? (size_t)(n - (h - 3)) : 0;
    if (ui->help_scroll > most)
        ui->help_scroll = most;
    box_at(ui, y, x, h, w, ui->m->replay ? "moni keys in a replay (any key closes)"
                       : longer ? "moni keys (j/k scroll, any other key closes; : runs commands)"
                                : "moni keys (any key closes; : runs commands)");
    int row = y + 2;
    size_t skip = ui->help_scroll;
    for (size_t i = 0; i < tui_nkeys && row < y + h - 1; i++) {
        if (!tui_keybind_shown(ui, &tui_keys[i]) || (skip && skip--))
            continue;
        attrset(tui_attr(TUI_R_ACCENT));
        tui_put(row, x + 2, 20, tui_keys[i].keys, false);
        attrset(tui_attr(TUI_R_DIALOG));
        tui_put(row++, x + 23, w - 25, tui_keys[i].help, false);
    }
}

/* Keeps the focused field inside the rows shown (vis fields from f->top). */
static void form_scroll(struct tui_form *f, size_t vis)
{
    if (!vis)
        vis = 1;
    if (f->cur < f->top)
        f->top = f->cur;
    else if (f->cur >= f->top + vis)
        f->top = f->cur + 1 - vis;
    if (f->top + vis > f->n)
        f->top = f->n > vis ? f->n - vis : 0;
}

static void draw_field(struct tui *ui, const struct tui_form *f, size_t i, int row, int x, int w)
{
    char lab[64];
    snprintf(lab, sizeof lab, "%s%s%s%s", f->p[i].name, f->p[i].unit[0] ? " (" : "", f->p[i].unit,
             f->p[i].unit[0] ? ")" : "");
    attrset(tui_attr(i == f->cur ? TUI_R_ACCENT : TUI_R_DIALOG));
    tui_put(row, x + 2, 22, lab, true);
    int vw = w - 27 > 46 ? 46 : w - 27;
    char v[160];
    if (f->val[i][0] || i == f->cur) {
        /* the end of a long value stays in view while it is typed */
        const char *val = f->val[i];
        int len = (int)strlen(val);
        if (len > vw - 2)
            val += len - (vw - 2);
        snprintf(v, sizeof v, "%s%s", val, i == f->cur ? "_" : "");
        attrset(tui_attr(TUI_R_INPUT));
    } else { /* not given: the kind's default applies */
        snprintf(v, sizeof v, "%s", f->p[i].def);
        attrset(tui_attr(TUI_R_INPUT) | A_DIM);
    }
    tui_put(row, x + 25, vw, v, true);
    if (ui->nclicks < MONI_ARRAY_LEN(ui->clicks))
        ui->clicks[ui->nclicks++] = (struct tui_click){row, x + 2, w - 4, 0, -2, (int)i};
    attrset(tui_attr(f->err[i][0] ? TUI_R_ERROR : TUI_R_MUTED));
    char hint[200];
    if (f->err[i][0])
        snprintf(hint, sizeof hint, "%s", f->err[i]);
    else
        snprintf(hint, sizeof hint, "%s%s%s", f->p[i].help, f->p[i].def[0] ? "; default " : "",
                 f->p[i].def);
    tui_put(row + 1, x + 4, w - 6, hint, true);
}

/* The arm form: two rows per field, scrolled to keep the focused one in view. */
static void draw_form(struct tui *ui)
{
    struct tui_form *f = &ui->form;
    int h = (int)f->n * 2 + 6, w = 80;
    if (h > ui->lines - 2)
        h = ui->lines - 2;
    if (w > ui->cols)
        w = ui->cols;
    int y = (ui->lines - h) / 2, x = (ui->cols - w) / 2;
    size_t vis = (size_t)((h - 4) / 2);
    form_scroll(f, vis);
    char title[96];
    if (vis < f->n)
        snprintf(title, sizeof title, "arm %s: fields %zu-%zu of %zu", f->kind, f->top + 1,
                 f->top + vis < f->n ? f->top + vis : f->n, f->n);
    else
        snprintf(title, sizeof title, "arm %s", f->kind);
    box_at(ui, y, x, h, w, title);
    int row = y + 1;
    for (size_t i = f->top; i < f->n && i < f->top + vis; i++, row += 2)
        draw_field(ui, f, i, row, x, w);
    attrset(tui_attr(TUI_R_MUTED));
    if (f->top > 0)
        tui_put(y, x + w - 12, 10, ui->ascii ? " ^ more " : " ↑ more ", false);
    if (f->top + vis < f->n)
        tui_put(y + h - 3, x + w - 12, 10, ui->ascii ? " v more " : " ↓ more ", false);
    attrset(tui_attr(TUI_R_ERROR));
    tui_put(y + h - 3, x + 2, w - 16, f->msg, true);
    button(ui, y + h - 2, x + 2, "[Enter] arm", '\n');
    button(ui, y + h - 2, x + 16, "[Esc] cancel", 27);
    attrset(tui_attr(TUI_R_MUTED));
    tui_put(y + h - 2, x + 31, w - 33, "Tab/Up/Down: field  PgUp/PgDn: page  empty: default", false);
}

static void draw_confirm(struct tui *ui)
{
    int h = 7, w = 64;
    int y = (ui->lines - h) / 2, x = (ui->cols - w) / 2;
    box_at(ui, y, x, h, w, "quit?");
    char line[128];
    snprintf(line, sizeof line, "%d fault%s still active. Stop %s and quit?", ui->m->active_faults,
             ui->m->active_faults == 1 ? " is" : "s are", ui->m->active_faults == 1 ? "it" : "them");
    tui_put(y + 2, x + 2, w - 4, line, false);
    button(ui, y + 4, x + 2, "[y] stop faults and quit", 'y');
    button(ui, y + 4, x + 30, "[n] keep running", 'n');
}

static void draw_confirm_restart(struct tui *ui)
{
    int h = 8, w = 66;
    int y = (ui->lines - h) / 2, x = (ui->cols - w) / 2;
    bool resume = ui->resume_from[0] != '\0';
    if (resume)
        h += 2;
    box_at(ui, y, x, h, w, "restart the workload?");
    char line[320];
    snprintf(line, sizeof line, "The workload (%.60s) is stopped and started again", ui->m->workload);
    tui_put(y + 2, x + 2, w - 4, line, false);
    tui_put(y + 3, x + 2, w - 4, "in the same run (a new lifetime in meta.json).", false);
    if (resume) {
        const char *base = strrchr(ui->resume_from, '/');
        snprintf(line, sizeof line, "It can resume from its last checkpoint, %s.",
                 base ? base + 1 : ui->resume_from);
        tui_put(y + 4, x + 2, w - 4, line, false);
        button(ui, y + 6, x + 2, "[r] resume from checkpoint", 'r');
        button(ui, y + 6, x + 32, "[y] from scratch", 'y');
        button(ui, y + 7, x + 2, "[n] keep it running", 'n');
    } else {
        button(ui, y + 5, x + 2, "[y] restart from scratch", 'y');
        button(ui, y + 5, x + 30, "[n] keep it running", 'n');
    }
}

static void draw_prompt(struct tui *ui, const char *label)
{
    int y = ui->lines - 1;
    attrset(tui_attr(TUI_R_TEXT));
    mvhline(y, 0, ' ', ui->cols);
    attrset(tui_attr(TUI_R_ACCENT));
    mvaddstr(y, 0, label);
    attrset(tui_attr(TUI_R_INPUT));
    char v[160];
    snprintf(v, sizeof v, "%s_", ui->input);
    int lw = (int)strlen(label);
    tui_put(y, lw, ui->cols - lw - 1, v, true);
    attrset(tui_attr(TUI_R_TEXT));
}

static void draw_textview(struct tui *ui, const char *title, size_t nlines,
                          const char *(*line_at)(struct tui *, size_t, char *, size_t), size_t scroll)
{
    int y = 1, h = ui->lines - 2, w = ui->cols;
    box_at(ui, y, 0, h, w, title);
    int rows = h - 2;
    size_t end = nlines > scroll ? nlines - scroll : 0;
    size_t start = end > (size_t)rows ? end - (size_t)rows : 0;
    char buf[1200];
    for (size_t i = start; i < end; i++)
        tui_put(y + 1 + (int)(i - start), 1, w - 2, line_at(ui, i, buf, sizeof buf), false);
}

static size_t diag_count(const char *t)
{
    size_t n = 0;
    for (; t && *t; t++)
        n += *t == '\n';
    return n + 1;
}

static const char *diag_line_at(struct tui *ui, size_t i, char *buf, size_t len)
{
    const char *p = ui->diag_text;
    for (size_t k = 0; p && k < i; k++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p) {
        buf[0] = 0;
        return buf;
    }
    snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
    return buf;
}

void tui_draw(struct tui *ui)
{
    ui->nclicks = 0;
    erase();
    if (ui->overlay == TUI_O_TOO_SMALL || !tui_layout(ui->lines, ui->cols, ui->rect)) {
        attrset(tui_attr(TUI_R_WARN));
        char msg[128];
        snprintf(msg, sizeof msg, "terminal too small: %dx%d (moni needs %dx%d)", ui->cols, ui->lines,
                 TUI_MIN_COLS, TUI_MIN_LINES);
        int w = (int)strlen(msg);
        int x = ui->cols > w ? (ui->cols - w) / 2 : 0;
        tui_put(ui->lines / 2, x, ui->cols - x, msg, false);
        if (ui->lines > 2)
            tui_put(ui->lines / 2 + 1, x, ui->cols - x, "enlarge it, or q to quit", false);
        attrset(tui_attr(TUI_R_TEXT));
    } else {
        tui_layout_grow(ui->rect, ui);
        if (ui->logs_only)
            tui_logs_layout(ui);
        for (int p = 0; p < TUI_NPANES; p++)
            if (ui->rect[p].h > 0)
                tui_panes[p]->draw(ui, ui->rect[p], ui->focus == p);
        if (ui->logs_only)
            tui_logs_draw(ui);
        switch (ui->overlay) {
        case TUI_O_HELP: draw_help(ui); break;
        case TUI_O_FORM: draw_form(ui); break;
        case TUI_O_CONFIRM_QUIT: draw_confirm(ui); break;
        case TUI_O_CONFIRM_RESTART: draw_confirm_restart(ui); break;
        case TUI_O_MARK: draw_prompt(ui, "mark note: "); break;
        case TUI_O_FILTER: draw_prompt(ui, "filter events: "); break;
        case TUI_O_GOTO: draw_prompt(ui, "go to (90, 1:30, 1m30s): "); break;
        case TUI_O_ANSWER: tui_answer_draw(ui); break;
        case TUI_O_RAWLOG:
        case TUI_O_RAWSEARCH: {
            tui_raw_pin(ui);
            tui_rawlog_draw(ui);
            if (ui->overlay == TUI_O_RAWSEARCH)
                draw_prompt(ui, "search log: ");
            break;
        }
        case TUI_O_DIAG:
            draw_textview(ui, "diagnosis (j/k scroll, Esc closes)", diag_count(ui->diag_text),
                          diag_line_at, ui->diag_scroll);
            break;
        case TUI_O_CMDLINE:
            if (ui->cmd_back == TUI_O_QUEUE || ui->cmd_back == TUI_O_PRESETS)
                (ui->cmd_back == TUI_O_QUEUE ? &tui_view_queue : &tui_view_presets)
                    ->draw(ui, (struct tui_rect){1, 0, ui->lines - 3, ui->cols}, true);
            tui_cmdline_draw(ui);
            break;
        case TUI_O_QUEUE: tui_view_queue.draw(ui, (struct tui_rect){1, 0, ui->lines - 2, ui->cols}, true); break;
        case TUI_O_PRESETS:
            tui_view_presets.draw(ui, (struct tui_rect){1, 0, ui->lines - 2, ui->cols}, true);
            break;
        case TUI_O_DETAIL:
            draw_textview(ui, ui->detail_title, diag_count(ui->diag_text), diag_line_at,
                          ui->diag_scroll);
            break;
        case TUI_O_PROC_SIGNAL:
        case TUI_O_PROC_FILTER: tui_procs_overlay_draw(ui); break;
        default: break;
        }
    }
    wnoutrefresh(stdscr);
    doupdate();
    ui->frames++;
    ui->drawn_version = ui->m->version;
    ui->drawn_samples = ui->m->samples;
    ui->view_dirty = false;
    ui->last_draw_ns = moni_mono_ns();
}

void tui_quit(struct tui *ui)
{
    ui->quitting = true;
    ui->overlay = TUI_O_NONE;
    tui_status(ui, false, "stopping: finishing the dataset...");
    if (ui->act.quit)
        ui->act.quit(ui->act.ctx);
    else
        moni_loop_stop(ui->loop);
}

/* ---- loop glue ------------------------------------------------------------------------- */

static void on_stdin(struct moni_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct tui *ui = arg;
    int key, n = 0;
    while (ui->active && (key = getch()) != ERR && n++ < 256) {
        if (key == KEY_RESIZE)
            continue; /* handled through SIGWINCH */
        tui_key(ui, key);
    }
}

static void check_size(struct tui *ui)
{
    tui_screen_resize(ui->scr, &ui->lines, &ui->cols);
    bool small = ui->lines < TUI_MIN_LINES || ui->cols < TUI_MIN_COLS;
    if (small && ui->overlay != TUI_O_TOO_SMALL)
        ui->overlay = TUI_O_TOO_SMALL;
    else if (!small && ui->overlay == TUI_O_TOO_SMALL)
        ui->overlay = TUI_O_NONE;
    clearok(curscr, TRUE);
    ui->view_dirty = true;
}

static const int handled_signals[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP};

void tui_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < MONI_ARRAY_LEN(handled_signals); i++)
        sigaddset(&set, handled_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void on_signal(struct moni_loop *loop, int signo, void *arg)
{
    (void)loop;
    struct tui *ui = arg;
    if (signo == SIGWINCH) {
        check_size(ui);
        tui_draw(ui); /* resize is redrawn at once */
    } else if (!ui->quitting) {
        tui_quit(ui);
    }
}

static void on_redraw(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline;
    (void)missed;
    struct tui *ui = arg;
    if (!ui->active)
        return;
    if (ui->status[0] && now >= ui->status_until) {
        ui->status[0] = 0;
        ui->view_dirty = true;
    }
    /* A chatty workload changes the model for every log line: drawing that at the
     * key rate cost more CPU than htop on the same screen.  Lines alone are drawn
     * once a second, which with samples every second means with the next sample
     * (a frame between two samples was half the console's frames). */
    int64_t gap = ui->m->samples != ui->drawn_samples ? MODEL_REDRAW_NS : LINES_REDRAW_NS;
    if (ui->view_dirty || (ui->drawn_version != ui->m->version && now - ui->last_draw_ns >= gap))
        tui_draw(ui);
}

int tui_open(struct tui *ui, struct moni_loop *loop, struct tui_model *m, const struct tui_actions *act,
             const struct tui_opts *opts, char *err, size_t errlen)
{
    memset(ui, 0, sizeof *ui);
    ui->m = m;
    ui->loop = loop;
    ui->act = *act;
    ui->opts = *opts;
    for (int p = 0; p < TUI_NPANES; p++)
        if (tui_panes[p]->focus_at_start)
            ui->focus = p;
    ui->draw_timer = -1;
    ui->opened_ns = moni_mono_ns();
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    ui->ascii = opts->ascii || !cs || strcasecmp(cs, "UTF-8") != 0;
    const char *nc = getenv("NO_COLOR");
    ui->color = !opts->no_color && !(nc && *nc);
    tui_theme_list(&ui->themes);
    const char *want = opts->theme ? opts->theme : "default";
    size_t idx = 0;
    bool found = false;
    for (size_t i = 0; i < ui->themes.n; i++)
        if (!strcmp(ui->themes.name[i], want)) {
            idx = i;
            found = true;
        }
    char terr[512] = "";
    if (found) {
        ui->theme_idx = idx;
        if (tui_theme_find(&ui->themes, want, &ui->theme, terr, sizeof terr) != 0)
            tui_theme_builtin(&ui->theme);
    } else if (tui_theme_find(&ui->themes, want, &ui->theme, terr, sizeof terr) != 0) {
        tui_theme_builtin(&ui->theme);
    }
    if (terr[0]) { /* said once on stderr (before the screen) and on the status line */
        moni_err("%s (using the default theme)", terr);
        snprintf(ui->theme_error, sizeof ui->theme_error, "moni: %.250s (using the default theme)", terr);
    }
    ui->scr = tui_screen_open(opts->cast_path, err, errlen);
    if (!ui->scr) {
        tui_theme_list_free(&ui->themes);
        return -1;
    }
    ui->active = true;
    fatal_ui = ui;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    /* Home and End as tmux, screen and the Linux console send them (xterm's terminfo
     * knows only ESC O H / ESC O F): otherwise ESC [ 1 ~ would read as four keys */
    define_key("\033[1~", KEY_HOME);
    define_key("\033[4~", KEY_END);
    define_key("\033[H", KEY_HOME);
    define_key("\033[F", KEY_END);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    /* Mouse: xterm-style reports.  Not on the Linux console, where ncurses would
     * dlopen GPM (which also leaks at exit). */
    const char *term = getenv("TERM");
    if (!term || strncmp(term, "linux", 5))
        mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED, NULL);
    mouseinterval(0);
    if (ui->color && has_colors()) {
        start_color();
        use_default_colors();
    }
    tui_theme_apply(&ui->theme, ui->color && has_colors());
    if (ui->theme_error[0])
        tui_status(ui, true, "%s", ui->theme_error);
    check_size(ui);
    moni_loop_add_fd(loop, STDIN_FILENO, EPOLLIN, on_stdin, ui);
    moni_loop_on_signals(loop, handled_signals, MONI_ARRAY_LEN(handled_signals), on_signal, ui);
    /* on the clock's grid, with the console's and the runner's polls: one wakeup */
    ui->draw_timer = moni_loop_add_ticker(loop, REDRAW_NS, (moni_mono_ns() / REDRAW_NS + 1) * REDRAW_NS,
                                          on_redraw, ui);
    tui_draw(ui);
    return 0;
}

void tui_close(struct tui *ui)
{
    if (!ui->active)
        return;
    ui->active = false;
    if (ui->loop) {
        moni_loop_del_fd(ui->loop, STDIN_FILENO);
        if (ui->draw_timer >= 0)
            moni_loop_cancel_timer(ui->loop, ui->draw_timer);
        ui->draw_timer = -1;
    }
    tui_screen_close(ui->scr);
    ui->scr = NULL;
    const char *fr = getenv("MONI_TUI_FRAMES"); /* the redraw tests and the bench */
    if (fr && *fr == '1')
        fprintf(stderr, "moni: console drew %llu frames in %.1f s\n", (unsigned long long)ui->frames,
                (double)(moni_mono_ns() - ui->opened_ns) / 1e9);
    if (fatal_ui == ui)
        fatal_ui = NULL;
    tui_theme_list_free(&ui->themes);
    free(ui->diag_text);
    ui->diag_text = NULL;
    free(ui->presets);
    ui->presets = NULL;
    ui->npresets = 0;
    tui_procs_free(ui);
    tui_answer_close(ui);
}
