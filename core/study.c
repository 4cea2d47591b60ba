/* core/study.c — `moni study new`: a blind MTTD study directory from recorded runs.
 *
 *   STUDY/study.json            conditions, testers, session ids (no truth)
 *   STUDY/truth.json            hidden truth per session (mode 0600): the run, its
 *                               scenario, the first fired fault, its onset on the
 *                               replay clock, the causes and component that count
 *   STUDY/sessions/sNN/         anonymised copies of the runs: no journal, ground
 *                               truth, labels, marks, control file; meta.json without
 *                               plan, experiment, labels or argv; the run's path
 *                               replaced by "/run" in every copied file
 *   STUDY/testers/NAME/order.json   the sessions in the tester's shuffled order
 *   STUDY/testers/NAME/answers.jsonl  written while the tester plays (moni-dataset(5))
 *
 * Runs are read through core/rundir.h; the truth file and order files are written
 * whole (a temporary file, renamed). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/report.h"
#include "core/rundir.h"
#include "faults/faults.h"
#include "logparse/logparse.h"
#include "core/study-int.h"

static const char *const known_conditions[] = {"logs", "full", NULL};

bool study_condition_known(const char *c)
{
    for (size_t i = 0; known_conditions[i]; i++)
        if (!strcmp(known_conditions[i], c))
            return true;
    return false;
}

/* ---- a seeded shuffle (splitmix64: the same order for the same seed everywhere) -------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void shuffle(size_t *v, size_t n, uint64_t seed)
{
    for (size_t i = n; i > 1; i--) {
        size_t k = (size_t)(splitmix(&seed) % i);
        size_t t = v[i - 1];
        v[i - 1] = v[k];
        v[k] = t;
    }
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* ---- writing whole files ------------------------------------------------------------ */

int study_write_file(const char *path, const char *text, size_t len, mode_t mode, char *err,
                     size_t errlen)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 || moni_write_all(fd, text, len) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
        rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
        return -1;
    }
    return 0;
}

int study_write_json(const char *path, const cJSON *o, mode_t mode, char *err, size_t errlen)
{
    char *s = cJSON_Print(o);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (t) {
        s = t;
        s[n++] = '\n';
        s[n] = '\0';
    }
    int rc = study_write_file(path, s, n, mode, err, errlen);
    free(s);
    return rc;
}

/* ---- truth of one run ----------------------------------------------------------------- */

struct study_run {
    char path[PATH_MAX];
    char scenario[128];
};

struct collect {
    struct study_run *runs;
    size_t n, cap;
};

/* "NAME.attemptN": a failed attempt the queue kept beside its retry (core/queue.c).
 * The retry is the session; the attempt would be a second, half-run copy of it. */
static bool failed_attempt(const char *run)
{
    const char *b = strrchr(run, '/');
    b = b ? b + 1 : run;
    const char *a = strstr(b, ".attempt");
    while (a && strstr(a + 1, ".attempt"))
        a = strstr(a + 1, ".attempt");
    if (!a || a == b || !a[8])
        return false;
    for (const char *p = a + 8; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static int collect_run(const char *run, void *arg)
{
    struct collect *c = arg;
    if (failed_attempt(run)) {
        moni_warn("study new: %s left out: a failed attempt kept beside its retry", run);
        return MONI_EXIT_OK;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct study_run *r = realloc(c->runs, cap * sizeof *r);
        if (!r)
            return MONI_EXIT_FAIL;
        c->runs = r;
        c->cap = cap;
    }
    struct study_run *r = &c->runs[c->n++];
    if (!realpath(run, r->path))
        snprintf(r->path, sizeof r->path, "%s", run);
    const char *b = strrchr(r->path, '/');
    snprintf(r->scenario, sizeof r->scenario, "%s", b ? b + 1 : r->path);
    return MONI_EXIT_OK;
}

/* The first sample's monotonic time: zero of the replay clock. */
static int64_t first_sample_mono(const char *dir, int64_t offset)
{
    struct rundir_samples s;
    char err[256];
    if (rundir_samples_open(&s, dir, err, sizeof err) < 0)
        return 0;
    struct rundir_sample row;
    int rc;
    int64_t t0 = 0;
    while (!t0 && (rc = rundir_samples_next(&s, &row)) != 0)
        if (rc > 0)
            t0 = row.mono ? row.mono : row.real ? row.real - offset : 0;
    rundir_samples_close(&s);
    return t0;
}

/* The plan's label for fault_id from meta.json, or its whole-run label. */
static const char *plan_root_cause(const struct rundir_meta *m, const char *fault_id)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, m->fault_labels)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "fault_id");
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(f, "root_cause");
        if (cJSON_IsString(id) && !strcmp(id->valuestring, fault_id) && cJSON_IsString(rc) &&
            rc->valuestring[0])
            return rc->valuestring;
    }
    return m->global_root_cause && m->global_root_cause[0] ? m->global_root_cause : "";
}

