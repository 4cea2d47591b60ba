/* faults/fault-straggler.c — a straggler: the target process and everything it runs
 * move into a cgroup of their own, child of the one they were in, whose CPU quota
 * lets them use only `cpus` CPUs (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us on a
 * hybrid machine where the cpu controller is v1).  Effective when the cgroup's
 * cpu.stat counts throttled periods; delivered = the CPU the processes got.  Revert
 * (moni, the guardian's undo item 'L', `moni recover`) moves every process back to
 * its old cgroup and removes ours; the old cgroup's settings are never changed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

#define PERIOD_US 100000

static const struct fault_param straggler_params[] = {
    {"cpus", FP_DOUBLE, "CPUs", "0.5", 0.01, 1024, NULL,
     "CPU time the target's processes may use together, in CPUs (0.25 = a quarter of one)"},
    {"name", FP_STRING, "", NULL, 0, 0, NULL, "a process name (comm) in the target's tree"},
};

struct straggler_state {
    pid_t pid;
    int version; /* 1 or 2 */
    char orig[PATH_MAX - 64], dir[PATH_MAX];
    bool created;
    int64_t t_ns, cpu_ns; /* last CPU sample of the moved processes */
    uint64_t throttled;
};

/* ---- cgroup files ------------------------------------------------------------------- */
static int write_text(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static uint64_t stat_field(const char *dir, const char *key)
{
    char path[PATH_MAX + 32], k[64];
    unsigned long long v;
    snprintf(path, sizeof path, "%s/cpu.stat", dir);
    FILE *fp = fopen(path, "re");
    uint64_t out = 0;
    while (fp && fscanf(fp, "%63s %llu", k, &v) == 2)
        if (strcmp(k, key) == 0)
            out = v;
    if (fp)
        fclose(fp);
    return out;
}

/* Calls fn(pid, arg) for every pid listed in DIR/cgroup.procs. */
static size_t each_proc(const char *dir, void (*fn)(pid_t, void *), void *arg)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *fp = fopen(path, "re");
    size_t n = 0;
    int pid;
    while (fp && fscanf(fp, "%d", &pid) == 1) {
        fn((pid_t)pid, arg);
        n++;
    }
    if (fp)
        fclose(fp);
    return n;
}

static void move_one(pid_t pid, void *dir)
{
    char text[32];
    snprintf(text, sizeof text, "%d\n", (int)pid);
    write_text(dir, "cgroup.procs", text); /* gone meanwhile: nothing to move */
}

bool fault_cgroup_release(const char *dir, const char *orig, char *what, size_t len)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(what, len, "cgroup %s: gone", dir);
        return true;
    }
    for (int i = 0; i < 100; i++) {
        each_proc(dir, move_one, (void *)orig);
        if (rmdir(dir) == 0 || errno == ENOENT) {
            snprintf(what, len, "cgroup %s: processes moved back, removed", dir);
            return true;
        }
        moni_sleep_ns(10 * MONI_NS_PER_MS); /* a process forked while we moved */
    }
    snprintf(what, len, "cgroup %s: %s", dir, strerror(errno));
    return false;
}

/* The cgroup directory holding pid's cpu controller: v2 when the unified hierarchy has
 * it, else v1.  0, or -1 with err. */
