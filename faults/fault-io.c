/* faults/fault-io.c — I/O pressure: a child writes (and/or reads) a file in a directory
 * at a byte rate, block by block on absolute deadlines, with an fsync policy and an
 * O_DIRECT option.  Delivered bytes/s come from outside (/proc/PID/io); fsync latencies
 * from the child through shared memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static const struct fault_param io_params[] = {
    /* The defaults contend: a page-cached writer at 100 MB/s into a file it rewrites
     * left a fast disk idle, so the device is read and written directly, as fast as it
     * goes (1 GB/s is beyond most disks under direct I/O). */
    {"rate", FP_RATE, "B/s", "1G/s", 4096, 1ull << 40, NULL, "bytes per second (all blocks)"},
    {"block", FP_SIZE, "B", "1M", 512, 64ull << 20, NULL, "size of each write/read"},
    {"op", FP_ENUM, "", "rw", 0, 0, "write|read|rw", "write, read, or alternate both"},
    {"fsync", FP_ENUM, "", "none", 0, 0, "none|each|interval",
     "fsync after each block, every fsync_interval, or never"},
    {"fsync_interval", FP_DURATION, "s", "1s", 0.001, 60, NULL, "for fsync=interval"},
    {"direct", FP_ENUM, "", "auto", 0, 0, "0|1|auto",
     "O_DIRECT (bypass the page cache); auto: where the filesystem has it"},
    {"size", FP_SIZE, "B", "256M", 1 << 20, 1ull << 40, NULL,
     "file size; writes wrap around to the start"},
};

#define LAT_BUCKETS 32 /* log2 microseconds */
struct io_shared {
    volatile uint64_t written, read, ops, fsyncs, fsync_ns_sum, fsync_ns_max;
    volatile uint64_t lat_hist[LAT_BUCKETS];
    volatile int error;
};

struct io_state {
    char file[1024];
    pid_t pid;
    struct io_shared *shm;
    uint64_t io0; /* rchar+wchar at fire */
    int64_t t0, t_end;
    double bps;
    bool created, direct; /* direct: O_DIRECT is in use (auto resolved at arm) */
};

enum { IO_DIRECT_OFF, IO_DIRECT_ON, IO_DIRECT_AUTO }; /* the "direct" choices, in order */

struct io_arg {
    const char *file;
    struct io_shared *shm;
    double rate;
    size_t block;
    uint64_t size;
    int op, fsync_policy;
    int64_t fsync_every;
    bool direct;
};

static void note_fsync(struct io_shared *sh, int64_t ns)
{
    sh->fsyncs++;
    sh->fsync_ns_sum += (uint64_t)ns;
    if ((uint64_t)ns > sh->fsync_ns_max)
        sh->fsync_ns_max = (uint64_t)ns;
    uint64_t us = (uint64_t)ns / 1000;
    int b = 0;
    while (us > 1 && b < LAT_BUCKETS - 1) {
        us >>= 1;
        b++;
    }
    sh->lat_hist[b]++;
}

static void io_body(void *argp)
{
    struct io_arg *a = argp;
    int flags = O_RDWR | O_CREAT | (a->direct ? O_DIRECT : 0);
    int fd = open(a->file, flags, 0600);
    if (fd < 0) {
        a->shm->error = errno;
        _exit(1);
    }
    void *buf;
    if (posix_memalign(&buf, 4096, a->block)) {
        a->shm->error = ENOMEM;
        _exit(1);
    }
    for (size_t i = 0; i < a->block; i++)
        ((unsigned char *)buf)[i] = (unsigned char)(i * 31 + 1);
    int64_t start = moni_mono_ns(), last_sync = start;
    double per_block_ns = (double)a->block / a->rate * 1e9;
    uint64_t off = 0, rd_off = 0;
    for (uint64_t k = 0;; k++) {
        int64_t due = start + (int64_t)(per_block_ns * (double)k);
        struct timespec ts = {.tv_sec = due / MONI_NS_PER_SEC, .tv_nsec = due % MONI_NS_PER_SEC};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        bool do_write = a->op == 0 || (a->op == 2 && (k & 1) == 0);
        if (do_write) {
            if (off + a->block > a->size)
                off = 0;
            ssize_t n = pwrite(fd, buf, a->block, (off_t)off);
            if (n < 0) {
                a->shm->error = errno;
                _exit(1);
            }
            off += (uint64_t)n;
            a->shm->written += (uint64_t)n;
            int64_t now = moni_mono_ns();
            if (a->fsync_policy == 1 ||
                (a->fsync_policy == 2 && now - last_sync >= a->fsync_every)) {
                int64_t t = moni_mono_ns();
                fsync(fd);
                note_fsync(a->shm, moni_mono_ns() - t);
                last_sync = now;
            }
        } else {
            if (rd_off + a->block > a->size) {
                rd_off = 0;
                if (!a->direct) /* read from the device again, not the page cache */
                    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            }
            ssize_t n = pread(fd, buf, a->block, (off_t)rd_off);
            if (n < 0) {
                a->shm->error = errno;
                _exit(1);
            }
            if (n == 0) {
                rd_off = a->size; /* file shorter than size: wrap */
                continue;
            }
            rd_off += (uint64_t)n;
            a->shm->read += (uint64_t)n;
        }
        a->shm->ops++;
    }
}

