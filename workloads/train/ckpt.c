/* Checkpoints: DIR/checkpoint-N/{model.bin,optimizer.bin,trainer_state.json}, written
 * into a temporary directory, fsync'd, then renamed into place, so a crash never
 * leaves a half-written checkpoint under the final name.  Binary files carry their
 * shape and a CRC-32 trailer, so truncation and corruption are detected on load. */
#include "workloads/train/train.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_MAGIC "MONITRN1"
enum { CKPT_MODEL = 1, CKPT_OPTIM = 2 };

struct ckpt_header {
	char magic[8];
	uint32_t kind, in, hidden, classes;
	uint32_t optimizer, arrays; /* arrays of count floats that follow */
	int64_t t;
	uint64_t count;
};

/* Writes parts to path, fsync, close; returns 0 or -1 with errno. */
static int write_file(const char *path, const void *const *parts, const size_t *sizes, int nparts,
		      bool crc_trailer)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	uint32_t crc = 0;
	for (int i = 0; i < nparts; i++) {
		if (train_write_all(fd, parts[i], sizes[i]) != 0)
			goto fail;
		crc = train_crc32(crc, parts[i], sizes[i]);
	}
	if (crc_trailer && train_write_all(fd, &crc, sizeof(crc)) != 0)
		goto fail;
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0)
		return -1;
	return 0;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int train_ckpt_save(const char *outdir, const struct train_model *m, const struct train_optim *o,
		    const struct train_state *st, char *failpath, size_t fplen)
{
	char final[TRAIN_PATH_MAX + 64], tmp[TRAIN_PATH_MAX + 96], path[TRAIN_PATH_MAX + 160];
	snprintf(final, sizeof(final), "%s/checkpoint-%ld", outdir, st->global_step);
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", final, (long)getpid());
	snprintf(failpath, fplen, "%s", outdir);
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		return -1;
	train_rm_dir(tmp);
	snprintf(failpath, fplen, "%s", tmp);
	if (mkdir(tmp, 0755) != 0)
		return -1;

	struct ckpt_header h = { .kind = CKPT_MODEL, .in = (uint32_t)m->in,
				 .hidden = (uint32_t)m->hidden, .classes = (uint32_t)m->classes,
				 .optimizer = (uint32_t)o->kind, .arrays = 1, .count = m->nparams };
	memcpy(h.magic, CKPT_MAGIC, 8);
	snprintf(path, sizeof(path), "%s/model.bin", tmp);
	snprintf(failpath, fplen, "%s/checkpoint-%ld/model.bin", outdir, st->global_step);
	const void *mparts[] = { &h, m->params };
	size_t msizes[] = { sizeof(h), m->nparams * sizeof(float) };
	if (write_file(path, mparts, msizes, 2, true) != 0)
		goto fail;

	h.kind = CKPT_OPTIM;
	h.arrays = o->kind == TRAIN_OPT_ADAM ? 2 : 1;
	h.t = o->t;
	snprintf(path, sizeof(path), "%s/optimizer.bin", tmp);
	snprintf(failpath, fplen, "%s/checkpoint-%ld/optimizer.bin", outdir, st->global_step);
	const void *oparts[] = { &h, o->m, o->v };
	size_t osizes[] = { sizeof(h), o->n * sizeof(float), o->n * sizeof(float) };
	if (write_file(path, oparts, osizes, 2 + (o->kind == TRAIN_OPT_ADAM), true) != 0)
		goto fail;

	char json[1024], lr[64], ep[64], tl[64];
	int jl = snprintf(json, sizeof(json),
			  "{\n  \"global_step\": %ld,\n  \"epoch\": %s,\n  \"samples_seen\": %ld,\n"
			  "  \"learning_rate\": %s,\n  \"train_batch_size\": %d,\n  \"max_steps\": %ld,\n"
			  "  \"total_loss\": %s,\n  \"loss_steps\": %ld,\n  \"log_history\": []\n}\n",
			  st->global_step, train_pyfloat(ep, sizeof(ep), st->epoch), st->samples_seen,
			  train_pyfloat(lr, sizeof(lr), st->lr), st->batch_size, st->max_steps,
			  train_pyfloat(tl, sizeof(tl), st->total_loss), st->loss_steps);
	snprintf(path, sizeof(path), "%s/trainer_state.json", tmp);
	snprintf(failpath, fplen, "%s/checkpoint-%ld/trainer_state.json", outdir, st->global_step);
	const void *jparts[] = { json };
	size_t jsizes[] = { (size_t)jl };
	if (write_file(path, jparts, jsizes, 1, false) != 0)
		goto fail;
	snprintf(failpath, fplen, "%s", final);
	if (fsync_dir(tmp) != 0)
		goto fail;
	train_rm_dir(final); /* an older save of the same step (resumed run) */
	if (rename(tmp, final) != 0)
		goto fail;
	snprintf(failpath, fplen, "%s", outdir);
	if (fsync_dir(outdir) != 0)
		return -1;
	return 0;
fail:;
	int e = errno;
	train_rm_dir(tmp);
	errno = e;
	return -1;
}

