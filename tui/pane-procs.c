/* tui/pane-procs.c — the Workload pane as htop's process list for this job: the
 * workload's tree (from the workload source, core/src-workload.c), moni's own
 * injector processes marked with their fault kind, then the machine's other
 * processes by a sort key (a /proc scan every SCAN_NS with core's procfs readers,
 * in live runs only).  A filter, sort key cycling, and a signal to the selected
 * process after a confirmation, sent with kill(2) after checking that the pid is
 * still the process that was asked about.  A multi-process workload (moni-rlsim)
 * shows one row per log file instead. */
#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tui/tui.h"

#define SCAN_NS (3 * MONI_NS_PER_SEC) /* htop refreshes every 1.5 s; the scan is ~1/10 of the console's CPU at 2 s */
#define OTHERS_MAX 40                 /* other processes listed */
#define ROWS_MAX (TUI_MAX_PROCS + OTHERS_MAX + 80) /* + moni's own and the heading */
#define MATCH_NS (3 * MONI_NS_PER_SEC) /* an injector started this close to its fault's fire */
/* /proc/PID/stat files kept open between scans (re-read with pread): open and
 * close were half the cost of a scan.  Bounded, so as not to eat the fd limit. */
#define KEPT_FDS_MAX 512
/* Kernel threads (kthreadd's children: about half of /proc) are read again only
 * every this many scans, in case their pid now names a process. */
#define KTHREAD_RECHECK 10

enum row_kind { ROW_WORKLOAD, ROW_INJECTOR, ROW_HEAD, ROW_OTHER };

struct row {
    struct tui_proc p;
    enum row_kind kind;
    char tag[40]; /* "cpu injector", "guardian", "moni" */
};

struct rec { /* one process of the last scan, kept for CPU deltas */
    struct tui_proc p;
    uint64_t start, ticks;
    bool cmd_read;
    bool kthread; /* a kernel thread: not listed (as in htop), not read again */
    int fd; /* its /proc/PID/stat kept open for the next scan, or -1 */
};

