/* tests/unit/test_observer_hotplug.c — disks and interfaces that appear or go away
 * after start (obs_devset in core/src-devset.c), driven with synthetic
 * /proc/diskstats and /proc/net/dev texts: a new device's first read is its
 * baseline, then it counts in the totals; one that goes away leaves them (and its
 * own columns are missing); one that comes back with reset counters starts again
 * from a new baseline; each change is noted once; names are classified once; the
 * number of devices tracked is capped. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/obs-int.h"

/* ---- fixtures ------------------------------------------------------------------- */

struct dev { /* one line of a synthetic file */
    const char *name;
    uint64_t a, b, c, d, e, f; /* disk: rd_ios rd_sect wr_ios wr_sect io_ms; net: see net_text */
};

/* /proc/diskstats with 11 numbers after the name (as in kernels >= 4.18, cut). */
static char *disk_text(const struct dev *d, size_t n)
{
    size_t cap = 128 + n * 160, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    t[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                " 254       %zu %s %llu 0 %llu 0 %llu 0 %llu 0 0 %llu 0\n", i,
                                d[i].name, (unsigned long long)d[i].a,
                                (unsigned long long)d[i].b, (unsigned long long)d[i].c,
                                (unsigned long long)d[i].d, (unsigned long long)d[i].e);
    return t;
}

/* /proc/net/dev: a = rx_bytes, b = tx_bytes, c = rx_errs, d = tx_errs, e = rx_drop,
 * f = tx_drop. */
static char *net_text(const struct dev *d, size_t n)
{
    size_t cap = 256 + n * 200, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    len += (size_t)snprintf(t, cap, "Inter-|   Receive                                  "
                            "              |  Transmit\n face |bytes    packets errs drop "
                            "fifo frame compressed multicast|bytes    packets errs drop fifo "
                            "colls carrier compressed\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "%6s: %llu 10 %llu %llu 0 0 0 0 %llu 20 %llu %llu 0 0 0 0\n",
                                d[i].name, (unsigned long long)d[i].a,
                                (unsigned long long)d[i].c, (unsigned long long)d[i].e,
                                (unsigned long long)d[i].b, (unsigned long long)d[i].d,
                                (unsigned long long)d[i].f);
    return t;
}

/* The predicate, counting its calls per name: wanted unless it starts with "loop",
 * is "lo", or ends in a digit after a letter 'a'..'z' then digit (partitions "vda1"). */
static struct {
    char name[4096][32];
    unsigned calls[4096];
    size_t n;
    unsigned total;
} asked;

static bool counting_wanted(const char *name, void *arg)
{
    (void)arg;
    asked.total++;
    size_t i = 0;
    while (i < asked.n && strcmp(asked.name[i], name) != 0)
        i++;
    if (i == asked.n && asked.n < 4096)
        snprintf(asked.name[asked.n++], 32, "%s", name);
    if (i < 4096)
        asked.calls[i]++;
    size_t l = strlen(name);
    if (!strncmp(name, "loop", 4) || !strcmp(name, "lo"))
        return false;
    if (!strncmp(name, "vd", 2) && l > 3) /* vda1: a partition */
        return false;
    return true;
}

static unsigned asked_calls(const char *name)
{
    for (size_t i = 0; i < asked.n; i++)
        if (!strcmp(asked.name[i], name))
            return asked.calls[i];
    return 0;
}

static struct {
    char text[256][256];
    size_t n;
} notes;

static void note_cb(void *arg, const char *text)
{
    assert_ptr_equal(arg, &notes);
    if (notes.n < 256)
        snprintf(notes.text[notes.n], sizeof notes.text[0], "%s", text);
    notes.n++;
}

static bool noted(const char *needle)
{
    for (size_t i = 0; i < notes.n && i < 256; i++)
        if (strstr(notes.text[i], needle))
            return true;
    return false;
}

static int setup(void **state)
{
    (void)state;
    memset(&asked, 0, sizeof asked);
    memset(&notes, 0, sizeof notes);
    return 0;
}

