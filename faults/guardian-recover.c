/* faults/guardian-recover.c — `moni recover` and the leftovers warning: replays the
 * state files of sessions whose moni and guardian are both gone (killed, a reboot).
 * A session whose processes are still exiting, or whose guardian is still undoing it
 * after its moni died, is waited for (at most RECOVER_WAIT_NS in all) and its file
 * read again, never skipped as if it were live. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/guardian-int.h"

/* How long one `moni recover` waits, in all, for the processes of killed sessions to
 * finish exiting (the kernel tears a big process down slowly, an ASan one most) and
 * for a guardian whose moni is gone to finish its own undo. */
#define RECOVER_WAIT_NS (10 * MONI_NS_PER_SEC)
#define PF_EXITING_FLAG 0x4u /* include/linux/sched.h: set as do_exit() begins */

/* What became of a process that wrote a state file. */
enum owner {
    OWNER_GONE,  /* no such process, another one with its pid, or a zombie */
    OWNER_DYING, /* exiting or SIGKILL pending: it runs none of its code any more */
    OWNER_LIVE,
};

/* /proc/PID/FILE read whole into buf (NUL-terminated); false when it cannot be. */
static bool read_proc(pid_t pid, const char *file, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    return true;
}

static bool sigkill_pending(pid_t pid)
{
    char buf[4096];
    if (!read_proc(pid, "status", buf, sizeof buf))
        return false;
    static const char *const keys[] = {"\nSigPnd:", "\nShdPnd:"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(keys); i++) {
        const char *p = strstr(buf, keys[i]);
        if (p && (strtoull(p + strlen(keys[i]), NULL, 16) & (1ull << (SIGKILL - 1))))
            return true;
    }
    return false;
}

/* pid, started at start (clock ticks since boot): one read of /proc/PID/stat for its
 * state, flags (field 9) and start time (field 22). */
static enum owner owner_state(pid_t pid, uint64_t start)
{
    if (pid <= 0)
        return OWNER_GONE;
    char buf[1024];
    if (!read_proc(pid, "stat", buf, sizeof buf))
        return OWNER_GONE;
    const char *rest = strrchr(buf, ')'); /* the comm may hold anything */
    char state;
    unsigned flags;
    unsigned long long st;
    if (!rest || sscanf(rest + 1, " %c %*d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d "
                                   "%*d %*d %*d %*d %llu", &state, &flags, &st) != 3)
        return OWNER_GONE;
    if (st != start || state == 'Z' || state == 'X' || state == 'x')
        return OWNER_GONE;
    if ((flags & PF_EXITING_FLAG) || sigkill_pending(pid))
        return OWNER_DYING;
    return OWNER_LIVE;
}

/* Until the session's moni and guardian are both gone, or the deadline.  A dying
 * process still holds its pid; a guardian whose moni is gone is undoing the session
 * right now, and may rewrite or remove the state file. */
static bool wait_owners(const struct undo_list *l, int64_t deadline)
{
    for (;;) {
        if (owner_state(l->moni_pid, l->moni_start) == OWNER_GONE &&
            owner_state(l->guardian_pid, l->guardian_start) == OWNER_GONE)
            return true;
        if (moni_mono_ns() >= deadline)
            return false;
        moni_sleep_ns(20 * MONI_NS_PER_MS);
    }
}

/* Loads the state file at path into *l and decides whether it is left over.  A session
 * whose moni runs is live; one whose moni is gone but whose guardian runs is the
 * guardian's (counted only when act, after waiting for it).  With act, a session
 * whose moni or guardian is still exiting is waited for (until deadline) and read
 * again, as often as it names another live guardian.  Returns 1 = left over (*l
 * loaded), 0 = not (gone, live: said why when act and out), -1 = an unreadable or
 * untrusted file (said when act). */