static const struct { int sig; const char *name; } signals[] = {
    {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"}, {SIGHUP, "SIGHUP"},   {SIGKILL, "SIGKILL"},
    {SIGSTOP, "SIGSTOP"}, {SIGCONT, "SIGCONT"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"},
    {SIGQUIT, "SIGQUIT"},
};

struct tui_procs {
    enum tui_proc_sort sort;
    char filter[32];
    int sel_pid; /* the selection follows its process as rows move */
    /* the signal dialog */
    int sig_idx, sig_pid;
    uint64_t sig_start;
    char sig_what[96];
    /* the last scan, sorted by pid */
    struct rec *rec;
    size_t nrec;
    int proc_fd; /* /proc, for openat; 0 until opened (then >= 0, or -1) */
    unsigned scans;
    size_t kept; /* rec[].fd open */
    int64_t scan_ns;
    struct rec **others; /* the scan's other processes, sorted for the list */
    size_t cap_others;
    /* the rows of the last draw (j/k and the dialog act on them) */
    struct row rows[ROWS_MAX];
    size_t nrows;
};

/* ---- pure helpers ------------------------------------------------------------------- */

const char *tui_proc_sort_name(enum tui_proc_sort k)
{
    static const char *const names[TUI_PS_N] = {"CPU%", "RSS", "threads", "PID", "command"};
    return (unsigned)k < TUI_PS_N ? names[k] : "?";
}

static const char *cmd_of(const struct tui_proc *p) { return p->cmd[0] ? p->cmd : p->comm; }

/* What a row shows: the command without the directory of its program, so that the
 * program's name fits a narrow pane however deep the checkout ("moni-train --lr 10",
 * not "/home/ci/builds/.../build/moni-train"); the filter still sees the whole line. */
static const char *cmd_shown(const struct tui_proc *p)
{
    const char *c = cmd_of(p), *end = strchr(c, ' '), *slash = NULL;
    for (const char *q = c; *q && (!end || q < end); q++)
        if (*q == '/')
            slash = q;
    return slash && slash[1] ? slash + 1 : c;
}

int tui_proc_cmp(const struct tui_proc *a, const struct tui_proc *b, enum tui_proc_sort k)
{
    double x = 0, y = 0;
    switch (k) {
    case TUI_PS_CPU: x = a->cpu_pct, y = b->cpu_pct; break;
    case TUI_PS_RSS: x = a->rss_bytes, y = b->rss_bytes; break;
    case TUI_PS_THREADS: x = a->threads, y = b->threads; break;
    case TUI_PS_COMMAND: {
        int c = strcasecmp(cmd_of(a), cmd_of(b));
        if (c)
            return c;
        break;
    }
    default: break;
    }
    if (x != y)
        return x > y ? -1 : 1; /* bigger first */
    return (a->pid > b->pid) - (a->pid < b->pid);
}

bool tui_proc_matches(const struct tui_proc *p, const char *filter)
{
    if (!filter || !filter[0])
        return true;
    char pid[16];
    snprintf(pid, sizeof pid, "%d", p->pid);
    return strcasestr(p->cmd, filter) || strcasestr(p->comm, filter) || !strcmp(pid, filter);
}

bool tui_proc_may_signal(int pid, int ppid, int self, bool in_workload, const char **why)
{
    const char *w = NULL;
    if (pid <= 1)
        w = "not a process moni may signal";
    else if (pid == self)
        w = "that is moni itself";
    else if (ppid == self && !in_workload)
        w = "that is moni's guardian or a fault injector (s stops its fault)";
    if (why)
        *why = w;
    return !w;
}

/* ---- the /proc scan (live runs) --------------------------------------------------- */

static int cmp_rec(const void *a, const void *b)
{
    int x = ((const struct rec *)a)->p.pid, y = ((const struct rec *)b)->p.pid;
    return (x > y) - (x < y);
}

static struct rec *find_rec(struct rec *v, size_t n, int pid)
{
    struct rec key = {.p.pid = pid};
    return n ? bsearch(&key, v, n, sizeof *v, cmp_rec) : NULL;
}

static int64_t boot_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec * MONI_NS_PER_SEC + ts.tv_nsec;
}

/* The stat of pid into buf: through the fd the last scan kept (a process that
 * died makes it fail, also when its pid was reused), else opened now. */
static ssize_t read_stat(struct tui_procs *ps, struct rec *old, const char *pid, char *buf,
                         size_t len, int *fd_out)
{
    int fd = -1;
    if (old && old->fd >= 0) {
        fd = old->fd;
        old->fd = -1; /* moves to the new record, or is closed */
        ssize_t n = procfs_pread(fd, buf, len);
        if (n > 0) {
            *fd_out = fd;
            return n;
        }
        close(fd);
        ps->kept--;
    }
    char path[300];
    snprintf(path, sizeof path, "%s/stat", pid);
    fd = openat(ps->proc_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = procfs_pread(fd, buf, len);
    if (n > 0 && ps->kept < KEPT_FDS_MAX) {
        ps->kept++;
        *fd_out = fd;
    } else {
        close(fd);
    }
    return n;
}

static void close_kept(struct tui_procs *ps, struct rec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].fd >= 0) {
            close(v[i].fd);
            v[i].fd = -1;
            ps->kept--;
        }
}

static bool grow_recs(struct rec **v, size_t *cap)
{
    struct rec *nv = realloc(*v, 2 * *cap * sizeof *nv);
    if (!nv)
        return false;
    *v = nv;
    *cap *= 2;
    return true;
}

