/* faults/fault-net.c — network faults on ONE port, in two modes.
 *
 * proxy (default, no privileges): a userspace TCP proxy listens on 127.0.0.1:listen
 * and forwards to host:port; the workload talks to the listen port.  The proxy runs
 * from arm (pass-through) and applies the effects while the fault fires:
 *   delay/jitter  each chunk is released delay±jitter after it arrived (order kept);
 *   loss          TCP never loses bytes, so a "lost" chunk is held for `rto` (what a
 *                 retransmission costs) instead of dropped;
 *   rate          a token bucket per connection and direction;
 *   stall         forwarding freezes for `stall`, `stall_after` into each connection;
 *   reset         a share of new connections is reset (RST), and with reset_after
 *                 every connection is reset that long after it was accepted.
 * netem (CAP_NET_ADMIN): tc prio (handle 4d6e:, owned by moni) + netem (4d6f:) + u32
 * filters on the port, on one interface; refuses a foreign root qdisc unless force=1
 * and port 22 unless allow_ssh=1; checks at arm that the kernel has sch_netem. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long texts are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

#define QDISC_ROOT "4d6e:"
#define QDISC_NETEM "4d6f:"

static const struct fault_param net_params[] = {
    {"mode", FP_ENUM, "", "proxy", 0, 0, "proxy|netem", "userspace proxy, or tc netem"},
    {"listen", FP_INT, "", "0", 0, 65535, NULL, "proxy: port to listen on (0 = any free port)"},
    {"host", FP_STRING, "", "127.0.0.1", 0, 0, NULL, "proxy: address of the target (IPv4)"},
    {"delay", FP_DURATION, "s", "0ms", 0, 60, NULL, "added one-way delay per direction"},
    {"jitter", FP_DURATION, "s", "0ms", 0, 60, NULL, "uniform +- jitter on the delay"},
    {"loss", FP_PERCENT, "%", "0%", 0, 100, NULL,
     "proxy: chunks held for rto (TCP retransmission); netem: packets dropped"},
    {"rto", FP_DURATION, "s", "200ms", 0.001, 60, NULL, "proxy: cost of one lost chunk"},
    {"rate", FP_RATE, "B/s", "0", 0, 1ull << 40, NULL, "bandwidth limit (0 = none)"},
    {"stall", FP_DURATION, "s", "0ms", 0, 3600, NULL, "proxy: freeze each connection this long"},
    {"stall_after", FP_DURATION, "s", "0ms", 0, 3600, NULL,
     "proxy: when the freeze starts, after the connection opened (or the fault fired)"},
    {"reset", FP_PERCENT, "%", "0%", 0, 100, NULL, "proxy: share of new connections reset"},
    {"reset_after", FP_DURATION, "s", "0ms", 0, 3600, NULL,
     "proxy: reset every connection this long after it opened (0 = never)"},
    {"direction", FP_ENUM, "", "both", 0, 0, "both|up|down",
     "up: towards the target, down: back to the client"},
    {"iface", FP_STRING, "", "lo", 0, 0, NULL, "netem: interface"},
    {"force", FP_BOOL, "", "0", 0, 0, NULL, "netem: replace a root qdisc moni does not own"},
    {"allow_ssh", FP_BOOL, "", "0", 0, 0, NULL, "netem: allow port 22"},
};

struct net_shared {
    volatile int effects;      /* 1 while firing */
    volatile int64_t fired_ns;
    volatile uint64_t conns, resets, stalls, lost, chunks, affected, bytes_up, bytes_down;
    volatile uint64_t added_ns_sum;
    volatile int ready;
};

struct net_state {
    bool netem;
    int lfd, port;
    pid_t pid;
    struct net_shared *shm;
    char tc[256];
    bool qdisc_added;
};

/* ---- the proxy (runs in the child) ------------------------------------------------ */
struct chunk {
    struct chunk *next;
    int64_t release_ns;
    size_t len, off;
    char data[];
};

