/* core/src-system.c — the machine: CPU (total and per core), load, memory, disks,
 * network, PSI, from /proc and /sys.
 *
 * The /proc files are opened once and re-read with pread(fd, ..., 0) every tick:
 * seq_file regenerates them on each read from offset 0, and this saves an
 * open/close pair per file per tick (the observer's budget is ~0.5 ms CPU per s).
 * Rates need two samples, so the first row has them missing. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/obs-int.h"

/* ---- small file helpers ---------------------------------------------------------- */

ssize_t obs_pread_all(int fd, char *buf, size_t len)
{
    if (fd < 0 || len == 0)
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + got, len - 1 - got, (off_t)got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        /* seq_file fills the buffer up to EOF: a short read is the end (this saves
         * the second, empty read per file per tick) */
        if (got >= len - 1 || (size_t)n < len - 1 - (got - (size_t)n))
            break;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

ssize_t obs_read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = obs_pread_all(fd, buf, len);
    close(fd);
    return n;
}

/* ---- parsers ---------------------------------------------------------------------
 * Hand-written: sscanf/strtoull were ~60% of a tick's instructions.  On the text the
 * kernel writes they give the same numbers as the stdio versions they replaced
 * (strtoull/strtoll with saturation, strtod for decimals); a line never runs into
 * the next one. */

static inline bool is_digit(char c)
{
    return (unsigned)(c - '0') < 10;
}

static inline const char *skip_blank(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Unsigned decimal at p (no sign, no blanks); NULL if there is no digit.  Saturates
 * at UINT64_MAX as strtoull does. */
static const char *parse_u64(const char *p, uint64_t *out)
{
    if (!is_digit(*p))
        return NULL;
    uint64_t v = 0;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            v = UINT64_MAX;
        else
            v = v * 10 + d;
    }
    *out = v;
    return p;
}

/* Signed decimal ("-1" in /proc/PID/stat), saturating as strtoll; NULL if none. */
static const char *parse_i64(const char *p, int64_t *out)
{
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    uint64_t u;
    const char *e = parse_u64(p, &u);
    if (!e)
        return NULL;
    if (neg)
        *out = u > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)u;
    else
        *out = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    return e;
}

/* A decimal such as "98.89" (what the kernel prints) exactly as strtod reads it:
 * mantissa and power of ten are exact doubles, so one division rounds correctly.
 * Anything else (signs, exponents, long mantissas) goes to strtod.  NULL if none. */
static const char *parse_double(const char *p, double *out)
{
    static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    const char *q = p;
    uint64_t m = 0;
    int digits = 0, frac = 0;
    for (; is_digit(*q) && digits < 15; q++, digits++)
        m = m * 10 + (uint64_t)(*q - '0');
    if (*q == '.' && digits) {
        q++;
        for (; is_digit(*q) && digits < 15 && frac < 9; q++, digits++, frac++)
            m = m * 10 + (uint64_t)(*q - '0');
    }
    if (digits && !is_digit(*q) && *q != '.' && *q != 'e' && *q != 'E' && *q != 'x' &&
        *q != 'X' && (p[0] != '0' || !(p[1] == 'x' || p[1] == 'X'))) {
        *out = (double)m / pow10[frac];
        return q;
    }
    char *end;
    double v = strtod(p, &end);
    if (end == p)
        return NULL;
    *out = v;
    return end;
}

