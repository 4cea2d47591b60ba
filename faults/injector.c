/* faults/injector.c — the lifecycle engine: arm, fire, poll (effects, windows, the hard
 * maximum), stop and revert, each transition journalled to faults.jsonl with both
 * clocks and fsync'd before moni relies on it; the guardian holds the undo list. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

#define DEFAULT_MAX_NS (10 * 60 * MONI_NS_PER_SEC)
#define DEFAULT_MEM_HEADROOM (512ull << 20)
#define DEFAULT_DISK_CEILING 99.0
/* Faults armed or firing at once; past it a new fault is refused (the guardian keeps
 * the undo items of every one, and a fault must never run without them). */
#define MAX_ACTIVE_FAULTS 4096
#define HEARTBEAT_NS (200 * MONI_NS_PER_MS)

struct injector {
    char journal_path[PATH_MAX];
    int jfd;
    char session[64];
    pid_t workload;
    int64_t max_ns;
    uint64_t mem_headroom;
    double disk_ceiling;
    injector_event_cb cb;
    void *cb_arg;
    struct fault **faults;
    size_t n, cap;
    int next_id;
    struct injector_stats st;
    struct guardian guard;
    int64_t last_heartbeat;
    bool no_guardian; /* it died and could not be restarted: nothing fires */
    char id_prefix[8]; /* before "fN" (a cluster fault sent from another node) */
};

/* ---- context for kinds ------------------------------------------------------------- */
const char *fault_session_id(const struct fault *f) { return f->inj->session; }
uint64_t fault_mem_headroom(const struct fault *f) { return f->inj->mem_headroom; }
double fault_disk_ceiling(const struct fault *f) { return f->inj->disk_ceiling; }
pid_t fault_workload_pid(const struct fault *f) { return f->inj->workload; }

static pid_t proc_tgid(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *st = moni_read_file(path, NULL);
    const char *t = st ? strstr(st, "\nTgid:") : NULL;
    pid_t tgid = t ? (pid_t)atoi(t + 6) : 0;
    free(st);
    return tgid;
}

/* What pid is when it is moni's or its guardian's (the process or any of its
 * threads), else NULL. */
static const char *pid_of_ours(const struct injector *inj, pid_t pid)
{
    pid_t self = getpid(), guard = inj->guard.pid;
    if (pid == self)
        return "moni itself";
    if (guard > 0 && pid == guard)
        return "moni's guardian";
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d", (int)self, (int)pid);
    pid_t tgid = proc_tgid(pid);
    if (access(path, F_OK) == 0 || tgid == self)
        return "a thread of moni";
    snprintf(path, sizeof path, "/proc/%d/task/%d", (int)guard, (int)pid);
    if (guard > 0 && (access(path, F_OK) == 0 || tgid == guard))
        return "a thread of moni's guardian";
    return NULL;
}

pid_t fault_target_pid_named(const struct fault *f, char *err, size_t errlen)
{
    if (!fault_given(f, "name"))
        return f->target.pid;
    pid_t pid = fault_proc_find_name(f->target.pid, fault_str(f, "name"));
    if (pid > 0 && pid_of_ours(f->inj, pid)) {
        snprintf(err, errlen, "name=%s: pid %d is %s; refusing", fault_str(f, "name"), (int)pid,
                 pid_of_ours(f->inj, pid));
        return -1;
    }
    if (pid <= 0) {
        snprintf(err, errlen, "name=%s: no such process in the tree of pid %d",
                 fault_str(f, "name"), (int)f->target.pid);
        return -1;
    }
    return pid;
}

void fault_release_priv(struct fault *f)
{
    free(f->priv);
    f->priv = NULL;
}

/* ---- journal -------------------------------------------------------------------------- */
static void target_text(const struct fault *f, char *buf, size_t len)
{
    buf[0] = 0;
    unsigned t = f->ops->targets;
    if ((t & FAULT_TGT_PID) && f->target.pid > 0)
        snprintf(buf, len, "pid:%d", (int)f->target.pid);
    else if ((t & FAULT_TGT_PORT) && f->target.port > 0)
        snprintf(buf, len, "port:%d", f->target.port);
    else if ((t & FAULT_TGT_PATH) && f->target.path[0])
        snprintf(buf, len, "path:%s", f->target.path);
}

static void params_text(const struct fault *f, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < f->ops->nparams && used < len; i++) {
        if (!f->p.v[i].given)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "",
                                 f->ops->params[i].key, f->p.v[i].str);
    }
    for (size_t i = 0; i < f->p.nextra && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "",
                                 f->p.extra[i].key, f->p.extra[i].val);
}