static uint64_t proc_io(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *fp = fopen(path, "re");
    if (!fp)
        return 0;
    uint64_t total = 0;
    while (fgets(line, sizeof line, fp)) {
        unsigned long long v;
        if (sscanf(line, "rchar: %llu", &v) == 1 || sscanf(line, "wchar: %llu", &v) == 1)
            total += v;
    }
    fclose(fp);
    return total;
}

/* What arm checks that acts on nothing (a path given must be a directory already;
 * the run directory, the default, is made at the start). */
static int io_precheck(const struct fault *f, char *err, size_t errlen)
{
    struct stat st;
    if (f->target.path[0] && (stat(f->target.path, &st) || !S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "%s: not a directory", f->target.path);
        return FAULT_ERR_USAGE;
    }
    if (fault_num(f, "block") > fault_num(f, "size")) {
        snprintf(err, errlen, "block=%s is larger than size=%s", fault_str(f, "block"),
                 fault_str(f, "size"));
        return FAULT_ERR_USAGE;
    }
    if (fault_num(f, "direct") == IO_DIRECT_ON && ((uint64_t)fault_num(f, "block") % 4096)) {
        snprintf(err, errlen, "direct=1 needs block to be a multiple of 4K");
        return FAULT_ERR_USAGE;
    }
    return 0;
}

static int io_arm(struct fault *f, char *err, size_t errlen)
{
    const char *dir = f->target.path;
    int rc = io_precheck(f, err, errlen); /* the path is always set by now */
    if (rc)
        return rc;
    struct io_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    snprintf(s->file, sizeof s->file, "%s/.moni-io-%s-%s", dir, fault_session_id(f), f->id_str);
    snprintf(f->mode, sizeof f->mode, "%s", fault_str(f, "op"));
    struct statvfs sv;
    if (statvfs(dir, &sv) == 0) {
        double total = (double)sv.f_blocks * sv.f_frsize;
        double used = (double)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
        if (total > 0 && 100.0 * (used + fault_num(f, "size")) / total > fault_disk_ceiling(f)) {
            snprintf(err, errlen, "size=%s would take %s beyond the %g%% disk ceiling",
                     fault_str(f, "size"), dir, fault_disk_ceiling(f));
            return FAULT_ERR_FAIL;
        }
    }
    /* Pre-flight: the file can be created (with O_DIRECT if asked; auto falls back to
     * the page cache where the filesystem has no O_DIRECT, e.g. tmpfs). */
    fault_undo_file(f, s->file);
    int direct = (int)fault_num(f, "direct");
    s->direct = direct == IO_DIRECT_ON ||
                (direct == IO_DIRECT_AUTO && (uint64_t)fault_num(f, "block") % 4096 == 0);
    int fd = open(s->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | (s->direct ? O_DIRECT : 0), 0600);
    if (fd < 0 && errno == EINVAL && direct == IO_DIRECT_AUTO) {
        s->direct = false;
        unlink(s->file); /* some filesystems create the file before refusing O_DIRECT */
        fd = open(s->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s%s", s->file, strerror(e),
                 e == EINVAL && s->direct ? " (the filesystem does not support O_DIRECT)" : "");
        return FAULT_ERR_FAIL;
    }
    s->created = true;
    if (fault_num(f, "op") != 0) { /* something to read */
        uint64_t size = (uint64_t)fault_num(f, "size");
        if (fallocate(fd, 0, 0, (off_t)size) != 0 && ftruncate(fd, (off_t)size) != 0) {
            snprintf(err, errlen, "%s: %s", s->file, strerror(errno));
            close(fd);
            return FAULT_ERR_FAIL;
        }
    }
    close(fd);
    f->requested = fault_num(f, "rate");
    return 0;
}

