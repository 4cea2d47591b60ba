/* core/exec.c — the executor: spawns the workload with argv (no shell) in its own
 * process group, stdin from /dev/null, stdout and stderr through pipes read on the
 * event loop and split into lines; notices its exit through a pidfd; stops it with
 * SIGTERM to the group and SIGKILL after a grace period.  Restartable. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/obs-int.h"

extern char **environ;

/* ---- PATH lookup and spawning ---------------------------------------------------- */

static bool executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

int obs_which(const char *name, char *out, size_t len)
{
    if (!name || !*name) {
        errno = ENOENT;
        return -1;
    }
    if (strchr(name, '/')) {
        if ((size_t)snprintf(out, len, "%s", name) >= len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (executable(out))
            return 0;
        struct stat sb;
        errno = stat(out, &sb) == 0 ? EACCES : ENOENT;
        return -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    bool denied = false;
    for (const char *p = path;;) {
        const char *c = strchr(p, ':');
        size_t dl = c ? (size_t)(c - p) : strlen(p);
        if ((size_t)snprintf(out, len, "%.*s%s%s", (int)dl, p, dl ? "/" : "", name) < len) {
            if (executable(out))
                return 0;
            if (access(out, F_OK) == 0)
                denied = true;
        }
        if (!c)
            break;
        p = c + 1;
    }
    errno = denied ? EACCES : ENOENT;
    return -1;
}

/* environ plus the additions (an addition replaces a variable of the same name). */
static char **build_env(char *const *add)
{
    size_t n = 0, na = 0;
    while (environ && environ[n])
        n++;
    while (add && add[na])
        na++;
    char **env = calloc(n + na + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < na && !replaced; j++)
            replaced = !strncmp(add[j], environ[i], nl) && add[j][nl] == '=';
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < na; j++)
        env[k++] = add[j];
    env[k] = NULL;
    return env;
}

pid_t obs_spawn(const char *path, char *const *argv, const struct obs_spawn_opts *o)
{
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0)
        return -1;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    char **env = build_env(o->env_add);
    if (devnull < 0 || !env) {
        int e = errno;
        close(errpipe[0]);
        close(errpipe[1]);
        if (devnull >= 0)
            close(devnull);
        free(env);
        errno = e ? e : ENOMEM;
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only async-signal-safe calls from here to execve. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* the loop blocks signals for signalfd */
        static const int dfl[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1,
                                  SIGUSR2};
        for (size_t i = 0; i < MONI_ARRAY_LEN(dfl); i++)
            signal(dfl[i], SIG_DFL);
        if (o->new_group)
            setpgid(0, 0);
        if (o->pdeathsig) {
            prctl(PR_SET_PDEATHSIG, o->pdeathsig);
            if (getppid() != parent)
                _exit(127);
        }
        int in = o->stdin_fd >= 0 ? o->stdin_fd : devnull;
        int out = o->stdout_fd >= 0 ? o->stdout_fd : devnull;
        int err = o->stderr_fd >= 0 ? o->stderr_fd : devnull;
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            goto fail;
        execve(path, argv, env);
    fail:;
        int e = errno;
        ssize_t w = write(errpipe[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    int fork_errno = errno;
    free(env);
    close(devnull);
    close(errpipe[1]);
    if (pid < 0) {
        close(errpipe[0]);
        errno = fork_errno;
        return -1;
    }
    if (o->new_group)
        setpgid(pid, pid); /* also from here, so kill(-pid) works at once */
    int child_errno = 0;
    ssize_t n;
    do
        n = read(errpipe[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    close(errpipe[0]);
    if (n == (ssize_t)sizeof child_errno) {
        waitpid(pid, NULL, 0);
        errno = child_errno;
        return -1;
    }
    return pid;
}

/* ---- line splitting -------------------------------------------------------------- */

static int lb_reserve(struct obs_linebuf *lb, size_t need)
{
    if (need <= lb->cap)
        return 0;
    size_t cap = lb->cap ? lb->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *b = realloc(lb->buf, cap);
    if (!b)
        return -1;
    lb->buf = b;
    lb->cap = cap;
    return 0;
}

void obs_linebuf_feed(struct obs_linebuf *lb, const char *data, size_t len, obs_line_cb cb,
                      void *arg)
{
    while (len > 0) {
        /* Append at most what keeps the buffer under the line limit (+1 for CRLF). */
        size_t room = OBS_LINE_MAX + 2 - lb->len;
        size_t take = len < room ? len : room;
        if (lb_reserve(lb, lb->len + take) < 0)
            return;
        memcpy(lb->buf + lb->len, data, take);
        lb->len += take;
        data += take;
        len -= take;
        /* only what came since the last call is looked at: rescanning a growing
         * partial line per 16 KB read made a 50 MB line cost seconds of the loop */
        size_t start = 0, i = lb->scan;
        while (i < lb->len) {
            char c = lb->buf[i];
            if (c == '\n') {
                cb(arg, lb->buf + start, i + 1 - start, 1);
                start = ++i;
            } else if (c == '\r') {
                if (i + 1 == lb->len)
                    break; /* CR at the end: wait for a possible LF */
                size_t term = lb->buf[i + 1] == '\n' ? 2 : 1;
                cb(arg, lb->buf + start, i + term - start, term);
                i += term;
                start = i;
            } else if (i - start >= OBS_LINE_MAX) {
                cb(arg, lb->buf + start, i - start, 0); /* over-long: cut */
                start = i;
            } else {
                i++;
            }
        }
        memmove(lb->buf, lb->buf + start, lb->len - start);
        lb->len -= start;
        lb->scan = i - start;
    }
}

void obs_linebuf_flush(struct obs_linebuf *lb, obs_line_cb cb, void *arg)
{
    if (lb->len) {
        size_t term = lb->buf[lb->len - 1] == '\r' ? 1 : 0;
        cb(arg, lb->buf, lb->len, term);
    }
    lb->len = 0;
    lb->scan = 0;
}

void obs_linebuf_free(struct obs_linebuf *lb)
{
    free(lb->buf);
    memset(lb, 0, sizeof *lb);
}

/* ---- the executor ---------------------------------------------------------------- */

struct obs_exec {
    struct moni_loop *loop;
    char *const *argv;
    char *const *env_add;
    int64_t grace_ns;
    obs_exec_line_cb on_line;
    obs_exec_exit_cb on_exit;
    void *arg;
    pid_t pid;
    bool running;
    int pidfd;
    int fd[2]; /* stdout, stderr read ends */
    struct obs_linebuf lb[2];
    int kill_timer;
    pid_t kill_pgid; /* the group the pending kill_timer is for */
};

struct line_ctx {
    struct obs_exec *e;
    int stream;
    struct moni_stamp t;
};

static void emit_line(void *arg, const char *line, size_t len, size_t term_len)
{
    struct line_ctx *c = arg;
    c->e->on_line(c->e->arg, line, len, term_len, c->stream, &c->t);
}

static void close_pipe(struct obs_exec *e, int i)
{
    if (e->fd[i] < 0)
        return;
    moni_loop_del_fd(e->loop, e->fd[i]);
    close(e->fd[i]);
    e->fd[i] = -1;
    struct line_ctx c = {e, i + 1, moni_now()};
    obs_linebuf_flush(&e->lb[i], emit_line, &c);
}

/* Reads what is there now; closes the pipe at EOF. */
static void read_pipe(struct obs_exec *e, int i)
{
    char buf[16384];
    for (int rounds = 0; rounds < 64 && e->fd[i] >= 0; rounds++) {
        ssize_t n = read(e->fd[i], buf, sizeof buf);
        if (n > 0) {
            struct line_ctx c = {e, i + 1, moni_now()};
            obs_linebuf_feed(&e->lb[i], buf, (size_t)n, emit_line, &c);
            continue;
        }
        if (n < 0 && (errno == EINTR))
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close_pipe(e, i); /* EOF or error */
    }
}

static void on_pipe(struct moni_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)events;
    struct obs_exec *e = arg;
    read_pipe(e, fd == e->fd[0] ? 0 : 1);
}

static void reap(struct obs_exec *e)
{
    if (!e->running)
        return;
    int st;
    pid_t r = waitpid(e->pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return;
    if (r < 0)
        st = 0; /* reaped elsewhere: nothing better to report */
    struct moni_stamp t = moni_now();
    e->running = false;
    /* Nothing left of the group: the grace-period SIGKILL has nothing to do. */
    if (e->kill_timer >= 0 && kill(-e->pid, 0) < 0 && errno == ESRCH) {
        moni_loop_cancel_timer(e->loop, e->kill_timer);
        e->kill_timer = -1;
    }
    if (e->pidfd >= 0) {
        moni_loop_del_fd(e->loop, e->pidfd);
        close(e->pidfd);
        e->pidfd = -1;
    }
    /* Lines written before the exit come before the exit. */
    read_pipe(e, 0);
    read_pipe(e, 1);
    e->on_exit(e->arg, st, &t);
}

static void on_pidfd(struct moni_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    reap(arg);
}

void obs_exec_set_argv(struct obs_exec *e, char *const *argv)
{
    e->argv = argv;
}

struct obs_exec *obs_exec_new(struct moni_loop *loop, char *const *argv, char *const *env_add,
                              int64_t grace_ns, obs_exec_line_cb on_line,
                              obs_exec_exit_cb on_exit, void *arg)
{
    struct obs_exec *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->loop = loop;
    e->argv = argv;
    e->env_add = env_add;
    e->grace_ns = grace_ns > 0 ? grace_ns : 5 * MONI_NS_PER_SEC;
    e->on_line = on_line;
    e->on_exit = on_exit;
    e->arg = arg;
    e->pidfd = e->fd[0] = e->fd[1] = -1;
    e->kill_timer = -1;
    return e;
}

int obs_exec_start(struct obs_exec *e, char *err, size_t errlen)
{
    if (e->running) {
        snprintf(err, errlen, "the workload is already running");
        return -1;
    }
    char path[PATH_MAX];
    if (obs_which(e->argv[0], path, sizeof path) < 0) {
        snprintf(err, errlen, "cannot execute %s: %s", e->argv[0], strerror(errno));
        return -1;
    }
    close_pipe(e, 0); /* leftovers of a previous start (a grandchild kept them) */
    close_pipe(e, 1);
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    struct obs_spawn_opts o = {.stdin_fd = -1, .stdout_fd = out[1], .stderr_fd = errp[1],
                               .new_group = true, .pdeathsig = SIGTERM, .env_add = e->env_add};
    pid_t pid = obs_spawn(path, e->argv, &o);
    if (pid < 0) {
        snprintf(err, errlen, "cannot execute %s: %s", e->argv[0], strerror(errno));
        goto fail;
    }
    close(out[1]);
    close(errp[1]);
    e->pid = pid;
    e->running = true;
    e->fd[0] = out[0];
    e->fd[1] = errp[0];
    for (int i = 0; i < 2; i++) {
        fcntl(e->fd[i], F_SETFL, fcntl(e->fd[i], F_GETFL) | O_NONBLOCK);
        moni_loop_add_fd(e->loop, e->fd[i], EPOLLIN, on_pipe, e);
    }
#ifdef SYS_pidfd_open
    e->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (e->pidfd >= 0)
        moni_loop_add_fd(e->loop, e->pidfd, EPOLLIN, on_pidfd, e);
#endif
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    return -1;
}

static void kill_timeout(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns,
                         uint64_t missed, void *arg)
{
    (void)loop;
    (void)deadline_ns;
    (void)now_ns;
    (void)missed;
    struct obs_exec *e = arg;
    e->kill_timer = -1;
    /* The group it was armed for, never a restarted workload's new group. */
    if (e->kill_pgid > 0)
        kill(-e->kill_pgid, SIGKILL);
}

void obs_exec_stop(struct obs_exec *e)
{
    if (!e->running)
        return;
    if (kill(-e->pid, SIGTERM) < 0)
        kill(e->pid, SIGTERM);
    if (e->kill_timer >= 0 && e->kill_pgid != e->pid) {
        moni_loop_cancel_timer(e->loop, e->kill_timer); /* armed for an earlier start */
        e->kill_timer = -1;
    }
    if (e->kill_timer < 0) {
        e->kill_pgid = e->pid;
        e->kill_timer =
            moni_loop_add_timeout(e->loop, moni_mono_ns() + e->grace_ns, kill_timeout, e);
    }
}

int obs_exec_signal(struct obs_exec *e, int signo)
{
    if (!e->running)
        return -1;
    return kill(-e->pid, signo);
}

pid_t obs_exec_pid(const struct obs_exec *e)
{
    return e->pid;
}

bool obs_exec_running(const struct obs_exec *e)
{
    /* Without a pidfd the session polls through this. */
    if (e->running && e->pidfd < 0)
        reap((struct obs_exec *)e);
    return e->running;
}

void obs_exec_drain(struct obs_exec *e)
{
    for (int i = 0; i < 2; i++)
        if (e->fd[i] >= 0) {
            read_pipe(e, i);
            close_pipe(e, i);
        }
}

void obs_exec_free(struct obs_exec *e)
{
    if (!e)
        return;
    if (e->kill_timer >= 0)
        moni_loop_cancel_timer(e->loop, e->kill_timer);
    if (e->pid > 0) {
        kill(-e->pid, SIGKILL); /* whatever is left of the group */
        if (e->running)
            waitpid(e->pid, NULL, 0);
    }
    if (e->pidfd >= 0) {
        moni_loop_del_fd(e->loop, e->pidfd);
        close(e->pidfd);
    }
    for (int i = 0; i < 2; i++) {
        if (e->fd[i] >= 0) {
            moni_loop_del_fd(e->loop, e->fd[i]);
            close(e->fd[i]);
        }
        obs_linebuf_free(&e->lb[i]);
    }
    free(e);
}