/* The value of a column, or NaN when it is missing; -INF when there is no column. */
static double val(const struct frame *f, const char *col)
{
    int c = frame_find(f, col);
    if (c < 0)
        return -INFINITY;
    double v;
    return frame_get(f, c, &v) ? v : NAN;
}

#define T0 1790000000000000000LL /* 2026-09-21T...Z */

static void tick(struct obs_devset *ds, struct frame *f, char *text)
{
    frame_clear(f);
    obs_devset_sample(ds, text, f, 1.0, T0, note_cb, &notes);
    free(text);
}

/* ---- disks ---------------------------------------------------------------------- */

static void test_disk_appear(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    struct dev d[3] = {{"loop0", 0, 0, 0, 0, 0, 0}, {"vda", 100, 1000, 50, 500, 10, 0},
                       {"vda1", 90, 900, 40, 400, 9, 0}};
    char *t = disk_text(d, 3);
    struct obs_devset *ds = obs_devset_new(&obs_dev_disk, t, &f, counting_wanted, NULL);
    free(t);
    assert_non_null(ds);
    assert_true(frame_find(&f, "disk_read_Bps") >= 0);
    assert_true(frame_find(&f, "disk_vda_read_Bps") >= 0);
    assert_true(frame_find(&f, "disk_loop0_read_Bps") < 0);
    assert_true(frame_find(&f, "disk_vda1_read_Bps") < 0);
    size_t ncols = f.ncols;
    assert_int_equal(obs_devset_tracked(ds), 1);

    tick(ds, &f, disk_text(d, 3)); /* first tick: baselines, totals missing */
    assert_true(isnan(val(&f, "disk_read_Bps")));
    assert_true(isnan(val(&f, "disk_vda_read_Bps")));

    /* sdb appears: its first read is a baseline, however big its counters */
    struct dev d2[4] = {d[0], {"vda", 110, 1100, 50, 500, 510, 0}, d[2],
                        {"sdb", 7000, 900000, 7000, 900000, 99999, 0}};
    tick(ds, &f, disk_text(d2, 4));
    assert_int_equal(notes.n, 1);
    assert_true(noted("disk sdb appeared at 2026-"));
    assert_true(noted("counted in disk_* totals; no per-device columns in this run"));
    assert_true(frame_find(&f, "disk_sdb_read_Bps") < 0);
    assert_int_equal(f.ncols, ncols); /* no columns added after start */
    assert_int_equal(obs_devset_tracked(ds), 2);
    assert_true(val(&f, "disk_vda_read_Bps") == 100 * 512.0);
    assert_true(val(&f, "disk_read_Bps") == 100 * 512.0);
    assert_true(val(&f, "disk_read_iops") == 10);
    assert_true(val(&f, "disk_busy_pct") == 50);

    /* next tick: sdb counts */
    struct dev d3[4] = {d[0], {"vda", 110, 1100, 50, 500, 610, 0}, d[2],
                        {"sdb", 7010, 900200, 7001, 900008, 99999 + 800, 0}};
    tick(ds, &f, disk_text(d3, 4));
    assert_true(val(&f, "disk_read_Bps") == 200 * 512.0);
    assert_true(val(&f, "disk_write_Bps") == 8 * 512.0);
    assert_true(val(&f, "disk_read_iops") == 10);
    assert_true(val(&f, "disk_write_iops") == 1);
    assert_true(val(&f, "disk_busy_pct") == 80); /* the busiest */
    assert_true(val(&f, "disk_vda_busy_pct") == 10);

    /* nothing changes for a while: nobody is asked again, nothing noted */
    for (int i = 0; i < 20; i++)
        tick(ds, &f, disk_text(d3, 4));
    assert_int_equal(asked_calls("loop0"), 1);
    assert_int_equal(asked_calls("vda1"), 1);
    assert_int_equal(asked_calls("vda"), 1);
    assert_int_equal(asked_calls("sdb"), 1);
    assert_int_equal(asked.total, 4);
    assert_int_equal(notes.n, 1);
    assert_true(val(&f, "disk_read_Bps") == 0);

    obs_devset_free(ds);
    frame_free(&f);
}

