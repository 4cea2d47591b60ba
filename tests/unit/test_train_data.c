/* moni-train data: generator determinism, shard round-trip and corruption, the
 * corpus cache and the prefetching loader, the control file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workloads/train/train.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_train_data.XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_generator(void **state)
{
	(void)state;
	int l1, l2, l3;
	char *a = train_gen_doc(42, 17, &l1), *b = train_gen_doc(42, 17, &l2), *c = train_gen_doc(43, 17, &l3);
	assert_string_equal(a, b);
	assert_int_equal(l1, l2);
	assert_true(strcmp(a, c) != 0);
	assert_true(strlen(a) > 300);
	assert_null(strchr(a, '\t'));
	assert_null(strchr(a, '\n'));
	free(a);
	free(b);
	free(c);
	int pos = 0;
	for (long i = 0; i < 1000; i++) {
		int l;
		free(train_gen_doc(1, i, &l));
		pos += l;
	}
	assert_in_range(pos, 420, 580); /* balanced classes */
}

static void test_shard_roundtrip(void **state)
{
	(void)state;
	struct train_doc docs[50];
	for (int i = 0; i < 50; i++)
		docs[i].text = train_gen_doc(5, i, &docs[i].label);
	char path[512];
	snprintf(path, sizeof(path), "%s/shard.tsv", tmpdir);
	assert_int_equal(train_shard_write(path, docs, 50), 0);
	struct train_doc *back;
	assert_int_equal(train_shard_read(path, &back, true), 50);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(back[i].label, docs[i].label);
		assert_string_equal(back[i].text, docs[i].text);
	}
	train_docs_free(back, 50);

	/* truncated: detected by the trailer */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
	errno = 0;
	assert_int_equal(train_shard_read(path, &back, false), -1);
	assert_int_equal(errno, EBADMSG);

	/* one flipped byte: detected by the CRC */
	assert_int_equal(train_shard_write(path, docs, 50), 0);
	FILE *f = fopen(path, "r+");
	fseek(f, 100, SEEK_SET);
	int ch = fgetc(f);
	fseek(f, 100, SEEK_SET);
	fputc(ch == 'a' ? 'b' : 'a', f);
	fclose(f);
	assert_int_equal(train_shard_read(path, &back, false), -1);
	assert_int_equal(errno, EBADMSG);
	unlink(path);
	for (int i = 0; i < 50; i++)
		free(docs[i].text);
}

static void test_featurize(void **state)
{
	(void)state;
	struct train_sample a, b;
	assert_int_equal(train_featurize("not good not good at all", 1024, &a), 0);
	assert_int_equal(train_featurize("good not", 1024, &b), 0);
	assert_true(a.nnz >= 4 && a.nnz <= 9);
	for (int i = 0; i < a.nnz; i++) {
		assert_in_range(a.idx[i], 0, 1023);
		assert_true(a.val[i] >= 1.0f);
		if (i)
			assert_true(a.idx[i] > a.idx[i - 1]);
	}
	float row[1024];
	train_sample_densify(&a, row, 1024);
	int nz = 0;
	for (int i = 0; i < 1024; i++)
		nz += row[i] != 0;
	assert_int_equal(nz, a.nnz);
	train_sample_free(&a);
	train_sample_free(&b);
}

