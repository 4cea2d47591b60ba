/* core/study-score.c — `moni study report STUDY`: the testers' answers
 * (testers/NAME/answers.jsonl, moni-dataset(5)) scored against the hidden truth, per
 * scenario and condition, next to the machine (the detections and the fused
 * diagnosis of the same anonymised session): CSV and JSON that pandas reads and an
 * HTML page with the MTTD-by-scenario figure and each scenario's run figures. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/report.h"
#include "core/rundir.h"
#include "core/study-int.h"
#include "faults/faults.h"
#include "logparse/logparse.h"

#define MAX_ACCEPT 12
#define MAX_FILES 64
#define MAX_COND 8

struct truth {
    char session[16], scenario[128], kind[32], component[128], root_cause[160], run[PATH_MAX];
    char accept[MAX_ACCEPT][64];
    size_t naccept;
    bool healthy;
    double onset; /* NaN when healthy */
};

/* One tester's play of one session in one condition (or the machine's, cond = -1). */
struct attempt {
    char tester[72];
    size_t sess;
    int cond;
    size_t false_alarms;
    bool detecting; /* a detected answer was seen (a cause answer then is not one) */
    double detect_s;  /* replay time of the first detection at or after the onset */
    char cause[64], component[128];
    bool answered, cause_ok, comp_ok;
    double correct_since; /* replay time from which the causes given stayed right */
    char files[MAX_FILES][96];
    size_t lines[MAX_FILES], nfiles;
};

struct study {
    const char *dir;
    struct truth *t;
    size_t nt;
    char cond[MAX_COND][32];
    size_t ncond;
    struct attempt *a;
    size_t na, cap;
};

/* ---- matching answers to the truth ------------------------------------------------------ */

/* Lower case, letters and digits only: "CPU_Contention" is "cpu_contention". */
static void norm(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s && o + 1 < len; s++)
        if (isalnum((unsigned char)*s))
            out[o++] = (char)tolower((unsigned char)*s);
    out[o] = '\0';
}

static bool same(const char *a, const char *b)
{
    char x[160], y[160];
    norm(a, x, sizeof x);
    norm(b, y, sizeof y);
    return !strcmp(x, y);
}

static bool cause_ok(const struct truth *t, const char *cause)
{
    for (size_t i = 0; i < t->naccept; i++)
        if (same(t->accept[i], cause))
            return true;
    return false;
}

static bool component_ok(const struct truth *t, const char *comp)
{
    return !t->component[0] || same(t->component, comp);
}

/* ---- loading ----------------------------------------------------------------------------- */

static int load_truth(struct study *s, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct moni_json doc;
    snprintf(path, sizeof path, "%s/truth.json", s->dir);
    if (moni_json_load(path, &doc, err, errlen) < 0)
        return -1;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc.root, "sessions"), *o;
    s->nt = (size_t)cJSON_GetArraySize(arr);
    s->t = calloc(s->nt ? s->nt : 1, sizeof *s->t);
    size_t i = 0;
    int rc = cJSON_IsArray(arr) && s->t ? 0 : -1;
    if (rc < 0)
        moni_json_errf(&doc, doc.root, err, errlen, "no sessions array");
    cJSON_ArrayForEach(o, arr)
    {
        struct truth *t = &s->t[i++];
        const cJSON *v;
#define STR(key, dst)                                                                    \
    v = cJSON_GetObjectItemCaseSensitive(o, key);                                        \
    snprintf(dst, sizeof dst, "%s", cJSON_IsString(v) ? v->valuestring : "")
        STR("session", t->session);
        STR("scenario", t->scenario);
        STR("kind", t->kind);
        STR("component", t->component);
        STR("root_cause", t->root_cause);
        STR("run", t->run);
#undef STR
        v = cJSON_GetObjectItemCaseSensitive(o, "onset_s");
        t->healthy = !cJSON_IsNumber(v);
        t->onset = t->healthy ? NAN : v->valuedouble;
        const cJSON *acc = cJSON_GetObjectItemCaseSensitive(o, "accept"), *x;
        cJSON_ArrayForEach(x, acc) if (cJSON_IsString(x) && t->naccept < MAX_ACCEPT)
            snprintf(t->accept[t->naccept++], sizeof t->accept[0], "%s", x->valuestring);
        if (!t->session[0] && rc == 0) {
            moni_json_errf(&doc, o, err, errlen, "a session without its \"session\" id");
            rc = -1;
        }
    }
    moni_json_free(&doc);
    return rc;
}

