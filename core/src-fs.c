/* core/src-fs.c — the filesystem source: how full the filesystem of the run
 * directory is (used %, and the bytes still available to moni), from statvfs every
 * few seconds.  Without a run directory it watches the current directory's. */
#include <stdlib.h>
#include <sys/statvfs.h>

#include "core/obs-int.h"

struct fs_state {
    int used, free_;
};

static int fs_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                   size_t errlen)
{
    (void)s;
    (void)arg;
    struct fs_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->used = frame_add(f, "fs_out_used_pct", "filesystem of the run directory, used %",
                         METRIC_GAUGE);
    st->free_ = frame_add(f, "fs_out_free_bytes",
                          "filesystem of the run directory, available to moni", METRIC_GAUGE);
    *state = st;
    return 0;
}

double obs_fs_used_pct(unsigned long long blocks, unsigned long long bfree,
                       unsigned long long bavail)
{
    /* the blocks reserved for root are neither used nor available, as in df */
    unsigned long long used = blocks > bfree ? blocks - bfree : 0;
    if (used + bavail == 0)
        return 0.0 / 0.0;
    return 100.0 * (double)used / (double)(used + bavail);
}

static void fs_sample(struct session *s, void *state, struct frame *f)
{
    struct fs_state *st = state;
    const char *dir = session_run_dir(s);
    struct statvfs sv;
    if (statvfs(dir ? dir : ".", &sv) != 0 || sv.f_blocks == 0)
        return; /* missing, not 0 */
    double pct = obs_fs_used_pct(sv.f_blocks, sv.f_bfree, sv.f_bavail);
    if (pct == pct) /* not NaN */
        frame_set(f, st->used, pct);
    frame_set(f, st->free_, (double)sv.f_bavail * (double)sv.f_frsize);
}

const struct source_ops obs_source_fs = {
    .name = "fs",
    .cadence_ns = 5 * MONI_NS_PER_SEC, /* statvfs is cheap, but the value moves slowly */
    .init = fs_init,
    .sample = fs_sample,
    .free = free,
};