static void test_disk_disappear_reappear(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    struct dev d[2] = {{"vda", 100, 1000, 50, 500, 10, 0}, {"sdb", 10, 100, 10, 100, 10, 0}};
    char *t = disk_text(d, 1);
    struct obs_devset *ds = obs_devset_new(&obs_dev_disk, t, &f, counting_wanted, NULL);
    free(t);
    tick(ds, &f, disk_text(d, 1));
    tick(ds, &f, disk_text(d, 2)); /* sdb appears */
    d[0].b += 10;
    d[1].b += 1000;
    tick(ds, &f, disk_text(d, 2));
    assert_true(val(&f, "disk_read_Bps") == 1010 * 512.0);

    /* sdb goes: noted, the totals drop it */
    d[0].b += 10;
    tick(ds, &f, disk_text(d, 1));
    assert_true(noted("disk sdb disappeared at 2026-"));
    assert_true(val(&f, "disk_read_Bps") == 10 * 512.0);
    assert_int_equal(obs_devset_tracked(ds), 1);

    /* vda (present at start) goes: its columns are missing, not 0 */
    struct dev none[1] = {{"loop0", 0, 0, 0, 0, 0, 0}};
    tick(ds, &f, disk_text(none, 1));
    assert_true(noted("disk vda disappeared at"));
    assert_true(isnan(val(&f, "disk_vda_read_Bps")));
    assert_true(isnan(val(&f, "disk_read_Bps")));
    assert_int_equal(obs_devset_tracked(ds), 0);

    /* vda comes back with counters restarted: a baseline, then small rates */
    struct dev again[2] = {{"vda", 1, 8, 1, 8, 1, 0}, {"sdb", 0, 0, 0, 0, 0, 0}};
    size_t before = notes.n;
    tick(ds, &f, disk_text(again, 2));
    assert_int_equal(notes.n, before + 2);
    assert_true(noted("disk vda reappeared at"));
    assert_true(noted("disk sdb appeared at"));
    assert_true(isnan(val(&f, "disk_vda_read_Bps")));
    assert_true(isnan(val(&f, "disk_read_Bps")));
    again[0].b += 16;
    again[1].b += 4;
    tick(ds, &f, disk_text(again, 2));
    assert_true(val(&f, "disk_vda_read_Bps") == 16 * 512.0);
    assert_true(val(&f, "disk_read_Bps") == 20 * 512.0);
    assert_int_equal(notes.n, before + 2);
    /* each coming back was classified again, once */
    assert_int_equal(asked_calls("vda"), 2);
    assert_int_equal(asked_calls("sdb"), 2);
    obs_devset_free(ds);
    frame_free(&f);
}

/* ---- interfaces ------------------------------------------------------------------ */

