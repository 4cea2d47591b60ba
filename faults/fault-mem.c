/* faults/fault-mem.c — memory pressure: a hog process grows its resident memory at a
 * rate (touching every page) up to a size, keeps `headroom` of MemAvailable free
 * unless until_oom=1, then holds it.  oom=prefer|protect sets its oom_score_adj.  The
 * RSS curve is measured from outside (/proc/PID/statm) and kept in the journal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long texts are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

#define CHUNK (64ull << 20)
#define CURVE_MAX 512

static const struct fault_param mem_params[] = {
    {"size", FP_SIZE, "B", "1G", 1 << 20, 1ull << 50, NULL, "resident memory to reach and hold"},
    {"rate", FP_RATE, "B/s", "1G/s", 1 << 20, 1ull << 40, NULL, "growth rate"},
    {"until_oom", FP_BOOL, "", "0", 0, 0, NULL,
     "grow until the OOM killer acts (ignores size and headroom)"},
    {"oom", FP_ENUM, "", "default", 0, 0, "default|prefer|protect",
     "make the hog the preferred (oom_score_adj 1000) or protected (-1000) OOM victim"},
    {"headroom", FP_SIZE, "B", NULL, 0, 1ull << 50, NULL,
     "stop growing when MemAvailable falls to this (default: the injector's, 512M)"},
};

enum { HOG_GROWING, HOG_HOLDING, HOG_HEADROOM, HOG_NOMEM };
struct mem_shared {
    volatile uint64_t touched;
    volatile int state;
};

struct mem_state {
    pid_t pid;
    struct mem_shared *shm;
    uint64_t size, headroom, peak;
    double rate;
    bool until_oom;
    int oom_adj;
    int64_t t0, last_sample, reached_ns;
    size_t ncurve;
    int64_t curve_ms[CURVE_MAX];
    uint64_t curve_rss[CURVE_MAX];
    int exit_signal;
};

struct hog_arg {
    struct mem_shared *shm;
    uint64_t size, headroom;
    double rate;
    bool until_oom;
    int oom_adj;
};

static void hog_body(void *argp)
{
    struct hog_arg *a = argp;
    if (a->oom_adj) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY);
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d", a->oom_adj);
        if (fd >= 0) {
            if (write(fd, buf, (size_t)n) < 0) { /* recorded as not applied by the parent */
            }
            close(fd);
        }
    }
    long page = sysconf(_SC_PAGESIZE);
    uint64_t limit = a->until_oom ? UINT64_MAX : a->size;
    char *chunk = NULL;
    uint64_t chunk_used = CHUNK, touched = 0;
    int64_t start = moni_mono_ns(), tick = 5 * MONI_NS_PER_MS;
    for (uint64_t k = 1; touched < limit; k++) {
        int64_t now = moni_mono_ns();
        double want = a->rate * (double)(now - start) / 1e9;
        uint64_t target = want > (double)limit ? limit : (uint64_t)want;
        if (!a->until_oom && a->headroom && fault_meminfo("MemAvailable") < a->headroom) {
            a->shm->state = HOG_HEADROOM;
            break;
        }
        while (touched < target) {
            if (chunk_used >= CHUNK) {
                chunk = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (chunk == MAP_FAILED) {
                    a->shm->state = HOG_NOMEM;
                    goto hold;
                }
                chunk_used = 0;
            }
            /* Populate the pages due now in one call (MADV_POPULATE_WRITE, Linux 5.14);
             * touching each page is the fallback. */
            uint64_t n = target - touched;
            if (n > CHUNK - chunk_used)
                n = CHUNK - chunk_used;
            n = (n + (uint64_t)page - 1) / (uint64_t)page * (uint64_t)page;
            if (madvise(chunk + chunk_used, n, MADV_POPULATE_WRITE) != 0)
                for (uint64_t off = 0; off < n; off += (uint64_t)page)
                    chunk[chunk_used + off] = (char)(k | 1);
            chunk_used += n;
            touched += n;
        }
        a->shm->touched = touched;
        int64_t next = start + (int64_t)k * tick;
        struct timespec ts = {.tv_sec = next / MONI_NS_PER_SEC, .tv_nsec = next % MONI_NS_PER_SEC};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    if (a->shm->state == HOG_GROWING)
        a->shm->state = HOG_HOLDING;
hold:
    for (;;)
        pause();
}