/* A journal line that could not be written (disk full): counted, so the runner ends
 * the run on it (injector_stats), and said. */
static void journal_failed(struct injector *inj)
{
    int e = errno;
    inj->st.journal_errors++;
    moni_warn("faults journal %s: %s", inj->journal_path, strerror(e));
}

static void fill_info(const struct fault *f, struct fault_info *fi)
{
    memset(fi, 0, sizeof *fi);
    fi->id = f->id;
    snprintf(fi->id_str, sizeof fi->id_str, "%s", f->id_str);
    fi->ops = f->ops;
    fi->state = f->state;
    fi->effective = f->effective;
    target_text(f, fi->target, sizeof fi->target);
    params_text(f, fi->params, sizeof fi->params);
    snprintf(fi->mode, sizeof fi->mode, "%s", f->mode);
    fi->armed_ns = f->armed_ns;
    fi->fired_ns = f->fired_ns;
    fi->effective_ns = f->effective_ns;
    fi->stopped_ns = f->stopped_ns;
    fi->reverted_ns = f->reverted_ns;
    fi->for_ns = f->for_ns;
    fi->remaining_ns = -1;
    if (f->state == FAULT_FIRING) {
        int64_t end = f->fired_ns + (f->for_ns > 0 && f->for_ns < f->max_ns ? f->for_ns : f->max_ns);
        fi->remaining_ns = end - moni_mono_ns();
        if (fi->remaining_ns < 0)
            fi->remaining_ns = 0;
    }
    fi->requested_dose = f->requested;
    fi->delivered_dose = f->delivered;
    fi->delivered_valid = f->delivered_valid;
    fi->dose_unit = f->ops->dose_unit;
    snprintf(fi->error, sizeof fi->error, "%s", f->error);
}

char *fault_journal_line(const cJSON *o, int64_t real_ns, int64_t mono_ns, size_t *len)
{
    char *body = cJSON_PrintUnformatted(o);
    if (!body)
        return NULL;
    /* The clocks go first, written by hand: mono_ns does not fit a double. */
    char iso[MONI_ISO_LEN], head[160];
    moni_fmt_iso(real_ns, iso, sizeof iso);
    int hl = snprintf(head, sizeof head, "{\"timestamp\":\"%s\",\"mono_ns\":%lld,", iso,
                      (long long)mono_ns);
    size_t bl = strlen(body);
    char *line = malloc((size_t)hl + bl + 2);
    if (line) {
        memcpy(line, head, (size_t)hl);
        memcpy(line + hl, body + 1, bl - 1); /* drop the '{' */
        line[hl + bl - 1] = '\n';
        line[hl + bl] = 0;
        *len = (size_t)hl + bl;
    }
    free(body);
    return line;
}

/* write false: the guardian wrote this transition; only the listener hears it. */
static void journal_to(struct injector *inj, struct fault *f, enum fault_event ev,
                       struct moni_stamp t, const char *reason, bool write)
{
    char tgt[600];
    target_text(f, tgt, sizeof tgt);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", fault_event_name(ev));
    cJSON_AddStringToObject(o, "fault_id", f->id_str);
    cJSON_AddStringToObject(o, "session", inj->session);
    cJSON_AddStringToObject(o, "kind", f->ops->name);
    cJSON_AddStringToObject(o, "label_kind", f->ops->label_kind);
    cJSON_AddStringToObject(o, "target", tgt);
    if (f->mode[0])
        cJSON_AddStringToObject(o, "mode", f->mode);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    for (size_t i = 0; i < f->ops->nparams; i++)
        if (f->p.v[i].set)
            cJSON_AddStringToObject(params, f->ops->params[i].key, f->p.v[i].str);
    for (size_t i = 0; i < f->p.nextra; i++)
        cJSON_AddStringToObject(params, f->p.extra[i].key, f->p.extra[i].val);
    if (f->for_ns > 0)
        cJSON_AddNumberToObject(o, "for_s", (double)f->for_ns / 1e9);
    cJSON_AddNumberToObject(o, "max_s", (double)f->max_ns / 1e9);
    cJSON_AddNumberToObject(o, "requested_dose", f->requested);
    if (f->delivered_valid)
        cJSON_AddNumberToObject(o, "delivered_dose", f->delivered);
    else
        cJSON_AddNullToObject(o, "delivered_dose");
    cJSON_AddStringToObject(o, "dose_unit", f->ops->dose_unit);
    if (reason && *reason)
        cJSON_AddStringToObject(o, "reason", reason);
    if (ev == FAULT_EV_EFFECTIVE && f->effect_detail[0])
        cJSON_AddStringToObject(o, "effect", f->effect_detail);
    if (ev == FAULT_EV_EFFECTIVE || ev == FAULT_EV_STOPPED || ev == FAULT_EV_REVERTED) {
        if (f->fired_ns && f->effective_ns)
            cJSON_AddNumberToObject(o, "fire_to_effective_ms",
                                    (double)(f->effective_ns - f->fired_ns) / 1e6);
    }
    if (f->ops->describe) {
        cJSON *d = cJSON_AddObjectToObject(o, "details");
        f->ops->describe(f, d);
    }
    cJSON_AddStringToObject(o, "by", write ? "moni" : "guardian");
    size_t len;
    char *line = fault_journal_line(o, t.real_ns, t.mono_ns, &len);
    cJSON_Delete(o);
    if (!line)
        return;
    if (inj->jfd >= 0 && write) {
        if (moni_write_all(inj->jfd, line, len) != 0 || fsync(inj->jfd) != 0)
            journal_failed(inj);
    }
    if (inj->cb) {
        struct fault_info fi;
        fill_info(f, &fi);
        line[len - 1] = 0;
        inj->cb(inj, &fi, ev, line, inj->cb_arg);
    }
    free(line);
}