struct half { /* one direction: from -> to */
    int from, to;
    struct chunk *head, *tail;
    size_t queued;
    int64_t last_release, next_free;
    bool eof, shut, paused;
};

struct conn {
    struct conn *next;
    struct half up, down;
    int64_t opened_ns;
    bool dead;
};

struct proxy {
    const struct fault_params *p;
    const struct fault_ops *ops;
    struct net_shared *shm;
    int lfd, ep;
    struct sockaddr_in target;
    struct conn *conns;
    double delay_ns, jitter_ns, loss, rto_ns, rate, stall_ns, stall_after_ns, reset, reset_after_ns;
    int direction;
    unsigned rnd;
};

static double pval(const struct proxy *px, const char *key)
{
    int i = fault_param_index(px->ops, key);
    return i < 0 ? 0 : px->p->v[i].num;
}

static double urand(struct proxy *px)
{
    return (double)rand_r(&px->rnd) / ((double)RAND_MAX + 1.0);
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void hard_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void conn_close(struct proxy *px, struct conn *c, bool rst)
{
    if (c->dead)
        return;
    if (rst) {
        hard_reset(c->up.from);
        hard_reset(c->up.to);
        px->shm->resets++;
    }
    epoll_ctl(px->ep, EPOLL_CTL_DEL, c->up.from, NULL);
    epoll_ctl(px->ep, EPOLL_CTL_DEL, c->up.to, NULL);
    close(c->up.from);
    close(c->up.to);
    for (struct half *h = &c->up; h; h = h == &c->up ? &c->down : NULL)
        while (h->head) {
            struct chunk *n = h->head->next;
            free(h->head);
            h->head = n;
        }
    c->dead = true;
}

static bool applies(const struct proxy *px, const struct half *h, const struct conn *c)
{
    if (!px->shm->effects)
        return false;
    if (px->direction == 1)
        return h == &c->up;
    if (px->direction == 2)
        return h == &c->down;
    return true;
}

#define QUEUE_MAX (4u << 20)

/* Back-pressure: stop reading a side whose queue is full (the sender's TCP window
 * fills), read again when it drained to half. */
static void pause_reading(struct proxy *px, struct conn *c, struct half *h, bool pause)
{
    if (h->paused == pause || h->eof)
        return;
    struct epoll_event ev = {.events = pause ? 0 : EPOLLIN, .data.ptr = c};
    epoll_ctl(px->ep, EPOLL_CTL_MOD, h->from, &ev);
    h->paused = pause;
}

static void on_data(struct proxy *px, struct conn *c, struct half *h, int64_t now)
{
    char buf[65536];
    if (h->queued > QUEUE_MAX) {
        pause_reading(px, c, h, true);
        return;
    }
    ssize_t n = read(h->from, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        h->eof = true;
        return;
    }
    if (n < 0)
        return;
    struct chunk *ch = malloc(sizeof *ch + (size_t)n);
    if (!ch)
        return;
    memcpy(ch->data, buf, (size_t)n);
    ch->len = (size_t)n;
    ch->off = 0;
    ch->next = NULL;
    int64_t rel = now;
    if (applies(px, h, c)) {
        double d = px->delay_ns;
        if (px->jitter_ns > 0)
            d += (urand(px) * 2 - 1) * px->jitter_ns;
        if (d < 0)
            d = 0;
        if (px->loss > 0 && urand(px) * 100 < px->loss) {
            d += px->rto_ns;
            px->shm->lost++;
        }
        rel = now + (int64_t)d;
        if (px->rate > 0) {
            if (h->next_free > rel)
                rel = h->next_free;
            h->next_free = rel + (int64_t)((double)n / px->rate * 1e9);
        }
        px->shm->affected++;
    }
    if (rel < h->last_release) /* a byte stream keeps its order */
        rel = h->last_release;
    h->last_release = rel;
    if (rel > now)
        px->shm->added_ns_sum += (uint64_t)(rel - now);
    ch->release_ns = rel;
    px->shm->chunks++;
    if (h == &c->up)
        px->shm->bytes_up += (uint64_t)n;
    else
        px->shm->bytes_down += (uint64_t)n;
    if (h->tail)
        h->tail->next = ch;
    else
        h->head = ch;
    h->tail = ch;
    h->queued += (size_t)n;
}

static bool stalled(const struct proxy *px, const struct conn *c, int64_t now, int64_t *until)
{
    if (!px->shm->effects || px->stall_ns <= 0)
        return false;
    int64_t base = c->opened_ns > px->shm->fired_ns ? c->opened_ns : px->shm->fired_ns;
    int64_t from = base + (int64_t)px->stall_after_ns, to = from + (int64_t)px->stall_ns;
    if (now >= from && now < to) {
        *until = to;
        return true;
    }
    return false;
}

/* Writes what is due; returns the next release time (or INT64_MAX). */
static int64_t flush(struct proxy *px, struct conn *c, struct half *h, int64_t now)
{
    int64_t until;
    if (stalled(px, c, now, &until))
        return until;
    while (h->head && h->head->release_ns <= now) {
        struct chunk *ch = h->head;
        ssize_t w = send(h->to, ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN)
                return now + MONI_NS_PER_MS;
            h->eof = true;
            return INT64_MAX;
        }
        ch->off += (size_t)w;
        h->queued -= (size_t)w;
        if (ch->off < ch->len)
            return now + MONI_NS_PER_MS;
        h->head = ch->next;
        if (!h->head)
            h->tail = NULL;
        free(ch);
    }
    if (h->paused && h->queued < QUEUE_MAX / 2)
        pause_reading(px, c, h, false);
    if (!h->head && h->eof && !h->shut) {
        shutdown(h->to, SHUT_WR);
        h->shut = true;
    }
    return h->head ? h->head->release_ns : INT64_MAX;
}

