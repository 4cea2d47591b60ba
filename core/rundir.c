/* core/rundir.c — the run directory's line reader, record stamps, meta.json,
 * samples.csv and workload.idx (the JSONL files are in core/rundir-jsonl.c).
 * Formats: moni-dataset(5).  Readers never stop at a bad line: they report it
 * ("FILE:LINE: field: what") and let the caller go on. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/obs-int.h"
#include "core/rundir.h"

/* ---- lines ------------------------------------------------------------------------ */

int rundir_lines_open(struct rundir_lines *r, const char *dir, const char *name)
{
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s/%s", dir, name);
    r->f = fopen(r->path, "re");
    if (!r->f)
        return -1;
    setvbuf(r->f, NULL, _IOFBF, 1 << 16);
    return 0;
}

int rundir_lines_next(struct rundir_lines *r, char **line, size_t *len)
{
    for (;;) {
        ssize_t n = r->f ? getline(&r->buf, &r->cap, r->f) : -1;
        if (n < 0)
            return 0;
        r->lineno++;
        if (r->buf[n - 1] != '\n') {
            r->torn = true;
            snprintf(r->err, sizeof r->err, "%s:%zu: line: torn (no newline at the end)",
                     r->path, r->lineno);
            return 0;
        }
        r->buf[--n] = '\0';
        if (n && r->buf[n - 1] == '\r')
            r->buf[--n] = '\0';
        if (!n)
            continue;
        *line = r->buf;
        *len = (size_t)n;
        return 1;
    }
}

void rundir_lines_close(struct rundir_lines *r)
{
    if (r->f)
        fclose(r->f);
    free(r->buf);
    r->f = NULL;
    r->buf = NULL;
    r->cap = 0;
}

int rundir_lines_bad(struct rundir_lines *r, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->bad++;
    snprintf(r->err, sizeof r->err, "%s:%zu: %s: %s", r->path, r->lineno, field, msg);
    return -1;
}

int64_t rundir_mono(const struct rundir_stamp *t, int64_t offset)
{
    if (t->mono > 0)
        return t->mono;
    return t->real ? t->real - offset : 0;
}

int rundir_append_line(int fd, const char *text, size_t len)
{
    char stackbuf[2048];
    char *buf = len + 1 <= sizeof stackbuf ? stackbuf : malloc(len + 1);
    if (!buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\n';
    int rc = moni_write_all(fd, buf, len + 1);
    if (buf != stackbuf)
        free(buf);
    return rc;
}

int rundir_open_append(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* ---- meta.json --------------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* An integer that may be written as a number or as decimal text. */
static int64_t jint(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v))
        return (int64_t)v->valuedouble;
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        long long x = strtoll(v->valuestring, &end, 10);
        if (*end == '\0')
            return x;
    }
    return 0;
}

/* A time in meta.json: an ISO string, or an object with the record clocks. */
static void meta_stamp(const cJSON *o, const char *key, struct rundir_stamp *t)
{
    memset(t, 0, sizeof *t);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const char *ts = NULL;
    if (cJSON_IsObject(v)) {
        int64_t m = jint(v, "mono_ns");
        t->mono = m > 0 ? m : 0;
        ts = *jstr(v, "timestamp") ? jstr(v, "timestamp") : jstr(v, "time");
    } else if (cJSON_IsString(v)) {
        ts = v->valuestring;
    }
    if (ts && *ts && moni_parse_iso(ts, &t->real) != 0)
        t->real = 0;
    if (ts)
        snprintf(t->iso, sizeof t->iso, "%s", ts);
}

static void meta_interval(struct rundir_meta *m, const cJSON *root)
{
    int64_t iv = jint(root, "interval_ns");
    const cJSON *ivs = cJSON_GetObjectItemCaseSensitive(root, "interval");
    const cJSON *ivsec = cJSON_GetObjectItemCaseSensitive(root, "interval_s");
    if (!iv && cJSON_IsNumber(ivsec))
        iv = (int64_t)(ivsec->valuedouble * 1e9);
    if (!iv && cJSON_IsString(ivs))
        moni_parse_duration(ivs->valuestring, &iv, NULL, 0);
    else if (!iv && cJSON_IsNumber(ivs))
        iv = (int64_t)(ivs->valuedouble * 1e9);
    m->interval_ns = iv > 0 ? iv : 0;
}