static void journal(struct injector *inj, struct fault *f, enum fault_event ev,
                    struct moni_stamp t, const char *reason)
{
    journal_to(inj, f, ev, t, reason, true);
}

/* ---- injector --------------------------------------------------------------------------- */
struct injector *injector_new(const char *journal_path, const char *session_id, char *err,
                              size_t errlen)
{
    moni_clock_init();
    struct injector *inj = calloc(1, sizeof *inj);
    if (!inj) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    inj->jfd = -1;
    inj->guard.state_fd = -1;
    inj->max_ns = DEFAULT_MAX_NS;
    inj->mem_headroom = DEFAULT_MEM_HEADROOM;
    inj->disk_ceiling = DEFAULT_DISK_CEILING;
    if (session_id && *session_id)
        snprintf(inj->session, sizeof inj->session, "%s", session_id);
    else {
        struct moni_stamp t = moni_now();
        snprintf(inj->session, sizeof inj->session, "%lld-%d",
                 (long long)(t.real_ns / MONI_NS_PER_SEC), (int)getpid());
    }
    for (char *c = inj->session; *c; c++) /* it names files */
        if (*c == '/' || *c == '\t' || *c == '\n' || *c == ' ')
            *c = '_';
    if (journal_path && *journal_path) {
        snprintf(inj->journal_path, sizeof inj->journal_path, "%s", journal_path);
        /* never blocks on a FIFO planted in its place, and refuses one */
        inj->jfd = open(journal_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK,
                        0644);
        struct stat st;
        if (inj->jfd >= 0 && (fstat(inj->jfd, &st) != 0 || !S_ISREG(st.st_mode))) {
            close(inj->jfd);
            inj->jfd = -1;
            errno = EINVAL;
        }
        if (inj->jfd < 0) {
            snprintf(err, errlen, "%s: %s", journal_path,
                     errno == EINVAL ? "not a regular file" : strerror(errno));
            free(inj);
            return NULL;
        }
    }
    guardian_warn_leftovers();
    return inj;
}

static struct fault *find(const struct injector *inj, int id)
{
    for (size_t i = 0; i < inj->n; i++)
        if (inj->faults[i]->id == id)
            return inj->faults[i];
    return NULL;
}

static bool active(const struct fault *f)
{
    return f->state == FAULT_ARMED || f->state == FAULT_FIRING;
}

static void set_effective(struct injector *inj, struct fault *f, const char *detail);

static void do_stop(struct injector *inj, struct fault *f, const char *reason)
{
    if (!active(f))
        return;
    if (f->ops->check_at_stop && f->state == FAULT_FIRING && !f->effective &&
        f->ops->check(f, moni_mono_ns()) == FAULT_CHECK_EFFECTIVE)
        set_effective(inj, f, NULL);
    if (f->ops->stop)
        f->ops->stop(f);
    struct moni_stamp t = moni_now();
    f->stopped_ns = t.mono_ns;
    f->state = FAULT_STOPPED;
    journal(inj, f, FAULT_EV_STOPPED, t, reason);
    char err[256] = "";
    int rc = f->ops->revert ? f->ops->revert(f, err, sizeof err) : 0;
    t = moni_now();
    if (rc != 0) {
        snprintf(f->error, sizeof f->error, "revert: %s", err);
        f->state = FAULT_FAILED;
        inj->st.failed++;
        journal(inj, f, FAULT_EV_FAILED, t, f->error);
        return; /* the guardian keeps the undo items and tries again at exit */
    }
    f->reverted_ns = t.mono_ns;
    f->state = FAULT_REVERTED;
    inj->st.reverted++;
    journal(inj, f, FAULT_EV_REVERTED, t, NULL);
    char line[64];
    snprintf(line, sizeof line, "R\t%s\n", f->id_str);
    guardian_send(&inj->guard, line);
}

