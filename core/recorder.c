/* core/recorder.c — the run directory: samples.csv, workload.log, workload.idx and
 * meta.json (DESIGN.md section 3).
 *
 * Rows are written with one write(2) each, when taken: no stdio buffer, so after a
 * kill -9 of moni every row already taken is in the page cache and every complete
 * line parses.  The workload's lines (workload.log and its workload.idx rows) are
 * gathered and written at the next sample, before meta.json and at the end (or
 * when 64 KiB are pending): two writes per log line were a tenth of a console's
 * CPU on a chatty log, and a kill -9 loses at most the lines of the current tick,
 * never part of one.  A small thread fdatasync()s the files that changed
 * every OBS_SYNC_SECS (the contract asks for at least every 5 s; an fdatasync costs
 * ~0.3 ms of CPU on ext4, so doing it every second was most of the observer's cost),
 * so the sampling thread never waits on the disk.  meta.json is replaced atomically
 * (write a temp file, fsync, rename).
 *
 * One run at a time per directory: the run holds an flock on DIR/.moni.lock for its
 * whole life (session_free releases it), creates its files exclusively, and --force
 * removes every file an earlier run left before starting afresh, so two runs never
 * interleave rows, journals or labels in one directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/obs-int.h"

#define OBS_SYNC_SECS 5
#define LINES_FLUSH_AT (64 * 1024) /* pending workload.log + idx bytes written at once */

enum { DIRTY_CSV = 1, DIRTY_LOG = 2, DIRTY_IDX = 4 };

struct obs_rec {
    char *dir;
    int csv, log, idx;
    int lock;          /* flock'd DIR/.moni.lock, -1 once handed to the session */
    char *row;
    size_t rowcap;
    struct moni_jbuf logb, idxb; /* lines not written yet (written at the next tick) */
    uint64_t errors;
    char first_error[256]; /* "samples.csv: No space left on device", "" if none */
    pthread_t syncer;
    bool syncer_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    atomic_uint dirty; /* DIRTY_* of the files written since the last sync */
};

/* ---- formatting -------------------------------------------------------------------- */

/* The reference formatting (snprintf): integers as integers, >= 1000 with one
 * decimal, else up to 4 decimals with the trailing zeros trimmed. */
static size_t fmt_value_slow(double v, char *buf, size_t len)
{
    int n;
    if (!isfinite(v))
        n = snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    else if (fabs(v) >= 1e15 || (v == floor(v) && fabs(v) < 1e15))
        n = snprintf(buf, len, "%.0f", v);
    else if (fabs(v) >= 1000)
        n = snprintf(buf, len, "%.1f", v);
    else {
        n = snprintf(buf, len, "%.4f", v);
        /* trim trailing zeros: 12.5000 -> 12.5 */
        if (n > 0 && (size_t)n < len && strchr(buf, '.')) {
            while (n > 0 && buf[n - 1] == '0')
                buf[--n] = '\0';
            if (n > 0 && buf[n - 1] == '.')
                buf[--n] = '\0';
            if (!strcmp(buf, "-0"))
                n = snprintf(buf, len, "0");
        }
    }
    if (n < 0)
        return 0;
    return (size_t)n < len ? (size_t)n : len - 1;
}

/* Digits of u, right-aligned ending at end; returns the first. */
static char *put_u64(char *end, uint64_t u)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

/* round(a * scale) for 0 <= a, a * scale < 2^52, rounded as printf rounds: the
 * exact product, ties to even.  The exact product is p + e (fma).  Half-integers
 * are doubles here, so only a p that is itself a tie can round differently from
 * the exact value: then the sign of e decides. */
static uint64_t round_scaled(double a, double scale)
{
    double p = a * scale;
    double e = fma(a, scale, -p);
    double r = nearbyint(p); /* ties to even (default rounding mode) */
    if (fabs(p - r) == 0.5 && e != 0)
        r = e > 0 ? floor(p) + 1 : floor(p);
    return (uint64_t)r;
}

/* Same text as fmt_value_slow, without stdio for the usual magnitudes: this runs
 * for every cell of every row, and printf of doubles was ~40% of a tick. */
