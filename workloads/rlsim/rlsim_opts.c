/* workloads/rlsim/rlsim_opts.c — command line of moni-rlsim. */
#include "workloads/rlsim/rlsim.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int rlsim_parse_duration_ms(const char *s, long *ms)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno || v < 0 || !isfinite(v))
        return -1;
    double mul;
    if (!*e || !strcmp(e, "s"))
        mul = 1000;
    else if (!strcmp(e, "ms"))
        mul = 1;
    else if (!strcmp(e, "m"))
        mul = 60000;
    else if (!strcmp(e, "h"))
        mul = 3600000;
    else
        return -1;
    v *= mul;
    if (v > 86400000.0 * 7)
        return -1;
    *ms = (long)llround(v);
    return 0;
}

int rlsim_parse_size(const char *s, uint64_t *bytes)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno || v < 0 || !isfinite(v))
        return -1;
    double mul = 1;
    switch (*e) {
    case 0: break;
    case 'k': case 'K': mul = 1024.0; e++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; e++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; e++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; e++; break;
    default: return -1;
    }
    if (*e == 'i' && e[1] == 'B')
        e += 2;
    else if (*e == 'B')
        e++;
    if (*e)
        return -1;
    v *= mul;
    if (v > 1e15)
        return -1;
    *bytes = (uint64_t)llround(v);
    return 0;
}

void rlsim_config_defaults(struct rlsim_config *c)
{
    memset(c, 0, sizeof *c);
    c->train_workers = 4;
    c->rollout_workers = 4;
    c->steps = 20;
    c->batch_size = 64;
    c->time_scale = 1.0;
    c->request_timeout_ms = 60000;
    c->rpc_timeout_ms = 90000;
    c->rollout_timeout_ms = 20000;
    c->straggler_factor = 3.0;
    c->scheduler_timeout_ms = 15000;
    c->event_timeout_ms = 5000;
    c->gpu_lock_timeout_ms = 10000;
    c->ckpt_timeout_ms = 20000;
    c->rollout_work_ms = 1000;
    c->train_work_ms = 800;
    c->gpu_mem_bytes = 16ull << 30;
    c->model_mem_bytes = 10ull << 30;
    c->act_bytes_per_token = 512ull << 10;
    c->shard_bytes = 2u << 20;
    c->chunk_bytes = 32u << 10;
    c->base_port = 0;
    c->meta_port = c->sched_port = -1;
    snprintf(c->log_dir, sizeof c->log_dir, ".");
    c->seed = 1;
    c->role = RLSIM_CONTROLLER;
    c->id = 0;
    c->listen_fd = -1;
}

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
    va_list ap;
    fputs("moni-rlsim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see moni-rlsim --help)\n", stderr);
    return 2;
}

static const char help_text[] =
    "usage: moni-rlsim [options]\n"
    "Emulates a single-controller RLHF pipeline on loopback: controller + MetaServer,\n"
    "train workers, rollout workers and a scheduler service, each its own process.\n"
    "  --train-workers N  --rollout-workers M  --steps N  --batch-size B\n"
    "  --colocate  --weight-sync meta|disk  --quick  --time-scale F\n"
    "  --request-timeout D --rpc-timeout D --rollout-timeout D --scheduler-timeout D\n"
    "  --event-timeout D --gpu-lock-timeout D --ckpt-timeout D --straggler-factor F\n"
    "  --rollout-work D --train-work D --gpu-mem SIZE --model-mem SIZE\n"
    "  --act-per-token SIZE --shard-size SIZE --chunk-size SIZE\n"
    "  --base-port P --meta-port P --scheduler-port P\n"
    "  --train-meta-port K=P --rollout-meta-port K=P --scheduler-port-for-controller P\n"
    "  --log-dir DIR --ckpt-dir DIR --control FILE --seed N --master-addr HOST\n"
    "See moni-rlsim(1).\n";

