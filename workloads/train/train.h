/* moni-train: the built-in training workload.
 *
 * A real 2-layer MLP (dense hashed bag-of-words input -> LeakyReLU hidden -> classes)
 * trained by SGD or Adam on a synthetic, seeded sentiment corpus that is generated
 * once into shard files and read back from disk every epoch by a prefetching
 * loader thread.  Logs in the Hugging Face Trainer format.  Standalone: links only
 * libc, libpthread and libm (no core/, no cJSON).  Exported names start with train_.
 */
#ifndef MONI_TRAIN_H
#define MONI_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRAIN_CLASSES 2
#define TRAIN_PATH_MAX 1024

enum train_optimizer { TRAIN_OPT_SGD, TRAIN_OPT_ADAM };
enum train_sched { TRAIN_SCHED_LINEAR, TRAIN_SCHED_CONSTANT };

/* ---- options (opts.c) ---------------------------------------------------------- */
struct train_opts {
	double lr;
	int batch_size;
	double epochs;
	long max_steps;            /* > 0 overrides epochs, as in HF */
	int hidden;
	int features;              /* hashed input dimension */
	int threads;
	uint64_t seed;             /* training seed: init + data order */
	uint64_t data_seed;        /* corpus seed */
	long train_samples, eval_samples;
	int logging_steps, eval_steps, save_steps, save_total_limit;
	double max_grad_norm;      /* 0 = no clipping */
	double momentum, weight_decay;
	enum train_optimizer optimizer;
	enum train_sched sched;
	uint64_t mem_limit;        /* bytes, 0 = none */
	bool stop_on_nan, save_on_term, resume, keep_cache, no_progress;
	bool log_control;          /* also log "[control] KEY=VALUE applied at step N" */
	char output_dir[TRAIN_PATH_MAX];
	char data_dir[TRAIN_PATH_MAX];
	char control[TRAIN_PATH_MAX];
};

void train_opts_default(struct train_opts *o);
/* 0 = run, 1 = --help printed (exit 0), 2 = usage error printed to err (exit 2). */
int train_opts_parse(struct train_opts *o, int argc, char **argv, FILE *out, FILE *err);
int train_main(int argc, char **argv);

/* ---- formatting (fmt.c): Python repr of floats ---------------------------------- */
/* Python's repr(float): shortest round-trip digits, 'nan', 'inf', '5e-05', '0.1'. */
char *train_pyfloat(char *buf, size_t len, double v);
double train_round(double v, int digits);

/* ---- thread pool (pool.c) ------------------------------------------------------- */
struct train_pool;
typedef void (*train_task_fn)(void *ctx, int tid, int nthreads);
struct train_pool *train_pool_new(int nthreads);
void train_pool_run(struct train_pool *p, train_task_fn fn, void *ctx);
int train_pool_threads(const struct train_pool *p);
void train_pool_free(struct train_pool *p);

/* ---- model (model.c) ------------------------------------------------------------ */
struct train_model {
	int in, hidden, classes;
	size_t nparams;
	float *params;             /* w1[in*hidden] b1[hidden] w2[hidden*classes] b2[classes] */
	float *w1, *b1, *w2, *b2;
};

/* Dense input batch plus the activations of one step (sized for cap rows). */
struct train_batch {
	int n, cap, in, hidden;
	float *x;                  /* n x in */
	int *y;
	float *z1, *h, *d1;        /* n x hidden */
	float *p;                  /* n x classes: softmax, then dlogits */
	double *loss;              /* per sample */
	int *pred;
};

int train_model_init(struct train_model *m, int in, int hidden, int classes, uint64_t seed);
void train_model_free(struct train_model *m);
/* Allocates a batch for cap rows; returns 0 or -1 with errno = ENOMEM and *bytes set
 * to the size of the failing allocation. */
int train_batch_alloc(struct train_batch *b, int cap, int in, int hidden, size_t *bytes);
void train_batch_free(struct train_batch *b);
/* Forward + backward over b; writes the gradient (same layout as params) into grad
 * and returns the mean loss.  Deterministic for any thread count. */
double train_forward_backward(const struct train_model *m, struct train_batch *b,
			      float *grad, struct train_pool *pool);
/* Forward only; returns summed loss, adds correct predictions to *correct. */
double train_forward_eval(const struct train_model *m, struct train_batch *b,
			  long *correct, struct train_pool *pool);
double train_grad_norm(const float *grad, size_t n, struct train_pool *pool);
void train_scale(float *v, size_t n, float s, struct train_pool *pool);

struct train_optim {
	enum train_optimizer kind;
	size_t n;
	float *m, *v;              /* momentum / Adam moments (v only for Adam) */
	long t;
	double momentum, beta1, beta2, eps, weight_decay;
};
int train_optim_init(struct train_optim *o, enum train_optimizer kind, size_t n,
		     double momentum, double weight_decay);
void train_optim_free(struct train_optim *o);
void train_optim_step(struct train_optim *o, float *params, const float *grad, double lr,
		      struct train_pool *pool);

/* ---- data (data.c) -------------------------------------------------------------- */
struct train_doc { int label; char *text; };
struct train_corpus_spec {
	uint64_t seed;
	long train_samples, eval_samples;
	int shard_samples;
};
/* Generates document i of the corpus (deterministic); returns malloc'd text. */
char *train_gen_doc(uint64_t seed, long index, int *label);
/* Writes a shard file: one "label\ttext\n" line per document, then a trailer line
 * "#end N CRC" so a truncated shard is detected. Returns 0 or -1 (errno). */
