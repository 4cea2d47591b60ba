/* faults/inject.c — moni's side of the in-process faults: the control block a run's
 * workload reads through libmoni-inject.so (layout in faults/inject-int.h), the
 * workload's preparation (the block, LD_PRELOAD, the static/setuid refusal), and the
 * lifecycle the fs, dns, connect and clock kinds share: a rule in a slot of the
 * block, its undo handed to the guardian first ('I': clear the slot), the effect
 * counted by the library in the block's counters page. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base.h"
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/inject-int.h"

/* ---- the control block ---------------------------------------------------------------- */
int inj_map_open(const char *path, struct inj_map *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= INJ_FILE_SIZE)
        p = mmap(NULL, INJ_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED || ((struct inj_orders *)p)->magic != INJ_MAGIC ||
        ((struct inj_orders *)p)->version != INJ_VERSION) {
        if (p != MAP_FAILED)
            munmap(p, INJ_FILE_SIZE);
        snprintf(err, errlen, "%s: not a moni control block", path);
        return -1;
    }
    m->o = p;
    m->c = (struct inj_counters *)((char *)p + INJ_PAGE);
    return 0;
}

void inj_map_close(struct inj_map *m)
{
    if (m->o)
        munmap(m->o, INJ_FILE_SIZE);
    m->o = NULL;
    m->c = NULL;
}

static void active_update(struct inj_orders *o)
{
    uint32_t bits = 0;
    for (int i = 0; i < INJ_RULES; i++)
        if (o->rule[i].kind != INJ_NONE)
            bits |= 1u << o->rule[i].kind;
    atomic_store_explicit(&o->active, bits, memory_order_release);
}

static void seq_begin(struct inj_orders *o)
{
    atomic_fetch_add_explicit(&o->seq, 1, memory_order_acq_rel);
    atomic_thread_fence(memory_order_release);
}

static void seq_end(struct inj_orders *o)
{
    atomic_thread_fence(memory_order_release);
    atomic_fetch_add_explicit(&o->seq, 1, memory_order_release);
}

static int free_slot(const struct inj_map *m)
{
    for (int i = 0; i < INJ_RULES; i++)
        if (m->o->rule[i].kind == INJ_NONE)
            return i;
    return -1;
}

void inj_heartbeat(struct inj_map *m)
{
    if (m->o)
        atomic_store_explicit(&m->o->heartbeat_ns, moni_mono_ns(), memory_order_release);
}

/* Writes r into slot (free): counters zeroed first, then the rule, then `active`. */
static void rule_put(struct inj_map *m, int slot, const struct inj_rule *r)
{
    atomic_store(&m->c->matched[slot], 0);
    atomic_store(&m->c->injected[slot], 0);
    atomic_store(&m->c->first_ns[slot], 0);
    m->o->owner_pid = (int32_t)getpid();
    if (!m->o->stale_ns)
        m->o->stale_ns = INJ_STALE_NS_DEFAULT;
    inj_heartbeat(m);
    seq_begin(m->o);
    m->o->rule[slot] = *r;
    seq_end(m->o);
    active_update(m->o);
}

int inj_rule_add(struct inj_map *m, const struct inj_rule *r)
{
    int slot = free_slot(m);
    if (slot >= 0)
        rule_put(m, slot, r);
    return slot;
}

void inj_rule_clear(struct inj_map *m, int slot)
{
    if (!m->o || slot < 0 || slot >= INJ_RULES)
        return;
    seq_begin(m->o);
    memset(&m->o->rule[slot], 0, sizeof m->o->rule[slot]);
    seq_end(m->o);
    active_update(m->o);
}

bool inj_clear_path(const char *path, int slot)
{
    struct inj_map m;
    char err[256];
    if (inj_map_open(path, &m, err, sizeof err) != 0)
        return access(path, F_OK) != 0; /* gone: no workload reads it any more */
    inj_rule_clear(&m, slot);
    bool ok = slot >= 0 && slot < INJ_RULES && m.o->rule[slot].kind == INJ_NONE;
    inj_map_close(&m);
    return ok;
}

