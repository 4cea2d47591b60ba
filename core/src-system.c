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
#include <stdarg.h>
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
    struct obs_devset *disks, *nets; /* NULL if the file cannot be read */
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

static double delta(uint64_t now, uint64_t prev)
{
    return now >= prev ? (double)(now - prev) : 0; /* counter reset: no negative rates */
}

/* ---- disks and interfaces that come and go ----------------------------------------
 * Each read, every line's device name is compared with the name that followed the
 * previous line's device in the last read (a chain kept in the name table), so an
 * unchanged file costs one compare per line and no lookups; only devices counted in
 * the totals are parsed.  A name never seen before is classified once (for disks
 * that is a stat of /sys/block/NAME) and remembered, wanted or not, for as long as
 * the file lists it.  See obs-int.h for what the columns and totals hold. */

enum { DEV_NCOLS_MAX = 6 };
static const struct dev_kind {
    const char *what;   /* in notes: "disk sdb appeared ..." */
    const char *prefix; /* of the columns */
    const char *const *suffix;
    int ncols;
} dev_kinds[] = {
    [OBS_DEV_DISK] = {"disk", "disk", disk_suffix, DISK_NCOLS},
    [OBS_DEV_NET] = {"interface", "net", net_suffix, NET_NCOLS},
};

struct dev_slot {                  /* a device counted in the totals */
    char name[32];
    int col[DEV_NCOLS_MAX];        /* its own columns; -1 if it appeared after start */
    uint64_t prev[DEV_NCOLS_MAX];  /* counters at the last read */
    uint64_t base[DEV_NCOLS_MAX];  /* ... at its first read (net errors/drops) */
    double acc[DEV_NCOLS_MAX];     /* errors/drops of its earlier lives (it went, came back) */
    bool fixed;                    /* present at start: keeps its slot and columns */
    bool used, present, seen;      /* seen: has a baseline */
};

struct dev_name {   /* a device name in the file, counted or not */
    char name[32];
    size_t len;     /* 0 = a free entry */
    int slot;       /* index in slots, or -1: not counted */
    int next;       /* the name on the line after this one in the last read, or -1 */
    uint32_t gen;   /* the last read that listed it */
};

struct obs_devset {
    enum obs_dev_kind kind;
    const struct dev_kind *k;
    obs_dev_wanted_fn wanted;
    void *wanted_arg;
    int tot[DEV_NCOLS_MAX];
    struct dev_slot *slots;
    size_t nslots, nhot;     /* slots allocated; hot-plugged ones in use */
    struct dev_name *names;
    size_t nnames, names_len; /* entries in use; entries allocated */
    int head;                /* the first name of the last read */
    size_t nlines;           /* names in the last read */
    uint32_t gen;            /* reads so far (0 = the one at start) */
    double gone[DEV_NCOLS_MAX]; /* errors/drops counted by devices that went away */
    unsigned notes;
    bool names_full_noted;
};

struct dev_tick { /* what one read reports through */
    obs_dev_note_fn note;
    void *arg;
    int64_t real_ns;
    char when[MONI_ISO_LEN];
};

static bool default_disk_wanted(const char *name, void *arg)
{
    (void)arg;
    return disk_wanted(name);
}

static bool default_net_wanted(const char *name, void *arg)
{
    (void)arg;
    return strcmp(name, "lo") != 0; /* the totals leave lo out too */
}

