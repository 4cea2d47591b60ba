/* tui/presets.c — "repeat last fault" and fault presets.  The console keeps the
 * form fields of the last fault fired from it; `.` arms and fires it again, and a
 * preset saves it by name for the user in $XDG_CONFIG_HOME/moni/presets.json
 * (~/.config/moni/), one object per name:
 *   {"cpu-half": {"kind": "cpu", "params": {"workers": "1", "load": "50%"}}}
 * A bad file is one line naming FILE:LINE: field, never a crash, and is never
 * overwritten by a save.  The presets view lists them (Enter fires one). */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/tui.h"

#define PRESETS_MAX_BYTES ((size_t)1 << 20)

/* ---- one preset ------------------------------------------------------------------------ */

int tui_preset_add(struct tui_preset *p, const char *key, const char *value)
{
    size_t n = strlen(p->kv), need = strlen(key) + strlen(value) + 2;
    if (!key[0] || strpbrk(key, "=\n") || strchr(value, '\n') || n + need >= sizeof p->kv)
        return -1;
    snprintf(p->kv + n, sizeof p->kv - n, "%s=%s\n", key, value);
    return 0;
}

size_t tui_preset_fields(const struct tui_preset *p, char *bufs, size_t buflen, const char **keys,
                         const char **vals, size_t max)
{
    snprintf(bufs, buflen, "%s", p->kv);
    size_t n = 0;
    for (char *line = bufs; *line && n < max;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = 0;
            keys[n] = line;
            vals[n++] = eq + 1;
        }
        if (!end)
            break;
        line = end + 1;
    }
    return n;
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);
    return n && n < sizeof ((struct tui_preset *)0)->name &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* ---- the file ------------------------------------------------------------------------- */

int tui_presets_path(char *out, size_t len)
{
    return moni_config_dir("presets.json", out, len);
}

static int parse_one(const struct moni_json *doc, const cJSON *it, struct tui_preset *p, char *err,
                     size_t errlen)
{
    static const char *const keys[] = {"kind", "params", NULL};
    memset(p, 0, sizeof *p);
    if (!good_name(it->string)) {
        moni_json_errf(doc, it, err, errlen, "a preset name is 1-47 letters, digits, '.', '_' or '-'");
        return -1;
    }
    snprintf(p->name, sizeof p->name, "%s", it->string);
    if (!cJSON_IsObject(it)) {
        moni_json_errf(doc, it, err, errlen, "must be an object with \"kind\" and \"params\"");
        return -1;
    }
    if (moni_json_check_keys(doc, it, keys, err, errlen) != 0)
        return -1;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(it, "kind");
    if (!kind) {
        moni_json_errf(doc, it, err, errlen, "\"kind\" is missing");
        return -1;
    }
    if (!cJSON_IsString(kind) || !kind->valuestring[0] || strlen(kind->valuestring) >= sizeof p->kind) {
        moni_json_errf(doc, kind, err, errlen, "must be a fault kind name (\"cpu\")");
        return -1;
    }
    snprintf(p->kind, sizeof p->kind, "%s", kind->valuestring);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(it, "params"), *v;
    if (params && !cJSON_IsObject(params)) {
        moni_json_errf(doc, params, err, errlen, "must be an object of field: value");
        return -1;
    }
    cJSON_ArrayForEach(v, params) {
        char num[64];
        const char *val = NULL;
        if (cJSON_IsString(v)) {
            val = v->valuestring;
        } else if (cJSON_IsNumber(v)) {
            snprintf(num, sizeof num, "%.17g", v->valuedouble);
            val = num;
        }
        if (!val) {
            moni_json_errf(doc, v, err, errlen, "must be a string or a number");
            return -1;
        }
        if (tui_preset_add(p, v->string, val) != 0) {
            moni_json_errf(doc, v, err, errlen, "a field name without '=', one line, 1K in all");
            return -1;
        }
    }
    return 0;
}