static int load_conditions(struct study *s, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct moni_json doc;
    snprintf(path, sizeof path, "%s/study.json", s->dir);
    if (moni_json_load(path, &doc, err, errlen) < 0)
        return -1;
    const cJSON *c, *arr = cJSON_GetObjectItemCaseSensitive(doc.root, "conditions");
    cJSON_ArrayForEach(c, arr) if (cJSON_IsString(c) && s->ncond < MAX_COND)
        snprintf(s->cond[s->ncond++], sizeof s->cond[0], "%s", c->valuestring);
    int rc = 0;
    if (!s->ncond) {
        moni_json_errf(&doc, arr ? arr : doc.root, err, errlen, "no conditions");
        rc = -1;
    }
    moni_json_free(&doc);
    return rc;
}

static long find_session(const struct study *s, const char *id)
{
    for (size_t i = 0; i < s->nt; i++)
        if (!strcmp(s->t[i].session, id))
            return (long)i;
    return -1;
}

static int find_cond(const struct study *s, const char *c)
{
    for (size_t i = 0; i < s->ncond; i++)
        if (!strcmp(s->cond[i], c))
            return (int)i;
    return -1;
}

static struct attempt *attempt_get(struct study *s, const char *tester, size_t sess, int cond)
{
    for (size_t i = 0; i < s->na; i++)
        if (s->a[i].sess == sess && s->a[i].cond == cond && !strcmp(s->a[i].tester, tester))
            return &s->a[i];
    if (s->na == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct attempt *n = realloc(s->a, cap * sizeof *n);
        if (!n)
            return NULL;
        s->a = n;
        s->cap = cap;
    }
    struct attempt *a = &s->a[s->na++];
    memset(a, 0, sizeof *a);
    snprintf(a->tester, sizeof a->tester, "%s", tester);
    a->sess = sess;
    a->cond = cond;
    a->detect_s = a->correct_since = NAN;
    return a;
}

/* ---- one answer -------------------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A detection event at replay time t (a detected answer, or a cause other than
 * "healthy" given without one): before the onset a false alarm, else the first one is the detection. */
static void detection_event(struct attempt *a, const struct truth *t, double r)
{
    if (t->healthy || r < t->onset)
        a->false_alarms++;
    else if (isnan(a->detect_s))
        a->detect_s = r;
}

static void apply_cause(struct attempt *a, const struct truth *t, const cJSON *o, double r)
{
    const char *comp = jstr(o, "component");
    snprintf(a->cause, sizeof a->cause, "%s", jstr(o, "cause"));
    snprintf(a->component, sizeof a->component, "%s", comp ? comp : "");
    a->answered = true;
    a->cause_ok = cause_ok(t, a->cause);
    a->comp_ok = component_ok(t, a->component);
    if (!(a->cause_ok && a->comp_ok))
        a->correct_since = NAN;
    else if (isnan(a->correct_since))
        a->correct_since = r;
}

static void apply_log(struct attempt *a, const char *file, double lines)
{
    size_t i = 0;
    while (i < a->nfiles && strcmp(a->files[i], file))
        i++;
    if (i == a->nfiles) {
        if (a->nfiles == MAX_FILES)
            return;
        snprintf(a->files[a->nfiles++], sizeof a->files[0], "%s", file);
    }
    if (lines > (double)a->lines[i])
        a->lines[i] = (size_t)lines;
}