int obs_parse_cpu_line(const char *line, int *index, struct obs_cpu_times *t)
{
    if (line[0] != 'c' || line[1] != 'p' || line[2] != 'u')
        return -1;
    const char *p = line + 3;
    if (*p == ' ') {
        *index = -1;
    } else if (is_digit(*p)) {
        uint64_t v;
        p = parse_u64(p, &v);
        if (*p != ' ' || v > 65535)
            return -1;
        *index = (int)v;
    } else {
        return -1;
    }
    uint64_t f[8] = {0};
    int n = 0;
    for (; n < 8; n++) {
        while (*p == ' ')
            p++;
        const char *e = parse_u64(p, &f[n]);
        if (!e)
            break;
        p = e;
    }
    if (n < 4)
        return -1;
    *t = (struct obs_cpu_times){f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
    return 0;
}

static const char *next_line(const char *p)
{
    p = strchr(p, '\n');
    return p ? p + 1 : NULL;
}

int obs_parse_meminfo(const char *text, struct obs_mem *m)
{
    static const struct {
        const char *key; /* with the colon, matched at the start of a line */
        size_t len, off;
    } keys[] = {
#define MEMKEY(k, field) {k, sizeof k - 1, offsetof(struct obs_mem, field)}
        MEMKEY("MemTotal:", total),         MEMKEY("MemFree:", free),
        MEMKEY("MemAvailable:", available), MEMKEY("Buffers:", buffers),
        MEMKEY("Cached:", cached),          MEMKEY("SReclaimable:", sreclaimable),
        MEMKEY("Shmem:", shmem),            MEMKEY("SwapTotal:", swap_total),
        MEMKEY("SwapFree:", swap_free),
#undef MEMKEY
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(keys); i++)
        *(int64_t *)((char *)m + keys[i].off) = -1;
    for (const char *p = text; p && *p; p = next_line(p)) {
        if (*p != 'M' && *p != 'B' && *p != 'C' && *p != 'S')
            continue; /* no key starts otherwise: skip the compares */
        for (size_t i = 0; i < MONI_ARRAY_LEN(keys); i++) {
            if (p[0] != keys[i].key[0] || strncmp(p, keys[i].key, keys[i].len) != 0)
                continue;
            int64_t kb;
            const char *v = skip_blank(p + keys[i].len);
            if (parse_i64(v, &kb))
                *(int64_t *)((char *)m + keys[i].off) = kb * 1024;
            break;
        }
    }
    return m->total >= 0 ? 0 : -1;
}

/* n unsigned fields separated by blanks; how many were read. */
static int parse_fields(const char *p, uint64_t *f, int n, const char **end)
{
    int k = 0;
    for (; k < n; k++) {
        p = skip_blank(p);
        const char *e = parse_u64(p, &f[k]);
        if (!e)
            break;
        p = e;
    }
    if (end)
        *end = p;
    return k;
}

int obs_parse_diskstats_line(const char *line, struct obs_disk *d)
{
    uint64_t mm[2], f[11];
    const char *p;
    if (parse_fields(line, mm, 2, &p) < 2 || mm[0] > UINT32_MAX || mm[1] > UINT32_MAX)
        return -1;
    p = skip_blank(p);
    const char *name = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    size_t nl = (size_t)(p - name);
    if (!nl || parse_fields(p, f, 11, NULL) < 11)
        return -1;
    memset(d, 0, sizeof *d);
    if (nl >= sizeof d->name)
        nl = sizeof d->name - 1; /* as snprintf cut it */
    memcpy(d->name, name, nl);
    d->name[nl] = '\0';
    d->rd_ios = f[0];
    d->rd_sectors = f[2];
    d->wr_ios = f[4];
    d->wr_sectors = f[6];
    d->io_ms = f[9];
    return 0;
}

int obs_parse_netdev_line(const char *line, struct obs_net *n)
{
    const char *colon = line;
    while (*colon && *colon != ':' && *colon != '\n')
        colon++;
    if (*colon != ':')
        return -1;
    const char *s = line;
    while (*s == ' ')
        s++;
    size_t nl = (size_t)(colon - s);
    if (nl == 0 || nl >= sizeof n->name || memchr(s, '|', nl))
        return -1;
    uint64_t f[12];
    if (parse_fields(colon + 1, f, 12, NULL) < 12)
        return -1;
    memset(n, 0, sizeof *n);
    memcpy(n->name, s, nl);
    n->name[nl] = '\0';
    n->rx_bytes = f[0];
    n->rx_packets = f[1];
    n->rx_errs = f[2];
    n->rx_drop = f[3];
    n->tx_bytes = f[8];
    n->tx_packets = f[9];
    n->tx_errs = f[10];
    n->tx_drop = f[11];
    return 0;
}

/* " key=" then a number; NULL on a mismatch. */
static const char *psi_field(const char *p, const char *key, size_t klen)
{
    p = skip_blank(p);
    if (strncmp(p, key, klen) != 0)
        return NULL;
    return p + klen;
}

int obs_parse_psi(const char *text, struct obs_psi *p)
{
    memset(p, 0, sizeof *p);
    for (const char *l = text; l && *l; l = next_line(l)) {
        const char *q = skip_blank(l);
        bool some = !strncmp(q, "some", 4), full = !strncmp(q, "full", 4);
        if ((!some && !full) || (q[4] != ' ' && q[4] != '\t'))
            continue;
        double a10, other;
        uint64_t total;
        q += 4;
        if (!(q = psi_field(q, "avg10=", 6)) || !(q = parse_double(skip_blank(q), &a10)) ||
            !(q = psi_field(q, "avg60=", 6)) || !(q = parse_double(skip_blank(q), &other)) ||
            !(q = psi_field(q, "avg300=", 7)) || !(q = parse_double(skip_blank(q), &other)) ||
            !(q = psi_field(q, "total=", 6)) || !parse_u64(skip_blank(q), &total))
            continue;
        if (some) {
            p->some_avg10 = a10;
            p->some_total = total;
            p->has_some = true;
        } else {
            p->full_avg10 = a10;
            p->full_total = total;
            p->has_full = true;
        }
    }
    return p->has_some ? 0 : -1;
}

int obs_parse_pid_stat(const char *text, struct obs_pid_stat *st)
{
    memset(st, 0, sizeof *st);
    int64_t pid;
    if (!parse_i64(skip_blank(text), &pid) || pid <= 0 || pid > INT32_MAX)
        return -1;
    const char *open = strchr(text, '(');
    const char *close = strrchr(text, ')'); /* comm may contain ')' */
    if (!open || !close || close < open || close[1] != ' ')
        return -1;
    size_t cl = (size_t)(close - open - 1);
    if (cl >= sizeof st->comm)
        cl = sizeof st->comm - 1;
    memcpy(st->comm, open + 1, cl);
    st->comm[cl] = '\0';
    st->pid = (pid_t)pid;
    /* Fields after comm, numbered as in proc(5) from 3 (state). */
    const char *p = close + 2;
    st->state = *p;
    if (!st->state)
        return -1;
    p++;
    int64_t v[22] = {0}; /* fields 4..25 */
    int n = 0;
    for (; n < 22; n++) {
        p = skip_blank(p);
        const char *e = parse_i64(p, &v[n]);
        if (!e)
            break;
        p = e;
    }
    if (n < 21)
        return -1;
    st->ppid = (pid_t)v[0];               /* 4 */
    st->pgrp = (pid_t)v[1];               /* 5 */
    st->utime = (uint64_t)v[10];          /* 14 */
    st->stime = (uint64_t)v[11];          /* 15 */
    st->threads = (long)v[16];            /* 20 */
    st->starttime = (uint64_t)v[18];      /* 22 */
    st->rss_pages = v[20];                /* 24 */
    return 0;
}

int obs_parse_pid_io(const char *text, uint64_t *read_bytes, uint64_t *write_bytes)
{
    bool r = false, w = false;
    for (const char *l = text; l && *l; l = next_line(l)) {
        uint64_t v;
        if (!strncmp(l, "read_bytes:", 11) && parse_u64(skip_blank(l + 11), &v)) {
            *read_bytes = v;
            r = true;
        } else if (!strncmp(l, "write_bytes:", 12) && parse_u64(skip_blank(l + 12), &v)) {
            *write_bytes = v;
            w = true;
        }
    }
    return r && w ? 0 : -1;
}

/* "13.44 13.02 9.48 14/171 16798": the three averages; 0 or -1. */
static int parse_loadavg(const char *text, double l[3])
{
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        p = skip_blank(p);
        if (!(p = parse_double(p, &l[i])))
            return -1;
    }
    return 0;
}

