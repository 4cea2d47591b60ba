/* core/src-net.c — the network source: receive/transmit bytes per second and the
 * errors and drops since start of every interface but lo, and their totals, from
 * /proc/net/dev.  This file says what an interface is (obs_dev_net: its columns,
 * how a line names and counts it, which ones count); the device set
 * (src-devset.c) follows the interfaces that appear or go away after start. */
#include <stdlib.h>
#include <string.h>

#include "core/obs-int.h"

enum { NET_RX, NET_TX, NET_RXERR, NET_TXERR, NET_RXDROP, NET_TXDROP, NET_NCOLS };
#define NET_RATE(suffix) {suffix, "all interfaces but lo", OBS_DEV_SUM, 1, 1, 0}
#define NET_COUNT(suffix)                                                                  \
    {suffix, "all interfaces but lo, since start", OBS_DEV_SINCE_START, 1, 1, 0}
static const struct obs_dev_col net_cols[NET_NCOLS] = {
    [NET_RX] = NET_RATE("rx_Bps"),          [NET_TX] = NET_RATE("tx_Bps"),
    [NET_RXERR] = NET_COUNT("rx_errors"),   [NET_TXERR] = NET_COUNT("tx_errors"),
    [NET_RXDROP] = NET_COUNT("rx_drops"),   [NET_TXDROP] = NET_COUNT("tx_drops"),
};

static bool net_wanted(const char *name, void *arg)
{
    (void)arg;
    return strcmp(name, "lo") != 0; /* the totals leave lo out too */
}

/* "  eth0: 1 2 ...": the name before the colon; 0 for the two header lines. */
static size_t net_line_name(const char *l, const char **name)
{
    const char *p = l;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *s = p;
    while (*p && *p != ':' && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    if (*p != ':')
        return 0;
    size_t n = (size_t)(p - s);
    *name = s;
    return n < 32 ? n : 31;
}

static int net_parse(const char *l, uint64_t c[OBS_DEV_COLS_MAX])
{
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

const struct obs_dev_class obs_dev_net = {
    .what = "interface",
    .prefix = "net",
    .dev_help = "one interface",
    .ncols = NET_NCOLS,
    .col = net_cols,
    .wanted = net_wanted,
    .line_name = net_line_name,
    .parse = net_parse,
};

static int net_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                    size_t errlen)
{
    (void)arg;
    return obs_devsrc_init(s, f, &obs_dev_net, OBS_PF_NETDEV, state, err, errlen);
}

const struct source_ops obs_source_net = {
    .name = "network",
    .optional = true, /* a network namespace may hide /proc/net/dev */
    .init = net_init,
    .sample = obs_devsrc_sample,
    .free = obs_devsrc_free,
};
