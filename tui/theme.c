/* tui/theme.c — colour themes: named roles with a 256-colour value and 16/8-colour
 * fallbacks, loaded from themes/ *.json (moni(1) THEMES) over a compiled-in default. */
#include <curses.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

static const char *const role_names[TUI_NROLES] = {
    [TUI_R_TEXT] = "text",
    [TUI_R_MUTED] = "muted",
    [TUI_R_ACCENT] = "accent",
    [TUI_R_HEADER] = "header",
    [TUI_R_TITLE] = "title",
    [TUI_R_TITLE_FOCUS] = "title_focus",
    [TUI_R_SELECT] = "selected",
    [TUI_R_OK] = "ok",
    [TUI_R_WARN] = "warn",
    [TUI_R_ERROR] = "error",
    [TUI_R_CRIT] = "critical",
    [TUI_R_GRAPH1] = "graph1",
    [TUI_R_GRAPH2] = "graph2",
    [TUI_R_GRAPH3] = "graph3",
    [TUI_R_GRAPH4] = "graph4",
    [TUI_R_BAR_USER] = "bar_user",
    [TUI_R_BAR_SYSTEM] = "bar_system",
    [TUI_R_BAR_IOWAIT] = "bar_iowait",
    [TUI_R_BAR_MEM] = "bar_mem",
    [TUI_R_BAR_SWAP] = "bar_swap",
    [TUI_R_FAULT_IDLE] = "fault_idle",
    [TUI_R_FAULT_ARMED] = "fault_armed",
    [TUI_R_FAULT_FIRING] = "fault_firing",
    [TUI_R_FAULT_STOPPED] = "fault_stopped",
    [TUI_R_MARK] = "mark",
    [TUI_R_ALERT] = "alert",
    [TUI_R_DIALOG] = "dialog",
    [TUI_R_INPUT] = "input",
    [TUI_R_BUTTON] = "button",
};

const char *tui_role_name(enum tui_role r)
{
    return (unsigned)r < TUI_NROLES ? role_names[r] : "?";
}

/* Attributes used when colour is off (NO_COLOR or a monochrome terminal). */
static const int mono_attr[TUI_NROLES] = {
    [TUI_R_MUTED] = A_DIM,
    [TUI_R_ACCENT] = A_BOLD,
    [TUI_R_HEADER] = A_REVERSE,
    [TUI_R_TITLE] = A_REVERSE,
    [TUI_R_TITLE_FOCUS] = A_REVERSE | A_BOLD,
    [TUI_R_SELECT] = A_REVERSE,
    [TUI_R_WARN] = A_BOLD,
    [TUI_R_ERROR] = A_BOLD,
    [TUI_R_CRIT] = A_REVERSE | A_BOLD,
    [TUI_R_FAULT_ARMED] = A_BOLD,
    [TUI_R_FAULT_FIRING] = A_REVERSE | A_BOLD,
    [TUI_R_MARK] = A_BOLD,
    [TUI_R_ALERT] = A_BOLD,
    [TUI_R_INPUT] = A_UNDERLINE,
    [TUI_R_BUTTON] = A_REVERSE,
};

static int role_attr[TUI_NROLES];

int tui_attr(enum tui_role r)
{
    return (unsigned)r < TUI_NROLES ? role_attr[r] : 0;
}

#define C(a, b, c) ((struct tui_color){a, b, c})
#define DEF C(-1, -1, -1)