static void fail(struct injector *inj, struct fault *f, const char *why)
{
    if (why != f->error) /* a check's own f->error: copying it onto itself emptied it */
        snprintf(f->error, sizeof f->error, "%s", why);
    if (f->ops->stop)
        f->ops->stop(f);
    char err[256] = "";
    int rc = f->ops->revert ? f->ops->revert(f, err, sizeof err) : 0;
    f->state = FAULT_FAILED;
    inj->st.failed++;
    struct moni_stamp t = moni_now();
    f->stopped_ns = t.mono_ns;
    if (rc == 0)
        f->reverted_ns = t.mono_ns;
    journal(inj, f, FAULT_EV_FAILED, t, why);
    if (rc == 0) {
        char line[64];
        snprintf(line, sizeof line, "R\t%s\n", f->id_str);
        guardian_send(&inj->guard, line);
    }
}

/* The guardian ended fault `id` itself (moni was stopped or blocked past its window),
 * or could not record one of its undo items. */
static void guardian_said(void *arg, char type, const char *id)
{
    struct injector *inj = arg;
    struct fault *f = NULL;
    for (size_t i = 0; i < inj->n && !f; i++)
        if (strcmp(inj->faults[i]->id_str, id) == 0)
            f = inj->faults[i];
    if (!f || !active(f))
        return;
    if (type == 'E') {
        fail(inj, f, "the guardian could not record an undo item");
        return;
    }
    /* What the guardian undid is gone; stop and revert reap and forget our side. */
    char err[256];
    if (f->ops->stop)
        f->ops->stop(f);
    if (f->ops->revert)
        f->ops->revert(f, err, sizeof err);
    struct moni_stamp t = moni_now();
    f->stopped_ns = f->reverted_ns = t.mono_ns;
    f->state = FAULT_STOPPED;
    const char *why = "window or hard maximum ended; moni not answering";
    journal_to(inj, f, FAULT_EV_STOPPED, t, why, false);
    f->state = FAULT_REVERTED;
    inj->st.reverted++;
    journal_to(inj, f, FAULT_EV_REVERTED, t, NULL, false);
    char line[64];
    snprintf(line, sizeof line, "R\t%s\n", f->id_str);
    guardian_send(&inj->guard, line);
}

/* Notices at once that the guardian died (its socket closed): says so and starts a
 * new one holding every undo item; when that fails, stops every active fault and
 * refuses new ones, since nothing would revert them if moni died too. */
static int guardian_check(struct injector *inj)
{
    if (inj->no_guardian)
        return -1;
    if (inj->guard.pid <= 0 || guardian_poll(&inj->guard, guardian_said, inj) == 0)
        return 0;
    pid_t old = inj->guard.pid;
    char err[256];
    if (guardian_restart(&inj->guard, inj->jfd, inj->journal_path, inj->session, err,
                         sizeof err) == 0) {
        moni_warn("the fault guardian (pid %d) died; started a new one (pid %d) holding the "
                  "undo items of every fault", (int)old, (int)inj->guard.pid);
        return 0;
    }
    moni_warn("the fault guardian (pid %d) died and could not be restarted (%s): stopping "
              "every fault and refusing new ones", (int)old, err);
    inj->guard.pid = 0;
    inj->no_guardian = true;
    injector_stop_all(inj);
    return -1;
}

static void send_heartbeat(struct injector *inj)
{
    int64_t now = moni_mono_ns();
    if (inj->guard.pid > 0 && now - inj->last_heartbeat >= HEARTBEAT_NS) {
        inj->last_heartbeat = now;
        guardian_send(&inj->guard, "H\n");
    }
}

