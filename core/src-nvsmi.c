/* core/src-nvsmi.c — GPU fallback when NVML cannot be loaded but nvidia-smi exists:
 * one short inventory call at start, then ONE long-running
 *   nvidia-smi --query-gpu=... --format=csv,noheader,nounits -lms N
 * child whose output is parsed on the event loop as it streams (never a process
 * per sample).  Values older than three periods (the child died or stalled) are
 * reported missing.  PCIe throughput and Xid are not available this way. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/obs-int.h"

/* The streamed fields, in order; a GPU_* slot for each (or -1 for the index). */
#define NVSMI_STREAM_QUERY                                                                 \
    "index,utilization.gpu,utilization.memory,memory.used,memory.total,temperature.gpu,"  \
    "power.draw,clocks.sm,ecc.errors.corrected.volatile.total,"                            \
    "ecc.errors.uncorrected.volatile.total"
static const int stream_field[] = {-1,           GPU_UTIL,    GPU_MEM_UTIL, GPU_MEM_USED,
                                   GPU_MEM_TOTAL, GPU_TEMP,    GPU_POWER,    GPU_SM_CLOCK,
                                   GPU_ECC_CORR,  GPU_ECC_UNCORR};

struct obs_nvsmi {
    struct moni_loop *loop;
    pid_t pid;
    int fd;
    struct obs_linebuf lb;
    struct obs_gpu_values vals;
    int64_t updated[OBS_GPU_MAX];
    int64_t stale_ns;
};

/* Splits "a, b, c" in place; returns the count. */
static int split_csv(char *line, char **out, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        while (*p == ' ')
            p++;
        out[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    for (int i = 0; i < n; i++) { /* trim the end */
        size_t l = strlen(out[i]);
        while (l && (out[i][l - 1] == ' ' || out[i][l - 1] == '\n' || out[i][l - 1] == '\r'))
            out[i][--l] = '\0';
    }
    return n;
}

int obs_nvsmi_parse_line(const char *line, struct obs_gpu_values *out)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    char *f[16];
    int n = split_csv(buf, f, 16);
    if (n < (int)MONI_ARRAY_LEN(stream_field))
        return -1;
    char *end;
    long idx = strtol(f[0], &end, 10);
    if (end == f[0] || *end || idx < 0 || idx >= OBS_GPU_MAX)
        return -1;
    for (size_t k = 1; k < MONI_ARRAY_LEN(stream_field); k++) {
        int slot = stream_field[k];
        double v = strtod(f[k], &end);
        bool ok = end != f[k] && *end == '\0'; /* "[N/A]", "[Not Supported]": missing */
        if (ok && (slot == GPU_MEM_USED || slot == GPU_MEM_TOTAL))
            v *= 1024.0 * 1024.0; /* MiB with nounits */
        out->v[idx][slot] = ok ? v : 0;
        out->ok[idx][slot] = ok;
    }
    return (int)idx;
}

static pid_t run_smi(const char *path, char *const *argv, int *out_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    struct obs_spawn_opts o = {.stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = -1,
                               .new_group = false, .pdeathsig = SIGTERM};
    pid_t pid = obs_spawn(path, argv, &o);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    *out_fd = p[0];
    return pid;
}

/* Runs the inventory query, with a 5 s limit; returns the output length or -1. */
static ssize_t inventory(const char *path, char *buf, size_t len)
{
    char *argv[] = {(char *)"nvidia-smi",
                    (char *)"--query-gpu=index,name,uuid,memory.total,driver_version",
                    (char *)"--format=csv,noheader,nounits", NULL};
    int fd;
    pid_t pid = run_smi(path, argv, &fd);
    if (pid < 0)
        return -1;
    size_t got = 0;
    int64_t until = moni_mono_ns() + 5 * MONI_NS_PER_SEC;
    for (;;) {
        int64_t left = (until - moni_mono_ns()) / MONI_NS_PER_MS;
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got >= len - 1)
            break;
    }
    buf[got] = '\0';
    close(fd);
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && moni_mono_ns() < until)
        moni_sleep_ns(5 * MONI_NS_PER_MS); /* EOF comes just before the exit */
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? (ssize_t)got : -1;
}

