/* core/src-nvml.c — the GPU source: NVML through dlopen, else one streaming
 * nvidia-smi child (src-nvsmi.c), else GPU columns left empty with the reason
 * stated once on stderr and in meta.json.
 *
 * NVML calls can take tens of milliseconds (PCIe throughput samples for ~20 ms), so
 * a poller thread does them on its own grid, shortly before each tick, and the
 * tick only copies the latest values under a mutex: sampling never waits on NVML.
 * A call that fails leaves that value missing, never 0. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/nvml.h"
#include "core/obs-int.h"

const char *const obs_gpu_field_suffix[GPU_NFIELDS] = {
    "util_pct",      "mem_util_pct",   "mem_used_bytes", "mem_total_bytes", "temp_c",
    "power_w",       "sm_clock_mhz",   "pcie_rx_Bps",    "pcie_tx_Bps",     "ecc_corrected",
    "ecc_uncorrected", "xid_errors",   "xid_last",       "proc_mem_bytes",
};
static const char *const gpu_field_help[GPU_NFIELDS] = {
    "GPU utilisation %", "GPU memory-controller utilisation %", "GPU memory used",
    "GPU memory total", "GPU temperature, C", "GPU power, W", "GPU SM clock, MHz",
    "PCIe receive", "PCIe transmit", "ECC corrected errors (volatile)",
    "ECC uncorrected errors (volatile)", "Xid critical errors since start", "last Xid",
    "GPU memory of the workload's processes",
};

struct nvml_api {
    void *lib;
    nvmlReturn_t (*Init)(void);
    nvmlReturn_t (*Shutdown)(void);
    const char *(*ErrorString)(nvmlReturn_t);
    nvmlReturn_t (*SystemGetDriverVersion)(char *, unsigned int);
    nvmlReturn_t (*DeviceGetCount)(unsigned int *);
    nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t *);
    nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*DeviceGetTemperature)(nvmlDevice_t, int, unsigned int *);
    nvmlReturn_t (*DeviceGetPowerUsage)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetClockInfo)(nvmlDevice_t, int, unsigned int *);
    nvmlReturn_t (*DeviceGetPcieThroughput)(nvmlDevice_t, int, unsigned int *);
    nvmlReturn_t (*DeviceGetTotalEccErrors)(nvmlDevice_t, int, int, unsigned long long *);
    /* one of the three, with the matching struct */
    nvmlReturn_t (*DeviceGetComputeRunningProcesses)(nvmlDevice_t, unsigned int *, void *);
    size_t proc_info_size;
    nvmlReturn_t (*EventSetCreate)(nvmlEventSet_t *);
    nvmlReturn_t (*DeviceRegisterEvents)(nvmlDevice_t, unsigned long long, nvmlEventSet_t);
    nvmlReturn_t (*EventSetWait)(nvmlEventSet_t, nvmlEventData_t *, unsigned int);
    nvmlReturn_t (*EventSetFree)(nvmlEventSet_t);
};

struct gpu_state {
    struct session *s;
    int col[OBS_GPU_MAX][GPU_NFIELDS];
    size_t ngpu;
    bool nvml;
    struct nvml_api api;
    nvmlDevice_t dev[OBS_GPU_MAX];
    nvmlEventSet_t events;
    /* poller thread */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int64_t period_ns, phase_ns, pcie_period_ns;
    struct obs_gpu_values latest; /* under mu */
    pid_t *pids;                  /* workload PIDs, under mu */
    size_t npids, cappids;
    bool have_workload;
    /* fallback */
    struct obs_nvsmi *nvsmi;
};

#define SYM(field, name)                                                                   \
    (*(void **)(&a->field) = dlsym(a->lib, name))