static void test_corpus_and_loader(void **state)
{
	(void)state;
	char dir[512], err[512];
	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	struct train_corpus_spec spec = { .seed = 9, .train_samples = 250, .eval_samples = 30,
					  .shard_samples = 100 };
	assert_int_equal(train_corpus_ensure(dir, &spec, NULL, err, sizeof(err)), 0);
	assert_int_equal(train_corpus_shards(&spec, false), 3);
	assert_int_equal(train_corpus_ensure(dir, &spec, NULL, err, sizeof(err)), 0); /* cached */

	/* two loaders with the same seed see the same stream; an epoch is a permutation */
	struct train_loader *l1 = train_loader_start(dir, &spec, 4096, 3, 0, true);
	struct train_loader *l2 = train_loader_start(dir, &spec, 4096, 3, 0, false);
	assert_non_null(l1);
	assert_non_null(l2);
	int labels = 0;
	int32_t first_idx[600];
	for (int i = 0; i < 600; i++) { /* 2.4 epochs: wraps around */
		struct train_sample a, b;
		assert_int_equal(train_loader_next(l1, &a, err, sizeof(err)), 0);
		assert_int_equal(train_loader_next(l2, &b, err, sizeof(err)), 0);
		assert_int_equal(a.label, b.label);
		assert_int_equal(a.nnz, b.nnz);
		assert_memory_equal(a.idx, b.idx, (size_t)a.nnz * sizeof(int32_t));
		first_idx[i] = a.idx[0] * 7919 + a.nnz;
		labels += a.label;
		train_sample_free(&a);
		train_sample_free(&b);
	}
	train_loader_stop(l1);
	train_loader_stop(l2);
	assert_in_range(labels, 200, 400);
	/* epoch 2 is shuffled differently from epoch 1 */
	assert_true(memcmp(first_idx, first_idx + 250, 50 * sizeof(int32_t)) != 0);

	/* resuming: skipping 260 samples lands on the same sample as reading 260 */
	struct train_loader *l3 = train_loader_start(dir, &spec, 4096, 3, 260, true);
	struct train_sample s;
	assert_int_equal(train_loader_next(l3, &s, err, sizeof(err)), 0);
	assert_int_equal(s.idx[0] * 7919 + s.nnz, first_idx[260]);
	train_sample_free(&s);
	train_loader_stop(l3);

	/* a corrupt shard is a read error, not a crash */
	char shard[600], sub[600];
	snprintf(sub, sizeof(sub), "%s/corpus-v2-s9-t250-e30-k100", dir);
	train_shard_path(shard, sizeof(shard), sub, false, 1, 3);
	assert_int_equal(truncate(shard, 10), 0);
	struct train_loader *l4 = train_loader_start(dir, &spec, 4096, 3, 0, true);
	int rc = 0;
	for (int i = 0; i < 300 && rc == 0; i++) {
		rc = train_loader_next(l4, &s, err, sizeof(err));
		if (rc == 0)
			train_sample_free(&s);
	}
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "OSError"));
	assert_non_null(strstr(err, "train-00001-of-00003.tsv"));
	train_loader_stop(l4);
}

static void test_control_parse(void **state)
{
	(void)state;
	double v[TRAIN_CTL_NKEYS] = { 0 };
	bool p[TRAIN_CTL_NKEYS];
	char *buf;
	size_t len;
	FILE *w = open_memstream(&buf, &len);
	int nw = train_control_parse("# knobs\nlr = 10.0\nbatch_size=64  # comment\n\nsleep_ms=250\n"
				     "bogus=1\nlr_typo\nnan_next_step=abc\n", "ctl", v, p, w);
	fclose(w);
	assert_int_equal(nw, 3);
	assert_true(p[TRAIN_CTL_LR] && v[TRAIN_CTL_LR] == 10.0);
	assert_true(p[TRAIN_CTL_BATCH] && v[TRAIN_CTL_BATCH] == 64);
	assert_true(p[TRAIN_CTL_SLEEP] && v[TRAIN_CTL_SLEEP] == 250);
	assert_false(p[TRAIN_CTL_NAN]);
	assert_non_null(strstr(buf, "[control] warning: ctl:6: unknown key 'bogus'"));
	assert_non_null(strstr(buf, "ctl:7: expected key=value"));
	assert_non_null(strstr(buf, "ctl:8: bad value 'abc' for nan_next_step"));
	free(buf);

	nw = train_control_parse("{\"lr\": 1e-9, \"batch_size\": \"16\", \"nan_next_step\": 1}", "j", v, p, NULL);
	assert_int_equal(nw, 0);
	assert_true(p[TRAIN_CTL_LR] && v[TRAIN_CTL_LR] == 1e-9);
	assert_true(p[TRAIN_CTL_BATCH] && v[TRAIN_CTL_BATCH] == 16);
	assert_true(p[TRAIN_CTL_NAN] && v[TRAIN_CTL_NAN] == 1);
	assert_false(p[TRAIN_CTL_SLEEP]);
	/* out of range / non-integer values are rejected */
	nw = train_control_parse("batch_size=1.5\nlr=0\nsleep_ms=-3\nlr=inf\n", "x", v, p, NULL);
	assert_int_equal(nw, 4);
	assert_false(p[TRAIN_CTL_BATCH] || p[TRAIN_CTL_LR] || p[TRAIN_CTL_SLEEP]);
}

