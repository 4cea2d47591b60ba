/* moni-train checkpoints: round trip, latest, rotation, truncation and corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workloads/train/train.h"

static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_train_ckpt.XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct fixture {
	struct train_model m;
	struct train_optim o;
	struct train_state st;
};

static void make(struct fixture *f, enum train_optimizer kind, uint64_t seed)
{
	assert_int_equal(train_model_init(&f->m, 50, 6, TRAIN_CLASSES, seed), 0);
	assert_int_equal(train_optim_init(&f->o, kind, f->m.nparams, 0.9, 0), 0);
	for (size_t i = 0; i < f->o.n; i++) {
		f->o.m[i] = (float)i * 0.5f;
		if (f->o.v)
			f->o.v[i] = (float)i * 0.25f;
	}
	f->o.t = 17;
	f->st = (struct train_state){ .global_step = 40, .samples_seen = 1280, .epoch = 0.53,
				      .lr = 0.0075, .batch_size = 32, .max_steps = 100,
				      .total_loss = 21.5, .loss_steps = 40 };
}

static void drop(struct fixture *f)
{
	train_optim_free(&f->o);
	train_model_free(&f->m);
}

static void test_roundtrip(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		enum train_optimizer kind = k ? TRAIN_OPT_ADAM : TRAIN_OPT_SGD;
		char out[512], fail[1200], ck[1200], err[2048];
		snprintf(out, sizeof(out), "%s/out%d", tmpdir, k);
		struct fixture a, b;
		make(&a, kind, 1);
		make(&b, kind, 2); /* different weights, to be overwritten by the load */
		memset(b.o.m, 0, b.o.n * sizeof(float));
		b.o.t = 0;
		assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), 0);
		assert_int_equal(train_ckpt_latest(out, ck, sizeof(ck)), 40);
		struct train_state st = { 0 };
		assert_int_equal(train_ckpt_load(ck, &b.m, &b.o, &st, err, sizeof(err)), 0);
		assert_memory_equal(a.m.params, b.m.params, a.m.nparams * sizeof(float));
		assert_memory_equal(a.o.m, b.o.m, a.o.n * sizeof(float));
		if (kind == TRAIN_OPT_ADAM)
			assert_memory_equal(a.o.v, b.o.v, a.o.n * sizeof(float));
		assert_int_equal(b.o.t, 17);
		assert_int_equal(st.global_step, 40);
		assert_int_equal(st.samples_seen, 1280);
		assert_int_equal(st.batch_size, 32);
		assert_int_equal(st.max_steps, 100);
		assert_true(st.lr == 0.0075 && st.epoch == 0.53 && st.total_loss == 21.5);
		/* no temporary directory is left behind */
		char tmp[1300];
		snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", ck, (long)getpid());
		assert_int_not_equal(access(tmp, F_OK), 0);
		drop(&a);
		drop(&b);
	}
}

static void test_latest_and_rotate(void **state)
{
	(void)state;
	char out[512], fail[1200], ck[1200];
	snprintf(out, sizeof(out), "%s/rot", tmpdir);
	assert_int_equal(train_ckpt_latest(out, ck, sizeof(ck)), -1);
	struct fixture a;
	make(&a, TRAIN_OPT_SGD, 1);
	long steps[] = { 5, 100, 20, 15 };
	for (int i = 0; i < 4; i++) {
		a.st.global_step = steps[i];
		assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), 0);
	}
	assert_int_equal(train_ckpt_latest(out, ck, sizeof(ck)), 100);
	train_ckpt_rotate(out, 2, NULL);
	char p[1200];
	snprintf(p, sizeof(p), "%s/checkpoint-5", out);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/checkpoint-15", out);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/checkpoint-20", out);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(train_ckpt_latest(out, ck, sizeof(ck)), 100);
	drop(&a);
}

static void corrupt(const char *path, long offset)
{
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, offset, SEEK_SET);
	int c = fgetc(f);
	fseek(f, offset, SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
}

static void test_corruption(void **state)
{
	(void)state;
	char out[512], fail[1200], ck[1200], err[2048], p[1300];
	snprintf(out, sizeof(out), "%s/bad", tmpdir);
	struct fixture a, b;
	make(&a, TRAIN_OPT_ADAM, 1);
	make(&b, TRAIN_OPT_ADAM, 1);
	struct train_state st;
	assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), 0);
	assert_int_equal(train_ckpt_latest(out, ck, sizeof(ck)), 40);
	snprintf(p, sizeof(p), "%s/model.bin", ck);

	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(truncate(p, sb.st_size - 100), 0);
	assert_int_equal(train_ckpt_load(ck, &b.m, &b.o, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RuntimeError: Error(s) in loading checkpoint"));
	assert_non_null(strstr(err, "truncated"));

	assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), 0);
	corrupt(p, 300);
	assert_int_equal(train_ckpt_load(ck, &b.m, &b.o, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "checksum mismatch"));

	assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), 0);
	snprintf(p, sizeof(p), "%s/optimizer.bin", ck);
	assert_int_equal(truncate(p, 10), 0);
	assert_int_equal(train_ckpt_load(ck, &b.m, &b.o, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "optimizer.bin"));

	assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), 0);
	snprintf(p, sizeof(p), "%s/trainer_state.json", ck);
	assert_int_equal(truncate(p, 20), 0);
	assert_int_equal(train_ckpt_load(ck, &b.m, &b.o, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trainer_state.json"));

	/* a checkpoint of another shape is refused, not misread */
	struct train_model other;
	assert_int_equal(train_model_init(&other, 50, 7, TRAIN_CLASSES, 1), 0);
	assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), 0);
	assert_int_equal(train_ckpt_load(ck, &other, &b.o, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "size mismatch"));
	train_model_free(&other);
	drop(&a);
	drop(&b);
}

static void test_save_error(void **state)
{
	(void)state;
	char fail[1200];
	struct fixture a;
	make(&a, TRAIN_OPT_SGD, 1);
	/* output dir below a regular file: a real error with the path, nothing left */
	char file[512], out[600];
	snprintf(file, sizeof(file), "%s/plainfile", tmpdir);
	FILE *f = fopen(file, "w");
	fclose(f);
	snprintf(out, sizeof(out), "%s/sub", file);
	assert_int_equal(train_ckpt_save(out, &a.m, &a.o, &a.st, fail, sizeof(fail)), -1);
	assert_non_null(strstr(fail, "plainfile"));
	drop(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_latest_and_rotate),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_save_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
