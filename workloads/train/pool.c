/* A tiny fork/join thread pool: train_pool_run() runs fn on every thread (the
 * caller is thread 0) and returns when all are done.  Work is split by the callers
 * into fixed partitions, so results never depend on scheduling. */
#include "workloads/train/train.h"

#include <pthread.h>
#include <stdlib.h>

struct train_pool {
	int n;
	pthread_t *tids;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned long gen;
	int pending;
	bool quit;
	train_task_fn fn;
	void *ctx;
};

struct worker_arg { struct train_pool *p; int tid; };

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct train_pool *p = wa->p;
	int tid = wa->tid;
	free(wa);
	unsigned long seen = 0;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		seen = p->gen;
		train_task_fn fn = p->fn;
		void *ctx = p->ctx;
		pthread_mutex_unlock(&p->mu);
		fn(ctx, tid, p->n);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

struct train_pool *train_pool_new(int nthreads)
{
	if (nthreads < 1)
		nthreads = 1;
	struct train_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->n = nthreads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	p->tids = calloc((size_t)nthreads, sizeof(pthread_t));
	if (!p->tids) {
		free(p);
		return NULL;
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024); /* keeps address space small */
	for (int i = 1; i < nthreads; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (wa) {
			wa->p = p;
			wa->tid = i;
		}
		if (!wa || pthread_create(&p->tids[i], &attr, worker, wa) != 0) {
			free(wa);
			p->n = i; /* run with what we have */
			break;
		}
	}
	pthread_attr_destroy(&attr);
	return p;
}

int train_pool_threads(const struct train_pool *p)
{
	return p ? p->n : 1;
}

void train_pool_run(struct train_pool *p, train_task_fn fn, void *ctx)
{
	if (!p || p->n == 1) {
		fn(ctx, 0, 1);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->pending = p->n - 1;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	fn(ctx, 0, p->n);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void train_pool_free(struct train_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n; i++)
		pthread_join(p->tids[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p->tids);
	free(p);
}
