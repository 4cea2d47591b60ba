/* cmd/cmd-doctor.c — `moni doctor`: what works on this machine and why not.
 *
 * One const descriptor per check (a table, like the commands); each prints one line:
 *   NAME      ok|missing|degraded  what was found[; fix: what to do]
 * A check marked `needed` is required for the default workload (moni-train observed
 * and recorded headless); the exit status is 0 when all of those are ok, 1 if not. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "faults/faults.h"

enum status { ST_OK, ST_MISSING, ST_DEGRADED };
static const char *const status_names[] = {"ok", "missing", "degraded"};

struct doctor {
    const char *out_dir;
    bool failed_needed;
    bool any_degraded;
};

struct check {
    const char *name;
    bool needed; /* required by the default workload */
    enum status (*run)(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen);
};

/* ---- helpers --------------------------------------------------------------------- */
static bool in_path(const char *prog, char *out, size_t len)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
    const char *extra = ":/usr/sbin:/sbin"; /* tc lives here and PATH may lack it */
    char all[4096];
    snprintf(all, sizeof all, "%s%s", path, extra);
    for (char *save = NULL, *dir = strtok_r(all, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", dir, prog);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

static bool read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

/* ---- checks ------------------------------------------------------------------------ */
static enum status check_proc(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    static const char *const files[] = {"/proc/stat", "/proc/meminfo", "/proc/diskstats",
                                        "/proc/net/dev", "/proc/loadavg"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(files); i++)
        if (access(files[i], R_OK) != 0) {
            snprintf(msg, len, "cannot read %s: %s", files[i], strerror(errno));
            snprintf(fix, fixlen, "mount procfs (moni needs Linux /proc)");
            return ST_MISSING;
        }
    struct utsname u;
    uname(&u);
    snprintf(msg, len, "/proc readable (Linux %s)", u.release);
    return ST_OK;
}

static enum status check_workload(struct doctor *d, char *msg, size_t len, char *fix,
                                  size_t fixlen)
{
    (void)d;
    char p[4096];
    if (moni_find_program("moni-train", p, sizeof p) < 0) {
        snprintf(msg, len, "moni-train not found next to moni or on $PATH");
        snprintf(fix, fixlen, "build it with 'make' or install with 'make install'");
        return ST_MISSING;
    }
    snprintf(msg, len, "%s", p);
    return ST_OK;
}

typedef int (*nvml_void_fn)(void);
typedef int (*nvml_str_fn)(char *, unsigned int);
typedef int (*nvml_count_fn)(unsigned int *);

static enum status check_nvml(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    const char *env = getenv("MONI_NVML_LIB");
    const char *names[] = {env && *env ? env : "libnvidia-ml.so.1", env && *env ? NULL : "libnvidia-ml.so"};
    void *h = NULL;
    const char *used = NULL;
    for (size_t i = 0; i < 2 && !h; i++)
        if (names[i] && (h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL)))
            used = names[i];
    if (!h) {
        snprintf(msg, len, "cannot load %s (GPU columns stay empty)", names[0]);
        snprintf(fix, fixlen, "install the NVIDIA driver (libnvidia-ml.so.1) or set MONI_NVML_LIB=PATH");
        return ST_MISSING;
    }
    nvml_void_fn init = (nvml_void_fn)dlsym(h, "nvmlInit_v2");
    if (!init)
        init = (nvml_void_fn)dlsym(h, "nvmlInit");
    nvml_str_fn drv = (nvml_str_fn)dlsym(h, "nvmlSystemGetDriverVersion");
    nvml_count_fn count = (nvml_count_fn)dlsym(h, "nvmlDeviceGetCount_v2");
    nvml_void_fn shut = (nvml_void_fn)dlsym(h, "nvmlShutdown");
    enum status st = ST_OK;
    int rc;
    if (!init) {
        snprintf(msg, len, "%s has no nvmlInit", used);
        snprintf(fix, fixlen, "point MONI_NVML_LIB at a real libnvidia-ml.so.1");
        st = ST_MISSING;
    } else if ((rc = init()) != 0) {
        snprintf(msg, len, "%s: nvmlInit failed (NVML error %d)", used, rc);
        snprintf(fix, fixlen, "load the NVIDIA kernel driver (nvidia-smi should work)");
        st = ST_MISSING;
    } else {
        char ver[96] = "?";
        unsigned n = 0;
        if (drv)
            drv(ver, sizeof ver);
        if (count)
            count(&n);
        snprintf(msg, len, "%s: driver %s, %u GPU%s", used, ver, n, n == 1 ? "" : "s");
        if (n == 0) {
            snprintf(fix, fixlen, "no GPU visible to NVML (check CUDA_VISIBLE_DEVICES / the container's devices)");
            st = ST_DEGRADED;
        }
        if (shut)
            shut();
    }
    dlclose(h);
    return st;
}

static enum status check_nvsmi(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    char p[4096];
    if (!in_path("nvidia-smi", p, sizeof p)) {
        snprintf(msg, len, "not on $PATH (only needed as a fallback when NVML cannot load)");
        snprintf(fix, fixlen, "install the NVIDIA driver utilities");
        return ST_MISSING;
    }
    snprintf(msg, len, "%s (fallback GPU source)", p);
    return ST_OK;
}

typedef int (*cu_init_fn)(unsigned);
typedef int (*cu_count_fn)(int *);

static enum status check_cuda(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    const char *env = getenv("MONI_CUDA_LIB");
    const char *name = env && *env ? env : "libcuda.so.1";
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(msg, len, "cannot load %s: the gpu_mem fault is unavailable", name);
        snprintf(fix, fixlen, "install the NVIDIA driver (libcuda.so.1) or set MONI_CUDA_LIB=PATH");
        return ST_MISSING;
    }
    cu_init_fn init = (cu_init_fn)dlsym(h, "cuInit");
    cu_count_fn count = (cu_count_fn)dlsym(h, "cuDeviceGetCount");
    int rc = init ? init(0) : -1, n = 0;
    enum status st = ST_OK;
    if (rc != 0) {
        snprintf(msg, len, "%s: cuInit failed (%d): the gpu_mem fault is unavailable", name, rc);
        snprintf(fix, fixlen, "load the NVIDIA kernel driver");
        st = ST_MISSING;
    } else {
        if (count)
            count(&n);
        snprintf(msg, len, "%s: %d device%s (gpu_mem fault available)", name, n, n == 1 ? "" : "s");
        if (n == 0)
            st = ST_DEGRADED;
    }
    dlclose(h);
    return st;
}

