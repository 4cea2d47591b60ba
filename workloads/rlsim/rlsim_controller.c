/* workloads/rlsim/rlsim_controller.c — the single controller: binds every port,
 * hosts the MetaServer, starts the scheduler and the workers (re-executing itself
 * with a role), drives the steps, and on failure runs the cleanup through the
 * scheduler API the way the real systems do. */
#include "workloads/rlsim/rlsim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc {
    enum rlsim_role role;
    int id, port, listen_fd, dead;
    pid_t pid;
    char name[40];
};

struct ctl {
    struct rlsim_config *cfg;
    struct proc sched;
    struct proc train[RLSIM_MAX_WORKERS], rollout[RLSIM_MAX_WORKERS];
    struct rlsim_meta *meta;
    int meta_port, meta_fd;
    char jobs[2][96];
    int njobs;
    int step;
    const char *stage;
    char failure[1500];
};

static volatile sig_atomic_t child_pids_n;
static pid_t child_pids[2 * RLSIM_MAX_WORKERS + 1];

static void on_term(int sig)
{
    for (int i = 0; i < child_pids_n; i++)
        if (child_pids[i] > 0)
            kill(child_pids[i], SIGTERM);
    _exit(128 + sig);
}

/* ---- processes ------------------------------------------------------------------ */

static int bind_port(const char *what, int port, int *fd_out)
{
    int fd = rlsim_listen(port);
    if (fd < 0) {
        fprintf(stderr, "moni-rlsim: cannot listen on 127.0.0.1:%d (%s): %s\n", port, what,
                strerror(errno));
        return -1;
    }
    *fd_out = fd;
    return 0;
}

static int spawn(struct ctl *c, struct proc *p, int argc, char **argv)
{
    char sid[16], sfd[16], smeta[16], ssched[16], speer[16], spid[16];
    snprintf(sid, sizeof sid, "%d", p->id);
    snprintf(sfd, sizeof sfd, "%d", p->listen_fd);
    snprintf(smeta, sizeof smeta, "%d", c->meta_port);
    snprintf(ssched, sizeof ssched, "%d", c->sched.port);
    int peer = 0;
    if (p->role == RLSIM_ROLLOUT && c->cfg->colocate)
        peer = c->train[p->id].port;
    snprintf(speer, sizeof speer, "%d", peer);
    snprintf(spid, sizeof spid, "%d", (int)getpid());
    char **av = calloc((size_t)argc + 20, sizeof *av);
    int n = 0;
    av[n++] = argv[0];
    for (int i = 1; i < argc; i++)
        av[n++] = argv[i];
    const char *extra[] = {"--role", rlsim_role_name(p->role), "--id", sid, "--listen-fd", sfd,
                           "--meta-actual", smeta, "--sched-actual", ssched, "--peer-port", speer,
                           "--controller-pid", spid};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        av[n++] = (char *)extra[i];
    av[n] = NULL;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(av);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        fcntl(p->listen_fd, F_SETFD, 0); /* the only fd the child keeps */
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execv("/proc/self/exe", av);
        _exit(127);
    }
    free(av);
    p->pid = pid;
    child_pids[child_pids_n] = pid;
    child_pids_n = child_pids_n + 1;
    return 0;
}

static const char *sig_name(int s)
{
    switch (s) {
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGINT: return "SIGINT";
    default: return "signal";
    }
}

/* Notices workers that died since the last look. */
static void reap(struct ctl *c)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        struct proc *p = NULL;
        if (c->sched.pid == pid)
            p = &c->sched;
        for (int i = 0; i < c->cfg->train_workers; i++)
            if (c->train[i].pid == pid)
                p = &c->train[i];
        for (int i = 0; i < c->cfg->rollout_workers; i++)
            if (c->rollout[i].pid == pid)
                p = &c->rollout[i];
        if (!p)
            continue;
        p->dead = 1;
        if (WIFSIGNALED(st))
            rlsim_log(RLSIM_ERROR, "worker %s (pid %d) exited unexpectedly: killed by %s (%d)",
                      p->name, (int)pid, sig_name(WTERMSIG(st)), WTERMSIG(st));
        else
            rlsim_log(RLSIM_ERROR, "worker %s (pid %d) exited unexpectedly with status %d", p->name,
                      (int)pid, WEXITSTATUS(st));
    }
}

/* ---- parallel calls ------------------------------------------------------------- */

struct call {
    struct proc *p;
    const char *method;
    char path[256];
    char *body;
    size_t len;
    long timeout;
    int rc, skip;
    struct rlsim_http_msg resp;
    pthread_t t;
};