int train_shard_write(const char *path, const struct train_doc *docs, long n);
/* Reads a shard; returns the number of docs (>= 0) or -1 (errno; EBADMSG = corrupt). */
long train_shard_read(const char *path, struct train_doc **docs, bool drop_cache);
void train_docs_free(struct train_doc *docs, long n);
/* Ensures dir holds the corpus described by spec (generates it atomically when
 * missing or different). Returns 0 or -1 with a message in err. */
int train_corpus_ensure(const char *dir, const struct train_corpus_spec *spec, FILE *log,
			char *err, size_t errlen);
/* DIR/corpus-v2-s<seed>-t<train>-e<eval>-k<shard>: where the shards live. */
void train_corpus_dir(char *buf, size_t len, const char *dir, const struct train_corpus_spec *spec);
int train_corpus_shards(const struct train_corpus_spec *spec, bool eval);
void train_shard_path(char *buf, size_t len, const char *dir, bool eval, int i, int n);
/* Writes all n bytes (retrying on EINTR); 0 or -1 with errno. */
int train_write_all(int fd, const void *buf, size_t n);
/* Removes dir and the files in it (one level: shard and checkpoint directories). */
void train_rm_dir(const char *dir);

/* Sparse featurised sample: hashed unigrams + bigrams, 1 + ln(count). */
struct train_sample { int label; int nnz; int32_t *idx; float *val; };
int train_featurize(const char *text, int features, struct train_sample *s);
void train_sample_free(struct train_sample *s);
void train_sample_densify(const struct train_sample *s, float *row, int features);

/* Prefetching loader: a thread reads the shards, shuffles, featurises and queues
 * samples; the trainer pops them. */
struct train_loader;
struct train_loader *train_loader_start(const char *dir, const struct train_corpus_spec *spec,
					int features, uint64_t seed, long skip_samples,
					bool drop_cache);
/* Blocks for the next sample (epochs wrap around). Returns 0, or -1 on a read error
 * (message in err). The caller owns *s. */
int train_loader_next(struct train_loader *l, struct train_sample *s, char *err, size_t errlen);
/* Seconds the trainer spent waiting for data (compute starved by I/O). */
double train_loader_wait_seconds(struct train_loader *l);
void train_loader_stop(struct train_loader *l);

/* ---- control file (control.c) --------------------------------------------------- */
enum train_ctl_key { TRAIN_CTL_LR, TRAIN_CTL_BATCH, TRAIN_CTL_SLEEP, TRAIN_CTL_NAN, TRAIN_CTL_NKEYS };
#define TRAIN_CTL_KEY_MAX 64
#define TRAIN_CTL_MAX_IGNORED 16
struct train_control {
	char path[TRAIN_PATH_MAX];
	bool have_stat;
	long long mtime_ns, ctime_ns, size, ino;
	bool seen[TRAIN_CTL_NKEYS];
	double last[TRAIN_CTL_NKEYS];
	bool read;                 /* re-read since the last ack */
	int nwarn, nignored;       /* of the last read */
	char ignored[TRAIN_CTL_MAX_IGNORED][TRAIN_CTL_KEY_MAX];
};
struct train_ctl_change { enum train_ctl_key key; double value; };
/* Parses text (key=value lines or a flat JSON object). Stores up to max values in
 * vals/present; writes one warning line per problem to warn. Returns #warnings. */
int train_control_parse(const char *text, const char *name, double *vals, bool *present,
			FILE *warn);
const char *train_control_key_name(enum train_ctl_key k);
/* Re-reads the file if it changed; returns the number of changed keys put in out. */
int train_control_poll(struct train_control *c, struct train_ctl_change *out, FILE *warn);
/* After a poll that re-read the file: writes PATH.ack (temporary name, rename), one
 * JSON object: control, pid, step, time, mono_ns, applied (the n changes), values
 * (every key applied so far), ignored (keys of the last read not used), warnings.
 * Nothing when the file was not re-read. 0, or -1 (errno set). */
int train_control_ack(struct train_control *c, const struct train_ctl_change *ch, int n, long step);

/* ---- checkpoints (ckpt.c) ------------------------------------------------------- */
struct train_state {
	long global_step;
	long samples_seen;
	double epoch;
	double lr;                 /* current learning rate */
	int batch_size;
	long max_steps;
	double total_loss;         /* sum of step losses, for train_loss */
	long loss_steps;
};
uint32_t train_crc32(uint32_t crc, const void *buf, size_t len);
/* Saves DIR/checkpoint-N atomically (tmp dir, fsync, rename). Returns 0 or -1 with
 * errno set and the failing file in failpath. */
int train_ckpt_save(const char *outdir, const struct train_model *m, const struct train_optim *o,
		    const struct train_state *st, char *failpath, size_t fplen);
/* Finds the latest checkpoint-N under outdir; returns N or -1. */
long train_ckpt_latest(const char *outdir, char *path, size_t len);
/* Loads a checkpoint; on failure returns -1 and a one-line reason in err. */
int train_ckpt_load(const char *ckdir, struct train_model *m, struct train_optim *o,
		    struct train_state *st, char *err, size_t errlen);
/* Removes older checkpoints beyond limit (keeps the newest). Logs to log. */
void train_ckpt_rotate(const char *outdir, int limit, FILE *log);

#endif
