/* moni-train model: gradients by finite differences, determinism across thread
 * counts, optimiser behaviour, Python float repr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/train/train.h"

static void fill_batch(struct train_batch *b, int n, int in, uint64_t seed)
{
	uint64_t s = seed;
	b->n = n;
	for (int i = 0; i < n * in; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		/* sparse-ish non-negative input like the real features */
		b->x[i] = (s >> 60) < 5 ? (float)((s >> 33) % 1000) / 500.0f : 0.0f;
	}
	for (int i = 0; i < n; i++)
		b->y[i] = i % TRAIN_CLASSES;
}

static void test_gradient_check(void **state)
{
	(void)state;
	struct train_model m;
	struct train_batch b;
	assert_int_equal(train_model_init(&m, 24, 7, TRAIN_CLASSES, 3), 0);
	assert_int_equal(train_batch_alloc(&b, 5, 24, 7, NULL), 0);
	fill_batch(&b, 5, 24, 11);
	float *grad = calloc(m.nparams, sizeof(float));
	float *scratch = calloc(m.nparams, sizeof(float));
	train_forward_backward(&m, &b, grad, NULL);
	int checked = 0;
	for (size_t i = 0; i < m.nparams; i += 3) {
		const float eps = 1e-2f;
		float keep = m.params[i];
		m.params[i] = keep + eps;
		double lp = train_forward_backward(&m, &b, scratch, NULL);
		m.params[i] = keep - eps;
		double lm = train_forward_backward(&m, &b, scratch, NULL);
		m.params[i] = keep;
		double num = (lp - lm) / (2.0 * eps), ana = grad[i];
		if (fabs(num - ana) > 2e-4 + 2e-2 * fabs(ana))
			fail_msg("param %zu: analytic %.6g numeric %.6g", i, ana, num);
		checked++;
	}
	assert_true(checked > 50);
	/* some gradient must be non-trivial, or the check proves nothing */
	assert_true(train_grad_norm(grad, m.nparams, NULL) > 1e-3);
	free(grad);
	free(scratch);
	train_batch_free(&b);
	train_model_free(&m);
}

/* Trains a few steps and returns a copy of the parameters. */
static float *train_steps(int threads, enum train_optimizer kind, uint64_t seed, double *loss_out)
{
	struct train_model m;
	struct train_batch b;
	struct train_optim o;
	struct train_pool *pool = train_pool_new(threads);
	assert_int_equal(train_model_init(&m, 300, 16, TRAIN_CLASSES, seed), 0);
	assert_int_equal(train_batch_alloc(&b, 13, 300, 16, NULL), 0);
	assert_int_equal(train_optim_init(&o, kind, m.nparams, 0.9, 0.01), 0);
	float *grad = calloc(m.nparams, sizeof(float));
	double loss = 0;
	for (int step = 0; step < 8; step++) {
		fill_batch(&b, 13, 300, seed + (uint64_t)step);
		loss = train_forward_backward(&m, &b, grad, pool);
		double norm = train_grad_norm(grad, m.nparams, pool);
		assert_true(isfinite(norm));
		train_optim_step(&o, m.params, grad, kind == TRAIN_OPT_ADAM ? 1e-3 : 0.05, pool);
	}
	float *copy = malloc(m.nparams * sizeof(float));
	memcpy(copy, m.params, m.nparams * sizeof(float));
	*loss_out = loss;
	free(grad);
	train_optim_free(&o);
	train_batch_free(&b);
	train_model_free(&m);
	train_pool_free(pool);
	return copy;
}

static void test_determinism(void **state)
{
	(void)state;
	size_t n = 300 * 16 + 16 + 16 * TRAIN_CLASSES + TRAIN_CLASSES;
	for (int k = 0; k < 2; k++) {
		enum train_optimizer kind = k ? TRAIN_OPT_ADAM : TRAIN_OPT_SGD;
		double l1, l1b, l2, l3, lo;
		float *a = train_steps(1, kind, 7, &l1);
		float *a2 = train_steps(1, kind, 7, &l1b);
		float *b = train_steps(2, kind, 7, &l2);
		float *c = train_steps(3, kind, 7, &l3);
		float *other = train_steps(2, kind, 8, &lo);
		assert_memory_equal(a, a2, n * sizeof(float));
		assert_memory_equal(a, b, n * sizeof(float));
		assert_memory_equal(a, c, n * sizeof(float));
		assert_true(l1 == l2 && l2 == l3);
		assert_true(memcmp(a, other, n * sizeof(float)) != 0);
		free(a);
		free(a2);
		free(b);
		free(c);
		free(other);
	}
}