/* Every process's stat: CPU% since the previous scan (since its start when new). */
static void scan(struct tui_procs *ps, int64_t now)
{
    if (!ps->proc_fd)
        ps->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dfd = ps->proc_fd >= 0 ? dup(ps->proc_fd) : -1;
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    rewinddir(d); /* the dup shares the offset the last scan left at the end */
    static long hz, page;
    if (!hz) {
        hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
        page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    }
    double dt = ps->scan_ns ? (double)(now - ps->scan_ns) / 1e9 : 0;
    double up_ticks = (double)boot_ns() / 1e9 * (double)hz;
    size_t n = 0, cap = ps->nrec + 64;
    struct rec *v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char buf[1024];
        struct procfs_pid_stat st;
        struct rec *o = find_rec(ps->rec, ps->nrec, atoi(de->d_name));
        if (o && o->kthread && ps->scans % KTHREAD_RECHECK && (n < cap || grow_recs(&v, &cap))) {
            v[n++] = *o; /* as it was: never listed */
            continue;
        }
        int fd = -1;
        ssize_t len = read_stat(ps, o, de->d_name, buf, sizeof buf, &fd);
        bool ok = len > 0 && procfs_parse_pid_stat(buf, &st) == 0 && (n < cap || grow_recs(&v, &cap));
        bool kthread = ok && (st.pid == 2 || st.ppid == 2);
        if ((!ok || kthread) && fd >= 0) { /* no fd kept for what is not read again */
            close(fd);
            ps->kept--;
            fd = -1;
        }
        if (!ok)
            continue;
        struct rec *r = &v[n++];
        memset(r, 0, sizeof *r);
        r->fd = fd;
        if (kthread) {
            r->kthread = true;
            r->p.pid = st.pid;
            r->start = st.starttime;
            continue;
        }
        r->p.pid = st.pid;
        r->p.ppid = st.ppid;
        r->p.state = st.state;
        snprintf(r->p.comm, sizeof r->p.comm, "%s", st.comm);
        r->p.threads = (int)st.threads;
        r->p.rss_bytes = (double)st.rss_pages * (double)page;
        r->ticks = st.utime + st.stime;
        r->start = st.starttime;
        if (o && o->start == r->start && dt > 0) {
            r->p.cpu_pct = (double)(r->ticks - o->ticks) / (dt * (double)hz) * 100.0;
            memcpy(r->p.cmd, o->p.cmd, sizeof r->p.cmd);
            r->cmd_read = o->cmd_read;
        } else { /* new: its average since it started */
            double life = up_ticks - (double)r->start;
            r->p.cpu_pct = life > 0 ? (double)r->ticks / life * 100.0 : 0;
        }
    }
    closedir(d);
    close_kept(ps, ps->rec, ps->nrec); /* processes gone since the last scan */
    if (!v)
        return;
    qsort(v, n, sizeof *v, cmp_rec);
    free(ps->rec);
    ps->rec = v;
    ps->nrec = n;
    ps->scan_ns = now;
    ps->scans++;
}

/* The command line of a listed process, read once. */
static void read_cmd(struct rec *r)
{
    if (r->cmd_read)
        return;
    r->cmd_read = true;
    char path[48], buf[256];
    snprintf(path, sizeof path, "/proc/%d/cmdline", r->p.pid);
    ssize_t n = procfs_read_small(path, buf, sizeof buf - 1);
    if (n <= 0)
        return; /* a kernel thread: its comm is shown */
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == 0 || !isprint((unsigned char)buf[i]))
            buf[i] = ' ';
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = 0;
    snprintf(r->p.cmd, sizeof r->p.cmd, "%s", buf);
}

/* ---- rows ------------------------------------------------------------------------- */

static struct tui_procs *state(struct tui *ui)
{
    if (!ui->procs)
        ui->procs = calloc(1, sizeof *ui->procs);
    return ui->procs;
}

void tui_procs_free(struct tui *ui)
{
    if (!ui->procs)
        return;
    close_kept(ui->procs, ui->procs->rec, ui->procs->nrec);
    if (ui->procs->proc_fd > 0)
        close(ui->procs->proc_fd);
    free(ui->procs->rec);
    free(ui->procs->others);
    free(ui->procs);
    ui->procs = NULL;
}

static bool in_tree(const struct tui_model *m, int pid)
{
    for (size_t i = 0; i < m->nprocs; i++)
        if (m->procs[i].pid == pid)
            return true;
    return false;
}

/* The fault whose firing began closest to when an injector process started. */
static void injector_tag(const struct tui_model *m, const struct rec *r, char *tag, size_t len)
{
    static long hz;
    if (!hz)
        hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    int64_t started = (int64_t)((double)r->start / (double)hz * 1e9) - (boot_ns() - moni_mono_ns());
    int64_t now = moni_mono_ns(), best = MATCH_NS;
    const char *kind = NULL;
    for (size_t i = 0; i < m->nfaults; i++) {
        const struct tui_fault_row *f = &m->faults[i];
        if (f->state != TUI_F_FIRING || f->elapsed_ns < 0)
            continue;
        int64_t d = llabs((long long)(now - f->elapsed_ns - started));
        if (d <= best) {
            best = d;
            kind = f->kind;
        }
    }
    snprintf(tag, len, "%s%sinjector", kind ? kind : "", kind ? " " : "");
}

static void add_row(struct tui_procs *ps, const struct tui_proc *p, enum row_kind kind, const char *tag)
{
    if (ps->nrows >= ROWS_MAX)
        return;
    struct row *r = &ps->rows[ps->nrows++];
    r->p = *p;
    r->kind = kind;
    /* a copy, not snprintf: up to ~50 rows a frame, most with no tag */
    size_t n = tag ? strnlen(tag, sizeof r->tag - 1) : 0;
    memcpy(r->tag, tag ? tag : "", n);
    r->tag[n] = '\0';
}

