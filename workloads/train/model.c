/* The model: a 2-layer MLP (LeakyReLU hidden layer) over a dense input tensor, trained by SGD or AdamW.
 *
 * Every reduction has a fixed order that does not depend on the number of threads:
 * the forward pass is split by samples (each sample's sums run over the input in
 * index order), dW1 is split by input rows (each row sums over samples in order),
 * and norms are summed per fixed block, then the blocks in order. */
#include "workloads/train/train.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FWD_BLOCK 16      /* samples sharing one pass over W1 */
#define BWD_ROWS 64       /* W1 rows updated together (fits in L1/L2) */
#define NORM_BLOCK 65536
/* LeakyReLU (torch's default slope): units cannot die, so a too-large step
 * keeps compounding until it overflows, as divergence does in real models. */
#define LEAK 0.01f

static void part(int tid, int nthreads, long total, long *lo, long *hi)
{
	long chunk = total / nthreads, rem = total % nthreads;
	*lo = tid * chunk + (tid < rem ? tid : rem);
	*hi = *lo + chunk + (tid < rem ? 1 : 0);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static float uniform(uint64_t *s, float bound)
{
	double u = (double)(splitmix64(s) >> 11) / 9007199254740992.0;
	return (float)((2.0 * u - 1.0) * bound);
}

int train_model_init(struct train_model *m, int in, int hidden, int classes, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	m->in = in;
	m->hidden = hidden;
	m->classes = classes;
	m->nparams = (size_t)in * hidden + hidden + (size_t)hidden * classes + classes;
	m->params = malloc(m->nparams * sizeof(float));
	if (!m->params) {
		errno = ENOMEM;
		return -1;
	}
	m->w1 = m->params;
	m->b1 = m->w1 + (size_t)in * hidden;
	m->w2 = m->b1 + hidden;
	m->b2 = m->w2 + (size_t)hidden * classes;
	/* torch.nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
	uint64_t s = seed ^ 0x6d6f6e692d747261ULL;
	float b = 1.0f / sqrtf((float)in);
	for (size_t i = 0; i < (size_t)in * hidden + hidden; i++)
		m->params[i] = uniform(&s, b);
	b = 1.0f / sqrtf((float)hidden);
	for (size_t i = (size_t)in * hidden + hidden; i < m->nparams; i++)
		m->params[i] = uniform(&s, b);
	return 0;
}

void train_model_free(struct train_model *m)
{
	free(m->params);
	memset(m, 0, sizeof(*m));
}

int train_batch_alloc(struct train_batch *b, int cap, int in, int hidden, size_t *bytes)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
	b->in = in;
	b->hidden = hidden;
	struct { void **ptr; size_t size; } parts[] = {
		{ (void **)&b->x, (size_t)cap * in * sizeof(float) },
		{ (void **)&b->y, (size_t)cap * sizeof(int) },
		{ (void **)&b->z1, (size_t)cap * hidden * sizeof(float) },
		{ (void **)&b->h, (size_t)cap * hidden * sizeof(float) },
		{ (void **)&b->d1, (size_t)cap * hidden * sizeof(float) },
		{ (void **)&b->p, (size_t)cap * TRAIN_CLASSES * sizeof(float) },
		{ (void **)&b->loss, (size_t)cap * sizeof(double) },
		{ (void **)&b->pred, (size_t)cap * sizeof(int) },
	};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		*parts[i].ptr = malloc(parts[i].size ? parts[i].size : 1);
		if (!*parts[i].ptr) {
			if (bytes)
				*bytes = parts[i].size;
			train_batch_free(b);
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

void train_batch_free(struct train_batch *b)
{
	free(b->x);
	free(b->y);
	free(b->z1);
	free(b->h);
	free(b->d1);
	free(b->p);
	free(b->loss);
	free(b->pred);
	memset(b, 0, sizeof(*b));
}

struct step_ctx {
	const struct train_model *m;
	struct train_batch *b;
	float *grad;
	bool backward;
	const float *cvec;
	float *vec;
	size_t n;
	float scale;
	double *partial;
};

/* Per sample: z1 = x W1 + b1, h = leaky_relu(z1), logits, softmax, loss and, for the
 * backward pass, dlogits and d1 = (dlogits W2^T) * leaky_relu'(z1). */
static void forward_task(void *arg, int tid, int nthreads)
{
	struct step_ctx *c = arg;
	const struct train_model *m = c->m;
	struct train_batch *b = c->b;
	const int in = m->in, H = m->hidden, C = m->classes;
	long lo, hi;
	part(tid, nthreads, b->n, &lo, &hi);
	for (long s0 = lo; s0 < hi; s0 += FWD_BLOCK) {
		long s1 = s0 + FWD_BLOCK < hi ? s0 + FWD_BLOCK : hi;
		for (long s = s0; s < s1; s++)
			memcpy(b->z1 + s * H, m->b1, (size_t)H * sizeof(float));
		for (int d = 0; d < in; d++) {
			const float *w = m->w1 + (size_t)d * H;
			for (long s = s0; s < s1; s++) {
				const float xv = b->x[(size_t)s * in + d];
				float *z = b->z1 + s * H;
				for (int j = 0; j < H; j++)
					z[j] += xv * w[j];
			}
		}
		for (long s = s0; s < s1; s++) {
			float *z = b->z1 + s * H, *h = b->h + s * H, *p = b->p + s * C;
			for (int j = 0; j < H; j++)
				h[j] = z[j] > 0.0f ? z[j] : LEAK * z[j]; /* NaN passes through */
			float mx = -INFINITY;
			for (int k = 0; k < C; k++) {
				float acc = m->b2[k];
				for (int j = 0; j < H; j++)
					acc += h[j] * m->w2[(size_t)j * C + k];
				p[k] = acc;
				if (!(acc <= mx))
					mx = acc; /* also picks up NaN */
			}
			double sum = 0;
			for (int k = 0; k < C; k++)
				sum += exp((double)p[k] - (double)mx);
			double lse = (double)mx + log(sum);
			int y = b->y[s], best = 0;
			for (int k = 1; k < C; k++)
				if (p[k] > p[best])
					best = k;
			b->pred[s] = best;
			b->loss[s] = lse - (double)p[y];
			if (!c->backward)
				continue;
			for (int k = 0; k < C; k++) {
				double pk = exp((double)p[k] - lse);
				p[k] = (float)((pk - (k == y ? 1.0 : 0.0)) / b->n);
			}
			float *d1 = b->d1 + s * H;
			for (int j = 0; j < H; j++) {
				float g = 0;
				for (int k = 0; k < C; k++)
					g += p[k] * m->w2[(size_t)j * C + k];
				d1[j] = z[j] > 0.0f ? g : LEAK * g;
			}
		}
	}
}

/* dW1[d,:] = sum_s x[s,d] * d1[s,:], split by rows d. */
static void backward_w1_task(void *arg, int tid, int nthreads)
{
	struct step_ctx *c = arg;
	const struct train_model *m = c->m;
	const struct train_batch *b = c->b;
	const int in = m->in, H = m->hidden;
	long lo, hi;
	part(tid, nthreads, in, &lo, &hi);
	for (long d0 = lo; d0 < hi; d0 += BWD_ROWS) {
		long d1 = d0 + BWD_ROWS < hi ? d0 + BWD_ROWS : hi;
		memset(c->grad + (size_t)d0 * H, 0, (size_t)(d1 - d0) * H * sizeof(float));
		for (int s = 0; s < b->n; s++) {
			const float *x = b->x + (size_t)s * in;
			const float *g = b->d1 + (size_t)s * H;
			for (long d = d0; d < d1; d++) {
				const float xv = x[d];
				float *row = c->grad + (size_t)d * H;
				for (int j = 0; j < H; j++)
					row[j] += xv * g[j];
			}
		}
	}
}

double train_forward_backward(const struct train_model *m, struct train_batch *b,
			      float *grad, struct train_pool *pool)
{
	struct step_ctx c = { .m = m, .b = b, .grad = grad, .backward = true };
	train_pool_run(pool, forward_task, &c);
	const int H = m->hidden, C = m->classes;
	float *gb1 = grad + (size_t)m->in * H, *gw2 = gb1 + H, *gb2 = gw2 + (size_t)H * C;
	memset(gb1, 0, ((size_t)H + (size_t)H * C + C) * sizeof(float));
	double loss = 0;
	for (int s = 0; s < b->n; s++) {
		loss += b->loss[s];
		const float *h = b->h + (size_t)s * H, *d1 = b->d1 + (size_t)s * H;
		const float *dl = b->p + (size_t)s * C;
		for (int j = 0; j < H; j++) {
			gb1[j] += d1[j];
			for (int k = 0; k < C; k++)
				gw2[(size_t)j * C + k] += h[j] * dl[k];
		}
		for (int k = 0; k < C; k++)
			gb2[k] += dl[k];
	}
	train_pool_run(pool, backward_w1_task, &c);
	return b->n ? loss / b->n : 0.0;
}

double train_forward_eval(const struct train_model *m, struct train_batch *b,
			  long *correct, struct train_pool *pool)
{
	struct step_ctx c = { .m = m, .b = b, .backward = false };
	train_pool_run(pool, forward_task, &c);
	double loss = 0;
	for (int s = 0; s < b->n; s++) {
		loss += b->loss[s];
		if (b->pred[s] == b->y[s])
			(*correct)++;
	}
	return loss;
}

static void norm_task(void *arg, int tid, int nthreads)
{
	struct step_ctx *c = arg;
	long nblocks = (long)((c->n + NORM_BLOCK - 1) / NORM_BLOCK), lo, hi;
	part(tid, nthreads, nblocks, &lo, &hi);
	for (long k = lo; k < hi; k++) {
		size_t a = (size_t)k * NORM_BLOCK, e = a + NORM_BLOCK < c->n ? a + NORM_BLOCK : c->n;
		double acc = 0;
		for (size_t i = a; i < e; i++)
			acc += (double)c->cvec[i] * c->cvec[i];
		c->partial[k] = acc;
	}
}

double train_grad_norm(const float *grad, size_t n, struct train_pool *pool)
{
	size_t nblocks = (n + NORM_BLOCK - 1) / NORM_BLOCK;
	double stack[256], *partial = nblocks <= 256 ? stack : malloc(nblocks * sizeof(double));
	if (!partial)
		return NAN;
	struct step_ctx c = { .cvec = grad, .n = n, .partial = partial };
	train_pool_run(pool, norm_task, &c);
	double total = 0;
	for (size_t k = 0; k < nblocks; k++)
		total += partial[k];
	if (partial != stack)
		free(partial);
	return sqrt(total);
}

static void scale_task(void *arg, int tid, int nthreads)
{
	struct step_ctx *c = arg;
	long lo, hi;
	part(tid, nthreads, (long)c->n, &lo, &hi);
	for (long i = lo; i < hi; i++)
		c->vec[i] *= c->scale;
}

void train_scale(float *v, size_t n, float s, struct train_pool *pool)
{
	struct step_ctx c = { .vec = v, .n = n, .scale = s };
	train_pool_run(pool, scale_task, &c);
}

int train_optim_init(struct train_optim *o, enum train_optimizer kind, size_t n,
		     double momentum, double weight_decay)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->n = n;
	o->momentum = momentum;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->eps = 1e-8;
	o->weight_decay = weight_decay;
	o->m = calloc(n, sizeof(float));
	if (kind == TRAIN_OPT_ADAM)
		o->v = calloc(n, sizeof(float));
	if (!o->m || (kind == TRAIN_OPT_ADAM && !o->v)) {
		train_optim_free(o);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void train_optim_free(struct train_optim *o)
{
	free(o->m);
	free(o->v);
	o->m = o->v = NULL;
}

struct optim_ctx {
	struct train_optim *o;
	float *p;
	const float *g;
	double lr, bc1, bc2;
};

/* torch.optim.SGD (momentum, weight decay) and torch.optim.AdamW semantics. */
static void optim_task(void *arg, int tid, int nthreads)
{
	struct optim_ctx *c = arg;
	struct train_optim *o = c->o;
	long lo, hi;
	part(tid, nthreads, (long)o->n, &lo, &hi);
	float *p = c->p, *m = o->m, *v = o->v;
	const float *g = c->g;
	if (o->kind == TRAIN_OPT_SGD) {
		const float lr = (float)c->lr, mu = (float)o->momentum, wd = (float)o->weight_decay;
		const bool first = o->t == 1;
		for (long i = lo; i < hi; i++) {
			float gi = g[i] + wd * p[i];
			m[i] = first ? gi : mu * m[i] + gi;
			p[i] -= lr * m[i];
		}
	} else {
		const float lr = (float)c->lr, b1 = (float)o->beta1, b2 = (float)o->beta2;
		const float decay = (float)(1.0 - c->lr * o->weight_decay);
		const float bc1 = (float)c->bc1, sbc2 = (float)sqrt(c->bc2), eps = (float)o->eps;
		for (long i = lo; i < hi; i++) {
			float gi = g[i];
			p[i] *= decay;
			m[i] = b1 * m[i] + (1.0f - b1) * gi;
			v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
			p[i] -= lr * (m[i] / bc1) / (sqrtf(v[i]) / sbc2 + eps);
		}
	}
}

void train_optim_step(struct train_optim *o, float *params, const float *grad, double lr,
		      struct train_pool *pool)
{
	o->t++;
	struct optim_ctx c = {
		.o = o, .p = params, .g = grad, .lr = lr,
		.bc1 = 1.0 - pow(o->beta1, (double)o->t),
		.bc2 = 1.0 - pow(o->beta2, (double)o->t),
	};
	train_pool_run(pool, optim_task, &c);
}