size_t obs_fmt_value(double v, char *buf, size_t len)
{
    double a = fabs(v);
    if (!(a < 1e14) || len < 32) /* nan, inf, huge or a short buffer: the reference */
        return fmt_value_slow(v, buf, len);
    char tmp[32], *end = tmp + sizeof tmp, *p;
    bool neg = signbit(v);
    if (v == floor(v)) { /* "%.0f" */
        p = put_u64(end, (uint64_t)a);
    } else if (a >= 1000) { /* "%.1f" */
        uint64_t r = round_scaled(a, 10);
        p = end;
        *--p = (char)('0' + r % 10);
        *--p = '.';
        p = put_u64(p, r / 10);
    } else { /* "%.4f", zeros trimmed, "-0" -> "0" */
        uint64_t r = round_scaled(a, 10000);
        unsigned frac = (unsigned)(r % 10000);
        p = end;
        if (frac) {
            int digits = 4;
            while (frac % 10 == 0) {
                frac /= 10;
                digits--;
            }
            for (int i = 0; i < digits; i++) {
                *--p = (char)('0' + frac % 10);
                frac /= 10;
            }
            *--p = '.';
        }
        p = put_u64(p, r / 10000);
        if (r == 0)
            neg = false;
    }
    if (neg)
        *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return n;
}

/* Appends with bounds: returns the new length, or len (unchanged) once full. */
static size_t put(char *buf, size_t len, size_t at, const char *s, size_t n)
{
    if (at + n >= len)
        return len;
    memcpy(buf + at, s, n);
    buf[at + n] = '\0';
    return at + n;
}

size_t obs_csv_header(const struct frame *f, char *buf, size_t len)
{
    if (!len)
        return 0;
    buf[0] = '\0';
    size_t at = put(buf, len, 0, "timestamp,mono_ns", 17);
    for (size_t i = 0; i < f->ncols && at < len; i++) {
        at = put(buf, len, at, ",", 1);
        if (at < len)
            at = put(buf, len, at, f->cols[i].name, strlen(f->cols[i].name));
    }
    if (at < len)
        at = put(buf, len, at, "\n", 1);
    return at < len ? at : 0;
}

/* moni_fmt_iso, with gmtime_r and the date printed once per second (per thread:
 * rows and log lines are formatted on the sampling thread). */
static size_t fmt_iso_fast(int64_t real_ns, char *buf)
{
    static _Thread_local int64_t cached_sec = INT64_MIN;
    static _Thread_local char prefix[MONI_ISO_LEN]; /* "2026-11-23T20:33:17." */
    static _Thread_local size_t prefix_len;
    int64_t sec = real_ns / MONI_NS_PER_SEC;
    int64_t ms = (real_ns % MONI_NS_PER_SEC) / MONI_NS_PER_MS;
    if (ms < 0) {
        ms += 1000;
        sec -= 1;
    }
    if (sec != cached_sec) {
        moni_fmt_iso(sec * MONI_NS_PER_SEC, prefix, sizeof prefix);
        char *dot = strrchr(prefix, '.');
        if (!dot || strcmp(dot, ".000Z") != 0) { /* not the expected shape: no cache */
            moni_fmt_iso(real_ns, buf, MONI_ISO_LEN);
            cached_sec = INT64_MIN;
            return strlen(buf);
        }
        prefix_len = (size_t)(dot + 1 - prefix);
        cached_sec = sec;
    }
    memcpy(buf, prefix, prefix_len);
    char *p = buf + prefix_len;
    p[0] = (char)('0' + ms / 100);
    p[1] = (char)('0' + ms / 10 % 10);
    p[2] = (char)('0' + ms % 10);
    p[3] = 'Z';
    p[4] = '\0';
    return prefix_len + 4;
}

