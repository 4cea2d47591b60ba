/* tui/top-query.c — what the cluster console asks Prometheus and how it reads the
 * answers: the table's columns as PromQL (moni's names first, then node_exporter's
 * and NVIDIA DCGM exporter's), folded into one instant query per refresh, and the
 * JSON of /api/v1/query and /api/v1/alerts parsed into rows, alerts and series.
 * No drawing here (tui/top.c), no sockets (tui/top-http.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/top-int.h"

/* Missing series stay missing ("-"); "or 0 * <a moni series of the node>" turns the
 * counters a healthy node has no series for (faults, detections) into 0. */
#define SERIES(how, ...) .agg = how, .metric = {__VA_ARGS__}
#define RATE .fn = "rate", .window = "1m"
#define EXPORTER .exporter = true
#define OR_ZERO {SERIES("max", "moni_sample_timestamp_seconds"), .pre = "0 * "}
const struct top_col top_cols[] = {
    {"up", "UP", 4, TOP_F_UP, true, "node, rank", {{SERIES("min", "up")}}},
    {"hb", "HB", 5, TOP_F_AGE, true, NULL,
     {{SERIES("max", "moni_sample_timestamp_seconds"), .fn = "max_over_time", .window = "10m",
       .pre = "time() - "}}},
    {"gpu", "GPU%", 5, TOP_F_PCT, false, NULL,
     {{SERIES("avg", "moni_gpu_utilization_ratio"), .post = " * 100"},
      {SERIES("avg", "DCGM_FI_DEV_GPU_UTIL"), EXPORTER}}},
    {"gmem", "GMEM", 6, TOP_F_BYTES, false, NULL,
     {{SERIES("sum", "moni_gpu_memory_used_bytes")},
      {SERIES("sum", "DCGM_FI_DEV_FB_USED"), EXPORTER, .post = " * 1048576"}}},
    {"cpu", "CPU%", 5, TOP_F_PCT, false, NULL,
     {{SERIES("avg", "moni_cpu_usage_ratio"), .post = " * 100"},
      {SERIES("avg", "node_cpu_seconds_total"), EXPORTER, RATE, .extra = "mode=\"idle\"",
       .pre = "100 * (1 - ", .post = ")"}}},
    {"io", "I/O", 7, TOP_F_RATE, false, NULL,
     {{SERIES("sum", "moni_disk_read_bytes_per_second", "moni_disk_write_bytes_per_second")},
      {SERIES("sum", "node_disk_read_bytes_total", "node_disk_written_bytes_total"), EXPORTER,
       RATE}}},
    {"net", "NET", 7, TOP_F_RATE, false, NULL,
     {{SERIES("sum", "moni_network_receive_bytes_per_second",
              "moni_network_transmit_bytes_per_second")},
      {SERIES("sum", "node_network_receive_bytes_total", "node_network_transmit_bytes_total"),
       EXPORTER, RATE, .extra = "device!=\"lo\""}}},
    {"loss", "LOSS", 7, TOP_F_NUM, false, NULL, {{SERIES("max", "moni_training_loss")}}},
    {"step", "STEP", 7, TOP_F_INT, false, NULL, {{SERIES("max", "moni_training_step")}}},
    {"steps", "STEP/s", 6, TOP_F_NUM, false, NULL, {{SERIES("max", "moni_training_step"), RATE}}},
    {"faults", "FLT", 3, TOP_F_INT, false, NULL, {{SERIES("sum", "moni_fault_active")}, OR_ZERO}},
    {"det", "DET", 4, TOP_F_INT, false, NULL,
     {{SERIES("max", "moni_detections")}, {SERIES("sum", "moni_detections_total")}, OR_ZERO}},
};
#undef RATE
#undef EXPORTER
#undef SERIES
#undef OR_ZERO
const size_t top_ncols = MONI_ARRAY_LEN(top_cols);
_Static_assert(MONI_ARRAY_LEN(top_cols) <= TOP_MAX_COLS, "raise TOP_MAX_COLS");

/* ---- building queries ----------------------------------------------------------- */
struct qbuf {
    char *p;
    size_t len, cap;
};