static long ckpt_step(const char *name)
{
	if (strncmp(name, "checkpoint-", 11) != 0)
		return -1;
	char *end;
	long n = strtol(name + 11, &end, 10);
	return (*end || end == name + 11 || n < 0) ? -1 : n;
}

long train_ckpt_latest(const char *outdir, char *path, size_t len)
{
	DIR *d = opendir(outdir);
	if (!d)
		return -1;
	long best = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		long n = ckpt_step(e->d_name);
		if (n > best)
			best = n;
	}
	closedir(d);
	if (best >= 0)
		snprintf(path, len, "%s/checkpoint-%ld", outdir, best);
	return best;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

void train_ckpt_rotate(const char *outdir, int limit, FILE *log)
{
	if (limit <= 0)
		return;
	DIR *d = opendir(outdir);
	if (!d)
		return;
	long steps[4096];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 4096) {
		long s = ckpt_step(e->d_name);
		if (s >= 0)
			steps[n++] = s;
	}
	closedir(d);
	qsort(steps, (size_t)n, sizeof(long), cmp_long);
	char p[TRAIN_PATH_MAX + 64];
	for (int i = 0; i + limit < n; i++) {
		snprintf(p, sizeof(p), "%s/checkpoint-%ld", outdir, steps[i]);
		if (log)
			fprintf(log, "Deleting older checkpoint [%s] due to args.save_total_limit\n", p);
		train_rm_dir(p);
	}
}

/* Reads a whole file; returns its size or -1. */
static long read_whole(const char *path, char **buf)
{
	*buf = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	struct stat st;
	if (fstat(fileno(f), &st) != 0) {
		fclose(f);
		return -1;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		fclose(f);
		errno = ENOMEM;
		return -1;
	}
	size_t n = fread(*buf, 1, (size_t)st.st_size, f);
	fclose(f);
	(*buf)[n] = 0;
	return (long)n;
}

