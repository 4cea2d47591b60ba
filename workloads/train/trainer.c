/* The training loop and its Hugging Face Trainer-style output. */
#include "workloads/train/train.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define EVAL_BATCH 64

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	if (got_term) /* second SIGTERM: the trainer is stuck (e.g. on I/O); go now */
		_exit(128 + sig);
	got_term = sig;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- output: stdout lines, tqdm-style bar on stderr ------------------------------ */

struct progress {
	bool enabled, tty, drawn;
	const char *desc;
	long n, total, start_n;
	double t0, last_draw;
};

static struct progress bar;

static void fmt_hms(char *b, size_t len, double s)
{
	if (!isfinite(s) || s < 0)
		s = 0;
	long t = (long)s;
	if (t >= 3600)
		snprintf(b, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(b, len, "%02ld:%02ld", t / 60, t % 60);
}

static void bar_draw(bool force)
{
	if (!bar.enabled || bar.total <= 0)
		return;
	double t = now_s();
	if (!force && t - bar.last_draw < 0.1)
		return;
	bar.last_draw = t;
	double el = t - bar.t0, rate = el > 0 ? (double)(bar.n - bar.start_n) / el : 0;
	double frac = (double)bar.n / (double)bar.total;
	if (frac > 1)
		frac = 1;
	static const char *const parts[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
	char cells[128] = "";
	int eighths = (int)(frac * 80);
	for (int i = 0; i < 10; i++) {
		int fill = eighths - i * 8;
		strcat(cells, fill >= 8 ? "█" : fill > 0 ? parts[fill] : " ");
	}
	char e[32], r[32], rs[32];
	fmt_hms(e, sizeof(e), el);
	fmt_hms(r, sizeof(r), rate > 0 ? (double)(bar.total - bar.n) / rate : 0);
	if (rate >= 1 || rate == 0)
		snprintf(rs, sizeof(rs), "%.2fit/s", rate);
	else
		snprintf(rs, sizeof(rs), "%.2fs/it", 1.0 / rate);
	fprintf(stderr, "\r%s%3d%%|%s| %ld/%ld [%s<%s, %s]", bar.desc, (int)(frac * 100), cells, bar.n,
		bar.total, e, r, rs);
	fflush(stderr);
	bar.drawn = true;
}

static void bar_start(const char *desc, long start, long total)
{
	bar.desc = desc;
	bar.n = bar.start_n = start;
	bar.total = total;
	bar.t0 = now_s();
	bar.last_draw = 0;
	bar.drawn = false;
	bar_draw(true);
}

static void bar_end(void)
{
	if (bar.enabled && bar.drawn) {
		bar_draw(true);
		fputc('\n', stderr);
		fflush(stderr);
	}
	bar.drawn = false;
	bar.total = 0;
}

/* A log line on stdout; on a terminal the bar is cleared first and redrawn after. */
static void __attribute__((format(printf, 1, 2))) out(const char *fmt, ...)
{
	if (bar.enabled && bar.tty && bar.drawn)
		fputs("\r\033[2K", stderr);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (bar.enabled && bar.tty && bar.drawn)
		bar_draw(true);
}

/* An error line on stderr, after finishing the bar's line. */
static void __attribute__((format(printf, 1, 2))) errline(const char *fmt, ...)
{
	if (bar.enabled && bar.drawn) {
		fputc('\n', stderr);
		bar.drawn = false;
	}
	fflush(stdout);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void oom_exit(size_t bytes)
{
	errline("RuntimeError: [enforce fail at moni-train] DefaultCPUAllocator: can't allocate memory: "
		"you tried to allocate %zu bytes. Error code 12 (Cannot allocate memory)", bytes);
	exit(1);
}

static const char *commas(char *b, size_t len, long v)
{
	char raw[32];
	snprintf(raw, sizeof(raw), "%ld", v);
	size_t n = strlen(raw), o = 0;
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0 && raw[i - 1] != '-')
			b[o++] = ',';
		b[o++] = raw[i];
	}
	b[o] = 0;
	return b;
}

/* ---- the run ---------------------------------------------------------------------- */

struct run {
	struct train_opts o;
	struct train_corpus_spec spec;
	struct train_model model;
	struct train_optim optim;
	struct train_pool *pool;
	struct train_loader *loader;
	struct train_batch batch, eval_batch;
	float *grad;
	struct train_state st;
	double lr_override;        /* > 0: set by the control file */
	int batch_size;
	long total_steps;
	long sleep_ms;
	long nan_steps;            /* steps left to poison */
	struct train_control ctl;
	bool ctl_ack_warned;
	double t0;
};

static double current_lr(const struct run *r, long step)
{
	if (r->lr_override > 0)
		return r->lr_override;
	if (r->o.sched == TRAIN_SCHED_CONSTANT)
		return r->o.lr;
	/* HF get_linear_schedule_with_warmup, no warmup: decays to 0 at the last step */
	double f = (double)(r->total_steps - (step - 1)) / (double)r->total_steps;
	return r->o.lr * (f > 0 ? f : 0);
}

static void save_checkpoint(struct run *r)
{
	char fail[TRAIN_PATH_MAX + 160];
	out("Saving model checkpoint to %s/checkpoint-%ld\n", r->o.output_dir, r->st.global_step);
	r->st.batch_size = r->batch_size;
	r->st.max_steps = r->total_steps;
	if (train_ckpt_save(r->o.output_dir, &r->model, &r->optim, &r->st, fail, sizeof(fail)) != 0) {
		int e = errno;
		errline("OSError: [Errno %d] %s: '%s'", e, strerror(e), fail);
		exit(1);
	}
	train_ckpt_rotate(r->o.output_dir, r->o.save_total_limit, stdout);
	fflush(stdout);
}

static void evaluate(struct run *r)
{
	char sub[TRAIN_PATH_MAX + 128], path[TRAIN_PATH_MAX + 256];
	train_corpus_dir(sub, sizeof(sub), r->o.data_dir, &r->spec);
	if (!r->eval_batch.x) {
		size_t bytes = 0;
		if (train_batch_alloc(&r->eval_batch, EVAL_BATCH, r->o.features, r->o.hidden, &bytes) != 0)
			oom_exit(bytes);
	}
	out("***** Running Evaluation *****\n  Num examples = %s\n  Batch size = %d\n",
	    commas(path, sizeof(path), r->spec.eval_samples), EVAL_BATCH);
	long batches = (r->spec.eval_samples + EVAL_BATCH - 1) / EVAL_BATCH;
	struct progress saved = bar;
	bar_start("", 0, batches);
	double t0 = now_s(), loss = 0;
	long correct = 0, seen = 0;
	int nshards = train_corpus_shards(&r->spec, true);
	struct train_batch *b = &r->eval_batch;
	b->n = 0;
	for (int s = 0; s < nshards && !got_term; s++) {
		train_shard_path(path, sizeof(path), sub, true, s, nshards);
		struct train_doc *docs;
		long n = train_shard_read(path, &docs, !r->o.keep_cache);
		if (n < 0) {
			int e = errno;
			errline("OSError: [Errno %d] %s: '%s'", e,
				e == EBADMSG ? "Bad message (corrupt or truncated shard)" : strerror(e), path);
			exit(1);
		}
		for (long i = 0; i < n; i++) {
			struct train_sample smp;
			if (train_featurize(docs[i].text, r->o.features, &smp) != 0)
				oom_exit(4096);
			train_sample_densify(&smp, b->x + (size_t)b->n * r->o.features, r->o.features);
			b->y[b->n++] = docs[i].label;
			train_sample_free(&smp);
			if (b->n == EVAL_BATCH || (s == nshards - 1 && i == n - 1)) {
				loss += train_forward_eval(&r->model, b, &correct, r->pool);
				seen += b->n;
				b->n = 0;
				bar.n++;
				bar_draw(false);
			}
		}
		train_docs_free(docs, n);
	}
	bar_end();
	bar = saved;
	bar.drawn = false;
	double rt = now_s() - t0;
	char l[64], a[64], t[64], sps[64], stp[64], ep[64];
	out("{'eval_loss': %s, 'eval_accuracy': %s, 'eval_runtime': %s, 'eval_samples_per_second': %s, "
	    "'eval_steps_per_second': %s, 'epoch': %s}\n",
	    train_pyfloat(l, sizeof(l), seen ? loss / seen : NAN),
	    train_pyfloat(a, sizeof(a), seen ? (double)correct / seen : 0),
	    train_pyfloat(t, sizeof(t), train_round(rt, 4)),
	    train_pyfloat(sps, sizeof(sps), train_round(seen / (rt > 0 ? rt : 1e-9), 3)),
	    train_pyfloat(stp, sizeof(stp), train_round(batches / (rt > 0 ? rt : 1e-9), 3)),
	    train_pyfloat(ep, sizeof(ep), train_round(r->st.epoch, 2)));
}

static void term_exit(struct run *r)
{
	int sig = got_term;
	errline("Received %s at step %ld%s", sig == SIGINT ? "SIGINT" : "SIGTERM", r->st.global_step,
		r->o.save_on_term ? ", saving a checkpoint before exiting" : ", exiting");
	if (r->o.save_on_term && r->st.global_step > 0)
		save_checkpoint(r);
	fflush(NULL);
	signal(sig, SIG_DFL);
	raise(sig); /* die by the signal, as an unhandled one would: status 128+sig */
	_exit(128 + sig);
}

static void apply_control(struct run *r, long step)
{
	struct train_ctl_change ch[TRAIN_CTL_NKEYS];
	int n = train_control_poll(&r->ctl, ch, stdout);
	for (int i = 0; i < n; i++) {
		char v[64];
		switch (ch[i].key) {
		case TRAIN_CTL_LR:
			r->lr_override = ch[i].value;
			train_pyfloat(v, sizeof(v), ch[i].value);
			break;
		case TRAIN_CTL_BATCH:
			r->batch_size = (int)ch[i].value;
			snprintf(v, sizeof(v), "%d", r->batch_size);
			break;
		case TRAIN_CTL_SLEEP:
			r->sleep_ms = (long)ch[i].value;
			snprintf(v, sizeof(v), "%ld", r->sleep_ms);
			break;
		case TRAIN_CTL_NAN:
		default:
			r->nan_steps = 1;
			snprintf(v, sizeof(v), "%.0f", ch[i].value);
			break;
		}
		if (r->o.log_control)
			out("[control] %s=%s applied at step %ld\n", train_control_key_name(ch[i].key), v,
			    step);
	}
	if (train_control_ack(&r->ctl, ch, n, step) != 0 && !r->ctl_ack_warned) {
		r->ctl_ack_warned = true; /* once: the trainer goes on without acks */
		errline("[control] warning: cannot write %s.ack: %s", r->ctl.path, strerror(errno));
	}
}

static void fill_batch(struct run *r)
{
	struct train_batch *b = &r->batch;
	char err[TRAIN_PATH_MAX + 160];
	b->n = 0;
	for (int i = 0; i < r->batch_size; i++) {
		struct train_sample s;
		if (train_loader_next(r->loader, &s, err, sizeof(err)) != 0) {
			errline("%s", err);
			exit(1);
		}
		train_sample_densify(&s, b->x + (size_t)i * r->o.features, r->o.features);
		b->y[i] = s.label;
		b->n++;
		train_sample_free(&s);
	}
}

/* Line-buffered stdout, one malloc arena, --mem-limit, the signal handlers, the bar. */
static int setup_process(struct run *r)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* One malloc arena: per-thread arenas reserve 64 MiB of address space each,
	 * which would make --mem-limit measure glibc, not the model. */
	mallopt(M_ARENA_MAX, 1);
	if (r->o.mem_limit) {
		struct rlimit rl;
		getrlimit(RLIMIT_AS, &rl);
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < r->o.mem_limit ? rl.rlim_max
											: r->o.mem_limit;
		if (setrlimit(RLIMIT_AS, &rl) != 0) {
			errline("moni-train: --mem-limit: setrlimit: %s", strerror(errno));
			return 1;
		}
	}
	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	bar.enabled = !r->o.no_progress;
	bar.tty = isatty(STDERR_FILENO);
	return 0;
}