/* Checks and applies one answer line: 0, or -1 with "FILE:LINE: field: what". */
static int apply_answer(struct study *s, struct rundir_lines *l, const cJSON *o)
{
    static const char *const kinds[] = {"start", "detected", "cause", "log", "done", NULL};
    const char *tester = jstr(o, "tester"), *sess = jstr(o, "session"), *cond = jstr(o, "condition");
    const char *kind = jstr(o, "kind");
    if (!tester || !*tester)
        return rundir_lines_bad(l, "tester", "missing");
    long si = sess ? find_session(s, sess) : -1;
    if (si < 0)
        return rundir_lines_bad(l, "session", "'%s' is not a session of this study", sess ? sess : "");
    int ci = cond ? find_cond(s, cond) : -1;
    if (ci < 0)
        return rundir_lines_bad(l, "condition", "'%s' is not a condition of this study", cond ? cond : "");
    size_t k = 0;
    while (kind && kinds[k] && strcmp(kinds[k], kind))
        k++;
    if (!kind || !kinds[k])
        return rundir_lines_bad(l, "kind", "'%s': one of start, detected, cause, log, done",
                                kind ? kind : "");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(o, "replay_s");
    double r = cJSON_IsNumber(rv) ? rv->valuedouble : NAN;
    bool timed = !strcmp(kind, "detected") || !strcmp(kind, "cause");
    if ((timed || rv) && !(r >= 0))
        return rundir_lines_bad(l, "replay_s", "must be a number >= 0");
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(o, "confidence");
    if (cf && !(cJSON_IsNumber(cf) && cf->valuedouble >= 0 && cf->valuedouble <= 1))
        return rundir_lines_bad(l, "confidence", "must be a number from 0 to 1");
    if (!strcmp(kind, "cause") && !(jstr(o, "cause") && *jstr(o, "cause")))
        return rundir_lines_bad(l, "cause", "missing (a label of the vocabulary)");
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(o, "lines");
    if (!strcmp(kind, "log") && !(jstr(o, "file") && *jstr(o, "file")))
        return rundir_lines_bad(l, "file", "missing");
    if (ln && !(cJSON_IsNumber(ln) && ln->valuedouble >= 0))
        return rundir_lines_bad(l, "lines", "must be a number >= 0");
    struct attempt *a = attempt_get(s, tester, (size_t)si, ci);
    if (!a)
        return rundir_lines_bad(l, "(line)", "out of memory");
    const struct truth *t = &s->t[si];
    if (!strcmp(kind, "detected")) {
        a->detecting = true;
        detection_event(a, t, r);
    } else if (!strcmp(kind, "cause")) {
        /* "healthy" says there is nothing to detect: no detection, no false alarm */
        if (!a->detecting && strcmp(jstr(o, "cause"), "healthy")) {
            a->detecting = true;
            detection_event(a, t, r);
        }
        apply_cause(a, t, o, r);
    } else if (!strcmp(kind, "log")) {
        apply_log(a, jstr(o, "file"), ln ? ln->valuedouble : 0);
    }
    return 0;
}

static int load_answers_file(struct study *s, const char *dir, char *err, size_t errlen)
{
    struct rundir_lines l;
    if (rundir_lines_open(&l, dir, "answers.jsonl") < 0)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s/answers.jsonl: %s", dir, strerror(errno)), -1);
    char *line;
    size_t len;
    int rc = 0;
    while (rc == 0 && rundir_lines_next(&l, &line, &len) == 1) {
        cJSON *o = cJSON_ParseWithLength(line, len);
        if (!cJSON_IsObject(o))
            rc = rundir_lines_bad(&l, "(line)", "not a JSON object");
        else
            rc = apply_answer(s, &l, o);
        cJSON_Delete(o);
    }
    if (rc < 0)
        snprintf(err, errlen, "%s", l.err);
    rundir_lines_close(&l);
    return rc;
}

static int load_answers(struct study *s, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/testers", s->dir);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0)
        return 0; /* no tester has played yet */
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && names[i]->d_name[0] != '.') {
            char d[PATH_MAX];
            snprintf(d, sizeof d, "%s/%s", path, names[i]->d_name);
            rc = load_answers_file(s, d, err, errlen);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ---- the machine on the same session ---------------------------------------------------- */

static bool names_effect(const char *kind, const char *label)
{
    const struct fault_ops *ops = fault_find(kind);
    const char *p = ops && ops->effect_labels ? ops->effect_labels : "";
    size_t n = strlen(label);
    while (*p) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, label, n))
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

