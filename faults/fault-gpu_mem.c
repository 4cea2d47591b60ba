/* faults/fault-gpu_mem.c — allocate and hold GPU memory (bytes or % of the device)
 * through the CUDA driver API, loaded with dlopen (libcuda.so.1, or $MONI_CUDA_LIB).
 * CUDA must not be initialised in a process that forks afterwards, so both the
 * pre-flight probe and the holder run in children; without a driver the fault fails
 * at arm time with the reason. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long texts are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static const struct fault_param gpu_params[] = {
    {"size", FP_SIZE_PCT, "B|%", "50%", 0, 0, NULL, "bytes (2G) or a share of the device (80%)"},
    {"device", FP_INT, "", "0", 0, 63, NULL, "CUDA device ordinal"},
    {"chunk", FP_SIZE, "B", "256M", 1 << 20, 1ull << 40, NULL, "allocation granularity"},
};

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef unsigned long long CUdeviceptr;

struct cuda {
    void *lib;
    CUresult (*Init)(unsigned);
    CUresult (*DeviceGetCount)(int *);
    CUresult (*DeviceGet)(CUdevice *, int);
    CUresult (*DeviceTotalMem)(size_t *, CUdevice);
    CUresult (*CtxCreate)(CUcontext *, unsigned, CUdevice);
    CUresult (*MemAlloc)(CUdeviceptr *, size_t);
    CUresult (*MemGetInfo)(size_t *, size_t *);
    CUresult (*GetErrorString)(CUresult, const char **);
};

struct gpu_shared {
    volatile uint64_t allocated, total, free_after;
    volatile int done;  /* 1 = reached, -1 = failed */
    char error[200];
};

struct gpu_state {
    pid_t pid;
    struct gpu_shared *shm;
    uint64_t total, want;
    char lib[256];
};

static void *sym(void *lib, const char *v2, const char *v1)
{
    void *p = dlsym(lib, v2);
    return p ? p : dlsym(lib, v1);
}

static const char *cuda_lib(void)
{
    const char *e = getenv("MONI_CUDA_LIB");
    return e && *e ? e : "libcuda.so.1";
}

static int cuda_open(struct cuda *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->lib = dlopen(cuda_lib(), RTLD_NOW | RTLD_LOCAL);
    if (!c->lib) {
        snprintf(err, errlen, "cannot load %s (no NVIDIA driver?): %s", cuda_lib(), dlerror());
        return -1;
    }
    c->Init = (CUresult(*)(unsigned))sym(c->lib, "cuInit", "cuInit");
    c->DeviceGetCount = (CUresult(*)(int *))sym(c->lib, "cuDeviceGetCount", "cuDeviceGetCount");
    c->DeviceGet = (CUresult(*)(CUdevice *, int))sym(c->lib, "cuDeviceGet", "cuDeviceGet");
    c->DeviceTotalMem = (CUresult(*)(size_t *, CUdevice))sym(c->lib, "cuDeviceTotalMem_v2",
                                                              "cuDeviceTotalMem");
    c->CtxCreate = (CUresult(*)(CUcontext *, unsigned, CUdevice))sym(c->lib, "cuCtxCreate_v2",
                                                                      "cuCtxCreate");
    c->MemAlloc = (CUresult(*)(CUdeviceptr *, size_t))sym(c->lib, "cuMemAlloc_v2", "cuMemAlloc");
    c->MemGetInfo = (CUresult(*)(size_t *, size_t *))sym(c->lib, "cuMemGetInfo_v2", "cuMemGetInfo");
    c->GetErrorString = (CUresult(*)(CUresult, const char **))sym(c->lib, "cuGetErrorString",
                                                                   "cuGetErrorString");
    if (!c->Init || !c->DeviceGet || !c->CtxCreate || !c->MemAlloc || !c->MemGetInfo) {
        snprintf(err, errlen, "%s lacks the CUDA driver API (cuInit, cuCtxCreate, cuMemAlloc)",
                 cuda_lib());
        return -1;
    }
    return 0;
}

static void cuda_errf(struct cuda *c, CUresult r, const char *what, char *err, size_t errlen)
{
    const char *s = NULL;
    if (c->GetErrorString)
        c->GetErrorString(r, &s);
    snprintf(err, errlen, "%s failed: CUDA error %d%s%s", what, r, s ? ": " : "", s ? s : "");
}