static int load_bin(const char *path, uint32_t kind, const struct train_model *m, int arrays,
		    float *const *dst, size_t count, int64_t *t, char *err, size_t errlen)
{
	char *buf;
	long n = read_whole(path, &buf);
	if (n < 0) {
		snprintf(err, errlen, "OSError: [Errno %d] %s: '%s'", errno, strerror(errno), path);
		return -1;
	}
	struct ckpt_header h;
	size_t want = sizeof(h) + (size_t)arrays * count * sizeof(float) + sizeof(uint32_t);
	if ((size_t)n < sizeof(h) || memcmp(buf, CKPT_MAGIC, 8) != 0) {
		snprintf(err, errlen, "RuntimeError: Error(s) in loading checkpoint '%s': invalid header "
			 "(not a moni-train checkpoint, or truncated)", path);
		free(buf);
		return -1;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.kind != kind || (int)h.in != m->in || (int)h.hidden != m->hidden ||
	    (int)h.classes != m->classes || h.count != count || (int)h.arrays != arrays) {
		snprintf(err, errlen, "RuntimeError: Error(s) in loading checkpoint '%s': size mismatch: "
			 "checkpoint has shape [%u, %u, %u] (%u array(s)), the current model is "
			 "[%d, %d, %d] (%d array(s))", path, h.in, h.hidden, h.classes, h.arrays,
			 m->in, m->hidden, m->classes, arrays);
		free(buf);
		return -1;
	}
	if ((size_t)n != want) {
		snprintf(err, errlen, "RuntimeError: Error(s) in loading checkpoint '%s': file is %s "
			 "(expected %zu bytes, found %ld)", path, (size_t)n < want ? "truncated" : "too long",
			 want, n);
		free(buf);
		return -1;
	}
	uint32_t stored;
	memcpy(&stored, buf + want - sizeof(uint32_t), sizeof(stored));
	if (train_crc32(0, buf, want - sizeof(uint32_t)) != stored) {
		snprintf(err, errlen, "RuntimeError: Error(s) in loading checkpoint '%s': checksum "
			 "mismatch (file is corrupt)", path);
		free(buf);
		return -1;
	}
	for (int a = 0; a < arrays; a++)
		memcpy(dst[a], buf + sizeof(h) + (size_t)a * count * sizeof(float), count * sizeof(float));
	if (t)
		*t = h.t;
	free(buf);
	return 0;
}

static bool json_num(const char *json, const char *key, double *v)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	if (!p)
		return false;
	char *end;
	*v = strtod(p + strlen(pat), &end);
	return end != p + strlen(pat);
}

int train_ckpt_load(const char *ckdir, struct train_model *m, struct train_optim *o,
		    struct train_state *st, char *err, size_t errlen)
{
	char path[TRAIN_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/trainer_state.json", ckdir);
	char *json;
	if (read_whole(path, &json) < 0) {
		snprintf(err, errlen, "OSError: [Errno %d] %s: '%s'", errno, strerror(errno), path);
		return -1;
	}
	double gs, ep, ss, lr, bs, ms, tl, ls;
	bool ok = strchr(json, '}') && json_num(json, "global_step", &gs) &&
		  json_num(json, "epoch", &ep) && json_num(json, "samples_seen", &ss) &&
		  json_num(json, "learning_rate", &lr) && json_num(json, "train_batch_size", &bs) &&
		  json_num(json, "max_steps", &ms) && json_num(json, "total_loss", &tl) &&
		  json_num(json, "loss_steps", &ls);
	free(json);
	if (!ok) {
		snprintf(err, errlen, "json.decoder.JSONDecodeError: '%s' is truncated or corrupt "
			 "(missing trainer state fields)", path);
		return -1;
	}
	float *mdst[] = { m->params };
	snprintf(path, sizeof(path), "%s/model.bin", ckdir);
	if (load_bin(path, CKPT_MODEL, m, 1, mdst, m->nparams, NULL, err, errlen) != 0)
		return -1;
	float *odst[] = { o->m, o->v };
	int64_t t = 0;
	snprintf(path, sizeof(path), "%s/optimizer.bin", ckdir);
	if (load_bin(path, CKPT_OPTIM, m, o->kind == TRAIN_OPT_ADAM ? 2 : 1, odst, o->n, &t, err,
		     errlen) != 0)
		return -1;
	o->t = t;
	st->global_step = (long)gs;
	st->epoch = ep;
	st->samples_seen = (long)ss;
	st->lr = lr;
	st->batch_size = (int)bs;
	st->max_steps = (long)ms;
	st->total_loss = tl;
	st->loss_steps = (long)ls;
	return 0;
}
