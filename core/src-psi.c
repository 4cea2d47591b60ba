/* core/src-psi.c — the pressure source: PSI "some" and "full" avg10 and totals for
 * cpu, memory and io from /proc/pressure/{cpu,memory,io}, where the kernel has it
 * (columns only for the resources and lines present at start).  Optional: a kernel
 * without PSI leaves it out.  It reads through the session's shared files. */
#include <stdlib.h>

#include "core/obs-int.h"

#define PSI_NRES 3
static const char *const psi_res[PSI_NRES] = {"cpu", "memory", "io"};
static const enum obs_procfile psi_file[PSI_NRES] = {OBS_PF_PSI_CPU, OBS_PF_PSI_MEMORY,
                                                     OBS_PF_PSI_IO};
enum { PSI_SOME10, PSI_FULL10, PSI_SOMET, PSI_FULLT, PSI_NCOLS };

struct psi_state {
    int col[PSI_NRES][PSI_NCOLS]; /* -1 = not present at start */
};

static int psi_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                    size_t errlen)
{
    (void)arg;
    struct psi_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bool any = false;
    char name[96];
    for (int r = 0; r < PSI_NRES; r++) {
        for (int k = 0; k < PSI_NCOLS; k++)
            st->col[r][k] = -1;
        const char *text = obs_session_procfile(s, psi_file[r]);
        struct procfs_psi p;
        if (!text || procfs_parse_psi(text, &p) < 0)
            continue;
        any = true;
        snprintf(name, sizeof name, "psi_%s_some_avg10", psi_res[r]);
        st->col[r][PSI_SOME10] = frame_add(f, name, "PSI some, avg10 %", METRIC_GAUGE);
        snprintf(name, sizeof name, "psi_%s_some_total_us", psi_res[r]);
        st->col[r][PSI_SOMET] = frame_add(f, name, "PSI some, total us", METRIC_COUNTER);
        if (p.has_full) {
            snprintf(name, sizeof name, "psi_%s_full_avg10", psi_res[r]);
            st->col[r][PSI_FULL10] = frame_add(f, name, "PSI full, avg10 %", METRIC_GAUGE);
            snprintf(name, sizeof name, "psi_%s_full_total_us", psi_res[r]);
            st->col[r][PSI_FULLT] = frame_add(f, name, "PSI full, total us", METRIC_COUNTER);
        }
    }
    if (!any) {
        free(st);
        snprintf(err, errlen, "no /proc/pressure (PSI) on this kernel");
        return -1;
    }
    *state = st;
    return 0;
}

static void psi_sample(struct session *s, void *state, struct frame *f)
{
    struct psi_state *st = state;
    for (int r = 0; r < PSI_NRES; r++) {
        if (st->col[r][PSI_SOME10] < 0)
            continue;
        const char *text = obs_session_procfile(s, psi_file[r]);
        struct procfs_psi p;
        if (!text || procfs_parse_psi(text, &p) < 0)
            continue;
        frame_set(f, st->col[r][PSI_SOME10], p.some_avg10);
        frame_set(f, st->col[r][PSI_SOMET], (double)p.some_total);
        if (p.has_full) {
            frame_set(f, st->col[r][PSI_FULL10], p.full_avg10);
            frame_set(f, st->col[r][PSI_FULLT], (double)p.full_total);
        }
    }
}

const struct source_ops obs_source_psi = {
    .name = "pressure",
    .optional = true,
    .init = psi_init,
    .sample = psi_sample,
    .free = free,
};