static bool has_cap_net_admin(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long eff = 0;
    if (!f)
        return false;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    fclose(f);
    return (eff >> 12) & 1; /* CAP_NET_ADMIN = 12 */
}

static bool kernel_has_netem(char *how, size_t len)
{
    struct stat st;
    if (stat("/sys/module/sch_netem", &st) == 0) {
        snprintf(how, len, "sch_netem loaded");
        return true;
    }
    struct utsname u;
    uname(&u);
    char p[512];
    static const char *const exts[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(exts); i++) {
        snprintf(p, sizeof p, "/lib/modules/%s/kernel/net/sched/sch_netem%s", u.release, exts[i]);
        if (access(p, R_OK) == 0) {
            snprintf(how, len, "sch_netem module available");
            return true;
        }
    }
    snprintf(p, sizeof p, "/boot/config-%s", u.release);
    FILE *f = fopen(p, "r");
    if (f) {
        char line[256];
        bool yes = false;
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "CONFIG_NET_SCH_NETEM=", 21))
                yes = line[21] == 'y' || line[21] == 'm';
        fclose(f);
        if (yes) {
            snprintf(how, len, "CONFIG_NET_SCH_NETEM set");
            return true;
        }
    }
    snprintf(how, len, "kernel has no sch_netem");
    return false;
}

static enum status check_netem(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    char tc[4096], how[64];
    bool have_tc = in_path("tc", tc, sizeof tc);
    bool cap = has_cap_net_admin();
    bool netem = kernel_has_netem(how, sizeof how);
    snprintf(msg, len, "tc %s, CAP_NET_ADMIN %s, %s", have_tc ? "found" : "missing",
             cap ? "yes" : "no", how);
    if (have_tc && cap && netem)
        return ST_OK;
    const char *what = !netem ? "load sch_netem (modprobe sch_netem) or use a kernel with it"
                       : !have_tc ? "install iproute2 (tc)"
                                  : "run as root or grant CAP_NET_ADMIN";
    snprintf(fix, fixlen, "the net fault runs in proxy mode only; for netem mode %s", what);
    return ST_DEGRADED;
}