static void meta_workload(struct rundir_meta *m, const cJSON *root)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "workload");
    const cJSON *src = cJSON_IsObject(w) ? w : root;
    meta_stamp(src, "started", &m->started);
    meta_stamp(src, "ended", &m->ended);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(src, "exit_code");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(src, "exit_signal");
    if (cJSON_IsNumber(code) || cJSON_IsNumber(sig)) {
        m->has_exit = true;
        m->crashed = (cJSON_IsNumber(code) && code->valueint != 0) ||
                     (cJSON_IsNumber(sig) && sig->valueint != 0);
    }
    m->exit_code_valid = cJSON_IsNumber(code);
    m->exit_code = m->exit_code_valid ? code->valueint : 0;
    m->exit_signal_name = jstr(src, "exit_signal_name");
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(src, "argv");
    m->argv = cJSON_IsArray(av) ? av : NULL;
}

int rundir_meta_load(const char *dir, struct rundir_meta *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->ticks_late = -1;
    m->run_id = m->exit_signal_name = "";
    m->global_label = m->global_root_cause = m->global_stage = "";
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    size_t len;
    char *text = moni_read_file(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    m->root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(m->root)) {
        struct moni_json doc; /* only to name the line of the syntax error */
        if (moni_json_load(path, &doc, err, errlen) == 0) {
            snprintf(err, errlen, "%s:1: (root): not a JSON object", path);
            moni_json_free(&doc);
        }
        cJSON_Delete(m->root);
        m->root = NULL;
        return -1;
    }
    const cJSON *root = m->root;
    m->run_id = jstr(root, "run_id");
    const char *off = jstr(root, "clock_offset_ns");
    if (*off) {
        char *end;
        long long v = strtoll(off, &end, 10);
        if (*end == '\0') {
            m->has_clock_offset = true;
            m->clock_offset_ns = v;
        }
    }
    meta_interval(m, root);
    const cJSON *late = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "ticks"), "late");
    if (cJSON_IsNumber(late))
        m->ticks_late = (long long)late->valuedouble;
    meta_workload(m, root);
    rundir_meta_lifetimes(m);
    const cJSON *complete = cJSON_GetObjectItemCaseSensitive(root, "complete");
    m->complete = !cJSON_IsFalse(complete) &&
                  cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "end"));
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(root, "end_mono_ns");
    m->end_mono_ns = cJSON_IsNumber(em) ? (int64_t)em->valuedouble : 0;
    const cJSON *gpu = cJSON_GetObjectItemCaseSensitive(root, "gpu");
    m->gpu = cJSON_IsObject(gpu) ? gpu : NULL;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "experiment_labels");
    if (cJSON_IsObject(exp)) {
        m->global_label = jstr(exp, "global");
        m->global_root_cause = jstr(exp, "root_cause");
        m->global_stage = jstr(exp, "expected_failure_stage");
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(exp, "faults");
        m->fault_labels = cJSON_IsArray(fl) ? fl : NULL;
    }
    return 0;
}

void rundir_meta_free(struct rundir_meta *m)
{
    cJSON_Delete(m->root);
    free(m->lifetimes);
    memset(m, 0, sizeof *m);
}

int rundir_meta_write(const char *dir, const cJSON *root, char *err, size_t errlen)
{
    char *text = cJSON_Print(root);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char path[4096], tmp[4112];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0) {
        size_t len = strlen(text);
        text[len] = '\n'; /* replaces the NUL; written with the length below */
        if (moni_write_all(fd, text, len + 1) != 0 || fsync(fd) != 0)
            rc = -1;
        if (close(fd) != 0)
            rc = -1;
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -1;
    }
    int e = errno;
    free(text);
    if (rc < 0) {
        if (fd >= 0)
            unlink(tmp);
        snprintf(err, errlen, "%s: %s", fd < 0 ? tmp : path, strerror(e ? e : EIO));
    }
    return rc;
}

/* ---- samples.csv ------------------------------------------------------------------- */