/* The component a multi-process fault names: "x@train_worker_3:stage" of a plan label,
 * else the longest logs/ name found in its target and parameters ("train_worker.3."). */
static void truth_component(const char *dir, const char *root_cause, const char *where,
                            char *out, size_t len)
{
    out[0] = '\0';
    const char *at = strchr(root_cause, '@');
    if (at) {
        snprintf(out, len, "%.*s", (int)strcspn(at + 1, ":"), at + 1);
        return;
    }
    char text[1024];
    snprintf(text, sizeof text, "%s", where);
    for (char *c = text; *c; c++)
        if (*c == '.')
            *c = '_';
    struct rundir_logs it;
    if (rundir_logs_open(&it, dir) < 0)
        return;
    const char *name;
    while ((name = rundir_logs_next(&it))) {
        size_t n = strlen(name);
        if (n > 4 && !strcmp(name + n - 4, ".log") && n - 4 > strlen(out) && n - 4 < len) {
            char comp[128];
            snprintf(comp, sizeof comp, "%.*s", (int)(n - 4), name);
            if (strstr(text, comp))
                snprintf(out, len, "%s", comp);
        }
    }
    rundir_logs_close(&it);
}

static void add_labels(cJSON *arr, const char *list)
{
    while (list && *list) {
        size_t k = strcspn(list, ",");
        char one[64];
        snprintf(one, sizeof one, "%.*s", (int)k, list);
        if (one[0])
            cJSON_AddItemToArray(arr, cJSON_CreateString(one));
        list += k + (list[k] == ',');
    }
}

