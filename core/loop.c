/* core/loop.c — the event loop: epoll over fds, timerfds and one signalfd.
 *
 * Tickers are drift-free: each is a timerfd armed with an ABSOLUTE first deadline
 * and a period, so the kernel keeps deadlines on the grid start + k*period.  A
 * callback learns the deadline it serves and how many were missed; nothing is
 * shifted to hide lateness. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/core.h"

enum watch_kind { WATCH_FD, WATCH_TIMER, WATCH_SIGNAL };

struct watch {
    enum watch_kind kind;
    int fd;
    bool in_use;
    /* fd */
    moni_fd_cb fd_cb;
    /* timer */
    moni_tick_cb tick_cb;
    int64_t first_ns, period_ns; /* period 0 = one-shot */
    uint64_t ticks_done;         /* deadlines consumed so far */
    /* signal */
    moni_signal_cb sig_cb;
    void *arg;
};

struct moni_loop {
    int epfd;
    bool stop;
    struct watch **watches; /* index = id; pointers stay valid while callbacks run */
    size_t nwatches;
};

struct moni_loop *moni_loop_new(void)
{
    struct moni_loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    return l;
}

static void release(struct moni_loop *l, int id)
{
    struct watch *w = l->watches[id];
    if (!w || !w->in_use)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    if (w->kind != WATCH_FD)
        close(w->fd);
    w->in_use = false;
}

void moni_loop_free(struct moni_loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nwatches; i++) {
        release(l, (int)i);
        free(l->watches[i]);
    }
    free(l->watches);
    close(l->epfd);
    free(l);
}

/* Returns the id of a free slot (reusing released ones), or -1. */
static int new_watch(struct moni_loop *l)
{
    for (size_t i = 0; i < l->nwatches; i++)
        if (!l->watches[i]->in_use) {
            memset(l->watches[i], 0, sizeof *l->watches[i]);
            return (int)i;
        }
    struct watch **nw = realloc(l->watches, (l->nwatches + 1) * sizeof *nw);
    if (!nw)
        return -1;
    l->watches = nw;
    l->watches[l->nwatches] = calloc(1, sizeof **nw);
    if (!l->watches[l->nwatches])
        return -1;
    return (int)l->nwatches++;
}

static int add_watch(struct moni_loop *l, int id, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)id};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    l->watches[id]->fd = fd;
    l->watches[id]->in_use = true;
    return id;
}

int moni_loop_add_fd(struct moni_loop *l, int fd, uint32_t events, moni_fd_cb cb, void *arg)
{
    int id = new_watch(l);
    if (id < 0)
        return -1;
    struct watch *w = l->watches[id];
    w->kind = WATCH_FD;
    w->fd_cb = cb;
    w->arg = arg;
    return add_watch(l, id, fd, events);
}

static struct watch *find_fd(struct moni_loop *l, int fd, int *id)
{
    for (size_t i = 0; i < l->nwatches; i++) {
        struct watch *w = l->watches[i];
        if (w->in_use && w->kind == WATCH_FD && w->fd == fd) {
            if (id)
                *id = (int)i;
            return w;
        }
    }
    return NULL;
}

int moni_loop_mod_fd(struct moni_loop *l, int fd, uint32_t events)
{
    int id;
    if (!find_fd(l, fd, &id))
        return -1;
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)id};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void moni_loop_del_fd(struct moni_loop *l, int fd)
{
    int id;
    if (find_fd(l, fd, &id))
        release(l, id);
}

static int add_timer(struct moni_loop *l, int64_t first_ns, int64_t period_ns, moni_tick_cb cb,
                     void *arg)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0)
        return -1;
    struct itimerspec its = {
        .it_value = {.tv_sec = first_ns / MONI_NS_PER_SEC, .tv_nsec = first_ns % MONI_NS_PER_SEC},
        .it_interval = {.tv_sec = period_ns / MONI_NS_PER_SEC,
                        .tv_nsec = period_ns % MONI_NS_PER_SEC},
    };
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1; /* zero would disarm */
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        close(tfd);
        return -1;
    }
    int id = new_watch(l);
    if (id < 0) {
        close(tfd);
        return -1;
    }
    struct watch *w = l->watches[id];
    w->kind = WATCH_TIMER;
    w->tick_cb = cb;
    w->arg = arg;
    w->first_ns = first_ns;
    w->period_ns = period_ns;
    if (add_watch(l, id, tfd, EPOLLIN) < 0) {
        close(tfd);
        return -1;
    }
    return id;
}