/* The machine's attempt at session i: the first detection at or after the onset that
 * names the fault's effect (the kind's effect_labels), detections before it false
 * alarms, and the fused diagnosis's root cause and component as its answer. */
static void machine_attempt(struct study *s, size_t i, const struct lp_rules *rules,
                            const struct det_config *cfg)
{
    const struct truth *t = &s->t[i];
    struct attempt *a = attempt_get(s, "machine", i, -1);
    if (!a)
        return;
    char dir[PATH_MAX], err[512];
    snprintf(dir, sizeof dir, "%s/sessions/%s", s->dir, t->session);
    int64_t t0 = 0, offset = 0;
    struct rundir_meta m;
    if (rundir_meta_load(dir, &m, err, sizeof err) == 0) {
        offset = m.has_clock_offset ? m.clock_offset_ns : 0;
        rundir_meta_free(&m);
    }
    struct rundir_samples sm;
    if (rundir_samples_open(&sm, dir, err, sizeof err) == 0) {
        struct rundir_sample row;
        int rc;
        while (!t0 && (rc = rundir_samples_next(&sm, &row)) != 0)
            if (rc > 0)
                t0 = row.mono ? row.mono : row.real ? row.real - offset : 0;
        rundir_samples_close(&sm);
    }
    struct rundir_jsonl j;
    if (rundir_jsonl_open(&j, dir, "detections.jsonl") == 0) {
        struct rundir_detection d;
        int rc;
        while ((rc = rundir_detection_next(&j, &d)) != 0) {
            if (rc < 0)
                continue;
            double r = (double)(rundir_mono(&d.t, offset) - t0) / 1e9;
            if (t->healthy || r < t->onset)
                a->false_alarms++;
            else if (isnan(a->detect_s) && names_effect(t->kind, d.label))
                a->detect_s = r;
        }
        rundir_jsonl_close(&j);
    }
    struct run_diagnosis *rd = malloc(sizeof *rd);
    struct lp_diagnosis *logd =
        rd && rules ? run_diagnose_dir(rules, dir, cfg, false, NULL, 0, rd, err, sizeof err) : NULL;
    if (logd) {
        cJSON *lj = lp_diagnosis_json(logd);
        const char *comp = lj ? jstr(lj, "component") : NULL;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "cause", rd->healthy || !rd->ncauses ? "healthy" : rd->causes[0].label);
        cJSON_AddStringToObject(o, "component", comp ? comp : "");
        apply_cause(a, t, o, isnan(a->detect_s) ? 0 : a->detect_s);
        cJSON_Delete(o);
        cJSON_Delete(lj);
        lp_diagnosis_free(logd);
    }
    free(rd);
}

/* ---- numbers ------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double study_percentile(const double *v, size_t n, double p)
{
    if (!n)
        return NAN;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return NAN;
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double pos = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    double x = c[lo] + (c[hi] - c[lo]) * (pos - (double)lo);
    free(c);
    return x;
}

/* ---- scores per scenario and condition ----------------------------------------------------- */

struct score {
    const char *scenario;
    int cond;          /* -1: the machine */
    bool healthy;
    size_t n, detected, answered, misdiagnosed, false_alarms;
    double mttd_med, mttd_p90, mttd_mean, diag_med, diag_p90, files_mean, lines_mean;
};

static double attempt_mttd(const struct study *s, const struct attempt *a)
{
    return isnan(a->detect_s) ? NAN : a->detect_s - s->t[a->sess].onset;
}

static double attempt_diag(const struct study *s, const struct attempt *a)
{
    return isnan(a->correct_since) || s->t[a->sess].healthy
               ? NAN
               : fmax(0, a->correct_since - s->t[a->sess].onset);
}

static size_t attempt_lines(const struct attempt *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nfiles; i++)
        n += a->lines[i];
    return n;
}

