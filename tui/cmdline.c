/* tui/cmdline.c — the `:` command line, k9s style.  The commands are the key
 * table's rows (tui/keys.c): each row's command name runs the row's action, so a
 * new key is a new command without anything added here.  Tab completes the command
 * and its argument from the row's argument words (literal choices, fault kinds,
 * preset names, paths); an unknown command gets one line naming it and the nearest
 * known one. */
#include <curses.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

#define ESC 27

size_t tui_cmd_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63)
        n = 63;
    if (m > 63)
        m = 63;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1; /* a transposition */
            d[i][j] = best;
        }
    return d[n][m];
}

/* A command the user can run here (a live-only one is not offered in a replay). */
static bool usable(const struct tui *ui, const struct tui_keybind *b)
{
    return b->cmd && b->action && tui_keybind_shown(ui, b);
}

const struct tui_keybind *tui_cmd_find(const struct tui *ui, const char *name, size_t len)
{
    const struct tui_keybind *pre = NULL;
    int npre = 0;
    for (size_t i = 0; i < tui_nkeys; i++) {
        const struct tui_keybind *b = &tui_keys[i];
        if (!b->cmd)
            continue;
        if (strlen(b->cmd) == len && !strncmp(b->cmd, name, len))
            return b;
        if (len && usable(ui, b) && !strncmp(b->cmd, name, len)) {
            pre = b;
            npre++;
        }
    }
    return npre == 1 ? pre : NULL;
}

/* ---- completion ----------------------------------------------------------------------- */

struct cands {
    char (*v)[TUI_CMD_MAXC];
    size_t n, max;
    const char *prefix;
};

static void add(struct cands *c, const char *s)
{
    if (strncmp(s, c->prefix, strlen(c->prefix)) || strlen(s) >= TUI_CMD_MAXC)
        return;
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i], s))
            return;
    if (c->n < c->max)
        snprintf(c->v[c->n++], TUI_CMD_MAXC, "%s", s);
}

/* Word k of an argument spec, without its brackets ("[save|fire]" -> "save|fire"). */
static bool spec_word(const char *spec, size_t k, char *out, size_t len)
{
    for (const char *p = spec; p && *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        if (k-- == 0) {
            const char *s = p;
            if (*s == '[') {
                s++;
                n--;
            }
            if (n && s[n - 1] == ']')
                n--;
            snprintf(out, len, "%.*s", (int)n, s);
            return true;
        }
        p += n;
    }
    return false;
}

static void add_files(struct cands *c)
{
    char dir[TUI_CMD_MAXC], *slash;
    snprintf(dir, sizeof dir, "%s", c->prefix);
    slash = strrchr(dir, '/');
    const char *base = slash ? c->prefix + (slash - dir) + 1 : c->prefix;
    if (slash)
        slash[1] = 0;
    else
        dir[0] = 0;
    DIR *d = opendir(dir[0] ? dir : ".");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (e->d_name[0] == '.' && base[0] != '.'))
            continue;
        char full[TUI_CMD_MAXC * 2];
        snprintf(full, sizeof full, "%s%s%s", dir, e->d_name, e->d_type == DT_DIR ? "/" : "");
        add(c, full);
    }
    closedir(d);
}