/* One session's truth object; NULL with err when the run cannot be read. */
static cJSON *run_truth(const struct study_run *run, const char *session, const char *accept,
                        char *err, size_t errlen)
{
    struct rundir_meta m;
    if (rundir_meta_load(run->path, &m, err, errlen) < 0)
        return NULL;
    int64_t offset = m.has_clock_offset ? m.clock_offset_ns : 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session", session);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(m.root, "experiment");
    cJSON_AddStringToObject(o, "scenario", cJSON_IsString(exp) ? exp->valuestring : run->scenario);
    cJSON_AddStringToObject(o, "run", run->path);
    struct rundir_logs it;
    bool multi = rundir_logs_open(&it, run->path) == 0;
    if (multi)
        rundir_logs_close(&it);
    cJSON_AddBoolToObject(o, "multi_process", multi);
    int64_t t0 = first_sample_mono(run->path, offset);
    /* the first fault that fired */
    struct rundir_jsonl j;
    struct rundir_fault f;
    bool found = false, opened = rundir_jsonl_open(&j, run->path, "faults.jsonl") == 0;
    if (opened) {
        int rc;
        while (!found && (rc = rundir_fault_next(&j, &f)) != 0)
            found = rc > 0 && !strcmp(f.event, "fired");
    }
    const char *global = m.global_label && m.global_label[0] ? m.global_label : NULL;
    if (!found && global) { /* a whole-run label (lr 1e-9): wrong from the first second */
        cJSON_AddBoolToObject(o, "healthy", false);
        cJSON_AddNumberToObject(o, "onset_s", 0);
        cJSON_AddStringToObject(o, "root_cause",
                                m.global_root_cause && m.global_root_cause[0] ? m.global_root_cause : global);
        add_labels(cJSON_AddArrayToObject(o, "accept"), accept ? accept : global);
        cJSON_AddStringToObject(o, "component", "");
    } else if (!found) {
        cJSON_AddBoolToObject(o, "healthy", true);
        cJSON_AddNullToObject(o, "onset_s");
        cJSON_AddStringToObject(o, "root_cause", "healthy");
        add_labels(cJSON_AddArrayToObject(o, "accept"), accept ? accept : "healthy");
        cJSON_AddStringToObject(o, "component", "");
    } else {
        cJSON_AddBoolToObject(o, "healthy", false);
        cJSON_AddStringToObject(o, "fault_id", f.fault_id);
        cJSON_AddStringToObject(o, "kind", f.kind);
        cJSON_AddNumberToObject(o, "onset_s",
                                t0 ? (double)(rundir_mono(&f.t, offset) - t0) / 1e9 : 0);
        const char *rc = f.root_cause[0] ? f.root_cause : plan_root_cause(&m, f.fault_id);
        cJSON_AddStringToObject(o, "root_cause", rc);
        /* what counts as the right cause: --accept, else the plan's label (its cause
         * part), else the labels the kind's effect shows as */
        cJSON *acc = cJSON_AddArrayToObject(o, "accept");
        const struct fault_ops *ops = fault_find(f.kind);
        if (accept)
            add_labels(acc, accept);
        else if (rc[0]) {
            char cause[128];
            snprintf(cause, sizeof cause, "%.*s", (int)strcspn(rc, "@"), rc);
            add_labels(acc, cause);
        } else
            add_labels(acc, ops ? ops->effect_labels : f.kind);
        char comp[128] = "", where[1024];
        char *p = f.params ? cJSON_PrintUnformatted(f.params) : NULL;
        snprintf(where, sizeof where, "%s %s", f.target, p ? p : "");
        free(p);
        if (multi)
            truth_component(run->path, rc, where, comp, sizeof comp);
        cJSON_AddStringToObject(o, "component", comp);
    }
    if (opened)
        rundir_jsonl_close(&j);
    rundir_meta_free(&m);
    return o;
}

/* ---- the anonymised copy ------------------------------------------------------------- */

/* Files a tester may see.  Everything else (faults.jsonl, ground_truth.csv, labels.csv,
 * tse_matrix.csv, windows.json, marks.jsonl, control, checkpoints, reports) stays out. */
static const char *const visible_files[] = {
    "samples.csv", "workload.log", "workload.idx", "events.jsonl", "detections.jsonl",
    "alerts.jsonl", NULL,
};

/* Copies src to dst with every occurrence of `hide` replaced by "/run". */
static int copy_scrubbed(const char *src, const char *dst, const char *hide, char *err, size_t errlen)
{
    size_t len;
    char *text = moni_read_file(src, &len);
    if (!text) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", src, strerror(errno));
        return -1;
    }
    size_t hl = strlen(hide), o = 0;
    char *out = malloc(len + 1);
    if (!out) {
        free(text);
        snprintf(err, errlen, "%s: out of memory", src);
        return -1;
    }
    for (size_t i = 0; i < len;) {
        if (hl && i + hl <= len && !memcmp(text + i, hide, hl)) {
            memcpy(out + o, "/run", 4); /* never longer than hide ("/" + a name) */
            o += 4;
            i += hl;
        } else {
            out[o++] = text[i++];
        }
    }
    int rc = study_write_file(dst, out, o, 0644, err, errlen);
    free(out);
    free(text);
    return rc;
}

/* meta.json without what names the answer: plan, experiment, labels, the argv (paths
 * with the scenario's name), the dataset summary (it counts the faults), run id. */
