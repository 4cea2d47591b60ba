/* workloads/rlsim/rlsim_worker.c — train workers, rollout workers and the scheduler
 * service. Each is a serial HTTP RPC server (one request at a time, like a single
 * event-loop engine process), so a request stuck in a handler blocks the ones
 * queued behind it — which is what turns a late colocation event into a deadlock. */
#include "workloads/rlsim/rlsim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#define AVG_TOKENS 264 /* mean of the 16..512 sample lengths */
#define MAX_SAMPLES 65536

struct worker_state {
    struct rlsim_config *cfg;
    const char *name;          /* "train_worker_3" */
    int gpu_fd, gpu_held;      /* colocation lock (flock on LOG_DIR/gpuK.lock) */
    int64_t gpu_idle_since;    /* train worker: holding the GPU while idle */
    int idle_warned;
    int step;
};

struct reply {
    int status;
    char body[2048];
    char *big;                 /* optional large body (owned) */
    size_t big_len;
};

static const char *role_of(struct worker_state *w) { return rlsim_role_name(w->cfg->role); }

static double gib(uint64_t b) { return (double)b / (1024.0 * 1024 * 1024); }

static void fail(struct reply *r, const char *what, const char *const *frames, const char *exc)
{
    rlsim_log_traceback(what, frames, exc);
    r->status = 500;
    snprintf(r->body, sizeof r->body, "%s\n", exc);
}

static double ctl(struct worker_state *w, const char *key, double dflt)
{
    return rlsim_ctl_num(w->cfg->control, role_of(w), w->cfg->id, key, w->step, dflt);
}

/* ---- colocation GPU lock ------------------------------------------------------- */

