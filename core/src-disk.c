/* core/src-disk.c — the disk source: read/write bytes and IOPS and busy % of every
 * whole disk (loop, ram, zram, fd and sr devices left out) and their totals, from
 * /proc/diskstats.  This file says what a disk is (obs_dev_disk: its columns, how
 * a line names and counts it, which devices count); the device set (src-devset.c)
 * follows the disks that appear or go away after start. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/obs-int.h"

enum { DISK_RD, DISK_WR, DISK_RIOPS, DISK_WIOPS, DISK_BUSY, DISK_NCOLS };
static const struct obs_dev_col disk_cols[DISK_NCOLS] = {
    /* sectors are 512 bytes; io_ms is ms busy, so / (dt * 10) is % of the time */
    [DISK_RD] = {"read_Bps", "all disks", OBS_DEV_SUM, 512, 1, 0},
    [DISK_WR] = {"write_Bps", "all disks", OBS_DEV_SUM, 512, 1, 0},
    [DISK_RIOPS] = {"read_iops", "all disks", OBS_DEV_SUM, 1, 1, 0},
    [DISK_WIOPS] = {"write_iops", "all disks", OBS_DEV_SUM, 1, 1, 0},
    [DISK_BUSY] = {"busy_pct", "busiest disk, %", OBS_DEV_MAX, 1, 10, 100},
};

/* Whole disks only: partitions are not in /sys/block. */
static bool disk_wanted(const char *name, void *arg)
{
    (void)arg;
    if (!strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) || !strncmp(name, "zram", 4) ||
        !strncmp(name, "fd", 2) || !strncmp(name, "sr", 2))
        return false;
    char path[96];
    struct stat sb;
    snprintf(path, sizeof path, "/sys/block/%s", name);
    return stat(path, &sb) == 0;
}

/* "   8       0 sda 1 2 ...": the name after major and minor. */
static size_t disk_line_name(const char *l, const char **name)
{
    const char *p = l;
    while ((*p >= '0' && *p <= '9') || *p == ' ' || *p == '\t') /* major minor */
        p++;
    const char *s = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    size_t n = (size_t)(p - s);
    *name = s;
    return n < 32 ? n : 31;
}

static int disk_parse(const char *l, uint64_t c[OBS_DEV_COLS_MAX])
{
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

const struct obs_dev_class obs_dev_disk = {
    .what = "disk",
    .prefix = "disk",
    .dev_help = "one disk",
    .ncols = DISK_NCOLS,
    .col = disk_cols,
    .wanted = disk_wanted,
    .line_name = disk_line_name,
    .parse = disk_parse,
};

static int disk_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                     size_t errlen)
{
    (void)arg;
    return obs_devsrc_init(s, f, &obs_dev_disk, OBS_PF_DISKSTATS, state, err, errlen);
}

const struct source_ops obs_source_disk = {
    .name = "disk",
    .optional = true, /* a container may have no /proc/diskstats */
    .init = disk_init,
    .sample = obs_devsrc_sample,
    .free = obs_devsrc_free,
};