static void proxy_accept(struct proxy *px, int64_t now)
{
    for (;;) {
        int cfd = accept4(px->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        px->shm->conns++;
        if (px->shm->effects && px->reset > 0 && urand(px) * 100 < px->reset) {
            hard_reset(cfd);
            close(cfd);
            px->shm->resets++;
            continue;
        }
        int sfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sfd < 0 || connect(sfd, (struct sockaddr *)&px->target, sizeof px->target) != 0) {
            hard_reset(cfd);
            close(cfd);
            if (sfd >= 0)
                close(sfd);
            continue;
        }
        set_nonblock(sfd);
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(cfd);
            close(sfd);
            continue;
        }
        c->up.from = c->down.to = cfd;
        c->up.to = c->down.from = sfd;
        c->opened_ns = now;
        c->next = px->conns;
        px->conns = c;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(px->ep, EPOLL_CTL_ADD, cfd, &ev);
        epoll_ctl(px->ep, EPOLL_CTL_ADD, sfd, &ev);
    }
}

static void proxy_body(void *argp)
{
    struct proxy *px = argp;
    prctl(PR_SET_TIMERSLACK, 1000UL); /* wake within 1 us of a release time */
    px->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(px->ep, EPOLL_CTL_ADD, px->lfd, &lev);
    set_nonblock(px->lfd);
    px->shm->ready = 1;
    for (;;) {
        int64_t now = moni_mono_ns(), next = now + 20 * MONI_NS_PER_MS;
        struct conn **pp = &px->conns;
        while (*pp) {
            struct conn *c = *pp;
            if (!c->dead && px->shm->effects && px->reset_after_ns > 0) {
                int64_t base = c->opened_ns > px->shm->fired_ns ? c->opened_ns : px->shm->fired_ns;
                if (now - base >= (int64_t)px->reset_after_ns)
                    conn_close(px, c, true);
            }
            if (!c->dead) {
                int64_t a = flush(px, c, &c->up, now), b = flush(px, c, &c->down, now);
                if (a < next)
                    next = a;
                if (b < next)
                    next = b;
                if (c->up.shut && c->down.shut)
                    conn_close(px, c, false);
            }
            if (c->dead) {
                *pp = c->next;
                free(c);
                continue;
            }
            pp = &c->next;
        }
        int64_t wait_ns = next - moni_mono_ns();
        if (wait_ns < 0)
            wait_ns = 0;
        struct epoll_event evs[64];
        /* Nanosecond timeouts keep the added delay exact (epoll_wait rounds to ms). */
        struct timespec ts = {.tv_sec = wait_ns / MONI_NS_PER_SEC, .tv_nsec = wait_ns % MONI_NS_PER_SEC};
        int n = epoll_pwait2(px->ep, evs, 64, &ts, NULL);
        if (n < 0 && errno == ENOSYS)
            n = epoll_wait(px->ep, evs, 64, (int)((wait_ns + 999999) / 1000000));
        now = moni_mono_ns();
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                proxy_accept(px, now);
                continue;
            }
            /* Which side is readable is not known from the event: try both. */
            if (!c->up.eof)
                on_data(px, c, &c->up, now);
            if (!c->down.eof)
                on_data(px, c, &c->down, now);
            /* Stop polling a side at EOF so it does not spin. */
            if (c->up.eof)
                epoll_ctl(px->ep, EPOLL_CTL_DEL, c->up.from, NULL);
            if (c->down.eof)
                epoll_ctl(px->ep, EPOLL_CTL_DEL, c->down.from, NULL);
        }
    }
}

