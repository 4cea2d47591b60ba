/* The corpus: deterministic, seeded, synthetic movie-review-like documents with a
 * binary sentiment label, written once as TSV shard files and read back from disk
 * every epoch by a prefetching loader thread (which featurises them into hashed
 * unigram + bigram counts, L2-normalised). */
#include "workloads/train/train.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- generator ------------------------------------------------------------------ */

static const char *const POS[] = {
	"great", "excellent", "wonderful", "brilliant", "superb", "delightful", "moving",
	"charming", "gripping", "beautiful", "hilarious", "clever", "touching", "stunning",
	"memorable", "fantastic", "enjoyable", "powerful", "fresh", "engaging", "witty",
	"masterful", "heartfelt", "remarkable", "compelling", "inspired", "elegant", "fun",
	"solid", "likable", "thrilling", "rich", "gorgeous", "smart", "tender", "lovely",
};
static const char *const NEG[] = {
	"terrible", "awful", "boring", "dull", "weak", "bland", "clumsy", "tedious",
	"predictable", "forgettable", "painful", "messy", "lazy", "shallow", "annoying",
	"pointless", "confusing", "flat", "stale", "wooden", "silly", "cheap", "bloated",
	"lifeless", "tiresome", "awkward", "hollow", "sloppy", "unfunny", "grating",
	"clichéd", "mediocre", "disappointing", "overlong", "uneven", "poor",
};
static const char *const NOUN[] = {
	"plot", "acting", "script", "story", "cast", "direction", "soundtrack", "ending",
	"dialogue", "pacing", "cinematography", "lead", "villain", "editing", "score",
	"premise", "finale", "performance", "humor", "characters", "visuals", "writing",
	"camera work", "opening", "second half", "sequel", "screenplay", "production",
};
static const char *const INTENS[] = { "very", "really", "quite", "truly", "rather", "so", "pretty", "incredibly" };
static const char *const FILLER[] = {
	"we watched it on a rainy sunday afternoon .",
	"i saw this with my brother last week .",
	"the film runs a little over two hours .",
	"it is based on a novel from the seventies .",
	"the director also made a documentary before this .",
	"most of it was shot on location in a small town .",
	"my friend recommended it to me months ago .",
	"there is a long flashback in the middle .",
	"the trailer shows most of the first act .",
	"it was released in theaters and on streaming at the same time .",
	"the story follows a family over one summer .",
	"several scenes take place at night in the city .",
	"i went in without knowing much about it .",
	"the studio changed the title before release .",
	"it reminded me of films i watched as a kid .",
	"the cast includes a few familiar faces .",
	"we paused it halfway to get some food .",
	"the runtime feels about right for this kind of story .",
	"there are subtitles for some of the dialogue .",
	"the credits list a lot of names .",
};
#define N(a) (sizeof(a) / sizeof(a[0]))

struct rng { uint64_t s; };

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

struct sbuf { char *p; size_t n, cap; };

static void sb_add(struct sbuf *b, const char *s)
{
	size_t l = strlen(s);
	if (b->n + l + 2 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 2048) + l;
		char *p = realloc(b->p, cap);
		if (!p)
			return; /* text stays shorter; allocation failure reported by caller */
		b->p = p;
		b->cap = cap;
	}
	if (b->n)
		b->p[b->n++] = ' ';
	memcpy(b->p + b->n, s, l);
	b->n += l;
	b->p[b->n] = 0;
}

static const char *adj(struct rng *r, int polarity)
{
	return polarity ? POS[rng_below(r, N(POS))] : NEG[rng_below(r, N(NEG))];
}

/* One opinion sentence of the given polarity (1 = positive). A quarter of them say
 * it through negation ("not boring"), which only bigrams capture. */
