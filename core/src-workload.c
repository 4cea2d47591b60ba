/* core/src-workload.c — the workload's whole process tree: CPU, RSS, threads,
 * states, I/O, process count, alive flag and heartbeat (age of the last log line).
 *
 * Membership: the workload pid, anything in its process group, and every
 * descendant (by ppid).  Kernels may lack /proc/PID/task/TID/children, so new
 * members are found by a /proc scan; to keep that cheap:
 * - members' /proc/PID/stat and io stay open and are re-read with pread (the fd
 *   pins the process: a read fails once it is gone, even if the PID is reused);
 * - the scan runs only when a task was created since the last one: the last PID
 *   the kernel handed out (last field of /proc/loadavg, read once per tick for
 *   this source and the cpu source) moved; when it moved by a few, those PIDs are
 *   read one by one instead (a thread's TID is told apart by /proc/TID/status, for
 *   the ones that could join the tree);
 * - PIDs known to be outside the tree are not re-read, except the ones handed out
 *   since the last scan (PID reuse); a full re-read every FULL_SCAN_NS catches a
 *   process that joined the workload's group with setpgid. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/obs-int.h"

enum {
    W_CPU, W_RSS, W_THREADS, W_COUNT, W_R, W_S, W_D, W_T, W_Z, W_RD, W_WR, W_ALIVE, W_HEART,
    W_NCOLS
};
static const char *const wcol_name[W_NCOLS] = {
    "proc_cpu_pct",     "proc_rss_bytes", "proc_threads",   "proc_count",    "proc_state_R",
    "proc_state_S",     "proc_state_D",   "proc_state_T",   "proc_state_Z",  "proc_read_Bps",
    "proc_write_Bps",   "proc_alive",     "proc_heartbeat_age_s",
};
static const char *const wcol_help[W_NCOLS] = {
    "workload tree CPU, % of one core", "workload tree resident memory",
    "workload tree threads", "workload processes", "processes running",
    "processes sleeping", "processes in uninterruptible sleep", "processes stopped",
    "zombie processes", "workload storage reads", "workload storage writes",
    "1 while the workload runs", "seconds since the last workload log line",
};

#define FULL_SCAN_NS (30 * MONI_NS_PER_SEC)
#define KEPT_FDS_MAX 256 /* members whose files stay open (2 fds each) */

struct member { /* a process of the tree, kept between ticks for deltas */
    pid_t pid;
    int fd_stat, fd_io; /* kept open, or -1 */
    uint64_t starttime;
    uint64_t cpu_ticks;
    uint64_t rd, wr;
    bool io_ok;
    bool live; /* seen in this scan */
    struct obs_proc info;
};

struct candidate {
    struct procfs_pid_stat st;
};

struct wl_state {
    int col[W_NCOLS];
    DIR *proc;
    long clk_tck, page;
    pid_t *outside; /* sorted PIDs known to be outside the tree */
    size_t noutside, capoutside;
    pid_t *next_outside;
    size_t nnext, capnext;
    struct candidate *cand;
    size_t ncand, capcand;
    struct member *mem;
    size_t nmem, capmem;
    struct obs_proc *procs;
    size_t capprocs;
    int64_t prev_ns;
    unsigned tick;
    pid_t root;
    long last_pid;        /* at the last scan; -1 = unknown */
    int64_t last_full_ns; /* of the last full scan, 0 = never */
    size_t nkept;         /* members with kept fds */
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *n = realloc(*p, nc * elem);
    if (!n)
        return -1;
    *p = n;
    *cap = nc;
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static int cmp_cand(const void *a, const void *b)
{
    pid_t x = ((const struct candidate *)a)->st.pid, y = ((const struct candidate *)b)->st.pid;
    return (x > y) - (x < y);
}

static bool is_outside(const struct wl_state *st, pid_t pid)
{
    return st->noutside &&
           bsearch(&pid, st->outside, st->noutside, sizeof(pid_t), cmp_pid) != NULL;
}

static struct member *find_member(struct wl_state *st, pid_t pid)
{
    for (size_t i = 0; i < st->nmem; i++)
        if (st->mem[i].pid == pid)
            return &st->mem[i];
    return NULL;
}

static void drop_fds(struct wl_state *st, struct member *m)
{
    if (m->fd_stat >= 0) {
        close(m->fd_stat);
        st->nkept--;
    }
    if (m->fd_io >= 0)
        close(m->fd_io);
    m->fd_stat = m->fd_io = -1;
}

static void wl_free(void *state)
{
    struct wl_state *st = state;
    if (!st)
        return;
    if (st->proc)
        closedir(st->proc);
    for (size_t i = 0; i < st->nmem; i++)
        drop_fds(st, &st->mem[i]);
    free(st->outside);
    free(st->next_outside);
    free(st->cand);
    free(st->mem);
    free(st->procs);
    free(st);
}

static int wl_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                   size_t errlen)
{
    (void)arg;
    if (!session_has_workload(s)) {
        snprintf(err, errlen, "no workload (observing the machine only)");
        return -1;
    }
    struct wl_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->proc = opendir("/proc");
    if (!st->proc) {
        snprintf(err, errlen, "cannot read /proc");
        free(st);
        return -1;
    }
    st->last_pid = -1;
    st->clk_tck = sysconf(_SC_CLK_TCK);
    st->page = sysconf(_SC_PAGESIZE);
    if (st->clk_tck <= 0)
        st->clk_tck = 100;
    for (int k = 0; k < W_NCOLS; k++)
        st->col[k] = frame_add(f, wcol_name[k], wcol_help[k], METRIC_GAUGE);
    *state = st;
    return 0;
}

