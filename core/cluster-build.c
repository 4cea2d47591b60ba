/* core/cluster-build.c — `moni build --cluster DIR`: the run directories of every
 * node of one job (DIR/NODE, or DIR/NODE/EXPERIMENT for a plan) merged into one
 * aligned dataset in DIR/cluster (DIR/cluster/EXPERIMENT): tse_matrix.csv and
 * labels.csv as a long table, one row per node and grid time with `node` and `rank`
 * columns, ground_truth.csv with each node's faults, and cluster.json (nodes, their
 * run directories, clock quality, columns).  Each node's own dataset is (re)built
 * first, so a node's labels come from its own injector journal only: a fault fired
 * on one node labels that node's rows and no other's.
 *
 * Why a node column and not node-prefixed columns (moni-dataset(5) CLUSTER DATASET):
 * the per-node feature names stay those of a single run, so a detector fitted on
 * single-node runs scores every node unchanged; a job of 3 or 300 nodes has the same
 * columns; per-row labels say which node was faulted.  A wide table is one pivot
 * away (pandas: df.pivot(index="timestamp", columns="node")).
 *
 * Grids align by wall time: every node's grid sits on multiples of the grid step of
 * UTC, so rows of one time are one grid cell on every node; the clocks' own error
 * (adjtimex maxerror in meta.json) is reported, not corrected.  Streams every file
 * line by line (a k-way merge by timestamp); never writes into a node's directory
 * except through dataset_build. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

/* ---- finding the nodes' runs -------------------------------------------------------- */

static int cmp_run(const void *a, const void *b)
{
    const struct cluster_node_run *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    if (c)
        return c;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp(x->node, y->node);
}

static int add_run(struct cluster_runs *c, const char *dir, const char *node_dirname,
                   const char *group)
{
    struct cluster_node_run *v = realloc(c->v, (c->n + 1) * sizeof *v);
    if (!v)
        return -1;
    c->v = v;
    struct cluster_node_run *r = &v[c->n];
    memset(r, 0, sizeof *r);
    r->dir = strdup(dir);
    r->group = strdup(group);
    if (!r->dir || !r->group) {
        free(r->dir);
        free(r->group);
        return -1;
    }
    c->n++;
    snprintf(r->node, sizeof r->node, "%s", node_dirname);
    r->rank = -1;
    struct rundir_meta m = {0};
    char err[RUNDIR_ERR_LEN];
    if (rundir_meta_load(dir, &m, err, sizeof err) < 0)
        return 0;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(m.root, "node");
    const cJSON *v1 = cJSON_GetObjectItemCaseSensitive(n, "node");
    if (cJSON_IsString(v1) && v1->valuestring[0])
        snprintf(r->node, sizeof r->node, "%s", v1->valuestring);
    v1 = cJSON_GetObjectItemCaseSensitive(n, "rank");
    if (cJSON_IsNumber(v1))
        r->rank = v1->valueint;
    v1 = cJSON_GetObjectItemCaseSensitive(n, "job_id");
    if (cJSON_IsString(v1))
        snprintf(r->job_id, sizeof r->job_id, "%s", v1->valuestring);
    const cJSON *clk = cJSON_GetObjectItemCaseSensitive(n, "clock");
    v1 = cJSON_GetObjectItemCaseSensitive(clk, "maxerror_s");
    if (cJSON_IsNumber(v1)) {
        r->has_clock = true;
        r->clock_maxerror_s = v1->valuedouble;
        r->clock_synced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(clk, "synchronized"));
    }
    rundir_meta_free(&m);
    return 0;
}