/* ---- preparing a workload ------------------------------------------------------------ */
static int ctl_create(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    static _Alignas(64) unsigned char page[INJ_FILE_SIZE];
    memset(page, 0, sizeof page);
    struct inj_orders *o = (struct inj_orders *)page;
    o->magic = INJ_MAGIC;
    o->version = INJ_VERSION;
    o->size = INJ_FILE_SIZE;
    o->stale_ns = INJ_STALE_NS_DEFAULT;
    int rc = moni_write_all(fd, page, sizeof page) == 0 ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

/* $MONI_INJECT_LIB, else next to the moni binary (a build tree), else
 * BINDIR/../lib/moni, else PREFIX/lib/moni. */
static int find_library(char *out, size_t len)
{
    const char *env = getenv("MONI_INJECT_LIB");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        snprintf(out, len, "%s/" INJ_LIB_NAME, exe);
        if (access(out, R_OK) == 0)
            return 0;
        snprintf(out, len, "%s/../lib/moni/" INJ_LIB_NAME, exe);
        char real[PATH_MAX];
        if (access(out, R_OK) == 0 && realpath(out, real)) {
            snprintf(out, len, "%s", real);
            return 0;
        }
    }
    snprintf(out, len, "%s/lib/moni/" INJ_LIB_NAME, MONI_PREFIX);
    return access(out, R_OK) == 0 ? 0 : -1;
}