static void read_cmdline(pid_t pid, char *out, size_t len)
{
    char path[48], buf[256];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    ssize_t n = procfs_read_small(path, buf, sizeof buf);
    out[0] = '\0';
    if (n <= 0)
        return;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0' || !isprint((unsigned char)buf[i]))
            buf[i] = ' ';
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    snprintf(out, len, "%s", buf);
}

/* Was pid handed out after lo, up to hi (both last_pid values; PIDs wrap)? */
static bool pid_new_since(pid_t pid, long lo, long hi)
{
    if (lo < 0 || hi < 0)
        return true;
    if (lo <= hi)
        return pid > lo && pid <= hi;
    return pid > lo || pid <= hi; /* wrapped */
}

static struct candidate *add_cand(struct wl_state *st)
{
    if (grow((void **)&st->cand, &st->capcand, st->ncand + 1, sizeof *st->cand) < 0)
        return NULL;
    return &st->cand[st->ncand];
}

static void add_next_outside(struct wl_state *st, pid_t pid)
{
    if (grow((void **)&st->next_outside, &st->capnext, st->nnext + 1, sizeof(pid_t)) == 0)
        st->next_outside[st->nnext++] = pid;
}

/* The current members first, through their kept fds; a member that is gone (or
 * that cannot be read) is left for the scan, which will not find it. */
static void read_members(struct wl_state *st)
{
    st->ncand = 0;
    for (size_t i = 0; i < st->nmem; i++) {
        struct member *m = &st->mem[i];
        m->live = false;
        char buf[1024], path[48];
        struct candidate *c;
        ssize_t n;
        if (m->fd_stat >= 0) {
            n = procfs_pread(m->fd_stat, buf, sizeof buf);
        } else { /* past KEPT_FDS_MAX: by path (a reused PID shows in starttime) */
            snprintf(path, sizeof path, "/proc/%d/stat", (int)m->pid);
            n = procfs_read_small(path, buf, sizeof buf);
        }
        if (n <= 0 || !(c = add_cand(st)))
            continue;
        if (procfs_parse_pid_stat(buf, &c->st) == 0 && c->st.pid == m->pid) {
            st->ncand++;
            m->live = true; /* read: the scan need not read it again */
        }
    }
}

static bool member_read(const struct wl_state *st, pid_t pid)
{
    for (size_t i = 0; i < st->nmem; i++)
        if (st->mem[i].pid == pid && st->mem[i].live)
            return true;
    return false;
}

/* Scans /proc: adds to st->cand the stat of every PID not read yet and not known
 * to be outside (or handed out since the last scan: it may be a reused PID). */