void tui_theme_builtin(struct tui_theme *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "default");
    t->background = C(234, 0, 0);
    struct tui_style *r = t->role;
    for (int i = 0; i < TUI_NROLES; i++)
        r[i] = (struct tui_style){.fg = C(252, 7, 7), .bg = DEF};
    r[TUI_R_MUTED].fg = C(244, 8, 7);
    r[TUI_R_MUTED].dim = true;
    r[TUI_R_ACCENT].fg = C(81, 14, 6);
    r[TUI_R_HEADER] = (struct tui_style){.fg = C(231, 15, 7), .bg = C(24, 4, 4), .bold = true};
    r[TUI_R_TITLE] = (struct tui_style){.fg = C(16, 0, 0), .bg = C(74, 6, 6)};
    r[TUI_R_TITLE_FOCUS] = (struct tui_style){.fg = C(16, 0, 0), .bg = C(214, 11, 3), .bold = true};
    r[TUI_R_SELECT] = (struct tui_style){.fg = C(231, 15, 7), .bg = C(238, 4, 4), .bold = true};
    r[TUI_R_OK].fg = C(114, 10, 2);
    r[TUI_R_WARN].fg = C(214, 11, 3);
    r[TUI_R_ERROR].fg = C(203, 9, 1);
    r[TUI_R_CRIT] = (struct tui_style){.fg = C(231, 15, 7), .bg = C(160, 1, 1), .bold = true};
    r[TUI_R_GRAPH1].fg = C(81, 14, 6);
    r[TUI_R_GRAPH2].fg = C(141, 13, 5);
    r[TUI_R_GRAPH3].fg = C(114, 10, 2);
    r[TUI_R_GRAPH4].fg = C(214, 11, 3);
    r[TUI_R_BAR_USER].fg = C(114, 10, 2);
    r[TUI_R_BAR_SYSTEM].fg = C(203, 9, 1);
    r[TUI_R_BAR_IOWAIT].fg = C(110, 12, 4);
    r[TUI_R_BAR_MEM].fg = C(114, 10, 2);
    r[TUI_R_BAR_SWAP].fg = C(203, 9, 1);
    r[TUI_R_FAULT_IDLE].fg = C(244, 8, 7);
    r[TUI_R_FAULT_ARMED] = (struct tui_style){.fg = C(214, 11, 3), .bg = DEF, .bold = true};
    r[TUI_R_FAULT_FIRING] = (struct tui_style){.fg = C(231, 15, 7), .bg = C(160, 1, 1), .bold = true};
    r[TUI_R_FAULT_STOPPED].fg = C(110, 12, 4);
    r[TUI_R_MARK] = (struct tui_style){.fg = C(213, 13, 5), .bg = DEF, .bold = true};
    r[TUI_R_ALERT] = (struct tui_style){.fg = C(203, 9, 1), .bg = DEF, .bold = true};
    r[TUI_R_DIALOG] = (struct tui_style){.fg = C(252, 7, 7), .bg = C(237, 4, 4)};
    r[TUI_R_INPUT] = (struct tui_style){.fg = C(231, 15, 7), .bg = C(240, 8, 0), .underline = true};
    r[TUI_R_BUTTON] = (struct tui_style){.fg = C(16, 0, 0), .bg = C(74, 6, 6)};
}

/* ---- loading ------------------------------------------------------------------- */

static int errat(const struct moni_json *doc, const cJSON *item, const char *field, char *err,
                 size_t errlen, const char *msg)
{
    int line = moni_json_line(doc, item);
    if (line > 0)
        snprintf(err, errlen, "%s:%d: %s: %s", doc->name, line, field, msg);
    else
        snprintf(err, errlen, "%s: %s: %s", doc->name, field, msg);
    return -1;
}

static int parse_color(const struct moni_json *doc, const cJSON *v, const char *field,
                       struct tui_color *c, char *err, size_t errlen)
{
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "default")) {
        *c = DEF;
        return 0;
    }
    static const int limit[3] = {255, 15, 7};
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3)
        return errat(doc, v, field, err, errlen,
                     "expected [256-colour, 16-colour, 8-colour] (e.g. [81, 14, 6]) or \"default\"");
    short out[3];
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsNumber(e) || e->valuedouble != (int)e->valuedouble ||
            e->valueint < -1 || e->valueint > limit[i]) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s value must be an integer from -1 to %d",
                     i == 0 ? "256-colour" : i == 1 ? "16-colour" : "8-colour", limit[i]);
            return errat(doc, e ? e : v, field, err, errlen, msg);
        }
        out[i] = (short)e->valueint;
    }
    *c = C(out[0], out[1], out[2]);
    return 0;
}

