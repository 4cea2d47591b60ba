/* core/src-devset.c — disks and interfaces that come and go: the per-device and
 * total columns of the disk source (/proc/diskstats) and the network source
 * (/proc/net/dev), with devices that appear or go away after start (obs-int.h says
 * what the columns and totals hold).  It parses through the base layer's procfs
 * readers and never reads a file itself: the sources hand it the text. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/obs-int.h"

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

enum { DISK_RD, DISK_WR, DISK_RIOPS, DISK_WIOPS, DISK_BUSY, DISK_NCOLS };
static const char *const disk_suffix[DISK_NCOLS] = {"read_Bps", "write_Bps", "read_iops",
                                                    "write_iops", "busy_pct"};
enum { NET_RX, NET_TX, NET_RXERR, NET_TXERR, NET_RXDROP, NET_TXDROP, NET_NCOLS };
static const char *const net_suffix[NET_NCOLS] = {"rx_Bps", "tx_Bps", "rx_errors",
                                                  "tx_errors", "rx_drops", "tx_drops"};

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
        struct procfs_disk d;
        if (procfs_parse_diskstats_line(l, &d) < 0)
            return -1;
        c[DISK_RD] = d.rd_sectors;
        c[DISK_WR] = d.wr_sectors;
        c[DISK_RIOPS] = d.rd_ios;
        c[DISK_WIOPS] = d.wr_ios;
        c[DISK_BUSY] = d.io_ms;
        return 0;
    }
    struct procfs_net n;
    if (procfs_parse_netdev_line(l, &n) < 0)
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
    for (const char *l = text; l && *l; l = procfs_next_line(l)) {
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

void obs_devset_note_session(void *session, const char *text)
{
    session_note(session, "%s", text);
}