static void test_net_appear_counters(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    struct dev n[3] = {{"lo", 5000, 5000, 0, 0, 0, 0}, {"eth0", 1000, 2000, 1, 2, 3, 4},
                       {"veth1", 10000, 20000, 5, 6, 7, 8}};
    char *t = net_text(n, 2);
    struct obs_devset *ds = obs_devset_new(&obs_dev_net, t, &f, counting_wanted, NULL);
    free(t);
    assert_true(frame_find(&f, "net_eth0_rx_Bps") >= 0);
    assert_true(frame_find(&f, "net_lo_rx_Bps") < 0);
    tick(ds, &f, net_text(n, 2));
    tick(ds, &f, net_text(n, 3)); /* veth1 appears with errors already counted */
    assert_true(noted("interface veth1 appeared at"));
    assert_true(val(&f, "net_rx_Bps") == 0);
    assert_true(val(&f, "net_rx_errors") == 0);
    n[1].a += 100;
    n[1].c += 1;
    n[2].a += 1000;
    n[2].b += 3000;
    n[2].c += 2;
    n[2].f += 4;
    n[0].a += 1000000; /* lo stays out */
    tick(ds, &f, net_text(n, 3));
    assert_true(val(&f, "net_rx_Bps") == 1100);
    assert_true(val(&f, "net_tx_Bps") == 3000);
    assert_true(val(&f, "net_rx_errors") == 3); /* from veth1's first sighting */
    assert_true(val(&f, "net_tx_drops") == 4);
    assert_true(val(&f, "net_eth0_rx_errors") == 1);

    /* veth1 goes: the rates drop it, the errors it counted stay counted */
    n[1].a += 50;
    tick(ds, &f, net_text(n, 2));
    assert_true(noted("interface veth1 disappeared at"));
    assert_true(val(&f, "net_rx_Bps") == 50);
    assert_true(val(&f, "net_rx_errors") == 3);
    assert_true(val(&f, "net_tx_drops") == 4);

    /* and comes back with its counters reset: no spike, no negative */
    struct dev n2[3] = {n[0], n[1], {"veth1", 0, 0, 0, 0, 0, 0}};
    tick(ds, &f, net_text(n2, 3));
    assert_true(noted("interface veth1 appeared at"));
    assert_true(val(&f, "net_rx_Bps") == 0);
    n2[2].a = 10;
    n2[2].c = 1;
    tick(ds, &f, net_text(n2, 3));
    assert_true(val(&f, "net_rx_Bps") == 10);
    assert_true(val(&f, "net_rx_errors") == 4);

    /* eth0 (present at start) goes and comes back reset: its own columns are missing
     * meanwhile, then its since-start counts go on from where they were */
    struct dev n3[1] = {n2[2]};
    tick(ds, &f, net_text(n3, 1));
    assert_true(isnan(val(&f, "net_eth0_rx_Bps")));
    assert_true(isnan(val(&f, "net_eth0_rx_errors")));
    assert_true(val(&f, "net_rx_errors") == 4);
    struct dev n4[2] = {n2[2], {"eth0", 0, 0, 0, 0, 0, 0}};
    tick(ds, &f, net_text(n4, 2));
    assert_true(noted("interface eth0 reappeared at"));
    assert_true(isnan(val(&f, "net_eth0_rx_Bps")));
    n4[1].a = 30;
    n4[1].c = 2;
    tick(ds, &f, net_text(n4, 2));
    assert_true(val(&f, "net_eth0_rx_Bps") == 30);
    assert_true(val(&f, "net_eth0_rx_errors") == 3);
    assert_true(val(&f, "net_rx_errors") == 6);
    assert_int_equal(asked_calls("lo"), 1);
    obs_devset_free(ds);
    frame_free(&f);
}

/* Lines in another order, or one listed twice: nothing noted, values unchanged. */
static void test_reorder(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    struct dev n[3] = {{"eth0", 1000, 0, 0, 0, 0, 0}, {"eth1", 2000, 0, 0, 0, 0, 0},
                       {"eth2", 3000, 0, 0, 0, 0, 0}};
    char *t = net_text(n, 3);
    struct obs_devset *ds = obs_devset_new(&obs_dev_net, t, &f, counting_wanted, NULL);
    free(t);
    tick(ds, &f, net_text(n, 3));
    n[0].a += 1;
    n[1].a += 2;
    n[2].a += 4;
    struct dev r[4] = {n[2], n[0], n[1], n[0]};
    tick(ds, &f, net_text(r, 4));
    assert_true(val(&f, "net_rx_Bps") == 7);
    assert_true(val(&f, "net_eth2_rx_Bps") == 4);
    assert_int_equal(notes.n, 0);
    assert_int_equal(asked.total, 3);
    obs_devset_free(ds);
    frame_free(&f);
}

/* ---- bounds ----------------------------------------------------------------------- */