/* Probe in a child: device present, its total memory. */
struct probe_arg {
    struct gpu_shared *shm;
    int device;
};

static void probe_body(void *argp)
{
    struct probe_arg *a = argp;
    struct cuda c;
    CUresult r = 0;
    CUdevice dev;
    int n = 0;
    if (cuda_open(&c, a->shm->error, sizeof a->shm->error))
        _exit(1);
    if ((r = c.Init(0))) {
        cuda_errf(&c, r, "cuInit", a->shm->error, sizeof a->shm->error);
        _exit(1);
    }
    if (c.DeviceGetCount && c.DeviceGetCount(&n) == 0 && a->device >= n) {
        snprintf(a->shm->error, sizeof a->shm->error, "device=%d: only %d CUDA device(s)", a->device, n);
        _exit(1);
    }
    if ((r = c.DeviceGet(&dev, a->device))) {
        cuda_errf(&c, r, "cuDeviceGet", a->shm->error, sizeof a->shm->error);
        _exit(1);
    }
    size_t total = 0;
    if (c.DeviceTotalMem && (r = c.DeviceTotalMem(&total, dev)) == 0)
        a->shm->total = total;
    _exit(0);
}

struct hold_arg {
    struct gpu_shared *shm;
    int device;
    uint64_t want, chunk;
};

static void hold_body(void *argp)
{
    struct hold_arg *a = argp;
    struct cuda c;
    CUresult r = 0;
    CUdevice dev;
    CUcontext ctx;
    if (cuda_open(&c, a->shm->error, sizeof a->shm->error) || (r = c.Init(0)) ||
        (r = c.DeviceGet(&dev, a->device)) || (r = c.CtxCreate(&ctx, 0, dev))) {
        if (!a->shm->error[0])
            cuda_errf(&c, r, "CUDA context", a->shm->error, sizeof a->shm->error);
        a->shm->done = -1;
        _exit(1);
    }
    while (a->shm->allocated < a->want) {
        uint64_t n = a->want - a->shm->allocated;
        if (n > a->chunk)
            n = a->chunk;
        CUdeviceptr p;
        if ((r = c.MemAlloc(&p, (size_t)n))) {
            cuda_errf(&c, r, "cuMemAlloc", a->shm->error, sizeof a->shm->error);
            a->shm->done = -1;
            break;
        }
        a->shm->allocated += n;
    }
    size_t fr = 0, tot = 0;
    if (c.MemGetInfo(&fr, &tot) == 0) {
        a->shm->free_after = fr;
        a->shm->total = tot;
    }
    if (a->shm->done == 0)
        a->shm->done = 1;
    for (;;)
        pause(); /* hold; the driver frees everything when we die */
}

/* The driver library is there (the device itself is probed at arm, in a child). */
static int gpu_precheck(const struct fault *f, char *err, size_t errlen)
{
    (void)f;
    void *lib = dlopen(cuda_lib(), RTLD_LAZY | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "cannot load %s (no NVIDIA driver?): %s", cuda_lib(), dlerror());
        return FAULT_ERR_USAGE;
    }
    dlclose(lib);
    return 0;
}

static int gpu_arm(struct fault *f, char *err, size_t errlen)
{
    struct gpu_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    snprintf(s->lib, sizeof s->lib, "%s", cuda_lib());
    s->shm = fault_shared_alloc(sizeof *s->shm);
    if (!s->shm) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    struct probe_arg a = {.shm = s->shm, .device = (int)fault_num(f, "device")};
    pid_t pid = fault_spawn(f, probe_body, &a, -1);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, errlen, "%s", s->shm->error[0] ? s->shm->error : "CUDA probe crashed");
        return FAULT_ERR_FAIL;
    }
    s->total = s->shm->total;
    int i = fault_param_index(f->ops, "size");
    if (f->p.v[i].is_pct) {
        if (!s->total) {
            snprintf(err, errlen, "size=%s: the device's total memory is unknown; give bytes",
                     fault_str(f, "size"));
            return FAULT_ERR_FAIL;
        }
        s->want = (uint64_t)((double)s->total * fault_num(f, "size") / 100.0);
    } else {
        s->want = (uint64_t)fault_num(f, "size");
    }
    if (s->total && s->want > s->total) {
        snprintf(err, errlen, "size=%s is more than the device's %.0f MiB", fault_str(f, "size"),
                 (double)s->total / 1048576);
        return FAULT_ERR_FAIL;
    }
    f->requested = (double)s->want;
    snprintf(f->mode, sizeof f->mode, "cuda");
    memset(s->shm, 0, sizeof *s->shm);
    return 0;
}

