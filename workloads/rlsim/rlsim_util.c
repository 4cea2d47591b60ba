/* workloads/rlsim/rlsim_util.c — logging, clocks, CPU work and the control file. */
#include "workloads/rlsim/rlsim.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *log_fp;
static int log_tee;
static char log_name[64] = "rlsim";
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

int rlsim_log_open(const char *dir, const char *name, int tee_stdout)
{
    char path[RLSIM_PATH_MAX + 80];
    snprintf(log_name, sizeof log_name, "%s", name);
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    log_fp = fopen(path, "ae");
    log_tee = tee_stdout;
    if (!log_fp)
        return -1;
    setvbuf(log_fp, NULL, _IOLBF, 0);
    return 0;
}

const char *rlsim_log_name(void) { return log_name; }

void rlsim_fmt_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03ld", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000);
}

static void log_emit(const char *text)
{
    if (log_fp) {
        fputs(text, log_fp);
        fflush(log_fp);
    }
    if (log_tee) {
        fputs(text, stdout);
        fflush(stdout);
    }
}

void rlsim_log(enum rlsim_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"INFO", "WARNING", "ERROR"};
    char ts[40], msg[4096], line[4300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rlsim_fmt_time(ts, sizeof ts);
    snprintf(line, sizeof line, "%s %s [%s] %s\n", ts, names[lvl], log_name, msg);
    pthread_mutex_lock(&log_mu);
    log_emit(line);
    pthread_mutex_unlock(&log_mu);
}

void rlsim_log_traceback(const char *what, const char *const *frames, const char *exc_line)
{
    char ts[40], line[4300];
    rlsim_fmt_time(ts, sizeof ts);
    pthread_mutex_lock(&log_mu);
    snprintf(line, sizeof line, "%s ERROR [%s] %s\n", ts, log_name, what);
    log_emit(line);
    log_emit("Traceback (most recent call last):\n");
    for (int i = 0; frames && frames[i]; i++) {
        snprintf(line, sizeof line, "%s\n", frames[i]);
        log_emit(line);
    }
    snprintf(line, sizeof line, "%s\n", exc_line);
    log_emit(line);
    pthread_mutex_unlock(&log_mu);
}

int64_t rlsim_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rlsim_sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

uint64_t rlsim_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

uint64_t rlsim_burn_cpu_ms(double ms)
{
    volatile uint64_t acc = 0;
    uint64_t s = 88172645463325252ull;
    double end = thread_cpu_ms() + ms;
    while (thread_cpu_ms() < end)
        for (int i = 0; i < 20000; i++)
            acc += rlsim_rand(&s);
    return acc;
}

/* ---- control file ---------------------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* Does file key "role.ID.name" (or "role.name") match? ID may be '*'. */
static int key_matches(const char *k, const char *role, int id, const char *name)
{
    size_t rl = strlen(role);
    if (strncmp(k, role, rl) || k[rl] != '.')
        return 0;
    k += rl + 1;
    if (id >= 0) {
        if (*k == '*')
            k++;
        else {
            char *end;
            long v = strtol(k, &end, 10);
            if (end == k || v != id)
                return 0;
            k = end;
        }
        if (*k != '.')
            return 0;
        k++;
    }
    return strcmp(k, name) == 0;
}

int rlsim_ctl_lookup(const char *path, const char *role, int id, const char *name, int step,
                     char *val, size_t vlen)
{
    if (!path || !*path)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        if (!key_matches(k, role, id, name))
            continue;
        char *at = strrchr(v, '@');
        if (at) {
            *at = 0;
            if (step < atoi(at + 1))
                continue;
            v = trim(v);
        }
        snprintf(val, vlen, "%s", v);
        found = 0; /* the last matching line wins */
    }
    fclose(f);
    return found;
}

double rlsim_ctl_num(const char *path, const char *role, int id, const char *name, int step,
                     double dflt)
{
    char v[128];
    if (rlsim_ctl_lookup(path, role, id, name, step, v, sizeof v))
        return dflt;
    uint64_t b;
    if (strpbrk(v, "KMGTkmgt") && rlsim_parse_size(v, &b) == 0)
        return (double)b;
    char *end;
    double d = strtod(v, &end);
    return end == v ? dflt : d;
}

const char *rlsim_role_name(enum rlsim_role r)
{
    switch (r) {
    case RLSIM_TRAIN: return "train_worker";
    case RLSIM_ROLLOUT: return "rollout_worker";
    case RLSIM_SCHEDULER: return "scheduler";
    default: return "controller";
    }
}
