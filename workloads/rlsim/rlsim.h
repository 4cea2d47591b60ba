/* workloads/rlsim/rlsim.h — moni-rlsim: a multi-process RLHF pipeline emulator.
 *
 * One binary plays every role: the controller (hosts the MetaServer, drives the
 * steps), train workers, rollout workers and the scheduler service. Children are
 * the same executable re-executed with "--role ROLE --id N --listen-fd FD"; the
 * controller binds every listening socket before forking, so ports are known and
 * collisions are reported once, up front.
 *
 * Standalone: C11 + pthreads + libm, no core/ dependency. Exported names carry the
 * rlsim_ prefix because unit tests link every library of the tree together. */
#ifndef MONI_RLSIM_H
#define MONI_RLSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define RLSIM_MAX_WORKERS 64
#define RLSIM_PATH_MAX 1024

enum rlsim_role { RLSIM_CONTROLLER, RLSIM_TRAIN, RLSIM_ROLLOUT, RLSIM_SCHEDULER };

/* ---- configuration (rlsim_opts.c) -------------------------------------------------
 * Durations are milliseconds after parsing. --time-scale multiplies every duration
 * that was NOT given explicitly (defaults, and work amounts). */
struct rlsim_config {
    int train_workers, rollout_workers, steps, batch_size;
    int colocate, disk_sync;       /* --colocate, --weight-sync disk */
    double time_scale;
    long request_timeout_ms;       /* worker -> MetaServer/peer reads ("read timeout=S") */
    long rpc_timeout_ms;           /* controller -> worker calls */
    long rollout_timeout_ms;       /* gather deadline of the rollout stage */
    double straggler_factor;       /* deadline >= factor x median done time (0 = off) */
    long scheduler_timeout_ms;     /* controller -> scheduler stop-job calls */
    long event_timeout_ms;         /* fire-and-forget rollout_start/rollout_end */
    long gpu_lock_timeout_ms;      /* colocated allocation wait before an error */
    long ckpt_timeout_ms;          /* checkpoint write budget (async-saver emulation) */
    long rollout_work_ms, train_work_ms; /* CPU time per worker per step */
    uint64_t gpu_mem_bytes, model_mem_bytes, act_bytes_per_token;
    size_t shard_bytes, chunk_bytes;
    int base_port, meta_port, sched_port;   /* -1 = derived from base (0 = free) */
    int train_meta_port[RLSIM_MAX_WORKERS]; /* 0 = direct */
    int rollout_meta_port[RLSIM_MAX_WORKERS];
    int sched_port_for_controller;          /* 0 = direct */
    char log_dir[RLSIM_PATH_MAX], ckpt_dir[RLSIM_PATH_MAX], control[RLSIM_PATH_MAX];
    char master_addr[256]; /* --master-addr: the name workers resolve; "" = loopback */
    unsigned seed;
    /* child-only (set by the controller on re-exec) */
    enum rlsim_role role;
    int id, listen_fd, meta_actual, sched_actual, peer_port; /* peer = colocated twin */
    pid_t controller_pid;
};

/* Parses argv; on error writes one line to stderr and returns 2. Returns 0 on
 * success, 1 when --help/--version was printed (caller exits 0). */
int rlsim_parse_args(struct rlsim_config *cfg, int argc, char **argv);
void rlsim_config_defaults(struct rlsim_config *cfg);
int rlsim_parse_duration_ms(const char *s, long *ms);
int rlsim_parse_size(const char *s, uint64_t *bytes);

/* ---- logging (rlsim_util.c) -------------------------------------------------------
 * "2026-11-25 21:33:17.123 INFO [controller] message" (UTC, milliseconds). */
