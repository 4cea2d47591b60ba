/* core/src-nvsmi.c — GPU fallback when NVML cannot be loaded but nvidia-smi exists:
 * one short inventory call at start, then ONE long-running
 *   nvidia-smi --query-gpu=... --format=csv,noheader,nounits -lms N
 * child whose output is parsed on the event loop as it streams (never a process
 * per sample).  Values older than three periods (the child stalled) are reported
 * missing, and so is everything once the child is gone.  A child that exits, or
 * prints nothing for max(3 periods, 5 s), is killed (its whole process group) and
 * reaped, and a new one is started after a backoff of 1 s doubling to 30 s (back
 * to 1 s once a child has streamed for 30 s); at most one child at a time.  Each
 * restart is noted in meta.json and counted in gpu.restarts.  PCIe throughput and
 * Xid are not available this way. */
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

#define NVSMI_BACKOFF_FIRST_NS (1 * MONI_NS_PER_SEC)
#define NVSMI_BACKOFF_MAX_NS (30 * MONI_NS_PER_SEC)
#define NVSMI_HEALTHY_NS (30 * MONI_NS_PER_SEC) /* streamed this long: backoff resets */
#define NVSMI_REAP_WAIT_NS (1 * MONI_NS_PER_SEC) /* EOF seen, exit not yet: then SIGKILL */
#define NVSMI_MAX_NOTES 10                       /* restarts noted; later ones only counted */