/* Why exe cannot take a preload library ("" when it can, or when it cannot tell). */
static void exe_why(const char *exe, char *why, size_t len, int depth)
{
    why[0] = 0;
    int fd = open(exe, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (st.st_mode & (S_ISUID | S_ISGID)) {
        snprintf(why, len, "%s is set-user-ID or set-group-ID: the loader ignores LD_PRELOAD "
                 "for it", exe);
        close(fd);
        return;
    }
    unsigned char h[256];
    ssize_t n = pread(fd, h, sizeof h - 1, 0);
    if (n >= 2 && h[0] == '#' && h[1] == '!' && depth == 0) { /* a script: its interpreter */
        close(fd);
        h[n] = 0;
        char *p = (char *)h + 2;
        p += strspn(p, " \t");
        p[strcspn(p, " \t\n")] = 0;
        if (*p)
            exe_why(p, why, len, 1);
        return;
    }
    bool dynamic = true; /* unknown formats: let the workload run and the fault decide */
    if (n >= 64 && memcmp(h, ELFMAG, SELFMAG) == 0) {
        bool is64 = h[EI_CLASS] == ELFCLASS64;
        uint64_t phoff;
        uint16_t phentsize, phnum;
        if (is64) {
            const Elf64_Ehdr *e = (const Elf64_Ehdr *)h;
            phoff = e->e_phoff, phentsize = e->e_phentsize, phnum = e->e_phnum;
        } else {
            const Elf32_Ehdr *e = (const Elf32_Ehdr *)h;
            phoff = e->e_phoff, phentsize = e->e_phentsize, phnum = e->e_phnum;
        }
        dynamic = false;
        for (uint16_t i = 0; i < phnum && phentsize >= sizeof(uint32_t); i++) {
            uint32_t type;
            if (pread(fd, &type, sizeof type, (off_t)(phoff + (uint64_t)i * phentsize)) !=
                sizeof type)
                break;
            if (type == PT_INTERP) {
                dynamic = true;
                break;
            }
        }
    }
    close(fd);
    if (!dynamic)
        snprintf(why, len, "%s is statically linked: no preload library can enter it", exe);
}

/* An AddressSanitizer build insists on its runtime coming first among the loaded
 * libraries, which a preload breaks: such a program (it names libasan in its dynamic
 * section, near the start of the file) gets verify_asan_link_order=0. */
static bool needs_asan_order_off(const char *exe)
{
    int fd = open(exe, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    static char head[512 * 1024];
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n > 0 && memmem(head, (size_t)n, "libasan.so", 10) != NULL;
}

cJSON *fault_inject_prepare(const char *run_dir, const char *exe, char *env[3])
{
    env[0] = env[1] = env[2] = NULL;
    cJSON *o = cJSON_CreateObject();
    char lib[PATH_MAX], ctl[PATH_MAX], why[PATH_MAX + 96], err[PATH_MAX + 64];
    exe_why(exe, why, sizeof why, 0);
    if (!why[0] && find_library(lib, sizeof lib) != 0)
        snprintf(why, sizeof why, "%s not found (set MONI_INJECT_LIB)", INJ_LIB_NAME);
    snprintf(ctl, sizeof ctl, "%s/" INJ_CTL_NAME, run_dir);
    if (!why[0] && ctl_create(ctl, err, sizeof err) != 0)
        snprintf(why, sizeof why, "%s", err);
    if (!why[0]) {
        const char *old = getenv("LD_PRELOAD");
        bool both = old && *old;
        if (asprintf(&env[0], "LD_PRELOAD=%s%s%s", lib, both ? ":" : "", both ? old : "") < 0)
            env[0] = NULL;
        if (asprintf(&env[1], "%s=%s", INJ_ENV_CTL, ctl) < 0)
            env[1] = NULL;
        if (needs_asan_order_off(exe)) {
            const char *ao = getenv("ASAN_OPTIONS");
            bool more = ao && *ao;
            if (asprintf(&env[2], "ASAN_OPTIONS=%s%sverify_asan_link_order=0", more ? ao : "",
                         more ? ":" : "") < 0)
                env[2] = NULL;
        }
        if (!env[0] || !env[1]) {
            free(env[0]);
            free(env[1]);
            free(env[2]);
            env[0] = env[1] = env[2] = NULL;
            snprintf(why, sizeof why, "out of memory");
        }
    }
    if (o) {
        cJSON_AddBoolToObject(o, "enabled", !why[0]);
        if (why[0]) {
            cJSON_AddStringToObject(o, "reason", why);
        } else {
            cJSON_AddStringToObject(o, "library", lib);
            cJSON_AddStringToObject(o, "ctl", ctl);
        }
    }
    return o;
}

/* ---- the lifecycle the in-process kinds share ----------------------------------------- */
struct inj_fault {
    struct inj_rule rule;
    char ctl[PATH_MAX];
    struct inj_map m;
    int slot;
    bool fired;
    int64_t set_ns;   /* when the rule was written */
    int64_t first_ns; /* the library's first changed call, 0 = none yet */
    uint64_t matched, injected;
};

/* The value of NAME in /proc/PID/environ, "" when absent or unreadable. */
static void proc_env(pid_t pid, const char *name, char *out, size_t len)
{
    char path[64], buf[65536];
    out[0] = 0;
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    size_t nl = strlen(name);
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            snprintf(out, len, "%s", p + nl + 1);
            return;
        }
}

static bool proc_maps_has(pid_t pid, const char *needle)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *fp = fopen(path, "re");
    bool found = false;
    while (fp && !found && fgets(line, sizeof line, fp))
        found = strstr(line, needle) != NULL;
    if (fp)
        fclose(fp);
    return found;
}

