/* core/exposition.c — the Prometheus text exposition format 0.0.4 of a frame and
 * its extras (training metrics, log events, faults, alerts): what GET /metrics
 * answers (the server is core/exporter.c).  Pure rendering: no sockets, no loop.
 *
 * Frame columns are mapped to metric families by name: the per-device prefix becomes
 * a label (gpu0_ -> {gpu="0"}, disk_sda_ -> {device="sda"}), short words are spelled
 * out (util -> utilization, mem -> memory) and the unit suffix in the column name
 * becomes a base unit (pct -> ratio /100, Bps -> bytes_per_second, c -> celsius, mhz ->
 * hertz *1e6, ms -> seconds /1000).  Counters end in _total. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exporter-int.h"

/* ---- growing text buffer ------------------------------------------------------ */
struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_grow(struct sbuf *b, size_t need)
{
    if (b->oom || b->len + need + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + need + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    sb_grow(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- names --------------------------------------------------------------------- */
static void sanitize_name(char *s)
{
    for (char *p = s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':' ||
                  (p != s && *p >= '0' && *p <= '9');
        if (!ok)
            *p = '_';
    }
}

static bool word_in(const char *w, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && !strncmp(*list, w, n))
            return true;
    return false;
}

/* First words of the machine-wide disk and network columns; anything else after
 * "disk_"/"net_" is a device or interface name. */
static const char *const disk_words[] = {"read", "write", "reads", "writes", "busy", "iops",
                                         "util", "used", "free", "total", "avail", "io",
                                         "size", "inflight", "queue", NULL};
static const char *const net_words[] = {"rx", "tx", "errors", "errs", "drops", "drop",
                                        "in", "out", "recv", "sent", NULL};

static const struct {
    const char *from, *to;
} word_renames[] = {
    {"util", "utilization"}, {"mem", "memory"},  {"temp", "temperature"}, {"rx", "receive"},
    {"tx", "transmit"},      {"proc", "workload"}, {"net", "network"},   {"errs", "errors"},
    {"avail", "available"},
};

static const struct {
    const char *suffix; /* last word of the column */
    const char *unit;   /* what the family name ends in ("" = no unit) */
    double scale;
} unit_suffixes[] = {
    {"pct", "ratio", 0.01},      {"ratio", "ratio", 1},       {"Bps", "bytes_per_second", 1},
    {"bps", "bits_per_second", 1}, {"bytes", "bytes", 1},      {"c", "celsius", 1},
    {"celsius", "celsius", 1},   {"w", "watts", 1},           {"watts", "watts", 1},
    {"mw", "watts", 0.001},      {"mhz", "hertz", 1e6},       {"hz", "hertz", 1},
    {"ms", "seconds", 0.001},    {"us", "seconds", 1e-6},     {"ns", "seconds", 1e-9},
    {"s", "seconds", 1},         {"sec", "seconds", 1},       {"seconds", "seconds", 1},
    {"kb", "bytes", 1024},       {"mb", "bytes", 1048576},    {"iops", "operations_per_second", 1},
    {"ps", "per_second", 1},
};

struct mapped {
    char family[160];
    char labels[192]; /* `key="value"` pairs without braces, "" when none */
    double scale;
};

static void append_label(char *labels, size_t cap, const char *key, const char *val, size_t vlen)
{
    size_t n = strlen(labels);
    if (n + 8 + strlen(key) + vlen * 2 >= cap)
        return;
    char *p = labels + n;
    if (n)
        *p++ = ',';
    p += sprintf(p, "%s=\"", key);
    for (size_t i = 0; i < vlen; i++) {
        char c = val[i];
        if (c == '\\' || c == '"') {
            *p++ = '\\';
            *p++ = c;
        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else {
            *p++ = c;
        }
    }
    *p++ = '"';
    *p = '\0';
}

/* Maps one frame column to a family, labels and scale.  Never fails: an unknown
 * column still gets a well-formed name. */
static void map_column(const char *col, enum metric_kind kind, struct mapped *m)
{
    char base[160];
    m->labels[0] = '\0';
    m->scale = 1;
    const char *p = col;
    size_t n;

    if (!strncmp(p, "gpu", 3) && (n = strspn(p + 3, "0123456789")) && p[3 + n] == '_') {
        append_label(m->labels, sizeof m->labels, "gpu", p + 3, n);
        snprintf(base, sizeof base, "gpu_%s", p + 4 + n);
    } else if (!strncmp(p, "cpu", 3) && (n = strspn(p + 3, "0123456789")) && p[3 + n] == '_') {
        append_label(m->labels, sizeof m->labels, "cpu", p + 3, n);
        snprintf(base, sizeof base, "cpu_core_%s", p + 4 + n);
    } else if ((!strncmp(p, "disk_", 5) || !strncmp(p, "net_", 4)) && strchr(p + 4, '_')) {
        bool disk = p[0] == 'd';
        const char *dev = p + (disk ? 5 : 4);
        const char *rest = strrchr(dev, '_'); /* device = everything up to the metric */
        /* the device ends where a known metric word starts */
        const char *q = dev, *cut = NULL;
        while ((q = strchr(q, '_')) != NULL) {
            q++;
            size_t wl = strcspn(q, "_");
            if (word_in(q, wl, disk ? disk_words : net_words)) {
                cut = q - 1;
                break;
            }
        }
        size_t first = strcspn(dev, "_");
        if (!word_in(dev, first, disk ? disk_words : net_words) && cut && rest) {
            append_label(m->labels, sizeof m->labels, disk ? "device" : "interface", dev,
                         (size_t)(cut - dev));
            snprintf(base, sizeof base, "%s%s", disk ? "disk_device" : "network_interface", cut);
        } else {
            snprintf(base, sizeof base, "%s", col);
        }
    } else if (!strcmp(p, "proc_count")) {
        snprintf(base, sizeof base, "workload_processes");
    } else if (!strncmp(p, "moni_", 5)) { /* moni's own use: moni_cpu_pct */
        snprintf(base, sizeof base, "self_%s", p + 5);
    } else if (!strncmp(p, "proc_state_", 11) && p[11]) {
        /* proc_state_R -> moni_workload_processes{state="R"} */
        append_label(m->labels, sizeof m->labels, "state", p + 11, strlen(p + 11));
        snprintf(base, sizeof base, "workload_processes_by_state");
    } else if (!strncmp(p, "psi_", 4) && strlen(p) > 6 && !strcmp(p + strlen(p) - 6, "_avg10")) {
        /* PSI averages are percentages without a unit suffix */
        snprintf(base, sizeof base, "%s_pct", col);
    } else {
        snprintf(base, sizeof base, "%s", col);
    }

    /* split into words, rename, find the unit */
    char *words[32];
    size_t nw = 0;
    for (char *tok = strtok(base, "_"); tok && nw < MONI_ARRAY_LEN(words); tok = strtok(NULL, "_"))
        words[nw++] = tok;
    const char *unit = NULL;
    if (nw > 1) {
        for (size_t i = 0; i < MONI_ARRAY_LEN(unit_suffixes); i++)
            if (!strcmp(words[nw - 1], unit_suffixes[i].suffix)) {
                unit = unit_suffixes[i].unit;
                m->scale = unit_suffixes[i].scale;
                nw--;
                break;
            }
    }
    /* a counter's own "total" word goes: psi_cpu_some_total_us -> ..._some_seconds_total */
    if (kind == METRIC_COUNTER && nw > 1 && !strcmp(words[nw - 1], "total"))
        nw--;
    char out[160] = "moni";
    for (size_t i = 0; i < nw; i++) {
        const char *w = words[i];
        for (size_t r = 0; r < MONI_ARRAY_LEN(word_renames); r++)
            if (!strcmp(w, word_renames[r].from))
                w = word_renames[r].to;
        if (unit && i + 1 == nw && unit && !strcmp(unit, w))
            continue; /* "seconds_s" */
        size_t ol = strlen(out);
        snprintf(out + ol, sizeof out - ol, "_%s", w);
    }
    /* "cpu_pct" says usage without saying it */
    if (unit && !strcmp(unit, "ratio") && nw && !strcmp(words[nw - 1], "cpu")) {
        size_t ol = strlen(out);
        snprintf(out + ol, sizeof out - ol, "_usage");
    }
    if (nw >= 2 && !strcmp(words[nw - 2], "cpu") && !strcmp(words[nw - 1], "core") && unit &&
        !strcmp(unit, "ratio")) {
        size_t ol = strlen(out);
        snprintf(out + ol, sizeof out - ol, "_usage");
    }
    if (unit) {
        size_t ol = strlen(out);
        snprintf(out + ol, sizeof out - ol, "_%s", unit);
    }
    if (kind == METRIC_COUNTER) {
        size_t ol = strlen(out);
        if (ol < 6 || strcmp(out + ol - 6, "_total"))
            snprintf(out + ol, sizeof out - ol, "_total");
    }
    /* _count, _sum and _bucket belong to histograms and summaries */
    size_t ol = strlen(out);
    static const char *const reserved[] = {"_count", "_sum", "_bucket"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(reserved); i++) {
        size_t rl = strlen(reserved[i]);
        if (ol > rl && !strcmp(out + ol - rl, reserved[i]) && ol + 8 < sizeof out)
            strcat(out, "_number");
    }
    sanitize_name(out);
    snprintf(m->family, sizeof m->family, "%s", out);
}

static const struct {
    const char *name, *family, *help;
} train_names[] = {
    {"loss", "moni_training_loss", "Latest training loss parsed from the workload log"},
    {"learning_rate", "moni_training_learning_rate", "Latest learning rate parsed from the log"},
    {"lr", "moni_training_learning_rate", "Latest learning rate parsed from the log"},
    {"throughput", "moni_training_samples_per_second", "Training throughput (samples/s) from the log"},
    {"samples_per_second", "moni_training_samples_per_second",
     "Training throughput (samples/s) from the log"},
    {"step", "moni_training_step", "Latest training step (iteration) from the log"},
    {"epoch", "moni_training_epoch", "Latest (fractional) epoch from the log"},
    {"grad_norm", "moni_training_grad_norm", "Latest gradient norm from the log"},
    {"eval_loss", "moni_training_eval_loss", "Latest evaluation loss from the log"},
    {"eval_accuracy", "moni_training_eval_accuracy", "Latest evaluation accuracy from the log"},
    {"detections", "moni_detections", "Detections so far, all detectors (moni-rules(5) DETECTORS)"},
    {"time_to_failure_s", "moni_time_to_failure_seconds",
     "Seconds until the soonest failure a detector predicts (OOM, full disk), while one is pending"},
};

static void map_train(const char *name, char *family, size_t len, const char **help)
{
    for (size_t i = 0; i < MONI_ARRAY_LEN(train_names); i++)
        if (!strcmp(name, train_names[i].name)) {
            snprintf(family, len, "%s", train_names[i].family);
            if (help)
                *help = train_names[i].help;
            return;
        }
    snprintf(family, len, "moni_training_%s", name);
    sanitize_name(family);
    if (help)
        *help = NULL;
}

int exporter_family_for(const char *name, bool train, char *family, size_t len, double *scale)
{
    if (!name || !*name)
        return -1;
    if (train) {
        map_train(name, family, len, NULL);
        if (scale)
            *scale = 1;
        return 0;
    }
    /* Put a representative value into each {placeholder}: digits for gpu/cpu,
     * a device-looking name otherwise. */
    char col[160];
    size_t o = 0;
    for (const char *p = name; *p && o + 16 < sizeof col;) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e)
                return -1;
            bool numeric = (e - p == 4 && (!strncmp(p, "{gpu", 4) || !strncmp(p, "{cpu", 4)));
            o += (size_t)sprintf(col + o, "%s", numeric ? "0" : "dev0");
            p = e + 1;
        } else {
            col[o++] = *p++;
        }
    }
    col[o] = '\0';
    struct mapped m;
    map_column(col, METRIC_GAUGE, &m);
    snprintf(family, len, "%s", m.family);
    if (scale)
        *scale = m.scale;
    return 0;
}

