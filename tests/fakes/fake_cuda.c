/* tests/fakes/fake_cuda.c — a fake CUDA driver (libcuda) for tests without a GPU,
 * selected with MONI_CUDA_LIB=build/tests/libfake_cuda.so.
 * FAKE_CUDA_TOTAL: device memory (bytes, default 16 GiB); FAKE_CUDA_DEVICES: count
 * (default 1, 0 = no device); FAKE_CUDA_STATE: a file rewritten with "used BYTES" on
 * every allocation, so a test can see the held memory from outside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef unsigned long long CUdeviceptr;

enum { OK = 0, ERR_INVALID_VALUE = 1, ERR_OOM = 2, ERR_NOT_INITIALIZED = 3, ERR_NO_DEVICE = 100,
       ERR_INVALID_DEVICE = 101 };

static int inited;
static size_t used;
static CUdeviceptr next_ptr = 0x100000;

static size_t total_mem(void)
{
    const char *e = getenv("FAKE_CUDA_TOTAL");
    return e ? (size_t)strtoull(e, NULL, 10) : (size_t)16 << 30;
}

static int device_count(void)
{
    const char *e = getenv("FAKE_CUDA_DEVICES");
    return e ? atoi(e) : 1;
}

static void publish(void)
{
    const char *path = getenv("FAKE_CUDA_STATE");
    if (!path)
        return;
    FILE *fp = fopen(path, "w");
    if (fp) {
        fprintf(fp, "used %zu\n", used);
        fclose(fp);
    }
}

CUresult cuInit(unsigned flags)
{
    (void)flags;
    if (device_count() <= 0)
        return ERR_NO_DEVICE;
    inited = 1;
    return OK;
}

CUresult cuDeviceGetCount(int *n)
{
    if (!inited)
        return ERR_NOT_INITIALIZED;
    *n = device_count();
    return OK;
}

CUresult cuDeviceGet(CUdevice *d, int ordinal)
{
    if (!inited)
        return ERR_NOT_INITIALIZED;
    if (ordinal < 0 || ordinal >= device_count())
        return ERR_INVALID_DEVICE;
    *d = ordinal;
    return OK;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d)
{
    (void)d;
    *bytes = total_mem();
    return OK;
}

CUresult cuCtxCreate_v2(CUcontext *ctx, unsigned flags, CUdevice d)
{
    (void)flags;
    (void)d;
    if (!inited)
        return ERR_NOT_INITIALIZED;
    *ctx = (CUcontext)&inited;
    return OK;
}

CUresult cuCtxDestroy_v2(CUcontext ctx)
{
    (void)ctx;
    return OK;
}

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n)
{
    if (!inited)
        return ERR_NOT_INITIALIZED;
    if (n == 0)
        return ERR_INVALID_VALUE;
    if (used + n > total_mem())
        return ERR_OOM;
    used += n;
    *p = next_ptr;
    next_ptr += n;
    publish();
    return OK;
}

CUresult cuMemFree_v2(CUdeviceptr p)
{
    (void)p;
    return OK;
}

CUresult cuMemGetInfo_v2(size_t *free_b, size_t *total_b)
{
    *total_b = total_mem();
    *free_b = total_mem() - used;
    return OK;
}

CUresult cuGetErrorString(CUresult r, const char **s)
{
    switch (r) {
    case OK: *s = "no error"; break;
    case ERR_OOM: *s = "out of memory"; break;
    case ERR_NO_DEVICE: *s = "no CUDA-capable device is detected"; break;
    case ERR_INVALID_DEVICE: *s = "invalid device ordinal"; break;
    case ERR_NOT_INITIALIZED: *s = "initialization error"; break;
    default: *s = "unknown error"; break;
    }
    return OK;
}