enum {
    O_TRAIN = 256, O_ROLLOUT, O_STEPS, O_BATCH, O_COLOCATE, O_SYNC, O_QUICK, O_SCALE,
    O_REQ_TO, O_RPC_TO, O_ROLL_TO, O_SCHED_TO, O_EVENT_TO, O_LOCK_TO, O_CKPT_TO,
    O_ROLL_WORK, O_TRAIN_WORK, O_GPU_MEM, O_MODEL_MEM, O_ACT, O_SHARD, O_CHUNK,
    O_BASE, O_META_PORT, O_SCHED_PORT, O_TRAIN_META, O_ROLL_META, O_SCHED_FOR_CTL,
    O_LOG_DIR, O_CKPT_DIR, O_CONTROL, O_SEED, O_HELP, O_VERSION, O_STRAGGLER,
    O_ROLE, O_ID, O_LISTEN_FD, O_META_ACTUAL, O_SCHED_ACTUAL, O_PEER, O_CTL_PID, O_MASTER,
};

static const struct option longopts[] = {
    {"train-workers", 1, 0, O_TRAIN}, {"rollout-workers", 1, 0, O_ROLLOUT},
    {"steps", 1, 0, O_STEPS}, {"batch-size", 1, 0, O_BATCH},
    {"colocate", 0, 0, O_COLOCATE}, {"weight-sync", 1, 0, O_SYNC},
    {"quick", 0, 0, O_QUICK}, {"time-scale", 1, 0, O_SCALE},
    {"request-timeout", 1, 0, O_REQ_TO}, {"rpc-timeout", 1, 0, O_RPC_TO},
    {"rollout-timeout", 1, 0, O_ROLL_TO}, {"scheduler-timeout", 1, 0, O_SCHED_TO},
    {"event-timeout", 1, 0, O_EVENT_TO}, {"gpu-lock-timeout", 1, 0, O_LOCK_TO},
    {"ckpt-timeout", 1, 0, O_CKPT_TO}, {"rollout-work", 1, 0, O_ROLL_WORK},
    {"train-work", 1, 0, O_TRAIN_WORK}, {"gpu-mem", 1, 0, O_GPU_MEM},
    {"model-mem", 1, 0, O_MODEL_MEM}, {"act-per-token", 1, 0, O_ACT},
    {"shard-size", 1, 0, O_SHARD}, {"chunk-size", 1, 0, O_CHUNK},
    {"base-port", 1, 0, O_BASE}, {"meta-port", 1, 0, O_META_PORT},
    {"scheduler-port", 1, 0, O_SCHED_PORT}, {"train-meta-port", 1, 0, O_TRAIN_META},
    {"rollout-meta-port", 1, 0, O_ROLL_META},
    {"scheduler-port-for-controller", 1, 0, O_SCHED_FOR_CTL},
    {"log-dir", 1, 0, O_LOG_DIR}, {"ckpt-dir", 1, 0, O_CKPT_DIR},
    {"control", 1, 0, O_CONTROL}, {"seed", 1, 0, O_SEED},
    {"help", 0, 0, O_HELP}, {"version", 0, 0, O_VERSION},
    {"straggler-factor", 1, 0, O_STRAGGLER}, {"master-addr", 1, 0, O_MASTER},
    /* internal: set by the controller when it re-executes itself */
    {"role", 1, 0, O_ROLE}, {"id", 1, 0, O_ID}, {"listen-fd", 1, 0, O_LISTEN_FD},
    {"meta-actual", 1, 0, O_META_ACTUAL}, {"sched-actual", 1, 0, O_SCHED_ACTUAL},
    {"peer-port", 1, 0, O_PEER}, {"controller-pid", 1, 0, O_CTL_PID},
    {0, 0, 0, 0},
};

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (e == s || *e || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "K=PORT" into table[K]. */
static int parse_worker_port(const char *s, int *table)
{
    const char *eq = strchr(s, '=');
    char idb[16];
    long id, port;
    if (!eq || (size_t)(eq - s) >= sizeof idb)
        return -1;
    memcpy(idb, s, (size_t)(eq - s));
    idb[eq - s] = 0;
    if (parse_int(idb, 0, RLSIM_MAX_WORKERS - 1, &id) || parse_int(eq + 1, 1, 65535, &port))
        return -1;
    table[id] = (int)port;
    return 0;
}

enum { N_DUR = 9 };

/* What the options leave to finish_config: which durations were given (the others
 * scale with --time-scale) and whether --batch-size and --checkpoint-dir were. */
struct parse_state {
    long *durs[N_DUR]; /* in the order of O_REQ_TO .. O_TRAIN_WORK */
    int explicit[N_DUR];
    int ckpt_set, batch_set;
};

/* --straggler-factor and --time-scale. */
static int set_factor(struct rlsim_config *c, int o, const char *a)
{
    char *e;
    double d = strtod(a, &e);
    if (o == O_STRAGGLER) {
        if (e == a || *e || !(d == 0 || (d >= 1 && d <= 1000)))
            return usage_err("--straggler-factor: expected 0 (off) or 1..1000, got '%s'", a);
        c->straggler_factor = d;
    } else {
        if (e == a || *e || !(d >= 0.001 && d <= 100))
            return usage_err("--time-scale: expected a factor 0.001..100, got '%s'", a);
        c->time_scale = d;
    }
    return 0;
}

static int set_duration(struct parse_state *ps, int o, const char *a, const char *name)
{
    int i = o - O_REQ_TO;
    if (rlsim_parse_duration_ms(a, ps->durs[i]) || (*ps->durs[i] == 0 && i < 7))
        return usage_err("%s: expected a duration like 500ms, 30s or 2m, got '%s'", name, a);
    ps->explicit[i] = 1;
    return 0;
}

static int set_size(struct rlsim_config *c, int o, const char *a, const char *name)
{
    uint64_t sz;
    if (rlsim_parse_size(a, &sz) || sz == 0)
        return usage_err("%s: expected a size like 512K, 16G, got '%s'", name, a);
    if (o == O_GPU_MEM) c->gpu_mem_bytes = sz;
    else if (o == O_MODEL_MEM) c->model_mem_bytes = sz;
    else if (o == O_ACT) c->act_bytes_per_token = sz;
    else if (sz > (256u << 20))
        return usage_err("%s: at most 256M, got '%s'", name, a);
    else if (o == O_SHARD) c->shard_bytes = (size_t)sz;
    else c->chunk_bytes = (size_t)sz;
    return 0;
}

static int set_port(struct rlsim_config *c, int o, const char *a, const char *name)
{
    long v;
    if (parse_int(a, o == O_SCHED_FOR_CTL ? 1 : 0, 65535, &v))
        return usage_err("%s: expected a port 0..65535, got '%s'", name, a);
    if (o == O_BASE && v > 65535 - 2 - 2 * RLSIM_MAX_WORKERS && v != 0)
        return usage_err("--base-port: %ld leaves no room for the worker ports", v);
    if (o == O_BASE) c->base_port = (int)v;
    else if (o == O_META_PORT) c->meta_port = (int)v;
    else if (o == O_SCHED_PORT) c->sched_port = (int)v;
    else c->sched_port_for_controller = (int)v;
    return 0;
}

static int set_path(struct rlsim_config *c, struct parse_state *ps, int o, const char *a,
                    const char *name)
{
    char *dst = o == O_LOG_DIR ? c->log_dir : o == O_CKPT_DIR ? c->ckpt_dir : c->control;
    if (!*a || strlen(a) >= RLSIM_PATH_MAX - 100)
        return usage_err("%s: expected a path, got '%s'", name, a);
    snprintf(dst, RLSIM_PATH_MAX, "%s", a);
    if (o == O_CKPT_DIR)
        ps->ckpt_set = 1;
    return 0;
}

/* --role and the numbers the controller passes to the processes it starts. */
static int set_internal(struct rlsim_config *c, int o, const char *a, const char *name)
{
    long v;
    if (o == O_ROLE) {
        if (!strcmp(a, "train_worker")) c->role = RLSIM_TRAIN;
        else if (!strcmp(a, "rollout_worker")) c->role = RLSIM_ROLLOUT;
        else if (!strcmp(a, "scheduler")) c->role = RLSIM_SCHEDULER;
        else return usage_err("--role: unknown role '%s'", a);
        return 0;
    }
    if (parse_int(a, 0, 2147483647, &v))
        return usage_err("%s: expected a number, got '%s'", name, a);
    if (o == O_ID) c->id = (int)v;
    else if (o == O_LISTEN_FD) c->listen_fd = (int)v;
    else if (o == O_META_ACTUAL) c->meta_actual = (int)v;
    else if (o == O_SCHED_ACTUAL) c->sched_actual = (int)v;
    else if (o == O_PEER) c->peer_port = (int)v;
    else c->controller_pid = (pid_t)v;
    return 0;
}

/* One option o with value a (name: "--NAME" for messages); 0 = go on, 1 = done
 * (--help, --version), 2 = bad usage (reported). */
static int apply_option(struct rlsim_config *c, struct parse_state *ps, int o, const char *a,
                        const char *name, char **argv)
{
    long v;
    switch (o) {
    case O_TRAIN: case O_ROLLOUT:
        if (parse_int(a, 1, RLSIM_MAX_WORKERS, &v))
            return usage_err("%s: expected a worker count 1..%d, got '%s'", name,
                             RLSIM_MAX_WORKERS, a);
        *(o == O_TRAIN ? &c->train_workers : &c->rollout_workers) = (int)v;
        return 0;
    case O_STEPS:
        if (parse_int(a, 1, 1000000, &v))
            return usage_err("--steps: expected a number >= 1, got '%s'", a);
        c->steps = (int)v;
        return 0;
    case O_BATCH:
        if (parse_int(a, 1, 65536, &v))
            return usage_err("--batch-size: expected 1..65536, got '%s'", a);
        c->batch_size = (int)v;
        ps->batch_set = 1;
        return 0;
    case O_COLOCATE: c->colocate = 1; return 0;
    case O_SYNC:
        if (!strcmp(a, "meta"))
            c->disk_sync = 0;
        else if (!strcmp(a, "disk"))
            c->disk_sync = 1;
        else
            return usage_err("--weight-sync: expected 'meta' or 'disk', got '%s'", a);
        return 0;
    case O_QUICK: c->time_scale = 0.1; return 0;
    case O_STRAGGLER: case O_SCALE: return set_factor(c, o, a);
    case O_REQ_TO: case O_RPC_TO: case O_ROLL_TO: case O_SCHED_TO: case O_EVENT_TO:
    case O_LOCK_TO: case O_CKPT_TO: case O_ROLL_WORK: case O_TRAIN_WORK:
        return set_duration(ps, o, a, name);
    case O_GPU_MEM: case O_MODEL_MEM: case O_ACT: case O_SHARD: case O_CHUNK:
        return set_size(c, o, a, name);
    case O_BASE: case O_META_PORT: case O_SCHED_PORT: case O_SCHED_FOR_CTL:
        return set_port(c, o, a, name);
    case O_TRAIN_META: case O_ROLL_META:
        if (parse_worker_port(a, o == O_TRAIN_META ? c->train_meta_port : c->rollout_meta_port))
            return usage_err("%s: expected WORKER=PORT (e.g. 3=7001), got '%s'", name, a);
        return 0;
    case O_LOG_DIR: case O_CKPT_DIR: case O_CONTROL: return set_path(c, ps, o, a, name);
    case O_SEED:
        if (parse_int(a, 0, 2147483647, &v))
            return usage_err("--seed: expected a number, got '%s'", a);
        c->seed = (unsigned)v;
        return 0;
    case O_MASTER:
        if (!*a || strlen(a) >= sizeof c->master_addr)
            return usage_err("--master-addr: expected a host name, got '%s'", a);
        snprintf(c->master_addr, sizeof c->master_addr, "%s", a);
        return 0;
    case O_HELP: fputs(help_text, stdout); return 1;
    case O_VERSION: puts("moni-rlsim 0.1.0"); return 1;
    case O_ROLE: case O_ID: case O_LISTEN_FD: case O_META_ACTUAL: case O_SCHED_ACTUAL:
    case O_PEER: case O_CTL_PID:
        return set_internal(c, o, a, name);
    case ':':
        return usage_err("option '%s' needs a value", argv[optind - 1]);
    default:
        return usage_err("unknown option '%s'", argv[optind - 1]);
    }
}

/* After the options: durations not given scale with --time-scale, the defaults
 * that depend on other options, and the checks of the combination. */
static int finish_config(struct rlsim_config *c, struct parse_state *ps)
{
    for (int i = 0; i < N_DUR; i++)
        if (!ps->explicit[i]) {
            *ps->durs[i] = (long)llround(*ps->durs[i] * c->time_scale);
            if (*ps->durs[i] < 1)
                *ps->durs[i] = 1;
        }
    if (!ps->batch_set) { /* smallest multiple of both counts that is >= 64 */
        int a = c->train_workers, b = c->rollout_workers, x = a, y = b;
        while (y) {
            int t = x % y;
            x = y;
            y = t;
        }
        int lcm = a / x * b;
        c->batch_size = (64 + lcm - 1) / lcm * lcm;
    }
    if (c->batch_size % c->train_workers || c->batch_size % c->rollout_workers)
        return usage_err("--batch-size %d must be divisible by --train-workers (%d) and "
                         "--rollout-workers (%d)", c->batch_size, c->train_workers,
                         c->rollout_workers);
    if (c->colocate && c->train_workers != c->rollout_workers)
        return usage_err("--colocate pairs train_worker_K with rollout_worker_K: the counts must "
                         "match (%d train, %d rollout)", c->train_workers, c->rollout_workers);
    if (c->chunk_bytes > c->shard_bytes)
        c->chunk_bytes = c->shard_bytes;
    if (c->shard_bytes / c->chunk_bytes > 4096)
        return usage_err("--chunk-size: at most 4096 chunks per shard");
    for (int i = 0; i < RLSIM_MAX_WORKERS; i++)
        if ((c->train_meta_port[i] && i >= c->train_workers) ||
            (c->rollout_meta_port[i] && i >= c->rollout_workers))
            return usage_err("--%s-meta-port: worker %d does not exist",
                             c->train_meta_port[i] ? "train" : "rollout", i);
    if (!ps->ckpt_set)
        snprintf(c->ckpt_dir, sizeof c->ckpt_dir, "%s/ckpt", c->log_dir);
    return 0;
}

int rlsim_parse_args(struct rlsim_config *c, int argc, char **argv)
{
    rlsim_config_defaults(c);
    struct parse_state ps = {
        .durs = {&c->request_timeout_ms, &c->rpc_timeout_ms, &c->rollout_timeout_ms,
                 &c->scheduler_timeout_ms, &c->event_timeout_ms, &c->gpu_lock_timeout_ms,
                 &c->ckpt_timeout_ms, &c->rollout_work_ms, &c->train_work_ms},
    };
    opterr = 0;
    optind = 1;
    int o;
    int li = -1;
    while ((o = getopt_long(argc, argv, ":", longopts, &li)) != -1) {
        char name[64];
        snprintf(name, sizeof name, "--%s", li >= 0 ? longopts[li].name : "?");
        li = -1;
        int rc = apply_option(c, &ps, o, optarg, name, argv);
        if (rc)
            return rc;
    }
    if (optind < argc)
        return usage_err("unexpected argument '%s'", argv[optind]);
    return finish_config(c, &ps);
}