/* ---- netem --------------------------------------------------------------------------- */
static int kernel_has_netem(char *why, size_t len)
{
    struct stat st;
    if (stat("/sys/module/sch_netem", &st) == 0)
        return 1;
    char path[256], rel[128] = "";
    int fd = open("/proc/sys/kernel/osrelease", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, rel, sizeof rel - 1);
        rel[n > 0 ? n : 0] = 0;
        rel[strcspn(rel, "\n")] = 0;
        close(fd);
    }
    snprintf(path, sizeof path, "/lib/modules/%s/kernel/net/sched", rel);
    static const char *const exts[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(exts); i++) {
        char mod[400];
        snprintf(mod, sizeof mod, "%s/sch_netem%s", path, exts[i]);
        if (stat(mod, &st) == 0)
            return 1;
    }
    static const char *const zcat[] = {"/usr/bin/zcat", "/bin/zcat"};
    size_t cap = 1 << 20;
    char *cfg = malloc(cap);
    int verdict = -1;
    for (size_t i = 0; cfg && i < MONI_ARRAY_LEN(zcat) && verdict < 0; i++) {
        if (access(zcat[i], X_OK) || access("/proc/config.gz", R_OK))
            continue;
        char *argv[] = {(char *)zcat[i], "/proc/config.gz", NULL};
        if (fault_run_argv(argv, cfg, cap, 5 * MONI_NS_PER_SEC) != 0)
            continue;
        if (strstr(cfg, "CONFIG_NET_SCH_NETEM=y") || strstr(cfg, "CONFIG_NET_SCH_NETEM=m"))
            verdict = 1;
        else if (strstr(cfg, "CONFIG_NET_SCH_NETEM is not set"))
            verdict = 0;
    }
    if (verdict < 0) {
        snprintf(path, sizeof path, "/boot/config-%s", rel);
        char *c = moni_read_file(path, NULL);
        if (c) {
            verdict = strstr(c, "CONFIG_NET_SCH_NETEM=") ? 1 : 0;
            free(c);
        }
    }
    free(cfg);
    if (verdict == 0) {
        snprintf(why, len, "kernel has no netem (CONFIG_NET_SCH_NETEM is not set, no sch_netem "
                 "module); use mode=proxy");
        return 0;
    }
    return 1; /* unknown: let tc tell */
}

static const char *tc_path(char *buf, size_t len)
{
    const char *e = getenv("MONI_TC");
    static const char *const cands[] = {"/sbin/tc", "/usr/sbin/tc", "/usr/bin/tc", "/bin/tc"};
    if (e && *e) {
        snprintf(buf, len, "%s", e);
        return buf;
    }
    for (size_t i = 0; i < MONI_ARRAY_LEN(cands); i++)
        if (access(cands[i], X_OK) == 0) {
            snprintf(buf, len, "%s", cands[i]);
            return buf;
        }
    return NULL;
}