static void score_one(const struct study *s, const char *scenario, int cond, struct score *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->scenario = scenario;
    sc->cond = cond;
    double *mt = malloc((s->na + 1) * sizeof *mt), *dg = malloc((s->na + 1) * sizeof *dg);
    size_t nm = 0, nd = 0, files = 0, lines = 0;
    for (size_t i = 0; mt && dg && i < s->na; i++) {
        const struct attempt *a = &s->a[i];
        const struct truth *t = &s->t[a->sess];
        if (a->cond != cond || strcmp(t->scenario, scenario))
            continue;
        sc->healthy = t->healthy;
        sc->n++;
        sc->false_alarms += a->false_alarms;
        files += a->nfiles;
        lines += attempt_lines(a);
        if (!isnan(a->detect_s)) {
            sc->detected++;
            mt[nm++] = attempt_mttd(s, a);
        }
        if (a->answered) {
            sc->answered++;
            sc->misdiagnosed += !(a->cause_ok && a->comp_ok);
        }
        if (!isnan(attempt_diag(s, a)))
            dg[nd++] = attempt_diag(s, a);
    }
    double sum = 0;
    for (size_t i = 0; i < nm; i++)
        sum += mt[i];
    sc->mttd_med = study_percentile(mt, nm, 50);
    sc->mttd_p90 = study_percentile(mt, nm, 90);
    sc->mttd_mean = nm ? sum / (double)nm : NAN;
    sc->diag_med = study_percentile(dg, nd, 50);
    sc->diag_p90 = study_percentile(dg, nd, 90);
    sc->files_mean = sc->n ? (double)files / (double)sc->n : NAN;
    sc->lines_mean = sc->n ? (double)lines / (double)sc->n : NAN;
    free(mt);
    free(dg);
}

static double ratio(size_t a, size_t b)
{
    return b ? (double)a / (double)b : NAN;
}

static const char *cond_name(const struct study *s, int c)
{
    return c < 0 ? "machine" : s->cond[c];
}

static void json_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static const char *const score_cols[] = {
    "scenario", "condition", "attempts", "detected", "detection_rate", "mttd_median_s",
    "mttd_p90_s", "mttd_mean_s", "diagnose_median_s", "diagnose_p90_s", "answered",
    "misdiagnosed", "misdiagnosis_rate", "false_alarms", "false_alarms_per_attempt",
    "log_files_mean", "log_lines_mean", NULL,
};

static void score_values(const struct score *sc, double *v)
{
    double n = (double)sc->n;
    double vals[] = {n, (double)sc->detected, sc->healthy ? NAN : ratio(sc->detected, sc->n),
                     sc->mttd_med, sc->mttd_p90, sc->mttd_mean, sc->diag_med, sc->diag_p90,
                     (double)sc->answered, (double)sc->misdiagnosed,
                     ratio(sc->misdiagnosed, sc->answered), (double)sc->false_alarms,
                     ratio(sc->false_alarms, sc->n), sc->files_mean, sc->lines_mean};
    memcpy(v, vals, sizeof vals);
}

/* One table of the report as NAME.csv (header: cols; a number cell empty for NaN,
 * which pandas reads as NaN) and NAME.json (an array of objects): row() writes row
 * i's CSV cells and fills its object. */
typedef void table_row_fn(const struct study *s, const void *rows, size_t i,
                          struct moni_csv_row *csv, cJSON *o);

static int write_table(const struct study *s, const char *out, const char *name,
                       const char *const *cols, const void *rows, size_t n, table_row_fn *row,
                       char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.csv", out, name);
    FILE *f = fopen(path, "w");
    cJSON *arr = cJSON_CreateArray();
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        cJSON_Delete(arr);
        return -1;
    }
    struct moni_csv_row csv = {f, 0};
    for (size_t c = 0; cols[c]; c++)
        moni_csv_text(&csv, cols[c]);
    moni_csv_end(&csv);
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        row(s, rows, i, &csv, o);
        moni_csv_end(&csv);
        cJSON_AddItemToArray(arr, o);
    }
    int rc = fclose(f) == 0 ? 0 : -1;
    snprintf(path, sizeof path, "%s/%s.json", out, name);
    if (rc == 0)
        rc = study_write_json(path, arr, 0644, err, errlen);
    else
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    cJSON_Delete(arr);
    return rc;
}