static int parse_role(const struct moni_json *doc, const cJSON *o, struct tui_style *st, char *err,
                      size_t errlen)
{
    char field[96];
    if (!cJSON_IsObject(o)) {
        snprintf(field, sizeof field, "roles.%s", o->string);
        return errat(doc, o, field, err, errlen, "expected an object like {\"fg\": [252, 7, 7]}");
    }
    for (const cJSON *c = o->child; c; c = c->next) {
        snprintf(field, sizeof field, "roles.%s.%s", o->string, c->string);
        if (!strcmp(c->string, "fg") || !strcmp(c->string, "bg")) {
            if (parse_color(doc, c, field, c->string[0] == 'f' ? &st->fg : &st->bg, err, errlen))
                return -1;
        } else if (!strcmp(c->string, "bold") || !strcmp(c->string, "reverse") ||
                   !strcmp(c->string, "underline") || !strcmp(c->string, "dim")) {
            if (!cJSON_IsBool(c))
                return errat(doc, c, field, err, errlen, "expected true or false");
            bool b = cJSON_IsTrue(c);
            switch (c->string[0]) {
            case 'b': st->bold = b; break;
            case 'r': st->reverse = b; break;
            case 'u': st->underline = b; break;
            default: st->dim = b; break;
            }
        } else {
            return errat(doc, c, field, err, errlen,
                         "unknown key (fg, bg, bold, reverse, underline, dim)");
        }
    }
    return 0;
}

int tui_theme_load(const char *path, struct tui_theme *t, char *err, size_t errlen)
{
    struct moni_json doc;
    tui_theme_builtin(t);
    if (moni_json_load(path, &doc, err, errlen) != 0)
        return -1;
    int rc = -1;
    const cJSON *root = doc.root;
    if (!cJSON_IsObject(root)) {
        errat(&doc, root, "(root)", err, errlen, "a theme is a JSON object");
        goto out;
    }
    /* Name defaults to the file's basename without .json. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(t->name, sizeof t->name, "%.*s", (int)strcspn(base, "."), base);
    snprintf(t->path, sizeof t->path, "%s", path);
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!strcmp(c->string, "name")) {
            if (!cJSON_IsString(c) || !*c->valuestring) {
                errat(&doc, c, "name", err, errlen, "expected a non-empty string");
                goto out;
            }
            snprintf(t->name, sizeof t->name, "%s", c->valuestring);
        } else if (!strcmp(c->string, "description")) {
            if (!cJSON_IsString(c)) {
                errat(&doc, c, "description", err, errlen, "expected a string");
                goto out;
            }
        } else if (!strcmp(c->string, "background")) {
            if (parse_color(&doc, c, "background", &t->background, err, errlen))
                goto out;
        } else if (!strcmp(c->string, "roles")) {
            if (!cJSON_IsObject(c)) {
                errat(&doc, c, "roles", err, errlen, "expected an object of colour roles");
                goto out;
            }
            for (const cJSON *r = c->child; r; r = r->next) {
                int idx = -1;
                for (int i = 0; i < TUI_NROLES; i++)
                    if (!strcmp(role_names[i], r->string))
                        idx = i;
                if (idx < 0) {
                    char field[96];
                    snprintf(field, sizeof field, "roles.%s", r->string);
                    errat(&doc, r, field, err, errlen, "unknown colour role (see moni(1) THEMES)");
                    goto out;
                }
                if (parse_role(&doc, r, &t->role[idx], err, errlen))
                    goto out;
            }
        } else {
            errat(&doc, c, c->string, err, errlen,
                  "unknown key (name, description, background, roles)");
            goto out;
        }
    }
    rc = 0;
out:
    moni_json_free(&doc);
    if (rc != 0)
        tui_theme_builtin(t);
    return rc;
}

/* ---- the list of installed and user themes -------------------------------------- */

static void list_add(struct tui_theme_list *l, const char *name, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->name[i], name)) { /* a later directory (the user's) wins */
            snprintf(l->path[i], sizeof l->path[i], "%s", path);
            return;
        }
    void *a = realloc(l->name, (l->n + 1) * sizeof *l->name);
    if (!a)
        return;
    l->name = a;
    void *b = realloc(l->path, (l->n + 1) * sizeof *l->path);
    if (!b)
        return;
    l->path = b;
    snprintf(l->name[l->n], sizeof l->name[0], "%s", name);
    snprintf(l->path[l->n], sizeof l->path[0], "%s", path);
    l->n++;
}

