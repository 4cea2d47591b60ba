/* core/src-disk.c — the disk source: read/write bytes and IOPS and busy % of every
 * whole disk (loop, ram, zram, fd and sr devices left out) and their totals, from
 * /proc/diskstats.  Disks that appear or go away after start are handled by the
 * device set (src-devset.c); this file only ties it to the session. */
#include <stdlib.h>

#include "core/obs-int.h"

struct disk_state {
    struct obs_devset *ds;
    int64_t prev_ns;
};

static int disk_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                     size_t errlen)
{
    (void)arg;
    const char *text = obs_session_procfile(s, OBS_PF_DISKSTATS);
    if (!text) {
        snprintf(err, errlen, "cannot read /proc/diskstats");
        return -1;
    }
    struct disk_state *st = calloc(1, sizeof *st);
    if (!st || !(st->ds = obs_devset_new(OBS_DEV_DISK, text, f, NULL, NULL))) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *state = st;
    return 0;
}

static void disk_sample(struct session *s, void *state, struct frame *f)
{
    struct disk_state *st = state;
    int64_t now = moni_mono_ns();
    double dt = st->prev_ns ? (double)(now - st->prev_ns) / 1e9 : 0;
    st->prev_ns = now;
    const char *text = obs_session_procfile(s, OBS_PF_DISKSTATS);
    if (text)
        obs_devset_sample(st->ds, text, f, dt, f->t.real_ns, obs_devset_note_session, s);
}

static void disk_free(void *state)
{
    struct disk_state *st = state;
    if (st)
        obs_devset_free(st->ds);
    free(st);
}

const struct source_ops obs_source_disk = {
    .name = "disk",
    .optional = true, /* a container may have no /proc/diskstats */
    .init = disk_init,
    .sample = disk_sample,
    .free = disk_free,
};
