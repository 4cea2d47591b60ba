/* faults/guardian.c — the guardian process (`moni recover`: faults/guardian-recover.c).
 *
 * The guardian is forked at the first armed fault and connected to moni by a socket
 * pair.  moni sends it one tab-separated line per undo item BEFORE the effect exists:
 *     J id kind target session    a fault (for the journal)
 *     P id pgid starttime          a stressor process group to kill
 *     F id path                    a file to delete
 *     C id pid starttime           a stopped process to SIGCONT
 *     Q id dev handle              a qdisc to delete (tc qdisc del dev DEV root handle H)
 *     B id path backup [mode uid gid]  a file to restore from backup ("-": delete it),
 *                                  with the owner and mode it had
 *     W id deadline_ns             fired: its window or hard maximum ends then
 *                                  (CLOCK_MONOTONIC)
 *     H                            heartbeat: moni's loop is running
 *     R id                         reverted by moni: forget the fault (its items are freed)
 *     X                            moni ends cleanly: exit
 * On EOF (moni died, even by SIGKILL) or when moni's pid is gone, the guardian undoes
 * every item within a second and journals `stopped` and `reverted` itself with
 * "by":"guardian" (it holds the journal fd).  While moni lives but does not answer
 * (stopped, blocked: no heartbeat for a second), the guardian enforces each fault's
 * window and hard maximum on its own clock, journals it, and tells moni "R id" on the
 * same socket.  The items lines go to a state file too (fsync'd), headed by
 * "S moni_pid starttime boot_id journal" and "G guardian_pid starttime" (written by
 * the guardian itself too, first thing), which `moni recover` replays when both
 * processes are gone; it waits a little for those still exiting, and for a guardian
 * whose moni is gone, and reads the file again.  The file is the full record: at its
 * end a guardian also undoes what the file still says is pending (a guardian that moni
 * restarted, then was killed before handing it the log, holds nothing) and deletes
 * the file only when nothing is left.  The state directory and its files are trusted
 * only when they belong to the user running moni and nobody else can write them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"
#include "faults/inject-int.h"
#include "faults/guardian-int.h"

#define TC_PATH_DEFAULT "/sbin/tc"
/* The guardian enforces a window itself once it is this late and moni has been
 * silent this long; past WINDOW_LATE_NS it does even while moni beats. */
#define WINDOW_GRACE_NS (1 * MONI_NS_PER_SEC)
#define WINDOW_LATE_NS (10 * MONI_NS_PER_SEC)

static const char *state_home(char *buf, size_t len)
{
    const char *e = getenv("HOME");
    if (e && *e == '/')
        return e;
    struct passwd *pw = getpwuid(getuid());
    if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
        return NULL;
    snprintf(buf, len, "%s", pw->pw_dir);
    return buf;
}

