/* logparse/quiet.c — failures a log never states as errors, read from its metric
 * records for the diagnosis: a loss that is NaN only in a metrics line, a table or a
 * tracker summary, and progress lines that stop while the log goes on (a hang). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse/lp-int.h"

#define HANG_MIN_SILENCE_NS (300 * MONI_NS_PER_SEC)
#define HANG_INTERVALS 20 /* a silence of this many usual intervals */

/* A loss-like field: "loss", "*_loss", "loss_*" (not a loss scale). */
static bool loss_field(const char *name)
{
    size_t l = strlen(name);
    if (!strcmp(name, "loss_scale"))
        return false;
    return !strncmp(name, "loss", 4) || (l > 5 && !strcmp(name + l - 5, "_loss"));
}

static void make_event(struct lp_record *e, const struct lp_record *from, const char *rule,
                       uint32_t labels, enum lp_severity sev, const char *text)
{
    *e = *from;
    e->kind = LP_KIND_EVENT;
    e->rule_id = rule;
    e->event = rule;
    e->labels = labels;
    e->severity = sev;
    e->action = "";
    e->nfields = 0;
    e->fields = NULL;
    if (text) {
        e->text = text;
        e->text_len = strlen(text);
    }
}

/* The first metric record with a non-finite loss (error) or, failing that, gradient
 * norm (a warning: fp16 loss scaling skips such steps). */
static void find_nonfinite(const struct lp_recset *set, struct lp_quiet *q)
{
    const struct lp_record *grad = NULL;
    for (size_t i = 0; i < set->n; i++) {
        const struct lp_record *r = &set->v[i];
        if (r->kind != LP_KIND_METRIC)
            continue;
        for (size_t k = 0; k < r->nfields; k++) {
            const struct lp_field *f = &r->fields[k];
            if (!f->is_num || isfinite(f->num))
                continue;
            if (loss_field(f->name)) {
                make_event(&q->rec[q->n++], r, "nonfinite_metric",
                           LP_LABEL_BIT(LP_LABEL_NAN_LOSS), LP_SEV_ERROR, NULL);
                return;
            }
            if (!grad && !strcmp(f->name, "grad_norm"))
                grad = r;
        }
    }
    if (grad)
        make_event(&q->rec[q->n++], grad, "nonfinite_metric", LP_LABEL_BIT(LP_LABEL_NAN_LOSS),
                   LP_SEV_WARNING, NULL);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Labels an error after the silence may carry and still be the hang's consequence. */
static const uint32_t after_hang_ok =
    LP_LABEL_BIT(LP_LABEL_PROCESS_KILLED) | LP_LABEL_BIT(LP_LABEL_PROCESS_CRASH) |
    LP_LABEL_BIT(LP_LABEL_CLEANUP_FAILURE) | LP_LABEL_BIT(LP_LABEL_PROCESS_HANG);

/* Progress (timed metric lines) that stops while the same log goes on: the last
 * progress line, and the silence until the log's last timed line. */
static void find_hang(const struct lp_recset *set, struct lp_quiet *q)
{
    const struct lp_record *last = NULL;
    size_t nprog = 0;
    for (size_t i = 0; i < set->n; i++) {
        const struct lp_record *r = &set->v[i];
        if (r->kind == LP_KIND_METRIC && r->has_time) {
            nprog++;
            if (!last || lp_record_time(r) >= lp_record_time(last))
                last = r;
        }
    }
    if (nprog < 3)
        return;
    int64_t *t = malloc(nprog * sizeof *t);
    if (!t)
        return;
    size_t n = 0;
    int64_t t_last = lp_record_time(last), t_end = t_last;
    for (size_t i = 0; i < set->n; i++) {
        const struct lp_record *r = &set->v[i];
        if (!r->has_time || strcmp(r->source, last->source))
            continue;
        int64_t tr = lp_record_time(r);
        if (r->kind == LP_KIND_METRIC)
            t[n++] = tr;
        if (tr > t_end)
            t_end = tr;
        /* an error of its own after the last progress explains the silence */
        if (r->kind == LP_KIND_EVENT && tr > t_last && r->severity >= LP_SEV_ERROR &&
            (r->labels & ~after_hang_ok)) {
            free(t);
            return;
        }
    }
    qsort(t, n, sizeof *t, cmp_i64);
    int64_t *gap = t; /* in place: gaps between consecutive progress lines */
    size_t ng = 0;
    for (size_t i = 1; i < n; i++)
        if (t[i] > t[i - 1])
            gap[ng++] = t[i] - t[i - 1];
    int64_t usual = 0;
    if (ng) {
        qsort(gap, ng, sizeof *gap, cmp_i64);
        usual = gap[ng / 2];
    }
    free(t);
    int64_t silence = t_end - t_last;
    /* gaps come from in-line stamps a log may garble: keep the product in range */
    int64_t need = usual > HANG_MIN_SILENCE_NS / HANG_INTERVALS ? (usual > INT64_MAX / HANG_INTERVALS
                                                                     ? INT64_MAX
                                                                     : usual * HANG_INTERVALS)
                                                                : HANG_MIN_SILENCE_NS;
    if (!ng || silence < need)
        return;
    int l = snprintf(q->text, sizeof q->text, "no progress for %lld s after line %llu: %.*s",
                     (long long)(silence / MONI_NS_PER_SEC), (unsigned long long)last->line_no,
                     (int)(last->text_len < 400 ? last->text_len : 400), last->text);
    (void)l;
    make_event(&q->rec[q->n++], last, "progress_stall", LP_LABEL_BIT(LP_LABEL_PROCESS_HANG),
               LP_SEV_ERROR, q->text);
}

void lp_quiet_find(const struct lp_recset *set, struct lp_quiet *q)
{
    q->n = 0;
    bool nan_event = false;
    for (size_t i = 0; i < set->n && !nan_event; i++)
        nan_event = set->v[i].kind == LP_KIND_EVENT && set->v[i].severity >= LP_SEV_ERROR &&
                    (set->v[i].labels & LP_LABEL_BIT(LP_LABEL_NAN_LOSS));
    if (!nan_event)
        find_nonfinite(set, q);
    find_hang(set, q);
}