int moni_loop_add_ticker(struct moni_loop *l, int64_t period_ns, int64_t first_ns,
                         moni_tick_cb cb, void *arg)
{
    if (period_ns <= 0)
        return -1;
    if (first_ns <= 0)
        first_ns = moni_mono_ns() + period_ns;
    return add_timer(l, first_ns, period_ns, cb, arg);
}

int moni_loop_add_timeout(struct moni_loop *l, int64_t at_mono_ns, moni_tick_cb cb, void *arg)
{
    return add_timer(l, at_mono_ns, 0, cb, arg);
}

void moni_loop_cancel_timer(struct moni_loop *l, int id)
{
    if (id < 0 || (size_t)id >= l->nwatches)
        return;
    if (l->watches[id]->kind == WATCH_TIMER)
        release(l, id);
}

int moni_loop_on_signals(struct moni_loop *l, const int *signos, size_t n, moni_signal_cb cb,
                         void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++)
        sigaddset(&set, signos[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        return -1;
    int id = new_watch(l);
    if (id < 0) {
        close(sfd);
        return -1;
    }
    struct watch *w = l->watches[id];
    w->kind = WATCH_SIGNAL;
    w->sig_cb = cb;
    w->arg = arg;
    if (add_watch(l, id, sfd, EPOLLIN) < 0) {
        close(sfd);
        return -1;
    }
    return id;
}

static void dispatch(struct moni_loop *l, int id, uint32_t events)
{
    struct watch *w = l->watches[id];
    if (!w->in_use)
        return;
    switch (w->kind) {
    case WATCH_FD:
        w->fd_cb(l, w->fd, events, w->arg);
        break;
    case WATCH_TIMER: {
        uint64_t expirations = 0;
        if (read(w->fd, &expirations, sizeof expirations) != sizeof expirations || !expirations)
            return;
        int64_t now = moni_mono_ns();
        if (w->period_ns == 0) {
            moni_tick_cb cb = w->tick_cb;
            void *arg = w->arg;
            int64_t deadline = w->first_ns;
            release(l, id); /* one-shot: free before the callback may add timers */
            cb(l, deadline, now, 0, arg);
            return;
        }
        /* The newest deadline due is the one this tick serves; the others were
         * missed.  expirations counts deadlines since the last read. */
        w->ticks_done += expirations;
        int64_t deadline = w->first_ns + (int64_t)(w->ticks_done - 1) * w->period_ns;
        w->tick_cb(l, deadline, now, expirations - 1, w->arg);
        break;
    }
    case WATCH_SIGNAL: {
        struct signalfd_siginfo si;
        while (read(w->fd, &si, sizeof si) == sizeof si) {
            w->sig_cb(l, (int)si.ssi_signo, w->arg);
            if (!w->in_use)
                break;
        }
        break;
    }
    }
}

int moni_loop_once(struct moni_loop *l, int timeout_ms)
{
    struct epoll_event evs[32];
    int n = epoll_wait(l->epfd, evs, (int)MONI_ARRAY_LEN(evs), timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n && !l->stop; i++) {
        uint32_t id = evs[i].data.u32;
        if (id < l->nwatches)
            dispatch(l, (int)id, evs[i].events);
    }
    return n;
}

int moni_loop_run(struct moni_loop *l)
{
    while (!l->stop)
        if (moni_loop_once(l, -1) < 0)
            return -1;
    return 0;
}

void moni_loop_stop(struct moni_loop *l)
{
    l->stop = true;
}

void moni_loop_resume(struct moni_loop *l)
{
    l->stop = false;
}

bool moni_loop_stopped(const struct moni_loop *l)
{
    return l->stop;
}