static int load_nvml(struct nvml_api *a, char *why, size_t whylen)
{
    const char *env = getenv("MONI_NVML_LIB");
    const char *tried = env && *env ? env : "libnvidia-ml.so.1";
    a->lib = dlopen(tried, RTLD_NOW | RTLD_LOCAL);
    if (!a->lib && !(env && *env)) {
        tried = "libnvidia-ml.so";
        a->lib = dlopen(tried, RTLD_NOW | RTLD_LOCAL);
    }
    if (!a->lib) {
        const char *e = dlerror();
        snprintf(why, whylen, "%s", e ? e : "cannot load libnvidia-ml.so.1");
        return -1;
    }
    bool ok = SYM(Init, "nvmlInit_v2") && SYM(Shutdown, "nvmlShutdown") &&
              SYM(ErrorString, "nvmlErrorString") &&
              SYM(DeviceGetCount, "nvmlDeviceGetCount_v2") &&
              SYM(DeviceGetHandleByIndex, "nvmlDeviceGetHandleByIndex_v2");
    if (!ok) {
        snprintf(why, whylen, "%s lacks nvmlInit_v2/nvmlDeviceGetCount_v2", tried);
        dlclose(a->lib);
        a->lib = NULL;
        return -1;
    }
    /* Optional entry points: a missing one only leaves its values missing. */
    SYM(SystemGetDriverVersion, "nvmlSystemGetDriverVersion");
    SYM(DeviceGetName, "nvmlDeviceGetName");
    SYM(DeviceGetUUID, "nvmlDeviceGetUUID");
    SYM(DeviceGetUtilizationRates, "nvmlDeviceGetUtilizationRates");
    SYM(DeviceGetMemoryInfo, "nvmlDeviceGetMemoryInfo");
    SYM(DeviceGetTemperature, "nvmlDeviceGetTemperature");
    SYM(DeviceGetPowerUsage, "nvmlDeviceGetPowerUsage");
    SYM(DeviceGetClockInfo, "nvmlDeviceGetClockInfo");
    SYM(DeviceGetPcieThroughput, "nvmlDeviceGetPcieThroughput");
    SYM(DeviceGetTotalEccErrors, "nvmlDeviceGetTotalEccErrors");
    SYM(EventSetCreate, "nvmlEventSetCreate");
    SYM(DeviceRegisterEvents, "nvmlDeviceRegisterEvents");
    SYM(EventSetWait, "nvmlEventSetWait_v2");
    SYM(EventSetFree, "nvmlEventSetFree");
    a->proc_info_size = sizeof(nvmlProcessInfo_v2_t);
    if (!SYM(DeviceGetComputeRunningProcesses, "nvmlDeviceGetComputeRunningProcesses_v3") &&
        !SYM(DeviceGetComputeRunningProcesses, "nvmlDeviceGetComputeRunningProcesses_v2")) {
        a->proc_info_size = sizeof(nvmlProcessInfo_v1_t);
        SYM(DeviceGetComputeRunningProcesses, "nvmlDeviceGetComputeRunningProcesses");
    }
    return 0;
}

static const char *nvml_err(const struct nvml_api *a, nvmlReturn_t r)
{
    const char *s = a->ErrorString ? a->ErrorString(r) : NULL;
    return s ? s : "unknown error";
}

static bool pid_in(const pid_t *pids, size_t n, unsigned int pid)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned int)pids[i] == pid)
            return true;
    return false;
}