/* The corpus, the model, its gradient, optimizer and thread pool, and the number of
 * steps; returns the steps of one epoch. */
static long setup_model(struct run *r)
{
	r->t0 = now_s();
	r->spec = (struct train_corpus_spec){ .seed = r->o.data_seed, .train_samples = r->o.train_samples,
					      .eval_samples = r->o.eval_samples, .shard_samples = 2000 };
	char err[TRAIN_PATH_MAX * 2];
	if (train_corpus_ensure(r->o.data_dir, &r->spec, stdout, err, sizeof(err)) != 0) {
		errline("%s", err);
		return -1;
	}
	if (train_model_init(&r->model, r->o.features, r->o.hidden, TRAIN_CLASSES, r->o.seed) != 0)
		oom_exit(((size_t)r->o.features + 3) * r->o.hidden * sizeof(float));
	r->grad = malloc(r->model.nparams * sizeof(float));
	if (!r->grad)
		oom_exit(r->model.nparams * sizeof(float));
	if (train_optim_init(&r->optim, r->o.optimizer, r->model.nparams, r->o.momentum,
			     r->o.weight_decay) != 0)
		oom_exit(r->model.nparams * sizeof(float));
	r->pool = train_pool_new(r->o.threads);
	if (!r->pool)
		oom_exit(sizeof(pthread_t) * (size_t)r->o.threads);
	r->batch_size = r->o.batch_size;
	long steps_per_epoch = (r->o.train_samples + r->batch_size - 1) / r->batch_size;
	r->total_steps = r->o.max_steps > 0 ? r->o.max_steps
					    : (long)ceil(r->o.epochs * (double)steps_per_epoch);
	if (r->total_steps < 1)
		r->total_steps = 1;
	return steps_per_epoch;
}