static void *call_thread(void *arg)
{
    struct call *k = arg;
    k->rc = rlsim_http_call(k->p->port, k->method, k->path, k->body, k->len, k->timeout, &k->resp);
    return NULL;
}

static void run_calls(struct call *calls, int n)
{
    for (int i = 0; i < n; i++)
        if (!calls[i].skip && pthread_create(&calls[i].t, NULL, call_thread, &calls[i])) {
            calls[i].skip = 1;
            calls[i].rc = RLSIM_HTTP_REFUSED;
        }
    for (int i = 0; i < n; i++)
        if (!calls[i].skip)
            pthread_join(calls[i].t, NULL);
}

static void free_calls(struct call *calls, int n)
{
    for (int i = 0; i < n; i++) {
        rlsim_http_msg_free(&calls[i].resp);
        free(calls[i].body);
    }
}

/* First line of a worker's 500 body, or the requests-style transport error. */
static void call_error(struct call *k, char *buf, size_t len)
{
    char url[256];
    snprintf(url, sizeof url, "%.*s", (int)strcspn(k->path, "?"), k->path);
    if (k->rc) {
        rlsim_http_strerror(k->rc, k->p->port, url, k->timeout, buf, len);
        return;
    }
    const char *b = k->resp.body ? k->resp.body : "";
    size_t n = strcspn(b, "\n");
    snprintf(buf, len, "HTTP %d from %s: %.*s", k->resp.status, url, (int)n, b);
}

static void set_failure(struct ctl *c, const char *fmt, const char *a, const char *b)
{
    if (c->failure[0])
        return;
    snprintf(c->failure, sizeof c->failure, fmt, a, b);
}

/* ---- colocation events (fire-and-forget, no ACK) ------------------------------- */

struct event_send {
    struct ctl *c;
    struct proc *p;
    char ev[32];
    long delay_ms;
    int step;
};

static void *event_thread(void *arg)
{
    struct event_send *e = arg;
    struct rlsim_config *cfg = e->c->cfg;
    if (e->delay_ms >= cfg->event_timeout_ms) {
        rlsim_sleep_ms(cfg->event_timeout_ms);
        rlsim_log(RLSIM_WARNING, "event %s -> %s not sent within event timeout %.1fs; dropped "
                  "(fire-and-forget, no ACK, not retried)", e->ev, e->p->name,
                  cfg->event_timeout_ms / 1000.0);
        free(e);
        return NULL;
    }
    rlsim_sleep_ms(e->delay_ms);
    char path[96];
    snprintf(path, sizeof path, "/event/%s?step=%d", e->ev, e->step);
    struct rlsim_http_msg resp;
    int rc = rlsim_http_call(e->p->port, "POST", path, NULL, 0, cfg->event_timeout_ms, &resp);
    if (rc == 0)
        rlsim_http_msg_free(&resp);
    free(e);
    return NULL;
}

/* Without delay the request is written before returning, so it is queued ahead of
 * the calls that follow; the response is drained by a detached thread. */
static void send_event(struct ctl *c, struct proc *p, const char *ev, long delay_ms)
{
    struct event_send *e = calloc(1, sizeof *e);
    e->c = c;
    e->p = p;
    e->delay_ms = delay_ms;
    e->step = c->step;
    snprintf(e->ev, sizeof e->ev, "%s", ev);
    rlsim_log(RLSIM_INFO, "step %d event %s -> %s (no ACK)", c->step, ev, p->name);
    if (delay_ms <= 0) {
        struct rlsim_http_conn *conn = malloc(sizeof *conn);
        if (rlsim_http_connect(conn, p->port, c->cfg->event_timeout_ms) == 0) {
            char req[256];
            int n = snprintf(req, sizeof req,
                             "POST /event/%s?step=%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n", ev, c->step, p->port);
            if (write(conn->fd, req, (size_t)n) != n)
                rlsim_log(RLSIM_WARNING, "event %s -> %s: short write", ev, p->name);
        }
        rlsim_http_close(conn);
        free(conn);
        free(e);
        return;
    }
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &at, event_thread, e))
        free(e);
    pthread_attr_destroy(&at);
}

/* ---- stages --------------------------------------------------------------------- */

static void stage(struct ctl *c, const char *name)
{
    c->stage = name;
    reap(c);
    rlsim_log(RLSIM_INFO, "step %d stage=%s", c->step, name);
}

static int *g_batch;