/* A row of scores.csv: one scenario in one condition. */
static void score_row(const struct study *s, const void *rows, size_t i, struct moni_csv_row *csv,
                      cJSON *o)
{
    const struct score *sc = (const struct score *)rows + i;
    double v[15];
    score_values(sc, v);
    moni_csv_fmt(csv, "%s", sc->scenario);
    moni_csv_fmt(csv, "%s", cond_name(s, sc->cond));
    cJSON_AddStringToObject(o, "scenario", sc->scenario);
    cJSON_AddStringToObject(o, "condition", cond_name(s, sc->cond));
    for (size_t k = 0; k < 15; k++) {
        moni_csv_num(csv, "%.6g", v[k]);
        json_num(o, score_cols[k + 2], v[k]);
    }
}

static const char *const attempt_cols[] = {
    "tester", "session", "scenario", "condition", "onset_s", "detect_s", "mttd_s", "false_alarms",
    "cause", "component", "cause_correct", "component_correct", "misdiagnosed", "diagnose_s",
    "log_files", "log_lines", NULL,
};

/* A row of attempts.csv: every attempt, the numbers behind the scores, for re-analysis. */
static void attempt_row(const struct study *s, const void *rows, size_t i,
                        struct moni_csv_row *csv, cJSON *o)
{
    const struct attempt *a = (const struct attempt *)rows + i;
    const struct truth *t = &s->t[a->sess];
    const char *text[] = {a->tester, t->session, t->scenario, cond_name(s, a->cond)};
    for (size_t k = 0; k < MONI_ARRAY_LEN(text); k++)
        moni_csv_fmt(csv, "%s", text[k]);
    double v[] = {t->onset, a->detect_s, attempt_mttd(s, a), (double)a->false_alarms};
    for (size_t k = 0; k < 4; k++)
        moni_csv_num(csv, "%.6g", v[k]);
    moni_csv_fmt(csv, "%s", a->cause);
    moni_csv_fmt(csv, "%s", a->component);
    moni_csv_fmt(csv, "%d", a->answered && a->cause_ok);
    moni_csv_fmt(csv, "%d", a->answered && a->comp_ok);
    moni_csv_fmt(csv, "%d", a->answered && !(a->cause_ok && a->comp_ok));
    moni_csv_num(csv, "%.6g", attempt_diag(s, a));
    moni_csv_fmt(csv, "%zu", a->nfiles);
    moni_csv_fmt(csv, "%zu", attempt_lines(a));
    cJSON_AddStringToObject(o, "tester", a->tester);
    cJSON_AddStringToObject(o, "session", t->session);
    cJSON_AddStringToObject(o, "scenario", t->scenario);
    cJSON_AddStringToObject(o, "condition", cond_name(s, a->cond));
    json_num(o, "onset_s", t->onset);
    json_num(o, "detect_s", a->detect_s);
    json_num(o, "mttd_s", attempt_mttd(s, a));
    cJSON_AddNumberToObject(o, "false_alarms", (double)a->false_alarms);
    cJSON_AddStringToObject(o, "cause", a->cause);
    cJSON_AddStringToObject(o, "component", a->component);
    cJSON_AddBoolToObject(o, "misdiagnosed", a->answered && !(a->cause_ok && a->comp_ok));
    json_num(o, "diagnose_s", attempt_diag(s, a));
    cJSON_AddNumberToObject(o, "log_files", (double)a->nfiles);
    cJSON_AddNumberToObject(o, "log_lines", (double)attempt_lines(a));
}

/* ---- the page ------------------------------------------------------------------------------ */