int inj_fault_arm(struct fault *f, const struct inj_rule *r, char *err, size_t errlen)
{
    struct inj_fault *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    s->rule = *r;
    s->slot = -1;
    pid_t pid = f->target.pid > 0 ? f->target.pid : fault_workload_pid(f);
    if (pid <= 0) {
        snprintf(err, errlen, "needs a workload started by moni");
        return FAULT_ERR_USAGE;
    }
    char exe[64], why[PATH_MAX + 96], real[PATH_MAX];
    snprintf(exe, sizeof exe, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(exe, real, sizeof real - 1);
    real[n > 0 ? n : 0] = 0;
    exe_why(exe, why, sizeof why, 0);
    if (why[0]) {
        snprintf(err, errlen, "refused: %s (pid %d)", why, (int)pid);
        char *colon = strstr(why, " is ");
        if (colon) /* the reason names /proc/PID/exe: say it with the real path */
            snprintf(err, errlen, "refused: %s%s (pid %d)", real, colon, (int)pid);
        return FAULT_ERR_USAGE;
    }
    proc_env(pid, INJ_ENV_CTL, s->ctl, sizeof s->ctl);
    if (!s->ctl[0] || !proc_maps_has(pid, INJ_LIB_NAME)) {
        snprintf(err, errlen, "refused: pid %d runs without %s (started with --no-inject, "
                 "outside moni, or it clears LD_PRELOAD)", (int)pid, INJ_LIB_NAME);
        return FAULT_ERR_USAGE;
    }
    if (inj_map_open(s->ctl, &s->m, err, errlen) != 0)
        return FAULT_ERR_FAIL;
    if (free_slot(&s->m) < 0) {
        snprintf(err, errlen, "all %d in-process fault slots are taken", INJ_RULES);
        return FAULT_ERR_FAIL;
    }
    return 0;
}

int inj_fault_fire(struct fault *f, char *err, size_t errlen)
{
    struct inj_fault *s = f->priv;
    int slot = free_slot(&s->m);
    if (slot < 0) {
        snprintf(err, errlen, "all %d in-process fault slots are taken", INJ_RULES);
        return FAULT_ERR_FAIL;
    }
    if (fault_undo_inject(f, s->ctl, slot) != 0) {
        snprintf(err, errlen, "the guardian could not take the undo");
        return FAULT_ERR_FAIL;
    }
    if (s->rule.kind == INJ_CLOCK)
        s->rule.since_ns = moni_mono_ns();
    s->set_ns = moni_mono_ns();
    rule_put(&s->m, slot, &s->rule);
    s->slot = slot;
    s->fired = true;
    return 0;
}

int inj_fault_check(struct fault *f, int64_t now)
{
    struct inj_fault *s = f->priv;
    if (s->slot < 0)
        return FAULT_CHECK_WAIT;
    inj_heartbeat(&s->m);
    s->matched = atomic_load(&s->m.c->matched[s->slot]);
    s->injected = atomic_load(&s->m.c->injected[s->slot]);
    s->first_ns = atomic_load(&s->m.c->first_ns[s->slot]);
    f->delivered = (double)s->injected;
    f->delivered_valid = true;
    if (!f->effective && s->injected > 0) {
        snprintf(f->effect_detail, sizeof f->effect_detail,
                 "the workload's library changed %llu of %llu matched calls",
                 (unsigned long long)s->injected, (unsigned long long)s->matched);
        return FAULT_CHECK_EFFECTIVE;
    }
    (void)now;
    return f->effective ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

void inj_fault_stop(struct fault *f)
{
    struct inj_fault *s = f->priv;
    if (!s || s->slot < 0)
        return;
    s->matched = atomic_load(&s->m.c->matched[s->slot]);
    s->injected = atomic_load(&s->m.c->injected[s->slot]);
    s->first_ns = atomic_load(&s->m.c->first_ns[s->slot]);
    inj_rule_clear(&s->m, s->slot);
}

int inj_fault_revert(struct fault *f, char *err, size_t errlen)
{
    struct inj_fault *s = f->priv;
    if (!s || s->slot < 0)
        return 0;
    if (s->m.o->rule[s->slot].kind != INJ_NONE) {
        snprintf(err, errlen, "%s: slot %d still set", s->ctl, s->slot);
        return -1;
    }
    return 0;
}

void inj_fault_describe(const struct fault *f, cJSON *d)
{
    const struct inj_fault *s = f->priv;
    if (!s)
        return;
    cJSON_AddStringToObject(d, "ctl", s->ctl);
    if (s->slot >= 0)
        cJSON_AddNumberToObject(d, "slot", s->slot);
    if (s->rule.pattern[0])
        cJSON_AddStringToObject(d, "pattern", s->rule.pattern);
    if (s->fired) {
        cJSON_AddNumberToObject(d, "matched_calls", (double)s->matched);
        cJSON_AddNumberToObject(d, "changed_calls", (double)s->injected);
        if (s->first_ns) /* from the rule written to the first call it changed */
            cJSON_AddNumberToObject(d, "first_change_ms", (double)(s->first_ns - s->set_ns) / 1e6);
    }
}

void inj_fault_release(struct fault *f)
{
    struct inj_fault *s = f->priv;
    if (s)
        inj_map_close(&s->m);
    free(s);
    f->priv = NULL;
}
