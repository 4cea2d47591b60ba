/* workloads/rlsim/rlsim_meta.c — the MetaServer: an in-memory key-value store for
 * weight shards with long-poll reads, served over HTTP from the controller process. */
#include "workloads/rlsim/rlsim.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct meta_entry {
    char *key;
    void *data;
    size_t len;
    struct meta_entry *next;
};

struct rlsim_meta {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    struct meta_entry *head;
    int listen_fd, stopping;
    pthread_t accept_thread;
    int serving;
    int clients[256], nclients; /* open connections, so stop can wake and wait for them */
};

struct rlsim_meta *rlsim_meta_new(void)
{
    struct rlsim_meta *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->changed, &ca);
    pthread_condattr_destroy(&ca);
    m->listen_fd = -1;
    return m;
}

void rlsim_meta_free(struct rlsim_meta *m)
{
    if (!m)
        return;
    rlsim_meta_stop(m);
    pthread_mutex_lock(&m->mu);
    int busy = m->nclients;
    pthread_mutex_unlock(&m->mu);
    if (busy)
        return; /* a thread is stuck writing: leave it the memory */
    for (struct meta_entry *e = m->head, *n; e; e = n) {
        n = e->next;
        free(e->key);
        free(e->data);
        free(e);
    }
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->changed);
    free(m);
}

