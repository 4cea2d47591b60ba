/* core/alerts.c — the built-in alert engine.
 *
 * Rules (JSON, see moni(1) ALERT RULES) name a series — a frame column, a column
 * pattern with one {label} placeholder (one alert instance per matching column, e.g.
 * per GPU), or a training metric — and a check: threshold, nan, flat, slope, growth
 * or stale, optionally gated by a `while` series being non-zero.  Each instance keeps
 * a short, decimated history for the window checks and the Prometheus-style
 * pending -> firing state machine for `for`.  Transitions go to alerts.jsonl.
 *
 * The same rules export to a Prometheus rules file over the exported metric names
 * (exporter_family_for), so an SRE can run them in their own Prometheus. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

enum check { CHECK_THRESHOLD, CHECK_NAN, CHECK_FLAT, CHECK_SLOPE, CHECK_GROWTH, CHECK_STALE };
static const char *const check_names[] = {"threshold", "nan", "flat", "slope", "growth", "stale"};
enum op { OP_GT, OP_GE, OP_LT, OP_LE };
static const char *const op_names[] = {">", ">=", "<", "<="};
enum source { SRC_AUTO, SRC_FRAME, SRC_TRAIN };

#define HIST_POINTS 512 /* per instance; older points are decimated away */

struct point {
    int64_t t;
    double v;
};

struct instance {
    char *label_value; /* NULL for a rule without placeholder */
    struct point *hist;
    size_t nhist;
    int64_t min_gap_ns;        /* decimation: keep points at least this far apart */
    double last_v;
    bool have_last;
    int64_t last_change_ns;    /* stale: when the value last changed */
    int64_t pending_since;     /* 0 = condition false */
    bool firing;
    int64_t firing_since_real;
    double value;              /* latest value that was evaluated */
    bool seen;                 /* matched this tick */
};

struct rule {
    char *name, *severity, *summary;
    char *series, *per, *gate; /* gate = "while" */
    char *label_key;           /* placeholder name in series, or NULL */
    enum source source;
    enum check check;
    enum op op;
    double threshold, scale, tolerance, min_slope, min_fit;
    int64_t for_ns, window_ns;
    struct instance *inst;
    size_t ninst;
    /* Where the series lives in the frame, found once per column set: matching ~100
     * column names per rule on every tick was most of the alert engine's cost. */
    const struct metric_col *cached_cols; /* the column set the cache is for */
    size_t cached_ncols;
    int series_col, per_col, gate_col;    /* -1: not a frame column */
    struct label_match *matches;          /* labelled rules: the matching columns */
    size_t nmatches;
};

struct label_match {
    int col, per_col;
    char val[64];
};

struct alerts {
    struct rule *rules;
    size_t nrules;
    int journal_fd;
    struct moni_alert_state *firing;
    size_t nfiring;
};

/* ---- loading ------------------------------------------------------------------- */
static const char *const rule_keys[] = {"name", "series", "source", "check", "op", "threshold",
                                        "per", "scale", "for", "window", "tolerance", "min_slope",
                                        "min_fit", "while", "severity", "summary", NULL};

static int get_string(const struct moni_json *doc, const cJSON *obj, const char *key, bool required,
                      char **out, char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (!required)
            return 0;
        char msg[64];
        snprintf(msg, sizeof msg, "missing \"%s\"", key);
        moni_json_errf(doc, obj, err, errlen, "%s", msg);
        return -1;
    }
    if (!cJSON_IsString(it) || !it->valuestring[0]) {
        moni_json_errf(doc, it, err, errlen, "must be a non-empty string");
        return -1;
    }
    *out = strdup(it->valuestring);
    return *out ? 0 : -1;
}

/* Index of v's string in names, or -1 (also when v is not a string). */
static int name_index(const cJSON *v, const char *const *names, size_t n)
{
    for (size_t i = 0; cJSON_IsString(v) && i < n; i++)
        if (!strcmp(v->valuestring, names[i]))
            return (int)i;
    return -1;
}

static int get_number(const struct moni_json *doc, const cJSON *obj, const char *key, double *out,
                      char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return 0;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
        moni_json_errf(doc, it, err, errlen, "must be a number");
        return -1;
    }
    *out = it->valuedouble;
    return 1;
}

static int get_duration(const struct moni_json *doc, const cJSON *obj, const char *key,
                        int64_t *out, char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return 0;
    char why[128] = "";
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 1e7) {
        *out = (int64_t)(it->valuedouble * 1e9);
        return 1;
    }
    if (!cJSON_IsString(it) || moni_parse_duration(it->valuestring, out, why, sizeof why) < 0 ||
        *out < 0) {
        moni_json_errf(doc, it, err, errlen, "bad duration%s%s (e.g. \"30s\", \"5m\")",
                       why[0] ? ": " : "", why);
        return -1;
    }
    return 1;
}