/* Sorted names of the directories in dir (no dot entries, no "cluster"). */
static char **list_dirs(const char *dir, size_t *n)
{
    *n = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return NULL;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(dp))) {
        char p[PATH_MAX];
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "cluster"))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        DIR *sub = opendir(p);
        if (!sub)
            continue;
        closedir(sub);
        char **v2 = realloc(v, (*n + 1) * sizeof *v2);
        if (!v2 || !(v2[*n] = strdup(e->d_name))) {
            free(v2 ? v2 : v);
            closedir(dp);
            *n = 0;
            return NULL;
        }
        v = v2;
        (*n)++;
    }
    closedir(dp);
    for (size_t i = 1; i < *n; i++) /* insertion sort: a job has few nodes */
        for (size_t k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
            char *t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    return v;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int cluster_runs_find(const char *dir, struct cluster_runs *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    size_t n;
    char **nodes = list_dirs(dir, &n);
    if (!nodes && errno && errno != ENOENT && !n) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, nodes[i]);
        if (dataset_is_run_dir(p)) {
            if (add_run(c, p, nodes[i], "") < 0)
                goto oom;
            continue;
        }
        size_t ne; /* a plan's output on each node: DIR/NODE/EXPERIMENT */
        char **exps = list_dirs(p, &ne);
        for (size_t k = 0; k < ne; k++) {
            char q[PATH_MAX];
            snprintf(q, sizeof q, "%s/%s", p, exps[k]);
            if (dataset_is_run_dir(q) && add_run(c, q, nodes[i], exps[k]) < 0) {
                free_names(exps, ne);
                goto oom;
            }
        }
        free_names(exps, ne);
    }
    free_names(nodes, n);
    if (!c->n) {
        snprintf(err, errlen, "%s: no node run directories below it (DIR/NODE or DIR/NODE/EXPERIMENT "
                 "with samples.csv)", dir);
        return -1;
    }
    qsort(c->v, c->n, sizeof *c->v, cmp_run);
    /* one job's nodes: no node and rank twice in an experiment (a plan's output
     * directory, runs of one host, is not a cluster) */
    for (size_t i = 1; i < c->n; i++)
        if (!strcmp(c->v[i].group, c->v[i - 1].group) && !strcmp(c->v[i].node, c->v[i - 1].node) &&
            c->v[i].rank == c->v[i - 1].rank) {
            snprintf(err, errlen, "%s: %s and %s are both node %s rank %d: not the nodes of one job",
                     dir, c->v[i - 1].dir, c->v[i].dir, c->v[i].node, c->v[i].rank);
            cluster_runs_free(c);
            return -1;
        }
    return 0;
oom:
    free_names(nodes, n);
    cluster_runs_free(c);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void cluster_runs_free(struct cluster_runs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].dir);
        free(c->v[i].group);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* ---- reading a node's matrix and labels line by line -------------------------------- */

struct csv_in {
    FILE *f;
    char *line;
    size_t cap;
    char **field;
    size_t nfield, capf;
    long lineno;
};