/* ",-123" for a signed integer; length. */
static size_t fmt_i64(int64_t v, char *buf)
{
    char tmp[24], *end = tmp + sizeof tmp;
    char *p = put_u64(end, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(buf, p, n);
    return n;
}

size_t obs_csv_row(const struct frame *f, char *buf, size_t len)
{
    if (!len)
        return 0;
    char iso[MONI_ISO_LEN + 8], num[64];
    size_t at = put(buf, len, 0, iso, fmt_iso_fast(f->t.real_ns, iso));
    num[0] = ',';
    if (at < len)
        at = put(buf, len, at, num, 1 + fmt_i64(f->t.mono_ns, num + 1));
    for (size_t i = 0; i < f->ncols && at < len; i++) {
        if (!f->valid[i]) {
            at = put(buf, len, at, ",", 1);
            continue;
        }
        size_t k = obs_fmt_value(f->val[i], num + 1, sizeof num - 1);
        at = put(buf, len, at, num, k + 1);
    }
    if (at < len)
        at = put(buf, len, at, "\n", 1);
    return at < len ? at : 0;
}

size_t obs_idx_row(uint64_t lineno, const struct moni_stamp *t, int stream, char *buf,
                   size_t len)
{
    char tmp[24 + MONI_ISO_LEN + 8 + 24 + 8], *p = tmp, *end;
    char digits[24];
    end = digits + sizeof digits;
    char *d = put_u64(end, lineno);
    memcpy(p, d, (size_t)(end - d));
    p += end - d;
    *p++ = ',';
    p += fmt_iso_fast(t->real_ns, p);
    *p++ = ',';
    p += fmt_i64(t->mono_ns, p);
    const char *sn = stream == 2 ? ",stderr\n" : ",stdout\n";
    memcpy(p, sn, 8);
    p += 8;
    size_t n = (size_t)(p - tmp);
    if (n >= len)
        return 0;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

/* ---- files --------------------------------------------------------------------------- */

static void *syncer(void *arg)
{
    struct obs_rec *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += OBS_SYNC_SECS;
        while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &ts) != ETIMEDOUT)
            ;
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->mu);
        unsigned d = atomic_exchange(&r->dirty, 0u);
        if (d & DIRTY_CSV)
            fdatasync(r->csv);
        if ((d & DIRTY_LOG) && r->log >= 0)
            fdatasync(r->log);
        if ((d & DIRTY_IDX) && r->idx >= 0)
            fdatasync(r->idx);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

#define LOCK_NAME ".moni.lock"

static void note_error(struct obs_rec *r, const char *file, int e)
{
    if (!r->errors++)
        snprintf(r->first_error, sizeof r->first_error, "%s: %s", file, strerror(e));
}


static bool dir_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return true;
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, LOCK_NAME))
            empty = false;
    closedir(d);
    return empty;
}

/* Locks dir for this run (held until the fd is closed): -1 with err when another run
 * holds it.  The file stays: unlinking it would let a third run lock a new inode. */
static int lock_dir(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" LOCK_NAME, dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "--out %s: cannot create %s: %s", dir, LOCK_NAME, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char who[32] = "";
        ssize_t n = pread(fd, who, sizeof who - 1, 0);
        who[n > 0 ? n : 0] = 0;
        who[strcspn(who, "\n")] = 0;
        close(fd);
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "--out %s: another moni run is writing there%s%s%s", dir,
                     who[0] ? " (pid " : "", who, who[0] ? ")" : "");
        else
            snprintf(err, errlen, "--out %s: cannot lock: %s", dir, strerror(e));
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0)
        (void)!pwrite(fd, pid, (size_t)n, 0);
    return fd;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* --force: the files of an earlier run go, so nothing is appended to its journal,
 * events or labels (and moni-train does not resume its checkpoints).  Files moni
 * does not know stay.  -1 with err. */