static void write_text(const char *path, const char *text)
{
	char tmp[TRAIN_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	fputs(text, f);
	fclose(f);
	rename(tmp, path); /* new inode: the change is always seen */
}

static void test_control_poll(void **state)
{
	(void)state;
	struct train_control c = { 0 };
	struct train_ctl_change ch[TRAIN_CTL_NKEYS];
	snprintf(c.path, sizeof(c.path), "%s/control", tmpdir);
	assert_int_equal(train_control_poll(&c, ch, NULL), 0); /* missing file: nothing */
	write_text(c.path, "lr=0.5\nnan_next_step=0\n");
	assert_int_equal(train_control_poll(&c, ch, NULL), 1);
	assert_int_equal(ch[0].key, TRAIN_CTL_LR);
	assert_true(ch[0].value == 0.5);
	assert_int_equal(train_control_poll(&c, ch, NULL), 0); /* unchanged file */
	write_text(c.path, "lr=0.5\nbatch_size=8\nnan_next_step=1\n");
	assert_int_equal(train_control_poll(&c, ch, NULL), 2); /* only what changed */
	assert_int_equal(ch[0].key, TRAIN_CTL_BATCH);
	assert_int_equal(ch[1].key, TRAIN_CTL_NAN);
	write_text(c.path, "lr=0.5\nbatch_size=8\nnan_next_step=1\n");
	assert_int_equal(train_control_poll(&c, ch, NULL), 0); /* same trigger id: no re-fire */
	write_text(c.path, "{\"lr\": 10, \"nan_next_step\": 2}");
	assert_int_equal(train_control_poll(&c, ch, NULL), 2);
	unlink(c.path);
}

/* The acknowledgement: written after a read (also one that changed nothing), never
 * twice for one read; what was applied, every value so far and the keys ignored. */
static void test_control_ack(void **state)
{
	(void)state;
	struct train_control c = { 0 };
	struct train_ctl_change ch[TRAIN_CTL_NKEYS];
	char ack[TRAIN_PATH_MAX + 8];
	snprintf(c.path, sizeof(c.path), "%s/ctl-ack", tmpdir);
	snprintf(ack, sizeof(ack), "%s.ack", c.path);
	unlink(ack);
	assert_int_equal(train_control_ack(&c, ch, 0, 1), 0); /* nothing read: no ack */
	assert_int_not_equal(access(ack, F_OK), 0);
	write_text(c.path, "lr=0.5\nsleep_ms=3\nbogus=1\n");
	int n = train_control_poll(&c, ch, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(train_control_ack(&c, ch, n, 812), 0);
	FILE *f = fopen(ack, "r");
	assert_non_null(f);
	char buf[1024] = "";
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	assert_non_null(strstr(buf, "\"step\": 812"));
	assert_non_null(strstr(buf, "\"applied\": {\"lr\": 0.5, \"sleep_ms\": 3}"));
	assert_non_null(strstr(buf, "\"values\": {\"lr\": 0.5, \"sleep_ms\": 3}"));
	assert_non_null(strstr(buf, "\"ignored\": [\"bogus\"], \"warnings\": 1}"));
	unlink(ack);
	assert_int_equal(train_control_ack(&c, ch, 0, 813), 0); /* that read is acked already */
	assert_int_not_equal(access(ack, F_OK), 0);
	write_text(c.path, "lr=0.5\nsleep_ms=3\n"); /* re-read, nothing changed: still acked */
	n = train_control_poll(&c, ch, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(train_control_ack(&c, ch, n, 814), 0);
	f = fopen(ack, "r");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	assert_non_null(strstr(buf, "\"applied\": {}, \"values\": {\"lr\": 0.5, \"sleep_ms\": 3}, \"ignored\": []"));
	unlink(ack);
	unlink(c.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generator),
		cmocka_unit_test(test_shard_roundtrip),
		cmocka_unit_test(test_featurize),
		cmocka_unit_test(test_corpus_and_loader),
		cmocka_unit_test(test_control_parse),
		cmocka_unit_test(test_control_poll),
		cmocka_unit_test(test_control_ack),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
