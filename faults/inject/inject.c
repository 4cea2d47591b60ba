/* faults/inject/inject.c — libmoni-inject.so, the preload library behind the
 * in-process fault kinds (fs, dns, connect, clock).  moni puts it into the workload's
 * LD_PRELOAD with MONI_INJECT_CTL naming the run's control block
 * (faults/inject-int.h).  Each wrapped call first reads the block's `active` word
 * (one relaxed atomic load) and goes straight to the real call while its kind's bit
 * is clear; only with a rule set does it copy the rules (seqlock), check that moni
 * is still alive, match the path/host/address and change the call.  It links nothing
 * of moni and calls the real functions through dlsym(RTLD_NEXT). */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "faults/inject-int.h"

#define EXPORT __attribute__((visibility("default")))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static _Atomic uint32_t no_rules;
static _Atomic uint32_t *active = &no_rules;
static const struct inj_orders *ctl;
static struct inj_counters dummy_counters;
static struct inj_counters *cnt = &dummy_counters;

#define ACTIVE(kind) UNLIKELY(atomic_load_explicit(active, memory_order_relaxed) & (1u << (kind)))

/* ---- the real functions ----------------------------------------------------------- */
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pread64)(int, void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_close)(int);
static int (*real_getaddrinfo)(const char *, const char *, const struct addrinfo *,
                               struct addrinfo **);
static struct hostent *(*real_gethostbyname)(const char *);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_gettimeofday)(struct timeval *, void *);
static time_t (*real_time)(time_t *);

#define RESOLVE(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)
static void resolve_all(void)
{
    RESOLVE(open);
    RESOLVE(open64);
    RESOLVE(openat);
    RESOLVE(openat64);
    RESOLVE(read);
    RESOLVE(write);
    RESOLVE(pread64);
    RESOLVE(pwrite64);
    RESOLVE(fsync);
    RESOLVE(fdatasync);
    RESOLVE(rename);
    RESOLVE(renameat);
    RESOLVE(close);
    RESOLVE(getaddrinfo);
    RESOLVE(gethostbyname);
    RESOLVE(connect);
    RESOLVE(send);
    RESOLVE(sendto);
    RESOLVE(sendmsg);
    RESOLVE(clock_gettime);
    RESOLVE(gettimeofday);
    RESOLVE(time);
}
/* A call that comes before the constructor ran (another library's constructor). */
#define REAL(name) (UNLIKELY(!real_##name) ? (resolve_all(), real_##name) : real_##name)

__attribute__((constructor)) static void inj_init(void)
{
    resolve_all();
    const char *path = getenv(INJ_ENV_CTL);
    if (!path || !*path)
        return;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
    bool counted = fd >= 0;
    if (fd < 0)
        fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    void *o = mmap(NULL, INJ_PAGE, PROT_READ, MAP_SHARED, fd, 0);
    void *c = counted ? mmap(NULL, INJ_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, INJ_PAGE)
                      : MAP_FAILED;
    syscall(SYS_close, fd);
    if (o == MAP_FAILED)
        return;
    const struct inj_orders *ord = o;
    if (ord->magic != INJ_MAGIC || ord->version != INJ_VERSION) {
        munmap(o, INJ_PAGE);
        return;
    }
    if (c != MAP_FAILED)
        cnt = c;
    ctl = ord;
    active = (_Atomic uint32_t *)&ord->active;
}

/* ---- orders ----------------------------------------------------------------------- */
static int64_t mono_ns(void)
{
    struct timespec ts;
    REAL(clock_gettime)(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000ll, .tv_nsec = ns % 1000000000ll};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* moni alive: a fresh heartbeat and its pid there (checked every 200 ms at most). */
static bool owner_alive(int64_t now)
{
    static _Atomic int64_t checked_ns;
    static _Atomic int owner_ok;
    int64_t hb = atomic_load_explicit(&((struct inj_orders *)ctl)->heartbeat_ns,
                                      memory_order_acquire);
    if (!hb || now - hb > ctl->stale_ns || ctl->owner_pid <= 0)
        return false;
    if (now - atomic_load_explicit(&checked_ns, memory_order_relaxed) > 200000000ll) {
        int e = errno;
        int ok = kill(ctl->owner_pid, 0) == 0 || errno == EPERM;
        errno = e;
        atomic_store_explicit(&owner_ok, ok, memory_order_relaxed);
        atomic_store_explicit(&checked_ns, now, memory_order_relaxed);
    }
    return atomic_load_explicit(&owner_ok, memory_order_relaxed);
}

/* Copies the rules of one kind (consistent under the seqlock); their slots in slot. */
static int rules_of(uint32_t kind, struct inj_rule *out, int *slot)
{
    if (!ctl || !owner_alive(mono_ns()))
        return 0;
    struct inj_orders *o = (struct inj_orders *)ctl;
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t s1 = atomic_load_explicit(&o->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        int n = 0;
        for (int i = 0; i < INJ_RULES; i++) {
            if (o->rule[i].kind != kind)
                continue;
            memcpy(&out[n], (const void *)&o->rule[i], sizeof out[n]);
            out[n].pattern[INJ_PAT_LEN - 1] = 0;
            slot[n++] = i;
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&o->seq, memory_order_relaxed) == s1)
            return n;
    }
    return 0;
}

