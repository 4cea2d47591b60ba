/* core/base.c — errors, the one clock, unit parsing and formatting, files and paths,
 * and the shared option scanner. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

/* ---- errors -------------------------------------------------------------------- */

static const char *progname = "moni";

void moni_set_progname(const char *name)
{
    progname = name;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    char line[4096];
    vsnprintf(line, sizeof line, fmt, ap);
    /* One line, always: a message must never break a log parser's framing. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s: %s%s\n", progname, prefix, line);
}

void moni_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void moni_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

int moni_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- clock --------------------------------------------------------------------- */

static int64_t clock_offset_ns; /* realtime - monotonic, taken once */
static int clock_ready;

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * MONI_NS_PER_SEC + ts->tv_nsec;
}

void moni_clock_init(void)
{
    if (clock_ready)
        return;
    /* Take the offset as the midpoint of two monotonic reads around one realtime
     * read, so it is accurate to well under a microsecond. */
    struct timespec m1, r, m2;
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    clock_offset_ns = ts_ns(&r) - (ts_ns(&m1) + (ts_ns(&m2) - ts_ns(&m1)) / 2);
    clock_ready = 1;
}

int64_t moni_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

struct moni_stamp moni_now(void)
{
    moni_clock_init();
    struct moni_stamp s;
    s.mono_ns = moni_mono_ns();
    s.real_ns = s.mono_ns + clock_offset_ns;
    return s;
}

int64_t moni_real_from_mono(int64_t mono_ns)
{
    moni_clock_init();
    return mono_ns + clock_offset_ns;
}

int64_t moni_mono_from_real(int64_t real_ns)
{
    moni_clock_init();
    return real_ns - clock_offset_ns;
}

/* n as exactly w decimal digits at d (n < 10^w) */
static void put_digits(char *d, unsigned n, int w)
{
    while (w--) {
        d[w] = (char)('0' + n % 10);
        n /= 10;
    }
}

/* moni_fmt_iso for 1970..9999 without gmtime_r and snprintf (`moni parse` prints a
 * stamp per record): days to a civil date as in H. Hinnant's civil_from_days. */
static bool fmt_iso_fast(int64_t sec, int ms, char *buf, size_t len)
{
    if (sec < 0 || sec >= 253402300800LL || len < 25)
        return false;
    int64_t days = sec / 86400, sod = sec % 86400;
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    unsigned y = (unsigned)(yoe + era * 400) + (m <= 2);
    put_digits(buf, y, 4);
    buf[4] = '-';
    put_digits(buf + 5, m, 2);
    buf[7] = '-';
    put_digits(buf + 8, d, 2);
    buf[10] = 'T';
    put_digits(buf + 11, (unsigned)(sod / 3600), 2);
    buf[13] = ':';
    put_digits(buf + 14, (unsigned)(sod / 60 % 60), 2);
    buf[16] = ':';
    put_digits(buf + 17, (unsigned)(sod % 60), 2);
    buf[19] = '.';
    put_digits(buf + 20, (unsigned)ms, 3);
    buf[23] = 'Z';
    buf[24] = '\0';
    return true;
}

char *moni_fmt_iso(int64_t real_ns, char *buf, size_t len)
{
    int64_t sec = real_ns / MONI_NS_PER_SEC;
    int64_t ms = (real_ns % MONI_NS_PER_SEC) / MONI_NS_PER_MS;
    if (ms < 0) {
        ms += 1000;
        sec -= 1;
    }
    if (fmt_iso_fast(sec, (int)ms, buf, len))
        return buf;
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
    return buf;
}

int moni_parse_iso(const char *s, int64_t *real_ns)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return -1;
    const char *p = s + n;
    int64_t frac_ns = 0;
    if (*p == '.') {
        int64_t scale = 100000000;
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            frac_ns += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (*p == 'Z')
        p++;
    if (*p != '\0')
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *real_ns = (int64_t)t * MONI_NS_PER_SEC + frac_ns;
    return 0;
}

void moni_sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {.tv_sec = ns / MONI_NS_PER_SEC, .tv_nsec = ns % MONI_NS_PER_SEC};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* ---- units --------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, const char *s)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, s);
    return -1;
}

/* Parses a finite, non-negative decimal number at the start of s; *end after it. */
static int leading_number(const char *s, double *v, const char **end)
{
    if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
        return -1;
    /* strtod would accept "inf", "nan" and hex; moni's units are plain decimals. */
    const char *p = s;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return -1;
    if ((*p == 'e' || *p == 'E') && (isdigit((unsigned char)p[1]) ||
                                     ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char)p[2])))) {
        p += 2;
        while (isdigit((unsigned char)*p))
            p++;
    }
    char *e;
    errno = 0;
    *v = strtod(s, &e);
    if (errno == ERANGE || !isfinite(*v) || e != p)
        return -1;
    *end = p;
    return 0;
}