static void opinion(struct sbuf *b, struct rng *r, int pol)
{
	const char *noun = NOUN[rng_below(r, N(NOUN))];
	bool negated = rng_unit(r) < 0.25;
	const char *a = adj(r, negated ? !pol : pol);
	switch (rng_below(r, 5)) {
	case 0:
		sb_add(b, "the");
		sb_add(b, noun);
		sb_add(b, "was");
		if (negated)
			sb_add(b, "not");
		else if (rng_unit(r) < 0.5)
			sb_add(b, INTENS[rng_below(r, N(INTENS))]);
		sb_add(b, a);
		break;
	case 1:
		sb_add(b, "i found the");
		sb_add(b, noun);
		sb_add(b, negated ? "anything but" : INTENS[rng_below(r, N(INTENS))]);
		sb_add(b, a);
		break;
	case 2:
		sb_add(b, negated ? "hardly a" : "a");
		sb_add(b, a);
		sb_add(b, noun);
		sb_add(b, "and a");
		sb_add(b, adj(r, negated ? !pol : pol));
		sb_add(b, NOUN[rng_below(r, N(NOUN))]);
		break;
	case 3:
		sb_add(b, "honestly the");
		sb_add(b, noun);
		sb_add(b, negated ? "is never" : "is");
		sb_add(b, a);
		break;
	default:
		sb_add(b, "overall it felt");
		if (negated)
			sb_add(b, "not");
		sb_add(b, a);
		break;
	}
	sb_add(b, ".");
}

char *train_gen_doc(uint64_t seed, long index, int *label)
{
	struct rng r = { seed * 0x2545f4914f6cdd1dULL + (uint64_t)index * 0x9e3779b97f4a7c15ULL + 1 };
	rng_next(&r);
	int y = (int)rng_below(&r, 2);
	struct sbuf b = { 0 };
	int sentences = 14 + (int)rng_below(&r, 14);
	/* Mixed reviews: most opinions agree with the label, some do not. */
	double agree = 0.72 + 0.2 * rng_unit(&r);
	for (int i = 0; i < sentences; i++) {
		if (rng_unit(&r) < 0.5)
			opinion(&b, &r, rng_unit(&r) < agree ? y : !y);
		else
			sb_add(&b, FILLER[rng_below(&r, N(FILLER))]);
	}
	if (rng_unit(&r) < 0.05) /* label noise, as in any human-labelled corpus */
		y = !y;
	*label = y;
	if (!b.p)
		b.p = strdup("");
	return b.p;
}

/* ---- shards --------------------------------------------------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t train_crc32(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	const unsigned char *p = buf;
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

int train_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int train_shard_write(const char *path, const struct train_doc *docs, long n)
{
	struct sbuf b = { 0 };
	size_t cap = 4096;
	for (long i = 0; i < n; i++)
		cap += strlen(docs[i].text) + 8;
	b.p = malloc(cap);
	if (!b.p)
		return -1;
	b.cap = cap;
	for (long i = 0; i < n; i++) {
		/* no tabs or newlines in generated text; replace defensively */
		b.n += (size_t)snprintf(b.p + b.n, cap - b.n, "%d\t", docs[i].label);
		for (const char *t = docs[i].text; *t; t++)
			b.p[b.n++] = (*t == '\t' || *t == '\n') ? ' ' : *t;
		b.p[b.n++] = '\n';
	}
	uint32_t crc = train_crc32(0, b.p, b.n);
	b.n += (size_t)snprintf(b.p + b.n, cap - b.n, "#end %ld %08x\n", n, crc);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(b.p);
		return -1;
	}
	int rc = train_write_all(fd, b.p, b.n);
	int saved = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	free(b.p);
	errno = saved;
	return rc;
}

void train_docs_free(struct train_doc *docs, long n)
{
	if (!docs)
		return;
	for (long i = 0; i < n; i++)
		free(docs[i].text);
	free(docs);
}

