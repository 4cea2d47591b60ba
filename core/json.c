/* core/json.c — cJSON documents that remember where each item stands, so every
 * config, plan, theme and rule-pack error can name FILE:LINE and the field.
 *
 * cJSON keeps no positions.  After cJSON accepts the text, a small scanner walks
 * the same text in document order and records the line of every value (for an
 * object member: the line of its key); a pre-order walk of the cJSON tree visits
 * the items in that same order, so the two lists zip together. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct scan {
    const char *p, *end;
    int line;
    int *lines;
    size_t n, cap;
};

static int push_line(struct scan *s, int line)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        int *nl = realloc(s->lines, cap * sizeof *nl);
        if (!nl)
            return -1;
        s->lines = nl;
        s->cap = cap;
    }
    s->lines[s->n++] = line;
    return 0;
}

static void skip_ws(struct scan *s)
{
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '\n')
            s->line++;
        else if (c > 32) /* cJSON skips every byte <= 32, so must we */
            break;
        s->p++;
    }
}

static void skip_string(struct scan *s)
{
    s->p++; /* opening quote */
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' && s->p + 1 < s->end)
            s->p++;
        s->p++;
    }
    if (s->p < s->end)
        s->p++;
}

static int scan_value(struct scan *s, int line, int depth);

static int scan_container(struct scan *s, int depth)
{
    char close = *s->p == '{' ? '}' : ']';
    bool object = close == '}';
    s->p++;
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end)
            return -1;
        if (*s->p == close) {
            s->p++;
            return 0;
        }
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        int line = s->line;
        if (object) {
            if (*s->p != '"')
                return -1;
            skip_string(s);
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return -1;
            s->p++;
            skip_ws(s);
        }
        if (scan_value(s, line, depth + 1) < 0)
            return -1;
    }
}

static int scan_value(struct scan *s, int line, int depth)
{
    if (depth > 10000 || push_line(s, line) < 0)
        return -1;
    skip_ws(s);
    if (s->p >= s->end)
        return -1;
    char c = *s->p;
    if (c == '{' || c == '[')
        return scan_container(s, depth);
    if (c == '"') {
        skip_string(s);
        return 0;
    }
    /* A scalar: always advance at least one byte so the scan cannot stall. */
    do
        s->p++;
    while (s->p < s->end && (unsigned char)*s->p > 32 && !strchr(",]}", *s->p));
    return 0;
}

static size_t count_items(const cJSON *item)
{
    size_t n = 1;
    for (const cJSON *c = item->child; c; c = c->next)
        n += count_items(c);
    return n;
}

static void collect_items(const cJSON *item, const cJSON **out, size_t *i)
{
    out[(*i)++] = item;
    for (const cJSON *c = item->child; c; c = c->next)
        collect_items(c, out, i);
}

static int line_at(const char *text, const char *pos)
{
    int line = 1;
    for (const char *p = text; p < pos && *p; p++)
        if (*p == '\n')
            line++;
    return line;
}

int moni_json_parse(const char *name, const char *text, size_t len, struct moni_json *doc,
                    char *err, size_t errlen)
{
    memset(doc, 0, sizeof *doc);
    doc->name = strdup(name ? name : "(input)");
    char *copy = malloc(len + 1);
    if (!doc->name || !copy) {
        free(copy);
        snprintf(err, errlen, "%s: out of memory", name);
        moni_json_free(doc);
        return -1;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    if (strlen(copy) != len) {
        snprintf(err, errlen, "%s:%d: NUL byte in JSON text", doc->name,
                 line_at(copy, copy + strlen(copy)));
        free(copy);
        moni_json_free(doc);
        return -1;
    }
    const char *end = NULL;
    doc->root = cJSON_ParseWithOpts(copy, &end, 1);
    if (!doc->root) {
        const char *at = end ? end : copy;
        if (at < copy || at > copy + len)
            at = copy + len;
        int line = line_at(copy, at);
        char near[24] = "";
        size_t k = 0;
        for (const char *q = at; *q && *q != '\n' && k < sizeof near - 1; q++)
            near[k++] = *q;
        near[k] = '\0';
        if (*near)
            snprintf(err, errlen, "%s:%d: JSON syntax error near '%s'", doc->name, line, near);
        else
            snprintf(err, errlen, "%s:%d: JSON syntax error (unexpected end of input)",
                     doc->name, line);
        free(copy);
        moni_json_free(doc);
        return -1;
    }
    doc->text = copy;
    doc->len = len;
    return 0;
}

void moni_json_index(struct moni_json *doc)
{
    if (!doc || doc->indexed || !doc->root || !doc->text)
        return;
    doc->indexed = true;
    size_t n = count_items(doc->root);
    doc->items = malloc(n * sizeof *doc->items);
    struct scan s = {.p = doc->text, .end = doc->text + doc->len, .line = 1};
    skip_ws(&s);
    int ok = doc->items && scan_value(&s, s.line, 0) == 0 && s.n == n;
    if (doc->items) {
        size_t i = 0;
        collect_items(doc->root, doc->items, &i);
        doc->nitems = n;
    }
    if (ok) {
        doc->lines = s.lines;
    } else {
        /* Positions are a convenience: without them errors say line 0 -> omitted. */
        free(s.lines);
        doc->lines = NULL;
    }
    free(doc->text);
    doc->text = NULL;
}

int moni_json_load(const char *path, struct moni_json *doc, char *err, size_t errlen)
{
    size_t len;
    char *text = moni_read_input(path, MONI_INPUT_MAX, &len, err, errlen);
    if (!text) {
        memset(doc, 0, sizeof *doc);
        return -1;
    }
    int rc = moni_json_parse(path, text, len, doc, err, errlen);
    free(text);
    return rc;
}

void moni_json_free(struct moni_json *doc)
{
    if (!doc)
        return;
    cJSON_Delete(doc->root);
    free(doc->name);
    free(doc->text);
    free(doc->items);
    free(doc->lines);
    memset(doc, 0, sizeof *doc);
}

int moni_json_line(const struct moni_json *doc, const cJSON *item)
{
    if (!doc || !item)
        return 0;
    moni_json_index((struct moni_json *)doc); /* a cache: filled on the first look-up */
    if (!doc->lines)
        return 0;
    for (size_t i = 0; i < doc->nitems; i++)
        if (doc->items[i] == item)
            return doc->lines[i];
    return 0;
}

void moni_json_errf(const struct moni_json *doc, const cJSON *item, char *err, size_t errlen,
                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *field = item && item->string ? item->string : "(root)";
    int line = moni_json_line(doc, item);
    const char *name = doc && doc->name ? doc->name : "(input)";
    if (line > 0)
        snprintf(err, errlen, "%s:%d: %s: %s", name, line, field, msg);
    else
        snprintf(err, errlen, "%s: %s: %s", name, field, msg);
    /* errors are one line: a key or value with a newline or other control
     * character in it must not break the message */
    for (char *p = err; errlen && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

int moni_json_check_keys(const struct moni_json *doc, const cJSON *obj,
                         const char *const *allowed, char *err, size_t errlen)
{
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            if (c->string && !strcmp(c->string, allowed[i])) {
                ok = true;
                break;
            }
        if (!ok) {
            moni_json_errf(doc, c, err, errlen, "unknown key");
            return -1;
        }
    }
    return 0;
}