/* ---- rendering ----------------------------------------------------------------- */
struct sample {
    size_t fam;
    char *labels;
    double v;
};
struct family {
    char *name, *help;
    const char *type;
};
struct render {
    struct family *fams;
    size_t nfams, capf;
    struct sample *s;
    size_t ns, caps;
    bool oom;
};

static size_t add_family(struct render *r, const char *name, const char *help, const char *type)
{
    for (size_t i = 0; i < r->nfams; i++)
        if (!strcmp(r->fams[i].name, name))
            return i;
    if (r->nfams == r->capf) {
        size_t cap = r->capf ? r->capf * 2 : 64;
        struct family *f = realloc(r->fams, cap * sizeof *f);
        if (!f) {
            r->oom = true;
            return (size_t)-1;
        }
        r->fams = f;
        r->capf = cap;
    }
    struct family *f = &r->fams[r->nfams];
    f->name = strdup(name);
    f->help = strdup(help && *help ? help : name);
    f->type = type;
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        r->oom = true;
        return (size_t)-1;
    }
    return r->nfams++;
}

static void add_sample(struct render *r, const char *family, const char *help, const char *type,
                       const char *labels, double v)
{
    size_t fi = add_family(r, family, help, type);
    if (fi == (size_t)-1)
        return;
    for (size_t i = 0; i < r->ns; i++) /* first column wins a name clash */
        if (r->s[i].fam == fi && !strcmp(r->s[i].labels, labels))
            return;
    if (r->ns == r->caps) {
        size_t cap = r->caps ? r->caps * 2 : 128;
        struct sample *s = realloc(r->s, cap * sizeof *s);
        if (!s) {
            r->oom = true;
            return;
        }
        r->s = s;
        r->caps = cap;
    }
    char *l = strdup(labels);
    if (!l) {
        r->oom = true;
        return;
    }
    r->s[r->ns++] = (struct sample){.fam = fi, .labels = l, .v = v};
}