void injector_free(struct injector *inj)
{
    if (!inj)
        return;
    injector_stop_all(inj);
    bool all_clean = true;
    for (size_t i = 0; i < inj->n; i++) {
        struct fault *f = inj->faults[i];
        if (f->state == FAULT_FAILED && f->reverted_ns == 0 && f->armed_ns)
            all_clean = false;
        if (f->ops->release)
            f->ops->release(f);
        free(f);
    }
    free(inj->faults);
    if (inj->guard.pid > 0) {
        if (all_clean)
            guardian_finish(&inj->guard);
        else { /* let the guardian retry what moni could not undo */
            close(inj->guard.wfd);
            if (inj->guard.state_fd >= 0)
                close(inj->guard.state_fd);
            waitpid(inj->guard.pid, NULL, 0);
        }
    }
    free(inj->guard.log);
    if (inj->jfd >= 0)
        close(inj->jfd);
    free(inj);
}

void injector_set_workload(struct injector *inj, pid_t pid) { inj->workload = pid; }

int injector_set_id_prefix(struct injector *inj, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n >= sizeof inj->id_prefix)
        return -1;
    for (size_t i = 0; i < n; i++) /* the id goes into tab-separated guardian lines */
        if (!((prefix[i] >= 'a' && prefix[i] <= 'z') || (prefix[i] >= '0' && prefix[i] <= '9') ||
              prefix[i] == '-'))
            return -1;
    memcpy(inj->id_prefix, prefix, n + 1);
    return 0;
}
void injector_set_max_duration(struct injector *inj, int64_t ns)
{
    if (ns > 0)
        inj->max_ns = ns;
}
void injector_set_headroom(struct injector *inj, uint64_t mem_bytes, double disk_ceiling_pct)
{
    inj->mem_headroom = mem_bytes;
    if (disk_ceiling_pct > 0 && disk_ceiling_pct <= 100)
        inj->disk_ceiling = disk_ceiling_pct;
}
void injector_on_event(struct injector *inj, injector_event_cb cb, void *arg)
{
    inj->cb = cb;
    inj->cb_arg = arg;
}

/* Never PID 1, moni, its parent, its guardian; inside the workload's tree unless
 * allowed. */
static int check_pid(struct injector *inj, const struct fault_ops *ops, struct fault_target *t,
                     char *err, size_t errlen)
{
    pid_t pid = t->pid;
    if (pid <= 0)
        pid = t->pid = inj->workload;
    if (pid <= 0) {
        if (ops->targets & FAULT_TGT_REQUIRED) {
            snprintf(err, errlen, "%s: missing target: give --target PID (or pid=N), or run it "
                     "with a workload", ops->name);
            return FAULT_ERR_USAGE;
        }
        return 0;
    }
    const char *ours = pid_of_ours(inj, pid);
    if (pid == 1 || pid == getppid() || ours) {
        snprintf(err, errlen, "%s: target pid %d is %s; refusing", ops->name, (int)pid,
                 pid == 1 ? "init" : pid == getppid() ? "moni's parent" : ours);
        return FAULT_ERR_USAGE;
    }
    if (kill(pid, 0) != 0 && errno == ESRCH) {
        snprintf(err, errlen, "%s: target pid %d does not exist", ops->name, (int)pid);
        return FAULT_ERR_USAGE;
    }
    if (!t->allow_any && !fault_proc_in_tree(pid, inj->workload)) {
        snprintf(err, errlen, "%s: target pid %d is outside the workload's process tree "
                 "(allow_any=1 to force)", ops->name, (int)pid);
        return FAULT_ERR_USAGE;
    }
    return 0;
}