/* The argument word's candidates: each choice, a placeholder expanded. */
static void add_arg(struct tui *ui, struct cands *c, const char *word)
{
    char w[128];
    snprintf(w, sizeof w, "%s", word);
    char *save = NULL;
    for (char *alt = strtok_r(w, "|", &save); alt; alt = strtok_r(NULL, "|", &save)) {
        if (!strcmp(alt, "KIND")) {
            for (size_t i = 0; i < ui->m->nfaults; i++)
                add(c, ui->m->faults[i].kind);
        } else if (!strcmp(alt, "NAME")) {
            for (size_t i = 0; i < ui->npresets; i++)
                add(c, ui->presets[i].name);
        } else if (!strcmp(alt, "FILE")) {
            add_files(c);
        } else if (alt[0] >= 'a' && alt[0] <= 'z') {
            add(c, alt);
        }
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

size_t tui_cmd_candidates(struct tui *ui, const char *line, char (*out)[TUI_CMD_MAXC], size_t max,
                          size_t *word)
{
    size_t p = strspn(line, " :");
    size_t nwords = 0, start = p;
    while (line[p]) { /* the last word (maybe empty) is the one being completed */
        size_t n = strcspn(line + p, " ");
        if (!line[p + n]) {
            start = p;
            break;
        }
        nwords++;
        p += n;
        p += strspn(line + p, " ");
        start = p;
    }
    *word = start;
    struct cands c = {out, 0, max, line + start};
    if (nwords == 0) {
        for (size_t i = 0; i < tui_nkeys; i++)
            if (usable(ui, &tui_keys[i]))
                add(&c, tui_keys[i].cmd);
    } else {
        size_t s = strspn(line, " :");
        const struct tui_keybind *b = tui_cmd_find(ui, line + s, strcspn(line + s, " "));
        char w[128];
        if (b && usable(ui, b) && b->cmd_arg && spec_word(b->cmd_arg, nwords - 1, w, sizeof w))
            add_arg(ui, &c, w);
    }
    qsort(out, c.n, sizeof out[0], cmp_str);
    return c.n;
}

size_t tui_cmd_complete(struct tui *ui, char *line, size_t len, char *hint, size_t hintlen)
{
    char (*c)[TUI_CMD_MAXC] = calloc(64, sizeof *c);
    size_t w = 0, n = c ? tui_cmd_candidates(ui, line, c, 64, &w) : 0;
    hint[0] = 0;
    if (!n) {
        snprintf(hint, hintlen, "no completion for \"%s\"", line + w);
        free(c);
        return 0;
    }
    size_t common = strlen(c[0]);
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && c[i][k] == c[0][k])
            k++;
        common = k;
    }
    size_t clen = strlen(c[0]);
    bool whole = n == 1 && clen && c[0][clen - 1] != '/'; /* then the next word */
    if (w + common + 1 < len)
        snprintf(line + w, len - w, "%.*s%s", (int)common, c[0], whole ? " " : "");
    for (size_t i = 0; n > 1 && i < n; i++) {
        size_t h = strlen(hint);
        snprintf(hint + h, hintlen - h, "%s%s", i ? "  " : "", c[i]);
    }
    free(c);
    return n;
}

/* ---- running --------------------------------------------------------------------------- */

static void unknown(struct tui *ui, const char *name)
{
    const char *best = NULL;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < tui_nkeys; i++) {
        if (!usable(ui, &tui_keys[i]))
            continue;
        size_t d = tui_cmd_distance(name, tui_keys[i].cmd);
        if (d < bd) {
            bd = d;
            best = tui_keys[i].cmd;
        }
    }
    size_t len = strlen(name);
    if (best && bd <= (len > 6 ? 3 : 2))
        tui_status(ui, true, "unknown command \"%.40s\" (did you mean \"%s\"?)", name, best);
    else
        tui_status(ui, true, "unknown command \"%.40s\" (Tab lists the commands)", name);
}

void tui_cmd_run(struct tui *ui, const char *line)
{
    char buf[sizeof ui->input];
    snprintf(buf, sizeof buf, "%s", line + strspn(line, " :"));
    size_t n = strcspn(buf, " ");
    if (!n)
        return;
    char *arg = buf + n;
    arg += strspn(arg, " ");
    for (size_t k = strlen(arg); k && arg[k - 1] == ' '; k--)
        arg[k - 1] = 0;
    buf[n] = 0;
    const struct tui_keybind *b = tui_cmd_find(ui, buf, n);
    if (!b || !b->action) {
        unknown(ui, buf);
        return;
    }
    if (!tui_keybind_shown(ui, b)) {
        tui_status(ui, true, ":%s: only %s", b->cmd,
                   b->where == TUI_KEY_LIVE    ? "in a live run, not in a replay"
                   : b->where == TUI_KEY_STUDY ? "while answering a blind study (moni study run)"
                                               : "in a replay");
        return;
    }
    if (*arg && !b->cmd_arg) {
        tui_status(ui, true, ":%s takes no argument", b->cmd);
        return;
    }
    int key = b->codes[0];
    char w[64];
    /* a KIND argument selects that fault row first; the action then acts on the
     * selection (key 0: no key of its own, so 1-9 select nothing more) */
    if (*arg && spec_word(b->cmd_arg, 0, w, sizeof w) && strstr(w, "KIND")) {
        for (size_t i = 0; i < ui->m->nfaults; i++)
            if (!strcmp(ui->m->faults[i].kind, arg)) {
                ui->fault_sel = i;
                ui->focus = TUI_P_FAULTS;
                *arg = 0;
                key = 0;
            }
        if (*arg && !strchr(w, '|')) {
            tui_status(ui, true, ":%s: no fault kind \"%.40s\"", b->cmd, arg);
            return;
        }
    }
    ui->cmd_arg = *arg ? arg : NULL;
    b->action(ui, key);
    ui->cmd_arg = NULL;
}

