/* cmd/cmd-grafana.c — `moni grafana export`: a Grafana dashboard (JSON, importable
 * with a Prometheus data source) for the metrics moni's exporter serves.
 *
 * Metric names are not written here by hand: each panel names frame columns or
 * training metrics and exporter_family_for turns them into the exported names, so
 * the dashboard cannot drift from the exporter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/core.h"

/* A query: "%s" in expr is replaced by the family of series (and the second "%s" by
 * that of series2, for ratios). */
struct query {
    const char *expr;
    const char *series, *series2;
    bool train;
    const char *legend;
};
struct panel {
    const char *row;   /* starts a new row when set */
    const char *title;
    const char *unit;  /* Grafana unit id */
    struct query q[4];
};

static const struct panel panels[] = {
    {"GPU", "GPU utilisation", "percentunit",
     {{"%s", "gpu{gpu}_util_pct", NULL, false, "GPU {{gpu}}"}}},
    {NULL, "GPU memory used", "percentunit",
     {{"%s / %s", "gpu{gpu}_mem_used_bytes", "gpu{gpu}_mem_total_bytes", false, "GPU {{gpu}}"}}},
    {NULL, "GPU temperature", "celsius",
     {{"%s", "gpu{gpu}_temp_c", NULL, false, "GPU {{gpu}}"}}},
    {NULL, "GPU power", "watt", {{"%s", "gpu{gpu}_power_w", NULL, false, "GPU {{gpu}}"}}},
    {"CPU and memory", "CPU", "percentunit",
     {{"%s", "cpu_pct", NULL, false, "busy"},
      {"%s", "cpu_iowait_pct", NULL, false, "iowait"},
      {"%s", "proc_cpu_pct", NULL, false, "workload (of one core)"}}},
    {NULL, "Memory", "bytes",
     {{"%s", "mem_used_bytes", NULL, false, "used"},
      {"%s", "mem_total_bytes", NULL, false, "total"},
      {"%s", "proc_rss_bytes", NULL, false, "workload RSS"}}},
    {NULL, "Pressure (PSI some, avg10)", "percentunit",
     {{"%s", "psi_cpu_some_avg10", NULL, false, "cpu"},
      {"%s", "psi_memory_some_avg10", NULL, false, "memory"},
      {"%s", "psi_io_some_avg10", NULL, false, "io"}}},
    {"I/O", "Disk", "Bps",
     {{"%s", "disk_read_Bps", NULL, false, "read"},
      {"%s", "disk_write_Bps", NULL, false, "write"}}},
    {NULL, "Network", "Bps",
     {{"%s", "net_rx_Bps", NULL, false, "rx"}, {"%s", "net_tx_Bps", NULL, false, "tx"}}},
    {NULL, "Workload log heartbeat age", "s",
     {{"%s", "proc_heartbeat_age_s", NULL, false, "seconds since the last log line"}}},
    {"Training", "Loss", "none", {{"%s", "loss", NULL, true, "loss"}}},
    {NULL, "Learning rate", "none", {{"%s", "learning_rate", NULL, true, "lr"}}},
    {NULL, "Throughput", "none", {{"%s", "throughput", NULL, true, "samples/s"}}},
    {NULL, "Step", "none", {{"%s", "step", NULL, true, "step"}}},
    {"Faults and alerts", "Active faults", "none",
     {{"moni_fault_active", NULL, NULL, false, "{{kind}} {{fault_id}}"}}},
    {NULL, "Log events (rate per minute)", "none",
     {{"rate(moni_log_events_total[5m]) * 60", NULL, NULL, false, "{{label}}"}}},
    {NULL, "Firing alerts", "none",
     {{"moni_alert_firing", NULL, NULL, false, "{{alertname}}"}}},
};

static cJSON *datasource(void)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "type", "prometheus");
    cJSON_AddStringToObject(d, "uid", "${DS_PROMETHEUS}");
    return d;
}