int injector_arm(struct injector *inj, const char *kind, const struct fault_kv *kv, size_t nkv,
                 const struct fault_target *target, int64_t for_ns, int *id, char *err,
                 size_t errlen)
{
    const struct fault_ops *ops = fault_find(kind);
    if (!ops) {
        snprintf(err, errlen, "unknown fault kind '%s' (see 'moni fault list')", kind ? kind : "");
        return FAULT_ERR_USAGE;
    }
    struct fault *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    int rc = fault_params_parse(ops, kv, nkv, &f->p, err, errlen);
    if (rc) {
        free(f);
        return rc;
    }
    if (target)
        f->target = *target;
    f->ops = ops;
    f->inj = inj;
    if ((ops->targets & FAULT_TGT_PID) && (rc = check_pid(inj, ops, &f->target, err, errlen))) {
        free(f);
        return rc;
    }
    if ((ops->targets & FAULT_TGT_PORT) && (ops->targets & FAULT_TGT_REQUIRED) &&
        f->target.port <= 0) {
        snprintf(err, errlen, "%s: missing target port: give --port N (or port=N)", ops->name);
        free(f);
        return FAULT_ERR_USAGE;
    }
    if ((ops->targets & FAULT_TGT_PATH) && (ops->targets & FAULT_TGT_REQUIRED) &&
        !f->target.path[0]) {
        snprintf(err, errlen, "%s: missing target path: give --path P (or path=P)", ops->name);
        free(f);
        return FAULT_ERR_USAGE;
    }
    f->max_ns = inj->max_ns;
    if (for_ns < 0 || for_ns > f->max_ns) {
        char a[32], b[32];
        snprintf(err, errlen, "%s: for=%s exceeds the hard maximum of %s", ops->name,
                 moni_fmt_duration(for_ns, a, sizeof a), moni_fmt_duration(f->max_ns, b, sizeof b));
        free(f);
        return FAULT_ERR_USAGE;
    }
    f->for_ns = for_ns;
    size_t n_active = 0;
    for (size_t i = 0; i < inj->n; i++)
        n_active += active(inj->faults[i]);
    if (n_active >= MAX_ACTIVE_FAULTS) {
        snprintf(err, errlen, "%s: %zu faults are armed or firing, the most the guardian holds; "
                 "stop some first", ops->name, n_active);
        free(f);
        return FAULT_ERR_FAIL;
    }
    if (guardian_check(inj) != 0) {
        snprintf(err, errlen, "%s: the fault guardian died and could not be restarted; "
                 "refusing to arm", ops->name);
        free(f);
        return FAULT_ERR_FAIL;
    }
    if (inj->n == inj->cap) {
        size_t cap = inj->cap ? inj->cap * 2 : 16;
        struct fault **nf = realloc(inj->faults, cap * sizeof *nf);
        if (!nf) {
            free(f);
            snprintf(err, errlen, "out of memory");
            return FAULT_ERR_FAIL;
        }
        inj->faults = nf;
        inj->cap = cap;
    }
    f->id = ++inj->next_id;
    snprintf(f->id_str, sizeof f->id_str, "%sf%d", inj->id_prefix, f->id);
    inj->faults[inj->n++] = f;
    if (inj->guard.pid <= 0) {
        char gerr[256];
        if (guardian_start(&inj->guard, inj->jfd, inj->journal_path, inj->session, gerr,
                           sizeof gerr)) {
            snprintf(err, errlen, "%s: %s", ops->name, gerr);
            f->state = FAULT_FAILED;
            snprintf(f->error, sizeof f->error, "%s", gerr);
            journal(inj, f, FAULT_EV_FAILED, moni_now(), gerr);
            return FAULT_ERR_FAIL;
        }
    }
    char tgt[600], line[800];
    target_text(f, tgt, sizeof tgt);
    snprintf(line, sizeof line, "J\t%s\t%s\t%s\t%s\n", f->id_str, ops->name, tgt, inj->session);
    guardian_send(&inj->guard, line);
    char why[512] = "";
    rc = ops->arm ? ops->arm(f, why, sizeof why) : 0;
    if (rc) {
        snprintf(err, errlen, "%s: %s", ops->name, why);
        fail(inj, f, why);
        *id = f->id;
        return rc;
    }
    struct moni_stamp t = moni_now();
    f->armed_ns = t.mono_ns;
    f->state = FAULT_ARMED;
    inj->st.armed++;
    journal(inj, f, FAULT_EV_ARMED, t, NULL);
    *id = f->id;
    return 0;
}

int injector_arm_spec(struct injector *inj, const struct fault_spec *spec, int *id, char *err,
                      size_t errlen)
{
    return injector_arm(inj, spec->ops->name, spec->kv, spec->nkv, &spec->target, spec->for_ns, id,
                        err, errlen);
}

int fault_spec_preflight(const struct fault_spec *spec, char *err, size_t errlen)
{
    /* a stand-in injector: no workload yet, no guardian, the default limits */
    struct injector tmp = {.max_ns = DEFAULT_MAX_NS, .mem_headroom = DEFAULT_MEM_HEADROOM,
                           .disk_ceiling = DEFAULT_DISK_CEILING};
    struct fault_target t = spec->target;
    int rc;
    if ((spec->ops->targets & FAULT_TGT_PID) && t.pid > 0 &&
        (rc = check_pid(&tmp, spec->ops, &t, err, errlen)))
        return rc;
    if ((spec->ops->targets & FAULT_TGT_PORT) && (spec->ops->targets & FAULT_TGT_REQUIRED) &&
        t.port <= 0) {
        snprintf(err, errlen, "%s: missing target port: give --port N (or port=N)", spec->ops->name);
        return FAULT_ERR_USAGE;
    }
    if (spec->for_ns < 0 || spec->for_ns > tmp.max_ns) {
        char a[32], b[32];
        snprintf(err, errlen, "%s: for=%s exceeds the hard maximum of %s", spec->ops->name,
                 moni_fmt_duration(spec->for_ns, a, sizeof a),
                 moni_fmt_duration(tmp.max_ns, b, sizeof b));
        return FAULT_ERR_USAGE;
    }
    if (!spec->ops->precheck)
        return 0;
    struct fault f = {0};
    f.ops = spec->ops;
    f.inj = &tmp;
    f.p = spec->params;
    f.target = t;
    f.for_ns = spec->for_ns;
    f.max_ns = tmp.max_ns;
    snprintf(f.id_str, sizeof f.id_str, "f0");
    char why[512] = "";
    if ((rc = spec->ops->precheck(&f, why, sizeof why)))
        snprintf(err, errlen, "%s: %s", spec->ops->name, why);
    return rc;
}