static enum status check_cgroup(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    char ctl[512];
    if (read_line("/sys/fs/cgroup/cgroup.controllers", ctl, sizeof ctl)) {
        bool cpu = strstr(ctl, "cpu") != NULL, mem = strstr(ctl, "memory") != NULL,
             io = strstr(ctl, "io") != NULL;
        snprintf(msg, len, "v2, controllers: %s", ctl[0] ? ctl : "(none)");
        if (cpu && mem && io)
            return ST_OK;
        snprintf(fix, fixlen, "enable the cpu, memory and io controllers for per-run limits");
        return ST_DEGRADED;
    }
    struct stat st;
    if (stat("/sys/fs/cgroup/memory", &st) == 0) {
        bool hybrid = read_line("/sys/fs/cgroup/unified/cgroup.controllers", ctl, sizeof ctl);
        snprintf(msg, len, "%s", hybrid ? "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)"
                                        : "v1 (legacy hierarchy)");
        snprintf(fix, fixlen, "boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2");
        return ST_DEGRADED;
    }
    snprintf(msg, len, "no cgroup filesystem at /sys/fs/cgroup");
    snprintf(fix, fixlen, "mount cgroup2 at /sys/fs/cgroup");
    return ST_MISSING;
}

static enum status check_psi(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    char line[256];
    if (read_line("/proc/pressure/cpu", line, sizeof line) &&
        access("/proc/pressure/memory", R_OK) == 0 && access("/proc/pressure/io", R_OK) == 0) {
        snprintf(msg, len, "/proc/pressure/{cpu,memory,io} readable");
        return ST_OK;
    }
    snprintf(msg, len, "no /proc/pressure (PSI columns stay empty)");
    snprintf(fix, fixlen, "use a kernel >= 4.20 with CONFIG_PSI, booted with psi=1");
    return ST_MISSING;
}

static enum status check_clock(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    struct timespec res, a, b, t;
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0) {
        snprintf(msg, len, "clock_getres(CLOCK_MONOTONIC): %s", strerror(errno));
        snprintf(fix, fixlen, "moni needs CLOCK_MONOTONIC");
        return ST_MISSING;
    }
    enum { N = 200000 };
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < N; i++)
        clock_gettime(CLOCK_MONOTONIC, &t);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / N;
    char src[64] = "?";
    read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", src, sizeof src);
    long long rns = (long long)res.tv_sec * 1000000000LL + res.tv_nsec;
    snprintf(msg, len, "resolution %lld ns, clock_gettime %.0f ns/call, clocksource %s", rns, ns,
             src);
    if (rns > 1000000) {
        snprintf(fix, fixlen, "the monotonic clock is coarse: sampling below 10 ms is unreliable");
        return ST_MISSING;
    }
    if (ns > 1000) {
        snprintf(fix, fixlen, "slow clock source (%s): use tsc if the hardware allows", src);
        return ST_DEGRADED;
    }
    return ST_OK;
}

static enum status check_disk(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    /* the output directory, or its nearest existing parent */
    char p[4096];
    snprintf(p, sizeof p, "%s", d->out_dir ? d->out_dir : ".");
    struct statvfs sv;
    while (statvfs(p, &sv) != 0) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) {
            snprintf(p, sizeof p, "%s", slash == p ? "/" : ".");
            if (statvfs(p, &sv) != 0) {
                snprintf(msg, len, "cannot stat %s", d->out_dir ? d->out_dir : ".");
                snprintf(fix, fixlen, "choose another --out DIR");
                return ST_MISSING;
            }
            break;
        }
        *slash = '\0';
    }
    double avail = (double)sv.f_bavail * (double)sv.f_frsize;
    double total = (double)sv.f_blocks * (double)sv.f_frsize;
    double used_pct = total > 0 ? 100.0 * (1.0 - (double)sv.f_bfree / (double)sv.f_blocks) : 0;
    char a[32];
    moni_fmt_bytes(avail, a, sizeof a);
    bool writable = access(p, W_OK) == 0;
    snprintf(msg, len, "%s: %s free (%.0f%% used)%s", p, a, used_pct,
             writable ? "" : ", not writable");
    if (!writable) {
        snprintf(fix, fixlen, "choose a writable --out DIR");
        return ST_MISSING;
    }
    if (avail < 256.0 * 1024 * 1024) {
        snprintf(fix, fixlen, "free space: a run needs a few hundred MB (moni-train data, checkpoints)");
        return ST_MISSING;
    }
    if (avail < 2.0 * 1024 * 1024 * 1024 || used_pct > 90) {
        snprintf(fix, fixlen, "little room: disk_fill and io faults keep headroom and may refuse");
        return ST_DEGRADED;
    }
    return ST_OK;
}