static int find_cgroup(pid_t pid, struct straggler_state *s, char *err, size_t errlen)
{
    char path[64], line[PATH_MAX], v1path[PATH_MAX] = "", v2path[PATH_MAX] = "";
    bool have_v1 = false, have_v2 = false;
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    FILE *fp = fopen(path, "re");
    while (fp && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        const char *ctrls = c1 + 1, *cg = c2 + 1;
        if (!*ctrls) {
            snprintf(v2path, sizeof v2path, "%s", cg);
            have_v2 = true;
        }
        char buf[256];
        snprintf(buf, sizeof buf, "%s", ctrls);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (strcmp(t, "cpu") == 0) {
                snprintf(v1path, sizeof v1path, "%s", cg);
                have_v1 = true;
            }
    }
    if (fp)
        fclose(fp);
    /* the mount points, from /proc/self/mounts */
    char v1mnt[PATH_MAX] = "", v2mnt[PATH_MAX] = "";
    fp = fopen("/proc/self/mounts", "re");
    char dev[256], mnt[PATH_MAX], type[64], opts[1024];
    while (fp && fscanf(fp, "%255s %4095s %63s %1023s %*d %*d", dev, mnt, type, opts) == 4) {
        if (strcmp(type, "cgroup2") == 0 && !v2mnt[0])
            snprintf(v2mnt, sizeof v2mnt, "%s", mnt);
        if (strcmp(type, "cgroup") == 0) {
            char *save = NULL;
            for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (strcmp(t, "cpu") == 0)
                    snprintf(v1mnt, sizeof v1mnt, "%s", mnt);
        }
    }
    if (fp)
        fclose(fp);
    if (have_v2 && v2mnt[0]) {
        char ctl[PATH_MAX + 32], text[256] = "";
        snprintf(s->orig, sizeof s->orig, "%s%s", v2mnt, strcmp(v2path, "/") ? v2path : "");
        snprintf(ctl, sizeof ctl, "%s/cgroup.controllers", s->orig);
        FILE *c = fopen(ctl, "re");
        if (c && fgets(text, sizeof text, c) && strstr(text, "cpu")) {
            fclose(c);
            s->version = 2;
            return 0;
        }
        if (c)
            fclose(c);
    }
    if (have_v1 && v1mnt[0]) {
        snprintf(s->orig, sizeof s->orig, "%s%s", v1mnt, strcmp(v1path, "/") ? v1path : "");
        s->version = 1;
        return 0;
    }
    snprintf(err, errlen, "no cgroup cpu controller for pid %d (neither v2 cpu.max nor v1 "
             "cpu.cfs_quota_us)", (int)pid);
    return -1;
}

/* ---- the kind ------------------------------------------------------------------------ */
static int straggler_arm(struct fault *f, char *err, size_t errlen)
{
    struct straggler_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->pid = fault_target_pid_named(f, err, errlen);
    if (s->pid < 0)
        return FAULT_ERR_USAGE;
    double cpus = fault_num(f, "cpus"), n = (double)sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus > n) {
        snprintf(err, errlen, "cpus=%g: the machine has %g", cpus, n);
        return FAULT_ERR_USAGE;
    }
    if (find_cgroup(s->pid, s, err, errlen) != 0)
        return FAULT_ERR_FAIL;
    snprintf(s->dir, sizeof s->dir, "%s/moni-%d-%s", s->orig, (int)getpid(), f->id_str);
    if (access(s->orig, W_OK) != 0) {
        snprintf(err, errlen, "cannot create a cgroup in %s: %s", s->orig, strerror(errno));
        return FAULT_ERR_FAIL;
    }
    snprintf(f->mode, sizeof f->mode, "cgroup v%d", s->version);
    f->requested = cpus;
    return 0;
}

/* CPU ns of every process in our cgroup (from /proc/PID/stat: all its threads). */
static void add_cpu(pid_t pid, void *arg)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "re");
    if (!fp)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                    &st) == 2)
        *(int64_t *)arg += (int64_t)((ut + st) * (MONI_NS_PER_SEC / sysconf(_SC_CLK_TCK)));
}