/* --resume: the latest checkpoint of the output directory. */
static int resume(struct run *r)
{
	char ck[TRAIN_PATH_MAX + 64], err[TRAIN_PATH_MAX * 2];
	if (train_ckpt_latest(r->o.output_dir, ck, sizeof(ck)) < 0) {
		errline("ValueError: No valid checkpoint found in output directory (%s)", r->o.output_dir);
		return 1;
	}
	out("Loading checkpoint from %s\n", ck);
	if (train_ckpt_load(ck, &r->model, &r->optim, &r->st, err, sizeof(err)) != 0) {
		errline("%s", err);
		return 1;
	}
	if (r->st.max_steps > 0 && r->o.max_steps <= 0)
		r->total_steps = r->st.max_steps;
	out("  Continuing training from checkpoint, will skip to saved global_step\n"
	    "  Continuing training from global step %ld\n", r->st.global_step);
	return 0;
}

static void print_banner(const struct run *r, long steps_per_epoch)
{
	char num[64], num2[64];
	out("***** Running training *****\n");
	out("  Num examples = %s\n", commas(num, sizeof(num), r->o.train_samples));
	out("  Num Epochs = %ld\n", (long)ceil((double)r->total_steps / (double)steps_per_epoch));
	out("  Instantaneous batch size per device = %d\n", r->batch_size);
	out("  Total train batch size (w. parallel, distributed & accumulation) = %d\n", r->batch_size);
	out("  Gradient Accumulation steps = 1\n");
	out("  Total optimization steps = %s\n", commas(num, sizeof(num), r->total_steps));
	out("  Number of trainable parameters = %s\n", commas(num2, sizeof(num2), (long)r->model.nparams));
	out("  Optimizer = %s, threads = %d, data = %s (synthetic)\n",
	    r->o.optimizer == TRAIN_OPT_ADAM ? "AdamW" : "SGD", train_pool_threads(r->pool), r->o.data_dir);
}