static void render_free(struct render *r)
{
    for (size_t i = 0; i < r->nfams; i++) {
        free(r->fams[i].name);
        free(r->fams[i].help);
    }
    for (size_t i = 0; i < r->ns; i++)
        free(r->s[i].labels);
    free(r->fams);
    free(r->s);
}

static void put_value(struct sbuf *b, double v)
{
    if (isnan(v))
        sb_puts(b, "NaN");
    else if (isinf(v))
        sb_puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        sb_printf(b, "%.0f", v);
    else
        sb_printf(b, "%.15g", v); /* 15 digits: exact enough, and half the cost of 17 */
}

static void put_help(struct sbuf *b, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            sb_puts(b, "\\\\");
        else if (*p == '\n')
            sb_puts(b, "\\n");
        else
            sb_add(b, p, 1);
    }
}

static void labels2(char *out, size_t cap, const char *k1, const char *v1, const char *k2,
                    const char *v2)
{
    out[0] = '\0';
    if (k1 && v1)
        append_label(out, cap, k1, v1, strlen(v1));
    if (k2 && v2)
        append_label(out, cap, k2, v2, strlen(v2));
}

/* ---- the frame's layout, mapped once ----------------------------------------------
 * Mapping names is the expensive part of rendering; the columns rarely change, so
 * the exporter keeps the mapping (families, labels, scales, grouped by family) and a
 * publish only formats values.  Rebuilt when the column names change. */