static int straggler_fire(struct fault *f, char *err, size_t errlen)
{
    struct straggler_state *s = f->priv;
    char line[PATH_MAX * 2 + 64];
    if (fault_undo_cgroup(f, s->dir, s->orig) != 0) {
        snprintf(err, errlen, "the guardian could not take the undo");
        return FAULT_ERR_FAIL;
    }
    if (mkdir(s->dir, 0755) != 0) {
        snprintf(err, errlen, "mkdir %s: %s", s->dir, strerror(errno));
        return FAULT_ERR_FAIL;
    }
    s->created = true;
    long quota = (long)(fault_num(f, "cpus") * PERIOD_US);
    if (quota < 1000)
        quota = 1000;
    int rc;
    if (s->version == 2) {
        snprintf(line, sizeof line, "%ld %d\n", quota, PERIOD_US);
        rc = write_text(s->dir, "cpu.max", line);
    } else {
        snprintf(line, sizeof line, "%d\n", PERIOD_US);
        rc = write_text(s->dir, "cpu.cfs_period_us", line);
        snprintf(line, sizeof line, "%ld\n", quota);
        rc = rc ? rc : write_text(s->dir, "cpu.cfs_quota_us", line);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: setting the quota: %s", s->dir, strerror(errno));
        return FAULT_ERR_FAIL;
    }
    /* the target and its tree, as it is now (children started later follow) */
    DIR *d = opendir("/proc");
    struct dirent *e;
    size_t moved = 0;
    while (d && (e = readdir(d))) {
        pid_t p = (pid_t)atoi(e->d_name);
        if (p > 0 && fault_proc_in_tree(p, s->pid)) {
            snprintf(line, sizeof line, "%d\n", (int)p);
            moved += write_text(s->dir, "cgroup.procs", line) == 0;
        }
    }
    if (d)
        closedir(d);
    if (!moved) {
        snprintf(err, errlen, "could not move pid %d into %s: %s", (int)s->pid, s->dir,
                 strerror(errno));
        return FAULT_ERR_FAIL;
    }
    s->t_ns = moni_mono_ns();
    s->cpu_ns = 0;
    each_proc(s->dir, add_cpu, &s->cpu_ns);
    return 0;
}

static int straggler_check(struct fault *f, int64_t now)
{
    struct straggler_state *s = f->priv;
    s->throttled = stat_field(s->dir, "nr_throttled");
    if (now - s->t_ns >= MONI_NS_PER_SEC) {
        int64_t cpu = 0;
        each_proc(s->dir, add_cpu, &cpu);
        f->delivered = (double)(cpu - s->cpu_ns) / (double)(now - s->t_ns);
        f->delivered_valid = cpu >= s->cpu_ns;
        s->cpu_ns = cpu;
        s->t_ns = now;
    }
    if (!f->effective && s->throttled > 0) {
        snprintf(f->effect_detail, sizeof f->effect_detail,
                 "%llu periods throttled in %s", (unsigned long long)s->throttled, s->dir);
        return FAULT_CHECK_EFFECTIVE;
    }
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void straggler_stop(struct fault *f)
{
    struct straggler_state *s = f->priv;
    if (s && s->created)
        s->throttled = stat_field(s->dir, "nr_throttled");
}

static int straggler_revert(struct fault *f, char *err, size_t errlen)
{
    struct straggler_state *s = f->priv;
    if (!s || !s->created)
        return 0;
    char what[PATH_MAX + 64];
    if (!fault_cgroup_release(s->dir, s->orig, what, sizeof what)) {
        snprintf(err, errlen, "%s", what);
        return -1;
    }
    s->created = false;
    return 0;
}

static void straggler_describe(const struct fault *f, cJSON *d)
{
    const struct straggler_state *s = f->priv;
    if (!s)
        return;
    cJSON_AddNumberToObject(d, "pid", s->pid);
    cJSON_AddStringToObject(d, "cgroup", s->dir);
    cJSON_AddStringToObject(d, "from", s->orig);
    cJSON_AddNumberToObject(d, "cgroup_version", s->version);
    if (f->state >= FAULT_FIRING)
        cJSON_AddNumberToObject(d, "throttled_periods", (double)s->throttled);
}

const struct fault_ops fault_straggler_ops = {
    .name = "straggler",
    .summary = "the workload (or one process) runs on a CPU quota: a slow node, a straggler",
    .privileges = "write access to the target's cgroup (cpu controller, v2 or v1)",
    .label_kind = "interval",
    .effect_labels = "Straggler,Slowdown",
    .dose_unit = "CPUs",
    .undo = "the processes move back to their old cgroup and moni's cgroup is removed (also "
            "by the guardian if moni dies); the old cgroup's settings are never changed",
    .params = straggler_params,
    .nparams = MONI_ARRAY_LEN(straggler_params),
    .targets = FAULT_TGT_PID,
    .arm = straggler_arm,
    .fire = straggler_fire,
    .check = straggler_check,
    .stop = straggler_stop,
    .revert = straggler_revert,
    .describe = straggler_describe,
    .release = fault_release_priv,
};