static void test_learns_and_nan_propagates(void **state)
{
	(void)state;
	struct train_model m;
	struct train_batch b;
	struct train_optim o;
	assert_int_equal(train_model_init(&m, 40, 8, TRAIN_CLASSES, 1), 0);
	assert_int_equal(train_batch_alloc(&b, 16, 40, 8, NULL), 0);
	assert_int_equal(train_optim_init(&o, TRAIN_OPT_SGD, m.nparams, 0.9, 0), 0);
	float *grad = calloc(m.nparams, sizeof(float));
	/* separable toy task: class = which half of the input is active */
	memset(b.x, 0, sizeof(float) * 16 * 40);
	b.n = 16;
	for (int s = 0; s < 16; s++) {
		b.y[s] = s & 1;
		for (int d = 0; d < 5; d++)
			b.x[s * 40 + (s & 1) * 20 + (s * 3 + d) % 20] = 1.0f;
	}
	double first = train_forward_backward(&m, &b, grad, NULL), last = first;
	for (int i = 0; i < 60; i++) {
		train_optim_step(&o, m.params, grad, 0.05, NULL);
		last = train_forward_backward(&m, &b, grad, NULL);
	}
	assert_true(last < first * 0.3);
	long correct = 0;
	train_forward_eval(&m, &b, &correct, NULL);
	assert_int_equal(correct, 16);
	b.x[0] = NAN; /* a NaN input poisons the loss, as in a real framework */
	assert_true(isnan(train_forward_backward(&m, &b, grad, NULL)));
	free(grad);
	train_optim_free(&o);
	train_batch_free(&b);
	train_model_free(&m);
}

static void test_pyfloat(void **state)
{
	(void)state;
	char b[64];
	struct { double v; const char *want; } cases[] = {
		{ 5e-05, "5e-05" }, { 0.6931, "0.6931" }, { 1.0, "1.0" }, { 0.1, "0.1" },
		{ 1e-09, "1e-09" }, { 1.5e-05, "1.5e-05" }, { 0.0001, "0.0001" }, { 123456.0, "123456.0" },
		{ 1e16, "1e+16" }, { 2.5e20, "2.5e+20" }, { -0.25, "-0.25" }, { 0.0, "0.0" },
		{ NAN, "nan" }, { INFINITY, "inf" }, { -INFINITY, "-inf" }, { 10.0, "10.0" },
		{ 0.045000000000000005, "0.045000000000000005" }, { 1e15, "1000000000000000.0" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(train_pyfloat(b, sizeof(b), cases[i].v), cases[i].want);
	assert_string_equal(train_pyfloat(b, sizeof(b), train_round(0.69314718, 4)), "0.6931");
	assert_string_equal(train_pyfloat(b, sizeof(b), train_round(2.0 / 3.0, 2)), "0.67");
}

static void test_opts(void **state)
{
	(void)state;
	struct train_opts o;
	FILE *null = fopen("/dev/null", "w");
	char *ok[] = { "moni-train", "--lr", "0.5", "--batch-size=64", "--optimizer", "adam",
		       "--mem-limit", "512M", "--stop-on-nan", "--max_steps", "7" };
	train_opts_default(&o);
	assert_int_equal(train_opts_parse(&o, 11, ok, null, null), 0);
	assert_true(o.lr == 0.5);
	assert_int_equal(o.batch_size, 64);
	assert_int_equal(o.optimizer, TRAIN_OPT_ADAM);
	assert_true(o.mem_limit == 512ULL << 20);
	assert_true(o.stop_on_nan);
	assert_int_equal(o.max_steps, 7);
	char *bad1[] = { "moni-train", "--bogus" };
	char *bad2[] = { "moni-train", "--lr", "abc" };
	char *bad3[] = { "moni-train", "--batch-size" };
	char *bad4[] = { "moni-train", "--optimizer", "rmsprop" };
	char *bad5[] = { "moni-train", "--lr", "-1" };
	char *help[] = { "moni-train", "--help" };
	train_opts_default(&o);
	assert_int_equal(train_opts_parse(&o, 2, bad1, null, null), 2);
	assert_int_equal(train_opts_parse(&o, 3, bad2, null, null), 2);
	assert_int_equal(train_opts_parse(&o, 2, bad3, null, null), 2);
	assert_int_equal(train_opts_parse(&o, 3, bad4, null, null), 2);
	assert_int_equal(train_opts_parse(&o, 3, bad5, null, null), 2);
	assert_int_equal(train_opts_parse(&o, 2, help, null, null), 1);
	fclose(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gradient_check),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_learns_and_nan_propagates),
		cmocka_unit_test(test_pyfloat),
		cmocka_unit_test(test_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