static int build_expr(const struct query *q, char *out, size_t len)
{
    char f1[160] = "", f2[160] = "";
    if (q->series && exporter_family_for(q->series, q->train, f1, sizeof f1, NULL) < 0)
        return -1;
    if (q->series2 && exporter_family_for(q->series2, q->train, f2, sizeof f2, NULL) < 0)
        return -1;
    const char *p = q->expr;
    size_t o = 0;
    int arg = 0;
    while (*p && o + 1 < len) {
        if (p[0] == '%' && p[1] == 's') {
            o += (size_t)snprintf(out + o, len - o, "%s", arg++ == 0 ? f1 : f2);
            p += 2;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < len ? o : len - 1] = '\0';
    return 0;
}

static cJSON *annotation(const char *name, const char *expr, const char *color, const char *title,
                         const char *text, const char *tags)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "name", name);
    cJSON_AddItemToObject(a, "datasource", datasource());
    cJSON_AddBoolToObject(a, "enable", true);
    cJSON_AddStringToObject(a, "iconColor", color);
    cJSON_AddStringToObject(a, "expr", expr);
    cJSON_AddStringToObject(a, "step", "5s");
    cJSON_AddStringToObject(a, "titleFormat", title);
    cJSON_AddStringToObject(a, "textFormat", text);
    cJSON_AddStringToObject(a, "tagKeys", tags);
    cJSON_AddBoolToObject(a, "useValueForTime", false);
    return a;
}

static cJSON *build_dashboard(void)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *inputs = cJSON_AddArrayToObject(d, "__inputs");
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "name", "DS_PROMETHEUS");
    cJSON_AddStringToObject(in, "label", "Prometheus");
    cJSON_AddStringToObject(in, "description", "The Prometheus that scrapes moni --metrics-listen");
    cJSON_AddStringToObject(in, "type", "datasource");
    cJSON_AddStringToObject(in, "pluginId", "prometheus");
    cJSON_AddStringToObject(in, "pluginName", "Prometheus");
    cJSON_AddItemToArray(inputs, in);
    cJSON_AddStringToObject(d, "title", "moni — training job under test");
    cJSON_AddStringToObject(d, "uid", "moni");
    cJSON_AddStringToObject(d, "description",
                            "Generated by `moni grafana export` (moni " MONI_VERSION ")");
    cJSON *tags = cJSON_AddArrayToObject(d, "tags");
    cJSON_AddItemToArray(tags, cJSON_CreateString("moni"));
    cJSON_AddNumberToObject(d, "schemaVersion", 38);
    cJSON_AddNumberToObject(d, "version", 1);
    cJSON_AddBoolToObject(d, "editable", true);
    cJSON_AddStringToObject(d, "refresh", "5s");
    cJSON *time = cJSON_AddObjectToObject(d, "time");
    cJSON_AddStringToObject(time, "from", "now-1h");
    cJSON_AddStringToObject(time, "to", "now");

    cJSON *ann = cJSON_AddObjectToObject(d, "annotations");
    cJSON *alist = cJSON_AddArrayToObject(ann, "list");
    cJSON_AddItemToArray(alist, annotation("Faults", "moni_fault_active == 1", "red",
                                           "fault {{kind}}", "{{fault_id}}", "kind,fault_id"));
    cJSON_AddItemToArray(alist, annotation("Alerts", "moni_alert_firing == 1", "orange",
                                           "{{alertname}}", "{{severity}}", "alertname,severity"));

    cJSON *tpl = cJSON_AddObjectToObject(d, "templating");
    cJSON_AddArrayToObject(tpl, "list");

    cJSON *ps = cJSON_AddArrayToObject(d, "panels");
    int id = 1, x = 0, y = 0;
    for (size_t i = 0; i < MONI_ARRAY_LEN(panels); i++) {
        const struct panel *p = &panels[i];
        if (p->row) {
            if (x) {
                x = 0;
                y += 8;
            }
            cJSON *row = cJSON_CreateObject();
            cJSON_AddStringToObject(row, "type", "row");
            cJSON_AddStringToObject(row, "title", p->row);
            cJSON_AddNumberToObject(row, "id", id++);
            cJSON_AddBoolToObject(row, "collapsed", false);
            cJSON *gp = cJSON_AddObjectToObject(row, "gridPos");
            cJSON_AddNumberToObject(gp, "h", 1);
            cJSON_AddNumberToObject(gp, "w", 24);
            cJSON_AddNumberToObject(gp, "x", 0);
            cJSON_AddNumberToObject(gp, "y", y);
            cJSON_AddArrayToObject(row, "panels");
            cJSON_AddItemToArray(ps, row);
            y += 1;
        }
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "type", "timeseries");
        cJSON_AddStringToObject(pj, "title", p->title);
        cJSON_AddNumberToObject(pj, "id", id++);
        cJSON_AddItemToObject(pj, "datasource", datasource());
        cJSON *gp = cJSON_AddObjectToObject(pj, "gridPos");
        cJSON_AddNumberToObject(gp, "h", 8);
        cJSON_AddNumberToObject(gp, "w", 12);
        cJSON_AddNumberToObject(gp, "x", x);
        cJSON_AddNumberToObject(gp, "y", y);
        x = x ? 0 : 12;
        if (!x)
            y += 8;
        cJSON *fc = cJSON_AddObjectToObject(pj, "fieldConfig");
        cJSON *defs = cJSON_AddObjectToObject(fc, "defaults");
        cJSON_AddStringToObject(defs, "unit", p->unit);
        cJSON_AddArrayToObject(fc, "overrides");
        cJSON *targets = cJSON_AddArrayToObject(pj, "targets");
        for (size_t k = 0; k < MONI_ARRAY_LEN(p->q) && p->q[k].expr; k++) {
            char expr[512];
            if (build_expr(&p->q[k], expr, sizeof expr) < 0) {
                cJSON_Delete(d);
                return NULL;
            }
            cJSON *t = cJSON_CreateObject();
            cJSON_AddItemToObject(t, "datasource", datasource());
            cJSON_AddStringToObject(t, "expr", expr);
            cJSON_AddStringToObject(t, "legendFormat", p->q[k].legend);
            char ref[2] = {(char)('A' + k), 0};
            cJSON_AddStringToObject(t, "refId", ref);
            cJSON_AddItemToArray(targets, t);
        }
        cJSON_AddItemToArray(ps, pj);
    }
    return d;
}

