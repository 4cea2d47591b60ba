/* core/src-net.c — the network source: receive/transmit bytes per second and the
 * errors and drops since start of every interface but lo, and their totals, from
 * /proc/net/dev.  Interfaces that appear or go away after start are handled by the
 * device set (src-devset.c); this file only ties it to the session. */
#include <stdlib.h>

#include "core/obs-int.h"

struct net_state {
    struct obs_devset *ds;
    int64_t prev_ns;
};

static int net_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                    size_t errlen)
{
    (void)arg;
    const char *text = obs_session_procfile(s, OBS_PF_NETDEV);
    if (!text) {
        snprintf(err, errlen, "cannot read /proc/net/dev");
        return -1;
    }
    struct net_state *st = calloc(1, sizeof *st);
    if (!st || !(st->ds = obs_devset_new(OBS_DEV_NET, text, f, NULL, NULL))) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *state = st;
    return 0;
}

static void net_sample(struct session *s, void *state, struct frame *f)
{
    struct net_state *st = state;
    int64_t now = moni_mono_ns();
    double dt = st->prev_ns ? (double)(now - st->prev_ns) / 1e9 : 0;
    st->prev_ns = now;
    const char *text = obs_session_procfile(s, OBS_PF_NETDEV);
    if (text)
        obs_devset_sample(st->ds, text, f, dt, f->t.real_ns, obs_devset_note_session, s);
}

static void net_free(void *state)
{
    struct net_state *st = state;
    if (st)
        obs_devset_free(st->ds);
    free(st);
}

const struct source_ops obs_source_net = {
    .name = "network",
    .optional = true, /* a network namespace may hide /proc/net/dev */
    .init = net_init,
    .sample = net_sample,
    .free = net_free,
};