/* One poll of every GPU into v.  pcie: also take the slow PCIe counters. */
static void nvml_poll(struct gpu_state *g, struct obs_gpu_values *v, bool pcie,
                      const pid_t *pids, size_t npids)
{
    const struct nvml_api *a = &g->api;
    for (size_t i = 0; i < g->ngpu; i++) {
        nvmlDevice_t d = g->dev[i];
        double *val = v->v[i];
        bool *ok = v->ok[i];
        for (int k = 0; k < GPU_NFIELDS; k++) {
            /* Xid values accumulate; PCIe is held between its slower polls */
            bool held = k == GPU_XID_COUNT || k == GPU_XID_LAST ||
                        (!pcie && (k == GPU_PCIE_RX || k == GPU_PCIE_TX));
            if (!held)
                ok[k] = false;
        }
        nvmlUtilization_t u;
        if (a->DeviceGetUtilizationRates && a->DeviceGetUtilizationRates(d, &u) == NVML_SUCCESS) {
            val[GPU_UTIL] = u.gpu, ok[GPU_UTIL] = true;
            val[GPU_MEM_UTIL] = u.memory, ok[GPU_MEM_UTIL] = true;
        }
        nvmlMemory_t m;
        if (a->DeviceGetMemoryInfo && a->DeviceGetMemoryInfo(d, &m) == NVML_SUCCESS) {
            val[GPU_MEM_USED] = (double)m.used, ok[GPU_MEM_USED] = true;
            val[GPU_MEM_TOTAL] = (double)m.total, ok[GPU_MEM_TOTAL] = true;
        }
        unsigned int x;
        if (a->DeviceGetTemperature && a->DeviceGetTemperature(d, NVML_TEMPERATURE_GPU, &x) ==
                                           NVML_SUCCESS)
            val[GPU_TEMP] = x, ok[GPU_TEMP] = true;
        if (a->DeviceGetPowerUsage && a->DeviceGetPowerUsage(d, &x) == NVML_SUCCESS)
            val[GPU_POWER] = x / 1000.0, ok[GPU_POWER] = true; /* milliwatts */
        if (a->DeviceGetClockInfo && a->DeviceGetClockInfo(d, NVML_CLOCK_SM, &x) == NVML_SUCCESS)
            val[GPU_SM_CLOCK] = x, ok[GPU_SM_CLOCK] = true;
        unsigned long long e;
        if (a->DeviceGetTotalEccErrors &&
            a->DeviceGetTotalEccErrors(d, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC,
                                       &e) == NVML_SUCCESS)
            val[GPU_ECC_CORR] = (double)e, ok[GPU_ECC_CORR] = true;
        if (a->DeviceGetTotalEccErrors &&
            a->DeviceGetTotalEccErrors(d, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC,
                                       &e) == NVML_SUCCESS)
            val[GPU_ECC_UNCORR] = (double)e, ok[GPU_ECC_UNCORR] = true;
        if (pcie && a->DeviceGetPcieThroughput) {
            if (a->DeviceGetPcieThroughput(d, NVML_PCIE_UTIL_RX_BYTES, &x) == NVML_SUCCESS)
                val[GPU_PCIE_RX] = x * 1024.0, ok[GPU_PCIE_RX] = true; /* KB/s */
            if (a->DeviceGetPcieThroughput(d, NVML_PCIE_UTIL_TX_BYTES, &x) == NVML_SUCCESS)
                val[GPU_PCIE_TX] = x * 1024.0, ok[GPU_PCIE_TX] = true;
        }
        if (g->have_workload && a->DeviceGetComputeRunningProcesses) {
            unsigned char buf[64 * sizeof(nvmlProcessInfo_v2_t)];
            unsigned int n = (unsigned int)(sizeof buf / a->proc_info_size);
            if (a->DeviceGetComputeRunningProcesses(d, &n, buf) == NVML_SUCCESS) {
                double sum = 0;
                for (unsigned int j = 0; j < n; j++) {
                    unsigned int pid;
                    unsigned long long used;
                    if (a->proc_info_size == sizeof(nvmlProcessInfo_v1_t)) {
                        nvmlProcessInfo_v1_t p;
                        memcpy(&p, buf + j * sizeof p, sizeof p);
                        pid = p.pid, used = p.usedGpuMemory;
                    } else {
                        nvmlProcessInfo_v2_t p;
                        memcpy(&p, buf + j * sizeof p, sizeof p);
                        pid = p.pid, used = p.usedGpuMemory;
                    }
                    /* NVML reports NVML_VALUE_NOT_AVAILABLE (ULLONG_MAX) without rights */
                    if (pid_in(pids, npids, pid) && used != ~0ULL)
                        sum += (double)used;
                }
                val[GPU_PROC_MEM] = sum, ok[GPU_PROC_MEM] = true;
            }
        }
    }
    /* Xid critical errors: drain the event set without waiting. */
    if (g->events && a->EventSetWait) {
        nvmlEventData_t ev;
        for (int guard = 0; guard < 64; guard++) {
            memset(&ev, 0, sizeof ev);
            if (a->EventSetWait(g->events, &ev, 0) != NVML_SUCCESS)
                break;
            for (size_t i = 0; i < g->ngpu; i++)
                if (ev.device == g->dev[i] && (ev.eventType & nvmlEventTypeXidCriticalError)) {
                    v->v[i][GPU_XID_COUNT] += 1;
                    v->v[i][GPU_XID_LAST] = (double)ev.eventData;
                    v->ok[i][GPU_XID_LAST] = true;
                }
        }
    }
}

static void abs_wait(struct gpu_state *g, int64_t at_ns)
{
    struct timespec ts = {.tv_sec = at_ns / MONI_NS_PER_SEC, .tv_nsec = at_ns % MONI_NS_PER_SEC};
    while (!g->stop) {
        int r = pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (r == ETIMEDOUT)
            break;
    }
}

