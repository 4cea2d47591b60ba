/* faults/proc.c — what the kinds read from /proc to verify effects from outside, and
 * running helper programs (tc) by argv with a timeout. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

/* Reads /proc/PID/stat and returns a pointer to the fields after "(comm) ", with
 * comm copied out.  The comm may contain spaces and parentheses: find the last ')'. */
static char *read_stat(pid_t pid, char *buf, size_t len, char *comm, size_t commlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        return NULL;
    if (comm) {
        size_t cl = (size_t)(close_paren - open_paren - 1);
        if (cl >= commlen)
            cl = commlen - 1;
        memcpy(comm, open_paren + 1, cl);
        comm[cl] = 0;
    }
    return close_paren + 2; /* field 3 (state) */
}

/* Field number n (1-based, as in proc(5)) from the text after comm. */
static const char *stat_field(const char *rest, int n)
{
    const char *p = rest;
    for (int f = 3; f < n && p; f++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p;
}

int fault_proc_state(pid_t pid)
{
    char buf[1024];
    char *rest = read_stat(pid, buf, sizeof buf, NULL, 0);
    return rest ? rest[0] : 0;
}

static pid_t proc_ppid(pid_t pid)
{
    char buf[1024];
    char *rest = read_stat(pid, buf, sizeof buf, NULL, 0);
    const char *f = rest ? stat_field(rest, 4) : NULL;
    return f ? (pid_t)atoi(f) : -1;
}

int fault_proc_last_cpu(pid_t pid)
{
    char buf[1024];
    char *rest = read_stat(pid, buf, sizeof buf, NULL, 0);
    const char *f = rest ? stat_field(rest, 39) : NULL;
    return f ? atoi(f) : -1;
}

uint64_t fault_proc_starttime(pid_t pid)
{
    char buf[1024];
    char *rest = read_stat(pid, buf, sizeof buf, NULL, 0);
    const char *f = rest ? stat_field(rest, 22) : NULL;
    return f ? strtoull(f, NULL, 10) : 0;
}

int64_t fault_proc_cpu_ns(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return (int64_t)strtoll(buf, NULL, 10);
}

uint64_t fault_proc_rss(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long long size, res;
    if (sscanf(buf, "%llu %llu", &size, &res) != 2)
        return 0;
    return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

bool fault_proc_in_tree(pid_t pid, pid_t root)
{
    if (root <= 0 || pid <= 0)
        return false;
    for (int depth = 0; depth < 256 && pid > 1; depth++) {
        if (pid == root)
            return true;
        pid = proc_ppid(pid);
    }
    return pid == root;
}

pid_t fault_proc_find_name(pid_t root, const char *name)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    pid_t found = 0;
    while ((e = readdir(d)) && !found) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        char buf[1024], comm[64];
        if (!read_stat(pid, buf, sizeof buf, comm, sizeof comm))
            continue;
        if (strcmp(comm, name) == 0 && (root <= 0 || fault_proc_in_tree(pid, root)))
            found = pid;
    }
    closedir(d);
    return found;
}

uint64_t fault_meminfo(const char *key)
{
    int64_t v;
    return procfs_read_meminfo_field(key, &v) == 0 && v > 0 ? (uint64_t)v : 0;
}

void *fault_shared_alloc(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void fault_shared_free(void *p, size_t len)
{
    if (p)
        munmap(p, len);
}

int fault_run_argv(char *const argv[], char *out, size_t outlen, int64_t timeout_ns)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC))
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        dup2(pfd[1], 1);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            if (!out)
                dup2(devnull, 1);
            dup2(pfd[1], 2); /* tc's complaint becomes our error text */
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t used = 0;
    int64_t deadline = moni_mono_ns() + timeout_ns;
    char sink[512];
    for (;;) {
        int64_t left = deadline - moni_mono_ns();
        if (left <= 0)
            break;
        struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
        int r = poll(&pf, 1, (int)(left / 1000000 + 1));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        char *dst = sink;
        size_t room = sizeof sink;
        if (out && used + 1 < outlen) {
            dst = out + used;
            room = outlen - used - 1;
        }
        ssize_t n = read(pfd[0], dst, room);
        if (n <= 0)
            break;
        if (dst != sink)
            used += (size_t)n;
    }
    if (out && outlen)
        out[used < outlen ? used : outlen - 1] = 0;
    close(pfd[0]);
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0)
            return -1;
        if (moni_mono_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        moni_sleep_ns(2 * MONI_NS_PER_MS);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
