/* core/procfs.c — the base layer's /proc readers: pure parsers (text in, struct
 * out) for /proc/stat, meminfo, loadavg, diskstats, net/dev, pressure/{cpu,...} and
 * /proc/PID/{stat,io}, and the small readers around them.  The observer's sources,
 * the fault kinds and the commands all parse through here, so one file format has
 * one reader.  Part of the base layer: it must never include a moni header other
 * than core/base.h, and a parser never reads a file itself.
 *
 * The parsers are hand-written: sscanf/strtoull were ~60% of a sampling tick's
 * instructions.  On the text the kernel writes they give the same numbers as the
 * stdio versions they replaced (strtoull/strtoll with saturation, strtod for
 * decimals); a line never runs into the next one, and truncated text gives -1 or
 * "absent", never a read past the NUL. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"

/* ---- readers ---------------------------------------------------------------------- */

ssize_t procfs_pread(int fd, char *buf, size_t len)
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

ssize_t procfs_read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = procfs_pread(fd, buf, len);
    close(fd);
    return n;
}

#define PROCFS_FILE_MIN 4096
#define PROCFS_FILE_MAX (1u << 20)

int procfs_file_open(struct procfs_file *pf, const char *path)
{
    memset(pf, 0, sizeof *pf);
    pf->fd = open(path, O_RDONLY | O_CLOEXEC);
    return pf->fd >= 0 ? 0 : -1;
}

/* Doubles the buffer (the first time: PROCFS_FILE_MIN); 0, or -1 at the limit. */
static int file_grow(struct procfs_file *pf)
{
    if (pf->cap >= PROCFS_FILE_MAX)
        return -1;
    size_t want = pf->cap ? pf->cap * 2 : PROCFS_FILE_MIN;
    char *b = realloc(pf->buf, want);
    if (!b)
        return -1;
    pf->buf = b;
    pf->cap = want;
    return 0;
}

const char *procfs_file_read(struct procfs_file *pf)
{
    if (pf->fd < 0 || (!pf->cap && file_grow(pf) < 0))
        return NULL;
    for (;;) {
        ssize_t n = procfs_pread(pf->fd, pf->buf, pf->cap);
        if (n < 0) {
            pf->len = 0;
            return NULL;
        }
        pf->len = (size_t)n;
        /* a full buffer may have cut the text: read again into a bigger one */
        if (pf->len < pf->cap - 1 || file_grow(pf) < 0)
            return pf->buf;
    }
}

void procfs_file_close(struct procfs_file *pf)
{
    if (pf->fd >= 0)
        close(pf->fd);
    free(pf->buf);
    memset(pf, 0, sizeof *pf);
    pf->fd = -1;
}

/* ---- numbers ------------------------------------------------------------------------ */

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

const char *procfs_next_line(const char *p)
{
    p = strchr(p, '\n');
    return p ? p + 1 : NULL;
}

/* ---- /proc/stat, /proc/loadavg ------------------------------------------------------ */

int procfs_parse_cpu_line(const char *line, int *index, struct procfs_cpu_times *t)
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
    *t = (struct procfs_cpu_times){f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
    return 0;
}

int procfs_parse_stat_total(const char *text, struct procfs_cpu_times *t)
{
    int idx;
    for (const char *l = text; l && *l; l = procfs_next_line(l))
        if (procfs_parse_cpu_line(l, &idx, t) == 0 && idx == -1)
            return 0;
    return -1;
}

int procfs_read_cpu_total(struct procfs_cpu_times *t)
{
    char buf[1024]; /* the total is the first line */
    if (procfs_read_small("/proc/stat", buf, sizeof buf) <= 0)
        return -1;
    char *nl = strchr(buf, '\n');
    if (nl)
        nl[1] = '\0';
    else if (strlen(buf) == sizeof buf - 1)
        return -1; /* a first line longer than the buffer: not /proc/stat */
    return procfs_parse_stat_total(buf, t);
}

int procfs_parse_loadavg(const char *text, double avg[3])
{
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        p = skip_blank(p);
        if (!(p = parse_double(p, &avg[i])))
            return -1;
    }
    return 0;
}