static void scan(struct wl_state *st, bool full, long lo, long hi)
{
    st->nnext = 0;
    rewinddir(st->proc);
    struct dirent *de;
    char path[48], buf[1024];
    while ((de = readdir(st->proc))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(de->d_name);
        if (member_read(st, pid))
            continue;
        if (!full && is_outside(st, pid) && !pid_new_since(pid, lo, hi)) {
            add_next_outside(st, pid);
            continue;
        }
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (procfs_read_small(path, buf, sizeof buf) <= 0)
            continue;
        struct candidate *c = add_cand(st);
        if (!c)
            break;
        if (procfs_parse_pid_stat(buf, &c->st) == 0)
            st->ncand++;
    }
}

#define PROBE_MAX 16 /* new PIDs read one by one (a failed open each); more: a scan */

static bool cand_has(const struct wl_state *st, pid_t pid)
{
    for (size_t i = 0; i < st->ncand; i++)
        if (st->cand[i].st.pid == pid)
            return true;
    return false;
}

/* Is pid a thread group leader (a process, not a thread)?  /proc/TID/stat exists
 * for threads too, though readdir does not list them. */
static bool is_process(pid_t pid)
{
    char path[48], buf[512];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (procfs_read_small(path, buf, sizeof buf) <= 0)
        return false;
    const char *t = strstr(buf, "\nTgid:");
    return t && atol(t + 6) == (long)pid;
}

/* A few PIDs were handed out since the last look (lo, hi]: read just those instead
 * of scanning /proc.  Ones that may join the tree are checked to be processes. */
static void probe(struct wl_state *st, long lo, long hi, pid_t root)
{
    char path[48], buf[1024];
    for (long pid = lo + 1; pid <= hi; pid++) {
        if (member_read(st, (pid_t)pid))
            continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        if (procfs_read_small(path, buf, sizeof buf) <= 0)
            continue; /* gone already, or never a process */
        struct candidate *c = add_cand(st);
        if (!c)
            break;
        if (procfs_parse_pid_stat(buf, &c->st) < 0)
            continue;
        const struct procfs_pid_stat *ps = &c->st;
        bool related = ps->pid == root || ps->pgrp == root || cand_has(st, ps->ppid);
        if (related && !is_process(ps->pid))
            continue; /* a thread of a member: counted in its process */
        st->ncand++;
    }
}

/* Opens the files of a new member (while there are fds to spare). */
static void keep_fds(struct wl_state *st, struct member *m)
{
    m->fd_stat = m->fd_io = -1;
    if (st->nkept >= KEPT_FDS_MAX)
        return;
    char path[48];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)m->pid);
    m->fd_stat = open(path, O_RDONLY | O_CLOEXEC);
    if (m->fd_stat < 0)
        return;
    st->nkept++;
    snprintf(path, sizeof path, "/proc/%d/io", (int)m->pid);
    m->fd_io = open(path, O_RDONLY | O_CLOEXEC);
}

/* The candidates of this tick: the members through their kept fds, then a /proc
 * scan, a probe of the few new PIDs, or nothing when no task was created. */
static void gather(struct wl_state *st, struct session *s, int64_t now_ns, pid_t root)
{
    bool full = !st->last_full_ns || now_ns - st->last_full_ns >= FULL_SCAN_NS;
    const char *loadavg = obs_session_procfile(s, OBS_PF_LOADAVG);
    long last_pid = loadavg ? procfs_parse_last_pid(loadavg) : -1;
    bool scanned = full || last_pid < 0 || last_pid != st->last_pid;
    read_members(st);
    bool few = scanned && !full && st->last_pid >= 0 && last_pid > st->last_pid &&
               last_pid - st->last_pid <= PROBE_MAX;
    if (scanned && !few) {
        scan(st, full, st->last_pid, last_pid);
        if (full)
            st->last_full_ns = now_ns;
    } else { /* no new task, or a few read above: the outside set stays */
        if (few)
            probe(st, st->last_pid, last_pid, root);
        st->nnext = 0;
        if (grow((void **)&st->next_outside, &st->capnext, st->noutside + 1, sizeof(pid_t)) == 0) {
            memcpy(st->next_outside, st->outside, st->noutside * sizeof(pid_t));
            st->nnext = st->noutside;
        }
    }
    if (scanned)
        st->last_pid = last_pid;
    for (size_t i = 0; i < st->nmem; i++)
        st->mem[i].live = false;
}