static bool has_net_admin(void)
{
    char *st = moni_read_file("/proc/self/status", NULL);
    bool ok = false;
    const char *p = st ? strstr(st, "CapEff:") : NULL;
    if (p) {
        unsigned long long caps = strtoull(p + 7, NULL, 16);
        ok = caps & (1ull << 12); /* CAP_NET_ADMIN */
    }
    free(st);
    return ok;
}

static int tc(struct net_state *s, char *out, size_t outlen, const char *a0, ...)
{
    char *argv[32];
    int n = 0;
    argv[n++] = s->tc;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    char buf[2048];
    if (!out) {
        out = buf;
        outlen = sizeof buf;
    }
    return fault_run_argv(argv, out, outlen, 5 * MONI_NS_PER_SEC);
}

static int netem_arm(struct fault *f, struct net_state *s, char *err, size_t errlen)
{
    if (fault_num(f, "stall") > 0 || fault_num(f, "reset") > 0 || fault_num(f, "reset_after") > 0) {
        snprintf(err, errlen, "stall and reset need mode=proxy");
        return FAULT_ERR_USAGE;
    }
    if (f->target.port == 22 && !fault_num(f, "allow_ssh")) {
        snprintf(err, errlen, "port 22 is excluded (allow_ssh=1 to force)");
        return FAULT_ERR_USAGE;
    }
    if (!tc_path(s->tc, sizeof s->tc)) {
        snprintf(err, errlen, "tc not found (install iproute2)");
        return FAULT_ERR_FAIL;
    }
    if (!has_net_admin()) {
        snprintf(err, errlen, "mode=netem needs CAP_NET_ADMIN (or use mode=proxy)");
        return FAULT_ERR_FAIL;
    }
    char why[256];
    if (!kernel_has_netem(why, sizeof why)) {
        snprintf(err, errlen, "%s", why);
        return FAULT_ERR_FAIL;
    }
    char out[4096];
    const char *dev = fault_str(f, "iface");
    if (tc(s, out, sizeof out, "qdisc", "show", "dev", dev, NULL) != 0) {
        snprintf(err, errlen, "iface=%s: %s", dev, out[0] ? out : "tc failed");
        out[strcspn(out, "\n")] = 0;
        return FAULT_ERR_FAIL;
    }
    char what[100];
    if (fault_qdisc_foreign(out, what, sizeof what) && !fault_num(f, "force")) {
        snprintf(err, errlen, "iface=%s has a root qdisc moni does not own (%s); force=1 "
                 "replaces it", dev, what);
        return FAULT_ERR_FAIL;
    }
    return 0;
}

/* Every root qdisc but ours is someone's: also the default ones with handle 0:
 * (pfifo_fast, fq_codel, mq), which an administrator may have tuned.  Only noqueue
 * (no qdisc at all) is nobody's. */
int fault_qdisc_foreign(const char *tc_show, char *what, size_t len)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", tc_show);
    char *save = NULL;
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char kind[64], handle[32];
        if (!strstr(l, " root") || sscanf(l, "qdisc %63s %31s", kind, handle) != 2)
            continue;
        if (!strcmp(kind, "noqueue") || !strcmp(handle, QDISC_ROOT))
            continue;
        snprintf(what, len, "%s %s", kind, handle);
        return 1;
    }
    return 0;
}