static void html_table(FILE *f, const struct study *s, const struct score *sc, size_t n)
{
    fprintf(f, "<div style=\"overflow-x:auto\"><table>\n<tr>");
    for (size_t c = 0; score_cols[c]; c++) {
        fprintf(f, "<th>");
        report_html_text(f, score_cols[c]);
        fprintf(f, "</th>");
    }
    fprintf(f, "</tr>\n");
    for (size_t i = 0; i < n; i++) {
        double v[15];
        score_values(&sc[i], v);
        fprintf(f, "<tr><td style=\"text-align:left\">");
        report_html_text(f, sc[i].scenario);
        fprintf(f, "</td><td style=\"text-align:left\">");
        report_html_text(f, cond_name(s, sc[i].cond));
        fprintf(f, "</td>");
        for (size_t k = 0; k < 15; k++)
            if (isfinite(v[k]))
                fprintf(f, "<td>%.3g</td>", v[k]);
            else
                fprintf(f, "<td>-</td>");
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></div>\n");
}

/* MTTD by scenario: one bar per condition and one for the machine. */
static void html_bars(FILE *f, const struct study *s, const struct score *sc, size_t n,
                      const char *const *scen, size_t nscen)
{
    size_t ns = s->ncond + 1, ng = 0;
    const char **groups = calloc(nscen + 1, sizeof *groups);
    const char **series = calloc(ns, sizeof *series);
    double *med = calloc((nscen + 1) * ns, sizeof *med), *p90 = calloc((nscen + 1) * ns, sizeof *p90);
    size_t *att = calloc((nscen + 1) * ns, sizeof *att);
    if (!groups || !series || !med || !p90 || !att)
        goto out;
    for (size_t k = 0; k < s->ncond; k++)
        series[k] = s->cond[k];
    series[s->ncond] = "machine";
    for (size_t g = 0; g < nscen; g++) {
        bool healthy = false;
        for (size_t k = 0; k < ns; k++)
            med[ng * ns + k] = p90[ng * ns + k] = NAN;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(sc[i].scenario, scen[g]))
                continue;
            healthy |= sc[i].healthy;
            size_t k = sc[i].cond < 0 ? s->ncond : (size_t)sc[i].cond;
            med[ng * ns + k] = sc[i].mttd_med;
            p90[ng * ns + k] = sc[i].mttd_p90;
            att[ng * ns + k] = sc[i].n;
        }
        if (!healthy) /* a healthy run has no time to detect */
            groups[ng++] = scen[g];
    }
    struct report_bars b = {.title = "MTTD by scenario: humans per condition next to the machine",
                            .unit = "seconds from the fault's onset to its detection",
                            .ngroups = ng, .nseries = ns, .groups = groups, .series = series,
                            .median = med, .p90 = p90, .attempts = att};
    report_fig_bars(f, &b);
out:
    free(att);
    free(groups);
    free(series);
    free(med);
    free(p90);
}

/* The run figures of each scenario, from the original run when it is still there
 * (else the anonymised copy): the page is for after the study and shows the truth. */
static void html_runs(FILE *f, const struct study *s)
{
    for (size_t i = 0; i < s->nt; i++) {
        const struct truth *t = &s->t[i];
        char dir[PATH_MAX], err[512];
        snprintf(dir, sizeof dir, "%s", t->run);
        if (!dataset_is_run_dir(dir))
            snprintf(dir, sizeof dir, "%s/sessions/%s", s->dir, t->session);
        struct report_run r;
        if (report_run_load(dir, &r, err, sizeof err) < 0)
            continue;
        fprintf(f, "<h3>");
        report_html_text(f, t->scenario);
        fprintf(f, " (session %s): ", t->session);
        report_html_text(f, t->healthy ? "healthy" : t->root_cause[0] ? t->root_cause : t->kind);
        if (t->component[0]) {
            fprintf(f, " in ");
            report_html_text(f, t->component);
        }
        fprintf(f, "</h3>\n<p>Counted as the right cause:");
        for (size_t k = 0; k < t->naccept; k++) {
            fprintf(f, " ");
            report_html_text(f, t->accept[k]);
        }
        fprintf(f, ".</p>\n");
        report_fig_path(f, &r, false);
        report_fig_metrics(f, &r, false);
        report_run_free(&r);
    }
}