static int csv_next(struct csv_in *c)
{
    ssize_t n = getline(&c->line, &c->cap, c->f);
    if (n <= 0)
        return 0;
    c->lineno++;
    while (n && (c->line[n - 1] == '\n' || c->line[n - 1] == '\r'))
        c->line[--n] = '\0';
    c->nfield = 0;
    for (char *p = c->line;;) {
        if (c->nfield == c->capf) {
            size_t cap = c->capf ? 2 * c->capf : 64;
            char **f = realloc(c->field, cap * sizeof *f);
            if (!f)
                return -1;
            c->field = f;
            c->capf = cap;
        }
        c->field[c->nfield++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return 1;
}

static void csv_close(struct csv_in *c)
{
    if (c->f)
        fclose(c->f);
    free(c->line);
    free(c->field);
    memset(c, 0, sizeof *c);
}

struct node_in {
    const struct cluster_node_run *run;
    struct csv_in m, l;     /* tse_matrix.csv, labels.csv */
    size_t ncols;           /* feature columns of this node */
    int *map;               /* node feature column -> union column */
    bool more;              /* m holds a row not yet written */
    size_t rows, anomalous;
};

struct merge {
    struct node_in *in;
    size_t nin;
    char **cols;            /* the union of the feature columns, first seen first */
    size_t ncols;
    char *err;
    size_t errlen;
};

static int union_col(struct merge *g, const char *name)
{
    for (size_t i = 0; i < g->ncols; i++)
        if (!strcmp(g->cols[i], name))
            return (int)i;
    char **c = realloc(g->cols, (g->ncols + 1) * sizeof *c);
    if (!c || !(c[g->ncols] = strdup(name)))
        return -1;
    g->cols = c;
    return (int)g->ncols++;
}

static int open_node(struct merge *g, struct node_in *in)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/tse_matrix.csv", in->run->dir);
    in->m.f = fopen(p, "r");
    if (!in->m.f || csv_next(&in->m) != 1 || in->m.nfield < 2 ||
        strcmp(in->m.field[0], "timestamp") || strcmp(in->m.field[in->m.nfield - 1], "is_anomaly")) {
        snprintf(g->err, g->errlen, "%s: %s", p, in->m.f ? "no timestamp ... is_anomaly header" : strerror(errno));
        return -1;
    }
    in->ncols = in->m.nfield - 2;
    in->map = calloc(in->ncols ? in->ncols : 1, sizeof *in->map);
    if (!in->map)
        return -1;
    for (size_t i = 0; i < in->ncols; i++)
        if ((in->map[i] = union_col(g, in->m.field[i + 1])) < 0)
            return -1;
    snprintf(p, sizeof p, "%s/labels.csv", in->run->dir);
    in->l.f = fopen(p, "r");
    if (!in->l.f || csv_next(&in->l) != 1 || in->l.nfield < 6) {
        snprintf(g->err, g->errlen, "%s: %s", p, in->l.f ? "no header" : strerror(errno));
        return -1;
    }
    return 0;
}

/* The node's next row: matrix and labels must agree on the time. */
static int advance(struct merge *g, struct node_in *in)
{
    int a = csv_next(&in->m), b = csv_next(&in->l);
    if (a < 0 || b < 0) {
        snprintf(g->err, g->errlen, "out of memory");
        return -1;
    }
    in->more = a == 1;
    if (a != b || (a == 1 && strcmp(in->m.field[0], in->l.field[0]))) {
        snprintf(g->err, g->errlen, "%s: tse_matrix.csv line %ld and labels.csv disagree (rebuild it)",
                 in->run->dir, in->m.lineno);
        return -1;
    }
    if (in->more && in->m.nfield != in->ncols + 2) {
        snprintf(g->err, g->errlen, "%s/tse_matrix.csv:%ld: %zu fields, the header has %zu",
                 in->run->dir, in->m.lineno, in->m.nfield, in->ncols + 2);
        return -1;
    }
    return 0;
}

static void write_row(struct merge *g, struct node_in *in, FILE *mo, FILE *lo, const char **cells)
{
    for (size_t i = 0; i < g->ncols; i++)
        cells[i] = "";
    for (size_t i = 0; i < in->ncols; i++)
        cells[in->map[i]] = in->m.field[i + 1];
    fprintf(mo, "%s,%s,%d", in->m.field[0], in->run->node, in->run->rank);
    for (size_t i = 0; i < g->ncols; i++)
        fprintf(mo, ",%s", cells[i]);
    const char *anom = in->m.field[in->m.nfield - 1];
    fprintf(mo, ",%s\n", anom);
    fprintf(lo, "%s,%s,%d", in->l.field[0], in->run->node, in->run->rank);
    for (size_t i = 1; i < in->l.nfield; i++)
        fprintf(lo, ",%s", in->l.field[i]);
    fputc('\n', lo);
    in->rows++;
    in->anomalous += strcmp(anom, "0") != 0 && anom[0];
}

/* The k-way merge by timestamp (ties in rank order). */
static int merge_rows(struct merge *g, FILE *mo, FILE *lo, size_t *rows)
{
    fputs("timestamp,node,rank", mo);
    for (size_t i = 0; i < g->ncols; i++)
        fprintf(mo, ",%s", g->cols[i]);
    fputs(",is_anomaly\n", mo);
    fputs("timestamp,node,rank", lo);
    for (size_t i = 1; g->nin && i < g->in[0].l.nfield; i++)
        fprintf(lo, ",%s", g->in[0].l.field[i]);
    fputc('\n', lo);
    for (size_t k = 0; k < g->nin; k++)
        if (advance(g, &g->in[k]) < 0)
            return -1;
    const char **cells = calloc(g->ncols ? g->ncols : 1, sizeof *cells);
    if (!cells)
        return -1;
    for (;;) {
        struct node_in *best = NULL;
        for (size_t k = 0; k < g->nin; k++)
            if (g->in[k].more && (!best || strcmp(g->in[k].m.field[0], best->m.field[0]) < 0))
                best = &g->in[k];
        if (!best)
            break;
        write_row(g, best, mo, lo, cells);
        (*rows)++;
        if (advance(g, best) < 0) {
            free(cells);
            return -1;
        }
    }
    free(cells);
    return 0;
}

/* ground_truth.csv: node,rank, then each node's rows as they are. */
static int merge_truth(struct merge *g, FILE *out, size_t *faults)
{
    bool header = false;
    for (size_t k = 0; k < g->nin; k++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/ground_truth.csv", g->in[k].run->dir);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long no = 0;
        while ((n = getline(&line, &cap, f)) > 0) {
            if (no++ == 0) {
                if (!header)
                    fprintf(out, "node,rank,%s", line);
                header = true;
                continue;
            }
            fprintf(out, "%s,%d,%s", g->in[k].run->node, g->in[k].run->rank, line);
            (*faults)++;
        }
        free(line);
        fclose(f);
    }
    if (!header)
        fputs("node,rank,fault_id,kind\n", out);
    return 0;
}

static cJSON *cluster_json(const struct merge *g, const char *group, size_t rows, size_t faults,
                           int64_t grid_ns)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", "moni-cluster/1");
    cJSON_AddStringToObject(o, "layout", "long: one row per node and grid time (node, rank columns)");
    if (group[0])
        cJSON_AddStringToObject(o, "experiment", group);
    if (g->nin && g->in[0].run->job_id[0])
        cJSON_AddStringToObject(o, "job_id", g->in[0].run->job_id);
    cJSON_AddNumberToObject(o, "grid_ns", (double)grid_ns);
    cJSON_AddNumberToObject(o, "rows", (double)rows);
    cJSON_AddNumberToObject(o, "faults", (double)faults);
    double worst = 0;
    bool all_clocks = true;
    cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
    for (size_t k = 0; k < g->nin; k++) {
        const struct node_in *in = &g->in[k];
        cJSON *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "node", in->run->node);
        cJSON_AddNumberToObject(n, "rank", in->run->rank);
        cJSON_AddStringToObject(n, "run_dir", in->run->dir);
        cJSON_AddNumberToObject(n, "rows", (double)in->rows);
        cJSON_AddNumberToObject(n, "anomalous_rows", (double)in->anomalous);
        if (in->run->has_clock) {
            cJSON_AddBoolToObject(n, "clock_synchronized", in->run->clock_synced);
            cJSON_AddNumberToObject(n, "clock_maxerror_s", in->run->clock_maxerror_s);
            if (in->run->clock_maxerror_s > worst)
                worst = in->run->clock_maxerror_s;
        } else {
            all_clocks = false;
        }
        cJSON_AddItemToArray(nodes, n);
    }
    /* how far apart two nodes' rows of one time can be, as the clocks say */
    if (all_clocks)
        cJSON_AddNumberToObject(o, "max_clock_error_s", worst);
    else
        cJSON_AddNullToObject(o, "max_clock_error_s");
    cJSON *cols = cJSON_AddArrayToObject(o, "columns");
    for (size_t i = 0; i < g->ncols; i++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(g->cols[i]));
    return o;
}