static int io_fire(struct fault *f, char *err, size_t errlen)
{
    struct io_state *s = f->priv;
    s->shm = fault_shared_alloc(sizeof *s->shm);
    if (!s->shm) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    struct io_arg a = {.file = s->file, .shm = s->shm, .rate = fault_num(f, "rate"),
                       .block = (size_t)fault_num(f, "block"), .size = (uint64_t)fault_num(f, "size"),
                       .op = (int)fault_num(f, "op"), .fsync_policy = (int)fault_num(f, "fsync"),
                       .fsync_every = fault_ns(f, "fsync_interval"),
                       .direct = s->direct};
    s->t0 = moni_mono_ns();
    s->pid = fault_spawn(f, io_body, &a, -1);
    if (s->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    s->io0 = proc_io(s->pid);
    return 0;
}

static int io_check(struct fault *f, int64_t now)
{
    struct io_state *s = f->priv;
    int st = fault_proc_state(s->pid);
    if (st == 0 || st == 'Z') {
        snprintf(f->error, sizeof f->error, "I/O child died: %s",
                 s->shm->error ? strerror(s->shm->error) : "unknown");
        return FAULT_CHECK_FAILED;
    }
    uint64_t io = proc_io(s->pid);
    if (io > s->io0 && now > s->t0) {
        s->bps = (double)(io - s->io0) / ((double)(now - s->t0) / 1e9);
        s->t_end = now;
        f->delivered = s->bps;
        f->delivered_valid = now - s->t0 >= 200 * MONI_NS_PER_MS;
    }
    if (!f->effective && io > s->io0 + (uint64_t)fault_num(f, "block") / 2) {
        snprintf(f->effect_detail, sizeof f->effect_detail, "%llu bytes of I/O seen in /proc/%d/io",
                 (unsigned long long)(io - s->io0), (int)s->pid);
        return FAULT_CHECK_EFFECTIVE;
    }
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void io_stop(struct fault *f)
{
    struct io_state *s = f->priv;
    if (!s || s->pid <= 0)
        return;
    if (f->state == FAULT_FIRING && fault_proc_state(s->pid))
        io_check(f, moni_mono_ns());
    fault_kill_child(s->pid);
}

static int io_revert(struct fault *f, char *err, size_t errlen)
{
    struct io_state *s = f->priv;
    if (!s)
        return 0;
    int st = s->pid > 0 ? fault_proc_state(s->pid) : 0;
    if (st && st != 'Z') {
        snprintf(err, errlen, "I/O child %d still running", (int)s->pid);
        return -1;
    }
    if (s->created && unlink(s->file) && errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", s->file, strerror(errno));
        return -1;
    }
    return 0;
}

static double hist_pct(const struct io_shared *sh, double q)
{
    uint64_t n = 0, acc = 0;
    for (int b = 0; b < LAT_BUCKETS; b++)
        n += sh->lat_hist[b];
    if (!n)
        return 0;
    for (int b = 0; b < LAT_BUCKETS; b++) {
        acc += sh->lat_hist[b];
        if ((double)acc >= q * (double)n)
            return (double)(1ull << b) / 1000.0; /* upper bound of the bucket, ms */
    }
    return 0;
}

static void io_describe(const struct fault *f, cJSON *d)
{
    const struct io_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddStringToObject(d, "file", s->file);
    cJSON_AddStringToObject(d, "op", fault_str(f, "op"));
    cJSON_AddBoolToObject(d, "direct", s->direct);
    if (!s->shm)
        return;
    cJSON_AddNumberToObject(d, "bytes_written", (double)s->shm->written);
    cJSON_AddNumberToObject(d, "bytes_read", (double)s->shm->read);
    cJSON_AddNumberToObject(d, "delivered_Bps", s->bps);
    cJSON_AddNumberToObject(d, "fsyncs", (double)s->shm->fsyncs);
    if (s->shm->fsyncs) {
        cJSON_AddNumberToObject(d, "fsync_mean_ms",
                                (double)s->shm->fsync_ns_sum / (double)s->shm->fsyncs / 1e6);
        cJSON_AddNumberToObject(d, "fsync_max_ms", (double)s->shm->fsync_ns_max / 1e6);
        cJSON_AddNumberToObject(d, "fsync_p50_ms_le", hist_pct(s->shm, 0.5));
        cJSON_AddNumberToObject(d, "fsync_p99_ms_le", hist_pct(s->shm, 0.99));
    }
}

static void io_release(struct fault *f)
{
    struct io_state *s = f->priv;
    if (s)
        fault_shared_free(s->shm, sizeof *s->shm);
    free(s);
    f->priv = NULL;
}

const struct fault_ops fault_io_ops = {
    .name = "io",
    .summary = "I/O pressure: write and/or read a file at a byte rate with an fsync policy",
    .privileges = "write access to the directory",
    .label_kind = "interval",
    .effect_labels = "IO_Bottleneck,Slowdown",
    .dose_unit = "Bps",
    .undo = "the writer is killed and its file (.moni-io-SESSION-ID) deleted",
    .params = io_params,
    .nparams = MONI_ARRAY_LEN(io_params),
    .targets = FAULT_TGT_PATH | FAULT_TGT_REQUIRED,
    .arm = io_arm,
    .fire = io_fire,
    .check = io_check,
    .stop = io_stop,
    .revert = io_revert,
    .describe = io_describe,
    .release = io_release,
    .precheck = io_precheck,
};