bool moni_decimal_exact(uint64_t mant, int exp10, double *out)
{
    /* 10^0..10^22 are exact doubles: mantissa * or / one of them rounds once, right */
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (mant > (1ull << 53) || exp10 < -22 || exp10 > 22)
        return false;
    double v = (double)mant;
    *out = exp10 < 0 ? v / pow10[-exp10] : v * pow10[exp10];
    return true;
}

bool moni_strtod_whole(const char *s, double *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    uint64_t mant = 0;
    int ndig = 0, scale = 0; /* significant digits taken, digits after the point */
    const char *d0 = p;
    while (*p >= '0' && *p <= '9') {
        if (mant || *p != '0') {
            if (++ndig > 19)
                goto slow;
        }
        mant = mant * 10 + (uint64_t)(*p++ - '0');
    }
    bool digits = p > d0;
    if (*p == '.') {
        const char *f0 = ++p;
        while (*p >= '0' && *p <= '9') {
            if (mant || *p != '0') {
                if (++ndig > 19)
                    goto slow;
            }
            mant = mant * 10 + (uint64_t)(*p++ - '0');
            scale++;
        }
        digits = digits || p > f0;
    }
    if (!digits)
        goto slow;
    int exp10 = 0;
    if (*p == 'e' || *p == 'E') {
        const char *e = p + 1;
        bool eneg = *e == '-';
        if (*e == '-' || *e == '+')
            e++;
        if (!(*e >= '0' && *e <= '9'))
            goto slow;
        while (*e >= '0' && *e <= '9') {
            if (exp10 > 1000)
                goto slow;
            exp10 = exp10 * 10 + (*e++ - '0');
        }
        exp10 = eneg ? -exp10 : exp10;
        p = e;
    }
    double v;
    if (*p || !moni_decimal_exact(mant, exp10 - scale, &v))
        goto slow;
    *out = neg ? -v : v;
    return true;
slow:;
    char *end;
    double slow_v = strtod(s, &end);
    if (end == s || *end)
        return false;
    *out = slow_v;
    return true;
}

int moni_parse_duration(const char *s, int64_t *ns, char *err, size_t errlen)
{
    double v;
    const char *u;
    if (leading_number(s, &v, &u) < 0)
        return fail(err, errlen, "'%s' is not a duration (use e.g. 500ms, 30s, 2m, 1h)", s ? s : "");
    double mult;
    if (!strcmp(u, "") || !strcmp(u, "s"))
        mult = 1e9;
    else if (!strcmp(u, "ms"))
        mult = 1e6;
    else if (!strcmp(u, "us"))
        mult = 1e3;
    else if (!strcmp(u, "ns"))
        mult = 1;
    else if (!strcmp(u, "m") || !strcmp(u, "min"))
        mult = 60e9;
    else if (!strcmp(u, "h"))
        mult = 3600e9;
    else if (!strcmp(u, "d"))
        mult = 86400e9;
    else
        return fail(err, errlen, "'%s' is not a duration (use e.g. 500ms, 30s, 2m, 1h)", s);
    double r = v * mult;
    if (r > 9.2e18)
        return fail(err, errlen, "duration '%s' is too long", s);
    *ns = (int64_t)llround(r);
    return 0;
}

static int size_suffix(const char *u, double *mult)
{
    static const struct {
        const char *suffix;
        double mult;
    } table[] = {
        {"", 1},          {"B", 1},
        {"K", 1024.0},    {"k", 1024.0},    {"KB", 1024.0},    {"KiB", 1024.0},
        {"M", 1048576.0}, {"MB", 1048576.0}, {"MiB", 1048576.0}, {"m", 1048576.0},
        {"G", 1073741824.0}, {"GB", 1073741824.0}, {"GiB", 1073741824.0}, {"g", 1073741824.0},
        {"T", 1099511627776.0}, {"TB", 1099511627776.0}, {"TiB", 1099511627776.0},
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(table); i++)
        if (!strcmp(u, table[i].suffix)) {
            *mult = table[i].mult;
            return 0;
        }
    return -1;
}

