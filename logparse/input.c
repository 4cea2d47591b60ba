/* logparse/input.c — reading logs: a tail -F follower that survives truncation and
 * rotation, and whole files / run directories parsed into a record set. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logparse/lp-int.h"

#define CHUNK 65536

/* ---- tail -F ------------------------------------------------------------------- */
struct lp_follow {
    char *path;
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off;
    bool from_start;
};

static void follow_reopen(struct lp_follow *f, bool at_end)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    f->off = 0;
    if (f->fd < 0)
        return;
    struct stat st;
    if (fstat(f->fd, &st) == 0) {
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        if (at_end && S_ISREG(st.st_mode))
            f->off = lseek(f->fd, 0, SEEK_END);
    }
}

struct lp_follow *lp_follow_open(const char *path, bool from_start)
{
    struct lp_follow *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return NULL;
    }
    f->fd = -1;
    f->from_start = from_start;
    follow_reopen(f, !from_start);
    return f;
}

void lp_follow_close(struct lp_follow *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
    free(f);
}

long lp_follow_poll(struct lp_follow *f, struct lp_parser *p, const char *source, size_t max)
{
    if (f->fd < 0) {
        follow_reopen(f, false); /* appeared later: read it all */
        if (f->fd < 0)
            return 0;
    }
    struct stat st;
    if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < f->off) {
        /* truncated (copytruncate or "> file"): start over */
        f->off = lseek(f->fd, 0, SEEK_SET);
        if (f->off < 0)
            f->off = 0;
    }
    char buf[CHUNK];
    long total = 0;
    for (;;) {
        size_t want = sizeof buf;
        if (max && (size_t)total + want > max)
            want = max - (size_t)total;
        if (!want)
            return total;
        ssize_t n = read(f->fd, buf, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return total ? total : -1;
        }
        if (n == 0)
            break;
        f->off += n;
        total += n;
        lp_parser_feed(p, source, buf, (size_t)n, moni_now());
    }
    /* At EOF: has the name moved on to a new file (rotation)? */
    struct stat ps;
    if (stat(f->path, &ps) == 0 && (ps.st_ino != f->ino || ps.st_dev != f->dev)) {
        follow_reopen(f, false);
        long more = lp_follow_poll(f, p, source, max ? (max > (size_t)total ? max - (size_t)total : 1) : 0);
        if (more > 0)
            total += more;
    }
    return total;
}

/* ---- whole files --------------------------------------------------------------- */
struct collect {
    struct lp_recset *set;
    unsigned kinds;
    int failed;
};

static void collect_cb(const struct lp_record *r, void *arg)
{
    struct collect *c = arg;
    if (!(c->kinds & LP_KIND_BIT(r->kind)))
        return;
    if (lp_recset_add(c->set, r) < 0)
        c->failed = 1;
}

static int parse_file(struct lp_parser *p, const char *path, const char *source, char *err,
                      size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: is a directory", path);
        return -1;
    }
    char *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        lp_parser_feed(p, source, buf, (size_t)n, moni_now());
    }
    free(buf);
    close(fd);
    lp_parser_flush(p, source);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses every *.log of dir (sorted, except skip); counts them in *found. */
static int parse_logs_in(struct lp_parser *p, const char *dir, const char *skip, int *found,
                         char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".log") || (skip && !strcmp(de->d_name, skip)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    char path[4096];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = parse_file(p, path, names[i], err, errlen);
            (*found)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* RUN_DIR: workload.log, RUN_DIR/logs/ *.log and other *.log next to workload.log
 * (moni-rlsim's --log-dir layout). */
static int parse_dir(struct lp_parser *p, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    int found = 0;
    /* moni-rlsim's controller prints its log on stdout too: with logs/controller.log
     * present, workload.log is that copy (plus a status line) and would count twice */
    snprintf(path, sizeof path, "%s/logs/controller.log", dir);
    bool copy = access(path, F_OK) == 0;
    snprintf(path, sizeof path, "%s/workload.log", dir);
    if (!copy && access(path, F_OK) == 0) {
        if (parse_file(p, path, "workload.log", err, errlen) < 0)
            return -1;
        found++;
    }
    snprintf(path, sizeof path, "%s/logs", dir);
    if (parse_logs_in(p, path, NULL, &found, err, errlen) < 0 ||
        parse_logs_in(p, dir, "workload.log", &found, err, errlen) < 0)
        return -1;
    if (!found) {
        snprintf(err, errlen, "%s: no workload.log and no *.log or logs/*.log in this directory",
                 dir);
        return -1;
    }
    return 0;
}

int lp_parse_paths(const struct lp_rules *rules, const char *const *paths, size_t n,
                   unsigned kinds, struct lp_recset *set, char *err, size_t errlen)
{
    struct collect c = {.set = set, .kinds = kinds ? kinds : LP_KINDS_ALL};
    struct lp_parser *p = lp_parser_new(rules, collect_cb, &c);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;
        if (stat(paths[i], &st) < 0) {
            snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = parse_dir(p, paths[i], err, errlen);
        } else {
            rc = parse_file(p, paths[i], base_name(paths[i]), err, errlen);
        }
    }
    lp_parser_free(p);
    if (rc == 0 && c.failed) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0)
        lp_recset_sort(set);
    return rc;
}
