/* The control file: key=value lines or one flat JSON object, polled every step.
 * A key takes effect when its value differs from the last one read (the first read
 * counts as a change); nan_next_step fires once per new non-zero value.
 * Every read of a changed file is acknowledged in FILE.ack (written atomically), not
 * in the training log: a changed knob must look in the log like the job it makes,
 * and whoever changed it learns from the ack when and at which step it was applied. */
#include "workloads/train/train.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where one parse reports: warning lines (NULL: none), their count, the keys ignored. */
struct ctl_sink {
	FILE *warn;
	int nwarn;
	int nignored;
	char (*ignored)[TRAIN_CTL_KEY_MAX];
};

static void ignore_key(struct ctl_sink *sk, const char *key)
{
	sk->nwarn++;
	if (sk->ignored && key[0] && sk->nignored < TRAIN_CTL_MAX_IGNORED)
		snprintf(sk->ignored[sk->nignored++], TRAIN_CTL_KEY_MAX, "%s", key);
}

static const struct {
	const char *name;
	bool integer;
	double min, max;
} KEYS[TRAIN_CTL_NKEYS] = {
	[TRAIN_CTL_LR] = { "lr", false, 0.0, 1e6 },
	[TRAIN_CTL_BATCH] = { "batch_size", true, 1, 1 << 20 },
	[TRAIN_CTL_SLEEP] = { "sleep_ms", true, 0, 3600000 },
	[TRAIN_CTL_NAN] = { "nan_next_step", true, 0, 1e15 },
};

const char *train_control_key_name(enum train_ctl_key k)
{
	return k < TRAIN_CTL_NKEYS ? KEYS[k].name : "?";
}

static void set_value(const char *name, int line, const char *key, size_t klen,
		      const char *val, size_t vlen, double *vals, bool *present, struct ctl_sink *sk)
{
	FILE *warn = sk->warn;
	char k[64], v[128];
	snprintf(k, sizeof(k), "%.*s", (int)(klen < 63 ? klen : 63), key);
	snprintf(v, sizeof(v), "%.*s", (int)(vlen < 127 ? vlen : 127), val);
	int idx = -1;
	for (int i = 0; i < TRAIN_CTL_NKEYS; i++)
		if (!strcmp(k, KEYS[i].name))
			idx = i;
	if (idx < 0) {
		if (warn)
			fprintf(warn, "[control] warning: %s:%d: unknown key '%s' (ignored)\n", name, line, k);
		ignore_key(sk, k);
		return;
	}
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	while (*end && isspace((unsigned char)*end))
		end++;
	bool ok = end != v && !*end && errno == 0 && isfinite(d) && d >= KEYS[idx].min &&
		  d <= KEYS[idx].max && (!KEYS[idx].integer || d == floor(d)) &&
		  !(idx == TRAIN_CTL_LR && d <= 0);
	if (!ok) {
		if (warn)
			fprintf(warn, "[control] warning: %s:%d: bad value '%s' for %s (ignored)\n", name,
				line, v, k);
		ignore_key(sk, k);
		return;
	}
	vals[idx] = d;
	present[idx] = true;
}