static int grafana_export_exec(struct cmd_args *a)
{
    const char *outp = cmd_arg(a, "out");
    cJSON *d = build_dashboard();
    char *text = d ? cJSON_Print(d) : NULL;
    cJSON_Delete(d);
    if (!text) {
        moni_err("grafana export: cannot build the dashboard");
        return MONI_EXIT_FAIL;
    }
    FILE *out = outp ? fopen(outp, "w") : stdout;
    if (!out) {
        moni_err("%s: %s", outp, strerror(errno));
        free(text);
        return MONI_EXIT_FAIL;
    }
    fputs(text, out);
    fputc('\n', out);
    free(text);
    int bad = outp ? fclose(out) : fflush(out);
    if (bad) {
        moni_err("grafana export: write failed: %s", strerror(errno));
        return MONI_EXIT_FAIL;
    }
    return MONI_EXIT_OK;
}

static const struct cmd_opt export_opts[] = {
    {"out", 0, "FILE", 0, "write the dashboard here (default: standard output)"},
    {0},
};

static const struct cmd_entry grafana_export_entry = {
    .name = "export",
    .usage = "grafana export [--out FILE]",
    .summary = "write the dashboard JSON (import it with a Prometheus data source)",
    .args = {.opts = export_opts},
    .exec = grafana_export_exec,
};

static const struct cmd_entry *const grafana_subs[] = {&grafana_export_entry, NULL};

const struct cmd_entry cmd_grafana_entry = {
    .name = "grafana",
    .usage = "grafana export [--out FILE]",
    .summary = "write a Grafana dashboard for the exported metrics",
    .subs = grafana_subs,
};