/* One optimisation step: control file, batch, forward/backward, clipping, update,
 * the --sleep-ms pause and the state.  Returns the loss; *grad_norm is set. */
static double train_step(struct run *r, long step, double *grad_norm)
{
	apply_control(r, step);
	if (r->batch_size > r->batch.cap) {
		train_batch_free(&r->batch);
		size_t bytes = 0;
		if (train_batch_alloc(&r->batch, r->batch_size, r->o.features, r->o.hidden, &bytes) != 0)
			oom_exit(bytes);
	}
	fill_batch(r);
	if (r->nan_steps > 0) { /* a NaN in the input, as corrupt data would bring */
		r->batch.x[0] = NAN;
		r->nan_steps--;
	}
	double lr = current_lr(r, step);
	double loss = train_forward_backward(&r->model, &r->batch, r->grad, r->pool);
	*grad_norm = (double)(float)train_grad_norm(r->grad, r->model.nparams, r->pool);
	if (r->o.max_grad_norm > 0 && *grad_norm > r->o.max_grad_norm)
		train_scale(r->grad, r->model.nparams, (float)(r->o.max_grad_norm / (*grad_norm + 1e-6)),
			    r->pool);
	train_optim_step(&r->optim, r->model.params, r->grad, lr, r->pool);
	if (r->sleep_ms > 0) {
		struct timespec ts = { r->sleep_ms / 1000, (r->sleep_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !got_term)
			;
	}
	r->st.global_step = step;
	r->st.samples_seen += r->batch.n;
	r->st.epoch = (double)r->st.samples_seen / (double)r->o.train_samples;
	r->st.lr = lr;
	r->st.total_loss += loss;
	r->st.loss_steps++;
	return loss;
}

/* The steps, with logging, evaluation and checkpoints on their schedules, then a
 * last evaluation and checkpoint unless the last step did them.  Returns 1 when
 * --stop-on-nan stopped it. */
static int train_loop(struct run *r)
{
	double log_loss = 0, grad_norm = 0;
	long log_n = 0;
	bool saved_last = false, evaluated_last = false;
	for (long step = r->st.global_step + 1; step <= r->total_steps; step++) {
		if (got_term)
			term_exit(r);
		double loss = train_step(r, step, &grad_norm);
		log_loss += loss;
		log_n++;
		bar.n = step;
		bar_draw(false);
		if (step % r->o.logging_steps == 0) {
			char l[64], g[64], lrs[64], ep[64];
			out("{'loss': %s, 'grad_norm': %s, 'learning_rate': %s, 'epoch': %s}\n",
			    train_pyfloat(l, sizeof(l), train_round(log_loss / log_n, 4)),
			    train_pyfloat(g, sizeof(g), grad_norm),
			    train_pyfloat(lrs, sizeof(lrs), current_lr(r, step + 1)),
			    train_pyfloat(ep, sizeof(ep), train_round(r->st.epoch, 2)));
			log_loss = 0;
			log_n = 0;
		}
		if (!isfinite(loss) && r->o.stop_on_nan) {
			errline("RuntimeError: loss is %s at step %ld, stopping (--stop-on-nan)",
				isnan(loss) ? "nan" : "inf", step);
			return 1;
		}
		evaluated_last = saved_last = false;
		if (r->o.eval_steps > 0 && step % r->o.eval_steps == 0) {
			evaluate(r);
			evaluated_last = true;
		}
		if (got_term)
			term_exit(r);
		if (r->o.save_steps > 0 && step % r->o.save_steps == 0) {
			save_checkpoint(r);
			saved_last = true;
		}
	}
	if (!evaluated_last)
		evaluate(r);
	if (!saved_last)
		save_checkpoint(r);
	bar_end();
	return 0;
}

/* The Trainer's closing lines: runtime and throughput since train_t0. */
static void print_summary(const struct run *r, double train_t0, long start_step,
			  long samples_at_start)
{
	double rt = now_s() - train_t0;
	long steps = r->st.global_step - start_step, samples = r->st.samples_seen - samples_at_start;
	out("\n\nTraining completed. Do not forget to share your model on huggingface.co/models =)\n\n\n");
	char a[64], b[64], c[64], d[64], e[64];
	out("{'train_runtime': %s, 'train_samples_per_second': %s, 'train_steps_per_second': %s, "
	    "'train_loss': %s, 'epoch': %s}\n",
	    train_pyfloat(a, sizeof(a), train_round(rt, 4)),
	    train_pyfloat(b, sizeof(b), train_round(samples / (rt > 0 ? rt : 1e-9), 3)),
	    train_pyfloat(c, sizeof(c), train_round(steps / (rt > 0 ? rt : 1e-9), 3)),
	    train_pyfloat(d, sizeof(d), r->st.loss_steps ? r->st.total_loss / r->st.loss_steps : 0.0),
	    train_pyfloat(e, sizeof(e), train_round(r->st.epoch, 2)));
	out("  data loader wait: %.2fs of %.2fs\n", train_loader_wait_seconds(r->loader), rt);
}

static void teardown(struct run *r)
{
	train_loader_stop(r->loader);
	train_pool_free(r->pool);
	train_batch_free(&r->batch);
	train_batch_free(&r->eval_batch);
	train_optim_free(&r->optim);
	train_model_free(&r->model);
	free(r->grad);
}

int train_main(int argc, char **argv)
{
	static struct run run;
	struct run *r = &run;
	train_opts_default(&r->o);
	int rc = train_opts_parse(&r->o, argc, argv, stdout, stderr);
	if (rc == 1)
		return 0;
	if (rc != 0)
		return 2;
	if (setup_process(r) != 0)
		return 1;
	long steps_per_epoch = setup_model(r);
	if (steps_per_epoch < 0)
		return 1;
	if (r->o.resume && resume(r) != 0)
		return 1;
	if (r->o.control[0])
		snprintf(r->ctl.path, sizeof(r->ctl.path), "%s", r->o.control);

	r->loader = train_loader_start(r->o.data_dir, &r->spec, r->o.features, r->o.seed,
				       r->st.samples_seen, !r->o.keep_cache);
	if (!r->loader) {
		errline("RuntimeError: could not start the data loader thread: %s", strerror(errno));
		return 1;
	}
	print_banner(r, steps_per_epoch);

	bar_start("", r->st.global_step, r->total_steps);
	double train_t0 = now_s();
	long start_step = r->st.global_step, samples_at_start = r->st.samples_seen;
	if (train_loop(r) != 0)
		return 1;
	print_summary(r, train_t0, start_step, samples_at_start);
	teardown(r);
	return 0;
}