static void q_add(struct qbuf *q, const char *s, size_t n)
{
    if (!q->p && q->cap == (size_t)-1)
        return;
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 1024;
        while (cap < q->len + n + 1)
            cap *= 2;
        char *p = realloc(q->p, cap);
        if (!p) {
            free(q->p);
            q->p = NULL;
            q->cap = (size_t)-1;
            return;
        }
        q->p = p;
        q->cap = cap;
    }
    memcpy(q->p + q->len, s, n);
    q->len += n;
    q->p[q->len] = '\0';
}

static void q_puts(struct qbuf *q, const char *s) { q_add(q, s, strlen(s)); }

/* A PromQL string literal's body: backslash and quote escaped. */
static void q_literal(struct qbuf *q, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            q_add(q, "\\", 1);
        q_add(q, s, 1);
    }
}

static void q_job_matchers(struct qbuf *q, const char *job)
{
    if (job && *job) {
        q_puts(q, "job_id=\"");
        q_literal(q, job);
        q_puts(q, "\"");
    } else {
        q_puts(q, "node!=\"\"");
    }
}

/* One alternative of a column: see struct top_alt. */
static void q_alt(struct qbuf *q, const char *by, const struct top_alt *a, const char *job)
{
    q_puts(q, a->pre ? a->pre : "");
    for (size_t k = 0; k < MONI_ARRAY_LEN(a->metric) && a->metric[k]; k++) {
        q_puts(q, k ? " + " : "");
        q_puts(q, a->agg);
        q_puts(q, " by (");
        q_puts(q, by ? by : "node");
        q_puts(q, a->fn ? ") (" : ") ");
        q_puts(q, a->fn ? a->fn : "");
        q_puts(q, "(");
        q_puts(q, a->metric[k]);
        q_puts(q, "{");
        if (a->extra) {
            q_puts(q, a->extra);
            q_puts(q, ",");
        }
        if (a->exporter)
            q_puts(q, "node!=\"\"");
        else
            q_job_matchers(q, job);
        q_puts(q, "}");
        if (a->fn) {
            q_puts(q, "[");
            q_puts(q, a->window);
            q_puts(q, "])");
        }
        q_puts(q, ")");
    }
    q_puts(q, a->post ? a->post : "");
}

char *top_table_query(const char *job)
{
    struct qbuf q = {0};
    for (size_t i = 0; i < top_ncols; i++) {
        if (i)
            q_puts(&q, " or ");
        q_puts(&q, "label_replace(");
        for (size_t k = 0; k < MONI_ARRAY_LEN(top_cols[i].alt) && top_cols[i].alt[k].agg; k++) {
            q_puts(&q, k ? " or " : "");
            q_alt(&q, top_cols[i].by, &top_cols[i].alt[k], job);
        }
        q_puts(&q, ", \"moni_col\", \"");
        q_puts(&q, top_cols[i].key);
        q_puts(&q, "\", \"\", \"\")");
    }
    return q.p;
}

char *top_node_query(const char *job, const char *node)
{
    struct qbuf q = {0};
    q_puts(&q, "{__name__=~\"moni_.+\",__name__!~\"moni_cpu_core_.+\",");
    q_job_matchers(&q, job);
    q_puts(&q, ",node=\"");
    q_literal(&q, node);
    q_puts(&q, "\"} or {__name__=~\"DCGM_FI_.+\",node=\"");
    q_literal(&q, node);
    q_puts(&q, "\"}");
    return q.p;
}

/* ---- reading answers ------------------------------------------------------------ */
static const char *label_of(const cJSON *metric, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(metric, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* data.result of a successful vector answer, or NULL with err. */
static const cJSON *vector_result(const cJSON *root, char *err, size_t errlen)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsString(st) || strcmp(st->valuestring, "success")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
        snprintf(err, errlen, "Prometheus: %s", cJSON_IsString(e) ? e->valuestring : "query failed");
        return NULL;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "result");
    if (!cJSON_IsArray(res)) {
        snprintf(err, errlen, "Prometheus: answer without data.result");
        return NULL;
    }
    return res;
}

/* A vector answer parsed (the caller deletes it) with its data.result in *res, or
 * NULL with err. */
