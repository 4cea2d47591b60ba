/* faults/guardian.c — the guardian process and `moni recover`.
 *
 * The guardian is forked at the first armed fault and connected to moni by a pipe.
 * moni sends it one tab-separated line per undo item BEFORE the effect exists:
 *     J id kind target session    a fault (for the journal)
 *     P id pgid starttime          a stressor process group to kill
 *     F id path                    a file to delete
 *     C id pid starttime           a stopped process to SIGCONT
 *     Q id dev handle              a qdisc to delete (tc qdisc del dev DEV root handle H)
 *     B id path backup             a file to restore from backup ("-": delete it)
 *     R id                         reverted by moni: forget the fault
 *     X                            moni ends cleanly: exit
 * On pipe EOF (moni died, even by SIGKILL) or when moni's pid is gone, the guardian
 * undoes every item within a second and journals `stopped` and `reverted` itself with
 * "by":"guardian" (it holds the journal fd).  The same lines go to a state file
 * (fsync'd), headed by "S moni_pid starttime boot_id journal" and "G guardian_pid
 * starttime", which `moni recover` replays when both processes are gone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

#define TC_PATH_DEFAULT "/sbin/tc"
#define MAX_ITEMS 512
#define MAX_FIELDS 6

struct undo_item {
    char type;
    char f[MAX_FIELDS][PATH_MAX / 4]; /* f[0] = fault id */
    int nf;
    bool done;
};

struct undo_list {
    struct undo_item *items;
    size_t n;
    /* state file header */
    pid_t moni_pid, guardian_pid;
    uint64_t moni_start, guardian_start;
    char boot_id[64];
    char journal[PATH_MAX];
};

int guardian_state_dir(char *out, size_t len)
{
    const char *e = getenv("MONI_STATE_DIR");
    int n;
    if (e && *e)
        n = snprintf(out, len, "%s", e);
    else if ((e = getenv("XDG_STATE_HOME")) && *e)
        n = snprintf(out, len, "%s/moni", e);
    else if ((e = getenv("HOME")) && *e && access(e, W_OK) == 0)
        n = snprintf(out, len, "%s/.local/state/moni", e);
    else
        n = snprintf(out, len, "/tmp/moni-%u", (unsigned)getuid());
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void read_boot_id(char *out, size_t len)
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

static int parse_line(char *line, struct undo_item *it)
{
    memset(it, 0, sizeof *it);
    line[strcspn(line, "\n")] = 0;
    if (!line[0] || (line[1] != '\t' && line[1] != 0))
        return -1;
    it->type = line[0];
    char *p = line[1] ? line + 2 : line + 1;
    while (*p && it->nf < MAX_FIELDS) {
        char *tab = strchr(p, '\t');
        size_t len = tab ? (size_t)(tab - p) : strlen(p);
        if (len >= sizeof it->f[0])
            len = sizeof it->f[0] - 1;
        memcpy(it->f[it->nf], p, len);
        it->f[it->nf][len] = 0;
        it->nf++;
        if (!tab)
            break;
        p = tab + 1;
    }
    return 0;
}

static void list_add(struct undo_list *l, const struct undo_item *it)
{
    if (it->type == 'R') {
        for (size_t i = 0; i < l->n; i++)
            if (strcmp(l->items[i].f[0], it->f[0]) == 0)
                l->items[i].done = true;
        return;
    }
    if (it->type == 'S') {
        l->moni_pid = (pid_t)atoi(it->f[0]);
        l->moni_start = strtoull(it->f[1], NULL, 10);
        snprintf(l->boot_id, sizeof l->boot_id, "%s", it->f[2]);
        snprintf(l->journal, sizeof l->journal, "%s", it->f[3]);
        return;
    }
    if (it->type == 'G') {
        l->guardian_pid = (pid_t)atoi(it->f[0]);
        l->guardian_start = strtoull(it->f[1], NULL, 10);
        return;
    }
    if (l->n >= MAX_ITEMS)
        return;
    l->items[l->n++] = *it;
}

void guardian_journal(int fd, const char *event, const char *id, const char *kind,
                      const char *target, const char *session, const char *by,
                      const char *reason, cJSON *undo)
{
    if (fd < 0)
        return;
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
        snprintf(what, len, "control file %s: %s", it->f[1], ok ? "restored" : strerror(errno));
        return ok;
    }
    default:
        snprintf(what, len, "unknown item '%c'", it->type);
        return true;
    }
}