struct col_plan {
    int col;
    size_t fam;
    char *labels;
    double scale;
};
struct fplan {
    size_t nsrc;
    char **src; /* the column names it was built for */
    struct render fams; /* only its families are used */
    struct col_plan *cp; /* grouped by family, column order within */
    size_t ncp;
    bool ok;
};

static void fplan_free(struct fplan *p)
{
    for (size_t i = 0; i < p->nsrc; i++)
        free(p->src[i]);
    free(p->src);
    for (size_t i = 0; i < p->ncp; i++)
        free(p->cp[i].labels);
    free(p->cp);
    render_free(&p->fams);
    memset(p, 0, sizeof *p);
}

static bool fplan_matches(const struct fplan *p, const struct frame *f)
{
    if (!p->ok || p->nsrc != f->ncols)
        return false;
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(p->src[i], f->cols[i].name ? f->cols[i].name : ""))
            return false;
    return true;
}

/* Families the exporter fills itself from the extra arrays: a column must not
 * claim one (two HELP lines would break the format). */
static bool reserved_family(const char *fam)
{
    static const char *const prefixes[] = {"moni_training_", "moni_log_events", "moni_fault_",
                                           "moni_alert_", "moni_build_info", "moni_samples_total",
                                           "moni_sample_timestamp"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(prefixes); i++)
        if (!strncmp(fam, prefixes[i], strlen(prefixes[i])))
            return true;
    return false;
}