/* Rollout gather: calls run in detached threads; a straggler that misses the
 * deadline is abandoned (its thread frees its own call when it finally returns). */
struct gather_call {
    struct call k;
    int done, abandoned;
    int64_t done_ms;
};
static pthread_mutex_t gather_mu = PTHREAD_MUTEX_INITIALIZER;

static void *gather_thread(void *arg)
{
    struct gather_call *g = arg;
    struct call *k = &g->k;
    k->rc = rlsim_http_call(k->p->port, k->method, k->path, NULL, 0, k->timeout, &k->resp);
    pthread_mutex_lock(&gather_mu);
    g->done = 1;
    int abandoned = g->abandoned;
    pthread_mutex_unlock(&gather_mu);
    if (abandoned) {
        rlsim_http_msg_free(&k->resp);
        free(g);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Deadline of the gather: --rollout-timeout, stretched to straggler-factor x the
 * median time of the workers already done, so a uniformly slow machine is waited
 * for while one worker far behind the others is dropped. */
static int64_t gather_deadline(struct rlsim_config *cfg, int64_t t0, struct gather_call **g, int m)
{
    int64_t el[RLSIM_MAX_WORKERS];
    int nd = 0;
    for (int j = 0; j < m; j++)
        if (g[j]->done)
            el[nd++] = g[j]->done_ms - t0;
    if (cfg->colocate) /* strict: every worker or the step fails (the call times out) */
        return INT64_MAX;
    if (cfg->straggler_factor <= 0)
        return t0 + cfg->rollout_timeout_ms;
    if (nd == 0)
        return INT64_MAX;
    qsort(el, (size_t)nd, sizeof *el, cmp_i64);
    int64_t stretched = (int64_t)(cfg->straggler_factor * (double)el[(nd - 1) / 2]);
    return t0 + (stretched > cfg->rollout_timeout_ms ? stretched : cfg->rollout_timeout_ms);
}

static int do_rollout(struct ctl *c, int *total)
{
    struct rlsim_config *cfg = c->cfg;
    int m = cfg->rollout_workers, per = cfg->batch_size / m;
    struct gather_call *g[RLSIM_MAX_WORKERS];
    stage(c, "rollout");
    int64_t t0 = rlsim_now_ms();
    if (cfg->colocate)
        for (int j = 0; j < m; j++)
            send_event(c, &c->rollout[j], "rollout_start",
                       (long)rlsim_ctl_num(cfg->control, "rollout_worker", j, "event_delay_ms",
                                           c->step, 0));
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    for (int j = 0; j < m; j++) {
        g[j] = calloc(1, sizeof *g[j]);
        struct call *k = &g[j]->k;
        k->p = &c->rollout[j];
        k->method = "POST";
        snprintf(k->path, sizeof k->path, "/generate?step=%d&n=%d", c->step, per);
        k->timeout = cfg->rpc_timeout_ms;
        k->skip = c->rollout[j].dead;
        pthread_t t;
        if (k->skip || pthread_create(&t, &at, gather_thread, g[j])) {
            k->skip = 1;
            g[j]->done = 1;
            g[j]->done_ms = t0;
        }
    }
    pthread_attr_destroy(&at);
    int64_t deadline;
    for (;;) {
        int ndone = 0;
        pthread_mutex_lock(&gather_mu);
        for (int j = 0; j < m; j++) {
            if (g[j]->done && !g[j]->done_ms)
                g[j]->done_ms = rlsim_now_ms();
            ndone += g[j]->done;
        }
        deadline = gather_deadline(cfg, t0, g, m);
        int stop = ndone == m || rlsim_now_ms() >= deadline;
        if (stop)
            for (int j = 0; j < m; j++)
                if (!g[j]->done)
                    g[j]->abandoned = 1;
        pthread_mutex_unlock(&gather_mu);
        if (stop)
            break;
        rlsim_sleep_ms(5);
    }
    reap(c);
    int n = 0, fatal = 0;
    char err[1400], missing[512] = "";
    long tokens = 0;
    for (int j = 0; j < m; j++) {
        struct call *k = &g[j]->k;
        if (g[j]->abandoned) {
            size_t ml = strlen(missing);
            snprintf(missing + ml, sizeof missing - ml, "%s%s", ml ? ", " : "", k->p->name);
            rlsim_log(RLSIM_WARNING, "%s did not deliver its rollout within %.1fs (rollout "
                      "timeout %.1fs, straggler factor %.1f): dropping its %d samples", k->p->name,
                      (deadline - t0) / 1000.0, cfg->rollout_timeout_ms / 1000.0,
                      cfg->straggler_factor, per);
            continue; /* the thread owns g[j] now */
        }
        if (!k->skip && !k->rc && k->resp.status == 200) {
            int got = rlsim_batch_parse(k->resp.body, g_batch + n, cfg->batch_size - n);
            if (got >= 0) {
                for (int i = 0; i < got; i++)
                    tokens += g_batch[n + i];
                n += got;
                rlsim_http_msg_free(&k->resp);
                free(g[j]);
                continue;
            }
        }
        if (k->skip)
            snprintf(err, sizeof err, "worker process is gone");
        else
            call_error(k, err, sizeof err);
        size_t ml = strlen(missing);
        snprintf(missing + ml, sizeof missing - ml, "%s%s", ml ? ", " : "", k->p->name);
        if (cfg->colocate || (!k->rc && !k->skip)) {
            rlsim_log(RLSIM_ERROR, "InferenceEngineError: generate failed on %s: %s", k->p->name, err);
            set_failure(c, "InferenceEngineError: generate failed on %s: %s", k->p->name, err);
            fatal = 1;
        } else {
            rlsim_log(RLSIM_WARNING, "%s did not deliver its rollout: %s; dropping its %d samples",
                      k->p->name, err, per);
        }
        rlsim_http_msg_free(&k->resp);
        free(g[j]);
    }
    if (cfg->colocate && !fatal)
        for (int j = 0; j < m; j++)
            send_event(c, &c->rollout[j], "rollout_end", 0);
    if (fatal)
        return -1;
    if (n < cfg->batch_size)
        rlsim_log(RLSIM_WARNING, "step %d gathered %d of %d samples (missing: %s)", c->step, n,
                  cfg->batch_size, missing);
    rlsim_log(RLSIM_INFO, "step %d rollout done: %d samples, %ld tokens, %.2fs", c->step, n,
              tokens, (rlsim_now_ms() - t0) / 1000.0);
    *total = n;
    return 0;
}

static int do_train(struct ctl *c, int total)
{
    struct rlsim_config *cfg = c->cfg;
    int nt = cfg->train_workers, per = cfg->batch_size / nt;
    struct rlsim_share shares[RLSIM_MAX_WORKERS];
    struct call calls[RLSIM_MAX_WORKERS];
    memset(calls, 0, sizeof calls);
    stage(c, "train");
    rlsim_batch_split(total, nt, per, shares);
    for (int k = 0; k < nt; k++) {
        size_t cap = (size_t)shares[k].count * 8 + 64;
        calls[k].p = &c->train[k];
        calls[k].method = "POST";
        calls[k].body = malloc(cap);
        rlsim_batch_format(g_batch + shares[k].start, shares[k].count, calls[k].body, cap);
        calls[k].len = strlen(calls[k].body);
        snprintf(calls[k].path, sizeof calls[k].path, "/train?step=%d&expected=%d", c->step, per);
        calls[k].timeout = cfg->rpc_timeout_ms;
        calls[k].skip = c->train[k].dead;
        if (shares[k].count != per)
            rlsim_log(RLSIM_WARNING, "step %d batch share for %s has %d samples, expected %d",
                      c->step, c->train[k].name, shares[k].count, per);
    }
    run_calls(calls, nt);
    reap(c);
    int fail = 0;
    double loss = 0;
    char err[1400];
    for (int k = 0; k < nt; k++) {
        struct call *x = &calls[k];
        if (!x->skip && !x->rc && x->resp.status == 200) {
            loss += strtod(x->resp.body + 5, NULL) / nt;
            continue;
        }
        if (x->skip)
            snprintf(err, sizeof err, "worker process is gone");
        else
            call_error(x, err, sizeof err);
        rlsim_log(RLSIM_ERROR, "TrainEngineError: train_batch failed on %s: %s", x->p->name, err);
        set_failure(c, "TrainEngineError: train_batch failed on %s: %s", x->p->name, err);
        fail = 1;
    }
    free_calls(calls, nt);
    if (!fail)
        rlsim_log(RLSIM_INFO, "step %d train done: loss=%.4f", c->step, loss);
    return fail ? -1 : 0;
}

static int do_weight_update(struct ctl *c)
{
    struct rlsim_config *cfg = c->cfg;
    int nt = cfg->train_workers, m = cfg->rollout_workers, n = 0;
    struct call calls[2 * RLSIM_MAX_WORKERS];
    memset(calls, 0, sizeof calls);
    stage(c, "weight_update");
    int64_t t0 = rlsim_now_ms();
    /* rollout side first: that is where a stalled sync surfaces */
    for (int j = 0; j < m; j++, n++) {
        calls[n].p = &c->rollout[j];
        calls[n].method = "POST";
        snprintf(calls[n].path, sizeof calls[n].path, "/update_weights?step=%d&mode=%s", c->step,
                 cfg->disk_sync ? "disk" : "meta");
        calls[n].timeout = cfg->rpc_timeout_ms;
        calls[n].skip = c->rollout[j].dead;
    }
    if (!cfg->disk_sync)
        for (int k = 0; k < nt; k++, n++) {
            calls[n].p = &c->train[k];
            calls[n].method = "POST";
            snprintf(calls[n].path, sizeof calls[n].path, "/update_weights?step=%d", c->step);
            calls[n].timeout = cfg->rpc_timeout_ms;
            calls[n].skip = c->train[k].dead;
        }
    run_calls(calls, n);
    reap(c);
    int fail = 0;
    char err[1400];
    for (int i = 0; i < n; i++) {
        struct call *x = &calls[i];
        if (!x->skip && !x->rc && x->resp.status == 200)
            continue;
        if (x->skip)
            snprintf(err, sizeof err, "worker process is gone");
        else
            call_error(x, err, sizeof err);
        const char *type = x->p->role == RLSIM_ROLLOUT ? "InferenceEngineError" : "TrainEngineError";
        rlsim_log(RLSIM_ERROR, "%s: update_weights failed on %s: %s", type, x->p->name, err);
        if (x->p->role == RLSIM_ROLLOUT)
            set_failure(c, "InferenceEngineError: update_weights failed on %s: %s", x->p->name, err);
        else
            set_failure(c, "TrainEngineError: update_weights failed on %s: %s", x->p->name, err);
        fail = 1;
    }
    free_calls(calls, n);
    if (!fail)
        rlsim_log(RLSIM_INFO, "step %d weight update done (%s, %.2fs)", c->step,
                  cfg->disk_sync ? "disk: checkpoint of previous step" : "MetaServer",
                  (rlsim_now_ms() - t0) / 1000.0);
    return fail ? -1 : 0;
}

static int do_checkpoint(struct ctl *c)
{
    struct rlsim_config *cfg = c->cfg;
    int nt = cfg->train_workers;
    struct call calls[RLSIM_MAX_WORKERS];
    memset(calls, 0, sizeof calls);
    stage(c, "checkpoint");
    for (int k = 0; k < nt; k++) {
        calls[k].p = &c->train[k];
        calls[k].method = "POST";
        snprintf(calls[k].path, sizeof calls[k].path, "/save_checkpoint?step=%d", c->step);
        calls[k].timeout = cfg->rpc_timeout_ms;
        calls[k].skip = c->train[k].dead;
    }
    run_calls(calls, nt);
    int fail = 0;
    char err[1400];
    for (int k = 0; k < nt; k++) {
        struct call *x = &calls[k];
        if (!x->skip && !x->rc && x->resp.status == 200)
            continue;
        call_error(x, err, sizeof err);
        rlsim_log(RLSIM_ERROR, "TrainEngineError: save_checkpoint failed on %s: %s", x->p->name, err);
        set_failure(c, "TrainEngineError: save_checkpoint failed on %s: %s", x->p->name, err);
        fail = 1;
    }
    free_calls(calls, nt);
    if (!fail)
        rlsim_log(RLSIM_INFO, "step %d checkpoint saved ckpt_%s (%d ranks)", c->step,
                  c->step % 2 ? "odd" : "even", nt);
    return fail ? -1 : 0;
}

/* ---- cleanup -------------------------------------------------------------------- */

static int sched_port(struct ctl *c)
{
    return c->cfg->sched_port_for_controller ? c->cfg->sched_port_for_controller : c->sched.port;
}

static void stop_jobs(struct ctl *c)
{
    rlsim_log(RLSIM_INFO, "cleanup: stopping %d jobs via scheduler 127.0.0.1:%d", c->njobs,
              sched_port(c));
    for (int i = 0; i < c->njobs; i++) {
        char path[200];
        struct rlsim_http_msg resp;
        snprintf(path, sizeof path, "/v1/jobs/%s/stop?step=%d", c->jobs[i], c->step);
        int rc = rlsim_http_call(sched_port(c), "POST", path, NULL, 0, c->cfg->scheduler_timeout_ms,
                                 &resp);
        if (rc == RLSIM_HTTP_TIMEOUT || rc == RLSIM_HTTP_CONNECT_TIMEOUT)
            rlsim_log(RLSIM_ERROR, "Error stopping job %s: Request timeout", c->jobs[i]);
        else if (rc == RLSIM_HTTP_REFUSED)
            rlsim_log(RLSIM_ERROR, "Error stopping job %s: Connection refused", c->jobs[i]);
        else if (rc)
            rlsim_log(RLSIM_ERROR, "Error stopping job %s: Connection aborted", c->jobs[i]);
        else if (resp.status != 200)
            rlsim_log(RLSIM_ERROR, "Error stopping job %s: HTTP %d", c->jobs[i], resp.status);
        else
            rlsim_log(RLSIM_INFO, "job %s stopped", c->jobs[i]);
        rlsim_http_msg_free(&resp);
    }
}

static void kill_all(struct ctl *c)
{
    for (int i = 0; i < child_pids_n; i++)
        if (child_pids[i] > 0)
            kill(child_pids[i], SIGTERM);
    int64_t end = rlsim_now_ms() + 2000;
    for (int i = 0; i < child_pids_n; i++) {
        while (child_pids[i] > 0) {
            pid_t r = waitpid(child_pids[i], NULL, WNOHANG);
            if (r == child_pids[i] || (r < 0 && errno == ECHILD))
                break;
            if (rlsim_now_ms() > end) {
                kill(child_pids[i], SIGKILL);
                waitpid(child_pids[i], NULL, 0);
                break;
            }
            rlsim_sleep_ms(10);
        }
        child_pids[i] = 0;
    }
    (void)c;
}

/* ---- main ----------------------------------------------------------------------- */

static int mkdir_p(const char *path)
{
    char buf[RLSIM_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    if (mkdir(buf, 0755) && errno != EEXIST)
        return -1;
    return 0;
}

static int health(struct proc *p)
{
    int64_t end = rlsim_now_ms() + 10000;
    while (rlsim_now_ms() < end) {
        struct rlsim_http_msg resp;
        int rc = rlsim_http_call(p->port, "GET", "/health", NULL, 0, 2000, &resp);
        int ok = rc == 0 && resp.status == 200;
        rlsim_http_msg_free(&resp);
        if (ok)
            return 0;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->dead = 1;
            return -1;
        }
        rlsim_sleep_ms(50);
    }
    return -1;
}

static int port_for(struct rlsim_config *cfg, int offset)
{
    return cfg->base_port ? cfg->base_port + offset : 0;
}

static void name_proc(struct proc *p, enum rlsim_role role, int id, const char *what)
{
    p->role = role;
    p->id = id;
    snprintf(p->name, sizeof p->name, "%s_%d", what, id);
}

/* Every port first: a collision is one clear line and exit 2, before any fork. */
static int bind_ports(struct ctl *c)
{
    struct rlsim_config *cfg = c->cfg;
    int nt = cfg->train_workers, m = cfg->rollout_workers;
    c->meta_fd = c->sched.listen_fd = -1;
    for (int k = 0; k < RLSIM_MAX_WORKERS; k++)
        c->train[k].listen_fd = c->rollout[k].listen_fd = -1;
    c->sched.role = RLSIM_SCHEDULER;
    snprintf(c->sched.name, sizeof c->sched.name, "scheduler");
    if (bind_port("metaserver", cfg->meta_port >= 0 ? cfg->meta_port : port_for(cfg, 0), &c->meta_fd) ||
        bind_port("scheduler", cfg->sched_port >= 0 ? cfg->sched_port : port_for(cfg, 1),
                  &c->sched.listen_fd))
        return -1;
    for (int k = 0; k < nt; k++) {
        struct proc *p = &c->train[k];
        name_proc(p, RLSIM_TRAIN, k, "train_worker");
        if (bind_port(p->name, port_for(cfg, 2 + k), &p->listen_fd))
            return -1;
        p->port = rlsim_socket_port(p->listen_fd);
    }
    for (int j = 0; j < m; j++) {
        struct proc *p = &c->rollout[j];
        name_proc(p, RLSIM_ROLLOUT, j, "rollout_worker");
        if (bind_port(p->name, port_for(cfg, 2 + nt + j), &p->listen_fd))
            return -1;
        p->port = rlsim_socket_port(p->listen_fd);
    }
    c->meta_port = rlsim_socket_port(c->meta_fd);
    c->sched.port = rlsim_socket_port(c->sched.listen_fd);
    return 0;
}

/* Closes what bind_ports opened (when the run does not start). */
static void close_ports(struct ctl *c)
{
    if (c->meta_fd >= 0)
        close(c->meta_fd);
    if (c->sched.listen_fd >= 0)
        close(c->sched.listen_fd);
    for (int k = 0; k < RLSIM_MAX_WORKERS; k++) {
        if (c->train[k].listen_fd >= 0)
            close(c->train[k].listen_fd);
        if (c->rollout[k].listen_fd >= 0)
            close(c->rollout[k].listen_fd);
    }
}

/* The log and checkpoint directories and controller.log. */
static int open_logs(const struct rlsim_config *cfg)
{
    if (mkdir_p(cfg->log_dir) || mkdir_p(cfg->ckpt_dir)) {
        fprintf(stderr, "moni-rlsim: cannot create %s: %s\n", cfg->log_dir, strerror(errno));
        return -1;
    }
    if (rlsim_log_open(cfg->log_dir, "controller", 1)) {
        fprintf(stderr, "moni-rlsim: cannot write %s/controller.log: %s\n", cfg->log_dir,
                strerror(errno));
        return -1;
    }
    return 0;
}

static void log_config(const struct rlsim_config *cfg)
{
    rlsim_log(RLSIM_INFO, "controller pid=%d: %d train workers, %d rollout workers, %d steps, "
              "batch %d, weight sync %s%s, time scale %.3g", (int)getpid(), cfg->train_workers,
              cfg->rollout_workers, cfg->steps, cfg->batch_size, cfg->disk_sync ? "disk" : "meta",
              cfg->colocate ? ", colocated" : "", cfg->time_scale);
    rlsim_log(RLSIM_INFO, "timeouts: request %.1fs, rpc %.1fs, rollout %.1fs, scheduler %.1fs, "
              "event %.1fs, gpu lock %.1fs, checkpoint %.1fs", cfg->request_timeout_ms / 1e3,
              cfg->rpc_timeout_ms / 1e3, cfg->rollout_timeout_ms / 1e3,
              cfg->scheduler_timeout_ms / 1e3, cfg->event_timeout_ms / 1e3,
              cfg->gpu_lock_timeout_ms / 1e3, cfg->ckpt_timeout_ms / 1e3);
    if (cfg->control[0])
        rlsim_log(RLSIM_INFO, "control file %s%s", cfg->control,
                  access(cfg->control, R_OK) ? " (not present yet)" : "");
}

/* Starts the scheduler and the workers; the children own their listening sockets
 * from then on.  -1 (c->failure set) when the scheduler cannot be started. */
static int spawn_all(struct ctl *c, int argc, char **argv)
{
    struct rlsim_config *cfg = c->cfg;
    int nt = cfg->train_workers, m = cfg->rollout_workers;
    if (spawn(c, &c->sched, argc, argv)) {
        snprintf(c->failure, sizeof c->failure, "RuntimeError: fork failed: %s", strerror(errno));
        return -1;
    }
    rlsim_log(RLSIM_INFO, "worker scheduler pid=%d port=%d", (int)c->sched.pid, c->sched.port);
    for (int k = 0; k < nt; k++)
        if (!spawn(c, &c->train[k], argc, argv))
            rlsim_log(RLSIM_INFO, "worker %s pid=%d port=%d metaserver_port=%d", c->train[k].name,
                      (int)c->train[k].pid, c->train[k].port,
                      cfg->train_meta_port[k] ? cfg->train_meta_port[k] : c->meta_port);
    for (int j = 0; j < m; j++)
        if (!spawn(c, &c->rollout[j], argc, argv))
            rlsim_log(RLSIM_INFO, "worker %s pid=%d port=%d metaserver_port=%d", c->rollout[j].name,
                      (int)c->rollout[j].pid, c->rollout[j].port,
                      cfg->rollout_meta_port[j] ? cfg->rollout_meta_port[j] : c->meta_port);
    close(c->sched.listen_fd);
    for (int k = 0; k < nt; k++)
        close(c->train[k].listen_fd);
    for (int j = 0; j < m; j++)
        close(c->rollout[j].listen_fd);
    return 0;
}

/* Every process answers /health; -1 (c->failure set) for the first that does not. */
static int wait_ready(struct ctl *c)
{
    struct proc *all[2 * RLSIM_MAX_WORKERS + 1];
    int na = 0;
    all[na++] = &c->sched;
    for (int k = 0; k < c->cfg->train_workers; k++)
        all[na++] = &c->train[k];
    for (int j = 0; j < c->cfg->rollout_workers; j++)
        all[na++] = &c->rollout[j];
    for (int i = 0; i < na; i++)
        if (!all[i]->pid || health(all[i])) {
            snprintf(c->failure, sizeof c->failure, "RuntimeError: %s did not become ready",
                     all[i]->name);
            rlsim_log(RLSIM_ERROR, "%s", c->failure);
            return -1;
        }
    return 0;
}

/* Job ids are the controller's; submission goes to the scheduler directly (the
 * --scheduler-port-for-controller path is for the cleanup calls). */
static void submit_jobs(struct ctl *c)
{
    const char *groups[2] = {"train", "rollout"};
    for (int g = 0; g < 2; g++) {
        char path[96];
        struct rlsim_http_msg resp;
        snprintf(c->jobs[c->njobs++], sizeof c->jobs[0], "rlsim-%s-%d", groups[g], (int)getpid());
        snprintf(path, sizeof path, "/v1/jobs?name=%s", groups[g]);
        int r = rlsim_http_call(c->sched.port, "POST", path, NULL, 0, c->cfg->scheduler_timeout_ms,
                                &resp);
        if (r == 0 && resp.status == 200)
            rlsim_log(RLSIM_INFO, "scheduler: job %s submitted", c->jobs[g]);
        else
            rlsim_log(RLSIM_WARNING, "scheduler: submitting job %s failed (rc=%d)", c->jobs[g], r);
        rlsim_http_msg_free(&resp);
    }
}

/* The steps, until the last or the first failure; 0 when all completed. */
static int run_steps(struct ctl *c)
{
    struct rlsim_config *cfg = c->cfg;
    int64_t t_start = rlsim_now_ms();
    for (c->step = 1; c->step <= cfg->steps; c->step++) {
        int64_t t0 = rlsim_now_ms();
        int total = 0;
        if (rlsim_ctl_num(cfg->control, "controller", -1, "abort", c->step, 0) > 0) {
            snprintf(c->failure, sizeof c->failure, "RuntimeError: aborted by control file");
            rlsim_log(RLSIM_ERROR, "%s", c->failure);
            break;
        }
        if (do_rollout(c, &total) || do_train(c, total) || do_weight_update(c) || do_checkpoint(c))
            break;
        rlsim_log(RLSIM_INFO, "step %d done in %.2fs", c->step, (rlsim_now_ms() - t0) / 1000.0);
    }
    if (c->failure[0])
        return 1;
    c->stage = "done";
    rlsim_log(RLSIM_INFO, "pipeline completed: %d steps in %.2fs", cfg->steps,
              (rlsim_now_ms() - t_start) / 1000.0);
    return 0;
}

/* Reports the outcome, stops the jobs and the processes, frees c; returns rc. */
static int finish(struct ctl *c, int rc)
{
    if (rc) {
        if (!c->failure[0])
            snprintf(c->failure, sizeof c->failure, "RuntimeError: pipeline failed");
        rlsim_log(RLSIM_ERROR, "FrameworkError: step %d failed at stage=%s: %s", c->step, c->stage,
                  c->failure);
    }
    stop_jobs(c);
    kill_all(c);
    if (rc)
        printf("moni-rlsim: FAILED at step %d stage=%s: %s\n", c->step, c->stage, c->failure);
    else
        printf("moni-rlsim: OK: %d steps completed\n", c->cfg->steps);
    fflush(stdout);
    rlsim_meta_free(c->meta);
    free(g_batch);
    g_batch = NULL;
    free(c);
    return rc;
}

int rlsim_run_controller(struct rlsim_config *cfg, int argc, char **argv)
{
    struct ctl *c = calloc(1, sizeof *c);
    c->cfg = cfg;
    if (bind_ports(c) || open_logs(cfg)) {
        close_ports(c);
        free(c);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    g_batch = calloc((size_t)cfg->batch_size + 1, sizeof *g_batch);
    log_config(cfg);
    c->meta = rlsim_meta_new();
    rlsim_meta_serve(c->meta, c->meta_fd);
    rlsim_log(RLSIM_INFO, "metaserver listening on 127.0.0.1:%d", c->meta_port);
    int rc = 1;
    c->step = 0;
    c->stage = "startup";
    if (spawn_all(c, argc, argv) == 0 && wait_ready(c) == 0) {
        submit_jobs(c);
        rlsim_log(RLSIM_INFO, "all %d workers ready", cfg->train_workers + cfg->rollout_workers);
        rc = run_steps(c);
    }
    return finish(c, rc);
}