static int gpu_open(struct worker_state *w)
{
    char path[RLSIM_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/gpu%d.lock", w->cfg->log_dir, w->cfg->id);
    w->gpu_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    return w->gpu_fd < 0 ? -1 : 0;
}

/* Tries to take the GPU for up to timeout_ms. */
static int gpu_acquire(struct worker_state *w, long timeout_ms)
{
    if (w->gpu_held)
        return 0;
    int64_t end = rlsim_now_ms() + timeout_ms;
    for (;;) {
        if (flock(w->gpu_fd, LOCK_EX | LOCK_NB) == 0) {
            w->gpu_held = 1;
            return 0;
        }
        if (rlsim_now_ms() >= end)
            return -1;
        rlsim_sleep_ms(20);
    }
}

static void gpu_release(struct worker_state *w)
{
    if (w->gpu_held)
        flock(w->gpu_fd, LOCK_UN);
    w->gpu_held = 0;
}

/* ---- train worker --------------------------------------------------------------- */

static void train_batch(struct worker_state *w, struct rlsim_http_msg *req, struct reply *r)
{
    static const char *const frames[] = {
        "  File \"rlsim/workers/train_worker.py\", line 212, in train_batch",
        "    stats = self.engine.train_batch(batch, loss_fn=self.loss_fn)",
        "  File \"rlsim/engine/fsdp_engine.py\", line 388, in train_batch",
        "    logits = self.model(input_ids, attention_mask=mask).logits",
        "  File \"torch/nn/modules/module.py\", line 1739, in _call_impl",
        "    return forward_call(*args, **kwargs)",
        NULL};
    static const char *const shape_frames[] = {
        "  File \"rlsim/workers/train_worker.py\", line 205, in train_batch",
        "    batch = self._check_batch(data, self.config.train_batch_size)",
        "  File \"rlsim/workers/train_worker.py\", line 171, in _check_batch",
        "    raise RuntimeError(msg)",
        NULL};
    struct rlsim_config *c = w->cfg;
    int expected = (int)rlsim_http_query_long(req->path, "expected", -1);
    int *lens = malloc(sizeof(int) * MAX_SAMPLES);
    int n = req->body ? rlsim_batch_parse(req->body, lens, MAX_SAMPLES) : -1;
    char exc[1024];
    if (n < 0) {
        r->status = 400;
        snprintf(r->body, sizeof r->body, "ValueError: malformed batch\n");
        free(lens);
        return;
    }
    if (rlsim_batch_check(n, expected, exc, sizeof exc)) {
        fail(r, "Exception in train_batch:", shape_frames, exc);
        free(lens);
        return;
    }
    if (c->colocate && !w->gpu_held) {
        while (gpu_acquire(w, c->gpu_lock_timeout_ms))
            rlsim_log(RLSIM_WARNING, "waiting for GPU %d: still held by rollout_worker_%d "
                      "(rollout_end not seen yet)", c->id, c->id);
    }
    long tokens = 0;
    for (int i = 0; i < n; i++)
        tokens += lens[i];
    free(lens);
    uint64_t extra = (uint64_t)ctl(w, "gpu_mem_extra", 0);
    uint64_t resident = c->model_mem_bytes + extra;
    uint64_t act = (uint64_t)tokens * c->act_bytes_per_token;
    if (resident + act > c->gpu_mem_bytes) {
        uint64_t freeb = c->gpu_mem_bytes > resident ? c->gpu_mem_bytes - resident : 0;
        snprintf(exc, sizeof exc,
                 "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate %.2f GiB. GPU 0 "
                 "has a total capacity of %.2f GiB of which %.2f GiB is free. Including "
                 "non-PyTorch memory, this process has %.2f GiB memory in use. Of the allocated "
                 "memory %.2f GiB is allocated by PyTorch, and %.2f MiB is reserved by PyTorch "
                 "but unallocated. If reserved but unallocated memory is large try setting "
                 "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.",
                 gib(act), gib(c->gpu_mem_bytes), gib(freeb), gib(resident), gib(resident) * 0.97,
                 gib(resident) * 0.03 * 1024);
        fail(r, "Exception in train_batch:", frames, exc);
        return;
    }
    double work = (double)c->train_work_ms * (double)tokens / ((double)(expected > 0 ? expected : 1) * AVG_TOKENS);
    uint64_t h = rlsim_burn_cpu_ms(work * ctl(w, "work_factor", 1.0));
    double loss = 2.0 / (1.0 + 0.15 * w->step) + (double)(h % 1000) / 50000.0;
    rlsim_log(RLSIM_INFO, "step %d train_batch: %d samples, %ld tokens, loss=%.4f, "
              "gpu_mem peak %.2f/%.2f GiB", w->step, n, tokens, loss, gib(resident + act),
              gib(c->gpu_mem_bytes));
    r->status = 200;
    snprintf(r->body, sizeof r->body, "loss=%.4f tokens=%ld\n", loss, tokens);
    if (c->colocate) {
        w->gpu_idle_since = rlsim_now_ms();
        w->idle_warned = 0;
    }
}

static int meta_port_for(struct worker_state *w)
{
    int *tab = w->cfg->role == RLSIM_TRAIN ? w->cfg->train_meta_port : w->cfg->rollout_meta_port;
    return tab[w->cfg->id] ? tab[w->cfg->id] : w->cfg->meta_actual;
}

/* Emulated path delay between this worker and the MetaServer (control keys
 * meta_delay_ms, meta_jitter_ms, meta_loss_pct); a lost request costs an RTO. */
static void path_delay(struct worker_state *w, uint64_t *rng)
{
    double d = ctl(w, "meta_delay_ms", 0), j = ctl(w, "meta_jitter_ms", 0);
    double loss = ctl(w, "meta_loss_pct", 0);
    if (d <= 0 && loss <= 0)
        return;
    double u = (double)(rlsim_rand(rng) % 10001) / 10000.0;
    double ms = d + j * (2 * u - 1);
    if (loss > 0 && (double)(rlsim_rand(rng) % 10000) < loss * 100)
        ms += 1000;
    rlsim_sleep_ms((long)(ms > 0 ? ms : 0));
}

static void upload_weights(struct worker_state *w, struct reply *r)
{
    static const char *const frames[] = {
        "  File \"rlsim/workers/train_worker.py\", line 301, in update_weights",
        "    self.weight_client.upload(self.engine.state_dict_shard(), version=step)",
        "  File \"rlsim/weight_sync/meta_client.py\", line 88, in upload",
        "    self._put_chunks(key, chunks, deadline)",
        NULL};
    struct rlsim_config *c = w->cfg;
    int port = meta_port_for(w);
    size_t nchunks = (c->shard_bytes + c->chunk_bytes - 1) / c->chunk_bytes;
    unsigned char *shard = malloc(c->shard_bytes);
    rlsim_shard_fill(shard, c->shard_bytes, w->step, c->id);
    uint64_t rng = ((uint64_t)c->seed << 20) ^ (uint64_t)w->step * 7919 ^ (uint64_t)c->id;
    int64_t t0 = rlsim_now_ms(), deadline = t0 + c->request_timeout_ms;
    struct rlsim_http_conn conn;
    char exc[1024], path[256];
    int rc = rlsim_http_connect(&conn, port, c->request_timeout_ms);
    size_t sent = 0;
    struct rlsim_http_msg resp;
    int64_t tc = t0;
    int slow_warned = 0;
    while (!rc && sent < nchunks) {
        path_delay(w, &rng);
        long left = (long)(deadline - rlsim_now_ms());
        if (left <= 0) {
            rc = 1;
            break;
        }
        size_t off = sent * c->chunk_bytes;
        size_t n = c->shard_bytes - off < c->chunk_bytes ? c->shard_bytes - off : c->chunk_bytes;
        snprintf(path, sizeof path, "/kv/weights/v%d/rank%d/chunk%zu", w->step, c->id, sent);
        rc = rlsim_http_request(&conn, "PUT", path, shard + off, n, left, &resp);
        if (!rc && resp.status != 200)
            rc = RLSIM_HTTP_BAD;
        rlsim_http_msg_free(&resp);
        if (!rc)
            sent++;
        int64_t took = rlsim_now_ms() - tc;
        tc = rlsim_now_ms();
        if (!slow_warned && took > 250 && took * 20 > c->request_timeout_ms) {
            rlsim_log(RLSIM_WARNING, "step %d MetaServer 127.0.0.1:%d slow: chunk %zu of "
                      "weights/v%d/rank%d took %.2fs", w->step, port, rc ? sent : sent - 1, w->step, c->id,
                      took / 1000.0);
            slow_warned = 1;
        }
    }
    if (!rc) {
        long left = (long)(deadline - rlsim_now_ms());
        snprintf(path, sizeof path, "/commit/weights/v%d/rank%d?chunks=%zu", w->step, c->id, nchunks);
        rc = left > 0 ? rlsim_http_request(&conn, "POST", path, NULL, 0, left, &resp) : 1;
        if (!rc && resp.status != 200)
            rc = RLSIM_HTTP_BAD;
        if (left > 0)
            rlsim_http_msg_free(&resp);
    }
    if (!rc && w->step > 2) { /* drop the shard two versions back */
        snprintf(path, sizeof path, "/kv/weights/v%d/rank%d", w->step - 2, c->id);
        if (!rlsim_http_request(&conn, "DELETE", path, NULL, 0, 2000, &resp))
            rlsim_http_msg_free(&resp);
    }
    rlsim_http_close(&conn);
    free(shard);
    if (rc == 1) {
        snprintf(exc, sizeof exc,
                 "TimeoutError: weight upload to MetaServer 127.0.0.1:%d did not finish within "
                 "%.1fs (sent %zu of %zu chunks of shard weights/v%d/rank%d)", port,
                 c->request_timeout_ms / 1000.0, sent, nchunks, w->step, c->id);
        fail(r, "Exception in update_weights:", frames, exc);
    } else if (rc) {
        char url[128];
        snprintf(url, sizeof url, "/kv/weights/v%d/rank%d", w->step, c->id);
        rlsim_http_strerror(rc, port, url, c->request_timeout_ms, exc, sizeof exc);
        fail(r, "Exception in update_weights:", frames, exc);
    } else {
        rlsim_log(RLSIM_INFO, "step %d uploaded shard weights/v%d/rank%d (%zu chunks, %.2fs)",
                  w->step, w->step, c->id, nchunks, (rlsim_now_ms() - t0) / 1000.0);
        r->status = 200;
        snprintf(r->body, sizeof r->body, "uploaded\n");
    }
}

static void save_checkpoint(struct worker_state *w, struct reply *r)
{
    struct rlsim_config *c = w->cfg;
    unsigned char *shard = malloc(c->shard_bytes);
    rlsim_shard_fill(shard, c->shard_bytes, w->step, c->id);
    double trunc = ctl(w, "ckpt_truncate", 0);   /* fraction of the file written */
    long truncate_at = -1;
    if (trunc > 0)
        truncate_at = (long)((double)(c->shard_bytes + 40) * (trunc >= 1 ? 0.5 : trunc));
    long slow = (long)ctl(w, "ckpt_delay_ms", 0);
    rlsim_sleep_ms(slow);
    char err[1024], path[RLSIM_PATH_MAX + 64];
    int64_t t0 = rlsim_now_ms();
    rlsim_ckpt_path(c->ckpt_dir, w->step, c->id, path, sizeof path);
    int rc = rlsim_ckpt_write(c->ckpt_dir, w->step, c->id, shard, c->shard_bytes, truncate_at,
                              t0 + c->ckpt_timeout_ms, err, sizeof err);
    free(shard);
    /* The async saver swallows the failure: the step goes on, the file stays torn. */
    if (rc)
        rlsim_log(RLSIM_WARNING, "step %d async checkpoint save failed, continuing: %s", w->step, err);
    else
        rlsim_log(RLSIM_INFO, "step %d checkpoint saved %s (%.2fs, fsync'd)", w->step, path,
                  (rlsim_now_ms() - t0) / 1000.0);
    r->status = 200;
    snprintf(r->body, sizeof r->body, "saved %s\n", path);
}

/* ---- rollout worker ------------------------------------------------------------- */

static void generate(struct worker_state *w, struct rlsim_http_msg *req, struct reply *r)
{
    struct rlsim_config *c = w->cfg;
    int n = (int)rlsim_http_query_long(req->path, "n", 0);
    if (n <= 0 || n > MAX_SAMPLES) {
        r->status = 400;
        snprintf(r->body, sizeof r->body, "ValueError: bad n\n");
        return;
    }
    if (ctl(w, "die", 0) > 0) {
        rlsim_log(RLSIM_INFO, "step %d generate: %d prompts", w->step, n);
        raise(SIGKILL); /* like the OOM killer: no last words */
    }
    if (c->colocate) {
        while (gpu_acquire(w, c->gpu_lock_timeout_ms)) {
            char exc[512];
            snprintf(exc, sizeof exc,
                     "RuntimeError: CUDA error: out of memory: failed to allocate KV cache on "
                     "GPU %d: device memory held by train_worker_%d (waited %.1fs for "
                     "rollout_start handover); retrying", c->id, c->id,
                     c->gpu_lock_timeout_ms / 1000.0);
            rlsim_log(RLSIM_ERROR, "%s", exc);
        }
    }
    double leak_mb = ctl(w, "mem_leak_mb", 0);
    if (leak_mb > 0) { /* a real leak: touched pages that are never freed */
        static double leaked_mb;
        size_t b = (size_t)(leak_mb * 1024 * 1024);
        char *p = malloc(b);
        if (p)
            memset(p, 0x5a, b);
        leaked_mb += leak_mb;
        double limit = ctl(w, "mem_limit_mb", 0);
        rlsim_log(RLSIM_INFO, "step %d host memory: %.0f MiB held by the generation cache", w->step,
                  leaked_mb);
        if (limit > 0 && leaked_mb > limit)
            raise(SIGKILL); /* the OOM killer leaves no last words */
    }
    uint64_t rng = ((uint64_t)c->seed * 1000003u) ^ ((uint64_t)w->step << 16) ^ (uint64_t)c->id;
    int *lens = malloc(sizeof(int) * (size_t)n);
    long tokens = 0;
    for (int i = 0; i < n; i++) {
        lens[i] = 16 + (int)(rlsim_rand(&rng) % 497);
        tokens += lens[i];
    }
    int64_t t0 = rlsim_now_ms();
    double per_token = (double)c->rollout_work_ms / ((double)n * AVG_TOKENS) * ctl(w, "work_factor", 1.0);
    struct timespec cpu0, cpu1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    int warned = 0;
    for (int i = 0; i < n; i++) {
        /* burn in slices of <= 10 ms so a slow sample is noticed while it runs */
        double left = per_token * lens[i];
        while (left > 0) {
            double d = left > 10 ? 10 : left;
            rlsim_burn_cpu_ms(d);
            left -= d;
            long wall = (long)(rlsim_now_ms() - t0);
            if (warned || wall * 4 <= c->rollout_timeout_ms * 3)
                continue;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
            double cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
            rlsim_log(RLSIM_WARNING, "step %d generate slow: %d/%d samples after %.2fs wall, "
                      "%.2fs cpu (%.0f%% of one core)", w->step, i, n, wall / 1000.0, cpu,
                      wall > 0 ? cpu * 100000.0 / (double)wall : 0.0);
            warned = 1;
        }
    }
    double secs = (rlsim_now_ms() - t0) / 1000.0;
    rlsim_log(secs * 1000 > c->rollout_timeout_ms ? RLSIM_WARNING : RLSIM_INFO,
              "step %d generate: %d samples, %ld tokens in %.2fs%s", w->step, n, tokens, secs,
              secs * 1000 > c->rollout_timeout_ms ? " (slower than the rollout timeout)" : "");
    r->big = malloc((size_t)n * 8 + 64);
    rlsim_batch_format(lens, n, r->big, (size_t)n * 8 + 64);
    r->big_len = strlen(r->big);
    r->status = 200;
    free(lens);
}

static void load_weights(struct worker_state *w, struct reply *r)
{
    static const char *const meta_frames[] = {
        "  File \"rlsim/workers/rollout_worker.py\", line 244, in update_weights",
        "    shards = self.weight_client.fetch_all(version=step)",
        "  File \"rlsim/weight_sync/meta_client.py\", line 131, in fetch_all",
        "    resp = self.session.get(url, timeout=self.request_timeout)",
        "  File \"requests/adapters.py\", line 713, in send",
        "    raise ReadTimeout(e, request=request)",
        NULL};
    static const char *const disk_frames[] = {
        "  File \"rlsim/workers/rollout_worker.py\", line 262, in update_weights_from_disk",
        "    state = torch.load(path, map_location=\"cpu\", weights_only=True)",
        "  File \"torch/serialization.py\", line 1470, in load",
        "    with _open_zipfile_reader(opened_file) as opened_zipfile:",
        "  File \"torch/serialization.py\", line 759, in __init__",
        "    super().__init__(torch._C.PyTorchFileReader(name_or_buffer))",
        NULL};
    struct rlsim_config *c = w->cfg;
    char exc[1200], what[256];
    int64_t t0 = rlsim_now_ms();
    if (c->disk_sync) {
        if (w->step <= 1) {
            rlsim_log(RLSIM_INFO, "step %d update_weights (disk): no checkpoint yet, keeping "
                      "initial weights", w->step);
            r->status = 200;
            snprintf(r->body, sizeof r->body, "initial\n");
            return;
        }
        for (int k = 0; k < c->train_workers; k++) {
            void *d;
            size_t n;
            int rc = rlsim_ckpt_read(c->ckpt_dir, w->step - 1, k, &d, &n, exc, sizeof exc);
            if (rc) {
                snprintf(what, sizeof what, "Exception in update_weights (disk, checkpoint of step %d):",
                         w->step - 1);
                fail(r, what, disk_frames, exc);
                return;
            }
            free(d);
        }
        rlsim_log(RLSIM_INFO, "step %d update_weights (disk): loaded checkpoint of step %d "
                  "(%d ranks, %.2fs)", w->step, w->step - 1, c->train_workers,
                  (rlsim_now_ms() - t0) / 1000.0);
        r->status = 200;
        snprintf(r->body, sizeof r->body, "loaded\n");
        return;
    }
    int port = meta_port_for(w);
    uint64_t rng = ((uint64_t)c->seed << 24) ^ (uint64_t)w->step * 31 ^ (uint64_t)c->id;
    struct rlsim_http_conn conn;
    int rc = rlsim_http_connect(&conn, port, c->request_timeout_ms);
    char path[256];
    int k = 0;
    for (; !rc && k < c->train_workers; k++) {
        path_delay(w, &rng);
        struct rlsim_http_msg resp;
        snprintf(path, sizeof path, "/kv/weights/v%d/rank%d?wait_ms=%ld", w->step, k,
                 c->request_timeout_ms + 60000);
        rc = rlsim_http_request(&conn, "GET", path, NULL, 0, c->request_timeout_ms, &resp);
        if (!rc && (resp.status != 200 || resp.body_len != c->shard_bytes))
            rc = RLSIM_HTTP_BAD;
        if (!rc) {
            unsigned char *want = malloc(c->shard_bytes);
            rlsim_shard_fill(want, c->shard_bytes, w->step, k);
            if (memcmp(want, resp.body, c->shard_bytes) != 0)
                rc = RLSIM_HTTP_BAD;
            free(want);
        }
        rlsim_http_msg_free(&resp);
        if (rc)
            break;
    }
    rlsim_http_close(&conn);
    if (rc) {
        snprintf(path, sizeof path, "/kv/weights/v%d/rank%d", w->step, k);
        rlsim_http_strerror(rc, port, path, c->request_timeout_ms, exc, sizeof exc);
        rlsim_log(RLSIM_ERROR, "step %d shard weights/v%d/rank%d (from train_worker_%d) not "
                  "available from MetaServer 127.0.0.1:%d after %.1fs", w->step, w->step, k, k,
                  port, (rlsim_now_ms() - t0) / 1000.0);
        fail(r, "Exception in update_weights:", meta_frames, exc);
        return;
    }
    rlsim_log(RLSIM_INFO, "step %d update_weights: fetched %d shards of v%d (%.2fs)", w->step,
              c->train_workers, w->step, (rlsim_now_ms() - t0) / 1000.0);
    r->status = 200;
    snprintf(r->body, sizeof r->body, "updated\n");
}

static void event(struct worker_state *w, const char *ev, struct reply *r)
{
    struct rlsim_config *c = w->cfg;
    r->status = 200;
    snprintf(r->body, sizeof r->body, "ok\n");
    if (!c->colocate) {
        rlsim_log(RLSIM_INFO, "event %s (not colocated: nothing to hand over)", ev);
        return;
    }
    if (!strcmp(ev, "rollout_start")) {
        struct rlsim_http_msg resp;
        int rc = rlsim_http_call(c->peer_port, "POST", "/offload", NULL, 0, c->request_timeout_ms, &resp);
        if (rc || resp.status != 200)
            rlsim_log(RLSIM_WARNING, "event rollout_start: offload request to train_worker_%d "
                      "failed (rc=%d)", c->id, rc);
        rlsim_http_msg_free(&resp);
        if (gpu_acquire(w, c->gpu_lock_timeout_ms) == 0)
            rlsim_log(RLSIM_INFO, "event rollout_start: GPU %d acquired from train_worker_%d",
                      c->id, c->id);
        else
            rlsim_log(RLSIM_ERROR, "event rollout_start: GPU %d still held by train_worker_%d",
                      c->id, c->id);
    } else if (!strcmp(ev, "rollout_end")) {
        gpu_release(w);
        rlsim_log(RLSIM_INFO, "event rollout_end: GPU %d released to train_worker_%d", c->id, c->id);
    }
}

/* ---- server loop ---------------------------------------------------------------- */

static void dispatch(struct worker_state *w, struct rlsim_http_msg *req, struct reply *r)
{
    struct rlsim_config *c = w->cfg;
    int step = (int)rlsim_http_query_long(req->path, "step", -1);
    if (step >= 0)
        w->step = step;
    char ep[128];
    size_t n = strcspn(req->path, "?");
    snprintf(ep, sizeof ep, "%.*s", (int)(n < sizeof ep ? n : sizeof ep - 1), req->path);
    r->status = 404;
    snprintf(r->body, sizeof r->body, "no such endpoint %s\n", ep);
    if (!strcmp(ep, "/health")) {
        r->status = 200;
        snprintf(r->body, sizeof r->body, "ok\n");
    } else if (c->role == RLSIM_TRAIN) {
        if (!strcmp(ep, "/train"))
            train_batch(w, req, r);
        else if (!strcmp(ep, "/update_weights"))
            upload_weights(w, r);
        else if (!strcmp(ep, "/save_checkpoint"))
            save_checkpoint(w, r);
        else if (!strcmp(ep, "/offload") || !strcmp(ep, "/onload")) {
            if (ep[3] == 'f') {
                gpu_release(w);
                rlsim_log(RLSIM_INFO, "offload: GPU %d handed to rollout_worker_%d", c->id, c->id);
            } else
                gpu_acquire(w, c->gpu_lock_timeout_ms);
            r->status = 200;
            snprintf(r->body, sizeof r->body, "ok\n");
        }
    } else {
        if (!strcmp(ep, "/generate"))
            generate(w, req, r);
        else if (!strcmp(ep, "/update_weights"))
            load_weights(w, r);
        else if (!strncmp(ep, "/event/", 7))
            event(w, ep + 7, r);
    }
}

static int parent_gone(struct rlsim_config *c)
{
    return c->controller_pid > 0 && getppid() != c->controller_pid;
}

int rlsim_run_worker(struct rlsim_config *c)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%d", rlsim_role_name(c->role), c->id);
    char comm[16];
    snprintf(comm, sizeof comm, "rl-%s-%d", c->role == RLSIM_TRAIN ? "train" : "rollout", c->id);
    prctl(PR_SET_NAME, comm);
    if (rlsim_log_open(c->log_dir, name, 0)) {
        fprintf(stderr, "moni-rlsim: %s: cannot open log in %s: %s\n", name, c->log_dir,
                strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct worker_state w = {.cfg = c, .name = name, .gpu_fd = -1};
    rlsim_log(RLSIM_INFO, "%s started pid=%d port=%d metaserver=127.0.0.1:%d%s", name, (int)getpid(),
              rlsim_socket_port(c->listen_fd), meta_port_for(&w), c->colocate ? " colocated" : "");
    if (c->colocate) {
        if (gpu_open(&w)) {
            rlsim_log(RLSIM_ERROR, "cannot open GPU lock file: %s", strerror(errno));
            return 1;
        }
        if (c->role == RLSIM_TRAIN) {
            gpu_acquire(&w, 60000);
            w.gpu_idle_since = rlsim_now_ms();
            rlsim_log(RLSIM_INFO, "GPU %d acquired (model resident %.2f GiB)", c->id,
                      gib(c->model_mem_bytes));
        }
    }
    for (;;) {
        if (parent_gone(c))
            return 0;
        struct pollfd p = {c->listen_fd, POLLIN, 0};
        int pr = poll(&p, 1, 250);
        if (c->role == RLSIM_TRAIN && c->colocate && w.gpu_held && !w.idle_warned &&
            rlsim_now_ms() - w.gpu_idle_since > 2 * c->gpu_lock_timeout_ms + 1000) {
            rlsim_log(RLSIM_WARNING, "GPU %d held by train_worker_%d for %.1fs while idle: no "
                      "offload request (rollout_start handover) received", c->id, c->id,
                      (rlsim_now_ms() - w.gpu_idle_since) / 1000.0);
            w.idle_warned = 1;
        }
        if (pr <= 0)
            continue;
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        struct rlsim_http_conn conn = {.fd = fd, .port = 0};
        for (;;) {
            struct rlsim_http_msg req;
            if (rlsim_http_read_request(&conn, 10000, &req))
                break;
            struct reply r = {0};
            dispatch(&w, &req, &r);
            int keep = req.keep_alive;
            rlsim_http_msg_free(&req);
            int rc = r.big ? rlsim_http_respond(fd, r.status, r.big, r.big_len, keep)
                           : rlsim_http_respond(fd, r.status, r.body, strlen(r.body), keep);
            free(r.big);
            if (rc || !keep)
                break;
        }
        rlsim_http_close(&conn);
    }
}

/* ---- scheduler service ------------------------------------------------------------ */

int rlsim_run_scheduler(struct rlsim_config *c)
{
    prctl(PR_SET_NAME, "rl-scheduler");
    if (rlsim_log_open(c->log_dir, "scheduler", 0)) {
        fprintf(stderr, "moni-rlsim: scheduler: cannot open log in %s: %s\n", c->log_dir,
                strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    rlsim_log(RLSIM_INFO, "scheduler started pid=%d port=%d", (int)getpid(),
              rlsim_socket_port(c->listen_fd));
    int njobs = 0;
    for (;;) {
        if (parent_gone(c))
            return 0;
        struct pollfd p = {c->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 250) <= 0)
            continue;
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        struct rlsim_http_conn conn = {.fd = fd};
        struct rlsim_http_msg req;
        if (rlsim_http_read_request(&conn, 10000, &req) == 0) {
            char body[256], name[64], id[128];
            int status = 200;
            int step = (int)rlsim_http_query_long(req.path, "step", INT_MAX);
            if (!strncmp(req.path, "/v1/jobs?", 9) && !strcmp(req.method, "POST")) {
                if (rlsim_http_query(req.path, "name", name, sizeof name))
                    snprintf(name, sizeof name, "job");
                snprintf(body, sizeof body, "rlsim-%s-%d", name, (int)c->controller_pid);
                njobs++;
                rlsim_log(RLSIM_INFO, "job %s submitted (%d active)", body, njobs);
            } else if (!strncmp(req.path, "/v1/jobs/", 9) && strstr(req.path, "/stop") &&
                       !strcmp(req.method, "POST")) {
                size_t n = (size_t)(strstr(req.path, "/stop") - (req.path + 9));
                snprintf(id, sizeof id, "%.*s", (int)(n < sizeof id ? n : sizeof id - 1), req.path + 9);
                long delay = (long)rlsim_ctl_num(c->control, "scheduler", -1, "delay_ms", step, 0);
                rlsim_log(RLSIM_INFO, "stop job %s requested", id);
                if (delay > 0) {
                    rlsim_log(RLSIM_WARNING, "stop job %s: scheduler backend slow, responding in "
                              "%.1fs", id, delay / 1000.0);
                    rlsim_sleep_ms(delay);
                }
                njobs = njobs > 0 ? njobs - 1 : 0;
                rlsim_log(RLSIM_INFO, "job %s stopped (%d active)", id, njobs);
                snprintf(body, sizeof body, "stopped %s\n", id);
            } else if (!strcmp(req.path, "/health")) {
                snprintf(body, sizeof body, "ok\n");
            } else {
                status = 404;
                snprintf(body, sizeof body, "no such endpoint\n");
            }
            rlsim_http_respond(fd, status, body, strlen(body), 0);
            rlsim_http_msg_free(&req);
        }
        rlsim_http_close(&conn);
    }
}
