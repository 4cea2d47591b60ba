/* core/src-procfiles.c — the /proc files the sources share: each opened once, on
 * first use, and read at most once per tick however many sources use it.
 *
 * A kept-open file is re-read with pread(fd, ..., 0) every tick: seq_file
 * regenerates it on each read from offset 0, and this saves an open/close pair per
 * file per tick.  Parsing is the base layer's (procfs_*); this file never parses. */
#include <stdlib.h>

#include "core/obs-int.h"

static const char *const procfile_path[OBS_NPROCFILES] = {
    [OBS_PF_STAT] = "/proc/stat",
    [OBS_PF_LOADAVG] = "/proc/loadavg",
    [OBS_PF_MEMINFO] = "/proc/meminfo",
    [OBS_PF_DISKSTATS] = "/proc/diskstats",
    [OBS_PF_NETDEV] = "/proc/net/dev",
    [OBS_PF_PSI_CPU] = "/proc/pressure/cpu",
    [OBS_PF_PSI_MEMORY] = "/proc/pressure/memory",
    [OBS_PF_PSI_IO] = "/proc/pressure/io",
};

const char *obs_procfile_path(enum obs_procfile which)
{
    return (unsigned)which < OBS_NPROCFILES ? procfile_path[which] : "?";
}

struct obs_procfiles {
    struct procfs_file f[OBS_NPROCFILES];
    bool opened[OBS_NPROCFILES]; /* tried (a file that cannot be opened is not retried) */
    const char *text[OBS_NPROCFILES]; /* this tick's, NULL = not read yet (or unreadable) */
    bool read[OBS_NPROCFILES];   /* read this tick */
};

struct obs_procfiles *obs_procfiles_new(void)
{
    struct obs_procfiles *pf = calloc(1, sizeof *pf);
    if (pf)
        for (int i = 0; i < OBS_NPROCFILES; i++)
            pf->f[i].fd = -1;
    return pf;
}

void obs_procfiles_tick(struct obs_procfiles *pf)
{
    for (int i = 0; i < OBS_NPROCFILES; i++)
        pf->read[i] = false;
}

const char *obs_procfiles_text(struct obs_procfiles *pf, enum obs_procfile which)
{
    if (!pf || (unsigned)which >= OBS_NPROCFILES)
        return NULL;
    if (pf->read[which])
        return pf->text[which];
    if (!pf->opened[which]) {
        pf->opened[which] = true;
        procfs_file_open(&pf->f[which], procfile_path[which]);
    }
    pf->read[which] = true;
    pf->text[which] = procfs_file_read(&pf->f[which]);
    return pf->text[which];
}

void obs_procfiles_free(struct obs_procfiles *pf)
{
    if (!pf)
        return;
    for (int i = 0; i < OBS_NPROCFILES; i++)
        procfs_file_close(&pf->f[i]);
    free(pf);
}
