/* core/autoenc.c — the L3 detector of the dataset's validation: a small autoencoder
 * (dim -> hidden tanh -> dim linear) trained with Adam on the standardised rows of
 * healthy runs; a row it reconstructs badly is anomalous.
 *
 * Why not moni-train's layers (workloads/train/model.c): that model is a classifier
 * (softmax cross-entropy is fused into its forward pass), float, and tied to the
 * workload's thread pool; and workloads/ link nothing of moni by design (it is the
 * job moni observes, so it must not share code with the observer).  The dense layer
 * here is the smallest correct one: forward, backward, Adam, in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/score-int.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int dense_init(struct dense *l, int in, int out, uint64_t *seed)
{
    memset(l, 0, sizeof *l);
    l->in = in;
    l->out = out;
    size_t nw = (size_t)in * (size_t)out;
    double *mem = calloc(3 * nw + 3 * (size_t)out + nw + (size_t)out, sizeof *mem);
    if (!mem)
        return -1;
    l->w = mem;
    l->gw = l->w + nw;
    l->mw = l->gw + nw;
    l->vw = l->mw + nw;
    l->b = l->vw + nw;
    l->gb = l->b + out;
    l->mb = l->gb + out;
    l->vb = l->mb + out;
    /* Glorot uniform: keeps tanh units out of saturation at the start */
    double bound = sqrt(6.0 / (in + out));
    for (size_t i = 0; i < nw; i++)
        l->w[i] = (2.0 * ((double)(splitmix64(seed) >> 11) / 9007199254740992.0) - 1.0) * bound;
    return 0;
}

void dense_free(struct dense *l)
{
    free(l->w);
    memset(l, 0, sizeof *l);
}

void dense_forward(const struct dense *l, const double *x, double *y)
{
    for (int o = 0; o < l->out; o++) {
        const double *w = l->w + (size_t)o * l->in;
        double s = l->b[o];
        for (int i = 0; i < l->in; i++)
            s += w[i] * x[i];
        y[o] = s;
    }
}

void dense_backward(struct dense *l, const double *x, const double *dy, double *dx)
{
    if (dx)
        memset(dx, 0, (size_t)l->in * sizeof *dx);
    for (int o = 0; o < l->out; o++) {
        const double *w = l->w + (size_t)o * l->in;
        double *gw = l->gw + (size_t)o * l->in;
        double g = dy[o];
        l->gb[o] += g;
        for (int i = 0; i < l->in; i++) {
            gw[i] += g * x[i];
            if (dx)
                dx[i] += g * w[i];
        }
    }
}

static void adam(double *p, double *g, double *m, double *v, size_t n, double lr, double scale,
                 long t)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
    for (size_t i = 0; i < n; i++) {
        double gi = g[i] * scale;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps);
        g[i] = 0;
    }
}

void dense_adam(struct dense *l, double lr, double scale, long t)
{
    adam(l->w, l->gw, l->mw, l->vw, (size_t)l->in * l->out, lr, scale, t);
    adam(l->b, l->gb, l->mb, l->vb, (size_t)l->out, lr, scale, t);
}

/* Forward pass of one row: h = tanh(enc x), y = dec h; returns the mean squared
 * error and, when dy is given, d mse / d y. */
static double ae_pass(const struct autoenc *a, const double *x, double *h, double *y, double *dy)
{
    dense_forward(&a->enc, x, h);
    for (int k = 0; k < a->hidden; k++)
        h[k] = tanh(h[k]);
    dense_forward(&a->dec, h, y);
    double se = 0;
    for (int i = 0; i < a->dim; i++) {
        double e = y[i] - x[i];
        se += e * e;
        if (dy)
            dy[i] = 2.0 * e / a->dim;
    }
    return se / a->dim;
}

int autoenc_fit(struct autoenc *a, const double *x, size_t n, int dim,
                const struct autoenc_opts *o)
{
    memset(a, 0, sizeof *a);
    if (n == 0 || dim <= 0)
        return -1;
    int hidden = o && o->hidden > 0 ? o->hidden : dim / 4;
    hidden = o && o->hidden > 0 ? hidden : (hidden < 2 ? 2 : hidden > 16 ? 16 : hidden);
    int epochs = o && o->epochs > 0 ? o->epochs : 15;
    int batch = o && o->batch > 0 ? o->batch : 32;
    double lr = o && o->lr > 0 ? o->lr : 3e-3;
    size_t max_rows = o && o->max_rows ? o->max_rows : 8192;
    uint64_t seed = (o ? o->seed : 0) ^ 0x6175746f656e6321ULL;
    a->dim = dim;
    a->hidden = hidden;
    size_t m = n < max_rows ? n : max_rows;
    /* a short baseline still gets enough Adam steps to converge */
    long per_epoch = (long)((m + (size_t)batch - 1) / (size_t)batch);
    long min_steps = o && o->min_steps > 0 ? o->min_steps : 4000;
    if ((long)epochs * per_epoch < min_steps)
        epochs = (int)((min_steps + per_epoch - 1) / per_epoch);
    size_t *order = malloc(n * sizeof *order);
    double *h = malloc((size_t)hidden * 2 * sizeof *h);
    double *y = malloc((size_t)dim * 2 * sizeof *y);
    if (!order || !h || !y || dense_init(&a->enc, dim, hidden, &seed) < 0 ||
        dense_init(&a->dec, hidden, dim, &seed) < 0)
        goto fail;
    double *dh = h + hidden, *dy = y + dim;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    long step = 0;
    for (int ep = 0; ep < epochs; ep++) {
        /* a fresh shuffle each epoch; its first m rows are the epoch's rows */
        for (size_t i = 0; i < m; i++) {
            size_t j = i + (size_t)(splitmix64(&seed) % (uint64_t)(n - i));
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (size_t b0 = 0; b0 < m; b0 += (size_t)batch) {
            size_t b1 = b0 + (size_t)batch < m ? b0 + (size_t)batch : m;
            for (size_t r = b0; r < b1; r++) {
                const double *xr = x + order[r] * (size_t)dim;
                ae_pass(a, xr, h, y, dy);
                dense_backward(&a->dec, h, dy, dh);
                for (int k = 0; k < hidden; k++)
                    dh[k] *= 1.0 - h[k] * h[k];
                dense_backward(&a->enc, xr, dh, NULL);
            }
            step++;
            double scale = 1.0 / (double)(b1 - b0);
            dense_adam(&a->enc, lr, scale, step);
            dense_adam(&a->dec, lr, scale, step);
        }
    }
    free(order);
    free(h);
    free(y);
    return 0;
fail:
    free(order);
    free(h);
    free(y);
    autoenc_free(a);
    return -1;
}

double autoenc_score(const struct autoenc *a, const double *row)
{
    double h[16 * 4], y_small[256];
    double *hb = a->hidden <= 64 ? h : malloc((size_t)a->hidden * sizeof *hb);
    double *yb = a->dim <= 256 ? y_small : malloc((size_t)a->dim * sizeof *yb);
    double mse = NAN;
    if (hb && yb)
        mse = ae_pass(a, row, hb, yb, NULL);
    if (hb != h)
        free(hb);
    if (yb != y_small)
        free(yb);
    return mse;
}

void autoenc_free(struct autoenc *a)
{
    dense_free(&a->enc);
    dense_free(&a->dec);
    memset(a, 0, sizeof *a);
}