/* Undoes every pending item, fault by fault (processes first), journalling each. */
static int undo_all(struct undo_list *l, int jfd, bool same_boot, const char *by, FILE *out,
                    bool dry_run)
{
    static const char order[] = "PCFQB";
    int failures = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct undo_item *j = &l->items[i];
        if (j->type != 'J' || j->done)
            continue;
        cJSON *undo = cJSON_CreateArray();
        bool ok = true;
        int nitems = 0;
        for (const char *o = order; *o; o++)
            for (size_t k = 0; k < l->n; k++) {
                struct undo_item *it = &l->items[k];
                if (it->done || it->type != *o || strcmp(it->f[0], j->f[0]) != 0)
                    continue;
                char what[PATH_MAX];
                nitems++;
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
            continue;
        }
        guardian_journal(jfd, "stopped", j->f[0], j->f[1], j->f[2], j->f[3], by,
                         strcmp(by, "guardian") == 0 ? "moni died" : "left over by a killed session",
                         NULL);
        guardian_journal(jfd, ok ? "reverted" : "failed", j->f[0], j->f[1], j->f[2], j->f[3], by,
                         ok ? NULL : "cleanup incomplete", undo);
        if (ok)
            j->done = true;
        (void)nitems;
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

static void guardian_main(int rfd, int jfd, int state_fd, const char *state_path, pid_t moni_pid)
{
    static struct undo_item items[MAX_ITEMS];
    struct undo_list l = {.items = items};
    char buf[16384];
    size_t used = 0;
    bool clean = false;
    for (;;) {
        struct pollfd pf = {.fd = rfd, .events = POLLIN};
        int r = poll(&pf, 1, 200);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            if (getppid() != moni_pid) /* moni gone without closing (should not happen) */
                break;
            continue;
        }
        ssize_t n = read(rfd, buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EOF: moni died or closed */
        used += (size_t)n;
        buf[used] = 0;
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = 0;
            struct undo_item it;
            if (parse_line(start, &it) == 0) {
                if (it.type == 'X')
                    clean = true;
                else
                    list_add(&l, &it);
            }
            start = nl + 1;
        }
        used = (size_t)(buf + used - start);
        memmove(buf, start, used);
        if (used >= sizeof buf - 1)
            used = 0; /* an absurd line; drop it */
        if (clean)
            break;
    }
    if (clean) {
        _exit(0);
    }
    int failures = undo_all(&l, jfd, true, "guardian", NULL, false);
    char line[64];
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].type == 'J' && l.items[i].done) {
            snprintf(line, sizeof line, "R\t%s\n", l.items[i].f[0]);
            append_state(state_fd, line);
        }
    if (failures == 0 && state_path[0])
        unlink(state_path);
    _exit(failures ? 1 : 0);
}