static int netem_fire(struct fault *f, struct net_state *s, char *err, size_t errlen)
{
    const char *dev = fault_str(f, "iface");
    char delay[32], jitter[32], loss[32], rate[48], port[16], out[2048];
    snprintf(delay, sizeof delay, "%lldus", (long long)(fault_ns(f, "delay") / 1000));
    snprintf(jitter, sizeof jitter, "%lldus", (long long)(fault_ns(f, "jitter") / 1000));
    snprintf(loss, sizeof loss, "%g%%", fault_num(f, "loss"));
    snprintf(rate, sizeof rate, "%.0fbps", fault_num(f, "rate") * 8);
    snprintf(port, sizeof port, "%d", f->target.port);
    fault_undo_qdisc(f, dev, QDISC_ROOT);
    if (fault_num(f, "force"))
        tc(s, NULL, 0, "qdisc", "del", "dev", dev, "root", NULL);
    /* Band 4 gets only what the filters send there (the priomap uses bands 1-3). */
    if (tc(s, out, sizeof out, "qdisc", "add", "dev", dev, "root", "handle", QDISC_ROOT, "prio",
           "bands", "4", "priomap", "1", "2", "2", "2", "1", "2", "0", "0", "1", "1", "1", "1",
           "1", "1", "1", "1", NULL) != 0) {
        snprintf(err, errlen, "tc qdisc add prio: %s", out);
        return FAULT_ERR_FAIL;
    }
    s->qdisc_added = true;
    int rc = fault_num(f, "rate") > 0
                 ? tc(s, out, sizeof out, "qdisc", "add", "dev", dev, "parent", "4d6e:4", "handle",
                      QDISC_NETEM, "netem", "delay", delay, jitter, "loss", loss, "rate", rate, NULL)
                 : tc(s, out, sizeof out, "qdisc", "add", "dev", dev, "parent", "4d6e:4", "handle",
                      QDISC_NETEM, "netem", "delay", delay, jitter, "loss", loss, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "tc qdisc add netem: %s", out);
        return FAULT_ERR_FAIL;
    }
    int dir = (int)fault_num(f, "direction");
    if ((dir != 2 && tc(s, out, sizeof out, "filter", "add", "dev", dev, "parent", QDISC_ROOT,
                        "protocol", "ip", "prio", "1", "u32", "match", "ip", "dport", port,
                        "0xffff", "flowid", "4d6e:4", NULL) != 0) ||
        (dir != 1 && tc(s, out, sizeof out, "filter", "add", "dev", dev, "parent", QDISC_ROOT,
                        "protocol", "ip", "prio", "1", "u32", "match", "ip", "sport", port,
                        "0xffff", "flowid", "4d6e:4", NULL) != 0)) {
        snprintf(err, errlen, "tc filter add: %s", out);
        return FAULT_ERR_FAIL;
    }
    return 0;
}

/* ---- ops ----------------------------------------------------------------------------- */
/* Checks that need no socket, no tc and no target (arm repeats them). */
static int net_precheck(const struct fault *f, char *err, size_t errlen)
{
    if (fault_num(f, "mode") == 1) {
        if (fault_num(f, "stall") > 0 || fault_num(f, "reset") > 0 ||
            fault_num(f, "reset_after") > 0) {
            snprintf(err, errlen, "stall and reset need mode=proxy");
            return FAULT_ERR_USAGE;
        }
        if (f->target.port == 22 && !fault_num(f, "allow_ssh")) {
            snprintf(err, errlen, "port 22 is excluded (allow_ssh=1 to force)");
            return FAULT_ERR_USAGE;
        }
        return 0;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, fault_str(f, "host"), &a) != 1) {
        snprintf(err, errlen, "host=%s: not an IPv4 address", fault_str(f, "host"));
        return FAULT_ERR_USAGE;
    }
    if ((int)fault_num(f, "listen") == f->target.port && a.s_addr == htonl(INADDR_LOOPBACK)) {
        snprintf(err, errlen, "listen=%d is the target port", f->target.port);
        return FAULT_ERR_USAGE;
    }
    return 0;
}

