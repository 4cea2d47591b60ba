/* Command-line options: one descriptor per flag. */
#include "workloads/train/train.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum opt_type { O_DOUBLE, O_INT, O_LONG, O_U64, O_SIZE, O_PATH, O_FLAG, O_OPTIM, O_SCHED };

struct opt_desc {
	const char *name, *arg, *help;
	enum opt_type type;
	size_t off;
	double min, max;
};

#define OFF(f) offsetof(struct train_opts, f)
static const struct opt_desc OPTS[] = {
	{ "lr", "F", "peak learning rate (default 0.01 for sgd, 0.001 for adam)", O_DOUBLE, OFF(lr), 0, 1e6 },
	{ "batch-size", "N", "samples per step (default 32)", O_INT, OFF(batch_size), 1, 1 << 20 },
	{ "epochs", "F", "passes over the training set (default 3)", O_DOUBLE, OFF(epochs), 0, 1e6 },
	{ "max-steps", "N", "stop after N steps; overrides --epochs (default: off)", O_LONG, OFF(max_steps), 0, 1e12 },
	{ "hidden", "N", "hidden units (default 64)", O_INT, OFF(hidden), 1, 65536 },
	{ "features", "N", "hashed input dimension (default 32768)", O_INT, OFF(features), 16, 1 << 24 },
	{ "threads", "N", "compute threads (default: all usable cores)", O_INT, OFF(threads), 1, 1024 },
	{ "seed", "N", "training seed: initialisation and data order (default 42)", O_U64, OFF(seed), 0, 0 },
	{ "data-seed", "N", "corpus seed (default 42)", O_U64, OFF(data_seed), 0, 0 },
	{ "train-samples", "N", "training documents in the corpus (default 24000)", O_LONG, OFF(train_samples), 1, 1e9 },
	{ "eval-samples", "N", "evaluation documents in the corpus (default 1000)", O_LONG, OFF(eval_samples), 1, 1e9 },
	{ "logging-steps", "N", "log a loss line every N steps (default 10)", O_INT, OFF(logging_steps), 1, 1e9 },
	{ "eval-steps", "N", "evaluate every N steps, 0 = only at the end (default 500)", O_INT, OFF(eval_steps), 0, 1e9 },
	{ "save-steps", "N", "checkpoint every N steps, 0 = only at the end (default 500)", O_INT, OFF(save_steps), 0, 1e9 },
	{ "save-total-limit", "N", "keep the newest N checkpoints, 0 = all (default 2)", O_INT, OFF(save_total_limit), 0, 1e9 },
	{ "max-grad-norm", "F", "clip the gradient norm, 0 = off (default 0)", O_DOUBLE, OFF(max_grad_norm), 0, 1e12 },
	{ "momentum", "F", "SGD momentum (default 0.9)", O_DOUBLE, OFF(momentum), 0, 1 },
	{ "weight-decay", "F", "weight decay (default 0)", O_DOUBLE, OFF(weight_decay), 0, 1e3 },
	{ "optimizer", "sgd|adam", "optimizer (default sgd, with momentum)", O_OPTIM, 0, 0, 0 },
	{ "lr-scheduler", "linear|constant", "learning-rate schedule (default linear decay)", O_SCHED, 0, 0, 0 },
	{ "output-dir", "DIR", "checkpoints (default ./moni-train-out)", O_PATH, OFF(output_dir), 0, 0 },
	{ "data-dir", "DIR", "corpus cache (default $TMPDIR/moni-train-data)", O_PATH, OFF(data_dir), 0, 0 },
	{ "mem-limit", "SIZE", "address-space cap (RLIMIT_AS), e.g. 512M (default: none)", O_SIZE, OFF(mem_limit), 0, 0 },
	{ "control", "FILE", "control file polled every step, acknowledged in FILE.ack (see moni-train(1))", O_PATH, OFF(control), 0, 0 },
	{ "log-control", NULL, "also log each applied control change on stdout", O_FLAG, OFF(log_control), 0, 0 },
	{ "stop-on-nan", NULL, "exit 1 when the loss becomes nan or inf", O_FLAG, OFF(stop_on_nan), 0, 0 },
	{ "save-on-term", NULL, "save a checkpoint on SIGTERM before exiting 143", O_FLAG, OFF(save_on_term), 0, 0 },
	{ "resume", NULL, "resume from the latest checkpoint in --output-dir", O_FLAG, OFF(resume), 0, 0 },
	{ "keep-cache", NULL, "do not drop shard files from the page cache after reading", O_FLAG, OFF(keep_cache), 0, 0 },
	{ "no-progress", NULL, "no progress bar on stderr", O_FLAG, OFF(no_progress), 0, 0 },
};
#define NOPTS (sizeof(OPTS) / sizeof(OPTS[0]))

static int usable_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