static void *poller(void *arg)
{
    struct gpu_state *g = arg;
    struct obs_gpu_values *v = calloc(1, sizeof *v);
    pid_t *pids = NULL;
    size_t npids = 0, cap = 0;
    if (!v)
        return NULL;
    memcpy(v, &g->latest, sizeof *v);
    int64_t next = moni_mono_ns(), last_pcie = 0;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        /* The workload PIDs, copied under the lock. */
        if (g->npids > cap) {
            pid_t *np = realloc(pids, g->npids * sizeof *np);
            if (np)
                pids = np, cap = g->npids;
        }
        npids = g->npids <= cap ? g->npids : 0;
        if (npids)
            memcpy(pids, g->pids, npids * sizeof *pids);
        pthread_mutex_unlock(&g->mu);

        int64_t now = moni_mono_ns();
        bool pcie = now - last_pcie >= g->pcie_period_ns;
        if (pcie)
            last_pcie = now;
        nvml_poll(g, v, pcie, pids, npids);

        pthread_mutex_lock(&g->mu);
        memcpy(&g->latest, v, sizeof *v);
        /* next poll: the next point of the tick grid minus the phase lead */
        now = moni_mono_ns();
        while (next <= now)
            next += g->period_ns;
        abs_wait(g, next);
    }
    pthread_mutex_unlock(&g->mu);
    free(pids);
    free(v);
    return NULL;
}

static void add_columns(struct gpu_state *g, struct frame *f, size_t n)
{
    char name[64];
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < GPU_NFIELDS; k++) {
            snprintf(name, sizeof name, "gpu%zu_%s", i, obs_gpu_field_suffix[k]);
            g->col[i][k] = frame_add(f, name, gpu_field_help[k],
                                     (k == GPU_XID_COUNT || k == GPU_ECC_CORR ||
                                      k == GPU_ECC_UNCORR) ? METRIC_COUNTER : METRIC_GAUGE);
        }
}

static int nvml_open(struct gpu_state *g, struct session_gpu *inv, char *driver,
                     size_t driver_len, char *why, size_t whylen)
{
    struct nvml_api *a = &g->api;
    if (load_nvml(a, why, whylen) < 0)
        return -1;
    nvmlReturn_t r = a->Init();
    if (r != NVML_SUCCESS) {
        snprintf(why, whylen, "nvmlInit_v2: %s", nvml_err(a, r));
        dlclose(a->lib);
        a->lib = NULL;
        return -1;
    }
    unsigned int n = 0;
    r = a->DeviceGetCount(&n);
    if (r != NVML_SUCCESS || n == 0) {
        snprintf(why, whylen, r != NVML_SUCCESS ? "nvmlDeviceGetCount_v2: %s" :
                 "NVML reports no GPU%s", r != NVML_SUCCESS ? nvml_err(a, r) : "");
        a->Shutdown();
        dlclose(a->lib);
        a->lib = NULL;
        return -1;
    }
    if (n > OBS_GPU_MAX)
        n = OBS_GPU_MAX;
    if (a->SystemGetDriverVersion && a->SystemGetDriverVersion(driver, (unsigned)driver_len) !=
                                         NVML_SUCCESS)
        driver[0] = '\0';
    if (a->EventSetCreate && a->DeviceRegisterEvents && a->EventSetWait &&
        a->EventSetCreate(&g->events) != NVML_SUCCESS)
        g->events = NULL;
    size_t got = 0;
    for (unsigned int i = 0; i < n; i++) {
        if (a->DeviceGetHandleByIndex(i, &g->dev[got]) != NVML_SUCCESS)
            continue;
        struct session_gpu *gi = &inv[got];
        memset(gi, 0, sizeof *gi);
        if (!a->DeviceGetName || a->DeviceGetName(g->dev[got], gi->name, sizeof gi->name) !=
                                     NVML_SUCCESS)
            snprintf(gi->name, sizeof gi->name, "GPU %u", i);
        if (!a->DeviceGetUUID || a->DeviceGetUUID(g->dev[got], gi->uuid, sizeof gi->uuid) !=
                                     NVML_SUCCESS)
            gi->uuid[0] = '\0';
        nvmlMemory_t m;
        if (a->DeviceGetMemoryInfo && a->DeviceGetMemoryInfo(g->dev[got], &m) == NVML_SUCCESS)
            gi->mem_total_bytes = m.total;
        if (g->events)
            a->DeviceRegisterEvents(g->dev[got], nvmlEventTypeXidCriticalError, g->events);
        got++;
    }
    g->ngpu = got;
    for (size_t i = 0; i < got; i++)
        g->latest.ok[i][GPU_XID_COUNT] = true; /* counted from 0 at start */
    if (!got) {
        snprintf(why, whylen, "nvmlDeviceGetHandleByIndex_v2 failed for every GPU");
        if (g->events && a->EventSetFree)
            a->EventSetFree(g->events);
        g->events = NULL;
        a->Shutdown();
        dlclose(a->lib);
        a->lib = NULL;
        return -1;
    }
    return 0;
}