static int copy_meta(const char *run, const char *dst, const char *session, char *err, size_t errlen)
{
    struct rundir_meta m;
    if (rundir_meta_load(run, &m, err, errlen) < 0)
        return -1;
    static const char *const drop[] = {"plan", "experiment", "experiment_labels", "dataset",
                                       "labels", "notes", "faults", NULL};
    for (size_t i = 0; drop[i]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(m.root, drop[i]);
    cJSON_ReplaceItemInObjectCaseSensitive(m.root, "run_id", cJSON_CreateString(session));
    cJSON *w = cJSON_GetObjectItemCaseSensitive(m.root, "workload");
    cJSON *argv = cJSON_GetObjectItemCaseSensitive(w, "argv");
    if (cJSON_IsArray(argv) && cJSON_GetArraySize(argv) > 0) {
        const cJSON *a0 = cJSON_GetArrayItem(argv, 0);
        const char *b = cJSON_IsString(a0) ? strrchr(a0->valuestring, '/') : NULL;
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemToArray(one, cJSON_CreateString(b ? b + 1 : cJSON_IsString(a0) ? a0->valuestring : "workload"));
        cJSON_ReplaceItemInObjectCaseSensitive(w, "argv", one);
    }
    cJSON *life; /* a resumed lifetime's checkpoint path names the run: its base name only */
    cJSON_ArrayForEach(life, cJSON_GetObjectItemCaseSensitive(w, "lifetimes"))
    {
        const cJSON *rf = cJSON_GetObjectItemCaseSensitive(life, "resumed_from");
        const char *b = cJSON_IsString(rf) ? strrchr(rf->valuestring, '/') : NULL;
        if (b)
            cJSON_ReplaceItemInObjectCaseSensitive(life, "resumed_from", cJSON_CreateString(b + 1));
    }
    int rc = rundir_meta_write(dst, m.root, err, errlen);
    rundir_meta_free(&m);
    return rc;
}

static int copy_session(const char *run, const char *dst, const char *session, char *err, size_t errlen)
{
    char s[PATH_MAX], d[PATH_MAX];
    if (moni_mkdir_p(dst, 0755) < 0) {
        snprintf(err, errlen, "%s: %s", dst, strerror(errno));
        return -1;
    }
    if (copy_meta(run, dst, session, err, errlen) < 0)
        return -1;
    for (size_t i = 0; visible_files[i]; i++) {
        snprintf(s, sizeof s, "%s/%s", run, visible_files[i]);
        snprintf(d, sizeof d, "%s/%s", dst, visible_files[i]);
        if (copy_scrubbed(s, d, run, err, errlen) < 0)
            return -1;
    }
    struct rundir_logs it;
    if (rundir_logs_open(&it, run) < 0)
        return 0;
    snprintf(d, sizeof d, "%s/logs", dst);
    int rc = moni_mkdir_p(d, 0755);
    const char *name;
    while (rc == 0 && (name = rundir_logs_next(&it))) {
        size_t n = strlen(name);
        if (n <= 4 || strcmp(name + n - 4, ".log"))
            continue; /* checkpoints and the like stay out */
        snprintf(s, sizeof s, "%s/logs/%s", run, name);
        snprintf(d, sizeof d, "%s/logs/%s", dst, name);
        rc = copy_scrubbed(s, d, run, err, errlen);
    }
    rundir_logs_close(&it);
    return rc;
}

/* ---- the study ------------------------------------------------------------------------ */

static bool dir_empty_or_absent(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > 64 || *s == '.')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
            return false;
    return true;
}

/* The tester's order: crossed design (every run once, the condition alternating over
 * testers and runs, a Latin square) or, with each_condition, every run in every
 * condition (one block per condition, the blocks' order alternating over testers). */
