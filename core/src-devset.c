/* core/src-devset.c — devices that come and go: the per-device and total columns
 * of a source whose file lists one device per line (disks in /proc/diskstats,
 * interfaces in /proc/net/dev), with devices that appear or go away after start
 * (obs-int.h says what the columns and totals hold).  What a kind of device is
 * (its columns, how a line names and counts it, which devices count) comes from
 * its obs_dev_class, in the source's own file; this file knows no kind by name and
 * never reads a file itself: the sources hand it the text. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/obs-int.h"

/* Column names keep [A-Za-z0-9_]; anything else becomes '_'. */
static void col_name(char *out, size_t len, const char *prefix, const char *mid,
                     const char *suffix)
{
    char m[40];
    size_t i = 0;
    for (; mid[i] && i < sizeof m - 1; i++)
        m[i] = isalnum((unsigned char)mid[i]) ? mid[i] : '_';
    m[i] = '\0';
    snprintf(out, len, "%s_%s_%s", prefix, m, suffix);
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

enum { DEV_NCOLS_MAX = OBS_DEV_COLS_MAX };

struct dev_slot {                  /* a device counted in the totals */
    char name[32];
    int col[DEV_NCOLS_MAX];        /* its own columns; -1 if it appeared after start */
    uint64_t prev[DEV_NCOLS_MAX];  /* counters at the last read */
    uint64_t base[DEV_NCOLS_MAX];  /* ... at its first read (since-start columns) */
    double acc[DEV_NCOLS_MAX];     /* since-start counts of its earlier lives */
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
    const struct obs_dev_class *k;
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
    double gone[DEV_NCOLS_MAX]; /* since-start counts of devices that went away */
    unsigned notes;
    bool names_full_noted;
};

struct dev_tick { /* what one read reports through */
    obs_dev_note_fn note;
    void *arg;
    int64_t real_ns;
    char when[MONI_ISO_LEN];
};

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
    const struct obs_dev_class *k = ds->k;
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
            col_name(col, sizeof col, k->prefix, name, k->col[c].suffix);
            sl->col[c] = frame_add(f, col, k->dev_help, k->col[c].agg == OBS_DEV_SINCE_START ?
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
    if (ds->k->parse(l, c) < 0)
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
    if (ds->k->parse(l, c) < 0)
        return;
    int n = ds->k->ncols;
    if (!sl->seen) { /* first read of this life: the baseline */
        memcpy(sl->base, c, sizeof c);
        memcpy(sl->prev, c, sizeof c);
        sl->seen = true;
        return;
    }
    if (dt > 0) {
        for (int k = 0; k < n; k++) {
            const struct obs_dev_col *col = &ds->k->col[k];
            double v;
            if (col->agg == OBS_DEV_SINCE_START) {
                double d = delta(c[k], sl->base[k]);
                tot[k] += d; /* the totals add the earlier lives from ds->gone */
                v = sl->acc[k] + d;
            } else {
                v = delta(c[k], sl->prev[k]) * col->mul / (dt * col->div);
                if (col->cap > 0 && v > col->cap)
                    v = col->cap;
                if (col->agg == OBS_DEV_MAX)
                    tot[k] = v > tot[k] ? v : tot[k];
                else
                    tot[k] += v;
            }
            frame_set(f, sl->col[k], v);
        }
        *any = true;
    }
    memcpy(sl->prev, c, sizeof c);
}

/* Names the last read did not list: their devices went away. */
static void dev_sweep(struct obs_devset *ds, struct dev_tick *t)
{
    const struct obs_dev_class *k = ds->k;
    for (size_t i = 0; i < ds->names_len; i++) {
        struct dev_name *e = &ds->names[i];
        if (!e->len || e->gen == ds->gen)
            continue;
        if (e->slot >= 0 && (size_t)e->slot < ds->nslots) {
            struct dev_slot *sl = &ds->slots[e->slot];
            for (int c = 0; c < k->ncols && sl->seen; c++) {
                if (k->col[c].agg != OBS_DEV_SINCE_START)
                    continue;
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
        size_t nl = ds->k->line_name(l, &nm);
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
        if (ds->k->col[k].agg == OBS_DEV_SINCE_START)
            tot[k] += ds->gone[k];
        frame_set(f, ds->tot[k], tot[k]);
    }
}

struct obs_devset *obs_devset_new(const struct obs_dev_class *k, const char *text,
                                  struct frame *f, obs_dev_wanted_fn wanted, void *wanted_arg)
{
    if (k->ncols > DEV_NCOLS_MAX)
        return NULL;
    struct obs_devset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return NULL;
    ds->k = k;
    ds->wanted = wanted ? wanted : k->wanted;
    ds->wanted_arg = wanted_arg;
    ds->head = -1;
    char name[96];
    for (int c = 0; c < DEV_NCOLS_MAX; c++)
        ds->tot[c] = -1;
    for (int c = 0; c < k->ncols; c++) {
        snprintf(name, sizeof name, "%s_%s", k->prefix, k->col[c].suffix);
        ds->tot[c] = frame_add(f, name, k->col[c].total_help,
                               k->col[c].agg == OBS_DEV_SINCE_START ? METRIC_COUNTER
                                                                    : METRIC_GAUGE);
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

/* ---- a source over one device set (the disk and network sources) ------------------ */

struct devsrc {
    struct obs_devset *ds;
    enum obs_procfile file;
    int64_t prev_ns;
};

static void devsrc_note(void *session, const char *text)
{
    session_note(session, "%s", text);
}

int obs_devsrc_init(struct session *s, struct frame *f, const struct obs_dev_class *k,
                    enum obs_procfile file, void **state, char *err, size_t errlen)
{
    const char *text = obs_session_procfile(s, file);
    if (!text) {
        snprintf(err, errlen, "cannot read %s", obs_procfile_path(file));
        return -1;
    }
    struct devsrc *st = calloc(1, sizeof *st);
    if (!st || !(st->ds = obs_devset_new(k, text, f, NULL, NULL))) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->file = file;
    *state = st;
    return 0;
}

void obs_devsrc_sample(struct session *s, void *state, struct frame *f)
{
    struct devsrc *st = state;
    int64_t now = moni_mono_ns();
    double dt = st->prev_ns ? (double)(now - st->prev_ns) / 1e9 : 0;
    st->prev_ns = now;
    const char *text = obs_session_procfile(s, st->file);
    if (text)
        obs_devset_sample(st->ds, text, f, dt, f->t.real_ns, devsrc_note, s);
}

void obs_devsrc_free(void *state)
{
    struct devsrc *st = state;
    if (st)
        obs_devset_free(st->ds);
    free(st);
}