static void gpu_free(void *state)
{
    struct gpu_state *g = state;
    if (!g)
        return;
    if (g->thread_started) {
        pthread_mutex_lock(&g->mu);
        g->stop = true;
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    if (g->nvml && g->api.lib) {
        if (g->events && g->api.EventSetFree)
            g->api.EventSetFree(g->events);
        g->api.Shutdown();
        dlclose(g->api.lib);
    }
    if (g->nvsmi)
        obs_nvsmi_close(g->nvsmi);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g->pids);
    free(g);
}

static int gpu_init(struct session *s, struct frame *f, void *arg, void **state, char *err,
                    size_t errlen)
{
    (void)arg;
    (void)err;
    (void)errlen;
    struct gpu_state *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->s = s;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    g->have_workload = session_has_workload(s);
    g->period_ns = session_interval_ns(s);
    g->pcie_period_ns = g->period_ns > MONI_NS_PER_SEC ? g->period_ns : MONI_NS_PER_SEC;

    struct session_gpu inv[OBS_GPU_MAX];
    char driver[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = "";
    char why_nvml[256], why_smi[256] = "";
    size_t n = 0;
    if (nvml_open(g, inv, driver, sizeof driver, why_nvml, sizeof why_nvml) == 0) {
        g->nvml = true;
        n = g->ngpu;
        obs_session_set_gpus(s, "nvml", NULL, driver, inv, n);
        add_columns(g, f, n);
        /* the thread polls shortly (up to 50 ms) before each tick */
        if (pthread_create(&g->thread, NULL, poller, g) == 0)
            g->thread_started = true;
        *state = g;
        return 0;
    }
    g->nvsmi = obs_nvsmi_open(session_loop(s), g->period_ns, inv, &n, driver, sizeof driver,
                              why_smi, sizeof why_smi);
    if (g->nvsmi) {
        g->ngpu = n;
        obs_session_set_gpus(s, "nvidia-smi", NULL, driver, inv, n);
        obs_nvsmi_set_session(g->nvsmi, s);
        add_columns(g, f, n);
        *state = g;
        return 0;
    }
    /* Neither: keep one GPU's columns, empty, so the table shape does not depend on
     * the machine; say why once. */
    char reason[600];
    snprintf(reason, sizeof reason, "no GPU data: NVML: %s; nvidia-smi: %s", why_nvml,
             why_smi[0] ? why_smi : "not found");
    obs_session_set_gpus(s, NULL, reason, "", NULL, 0);
    g->ngpu = 0;
    add_columns(g, f, 1);
    *state = g;
    return 0;
}

static void gpu_sample(struct session *s, void *state, struct frame *f)
{
    struct gpu_state *g = state;
    if (!g->ngpu)
        return;
    struct obs_gpu_values v;
    if (g->nvml) {
        const pid_t *pids;
        size_t np = session_pids(s, &pids);
        pthread_mutex_lock(&g->mu);
        memcpy(&v, &g->latest, sizeof v);
        if (np > g->cappids) {
            pid_t *p = realloc(g->pids, np * sizeof *p);
            if (p)
                g->pids = p, g->cappids = np;
        }
        g->npids = np <= g->cappids ? np : 0;
        if (g->npids)
            memcpy(g->pids, pids, g->npids * sizeof *pids);
        pthread_mutex_unlock(&g->mu);
    } else {
        obs_nvsmi_values(g->nvsmi, &v);
    }
    bool running = session_workload(s)->running;
    for (size_t i = 0; i < g->ngpu; i++)
        for (int k = 0; k < GPU_NFIELDS; k++)
            if (v.ok[i][k] && !(k == GPU_PROC_MEM && !running))
                frame_set(f, g->col[i][k], v.v[i][k]);
}

/* --no-gpu (or the console's equivalent) leaves the source out altogether. */
static bool gpu_enabled(const struct session_opts *o)
{
    return !o->no_gpu;
}

const struct source_ops obs_source_gpu = {
    .name = "gpu",
    .optional = true, /* a machine without GPUs: empty columns, the reason in meta.json */
    .enabled = gpu_enabled,
    .init = gpu_init,
    .sample = gpu_sample,
    .free = gpu_free,
};