static cJSON *parse_vector(const char *json, const cJSON **res, char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(json);
    if (!root) {
        snprintf(err, errlen, "Prometheus: the answer is not JSON");
        return NULL;
    }
    if (!(*res = vector_result(root, err, errlen))) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static bool sample_value(const cJSON *item, double *v)
{
    const cJSON *val = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(item, "value"), 1);
    if (!cJSON_IsString(val))
        return false;
    char *end;
    *v = strtod(val->valuestring, &end); /* also "NaN", "+Inf" */
    return end != val->valuestring;
}

static struct top_node *find_node(struct top_model *m, const char *node, bool add)
{
    for (size_t i = 0; i < m->nn; i++)
        if (!strcmp(m->nodes[i].node, node))
            return &m->nodes[i];
    if (!add)
        return NULL;
    if (m->nn == m->capn) {
        size_t cap = m->capn ? m->capn * 2 : 16;
        struct top_node *n = realloc(m->nodes, cap * sizeof *n);
        if (!n)
            return NULL;
        m->nodes = n;
        m->capn = cap;
    }
    struct top_node *n = &m->nodes[m->nn++];
    memset(n, 0, sizeof *n);
    snprintf(n->node, sizeof n->node, "%s", node);
    return n;
}

static int col_index(const char *key)
{
    for (size_t i = 0; i < top_ncols; i++)
        if (!strcmp(top_cols[i].key, key))
            return (int)i;
    return -1;
}

int top_parse_table(struct top_model *m, const char *json, char *err, size_t errlen)
{
    const cJSON *res;
    cJSON *root = parse_vector(json, &res, err, errlen);
    if (!root)
        return -1;
    m->nn = 0;
    /* rows first (moni's targets), then the cells of the nodes that have one */
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *item;
        cJSON_ArrayForEach(item, res) {
            const cJSON *metric = cJSON_GetObjectItemCaseSensitive(item, "metric");
            const char *node = label_of(metric, "node");
            int c = col_index(label_of(metric, "moni_col"));
            double v;
            if (!*node || c < 0 || top_cols[c].defines_row != (pass == 0) || !sample_value(item, &v))
                continue;
            struct top_node *n = find_node(m, node, pass == 0);
            if (!n)
                continue;
            const char *rank = label_of(metric, "rank");
            if (*rank)
                snprintf(n->rank, sizeof n->rank, "%s", rank);
            if (n->ok[c] && top_cols[c].fmt == TOP_F_UP) /* a node is up when all its targets are */
                v = fmin(v, n->v[c]);
            else if (n->ok[c])
                continue;
            n->v[c] = v;
            n->ok[c] = true;
        }
    }
    cJSON_Delete(root);
    return 0;
}

static double parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return NAN;
    double frac = 0;
    if (*p == '.')
        frac = strtod(p, NULL);
    return (double)timegm(&tm) + frac;
}