static int mem_arm(struct fault *f, char *err, size_t errlen)
{
    struct mem_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->size = (uint64_t)fault_num(f, "size");
    s->rate = fault_num(f, "rate");
    s->until_oom = fault_num(f, "until_oom") != 0;
    s->headroom = fault_given(f, "headroom") ? (uint64_t)fault_num(f, "headroom")
                                             : fault_mem_headroom(f);
    int oom = (int)fault_num(f, "oom");
    s->oom_adj = oom == 1 ? 1000 : oom == 2 ? -1000 : 0;
    snprintf(f->mode, sizeof f->mode, "%s", s->until_oom ? "until_oom" : "size");
    if (oom == 2 && geteuid() != 0) {
        snprintf(err, errlen, "oom=protect needs CAP_SYS_RESOURCE (run as root) ");
        return FAULT_ERR_FAIL;
    }
    uint64_t avail = fault_meminfo("MemAvailable");
    if (!s->until_oom && avail && avail < s->size + s->headroom) {
        char a[32], b[32], c[32];
        snprintf(err, errlen, "size=%s would leave less than the %s headroom (MemAvailable %s)",
                 moni_fmt_bytes((double)s->size, a, sizeof a),
                 moni_fmt_bytes((double)s->headroom, b, sizeof b),
                 moni_fmt_bytes((double)avail, c, sizeof c));
        return FAULT_ERR_FAIL;
    }
    f->requested = s->until_oom ? (double)avail : (double)s->size;
    return 0;
}

static int mem_fire(struct fault *f, char *err, size_t errlen)
{
    struct mem_state *s = f->priv;
    s->shm = fault_shared_alloc(sizeof *s->shm);
    if (!s->shm) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    struct hog_arg a = {.shm = s->shm, .size = s->size, .headroom = s->headroom,
                        .rate = s->rate, .until_oom = s->until_oom, .oom_adj = s->oom_adj};
    s->t0 = moni_mono_ns();
    s->pid = fault_spawn(f, hog_body, &a, -1);
    if (s->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    return 0;
}

static void add_sample(struct mem_state *s, int64_t now, uint64_t rss)
{
    if (s->ncurve == CURVE_MAX) { /* keep the whole run at half the resolution */
        for (size_t i = 0; i < CURVE_MAX / 2; i++) {
            s->curve_ms[i] = s->curve_ms[2 * i];
            s->curve_rss[i] = s->curve_rss[2 * i];
        }
        s->ncurve = CURVE_MAX / 2;
    }
    s->curve_ms[s->ncurve] = (now - s->t0) / MONI_NS_PER_MS;
    s->curve_rss[s->ncurve++] = rss;
}

static int mem_check(struct fault *f, int64_t now)
{
    struct mem_state *s = f->priv;
    int st = fault_proc_state(s->pid);
    if (st == 0 || st == 'Z') {
        int status = 0;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid && WIFSIGNALED(status))
            s->exit_signal = WTERMSIG(status);
        snprintf(f->effect_detail, sizeof f->effect_detail,
                 "hog killed (signal %d%s) at RSS peak %.0f MiB", s->exit_signal,
                 s->exit_signal == SIGKILL ? ", OOM killer" : "", (double)s->peak / 1048576);
        s->pid = -s->pid; /* reaped */
        if (s->until_oom || s->exit_signal == SIGKILL)
            return FAULT_CHECK_DONE;
        snprintf(f->error, sizeof f->error, "memory hog died (signal %d)", s->exit_signal);
        return FAULT_CHECK_FAILED;
    }
    uint64_t rss = fault_proc_rss(s->pid);
    if (rss > s->peak)
        s->peak = rss;
    f->delivered = (double)s->peak;
    f->delivered_valid = true;
    if (now - s->last_sample >= 100 * MONI_NS_PER_MS) {
        add_sample(s, now, rss);
        s->last_sample = now;
    }
    if (f->effective)
        return FAULT_CHECK_EFFECTIVE;
    if (!s->until_oom && rss >= s->size - s->size / 50) {
        s->reached_ns = now;
        add_sample(s, now, rss);
        snprintf(f->effect_detail, sizeof f->effect_detail, "RSS %.0f MiB reached",
                 (double)rss / 1048576);
        return FAULT_CHECK_EFFECTIVE;
    }
    if (s->shm->state == HOG_HEADROOM || s->shm->state == HOG_NOMEM) {
        s->reached_ns = now;
        snprintf(f->effect_detail, sizeof f->effect_detail, "RSS %.0f MiB, stopped at %s",
                 (double)rss / 1048576, s->shm->state == HOG_HEADROOM ? "headroom" : "mmap failure");
        return FAULT_CHECK_EFFECTIVE;
    }
    return FAULT_CHECK_WAIT;
}