static FILE *open_out(const char *dir, const char *name, char *tmp, size_t len)
{
    snprintf(tmp, len, "%s/%s.tmp", dir, name);
    return fopen(tmp, "w");
}

static int finish_out(FILE *f, const char *tmp, int ok)
{
    if (!f)
        return -1;
    int rc = (fflush(f) == 0 && fsync(fileno(f)) == 0) ? 0 : -1;
    fclose(f);
    if (rc == 0 && ok == 0) {
        char final[PATH_MAX];
        snprintf(final, sizeof final, "%.*s", (int)(strlen(tmp) - 4), tmp);
        rc = rename(tmp, final);
    } else {
        unlink(tmp);
    }
    return rc == 0 && ok == 0 ? 0 : -1;
}

static int write_json(const char *dir, const char *name, const cJSON *j, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    char *text = cJSON_Print(j);
    FILE *f = text ? open_out(dir, name, tmp, sizeof tmp) : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF ? 0 : -1;
    free(text);
    if (finish_out(f, tmp, ok) < 0) {
        snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* One job (or one experiment of it): runs[0..n) into out_dir. */
static int merge_group(const struct cluster_node_run *runs, size_t n, const char *out_dir,
                       int64_t grid_ns, struct cluster_build_summary *sum, char *err,
                       size_t errlen)
{
    struct merge g = {.err = err, .errlen = errlen};
    g.in = calloc(n, sizeof *g.in);
    int rc = g.in ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        g.in[k].run = &runs[k];
        g.nin++;
        rc = open_node(&g, &g.in[k]);
    }
    if (rc == 0 && moni_mkdir_p(out_dir, 0755) < 0) {
        snprintf(err, errlen, "%s: %s", out_dir, strerror(errno));
        rc = -1;
    }
    size_t rows = 0, faults = 0;
    if (rc == 0) {
        char tm[PATH_MAX], tl[PATH_MAX], tg[PATH_MAX];
        FILE *mo = open_out(out_dir, "tse_matrix.csv", tm, sizeof tm);
        FILE *lo = open_out(out_dir, "labels.csv", tl, sizeof tl);
        FILE *go = open_out(out_dir, "ground_truth.csv", tg, sizeof tg);
        rc = mo && lo && go ? merge_rows(&g, mo, lo, &rows) : -1;
        if (rc == 0)
            rc = merge_truth(&g, go, &faults);
        if (rc < 0 && !err[0])
            snprintf(err, errlen, "%s: %s", out_dir, strerror(errno ? errno : EIO));
        int a = finish_out(mo, tm, rc), b = finish_out(lo, tl, rc), c = finish_out(go, tg, rc);
        if (rc == 0 && (a || b || c)) {
            snprintf(err, errlen, "%s: %s", out_dir, strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0) {
        cJSON *j = cluster_json(&g, runs[0].group, rows, faults, grid_ns);
        rc = write_json(out_dir, "cluster.json", j, err, errlen);
        cJSON_Delete(j);
    }
    if (rc == 0) {
        sum->groups++;
        sum->nodes += n;
        sum->rows += rows;
        sum->faults += faults;
        for (size_t k = 0; k < n; k++)
            sum->anomalous_rows += g.in[k].anomalous;
    }
    for (size_t k = 0; k < g.nin; k++) {
        csv_close(&g.in[k].m);
        csv_close(&g.in[k].l);
        free(g.in[k].map);
    }
    for (size_t i = 0; i < g.ncols; i++)
        free(g.cols[i]);
    free(g.cols);
    free(g.in);
    return rc;
}

int cluster_build(const char *dir, const struct dataset_opts *o, FILE *progress,
                  struct cluster_build_summary *sum, char *err, size_t errlen)
{
    memset(sum, 0, sizeof *sum);
    err[0] = '\0';
    struct cluster_runs c;
    if (cluster_runs_find(dir, &c, err, errlen) < 0) {
        sum->bad_input = true;
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c.n; i++) { /* each node's own dataset first */
        struct dataset_summary ds;
        char e[1024];
        if (dataset_build(c.v[i].dir, o, &ds, e, sizeof e) < 0) {
            snprintf(err, errlen, "%s", e);
            sum->bad_input = ds.bad_input;
            rc = -1;
        } else if (progress) {
            fprintf(progress, "%s: node %s rank %d: %zu rows, %zu faults, %zu anomalous rows\n",
                    c.v[i].dir, c.v[i].node, c.v[i].rank, ds.rows, ds.faults, ds.anomalous_rows);
        }
    }
    for (size_t a = 0; rc == 0 && a < c.n;) {
        size_t b = a;
        while (b < c.n && !strcmp(c.v[b].group, c.v[a].group))
            b++;
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/cluster%s%s", dir, c.v[a].group[0] ? "/" : "", c.v[a].group);
        rc = merge_group(&c.v[a], b - a, out, o->grid_ns ? o->grid_ns : MONI_NS_PER_SEC, sum, err,
                         errlen);
        if (rc == 0 && progress)
            fprintf(progress, "%s: %zu nodes merged\n", out, b - a);
        a = b;
    }
    double worst = 0; /* a row's time is only as good as the node's clock */
    for (size_t i = 0; i < c.n; i++)
        if (c.v[i].has_clock && c.v[i].clock_maxerror_s > worst)
            worst = c.v[i].clock_maxerror_s;
    int64_t grid = o->grid_ns ? o->grid_ns : MONI_NS_PER_SEC;
    if (rc == 0 && progress && worst * 1e9 > (double)grid / 2)
        fprintf(progress, "note: a node's clock may be off by up to %.3gs (adjtimex maxerror): "
                "rows of one time may be that far apart\n", worst);
    cluster_runs_free(&c);
    return rc;
}