int top_parse_alerts(struct top_model *m, const char *json, const char *job, double now_s,
                     char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(json);
    if (!root) {
        snprintf(err, errlen, "Prometheus alerts: the answer is not JSON");
        return -1;
    }
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "data"), "alerts");
    if (!cJSON_IsArray(alerts)) {
        snprintf(err, errlen, "Prometheus alerts: answer without data.alerts");
        cJSON_Delete(root);
        return -1;
    }
    m->na = 0;
    for (size_t i = 0; i < m->nn; i++) {
        m->nodes[i].ok[TOP_COL_ALERTS] = true;
        m->nodes[i].v[TOP_COL_ALERTS] = 0;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts) {
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(a, "labels");
        const cJSON *ann = cJSON_GetObjectItemCaseSensitive(a, "annotations");
        const char *node = label_of(labels, "node"), *jid = label_of(labels, "job_id");
        /* with --job: the job's alerts, and the node-level ones of its nodes */
        if (job && *job && strcmp(jid, job) && !(!*jid && find_node(m, node, false)))
            continue;
        if (m->na == m->capa) {
            size_t cap = m->capa ? m->capa * 2 : 16;
            struct top_alert *n = realloc(m->alerts, cap * sizeof *n);
            if (!n)
                break;
            m->alerts = n;
            m->capa = cap;
        }
        struct top_alert *t = &m->alerts[m->na++];
        snprintf(t->name, sizeof t->name, "%s", label_of(labels, "alertname"));
        snprintf(t->node, sizeof t->node, "%s", node);
        snprintf(t->job_id, sizeof t->job_id, "%s", jid);
        snprintf(t->severity, sizeof t->severity, "%s", label_of(labels, "severity"));
        snprintf(t->state, sizeof t->state, "%s", label_of(a, "state"));
        snprintf(t->summary, sizeof t->summary, "%s", label_of(ann, "summary"));
        t->age_s = now_s - parse_rfc3339(label_of(a, "activeAt"));
        struct top_node *n = *node && !strcmp(t->state, "firing") ? find_node(m, node, false) : NULL;
        if (n)
            n->v[TOP_COL_ALERTS]++;
    }
    cJSON_Delete(root);
    /* firing first, then the oldest */
    for (size_t i = 1; i < m->na; i++)
        for (size_t j = i; j > 0; j--) {
            struct top_alert *x = &m->alerts[j - 1], *y = &m->alerts[j];
            bool xf = !strcmp(x->state, "firing"), yf = !strcmp(y->state, "firing");
            if (xf > yf || (xf == yf && !(y->age_s > x->age_s)))
                break;
            struct top_alert tmp = *x;
            *x = *y;
            *y = tmp;
        }
    return 0;
}

/* Labels but the ones that name the node (the view says which). */
static void series_labels(const cJSON *metric, char *out, size_t cap)
{
    static const char *const skip[] = {"__name__", "job_id", "node", "rank", "instance", "job"};
    size_t o = 0;
    out[0] = '\0';
    const cJSON *l;
    cJSON_ArrayForEach(l, metric) {
        bool drop = !cJSON_IsString(l);
        for (size_t i = 0; i < MONI_ARRAY_LEN(skip) && !drop; i++)
            drop = !strcmp(l->string, skip[i]);
        if (drop || o + 8 >= cap)
            continue;
        int n = snprintf(out + o, cap - o, "%s%s=%s", o ? "," : "", l->string, l->valuestring);
        o = n > 0 && (size_t)n < cap - o ? o + (size_t)n : cap - 1;
    }
}

static int series_cmp(const void *a, const void *b)
{
    const struct top_series *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->labels, y->labels);
}

int top_parse_series(struct top_model *m, const char *json, char *err, size_t errlen)
{
    const cJSON *res;
    cJSON *root = parse_vector(json, &res, err, errlen);
    if (!root)
        return -1;
    m->ns = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, res) {
        const cJSON *metric = cJSON_GetObjectItemCaseSensitive(item, "metric");
        double v;
        if (!sample_value(item, &v))
            continue;
        if (m->ns == m->caps) {
            size_t cap = m->caps ? m->caps * 2 : 64;
            struct top_series *n = realloc(m->series, cap * sizeof *n);
            if (!n)
                break;
            m->series = n;
            m->caps = cap;
        }
        struct top_series *s = &m->series[m->ns++];
        snprintf(s->name, sizeof s->name, "%s", label_of(metric, "__name__"));
        series_labels(metric, s->labels, sizeof s->labels);
        s->v = v;
    }
    cJSON_Delete(root);
    qsort(m->series, m->ns, sizeof *m->series, series_cmp);
    return 0;
}

/* ---- sorting and cells ---------------------------------------------------------- */
static int sort_col;
static bool sort_desc;

static int node_cmp(const void *a, const void *b)
{
    const struct top_node *x = a, *y = b;
    if (sort_col >= 0) {
        bool xo = x->ok[sort_col] && !isnan(x->v[sort_col]);
        bool yo = y->ok[sort_col] && !isnan(y->v[sort_col]);
        if (xo != yo)
            return xo ? -1 : 1; /* missing last */
        if (xo && x->v[sort_col] != y->v[sort_col])
            return (x->v[sort_col] < y->v[sort_col]) != sort_desc ? -1 : 1;
    }
    int c = strcmp(x->node, y->node);
    return sort_col < 0 && sort_desc ? -c : c;
}