static int write_html(const struct study *s, const struct score *sc, size_t n,
                      const char *const *scen, size_t nscen, const char *out, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/report.html", out);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    report_html_begin(f, "moni study report");
    fprintf(f, "<p>%zu sessions, %zu condition%s, %zu attempts (the machine's included).</p>\n",
            s->nt, s->ncond, s->ncond == 1 ? "" : "s", s->na);
    fprintf(f, "<h2>MTTD by scenario</h2>\n");
    html_bars(f, s, sc, n, scen, nscen);
    fprintf(f, "<h2>Scores per scenario and condition</h2>\n");
    html_table(f, s, sc, n);
    fprintf(f, "<h2>The runs</h2>\n");
    html_runs(f, s);
    report_html_end(f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the command ------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_summary(FILE *out, const struct study *s, const struct score *sc, size_t n)
{
    fprintf(out, "%-28s %-8s %5s %8s %9s %9s %8s %7s\n", "scenario", "cond", "n", "detected",
            "mttd_med", "mttd_p90", "misdiag", "alarms");
    for (size_t i = 0; i < n; i++) {
        char med[16] = "-", p90[16] = "-", mis[16] = "-";
        if (isfinite(sc[i].mttd_med))
            snprintf(med, sizeof med, "%.1fs", sc[i].mttd_med);
        if (isfinite(sc[i].mttd_p90))
            snprintf(p90, sizeof p90, "%.1fs", sc[i].mttd_p90);
        if (sc[i].answered)
            snprintf(mis, sizeof mis, "%zu/%zu", sc[i].misdiagnosed, sc[i].answered);
        fprintf(out, "%-28s %-8s %5zu %8zu %9s %9s %8s %7zu\n", sc[i].scenario,
                cond_name(s, sc[i].cond), sc[i].n, sc[i].detected, med, p90, mis, sc[i].false_alarms);
    }
}

static int score_all(struct study *s, const char *out, FILE *summary, char *err, size_t errlen)
{
    const char **scen = calloc(s->nt + 1, sizeof *scen);
    struct score *sc = calloc((s->nt + 1) * (s->ncond + 1), sizeof *sc);
    size_t nscen = 0, n = 0;
    if (!scen || !sc) {
        free(scen);
        free(sc);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->nt; i++) {
        bool seen = false;
        for (size_t k = 0; k < nscen && !seen; k++)
            seen = !strcmp(scen[k], s->t[i].scenario);
        if (!seen)
            scen[nscen++] = s->t[i].scenario;
    }
    qsort(scen, nscen, sizeof *scen, cmp_str);
    for (size_t g = 0; g < nscen; g++)
        for (int c = 0; c <= (int)s->ncond; c++)
            score_one(s, scen[g], c == (int)s->ncond ? -1 : c, &sc[n++]);
    int rc = write_table(s, out, "scores", score_cols, sc, n, score_row, err, errlen);
    if (rc == 0)
        rc = write_table(s, out, "attempts", attempt_cols, s->a, s->na, attempt_row, err, errlen);
    if (rc == 0)
        rc = write_html(s, sc, n, scen, nscen, out, err, errlen);
    if (rc == 0 && summary)
        print_summary(summary, s, sc, n);
    free(scen);
    free(sc);
    return rc;
}

int study_report(const char *study, FILE *out, char *err, size_t errlen)
{
    struct study s = {.dir = study};
    int rc = load_conditions(&s, err, errlen);
    if (rc == 0)
        rc = load_truth(&s, err, errlen);
    if (rc == 0)
        rc = load_answers(&s, err, errlen);
    if (rc == 0) {
        char e[512];
        /* the machine as `moni diagnose` runs it: built-in and user rules, the
         * detectors' shipped parameters */
        struct lp_rules *rules = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN | LP_LOAD_USER, e, sizeof e);
        struct det_config cfg;
        bool have_cfg = det_config_load(&cfg, NULL, e, sizeof e) == 0;
        for (size_t i = 0; i < s.nt; i++)
            machine_attempt(&s, i, have_cfg ? rules : NULL, &cfg);
        if (have_cfg)
            det_config_free(&cfg);
        lp_rules_free(rules);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/report", study);
        if (moni_mkdir_p(dir, 0755) < 0) {
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
            rc = -1;
        } else {
            rc = score_all(&s, dir, out, err, errlen);
        }
    }
    free(s.t);
    free(s.a);
    return rc;
}