/* ---- the system source ------------------------------------------------------------ */

enum { CPU_ALL, CPU_USER, CPU_SYSTEM, CPU_IOWAIT, CPU_STEAL, CPU_IDLE, CPU_NCOLS };
static const char *const cpu_suffix[CPU_NCOLS] = {"pct", "user_pct", "system_pct",
                                                  "iowait_pct", "steal_pct", "idle_pct"};
enum { DISK_RD, DISK_WR, DISK_RIOPS, DISK_WIOPS, DISK_BUSY, DISK_NCOLS };
static const char *const disk_suffix[DISK_NCOLS] = {"read_Bps", "write_Bps", "read_iops",
                                                    "write_iops", "busy_pct"};
enum { NET_RX, NET_TX, NET_RXERR, NET_TXERR, NET_RXDROP, NET_TXDROP, NET_NCOLS };
static const char *const net_suffix[NET_NCOLS] = {"rx_Bps", "tx_Bps", "rx_errors",
                                                  "tx_errors", "rx_drops", "tx_drops"};
static const char *const psi_res[3] = {"cpu", "memory", "io"};
enum { PSI_SOME10, PSI_FULL10, PSI_SOMET, PSI_FULLT, PSI_NCOLS };

struct sys_disk {
    char name[32];
    int col[DISK_NCOLS];
    struct obs_disk prev;
    bool seen;
};
struct sys_net {
    char name[32];
    int col[NET_NCOLS];
    struct obs_net prev, base;
    bool seen, based;
};

