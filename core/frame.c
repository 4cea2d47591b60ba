/* core/frame.c — one row of the wide sample table: named columns, each value with
 * a validity bit, so a value that could not be read stays missing, never 0. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void frame_init(struct frame *f)
{
    memset(f, 0, sizeof *f);
}

void frame_free(struct frame *f)
{
    for (size_t i = 0; i < f->ncols; i++) {
        free(f->cols[i].name);
        free(f->cols[i].help);
    }
    free(f->cols);
    free(f->val);
    free(f->valid);
    memset(f, 0, sizeof *f);
}

int frame_find(const struct frame *f, const char *name)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (!strcmp(f->cols[i].name, name))
            return (int)i;
    return -1;
}

static int grow(struct frame *f)
{
    size_t cap = f->cap ? f->cap * 2 : 32;
    struct metric_col *c = realloc(f->cols, cap * sizeof *c);
    if (!c)
        return -1;
    f->cols = c;
    double *v = realloc(f->val, cap * sizeof *v);
    if (!v)
        return -1;
    f->val = v;
    unsigned char *ok = realloc(f->valid, cap);
    if (!ok)
        return -1;
    f->valid = ok;
    f->cap = cap;
    return 0;
}

int frame_add(struct frame *f, const char *name, const char *help, enum metric_kind kind)
{
    int existing = frame_find(f, name);
    if (existing >= 0)
        return existing;
    if (f->ncols == f->cap && grow(f) < 0)
        return -1;
    struct metric_col *c = &f->cols[f->ncols];
    c->name = strdup(name);
    c->help = strdup(help ? help : "");
    c->kind = kind;
    if (!c->name || !c->help) {
        free(c->name);
        free(c->help);
        return -1;
    }
    f->val[f->ncols] = 0;
    f->valid[f->ncols] = 0;
    return (int)f->ncols++;
}

void frame_clear(struct frame *f)
{
    if (f->ncols)
        memset(f->valid, 0, f->ncols);
}

void frame_set(struct frame *f, int col, double v)
{
    if (col < 0 || (size_t)col >= f->ncols)
        return;
    f->val[col] = v;
    f->valid[col] = 1;
}

bool frame_get(const struct frame *f, int col, double *v)
{
    if (col < 0 || (size_t)col >= f->ncols || !f->valid[col])
        return false;
    if (v)
        *v = f->val[col];
    return true;
}

int frame_copy(struct frame *dst, const struct frame *src)
{
    /* Columns only ever grow, in the same order, so matching by count suffices
     * unless dst was built from another frame. */
    bool same = dst->ncols <= src->ncols;
    for (size_t i = 0; same && i < dst->ncols; i++)
        same = !strcmp(dst->cols[i].name, src->cols[i].name);
    if (!same)
        frame_free(dst);
    for (size_t i = dst->ncols; i < src->ncols; i++)
        if (frame_add(dst, src->cols[i].name, src->cols[i].help, src->cols[i].kind) < 0)
            return -1;
    if (src->ncols) {
        memcpy(dst->val, src->val, src->ncols * sizeof *dst->val);
        memcpy(dst->valid, src->valid, src->ncols);
    }
    dst->t = src->t;
    dst->deadline_ns = src->deadline_ns;
    dst->seq = src->seq;
    return 0;
}