int moni_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
    double v, mult;
    const char *u;
    if (leading_number(s, &v, &u) < 0 || size_suffix(u, &mult) < 0)
        return fail(err, errlen, "'%s' is not a size (use e.g. 512M, 4G; K M G T are powers of 1024)",
                    s ? s : "");
    double r = v * mult;
    if (r > 1.8e19)
        return fail(err, errlen, "size '%s' is too large", s);
    *bytes = (uint64_t)llround(r);
    return 0;
}

int moni_parse_rate(const char *s, double *bytes_per_s, char *err, size_t errlen)
{
    double v, mult;
    const char *u;
    char unit[32];
    if (leading_number(s, &v, &u) < 0)
        return fail(err, errlen, "'%s' is not a rate (use e.g. 1G/s, 200M/s)", s ? s : "");
    size_t ul = strlen(u);
    if (ul >= sizeof unit)
        return fail(err, errlen, "'%s' is not a rate (use e.g. 1G/s, 200M/s)", s);
    memcpy(unit, u, ul + 1);
    if (ul >= 2 && !strcmp(unit + ul - 2, "/s"))
        unit[ul - 2] = '\0';
    else if (ul >= 2 && !strcmp(unit + ul - 2, "ps"))
        unit[ul - 2] = '\0';
    if (size_suffix(unit, &mult) < 0)
        return fail(err, errlen, "'%s' is not a rate (use e.g. 1G/s, 200M/s)", s);
    *bytes_per_s = v * mult;
    return 0;
}

int moni_parse_percent(const char *s, double *pct, char *err, size_t errlen)
{
    double v;
    const char *u;
    if (leading_number(s, &v, &u) < 0 || (strcmp(u, "%") && strcmp(u, "")))
        return fail(err, errlen, "'%s' is not a percentage (use e.g. 95%%)", s ? s : "");
    *pct = v;
    return 0;
}

int moni_parse_double(const char *s, double *out, char *err, size_t errlen)
{
    char *e;
    if (!s || !*s || isspace((unsigned char)*s))
        return fail(err, errlen, "'%s' is not a number", s ? s : "");
    errno = 0;
    double v = strtod(s, &e);
    if (*e || errno == ERANGE)
        return fail(err, errlen, "'%s' is not a number", s);
    *out = v;
    return 0;
}

