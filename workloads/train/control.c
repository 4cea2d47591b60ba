/* The control file: key=value lines or one flat JSON object, polled every step.
 * A key takes effect when its value differs from the last one read (the first read
 * counts as a change); nan_next_step fires once per new non-zero value. */
#include "workloads/train/train.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		      const char *val, size_t vlen, double *vals, bool *present, FILE *warn,
		      int *nwarn)
{
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
		(*nwarn)++;
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
		(*nwarn)++;
		return;
	}
	vals[idx] = d;
	present[idx] = true;
}

static int parse_json(const char *text, const char *name, double *vals, bool *present, FILE *warn)
{
	int nwarn = 0, line = 1;
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
			return nwarn + 1;
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
			return nwarn + 1;
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
		set_value(name, line, k, klen, v, vlen, vals, present, warn, &nwarn);
	}
	return nwarn;
}

int train_control_parse(const char *text, const char *name, double *vals, bool *present, FILE *warn)
{
	for (int i = 0; i < TRAIN_CTL_NKEYS; i++)
		present[i] = false;
	const char *s = text;
	while (*s && isspace((unsigned char)*s))
		s++;
	if (*s == '{')
		return parse_json(text, name, vals, present, warn);
	int nwarn = 0, line = 0;
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
				nwarn++;
			} else {
				const char *ke = eq, *vs = eq + 1;
				while (ke > a && isspace((unsigned char)ke[-1]))
					ke--;
				while (vs < b && isspace((unsigned char)*vs))
					vs++;
				set_value(name, line, a, (size_t)(ke - a), vs, (size_t)(b - vs), vals,
					  present, warn, &nwarn);
			}
		}
		p = eol ? eol + 1 : p + len;
	}
	return nwarn;
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
	train_control_parse(buf, c->path, vals, present, warn);
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