/* Counts a matched call on slot; true when this one is to be changed (one in every). */
static bool take(const struct inj_rule *r, int slot)
{
    uint64_t n = atomic_fetch_add_explicit(&cnt->matched[slot], 1, memory_order_relaxed) + 1;
    if (r->every > 1 && n % r->every != 0)
        return false;
    atomic_fetch_add_explicit(&cnt->injected[slot], 1, memory_order_relaxed);
    if (!atomic_load_explicit(&cnt->first_ns[slot], memory_order_relaxed)) {
        int64_t zero = 0;
        atomic_compare_exchange_strong(&cnt->first_ns[slot], &zero, mono_ns());
    }
    return true;
}

/* ---- fs ------------------------------------------------------------------------------ */
static bool fd_path(int fd, char *out, size_t len)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, out, len - 1);
    if (n <= 0)
        return false;
    out[n] = 0;
    return true;
}

static bool abs_path(int dirfd, const char *p, char *out, size_t len)
{
    if (!p)
        return false;
    if (p[0] == '/') {
        snprintf(out, len, "%s", p);
        return true;
    }
    char base[4096];
    if (dirfd == AT_FDCWD ? !getcwd(base, sizeof base) : !fd_path(dirfd, base, sizeof base))
        return false;
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    snprintf(out, len, "%s/%s", base, p);
    return true;
}

/* A prefix (a directory or file and everything under it) or a glob. */
static bool path_match(const char *pat, const char *path)
{
    if (strpbrk(pat, "*?["))
        return fnmatch(pat, path, 0) == 0;
    size_t n = strlen(pat);
    while (n > 1 && pat[n - 1] == '/')
        n--;
    return strncmp(path, pat, n) == 0 && (path[n] == 0 || path[n] == '/' || pat[n - 1] == '/');
}

/* The rule that changes this call (a copy in *hit), if any.  The path is p1 (or p2,
 * for rename) relative to dirfd, or the path of fd when p1 is NULL. */
static bool fs_pick(uint32_t op, int fd, int dirfd, const char *p1, const char *p2,
                    struct inj_rule *hit)
{
    struct inj_rule r[INJ_RULES];
    int slot[INJ_RULES];
    int n = rules_of(INJ_FS, r, slot);
    char a[4096], b[4096];
    int have = 0; /* 0 unresolved, 1 resolved, -1 unresolvable */
    for (int i = 0; i < n; i++) {
        if (!(r[i].ops & op))
            continue;
        if (!have) {
            int e = errno;
            bool ok = p1 ? abs_path(dirfd, p1, a, sizeof a) : fd_path(fd, a, sizeof a);
            if (!p2 || !abs_path(dirfd, p2, b, sizeof b))
                b[0] = 0;
            errno = e;
            have = ok ? 1 : -1;
        }
        if (have < 0)
            return false;
        if (path_match(r[i].pattern, a) || (b[0] && path_match(r[i].pattern, b))) {
            if (!take(&r[i], slot[i]))
                return false;
            *hit = r[i];
            return true;
        }
    }
    return false;
}

/* Latency, then the error (returns -1 with errno) or 0 to go on with the call. */
static int fs_apply(const struct inj_rule *r)
{
    if (r->delay_ns > 0)
        sleep_ns(r->delay_ns);
    if (r->err) {
        errno = r->err;
        return -1;
    }
    return 0;
}

static int fs_gate(uint32_t op, int fd, int dirfd, const char *p1, const char *p2)
{
    struct inj_rule r;
    return fs_pick(op, fd, dirfd, p1, p2, &r) ? fs_apply(&r) : 0;
}

#define OPEN_MODE(flags, mode)                                                            \
    do {                                                                                  \
        if ((flags) & (O_CREAT | O_TMPFILE)) {                                            \
            va_list ap;                                                                   \
            va_start(ap, flags);                                                          \
            mode = (mode_t)va_arg(ap, int);                                               \
            va_end(ap);                                                                   \
        }                                                                                 \
    } while (0)

EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_OPEN, -1, AT_FDCWD, path, NULL) < 0)
        return -1;
    return REAL(open)(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_OPEN, -1, AT_FDCWD, path, NULL) < 0)
        return -1;
    return REAL(open64)(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_OPEN, -1, dirfd, path, NULL) < 0)
        return -1;
    return REAL(openat)(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_OPEN, -1, dirfd, path, NULL) < 0)
        return -1;
    return REAL(openat64)(dirfd, path, flags, mode);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_READ, fd, AT_FDCWD, NULL, NULL) < 0)
        return -1;
    return REAL(read)(fd, buf, n);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_READ, fd, AT_FDCWD, NULL, NULL) < 0)
        return -1;
    return REAL(pread64)(fd, buf, n, off);
}
EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off) __attribute__((alias("pread64")));

/* A write that goes on may be cut short (short_pct of its bytes, at least one). */
static size_t write_gate(int fd, size_t n, int *fail)
{
    struct inj_rule r;
    *fail = 0;
    if (!fs_pick(INJ_OP_WRITE, fd, AT_FDCWD, NULL, NULL, &r))
        return n;
    if (fs_apply(&r) < 0) {
        *fail = 1;
        return 0;
    }
    if (r.short_pct && n > 1) {
        size_t k = (size_t)((unsigned __int128)n * r.short_pct / 100);
        n = k ? k : 1;
    }
    return n;
}

static int reset_gate(int fd, size_t n);

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (ACTIVE(INJ_CONNECT) && reset_gate(fd, n) < 0)
        return -1;
    if (ACTIVE(INJ_FS)) {
        int fail;
        n = write_gate(fd, n, &fail);
        if (fail)
            return -1;
    }
    return REAL(write)(fd, buf, n);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    if (ACTIVE(INJ_FS)) {
        int fail;
        n = write_gate(fd, n, &fail);
        if (fail)
            return -1;
    }
    return REAL(pwrite64)(fd, buf, n, off);
}
EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
    __attribute__((alias("pwrite64")));

EXPORT int fsync(int fd)
{
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_FSYNC, fd, AT_FDCWD, NULL, NULL) < 0)
        return -1;
    return REAL(fsync)(fd);
}

EXPORT int fdatasync(int fd)
{
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_FSYNC, fd, AT_FDCWD, NULL, NULL) < 0)
        return -1;
    return REAL(fdatasync)(fd);
}

EXPORT int rename(const char *from, const char *to)
{
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_RENAME, -1, AT_FDCWD, from, to) < 0)
        return -1;
    return REAL(rename)(from, to);
}

EXPORT int renameat(int dfrom, const char *from, int dto, const char *to)
{
    /* the target's directory fd is the source's in the common case; else only from */
    if (ACTIVE(INJ_FS) && fs_gate(INJ_OP_RENAME, -1, dfrom, from, dto == dfrom ? to : NULL) < 0)
        return -1;
    return REAL(renameat)(dfrom, from, dto, to);
}

/* close: the error is reported but the descriptor is closed all the same, as the
 * kernel does (retrying close(2) is a bug). */
static void reset_forget(int fd);

EXPORT int close(int fd)
{
    if (ACTIVE(INJ_CONNECT))
        reset_forget(fd);
    if (ACTIVE(INJ_FS)) {
        struct inj_rule r;
        if (fs_pick(INJ_OP_CLOSE, fd, AT_FDCWD, NULL, NULL, &r)) {
            if (r.delay_ns > 0)
                sleep_ns(r.delay_ns);
            REAL(close)(fd);
            if (r.err) {
                errno = r.err;
                return -1;
            }
            return 0;
        }
    }
    return REAL(close)(fd);
}

/* ---- dns ----------------------------------------------------------------------------- */
/* The EAI_* error a lookup of name gets (after the rule's delay), 0 for none. */
static int dns_gate(const char *name)
{
    struct inj_rule r[INJ_RULES];
    int slot[INJ_RULES];
    int n = rules_of(INJ_DNS, r, slot);
    for (int i = 0; i < n; i++) {
        if (fnmatch(r[i].pattern, name, FNM_CASEFOLD) != 0)
            continue;
        if (!take(&r[i], slot[i]))
            return 0;
        if (r[i].delay_ns > 0)
            sleep_ns(r[i].delay_ns);
        return r[i].err;
    }
    return 0;
}

EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    int e;
    if (ACTIVE(INJ_DNS) && node && (e = dns_gate(node)) != 0)
        return e;
    return REAL(getaddrinfo)(node, service, hints, res);
}

EXPORT struct hostent *gethostbyname(const char *name)
{
    int e;
    if (ACTIVE(INJ_DNS) && name && (e = dns_gate(name)) != 0) {
        h_errno = e == EAI_AGAIN ? TRY_AGAIN : HOST_NOT_FOUND;
        return NULL;
    }
    return REAL(gethostbyname)(name);
}

/* ---- connect ------------------------------------------------------------------------- */
/* Sockets a reset rule matched at connect(): bytes they may still send, plus one
 * (0 = not watched).  Descriptors past the table are not watched. */