int injector_fire(struct injector *inj, int id, char *err, size_t errlen)
{
    struct fault *f = find(inj, id);
    if (!f || f->state != FAULT_ARMED) {
        snprintf(err, errlen, "fault %d is %s", id, f ? fault_state_name(f->state) : "unknown");
        return FAULT_ERR_FAIL;
    }
    if (guardian_check(inj) != 0 || f->state != FAULT_ARMED) {
        snprintf(err, errlen, "%s: the fault guardian died and could not be restarted; "
                 "refusing to fire", f->ops->name);
        if (active(f))
            fail(inj, f, "no guardian");
        return FAULT_ERR_FAIL;
    }
    char why[512] = "";
    int rc = f->ops->fire ? f->ops->fire(f, why, sizeof why) : 0;
    struct moni_stamp t = moni_now();
    if (!rc && f->undo_lost) {
        snprintf(why, sizeof why, "an undo item could not be handed to the guardian");
        rc = FAULT_ERR_FAIL;
    }
    if (rc) {
        snprintf(err, errlen, "%s: %s", f->ops->name, why);
        fail(inj, f, why);
        return rc;
    }
    f->fired_ns = t.mono_ns;
    f->state = FAULT_FIRING;
    inj->st.fired++;
    journal(inj, f, FAULT_EV_FIRED, t, NULL);
    /* The guardian ends it on its own clock if moni stops answering. */
    int64_t window = f->for_ns > 0 && f->for_ns < f->max_ns ? f->for_ns : f->max_ns;
    char line[96];
    snprintf(line, sizeof line, "W\t%s\t%lld\n", f->id_str, (long long)(f->fired_ns + window));
    guardian_send(&inj->guard, line);
    return 0;
}

int injector_stop(struct injector *inj, int id)
{
    struct fault *f = find(inj, id);
    if (!f || !active(f))
        return -1;
    do_stop(inj, f, "operator");
    return 0;
}

void injector_stop_all_why(struct injector *inj, const char *reason)
{
    for (size_t i = 0; i < inj->n; i++)
        do_stop(inj, inj->faults[i], reason);
}

void injector_stop_all(struct injector *inj)
{
    injector_stop_all_why(inj, "stop all");
}

static void set_effective(struct injector *inj, struct fault *f, const char *detail)
{
    if (f->effective)
        return;
    struct moni_stamp t = moni_now();
    f->effective = true;
    f->effective_ns = t.mono_ns;
    inj->st.effective++;
    if (detail)
        snprintf(f->effect_detail, sizeof f->effect_detail, "%s", detail);
    journal(inj, f, FAULT_EV_EFFECTIVE, t, NULL);
}

int injector_mark_effective(struct injector *inj, int id, const char *detail)
{
    struct fault *f = find(inj, id);
    if (!f || f->state != FAULT_FIRING || f->effective)
        return -1;
    set_effective(inj, f, detail);
    return 0;
}

size_t injector_poll(struct injector *inj)
{
    guardian_check(inj);
    send_heartbeat(inj);
    size_t n_active = 0;
    for (size_t i = 0; i < inj->n; i++) {
        struct fault *f = inj->faults[i];
        if (f->state != FAULT_FIRING) {
            n_active += f->state == FAULT_ARMED;
            continue;
        }
        int64_t now = moni_mono_ns();
        int rc = f->ops->check ? f->ops->check(f, now) : FAULT_CHECK_WAIT;
        if (rc == FAULT_CHECK_FAILED) {
            fail(inj, f, f->error[0] ? f->error : "effect check failed");
            continue;
        }
        if (rc == FAULT_CHECK_EFFECTIVE || rc == FAULT_CHECK_DONE)
            set_effective(inj, f, NULL);
        if (rc == FAULT_CHECK_DONE) {
            do_stop(inj, f, "finished");
            continue;
        }
        now = moni_mono_ns();
        if (f->for_ns > 0 && now - f->fired_ns >= f->for_ns)
            do_stop(inj, f, "window ended");
        else if (now - f->fired_ns >= f->max_ns)
            do_stop(inj, f, "hard maximum duration reached");
        else
            n_active++;
    }
    inj->st.active = n_active;
    return n_active;
}

