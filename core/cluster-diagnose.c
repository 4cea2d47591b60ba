/* core/cluster-diagnose.c — `moni diagnose DIR` on a cluster job's directory: each
 * node's run diagnosis (core/diagnosis-run.c: its detections, log causes and fate,
 * never the fault journal), then the nodes ranked by when their trouble began.  In
 * a job, one node's failure shows up on every other node as a timeout or a stall,
 * often with more log lines than the cause: the root is the node whose first
 * evidence came first, not the loudest.  A node whose top cause is only a
 * consequence (a timeout, a peer gone) ranks after nodes with a failure of their own
 * at the same time. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "logparse/logparse.h"

struct node_diag {
    const struct cluster_node_run *run;
    struct run_diagnosis rd;
    bool ok;
};

/* Earlier onset first; a failure before a mere consequence; then more score. */
static int cmp_onset(const void *a, const void *b)
{
    const struct node_diag *x = *(struct node_diag *const *)a, *y = *(struct node_diag *const *)b;
    const struct run_cause *cx = &x->rd.causes[0], *cy = &y->rd.causes[0];
    int64_t tx = cx->first_real_ns ? cx->first_real_ns : INT64_MAX;
    int64_t ty = cy->first_real_ns ? cy->first_real_ns : INT64_MAX;
    if (tx != ty)
        return tx < ty ? -1 : 1;
    if ((cx->cls == 2) != (cy->cls == 2))
        return cx->cls == 2 ? 1 : -1;
    return cx->score > cy->score ? -1 : cx->score < cy->score;
}

static const char *iso(int64_t ns, char *buf, size_t len)
{
    return ns ? moni_fmt_iso(ns, buf, len) : "-";
}

static void write_text(const char *group, struct node_diag **rank, size_t nbad,
                       const struct node_diag *all, size_t n, FILE *out)
{
    char t[MONI_ISO_LEN];
    fprintf(out, "cluster%s%s: %zu nodes, %zu with a problem\n", group[0] ? " experiment " : "",
            group, n, nbad);
    if (!nbad) {
        fprintf(out, "root cause: none (every node healthy)\n");
        return;
    }
    const struct run_cause *c0 = &rank[0]->rd.causes[0];
    fprintf(out, "root cause: %s on %s (rank %d), first at %s from %s\n", c0->label,
            rank[0]->run->node, rank[0]->run->rank, iso(c0->first_real_ns, t, sizeof t),
            c0->kinds[0] ? c0->kinds : c0->first_kind);
    if (c0->action)
        fprintf(out, "action: %s\n", c0->action);
    fprintf(out, "\nnodes by onset (first to fail first):\n");
    for (size_t i = 0; i < nbad; i++) {
        const struct run_cause *c = &rank[i]->rd.causes[0];
        fprintf(out, "  %zu. %-12s rank %-3d %-24s %s  %s, score %.2f, %zu causes\n", i + 1,
                rank[i]->run->node, rank[i]->run->rank, c->label, iso(c->first_real_ns, t, sizeof t),
                c->cls == 2 ? "consequence" : c->cls == 1 ? "prediction" : "failure", c->score,
                rank[i]->rd.ncauses);
    }
    for (size_t i = 0; i < n; i++)
        if (all[i].ok && all[i].rd.healthy)
            fprintf(out, "  healthy: %s (rank %d)\n", all[i].run->node, all[i].run->rank);
}

static cJSON *group_json(const char *group, struct node_diag **rank, size_t nbad,
                         const struct node_diag *all, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    char t[MONI_ISO_LEN];
    if (group[0])
        cJSON_AddStringToObject(o, "experiment", group);
    cJSON_AddNumberToObject(o, "nodes", (double)n);
    if (nbad) {
        const struct run_cause *c0 = &rank[0]->rd.causes[0];
        cJSON *rc = cJSON_AddObjectToObject(o, "root_cause");
        cJSON_AddStringToObject(rc, "label", c0->label);
        cJSON_AddStringToObject(rc, "node", rank[0]->run->node);
        cJSON_AddNumberToObject(rc, "rank", rank[0]->run->rank);
        cJSON_AddStringToObject(rc, "first", iso(c0->first_real_ns, t, sizeof t));
    } else {
        cJSON_AddNullToObject(o, "root_cause");
    }
    cJSON *arr = cJSON_AddArrayToObject(o, "ranking");
    for (size_t i = 0; i < nbad; i++) {
        cJSON *e = run_diagnosis_json(&rank[i]->rd);
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "node", rank[i]->run->node);
        cJSON_AddNumberToObject(w, "rank", rank[i]->run->rank);
        cJSON_AddStringToObject(w, "run_dir", rank[i]->run->dir);
        cJSON_AddStringToObject(w, "first", iso(rank[i]->rd.causes[0].first_real_ns, t, sizeof t));
        cJSON_AddItemToObject(w, "diagnosis", e);
        cJSON_AddItemToArray(arr, w);
    }
    cJSON *h = cJSON_AddArrayToObject(o, "healthy");
    for (size_t i = 0; i < n; i++)
        if (all[i].ok && all[i].rd.healthy)
            cJSON_AddItemToArray(h, cJSON_CreateString(all[i].run->node));
    return o;
}

/* One experiment's nodes: runs[0..n). */
static int diagnose_group(const struct cluster_node_run *runs, size_t n,
                          const struct lp_rules *rules, const struct det_config *cfg,
                          cJSON *jout, FILE *out, char *err, size_t errlen)
{
    struct node_diag *all = calloc(n, sizeof *all);
    struct node_diag **rank = calloc(n, sizeof *rank);
    if (!all || !rank) {
        free(all);
        free(rank);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t nbad = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        all[i].run = &runs[i];
        struct lp_diagnosis *logd =
            run_diagnose_dir(rules, runs[i].dir, cfg, false, NULL, 0, &all[i].rd, err, errlen);
        if (!logd) {
            rc = -1;
            break;
        }
        lp_diagnosis_free(logd);
        all[i].ok = true;
        if (!all[i].rd.healthy && all[i].rd.ncauses)
            rank[nbad++] = &all[i];
    }
    if (rc == 0) {
        qsort(rank, nbad, sizeof *rank, cmp_onset);
        if (jout)
            cJSON_AddItemToArray(jout, group_json(runs[0].group, rank, nbad, all, n));
        else
            write_text(runs[0].group, rank, nbad, all, n, out);
    }
    free(all);
    free(rank);
    return rc;
}

int cluster_diagnose(const char *dir, const struct lp_rules *rules, const struct det_config *cfg,
                     bool json, FILE *out, char *err, size_t errlen)
{
    struct cluster_runs c;
    if (cluster_runs_find(dir, &c, err, errlen) < 0)
        return -1;
    cJSON *root = json ? cJSON_CreateObject() : NULL;
    cJSON *groups = root ? cJSON_AddArrayToObject(root, "experiments") : NULL;
    if (root)
        cJSON_AddStringToObject(root, "cluster", dir);
    int rc = 0;
    for (size_t a = 0; rc == 0 && a < c.n;) {
        size_t b = a;
        while (b < c.n && !strcmp(c.v[b].group, c.v[a].group))
            b++;
        if (!json && a)
            fputc('\n', out);
        rc = diagnose_group(&c.v[a], b - a, rules, cfg, groups, out, err, errlen);
        a = b;
    }
    if (rc == 0 && root) {
        char *s = cJSON_Print(root);
        if (s)
            fprintf(out, "%s\n", s);
        free(s);
    }
    cJSON_Delete(root);
    cluster_runs_free(&c);
    return rc;
}
