/* core/report.c — `moni report RUN`: what a run's two figures draw, read through
 * core/rundir.h (components from logs/ file names, each one's first error from
 * events.jsonl, the injections from faults.jsonl, detections, key metrics from
 * samples.csv and the log's metric records), and the page around them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "core/rundir.h"

/* ---- components ------------------------------------------------------------------- */

static int comp_cmp(const void *a, const void *b)
{
    const char *x = a, *y = b;
    /* the controller first: it is where an engineer looks first */
    bool cx = !strcmp(x, "controller"), cy = !strcmp(y, "controller");
    if (cx != cy)
        return cx ? -1 : 1;
    return strcmp(x, y);
}

static void load_components(struct report_run *r)
{
    struct rundir_logs it;
    if (rundir_logs_open(&it, r->dir) == 0) {
        const char *name;
        while ((name = rundir_logs_next(&it)) && r->ncomp < REPORT_MAX_COMP) {
            size_t n = strlen(name);
            if (n <= 4 || strcmp(name + n - 4, ".log"))
                continue;
            snprintf(r->comp[r->ncomp++], sizeof r->comp[0], "%.*s", (int)(n - 4), name);
        }
        rundir_logs_close(&it);
        qsort(r->comp, r->ncomp, sizeof r->comp[0], comp_cmp);
    }
    if (!r->ncomp)
        snprintf(r->comp[r->ncomp++], sizeof r->comp[0], "workload");
}

/* The component whose log file is `file` ("logs/train_worker_3.log"); the workload's
 * own log belongs to the controller of a multi-process run (it prints there). */
static int comp_of_file(const struct report_run *r, const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".log"))
        n -= 4;
    for (size_t i = 0; i < r->ncomp; i++)
        if (strlen(r->comp[i]) == n && !strncmp(r->comp[i], base, n))
            return (int)i;
    return 0; /* "workload" or the controller (sorted first) */
}

/* The component a fault names in its target or parameters ("train_worker.3.x" is
 * train_worker_3), the longest match; -1 for the whole run. */
static int comp_of_fault(const struct report_run *r, const struct rundir_fault *f)
{
    char text[1024];
    char *p = f->params ? cJSON_PrintUnformatted(f->params) : NULL;
    snprintf(text, sizeof text, "%s %s", f->target, p ? p : "");
    free(p);
    for (char *c = text; *c; c++)
        if (*c == '.')
            *c = '_';
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < r->ncomp; i++) {
        size_t n = strlen(r->comp[i]);
        if (n > best_len && strstr(text, r->comp[i]) && strcmp(r->comp[i], "workload")) {
            best = (int)i;
            best_len = n;
        }
    }
    return best;
}

/* ---- series ---------------------------------------------------------------------- */