int guardian_start(struct guardian *g, int journal_fd, const char *journal_path,
                   const char *session, char *err, size_t errlen)
{
    char dir[PATH_MAX - 128];
    g->state_fd = -1;
    g->state_path[0] = 0;
    if (guardian_state_dir(dir, sizeof dir) == 0 && moni_mkdir_p(dir, 0700) == 0) {
        snprintf(g->state_path, sizeof g->state_path, "%s/session-%s-%d.undo", dir, session,
                 (int)getpid());
        g->state_fd = open(g->state_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
    if (g->state_fd < 0) {
        moni_warn("cannot write the fault state file in %s; 'moni recover' will not see this "
                  "session", dir);
        g->state_path[0] = 0;
    } else {
        char boot[64], line[PATH_MAX + 128];
        read_boot_id(boot, sizeof boot);
        snprintf(line, sizeof line, "S\t%d\t%llu\t%s\t%s\n", (int)getpid(),
                 (unsigned long long)fault_proc_starttime(getpid()), boot,
                 journal_path ? journal_path : "");
        append_state(g->state_fd, line);
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC)) {
        snprintf(err, errlen, "guardian: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t moni_pid = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "guardian: fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        /* Own session: Ctrl-C and terminal hangups are for moni, not for us. */
        setsid();
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
        /* Keep only what we need: the pipe, the journal, the state file, stderr. */
        for (int fd = 3; fd < 1024; fd++)
            if (fd != pfd[0] && fd != journal_fd && fd != g->state_fd)
                close(fd);
        guardian_main(pfd[0], journal_fd, g->state_fd, g->state_path, moni_pid);
        _exit(0);
    }
    close(pfd[0]);
    g->pid = pid;
    g->wfd = pfd[1];
    char line[128];
    snprintf(line, sizeof line, "G\t%d\t%llu\n", (int)pid,
             (unsigned long long)fault_proc_starttime(pid));
    append_state(g->state_fd, line);
    return 0;
}

int guardian_send(struct guardian *g, const char *line)
{
    int rc = 0;
    if (g->pid > 0 && moni_write_all(g->wfd, line, strlen(line)) != 0)
        rc = -1;
    append_state(g->state_fd, line);
    return rc;
}

void guardian_finish(struct guardian *g)
{
    if (g->pid <= 0)
        return;
    moni_write_all(g->wfd, "X\n", 2);
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

/* ---- recover ------------------------------------------------------------------------ */
static bool proc_alive(pid_t pid, uint64_t start)
{
    if (pid <= 0)
        return false;
    uint64_t s = fault_proc_starttime(pid);
    int st = fault_proc_state(pid);
    return s != 0 && s == start && st != 'Z';
}

static int load_state(const char *path, struct undo_list *l)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return -1;
    char line[PATH_MAX * 2];
    while (fgets(line, sizeof line, fp)) {
        struct undo_item it;
        if (parse_line(line, &it) == 0)
            list_add(l, &it);
    }
    fclose(fp);
    return 0;
}

/* Visits every state file whose moni and guardian are both gone. */
static int scan(bool act, FILE *out, bool dry_run, size_t *items, size_t *sessions)
{
    char dir[PATH_MAX - 300], boot[64];
    *items = *sessions = 0;
    if (guardian_state_dir(dir, sizeof dir))
        return 0;
    read_boot_id(boot, sizeof boot);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    static struct undo_item buf[MAX_ITEMS];
    struct dirent *e;
    int failures = 0;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".undo") != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct undo_list l = {.items = buf};
        if (load_state(path, &l))
            continue;
        bool same_boot = strcmp(boot, l.boot_id) == 0;
        if (same_boot && (proc_alive(l.moni_pid, l.moni_start) ||
                          proc_alive(l.guardian_pid, l.guardian_start)))
            continue; /* a live session */
        size_t pending = 0;
        for (size_t i = 0; i < l.n; i++)
            if (!l.items[i].done && l.items[i].type != 'J')
                pending++;
        if (pending == 0) {
            if (act && !dry_run)
                unlink(path);
            continue;
        }
        *items += pending;
        (*sessions)++;
        if (!act)
            continue;
        if (out)
            fprintf(out, "session of pid %d (%s), journal %s:\n", (int)l.moni_pid, e->d_name,
                    l.journal[0] ? l.journal : "-");
        int jfd = l.journal[0] && !dry_run ? open(l.journal, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
        int f = undo_all(&l, jfd, same_boot, "recover", out, dry_run);
        if (jfd >= 0)
            close(jfd);
        failures += f;
        if (f == 0 && !dry_run)
            unlink(path);
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
    if (out && items == 0)
        fprintf(out, "nothing to recover\n");
    return failures;
}
