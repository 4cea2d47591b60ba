/* core/plan-expand.c — the placeholder of a plan (moni-plan(5) RUN DIRECTORY):
 * "{run_dir}" in an experiment's workload arguments and its faults' targets and
 * parameters stands for the run's own directory, which is known only when the run
 * starts (the queue and the console name it).  Expanded here, in one place, into a
 * copy of the experiment; the plan itself is never changed. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* s with every PLAN_RUN_DIR replaced by run_dir (malloc'd), NULL for NULL or when out
 * of memory (*oom set). */
static char *expand(const char *s, const char *run_dir, bool *oom)
{
    if (!s)
        return NULL;
    size_t pl = strlen(PLAN_RUN_DIR), dl = strlen(run_dir), n = 0;
    for (const char *p = strstr(s, PLAN_RUN_DIR); p; p = strstr(p + pl, PLAN_RUN_DIR))
        n++;
    char *out = malloc(strlen(s) + n * dl + 1), *o = out;
    if (!out) {
        *oom = true;
        return NULL;
    }
    for (const char *p = s, *q; *p; p = q + pl) { /* the text up to each, then run_dir */
        q = strstr(p, PLAN_RUN_DIR);
        size_t k = q ? (size_t)(q - p) : strlen(p);
        memcpy(o, p, k);
        o += k;
        if (!q)
            break;
        memcpy(o, run_dir, dl);
        o += dl;
    }
    *o = '\0';
    return out;
}

struct plan_experiment *plan_experiment_in(const struct plan_experiment *e, const char *run_dir)
{
    struct plan_experiment *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    *x = *e; /* names, labels and triggers are the plan's own, shared */
    x->argv = NULL;
    x->faults = NULL;
    bool oom = false;
    size_t n = 0;
    while (e->argv && e->argv[n])
        n++;
    if (e->argv && !(x->argv = calloc(n + 1, sizeof *x->argv)))
        oom = true;
    for (size_t i = 0; x->argv && i < n && !oom; i++)
        x->argv[i] = expand(e->argv[i], run_dir, &oom);
    if (e->nfaults && !(x->faults = calloc(e->nfaults, sizeof *x->faults)))
        oom = true;
    for (size_t i = 0; x->faults && i < e->nfaults && !oom; i++) {
        x->faults[i] = e->faults[i];
        x->faults[i].params = expand(e->faults[i].params, run_dir, &oom);
        x->faults[i].target = expand(e->faults[i].target, run_dir, &oom);
    }
    if (oom) {
        plan_experiment_in_free(x);
        return NULL;
    }
    return x;
}

void plan_experiment_in_free(struct plan_experiment *x)
{
    if (!x)
        return;
    for (size_t i = 0; x->argv && x->argv[i]; i++)
        free(x->argv[i]);
    free(x->argv);
    for (size_t i = 0; x->faults && i < x->nfaults; i++) {
        free(x->faults[i].params);
        free(x->faults[i].target);
    }
    free(x->faults);
    free(x);
}