long train_shard_read(const char *path, struct train_doc **out, bool drop_cache)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *buf = malloc(size + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (got < size) { /* 256 KiB reads, like a buffered dataset reader */
		size_t want = size - got < 262144 ? size - got : 262144;
		ssize_t r = read(fd, buf + got, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EBADMSG;
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		got += (size_t)r;
	}
	buf[size] = 0;
	/* So the next epoch reads from the device again instead of the page cache. */
	if (drop_cache)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	/* trailer: "#end N CRC\n" */
	char *end = size >= 2 ? buf + size - 2 : buf;
	while (end > buf && *end != '\n')
		end--;
	char *trailer = end == buf ? buf : end + 1;
	long n = -1;
	unsigned crc = 0;
	if (strncmp(trailer, "#end ", 5) != 0 || sscanf(trailer, "#end %ld %x", &n, &crc) != 2 ||
	    n < 0 || train_crc32(0, buf, (size_t)(trailer - buf)) != crc) {
		free(buf);
		errno = EBADMSG;
		return -1;
	}
	struct train_doc *docs = calloc((size_t)n + 1, sizeof(*docs));
	if (!docs) {
		free(buf);
		errno = ENOMEM;
		return -1;
	}
	long i = 0;
	for (char *line = buf; line < trailer && i < n;) {
		char *nl = strchr(line, '\n');
		*nl = 0;
		char *tab = strchr(line, '\t');
		if (!tab)
			break;
		docs[i].label = atoi(line);
		docs[i].text = strdup(tab + 1);
		if (!docs[i].text)
			break;
		i++;
		line = nl + 1;
	}
	free(buf);
	if (i != n) {
		train_docs_free(docs, i);
		errno = EBADMSG;
		return -1;
	}
	*out = docs;
	return n;
}

int train_corpus_shards(const struct train_corpus_spec *spec, bool eval)
{
	long n = eval ? spec->eval_samples : spec->train_samples;
	return (int)((n + spec->shard_samples - 1) / spec->shard_samples);
}

void train_corpus_dir(char *buf, size_t len, const char *dir, const struct train_corpus_spec *s)
{
	snprintf(buf, len, "%s/corpus-v2-s%llu-t%ld-e%ld-k%d", dir, (unsigned long long)s->seed,
		 s->train_samples, s->eval_samples, s->shard_samples);
}

void train_shard_path(char *buf, size_t len, const char *dir, bool eval, int i, int n)
{
	snprintf(buf, len, "%s/%s-%05d-of-%05d.tsv", dir, eval ? "eval" : "train", i, n);
}

static int mkdir_p(const char *path)
{
	char tmp[TRAIN_PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

void train_rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char p[TRAIN_PATH_MAX + 256];
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int gen_split(const char *dir, const struct train_corpus_spec *spec, bool eval)
{
	int nshards = train_corpus_shards(spec, eval);
	long total = eval ? spec->eval_samples : spec->train_samples;
	/* eval documents come after the training ones in the generator's index space */
	long base = eval ? spec->train_samples : 0;
	struct train_doc *docs = calloc((size_t)spec->shard_samples, sizeof(*docs));
	if (!docs)
		return -1;
	for (int s = 0; s < nshards; s++) {
		long first = (long)s * spec->shard_samples;
		long n = total - first < spec->shard_samples ? total - first : spec->shard_samples;
		for (long i = 0; i < n; i++)
			docs[i].text = train_gen_doc(spec->seed, base + first + i, &docs[i].label);
		char path[TRAIN_PATH_MAX + 64];
		train_shard_path(path, sizeof(path), dir, eval, s, nshards);
		int rc = train_shard_write(path, docs, n);
		int e = errno;
		for (long i = 0; i < n; i++) {
			free(docs[i].text);
			docs[i].text = NULL;
		}
		if (rc != 0) {
			free(docs);
			errno = e;
			return -1;
		}
	}
	free(docs);
	return 0;
}

int train_corpus_ensure(const char *dir, const struct train_corpus_spec *spec, FILE *log,
			char *err, size_t errlen)
{
	char sub[TRAIN_PATH_MAX], manifest[TRAIN_PATH_MAX + 32], tmp[TRAIN_PATH_MAX + 64];
	train_corpus_dir(sub, sizeof(sub), dir, spec);
	snprintf(manifest, sizeof(manifest), "%s/manifest.txt", sub);
	if (access(manifest, R_OK) == 0)
		return 0;
	if (mkdir_p(dir) != 0) {
		snprintf(err, errlen, "OSError: [Errno %d] %s: '%s'", errno, strerror(errno), dir);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", sub, (long)getpid());
	train_rm_dir(tmp);
	if (mkdir(tmp, 0755) != 0) {
		snprintf(err, errlen, "OSError: [Errno %d] %s: '%s'", errno, strerror(errno), tmp);
		return -1;
	}
	if (log)
		fprintf(log, "Generating synthetic corpus (seed %llu: %ld train, %ld eval documents) into %s\n",
			(unsigned long long)spec->seed, spec->train_samples, spec->eval_samples, sub);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char mtmp[TRAIN_PATH_MAX + 96];
	snprintf(mtmp, sizeof(mtmp), "%s/manifest.txt", tmp);
	FILE *mf = NULL;
	if (gen_split(tmp, spec, false) != 0 || gen_split(tmp, spec, true) != 0 ||
	    !(mf = fopen(mtmp, "w"))) {
		int e = errno;
		snprintf(err, errlen, "OSError: [Errno %d] %s: '%s'", e, strerror(e), tmp);
		train_rm_dir(tmp);
		return -1;
	}
	fprintf(mf, "moni-train corpus v1 (synthetic)\nseed=%llu\ntrain_samples=%ld\neval_samples=%ld\n"
		"shard_samples=%d\ntrain_shards=%d\neval_shards=%d\n",
		(unsigned long long)spec->seed, spec->train_samples, spec->eval_samples,
		spec->shard_samples, train_corpus_shards(spec, false), train_corpus_shards(spec, true));
	if (fclose(mf) != 0 || (rename(tmp, sub) != 0 && errno != EEXIST && errno != ENOTEMPTY)) {
		int e = errno;
		snprintf(err, errlen, "OSError: [Errno %d] %s: '%s'", e, strerror(e), sub);
		train_rm_dir(tmp);
		return -1;
	}
	train_rm_dir(tmp); /* no-op after a successful rename; cleans up if another process won */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (log)
		fprintf(log, "Corpus ready in %.1fs\n",
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

/* ---- features ------------------------------------------------------------------- */

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261U;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619U;
	}
	return h;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

int train_featurize(const char *text, int features, struct train_sample *s)
{
	size_t cap = 64, n = 0;
	int32_t *idx = malloc(cap * sizeof(*idx));
	if (!idx)
		return -1;
	uint32_t prev = 0;
	bool have_prev = false;
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *q = p;
		while (*q && *q != ' ')
			q++;
		uint32_t h = fnv1a(p, (size_t)(q - p));
		if (n + 2 > cap) {
			cap *= 2;
			int32_t *ni = realloc(idx, cap * sizeof(*idx));
			if (!ni) {
				free(idx);
				return -1;
			}
			idx = ni;
		}
		idx[n++] = (int32_t)(h % (uint32_t)features);
		if (have_prev) {
			uint32_t bg = (prev * 0x9e3779b1U) ^ (h + 0x7f4a7c15U + (prev << 6) + (prev >> 2));
			idx[n++] = (int32_t)(bg % (uint32_t)features);
		}
		prev = h;
		have_prev = true;
		p = q;
	}
	qsort(idx, n, sizeof(*idx), cmp_i32);
	float *val = malloc((n ? n : 1) * sizeof(*val));
	if (!val) {
		free(idx);
		return -1;
	}
	/* sublinear term frequency, 1 + ln(count), as TfidfVectorizer(sublinear_tf) */
	size_t u = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && idx[j] == idx[i])
			j++;
		idx[u] = idx[i];
		val[u] = 1.0f + logf((float)(j - i));
		u++;
		i = j;
	}
	s->nnz = (int)u;
	s->idx = idx;
	s->val = val;
	return 0;
}

void train_sample_free(struct train_sample *s)
{
	free(s->idx);
	free(s->val);
	s->idx = NULL;
	s->val = NULL;
	s->nnz = 0;
}

void train_sample_densify(const struct train_sample *s, float *row, int features)
{
	memset(row, 0, (size_t)features * sizeof(float));
	for (int i = 0; i < s->nnz; i++)
		row[s->idx[i]] = s->val[i];
}

/* ---- prefetching loader --------------------------------------------------------- */

#define LOADER_QUEUE 512 /* samples read ahead of the trainer */

struct train_loader {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct train_sample q[LOADER_QUEUE];
	int head, count;
	bool stop, failed;
	char err[TRAIN_PATH_MAX + 128];
	char dir[TRAIN_PATH_MAX];
	struct train_corpus_spec spec;
	int features;
	uint64_t seed;
	long skip;
	bool drop_cache;
	double wait_s;
};

static void shuffle(long *v, long n, uint64_t seed)
{
	struct rng r = { seed };
	for (long i = 0; i < n; i++)
		v[i] = i;
	for (long i = n - 1; i > 0; i--) {
		long j = (long)(rng_next(&r) % (uint64_t)(i + 1));
		long t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static void loader_fail(struct train_loader *l, const char *msg)
{
	pthread_mutex_lock(&l->mu);
	snprintf(l->err, sizeof(l->err), "%s", msg);
	l->failed = true;
	pthread_cond_broadcast(&l->not_empty);
	pthread_mutex_unlock(&l->mu);
}

static void *loader_main(void *arg)
{
	struct train_loader *l = arg;
	char sub[TRAIN_PATH_MAX], path[TRAIN_PATH_MAX + 64], msg[TRAIN_PATH_MAX + 128];
	train_corpus_dir(sub, sizeof(sub), l->dir, &l->spec);
	int nshards = train_corpus_shards(&l->spec, false);
	long total = l->spec.train_samples;
	long epoch = l->skip / total, skip = l->skip % total;
	long *order = malloc((size_t)nshards * sizeof(long));
	long *perm = malloc((size_t)l->spec.shard_samples * sizeof(long));
	if (!order || !perm) {
		free(order);
		free(perm);
		loader_fail(l, "RuntimeError: DataLoader worker: out of memory");
		return NULL;
	}
	for (;; epoch++) {
		shuffle(order, nshards, l->seed * 1000003ULL + (uint64_t)epoch);
		for (int k = 0; k < nshards; k++) {
			int s = (int)order[k];
			long first = (long)s * l->spec.shard_samples;
			long n = total - first < l->spec.shard_samples ? total - first : l->spec.shard_samples;
			if (skip >= n) { /* resuming: this shard was consumed before */
				skip -= n;
				continue;
			}
			train_shard_path(path, sizeof(path), sub, false, s, nshards);
			struct train_doc *docs;
			long got = train_shard_read(path, &docs, l->drop_cache);
			if (got != n) {
				int e = got < 0 ? errno : EBADMSG;
				if (got >= 0)
					train_docs_free(docs, got);
				snprintf(msg, sizeof(msg), "OSError: [Errno %d] %s: '%s'", e,
					 e == EBADMSG ? "Bad message (corrupt or truncated shard)" : strerror(e), path);
				loader_fail(l, msg);
				goto out;
			}
			shuffle(perm, n, l->seed * 7919ULL + (uint64_t)epoch * 131ULL + (uint64_t)s);
			for (long i = skip; i < n; i++) {
				struct train_sample smp = { .label = docs[perm[i]].label };
				if (train_featurize(docs[perm[i]].text, l->features, &smp) != 0) {
					train_docs_free(docs, n);
					loader_fail(l, "RuntimeError: DataLoader worker: out of memory");
					goto out;
				}
				pthread_mutex_lock(&l->mu);
				while (l->count == LOADER_QUEUE && !l->stop)
					pthread_cond_wait(&l->not_full, &l->mu);
				if (l->stop) {
					pthread_mutex_unlock(&l->mu);
					train_sample_free(&smp);
					train_docs_free(docs, n);
					goto out;
				}
				l->q[(l->head + l->count) % LOADER_QUEUE] = smp;
				l->count++;
				pthread_cond_signal(&l->not_empty);
				pthread_mutex_unlock(&l->mu);
			}
			skip = 0;
			train_docs_free(docs, n);
		}
	}
out:
	free(order);
	free(perm);
	return NULL;
}

struct train_loader *train_loader_start(const char *dir, const struct train_corpus_spec *spec,
					int features, uint64_t seed, long skip_samples,
					bool drop_cache)
{
	struct train_loader *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	l->spec = *spec;
	l->features = features;
	l->seed = seed;
	l->skip = skip_samples;
	l->drop_cache = drop_cache;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->not_empty, NULL);
	pthread_cond_init(&l->not_full, NULL);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int rc = pthread_create(&l->thread, &attr, loader_main, l);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(l);
		errno = rc;
		return NULL;
	}
	return l;
}

int train_loader_next(struct train_loader *l, struct train_sample *s, char *err, size_t errlen)
{
	pthread_mutex_lock(&l->mu);
	if (l->count == 0 && !l->failed) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (l->count == 0 && !l->failed)
			pthread_cond_wait(&l->not_empty, &l->mu);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		l->wait_s += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (l->count == 0) {
		snprintf(err, errlen, "%s", l->err);
		pthread_mutex_unlock(&l->mu);
		return -1;
	}
	*s = l->q[l->head];
	l->head = (l->head + 1) % LOADER_QUEUE;
	l->count--;
	pthread_cond_signal(&l->not_full);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

double train_loader_wait_seconds(struct train_loader *l)
{
	pthread_mutex_lock(&l->mu);
	double w = l->wait_s;
	pthread_mutex_unlock(&l->mu);
	return w;
}

void train_loader_stop(struct train_loader *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_broadcast(&l->not_full);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	for (int i = 0; i < l->count; i++)
		train_sample_free(&l->q[(l->head + i) % LOADER_QUEUE]);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->not_empty);
	pthread_cond_destroy(&l->not_full);
	free(l);
}