static int clear_run_files(const char *dir, char *err, size_t errlen)
{
    static const char *const files[] = {
        "samples.csv", "workload.log", "workload.idx", "meta.json", ".meta.json.tmp",
        "events.jsonl", "faults.jsonl", "marks.jsonl", "alerts.jsonl", "detections.jsonl",
        "tse_matrix.csv", "labels.csv", "ground_truth.csv", "windows.json", "session.cast",
        "control", NULL};
    static const char *const subdirs[] = {"checkpoints", "logs", NULL};
    char path[4096];
    for (size_t i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (unlink(path) < 0 && errno != ENOENT) {
            snprintf(err, errlen, "--out %s: --force: cannot remove %s: %s", dir, files[i],
                     strerror(errno));
            return -1;
        }
    }
    for (size_t i = 0; subdirs[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
            nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0) {
            snprintf(err, errlen, "--out %s: --force: cannot remove %s/: %s", dir, subdirs[i],
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Files of a run are new: O_EXCL, so a second writer can never share one. */
static int open_out(const struct obs_rec *r, const char *name, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return fd;
}

struct obs_rec *obs_rec_open(const char *dir, bool force, char *err, size_t errlen, bool *usage)
{
    bool dummy;
    if (!usage)
        usage = &dummy;
    *usage = true; /* every refusal below is about --out */
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "--out %s: not a directory", dir);
            return NULL;
        }
    } else if (moni_mkdir_p(dir, 0755) < 0) {
        snprintf(err, errlen, "--out %s: cannot create: %s", dir, strerror(errno));
        return NULL;
    }
    if (access(dir, W_OK) < 0) {
        snprintf(err, errlen, "--out %s: not writable: %s", dir, strerror(errno));
        return NULL;
    }
    /* lock first, then look: of two runs started at once, one sees the other */
    int lock = lock_dir(dir, err, errlen);
    if (lock < 0)
        return NULL;
    if (!force && !dir_empty(dir)) {
        snprintf(err, errlen, "--out %s: directory is not empty (use --force to reuse it)", dir);
        close(lock);
        return NULL;
    }
    if (force && clear_run_files(dir, err, errlen) < 0) {
        close(lock);
        return NULL;
    }
    *usage = false;
    struct obs_rec *r = calloc(1, sizeof *r);
    if (!r) {
        close(lock);
        return NULL;
    }
    r->dir = strdup(dir);
    r->lock = lock;
    r->csv = r->log = r->idx = -1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (!r->dir || (r->csv = open_out(r, "samples.csv", err, errlen)) < 0 ||
        (r->log = open_out(r, "workload.log", err, errlen)) < 0 ||
        (r->idx = open_out(r, "workload.idx", err, errlen)) < 0) {
        *usage = true;
        obs_rec_close(r);
        return NULL;
    }
    static const char idx_header[] = "line,timestamp,mono_ns,stream\n";
    if (moni_write_all(r->idx, idx_header, sizeof idx_header - 1) < 0)
        note_error(r, "workload.idx", errno);
    if (pthread_create(&r->syncer, NULL, syncer, r) == 0)
        r->syncer_started = true;
    return r;
}

static int write_line(struct obs_rec *r, int fd, const char *buf, size_t len)
{
    if (moni_write_all(fd, buf, len) < 0) {
        note_error(r, fd == r->csv ? "samples.csv" : fd == r->log ? "workload.log" : "workload.idx",
                   errno);
        return -1;
    }
    unsigned bit = fd == r->csv ? DIRTY_CSV : fd == r->log ? DIRTY_LOG : DIRTY_IDX;
    if (!(atomic_load_explicit(&r->dirty, memory_order_relaxed) & bit))
        atomic_fetch_or(&r->dirty, bit);
    return 0;
}

static int flush_lines(struct obs_rec *r);

static int row_reserve(struct obs_rec *r, size_t need)
{
    if (need <= r->rowcap)
        return 0;
    size_t cap = r->rowcap ? r->rowcap : 1024;
    while (cap < need)
        cap *= 2;
    char *p = realloc(r->row, cap);
    if (!p)
        return -1;
    r->row = p;
    r->rowcap = cap;
    return 0;
}

int obs_rec_header(struct obs_rec *r, const struct frame *f)
{
    size_t need = 32;
    for (size_t i = 0; i < f->ncols; i++)
        need += strlen(f->cols[i].name) + 1;
    if (row_reserve(r, need + 64 * f->ncols + 64) < 0)
        return -1;
    size_t n = obs_csv_header(f, r->row, r->rowcap);
    return n ? write_line(r, r->csv, r->row, n) : -1;
}

int obs_rec_row(struct obs_rec *r, const struct frame *f)
{
    flush_lines(r); /* the lines of the tick that ends */
    size_t n = obs_csv_row(f, r->row, r->rowcap);
    if (!n) { /* a value wider than planned: grow once and retry */
        if (row_reserve(r, r->rowcap * 2) < 0)
            return -1;
        n = obs_csv_row(f, r->row, r->rowcap);
        if (!n)
            return -1;
    }
    return write_line(r, r->csv, r->row, n);
}

/* The pending lines, workload.log first (an idx row never names a line not written). */
static int flush_lines(struct obs_rec *r)
{
    int rc = 0;
    if (r->logb.n && write_line(r, r->log, r->logb.b, r->logb.n) < 0)
        rc = -1;
    if (r->idxb.n && write_line(r, r->idx, r->idxb.b, r->idxb.n) < 0)
        rc = -1;
    r->logb.n = r->idxb.n = 0;
    return rc;
}

int obs_rec_line(struct obs_rec *r, const char *line, size_t len, uint64_t lineno, int stream,
                 const struct moni_stamp *t)
{
    char buf[160];
    int rc = 0;
    size_t n = obs_idx_row(lineno, t, stream, buf, sizeof buf);
    if (r->logb.n + r->idxb.n + len + n > LINES_FLUSH_AT)
        rc = flush_lines(r);
    if (len > LINES_FLUSH_AT / 2 || !moni_jb_room(&r->logb, len) || !moni_jb_room(&r->idxb, n)) {
        /* a long piece (up to 1 MiB) is not copied; out of memory: written at once */
        if (flush_lines(r) < 0 || write_line(r, r->log, line, len) < 0)
            rc = -1;
        if (n && write_line(r, r->idx, buf, n) < 0)
            rc = -1;
        return rc;
    }
    moni_jb_put(&r->logb, line, len);
    moni_jb_put(&r->idxb, buf, n);
    return rc;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) || /* overlong, surrogates */
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

/* A copy of s with every invalid UTF-8 byte replaced by U+FFFD (cJSON_malloc'd), or
 * NULL if s is valid. */
static char *utf8_fixed(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), bad = 0, k;
    for (size_t i = 0; i < n; i += k ? k : 1)
        bad += !(k = utf8_seq(p + i, n - i));
    if (!bad)
        return NULL;
    char *out = cJSON_malloc(n + 2 * bad + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += k ? k : 1) {
        if ((k = utf8_seq(p + i, n - i))) {
            memcpy(o, p + i, k);
            o += k;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
        }
    }
    *o = 0;
    return out;
}