static void test_cap(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    enum { FLOOD = 200 };
    static char names[FLOOD][16];
    struct dev n[FLOOD + 1];
    n[0] = (struct dev){"eth0", 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < FLOOD; i++) {
        snprintf(names[i], sizeof names[i], "veth%d", i);
        n[i + 1] = (struct dev){names[i], 0, 0, 0, 0, 0, 0};
    }
    char *t = net_text(n, 1);
    struct obs_devset *ds = obs_devset_new(&obs_dev_net, t, &f, counting_wanted, NULL);
    free(t);
    size_t ncols = f.ncols;
    tick(ds, &f, net_text(n, 1));
    tick(ds, &f, net_text(n, FLOOD + 1));
    assert_int_equal(obs_devset_tracked(ds), 1 + OBS_DEV_HOTPLUG_MAX);
    assert_int_equal(f.ncols, ncols);
    assert_true(noted("interface veth63 appeared at"));
    assert_true(noted("interface veth64 appeared at"));
    assert_true(noted("not counted (already 64 interfaces that appeared after start)"));
    /* notes are bounded too: OBS_DEV_NOTES_MAX, then one saying so */
    assert_int_equal(notes.n, OBS_DEV_NOTES_MAX + 1);
    assert_true(noted("the later ones are not noted"));
    for (int i = 0; i < FLOOD + 1; i++)
        n[i].a += 1;
    tick(ds, &f, net_text(n, FLOOD + 1));
    assert_true(val(&f, "net_rx_Bps") == 1 + OBS_DEV_HOTPLUG_MAX);
    assert_int_equal(asked.total, 1 + FLOOD); /* each name once, counted or not */

    /* the flood goes: room again for a new one */
    tick(ds, &f, net_text(n, 1));
    assert_int_equal(obs_devset_tracked(ds), 1);
    struct dev m[2] = {n[0], {"veth999", 0, 0, 0, 0, 0, 0}};
    tick(ds, &f, net_text(m, 2));
    assert_int_equal(obs_devset_tracked(ds), 2);
    obs_devset_free(ds);
    frame_free(&f);
}

/* More names than the table holds (loop devices): the rest are not classified at
 * all, so they cost no stat per tick either. */
static void test_names_table_full(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    enum { N = OBS_DEV_NAMES_MAX + 100 };
    static char names[N][16];
    static struct dev d[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "loop%d", i);
        d[i] = (struct dev){names[i], 0, 0, 0, 0, 0, 0};
    }
    d[N - 1] = (struct dev){"vda", 0, 0, 0, 0, 0, 0};
    char *t = disk_text(d, N);
    struct obs_devset *ds = obs_devset_new(&obs_dev_disk, t, &f, counting_wanted, NULL);
    free(t);
    assert_int_equal(asked.total, OBS_DEV_NAMES_MAX);
    for (int i = 0; i < 5; i++)
        tick(ds, &f, disk_text(d, N));
    assert_int_equal(asked.total, OBS_DEV_NAMES_MAX);
    assert_true(noted("more than 1024 disk names"));
    obs_devset_free(ds);
    frame_free(&f);
}

/* The real predicates (no injection): loop/ram devices are refused without a stat,
 * lo is left out; no note when the caller gives no note function. */
static void test_defaults(void **state)
{
    (void)state;
    struct frame f;
    frame_init(&f);
    struct dev n[2] = {{"lo", 1, 1, 0, 0, 0, 0}, {"eth0", 1, 1, 0, 0, 0, 0}};
    char *t = net_text(n, 2);
    struct obs_devset *ds = obs_devset_new(&obs_dev_net, t, &f, NULL, NULL);
    free(t);
    assert_true(frame_find(&f, "net_eth0_tx_Bps") >= 0);
    assert_true(frame_find(&f, "net_lo_tx_Bps") < 0);
    frame_clear(&f);
    t = net_text(n, 1);
    obs_devset_sample(ds, t, &f, 1.0, T0, NULL, NULL);
    free(t);
    assert_int_equal(obs_devset_tracked(ds), 0);
    obs_devset_free(ds);

    struct dev d[2] = {{"loop0", 0, 0, 0, 0, 0, 0}, {"ram0", 0, 0, 0, 0, 0, 0}};
    t = disk_text(d, 2);
    ds = obs_devset_new(&obs_dev_disk, t, &f, NULL, NULL);
    free(t);
    assert_int_equal(obs_devset_tracked(ds), 0);
    assert_true(frame_find(&f, "disk_read_Bps") >= 0);
    obs_devset_free(ds);
    frame_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_disk_appear, setup),
        cmocka_unit_test_setup(test_disk_disappear_reappear, setup),
        cmocka_unit_test_setup(test_net_appear_counters, setup),
        cmocka_unit_test_setup(test_reorder, setup),
        cmocka_unit_test_setup(test_cap, setup),
        cmocka_unit_test_setup(test_names_table_full, setup),
        cmocka_unit_test_setup(test_defaults, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