static int parse_json(const char *text, const char *name, double *vals, bool *present,
		      struct ctl_sink *sk)
{
	FILE *warn = sk->warn;
	int line = 1;
	const char *p = text;
	while (*p && *p != '{') {
		if (*p == '\n')
			line++;
		p++;
	}
	p++;
	for (;;) {
		while (*p && (isspace((unsigned char)*p) || *p == ',')) {
			if (*p == '\n')
				line++;
			p++;
		}
		if (!*p || *p == '}')
			break;
		if (*p != '"') {
			if (warn)
				fprintf(warn, "[control] warning: %s:%d: expected a \"key\" (rest ignored)\n", name, line);
			return ++sk->nwarn;
		}
		const char *k = ++p;
		while (*p && *p != '"')
			p++;
		size_t klen = (size_t)(p - k);
		if (*p)
			p++;
		while (*p && isspace((unsigned char)*p))
			p++;
		if (*p != ':') {
			if (warn)
				fprintf(warn, "[control] warning: %s:%d: expected ':' (rest ignored)\n", name, line);
			return ++sk->nwarn;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		const char *v;
		size_t vlen;
		if (*p == '"') { /* "10" is accepted as 10 */
			v = ++p;
			while (*p && *p != '"' && *p != '\n')
				p++;
			vlen = (size_t)(p - v);
			if (*p == '"')
				p++;
		} else {
			v = p;
			while (*p && *p != ',' && *p != '}' && *p != '\n')
				p++;
			vlen = (size_t)(p - v);
			while (vlen && isspace((unsigned char)v[vlen - 1]))
				vlen--;
		}
		set_value(name, line, k, klen, v, vlen, vals, present, sk);
	}
	return sk->nwarn;
}

static int parse_text(const char *text, const char *name, double *vals, bool *present,
		      struct ctl_sink *sk)
{
	FILE *warn = sk->warn;
	for (int i = 0; i < TRAIN_CTL_NKEYS; i++)
		present[i] = false;
	const char *s = text;
	while (*s && isspace((unsigned char)*s))
		s++;
	if (*s == '{')
		return parse_json(text, name, vals, present, sk);
	int line = 0;
	for (const char *p = text; *p;) {
		line++;
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *a = p, *b = p + len;
		const char *hash = memchr(a, '#', len);
		if (hash)
			b = hash;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (a < b) {
			const char *eq = memchr(a, '=', (size_t)(b - a));
			if (!eq) {
				if (warn)
					fprintf(warn, "[control] warning: %s:%d: expected key=value (ignored)\n",
						name, line);
				sk->nwarn++;
			} else {
				const char *ke = eq, *vs = eq + 1;
				while (ke > a && isspace((unsigned char)ke[-1]))
					ke--;
				while (vs < b && isspace((unsigned char)*vs))
					vs++;
				set_value(name, line, a, (size_t)(ke - a), vs, (size_t)(b - vs), vals,
					  present, sk);
			}
		}
		p = eol ? eol + 1 : p + len;
	}
	return sk->nwarn;
}

int train_control_parse(const char *text, const char *name, double *vals, bool *present, FILE *warn)
{
	struct ctl_sink sk = { .warn = warn };
	return parse_text(text, name, vals, present, &sk);
}

int train_control_poll(struct train_control *c, struct train_ctl_change *out, FILE *warn)
{
	struct stat st;
	if (!c->path[0] || stat(c->path, &st) != 0)
		return 0; /* the file may appear later */
	long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	long long ct = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
	if (c->have_stat && mt == c->mtime_ns && (long long)st.st_size == c->size &&
	    (long long)st.st_ino == c->ino && ct == c->ctime_ns)
		return 0;
	FILE *f = fopen(c->path, "r");
	if (!f)
		return 0;
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	c->have_stat = true;
	c->mtime_ns = mt;
	c->ctime_ns = ct;
	c->size = (long long)st.st_size;
	c->ino = (long long)st.st_ino;
	double vals[TRAIN_CTL_NKEYS] = { 0 };
	bool present[TRAIN_CTL_NKEYS];
	struct ctl_sink sk = { .warn = warn, .ignored = c->ignored };
	parse_text(buf, c->path, vals, present, &sk);
	c->nignored = sk.nignored;
	c->nwarn = sk.nwarn;
	c->read = true;
	int nc = 0;
	for (int k = 0; k < TRAIN_CTL_NKEYS; k++) {
		if (!present[k] || (c->seen[k] && c->last[k] == vals[k]))
			continue;
		c->seen[k] = true;
		c->last[k] = vals[k];
		if (k == TRAIN_CTL_NAN && vals[k] == 0)
			continue;
		out[nc].key = (enum train_ctl_key)k;
		out[nc].value = vals[k];
		nc++;
	}
	return nc;
}

/* JSON string body: the control path may hold quotes or control characters. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

int train_control_ack(struct train_control *c, const struct train_ctl_change *ch, int n, long step)
{
	if (!c->read)
		return 0;
	c->read = false;
	char path[TRAIN_PATH_MAX + 8], tmp[TRAIN_PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s.ack", c->path);
	snprintf(tmp, sizeof(tmp), "%s.ack.tmp", c->path);
	struct timespec wall, mono;
	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	struct tm tm;
	gmtime_r(&wall.tv_sec, &tm);
	char when[40];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -1;
	fprintf(f, "{\"control\": ");
	json_str(f, c->path);
	fprintf(f, ", \"pid\": %ld, \"step\": %ld, \"time\": \"%s.%03ldZ\", \"mono_ns\": %lld",
		(long)getpid(), step, when, wall.tv_nsec / 1000000L,
		(long long)mono.tv_sec * 1000000000LL + mono.tv_nsec);
	fprintf(f, ", \"applied\": {");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"%s\": %.17g", i ? ", " : "", KEYS[ch[i].key].name, ch[i].value);
	fprintf(f, "}, \"values\": {");
	for (int k = 0, first = 1; k < TRAIN_CTL_NKEYS; k++)
		if (c->seen[k]) {
			fprintf(f, "%s\"%s\": %.17g", first ? "" : ", ", KEYS[k].name, c->last[k]);
			first = 0;
		}
	fprintf(f, "}, \"ignored\": [");
	for (int i = 0; i < c->nignored; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, c->ignored[i]);
	}
	fprintf(f, "], \"warnings\": %d}\n", c->nwarn);
	if (fflush(f) != 0 || ferror(f)) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}