static int fplan_build(struct fplan *p, const struct frame *f)
{
    fplan_free(p);
    size_t n = f->ncols;
    struct col_plan *tmp = calloc(n ? n : 1, sizeof *tmp);
    p->src = calloc(n ? n : 1, sizeof *p->src);
    p->cp = calloc(n ? n : 1, sizeof *p->cp);
    if (!tmp || !p->src || !p->cp) {
        free(tmp);
        fplan_free(p);
        return -1;
    }
    p->nsrc = n;
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = f->cols[i].name ? f->cols[i].name : "";
        if (!(p->src[i] = strdup(name)))
            goto oom;
        if (!*name)
            continue;
        struct mapped m;
        map_column(name, f->cols[i].kind, &m);
        if (reserved_family(m.family))
            continue;
        char help[256];
        snprintf(help, sizeof help, "%s (column %s)",
                 f->cols[i].help && *f->cols[i].help ? f->cols[i].help : "moni sample", name);
        size_t fi = add_family(&p->fams, m.family, help,
                               f->cols[i].kind == METRIC_COUNTER ? "counter" : "gauge");
        if (fi == (size_t)-1)
            goto oom;
        bool dup = false; /* first column wins a name clash */
        for (size_t j = 0; j < nt && !dup; j++)
            dup = tmp[j].fam == fi && !strcmp(tmp[j].labels, m.labels);
        if (dup)
            continue;
        if (!(tmp[nt].labels = strdup(m.labels)))
            goto oom;
        tmp[nt].col = (int)i;
        tmp[nt].fam = fi;
        tmp[nt].scale = m.scale;
        nt++;
    }
    /* group by family, keeping column order inside each */
    for (size_t fi = 0; fi < p->fams.nfams; fi++)
        for (size_t j = 0; j < nt; j++)
            if (tmp[j].fam == fi)
                p->cp[p->ncp++] = tmp[j];
    free(tmp);
    p->ok = true;
    return 0;
oom:
    for (size_t j = 0; j < nt; j++)
        free(tmp[j].labels);
    free(tmp);
    fplan_free(p);
    return -1;
}

static void emit_family_head(struct sbuf *b, const struct family *fam)
{
    sb_printf(b, "# HELP %s ", fam->name);
    put_help(b, fam->help);
    sb_printf(b, "\n# TYPE %s %s\n", fam->name, fam->type);
}

/* {own,ident} with either part possibly empty; nothing when both are. */
static void put_labels(struct sbuf *b, const char *own, const char *ident)
{
    bool o = own && *own, i = ident && *ident;
    if (!o && !i)
        return;
    sb_puts(b, "{");
    if (o)
        sb_puts(b, own);
    if (o && i)
        sb_puts(b, ",");
    if (i)
        sb_puts(b, ident);
    sb_puts(b, "}");
}

static void emit_frame(struct sbuf *b, const struct fplan *p, const struct frame *f,
                       const char *ident)
{
    size_t k = 0;
    for (size_t fi = 0; fi < p->fams.nfams; fi++) {
        const struct family *fam = &p->fams.fams[fi];
        bool head = false;
        for (; k < p->ncp && p->cp[k].fam == fi; k++) {
            double v;
            if (!frame_get(f, p->cp[k].col, &v))
                continue; /* missing stays missing: no sample at all */
            if (!head) {
                emit_family_head(b, fam);
                head = true;
            }
            sb_puts(b, fam->name);
            put_labels(b, p->cp[k].labels, ident);
            sb_puts(b, " ");
            put_value(b, v * p->cp[k].scale);
            sb_puts(b, "\n");
        }
    }
}