static int samples_add_field(struct rundir_samples *s, const char *name, int *cap)
{
    if (s->nfields == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        int *m2 = realloc(s->map, (size_t)*cap * sizeof *m2);
        if (!m2)
            return -1;
        s->map = m2;
    }
    s->map[s->nfields] = -1;
    if (!strcmp(name, "timestamp")) {
        s->ts_field = s->nfields++;
        return 0;
    }
    if (!strcmp(name, "mono_ns")) {
        s->mono_field = s->nfields++;
        return 0;
    }
    char **n2 = realloc(s->names, (s->ncols + 1) * sizeof *n2);
    if (!n2)
        return -1;
    s->names = n2;
    if (!(s->names[s->ncols] = strdup(name)))
        return -1;
    s->map[s->nfields++] = (int)s->ncols++;
    return 0;
}

int rundir_samples_open(struct rundir_samples *s, const char *dir, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->ts_field = s->mono_field = -1;
    if (rundir_lines_open(&s->l, dir, "samples.csv") < 0) {
        snprintf(err, errlen, "%s: %s", s->l.path, strerror(errno));
        return -1;
    }
    char *hdr;
    size_t len;
    if (rundir_lines_next(&s->l, &hdr, &len) != 1) {
        snprintf(err, errlen, "%s: no header line", s->l.path);
        return -1;
    }
    int cap = 0;
    for (char *f = hdr, *next; f; f = next) {
        next = strchr(f, ',');
        if (next)
            *next++ = '\0';
        if (samples_add_field(s, f, &cap) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (s->ts_field < 0 && s->mono_field < 0) {
        snprintf(err, errlen, "%s:1: timestamp: no timestamp column", s->l.path);
        return -1;
    }
    s->val = malloc((s->ncols + 1) * sizeof *s->val);
    s->valid = malloc(s->ncols + 1);
    if (!s->val || !s->valid) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int rundir_samples_next(struct rundir_samples *s, struct rundir_sample *row)
{
    char *line;
    size_t len;
    if (rundir_lines_next(&s->l, &line, &len) != 1)
        return 0;
    memset(row, 0, sizeof *row);
    memset(s->valid, 0, s->ncols + 1);
    int nf = 0;
    for (char *f = line, *next; f; f = next, nf++) {
        next = strchr(f, ',');
        if (next)
            *next++ = '\0';
        if (nf >= s->nfields)
            return rundir_lines_bad(&s->l, "line", "more than the header's %d fields",
                                    s->nfields);
        if (nf == s->ts_field) {
            row->ts = f;
        } else if (nf == s->mono_field) {
            char *end;
            row->mono = strtoll(f, &end, 10);
            if (end == f || *end)
                row->mono = 0;
        } else if (*f && s->map[nf] >= 0) { /* a reader may drop columns: map -1 */
            double v;
            if (moni_strtod_whole(f, &v)) {
                s->val[s->map[nf]] = v;
                s->valid[s->map[nf]] = 1;
            }
        }
    }
    if (nf != s->nfields)
        return rundir_lines_bad(&s->l, "line", "%d fields, the header has %d", nf, s->nfields);
    if (!row->mono && !(row->ts && moni_parse_iso(row->ts, &row->real) == 0))
        return rundir_lines_bad(&s->l, s->mono_field >= 0 ? "mono_ns" : "timestamp",
                                "no readable time");
    row->val = s->val;
    row->valid = s->valid;
    return 1;
}

void rundir_samples_close(struct rundir_samples *s)
{
    rundir_lines_close(&s->l);
    for (size_t i = 0; i < s->ncols; i++)
        free(s->names[i]);
    free(s->names);
    free(s->map);
    free(s->val);
    free(s->valid);
    memset(s, 0, sizeof *s);
}

static int write_formatted(int fd, const struct frame *f,
                           size_t (*fmt)(const struct frame *, char *, size_t))
{
    size_t cap = 256 + f->ncols * 64;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    size_t n = fmt(f, buf, cap);
    int rc = n ? moni_write_all(fd, buf, n) : -1;
    free(buf);
    return rc;
}

int rundir_samples_write_header(int fd, const struct frame *f)
{
    return write_formatted(fd, f, obs_csv_header);
}

int rundir_samples_append(int fd, const struct frame *f)
{
    return write_formatted(fd, f, obs_csv_row);
}

/* ---- workload.idx ------------------------------------------------------------------- */

int rundir_idx_open(struct rundir_lines *r, const char *dir)
{
    return rundir_lines_open(r, dir, "workload.idx");
}

int rundir_idx_next(struct rundir_lines *r, struct rundir_idx *x)
{
    char *line;
    size_t len;
    do {
        if (rundir_lines_next(r, &line, &len) != 1)
            return 0;
    } while (line[0] < '0' || line[0] > '9'); /* the header */
    memset(x, 0, sizeof *x);
    x->line = strtoull(line, NULL, 10);
    char *f2 = strchr(line, ',');
    char *f3 = f2 ? strchr(f2 + 1, ',') : NULL;
    char *f4 = f3 ? strchr(f3 + 1, ',') : NULL;
    x->mono = f3 ? strtoll(f3 + 1, NULL, 10) : 0;
    x->stream = f4 && !strncmp(f4 + 1, "stderr", 6) ? 2 : 1;
    if (f3) {
        *f3 = '\0';
        x->ts = f2 + 1;
    }
    /* both clocks when both are there: the diagnosis dates log lines by wall time */
    if (x->ts && moni_parse_iso(x->ts, &x->real) != 0)
        x->real = 0;
    if (!x->mono && !x->real)
        return rundir_lines_bad(r, "mono_ns", "no readable time");
    return 1;
}

int rundir_idx_append(int fd, uint64_t lineno, const struct moni_stamp *t, int stream)
{
    char buf[160];
    size_t n = obs_idx_row(lineno, t, stream, buf, sizeof buf);
    return n ? moni_write_all(fd, buf, n) : -1;
}

/* ---- logs/ ------------------------------------------------------------------------ */

int rundir_logs_open(struct rundir_logs *it, const char *run_dir)
{
    snprintf(it->dir, sizeof it->dir, "%s/logs", run_dir);
    struct stat sb;
    it->dp = stat(it->dir, &sb) == 0 && S_ISDIR(sb.st_mode) ? opendir(it->dir) : NULL;
    return it->dp ? 0 : -1;
}

const char *rundir_logs_next(struct rundir_logs *it)
{
    struct dirent *de;
    while (it->dp && (de = readdir(it->dp)))
        if (de->d_name[0] != '.')
            return de->d_name;
    return NULL;
}

char *rundir_logs_read(const struct rundir_logs *it, const char *name, size_t *len)
{
    char path[4096 + 256];
    snprintf(path, sizeof path, "%s/%s", it->dir, name);
    return moni_read_file(path, len);
}

void rundir_logs_close(struct rundir_logs *it)
{
    if (it->dp)
        closedir(it->dp);
    it->dp = NULL;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_path(char ***paths, size_t *n, const char *dir, const char *name)
{
    char **v = realloc(*paths, (*n + 1) * sizeof *v);
    if (!v)
        return -1;
    *paths = v;
    size_t len = strlen(dir) + strlen(name) + 2;
    if (!(v[*n] = malloc(len)))
        return -1;
    snprintf(v[*n], len, "%s/%s", dir, name);
    (*n)++;
    return 0;
}

/* The regular *.log files of dir but skip, sorted by name. */
static int add_logs_in(const char *dir, const char *skip, char ***paths, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t first = *n;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".log") || (skip && !strcmp(de->d_name, skip)))
            continue;
        char path[4096 + 256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = push_path(paths, n, dir, de->d_name);
    }
    closedir(d);
    if (*n - first > 1)
        qsort(*paths + first, *n - first, sizeof **paths, cmp_name);
    return rc;
}

int rundir_log_files(const char *run_dir, char ***paths, size_t *n, char *err, size_t errlen)
{
    *paths = NULL;
    *n = 0;
    char path[4096 + 32];
    snprintf(path, sizeof path, "%s/logs/controller.log", run_dir);
    bool copy = access(path, F_OK) == 0;
    snprintf(path, sizeof path, "%s/workload.log", run_dir);
    int rc = 0;
    if (!copy && access(path, F_OK) == 0)
        rc = push_path(paths, n, run_dir, "workload.log");
    snprintf(path, sizeof path, "%s/logs", run_dir);
    if (rc == 0)
        rc = add_logs_in(path, NULL, paths, n);
    if (rc == 0)
        rc = add_logs_in(run_dir, "workload.log", paths, n);
    if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", run_dir);
    else if (!*n)
        snprintf(err, errlen, "%s: no workload.log and no *.log or logs/*.log in this directory",
                 run_dir);
    if (rc < 0 || !*n) {
        rundir_paths_free(*paths, *n);
        *paths = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

void rundir_paths_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}
