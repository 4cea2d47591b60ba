/* tests/fakes/fake_nvml.c — a scripted libnvidia-ml for tests: select it with
 * MONI_NVML_LIB=$MONI_BUILD/tests/libfake_nvml.so.
 *
 * Environment:
 *   MONI_FAKE_NVML_GPUS=N          number of GPUs (default 1; 0 = none)
 *   MONI_FAKE_NVML_INIT_FAIL=1     nvmlInit_v2 fails (NVML_ERROR_DRIVER_NOT_LOADED)
 *   MONI_FAKE_NVML_FAIL=a,b        these entry points return NVML_ERROR_NOT_SUPPORTED
 *                                  (names without the "nvml" prefix: DeviceGetPowerUsage)
 *   MONI_FAKE_NVML_<FIELD>=v1,v2,. per-call values (the k-th call returns vk, the
 *                                  last one repeats); GPU i returns them + i.  FIELDS: UTIL,
 *                                  MEM_UTIL, MEM_USED, MEM_TOTAL, TEMP, POWER_MW,
 *                                  SM_CLOCK, PCIE_RX_KBPS, PCIE_TX_KBPS, ECC_CORR,
 *                                  ECC_UNCORR, PROC_MEM
 *   MONI_FAKE_NVML_XID=n           one Xid event with this value on GPU 0 (once)
 * Defaults: util 42, mem util 17, used 1 GiB, total 16 GiB, temp 55 C, 123456 mW,
 * SM 1410 MHz, PCIe rx 2048 / tx 1024 KB/s, ECC 3 / 0, per-process memory 512 MiB
 * reported for every direct child of the calling process. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/nvml.h"

#define MAXGPU 8
struct nvmlDevice_st {
    int index;
};
struct nvmlEventSet_st {
    int registered;
};
static struct nvmlDevice_st devs[MAXGPU];
static struct nvmlEventSet_st the_set;
static int initialised;
static int xid_sent;

enum { F_UTIL, F_MEM_UTIL, F_MEM_USED, F_MEM_TOTAL, F_TEMP, F_POWER_MW, F_SM_CLOCK, F_PCIE_RX,
       F_PCIE_TX, F_ECC_CORR, F_ECC_UNCORR, F_PROC_MEM, F_N };
static const char *const fname[F_N] = {"UTIL", "MEM_UTIL", "MEM_USED", "MEM_TOTAL", "TEMP",
                                       "POWER_MW", "SM_CLOCK", "PCIE_RX_KBPS", "PCIE_TX_KBPS",
                                       "ECC_CORR", "ECC_UNCORR", "PROC_MEM"};
static const unsigned long long fdefault[F_N] = {
    42, 17, 1ULL << 30, 16ULL << 30, 55, 123456, 1410, 2048, 1024, 3, 0, 512ULL << 20};
static unsigned calls[MAXGPU][F_N];

static int ngpus(void)
{
    const char *e = getenv("MONI_FAKE_NVML_GPUS");
    int n = e ? atoi(e) : 1;
    return n < 0 ? 0 : n > MAXGPU ? MAXGPU : n;
}

static int failing(const char *fn)
{
    const char *e = getenv("MONI_FAKE_NVML_FAIL");
    if (!e)
        return 0;
    size_t l = strlen(fn);
    for (const char *p = e; (p = strstr(p, fn)); p += l)
        if ((p == e || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
            return 1;
    return 0;
}

static unsigned long long value(int gpu, int f)
{
    char name[64];
    snprintf(name, sizeof name, "MONI_FAKE_NVML_%s", fname[f]);
    const char *e = getenv(name);
    unsigned k = calls[gpu][f]++;
    if (!e || !*e)
        return fdefault[f] + (unsigned long long)gpu;
    unsigned long long v = 0;
    const char *p = e;
    for (unsigned i = 0;; i++) {
        v = strtoull(p, NULL, 10);
        const char *c = strchr(p, ',');
        if (i == k || !c)
            break;
        p = c + 1;
    }
    return v + (unsigned long long)gpu;
}

static int dev_ok(nvmlDevice_t d)
{
    return initialised && d && d >= devs && d < devs + ngpus();
}

nvmlReturn_t nvmlInit_v2(void)
{
    if (getenv("MONI_FAKE_NVML_INIT_FAIL"))
        return NVML_ERROR_DRIVER_NOT_LOADED;
    for (int i = 0; i < MAXGPU; i++)
        devs[i].index = i;
    initialised = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
    initialised = 0;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r)
{
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned int len)
{
    snprintf(v, len, "999.99-fake");
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n)
{
    if (!initialised)
        return NVML_ERROR_UNINITIALIZED;
    *n = (unsigned)ngpus();
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d)
{
    if (!initialised || i >= (unsigned)ngpus())
        return NVML_ERROR_INVALID_ARGUMENT;
    *d = &devs[i];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int len)
{
    if (!dev_ok(d))
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(name, len, "Fake GPU %d", d->index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int len)
{
    if (!dev_ok(d))
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(uuid, len, "GPU-fake-0000-%04d", d->index);
    return NVML_SUCCESS;
}

#define GUARD(fn)                                                                          \
    do {                                                                                   \
        if (!dev_ok(d))                                                                    \
            return NVML_ERROR_INVALID_ARGUMENT;                                            \
        if (failing(fn))                                                                   \
            return NVML_ERROR_NOT_SUPPORTED;                                               \
    } while (0)

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u)
{
    GUARD("DeviceGetUtilizationRates");
    u->gpu = (unsigned)value(d->index, F_UTIL);
    u->memory = (unsigned)value(d->index, F_MEM_UTIL);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m)
{
    GUARD("DeviceGetMemoryInfo");
    m->used = value(d->index, F_MEM_USED);
    m->total = value(d->index, F_MEM_TOTAL);
    m->free = m->total > m->used ? m->total - m->used : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t)
{
    GUARD("DeviceGetTemperature");
    if (sensor != NVML_TEMPERATURE_GPU)
        return NVML_ERROR_INVALID_ARGUMENT;
    *t = (unsigned)value(d->index, F_TEMP);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw)
{
    GUARD("DeviceGetPowerUsage");
    *mw = (unsigned)value(d->index, F_POWER_MW);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz)
{
    GUARD("DeviceGetClockInfo");
    if (type != NVML_CLOCK_SM)
        return NVML_ERROR_NOT_SUPPORTED;
    *mhz = (unsigned)value(d->index, F_SM_CLOCK);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t d, int counter, unsigned int *kbps)
{
    GUARD("DeviceGetPcieThroughput");
    usleep(20000); /* the real call samples for ~20 ms */
    *kbps = (unsigned)value(d->index, counter == NVML_PCIE_UTIL_RX_BYTES ? F_PCIE_RX : F_PCIE_TX);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, int type, int counter,
                                         unsigned long long *n)
{
    GUARD("DeviceGetTotalEccErrors");
    (void)counter;
    *n = value(d->index, type == NVML_MEMORY_ERROR_TYPE_CORRECTED ? F_ECC_CORR : F_ECC_UNCORR);
    return NVML_SUCCESS;
}