static int load_leftover(const char *path, const char *name, const char *boot, bool act,
                         FILE *out, int64_t deadline, struct undo_list *l)
{
    char err[PATH_MAX + 128];
    if (guardian_load_state(path, l, err, sizeof err)) {
        if (act)
            moni_err("recover: %s", err);
        return -1;
    }
    if (strcmp(boot, l->boot_id) != 0)
        return 1; /* a session of an earlier boot: its pids mean nothing now */
    for (;;) {
        enum owner m = owner_state(l->moni_pid, l->moni_start);
        enum owner g = owner_state(l->guardian_pid, l->guardian_start);
        if (m == OWNER_LIVE || (!act && g == OWNER_LIVE)) {
            if (act && out)
                fprintf(out, "session of pid %d (%s): moni is running, left to it\n",
                        (int)l->moni_pid, name);
            return 0;
        }
        if (!act || (m == OWNER_GONE && g == OWNER_GONE))
            return 1;
        pid_t mp = l->moni_pid, gp = l->guardian_pid;
        if (moni_mono_ns() >= deadline) {
            if (out)
                fprintf(out, "session of pid %d (%s): moni or its guardian (pid %d) still "
                        "exiting after %d s; undoing anyway\n", (int)mp, name, (int)gp,
                        (int)(RECOVER_WAIT_NS / MONI_NS_PER_SEC));
            return 1;
        }
        wait_owners(l, deadline);
        guardian_list_free(l);
        *l = (struct undo_list){0};
        if (access(path, F_OK) != 0 && errno == ENOENT) {
            if (out)
                fprintf(out, "session of pid %d (%s): undone by its guardian (pid %d)\n",
                        (int)mp, name, (int)gp);
            return 0;
        }
        if (guardian_load_state(path, l, err, sizeof err)) {
            moni_err("recover: %s", err);
            return -1;
        }
    }
}

/* Visits every state file whose moni and guardian are both gone (with act: waits a
 * little for those still exiting).  -1 (with a message when act) when the state
 * directory cannot be trusted. */
static int scan(bool act, FILE *out, bool dry_run, size_t *items, size_t *sessions)
{
    char dir[PATH_MAX - 300], boot[64], err[PATH_MAX + 128];
    *items = *sessions = 0;
    int rc = guardian_state_dir_check(dir, sizeof dir, false, err, sizeof err);
    if (rc != 0) {
        if (rc < 0 && act)
            moni_err("recover: %s", err);
        return rc < 0 ? -1 : 0;
    }
    guardian_read_boot_id(boot, sizeof boot);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int64_t deadline = moni_mono_ns() + RECOVER_WAIT_NS;
    struct dirent *e;
    int failures = 0;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".undo") != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct undo_list l = {0};
        int left = load_leftover(path, e->d_name, boot, act, out, deadline, &l);
        if (left <= 0) {
            failures += left < 0 && act;
            guardian_list_free(&l);
            continue;
        }
        bool same_boot = strcmp(boot, l.boot_id) == 0;
        size_t pending = 0;
        for (size_t i = 0; i < l.n; i++)
            if (!l.items[i].done && l.items[i].type != 'J')
                pending++;
        if (pending == 0) {
            if (act && !dry_run)
                unlink(path);
            guardian_list_free(&l);
            continue;
        }
        *items += pending;
        (*sessions)++;
        if (!act) {
            guardian_list_free(&l);
            continue;
        }
        if (out)
            fprintf(out, "session of pid %d (%s), journal %s:\n", (int)l.moni_pid, e->d_name,
                    l.journal[0] ? l.journal : "-");
        int jfd = l.journal[0] && !dry_run
                      ? open(l.journal, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
                      : -1;
        int f = guardian_undo_all(&l, jfd, same_boot, "recover", out, dry_run);
        if (jfd >= 0)
            close(jfd);
        failures += f;
        if (f == 0 && !dry_run)
            unlink(path);
        guardian_list_free(&l);
    }
    closedir(d);
    return failures;
}

int guardian_leftovers(size_t *items, size_t *sessions)
{
    scan(false, NULL, true, items, sessions);
    return *items ? 1 : 0;
}

size_t guardian_warn_leftovers(void)
{
    size_t items, sessions;
    if (!guardian_leftovers(&items, &sessions))
        return 0;
    char dir[PATH_MAX];
    guardian_state_dir(dir, sizeof dir);
    moni_warn("leftovers of %zu killed session(s) found in %s (%zu item(s): processes, files, "
              "stopped pids, qdiscs); run 'moni recover'", sessions, dir, items);
    return items;
}

int guardian_recover(FILE *out, bool dry_run)
{
    size_t items, sessions;
    int failures = scan(true, out, dry_run, &items, &sessions);
    if (failures < 0)
        return -1;
    if (out && items == 0 && failures == 0) /* a refused file is not "nothing" */
        fprintf(out, "nothing to recover\n");
    return failures;
}
