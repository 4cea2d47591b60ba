/* logparse/timestamp.c — timestamps inside log lines, hand-parsed (this runs on every
 * line, so no regex): ISO 8601 (also "2026-11-25 21:33:17.123" and ",123"), a bare
 * "[14:30:16.789]", syslog "Nov 25 21:33:17" and glog "I1125 21:33:17.123456". */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "logparse/lp-int.h"

#define DAY_NS (86400LL * MONI_NS_PER_SEC)

static int64_t local_off_ns;
static pthread_once_t local_once = PTHREAD_ONCE_INIT;
static atomic_bool local_ready; /* local_off_ns is set: no pthread_once call a line */

static void local_init(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        local_off_ns = (int64_t)tm.tm_gmtoff * MONI_NS_PER_SEC;
    atomic_store_explicit(&local_ready, true, memory_order_release);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static inline bool isdig(char c) { return c >= '0' && c <= '9'; }

static int num(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdig(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* HH:MM:SS[.frac] at p; returns chars used or 0; *ns = time of day. */
static size_t parse_tod(const char *p, size_t n, int64_t *ns)
{
    if (n < 8 || p[2] != ':' || p[5] != ':')
        return 0;
    int h = num(p, 2), mi = num(p + 3, 2), se = num(p + 6, 2);
    if (h < 0 || mi < 0 || se < 0 || h > 23 || mi > 59 || se > 60)
        return 0;
    size_t k = 8;
    int64_t frac = 0;
    if (k + 1 < n && (p[k] == '.' || p[k] == ',') && isdig(p[k + 1])) {
        int64_t scale = 100000000; /* first digit = 0.1 s */
        k++;
        while (k < n && isdig(p[k])) {
            frac += (p[k] - '0') * scale;
            scale /= 10;
            k++;
        }
    }
    if (k < n && isdig(p[k]))
        return 0;
    *ns = ((int64_t)h * 3600 + mi * 60 + se) * MONI_NS_PER_SEC + frac;
    return k;
}

/* ISO date-time at p. */
static int parse_iso(const char *p, size_t n, int64_t *out, bool *naive)
{
    if (n < 19 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != ' '))
        return 0;
    int y = num(p, 4), mo = num(p + 5, 2), d = num(p + 8, 2);
    if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31) /* ns fit in int64 */
        return 0;
    int64_t tod;
    size_t k = parse_tod(p + 11, n - 11, &tod);
    if (!k)
        return 0;
    k += 11;
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY_NS + tod;
    *naive = true;
    if (k < n && p[k] == 'Z') {
        *naive = false;
    } else if (k + 2 < n && (p[k] == '+' || p[k] == '-') && isdig(p[k + 1]) && isdig(p[k + 2])) {
        int oh = num(p + k + 1, 2), om = 0;
        size_t j = k + 3;
        if (j < n && p[j] == ':')
            j++;
        if (j + 1 < n && isdig(p[j]) && isdig(p[j + 1]))
            om = num(p + j, 2);
        int64_t off = ((int64_t)oh * 3600 + om * 60) * MONI_NS_PER_SEC;
        t -= p[k] == '+' ? off : -off;
        *naive = false;
    }
    *out = t;
    return 1;
}

static int month_of(const char *p)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (!lp_reference_paths && !memchr("JFMASOND", p[0], 8)) /* most lines: no month */
        return 0;
    for (int i = 0; i < 12; i++)
        if (!memcmp(p, months + 3 * i, 3))
            return i + 1;
    return 0;
}

/* A date without a year: pick the year that puts it nearest to ref (or, when ref is
 * the receive time, the latest year that does not put it in the future). */
static int64_t complete_year(unsigned mo, unsigned d, int64_t tod, int64_t ref_local,
                             bool ref_is_now)
{
    int y;
    unsigned rm, rd;
    civil_from_days(ref_local >= 0 ? ref_local / DAY_NS : 0, &y, &rm, &rd);
    int64_t best = 0, bestdist = INT64_MAX;
    for (int dy = -1; dy <= 1; dy++) {
        int64_t t = days_from_civil(y + dy, mo, d) * DAY_NS + tod;
        if (ref_is_now && t - ref_local > DAY_NS)
            continue;
        int64_t dist = t > ref_local ? t - ref_local : ref_local - t;
        if (dist < bestdist) {
            bestdist = dist;
            best = t;
        }
    }
    return best;
}

/* ref_is_now: ref is the receive time, not a date the log gave before: a stamp
 * without a date or a year then belongs to the latest past day or year, never to
 * the future. */