static enum status check_terminal(struct doctor *d, char *msg, size_t len, char *fix,
                                  size_t fixlen)
{
    (void)d;
    int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
    struct winsize ws = {0};
    bool tty = fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0;
    if (fd >= 0)
        close(fd);
    const char *term = getenv("TERM");
    const char *no_color = getenv("NO_COLOR");
    const char *colorterm = getenv("COLORTERM");
    const char *colours = !term || !*term || !strcmp(term, "dumb") ? "no colours"
                          : no_color && *no_color                 ? "colour off (NO_COLOR)"
                          : colorterm && (strstr(colorterm, "truecolor") || strstr(colorterm, "24bit"))
                              ? "24-bit colour"
                          : strstr(term, "256") ? "256 colours"
                                                : "8/16 colours";
    if (!tty) {
        snprintf(msg, len, "no terminal (TERM=%s, %s); headless commands work", term ? term : "",
                 colours);
        snprintf(fix, fixlen, "run the console (moni) in a terminal of at least 80x24");
        return ST_DEGRADED;
    }
    snprintf(msg, len, "%ux%u, TERM=%s, %s", ws.ws_col, ws.ws_row, term ? term : "", colours);
    if (ws.ws_col < 80 || ws.ws_row < 24) {
        snprintf(fix, fixlen, "enlarge the terminal to at least 80x24 for the console");
        return ST_DEGRADED;
    }
    return ST_OK;
}

static enum status check_leftovers(struct doctor *d, char *msg, size_t len, char *fix,
                                   size_t fixlen)
{
    (void)d;
    char dir[1024] = "?";
    guardian_state_dir(dir, sizeof dir);
    size_t items = 0, sessions = 0;
    if (guardian_leftovers(&items, &sessions) < 0) {
        snprintf(msg, len, "cannot read the state directory %s", dir);
        snprintf(fix, fixlen, "check its permissions, or set MONI_STATE_DIR");
        return ST_DEGRADED;
    }
    if (items == 0) {
        snprintf(msg, len, "none (state directory %s)", dir);
        return ST_OK;
    }
    snprintf(msg, len, "%zu undo item%s from %zu killed session%s in %s", items,
             items == 1 ? "" : "s", sessions, sessions == 1 ? "" : "s", dir);
    snprintf(fix, fixlen, "run 'moni recover'");
    return ST_DEGRADED;
}

static enum status check_alerts(struct doctor *d, char *msg, size_t len, char *fix, size_t fixlen)
{
    (void)d;
    char err[1024];
    struct alerts *al = alerts_load(NULL, err, sizeof err);
    if (!al) {
        bool none = !strncmp(err, "no alert rules", 14);
        snprintf(msg, len, "%s", err);
        snprintf(fix, fixlen, "%s", none ? "install moni ('make install') or set MONI_DATA_DIR"
                                         : "correct the file (moni(1), ALERT RULES)");
        return none ? ST_DEGRADED : ST_MISSING;
    }
    snprintf(msg, len, "%zu rules loaded (moni alerts export writes them for Prometheus)",
             alerts_count(al));
    alerts_free(al);
    return ST_OK;
}

static const struct check checks[] = {
    {"proc", true, check_proc},
    {"clock", true, check_clock},
    {"workload", true, check_workload},
    {"disk", true, check_disk},
    {"leftovers", false, check_leftovers},
    {"alerts", false, check_alerts},
    {"psi", false, check_psi},
    {"cgroup", false, check_cgroup},
    {"nvml", false, check_nvml},
    {"nvidia-smi", false, check_nvsmi},
    {"libcuda", false, check_cuda},
    {"netem", false, check_netem},
    {"terminal", false, check_terminal},
};

static int cmd_doctor_exec(struct cmd_args *a)
{
    struct doctor d = {0};
    d.out_dir = cmd_arg(a, "out");
    for (size_t i = 0; i < MONI_ARRAY_LEN(checks); i++) {
        char msg[1024] = "", fix[512] = "";
        enum status st = checks[i].run(&d, msg, sizeof msg, fix, sizeof fix);
        printf("%-10s %-8s %s%s%s\n", checks[i].name, status_names[st], msg, fix[0] ? "; fix: " : "",
               fix);
        if (st != ST_OK && checks[i].needed)
            d.failed_needed = true;
    }
    printf("%s\n", d.failed_needed ? "moni cannot run its default workload here (see above)"
                                   : "moni can run its default workload here");
    fflush(stdout);
    return d.failed_needed ? MONI_EXIT_FAIL : MONI_EXIT_OK;
}

static const struct cmd_opt doctor_opts[] = {
    {"out", 0, "DIR", 0, "check the disk of this output directory (default: .)"},
    {0},
};

const struct cmd_entry cmd_doctor_entry = {
    .name = "doctor",
    .usage = "doctor [--out DIR]",
    .summary = "what works on this machine and why not",
    .args = {.opts = doctor_opts},
    .exec = cmd_doctor_exec,
};