long procfs_parse_last_pid(const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    long v = 0, mul = 1;
    size_t i = n;
    for (; i > 0 && is_digit(text[i - 1]); i--) {
        v += (text[i - 1] - '0') * mul;
        mul *= 10;
        if (mul > 1000000000L)
            return -1;
    }
    return i < n && i > 0 && text[i - 1] == ' ' ? v : -1;
}

/* ---- /proc/meminfo ------------------------------------------------------------------ */

int procfs_parse_meminfo(const char *text, struct procfs_mem *m)
{
    static const struct {
        const char *key; /* with the colon, matched at the start of a line */
        size_t len, off;
    } keys[] = {
#define MEMKEY(k, field) {k, sizeof k - 1, offsetof(struct procfs_mem, field)}
        MEMKEY("MemTotal:", total),         MEMKEY("MemFree:", free),
        MEMKEY("MemAvailable:", available), MEMKEY("Buffers:", buffers),
        MEMKEY("Cached:", cached),          MEMKEY("SReclaimable:", sreclaimable),
        MEMKEY("Shmem:", shmem),            MEMKEY("SwapTotal:", swap_total),
        MEMKEY("SwapFree:", swap_free),
#undef MEMKEY
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(keys); i++)
        *(int64_t *)((char *)m + keys[i].off) = -1;
    for (const char *p = text; p && *p; p = procfs_next_line(p)) {
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

int procfs_meminfo_field(const char *text, const char *key, int64_t *bytes)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = procfs_next_line(p)) {
        if (strncmp(p, key, kl) != 0 || p[kl] != ':')
            continue;
        int64_t kb;
        if (!parse_i64(skip_blank(p + kl + 1), &kb))
            return -1;
        *bytes = kb * 1024;
        return 0;
    }
    return -1;
}

int procfs_read_meminfo_field(const char *key, int64_t *bytes)
{
    char buf[16384]; /* /proc/meminfo is ~1.5K */
    if (procfs_read_small("/proc/meminfo", buf, sizeof buf) <= 0)
        return -1;
    return procfs_meminfo_field(buf, key, bytes);
}

/* ---- /proc/diskstats, /proc/net/dev ------------------------------------------------- */

int procfs_parse_diskstats_line(const char *line, struct procfs_disk *d)
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

int procfs_parse_netdev_line(const char *line, struct procfs_net *n)
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

/* ---- /proc/pressure/{cpu,memory,io} ------------------------------------------------ */

/* " key=" then a number; NULL on a mismatch. */
static const char *psi_field(const char *p, const char *key, size_t klen)
{
    p = skip_blank(p);
    if (strncmp(p, key, klen) != 0)
        return NULL;
    return p + klen;
}

int procfs_parse_psi(const char *text, struct procfs_psi *p)
{
    memset(p, 0, sizeof *p);
    for (const char *l = text; l && *l; l = procfs_next_line(l)) {
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

/* ---- /proc/PID/stat, /proc/PID/io --------------------------------------------------- */

int procfs_parse_pid_stat(const char *text, struct procfs_pid_stat *st)
{
    memset(st, 0, sizeof *st);
    int64_t pid;
    if (!parse_i64(skip_blank(text), &pid) || pid <= 0 || pid > INT32_MAX)
        return -1;
    const char *open_ = strchr(text, '(');
    const char *close_ = strrchr(text, ')'); /* comm may contain ')' */
    if (!open_ || !close_ || close_ < open_ || close_[1] != ' ')
        return -1;
    size_t cl = (size_t)(close_ - open_ - 1);
    if (cl >= sizeof st->comm)
        cl = sizeof st->comm - 1;
    memcpy(st->comm, open_ + 1, cl);
    st->comm[cl] = '\0';
    st->pid = (pid_t)pid;
    /* Fields after comm, numbered as in proc(5) from 3 (state). */
    const char *p = close_ + 2;
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

int procfs_parse_pid_io(const char *text, uint64_t *read_bytes, uint64_t *write_bytes)
{
    bool r = false, w = false;
    for (const char *l = text; l && *l; l = procfs_next_line(l)) {
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