struct sys_state {
    int fd_stat, fd_mem, fd_load, fd_disk, fd_net, fd_psi[3];
    char *buf;
    size_t buflen;
    int ncpu;
    int (*cpu_col)[CPU_NCOLS]; /* [0] = total, [1+i] = core i */
    struct obs_cpu_times *cpu_prev;
    bool *cpu_seen;
    int load_col[3];
    int mem_col[7];
    int disk_tot[DISK_NCOLS];
    struct sys_disk *disks;
    size_t ndisks;
    int net_tot[NET_NCOLS];
    struct sys_net *nets;
    size_t nnets;
    uint64_t net_tot_base[NET_NCOLS];
    int psi_col[3][PSI_NCOLS];
    int64_t prev_ns;
};

static int open_ro(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Column names keep [A-Za-z0-9_]; anything else becomes '_'. */
static void col_name(char *out, size_t len, const char *fmt, const char *mid,
                     const char *suffix)
{
    char m[40];
    size_t i = 0;
    for (; mid[i] && i < sizeof m - 1; i++)
        m[i] = isalnum((unsigned char)mid[i]) ? mid[i] : '_';
    m[i] = '\0';
    snprintf(out, len, fmt, m, suffix);
}

static bool disk_wanted(const char *name)
{
    if (!strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) || !strncmp(name, "zram", 4) ||
        !strncmp(name, "fd", 2) || !strncmp(name, "sr", 2))
        return false;
    char path[96];
    struct stat sb;
    snprintf(path, sizeof path, "/sys/block/%s", name); /* partitions are not here */
    return stat(path, &sb) == 0;
}