static enum tui_proc_sort sort_key;
static int cmp_other(const void *a, const void *b)
{
    return tui_proc_cmp(&(*(struct rec *const *)a)->p, &(*(struct rec *const *)b)->p, sort_key);
}

/* The workload tree (in tree order), moni's own children, then the others by the
 * sort key; every section through the filter. */
static void build_rows(struct tui *ui)
{
    struct tui_procs *ps = ui->procs;
    const struct tui_model *m = ui->m;
    ps->nrows = 0;
    for (size_t i = 0; i < m->nprocs; i++)
        if (tui_proc_matches(&m->procs[i], ps->filter))
            add_row(ps, &m->procs[i], ROW_WORKLOAD, NULL);
    if (m->replay || !ps->nrec)
        return;
    int self = (int)getpid();
    if (ps->cap_others < ps->nrec) {
        struct rec **o = realloc(ps->others, ps->nrec * sizeof *o);
        if (!o)
            return;
        ps->others = o;
        ps->cap_others = ps->nrec;
    }
    struct rec **others = ps->others;
    size_t no = 0;
    for (size_t i = 0; i < ps->nrec; i++) {
        struct rec *r = &ps->rec[i];
        if (r->kthread || in_tree(m, r->p.pid))
            continue;
        if (r->p.ppid == self) { /* moni's own: the guardian (its own session) or an injector */
            char tag[40];
            if (getsid(r->p.pid) == r->p.pid)
                snprintf(tag, sizeof tag, "moni guardian");
            else
                injector_tag(m, r, tag, sizeof tag);
            r->cmd_read = true; /* moni's command line again says nothing: its comm */
            if (tui_proc_matches(&r->p, ps->filter) || strcasestr(tag, ps->filter))
                add_row(ps, &r->p, ROW_INJECTOR, tag);
            continue;
        }
        others[no++] = r;
    }
    sort_key = ps->sort;
    qsort(others, no, sizeof others[0], cmp_other);
    struct tui_proc head = {0};
    add_row(ps, &head, ROW_HEAD, NULL);
    size_t shown = 0;
    for (size_t i = 0; i < no && shown < OTHERS_MAX; i++) {
        if (ps->filter[0] || ps->sort == TUI_PS_COMMAND)
            read_cmd(others[i]); /* the filter and the order need the command */
        if (!tui_proc_matches(&others[i]->p, ps->filter))
            continue;
        read_cmd(others[i]);
        add_row(ps, &others[i]->p, ROW_OTHER, others[i]->p.pid == self ? "moni" : NULL);
        shown++;
    }
    if (!shown)
        ps->nrows--; /* no heading over nothing */
}

/* The selection's row now (it follows its pid); the nearest selectable otherwise. */
static void place_selection(struct tui *ui)
{
    struct tui_procs *ps = ui->procs;
    size_t sel = ui->proc_sel < ps->nrows ? ui->proc_sel : (ps->nrows ? ps->nrows - 1 : 0);
    for (size_t i = 0; i < ps->nrows; i++)
        if (ps->rows[i].kind != ROW_HEAD && ps->rows[i].p.pid == ps->sel_pid)
            sel = i;
    if (sel < ps->nrows && ps->rows[sel].kind == ROW_HEAD)
        sel = sel + 1 < ps->nrows ? sel + 1 : (sel ? sel - 1 : 0);
    ui->proc_sel = sel;
    if (sel < ps->nrows)
        ps->sel_pid = ps->rows[sel].p.pid;
}

static void text(int y, int x, int w, enum tui_role role, const char *s)
{
    attrset(tui_attr(role));
    tui_put(y, x, w, s, false);
    attrset(tui_attr(TUI_R_TEXT));
}

static enum tui_role row_role(const struct row *r)
{
    if (r->p.state == 'T' || r->p.state == 't' || r->p.state == 'D')
        return TUI_R_WARN;
    if (r->p.state == 'Z')
        return TUI_R_ERROR;
    return r->kind == ROW_INJECTOR ? TUI_R_FAULT_FIRING : r->kind == ROW_OTHER ? TUI_R_MUTED : TUI_R_TEXT;
}