void train_opts_default(struct train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->lr = -1; /* resolved per optimizer */
	o->batch_size = 32;
	o->epochs = 3;
	o->hidden = 64;
	o->features = 32768;
	o->threads = usable_cpus();
	o->seed = 42;
	o->data_seed = 42;
	o->train_samples = 24000;
	o->eval_samples = 1000;
	o->logging_steps = 10;
	o->eval_steps = 500;
	o->save_steps = 500;
	o->save_total_limit = 2;
	o->momentum = 0.9;
	o->optimizer = TRAIN_OPT_SGD;
	o->sched = TRAIN_SCHED_LINEAR;
	snprintf(o->output_dir, sizeof(o->output_dir), "moni-train-out");
	const char *tmp = getenv("TMPDIR");
	snprintf(o->data_dir, sizeof(o->data_dir), "%s/moni-train-data", tmp && *tmp ? tmp : "/tmp");
}

static void usage(FILE *out)
{
	fprintf(out, "usage: moni-train [options]\n\n"
		"Trains a 2-layer MLP on a synthetic sentiment corpus and logs like the\n"
		"Hugging Face Trainer. See moni-train(1).\n\noptions:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", OPTS[i].name, OPTS[i].arg ? " " : "",
			 OPTS[i].arg ? OPTS[i].arg : "");
		fprintf(out, "  %-26s %s\n", left, OPTS[i].help);
	}
	fprintf(out, "  %-26s %s\n", "--help", "show this help");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || v > 1e18)
		return -1;
	double mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1024.0; end++; break;
	case 'M': mul = 1048576.0; end++; break;
	case 'G': mul = 1073741824.0; end++; break;
	case 'T': mul = 1099511627776.0; end++; break;
	default: break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)(v * mul);
	return 0;
}

static int set_opt(struct train_opts *o, const struct opt_desc *d, const char *v, FILE *err)
{
	char *p = (char *)o + d->off, *end;
	double x;
	switch (d->type) {
	case O_DOUBLE:
		errno = 0;
		x = strtod(v, &end);
		if (end == v || *end || errno || !isfinite(x) || x < d->min || x > d->max ||
		    (!strcmp(d->name, "lr") && x <= 0))
			goto bad;
		*(double *)p = x;
		return 0;
	case O_INT:
	case O_LONG:
		errno = 0;
		long long n = strtoll(v, &end, 10);
		if (end == v || *end || errno || n < d->min || n > d->max)
			goto bad;
		if (d->type == O_INT)
			*(int *)p = (int)n;
		else
			*(long *)p = (long)n;
		return 0;
	case O_U64:
		errno = 0;
		unsigned long long u = strtoull(v, &end, 10);
		if (end == v || *end || errno || v[0] == '-')
			goto bad;
		*(uint64_t *)p = u;
		return 0;
	case O_SIZE:
		if (parse_size(v, (uint64_t *)p) != 0)
			goto bad;
		return 0;
	case O_PATH:
		if (!*v || strlen(v) >= TRAIN_PATH_MAX - 128)
			goto bad;
		snprintf(p, TRAIN_PATH_MAX, "%s", v);
		return 0;
	case O_OPTIM:
		if (!strcmp(v, "sgd"))
			o->optimizer = TRAIN_OPT_SGD;
		else if (!strcmp(v, "adam") || !strcmp(v, "adamw"))
			o->optimizer = TRAIN_OPT_ADAM;
		else
			goto bad;
		return 0;
	case O_SCHED:
		if (!strcmp(v, "linear"))
			o->sched = TRAIN_SCHED_LINEAR;
		else if (!strcmp(v, "constant"))
			o->sched = TRAIN_SCHED_CONSTANT;
		else
			goto bad;
		return 0;
	case O_FLAG:
		break;
	}
bad:
	fprintf(err, "moni-train: --%s: invalid value '%s' (expected %s)\n", d->name, v,
		d->arg ? d->arg : "no value");
	return 2;
}

int train_opts_parse(struct train_opts *o, int argc, char **argv, FILE *out, FILE *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(out);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(err, "moni-train: unexpected argument '%s' (see --help)\n", a);
			return 2;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct opt_desc *d = NULL;
		for (size_t k = 0; k < NOPTS; k++)
			if (strlen(OPTS[k].name) == nlen && !strncmp(OPTS[k].name, name, nlen))
				d = &OPTS[k];
		/* HF spelling with underscores is accepted too */
		if (!d) {
			char alt[64];
			snprintf(alt, sizeof(alt), "%.*s", (int)(nlen < 63 ? nlen : 63), name);
			for (char *c = alt; *c; c++)
				if (*c == '_')
					*c = '-';
			for (size_t k = 0; k < NOPTS; k++)
				if (!strcmp(OPTS[k].name, alt))
					d = &OPTS[k];
		}
		if (!d) {
			fprintf(err, "moni-train: unknown option '%.*s' (see --help)\n", (int)(nlen + 2), a);
			return 2;
		}
		if (d->type == O_FLAG) {
			if (eq) {
				fprintf(err, "moni-train: --%s takes no value\n", d->name);
				return 2;
			}
			*(bool *)((char *)o + d->off) = true;
			continue;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (!v) {
			if (i + 1 >= argc) {
				fprintf(err, "moni-train: --%s needs a value (%s)\n", d->name, d->arg);
				return 2;
			}
			v = argv[++i];
		}
		if (set_opt(o, d, v, err) != 0)
			return 2;
	}
	if (o->lr < 0)
		o->lr = o->optimizer == TRAIN_OPT_ADAM ? 0.001 : 0.01;
	return 0;
}