int lp_parse_timestamp_ref(const char *s, size_t len, int64_t ref_ns, bool ref_is_now,
                           int64_t *out_ns)
{
    if (!atomic_load_explicit(&local_ready, memory_order_acquire))
        pthread_once(&local_once, local_init);
    /* torchrun's "[rank3]:" before the stamp */
    if (len > 8 && !memcmp(s, "[rank", 5)) {
        size_t k = 5;
        while (k < len && k < 12 && isdig(s[k]))
            k++;
        if (k > 5 && k + 1 < len && s[k] == ']' && s[k + 1] == ':') {
            s += k + 2;
            len -= k + 2;
        }
    }
    size_t i = 0;
    while (i < len && i < 4 && (s[i] == '[' || s[i] == ' ' || s[i] == '('))
        i++;
    const char *p = s + i;
    size_t n = len - i;
    int64_t t, tod;
    bool naive;
    if (n >= 8 && isdig(p[0])) {
        /* (the first byte each of parse_iso and parse_tod checks, before the call) */
        if (p[4] == '-' && parse_iso(p, n, &t, &naive)) {
            *out_ns = naive ? t - local_off_ns : t;
            return 1;
        }
        if (p[2] == ':' && parse_tod(p, n, &tod)) {
            /* Time of day only: the day nearest to ref. */
            int64_t ref_local = ref_ns + local_off_ns;
            int64_t day = ref_local >= 0 ? ref_local / DAY_NS * DAY_NS : 0;
            t = day + tod;
            if (ref_is_now) {
                if (t - ref_local > 60 * MONI_NS_PER_SEC)
                    t -= DAY_NS;
            } else if (t - ref_local > DAY_NS / 2) {
                t -= DAY_NS;
            } else if (ref_local - t > DAY_NS / 2) {
                t += DAY_NS;
            }
            *out_ns = t - local_off_ns;
            return 1;
        }
    }
    /* glog: I1125 21:33:17.123456 */
    if (n >= 14 && (p[0] == 'I' || p[0] == 'W' || p[0] == 'E' || p[0] == 'F') && p[5] == ' ') {
        int mo = num(p + 1, 2), d = num(p + 3, 2);
        if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && parse_tod(p + 6, n - 6, &tod)) {
            *out_ns = complete_year((unsigned)mo, (unsigned)d, tod, ref_ns + local_off_ns,
                                    ref_is_now) -
                      local_off_ns;
            return 1;
        }
    }
    /* syslog: Nov 25 21:33:17 (day may be space padded) */
    if (n >= 15 && p[3] == ' ') {
        int mo = month_of(p);
        if (mo) {
            const char *q = p + 4;
            int d = q[0] == ' ' ? num(q + 1, 1) : num(q, 2);
            if (d >= 1 && d <= 31 && q[2] == ' ' && parse_tod(q + 3, n - 7, &tod)) {
                *out_ns = complete_year((unsigned)mo, (unsigned)d, tod,
                                        ref_ns + local_off_ns, ref_is_now) -
                          local_off_ns;
                return 1;
            }
        }
    }
    /* An ISO stamp a little further in: "INFO 2026-11-25 ..." or "[rank0] 2026-...". */
    size_t lim = len < 64 ? len : 64;
    if (lp_reference_paths) {
        for (size_t k = i + 1; k + 19 <= len && k < lim; k++) {
            if (s[k] == '2' && (k == 0 || !isdig(s[k - 1])) && s[k + 4] == '-' &&
                parse_iso(s + k, len - k, &t, &naive)) {
                *out_ns = naive ? t - local_off_ns : t;
                return 1;
            }
        }
        return 0;
    }
    /* (k + 19 <= len and k < lim: k stops before min(lim, len - 18); found by memchr) */
    size_t kend = len >= 19 && len - 18 < lim ? len - 18 : len >= 19 ? lim : 0;
    /* the stamp's first '-' is at k + 4: most lines (tqdm bars) have none there */
    if (kend <= i + 1 || !memchr(s + i + 5, '-', kend - i - 1))
        return 0;
    for (size_t k = i + 1; k < kend; k++) {
        const char *two = memchr(s + k, '2', kend - k);
        if (!two)
            break;
        k = (size_t)(two - s);
        if (!isdig(s[k - 1]) && s[k + 4] == '-' && parse_iso(s + k, len - k, &t, &naive)) {
            *out_ns = naive ? t - local_off_ns : t;
            return 1;
        }
    }
    return 0;
}

int lp_parse_timestamp(const char *s, size_t len, int64_t ref_ns, int64_t *out_ns)
{
    return lp_parse_timestamp_ref(s, len, ref_ns, false, out_ns);
}