static void sys_free(void *state)
{
    struct sys_state *st = state;
    if (!st)
        return;
    int *fds[] = {&st->fd_stat, &st->fd_mem, &st->fd_load, &st->fd_disk, &st->fd_net,
                  &st->fd_psi[0], &st->fd_psi[1], &st->fd_psi[2]};
    for (size_t i = 0; i < MONI_ARRAY_LEN(fds); i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    free(st->buf);
    free(st->cpu_col);
    free(st->cpu_prev);
    free(st->cpu_seen);
    free(st->disks);
    free(st->nets);
    free(st);
}

static int ensure_buf(struct sys_state *st, size_t want)
{
    if (st->buflen >= want)
        return 0;
    char *b = realloc(st->buf, want);
    if (!b)
        return -1;
    st->buf = b;
    st->buflen = want;
    return 0;
}

/* Reads fd fully into st->buf, growing it (up to 1 MiB) if the text filled it. */
static ssize_t sys_read(struct sys_state *st, int fd)
{
    for (;;) {
        ssize_t n = obs_pread_all(fd, st->buf, st->buflen);
        if (n < 0 || (size_t)n < st->buflen - 1 || st->buflen >= (1u << 20))
            return n;
        if (ensure_buf(st, st->buflen * 2) < 0)
            return n;
    }
}

static int sys_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                    size_t errlen)
{
    (void)s;
    (void)arg;
    struct sys_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->fd_stat = open_ro("/proc/stat");
    st->fd_mem = open_ro("/proc/meminfo");
    st->fd_load = open_ro("/proc/loadavg");
    st->fd_disk = open_ro("/proc/diskstats");
    st->fd_net = open_ro("/proc/net/dev");
    for (int i = 0; i < 3; i++) {
        char p[48];
        snprintf(p, sizeof p, "/proc/pressure/%s", psi_res[i]);
        st->fd_psi[i] = open_ro(p);
    }
    if (st->fd_stat < 0 || ensure_buf(st, 8192) < 0) {
        snprintf(err, errlen, "cannot read /proc/stat");
        sys_free(st);
        return -1;
    }
    char name[96];
    /* CPU: count the cores from /proc/stat. */
    if (sys_read(st, st->fd_stat) < 0) {
        snprintf(err, errlen, "cannot read /proc/stat");
        sys_free(st);
        return -1;
    }
    int maxcpu = -1;
    for (char *l = st->buf; l && *l;) {
        int idx;
        struct obs_cpu_times t;
        if (obs_parse_cpu_line(l, &idx, &t) == 0 && idx > maxcpu)
            maxcpu = idx;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    st->ncpu = maxcpu + 1;
    st->cpu_col = calloc((size_t)st->ncpu + 1, sizeof *st->cpu_col);
    st->cpu_prev = calloc((size_t)st->ncpu + 1, sizeof *st->cpu_prev);
    st->cpu_seen = calloc((size_t)st->ncpu + 1, sizeof *st->cpu_seen);
    if (!st->cpu_col || !st->cpu_prev || !st->cpu_seen) {
        sys_free(st);
        return -1;
    }
    for (int k = 0; k < CPU_NCOLS; k++) {
        snprintf(name, sizeof name, "cpu_%s", cpu_suffix[k]);
        st->cpu_col[0][k] = frame_add(f, name, "CPU time of all cores, %", METRIC_GAUGE);
    }
    for (int c = 0; c < st->ncpu; c++)
        for (int k = 0; k < CPU_NCOLS; k++) {
            snprintf(name, sizeof name, "cpu%d_%s", c, cpu_suffix[k]);
            st->cpu_col[c + 1][k] = frame_add(f, name, "CPU time of one core, %", METRIC_GAUGE);
        }
    st->load_col[0] = frame_add(f, "load1", "load average, 1 min", METRIC_GAUGE);
    st->load_col[1] = frame_add(f, "load5", "load average, 5 min", METRIC_GAUGE);
    st->load_col[2] = frame_add(f, "load15", "load average, 15 min", METRIC_GAUGE);
    static const char *const memcols[7] = {"mem_total_bytes",   "mem_used_bytes",
                                           "mem_available_bytes", "mem_cached_bytes",
                                           "mem_free_bytes",    "swap_total_bytes",
                                           "swap_used_bytes"};
    for (int k = 0; k < 7; k++)
        st->mem_col[k] = frame_add(f, memcols[k], "memory (/proc/meminfo)", METRIC_GAUGE);

    /* Disks: whole devices only. */
    if (st->fd_disk >= 0 && sys_read(st, st->fd_disk) >= 0) {
        for (int k = 0; k < DISK_NCOLS; k++) {
            snprintf(name, sizeof name, "disk_%s", disk_suffix[k]);
            st->disk_tot[k] = frame_add(f, name, k == DISK_BUSY ? "busiest disk, %" :
                                        "all disks", METRIC_GAUGE);
        }
        for (char *l = st->buf; l && *l;) {
            struct obs_disk d;
            if (obs_parse_diskstats_line(l, &d) == 0 && disk_wanted(d.name)) {
                struct sys_disk *nd = realloc(st->disks, (st->ndisks + 1) * sizeof *nd);
                if (!nd)
                    break;
                st->disks = nd;
                struct sys_disk *sd = &st->disks[st->ndisks++];
                memset(sd, 0, sizeof *sd);
                snprintf(sd->name, sizeof sd->name, "%s", d.name);
                for (int k = 0; k < DISK_NCOLS; k++) {
                    col_name(name, sizeof name, "disk_%s_%s", d.name, disk_suffix[k]);
                    sd->col[k] = frame_add(f, name, "one disk", METRIC_GAUGE);
                }
            }
            l = strchr(l, '\n');
            if (l)
                l++;
        }
    } else {
        for (int k = 0; k < DISK_NCOLS; k++)
            st->disk_tot[k] = -1;
    }

    /* Network: every interface but lo; the totals leave lo out too. */
    if (st->fd_net >= 0 && sys_read(st, st->fd_net) >= 0) {
        for (int k = 0; k < NET_NCOLS; k++) {
            snprintf(name, sizeof name, "net_%s", net_suffix[k]);
            st->net_tot[k] = frame_add(f, name, k < 2 ? "all interfaces but lo" :
                                       "all interfaces but lo, since start", k < 2 ?
                                       METRIC_GAUGE : METRIC_COUNTER);
        }
        for (char *l = st->buf; l && *l;) {
            struct obs_net n;
            if (obs_parse_netdev_line(l, &n) == 0 && strcmp(n.name, "lo") != 0) {
                struct sys_net *nn = realloc(st->nets, (st->nnets + 1) * sizeof *nn);
                if (!nn)
                    break;
                st->nets = nn;
                struct sys_net *sn = &st->nets[st->nnets++];
                memset(sn, 0, sizeof *sn);
                snprintf(sn->name, sizeof sn->name, "%s", n.name);
                for (int k = 0; k < NET_NCOLS; k++) {
                    col_name(name, sizeof name, "net_%s_%s", n.name, net_suffix[k]);
                    sn->col[k] = frame_add(f, name, "one interface", k < 2 ? METRIC_GAUGE :
                                           METRIC_COUNTER);
                }
            }
            l = strchr(l, '\n');
            if (l)
                l++;
        }
    } else {
        for (int k = 0; k < NET_NCOLS; k++)
            st->net_tot[k] = -1;
    }

    /* PSI where the kernel has it. */
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < PSI_NCOLS; k++)
            st->psi_col[r][k] = -1;
        struct obs_psi p;
        if (st->fd_psi[r] < 0 || sys_read(st, st->fd_psi[r]) < 0 ||
            obs_parse_psi(st->buf, &p) < 0)
            continue;
        snprintf(name, sizeof name, "psi_%s_some_avg10", psi_res[r]);
        st->psi_col[r][PSI_SOME10] = frame_add(f, name, "PSI some, avg10 %", METRIC_GAUGE);
        snprintf(name, sizeof name, "psi_%s_some_total_us", psi_res[r]);
        st->psi_col[r][PSI_SOMET] = frame_add(f, name, "PSI some, total us", METRIC_COUNTER);
        if (p.has_full) {
            snprintf(name, sizeof name, "psi_%s_full_avg10", psi_res[r]);
            st->psi_col[r][PSI_FULL10] = frame_add(f, name, "PSI full, avg10 %", METRIC_GAUGE);
            snprintf(name, sizeof name, "psi_%s_full_total_us", psi_res[r]);
            st->psi_col[r][PSI_FULLT] = frame_add(f, name, "PSI full, total us",
                                                  METRIC_COUNTER);
        }
    }
    *state = st;
    return 0;
}

