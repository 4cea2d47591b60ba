/* workloads/rlsim/rlsim_http.c — the small HTTP/1.1 client and server rlsim needs.
 * Content-Length bodies only, keep-alive, every wait bounded by poll(). */
#include "workloads/rlsim/rlsim.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_MAX_HEADER 16384
#define HTTP_MAX_BODY (64u << 20)

void rlsim_http_msg_free(struct rlsim_http_msg *m)
{
    free(m->body);
    m->body = NULL;
    m->body_len = 0;
}

long rlsim_http_parse(const char *buf, size_t len, int is_request, struct rlsim_http_msg *m)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = buf + i;
            break;
        }
    if (!end)
        return len > HTTP_MAX_HEADER ? -1 : 0;
    memset(m, 0, sizeof *m);
    m->keep_alive = 1;
    size_t hlen = (size_t)(end - buf) + 4;
    const char *p = buf, *eol = memchr(p, '\r', (size_t)(end - p) + 1);
    if (!eol)
        return -1;
    /* start line */
    char line[700];
    size_t ll = (size_t)(eol - p);
    if (ll >= sizeof line || ll == 0)
        return -1;
    memcpy(line, p, ll);
    line[ll] = 0;
    if (is_request) {
        char ver[16];
        if (sscanf(line, "%15s %511s %15s", m->method, m->path, ver) != 3 ||
            strncmp(ver, "HTTP/1.", 7) != 0 || m->path[0] != '/')
            return -1;
        for (char *c = m->method; *c; c++)
            if (!isupper((unsigned char)*c))
                return -1;
    } else {
        if (strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12)
            return -1;
        char *e;
        long st = strtol(line + 9, &e, 10);
        if (e != line + 12 || st < 100 || st > 599)
            return -1;
        m->status = (int)st;
    }
    /* headers */
    p = eol + 2;
    int have_len = 0;
    while (p < end + 2 && p < buf + hlen - 2) {
        eol = memchr(p, '\r', (size_t)(end + 2 - p));
        if (!eol || eol == p)
            break;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon)
            return -1;
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(eol - v);
        if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            char num[32];
            if (vlen == 0 || vlen >= sizeof num)
                return -1;
            memcpy(num, v, vlen);
            num[vlen] = 0;
            char *e;
            unsigned long long cl = strtoull(num, &e, 10);
            if (*e || !isdigit((unsigned char)num[0]) || cl > HTTP_MAX_BODY)
                return -1;
            m->content_length = (size_t)cl;
            have_len = 1;
        } else if (nlen == 10 && strncasecmp(p, "Connection", 10) == 0) {
            if (vlen >= 5 && strncasecmp(v, "close", 5) == 0)
                m->keep_alive = 0;
        } else if (nlen == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            return -1; /* chunked bodies are not used by rlsim */
        }
        p = eol + 2;
    }
    (void)have_len;
    if (len < hlen + m->content_length)
        return 0;
    m->body = malloc(m->content_length + 1);
    if (!m->body)
        return -1;
    memcpy(m->body, buf + hlen, m->content_length);
    m->body[m->content_length] = 0;
    m->body_len = m->content_length;
    return (long)(hlen + m->content_length);
}

int rlsim_http_query(const char *path, const char *key, char *out, size_t outlen)
{
    const char *q = strchr(path, '?');
    size_t kl = strlen(key);
    while (q) {
        q++;
        if (strncmp(q, key, kl) == 0 && q[kl] == '=') {
            const char *v = q + kl + 1;
            size_t n = strcspn(v, "&");
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, v, n);
            out[n] = 0;
            return 0;
        }
        q = strchr(q, '&');
    }
    return -1;
}

long rlsim_http_query_long(const char *path, const char *key, long dflt)
{
    char v[32];
    if (rlsim_http_query(path, key, v, sizeof v))
        return dflt;
    char *e;
    long r = strtol(v, &e, 10);
    return e == v ? dflt : r;
}

/* ---- sockets --------------------------------------------------------------------- */

int rlsim_listen(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int rlsim_socket_port(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &l) < 0)
        return -1;
    return ntohs(a.sin_port);
}

static long remaining(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t r = deadline - rlsim_now_ms();
    return r < 0 ? 0 : (long)r;
}

static char master_host[256];
static __thread int master_gai_error;

void rlsim_http_set_master(const char *host)
{
    snprintf(master_host, sizeof master_host, "%s", host ? host : "");
}

/* The address connections go to: loopback, or the master's name resolved now. */
static int master_address(struct in_addr *out)
{
    out->s_addr = htonl(INADDR_LOOPBACK);
    if (!master_host[0])
        return 0;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int e = getaddrinfo(master_host, NULL, &hints, &res);
    if (e != 0 || !res) {
        master_gai_error = e ? e : EAI_NONAME;
        return RLSIM_HTTP_NAME;
    }
    *out = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

int rlsim_http_connect(struct rlsim_http_conn *c, int port, long timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->port = port;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (master_address(&a.sin_addr) != 0)
        return RLSIM_HTTP_NAME;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return RLSIM_HTTP_REFUSED;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return RLSIM_HTTP_REFUSED;
        }
        struct pollfd p = {fd, POLLOUT, 0};
        int r;
        while ((r = poll(&p, 1, (int)timeout_ms)) < 0 && errno == EINTR) {
        }
        if (r == 0) {
            close(fd);
            return RLSIM_HTTP_CONNECT_TIMEOUT;
        }
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (r < 0 || err) {
            close(fd);
            return RLSIM_HTTP_REFUSED;
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    return 0;
}

void rlsim_http_close(struct rlsim_http_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

static int write_all(int fd, const char *p, size_t n, int64_t deadline, int more)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = {fd, POLLOUT, 0};
            long rem = remaining(deadline);
            if (rem == 0)
                return RLSIM_HTTP_TIMEOUT;
            int r = poll(&pf, 1, (int)rem);
            if (r == 0)
                return RLSIM_HTTP_TIMEOUT;
            continue;
        }
        return RLSIM_HTTP_CLOSED;
    }
    return 0;
}