static cJSON *tester_order(const char *const *ids, size_t nsess, size_t ti,
                           const struct study_new_opts *o, const char *const *conds, size_t nc)
{
    cJSON *arr = cJSON_CreateArray();
    size_t *perm = malloc(nsess * sizeof *perm);
    size_t blocks = o->each_condition ? nc : 1, pos = 0;
    for (size_t b = 0; perm && b < blocks; b++) {
        for (size_t i = 0; i < nsess; i++)
            perm[i] = i;
        shuffle(perm, nsess, o->seed ^ name_hash(o->testers[ti]) ^ (b * 0x9e37ULL));
        for (size_t i = 0; i < nsess; i++) {
            size_t c = o->each_condition ? (b + ti) % nc : (perm[i] + ti) % nc;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "order", (double)++pos);
            cJSON_AddStringToObject(e, "session", ids[perm[i]]);
            cJSON_AddStringToObject(e, "condition", conds[c]);
            cJSON_AddItemToArray(arr, e);
        }
    }
    free(perm);
    return arr;
}

/* "--accept SCENARIO=LABEL,LABEL" for a scenario, or NULL. */
static const char *accept_for(const struct study_new_opts *o, const char *scenario)
{
    size_t n = strlen(scenario);
    for (size_t i = 0; i < o->naccept; i++)
        if (!strncmp(o->accept[i], scenario, n) && o->accept[i][n] == '=')
            return o->accept[i] + n + 1;
    return NULL;
}

static int write_testers(const char *out, const char *const *ids, size_t nsess,
                         const struct study_new_opts *o, const char *const *conds, size_t nc,
                         char *err, size_t errlen)
{
    char path[PATH_MAX];
    for (size_t t = 0; t < o->ntesters; t++) {
        snprintf(path, sizeof path, "%s/testers/%s", out, o->testers[t]);
        if (moni_mkdir_p(path, 0755) < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        cJSON *ord = tester_order(ids, nsess, t, o, conds, nc);
        snprintf(path, sizeof path, "%s/testers/%s/order.json", out, o->testers[t]);
        int rc = study_write_json(path, ord, 0644, err, errlen);
        cJSON_Delete(ord);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int write_study(const char *out, const struct study_run *runs, size_t n,
                       const struct study_new_opts *o, char *err, size_t errlen)
{
    static const char *const default_conds[] = {"logs", "full"};
    const char *const *conds = o->nconditions ? o->conditions : default_conds;
    size_t nc = o->nconditions ? o->nconditions : 2;
    size_t *perm = malloc(n * sizeof *perm);
    char(*ids)[8] = malloc(n * sizeof *ids);
    const char **idp = malloc(n * sizeof *idp);
    cJSON *truth = cJSON_CreateObject(), *study = cJSON_CreateObject();
    int rc = perm && ids && idp ? 0 : -1;
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; i < n && perm; i++)
        perm[i] = i;
    if (perm)
        shuffle(perm, n, o->seed);
    cJSON_AddStringToObject(truth, "format", "moni-study-truth/1");
    cJSON_AddNumberToObject(truth, "seed", (double)o->seed);
    cJSON *tsess = cJSON_AddArrayToObject(truth, "sessions");
    char path[PATH_MAX];
    /* session k is run perm[k]: the numbers say nothing about the input order */
    for (size_t k = 0; rc == 0 && k < n; k++) {
        const struct study_run *r = &runs[perm[k]];
        snprintf(ids[k], sizeof ids[k], "s%02zu", k + 1);
        idp[k] = ids[k];
        cJSON *t = run_truth(r, ids[k], NULL, err, errlen);
        if (!t) {
            rc = -1;
            break;
        }
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(t, "scenario");
        const char *acc = accept_for(o, sc->valuestring);
        if (acc) {
            cJSON_Delete(t);
            t = run_truth(r, ids[k], acc, err, errlen);
        }
        cJSON_AddItemToArray(tsess, t);
        snprintf(path, sizeof path, "%s/sessions/%s", out, ids[k]);
        rc = copy_session(r->path, path, ids[k], err, errlen);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/truth.json", out);
        rc = study_write_json(path, truth, 0600, err, errlen);
    }
    if (rc == 0) {
        cJSON_AddStringToObject(study, "format", "moni-study/1");
        cJSON_AddItemToObject(study, "conditions", cJSON_CreateStringArray(conds, (int)nc));
        cJSON_AddItemToObject(study, "testers", cJSON_CreateStringArray(o->testers, (int)o->ntesters));
        cJSON_AddItemToObject(study, "sessions", cJSON_CreateStringArray(idp, (int)n));
        cJSON_AddBoolToObject(study, "each_condition", o->each_condition);
        snprintf(path, sizeof path, "%s/study.json", out);
        rc = study_write_json(path, study, 0644, err, errlen);
    }
    if (rc == 0)
        rc = write_testers(out, idp, n, o, conds, nc, err, errlen);
    cJSON_Delete(truth);
    cJSON_Delete(study);
    free(perm);
    free(ids);
    free(idp);
    return rc;
}

int study_new(const char *out, const struct study_new_opts *o, char *err, size_t errlen)
{
    if (!dir_empty_or_absent(out)) {
        snprintf(err, errlen, "%s: exists and is not empty", out);
        return -1;
    }
    for (size_t i = 0; i < o->ntesters; i++)
        if (!valid_name(o->testers[i])) {
            snprintf(err, errlen, "--tester %s: letters, digits, '.', '_' and '-' only", o->testers[i]);
            return -1;
        }
    for (size_t i = 0; i < o->nconditions; i++)
        if (!study_condition_known(o->conditions[i])) {
            snprintf(err, errlen, "--condition %s: unknown (logs, full)", o->conditions[i]);
            return -1;
        }
    struct collect c = {0};
    for (size_t i = 0; i < o->nruns; i++)
        if (dataset_for_each_run(o->runs[i], "study new", collect_run, &c) != MONI_EXIT_OK) {
            free(c.runs);
            snprintf(err, errlen, "%s: no run directory in it", o->runs[i]);
            return -1;
        }
    if (!c.n) {
        snprintf(err, errlen, "no runs");
        return -1;
    }
    int rc = moni_mkdir_p(out, 0755);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", out, strerror(errno));
    else
        rc = write_study(out, c.runs, c.n, o, err, errlen);
    free(c.runs);
    return rc;
}

/* ---- answers ---------------------------------------------------------------------------- */

/* Whether the string array `key` of study.json holds s. */
static bool study_lists(const cJSON *root, const char *key, const char *s)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, key))
    if (cJSON_IsString(x) && !strcmp(x->valuestring, s))
        return true;
    return false;
}