/* moni_build_info, and the frame's tick count and time. */
static void add_meta_samples(struct render *r, const struct frame *f)
{
    add_sample(r, "moni_build_info", "moni version (always 1)", "gauge",
               "version=\"" MONI_VERSION "\"", 1);
    if (f) {
        add_sample(r, "moni_samples_total", "Sampling ticks taken since start", "counter", "",
                   (double)f->seq);
        if (f->t.real_ns)
            add_sample(r, "moni_sample_timestamp_seconds",
                       "UTC time of the latest sample (seconds since the epoch)", "gauge", "",
                       (double)f->t.real_ns / 1e9);
    }
}

/* The latest training metrics parsed from the workload's log. */
static void add_train_samples(struct render *r, const struct exporter_extra *x)
{
    for (size_t i = 0; i < x->ntrain; i++) {
        if (!x->train[i].name)
            continue;
        char fam[160];
        const char *help;
        map_train(x->train[i].name, fam, sizeof fam, &help);
        char hb[200];
        if (!help) {
            snprintf(hb, sizeof hb, "Latest %s parsed from the workload log", x->train[i].name);
            help = hb;
        }
        add_sample(r, fam, help, "gauge", "", x->train[i].value);
    }
}

/* The families below are always declared, so dashboards and rules find them before
 * the first event, fault or alert. */
static void add_event_samples(struct render *r, const struct exporter_extra *x)
{
    char labels[512];
    add_family(r, "moni_log_events_total", "Log events matched by the rule packs, by label",
               "counter");
    for (size_t i = 0; i < x->nevents; i++) {
        if (!x->events[i].label)
            continue;
        labels2(labels, sizeof labels, "label", x->events[i].label, NULL, NULL);
        add_sample(r, "moni_log_events_total", NULL, "counter", labels,
                   (double)x->events[i].count);
    }
    add_family(r, "moni_detections_total", "Detections by detector and the label it names",
               "counter");
    for (size_t i = 0; i < x->ndetections; i++) {
        labels2(labels, sizeof labels, "detector", x->detections[i].detector, "label",
                x->detections[i].label);
        add_sample(r, "moni_detections_total", NULL, "counter", labels,
                   (double)x->detections[i].count);
    }
}

static void add_fault_samples(struct render *r, const struct exporter_extra *x)
{
    char labels[512];
    add_family(r, "moni_fault_active", "1 while the fault is firing", "gauge");
    add_family(r, "moni_fault_injections_total", "Faults fired, by kind", "counter");
    for (size_t i = 0; i < x->nfaults; i++) {
        const struct moni_fault_state *fs = &x->faults[i];
        if (!fs->kind)
            continue;
        labels2(labels, sizeof labels, "kind", fs->kind, "fault_id",
                fs->fault_id ? fs->fault_id : "");
        add_sample(r, "moni_fault_active", NULL, "gauge", labels, fs->active ? 1 : 0);
        if (!isnan(fs->requested_dose))
            add_sample(r, "moni_fault_requested_dose",
                       "Dose requested for the fault, in its kind's unit (moni-faults(7))",
                       "gauge", labels, fs->requested_dose);
        if (!isnan(fs->delivered_dose))
            add_sample(r, "moni_fault_delivered_dose",
                       "Dose the fault delivered so far, in its kind's unit (moni-faults(7))",
                       "gauge", labels, fs->delivered_dose);
    }
    /* injections per kind: count of fault instances that fired */
    for (size_t i = 0; i < x->nfaults; i++) {
        const char *kind = x->faults[i].kind;
        if (!kind)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            if (x->faults[j].kind && !strcmp(x->faults[j].kind, kind))
                seen = true;
        if (seen)
            continue;
        double n = 0;
        for (size_t j = i; j < x->nfaults; j++)
            if (x->faults[j].kind && !strcmp(x->faults[j].kind, kind) && x->faults[j].fired)
                n++;
        labels2(labels, sizeof labels, "kind", kind, NULL, NULL);
        add_sample(r, "moni_fault_injections_total", NULL, "counter", labels, n);
    }
}