struct obs_nvsmi {
    struct moni_loop *loop;
    struct session *session; /* for notes and gpu.restarts; may be NULL */
    char path[4096];
    char lms[32];
    pid_t pid; /* the streaming child (= its process group), 0 = none */
    int fd;
    struct obs_linebuf lb;
    struct obs_gpu_values vals;
    int64_t updated[OBS_GPU_MAX];
    int64_t stale_ns, stall_ns;
    int64_t started_ns, first_line_ns, last_line_ns; /* of the current child */
    int64_t eof_ns;                                  /* its pipe ended (0 = not yet) */
    int watchdog, reaper, restarter;                 /* one-shot timer ids, -1 = none */
    int64_t backoff_ns; /* the delay before the next restart */
    int64_t delay_ns;   /* the delay chosen for the pending restart */
    char why[160];      /* how the last child ended, with its time: for the note */
    unsigned restarts, notes;
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

static void arm_watchdog(struct obs_nvsmi *n, int64_t at);
static void start_child(struct obs_nvsmi *n);

static void cancel(struct obs_nvsmi *n, int *timer)
{
    if (*timer >= 0)
        moni_loop_cancel_timer(n->loop, *timer);
    *timer = -1;
}

static void on_stream_line(void *arg, const char *line, size_t len, size_t term_len)
{
    struct obs_nvsmi *n = arg;
    char buf[512];
    size_t l = len - term_len < sizeof buf - 1 ? len - term_len : sizeof buf - 1;
    memcpy(buf, line, l);
    buf[l] = '\0';
    int idx = obs_nvsmi_parse_line(buf, &n->vals);
    if (idx >= 0) {
        int64_t now = moni_mono_ns();
        n->updated[idx] = now;
        if (!n->first_line_ns)
            n->first_line_ns = now;
        n->last_line_ns = now;
    }
}

static void close_stream(struct obs_nvsmi *n)
{
    if (n->fd >= 0) {
        moni_loop_del_fd(n->loop, n->fd);
        close(n->fd);
        n->fd = -1;
    }
    obs_linebuf_free(&n->lb); /* a partial line of a dead child is not data */
}

/* Kills the child's whole group (the leader may have left helpers) and reaps the
 * leader; returns its wait status. */
static int kill_and_reap(pid_t pid)
{
    int st = 0;
    kill(-pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

static void describe_status(int st, char *buf, size_t len)
{
    if (WIFEXITED(st))
        snprintf(buf, len, "exited (status %d)", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, len, "was killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, len, "ended");
}

static void on_restart_due(struct moni_loop *loop, int64_t deadline, int64_t now,
                           uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline;
    (void)now;
    (void)missed;
    struct obs_nvsmi *n = arg;
    n->restarter = -1; /* one-shot: the id is free again */
    start_child(n);
}

/* The child is gone (already reaped): its values go missing now, and a new child
 * is started after the backoff. */
static void child_gone(struct obs_nvsmi *n, const char *how)
{
    int64_t now = moni_mono_ns();
    cancel(n, &n->watchdog);
    cancel(n, &n->reaper);
    close_stream(n);
    memset(n->updated, 0, sizeof n->updated);
    if (n->first_line_ns && n->last_line_ns - n->first_line_ns >= NVSMI_HEALTHY_NS)
        n->backoff_ns = NVSMI_BACKOFF_FIRST_NS;
    n->delay_ns = n->backoff_ns;
    n->backoff_ns = n->backoff_ns * 2 < NVSMI_BACKOFF_MAX_NS ? n->backoff_ns * 2
                                                            : NVSMI_BACKOFF_MAX_NS;
    char iso[MONI_ISO_LEN];
    moni_fmt_iso(moni_real_from_mono(now), iso, sizeof iso);
    snprintf(n->why, sizeof n->why, "nvidia-smi %s at %s", how, iso);
    n->restarter = moni_loop_add_timeout(n->loop, now + n->delay_ns, on_restart_due, n);
}

static void reaped(struct obs_nvsmi *n, int st)
{
    n->pid = 0;
    char how[64];
    describe_status(st, how, sizeof how);
    child_gone(n, how);
}

/* The pipe ended: the exit follows at once, normally.  Poll for it briefly (on
 * the loop, never blocking it), then kill whatever still holds on. */
static void on_reap_check(struct moni_loop *loop, int64_t deadline, int64_t now,
                          uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline;
    (void)missed;
    struct obs_nvsmi *n = arg;
    n->reaper = -1;
    if (n->pid <= 0)
        return;
    int st = 0;
    pid_t r = waitpid(n->pid, &st, WNOHANG);
    if (r == n->pid || (r < 0 && errno == ECHILD)) {
        kill(-n->pid, SIGKILL); /* helpers it may have left in its group */
        reaped(n, st);
    } else if (now - n->eof_ns >= NVSMI_REAP_WAIT_NS) {
        reaped(n, kill_and_reap(n->pid));
    } else {
        n->reaper = moni_loop_add_timeout(n->loop, now + 20 * MONI_NS_PER_MS, on_reap_check, n);
        if (n->reaper < 0)
            reaped(n, kill_and_reap(n->pid));
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
        /* The child ended (or closed its output): values go missing, it is
         * reaped, and a new one is started after the backoff. */
        cancel(n, &n->watchdog);
        close_stream(n);
        memset(n->updated, 0, sizeof n->updated);
        n->eof_ns = moni_mono_ns();
        on_reap_check(n->loop, n->eof_ns, n->eof_ns, 0, n);
    }
}

/* Stall limit: from the last line, or (more lenient: driver initialisation can be
 * slow) from the start while no line came yet. */
static int64_t stall_deadline(const struct obs_nvsmi *n)
{
    return n->last_line_ns ? n->last_line_ns + n->stall_ns : n->started_ns + 2 * n->stall_ns;
}

static void on_watchdog(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed,
                        void *arg)
{
    (void)loop;
    (void)deadline;
    (void)missed;
    struct obs_nvsmi *n = arg;
    n->watchdog = -1;
    if (n->pid <= 0 || n->fd < 0)
        return;
    if (now < stall_deadline(n)) { /* lines came since: look again later */
        arm_watchdog(n, stall_deadline(n));
        return;
    }
    int64_t quiet = now - (n->last_line_ns ? n->last_line_ns : n->started_ns);
    char how[64];
    snprintf(how, sizeof how, "stalled (no GPU line for %.0f s; killed)",
             (double)quiet / MONI_NS_PER_SEC);
    kill_and_reap(n->pid);
    n->pid = 0;
    child_gone(n, how);
}

/* Looks at the child at `at`: one stall limit after the start, then again at the
 * stall deadline as long as lines keep coming. */
static void arm_watchdog(struct obs_nvsmi *n, int64_t at)
{
    n->watchdog = moni_loop_add_timeout(n->loop, at, on_watchdog, n);
}

static int spawn_stream(struct obs_nvsmi *n)
{
    char *argv[] = {(char *)"nvidia-smi", (char *)"--query-gpu=" NVSMI_STREAM_QUERY,
                    (char *)"--format=csv,noheader,nounits", (char *)"-lms", n->lms, NULL};
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    /* Its own group, so a kill reaches whatever it starts; PDEATHSIG in case moni
     * itself is killed. */
    struct obs_spawn_opts o = {.stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = -1,
                               .new_group = true, .pdeathsig = SIGTERM};
    pid_t pid = obs_spawn(n->path, argv, &o);
    int e = errno;
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        errno = e;
        return -1;
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    if (moni_loop_add_fd(n->loop, p[0], EPOLLIN, on_stream, n) < 0) {
        close(p[0]);
        kill_and_reap(pid);
        errno = ENOMEM;
        return -1;
    }
    n->pid = pid;
    n->fd = p[0];
    n->started_ns = moni_mono_ns();
    n->first_line_ns = n->last_line_ns = n->eof_ns = 0;
    arm_watchdog(n, n->started_ns + n->stall_ns);
    return 0;
}

static void note(struct obs_nvsmi *n, const char *text)
{
    if (!n->session)
        return;
    if (n->notes < NVSMI_MAX_NOTES)
        session_note(n->session, "%s", text);
    else if (n->notes == NVSMI_MAX_NOTES)
        session_note(n->session, "further nvidia-smi restarts are only counted (gpu.restarts)");
    n->notes++;
    obs_session_set_gpu_restarts(n->session, n->restarts);
    session_write_meta(n->session); /* on disk now, not only at the end */
}

/* The backoff has passed: a new child, noted once; if it cannot start, the next
 * attempt comes after a longer backoff. */
static void start_child(struct obs_nvsmi *n)
{
    char text[400];
    int ok = spawn_stream(n);
    int e = errno;
    double delay_s = (double)n->delay_ns / MONI_NS_PER_SEC;
    if (ok == 0) {
        n->restarts++;
        snprintf(text, sizeof text, "%s; restarted after %.0f s", n->why, delay_s);
        note(n, text);
        return;
    }
    snprintf(text, sizeof text, "%s; restart after %.0f s failed: %s", n->why, delay_s,
             strerror(e));
    note(n, text);
    child_gone(n, "could not be restarted");
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
    n->watchdog = n->reaper = n->restarter = -1;
    n->stale_ns = 3 * period_ns + MONI_NS_PER_SEC;
    n->stall_ns = 3 * period_ns > 5 * MONI_NS_PER_SEC ? 3 * period_ns : 5 * MONI_NS_PER_SEC;
    n->backoff_ns = NVSMI_BACKOFF_FIRST_NS;
    snprintf(n->path, sizeof n->path, "%s", path);
    snprintf(n->lms, sizeof n->lms, "%lld", (long long)(period_ns / MONI_NS_PER_MS));
    if (spawn_stream(n) < 0) {
        snprintf(err, errlen, "cannot start %s: %s", path, strerror(errno));
        free(n);
        return NULL;
    }
    *ngpus = count;
    return n;
}

void obs_nvsmi_set_session(struct obs_nvsmi *n, struct session *s)
{
    if (n)
        n->session = s;
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
    cancel(n, &n->watchdog);
    cancel(n, &n->reaper);
    cancel(n, &n->restarter);
    close_stream(n);
    if (n->pid > 0) { /* SIGTERM, a second to go, then SIGKILL (a stalled child) */
        kill(-n->pid, SIGTERM);
        int64_t until = moni_mono_ns() + MONI_NS_PER_SEC;
        pid_t r;
        while ((r = waitpid(n->pid, NULL, WNOHANG)) == 0 && moni_mono_ns() < until)
            moni_sleep_ns(5 * MONI_NS_PER_MS);
        if (r == 0)
            kill_and_reap(n->pid);
        else
            kill(-n->pid, SIGKILL); /* what it left in its group */
    }
    free(n);
}