#define RESET_FDS 4096
static _Atomic uint64_t reset_left[RESET_FDS];

static void reset_forget(int fd)
{
    if (fd >= 0 && fd < RESET_FDS)
        atomic_store_explicit(&reset_left[fd], 0, memory_order_relaxed);
}

/* -1 with ECONNRESET (and the socket shut down) once the allowance is used up. */
static int reset_gate(int fd, size_t n)
{
    if (fd < 0 || fd >= RESET_FDS)
        return 0;
    uint64_t left = atomic_load_explicit(&reset_left[fd], memory_order_relaxed);
    if (!left)
        return 0;
    if (n < left - 1) {
        atomic_store_explicit(&reset_left[fd], left - n, memory_order_relaxed);
        return 0;
    }
    shutdown(fd, SHUT_RDWR);
    errno = ECONNRESET;
    return -1;
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    if (ACTIVE(INJ_CONNECT) && reset_gate(fd, n) < 0)
        return -1;
    return REAL(send)(fd, buf, n, flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                      socklen_t tolen)
{
    if (ACTIVE(INJ_CONNECT) && reset_gate(fd, n) < 0)
        return -1;
    return REAL(sendto)(fd, buf, n, flags, to, tolen);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (ACTIVE(INJ_CONNECT)) {
        size_t n = 0;
        for (size_t i = 0; i < msg->msg_iovlen; i++)
            n += msg->msg_iov[i].iov_len;
        if (reset_gate(fd, n) < 0)
            return -1;
    }
    return REAL(sendmsg)(fd, msg, flags);
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (ACTIVE(INJ_CONNECT) && sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
        reset_forget(fd); /* a descriptor number reused since an earlier rule */
        char ip[INET6_ADDRSTRLEN] = "";
        unsigned port;
        if (sa->sa_family == AF_INET) {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
            inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
            port = ntohs(s4->sin_port);
        } else {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
            inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
            port = ntohs(s6->sin6_port);
        }
        struct inj_rule r[INJ_RULES];
        int slot[INJ_RULES];
        int n = rules_of(INJ_CONNECT, r, slot);
        for (int i = 0; i < n; i++) {
            if ((r[i].port && r[i].port != port) || fnmatch(r[i].pattern, ip, 0) != 0)
                continue;
            if (!take(&r[i], slot[i]))
                break;
            if (r[i].ops == INJ_CONN_RESET) {
                if (fd >= 0 && fd < RESET_FDS)
                    atomic_store_explicit(&reset_left[fd], r[i].reset_after + 1,
                                          memory_order_relaxed);
                break;
            }
            if (r[i].delay_ns > 0 && r[i].ops != INJ_CONN_REFUSE)
                sleep_ns(r[i].delay_ns);
            if (r[i].ops == INJ_CONN_REFUSE || r[i].ops == INJ_CONN_TIMEOUT) {
                errno = r[i].ops == INJ_CONN_REFUSE ? ECONNREFUSED : ETIMEDOUT;
                return -1;
            }
            break;
        }
    }
    return REAL(connect)(fd, sa, len);
}

/* ---- clock ----------------------------------------------------------------------------- */
/* The shift of CLOCK_REALTIME now (ns), 0 without a clock rule. */
static int64_t clock_shift(void)
{
    struct inj_rule r[INJ_RULES];
    int slot[INJ_RULES];
    int n = rules_of(INJ_CLOCK, r, slot);
    if (n == 0 || !take(&r[0], slot[0]))
        return 0;
    int64_t since = mono_ns() - r[0].since_ns;
    return r[0].offset_ns + (int64_t)((double)since * (double)r[0].drift_ppm / 1e6);
}

static void shift_ts(struct timespec *ts, int64_t d)
{
    int64_t ns = (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec + d;
    ts->tv_sec = (time_t)(ns / 1000000000ll);
    ts->tv_nsec = (long)(ns % 1000000000ll);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000l;
        ts->tv_sec--;
    }
}

EXPORT int clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = REAL(clock_gettime)(id, ts);
    if (ACTIVE(INJ_CLOCK) && rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        shift_ts(ts, clock_shift());
    return rc;
}

EXPORT int gettimeofday(struct timeval *tv, void *tz)
{
    int rc = REAL(gettimeofday)(tv, tz);
    if (ACTIVE(INJ_CLOCK) && rc == 0) {
        struct timespec ts = {.tv_sec = tv->tv_sec, .tv_nsec = tv->tv_usec * 1000};
        shift_ts(&ts, clock_shift());
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return rc;
}

EXPORT time_t time(time_t *out)
{
    time_t t = REAL(time)(NULL);
    if (ACTIVE(INJ_CLOCK))
        t += (time_t)(clock_shift() / 1000000000ll);
    if (out)
        *out = t;
    return t;
}
