/* tui/top-int.h — private to the cluster console (`moni top`): the HTTP client
 * (tui/top-http.c), the PromQL queries and their answers (tui/top-query.c) and the
 * screen (tui/top.c).  What others use is tui_top_run in tui/tui.h. */
#ifndef MONI_TUI_TOP_INT_H
#define MONI_TUI_TOP_INT_H

#include "tui/tui.h"

/* ---- HTTP (tui/top-http.c) ------------------------------------------------------- */
struct top_url {
    char host[256], port[8];
    char prefix[256]; /* path prefix without the trailing '/', "" for none */
};
struct top_buf {
    char *p; /* the body after top_http_get (NUL-terminated) */
    size_t len, cap;
    size_t sent, received; /* request and whole-answer bytes of the last request */
};
/* "http://HOST[:PORT][/PREFIX]" (the scheme may be left out; port 9090 by default). */
int top_url_parse(const char *url, struct top_url *u, char *err, size_t errlen);
/* GET prefix+path; the body in b, the status in *status.  -1 with err when there is
 * no HTTP answer within timeout_ms. */
int top_http_get(const struct top_url *u, const char *path, int timeout_ms, struct top_buf *b,
                 int *status, char *err, size_t errlen);
char *top_urlencode(const char *s); /* malloc'd */

/* ---- the table's columns and the model (tui/top-query.c) ------------------------- */
enum top_fmt { TOP_F_UP, TOP_F_AGE, TOP_F_PCT, TOP_F_BYTES, TOP_F_RATE, TOP_F_NUM, TOP_F_INT };
/* One way to compute a column, as PromQL:
 *   PRE AGG by (BY) (FN(METRIC{EXTRA,MATCHERS}[WINDOW])) [+ the same for metric[1]] POST
 * MATCHERS are the job's (job_id="ID", or node!="" without --job) for moni's series,
 * node!="" for node_exporter's and DCGM's (they carry no job_id). */
struct top_alt {
    const char *agg;       /* "sum", "avg", "max", "min" */
    const char *metric[2]; /* one series, or two added (read + write) */
    bool exporter;         /* node_exporter or DCGM names */
    const char *fn;        /* NULL, or a range function ("rate") over window */
    const char *window;
    const char *extra;       /* a matcher of the series' own, e.g. mode="idle" */
    const char *pre, *post;  /* arithmetic around it */
};
struct top_col {
    const char *key;  /* the moni_col label in the answer, and the sort key's name */
    const char *head; /* column heading */
    int width;
    enum top_fmt fmt;
    bool defines_row; /* a node with this series gets a row (moni's own targets) */
    const char *by;   /* the grouping, "node" when NULL */
    /* Alternatives (moni, node_exporter, DCGM names), joined by `or` so that the first
     * that has the series wins. */
    struct top_alt alt[3];
};
extern const struct top_col top_cols[];
extern const size_t top_ncols;
#define TOP_MAX_COLS 16
#define TOP_COL_ALERTS ((int)top_ncols) /* the firing-alert count, filled from /api/v1/alerts */

struct top_node {
    char node[96], rank[16];
    double v[TOP_MAX_COLS + 1];
    bool ok[TOP_MAX_COLS + 1];
};
struct top_alert {
    char name[80], node[96], job_id[64], severity[16], state[12], summary[200];
    double age_s; /* since activeAt */
};
struct top_series { /* one series of the drill-down */
    char name[128], labels[200];
    double v;
};
struct top_model {
    struct top_node *nodes;
    size_t nn, capn;
    struct top_alert *alerts;
    size_t na, capa;
    struct top_series *series;
    size_t ns, caps;
    /* the last refresh: PromQL queries and HTTP requests, bytes both ways */
    int queries, requests;
    size_t bytes_sent, bytes_received;
    double ms;
    char error[256]; /* "" when the last refresh worked */
};
void top_model_free(struct top_model *m);

/* The one query that fills every column of every row (each column's expression
 * tagged with its key through label_replace, joined by `or`).  job NULL = all. */
char *top_table_query(const char *job);
/* The drill-down: every moni series of a node (and DCGM's) but per-core CPU. */
char *top_node_query(const char *job, const char *node);
/* Parsers of Prometheus' JSON answers; -1 with err on a bad or failed answer. */
int top_parse_table(struct top_model *m, const char *json, char *err, size_t errlen);
int top_parse_alerts(struct top_model *m, const char *json, const char *job, double now_s,
                     char *err, size_t errlen);
int top_parse_series(struct top_model *m, const char *json, char *err, size_t errlen);
/* Sorts the rows by column col (-1: node name), descending when desc; missing
 * values last either way. */
void top_sort(struct top_model *m, int col, bool desc);
/* A cell as text ("-" when missing). */
void top_fmt_cell(const struct top_col *c, bool ok, double v, char *buf, size_t len);

/* One refresh against Prometheus: the table (and the node's series when node is
 * set) and the alerts, into m.  -1 with m->error set when Prometheus did not answer. */
int top_refresh(struct top_model *m, const struct top_url *u, const char *job, const char *node,
                int timeout_ms);

#endif