int guardian_state_dir(char *out, size_t len)
{
    const char *e = getenv("MONI_STATE_DIR");
    char home[PATH_MAX];
    int n;
    if (e && *e)
        n = snprintf(out, len, "%s", e);
    else if ((e = getenv("XDG_STATE_HOME")) && *e == '/')
        n = snprintf(out, len, "%s/moni", e);
    else if ((e = state_home(home, sizeof home)))
        n = snprintf(out, len, "%s/.local/state/moni", e);
    else
        return -1; /* never a shared place like /tmp: anyone could have made it */
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A directory or file moni may trust: not a symlink, owned by us, writable by nobody
 * else. */
static int check_owned(const char *path, bool dir, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    const char *why = NULL;
    if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        why = S_ISLNK(st.st_mode) ? "is a symbolic link" : dir ? "is not a directory"
                                                          : "is not a regular file";
    else if (st.st_uid != getuid())
        why = "is owned by another user";
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        why = "is writable by group or others";
    if (why) {
        snprintf(err, errlen, "%s %s (uid %u, mode %03o); refusing to trust it", path, why,
                 (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

int guardian_state_dir_check(char *dir, size_t len, bool create, char *err, size_t errlen)
{
    if (guardian_state_dir(dir, len) != 0) {
        snprintf(err, errlen, "no state directory: set HOME or XDG_STATE_HOME (or "
                 "MONI_STATE_DIR) to a directory of yours");
        return -1;
    }
    if (create && moni_mkdir_p(dir, 0700) != 0) {
        snprintf(err, errlen, "state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!create && access(dir, F_OK) != 0 && errno == ENOENT)
        return 1; /* nothing was ever written there */
    return check_owned(dir, true, err, errlen);
}

void guardian_read_boot_id(char *out, size_t len)
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, out, len - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        n = 0;
    out[n] = 0;
    out[strcspn(out, "\n")] = 0;
}

static void item_free(struct undo_item *it)
{
    free(it->line);
    it->line = NULL;
}

/* Splits a line into *it (a malloc'd copy).  -1 on an empty line or out of memory. */
static int parse_line(const char *line, struct undo_item *it)
{
    memset(it, 0, sizeof *it);
    for (int i = 0; i < MAX_FIELDS; i++)
        it->f[i] = (char *)"";
    size_t len = strcspn(line, "\n");
    if (!len || (len > 1 && line[1] != '\t'))
        return -1;
    it->type = line[0];
    if (len < 2)
        return 0;
    it->line = strndup(line + 2, len - 2);
    if (!it->line)
        return -1;
    char *p = it->line;
    while (it->nf < MAX_FIELDS) {
        it->f[it->nf++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = 0;
        p = tab + 1;
    }
    return 0;
}

static void list_forget(struct undo_list *l, const char *id)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].f[0], id) == 0)
            item_free(&l->items[i]);
        else
            l->items[k++] = l->items[i];
    }
    l->n = k;
}

void guardian_list_free(struct undo_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        item_free(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* Takes it (its line is owned by the list afterwards).  -1 when out of memory. */
static int list_add(struct undo_list *l, struct undo_item *it)
{
    if (it->type == 'R' || it->type == 'S' || it->type == 'G' || it->type == 'W') {
        if (it->type == 'R') {
            list_forget(l, it->f[0]);
        } else if (it->type == 'S') {
            l->moni_pid = (pid_t)atoi(it->f[0]);
            l->moni_start = strtoull(it->f[1], NULL, 10);
            snprintf(l->boot_id, sizeof l->boot_id, "%s", it->f[2]);
            snprintf(l->journal, sizeof l->journal, "%s", it->f[3]);
        } else if (it->type == 'G') {
            l->guardian_pid = (pid_t)atoi(it->f[0]);
            l->guardian_start = strtoull(it->f[1], NULL, 10);
        } else {
            for (size_t i = 0; i < l->n; i++)
                if (l->items[i].type == 'J' && strcmp(l->items[i].f[0], it->f[0]) == 0)
                    l->items[i].deadline_ns = strtoll(it->f[1], NULL, 10);
        }
        item_free(it);
        return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct undo_item *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni) {
            item_free(it);
            return -1;
        }
        l->items = ni;
        l->cap = cap;
    }
    l->items[l->n++] = *it;
    return 0;
}

void guardian_journal(int fd, const char *event, const char *id, const char *kind,
                      const char *target, const char *session, const char *by,
                      const char *reason, cJSON *undo)
{
    if (fd < 0) { /* no journal to write (gone, unwritable): undo is ours to free */
        cJSON_Delete(undo);
        return;
    }
    struct moni_stamp t = moni_now();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", event);
    cJSON_AddStringToObject(o, "fault_id", id);
    cJSON_AddStringToObject(o, "session", session ? session : "");
    cJSON_AddStringToObject(o, "kind", kind ? kind : "");
    cJSON_AddStringToObject(o, "target", target ? target : "");
    cJSON_AddStringToObject(o, "by", by);
    if (reason)
        cJSON_AddStringToObject(o, "reason", reason);
    if (undo)
        cJSON_AddItemToObject(o, "undo", undo);
    size_t len;
    char *line = fault_journal_line(o, t.real_ns, t.mono_ns, &len);
    cJSON_Delete(o);
    if (!line)
        return;
    moni_write_all(fd, line, len);
    if (strcmp(by, "moni") == 0) /* the guardian and recover sync once at the end */
        fsync(fd);
    free(line);
}

static bool group_alive(pid_t pgid)
{
    if (kill(-pgid, 0) != 0)
        return false;
    int st = fault_proc_state(pgid);
    return st != 0 && st != 'Z' && st != 'X';
}

/* Does one undo item; fills what happened.  same_boot: pids may still mean ours. */
static bool undo_one(struct undo_item *it, bool same_boot, char *what, size_t len)
{
    switch (it->type) {
    case 'P': {
        pid_t pgid = (pid_t)atoi(it->f[1]);
        uint64_t st = strtoull(it->f[2], NULL, 10);
        if (!same_boot || pgid <= 1 || (st && fault_proc_starttime(pgid) != st &&
                                        fault_proc_starttime(pgid) != 0)) {
            snprintf(what, len, "process group %d: gone", (int)pgid);
            return true;
        }
        if (!group_alive(pgid)) {
            snprintf(what, len, "process group %d: gone", (int)pgid);
            return true;
        }
        kill(-pgid, SIGKILL);
        kill(-pgid, SIGCONT);
        for (int i = 0; i < 100 && group_alive(pgid); i++)
            moni_sleep_ns(5 * MONI_NS_PER_MS);
        bool gone = !group_alive(pgid);
        snprintf(what, len, "process group %d: %s", (int)pgid, gone ? "killed" : "still alive");
        return gone;
    }
    case 'C': {
        pid_t pid = (pid_t)atoi(it->f[1]);
        uint64_t st = strtoull(it->f[2], NULL, 10);
        if (!same_boot || pid <= 1 || fault_proc_starttime(pid) != st) {
            snprintf(what, len, "pid %d: gone", (int)pid);
            return true;
        }
        kill(pid, SIGCONT);
        int s = 'T';
        for (int i = 0; i < 40 && (s = fault_proc_state(pid)) == 'T'; i++)
            moni_sleep_ns(5 * MONI_NS_PER_MS);
        snprintf(what, len, "pid %d: %s", (int)pid, s == 'T' ? "still stopped" : "continued");
        return s != 'T';
    }
    case 'F': {
        if (unlink(it->f[1]) != 0 && errno != ENOENT) {
            snprintf(what, len, "file %s: %s", it->f[1], strerror(errno));
            return false;
        }
        bool gone = access(it->f[1], F_OK) != 0;
        snprintf(what, len, "file %s: %s", it->f[1], gone ? "deleted" : "still there");
        return gone;
    }
    case 'Q': {
        const char *tc = getenv("MONI_TC");
        char *argv[] = {(char *)(tc && *tc ? tc : TC_PATH_DEFAULT), "qdisc", "del", "dev",
                        it->f[1], "root", "handle", it->f[2], NULL};
        char out[1024];
        fault_run_argv(argv, out, sizeof out, 2 * MONI_NS_PER_SEC);
        char *show[] = {argv[0], "qdisc", "show", "dev", it->f[1], NULL};
        int rc = fault_run_argv(show, out, sizeof out, 2 * MONI_NS_PER_SEC);
        bool gone = rc != 0 || !strstr(out, it->f[2]);
        snprintf(what, len, "qdisc %s on %s: %s", it->f[2], it->f[1], gone ? "deleted" : "still there");
        return gone;
    }
    case 'B': {
        int rc = strcmp(it->f[2], "-") == 0 ? unlink(it->f[1]) : rename(it->f[2], it->f[1]);
        bool ok = rc == 0 || errno == ENOENT;
        if (rc == 0 && strcmp(it->f[2], "-") != 0 && it->nf >= 6) { /* its owner and mode */
            if ((chown(it->f[1], (uid_t)strtoul(it->f[4], NULL, 10),
                       (gid_t)strtoul(it->f[5], NULL, 10)) != 0 && geteuid() == 0) ||
                chmod(it->f[1], (mode_t)strtoul(it->f[3], NULL, 8)) != 0)
                ok = false;
        }
        snprintf(what, len, "control file %s: %s", it->f[1], ok ? "restored" : strerror(errno));
        return ok;
    }
    case 'I': { /* an in-process fault's rule in a workload's control block */
        bool ok = inj_clear_path(it->f[1], atoi(it->f[2]));
        snprintf(what, len, "in-process rule %s in %s: %s", it->f[2], it->f[1],
                 ok ? "cleared" : "still set");
        return ok;
    }
    case 'L': /* a straggler's cgroup: its processes back home, then removed */
        return fault_cgroup_release(it->f[1], it->f[2], what, len);
    default:
        snprintf(what, len, "unknown item '%c'", it->type);
        return true;
    }
}

/* Undoes the items of fault J (processes first), journalling `stopped` (with reason)
 * and `reverted` or `failed` with what was done.  Returns the number of failures. */
static int undo_fault(struct undo_list *l, struct undo_item *j, int jfd, bool same_boot,
                      const char *by, const char *reason, FILE *out, bool dry_run)
{
    static const char order[] = "PCFQBIL";
    int failures = 0;
    cJSON *undo = cJSON_CreateArray();
    bool ok = true;
    for (const char *o = order; *o; o++)
        for (size_t k = 0; k < l->n; k++) {
            struct undo_item *it = &l->items[k];
            if (it->done || it->type != *o || strcmp(it->f[0], j->f[0]) != 0)
                continue;
            char what[PATH_MAX + 64];
            if (dry_run) {
                snprintf(what, sizeof what, "would undo %c %s %s", it->type, it->f[1], it->f[2]);
            } else {
                bool r = undo_one(it, same_boot, what, sizeof what);
                ok = ok && r;
                failures += !r;
                it->done = r;
            }
            cJSON_AddItemToArray(undo, cJSON_CreateString(what));
            if (out)
                fprintf(out, "%s %s (%s): %s\n", j->f[0], j->f[1], j->f[2], what);
        }
    if (dry_run) {
        cJSON_Delete(undo);
        return 0;
    }
    guardian_journal(jfd, "stopped", j->f[0], j->f[1], j->f[2], j->f[3], by, reason, NULL);
    guardian_journal(jfd, ok ? "reverted" : "failed", j->f[0], j->f[1], j->f[2], j->f[3], by,
                     ok ? NULL : "cleanup incomplete", undo);
    if (ok)
        j->done = true;
    return failures;
}

/* Undoes every pending fault. */
int guardian_undo_all(struct undo_list *l, int jfd, bool same_boot, const char *by, FILE *out,
                    bool dry_run)
{
    int failures = 0;
    const char *reason = strcmp(by, "guardian") == 0 ? "moni died" : "left over by a killed session";
    for (size_t i = 0; i < l->n; i++) {
        struct undo_item *j = &l->items[i];
        if (j->type == 'J' && !j->done)
            failures += undo_fault(l, j, jfd, same_boot, by, reason, out, dry_run);
    }
    if (jfd >= 0 && !dry_run)
        fsync(jfd);
    return failures;
}

static void append_state(int fd, const char *line)
{
    if (fd < 0)
        return;
    moni_write_all(fd, line, strlen(line));
    fsync(fd);
}

/* Writes all of buf to a socket without SIGPIPE.  flags: MSG_DONTWAIT or 0. */
static int sock_send(int fd, const char *buf, size_t len, int flags)
{
    while (len) {
        ssize_t w = send(fd, buf, len, flags | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* moni is silent (stopped, blocked): end the faults whose window or hard maximum has
 * passed, as moni would have, and tell it. */
static void enforce_windows(struct undo_list *l, int sock, int jfd, int state_fd,
                            int64_t last_heard)
{
    int64_t now = moni_mono_ns();
    for (size_t i = 0; i < l->n; i++) {
        struct undo_item *j = &l->items[i];
        if (j->type != 'J' || j->done || !j->deadline_ns || now < j->deadline_ns + WINDOW_GRACE_NS)
            continue;
        if (now - last_heard < WINDOW_GRACE_NS && now < j->deadline_ns + WINDOW_LATE_NS)
            continue;
        j->deadline_ns = 0; /* tried once; what failed is tried again at the end */
        undo_fault(l, j, jfd, true, "guardian", "window or hard maximum ended; moni not answering",
                   NULL, false);
        if (jfd >= 0)
            fsync(jfd);
        if (!j->done)
            continue; /* tried; again at the end */
        char line[128];
        snprintf(line, sizeof line, "R\t%s\n", j->f[0]);
        append_state(state_fd, line);
        sock_send(sock, line, strlen(line), MSG_DONTWAIT);
        char id[32];
        snprintf(id, sizeof id, "%s", j->f[0]);
        list_forget(l, id);
        i = (size_t)-1; /* the list moved: start over */
    }
}

int guardian_load_state(const char *path, struct undo_list *l, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (check_owned(path, false, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    FILE *fp = fdopen(fd, "r");
    if (!fp) {
        close(fd);
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (getline(&line, &cap, fp) > 0) {
        struct undo_item it;
        if (parse_line(line, &it) == 0 && list_add(l, &it) != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(fp);
    return rc;
}

/* Returns true on X (a clean end). */
static bool guardian_line(struct undo_list *l, const char *text, int sock)
{
    struct undo_item it;
    if (parse_line(text, &it) != 0)
        return false;
    if (it.type == 'X' || it.type == 'H') {
        item_free(&it);
        return it.type == 'X';
    }
    char id[32];
    snprintf(id, sizeof id, "%s", it.f[0]);
    if (list_add(l, &it) != 0) { /* cannot hold it: moni must not rely on it */
        char line[64];
        snprintf(line, sizeof line, "E\t%s\n", id);
        sock_send(sock, line, strlen(line), MSG_DONTWAIT);
    }
    return false;
}

/* Appends "R id" to the state file for each fault of l that was undone. */
static void append_reverted(const struct undo_list *l, int state_fd)
{
    char line[64];
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].type == 'J' && l->items[i].done) {
            snprintf(line, sizeof line, "R\t%s\n", l->items[i].f[0]);
            append_state(state_fd, line);
        }
}

/* At the guardian's end, after its own list: what the state file still says is
 * pending.  The file, not the list, is the full record: when the first guardian dies
 * and moni is killed while it starts the next (after the fork, before it has handed
 * over the log), the new guardian holds nothing, and unlinking the file on the
 * strength of its empty list lost every leftover (test_fault_crash under ASan).
 * Returns the failures (a file that is there but unreadable is one: it is kept). */
static int undo_state_rest(const char *path, int jfd, int state_fd)
{
    if (!path[0])
        return 0;
    struct undo_list f = {0};
    char err[PATH_MAX + 128];
    int failures;
    if (guardian_load_state(path, &f, err, sizeof err) != 0) {
        failures = access(path, F_OK) == 0;
    } else {
        failures = guardian_undo_all(&f, jfd, true, "guardian", NULL, false);
        append_reverted(&f, state_fd);
    }
    guardian_list_free(&f);
    return failures;
}

static void guardian_main(int sock, int jfd, int state_fd, const char *state_path, pid_t moni_pid)
{
    struct undo_list l = {0};
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    bool clean = false;
    int64_t last_heard = moni_mono_ns();
    while (buf) {
        struct pollfd pf = {.fd = sock, .events = POLLIN};
        int r = poll(&pf, 1, 100);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0) {
            ssize_t n = read(sock, buf + used, cap - 1 - used);
            if (n < 0 && errno != EINTR && errno != EAGAIN)
                break;
            if (n == 0)
                break; /* EOF: moni died or closed */
            if (n > 0) {
                last_heard = moni_mono_ns();
                used += (size_t)n;
                buf[used] = 0;
                char *start = buf, *nl;
                while (!clean && (nl = strchr(start, '\n'))) {
                    *nl = 0;
                    clean = guardian_line(&l, start, sock);
                    start = nl + 1;
                }
                used = (size_t)(buf + used - start);
                memmove(buf, start, used);
                if (used >= cap - 1) { /* a line longer than any moni sends: grow */
                    char *nb = realloc(buf, cap * 2);
                    if (!nb)
                        break;
                    buf = nb;
                    cap *= 2;
                }
                if (clean)
                    break;
            }
        }
        if (getppid() != moni_pid) /* moni gone without closing (should not happen) */
            break;
        enforce_windows(&l, sock, jfd, state_fd, last_heard);
    }
    free(buf);
    if (clean)
        _exit(0);
    int failures = guardian_undo_all(&l, jfd, true, "guardian", NULL, false);
    append_reverted(&l, state_fd);
    guardian_list_free(&l);
    failures += undo_state_rest(state_path, jfd, state_fd);
    if (failures == 0 && state_path[0])
        unlink(state_path);
    _exit(failures ? 1 : 0);
}

/* The state file: in a directory of ours only, never through a symlink. */
static void open_state(struct guardian *g, const char *session)
{
    char dir[PATH_MAX - 128], err[PATH_MAX + 128];
    g->state_fd = -1;
    g->state_path[0] = 0;
    if (guardian_state_dir_check(dir, sizeof dir, true, err, sizeof err) != 0) {
        moni_warn("fault state: %s; 'moni recover' will not see this session", err);
        return;
    }
    snprintf(g->state_path, sizeof g->state_path, "%s/session-%s-%d.undo", dir, session,
             (int)getpid());
    g->state_fd = open(g->state_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                       0600);
    if (g->state_fd >= 0 && check_owned(g->state_path, false, err, sizeof err) != 0) {
        close(g->state_fd);
        g->state_fd = -1;
        moni_warn("fault state: %s; 'moni recover' will not see this session", err);
        g->state_path[0] = 0;
        return;
    }
    if (g->state_fd < 0) {
        moni_warn("cannot write the fault state file in %s (%s); 'moni recover' will not see "
                  "this session", dir, strerror(errno));
        g->state_path[0] = 0;
    }
}

int guardian_start(struct guardian *g, int journal_fd, const char *journal_path,
                   const char *session, char *err, size_t errlen)
{
    open_state(g, session);
    if (g->state_fd >= 0) {
        char boot[64], line[PATH_MAX + 128];
        guardian_read_boot_id(boot, sizeof boot);
        snprintf(line, sizeof line, "S\t%d\t%llu\t%s\t%s\n", (int)getpid(),
                 (unsigned long long)fault_proc_starttime(getpid()), boot,
                 journal_path ? journal_path : "");
        append_state(g->state_fd, line);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        snprintf(err, errlen, "guardian: socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t moni_pid = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "guardian: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        /* Own session: Ctrl-C and terminal hangups are for moni, not for us. */
        setsid();
        /* Our own "G" line first: should moni be killed before it writes it, recover
         * still sees that a live guardian holds the session. */
        char gl[64];
        snprintf(gl, sizeof gl, "G\t%d\t%llu\n", (int)getpid(),
                 (unsigned long long)fault_proc_starttime(getpid()));
        append_state(g->state_fd, gl);
        static const int ignored[] = {SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
        for (size_t i = 0; i < MONI_ARRAY_LEN(ignored); i++)
            signal(ignored[i], SIG_IGN);
        signal(SIGCHLD, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        /* Keep only what we need: the socket, the journal, the state file, stderr. */
        for (int fd = 3; fd < 1024; fd++)
            if (fd != sv[1] && fd != journal_fd && fd != g->state_fd)
                close(fd);
        guardian_main(sv[1], journal_fd, g->state_fd, g->state_path, moni_pid);
        _exit(0);
    }
    close(sv[1]);
    g->pid = pid;
    g->wfd = sv[0];
    char line[128];
    snprintf(line, sizeof line, "G\t%d\t%llu\n", (int)pid,
             (unsigned long long)fault_proc_starttime(pid));
    append_state(g->state_fd, line);
    return 0;
}

int guardian_send(struct guardian *g, const char *line)
{
    size_t len = strlen(line);
    bool kept = line[0] == 'H';
    if (line[0] != 'H') { /* kept for a new guardian, should this one die */
        if (g->loglen + len + 1 > g->logcap) {
            size_t cap = (g->logcap ? g->logcap * 2 : 4096) + len;
            char *nl = realloc(g->log, cap);
            if (nl) {
                g->log = nl;
                g->logcap = cap;
            }
        }
        if (g->loglen + len + 1 <= g->logcap) {
            memcpy(g->log + g->loglen, line, len);
            g->loglen += len;
            kept = true;
        }
    }
    /* A guardian that died has it in the log above: its successor gets it. */
    bool sent = g->pid > 0 && sock_send(g->wfd, line, len, 0) == 0;
    if (line[0] != 'H' && line[0] != 'W') /* moni's clock means nothing after a reboot */
        append_state(g->state_fd, line);
    return kept || sent ? 0 : -1;
}

int guardian_poll(struct guardian *g, void (*on_line)(void *arg, char type, const char *id),
                  void *arg)
{
    if (g->pid <= 0)
        return -1;
    char buf[4096];
    for (;;) {
        ssize_t n = recv(g->wfd, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        if (n == 0)
            return -1; /* the guardian is gone */
        buf[n] = 0;
        /* Its lines are short ("R\tf12\n") and written whole: split what came. */
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            if ((l[0] == 'R' || l[0] == 'E') && l[1] == '\t')
                on_line(arg, l[0], l + 2);
    }
}

int guardian_restart(struct guardian *g, int journal_fd, const char *journal_path,
                     const char *session, char *err, size_t errlen)
{
    if (g->pid > 0) {
        close(g->wfd);
        waitpid(g->pid, NULL, WNOHANG);
        g->pid = 0;
    }
    if (g->state_fd >= 0)
        close(g->state_fd);
    if (guardian_start(g, journal_fd, journal_path, session, err, errlen) != 0)
        return -1;
    if (g->loglen && sock_send(g->wfd, g->log, g->loglen, 0) != 0) {
        snprintf(err, errlen, "guardian: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void guardian_finish(struct guardian *g)
{
    free(g->log);
    g->log = NULL;
    g->loglen = g->logcap = 0;
    if (g->pid <= 0)
        return;
    sock_send(g->wfd, "X\n", 2, 0);
    close(g->wfd);
    int st;
    for (int i = 0; i < 200; i++) {
        pid_t r = waitpid(g->pid, &st, WNOHANG);
        if (r == g->pid || r < 0)
            break;
        moni_sleep_ns(5 * MONI_NS_PER_MS);
    }
    if (g->state_fd >= 0)
        close(g->state_fd);
    if (g->state_path[0])
        unlink(g->state_path);
    g->pid = 0;
    g->state_fd = -1;
}
