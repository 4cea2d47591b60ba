/* core/exporter.c — the Prometheus exporter: GET /metrics served from the loop on
 * non-blocking sockets, in the text format core/exposition.c renders.
 *
 * The response body is rendered once per publish (once per tick) into a
 * reference-counted buffer; a scrape only copies bytes out of it, so serving costs
 * the sampler nothing but a few syscalls.  Hostile clients are bounded three ways:
 * at most EXP_MAX_CONNS connections (the oldest is dropped), at most EXP_MAX_REQUEST
 * bytes of request (431, then close) and EXP_DEADLINE_NS per connection (slowloris).
 *
 * In a cluster job every series carries the job_id/node/rank labels of
 * core/prom-target.c, and with --prometheus-sd the exporter writes its file_sd
 * target file once it is listening and removes it when it stops. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/exporter-int.h"

#define EXP_MAX_CONNS 64
#define EXP_MAX_REQUEST 8192
#define EXP_DEADLINE_NS (5 * MONI_NS_PER_SEC)
#define EXP_ACCEPT_BURST 32 /* accepts per wakeup, so a flood cannot starve the loop */

/* ---- the server ------------------------------------------------------------------ */
struct body { /* a rendered response, shared by the connections sending it */
    size_t refs, len;
    char data[];
};

static void body_unref(struct body *b)
{
    if (b && --b->refs == 0)
        free(b);
}

struct conn {
    int fd; /* -1 = free slot */
    int64_t start_ns;
    size_t inlen;
    char in[EXP_MAX_REQUEST];
    char head[256];
    size_t headlen, off; /* off counts header + body bytes sent */
    struct body *body;   /* NULL while reading, or for a bodyless reply */
    const char *extra;   /* static body for error pages */
    size_t extralen;
    bool writing;
};

struct exporter {
    struct moni_loop *loop;
    int lfd, port, sweep_id;
    bool paused; /* listener off after EMFILE, until the next sweep */
    struct expo_plan *plan; /* the frame's layout, mapped once */
    char ident[320];        /* job_id/node/rank labels of every series ("" outside a job) */
    char sd_file[4096];     /* the file_sd target file written at start, "" if none */
    struct body *cur;
    struct conn conns[EXP_MAX_CONNS];
};

static void conn_close(struct exporter *ex, struct conn *c)
{
    if (c->fd < 0)
        return;
    moni_loop_del_fd(ex->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    body_unref(c->body);
    c->body = NULL;
}

/* Sends what it can; closes when done or on error. */
static void conn_flush(struct exporter *ex, struct conn *c)
{
    for (;;) {
        const char *blob = c->body ? c->body->data : c->extra;
        size_t bloblen = c->body ? c->body->len : c->extralen;
        size_t total = c->headlen + bloblen;
        if (c->off >= total) {
            conn_close(ex, c);
            return;
        }
        struct iovec iov[2];
        int n = 0;
        if (c->off < c->headlen) {
            iov[n++] = (struct iovec){c->head + c->off, c->headlen - c->off};
            if (bloblen)
                iov[n++] = (struct iovec){(void *)blob, bloblen};
        } else {
            iov[n++] = (struct iovec){(void *)(blob + (c->off - c->headlen)), total - c->off};
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->writing) {
                    c->writing = true;
                    moni_loop_mod_fd(ex->loop, c->fd, EPOLLOUT);
                }
                return;
            }
            conn_close(ex, c);
            return;
        }
        c->off += (size_t)w;
    }
}

static void reply(struct exporter *ex, struct conn *c, int status, const char *reason,
                  const char *ctype, const char *page, bool with_body, const char *allow)
{
    size_t blen = c->body ? c->body->len : strlen(page ? page : "");
    c->headlen = (size_t)snprintf(c->head, sizeof c->head,
                                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                  "%s%s%sConnection: close\r\n\r\n",
                                  status, reason, ctype, blen, allow ? "Allow: " : "",
                                  allow ? allow : "", allow ? "\r\n" : "");
    if (!c->body) {
        c->extra = page ? page : "";
        c->extralen = strlen(c->extra);
    }
    if (!with_body) { /* HEAD: headers only */
        body_unref(c->body);
        c->body = NULL;
        c->extralen = 0;
    }
    c->off = 0;
    conn_flush(ex, c);
}