static void sample_cpu(struct sys_state *st, struct frame *f)
{
    if (sys_read(st, st->fd_stat) < 0)
        return;
    for (char *l = st->buf; l && *l;) {
        int idx;
        struct obs_cpu_times t;
        if (strncmp(l, "cpu", 3) != 0)
            break; /* the cpu lines come first */
        if (obs_parse_cpu_line(l, &idx, &t) == 0 && idx < st->ncpu) {
            int slot = idx + 1;
            if (st->cpu_seen[slot]) {
                const struct obs_cpu_times *p = &st->cpu_prev[slot];
                double user = (double)(t.user + t.nice) - (double)(p->user + p->nice);
                double sys = (double)(t.system + t.irq + t.softirq) -
                             (double)(p->system + p->irq + p->softirq);
                double iow = (double)t.iowait - (double)p->iowait;
                double steal = (double)t.steal - (double)p->steal;
                double idle = (double)t.idle - (double)p->idle;
                if (iow < 0) /* iowait may go backwards on some kernels */
                    iow = 0;
                double total = user + sys + iow + steal + idle;
                if (total > 0) {
                    const int *c = st->cpu_col[slot];
                    frame_set(f, c[CPU_ALL], 100.0 * (user + sys + steal) / total);
                    frame_set(f, c[CPU_USER], 100.0 * user / total);
                    frame_set(f, c[CPU_SYSTEM], 100.0 * sys / total);
                    frame_set(f, c[CPU_IOWAIT], 100.0 * iow / total);
                    frame_set(f, c[CPU_STEAL], 100.0 * steal / total);
                    frame_set(f, c[CPU_IDLE], 100.0 * idle / total);
                }
            }
            st->cpu_prev[slot] = t;
            st->cpu_seen[slot] = true;
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
}

static void sample_mem(struct sys_state *st, struct frame *f)
{
    struct obs_mem m;
    if (sys_read(st, st->fd_mem) < 0 || obs_parse_meminfo(st->buf, &m) < 0)
        return;
    frame_set(f, st->mem_col[0], (double)m.total);
    if (m.free >= 0 && m.buffers >= 0 && m.cached >= 0) {
        /* As free(1): used = total - free - buffers - cache (cache incl. SReclaimable). */
        int64_t cache = m.cached + (m.sreclaimable > 0 ? m.sreclaimable : 0);
        int64_t used = m.total - m.free - m.buffers - cache;
        if (used < 0)
            used = m.total - m.free;
        frame_set(f, st->mem_col[1], (double)used);
        frame_set(f, st->mem_col[3], (double)cache);
    }
    if (m.available >= 0)
        frame_set(f, st->mem_col[2], (double)m.available);
    if (m.free >= 0)
        frame_set(f, st->mem_col[4], (double)m.free);
    if (m.swap_total >= 0) {
        frame_set(f, st->mem_col[5], (double)m.swap_total);
        if (m.swap_free >= 0)
            frame_set(f, st->mem_col[6], (double)(m.swap_total - m.swap_free));
    }
}

static void sample_load(struct sys_state *st, struct frame *f)
{
    double l[3];
    if (sys_read(st, st->fd_load) < 0 || parse_loadavg(st->buf, l) < 0)
        return;
    frame_set(f, st->load_col[0], l[0]);
    frame_set(f, st->load_col[1], l[1]);
    frame_set(f, st->load_col[2], l[2]);
}

static double delta(uint64_t now, uint64_t prev)
{
    return now >= prev ? (double)(now - prev) : 0; /* counter reset: no negative rates */
}

static void sample_disk(struct sys_state *st, struct frame *f, double dt)
{
    if (!st->ndisks || sys_read(st, st->fd_disk) < 0)
        return;
    double tot[DISK_NCOLS] = {0};
    bool any = false;
    for (char *l = st->buf; l && *l;) {
        struct obs_disk d;
        /* most lines are devices we leave out (loop*, partitions): compare the name
         * before parsing the numbers */
        const char *nm = skip_blank(l);
        while (is_digit(*nm) || *nm == ' ' || *nm == '\t')
            nm++;
        size_t nl = 0;
        while (nm[nl] && nm[nl] != ' ' && nm[nl] != '\n')
            nl++;
        if (nl >= sizeof d.name) /* names are kept cut to fit, compare them so */
            nl = sizeof d.name - 1;
        bool known = false;
        for (size_t i = 0; i < st->ndisks && !known; i++)
            known = strlen(st->disks[i].name) == nl && !memcmp(st->disks[i].name, nm, nl);
        if (known && obs_parse_diskstats_line(l, &d) == 0) {
            for (size_t i = 0; i < st->ndisks; i++) {
                struct sys_disk *sd = &st->disks[i];
                if (strcmp(sd->name, d.name) != 0)
                    continue;
                if (sd->seen && dt > 0) {
                    double v[DISK_NCOLS];
                    v[DISK_RD] = delta(d.rd_sectors, sd->prev.rd_sectors) * 512 / dt;
                    v[DISK_WR] = delta(d.wr_sectors, sd->prev.wr_sectors) * 512 / dt;
                    v[DISK_RIOPS] = delta(d.rd_ios, sd->prev.rd_ios) / dt;
                    v[DISK_WIOPS] = delta(d.wr_ios, sd->prev.wr_ios) / dt;
                    v[DISK_BUSY] = delta(d.io_ms, sd->prev.io_ms) / (dt * 10.0);
                    if (v[DISK_BUSY] > 100)
                        v[DISK_BUSY] = 100;
                    for (int k = 0; k < DISK_NCOLS; k++) {
                        frame_set(f, sd->col[k], v[k]);
                        if (k == DISK_BUSY)
                            tot[k] = v[k] > tot[k] ? v[k] : tot[k];
                        else
                            tot[k] += v[k];
                    }
                    any = true;
                }
                sd->prev = d;
                sd->seen = true;
                break;
            }
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    if (any)
        for (int k = 0; k < DISK_NCOLS; k++)
            frame_set(f, st->disk_tot[k], tot[k]);
}

static void sample_net(struct sys_state *st, struct frame *f, double dt)
{
    if (!st->nnets || sys_read(st, st->fd_net) < 0)
        return;
    double tot[NET_NCOLS] = {0};
    bool any = false;
    for (char *l = st->buf; l && *l;) {
        struct obs_net n;
        const char *nm = skip_blank(l);
        bool known = false; /* lo and the two header lines: not parsed */
        for (size_t i = 0; i < st->nnets && !known; i++) {
            size_t nl = strlen(st->nets[i].name);
            known = !strncmp(st->nets[i].name, nm, nl) && nm[nl] == ':';
        }
        if (known && obs_parse_netdev_line(l, &n) == 0) {
            for (size_t i = 0; i < st->nnets; i++) {
                struct sys_net *sn = &st->nets[i];
                if (strcmp(sn->name, n.name) != 0)
                    continue;
                if (!sn->based) {
                    sn->base = n;
                    sn->based = true;
                }
                if (sn->seen && dt > 0) {
                    double v[NET_NCOLS];
                    v[NET_RX] = delta(n.rx_bytes, sn->prev.rx_bytes) / dt;
                    v[NET_TX] = delta(n.tx_bytes, sn->prev.tx_bytes) / dt;
                    v[NET_RXERR] = delta(n.rx_errs, sn->base.rx_errs);
                    v[NET_TXERR] = delta(n.tx_errs, sn->base.tx_errs);
                    v[NET_RXDROP] = delta(n.rx_drop, sn->base.rx_drop);
                    v[NET_TXDROP] = delta(n.tx_drop, sn->base.tx_drop);
                    for (int k = 0; k < NET_NCOLS; k++) {
                        frame_set(f, sn->col[k], v[k]);
                        tot[k] += v[k];
                    }
                    any = true;
                }
                sn->prev = n;
                sn->seen = true;
                break;
            }
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    if (any)
        for (int k = 0; k < NET_NCOLS; k++)
            frame_set(f, st->net_tot[k], tot[k]);
}

static void sample_psi(struct sys_state *st, struct frame *f)
{
    for (int r = 0; r < 3; r++) {
        struct obs_psi p;
        if (st->psi_col[r][PSI_SOME10] < 0 || sys_read(st, st->fd_psi[r]) < 0 ||
            obs_parse_psi(st->buf, &p) < 0)
            continue;
        frame_set(f, st->psi_col[r][PSI_SOME10], p.some_avg10);
        frame_set(f, st->psi_col[r][PSI_SOMET], (double)p.some_total);
        if (p.has_full) {
            frame_set(f, st->psi_col[r][PSI_FULL10], p.full_avg10);
            frame_set(f, st->psi_col[r][PSI_FULLT], (double)p.full_total);
        }
    }
}

static void sys_sample(struct session *s, void *state, struct frame *f)
{
    (void)s;
    struct sys_state *st = state;
    int64_t now = moni_mono_ns();
    double dt = st->prev_ns ? (double)(now - st->prev_ns) / 1e9 : 0;
    st->prev_ns = now;
    sample_cpu(st, f);
    sample_load(st, f);
    sample_mem(st, f);
    sample_disk(st, f, dt);
    sample_net(st, f, dt);
    sample_psi(st, f);
}

const struct source_ops obs_source_system = {
    .name = "system",
    .init = sys_init,
    .sample = sys_sample,
    .free = sys_free,
};