/* ---- the prompt ------------------------------------------------------------------------ */

void tui_cmdline_open(struct tui *ui, const char *text)
{
    snprintf(ui->input, sizeof ui->input, "%s", text);
    ui->cmd_hint[0] = 0;
    if (ui->overlay != TUI_O_CMDLINE) /* Enter or Esc goes back to it */
        ui->cmd_back = ui->overlay == TUI_O_QUEUE || ui->overlay == TUI_O_PRESETS ? ui->overlay
                                                                                  : TUI_O_NONE;
    ui->overlay = TUI_O_CMDLINE;
    tui_presets_reload(ui); /* preset names for Tab */
}

void tui_key_cmdline(struct tui *ui, int key)
{
    (void)key;
    if (ui->cmd_arg) /* `:command fire cpu` is `:fire cpu` */
        tui_cmd_run(ui, ui->cmd_arg);
    else
        tui_cmdline_open(ui, "");
}

void tui_cmdline_key(struct tui *ui, int key)
{
    if (key == '\t') {
        tui_cmd_complete(ui, ui->input, sizeof ui->input, ui->cmd_hint, sizeof ui->cmd_hint);
        return;
    }
    ui->cmd_hint[0] = 0;
    if ((key == KEY_BACKSPACE || key == 127 || key == 8) && !ui->input[0]) {
        ui->overlay = ui->cmd_back; /* backspace on an empty line leaves, as in vim */
        return;
    }
    int r = tui_edit_line(ui->input, sizeof ui->input, key);
    if (r == 0)
        return;
    ui->overlay = ui->cmd_back;
    if (r > 0) {
        char line[sizeof ui->input];
        snprintf(line, sizeof line, "%s", ui->input);
        tui_cmd_run(ui, line);
    }
}

void tui_cmdline_draw(struct tui *ui)
{
    int y = ui->lines - 1;
    char hint[sizeof ui->cmd_hint + 64];
    snprintf(hint, sizeof hint, "%s", ui->cmd_hint);
    if (!hint[0]) { /* the typed command's usage and what it does */
        size_t s = strspn(ui->input, " :");
        const struct tui_keybind *b = tui_cmd_find(ui, ui->input + s, strcspn(ui->input + s, " "));
        if (b && b->cmd && ui->input[s])
            snprintf(hint, sizeof hint, ":%s%s%s  %s (key %s)", b->cmd, b->cmd_arg ? " " : "",
                     b->cmd_arg ? b->cmd_arg : "", b->help, b->keys);
        else
            snprintf(hint, sizeof hint, "Tab completes, Enter runs, Esc leaves");
    }
    attrset(tui_attr(TUI_R_MUTED));
    mvhline(y - 1, 0, ' ', ui->cols);
    tui_put(y - 1, 1, ui->cols - 2, hint, false);
    attrset(tui_attr(TUI_R_TEXT));
    mvhline(y, 0, ' ', ui->cols);
    attrset(tui_attr(TUI_R_ACCENT));
    mvaddstr(y, 0, ":");
    attrset(tui_attr(TUI_R_INPUT));
    char v[sizeof ui->input + 2];
    snprintf(v, sizeof v, "%s_", ui->input);
    int len = (int)strlen(v);
    const char *shown = len > ui->cols - 2 ? v + len - (ui->cols - 2) : v; /* the end in view */
    tui_put(y, 1, ui->cols - 2, shown, true);
    attrset(tui_attr(TUI_R_TEXT));
}
