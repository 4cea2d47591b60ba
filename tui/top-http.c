/* tui/top-http.c — the smallest HTTP/1.1 client the cluster console needs: GET a
 * path from a Prometheus over a plain TCP socket, with one deadline for connect,
 * send and receive, and a body that may come chunked.  No TLS, no redirects, no
 * keep-alive (Connection: close), no compression asked for: a Prometheus behind
 * HTTPS is reached through a local tunnel or proxy.  Written here rather than
 * linking libcurl so that moni's runtime dependencies stay the three libraries it
 * has, for what is one request shape to one kind of server. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tui/top-int.h"

#define HTTP_MAX_BODY (64u << 20) /* a runaway answer is cut, not swallowed */

int top_url_parse(const char *url, struct top_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *p = url;
    if (!strncmp(p, "https://", 8)) {
        snprintf(err, errlen, "%s: https is not supported (use http:// through a tunnel)", url);
        return -1;
    }
    if (!strncmp(p, "http://", 7))
        p += 7;
    size_t hl = strcspn(p, "/");
    if (!hl || hl >= sizeof u->host) {
        snprintf(err, errlen, "%s: want http://HOST[:PORT][/PREFIX]", url);
        return -1;
    }
    memcpy(u->host, p, hl);
    u->host[hl] = '\0';
    char *colon = strrchr(u->host, ':');
    snprintf(u->port, sizeof u->port, "9090");
    if (colon && !strchr(colon, ']')) {
        *colon = '\0';
        long port = strtol(colon + 1, NULL, 10);
        if (strspn(colon + 1, "0123456789") != strlen(colon + 1) || port < 1 || port > 65535) {
            snprintf(err, errlen, "%s: bad port", url);
            return -1;
        }
        snprintf(u->port, sizeof u->port, "%ld", port);
    }
    if (!u->host[0]) {
        snprintf(err, errlen, "%s: no host", url);
        return -1;
    }
    /* a path prefix (Prometheus behind --web.route-prefix) without its last '/' */
    snprintf(u->prefix, sizeof u->prefix, "%s", p + hl);
    size_t pl = strlen(u->prefix);
    while (pl && u->prefix[pl - 1] == '/')
        u->prefix[--pl] = '\0';
    return 0;
}

static int64_t left_ms(int64_t deadline_ns)
{
    int64_t l = (deadline_ns - moni_mono_ns()) / MONI_NS_PER_MS;
    return l > 0 ? l : 0;
}

static int connect_to(const struct top_url *u, int64_t deadline_ns, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (poll(&pf, 1, (int)left_ms(deadline_ns)) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
            saved = soerr ? soerr : ETIMEDOUT;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s:%s: %s", u->host, u->port, strerror(saved));
    return fd;
}

static int send_all(int fd, const char *s, size_t n, int64_t deadline_ns)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (poll(&pf, 1, (int)left_ms(deadline_ns)) != 1)
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until the server closes (Connection: close). */
static int recv_all(int fd, struct top_buf *b, int64_t deadline_ns)
{
    for (;;) {
        if (b->cap - b->len < 16384) {
            size_t cap = b->cap ? b->cap * 2 : 65536;
            if (cap > HTTP_MAX_BODY + 65536)
                return -1;
            char *p = realloc(b->p, cap);
            if (!p)
                return -1;
            b->p = p;
            b->cap = cap;
        }
        ssize_t r = recv(fd, b->p + b->len, b->cap - b->len - 1, 0);
        if (r == 0)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, (int)left_ms(deadline_ns)) != 1)
                return -1;
            continue;
        }
        if (r < 0)
            return -1;
        b->len += (size_t)r;
    }
    b->p[b->len] = '\0';
    return 0;
}

/* Undoes Transfer-Encoding: chunked in place; -1 if malformed. */
static int dechunk(char *body, size_t len, size_t *out_len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        unsigned long n = strtoul(body + in, &end, 16);
        char *crlf = strstr(body + in, "\r\n");
        if (end == body + in || !crlf)
            return -1;
        in = (size_t)(crlf - body) + 2;
        if (n == 0)
            break;
        if (n > len - in)
            return -1;
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2;
        if (in > len)
            return -1;
    }
    body[out] = '\0';
    *out_len = out;
    return 0;
}

int top_http_get(const struct top_url *u, const char *path, int timeout_ms, struct top_buf *b,
                 int *status, char *err, size_t errlen)
{
    b->len = 0;
    *status = 0;
    int64_t deadline = moni_mono_ns() + (int64_t)timeout_ms * MONI_NS_PER_MS;
    int fd = connect_to(u, deadline, err, errlen);
    if (fd < 0)
        return -1;
    size_t need = strlen(path) + strlen(u->prefix) + strlen(u->host) + 128;
    char *req = malloc(need);
    if (!req) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int n = snprintf(req, need,
                     "GET %s%s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: moni-top/" MONI_VERSION
                     "\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
                     u->prefix, path, u->host, u->port);
    int rc = send_all(fd, req, (size_t)n, deadline);
    free(req);
    b->sent = (size_t)n;
    if (rc == 0)
        rc = recv_all(fd, b, deadline);
    close(fd);
    if (rc < 0 || !b->p) {
        snprintf(err, errlen, "%s:%s: no complete answer within %d ms", u->host, u->port,
                 timeout_ms);
        return -1;
    }
    b->received = b->len;
    int code = 0;
    char *hend = strstr(b->p, "\r\n\r\n");
    if (sscanf(b->p, "HTTP/1.%*d %d", &code) != 1 || !hend) {
        snprintf(err, errlen, "%s:%s: not an HTTP answer", u->host, u->port);
        return -1;
    }
    *status = code;
    *hend = '\0';
    bool chunked = false;
    for (char *line = strstr(b->p, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        size_t ll = strcspn(line, "\r");
        if (!strncasecmp(line, "Transfer-Encoding:", 18) && memmem(line, ll, "chunked", 7))
            chunked = true;
    }
    size_t off = (size_t)(hend + 4 - b->p), blen = b->len - off;
    memmove(b->p, b->p + off, blen + 1);
    b->len = blen;
    if (chunked && dechunk(b->p, b->len, &b->len) < 0) {
        snprintf(err, errlen, "%s:%s: bad chunked body", u->host, u->port);
        return -1;
    }
    return 0;
}

/* Percent-encodes s for a query string. */
char *top_urlencode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c))
            *o++ = (char)c;
        else
            o += sprintf(o, "%%%02X", c);
    }
    *o = '\0';
    return out;
}