static struct report_series *series_get(struct report_run *r, const char *name)
{
    for (size_t i = 0; i < r->nseries; i++)
        if (!strcmp(r->series[i].name, name))
            return &r->series[i];
    if (r->nseries == REPORT_MAX_SERIES)
        return NULL;
    struct report_series *s = &r->series[r->nseries++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

static void series_add(struct report_series *s, double t, double v)
{
    if (!s || !isfinite(v))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *nt = realloc(s->t, cap * sizeof *nt);
        if (!nt)
            return;
        s->t = nt;
        double *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return;
        s->v = nv;
        s->cap = cap;
    }
    s->t[s->n] = t;
    s->v[s->n++] = v;
}

/* The metric columns the second figure shows, in its order; scale turns the unit. */
static const struct {
    const char *col, *name;
    double scale;
} sample_cols[] = {
    {"proc_cpu_pct", "workload CPU %", 1},
    {"proc_rss_bytes", "workload memory MiB", 1.0 / (1 << 20)},
    {"psi_cpu_some_avg10", "CPU pressure PSI %", 1},
    {"psi_memory_some_avg10", "memory pressure PSI %", 1},
};

/* Training metrics from the log's metric records: figure name, then field names. */
static const struct {
    const char *name;
    const char *fields[4];
} log_metrics[] = {
    {"loss", {"loss", NULL}},
    {"throughput /s", {"samples_per_second", "samples_per_s", "throughput", "it_per_s"}},
};

static double sec(int64_t mono, int64_t t0)
{
    return (double)(mono - t0) / 1e9;
}

/* samples.csv: the run's span and the resource series.  t0 is the first row: time
 * zero of the replay's clock, so a tester's replay times and the figures agree. */
static int load_samples(struct report_run *r, int64_t offset, int64_t *t0, int64_t *tend,
                        char *err, size_t errlen)
{
    struct rundir_samples s;
    if (rundir_samples_open(&s, r->dir, err, errlen) < 0)
        return -1;
    int col[MONI_ARRAY_LEN(sample_cols)];
    for (size_t k = 0; k < MONI_ARRAY_LEN(sample_cols); k++) {
        col[k] = -1;
        for (size_t c = 0; c < s.ncols; c++)
            if (!strcmp(s.names[c], sample_cols[k].col))
                col[k] = (int)c;
    }
    struct rundir_sample row;
    int rc;
    while ((rc = rundir_samples_next(&s, &row)) >= 0) {
        if (rc == 0)
            break;
        int64_t mono = row.mono ? row.mono : row.real ? row.real - offset : 0;
        if (!mono)
            continue;
        if (!*t0)
            *t0 = mono;
        if (mono > *tend)
            *tend = mono;
        for (size_t k = 0; k < MONI_ARRAY_LEN(sample_cols); k++)
            if (col[k] >= 0 && row.valid[col[k]])
                series_add(series_get(r, sample_cols[k].name), sec(mono, *t0),
                           row.val[col[k]] * sample_cols[k].scale);
    }
    rundir_samples_close(&s);
    return 0;
}

static void load_events(struct report_run *r, int64_t offset, int64_t t0)
{
    struct rundir_jsonl j;
    if (rundir_jsonl_open(&j, r->dir, "events.jsonl") < 0)
        return;
    struct rundir_event ev;
    int rc;
    while ((rc = rundir_event_next(&j, &ev)) != 0) {
        if (rc < 0)
            continue;
        double t = sec(rundir_mono(&ev.t, offset), t0);
        for (size_t k = 0; k < MONI_ARRAY_LEN(log_metrics) && ev.fields; k++)
            for (size_t f = 0; f < 4 && log_metrics[k].fields[f]; f++) {
                double v;
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(ev.fields, log_metrics[k].fields[f]);
                if (x && rundir_json_num(x, &v)) {
                    series_add(series_get(r, log_metrics[k].name), t, v);
                    break;
                }
            }
        if (strcmp(ev.severity, "error") && strcmp(ev.severity, "critical"))
            continue;
        int c = comp_of_file(r, ev.file);
        struct report_mark *m = &r->first_error[c];
        if (m->t >= 0)
            continue;
        m->t = t;
        m->comp = c;
        snprintf(m->label, sizeof m->label, "%s", ev.text);
    }
    rundir_jsonl_close(&j);
}

static void load_faults(struct report_run *r, int64_t offset, int64_t t0)
{
    struct rundir_jsonl j;
    if (rundir_jsonl_open(&j, r->dir, "faults.jsonl") < 0)
        return;
    struct rundir_fault f;
    int rc;
    while ((rc = rundir_fault_next(&j, &f)) != 0 && r->ninject < MONI_ARRAY_LEN(r->inject)) {
        if (rc < 0 || strcmp(f.event, "fired"))
            continue;
        struct report_mark *m = &r->inject[r->ninject++];
        m->t = sec(rundir_mono(&f.t, offset), t0);
        m->comp = comp_of_fault(r, &f);
        snprintf(m->label, sizeof m->label, "%s (%s)", f.kind, f.fault_id);
    }
    rundir_jsonl_close(&j);
}

static void load_detections(struct report_run *r, int64_t offset, int64_t t0)
{
    struct rundir_jsonl j;
    if (rundir_jsonl_open(&j, r->dir, "detections.jsonl") < 0)
        return;
    struct rundir_detection d;
    int rc;
    while ((rc = rundir_detection_next(&j, &d)) != 0 && r->ndets < REPORT_MAX_MARKS) {
        if (rc < 0)
            continue;
        struct report_mark *m = &r->dets[r->ndets++];
        m->t = sec(rundir_mono(&d.t, offset), t0);
        m->comp = -1;
        snprintf(m->label, sizeof m->label, "%s: %s", d.detector, d.label);
    }
    rundir_jsonl_close(&j);
}

int report_run_load(const char *dir, struct report_run *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    for (size_t i = 0; i < REPORT_MAX_COMP; i++)
        r->first_error[i].t = -1;
    struct rundir_meta m;
    int64_t offset = 0, t0 = 0, tend = 0;
    if (rundir_meta_load(dir, &m, err, errlen) == 0) {
        snprintf(r->run_id, sizeof r->run_id, "%s", m.run_id);
        offset = m.has_clock_offset ? m.clock_offset_ns : 0;
        tend = m.end_mono_ns; /* t0: the first sample, as the replay's clock */
        rundir_meta_free(&m);
    }
    load_components(r);
    if (load_samples(r, offset, &t0, &tend, err, errlen) < 0) {
        report_run_free(r);
        return -1;
    }
    load_events(r, offset, t0);
    load_faults(r, offset, t0);
    load_detections(r, offset, t0);
    r->span_s = tend > t0 ? (double)(tend - t0) / 1e9 : 1;
    return 0;
}

void report_run_free(struct report_run *r)
{
    for (size_t i = 0; i < r->nseries; i++) {
        free(r->series[i].t);
        free(r->series[i].v);
    }
    r->nseries = 0;
}

double report_first_error(const struct report_run *r)
{
    double best = NAN;
    for (size_t i = 0; i < r->ncomp; i++)
        if (r->first_error[i].t >= 0 && !(best <= r->first_error[i].t))
            best = r->first_error[i].t;
    return best;
}

int report_run_html(const char *dir, bool blind, FILE *out, char *err, size_t errlen)
{
    struct report_run r;
    if (report_run_load(dir, &r, err, errlen) < 0)
        return -1;
    /* blind: neither the run id nor the path (both may name the scenario) */
    char title[200];
    if (blind)
        snprintf(title, sizeof title, "moni report (blind)");
    else
        snprintf(title, sizeof title, "moni report: %s", r.run_id[0] ? r.run_id : dir);
    report_html_begin(out, title);
    fprintf(out, "<p>");
    if (!blind) {
        fprintf(out, "Run directory <code>");
        report_html_text(out, dir);
        fprintf(out, "</code>: ");
    }
    fprintf(out, "%.1f s, %zu component%s, %zu detection%s%s.</p>\n", r.span_s, r.ncomp,
            r.ncomp == 1 ? "" : "s", r.ndets, r.ndets == 1 ? "" : "s",
            blind ? "; blind: the injected faults are hidden" : "");
    fprintf(out, "<h2>Fault propagation path</h2>\n");
    report_fig_path(out, &r, blind);
    fprintf(out, "<h2>Key metrics over time</h2>\n");
    report_fig_metrics(out, &r, blind);
    report_html_end(out);
    report_run_free(&r);
    if (ferror(out)) {
        snprintf(err, errlen, "writing the report: %s", strerror(errno));
        return -1;
    }
    return 0;
}