/* Reports every direct child of the calling process as using PROC_MEM bytes. */
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count,
                                                     nvmlProcessInfo_v2_t *infos)
{
    GUARD("DeviceGetComputeRunningProcesses");
    unsigned cap = *count, n = 0;
    unsigned long long mem = value(d->index, F_PROC_MEM);
    DIR *dir = opendir("/proc");
    struct dirent *de;
    pid_t me = getpid();
    while (dir && (de = readdir(dir))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = '\0';
        char *close = strrchr(buf, ')');
        int ppid = 0;
        char st;
        if (!close || sscanf(close + 1, " %c %d", &st, &ppid) != 2 || ppid != me)
            continue;
        if (n < cap) {
            infos[n].pid = (unsigned)atoi(de->d_name);
            infos[n].usedGpuMemory = mem;
            infos[n].gpuInstanceId = infos[n].computeInstanceId = 0;
        }
        n++;
    }
    if (dir)
        closedir(dir);
    *count = n;
    return n > cap ? NVML_ERROR_INSUFFICIENT_SIZE : NVML_SUCCESS;
}

nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set)
{
    if (failing("EventSetCreate"))
        return NVML_ERROR_NOT_SUPPORTED;
    *set = &the_set;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long types, nvmlEventSet_t s)
{
    GUARD("DeviceRegisterEvents");
    (void)types;
    s->registered |= 1 << d->index;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t s, nvmlEventData_t *data, unsigned int timeout)
{
    (void)timeout;
    const char *x = getenv("MONI_FAKE_NVML_XID");
    if (x && !xid_sent && (s->registered & 1)) {
        xid_sent = 1;
        memset(data, 0, sizeof *data);
        data->device = &devs[0];
        data->eventType = nvmlEventTypeXidCriticalError;
        data->eventData = strtoull(x, NULL, 10);
        return NVML_SUCCESS;
    }
    return NVML_ERROR_TIMEOUT;
}

nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t s)
{
    (void)s;
    return NVML_SUCCESS;
}
