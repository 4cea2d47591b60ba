/* core/runner-logs.c — follows the per-process logs of a multi-process workload
 * (moni-rlsim writes controller.log, train_worker_K.log, ... into RUN_DIR/logs) and
 * feeds them to the run's log parser, one source per file, so events carry the
 * process name.  Polled on the runner's tick, but the files are looked at only every
 * RLOGS_PERIOD_NS (one fstat per file), and the directory is read again only when
 * inotify says something was created in it (an opendir per poll was a quarter of
 * an observe-only tick's CPU; without inotify it is read on every poll).  The lines
 * read in one poll are merged by their in-line timestamps (lines without one, such
 * as traceback bodies, keep their place after the line before them), and each is
 * stamped at the time it carries, clamped to the poll window, so the dataset grid
 * and the fault triggers see it when it happened, not when it was read.
 *
 * It also keeps what the console shows for such a pipeline: the controller's latest
 * "step N stage=X" line and, per process, its pid, line counts and latest warning
 * or error (runner_stage(), runner_workers()). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/runner-int.h"
#include "logparse/logparse.h"

#define RLOGS_PERIOD_NS (500 * MONI_NS_PER_MS)
#define RLOGS_MAX_READ (4u << 20)  /* per file and poll: a flood cannot stall the loop */
#define RLOGS_MAX_FILES 256
#define RLOGS_BACKDATE_NS (5 * MONI_NS_PER_SEC) /* never stamp a line older than this */

struct rlog_file {
    char name[64];      /* "train_worker_3.log": the parser's source */
    int fd;
    off_t off;
    char *part;         /* an incomplete last line */
    size_t plen, pcap;
    int64_t last_t;     /* in-line time of the last stamped line (UTC ns) */
    size_t worker;      /* index into workers */
    bool fresh;         /* lines were read in this poll */
};

struct rlog_line {
    int64_t t;
    size_t seq;
    size_t file;
    char *text;
    size_t len;
};

struct runner_logs {
    char dir[PATH_MAX];
    struct lp_parser *parser;
    struct rlog_file *files;
    size_t nfiles;
    struct runner_worker *workers;
    size_t nworkers;
    struct runner_stage stage;
    int64_t next_mono, last_poll_mono;
    struct rlog_line *lines;
    size_t nlines, lcap;
    int ino_fd;         /* inotify: the run directory, then the logs directory; -1: none */
    int ino_dir_wd;     /* the watch on the logs directory, -1 until it exists */
    bool rescan;        /* something may have been created: read the directory */
};

struct runner_logs *runner_logs_new(const char *dir, struct lp_parser *parser)
{
    struct runner_logs *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    l->parser = parser;
    l->stage.step = -1;
    l->rescan = true;
    l->ino_dir_wd = -1;
    /* Watch the parent for the logs directory's creation; the directory itself is
     * watched from the first scan that finds it. */
    l->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
    if (l->ino_fd >= 0 && inotify_add_watch(l->ino_fd, parent, IN_CREATE | IN_MOVED_TO) < 0) {
        close(l->ino_fd);
        l->ino_fd = -1;
    }
    return l;
}

/* True when the directory must be read again: always without inotify, else when an
 * entry was created or moved in (or the event queue overflowed). */
static bool need_scan(struct runner_logs *l)
{
    if (l->ino_fd < 0)
        return true;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(l->ino_fd, buf, sizeof buf)) > 0)
        l->rescan = true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) { /* inotify broke: poll instead */
        close(l->ino_fd);
        l->ino_fd = -1;
        return true;
    }
    bool r = l->rescan;
    l->rescan = false;
    return r;
}

static size_t worker_index(struct runner_logs *l, const char *name, size_t len)
{
    if (len >= sizeof l->workers[0].name)
        len = sizeof l->workers[0].name - 1;
    for (size_t i = 0; i < l->nworkers; i++)
        if (strlen(l->workers[i].name) == len && !memcmp(l->workers[i].name, name, len))
            return i;
    if (l->nworkers >= RLOGS_MAX_FILES)
        return SIZE_MAX;
    struct runner_worker *w = realloc(l->workers, (l->nworkers + 1) * sizeof *w);
    if (!w)
        return SIZE_MAX;
    l->workers = w;
    w = &l->workers[l->nworkers];
    memset(w, 0, sizeof *w);
    memcpy(w->name, name, len);
    w->name[len] = '\0';
    return l->nworkers++;
}