static int net_arm(struct fault *f, char *err, size_t errlen)
{
    struct net_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->lfd = -1;
    s->netem = fault_num(f, "mode") == 1;
    snprintf(f->mode, sizeof f->mode, "%s", s->netem ? "netem" : "proxy");
    f->requested = (double)fault_ns(f, "delay") / 1e6;
    if (s->netem)
        return netem_arm(f, s, err, errlen);
    struct sockaddr_in tgt = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->target.port)};
    if (inet_pton(AF_INET, fault_str(f, "host"), &tgt.sin_addr) != 1) {
        snprintf(err, errlen, "host=%s: not an IPv4 address", fault_str(f, "host"));
        return FAULT_ERR_USAGE;
    }
    if ((int)fault_num(f, "listen") == f->target.port && tgt.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
        snprintf(err, errlen, "listen=%d is the target port", f->target.port);
        return FAULT_ERR_USAGE;
    }
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fault_num(f, "listen")),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&la, sizeof la) || listen(s->lfd, 128)) {
        snprintf(err, errlen, "listen=%s: cannot listen on 127.0.0.1: %s", fault_str(f, "listen"),
                 strerror(errno));
        return FAULT_ERR_FAIL;
    }
    socklen_t sl = sizeof la;
    getsockname(s->lfd, (struct sockaddr *)&la, &sl);
    s->port = ntohs(la.sin_port);
    s->shm = fault_shared_alloc(sizeof *s->shm);
    if (!s->shm) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    struct proxy px = {.p = &f->p, .ops = f->ops, .shm = s->shm, .lfd = s->lfd, .target = tgt,
                       .rnd = (unsigned)moni_mono_ns()};
    px.delay_ns = pval(&px, "delay") * 1e9;
    px.jitter_ns = pval(&px, "jitter") * 1e9;
    px.loss = pval(&px, "loss");
    px.rto_ns = pval(&px, "rto") * 1e9;
    px.rate = pval(&px, "rate");
    px.stall_ns = pval(&px, "stall") * 1e9;
    px.stall_after_ns = pval(&px, "stall_after") * 1e9;
    px.reset = pval(&px, "reset");
    px.reset_after_ns = pval(&px, "reset_after") * 1e9;
    px.direction = (int)pval(&px, "direction");
    s->pid = fault_spawn(f, proxy_body, &px, s->lfd);
    if (s->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    for (int i = 0; i < 500 && !s->shm->ready; i++)
        moni_sleep_ns(MONI_NS_PER_MS);
    /* Moni keeps no copy of the listener: the proxy owns it. */
    close(s->lfd);
    s->lfd = -1;
    return 0;
}

static int net_fire(struct fault *f, char *err, size_t errlen)
{
    struct net_state *s = f->priv;
    if (s->netem)
        return netem_fire(f, s, err, errlen);
    s->shm->fired_ns = moni_mono_ns();
    s->shm->effects = 1;
    return 0;
}

static bool has_effects(const struct fault *f)
{
    return fault_ns(f, "delay") > 0 || fault_ns(f, "jitter") > 0 || fault_num(f, "loss") > 0 ||
           fault_num(f, "rate") > 0 || fault_ns(f, "stall") > 0 || fault_num(f, "reset") > 0 ||
           fault_ns(f, "reset_after") > 0;
}

