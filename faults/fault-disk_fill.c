/* faults/disk_fill.c — fill the filesystem of a directory to X% (to=) or by a size
 * (size=) with one fill file named after the session (.moni-fill-SESSION-ID), using
 * fallocate with a write fallback; while firing the level is re-checked and topped up
 * (or trimmed back under the ceiling, default 99%). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static const struct fault_param disk_params[] = {
    {"to", FP_PERCENT, "%", NULL, 1, 100, NULL, "fill the filesystem to this usage"},
    {"size", FP_SIZE, "B", NULL, 1, 1ull << 50, NULL, "or: add this many bytes"},
    {"ceiling", FP_PERCENT, "%", NULL, 1, 100, NULL,
     "never fill beyond this usage (default: the injector's, 99%)"},
    {"method", FP_ENUM, "", "auto", 0, 0, "auto|fallocate|write",
     "fallocate, or write blocks (auto: fallocate, write when unsupported)"},
    {"recheck", FP_DURATION, "s", "1s", 0.05, 60, NULL, "how often the level is re-checked"},
};

struct disk_state {
    char file[1024];
    int fd;
    double ceiling;
    uint64_t want;       /* bytes the file should hold now */
    bool use_write;
    pid_t writer;        /* write fallback child */
    int64_t last_check;
    double used_pct;
    bool created;
};

struct fs_usage {
    uint64_t total, used, avail; /* df's view: total = used + avail */
};

static int fs_usage(const char *dir, struct fs_usage *u)
{
    struct statvfs sv;
    if (statvfs(dir, &sv))
        return -1;
    uint64_t bs = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    u->used = (uint64_t)(sv.f_blocks - sv.f_bfree) * bs;
    u->avail = (uint64_t)sv.f_bavail * bs;
    u->total = u->used + u->avail;
    return u->total ? 0 : -1;
}