static void on_stream_line(void *arg, const char *line, size_t len, size_t term_len)
{
    struct obs_nvsmi *n = arg;
    char buf[512];
    size_t l = len - term_len < sizeof buf - 1 ? len - term_len : sizeof buf - 1;
    memcpy(buf, line, l);
    buf[l] = '\0';
    int idx = obs_nvsmi_parse_line(buf, &n->vals);
    if (idx >= 0)
        n->updated[idx] = moni_mono_ns();
}

static void close_stream(struct obs_nvsmi *n)
{
    if (n->fd >= 0) {
        moni_loop_del_fd(n->loop, n->fd);
        close(n->fd);
        n->fd = -1;
    }
}

static void on_stream(struct moni_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)events;
    struct obs_nvsmi *n = arg;
    char buf[4096];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) {
        obs_linebuf_feed(&n->lb, buf, (size_t)r, on_stream_line, n);
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_stream(n); /* the child ended: values go stale, then missing */
        if (n->pid > 0 && waitpid(n->pid, NULL, WNOHANG) == n->pid)
            n->pid = 0;
    }
}

struct obs_nvsmi *obs_nvsmi_open(struct moni_loop *loop, int64_t period_ns,
                                 struct session_gpu *gpus, size_t *ngpus, char *driver,
                                 size_t driver_len, char *err, size_t errlen)
{
    char path[4096];
    if (obs_which("nvidia-smi", path, sizeof path) < 0) {
        snprintf(err, errlen, "not found on PATH");
        return NULL;
    }
    char buf[8192];
    if (inventory(path, buf, sizeof buf) < 0) {
        snprintf(err, errlen, "%s --query-gpu failed", path);
        return NULL;
    }
    size_t count = 0;
    for (char *l = buf; l && *l && count < OBS_GPU_MAX;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        char *f[8];
        if (split_csv(l, f, 8) >= 5) {
            struct session_gpu *g = &gpus[count++];
            memset(g, 0, sizeof *g);
            snprintf(g->name, sizeof g->name, "%s", f[1]);
            snprintf(g->uuid, sizeof g->uuid, "%s", f[2]);
            g->mem_total_bytes = (uint64_t)(strtod(f[3], NULL) * 1024.0 * 1024.0);
            snprintf(driver, driver_len, "%s", f[4]);
        }
        l = nl ? nl + 1 : NULL;
    }
    if (!count) {
        snprintf(err, errlen, "nvidia-smi reports no GPU");
        return NULL;
    }
    struct obs_nvsmi *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->loop = loop;
    n->fd = -1;
    n->stale_ns = 3 * period_ns + MONI_NS_PER_SEC;
    char lms[32];
    snprintf(lms, sizeof lms, "%lld", (long long)(period_ns / MONI_NS_PER_MS));
    char *argv[] = {(char *)"nvidia-smi", (char *)"--query-gpu=" NVSMI_STREAM_QUERY,
                    (char *)"--format=csv,noheader,nounits", (char *)"-lms", lms, NULL};
    n->pid = run_smi(path, argv, &n->fd);
    if (n->pid < 0) {
        snprintf(err, errlen, "cannot start %s: %s", path, strerror(errno));
        free(n);
        return NULL;
    }
    fcntl(n->fd, F_SETFL, fcntl(n->fd, F_GETFL) | O_NONBLOCK);
    moni_loop_add_fd(loop, n->fd, EPOLLIN, on_stream, n);
    *ngpus = count;
    return n;
}

void obs_nvsmi_values(struct obs_nvsmi *n, struct obs_gpu_values *out)
{
    memcpy(out, &n->vals, sizeof *out);
    int64_t now = moni_mono_ns();
    for (int i = 0; i < OBS_GPU_MAX; i++)
        if (!n->updated[i] || now - n->updated[i] > n->stale_ns)
            memset(out->ok[i], 0, sizeof out->ok[i]);
}

void obs_nvsmi_close(struct obs_nvsmi *n)
{
    if (!n)
        return;
    close_stream(n);
    if (n->pid > 0) {
        kill(n->pid, SIGTERM);
        waitpid(n->pid, NULL, 0);
    }
    obs_linebuf_free(&n->lb);
    free(n);
}