static void draw_row(struct tui *ui, const struct row *r, int y, int x, int w, bool sel)
{
    char cpu[16] = "    -", rss[16], line[320], ind[32] = "", tag[48] = "";
    if (r->kind == ROW_HEAD) {
        char h[96];
        snprintf(h, sizeof h, "%s other processes by %s %s", ui->ascii ? "--" : "──",
                 tui_proc_sort_name(ui->procs->sort), ui->ascii ? "--" : "──");
        text(y, x, w, TUI_R_ACCENT, h);
        return;
    }
    if (r->p.cpu_pct >= 0)
        snprintf(cpu, sizeof cpu, "%5.1f", r->p.cpu_pct);
    int d = r->p.depth > 6 ? 6 : r->p.depth;
    if (r->kind == ROW_WORKLOAD && d) {
        memset(ind, ' ', (size_t)d);
        snprintf(ind + d, sizeof ind - (size_t)d, "%s", ui->ascii ? "`-" : "└");
    }
    if (r->tag[0])
        snprintf(tag, sizeof tag, "[%s] ", r->tag);
    snprintf(line, sizeof line, "%7d %c %s %6s %3d %s%s%s", r->p.pid, r->p.state ? r->p.state : '?',
             cpu, tui_fmt_rate(r->p.rss_bytes, r->p.rss_bytes >= 0, rss, sizeof rss), r->p.threads,
             ind, tag, cmd_shown(&r->p));
    if (sel) {
        attrset(tui_attr(TUI_R_SELECT));
        mvhline(y, x, ' ', w);
    }
    text(y, x, w, sel ? TUI_R_SELECT : row_role(r), line);
}

/* ---- multi-process workloads ------------------------------------------------------- */

/* A multi-process workload: a stage row and one row per process (at most 60). */
static int want_procs(const struct tui *ui)
{
    size_t n = ui->m->nworkers;
    return n ? (int)(n > 60 ? 60 : n) + 2 : 0;
}