int moni_parse_int(const char *s, long long lo, long long hi, long long *out, char *err,
                   size_t errlen)
{
    char *e;
    if (!s || !*s || isspace((unsigned char)*s))
        return fail(err, errlen, "'%s' is not a whole number", s ? s : "");
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (*e || errno == ERANGE)
        return fail(err, errlen, "'%s' is not a whole number", s);
    if (v < lo || v > hi) {
        if (err && errlen)
            snprintf(err, errlen, "%lld is out of range (%lld..%lld)", v, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

char *moni_fmt_bytes(double b, char *buf, size_t len)
{
    static const char units[] = "BKMGTP";
    int u = 0;
    double v = b < 0 ? -b : b;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (b < 0)
        v = -v;
    if (u == 0)
        snprintf(buf, len, "%.0fB", v);
    else if (v >= 100 || v <= -100)
        snprintf(buf, len, "%.0f%c", v, units[u]);
    else if (v >= 10 || v <= -10)
        snprintf(buf, len, "%.1f%c", v, units[u]);
    else
        snprintf(buf, len, "%.2f%c", v, units[u]);
    return buf;
}

char *moni_fmt_duration(int64_t ns, char *buf, size_t len)
{
    if (ns < 0)
        ns = 0;
    if (ns < MONI_NS_PER_SEC) {
        snprintf(buf, len, "%lldms", (long long)(ns / MONI_NS_PER_MS));
        return buf;
    }
    long long s = ns / MONI_NS_PER_SEC;
    if (s < 60)
        snprintf(buf, len, "%llds", s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
    else
        snprintf(buf, len, "%lldh%02lldm", s / 3600, (s / 60) % 60);
    return buf;
}

/* ---- files and paths ----------------------------------------------------------- */

int moni_mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(tmp, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Opens without blocking (a FIFO's open() would wait for a writer), refuses what is not
 * a regular file, and reads at most max bytes.  errno: EINVAL for a non-regular file,
 * EFBIG past max. */
static char *read_file_max(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return NULL;
    }
    if (st.st_size > 0 && (uint64_t)st.st_size > max) {
        close(fd);
        errno = EFBIG;
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = cap > max ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                errno = cap > max ? EFBIG : ENOMEM;
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) { /* it grew while we read (a /proc file cannot get here) */
            free(buf);
            close(fd);
            errno = EFBIG;
            return NULL;
        }
    }
    close(fd);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *moni_read_file(const char *path, size_t *len)
{
    return read_file_max(path, MONI_READ_FILE_MAX, len);
}

char *moni_read_input(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    char *text = read_file_max(path, max, len);
    if (text)
        return text;
    char lim[32];
    if (errno == EFBIG)
        snprintf(err, errlen, "%s: larger than the %s limit for this input", path,
                 moni_fmt_bytes((double)max, lim, sizeof lim));
    else if (errno == EINVAL)
        snprintf(err, errlen, "%s: not a regular file", path);
    else
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    return NULL;
}

int moni_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int moni_exe_dir(char *out, size_t len)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if (strlen(buf) + 1 > len)
        return -1;
    strcpy(out, buf);
    return 0;
}

/* The path found, resolved when it fits (else as found); -1 when even that does not. */
static int copy_found(const char *cand, char *out, size_t len)
{
    if (strlen(cand) + 1 > len)
        return -1;
    char *real = realpath(cand, NULL);
    if (real && strlen(real) + 1 <= len)
        strcpy(out, real);
    else
        strcpy(out, cand);
    free(real);
    return 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int moni_data_dir(const char *kind, char *out, size_t len)
{
    /* Source-tree location of each kind of data, for running from a build dir. */
    const char *tree = !strcmp(kind, "rules") ? "logparse/rules" : kind;
    char cand[PATH_MAX];
    const char *env = getenv("MONI_DATA_DIR");
    if (env && *env) {
        snprintf(cand, sizeof cand, "%s/%s", env, kind);
        if (is_dir(cand))
            goto found;
        snprintf(cand, sizeof cand, "%s/%s", env, tree); /* a source tree */
        if (is_dir(cand))
            goto found;
    }
    /* A source tree named explicitly (the test runner sets it for builds kept
     * outside the tree, e.g. make BUILD=/tmp/b). */
    const char *src = getenv("MONI_SRC");
    if (src && *src) {
        snprintf(cand, sizeof cand, "%s/%s", src, tree);
        if (is_dir(cand))
            goto found;
    }
    char exe[PATH_MAX];
    if (moni_exe_dir(exe, sizeof exe) == 0) {
        /* build/moni -> ../logparse/rules; also ASan builds and build/tests/... */
        static const char *const ups[] = {"..", "../..", "."};
        for (size_t i = 0; i < MONI_ARRAY_LEN(ups); i++) {
            snprintf(cand, sizeof cand, "%s/%s/%s", exe, ups[i], tree);
            char probe[PATH_MAX + 16];
            snprintf(probe, sizeof probe, "%s/%s/Makefile", exe, ups[i]);
            if (is_dir(cand) && access(probe, F_OK) == 0)
                goto found;
        }
        snprintf(cand, sizeof cand, "%s/../share/moni/%s", exe, kind);
        if (is_dir(cand))
            goto found;
    }
    snprintf(cand, sizeof cand, "%s/share/moni/%s", MONI_PREFIX, kind);
    if (is_dir(cand))
        goto found;
    return -1;
found:
    return copy_found(cand, out, len);
}

int moni_find_program(const char *name, char *out, size_t len)
{
    char cand[PATH_MAX];
    char exe[PATH_MAX];
    if (moni_exe_dir(exe, sizeof exe) == 0) {
        snprintf(cand, sizeof cand, "%s/%s", exe, name);
        if (access(cand, X_OK) == 0)
            goto found;
        /* unit tests live in build/tests/ */
        snprintf(cand, sizeof cand, "%s/../%s", exe, name);
        if (access(cand, X_OK) == 0)
            goto found;
    }
    const char *path = getenv("PATH");
    if (path) {
        const char *p = path;
        while (*p) {
            const char *colon = strchr(p, ':');
            size_t n = colon ? (size_t)(colon - p) : strlen(p);
            if (n > 0 && n < sizeof cand - strlen(name) - 2) {
                snprintf(cand, sizeof cand, "%.*s/%s", (int)n, p, name);
                if (access(cand, X_OK) == 0)
                    goto found;
            }
            p += n;
            if (*p == ':')
                p++;
        }
    }
    return -1;
found:
    return copy_found(cand, out, len);
}

int moni_config_dir(const char *sub, char *out, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    int n;
    if (xdg && *xdg) {
        n = snprintf(out, len, "%s/moni%s%s", xdg, sub && *sub ? "/" : "", sub ? sub : "");
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return -1;
        n = snprintf(out, len, "%s/.config/moni%s%s", home, sub && *sub ? "/" : "", sub ? sub : "");
    }
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