static void add_alert_samples(struct render *r, const struct exporter_extra *x)
{
    char labels[512];
    add_family(r, "moni_alert_firing", "1 for every firing moni alert (like Prometheus' ALERTS)",
               "gauge");
    for (size_t i = 0; i < x->nalerts; i++) {
        const struct moni_alert_state *a = &x->alerts[i];
        if (!a->name)
            continue;
        labels2(labels, sizeof labels, "alertname", a->name, "severity",
                a->severity ? a->severity : "warning");
        if (a->label_key && a->label_value)
            append_label(labels, sizeof labels, a->label_key, a->label_value,
                         strlen(a->label_value));
        add_sample(r, "moni_alert_firing", NULL, "gauge", labels, 1);
    }
}

/* Writes the families of r in order, the frame's after the first nmeta of them. */
static void write_families(struct sbuf *b, const struct render *r, size_t nmeta,
                           const struct fplan *plan, const struct frame *f, const char *ident)
{
    for (size_t fi = 0; fi < r->nfams && !r->oom; fi++) {
        if (fi == nmeta && plan && f)
            emit_frame(b, plan, f, ident);
        emit_family_head(b, &r->fams[fi]);
        for (size_t i = 0; i < r->ns; i++) {
            if (r->s[i].fam != fi)
                continue;
            sb_puts(b, r->fams[fi].name);
            put_labels(b, r->s[i].labels, ident);
            sb_puts(b, " ");
            put_value(b, r->s[i].v);
            sb_puts(b, "\n");
        }
    }
    if (nmeta >= r->nfams && plan && f)
        emit_frame(b, plan, f, ident);
}

static char *render_text(const struct fplan *plan, const struct frame *f,
                         const struct exporter_extra *x, const char *ident, size_t *len)
{
    struct render r = {0};
    add_meta_samples(&r, f);
    size_t nmeta = r.nfams; /* the frame's families go after these */
    if (x) {
        add_train_samples(&r, x);
        add_event_samples(&r, x);
        add_fault_samples(&r, x);
        add_alert_samples(&r, x);
    }
    struct sbuf b = {0};
    write_families(&b, &r, nmeta, plan, f, ident);
    bool oom = r.oom || b.oom;
    render_free(&r);
    if (oom) {
        free(b.p);
        return NULL;
    }
    if (!b.p)
        sb_puts(&b, "");
    if (len)
        *len = b.len;
    return b.p;
}

char *exporter_render(const struct frame *f, const struct exporter_extra *x, size_t *len)
{
    struct fplan plan = {0};
    if (f && fplan_build(&plan, f) < 0)
        return NULL;
    char *t = render_text(f ? &plan : NULL, f, x, NULL, len);
    fplan_free(&plan);
    return t;
}

/* ---- the exporter's cached layout ---------------------------------------------- */
struct expo_plan {
    struct fplan fp;
};

struct expo_plan *expo_plan_new(void)
{
    return calloc(1, sizeof(struct expo_plan));
}

void expo_plan_free(struct expo_plan *p)
{
    if (!p)
        return;
    fplan_free(&p->fp);
    free(p);
}

void expo_identity_labels(const struct prom_identity *id, char *out, size_t cap)
{
    out[0] = '\0';
    if (!id || !id->in_job)
        return;
    const char *keys[] = {"job_id", "node", "rank"};
    const char *vals[] = {id->job_id, id->node, id->rank};
    for (size_t i = 0; i < MONI_ARRAY_LEN(keys); i++)
        if (vals[i][0])
            append_label(out, cap, keys[i], vals[i], strlen(vals[i]));
}

char *expo_render(struct expo_plan *p, const struct frame *f, const struct exporter_extra *x,
                  const char *ident, size_t *len)
{
    if (f && !fplan_matches(&p->fp, f) && fplan_build(&p->fp, f) < 0)
        return NULL;
    return render_text(f ? &p->fp : NULL, f, x, ident, len);
}