static int net_check(struct fault *f, int64_t now)
{
    struct net_state *s = f->priv;
    (void)now;
    if (s->netem) {
        if (f->effective)
            return FAULT_CHECK_EFFECTIVE;
        char out[4096];
        if (tc(s, out, sizeof out, "qdisc", "show", "dev", fault_str(f, "iface"), NULL) == 0 &&
            strstr(out, "netem " QDISC_NETEM)) {
            f->delivered = f->requested;
            f->delivered_valid = true;
            snprintf(f->effect_detail, sizeof f->effect_detail, "qdisc netem %s listed on %s",
                     QDISC_NETEM, fault_str(f, "iface"));
            return FAULT_CHECK_EFFECTIVE;
        }
        return FAULT_CHECK_WAIT;
    }
    int st = fault_proc_state(s->pid);
    if (st == 0 || st == 'Z') {
        snprintf(f->error, sizeof f->error, "proxy process died");
        return FAULT_CHECK_FAILED;
    }
    if (s->shm->affected) {
        f->delivered = (double)s->shm->added_ns_sum / (double)s->shm->affected / 1e6;
        f->delivered_valid = true;
    }
    if (!f->effective && (!has_effects(f) || s->shm->affected || s->shm->resets)) {
        snprintf(f->effect_detail, sizeof f->effect_detail,
                 "proxy 127.0.0.1:%d -> %d: %llu chunk(s) affected, %llu reset(s)", s->port,
                 f->target.port, (unsigned long long)s->shm->affected,
                 (unsigned long long)s->shm->resets);
        return FAULT_CHECK_EFFECTIVE;
    }
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void net_stop(struct fault *f)
{
    struct net_state *s = f->priv;
    if (!s)
        return;
    if (s->shm)
        s->shm->effects = 0;
}

static int net_revert(struct fault *f, char *err, size_t errlen)
{
    struct net_state *s = f->priv;
    if (!s)
        return 0;
    if (s->pid > 0 && !fault_kill_child(s->pid)) {
        snprintf(err, errlen, "proxy %d still running", (int)s->pid);
        return -1;
    }
    if (s->qdisc_added) {
        const char *dev = fault_str(f, "iface");
        char out[4096];
        tc(s, NULL, 0, "qdisc", "del", "dev", dev, "root", "handle", QDISC_ROOT, NULL);
        if (tc(s, out, sizeof out, "qdisc", "show", "dev", dev, NULL) == 0 &&
            strstr(out, "prio " QDISC_ROOT)) {
            snprintf(err, errlen, "qdisc %s still on %s", QDISC_ROOT, dev);
            return -1;
        }
        s->qdisc_added = false;
    }
    return 0;
}

static void net_describe(const struct fault *f, cJSON *d)
{
    const struct net_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddStringToObject(d, "mode", s->netem ? "netem" : "proxy");
    if (s->netem) {
        cJSON_AddStringToObject(d, "iface", fault_str(f, "iface"));
        cJSON_AddStringToObject(d, "handle", QDISC_ROOT);
        return;
    }
    cJSON_AddNumberToObject(d, "listen_port", s->port);
    cJSON_AddNumberToObject(d, "proxy_pid", s->pid);
    if (!s->shm)
        return;
    cJSON_AddNumberToObject(d, "connections", (double)s->shm->conns);
    cJSON_AddNumberToObject(d, "chunks", (double)s->shm->chunks);
    cJSON_AddNumberToObject(d, "chunks_affected", (double)s->shm->affected);
    cJSON_AddNumberToObject(d, "bytes_up", (double)s->shm->bytes_up);
    cJSON_AddNumberToObject(d, "bytes_down", (double)s->shm->bytes_down);
    cJSON_AddNumberToObject(d, "lost", (double)s->shm->lost);
    cJSON_AddNumberToObject(d, "resets", (double)s->shm->resets);
    if (s->shm->affected)
        cJSON_AddNumberToObject(d, "mean_added_delay_ms",
                                (double)s->shm->added_ns_sum / (double)s->shm->affected / 1e6);
}

static void net_release(struct fault *f)
{
    struct net_state *s = f->priv;
    if (s) {
        if (s->lfd >= 0)
            close(s->lfd);
        fault_shared_free(s->shm, sizeof *s->shm);
    }
    free(s);
    f->priv = NULL;
}

const struct fault_ops fault_net_ops = {
    .name = "net",
    .summary = "delay, jitter, loss, bandwidth, stall, reset on one port (proxy or tc netem)",
    .privileges = "proxy: none; netem: CAP_NET_ADMIN and a kernel with sch_netem",
    .label_kind = "interval",
    .effect_labels = "Network_Degradation,Network_Timeout,NCCL_Timeout,Slowdown",
    .dose_unit = "ms",
    .undo = "proxy: the proxy process is killed; netem: moni's root qdisc (4d6e:) is deleted",
    .params = net_params,
    .nparams = MONI_ARRAY_LEN(net_params),
    .targets = FAULT_TGT_PORT | FAULT_TGT_REQUIRED,
    .arm = net_arm,
    .fire = net_fire,
    .check = net_check,
    .stop = net_stop,
    .revert = net_revert,
    .describe = net_describe,
    .release = net_release,
    .precheck = net_precheck,
};
