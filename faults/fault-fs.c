/* faults/fault-fs.c — file-system faults inside the workload, through its preload
 * library (faults/inject/): on a path prefix or glob, the chosen calls (open, read,
 * write, fsync, rename, close) get latency, fail with an errno, or writes are cut
 * short; every call or one in N.  Effective when the library counts a changed call. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/inject-int.h"

static const struct fault_param fs_params[] = {
    {"ops", FP_STRING, "", "write", 0, 0, NULL,
     "calls to change, comma- or plus-separated: open,read,write,fsync,rename,close or all"},
    {"error", FP_ENUM, "", "none", 0, 0, "none|EIO|ENOSPC|EACCES|EROFS",
     "errno the calls fail with"},
    {"delay", FP_DURATION, "s", "0", 0, 10, NULL, "latency added before each changed call"},
    {"short", FP_PERCENT, "%", "0", 0, 99, NULL,
     "writes pass on only this share of their bytes (0 = off)"},
    {"every", FP_INT, "", "1", 1, 1000000, NULL, "change one matched call in N"},
};

static const struct {
    const char *name;
    uint32_t bit;
} fs_ops_names[] = {
    {"open", INJ_OP_OPEN},   {"read", INJ_OP_READ},     {"write", INJ_OP_WRITE},
    {"fsync", INJ_OP_FSYNC}, {"rename", INJ_OP_RENAME}, {"close", INJ_OP_CLOSE},
};
static const int fs_errnos[] = {0, EIO, ENOSPC, EACCES, EROFS}; /* as the enum's choices */

static int parse_ops(const char *text, uint32_t *mask, char *err, size_t errlen)
{
    char buf[FAULT_STR_LEN];
    snprintf(buf, sizeof buf, "%s", text);
    *mask = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",+|", &save); t; t = strtok_r(NULL, ",+|", &save)) {
        bool known = false;
        if (strcmp(t, "all") == 0) {
            *mask |= INJ_OP_OPEN | INJ_OP_READ | INJ_OP_WRITE | INJ_OP_FSYNC | INJ_OP_RENAME |
                     INJ_OP_CLOSE;
            known = true;
        }
        for (size_t i = 0; i < MONI_ARRAY_LEN(fs_ops_names) && !known; i++)
            if (strcmp(t, fs_ops_names[i].name) == 0) {
                *mask |= fs_ops_names[i].bit;
                known = true;
            }
        if (!known) {
            snprintf(err, errlen, "ops=%s: '%s' is not one of open,read,write,fsync,rename,"
                     "close,all", text, t);
            return -1;
        }
    }
    if (!*mask) {
        snprintf(err, errlen, "ops: give at least one call");
        return -1;
    }
    return 0;
}

/* The pattern the library matches: absolute, with an existing leading directory
 * resolved (symlinks, "..") so that it matches what /proc/self/fd shows. */
static int fs_pattern(const char *path, char *out, size_t len, char *err, size_t errlen)
{
    char abs[PATH_MAX];
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            snprintf(err, errlen, "path=%s: %s", path, strerror(errno));
            return -1;
        }
        snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    } else {
        snprintf(abs, sizeof abs, "%s", path);
    }
    const char *glob = strpbrk(abs, "*?[");
    char head[PATH_MAX], real[PATH_MAX];
    snprintf(head, sizeof head, "%.*s", (int)(glob ? glob - abs : (ptrdiff_t)strlen(abs)), abs);
    char *cut = glob ? strrchr(head, '/') : NULL; /* the directory before the glob */
    if (cut)
        *cut = 0;
    const char *rest = abs + strlen(head);
    if (head[0] && realpath(head, real))
        snprintf(out, len, "%s%s", real, rest);
    else
        snprintf(out, len, "%s", abs);
    if (strlen(out) >= INJ_PAT_LEN) {
        snprintf(err, errlen, "path=%s: longer than %d bytes", path, INJ_PAT_LEN - 1);
        return -1;
    }
    return 0;
}

/* The rule the parameters ask for, or what is wrong with them; acts on nothing, so
 * plans and the console's form check it before anything is journalled. */
static int fs_rule(const struct fault *f, struct inj_rule *r, char *err, size_t errlen)
{
    *r = (struct inj_rule){.kind = INJ_FS, .every = (uint32_t)fault_num(f, "every")};
    if (parse_ops(fault_str(f, "ops"), &r->ops, err, errlen) != 0)
        return FAULT_ERR_USAGE;
    int e = (int)fault_num(f, "error");
    r->err = e >= 0 && e < (int)MONI_ARRAY_LEN(fs_errnos) ? fs_errnos[e] : 0;
    r->delay_ns = fault_ns(f, "delay");
    r->short_pct = (uint32_t)fault_num(f, "short");
    if (!r->err && !r->delay_ns && !r->short_pct) {
        snprintf(err, errlen, "give error=, delay= or short= (it would change nothing)");
        return FAULT_ERR_USAGE;
    }
    if (r->short_pct && !(r->ops & INJ_OP_WRITE)) {
        snprintf(err, errlen, "short= applies to writes: add write to ops=");
        return FAULT_ERR_USAGE;
    }
    return 0;
}

static int fs_precheck(const struct fault *f, char *err, size_t errlen)
{
    struct inj_rule r;
    return fs_rule(f, &r, err, errlen);
}

static int fs_arm(struct fault *f, char *err, size_t errlen)
{
    struct inj_rule r;
    int rc = fs_rule(f, &r, err, errlen);
    if (rc)
        return rc;
    if (fs_pattern(f->target.path, r.pattern, sizeof r.pattern, err, errlen) != 0)
        return FAULT_ERR_USAGE;
    snprintf(f->mode, sizeof f->mode, "%s", r.err ? fault_str(f, "error") : r.short_pct ? "short"
                                                                                       : "delay");
    f->requested = 1; /* at least one changed call */
    return inj_fault_arm(f, &r, err, errlen);
}

const struct fault_ops fault_fs_ops = {
    .name = "fs",
    .summary = "file calls inside the workload fail, slow down or write short on a path",
    .privileges = "none (the workload runs moni's preload library)",
    .label_kind = "interval",
    .effect_labels = "Disk_Full,Permission_Denied,Process_Crash,Slowdown",
    .check_at_stop = true,
    .dose_unit = "calls",
    .undo = "the rule is cleared from the run's control block (the guardian clears it, and "
            "the library ignores it, when moni dies)",
    .params = fs_params,
    .nparams = MONI_ARRAY_LEN(fs_params),
    .targets = FAULT_TGT_PATH | FAULT_TGT_REQUIRED,
    .arm = fs_arm,
    .fire = inj_fault_fire,
    .check = inj_fault_check,
    .stop = inj_fault_stop,
    .revert = inj_fault_revert,
    .describe = inj_fault_describe,
    .release = inj_fault_release,
    .precheck = fs_precheck,
};
