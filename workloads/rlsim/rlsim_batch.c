/* workloads/rlsim/rlsim_batch.c — rollout batches: split across train workers, the
 * wire format, and the train-side shape check. */
#include "workloads/rlsim/rlsim.h"

#include <stdlib.h>
#include <string.h>

int rlsim_batch_split(int total, int n_workers, int per_worker, struct rlsim_share *out)
{
    if (n_workers <= 0 || per_worker <= 0 || total < 0)
        return -1;
    int pos = 0;
    for (int i = 0; i < n_workers; i++) {
        int left = total - pos;
        int n = left < per_worker ? (left > 0 ? left : 0) : per_worker;
        out[i].start = pos;
        out[i].count = n;
        out[i].expected = per_worker;
        pos += n;
    }
    return 0;
}

int rlsim_batch_format(const int *lens, int n, char *buf, size_t len)
{
    int w = snprintf(buf, len, "n=%d lens=", n);
    if (w < 0 || (size_t)w >= len)
        return -1;
    size_t off = (size_t)w;
    for (int i = 0; i < n; i++) {
        w = snprintf(buf + off, len - off, i ? ",%d" : "%d", lens[i]);
        if (w < 0 || (size_t)w >= len - off)
            return -1;
        off += (size_t)w;
    }
    return n;
}

int rlsim_batch_parse(const char *s, int *lens, int max)
{
    if (strncmp(s, "n=", 2) != 0)
        return -1;
    char *e;
    long n = strtol(s + 2, &e, 10);
    if (e == s + 2 || n < 0 || n > max || strncmp(e, " lens=", 6) != 0)
        return -1;
    const char *p = e + 6;
    for (long i = 0; i < n; i++) {
        long v = strtol(p, &e, 10);
        if (e == p || v <= 0 || v > 1000000)
            return -1;
        lens[i] = (int)v;
        p = e;
        if (i + 1 < n) {
            if (*p != ',')
                return -1;
            p++;
        }
    }
    while (*p == '\n' || *p == '\r' || *p == ' ')
        p++;
    return *p ? -1 : (int)n;
}

int rlsim_batch_check(int got, int expected, char *err, size_t errlen)
{
    if (got == expected)
        return 0;
    snprintf(err, errlen,
             "RuntimeError: batch size mismatch: Expected input batch_size (%d) to match "
             "target batch_size (%d).", got, expected);
    return -1;
}