size_t injector_count(const struct injector *inj) { return inj->n; }

bool injector_info(const struct injector *inj, size_t idx, struct fault_info *fi)
{
    if (idx >= inj->n)
        return false;
    fill_info(inj->faults[idx], fi);
    return true;
}

bool injector_info_by_id(const struct injector *inj, int id, struct fault_info *fi)
{
    struct fault *f = find(inj, id);
    if (!f)
        return false;
    fill_info(f, fi);
    return true;
}

void injector_stats(const struct injector *inj, struct injector_stats *st)
{
    *st = inj->st;
    st->active = 0;
    for (size_t i = 0; i < inj->n; i++)
        st->active += active(inj->faults[i]);
}

const char *injector_journal_path(const struct injector *inj) { return inj->journal_path; }
pid_t injector_guardian_pid(const struct injector *inj) { return inj->guard.pid; }

/* ---- helpers for kinds ------------------------------------------------------------------ */
pid_t fault_spawn(struct fault *f, void (*body)(void *arg), void *arg, int keep_fd)
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        setpgid(0, 0);
        /* The guardian must see EOF when moni dies, and the workload its pipes'
         * EOFs: hold nothing of moni's. */
        if (keep_fd > 3)
            close_range(3, (unsigned)keep_fd - 1, 0);
        close_range(keep_fd >= 3 ? (unsigned)keep_fd + 1 : 3, ~0u, 0);
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1,
                                   SIGUSR2};
        for (size_t i = 0; i < MONI_ARRAY_LEN(sigs); i++)
            signal(sigs[i], SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, SIG_IGN); /* Ctrl-C is moni's to handle; we die with it */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        body(arg);
        _exit(0);
    }
    setpgid(pid, pid);
    fault_undo_pgid(f, pid);
    return pid;
}

bool fault_kill_child(pid_t pid)
{
    if (pid <= 0)
        return true;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    for (int i = 0; i < 400; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            break;
        moni_sleep_ns(MONI_NS_PER_MS);
    }
    int s = fault_proc_state(pid);
    return s == 0 || s == 'Z' || s == 'X';
}

static int undo_line(struct fault *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int undo_line(struct fault *f, const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap); /* never cut: a cut path names another file */
    va_end(ap);
    if (n < 0) {
        f->undo_lost = true;
        return -1;
    }
    int rc = guardian_send(&f->inj->guard, line);
    free(line);
    if (rc != 0)
        f->undo_lost = true; /* injector_fire fails the fault: it must not run without it */
    return rc;
}

int fault_undo_pgid(struct fault *f, pid_t pgid)
{
    return undo_line(f, "P\t%s\t%d\t%llu\n", f->id_str, (int)pgid,
                     (unsigned long long)fault_proc_starttime(pgid));
}
int fault_undo_file(struct fault *f, const char *path)
{
    return undo_line(f, "F\t%s\t%s\n", f->id_str, path);
}
int fault_undo_cont(struct fault *f, pid_t pid)
{
    return undo_line(f, "C\t%s\t%d\t%llu\n", f->id_str, (int)pid,
                     (unsigned long long)fault_proc_starttime(pid));
}
int fault_undo_qdisc(struct fault *f, const char *dev, const char *handle)
{
    return undo_line(f, "Q\t%s\t%s\t%s\n", f->id_str, dev, handle);
}
int fault_undo_restore(struct fault *f, const char *path, const char *backup, mode_t mode,
                       uid_t uid, gid_t gid)
{
    if (!mode)
        return undo_line(f, "B\t%s\t%s\t%s\n", f->id_str, path, backup);
    return undo_line(f, "B\t%s\t%s\t%s\t%o\t%u\t%u\n", f->id_str, path, backup,
                     (unsigned)(mode & 07777), (unsigned)uid, (unsigned)gid);
}

int fault_undo_inject(struct fault *f, const char *ctl, int slot)
{
    return undo_line(f, "I\t%s\t%s\t%d\n", f->id_str, ctl, slot);
}

int fault_undo_cgroup(struct fault *f, const char *dir, const char *orig)
{
    return undo_line(f, "L\t%s\t%s\t%s\n", f->id_str, dir, orig);
}