/* Fixpoint over the candidates (sorted by PID here): members are the root, its
 * group, and children of members; each pass adds one more generation.  in[i] says
 * whether candidate i is a member. */
static void mark_members(struct wl_state *st, pid_t root, bool *in)
{
    qsort(st->cand, st->ncand, sizeof *st->cand, cmp_cand);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < st->ncand; i++) {
            if (in[i])
                continue;
            const struct procfs_pid_stat *c = &st->cand[i].st;
            bool m = c->pid == root || c->pgrp == root;
            if (!m) {
                struct candidate key = {.st.pid = c->ppid};
                const struct candidate *p =
                    bsearch(&key, st->cand, st->ncand, sizeof *st->cand, cmp_cand);
                m = p && in[p - st->cand];
            }
            if (m) {
                in[i] = true;
                changed = true;
            }
        }
    }
}

/* The tree's sums over one tick. */
struct wl_totals {
    double cpu, rss, rd, wr, threads, states[5];
    bool io_any;
    size_t nprocs;
};

/* The member entry of candidate c: the known one, or a new one (a reused PID gets
 * a new one too); *fresh when new.  NULL when there is no memory for it. */
static struct member *member_of(struct wl_state *st, const struct procfs_pid_stat *c,
                                bool *fresh)
{
    struct member *m = find_member(st, c->pid);
    if (m && m->starttime != c->starttime) { /* PID reused: free the slot */
        drop_fds(st, m);
        m->pid = 0;
        m = NULL;
    }
    *fresh = !m;
    if (m)
        return m;
    m = find_member(st, 0); /* a freed slot */
    if (!m) {
        if (grow((void **)&st->mem, &st->capmem, st->nmem + 1, sizeof *st->mem) < 0)
            return NULL;
        m = &st->mem[st->nmem++];
    }
    memset(m, 0, sizeof *m);
    m->pid = c->pid;
    m->starttime = c->starttime;
    read_cmdline(c->pid, m->info.cmd, sizeof m->info.cmd);
    keep_fds(st, m);
    return m;
}

/* The storage I/O of a member since the last tick, added to the totals. */
static void member_io(struct member *m, bool fresh, double dt, struct wl_totals *tot)
{
    char path[48], buf[1024];
    uint64_t r, wb;
    ssize_t n;
    if (m->fd_io >= 0) {
        n = procfs_pread(m->fd_io, buf, sizeof buf);
    } else {
        snprintf(path, sizeof path, "/proc/%d/io", (int)m->pid);
        n = procfs_read_small(path, buf, sizeof buf);
    }
    if (n <= 0 || procfs_parse_pid_io(buf, &r, &wb) < 0)
        return;
    if (m->io_ok && !fresh && dt > 0) {
        tot->rd += (double)(r >= m->rd ? r - m->rd : 0) / dt;
        tot->wr += (double)(wb >= m->wr ? wb - m->wr : 0) / dt;
        tot->io_any = true;
    }
    m->rd = r;
    m->wr = wb;
    m->io_ok = true;
}

/* One member of the tree this tick: its CPU, I/O, memory and state. */
static void account(struct wl_state *st, const struct procfs_pid_stat *c, double dt,
                    struct wl_totals *tot)
{
    bool fresh;
    struct member *m = member_of(st, c, &fresh);
    if (!m)
        return;
    m->live = true;
    uint64_t ticks = c->utime + c->stime;
    double pcpu = -1;
    if (!fresh && dt > 0) {
        pcpu = 100.0 * (double)(ticks >= m->cpu_ticks ? ticks - m->cpu_ticks : 0) /
               (double)st->clk_tck / dt;
        tot->cpu += pcpu;
    }
    m->cpu_ticks = ticks;
    member_io(m, fresh, dt, tot);
    double prss = c->rss_pages > 0 ? (double)c->rss_pages * (double)st->page : 0;
    tot->rss += prss;
    tot->threads += (double)c->threads;
    switch (c->state) {
    case 'R': tot->states[0]++; break;
    case 'S': case 'I': tot->states[1]++; break;
    case 'D': tot->states[2]++; break;
    case 'T': case 't': tot->states[3]++; break;
    case 'Z': case 'X': tot->states[4]++; break;
    default: break;
    }
    m->info.pid = c->pid;
    m->info.ppid = c->ppid;
    m->info.state = c->state;
    snprintf(m->info.comm, sizeof m->info.comm, "%s", c->comm);
    m->info.cpu_pct = pcpu;
    m->info.rss_bytes = (uint64_t)prss;
    m->info.threads = (int)c->threads;
    tot->nprocs++;
}