static struct meta_entry **find(struct rlsim_meta *m, const char *key)
{
    struct meta_entry **pp = &m->head;
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Takes ownership of data. Caller holds the lock. */
static void put_locked(struct rlsim_meta *m, const char *key, void *data, size_t len)
{
    struct meta_entry **pp = find(m, key);
    if (*pp) {
        free((*pp)->data);
        (*pp)->data = data;
        (*pp)->len = len;
    } else {
        struct meta_entry *e = calloc(1, sizeof *e);
        e->key = strdup(key);
        e->data = data;
        e->len = len;
        e->next = m->head;
        m->head = e;
    }
    pthread_cond_broadcast(&m->changed);
}

void rlsim_meta_put(struct rlsim_meta *m, const char *key, const void *data, size_t len)
{
    void *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    pthread_mutex_lock(&m->mu);
    put_locked(m, key, copy, len);
    pthread_mutex_unlock(&m->mu);
}

int rlsim_meta_get(struct rlsim_meta *m, const char *key, long wait_ms, void **data, size_t *len)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += wait_ms / 1000;
    dl.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m->mu);
    struct meta_entry **pp;
    while (!*(pp = find(m, key)) && !m->stopping) {
        if (wait_ms <= 0 || pthread_cond_timedwait(&m->changed, &m->mu, &dl) == ETIMEDOUT) {
            pp = find(m, key);
            break;
        }
    }
    int rc = -1;
    if (*pp) {
        *len = (*pp)->len;
        *data = malloc(*len + 1);
        memcpy(*data, (*pp)->data, *len);
        ((char *)*data)[*len] = 0;
        rc = 0;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int rlsim_meta_del(struct rlsim_meta *m, const char *key)
{
    pthread_mutex_lock(&m->mu);
    struct meta_entry **pp = find(m, key), *e = *pp;
    if (e) {
        *pp = e->next;
        free(e->key);
        free(e->data);
        free(e);
    }
    pthread_mutex_unlock(&m->mu);
    return e ? 0 : -1;
}

int rlsim_meta_commit(struct rlsim_meta *m, const char *key, int chunks)
{
    char ck[600];
    pthread_mutex_lock(&m->mu);
    size_t total = 0;
    for (int i = 0; i < chunks; i++) {
        snprintf(ck, sizeof ck, "%s/chunk%d", key, i);
        struct meta_entry *e = *find(m, ck);
        if (!e) {
            pthread_mutex_unlock(&m->mu);
            return -1;
        }
        total += e->len;
    }
    char *all = malloc(total ? total : 1);
    size_t off = 0;
    for (int i = 0; i < chunks; i++) {
        snprintf(ck, sizeof ck, "%s/chunk%d", key, i);
        struct meta_entry **pp = find(m, ck), *e = *pp;
        memcpy(all + off, e->data, e->len);
        off += e->len;
        *pp = e->next;
        free(e->key);
        free(e->data);
        free(e);
    }
    put_locked(m, key, all, total);
    pthread_mutex_unlock(&m->mu);
    return 0;
}

size_t rlsim_meta_count(struct rlsim_meta *m)
{
    size_t n = 0;
    pthread_mutex_lock(&m->mu);
    for (struct meta_entry *e = m->head; e; e = e->next)
        n++;
    pthread_mutex_unlock(&m->mu);
    return n;
}

/* ---- HTTP front ------------------------------------------------------------------ */

struct meta_client {
    struct rlsim_meta *m;
    int fd;
};

static void key_of(const char *path, const char *prefix, char *key, size_t len)
{
    const char *k = path + strlen(prefix);
    size_t n = strcspn(k, "?");
    if (n >= len)
        n = len - 1;
    memcpy(key, k, n);
    key[n] = 0;
}

static void *serve_client(void *arg)
{
    struct meta_client *mc = arg;
    struct rlsim_meta *m = mc->m;
    struct rlsim_http_conn c = {.fd = mc->fd};
    free(mc);
    pthread_mutex_lock(&m->mu);
    int slot = -1;
    for (int i = 0; i < 256 && slot < 0; i++)
        if (m->clients[i] <= 0)
            slot = i;
    if (slot >= 0)
        m->clients[slot] = c.fd;
    m->nclients++;
    int stopping = m->stopping;
    pthread_mutex_unlock(&m->mu);
    if (stopping)
        shutdown(c.fd, SHUT_RDWR);
    for (;;) {
        struct rlsim_http_msg req;
        if (rlsim_http_read_request(&c, 600000, &req))
            break;
        char key[600];
        int keep = req.keep_alive, rc = 0;
        if (strncmp(req.path, "/kv/", 4) == 0) {
            key_of(req.path, "/kv/", key, sizeof key);
            if (!strcmp(req.method, "PUT")) {
                rlsim_meta_put(m, key, req.body, req.body_len);
                rc = rlsim_http_respond(c.fd, 200, "ok\n", 3, keep);
            } else if (!strcmp(req.method, "GET")) {
                void *d;
                size_t n;
                long wait = rlsim_http_query_long(req.path, "wait_ms", 0);
                if (rlsim_meta_get(m, key, wait, &d, &n) == 0) {
                    rc = rlsim_http_respond(c.fd, 200, d, n, keep);
                    free(d);
                } else {
                    rc = rlsim_http_respond(c.fd, 404, "KeyError: key not found\n", 24, keep);
                }
            } else if (!strcmp(req.method, "DELETE")) {
                int ok = rlsim_meta_del(m, key) == 0;
                rc = rlsim_http_respond(c.fd, ok ? 200 : 404, ok ? "ok\n" : "missing\n",
                                        ok ? 3 : 8, keep);
            } else {
                rc = rlsim_http_respond(c.fd, 400, "bad method\n", 11, keep);
            }
        } else if (strncmp(req.path, "/commit/", 8) == 0 && !strcmp(req.method, "POST")) {
            key_of(req.path, "/commit/", key, sizeof key);
            int chunks = (int)rlsim_http_query_long(req.path, "chunks", 0);
            int ok = rlsim_meta_commit(m, key, chunks) == 0;
            rc = rlsim_http_respond(c.fd, ok ? 200 : 409, ok ? "ok\n" : "incomplete upload\n",
                                    ok ? 3 : 18, keep);
        } else if (!strcmp(req.path, "/health")) {
            rc = rlsim_http_respond(c.fd, 200, "ok\n", 3, keep);
        } else {
            rc = rlsim_http_respond(c.fd, 404, "no such endpoint\n", 17, keep);
        }
        rlsim_http_msg_free(&req);
        if (rc || !keep)
            break;
    }
    pthread_mutex_lock(&m->mu);
    if (slot >= 0)
        m->clients[slot] = 0;
    rlsim_http_close(&c);
    m->nclients--;
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

static void *accept_loop(void *arg)
{
    struct rlsim_meta *m = arg;
    while (!m->stopping) {
        struct pollfd p = {m->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        struct meta_client *mc = malloc(sizeof *mc);
        mc->m = m;
        mc->fd = fd;
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, serve_client, mc)) {
            close(fd);
            free(mc);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

int rlsim_meta_serve(struct rlsim_meta *m, int listen_fd)
{
    m->listen_fd = listen_fd;
    if (pthread_create(&m->accept_thread, NULL, accept_loop, m))
        return -1;
    m->serving = 1;
    return 0;
}

/* Stops accepting and wakes long-polls; connection threads finish on their own
 * (the process normally exits right after). */
void rlsim_meta_stop(struct rlsim_meta *m)
{
    pthread_mutex_lock(&m->mu);
    m->stopping = 1;
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->mu);
    if (m->serving) {
        pthread_join(m->accept_thread, NULL);
        m->serving = 0;
    }
    /* wake connection threads blocked in a read and wait for them to finish */
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += 3;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < 256; i++)
        if (m->clients[i] > 0)
            shutdown(m->clients[i], SHUT_RDWR);
    while (m->nclients > 0)
        if (pthread_cond_timedwait(&m->changed, &m->mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&m->mu);
}