/* Is name a log file of the pipeline ("train_worker_3.log"), not yet followed?
 * SIZE_MAX if not; else the index it would get. */
static size_t file_slot(const struct runner_logs *l, const char *name)
{
    size_t n = strlen(name);
    if (l->nfiles >= RLOGS_MAX_FILES || n < 5 || n >= sizeof l->files[0].name ||
        strcmp(name + n - 4, ".log") || name[0] == '.')
        return SIZE_MAX;
    for (size_t i = 0; i < l->nfiles; i++)
        if (!strcmp(l->files[i].name, name))
            return SIZE_MAX;
    return l->nfiles;
}

/* Adds a file entry (fd -1: a recorded file, read whole by the replay) and its
 * worker; its index, or SIZE_MAX. */
static size_t add_file(struct runner_logs *l, const char *name, int fd)
{
    if (file_slot(l, name) == SIZE_MAX)
        return SIZE_MAX;
    struct rlog_file *f = realloc(l->files, (l->nfiles + 1) * sizeof *f);
    if (!f)
        return SIZE_MAX;
    l->files = f;
    f = &l->files[l->nfiles];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->fd = fd;
    f->worker = worker_index(l, name, strlen(name) - 4);
    return l->nfiles++;
}

static void scan_dir(struct runner_logs *l)
{
    /* watch before reading, so a file created between the two is not missed */
    if (l->ino_fd >= 0 && l->ino_dir_wd < 0)
        l->ino_dir_wd = inotify_add_watch(l->ino_fd, l->dir, IN_CREATE | IN_MOVED_TO |
                                          IN_ONLYDIR);
    DIR *d = opendir(l->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && l->nfiles < RLOGS_MAX_FILES) {
        if (file_slot(l, de->d_name) == SIZE_MAX)
            continue;
        char path[PATH_MAX + 80];
        snprintf(path, sizeof path, "%s/%s", l->dir, de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            continue;
        if (add_file(l, de->d_name, fd) == SIZE_MAX) {
            close(fd);
            break;
        }
    }
    closedir(d);
}

static int add_line(struct runner_logs *l, size_t fi, const char *s, size_t len, int64_t now_real)
{
    if (len && s[len - 1] == '\r')
        len--;
    if (l->nlines == l->lcap) {
        size_t nc = l->lcap ? l->lcap * 2 : 256;
        struct rlog_line *v = realloc(l->lines, nc * sizeof *v);
        if (!v)
            return -1;
        l->lines = v;
        l->lcap = nc;
    }
    struct rlog_file *f = &l->files[fi];
    int64_t t;
    if (lp_parse_timestamp(s, len < 64 ? len : 64, now_real, &t) == 1)
        f->last_t = t;
    else
        t = f->last_t ? f->last_t : now_real;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->lines[l->nlines] = (struct rlog_line){t, l->nlines, fi, copy, len};
    l->nlines++;
    return 0;
}

/* Reads what was appended to one file; complete lines go to l->lines. */
static void read_file(struct runner_logs *l, size_t fi, bool final, int64_t now_real)
{
    struct rlog_file *f = &l->files[fi];
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return;
    if (st.st_size < f->off) { /* truncated: start over */
        f->off = 0;
        f->plen = 0;
    }
    size_t want = st.st_size > f->off ? (size_t)(st.st_size - f->off) : 0;
    if (want > RLOGS_MAX_READ)
        want = RLOGS_MAX_READ;
    if (want) {
        if (f->plen + want + 1 > f->pcap) {
            size_t nc = f->plen + want + 1;
            char *p = realloc(f->part, nc);
            if (!p)
                return;
            f->part = p;
            f->pcap = nc;
        }
        ssize_t got = pread(f->fd, f->part + f->plen, want, f->off);
        if (got <= 0)
            return;
        f->off += got;
        f->plen += (size_t)got;
    }
    size_t start = 0;
    for (size_t i = 0; i < f->plen; i++)
        if (f->part[i] == '\n') {
            add_line(l, fi, f->part + start, i - start, now_real);
            start = i + 1;
        }
    if (final && start < f->plen) {
        add_line(l, fi, f->part + start, f->plen - start, now_real);
        start = f->plen;
    }
    if (start) /* f->part is NULL until the first read */
        memmove(f->part, f->part + start, f->plen - start);
    f->plen -= start;
    if (f->plen > LP_MAX_LINE) /* a line without end: pass it on cut */
        f->plen = 0;
}

static int line_cmp(const void *a, const void *b)
{
    const struct rlog_line *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* What the console wants from a line: the controller's stage and the workers' pids. */
static void note_line(struct runner_logs *l, const struct rlog_file *f, const char *s, size_t len,
                      int64_t mono)
{
    if (f->worker != SIZE_MAX) {
        l->workers[f->worker].lines++;
        l->workers[f->worker].last_line_mono = mono;
    }
    if (strcmp(f->name, "controller.log"))
        return;
    const char *st = memmem(s, len, "] step ", 7);
    const char *eq = st ? memmem(st, len - (size_t)(st - s), " stage=", 7) : NULL;
    if (st && eq) {
        char *end;
        long step = strtol(st + 7, &end, 10);
        if (end == eq) {
            const char *v = eq + 7, *e = v;
            while (e < s + len && (e[0] == '_' || (e[0] >= 'a' && e[0] <= 'z')))
                e++;
            size_t n = (size_t)(e - v) < sizeof l->stage.stage ? (size_t)(e - v)
                                                               : sizeof l->stage.stage - 1;
            l->stage.step = step;
            memcpy(l->stage.stage, v, n);
            l->stage.stage[n] = '\0';
            l->stage.since_mono = mono;
        }
    }
    /* "worker train_worker_0 pid=1234 port=..." */
    const char *wk = memmem(s, len, "] worker ", 9);
    if (wk) {
        const char *name = wk + 9, *sp = memchr(name, ' ', len - (size_t)(name - s));
        if (sp && (size_t)(s + len - sp) > 5 && !memcmp(sp, " pid=", 5)) {
            size_t w = worker_index(l, name, (size_t)(sp - name));
            if (w != SIZE_MAX)
                l->workers[w].pid = atoi(sp + 5);
        }
    }
}

void runner_logs_poll(struct runner_logs *l, bool final)
{
    struct moni_stamp now = moni_now();
    if (!final && now.mono_ns < l->next_mono)
        return;
    l->next_mono = now.mono_ns + RLOGS_PERIOD_NS;
    int64_t floor_mono = l->last_poll_mono;
    if (floor_mono < now.mono_ns - RLOGS_BACKDATE_NS)
        floor_mono = now.mono_ns - RLOGS_BACKDATE_NS;
    l->last_poll_mono = now.mono_ns;
    if (need_scan(l) || final)
        scan_dir(l);
    l->nlines = 0;
    for (size_t i = 0; i < l->nfiles; i++) {
        size_t before = l->nlines;
        read_file(l, i, final, now.real_ns);
        l->files[i].fresh = l->nlines > before;
    }
    if (l->nlines > 1) /* l->lines is NULL until the first line */
        qsort(l->lines, l->nlines, sizeof *l->lines, line_cmp);
    int64_t prev_mono = floor_mono;
    for (size_t i = 0; i < l->nlines; i++) {
        struct rlog_line *ln = &l->lines[i];
        /* stamped when it was written, within (previous poll, now], never backwards */
        struct moni_stamp at = now;
        int64_t m = now.mono_ns - (now.real_ns - ln->t);
        if (m < prev_mono)
            m = prev_mono;
        if (m > now.mono_ns)
            m = now.mono_ns;
        at.mono_ns = m;
        at.real_ns = now.real_ns - (now.mono_ns - m);
        prev_mono = m;
        const struct rlog_file *f = &l->files[ln->file];
        note_line(l, f, ln->text, ln->len, m);
        if (l->parser)
            lp_parser_line(l->parser, f->name, ln->text, ln->len, at);
        free(ln->text);
    }
    l->nlines = 0;
    /* A traceback is closed by the next line of its file, which may come much later
     * (the worker waits for its next request): close it now, so that it is seen (and
     * triggers faults) when it was written.  Processes write a traceback at once. */
    for (size_t i = 0; l->parser && i < l->nfiles; i++)
        if (final || (l->files[i].fresh && l->files[i].plen == 0))
            lp_parser_flush(l->parser, l->files[i].name);
}

void runner_logs_note_record(struct runner_logs *l, const struct lp_record *rec)
{
    if (!rec->source || rec->severity < LP_SEV_WARNING)
        return;
    size_t n = strlen(rec->source);
    if (n > 4 && !strcmp(rec->source + n - 4, ".log"))
        n -= 4;
    bool known = false;
    for (size_t i = 0; i < l->nworkers && !known; i++)
        known = strlen(l->workers[i].name) == n && !memcmp(l->workers[i].name, rec->source, n);
    if (!known)
        return; /* workload.log and the like: not a process of the pipeline */
    size_t wi = worker_index(l, rec->source, n);
    if (wi == SIZE_MAX)
        return;
    struct runner_worker *w = &l->workers[wi];
    if (rec->severity == LP_SEV_WARNING)
        w->warnings++;
    else
        w->errors++;
    snprintf(w->last_rule, sizeof w->last_rule, "%s", rec->rule_id ? rec->rule_id : "");
    snprintf(w->last_severity, sizeof w->last_severity, "%s", lp_severity_name(rec->severity));
    size_t tl = rec->text_len < sizeof w->last_text - 1 ? rec->text_len : sizeof w->last_text - 1;
    memcpy(w->last_text, rec->text ? rec->text : "", rec->text ? tl : 0);
    w->last_text[rec->text ? tl : 0] = '\0';
    w->last_mono = rec->recv.mono_ns;
}

const struct runner_stage *runner_logs_stage(const struct runner_logs *l)
{
    return &l->stage;
}

const struct runner_worker *runner_logs_workers(const struct runner_logs *l, size_t *n)
{
    *n = l->nworkers;
    return l->workers;
}

void runner_logs_free(struct runner_logs *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nfiles; i++) {
        if (l->files[i].fd >= 0)
            close(l->files[i].fd);
        free(l->files[i].part);
    }
    for (size_t i = 0; i < l->nlines; i++)
        free(l->lines[i].text);
    if (l->ino_fd >= 0)
        close(l->ino_fd);
    free(l->lines);
    free(l->files);
    free(l->workers);
    free(l);
}

/* ---- the same view rebuilt from a recorded run (the console's replay) -------------
 * logs/ *.log give the lines (placed at their in-line time; a line without one, such
 * as a traceback body, at the time of the line before it); the replay passes in the
 * warnings and errors per file from the events.jsonl it reads anyway, at the time the
 * run stamped them.  Both are merged in time order and applied up to the replay
 * clock with the live code above. */
struct replay_item {
    int64_t mono;
    size_t seq;
    size_t file;            /* index into l->files */
    const char *text;       /* into a loaded log, or the event's own copy */
    size_t len;
    bool is_event;
    enum lp_severity severity;
    char rule[48];
};

struct pipeline_replay {
    struct runner_logs *l;
    char **texts; /* the loaded logs and event texts, freed at the end */
    size_t ntexts;
    struct replay_item *items;
    size_t nitems, cap, next;
    bool sorted;
};

static int replay_keep(struct pipeline_replay *p, char *text)
{
    char **v = realloc(p->texts, (p->ntexts + 1) * sizeof *v);
    if (!v) {
        free(text);
        return -1;
    }
    p->texts = v;
    p->texts[p->ntexts++] = text;
    return 0;
}

static struct replay_item *replay_add(struct pipeline_replay *p)
{
    if (p->nitems == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 1024;
        struct replay_item *v = realloc(p->items, nc * sizeof *v);
        if (!v)
            return NULL;
        p->items = v;
        p->cap = nc;
    }
    p->sorted = false;
    struct replay_item *it = &p->items[p->nitems];
    memset(it, 0, sizeof *it);
    it->seq = p->nitems++;
    return it;
}

/* The entry of a recorded file, added if create (events of workload.log are not a
 * process of the pipeline: looked up only). */
static size_t replay_file(struct runner_logs *l, const char *name, bool create)
{
    for (size_t i = 0; i < l->nfiles; i++)
        if (!strcmp(l->files[i].name, name))
            return i;
    return create ? add_file(l, name, -1) : SIZE_MAX;
}

static void replay_load_logs(struct pipeline_replay *p, struct rundir_logs *logs, int64_t offset)
{
    for (const char *name; (name = rundir_logs_next(logs));) {
        size_t fi = replay_file(p->l, name, true);
        if (fi == SIZE_MAX)
            continue;
        size_t len = 0;
        char *text = rundir_logs_read(logs, name, &len);
        if (!text || replay_keep(p, text) < 0)
            continue;
        int64_t last = INT64_MIN; /* lines before the first stamp: at the start */
        for (size_t at = 0; at < len;) {
            const char *s = text + at, *nl = memchr(s, '\n', len - at);
            size_t n = nl ? (size_t)(nl - s) : len - at;
            at += n + 1;
            if (n && s[n - 1] == '\r')
                n--;
            int64_t t;
            if (lp_parse_timestamp(s, n < 64 ? n : 64, last == INT64_MIN ? 0 : last + offset,
                                   &t) == 1)
                last = t - offset;
            struct replay_item *it = replay_add(p);
            if (!it)
                break;
            it->mono = last;
            it->file = fi;
            it->text = s;
            it->len = n;
        }
    }
}

void pipeline_replay_event(struct pipeline_replay *p, int64_t mono, const char *file,
                           const char *rule, const char *severity, const char *text)
{
    if (!p || !file || !severity || !text)
        return;
    enum lp_severity sv = LP_SEV_INFO;
    for (int k = LP_SEV_WARNING; k <= LP_SEV_CRITICAL; k++)
        if (!strcmp(severity, lp_severity_name((enum lp_severity)k)))
            sv = (enum lp_severity)k;
    size_t fi = replay_file(p->l, file, false);
    if (sv < LP_SEV_WARNING || fi == SIZE_MAX)
        return;
    char *copy = strdup(text);
    struct replay_item *it = copy && replay_keep(p, copy) == 0 ? replay_add(p) : NULL;
    if (!it)
        return;
    it->mono = mono;
    it->file = fi;
    it->text = copy;
    it->len = strlen(copy);
    it->is_event = true;
    it->severity = sv;
    snprintf(it->rule, sizeof it->rule, "%s", rule ? rule : "");
}

static int replay_cmp(const void *a, const void *b)
{
    const struct replay_item *x = a, *y = b;
    if (x->mono != y->mono)
        return x->mono < y->mono ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct pipeline_replay *pipeline_replay_open(const char *run_dir, int64_t clock_offset_ns)
{
    struct rundir_logs logs;
    if (rundir_logs_open(&logs, run_dir) < 0)
        return NULL;
    struct pipeline_replay *p = calloc(1, sizeof *p);
    if (p && !(p->l = calloc(1, sizeof *p->l))) {
        free(p);
        p = NULL;
    }
    if (p) {
        p->l->stage.step = -1;
        p->l->ino_fd = -1;
        p->l->ino_dir_wd = -1;
        replay_load_logs(p, &logs, clock_offset_ns);
    }
    rundir_logs_close(&logs);
    return p;
}

void pipeline_replay_advance(struct pipeline_replay *p, int64_t mono)
{
    if (!p)
        return;
    if (!p->sorted) { /* events are added after the logs, before the replay starts */
        if (p->nitems - p->next > 1)
            qsort(p->items + p->next, p->nitems - p->next, sizeof *p->items, replay_cmp);
        p->sorted = true;
    }
    for (; p->next < p->nitems && p->items[p->next].mono <= mono; p->next++) {
        const struct replay_item *it = &p->items[p->next];
        const struct rlog_file *f = &p->l->files[it->file];
        int64_t at = it->mono == INT64_MIN ? mono : it->mono;
        if (!it->is_event) {
            note_line(p->l, f, it->text, it->len, at);
            continue;
        }
        struct lp_record rec = {.rule_id = it->rule, .severity = it->severity,
                                .source = f->name, .text = it->text, .text_len = it->len,
                                .recv = {.mono_ns = at}};
        runner_logs_note_record(p->l, &rec);
    }
}

const struct runner_stage *pipeline_replay_stage(const struct pipeline_replay *p)
{
    return runner_logs_stage(p->l);
}

const struct runner_worker *pipeline_replay_workers(const struct pipeline_replay *p, size_t *n)
{
    return runner_logs_workers(p->l, n);
}

void pipeline_replay_free(struct pipeline_replay *p)
{
    if (!p)
        return;
    runner_logs_free(p->l);
    for (size_t i = 0; i < p->ntexts; i++)
        free(p->texts[i]);
    free(p->texts);
    free(p->items);
    free(p);
}