/* Reads until one complete message is buffered; consumes it. */
static int read_msg(struct rlsim_http_conn *c, int64_t deadline, int is_request,
                    struct rlsim_http_msg *m)
{
    for (;;) {
        if (c->len) {
            long n = rlsim_http_parse(c->buf, c->len, is_request, m);
            if (n < 0)
                return RLSIM_HTTP_BAD;
            if (n > 0) {
                memmove(c->buf, c->buf + n, c->len - (size_t)n);
                c->len -= (size_t)n;
                return 0;
            }
        }
        if (c->cap - c->len < 65536) {
            size_t ncap = c->cap ? c->cap * 2 : 131072;
            if (ncap > HTTP_MAX_BODY + HTTP_MAX_HEADER + 131072)
                return RLSIM_HTTP_BAD;
            char *nb = realloc(c->buf, ncap);
            if (!nb)
                return RLSIM_HTTP_BAD;
            c->buf = nb;
            c->cap = ncap;
        }
        struct pollfd pf = {c->fd, POLLIN, 0};
        long rem = remaining(deadline);
        int r = poll(&pf, 1, deadline < 0 ? -1 : (int)rem);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return RLSIM_HTTP_TIMEOUT;
        ssize_t got = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return RLSIM_HTTP_CLOSED;
        c->len += (size_t)got;
    }
}

int rlsim_http_request(struct rlsim_http_conn *c, const char *method, const char *path,
                       const void *body, size_t len, long timeout_ms, struct rlsim_http_msg *resp)
{
    int64_t deadline = rlsim_now_ms() + timeout_ms;
    char head[800];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: python-requests/2.32.3\r\n"
                      "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                      method, path, c->port, len);
    if (hl <= 0 || (size_t)hl >= sizeof head)
        return RLSIM_HTTP_BAD;
    int rc = write_all(c->fd, head, (size_t)hl, deadline, len > 0);
    if (!rc && len)
        rc = write_all(c->fd, body, len, deadline, 0);
    if (rc)
        return rc;
    memset(resp, 0, sizeof *resp);
    return read_msg(c, deadline, 0, resp);
}

int rlsim_http_call(int port, const char *method, const char *path, const void *body, size_t len,
                    long timeout_ms, struct rlsim_http_msg *resp)
{
    struct rlsim_http_conn c;
    memset(resp, 0, sizeof *resp);
    int64_t t0 = rlsim_now_ms();
    int rc = rlsim_http_connect(&c, port, timeout_ms);
    if (rc)
        return rc;
    long left = timeout_ms - (long)(rlsim_now_ms() - t0);
    rc = rlsim_http_request(&c, method, path, body, len, left > 0 ? left : 1, resp);
    rlsim_http_close(&c);
    return rc;
}

int rlsim_http_read_request(struct rlsim_http_conn *c, long timeout_ms, struct rlsim_http_msg *req)
{
    return read_msg(c, timeout_ms < 0 ? -1 : rlsim_now_ms() + timeout_ms, 1, req);
}

static const char *reason(int st)
{
    switch (st) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

int rlsim_http_respond(int fd, int status, const void *body, size_t len, int keep_alive)
{
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nServer: rlsim\r\nContent-Type: text/plain\r\n"
                      "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                      status, reason(status), len, keep_alive ? "keep-alive" : "close");
    int64_t deadline = rlsim_now_ms() + 30000;
    int rc = write_all(fd, head, (size_t)hl, deadline, len > 0);
    if (!rc && len)
        rc = write_all(fd, body, len, deadline, 0);
    return rc;
}

void rlsim_http_strerror(int rc, int port, const char *url, long timeout_ms, char *buf, size_t len)
{
    switch (rc) {
    case RLSIM_HTTP_TIMEOUT:
        snprintf(buf, len,
                 "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='127.0.0.1', port=%d): "
                 "Read timed out. (read timeout=%.1f)", port, timeout_ms / 1000.0);
        break;
    case RLSIM_HTTP_CONNECT_TIMEOUT:
        snprintf(buf, len,
                 "requests.exceptions.ConnectTimeout: HTTPConnectionPool(host='127.0.0.1', port=%d): "
                 "Max retries exceeded with url: %s (connect timeout=%.1f)", port, url,
                 timeout_ms / 1000.0);
        break;
    case RLSIM_HTTP_REFUSED:
        snprintf(buf, len,
                 "requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=%d): "
                 "Max retries exceeded with url: %s (Caused by NewConnectionError('Failed to "
                 "establish a new connection: [Errno 111] Connection refused'))", port, url);
        break;
    case RLSIM_HTTP_NAME:
        snprintf(buf, len,
                 "requests.exceptions.ConnectionError: HTTPConnectionPool(host='%s', port=%d): "
                 "Max retries exceeded with url: %s (Caused by NameResolutionError(\"Failed to "
                 "resolve '%s' ([Errno %d] %s)\"))", master_host, port, url, master_host,
                 master_gai_error, gai_strerror(master_gai_error));
        break;
    case RLSIM_HTTP_CLOSED:
        snprintf(buf, len,
                 "requests.exceptions.ConnectionError: ('Connection aborted.', "
                 "RemoteDisconnected('Remote end closed connection without response'))");
        break;
    default:
        snprintf(buf, len, "requests.exceptions.InvalidResponse: malformed HTTP response from "
                 "127.0.0.1:%d%s", port, url);
    }
}