/* "gpu{gpu}_temp_c" -> label key "gpu"; -1 on a malformed pattern. */
static int placeholder(const char *pattern, char **key)
{
    const char *o = strchr(pattern, '{');
    *key = NULL;
    if (!o)
        return strchr(pattern, '}') ? -1 : 0;
    const char *c = strchr(o, '}');
    if (!c || c == o + 1 || strchr(c + 1, '{') || strchr(c + 1, '}'))
        return -1;
    for (const char *p = o + 1; p < c; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
            return -1;
    *key = strndup(o + 1, (size_t)(c - o - 1));
    return *key ? 0 : -1;
}

static void rule_free(struct rule *r)
{
    free(r->matches);
    free(r->name);
    free(r->severity);
    free(r->summary);
    free(r->series);
    free(r->per);
    free(r->gate);
    free(r->label_key);
    for (size_t i = 0; i < r->ninst; i++) {
        free(r->inst[i].label_value);
        free(r->inst[i].hist);
    }
    free(r->inst);
}

/* "name", "series", "per", "while", "severity", "summary": the strings, checked. */
static int parse_rule_strings(const struct moni_json *doc, const cJSON *obj, struct rule *r,
                              char *err, size_t errlen)
{
    if (get_string(doc, obj, "name", true, &r->name, err, errlen) < 0 ||
        get_string(doc, obj, "series", true, &r->series, err, errlen) < 0 ||
        get_string(doc, obj, "per", false, &r->per, err, errlen) < 0 ||
        get_string(doc, obj, "while", false, &r->gate, err, errlen) < 0 ||
        get_string(doc, obj, "severity", false, &r->severity, err, errlen) < 0 ||
        get_string(doc, obj, "summary", false, &r->summary, err, errlen) < 0)
        return -1;
    for (const char *p = r->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_')) {
            moni_json_errf(doc, cJSON_GetObjectItemCaseSensitive(obj, "name"), err, errlen,
                           "use letters, digits and _ only");
            return -1;
        }
    if (!r->severity)
        r->severity = strdup("warning");
    if (!r->severity)
        return -1;
    if (strcmp(r->severity, "critical") && strcmp(r->severity, "warning") &&
        strcmp(r->severity, "info")) {
        moni_json_errf(doc, cJSON_GetObjectItemCaseSensitive(obj, "severity"), err, errlen,
                       "must be \"critical\", \"warning\" or \"info\"");
        return -1;
    }
    return 0;
}

/* The {label} placeholders of "series" and "per", and "source". */
static int parse_rule_series(const struct moni_json *doc, const cJSON *obj, struct rule *r,
                             char *err, size_t errlen)
{
    if (placeholder(r->series, &r->label_key) < 0) {
        moni_json_errf(doc, cJSON_GetObjectItemCaseSensitive(obj, "series"), err, errlen,
                       "at most one {label} placeholder of lower-case letters");
        return -1;
    }
    if (r->per) {
        char *k2 = NULL;
        int bad = placeholder(r->per, &k2);
        bool same = (!k2 && !r->label_key) || (k2 && r->label_key && !strcmp(k2, r->label_key));
        free(k2);
        if (bad < 0 || !same) {
            moni_json_errf(doc, cJSON_GetObjectItemCaseSensitive(obj, "per"), err, errlen,
                           "must use the same placeholder as \"series\"");
            return -1;
        }
    }

    const cJSON *src = cJSON_GetObjectItemCaseSensitive(obj, "source");
    if (src) {
        if (cJSON_IsString(src) && !strcmp(src->valuestring, "train"))
            r->source = SRC_TRAIN;
        else if (cJSON_IsString(src) && !strcmp(src->valuestring, "frame"))
            r->source = SRC_FRAME;
        else {
            moni_json_errf(doc, src, err, errlen, "must be \"train\" or \"frame\"");
            return -1;
        }
    }
    if (r->source == SRC_TRAIN && (r->label_key || r->per)) {
        moni_json_errf(doc, src, err, errlen, "training series take no placeholder or \"per\"");
        return -1;
    }
    return 0;
}

/* "check", "op", the numbers and durations, and what each check needs of them. */
static int parse_rule_check(const struct moni_json *doc, const cJSON *obj, struct rule *r,
                            char *err, size_t errlen)
{
    const cJSON *chk = cJSON_GetObjectItemCaseSensitive(obj, "check");
    r->check = CHECK_THRESHOLD;
    if (chk) {
        int i = name_index(chk, check_names, MONI_ARRAY_LEN(check_names));
        if (i < 0) {
            moni_json_errf(doc, chk, err, errlen,
                           "must be one of threshold, nan, flat, slope, growth, stale");
            return -1;
        }
        r->check = (enum check)i;
    }
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(obj, "op");
    if (op) {
        int i = name_index(op, op_names, MONI_ARRAY_LEN(op_names));
        if (i < 0) {
            moni_json_errf(doc, op, err, errlen, "must be one of >, >=, <, <=");
            return -1;
        }
        r->op = (enum op)i;
    }
    int has_thr = get_number(doc, obj, "threshold", &r->threshold, err, errlen);
    if (has_thr < 0 || get_number(doc, obj, "scale", &r->scale, err, errlen) < 0 ||
        get_number(doc, obj, "tolerance", &r->tolerance, err, errlen) < 0 ||
        get_number(doc, obj, "min_slope", &r->min_slope, err, errlen) < 0 ||
        get_number(doc, obj, "min_fit", &r->min_fit, err, errlen) < 0 ||
        get_duration(doc, obj, "for", &r->for_ns, err, errlen) < 0)
        return -1;
    int has_win = get_duration(doc, obj, "window", &r->window_ns, err, errlen);
    if (has_win < 0)
        return -1;
    if ((r->check == CHECK_THRESHOLD || r->check == CHECK_SLOPE) && (!op || !has_thr)) {
        moni_json_errf(doc, obj, err, errlen, "a %s check needs \"op\" and \"threshold\"",
                       check_names[r->check]);
        return -1;
    }
    if ((r->check == CHECK_FLAT || r->check == CHECK_SLOPE || r->check == CHECK_GROWTH ||
         r->check == CHECK_STALE) &&
        (!has_win || r->window_ns < MONI_NS_PER_SEC)) {
        moni_json_errf(doc, has_win ? cJSON_GetObjectItemCaseSensitive(obj, "window") : obj, err,
                       errlen, "a %s check needs a \"window\" of at least 1s",
                       check_names[r->check]);
        return -1;
    }
    if (r->tolerance < 0 || r->min_fit < 0 || r->min_fit > 1) {
        moni_json_errf(doc, obj, err, errlen, "tolerance must be >= 0 and min_fit in 0..1");
        return -1;
    }
    return 0;
}

static int parse_rule(const struct moni_json *doc, const cJSON *obj, struct rule *r, char *err,
                      size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->scale = 1;
    r->tolerance = 0.01;
    r->min_fit = 0.8;
    if (!cJSON_IsObject(obj)) {
        moni_json_errf(doc, obj, err, errlen, "each rule must be an object");
        return -1;
    }
    if (moni_json_check_keys(doc, obj, rule_keys, err, errlen) < 0)
        return -1;
    if (parse_rule_strings(doc, obj, r, err, errlen) < 0 ||
        parse_rule_series(doc, obj, r, err, errlen) < 0 ||
        parse_rule_check(doc, obj, r, err, errlen) < 0)
        return -1;
    if (!r->summary) {
        char s[256];
        snprintf(s, sizeof s, "%s on %s", check_names[r->check], r->series);
        r->summary = strdup(s);
        if (!r->summary)
            return -1;
    }
    return 0;
}

static struct alerts *alerts_parse_doc(const struct moni_json *doc, char *err, size_t errlen)
{
    const cJSON *root = doc->root;
    const cJSON *rules = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "rules")
                                              : NULL;
    static const char *const top_keys[] = {"rules", "comment", NULL};
    if (!cJSON_IsObject(root)) {
        moni_json_errf(doc, root, err, errlen, "expected an object with \"rules\"");
        return NULL;
    }
    if (moni_json_check_keys(doc, root, top_keys, err, errlen) < 0)
        return NULL;
    if (!cJSON_IsArray(rules)) {
        moni_json_errf(doc, rules ? rules : root, err, errlen, "\"rules\" must be an array");
        return NULL;
    }
    struct alerts *al = calloc(1, sizeof *al);
    size_t n = (size_t)cJSON_GetArraySize(rules);
    if (!al || !(al->rules = calloc(n ? n : 1, sizeof *al->rules))) {
        free(al);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    al->journal_fd = -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, rules)
    {
        struct rule *r = &al->rules[al->nrules];
        if (parse_rule(doc, it, r, err, errlen) < 0) {
            rule_free(r);
            alerts_free(al);
            return NULL;
        }
        al->nrules++;
        for (size_t j = 0; j + 1 < al->nrules; j++)
            if (!strcmp(al->rules[j].name, r->name)) {
                moni_json_errf(doc, cJSON_GetObjectItemCaseSensitive(it, "name"), err, errlen,
                               "duplicate rule name \"%s\"", r->name);
                alerts_free(al);
                return NULL;
            }
    }
    return al;
}