int tui_presets_parse(const char *name, const char *text, size_t len, struct tui_preset **out,
                      size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    struct moni_json doc;
    if (moni_json_parse(name, text, len, &doc, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (!cJSON_IsObject(doc.root)) {
        moni_json_errf(&doc, doc.root, err, errlen, "must be an object of presets by name");
        rc = -1;
    }
    size_t count = rc ? 0 : (size_t)cJSON_GetArraySize(doc.root);
    struct tui_preset *p = calloc(count ? count : 1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "%s: out of memory", name);
        rc = -1;
    }
    const cJSON *it, *root = rc ? NULL : doc.root;
    size_t k = 0;
    cJSON_ArrayForEach(it, root) {
        if (parse_one(&doc, it, &p[k], err, errlen) != 0) {
            rc = -1;
            break;
        }
        for (size_t j = 0; j < k; j++)
            if (!strcmp(p[j].name, p[k].name)) {
                moni_json_errf(&doc, it, err, errlen, "a second preset of this name");
                rc = -1;
            }
        if (rc)
            break;
        k++;
    }
    moni_json_free(&doc);
    if (rc) {
        free(p);
        return -1;
    }
    *out = p;
    *n = k;
    return 0;
}

int tui_presets_load(const char *path, struct tui_preset **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0; /* no presets yet */
    size_t len = 0;
    char *text = moni_read_input(path, PRESETS_MAX_BYTES, &len, err, errlen);
    if (!text)
        return -1;
    int rc = tui_presets_parse(path, text, len, out, n, err, errlen);
    free(text);
    return rc;
}

static cJSON *preset_json(const struct tui_preset *p)
{
    cJSON *o = cJSON_CreateObject(), *params = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", p->kind);
    cJSON_AddItemToObject(o, "params", params);
    char bufs[sizeof p->kv];
    const char *keys[64], *vals[64];
    size_t n = tui_preset_fields(p, bufs, sizeof bufs, keys, vals, 64);
    for (size_t i = 0; i < n; i++)
        cJSON_AddStringToObject(params, keys[i], vals[i]);
    return o;
}

int tui_presets_save(const char *path, const struct tui_preset *p, char *err, size_t errlen)
{
    if (!good_name(p->name)) {
        snprintf(err, errlen, "\"%.60s\": a preset name is 1-47 letters, digits, '.', '_' or '-'", p->name);
        return -1;
    }
    struct tui_preset *old;
    size_t n;
    if (tui_presets_load(path, &old, &n, err, errlen) != 0)
        return -1; /* a file the user broke is theirs to mend, not ours to overwrite */
    cJSON *root = cJSON_CreateObject();
    bool put = false;
    for (size_t i = 0; i < n; i++) {
        bool same = !strcmp(old[i].name, p->name);
        cJSON_AddItemToObject(root, old[i].name, preset_json(same ? p : &old[i]));
        put |= same;
    }
    if (!put)
        cJSON_AddItemToObject(root, p->name, preset_json(p));
    free(old);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = -1;
    bool ok = text && (!slash || moni_mkdir_p(dir, 0700) == 0) &&
              (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0 &&
              moni_write_all(fd, text, strlen(text)) == 0 && moni_write_all(fd, "\n", 1) == 0 &&
              fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    free(text);
    return ok ? 0 : -1;
}

void tui_presets_reload(struct tui *ui)
{
    char path[4096];
    free(ui->presets);
    ui->presets = NULL;
    ui->npresets = 0;
    ui->preset_err[0] = 0;
    if (tui_presets_path(path, sizeof path) != 0)
        snprintf(ui->preset_err, sizeof ui->preset_err, "no $XDG_CONFIG_HOME or $HOME for the presets");
    else
        tui_presets_load(path, &ui->presets, &ui->npresets, ui->preset_err, sizeof ui->preset_err);
    if (ui->preset_sel >= ui->npresets)
        ui->preset_sel = ui->npresets ? ui->npresets - 1 : 0;
}

/* ---- the last fault --------------------------------------------------------------------- */

static long row_of(const struct tui *ui, const char *kind)
{
    for (size_t i = 0; i < ui->m->nfaults && i < TUI_MAX_FAULTS; i++)
        if (!strcmp(ui->m->faults[i].kind, kind))
            return (long)i;
    return -1;
}

void tui_preset_armed(struct tui *ui, const struct tui_preset *p)
{
    long k = row_of(ui, p->kind);
    if (k >= 0)
        ui->armed[k] = *p;
}

void tui_preset_fired(struct tui *ui, const char *kind)
{
    long k = row_of(ui, kind);
    if (k < 0)
        return;
    if (strcmp(ui->armed[k].kind, kind)) { /* armed elsewhere (a plan): its defaults */
        memset(&ui->armed[k], 0, sizeof ui->armed[k]);
        snprintf(ui->armed[k].kind, sizeof ui->armed[k].kind, "%s", kind);
    }
    ui->last_fired = ui->armed[k];
    ui->last_fired.name[0] = 0;
}

void tui_preset_fire(struct tui *ui, const struct tui_preset *p)
{
    const char *what = p->name[0] ? p->name : "last fault";
    if (!ui->act.arm || !ui->act.fire) {
        tui_status(ui, true, "%s: faults fire in a live run only", what);
        return;
    }
    long row = row_of(ui, p->kind);
    if (row < 0) {
        tui_status(ui, true, "%s: no fault kind \"%s\" here", what, p->kind);
        return;
    }
    char bufs[sizeof p->kv], err[256] = "";
    const char *keys[TUI_FORM_MAX], *vals[TUI_FORM_MAX];
    size_t n = tui_preset_fields(p, bufs, sizeof bufs, keys, vals, TUI_FORM_MAX);
    bool trigger = false;
    for (size_t i = 0; i < n; i++)
        trigger |= !strncmp(keys[i], "fire_", 5);
    ui->fault_sel = (size_t)row;
    if (ui->act.arm(ui->act.ctx, p->kind, keys, vals, n, err, sizeof err) != 0) {
        tui_status(ui, true, "%s: arm %s: %.150s", what, p->kind, err);
        return;
    }
    tui_preset_armed(ui, p);
    if (trigger) {
        tui_status(ui, false, "%s: %s armed: fires on its trigger", what, p->kind);
        return;
    }
    if (ui->act.fire(ui->act.ctx, p->kind, err, sizeof err) != 0) {
        tui_status(ui, true, "%s: fire %s: %.150s", what, p->kind, err);
        return;
    }
    tui_preset_fired(ui, p->kind);
    tui_status(ui, false, "%s fired (%s)", p->kind, what);
}

/* ---- keys and commands ------------------------------------------------------------------ */

void tui_key_again(struct tui *ui, int key)
{
    (void)key;
    if (!ui->last_fired.kind[0]) {
        tui_status(ui, true, "no fault fired from this console yet");
        return;
    }
    struct tui_preset p = ui->last_fired;
    tui_preset_fire(ui, &p);
}

static const struct tui_preset *find_preset(struct tui *ui, const char *name)
{
    for (size_t i = 0; i < ui->npresets; i++)
        if (!strcmp(ui->presets[i].name, name))
            return &ui->presets[i];
    return NULL;
}

static void save_last(struct tui *ui, const char *name)
{
    char path[4096], err[512] = "";
    if (!ui->last_fired.kind[0]) {
        tui_status(ui, true, "preset save: no fault fired from this console yet");
        return;
    }
    struct tui_preset p = ui->last_fired;
    snprintf(p.name, sizeof p.name, "%.47s", name);
    if (strlen(name) >= sizeof p.name) {
        tui_status(ui, true, "preset save: \"%.60s\": a name is at most 47 characters", name);
        return;
    }
    if (tui_presets_path(path, sizeof path) != 0) {
        tui_status(ui, true, "preset save: no $XDG_CONFIG_HOME or $HOME");
        return;
    }
    if (tui_presets_save(path, &p, err, sizeof err) != 0) {
        tui_status(ui, true, "preset save: %.180s", err);
        return;
    }
    tui_presets_reload(ui);
    tui_status(ui, false, "preset %s saved (%s) in %.120s", p.name, p.kind, path);
}

/* `:preset` / `:preset list`: the view; `:preset save NAME`; `:preset fire NAME`. */
void tui_key_preset(struct tui *ui, int key)
{
    (void)key;
    tui_presets_reload(ui);
    const char *a = ui->cmd_arg ? ui->cmd_arg : "list";
    size_t n = strcspn(a, " ");
    const char *name = a + n + strspn(a + n, " ");
    if (n == 4 && !strncmp(a, "list", 4) && !*name) {
        ui->overlay = TUI_O_PRESETS;
        if (ui->preset_err[0])
            tui_status(ui, true, "%s", ui->preset_err);
    } else if (n == 4 && !strncmp(a, "save", 4) && *name) {
        save_last(ui, name);
    } else if (n == 4 && !strncmp(a, "fire", 4) && *name) {
        const struct tui_preset *p = find_preset(ui, name);
        if (ui->preset_err[0])
            tui_status(ui, true, "%s", ui->preset_err);
        else if (!p)
            tui_status(ui, true, "no preset \"%.60s\" (:preset lists them)", name);
        else
            tui_preset_fire(ui, p);
    } else {
        tui_status(ui, true, "preset: list, save NAME or fire NAME");
    }
}

/* ---- the presets view -------------------------------------------------------------------- */

static size_t presets_rows(const struct tui *ui)
{
    return ui->npresets;
}

static void presets_select(struct tui *ui, size_t row)
{
    if (row < ui->npresets)
        ui->preset_sel = row;
}

static void presets_key(struct tui *ui, int key)
{
    if ((key == 'j' || key == KEY_DOWN) && ui->preset_sel + 1 < ui->npresets) {
        ui->preset_sel++;
    } else if ((key == 'k' || key == KEY_UP) && ui->preset_sel > 0) {
        ui->preset_sel--;
    } else if ((key == '\n' || key == '\r' || key == KEY_ENTER) && ui->preset_sel < ui->npresets) {
        struct tui_preset p = ui->presets[ui->preset_sel];
        ui->overlay = TUI_O_NONE;
        tui_preset_fire(ui, &p);
    } else if (key == 's') {
        tui_cmdline_open(ui, "preset save ");
    } else if (key == 27 || key == 'q' || key == 'v') {
        ui->overlay = TUI_O_NONE;
    }
}

static void presets_draw(struct tui *ui, struct tui_rect r, bool focus)
{
    (void)focus;
    attrset(tui_attr(TUI_R_DIALOG));
    for (int i = 0; i < r.h; i++)
        mvhline(r.y + i, r.x, ' ', r.w);
    tui_box(r.y, r.x, r.h, r.w, ui->ascii);
    attrset(tui_attr(TUI_R_TITLE_FOCUS));
    tui_put(r.y, r.x + 2, r.w - 4, " fault presets (Enter fires, s saves the last fault, Esc closes) ", false);
    char path[4096] = "", line[1400];
    tui_presets_path(path, sizeof path);
    attrset(tui_attr(ui->preset_err[0] ? TUI_R_ERROR : TUI_R_MUTED));
    if (ui->preset_err[0])
        snprintf(line, sizeof line, "%s", ui->preset_err);
    else
        snprintf(line, sizeof line, "%zu preset%s in %s; last fired: %s", ui->npresets,
                 ui->npresets == 1 ? "" : "s", path, ui->last_fired.kind[0] ? ui->last_fired.kind : "none");
    tui_put(r.y + 1, r.x + 2, r.w - 4, line, true);
    for (size_t i = 0; i < ui->npresets && (int)i < r.h - 4; i++) {
        const struct tui_preset *p = &ui->presets[i];
        char kv[sizeof p->kv];
        snprintf(kv, sizeof kv, "%s", p->kv);
        for (char *c = kv; *c; c++)
            if (*c == '\n')
                *c = ' ';
        snprintf(line, sizeof line, "%c %-20s %-12s %s", i == ui->preset_sel ? '>' : ' ', p->name,
                 p->kind, kv);
        attrset(tui_attr(i == ui->preset_sel ? TUI_R_SELECT : TUI_R_DIALOG));
        int y = r.y + 3 + (int)i;
        tui_put(y, r.x + 2, r.w - 4, line, true);
    }
    attrset(tui_attr(TUI_R_TEXT));
}

const struct pane_ops tui_view_presets = {
    .name = "presets", .title = "fault presets", .draw = presets_draw, .rows = presets_rows,
    .key = presets_key, .select = presets_select,
};