static int gpu_fire(struct fault *f, char *err, size_t errlen)
{
    struct gpu_state *s = f->priv;
    struct hold_arg a = {.shm = s->shm, .device = (int)fault_num(f, "device"), .want = s->want,
                         .chunk = (uint64_t)fault_num(f, "chunk")};
    s->pid = fault_spawn(f, hold_body, &a, -1);
    if (s->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return FAULT_ERR_FAIL;
    }
    return 0;
}

static int gpu_check(struct fault *f, int64_t now)
{
    struct gpu_state *s = f->priv;
    f->delivered = (double)s->shm->allocated;
    f->delivered_valid = true;
    if (s->shm->done < 0 && !f->effective) {
        snprintf(f->error, sizeof f->error, "%s", s->shm->error);
        if (s->shm->allocated == 0)
            return FAULT_CHECK_FAILED;
    }
    int st = fault_proc_state(s->pid);
    if (st == 0 || st == 'Z') {
        snprintf(f->error, sizeof f->error, "GPU memory holder died%s%s", s->shm->error[0] ? ": " : "",
                 s->shm->error);
        return FAULT_CHECK_FAILED;
    }
    if (!f->effective && s->shm->done != 0) {
        snprintf(f->effect_detail, sizeof f->effect_detail, "%.0f MiB held, device free %.0f MiB",
                 (double)s->shm->allocated / 1048576, (double)s->shm->free_after / 1048576);
        return FAULT_CHECK_EFFECTIVE;
    }
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void gpu_stop(struct fault *f)
{
    struct gpu_state *s = f->priv;
    if (s && s->pid > 0)
        fault_kill_child(s->pid);
}

static int gpu_revert(struct fault *f, char *err, size_t errlen)
{
    struct gpu_state *s = f->priv;
    int st = s && s->pid > 0 ? fault_proc_state(s->pid) : 0;
    if (st && st != 'Z') {
        snprintf(err, errlen, "GPU memory holder %d still running", (int)s->pid);
        return -1;
    }
    return 0;
}

static void gpu_describe(const struct fault *f, cJSON *d)
{
    const struct gpu_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddStringToObject(d, "library", s->lib);
    cJSON_AddNumberToObject(d, "device", fault_num(f, "device"));
    cJSON_AddNumberToObject(d, "device_total_bytes", (double)s->total);
    if (s->shm) {
        cJSON_AddNumberToObject(d, "allocated_bytes", (double)s->shm->allocated);
        cJSON_AddNumberToObject(d, "device_free_bytes", (double)s->shm->free_after);
    }
}

static void gpu_release(struct fault *f)
{
    struct gpu_state *s = f->priv;
    if (s)
        fault_shared_free(s->shm, sizeof *s->shm);
    free(s);
    f->priv = NULL;
}

const struct fault_ops fault_gpu_mem_ops = {
    .name = "gpu_mem",
    .summary = "allocate and hold GPU memory through the CUDA driver API (dlopen libcuda)",
    .privileges = "access to the GPU device (/dev/nvidia*)",
    .label_kind = "interval",
    .effect_labels = "CUDA_OutOfMemory",
    .dose_unit = "bytes",
    .undo = "the holder process is killed; the driver frees its memory",
    .params = gpu_params,
    .nparams = MONI_ARRAY_LEN(gpu_params),
    .targets = 0,
    .arm = gpu_arm,
    .fire = gpu_fire,
    .check = gpu_check,
    .stop = gpu_stop,
    .revert = gpu_revert,
    .describe = gpu_describe,
    .release = gpu_release,
    .precheck = gpu_precheck,
};