static void mem_stop(struct fault *f)
{
    struct mem_state *s = f->priv;
    if (s && s->pid > 0) {
        if (f->state == FAULT_FIRING)
            mem_check(f, moni_mono_ns());
        if (s->pid > 0)
            fault_kill_child(s->pid);
    }
}

/* Judged only after reaping: a big hog takes a while to free its memory and a zombie
 * is not running.  Waits up to 5 s for it to be gone. */
static int mem_revert(struct fault *f, char *err, size_t errlen)
{
    struct mem_state *s = f->priv;
    if (!s || s->pid <= 0)
        return 0;
    int64_t deadline = moni_mono_ns() + 5 * MONI_NS_PER_SEC;
    for (;;) {
        int status;
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        int st = fault_proc_state(s->pid);
        if (r == s->pid || (r < 0 && errno == ECHILD) || st == 0 || st == 'Z' || st == 'X') {
            if (r == s->pid)
                s->pid = -s->pid; /* reaped */
            return 0;
        }
        if (moni_mono_ns() >= deadline)
            break;
        kill(-s->pid, SIGKILL);
        moni_sleep_ns(2 * MONI_NS_PER_MS);
    }
    snprintf(err, errlen, "memory hog %d still running 5 s after SIGKILL", (int)s->pid);
    return -1;
}

static void mem_describe(const struct fault *f, cJSON *d)
{
    const struct mem_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddNumberToObject(d, "pid", s->pid < 0 ? -s->pid : s->pid);
    cJSON_AddNumberToObject(d, "rate_Bps", s->rate);
    cJSON_AddNumberToObject(d, "peak_rss_bytes", (double)s->peak);
    cJSON_AddNumberToObject(d, "oom_score_adj", s->oom_adj);
    if (s->reached_ns > s->t0 && s->peak)
        cJSON_AddNumberToObject(d, "achieved_rate_Bps",
                                (double)s->peak / ((double)(s->reached_ns - s->t0) / 1e9));
    if (s->exit_signal)
        cJSON_AddNumberToObject(d, "exit_signal", s->exit_signal);
    if (f->state >= FAULT_STOPPED || f->state == FAULT_FAILED) {
        cJSON *curve = cJSON_AddArrayToObject(d, "rss_curve");
        for (size_t i = 0; i < s->ncurve; i++) {
            cJSON *pt = cJSON_CreateArray();
            cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)s->curve_ms[i]));
            cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)s->curve_rss[i]));
            cJSON_AddItemToArray(curve, pt);
        }
    }
}

static void mem_release(struct fault *f)
{
    struct mem_state *s = f->priv;
    if (s)
        fault_shared_free(s->shm, sizeof *s->shm);
    free(s);
    f->priv = NULL;
}

const struct fault_ops fault_mem_ops = {
    .name = "mem",
    .summary = "memory pressure: a hog grows RSS at a rate up to a size (or OOM) and holds it",
    .privileges = "none (oom=protect: CAP_SYS_RESOURCE)",
    .label_kind = "interval",
    .effect_labels = "Memory_Leak,Host_OOM",
    .dose_unit = "bytes",
    .undo = "the hog is killed (it also dies with moni: PR_SET_PDEATHSIG)",
    .params = mem_params,
    .nparams = MONI_ARRAY_LEN(mem_params),
    .targets = 0,
    .arm = mem_arm,
    .fire = mem_fire,
    .check = mem_check,
    .stop = mem_stop,
    .revert = mem_revert,
    .describe = mem_describe,
    .release = mem_release,
};