static void list_dir(struct tui_theme_list *l, const char *dir)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return;
    for (int i = 0; i < n; i++) {
        const char *f = ents[i]->d_name;
        size_t len = strlen(f);
        if (f[0] != '.' && len > 5 && len < 48 && !strcmp(f + len - 5, ".json")) {
            char name[48], path[600];
            snprintf(name, sizeof name, "%.*s", (int)(len - 5), f);
            snprintf(path, sizeof path, "%s/%s", dir, f);
            list_add(l, name, path);
        }
        free(ents[i]);
    }
    free(ents);
}

void tui_theme_list(struct tui_theme_list *l)
{
    memset(l, 0, sizeof *l);
    list_add(l, "default", ""); /* built-in unless a file provides it */
    char dir[512];
    if (moni_data_dir("themes", dir, sizeof dir) == 0)
        list_dir(l, dir);
    if (moni_config_dir("themes", dir, sizeof dir) == 0)
        list_dir(l, dir);
}

void tui_theme_list_free(struct tui_theme_list *l)
{
    free(l->name);
    free(l->path);
    memset(l, 0, sizeof *l);
}

int tui_theme_find(const struct tui_theme_list *l, const char *name, struct tui_theme *t, char *err,
                   size_t errlen)
{
    if (strchr(name, '/') || (strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".json")))
        return tui_theme_load(name, t, err, errlen);
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->name[i], name)) {
            if (!l->path[i][0]) {
                tui_theme_builtin(t);
                return 0;
            }
            return tui_theme_load(l->path[i], t, err, errlen);
        }
    char known[256] = "";
    for (size_t i = 0; i < l->n; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 l->name[i]);
    snprintf(err, errlen, "unknown theme '%s' (known: %s)", name, known);
    tui_theme_builtin(t);
    return -1;
}

/* ---- applying ---------------------------------------------------------------------- */

static short pick(struct tui_color c)
{
    if (COLORS >= 256)
        return c.c256;
    if (COLORS >= 16)
        return c.c16;
    return c.c8;
}

void tui_theme_apply(const struct tui_theme *t, bool color)
{
    if (!color || !has_colors()) {
        for (int i = 0; i < TUI_NROLES; i++)
            role_attr[i] = mono_attr[i];
        bkgdset(' ');
        return;
    }
    short bg = pick(t->background);
    for (int i = 0; i < TUI_NROLES; i++) {
        const struct tui_style *s = &t->role[i];
        short f = pick(s->fg), b = pick(s->bg);
        if (b < 0)
            b = bg;
        init_pair((short)(i + 1), f, b);
        int a = COLOR_PAIR(i + 1);
        if (s->bold || (COLORS < 16 && s->fg.c8 >= 0 && s->fg.c16 >= 8))
            a |= A_BOLD; /* 8-colour terminals: bright = bold */
        if (s->reverse)
            a |= A_REVERSE;
        if (s->underline)
            a |= A_UNDERLINE;
        if (s->dim && COLORS < 16)
            a |= A_DIM;
        role_attr[i] = a;
    }
    bkgdset(' ' | COLOR_PAIR(TUI_R_TEXT + 1));
}