/* meta.json is JSON, so UTF-8: names and argv from the command line or a plan may
 * be any bytes (an experiment name in Latin-1 made the whole file unreadable). */
void obs_meta_utf8(cJSON *item)
{
    for (; item; item = item->next) {
        char *fixed;
        if (item->string && (fixed = utf8_fixed(item->string))) {
            if (!(item->type & cJSON_StringIsConst))
                cJSON_free(item->string);
            item->string = fixed;
            item->type &= ~cJSON_StringIsConst;
        }
        if (cJSON_IsString(item) && item->valuestring && (fixed = utf8_fixed(item->valuestring))) {
            cJSON_free(item->valuestring);
            item->valuestring = fixed;
        }
        obs_meta_utf8(item->child);
    }
}

int obs_rec_meta(struct obs_rec *r, const cJSON *meta)
{
    flush_lines(r); /* the lines meta.json counts are on disk before it */
    char *text = cJSON_Print(meta);
    if (!text)
        return -1;
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/.meta.json.tmp", r->dir);
    snprintf(path, sizeof path, "%s/meta.json", r->dir);
    int rc = -1, e = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        e = errno;
    if (fd >= 0) {
        size_t len = strlen(text);
        text[len] = '\n'; /* replaces the NUL; written with the length below */
        if (moni_write_all(fd, text, len + 1) == 0 && fsync(fd) == 0)
            rc = 0;
        else
            e = errno;
        close(fd);
        if (rc == 0 && rename(tmp, path) < 0) {
            e = errno;
            rc = -1;
        }
        if (rc < 0)
            unlink(tmp);
    }
    if (rc < 0)
        note_error(r, "meta.json", e);
    free(text);
    return rc;
}

const char *obs_rec_dir(const struct obs_rec *r)
{
    return r->dir;
}

uint64_t obs_rec_errors(const struct obs_rec *r)
{
    return r->errors;
}

const char *obs_rec_first_error(const struct obs_rec *r)
{
    return r->first_error;
}

int obs_rec_take_lock(struct obs_rec *r)
{
    int fd = r->lock;
    r->lock = -1;
    return fd;
}

void obs_rec_close(struct obs_rec *r)
{
    if (!r)
        return;
    if (r->log >= 0 && r->idx >= 0)
        flush_lines(r);
    if (r->syncer_started) {
        pthread_mutex_lock(&r->mu);
        r->stop = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->syncer, NULL);
    }
    int fds[3] = {r->csv, r->log, r->idx};
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0) {
            fsync(fds[i]);
            close(fds[i]);
        }
    if (r->lock >= 0)
        close(r->lock);
    if (r->dir) { /* the directory entries too */
        int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->row);
    moni_jb_free(&r->logb);
    moni_jb_free(&r->idxb);
    free(r->dir);
    free(r);
}
