/* core/iforest.c — the Isolation Forest of Liu, Ting and Zhou (ICDM 2008), the L2
 * detector of the dataset's validation: trees grown on small subsamples by random
 * axis-parallel splits; a point that is isolated in few splits is anomalous.  Trees
 * live in one node array (indices, not pointers) so a forest is two allocations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/score-int.h"

#define EULER_GAMMA 0.5772156649015329

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) / 9007199254740992.0;
}

double iforest_c(double n)
{
    if (n <= 1)
        return 0;
    if (n == 2)
        return 1;
    return 2.0 * (log(n - 1) + EULER_GAMMA) - 2.0 * (n - 1) / n;
}

static int new_node(struct iforest *f, uint32_t *id)
{
    if (f->nnodes == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 1024;
        struct if_node *n = realloc(f->nodes, cap * sizeof *n);
        if (!n)
            return -1;
        f->nodes = n;
        f->cap = cap;
    }
    *id = (uint32_t)f->nnodes++;
    memset(&f->nodes[*id], 0, sizeof f->nodes[*id]);
    f->nodes[*id].feat = -1;
    return 0;
}

struct grow {
    struct iforest *f;
    const double *x;
    int dim;
    int *feats;      /* scratch: a shuffled feature order */
    uint64_t rng;
};

/* Grows the subtree over rows idx[0..n) at depth; returns its node or -1. */
static int64_t grow(struct grow *g, uint32_t *idx, size_t n, int depth, int limit)
{
    uint32_t id;
    if (new_node(g->f, &id) < 0)
        return -1;
    g->f->nodes[id].size = (uint32_t)n;
    g->f->nodes[id].split = iforest_c((double)n); /* until it is split */
    if (depth >= limit || n <= 1)
        return id;
    /* a random feature among those that still vary here (in random order) */
    for (int i = g->dim - 1; i > 0; i--) {
        int j = (int)(splitmix64(&g->rng) % (uint64_t)(i + 1));
        int t = g->feats[i];
        g->feats[i] = g->feats[j];
        g->feats[j] = t;
    }
    int q = -1;
    double lo = 0, hi = 0;
    for (int k = 0; k < g->dim && q < 0; k++) {
        int c = g->feats[k];
        lo = hi = g->x[(size_t)idx[0] * g->dim + c];
        for (size_t i = 1; i < n; i++) {
            double v = g->x[(size_t)idx[i] * g->dim + c];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (hi > lo)
            q = c;
    }
    if (q < 0)
        return id; /* all rows equal: cannot be split */
    double p = lo + unit(&g->rng) * (hi - lo);
    if (p <= lo)
        p = nextafter(lo, hi);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (g->x[(size_t)idx[i] * g->dim + q] < p) {
            uint32_t t = idx[m];
            idx[m++] = idx[i];
            idx[i] = t;
        }
    int64_t l = grow(g, idx, m, depth + 1, limit);
    int64_t r = l < 0 ? -1 : grow(g, idx + m, n - m, depth + 1, limit);
    if (r < 0)
        return -1;
    struct if_node *nd = &g->f->nodes[id]; /* the array may have moved */
    nd->feat = q;
    nd->split = p;
    nd->left = (uint32_t)l;
    nd->right = (uint32_t)r;
    return id;
}

int iforest_fit(struct iforest *f, const double *x, size_t n, int dim, size_t ntrees, size_t psi,
                uint64_t seed)
{
    memset(f, 0, sizeof *f);
    if (n == 0 || dim <= 0 || ntrees == 0 || n > UINT32_MAX)
        return -1;
    f->ntrees = ntrees;
    f->psi = psi < n ? psi : n;
    f->dim = dim;
    f->c_psi = iforest_c((double)f->psi);
    f->root = calloc(ntrees, sizeof *f->root);
    uint32_t *perm = malloc(n * sizeof *perm);
    int *feats = malloc((size_t)dim * sizeof *feats);
    if (!f->root || !perm || !feats)
        goto fail;
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (int i = 0; i < dim; i++)
        feats[i] = i;
    struct grow g = {f, x, dim, feats, seed ^ 0x69666f7265737421ULL};
    int limit = (int)ceil(log2((double)(f->psi > 1 ? f->psi : 2)));
    for (size_t t = 0; t < ntrees; t++) {
        /* the subsample: a partial Fisher-Yates shuffle of all rows */
        for (size_t i = 0; i < f->psi; i++) {
            size_t j = i + (size_t)(splitmix64(&g.rng) % (uint64_t)(n - i));
            uint32_t tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        int64_t r = grow(&g, perm, f->psi, 0, limit);
        if (r < 0)
            goto fail;
        f->root[t] = (uint32_t)r;
    }
    free(perm);
    free(feats);
    return 0;
fail:
    free(perm);
    free(feats);
    iforest_free(f);
    return -1;
}

double iforest_score(const struct iforest *f, const double *row)
{
    if (!f->ntrees)
        return NAN;
    double sum = 0;
    for (size_t t = 0; t < f->ntrees; t++) {
        const struct if_node *nd = &f->nodes[f->root[t]];
        int e = 0;
        while (nd->feat >= 0) {
            nd = &f->nodes[row[nd->feat] < nd->split ? nd->left : nd->right];
            e++;
        }
        sum += e + nd->split; /* external nodes keep c(size) in split */
    }
    double mean = sum / (double)f->ntrees;
    return f->c_psi > 0 ? pow(2.0, -mean / f->c_psi) : 0.5;
}

void iforest_free(struct iforest *f)
{
    free(f->nodes);
    free(f->root);
    memset(f, 0, sizeof *f);
}