static const char index_page[] =
    "<html><head><title>moni exporter</title></head><body><h1>moni exporter</h1>"
    "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static void handle_request(struct exporter *ex, struct conn *c)
{
    /* request line: METHOD SP TARGET SP VERSION */
    char method[16], target[256];
    const char *sp = memchr(c->in, ' ', c->inlen);
    const char *sp2 = sp ? memchr(sp + 1, ' ', c->inlen - (size_t)(sp + 1 - c->in)) : NULL;
    const char *eol = memchr(c->in, '\r', c->inlen);
    if (!sp || !sp2 || (size_t)(sp - c->in) >= sizeof method ||
        (size_t)(sp2 - sp - 1) >= sizeof target || (eol && eol < sp2)) {
        reply(ex, c, 400, "Bad Request", "text/plain", "bad request\n", true, NULL);
        return;
    }
    memcpy(method, c->in, (size_t)(sp - c->in));
    method[sp - c->in] = '\0';
    memcpy(target, sp + 1, (size_t)(sp2 - sp - 1));
    target[sp2 - sp - 1] = '\0';
    char *q = strchr(target, '?');
    if (q)
        *q = '\0';
    bool get = !strcmp(method, "GET"), head = !strcmp(method, "HEAD");
    bool known = !strcmp(target, "/metrics") || !strcmp(target, "/");
    if (!known) {
        reply(ex, c, 404, "Not Found", "text/plain", "not found; try /metrics\n", true, NULL);
        return;
    }
    if (!get && !head) {
        reply(ex, c, 405, "Method Not Allowed", "text/plain", "method not allowed\n", true,
              "GET, HEAD");
        return;
    }
    if (!strcmp(target, "/")) {
        reply(ex, c, 200, "OK", "text/html; charset=utf-8", index_page, get, NULL);
        return;
    }
    if (ex->cur) {
        c->body = ex->cur;
        ex->cur->refs++;
    }
    reply(ex, c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "", get, NULL);
}

static void on_conn(struct moni_loop *loop, int fd, uint32_t events, void *arg)
{
    struct exporter *ex = arg;
    struct conn *c = NULL;
    for (size_t i = 0; i < EXP_MAX_CONNS; i++)
        if (ex->conns[i].fd == fd)
            c = &ex->conns[i];
    if (!c) { /* not ours any more */
        moni_loop_del_fd(loop, fd);
        return;
    }
    if (c->writing) {
        if (events & (EPOLLERR))
            conn_close(ex, c);
        else
            conn_flush(ex, c);
        return;
    }
    for (;;) {
        if (c->inlen == sizeof c->in) {
            reply(ex, c, 431, "Request Header Fields Too Large", "text/plain",
                  "request too large\n", true, NULL);
            return;
        }
        ssize_t r = recv(fd, c->in + c->inlen, sizeof c->in - c->inlen, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            conn_close(ex, c);
            return;
        }
        size_t old = c->inlen;
        c->inlen += (size_t)r;
        size_t from = old >= 3 ? old - 3 : 0;
        if (memmem(c->in + from, c->inlen - from, "\r\n\r\n", 4) ||
            memmem(c->in + (old >= 1 ? old - 1 : 0), c->inlen - (old >= 1 ? old - 1 : 0), "\n\n",
                   2)) {
            handle_request(ex, c);
            return;
        }
    }
}

static void on_accept(struct moni_loop *loop, int fd, uint32_t events, void *arg)
{
    struct exporter *ex = arg;
    (void)events;
    for (int k = 0; k < EXP_ACCEPT_BURST; k++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0 && (errno == EMFILE || errno == ENFILE)) {
            /* out of descriptors: free one of ours, or stop listening until the
             * next sweep, so a readable listener cannot spin the loop */
            struct conn *oldest = NULL;
            for (size_t i = 0; i < EXP_MAX_CONNS; i++)
                if (ex->conns[i].fd >= 0 && (!oldest || ex->conns[i].start_ns < oldest->start_ns))
                    oldest = &ex->conns[i];
            if (oldest) {
                conn_close(ex, oldest);
                continue;
            }
            moni_loop_mod_fd(loop, fd, 0);
            ex->paused = true;
            return;
        }
        if (cfd < 0)
            return; /* EAGAIN: the backlog keeps the rest */
        struct conn *slot = NULL, *oldest = NULL;
        for (size_t i = 0; i < EXP_MAX_CONNS; i++) {
            struct conn *c = &ex->conns[i];
            if (c->fd < 0) {
                slot = c;
                break;
            }
            if (!oldest || c->start_ns < oldest->start_ns)
                oldest = c;
        }
        if (!slot) {
            conn_close(ex, oldest);
            slot = oldest;
        }
        *slot = (struct conn){.fd = cfd, .start_ns = moni_mono_ns()};
        if (moni_loop_add_fd(loop, cfd, EPOLLIN, on_conn, ex) < 0) {
            close(cfd);
            slot->fd = -1;
        }
    }
}

static void on_sweep(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns, uint64_t missed,
                     void *arg)
{
    struct exporter *ex = arg;
    (void)deadline_ns;
    (void)missed;
    if (ex->paused && moni_loop_mod_fd(loop, ex->lfd, EPOLLIN) == 0)
        ex->paused = false;
    for (size_t i = 0; i < EXP_MAX_CONNS; i++)
        if (ex->conns[i].fd >= 0 && now_ns - ex->conns[i].start_ns > EXP_DEADLINE_NS)
            conn_close(ex, &ex->conns[i]);
}