/* Drops the members that are gone, publishes the process list, and makes the
 * outside set of this tick (sorted for bsearch) the one the next scan uses. */
static void publish(struct wl_state *st, struct session *s)
{
    size_t k = 0;
    for (size_t i = 0; i < st->nmem; i++) {
        if (st->mem[i].live && st->mem[i].pid)
            st->mem[k++] = st->mem[i];
        else
            drop_fds(st, &st->mem[i]);
    }
    st->nmem = k;
    if (grow((void **)&st->procs, &st->capprocs, st->nmem + 1, sizeof *st->procs) == 0) {
        for (size_t i = 0; i < st->nmem; i++)
            st->procs[i] = st->mem[i].info;
        obs_session_set_procs(s, st->procs, st->nmem);
    }
    pid_t *tmp = st->outside;
    size_t tcap = st->capoutside;
    st->outside = st->next_outside;
    st->capoutside = st->capnext;
    st->noutside = st->nnext;
    st->next_outside = tmp;
    st->capnext = tcap;
    st->nnext = 0;
    qsort(st->outside, st->noutside, sizeof(pid_t), cmp_pid);
}

static void set_totals(const struct wl_state *st, struct frame *f, const struct wl_totals *t,
                       double dt)
{
    if (dt > 0)
        frame_set(f, st->col[W_CPU], t->cpu);
    frame_set(f, st->col[W_RSS], t->rss);
    frame_set(f, st->col[W_THREADS], t->threads);
    frame_set(f, st->col[W_COUNT], (double)t->nprocs);
    for (int i = 0; i < 5; i++)
        frame_set(f, st->col[W_R + i], t->states[i]);
    if (t->io_any) {
        frame_set(f, st->col[W_RD], t->rd);
        frame_set(f, st->col[W_WR], t->wr);
    }
}

static void wl_sample(struct session *s, void *state, struct frame *f)
{
    struct wl_state *st = state;
    const struct session_workload *w = session_workload(s);
    struct moni_stamp now = moni_now();
    double dt = st->prev_ns ? (double)(now.mono_ns - st->prev_ns) / 1e9 : 0;
    st->prev_ns = now.mono_ns;

    pid_t root = w->running ? w->pid : 0;
    if (root != st->root) { /* (re)started: forget the old tree */
        for (size_t i = 0; i < st->nmem; i++)
            drop_fds(st, &st->mem[i]);
        st->nmem = 0;
        st->root = root;
        st->last_full_ns = 0;
    }
    /* Heartbeat: since the last line, or since the start before the first line. */
    if (w->started.mono_ns) {
        int64_t ref = w->last_line.mono_ns > w->started.mono_ns ? w->last_line.mono_ns
                                                                 : w->started.mono_ns;
        frame_set(f, st->col[W_HEART], (double)(now.mono_ns - ref) / 1e9);
    }
    frame_set(f, st->col[W_ALIVE], w->running ? 1 : 0);
    if (!root) {
        for (int k = W_CPU; k <= W_WR; k++)
            frame_set(f, st->col[k], 0);
        obs_session_set_procs(s, NULL, 0);
        return;
    }
    st->tick++;
    gather(st, s, now.mono_ns, root);
    bool *in = calloc(st->ncand ? st->ncand : 1, sizeof *in);
    if (!in)
        return;
    mark_members(st, root, in);
    struct wl_totals tot = {0};
    for (size_t i = 0; i < st->ncand; i++) {
        if (in[i])
            account(st, &st->cand[i].st, dt, &tot);
        else
            add_next_outside(st, st->cand[i].st.pid);
    }
    free(in);
    publish(st, s);
    set_totals(st, f, &tot, dt);
}

const struct source_ops obs_source_workload = {
    .name = "workload",
    .optional = true, /* observing the machine only: no workload */
    .init = wl_init,
    .sample = wl_sample,
    .free = wl_free,
};