static void dev_note(struct obs_devset *ds, struct dev_tick *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void dev_note(struct obs_devset *ds, struct dev_tick *t, const char *fmt, ...)
{
    if (!t || !t->note || ds->notes > OBS_DEV_NOTES_MAX)
        return;
    char buf[256];
    if (ds->notes++ == OBS_DEV_NOTES_MAX) { /* a flood of veths: say so once */
        snprintf(buf, sizeof buf, "more than %d %s changes: the later ones are not noted",
                 OBS_DEV_NOTES_MAX, ds->k->what);
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
    }
    t->note(t->arg, buf);
}

static const char *dev_when(struct dev_tick *t)
{
    if (!t)
        return "start";
    if (!t->when[0])
        moni_fmt_iso(t->real_ns, t->when, sizeof t->when);
    return t->when;
}

/* The device name on line l, cut to 31 bytes as the parsers cut it; its length, or 0
 * when the line names none (the two header lines of /proc/net/dev). */
static size_t dev_line_name(enum obs_dev_kind kind, const char *l, const char **name)
{
    const char *p = skip_blank(l), *s;
    if (kind == OBS_DEV_DISK) {
        while (is_digit(*p) || *p == ' ' || *p == '\t') /* major minor */
            p++;
        s = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    } else {
        s = p;
        while (*p && *p != ':' && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (*p != ':')
            return 0;
    }
    size_t n = (size_t)(p - s);
    *name = s;
    return n < 32 ? n : 31;
}

/* The counters of a line, in column order; 0 or -1. */
static int dev_parse(enum obs_dev_kind kind, const char *l, uint64_t c[DEV_NCOLS_MAX])
{
    if (kind == OBS_DEV_DISK) {
        struct obs_disk d;
        if (obs_parse_diskstats_line(l, &d) < 0)
            return -1;
        c[DISK_RD] = d.rd_sectors;
        c[DISK_WR] = d.wr_sectors;
        c[DISK_RIOPS] = d.rd_ios;
        c[DISK_WIOPS] = d.wr_ios;
        c[DISK_BUSY] = d.io_ms;
        return 0;
    }
    struct obs_net n;
    if (obs_parse_netdev_line(l, &n) < 0)
        return -1;
    c[NET_RX] = n.rx_bytes;
    c[NET_TX] = n.tx_bytes;
    c[NET_RXERR] = n.rx_errs;
    c[NET_TXERR] = n.tx_errs;
    c[NET_RXDROP] = n.rx_drop;
    c[NET_TXDROP] = n.tx_drop;
    return 0;
}

static inline bool dev_name_is(const struct dev_name *e, const char *nm, size_t nl)
{
    return e->len == nl && !memcmp(e->name, nm, nl);
}

static int dev_find(const struct obs_devset *ds, const char *nm, size_t nl)
{
    for (size_t i = 0; i < ds->names_len; i++)
        if (dev_name_is(&ds->names[i], nm, nl))
            return (int)i;
    return -1;
}

/* A slot for a device (at start: a fixed one with its columns); -1 if none. */
static int dev_attach(struct obs_devset *ds, const char *name, struct frame *f,
                      struct dev_tick *t)
{
    const struct dev_kind *k = ds->k;
    if (ds->gen > 0) {
        for (size_t i = 0; i < ds->nslots; i++) {
            struct dev_slot *sl = &ds->slots[i];
            if (sl->fixed && !sl->present && !strcmp(sl->name, name)) {
                sl->present = true;
                sl->seen = false;
                dev_note(ds, t, "%s %s reappeared at %s: counted again from the next "
                         "sample (%s_%s_* and %s_* totals), its counters restarted",
                         k->what, name, dev_when(t), k->prefix, name, k->prefix);
                return (int)i;
            }
        }
        if (ds->nhot >= OBS_DEV_HOTPLUG_MAX) {
            dev_note(ds, t, "%s %s appeared at %s: not counted (already %d %ss that "
                     "appeared after start)", k->what, name, dev_when(t),
                     OBS_DEV_HOTPLUG_MAX, k->what);
            return -1;
        }
    }
    size_t i = 0;
    if (ds->gen > 0) /* a hot-plugged device takes a free slot if there is one */
        while (i < ds->nslots && (ds->slots[i].used || ds->slots[i].fixed))
            i++;
    else
        i = ds->nslots;
    if (i == ds->nslots) {
        struct dev_slot *ns = realloc(ds->slots, (ds->nslots + 1) * sizeof *ns);
        if (!ns)
            return -1;
        ds->slots = ns;
        ds->nslots++;
    }
    struct dev_slot *sl = &ds->slots[i];
    memset(sl, 0, sizeof *sl);
    snprintf(sl->name, sizeof sl->name, "%s", name);
    sl->used = sl->present = true;
    for (int c = 0; c < DEV_NCOLS_MAX; c++)
        sl->col[c] = -1;
    if (ds->gen == 0) {
        sl->fixed = true;
        char col[96];
        for (int c = 0; c < k->ncols; c++) {
            col_name(col, sizeof col, ds->kind == OBS_DEV_DISK ? "disk_%s_%s" : "net_%s_%s",
                     name, k->suffix[c]);
            sl->col[c] = frame_add(f, col, ds->kind == OBS_DEV_DISK ? "one disk" :
                                   "one interface", ds->kind == OBS_DEV_NET && c >= 2 ?
                                   METRIC_COUNTER : METRIC_GAUGE);
        }
    } else {
        ds->nhot++;
        dev_note(ds, t, "%s %s appeared at %s: counted in %s_* totals; no per-device "
                 "columns in this run", k->what, name, dev_when(t), k->prefix);
    }
    return (int)i;
}

/* Remembers a name not seen before: wanted() is asked here, once.  Its entry, or -1
 * (the line does not parse, or the table is full). */
static int dev_new_name(struct obs_devset *ds, const char *l, const char *nm, size_t nl,
                        struct frame *f, struct dev_tick *t)
{
    uint64_t c[DEV_NCOLS_MAX];
    if (dev_parse(ds->kind, l, c) < 0)
        return -1;
    if (ds->nnames >= OBS_DEV_NAMES_MAX) {
        if (!ds->names_full_noted && t) { /* at start: noted at the first tick */
            ds->names_full_noted = true;
            dev_note(ds, t, "more than %d %s names at %s: new ones are not counted",
                     OBS_DEV_NAMES_MAX, ds->k->what, dev_when(t));
        }
        return -1;
    }
    size_t i = 0;
    while (i < ds->names_len && ds->names[i].len)
        i++;
    if (i == ds->names_len) {
        struct dev_name *nn = realloc(ds->names, (ds->names_len + 1) * sizeof *nn);
        if (!nn)
            return -1;
        ds->names = nn;
        ds->names_len++;
    }
    struct dev_name *e = &ds->names[i];
    memset(e, 0, sizeof *e);
    memcpy(e->name, nm, nl);
    e->name[nl] = '\0';
    e->len = nl;
    e->next = -1;
    e->gen = ds->gen - 1; /* not yet listed in this read */
    e->slot = ds->wanted(e->name, ds->wanted_arg) ? dev_attach(ds, e->name, f, t) : -1;
    ds->nnames++;
    return (int)i;
}

static void dev_update(struct obs_devset *ds, struct dev_slot *sl, const char *l,
                       struct frame *f, double dt, double *tot, bool *any)
{
    uint64_t c[DEV_NCOLS_MAX] = {0};
    if (dev_parse(ds->kind, l, c) < 0)
        return;
    int n = ds->k->ncols;
    if (!sl->seen) { /* first read of this life: the baseline */
        memcpy(sl->base, c, sizeof c);
        memcpy(sl->prev, c, sizeof c);
        sl->seen = true;
        return;
    }
    if (dt > 0) {
        double v[DEV_NCOLS_MAX];
        if (ds->kind == OBS_DEV_DISK) {
            v[DISK_RD] = delta(c[DISK_RD], sl->prev[DISK_RD]) * 512 / dt;
            v[DISK_WR] = delta(c[DISK_WR], sl->prev[DISK_WR]) * 512 / dt;
            v[DISK_RIOPS] = delta(c[DISK_RIOPS], sl->prev[DISK_RIOPS]) / dt;
            v[DISK_WIOPS] = delta(c[DISK_WIOPS], sl->prev[DISK_WIOPS]) / dt;
            v[DISK_BUSY] = delta(c[DISK_BUSY], sl->prev[DISK_BUSY]) / (dt * 10.0);
            if (v[DISK_BUSY] > 100)
                v[DISK_BUSY] = 100;
        } else {
            v[NET_RX] = delta(c[NET_RX], sl->prev[NET_RX]) / dt;
            v[NET_TX] = delta(c[NET_TX], sl->prev[NET_TX]) / dt;
            for (int k = NET_RXERR; k < NET_NCOLS; k++) {
                double d = delta(c[k], sl->base[k]);
                tot[k] += d; /* the totals add the earlier lives from ds->gone */
                v[k] = sl->acc[k] + d;
            }
        }
        for (int k = 0; k < n; k++) {
            frame_set(f, sl->col[k], v[k]);
            if (ds->kind == OBS_DEV_DISK && k == DISK_BUSY)
                tot[k] = v[k] > tot[k] ? v[k] : tot[k];
            else if (ds->kind == OBS_DEV_DISK || k < NET_RXERR)
                tot[k] += v[k];
        }
        *any = true;
    }
    memcpy(sl->prev, c, sizeof c);
}

/* Names the last read did not list: their devices went away. */
static void dev_sweep(struct obs_devset *ds, struct dev_tick *t)
{
    const struct dev_kind *k = ds->k;
    for (size_t i = 0; i < ds->names_len; i++) {
        struct dev_name *e = &ds->names[i];
        if (!e->len || e->gen == ds->gen)
            continue;
        if (e->slot >= 0 && (size_t)e->slot < ds->nslots) {
            struct dev_slot *sl = &ds->slots[e->slot];
            if (ds->kind == OBS_DEV_NET && sl->seen)
                for (int c = NET_RXERR; c < NET_NCOLS; c++) {
                    double d = delta(sl->prev[c], sl->base[c]);
                    sl->acc[c] += d;
                    ds->gone[c] += d;
                }
            sl->present = sl->seen = false;
            if (!sl->fixed) {
                sl->used = false;
                ds->nhot--;
            }
            dev_note(ds, t, "%s %s disappeared at %s: left out of the %s_* totals%s",
                     k->what, e->name, dev_when(t), k->prefix,
                     sl->fixed ? ", its own columns missing while it is gone" : "");
        }
        e->len = 0; /* forgotten: if it comes back it is classified again */
        e->name[0] = '\0';
        ds->nnames--;
    }
}

/* One read of the file; at start (gen 0) it only learns the names. */
static void dev_scan(struct obs_devset *ds, const char *text, struct frame *f, double dt,
                     struct dev_tick *t)
{
    double tot[DEV_NCOLS_MAX] = {0};
    bool any = false, changed = false;
    int expect = ds->head, prev = -1;
    size_t nlines = 0;
    for (const char *l = text; l && *l; l = next_line(l)) {
        const char *nm;
        size_t nl = dev_line_name(ds->kind, l, &nm);
        if (!nl)
            continue;
        int e = expect;
        if (e < 0 || !dev_name_is(&ds->names[e], nm, nl)) {
            changed = true;
            e = dev_find(ds, nm, nl);
            if (e < 0 && (e = dev_new_name(ds, l, nm, nl, f, t)) < 0)
                continue;
        }
        struct dev_name *dn = &ds->names[e];
        if (dn->gen == ds->gen) { /* listed twice in one read: the first counts */
            changed = true;
            continue;
        }
        expect = dn->next;
        if (prev >= 0)
            ds->names[prev].next = e;
        else
            ds->head = e;
        prev = e;
        nlines++;
        dn->gen = ds->gen;
        if (dn->slot >= 0 && ds->gen > 0)
            dev_update(ds, &ds->slots[dn->slot], l, f, dt, tot, &any);
    }
    if (prev >= 0)
        ds->names[prev].next = -1;
    else
        ds->head = -1;
    if (ds->gen > 0 && (changed || nlines != ds->nlines))
        dev_sweep(ds, t);
    ds->nlines = nlines;
    if (!any)
        return;
    for (int k = 0; k < ds->k->ncols; k++) {
        if (ds->kind == OBS_DEV_NET && k >= NET_RXERR)
            tot[k] += ds->gone[k];
        frame_set(f, ds->tot[k], tot[k]);
    }
}

struct obs_devset *obs_devset_new(enum obs_dev_kind kind, const char *text, struct frame *f,
                                  obs_dev_wanted_fn wanted, void *wanted_arg)
{
    struct obs_devset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return NULL;
    ds->kind = kind;
    ds->k = &dev_kinds[kind];
    ds->wanted = wanted ? wanted : kind == OBS_DEV_DISK ? default_disk_wanted
                                                         : default_net_wanted;
    ds->wanted_arg = wanted_arg;
    ds->head = -1;
    char name[96];
    for (int k = 0; k < DEV_NCOLS_MAX; k++)
        ds->tot[k] = -1;
    for (int k = 0; k < ds->k->ncols; k++) {
        snprintf(name, sizeof name, "%s_%s", ds->k->prefix, ds->k->suffix[k]);
        if (kind == OBS_DEV_DISK)
            ds->tot[k] = frame_add(f, name, k == DISK_BUSY ? "busiest disk, %" : "all disks",
                                   METRIC_GAUGE);
        else
            ds->tot[k] = frame_add(f, name, k < 2 ? "all interfaces but lo" :
                                   "all interfaces but lo, since start", k < 2 ?
                                   METRIC_GAUGE : METRIC_COUNTER);
    }
    dev_scan(ds, text, f, 0, NULL);
    return ds;
}

void obs_devset_sample(struct obs_devset *ds, const char *text, struct frame *f, double dt,
                       int64_t now_real_ns, obs_dev_note_fn note, void *note_arg)
{
    struct dev_tick t = {.note = note, .arg = note_arg, .real_ns = now_real_ns};
    if (++ds->gen == 0) /* wrapped (years at 10 ms): 0 is the start's */
        ds->gen = 1;
    dev_scan(ds, text, f, dt, &t);
}

size_t obs_devset_tracked(const struct obs_devset *ds)
{
    size_t n = 0;
    for (size_t i = 0; i < ds->nslots; i++)
        n += ds->slots[i].used && ds->slots[i].present;
    return n;
}

void obs_devset_free(struct obs_devset *ds)
{
    if (!ds)
        return;
    free(ds->slots);
    free(ds->names);
    free(ds);
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
    obs_devset_free(st->disks);
    obs_devset_free(st->nets);
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

    /* Disks (whole devices only) and interfaces (all but lo): the totals, and the
     * columns of those present now; later ones count in the totals only. */
    if (st->fd_disk >= 0 && sys_read(st, st->fd_disk) >= 0)
        st->disks = obs_devset_new(OBS_DEV_DISK, st->buf, f, NULL, NULL);
    if (st->fd_net >= 0 && sys_read(st, st->fd_net) >= 0)
        st->nets = obs_devset_new(OBS_DEV_NET, st->buf, f, NULL, NULL);

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

static void sys_note(void *arg, const char *text)
{
    session_note(arg, "%s", text);
}

static void sample_devs(struct sys_state *st, struct session *s, struct obs_devset *ds, int fd,
                        struct frame *f, double dt)
{
    if (ds && sys_read(st, fd) >= 0)
        obs_devset_sample(ds, st->buf, f, dt, f->t.real_ns, s ? sys_note : NULL, s);
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
    struct sys_state *st = state;
    int64_t now = moni_mono_ns();
    double dt = st->prev_ns ? (double)(now - st->prev_ns) / 1e9 : 0;
    st->prev_ns = now;
    sample_cpu(st, f);
    sample_load(st, f);
    sample_mem(st, f);
    sample_devs(st, s, st->disks, st->fd_disk, f, dt);
    sample_devs(st, s, st->nets, st->fd_net, f, dt);
    sample_psi(st, f);
}

const struct source_ops obs_source_system = {
    .name = "system",
    .init = sys_init,
    .sample = sys_sample,
    .free = sys_free,
};