void top_sort(struct top_model *m, int col, bool desc)
{
    sort_col = col;
    sort_desc = desc;
    qsort(m->nodes, m->nn, sizeof *m->nodes, node_cmp);
}

void top_fmt_cell(const struct top_col *c, bool ok, double v, char *buf, size_t len)
{
    if (!ok || (isnan(v) && (!c || c->fmt != TOP_F_NUM))) {
        snprintf(buf, len, "-");
        return;
    }
    switch (c ? c->fmt : TOP_F_INT) {
    case TOP_F_UP:
        snprintf(buf, len, "%s", v >= 1 ? "up" : "DOWN");
        break;
    case TOP_F_AGE:
        if (v < 100)
            snprintf(buf, len, "%.0fs", v < 0 ? 0 : v);
        else if (v < 6000)
            snprintf(buf, len, "%.0fm", v / 60);
        else
            snprintf(buf, len, "%.0fh", v / 3600);
        break;
    case TOP_F_PCT:
        snprintf(buf, len, "%.0f", v);
        break;
    case TOP_F_BYTES:
        tui_fmt_rate(v, true, buf, len);
        break;
    case TOP_F_RATE:
        tui_fmt_rate(v, true, buf, len);
        break;
    case TOP_F_NUM:
        tui_fmt_num(v, true, buf, len); /* a NaN loss says NaN */
        break;
    case TOP_F_INT:
        snprintf(buf, len, "%.0f", v);
        break;
    }
}

void top_model_free(struct top_model *m)
{
    free(m->nodes);
    free(m->alerts);
    free(m->series);
    memset(m, 0, sizeof *m);
}

/* ---- one refresh -------------------------------------------------------------------- */
static int query(struct top_model *m, const struct top_url *u, const char *promql, int timeout_ms,
                 struct top_buf *b)
{
    char *enc = top_urlencode(promql);
    size_t need = enc ? strlen(enc) + 32 : 0;
    char *path = enc ? malloc(need) : NULL;
    if (!path) {
        free(enc);
        snprintf(m->error, sizeof m->error, "out of memory");
        return -1;
    }
    snprintf(path, need, "/api/v1/query?query=%s", enc);
    free(enc);
    int status = 0;
    char err[256];
    int rc = top_http_get(u, path, timeout_ms, b, &status, err, sizeof err);
    free(path);
    m->requests++;
    m->queries++;
    m->bytes_sent += b->sent;
    m->bytes_received += b->received;
    if (rc < 0) {
        snprintf(m->error, sizeof m->error, "%s", err);
        return -1;
    }
    if (status != 200 && status != 400 && status != 422) { /* 400/422 carry a JSON error */
        snprintf(m->error, sizeof m->error, "%s:%s: HTTP %d", u->host, u->port, status);
        return -1;
    }
    return 0;
}

int top_refresh(struct top_model *m, const struct top_url *u, const char *job, const char *node,
                int timeout_ms)
{
    int64_t t0 = moni_mono_ns();
    m->queries = m->requests = 0;
    m->bytes_sent = m->bytes_received = 0;
    m->error[0] = '\0';
    struct top_buf b = {0};
    char *q = top_table_query(job);
    int rc = q ? query(m, u, q, timeout_ms, &b) : -1;
    free(q);
    if (rc == 0)
        rc = top_parse_table(m, b.p, m->error, sizeof m->error);
    if (rc == 0 && node) {
        q = top_node_query(job, node);
        rc = q ? query(m, u, q, timeout_ms, &b) : -1;
        free(q);
        if (rc == 0)
            rc = top_parse_series(m, b.p, m->error, sizeof m->error);
    }
    if (rc == 0) {
        int status = 0;
        char err[256];
        rc = top_http_get(u, "/api/v1/alerts", timeout_ms, &b, &status, err, sizeof err);
        m->requests++;
        m->bytes_sent += b.sent;
        m->bytes_received += b.received;
        if (rc < 0)
            snprintf(m->error, sizeof m->error, "%s", err);
        else
            rc = top_parse_alerts(m, b.p, job, (double)moni_now().real_ns / 1e9, m->error,
                                  sizeof m->error);
    }
    free(b.p);
    m->ms = (double)(moni_mono_ns() - t0) / 1e6;
    return rc;
}