static uint64_t file_bytes(int fd)
{
    struct stat st;
    return fstat(fd, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

/* The bytes the fill file should hold for the target, within the ceiling. */
static uint64_t wanted_bytes(struct fault *f, const struct fs_usage *u, uint64_t have)
{
    struct disk_state *s = f->priv;
    uint64_t others = u->used > have ? u->used - have : 0;
    uint64_t cap_total = (uint64_t)((double)u->total * s->ceiling / 100.0);
    uint64_t want;
    if (fault_given(f, "to"))
        want = (uint64_t)((double)u->total * fault_num(f, "to") / 100.0);
    else
        want = others + (uint64_t)fault_num(f, "size");
    if (want > cap_total)
        want = cap_total;
    return want > others ? want - others : 0;
}

static int disk_precheck(const struct fault *f, char *err, size_t errlen)
{
    struct stat st;
    if (f->target.path[0] && (stat(f->target.path, &st) || !S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "%s: not a directory", f->target.path);
        return FAULT_ERR_USAGE;
    }
    if (fault_given(f, "to") == fault_given(f, "size")) {
        snprintf(err, errlen, "give exactly one of to=PCT or size=BYTES");
        return FAULT_ERR_USAGE;
    }
    double ceiling = fault_given(f, "ceiling") ? fault_num(f, "ceiling") : fault_disk_ceiling(f);
    if (fault_given(f, "to") && fault_num(f, "to") > ceiling) {
        snprintf(err, errlen, "to=%s is beyond the safety ceiling of %g%%", fault_str(f, "to"),
                 ceiling);
        return FAULT_ERR_USAGE;
    }
    return 0;
}

static int disk_arm(struct fault *f, char *err, size_t errlen)
{
    const char *dir = f->target.path;
    int rc = disk_precheck(f, err, errlen);
    if (rc)
        return rc;
    struct disk_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->fd = -1;
    s->ceiling = fault_given(f, "ceiling") ? fault_num(f, "ceiling") : fault_disk_ceiling(f);
    snprintf(f->mode, sizeof f->mode, "%s", fault_given(f, "to") ? "to_pct" : "size");
    if (fault_given(f, "to") && fault_num(f, "to") > s->ceiling) {
        snprintf(err, errlen, "to=%s is beyond the safety ceiling of %g%%", fault_str(f, "to"),
                 s->ceiling);
        return FAULT_ERR_USAGE;
    }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", dir);
        return FAULT_ERR_USAGE;
    }
    if (access(dir, W_OK)) {
        snprintf(err, errlen, "%s: not writable: %s", dir, strerror(errno));
        return FAULT_ERR_FAIL;
    }
    struct fs_usage u;
    if (fs_usage(dir, &u)) {
        snprintf(err, errlen, "%s: statvfs: %s", dir, strerror(errno));
        return FAULT_ERR_FAIL;
    }
    double used_pct = 100.0 * (double)u.used / (double)u.total;
    if (fault_given(f, "to") && used_pct >= fault_num(f, "to")) {
        snprintf(err, errlen, "%s is already %.1f%% full (to=%s)", dir, used_pct, fault_str(f, "to"));
        return FAULT_ERR_FAIL;
    }
    if (fault_given(f, "size") &&
        100.0 * ((double)u.used + fault_num(f, "size")) / (double)u.total > s->ceiling) {
        snprintf(err, errlen, "size=%s would take %s beyond the %g%% ceiling (now %.1f%%)",
                 fault_str(f, "size"), dir, s->ceiling, used_pct);
        return FAULT_ERR_FAIL;
    }
    snprintf(s->file, sizeof s->file, "%s/.moni-fill-%s-%s", dir, fault_session_id(f), f->id_str);
    s->want = wanted_bytes(f, &u, 0);
    f->requested = fault_given(f, "to") ? (double)s->want : fault_num(f, "size");
    s->use_write = fault_num(f, "method") == 2;
    return 0;
}

struct writer_arg {
    int fd;
    uint64_t from, to;
};

static void writer_body(void *argp)
{
    struct writer_arg *a = argp;
    static char block[1 << 20];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (char)(i * 131 + 7); /* not zeros: no sparse or compressed shortcuts */
    uint64_t off = a->from;
    while (off < a->to) {
        size_t n = a->to - off < sizeof block ? (size_t)(a->to - off) : sizeof block;
        ssize_t w = pwrite(a->fd, block, n, (off_t)off);
        if (w <= 0)
            _exit(1);
        off += (uint64_t)w;
    }
    fsync(a->fd);
    _exit(0);
}

/* Grows (or trims) the file to s->want. */
static int apply(struct fault *f, char *err, size_t errlen)
{
    struct disk_state *s = f->priv;
    uint64_t have = file_bytes(s->fd);
    if (s->want < have) {
        if (ftruncate(s->fd, (off_t)s->want)) {
            snprintf(err, errlen, "ftruncate: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    if (s->want == have)
        return 0;
    if (!s->use_write) {
        if (fallocate(s->fd, 0, 0, (off_t)s->want) == 0)
            return 0;
        if (errno != EOPNOTSUPP && errno != ENOSYS && fault_num(f, "method") == 0) {
            snprintf(err, errlen, "fallocate: %s", strerror(errno));
            return -1;
        }
        if (fault_num(f, "method") == 1) {
            snprintf(err, errlen, "fallocate: %s", strerror(errno));
            return -1;
        }
        s->use_write = true;
    }
    if (s->writer > 0) {
        int st;
        if (waitpid(s->writer, &st, WNOHANG) == 0)
            return 0; /* still writing */
        s->writer = 0;
    }
    struct writer_arg a = {.fd = s->fd, .from = have, .to = s->want};
    s->writer = fault_spawn(f, writer_body, &a, s->fd);
    if (s->writer < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int disk_fire(struct fault *f, char *err, size_t errlen)
{
    struct disk_state *s = f->priv;
    fault_undo_file(f, s->file); /* the guardian knows the file before it exists */
    s->fd = open(s->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (s->fd < 0) {
        snprintf(err, errlen, "%s: %s", s->file, strerror(errno));
        return FAULT_ERR_FAIL;
    }
    s->created = true;
    snprintf(f->mode, sizeof f->mode, "%s", fault_given(f, "to") ? "to_pct" : "size");
    struct fs_usage u;
    if (fs_usage(f->target.path, &u) == 0)
        s->want = wanted_bytes(f, &u, 0);
    if (apply(f, err, errlen))
        return FAULT_ERR_FAIL;
    s->last_check = moni_mono_ns();
    return 0;
}

static int disk_check(struct fault *f, int64_t now)
{
    struct disk_state *s = f->priv;
    uint64_t have = file_bytes(s->fd);
    f->delivered = (double)have;
    f->delivered_valid = true;
    struct fs_usage u;
    if (fs_usage(f->target.path, &u) == 0)
        s->used_pct = 100.0 * (double)u.used / (double)u.total;
    if (s->writer > 0) {
        int st;
        if (waitpid(s->writer, &st, WNOHANG) == s->writer) {
            s->writer = 0;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                snprintf(f->error, sizeof f->error, "writing the fill file failed (disk full?)");
                return FAULT_CHECK_FAILED;
            }
        }
    }
    if (!f->effective && have + (1 << 20) >= s->want) {
        snprintf(f->effect_detail, sizeof f->effect_detail, "fill file %.0f MiB, filesystem %.1f%%",
                 (double)have / 1048576, s->used_pct);
        return FAULT_CHECK_EFFECTIVE;
    }
    if (f->effective && now - s->last_check >= fault_ns(f, "recheck")) {
        /* Hold the level: top up when others freed space, trim when over the ceiling. */
        s->last_check = now;
        uint64_t want = wanted_bytes(f, &u, have);
        uint64_t slack = u.total / 200; /* 0.5% */
        if (want > have + slack || want + slack < have || 100.0 * (double)u.used / (double)u.total >
                                                              s->ceiling) {
            s->want = want;
            char err[256];
            if (apply(f, err, sizeof err)) {
                snprintf(f->error, sizeof f->error, "top up: %s", err);
                return FAULT_CHECK_FAILED;
            }
        }
    }
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void disk_stop(struct fault *f)
{
    struct disk_state *s = f->priv;
    if (!s)
        return;
    if (f->state == FAULT_FIRING && s->fd >= 0)
        f->delivered = (double)file_bytes(s->fd);
    if (s->writer > 0)
        fault_kill_child(s->writer);
    s->writer = 0;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static int disk_revert(struct fault *f, char *err, size_t errlen)
{
    struct disk_state *s = f->priv;
    if (!s || !s->created)
        return 0;
    if (unlink(s->file) && errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", s->file, strerror(errno));
        return -1;
    }
    if (access(s->file, F_OK) == 0) {
        snprintf(err, errlen, "%s still exists", s->file);
        return -1;
    }
    return 0;
}

static void disk_describe(const struct fault *f, cJSON *d)
{
    const struct disk_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddStringToObject(d, "file", s->file);
    cJSON_AddStringToObject(d, "method", s->use_write ? "write" : "fallocate");
    cJSON_AddNumberToObject(d, "ceiling_pct", s->ceiling);
    cJSON_AddNumberToObject(d, "fs_used_pct", s->used_pct);
    cJSON_AddNumberToObject(d, "file_bytes", f->delivered);
}

static void disk_release(struct fault *f)
{
    struct disk_state *s = f->priv;
    if (s && s->fd >= 0)
        close(s->fd);
    free(s);
    f->priv = NULL;
}

const struct fault_ops fault_disk_fill_ops = {
    .name = "disk_fill",
    .summary = "fill a filesystem to X% or by a size with one fill file, and hold the level",
    .privileges = "write access to the directory",
    .label_kind = "interval",
    .effect_labels = "Disk_Full",
    .dose_unit = "bytes",
    .undo = "the fill file (.moni-fill-SESSION-ID) is deleted",
    .params = disk_params,
    .nparams = MONI_ARRAY_LEN(disk_params),
    .targets = FAULT_TGT_PATH | FAULT_TGT_REQUIRED,
    .arm = disk_arm,
    .fire = disk_fire,
    .check = disk_check,
    .stop = disk_stop,
    .revert = disk_revert,
    .describe = disk_describe,
    .release = disk_release,
    .precheck = disk_precheck,
};
