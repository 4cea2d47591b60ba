/* logparse/recset.c — record helpers and record sets: owned copies of records,
 * kept for a whole run (diagnose, replay) and sorted by time. */
#include <stdlib.h>
#include <string.h>

#include "logparse/lp-int.h"

int64_t lp_record_time(const struct lp_record *r)
{
    return r->time_ns ? r->time_ns : r->recv.real_ns;
}

const struct lp_field *lp_record_field(const struct lp_record *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].name, name))
            return &r->fields[i];
    return NULL;
}

void lp_recset_init(struct lp_recset *s) { memset(s, 0, sizeof *s); }

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void record_release(struct lp_record *r)
{
    free((char *)r->rule_id);
    free((char *)r->event);
    free((char *)r->action);
    free((char *)r->source);
    free((char *)r->text);
    for (size_t i = 0; i < r->nfields; i++) {
        free((char *)r->fields[i].name);
        free((char *)r->fields[i].text);
        free((char *)r->fields[i].raw);
    }
    free((void *)r->fields);
}

int lp_recset_add(struct lp_recset *s, const struct lp_record *r)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        struct lp_record *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    struct lp_record *d = &s->v[s->n];
    *d = *r;
    d->rule_id = strdup(r->rule_id ? r->rule_id : "");
    d->event = strdup(r->event ? r->event : "");
    d->action = strdup(r->action ? r->action : "");
    d->source = strdup(r->source ? r->source : "");
    d->text = dupn(r->text ? r->text : "", r->text ? r->text_len : 0);
    d->fields = NULL;
    d->nfields = 0;
    struct lp_field *f = r->nfields ? calloc(r->nfields, sizeof *f) : NULL;
    bool ok = d->rule_id && d->event && d->action && d->source && d->text &&
              (!r->nfields || f);
    if (f) {
        d->fields = f;
        for (size_t i = 0; i < r->nfields; i++) {
            f[i] = r->fields[i];
            f[i].name = strdup(r->fields[i].name);
            f[i].text = strdup(r->fields[i].text ? r->fields[i].text : "");
            f[i].raw = r->fields[i].raw ? strdup(r->fields[i].raw) : NULL;
            d->nfields = i + 1;
            if (!f[i].name || !f[i].text || (r->fields[i].raw && !f[i].raw))
                ok = false;
        }
    }
    if (!ok) {
        record_release(d);
        return -1;
    }
    s->n++;
    return 0;
}

struct rec_idx {
    struct lp_record r;
    size_t i;
};

static int cmp_time_stable(const void *a, const void *b)
{
    const struct rec_idx *x = a, *y = b;
    int64_t tx = lp_record_time(&x->r), ty = lp_record_time(&y->r);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void lp_recset_sort(struct lp_recset *s)
{
    if (s->n < 2)
        return;
    struct rec_idx *tmp = malloc(s->n * sizeof *tmp);
    if (!tmp)
        return;
    for (size_t i = 0; i < s->n; i++) {
        tmp[i].r = s->v[i];
        tmp[i].i = i;
    }
    qsort(tmp, s->n, sizeof *tmp, cmp_time_stable);
    for (size_t i = 0; i < s->n; i++)
        s->v[i] = tmp[i].r;
    free(tmp);
}

void lp_recset_free(struct lp_recset *s)
{
    for (size_t i = 0; i < s->n; i++)
        record_release(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void lp_recset_collect(const struct lp_record *r, void *set)
{
    lp_recset_add(set, r);
}