enum rlsim_level { RLSIM_INFO, RLSIM_WARNING, RLSIM_ERROR };
int rlsim_log_open(const char *dir, const char *name, int tee_stdout);
void rlsim_log(enum rlsim_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Python-style traceback: a header line, the frames, then exc_line last. */
void rlsim_log_traceback(const char *what, const char *const *frames, const char *exc_line);
const char *rlsim_log_name(void);
void rlsim_fmt_time(char *buf, size_t len);
int64_t rlsim_now_ms(void);             /* CLOCK_MONOTONIC */
void rlsim_sleep_ms(long ms);
/* Burns `ms` of this thread's CPU time (so contention stretches wall time).
 * Returns a value so the compiler keeps the work. */
uint64_t rlsim_burn_cpu_ms(double ms);
uint64_t rlsim_rand(uint64_t *state);  /* xorshift64* */

/* ---- control file (rlsim_util.c) --------------------------------------------------
 * key=value lines, '#' comments. A value may end in "@STEP": active from STEP on.
 * Keys: ROLE.ID.NAME (ROLE train_worker|rollout_worker, ID a number or *),
 * scheduler.NAME, controller.NAME. Re-read on every lookup (the file is tiny). */
int rlsim_ctl_lookup(const char *path, const char *role, int id, const char *name, int step,
                     char *val, size_t vlen);
double rlsim_ctl_num(const char *path, const char *role, int id, const char *name, int step,
                     double dflt);

/* ---- HTTP/1.1 over loopback (rlsim_http.c) ----------------------------------------- */
enum { RLSIM_HTTP_OK = 0, RLSIM_HTTP_TIMEOUT = -1, RLSIM_HTTP_REFUSED = -2,
       RLSIM_HTTP_CLOSED = -3, RLSIM_HTTP_BAD = -4, RLSIM_HTTP_CONNECT_TIMEOUT = -5,
       RLSIM_HTTP_NAME = -6 /* the master address did not resolve */ };
/* Workers reach the pipeline's services through HOST (resolved with getaddrinfo on every
 * connection, as a client library does) instead of the loopback address. */
void rlsim_http_set_master(const char *host);
struct rlsim_http_msg {
    char method[16], path[512];   /* requests */
    int status;                   /* responses */
    size_t content_length;
    int keep_alive;
    char *body;                   /* NUL-terminated copy, owned */
    size_t body_len;
};
/* Parses a complete message in buf. Returns the bytes it spans (headers+body),
 * 0 if more bytes are needed, -1 if malformed. Fills msg (body malloc'd). */
long rlsim_http_parse(const char *buf, size_t len, int is_request, struct rlsim_http_msg *msg);
void rlsim_http_msg_free(struct rlsim_http_msg *msg);
/* Query parameter of a path ("/x?a=1&b=2"): copies the value, returns 0 or -1. */
int rlsim_http_query(const char *path, const char *key, char *out, size_t outlen);
long rlsim_http_query_long(const char *path, const char *key, long dflt);

struct rlsim_http_conn {
    int fd, port;
    char *buf;
    size_t len, cap;
};
int rlsim_http_connect(struct rlsim_http_conn *c, int port, long timeout_ms);
void rlsim_http_close(struct rlsim_http_conn *c);
/* Sends a request and reads the response within timeout_ms (reads only; the
 * request write shares the same deadline). Keeps the connection for reuse. */
int rlsim_http_request(struct rlsim_http_conn *c, const char *method, const char *path,
                       const void *body, size_t len, long timeout_ms, struct rlsim_http_msg *resp);
/* One-shot: connect, request, close. */
int rlsim_http_call(int port, const char *method, const char *path, const void *body, size_t len,
                    long timeout_ms, struct rlsim_http_msg *resp);
/* Server side: read one request (timeout_ms < 0 = wait forever). */
int rlsim_http_read_request(struct rlsim_http_conn *c, long timeout_ms, struct rlsim_http_msg *req);
int rlsim_http_respond(int fd, int status, const void *body, size_t len, int keep_alive);
/* Human form of a client failure, requests-style, e.g.
 * "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='127.0.0.1', port=N): Read
 * timed out. (read timeout=6.0)". */
void rlsim_http_strerror(int rc, int port, const char *url, long timeout_ms, char *buf, size_t len);
/* Binds 127.0.0.1:port (0 = free port) and listens. Returns fd or -1 (errno). */
int rlsim_listen(int port);
int rlsim_socket_port(int fd);

/* ---- MetaServer (rlsim_meta.c): in-memory key-value store + HTTP front -------------
 * PUT /kv/KEY, GET /kv/KEY?wait_ms=N (long poll: waits until KEY exists), DELETE
 * /kv/KEY, POST /commit/KEY?chunks=C (concatenates KEY/chunkI into KEY, atomically
 * visible), GET /health. */
struct rlsim_meta;
struct rlsim_meta *rlsim_meta_new(void);
void rlsim_meta_free(struct rlsim_meta *m);
void rlsim_meta_put(struct rlsim_meta *m, const char *key, const void *data, size_t len);
/* Copies the value out (malloc). Waits up to wait_ms for the key; returns 0 or -1. */
int rlsim_meta_get(struct rlsim_meta *m, const char *key, long wait_ms, void **data, size_t *len);
int rlsim_meta_del(struct rlsim_meta *m, const char *key);
int rlsim_meta_commit(struct rlsim_meta *m, const char *key, int chunks);
size_t rlsim_meta_count(struct rlsim_meta *m);
/* Serves HTTP on listen_fd from a background thread (thread per connection). */
int rlsim_meta_serve(struct rlsim_meta *m, int listen_fd);
void rlsim_meta_stop(struct rlsim_meta *m);

/* ---- batches (rlsim_batch.c) -------------------------------------------------------
 * The rollout batch is a list of sample lengths. Splitting hands each train worker a
 * contiguous share of `per_worker` samples; a short batch leaves the last shares
 * short (the real-world batch-size mismatch). */
struct rlsim_share { int start, count, expected; };
int rlsim_batch_split(int total, int n_workers, int per_worker, struct rlsim_share *out);
/* "n=3 lens=12,40,7" <-> array. Returns count or -1. */
int rlsim_batch_format(const int *lens, int n, char *buf, size_t len);
int rlsim_batch_parse(const char *s, int *lens, int max);
/* Train-worker shape check: 0 ok, else -1 with the RuntimeError text in err. */
int rlsim_batch_check(int got, int expected, char *err, size_t errlen);

/* ---- checkpoints (rlsim_ckpt.c) ----------------------------------------------------
 * DIR/ckpt_{even,odd}/rank_K.pt: 32-byte header (magic, step, length, crc32),
 * payload, 8-byte footer. Written in place and fsync'd. */
void rlsim_ckpt_path(const char *dir, int step, int rank, char *buf, size_t len);
/* Writes; stops early at truncate_at bytes (>= 0) or when deadline_ms (monotonic,
 * 0 = none) passes. Returns 0 complete, -1 incomplete (err says why; the file is
 * left as written, the way an interrupted torch.save leaves it). */
int rlsim_ckpt_write(const char *dir, int step, int rank, const void *data, size_t len,
                     long truncate_at, int64_t deadline_ms, char *err, size_t errlen);
/* Reads and verifies. Returns 0, -1 missing, -2 corrupt (err explains). */
int rlsim_ckpt_read(const char *dir, int step, int rank, void **data, size_t *len, char *err,
                    size_t errlen);
uint32_t rlsim_crc32(const void *data, size_t len);
/* Deterministic weight shard contents for (step, rank). */
void rlsim_shard_fill(void *buf, size_t len, int step, int rank);

/* ---- processes (rlsim_worker.c, rlsim_controller.c) ------------------------------- */
int rlsim_run_worker(struct rlsim_config *cfg);      /* train or rollout role */
int rlsim_run_scheduler(struct rlsim_config *cfg);
int rlsim_run_controller(struct rlsim_config *cfg, int argc, char **argv);
const char *rlsim_role_name(enum rlsim_role r);       /* "train_worker", ... */

#endif