/* "3s", "2m05s", "1h02m": how long the controller has been in its stage. */
static char *fmt_for(int64_t ns, char *buf, size_t len)
{
    long long s = ns > 0 ? (long long)(ns / MONI_NS_PER_SEC) : 0;
    if (s >= 3600)
        snprintf(buf, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
    else if (s >= 60)
        snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
    else
        snprintf(buf, len, "%llds", s);
    return buf;
}

/* Multi-process workload (moni-rlsim): process and problem counts in the title, the
 * controller's stage on the first row, then one row per process: name, CPU%, RSS, state (running / quiet Ns / error: RULE / gone)
 * and, when the pane is wide, its latest warning or error. */
static void draw_workers(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    /* a replay's "quiet 12s" and "(for 3s)" count on the recording's clock */
    int64_t now = m->replay ? m->now_mono : moni_mono_ns();
    char extra[128], d[16];
    size_t nerr = 0, ngone = 0;
    for (size_t i = 0; i < m->nworkers; i++) {
        nerr += m->workers[i].state == TUI_W_ERROR;
        ngone += m->workers[i].state == TUI_W_GONE;
    }
    if (nerr || ngone)
        snprintf(extra, sizeof extra, "%zu procs, %zu err, %zu gone", m->nworkers, nerr, ngone);
    else
        snprintf(extra, sizeof extra, "%zu procs", m->nworkers);
    tui_pane_title(ui, TUI_P_PROCS, r, focus, extra);
    int x = r.x + 1, w = r.w - 2, y = r.y + 1, rows = r.h - 1;
    if (rows <= 0 || w <= 0)
        return;
    char head[128];
    int64_t end = now; /* a pipeline whose processes are all gone stopped at its last line */
    if (ngone == m->nworkers) {
        end = m->pipe_since_mono;
        for (size_t i = 0; i < m->nworkers; i++)
            end = m->workers[i].last_line_mono > end ? m->workers[i].last_line_mono : end;
    }
    if (m->pipe_step >= 0)
        snprintf(head, sizeof head, "step %ld stage=%s (for %s)", m->pipe_step, m->pipe_stage,
                 fmt_for(end - m->pipe_since_mono, d, sizeof d));
    else
        snprintf(head, sizeof head, "stage=- (no step line yet)");
    text(y++, x, w, m->pipe_step >= 0 ? TUI_R_ACCENT : TUI_R_MUTED, head);
    rows--;
    int nw = 7; /* the longest name, at least "process", at most 20 columns */
    for (size_t i = 0; i < m->nworkers; i++) {
        int l = (int)strlen(m->workers[i].name);
        nw = l > nw ? l : nw;
    }
    nw = nw > 20 ? 20 : nw;
    size_t first = 0;
    if (ui->proc_sel >= (size_t)rows)
        first = ui->proc_sel - (size_t)rows + 1;
    for (size_t i = first; i < m->nworkers && (int)(i - first) < rows; i++, y++) {
        const struct tui_worker *wk = &m->workers[i];
        char cpu[16] = "    -", rss[16] = "-", st[96];
        enum tui_role role = TUI_R_OK;
        if (wk->cpu_pct >= 0)
            snprintf(cpu, sizeof cpu, "%5.1f", wk->cpu_pct);
        if (wk->rss_bytes >= 0)
            tui_fmt_rate(wk->rss_bytes, true, rss, sizeof rss);
        switch (wk->state) {
        case TUI_W_GONE: /* with the last error it logged, if any */
            snprintf(st, sizeof st, "gone%s%s", wk->last_rule[0] && strcmp(wk->last_severity, "warning")
                     ? ", error: " : "", wk->last_rule[0] && strcmp(wk->last_severity, "warning")
                     ? wk->last_rule : "");
            role = TUI_R_ERROR;
            break;
        case TUI_W_ERROR:
            snprintf(st, sizeof st, "error: %s", wk->last_rule[0] ? wk->last_rule : wk->last_severity);
            role = !strcmp(wk->last_severity, "critical") ? TUI_R_CRIT : TUI_R_ERROR;
            break;
        case TUI_W_QUIET:
            snprintf(st, sizeof st, "quiet %s", fmt_for(now - wk->last_line_mono, d, sizeof d));
            role = TUI_R_WARN;
            break;
        default:
            snprintf(st, sizeof st, wk->lines ? "running" : "running (no line yet)");
            break;
        }
        snprintf(head, sizeof head, "%-*.*s %s %5s ", nw, nw, wk->name, cpu, rss);
        bool sel = focus && i == ui->proc_sel;
        if (sel) {
            attrset(tui_attr(TUI_R_SELECT));
            mvhline(y, x, ' ', w);
        }
        text(y, x, w, sel ? TUI_R_SELECT : TUI_R_TEXT, head);
        int hw = tui_strwidth(head);
        if (w > hw) {
            text(y, x + hw, w - hw, sel ? TUI_R_SELECT : role, st);
            /* wide panes: the latest warning or error after the state */
            int sw = tui_strwidth(st) + 2;
            if (wk->last_text[0] && w - hw - sw > 12)
                text(y, x + hw + sw, w - hw - sw, sel ? TUI_R_SELECT : TUI_R_MUTED, wk->last_text);
        }
        tui_pane_clickable(ui, TUI_P_PROCS, y, x, w, 1, (int)i);
    }
}

static void draw_procs(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    if (m->nworkers) {
        draw_workers(ui, r, focus);
        return;
    }
    struct tui_procs *ps = state(ui);
    if (!ps)
        return;
    int64_t now = moni_mono_ns();
    if (!m->replay && (!ps->scan_ns || now - ps->scan_ns >= SCAN_NS))
        scan(ps, now);
    build_rows(ui);
    place_selection(ui);
    char extra[200], hb[48];
    double age;
    if (m->last_line_mono) /* a line newer than the latest sample is 0 s old */
        snprintf(hb, sizeof hb, "heartbeat %.1fs ago",
                 m->now_mono > m->last_line_mono ? (double)(m->now_mono - m->last_line_mono) / 1e9 : 0.0);
    else if (tui_model_get(m, "proc_heartbeat_age_s", &age))
        snprintf(hb, sizeof hb, "heartbeat %.1fs ago", age);
    else
        snprintf(hb, sizeof hb, "no log line yet");
    snprintf(extra, sizeof extra, "%s  sort %s%s%s  o sort  \\ filter  K signal", hb,
             tui_proc_sort_name(ps->sort), ps->filter[0] ? "  filter: " : "", ps->filter);
    tui_pane_title(ui, TUI_P_PROCS, r, focus, extra);
    int x = r.x + 1, w = r.w - 2, y = r.y + 1, rows = r.h - 1;
    if (rows <= 0 || w <= 0)
        return;
    text(y++, x, w, TUI_R_MUTED, "    PID S  CPU%    RSS THR COMMAND");
    rows--;
    if (ps->nrows == 0 && rows > 0) {
        text(y, x, w, TUI_R_MUTED, ps->filter[0] ? "no process matches the filter" : m->workload);
        return;
    }
    size_t first = 0;
    if (ui->proc_sel >= (size_t)rows)
        first = ui->proc_sel - (size_t)rows + 1;
    for (size_t i = first; i < ps->nrows && (int)(i - first) < rows; i++, y++) {
        draw_row(ui, &ps->rows[i], y, x, w, focus && i == ui->proc_sel);
        if (ps->rows[i].kind != ROW_HEAD)
            tui_pane_clickable(ui, TUI_P_PROCS, y, x, w, 1, (int)i);
    }
}

/* ---- keys ------------------------------------------------------------------------- */

static size_t rows_procs(const struct tui *ui)
{
    if (ui->m->nworkers)
        return ui->m->nworkers;
    return ui->procs ? ui->procs->nrows : ui->m->nprocs;
}

static void select_procs(struct tui *ui, size_t row)
{
    ui->proc_sel = row;
    if (!ui->m->nworkers && ui->procs && row < ui->procs->nrows)
        ui->procs->sel_pid = ui->procs->rows[row].p.pid;
}

/* j/k/arrows: the next row up or down, over the heading. */
static void key_procs(struct tui *ui, int key)
{
    size_t n = rows_procs(ui), sel = ui->proc_sel;
    int d = key == 'k' || key == KEY_UP ? -1 : key == 'j' || key == KEY_DOWN ? 1 : 0;
    for (size_t s = sel; d;) {
        if ((d < 0 && s == 0) || (d > 0 && s + 1 >= n))
            return;
        s = (size_t)((long)s + d);
        if (ui->m->nworkers || !ui->procs || ui->procs->rows[s].kind != ROW_HEAD) {
            select_procs(ui, s);
            return;
        }
    }
}

static void key_sort(struct tui *ui)
{
    struct tui_procs *ps = state(ui);
    if (!ps)
        return;
    ps->sort = (ps->sort + 1) % TUI_PS_N;
    ui->focus = TUI_P_PROCS;
    tui_status(ui, false, "processes sorted by %s", tui_proc_sort_name(ps->sort));
}

static void key_filter(struct tui *ui)
{
    struct tui_procs *ps = state(ui);
    if (!ps)
        return;
    ui->focus = TUI_P_PROCS;
    snprintf(ui->input, sizeof ui->input, "%s", ps->filter);
    ui->overlay = TUI_O_PROC_FILTER;
}

static void key_signal(struct tui *ui)
{
    struct tui_procs *ps = state(ui);
    ui->focus = TUI_P_PROCS;
    if (ui->m->replay) {
        tui_status(ui, true, "K: signals only in a live run, not in a replay");
        return;
    }
    if (!ps || ui->m->nworkers || ui->proc_sel >= ps->nrows || ps->rows[ui->proc_sel].kind == ROW_HEAD) {
        tui_status(ui, true, "no process selected (j/k in the Workload pane)");
        return;
    }
    const struct row *r = &ps->rows[ui->proc_sel];
    const char *why;
    if (!tui_proc_may_signal(r->p.pid, r->p.ppid, (int)getpid(), in_tree(ui->m, r->p.pid), &why)) {
        tui_status(ui, true, "no signal to %d: %s", r->p.pid, why);
        return;
    }
    char path[48], buf[1024];
    struct procfs_pid_stat st;
    snprintf(path, sizeof path, "/proc/%d/stat", r->p.pid);
    ssize_t n = procfs_read_small(path, buf, sizeof buf - 1);
    if (n <= 0 || (buf[n] = 0, procfs_parse_pid_stat(buf, &st)) != 0) {
        tui_status(ui, true, "process %d is gone", r->p.pid);
        return;
    }
    ps->sig_pid = r->p.pid;
    ps->sig_start = st.starttime;
    ps->sig_idx = 0;
    snprintf(ps->sig_what, sizeof ps->sig_what, "%d %.80s", r->p.pid, cmd_of(&r->p));
    ui->overlay = TUI_O_PROC_SIGNAL;
}

void tui_procs_key(struct tui *ui, int key)
{
    if (key == 'O' || key == KEY_F(6)) /* F6: htop's key for the sort column */
        key_sort(ui);
    else if (key == '\\' || key == KEY_F(4))
        key_filter(ui);
    else
        key_signal(ui);
}

/* Sends the dialog's signal if the pid is still the process it was opened for. */
static void send_signal(struct tui *ui)
{
    struct tui_procs *ps = ui->procs;
    char path[48], buf[1024];
    struct procfs_pid_stat st;
    snprintf(path, sizeof path, "/proc/%d/stat", ps->sig_pid);
    ssize_t n = procfs_read_small(path, buf, sizeof buf - 1);
    const char *name = signals[ps->sig_idx].name;
    const char *why;
    if (n <= 0 || (buf[n] = 0, procfs_parse_pid_stat(buf, &st)) != 0 || st.starttime != ps->sig_start)
        tui_status(ui, true, "%s not sent: process %d is gone", name, ps->sig_pid);
    else if (!tui_proc_may_signal(st.pid, st.ppid, (int)getpid(), in_tree(ui->m, st.pid), &why))
        tui_status(ui, true, "%s not sent: %s", name, why);
    else if (kill(st.pid, signals[ps->sig_idx].sig) != 0)
        tui_status(ui, true, "%s to %d: %s", name, st.pid, strerror(errno));
    else
        tui_status(ui, false, "sent %s to %s", name, ps->sig_what);
}

void tui_procs_overlay_key(struct tui *ui, int key)
{
    struct tui_procs *ps = state(ui);
    if (!ps) {
        ui->overlay = TUI_O_NONE;
        return;
    }
    size_t ns = MONI_ARRAY_LEN(signals);
    if (ui->overlay == TUI_O_PROC_FILTER) {
        int r = tui_edit_line(ui->input, sizeof ui->input, key);
        if (r < 0)
            ui->input[0] = 0;
        snprintf(ps->filter, sizeof ps->filter, "%.31s", ui->input);
        if (r)
            ui->overlay = TUI_O_NONE;
        return;
    }
    if (key == KEY_RIGHT || key == '\t' || key == 'j' || key == KEY_DOWN || key == 'l')
        ps->sig_idx = (ps->sig_idx + 1) % (int)ns;
    else if (key == KEY_LEFT || key == KEY_BTAB || key == 'k' || key == KEY_UP || key == 'h')
        ps->sig_idx = (ps->sig_idx + (int)ns - 1) % (int)ns;
    else if (key == 'y' || key == 'Y' || key == '\n' || key == '\r' || key == KEY_ENTER) {
        ui->overlay = TUI_O_NONE;
        send_signal(ui);
    } else if (key == 'n' || key == 'N' || key == 27 || key == 'q') {
        ui->overlay = TUI_O_NONE;
        tui_status(ui, false, "no signal sent");
    }
}

void tui_procs_overlay_draw(struct tui *ui)
{
    struct tui_procs *ps = ui->procs;
    if (!ps)
        return;
    if (ui->overlay == TUI_O_PROC_FILTER) { /* a prompt on the bottom line */
        int y = ui->lines - 1;
        attrset(tui_attr(TUI_R_TEXT));
        mvhline(y, 0, ' ', ui->cols);
        text(y, 0, ui->cols, TUI_R_ACCENT, "filter processes: ");
        char v[160];
        snprintf(v, sizeof v, "%s_", ui->input);
        attrset(tui_attr(TUI_R_INPUT));
        tui_put(y, 18, ui->cols - 19, v, true);
        attrset(tui_attr(TUI_R_TEXT));
        return;
    }
    int h = 8, w = 70 < ui->cols ? 70 : ui->cols;
    int y = (ui->lines - h) / 2, x = (ui->cols - w) / 2;
    attrset(tui_attr(TUI_R_DIALOG));
    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    tui_box(y, x, h, w, ui->ascii);
    text(y, x + 2, w - 4, TUI_R_TITLE_FOCUS, " send a signal? ");
    char line[200];
    snprintf(line, sizeof line, "Send %s (%d) to %s?", signals[ps->sig_idx].name,
             signals[ps->sig_idx].sig, ps->sig_what);
    attrset(tui_attr(TUI_R_DIALOG));
    tui_put(y + 2, x + 2, w - 4, line, false);
    tui_put(y + 3, x + 2, w - 4, "Left/Right or Tab: another signal", false);
    text(y + 5, x + 2, 10, TUI_R_BUTTON, "[y] send");
    text(y + 5, x + 14, 12, TUI_R_BUTTON, "[n] cancel");
    if (ui->nclicks + 2 <= MONI_ARRAY_LEN(ui->clicks)) {
        ui->clicks[ui->nclicks++] = (struct tui_click){y + 5, x + 2, 8, 'y', -1, -1};
        ui->clicks[ui->nclicks++] = (struct tui_click){y + 5, x + 14, 10, 'n', -1, -1};
    }
}

/* ---- the descriptor ------------------------------------------------------------------ */

const struct pane_ops tui_pane_procs = {
    .name = "procs", .title = "Workload", .place = TUI_PLACE_RIGHT, .min_h = 3, .pref_h = 8,
    .prio = 2, .focusable = true, .draw = draw_procs, .rows = rows_procs, .key = key_procs,
    .select = select_procs, .want_h = want_procs,
};