static int answer_check(const cJSON *root, const struct study_answer *a, char *err, size_t errlen)
{
    static const char *const kinds[] = {"start", "detected", "cause", "log", "done", NULL};
    size_t k = 0;
    while (kinds[k] && strcmp(kinds[k], a->kind))
        k++;
    bool timed = !strcmp(a->kind, "detected") || !strcmp(a->kind, "cause");
    if (!study_lists(root, "testers", a->tester))
        snprintf(err, errlen, "--tester %s: not a tester of this study", a->tester);
    else if (!study_lists(root, "sessions", a->session))
        snprintf(err, errlen, "--session %s: not a session of this study", a->session);
    else if (!study_lists(root, "conditions", a->condition))
        snprintf(err, errlen, "--condition %s: not a condition of this study", a->condition);
    else if (!kinds[k])
        snprintf(err, errlen, "kind %s: one of start, detected, cause, log, done", a->kind);
    else if (timed && isnan(a->replay_s))
        snprintf(err, errlen, "--replay-s: required for a %s answer", a->kind);
    else if (!isnan(a->replay_s) && !(a->replay_s >= 0))
        snprintf(err, errlen, "--replay-s: must be >= 0");
    else if (!strcmp(a->kind, "cause") && !(a->cause && *a->cause))
        snprintf(err, errlen, "--cause: required");
    else if (!strcmp(a->kind, "log") && !(a->file && *a->file))
        snprintf(err, errlen, "--log: a file name is required");
    else if (!isnan(a->confidence) && !(a->confidence >= 0 && a->confidence <= 1))
        snprintf(err, errlen, "--confidence: must be from 0 to 1");
    else
        return 0;
    return -1;
}