/* Field names come from the file and may hold control characters: errors stay one line. */
static void one_line(char *err)
{
    for (char *p = err; p && *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

/* Rules from a loaded document, which is freed; err made one line on failure. */
static struct alerts *alerts_from_doc(struct moni_json *doc, char *err, size_t errlen)
{
    struct alerts *al = alerts_parse_doc(doc, err, errlen);
    moni_json_free(doc);
    if (!al)
        one_line(err);
    return al;
}

struct alerts *alerts_load(const char *path, char *err, size_t errlen)
{
    char found[4096];
    if (!path) {
        char dir[4000];
        if (moni_config_dir("", dir, sizeof dir) == 0) {
            snprintf(found, sizeof found, "%s/alerts.json", dir);
            if (access(found, R_OK) == 0)
                path = found;
        }
        if (!path && moni_data_dir("examples", dir, sizeof dir) == 0) {
            snprintf(found, sizeof found, "%s/alerts.json", dir);
            if (access(found, R_OK) == 0)
                path = found;
        }
        if (!path) {
            snprintf(err, errlen, "no alert rules: neither $XDG_CONFIG_HOME/moni/alerts.json nor "
                                  "the installed examples/alerts.json exists");
            return NULL;
        }
    }
    struct moni_json doc;
    if (moni_json_load(path, &doc, err, errlen) < 0) {
        one_line(err);
        return NULL;
    }
    return alerts_from_doc(&doc, err, errlen);
}

struct alerts *alerts_parse(const char *name, const char *text, size_t len, char *err,
                            size_t errlen)
{
    struct moni_json doc;
    if (moni_json_parse(name, text, len, &doc, err, errlen) < 0) {
        one_line(err);
        return NULL;
    }
    return alerts_from_doc(&doc, err, errlen);
}

void alerts_free(struct alerts *al)
{
    if (!al)
        return;
    for (size_t i = 0; i < al->nrules; i++)
        rule_free(&al->rules[i]);
    free(al->rules);
    free(al->firing);
    free(al);
}

void alerts_set_journal(struct alerts *al, int fd)
{
    if (al)
        al->journal_fd = fd;
}

/* ---- evaluation ------------------------------------------------------------------ */
static bool train_value(const struct moni_train_metric *train, size_t ntrain, const char *name,
                        double *v, int64_t *updated)
{
    for (size_t i = 0; i < ntrain; i++)
        if (train[i].name && !strcmp(train[i].name, name)) {
            *v = train[i].value;
            if (updated)
                *updated = train[i].updated_mono_ns;
            return true;
        }
    return false;
}

static bool series_value(const struct rule *r, const struct frame *f,
                         const struct moni_train_metric *train, size_t ntrain, const char *name,
                         int col, double *v, int64_t *updated)
{
    if (updated)
        *updated = 0;
    if (r->source != SRC_FRAME && train_value(train, ntrain, name, v, updated))
        return true;
    if (r->source == SRC_TRAIN || !f)
        return false;
    return frame_get(f, col, v);
}

/* Does col match the pattern?  Fills the placeholder's value (digits only for the
 * gpu/cpu keys). */
static bool match_pattern(const char *pattern, const char *key, const char *col, char *val,
                          size_t vlen)
{
    const char *o = strchr(pattern, '{');
    const char *c = strchr(pattern, '}');
    size_t pre = (size_t)(o - pattern), post = strlen(c + 1), cl = strlen(col);
    if (cl <= pre + post || strncmp(col, pattern, pre) || strcmp(col + cl - post, c + 1))
        return false;
    size_t n = cl - pre - post;
    if (n >= vlen)
        return false;
    bool numeric = !strcmp(key, "gpu") || !strcmp(key, "cpu");
    for (size_t i = 0; i < n; i++) {
        char ch = col[pre + i];
        if (numeric ? !(ch >= '0' && ch <= '9') : (ch == '{' || ch == '}'))
            return false;
    }
    memcpy(val, col + pre, n);
    val[n] = '\0';
    return true;
}

static void substitute(const char *pattern, const char *val, char *out, size_t len)
{
    const char *o = strchr(pattern, '{');
    const char *c = o ? strchr(o, '}') : NULL;
    if (!o || !c) {
        snprintf(out, len, "%s", pattern);
        return;
    }
    snprintf(out, len, "%.*s%s%s", (int)(o - pattern), pattern, val, c + 1);
}

static struct instance *instance_for(struct rule *r, const char *label_value)
{
    for (size_t i = 0; i < r->ninst; i++) {
        const char *lv = r->inst[i].label_value;
        if ((!lv && !label_value) || (lv && label_value && !strcmp(lv, label_value)))
            return &r->inst[i];
    }
    struct instance *ni = realloc(r->inst, (r->ninst + 1) * sizeof *ni);
    if (!ni)
        return NULL;
    r->inst = ni;
    struct instance *in = &r->inst[r->ninst];
    memset(in, 0, sizeof *in);
    if (label_value && !(in->label_value = strdup(label_value)))
        return NULL;
    in->min_gap_ns = r->window_ns / (HIST_POINTS / 2);
    r->ninst++;
    return in;
}

static void hist_add(struct rule *r, struct instance *in, int64_t t, double v)
{
    if (!r->window_ns || r->check == CHECK_STALE)
        return;
    if (!in->hist && !(in->hist = calloc(HIST_POINTS, sizeof *in->hist)))
        return;
    /* the newest point always goes in; it replaces the previous newest when that one
     * is too close to its predecessor, so kept points stay min_gap apart */
    if (in->nhist >= 2 && t - in->hist[in->nhist - 2].t < in->min_gap_ns)
        in->hist[in->nhist - 1] = (struct point){t, v};
    else {
        if (in->nhist == HIST_POINTS) { /* should not happen with min_gap; drop the oldest */
            memmove(in->hist, in->hist + 1, (HIST_POINTS - 1) * sizeof *in->hist);
            in->nhist--;
        }
        in->hist[in->nhist++] = (struct point){t, v};
    }
    /* keep one point at or before the window start so coverage can be judged */
    size_t drop = 0;
    while (drop + 1 < in->nhist && in->hist[drop + 1].t <= t - r->window_ns)
        drop++;
    if (drop) {
        memmove(in->hist, in->hist + drop, (in->nhist - drop) * sizeof *in->hist);
        in->nhist -= drop;
    }
}

/* Least squares over the window: slope per second and r^2.  false if the history
 * does not cover the window yet or holds a non-finite value. */
static bool hist_fit(const struct rule *r, const struct instance *in, int64_t now, double *slope,
                     double *r2, double *vmin, double *vmax, double *mean)
{
    if (in->nhist < 3 || now - in->hist[0].t < r->window_ns * 95 / 100)
        return false;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    double t0 = (double)in->hist[0].t;
    *vmin = INFINITY;
    *vmax = -INFINITY;
    for (size_t i = 0; i < in->nhist; i++) {
        double x = ((double)in->hist[i].t - t0) / 1e9, y = in->hist[i].v;
        if (!isfinite(y))
            return false;
        sx += x, sy += y, sxx += x * x, sxy += x * y, syy += y * y;
        if (y < *vmin)
            *vmin = y;
        if (y > *vmax)
            *vmax = y;
    }
    double n = (double)in->nhist;
    double vx = sxx - sx * sx / n, vy = syy - sy * sy / n, cxy = sxy - sx * sy / n;
    *mean = sy / n;
    *slope = vx > 0 ? cxy / vx : 0;
    *r2 = (vx > 0 && vy > 0) ? (cxy * cxy) / (vx * vy) : 0;
    return true;
}

static bool compare(enum op op, double v, double thr)
{
    switch (op) {
    case OP_GT: return v > thr;
    case OP_GE: return v >= thr;
    case OP_LT: return v < thr;
    case OP_LE: return v <= thr;
    }
    return false;
}

static void journal(struct alerts *al, const struct rule *r, const struct instance *in,
                    const char *state, struct moni_stamp now)
{
    if (al->journal_fd < 0)
        return;
    char iso[MONI_ISO_LEN];
    moni_fmt_iso(now.real_ns, iso, sizeof iso);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "timestamp", iso);
    char mono[24]; /* an exact integer: a double would round after ~104 days of uptime */
    snprintf(mono, sizeof mono, "%lld", (long long)now.mono_ns);
    cJSON_AddRawToObject(o, "mono_ns", mono);
    cJSON_AddStringToObject(o, "alert", r->name);
    cJSON_AddStringToObject(o, "state", state);
    if (isfinite(in->value))
        cJSON_AddNumberToObject(o, "value", in->value);
    else {
        cJSON_AddNullToObject(o, "value");
        cJSON_AddStringToObject(o, "value_text",
                                isnan(in->value) ? "NaN" : in->value > 0 ? "+Inf" : "-Inf");
    }
    cJSON_AddStringToObject(o, "severity", r->severity);
    cJSON *labels = cJSON_AddObjectToObject(o, "labels");
    if (labels && r->label_key && in->label_value)
        cJSON_AddStringToObject(labels, r->label_key, in->label_value);
    cJSON_AddStringToObject(o, "summary", r->summary);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return;
    size_t len = strlen(s);
    char *line = malloc(len + 2);
    if (line) {
        memcpy(line, s, len);
        line[len] = '\n';
        if (moni_write_all(al->journal_fd, line, len + 1) < 0)
            moni_warn("alerts.jsonl: %s", strerror(errno));
        free(line);
    }
    free(s);
}

/* One instance, one tick: update history and state; returns 1 on a transition. */
static int eval_instance(struct alerts *al, struct rule *r, struct instance *in, bool have, double v,
                         int64_t updated_ns, bool gate_ok, struct moni_stamp now)
{
    int64_t t = now.mono_ns;
    bool cond = false;
    in->seen = true;
    if (have) {
        in->value = v;
        if (!in->have_last || !(in->last_v == v || (isnan(in->last_v) && isnan(v))))
            in->last_change_ns = updated_ns ? updated_ns : t;
        else if (updated_ns > in->last_change_ns)
            in->last_change_ns = updated_ns;
        in->last_v = v;
        in->have_last = true;
        hist_add(r, in, t, v);
    }
    if (gate_ok) {
        double slope, r2, vmin, vmax, mean;
        switch (r->check) {
        case CHECK_THRESHOLD:
            cond = have && compare(r->op, v, r->threshold);
            break;
        case CHECK_NAN:
            cond = have && !isfinite(v);
            break;
        case CHECK_FLAT:
            if (have && hist_fit(r, in, t, &slope, &r2, &vmin, &vmax, &mean))
                cond = (vmax - vmin) <= r->tolerance * fmax(fabs(mean), 1e-12);
            break;
        case CHECK_SLOPE:
            if (have && hist_fit(r, in, t, &slope, &r2, &vmin, &vmax, &mean)) {
                cond = compare(r->op, slope, r->threshold);
                in->value = slope;
            }
            break;
        case CHECK_GROWTH:
            if (have && hist_fit(r, in, t, &slope, &r2, &vmin, &vmax, &mean)) {
                cond = slope > r->min_slope && r2 >= r->min_fit;
                in->value = slope;
            }
            break;
        case CHECK_STALE:
            if (in->have_last) {
                double age = (double)(t - in->last_change_ns) / 1e9;
                cond = t - in->last_change_ns >= r->window_ns;
                in->value = age;
            }
            break;
        }
    }
    if (!cond) {
        in->pending_since = 0;
        if (in->firing) {
            in->firing = false;
            journal(al, r, in, "resolved", now);
            return 1;
        }
        return 0;
    }
    if (!in->pending_since)
        in->pending_since = t;
    if (!in->firing && t - in->pending_since >= r->for_ns) {
        in->firing = true;
        in->firing_since_real = now.real_ns;
        journal(al, r, in, "firing", now);
        return 1;
    }
    return 0;
}

static void rebuild_firing(struct alerts *al)
{
    size_t n = 0;
    for (size_t i = 0; i < al->nrules; i++)
        for (size_t j = 0; j < al->rules[i].ninst; j++)
            n += al->rules[i].inst[j].firing;
    struct moni_alert_state *fa = n ? realloc(al->firing, n * sizeof *fa) : al->firing;
    if (n && !fa) {
        al->nfiring = 0;
        return;
    }
    al->firing = fa;
    al->nfiring = 0;
    for (size_t i = 0; i < al->nrules; i++) {
        const struct rule *r = &al->rules[i];
        for (size_t j = 0; j < r->ninst; j++) {
            const struct instance *in = &r->inst[j];
            if (!in->firing)
                continue;
            al->firing[al->nfiring++] = (struct moni_alert_state){
                .name = r->name,
                .severity = r->severity,
                .summary = r->summary,
                .label_key = in->label_value ? r->label_key : NULL,
                .label_value = in->label_value,
                .value = in->value,
                .since_real_ns = in->firing_since_real,
            };
        }
    }
}

static int find_col(const struct frame *f, const char *name)
{
    return name && f ? frame_find(f, name) : -1;
}

/* Finds the rule's columns again when the frame's column set is not the cached one
 * (columns are only ever added, so the pointer and the count identify it). */
static void resolve_cols(struct rule *r, const struct frame *f)
{
    const struct metric_col *cols = f ? f->cols : NULL;
    size_t ncols = f ? f->ncols : 0;
    if (r->cached_cols == cols && r->cached_ncols == ncols && cols) {
        /* a new frame may reuse the old one's memory: check one name */
        const char *want = r->label_key ? NULL : r->series;
        int c = r->series_col;
        if (r->label_key && r->nmatches)
            c = r->matches[0].col;
        char val[64];
        if (c < 0 || (want ? !strcmp(cols[c].name, want) :
                      match_pattern(r->series, r->label_key, cols[c].name, val, sizeof val)))
            return;
    }
    r->cached_cols = cols;
    r->cached_ncols = ncols;
    r->gate_col = find_col(f, r->gate);
    r->series_col = r->label_key ? -1 : find_col(f, r->series);
    r->per_col = r->label_key ? -1 : find_col(f, r->per);
    r->nmatches = 0;
    if (!r->label_key || !f)
        return;
    for (size_t c = 0; c < ncols; c++) {
        char val[64];
        if (!cols[c].name ||
            !match_pattern(r->series, r->label_key, cols[c].name, val, sizeof val))
            continue;
        struct label_match *m = realloc(r->matches, (r->nmatches + 1) * sizeof *m);
        if (!m)
            return;
        r->matches = m;
        m = &r->matches[r->nmatches++];
        m->col = (int)c;
        memcpy(m->val, val, sizeof m->val);
        m->per_col = -1;
        if (r->per) {
            char pc[256];
            substitute(r->per, val, pc, sizeof pc);
            m->per_col = frame_find(f, pc);
        }
    }
}

int alerts_eval(struct alerts *al, const struct frame *f, const struct moni_train_metric *train,
                size_t ntrain, struct moni_stamp now)
{
    if (!al)
        return 0;
    int transitions = 0;
    for (size_t i = 0; i < al->nrules; i++) {
        struct rule *r = &al->rules[i];
        resolve_cols(r, f);
        bool gate_ok = true;
        if (r->gate) {
            double g;
            gate_ok = series_value(r, f, train, ntrain, r->gate, r->gate_col, &g, NULL) &&
                      isfinite(g) && g != 0;
        }
        for (size_t j = 0; j < r->ninst; j++)
            r->inst[j].seen = false;
        if (!r->label_key) {
            double v = NAN, d;
            int64_t upd = 0;
            bool have = series_value(r, f, train, ntrain, r->series, r->series_col, &v, &upd);
            if (have && r->per) {
                have = series_value(r, f, train, ntrain, r->per, r->per_col, &d, NULL) && d != 0;
                v = have ? v / d * r->scale : NAN;
            } else if (have) {
                v *= r->scale;
            }
            struct instance *in = instance_for(r, NULL);
            if (in)
                transitions += eval_instance(al, r, in, have, v, upd, gate_ok, now);
            continue;
        }
        for (size_t k = 0; f && k < r->nmatches; k++) {
            const struct label_match *m = &r->matches[k];
            double v, d;
            bool have = frame_get(f, m->col, &v);
            if (have && r->per) {
                have = frame_get(f, m->per_col, &d) && d != 0;
                v = have ? v / d * r->scale : NAN;
            } else if (have) {
                v *= r->scale;
            }
            struct instance *in = instance_for(r, m->val);
            if (in)
                transitions += eval_instance(al, r, in, have, v, 0, gate_ok, now);
        }
        /* instances whose column went away resolve */
        for (size_t j = 0; j < r->ninst; j++)
            if (!r->inst[j].seen)
                transitions += eval_instance(al, r, &r->inst[j], false, NAN, 0, false, now);
    }
    rebuild_firing(al);
    return transitions;
}

size_t alerts_count(const struct alerts *al) { return al ? al->nrules : 0; }

size_t alerts_firing(const struct alerts *al, const struct moni_alert_state **out)
{
    if (out)
        *out = al ? al->firing : NULL;
    return al ? al->nfiring : 0;
}

/* ---- Prometheus rules export ------------------------------------------------------ */
static void fmt_prom_duration(int64_t ns, char *buf, size_t len)
{
    if (ns <= 0)
        snprintf(buf, len, "0s");
    else if (ns % (3600 * MONI_NS_PER_SEC) == 0)
        snprintf(buf, len, "%lldh", (long long)(ns / (3600 * MONI_NS_PER_SEC)));
    else if (ns % (60 * MONI_NS_PER_SEC) == 0)
        snprintf(buf, len, "%lldm", (long long)(ns / (60 * MONI_NS_PER_SEC)));
    else if (ns % MONI_NS_PER_SEC == 0)
        snprintf(buf, len, "%llds", (long long)(ns / MONI_NS_PER_SEC));
    else
        snprintf(buf, len, "%lldms", (long long)((ns + MONI_NS_PER_MS - 1) / MONI_NS_PER_MS));
}

static void yaml_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if (*s == '\n') {
            fputs("\\n", out);
            continue;
        }
        fputc(*s, out);
    }
    fputc('"', out);
}

