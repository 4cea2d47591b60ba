/* core/src-mem.c — the memory source: total, used (as free(1) counts it),
 * available, cache, free and swap from /proc/meminfo.  Its columns are there even
 * when the file cannot be read (the values are then missing, never 0).  It reads
 * through the session's shared files and never opens one itself. */
#include <stdlib.h>

#include "core/obs-int.h"

enum { MEM_TOTAL, MEM_USED, MEM_AVAIL, MEM_CACHED, MEM_FREE, SWAP_TOTAL, SWAP_USED, MEM_NCOLS };
static const char *const mem_col_name[MEM_NCOLS] = {
    "mem_total_bytes", "mem_used_bytes", "mem_available_bytes", "mem_cached_bytes",
    "mem_free_bytes",  "swap_total_bytes", "swap_used_bytes",
};

struct mem_state {
    int col[MEM_NCOLS];
};

static int mem_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                    size_t errlen)
{
    (void)s;
    (void)arg;
    struct mem_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int k = 0; k < MEM_NCOLS; k++)
        st->col[k] = frame_add(f, mem_col_name[k], "memory (/proc/meminfo)", METRIC_GAUGE);
    *state = st;
    return 0;
}

static void mem_sample(struct session *s, void *state, struct frame *f)
{
    const int *col = ((struct mem_state *)state)->col;
    const char *text = obs_session_procfile(s, OBS_PF_MEMINFO);
    struct procfs_mem m;
    if (!text || procfs_parse_meminfo(text, &m) < 0)
        return;
    frame_set(f, col[MEM_TOTAL], (double)m.total);
    if (m.free >= 0 && m.buffers >= 0 && m.cached >= 0) {
        /* As free(1): used = total - free - buffers - cache (cache incl. SReclaimable). */
        int64_t cache = m.cached + (m.sreclaimable > 0 ? m.sreclaimable : 0);
        int64_t used = m.total - m.free - m.buffers - cache;
        if (used < 0)
            used = m.total - m.free;
        frame_set(f, col[MEM_USED], (double)used);
        frame_set(f, col[MEM_CACHED], (double)cache);
    }
    if (m.available >= 0)
        frame_set(f, col[MEM_AVAIL], (double)m.available);
    if (m.free >= 0)
        frame_set(f, col[MEM_FREE], (double)m.free);
    if (m.swap_total >= 0) {
        frame_set(f, col[SWAP_TOTAL], (double)m.swap_total);
        if (m.swap_free >= 0)
            frame_set(f, col[SWAP_USED], (double)(m.swap_total - m.swap_free));
    }
}

const struct source_ops obs_source_mem = {
    .name = "memory",
    .init = mem_init,
    .sample = mem_sample,
    .free = free,
};