int study_answer_append(const char *study, const struct study_answer *a, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct moni_json doc;
    snprintf(path, sizeof path, "%s/study.json", study);
    if (moni_json_load(path, &doc, err, errlen) < 0)
        return -1;
    int rc = answer_check(doc.root, a, err, errlen);
    moni_json_free(&doc);
    if (rc < 0)
        return -1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "tester", a->tester);
    cJSON_AddStringToObject(o, "session", a->session);
    cJSON_AddStringToObject(o, "condition", a->condition);
    cJSON_AddStringToObject(o, "kind", a->kind);
    if (!isnan(a->replay_s))
        cJSON_AddNumberToObject(o, "replay_s", a->replay_s);
    char iso[MONI_ISO_LEN];
    struct moni_stamp now = moni_now();
    cJSON_AddStringToObject(o, "wall", moni_fmt_iso(now.real_ns, iso, sizeof iso));
    if (a->cause)
        cJSON_AddStringToObject(o, "cause", a->cause);
    if (a->component)
        cJSON_AddStringToObject(o, "component", a->component);
    if (!isnan(a->confidence))
        cJSON_AddNumberToObject(o, "confidence", a->confidence);
    if (a->file)
        cJSON_AddStringToObject(o, "file", a->file);
    if (a->lines >= 0)
        cJSON_AddNumberToObject(o, "lines", (double)a->lines);
    if (a->note)
        cJSON_AddStringToObject(o, "note", a->note);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    snprintf(path, sizeof path, "%s/testers/%s", study, a->tester);
    int fd = line && moni_mkdir_p(path, 0755) == 0 ? rundir_open_append(path, "answers.jsonl") : -1;
    rc = fd >= 0 ? rundir_append_line(fd, line, strlen(line)) : -1;
    if (rc == 0 && fdatasync(fd) < 0)
        rc = -1; /* an answer is a measurement: on disk before we say so */
    if (rc < 0)
        snprintf(err, errlen, "%s/answers.jsonl: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}

/* ---- the cause vocabulary and the answering context of the console ---------------------- */

static size_t add_cause(char (*out)[STUDY_LABEL_LEN], size_t n, size_t max, const char *s, size_t len)
{
    if (!len || len >= STUDY_LABEL_LEN || n >= max)
        return n;
    for (size_t i = 0; i < n; i++)
        if (strlen(out[i]) == len && !strncmp(out[i], s, len))
            return n;
    snprintf(out[n], STUDY_LABEL_LEN, "%.*s", (int)len, s);
    return n + 1;
}

static int cmp_label(const void *a, const void *b) { return strcasecmp(a, b); }

size_t study_cause_labels(char (*out)[STUDY_LABEL_LEN], size_t max)
{
    size_t n = 0;
    for (int l = 0; l < LP_NLABELS; l++) {
        const char *name = lp_label_name((enum lp_label)l);
        n = add_cause(out, n, max, name, strlen(name));
    }
    for (size_t k = 0; k < fault_table_len; k++) /* what the fault kinds' effects show as */
        for (const char *p = fault_table[k]->effect_labels; p && *p;) {
            size_t len = strcspn(p, ",");
            n = add_cause(out, n, max, p, len);
            p += len + (p[len] == ',');
        }
    qsort(out, n, sizeof out[0], cmp_label);
    return add_cause(out, n, max, "healthy", 7); /* no fault: last */
}

int study_context_check(const char *study, const char *tester, const char *session, const char *cond,
                        char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct moni_json doc;
    snprintf(path, sizeof path, "%s/study.json", study);
    if (moni_json_load(path, &doc, err, errlen) < 0)
        return -1;
    struct study_answer a = {.tester = tester, .session = session, .condition = cond, .kind = "start",
                             .replay_s = NAN, .confidence = NAN, .lines = -1};
    int rc = answer_check(doc.root, &a, err, errlen);
    moni_json_free(&doc);
    return rc;
}