static int family_of(const struct rule *r, const char *series, char *fam, size_t len, double *scale)
{
    /* auto: a name with no placeholder and no '_' unit suffix is taken as a training
     * metric when the exporter knows it as one (loss, learning_rate, ...) */
    bool train = r->source == SRC_TRAIN;
    if (r->source == SRC_AUTO && !strchr(series, '{')) {
        static const char *const train_like[] = {"loss", "learning_rate", "lr", "throughput",
                                                 "step", "epoch", "grad_norm", "eval_loss",
                                                 "eval_accuracy", "samples_per_second", NULL};
        for (size_t i = 0; train_like[i]; i++)
            if (!strcmp(series, train_like[i]))
                train = true;
    }
    return exporter_family_for(series, train, fam, len, scale);
}

int alerts_export_prometheus(const struct alerts *al, FILE *out)
{
    fprintf(out, "# Prometheus alerting rules generated by `moni alerts export` (moni %s).\n"
                 "# They use the metric names of moni's exporter (--metrics-listen).\n"
                 "groups:\n  - name: moni\n    rules:\n",
            MONI_VERSION);
    for (size_t i = 0; al && i < al->nrules; i++) {
        const struct rule *r = &al->rules[i];
        char fam[192], pfam[192] = "", gfam[192] = "", win[32], forb[32], expr[1024];
        double s1 = 1, s2 = 1, sg = 1;
        if (family_of(r, r->series, fam, sizeof fam, &s1) < 0 ||
            (r->per && family_of(r, r->per, pfam, sizeof pfam, &s2) < 0) ||
            (r->gate && family_of(r, r->gate, gfam, sizeof gfam, &sg) < 0))
            return -1;
        fmt_prom_duration(r->window_ns, win, sizeof win);
        fmt_prom_duration(r->for_ns, forb, sizeof forb);
        /* moni's value = column * scale (or num/den * scale); exported = column * s1 */
        char value[512];
        double k = r->per ? r->scale * s2 / s1 : r->scale / s1;
        if (r->per)
            snprintf(value, sizeof value, "%s / %s", fam, pfam);
        else
            snprintf(value, sizeof value, "%s", fam);
        if (k != 1) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s * %.17g", value, k);
            snprintf(value, sizeof value, "%s", tmp);
        }
        switch (r->check) {
        case CHECK_THRESHOLD:
            snprintf(expr, sizeof expr, "%s %s %.17g", value, op_names[r->op], r->threshold);
            break;
        case CHECK_NAN:
            snprintf(expr, sizeof expr, "(%s != %s) or (abs(%s) == Inf)", fam, fam, fam);
            break;
        case CHECK_FLAT:
            snprintf(expr, sizeof expr,
                     "(max_over_time(%s[%s]) - min_over_time(%s[%s])) <= %.17g * "
                     "abs(avg_over_time(%s[%s]))",
                     fam, win, fam, win, r->tolerance, fam, win);
            break;
        case CHECK_SLOPE:
        case CHECK_GROWTH: {
            char mul[48] = "";
            if (r->scale / s1 != 1)
                snprintf(mul, sizeof mul, " * %.17g", r->scale / s1);
            if (r->check == CHECK_SLOPE)
                snprintf(expr, sizeof expr, "deriv(%s[%s])%s %s %.17g", fam, win, mul,
                         op_names[r->op], r->threshold);
            else
                snprintf(expr, sizeof expr, "deriv(%s[%s])%s > %.17g", fam, win, mul, r->min_slope);
            break;
        }
        case CHECK_STALE:
            snprintf(expr, sizeof expr, "changes(%s[%s]) == 0", fam, win);
            break;
        }
        if (r->gate) {
            size_t l = strlen(expr);
            snprintf(expr + l, sizeof expr - l, " and on() (%s != 0)", gfam);
        }
        fprintf(out, "      - alert: %s\n        expr: ", r->name);
        yaml_quoted(out, expr);
        fprintf(out, "\n");
        if (r->for_ns > 0)
            fprintf(out, "        for: %s\n", forb);
        fprintf(out, "        labels:\n          severity: %s\n", r->severity);
        fprintf(out, "        annotations:\n          summary: ");
        yaml_quoted(out, r->summary);
        fprintf(out, "\n");
        if (r->check == CHECK_GROWTH)
            fprintf(out, "          description: \"moni also requires a linear fit r^2 >= %g; "
                         "Prometheus checks the slope only\"\n",
                    r->min_fit);
    }
    return ferror(out) ? -1 : 0;
}