static int parse_listen(const char *spec, struct sockaddr_in *sa, char *err, size_t errlen)
{
    char host[64] = "127.0.0.1";
    const char *port = spec;
    const char *colon = strrchr(spec, ':');
    if (colon) {
        size_t hl = (size_t)(colon - spec);
        if (hl >= sizeof host) {
            snprintf(err, errlen, "--metrics-listen: address too long: '%s'", spec);
            return -1;
        }
        if (hl) {
            memcpy(host, spec, hl);
            host[hl] = '\0';
        }
        port = colon + 1;
        if (!strcmp(host, "localhost"))
            strcpy(host, "127.0.0.1");
    }
    long long p;
    if (moni_parse_int(port, 0, 65535, &p, NULL, 0) < 0) {
        snprintf(err, errlen, "--metrics-listen: bad port in '%s' (want [ADDR:]PORT)", spec);
        return -1;
    }
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)p);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        snprintf(err, errlen, "--metrics-listen: bad IPv4 address '%s'", host);
        return -1;
    }
    return 0;
}

/* The identity labels, and the file_sd target file when one was asked for.  A
 * wildcard listener is announced under the node's name, which the other nodes and
 * Prometheus can resolve; a specific address as it is. */
static int announce_target(struct exporter *ex, const struct sockaddr_in *sa, char *err,
                           size_t errlen)
{
    struct prom_identity id;
    prom_identity_read(&id);
    expo_identity_labels(&id, ex->ident, sizeof ex->ident);
    const char *pattern = prom_sd_file();
    if (!pattern)
        return 0;
    if (prom_sd_expand(pattern, &id, ex->sd_file, sizeof ex->sd_file) < 0) {
        snprintf(err, errlen, "--prometheus-sd: path too long: '%s'", pattern);
        ex->sd_file[0] = '\0';
        return -1;
    }
    char host[INET_ADDRSTRLEN] = "", target[400];
    bool wildcard = sa->sin_addr.s_addr == htonl(INADDR_ANY);
    if (!wildcard)
        inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
    snprintf(target, sizeof target, "%s:%d", wildcard ? id.node : host, ex->port);
    if (prom_sd_write(ex->sd_file, target, &id, err, errlen) < 0) {
        ex->sd_file[0] = '\0';
        return -1;
    }
    return 0;
}

struct exporter *exporter_start(struct moni_loop *loop, const char *addr, char *err,
                                size_t errlen)
{
    struct sockaddr_in sa;
    if (!addr || parse_listen(addr, &sa, err, errlen) < 0)
        return NULL;
    struct exporter *ex = calloc(1, sizeof *ex);
    if (!ex || !(ex->plan = expo_plan_new())) {
        free(ex);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ex->loop = loop;
    ex->sweep_id = -1;
    for (size_t i = 0; i < EXP_MAX_CONNS; i++)
        ex->conns[i].fd = -1;
    ex->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (ex->lfd < 0 || setsockopt(ex->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(ex->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ex->lfd, 128) < 0) {
        snprintf(err, errlen, "--metrics-listen %s: %s", addr, strerror(errno));
        goto fail;
    }
    socklen_t sl = sizeof sa;
    getsockname(ex->lfd, (struct sockaddr *)&sa, &sl);
    ex->port = ntohs(sa.sin_port);
    if (moni_loop_add_fd(loop, ex->lfd, EPOLLIN, on_accept, ex) < 0) {
        snprintf(err, errlen, "--metrics-listen: cannot watch the socket");
        goto fail;
    }
    ex->sweep_id = moni_loop_add_ticker(loop, MONI_NS_PER_SEC / 2, 0, on_sweep, ex);
    if (ex->sweep_id < 0) {
        moni_loop_del_fd(loop, ex->lfd);
        snprintf(err, errlen, "--metrics-listen: cannot start the deadline timer");
        goto fail;
    }
    if (announce_target(ex, &sa, err, errlen) < 0) {
        moni_loop_cancel_timer(loop, ex->sweep_id);
        moni_loop_del_fd(loop, ex->lfd);
        goto fail;
    }
    exporter_publish(ex, NULL, NULL);
    return ex;
fail:
    if (ex->lfd >= 0)
        close(ex->lfd);
    expo_plan_free(ex->plan);
    free(ex);
    return NULL;
}

void exporter_publish(struct exporter *ex, const struct frame *f, const struct exporter_extra *x)
{
    if (!ex)
        return;
    size_t len = 0;
    char *text = expo_render(ex->plan, f, x, ex->ident, &len);
    if (!text)
        return; /* keep serving the previous snapshot */
    struct body *b = malloc(sizeof *b + len + 1);
    if (b) {
        b->refs = 1;
        b->len = len;
        memcpy(b->data, text, len + 1);
        body_unref(ex->cur);
        ex->cur = b;
    }
    free(text);
}

int exporter_port(const struct exporter *ex) { return ex ? ex->port : -1; }

void exporter_stop(struct exporter *ex)
{
    if (!ex)
        return;
    for (size_t i = 0; i < EXP_MAX_CONNS; i++)
        conn_close(ex, &ex->conns[i]);
    if (ex->sweep_id >= 0)
        moni_loop_cancel_timer(ex->loop, ex->sweep_id);
    moni_loop_del_fd(ex->loop, ex->lfd);
    close(ex->lfd);
    if (ex->sd_file[0]) /* the node leaves the job: Prometheus drops the target */
        unlink(ex->sd_file);
    body_unref(ex->cur);
    expo_plan_free(ex->plan);
    free(ex);
}

