/* core/jsonw.c — JSON lines built by hand in a growable buffer (base layer): string
 * bodies escaped word-at-a-time and numbers, for the writers that run per log line
 * (`moni parse`, events.jsonl), where building a cJSON tree per line was most of
 * their cost.  Two string flavours: moni_jb_str (invalid UTF-8 becomes U+FFFD) and
 * moni_jb_str_cjson / moni_jb_num_cjson, which write exactly the bytes cJSON 1.7's
 * cJSON_PrintUnformatted writes, so a file once written through cJSON keeps its
 * format.  Never reads or writes a file itself. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"

bool moni_jb_grow(struct moni_jbuf *j, size_t more)
{
    size_t nc = j->cap ? j->cap : 4096;
    while (nc < j->n + more)
        nc *= 2;
    char *nb = realloc(j->b, nc);
    if (!nb) {
        j->oom = true;
        return false;
    }
    j->b = nb;
    j->cap = nc;
    return true;
}

void moni_jb_free(struct moni_jbuf *j)
{
    free(j->b);
    *j = (struct moni_jbuf){0};
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero when some byte of x is zero, or below 0x20 (exact word-at-a-time tests:
 * the first byte that borrows is a real hit, whatever the later ones do). */
static inline uint64_t has_zero(uint64_t x) { return (x - ONES) & ~x & HIGHS; }
static inline uint64_t has_ctl(uint64_t x) { return (x - ONES * 0x20) & ~x & HIGHS; }

/* True when none of the 8 bytes of x needs escaping: no quote, backslash or control
 * byte, and (strict) no byte >= 0x80 either. */
static inline bool plain8(uint64_t x, bool strict)
{
    uint64_t bad = has_ctl(x) | has_zero(x ^ (ONES * '"')) | has_zero(x ^ (ONES * '\\'));
    if (strict)
        bad |= x & HIGHS;
    return !bad;
}

static const char hexdig[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s[i] (n bytes in all), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t i, size_t n)
{
    unsigned char c = s[i];
    size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (!len || i + len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
    unsigned char c1 = s[i + 1];
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || /* overlong, surrogates */
        (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))
        return 0;
    return len;
}

void moni_jb_str(struct moni_jbuf *j, const char *s, size_t n)
{
    /* worst case: every byte becomes \u00XX (6) or U+FFFD (3) */
    if (!moni_jb_room(j, 6 * n + 2))
        return;
    char *d = j->b + j->n;
    *d++ = '"';
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) { /* eight plain bytes at a time */
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (plain8(x, true)) {
                memcpy(d, &x, 8);
                d += 8;
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *d++ = (char)c;
            i++;
        } else if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
            i++;
        } else if (c < 0x20) {
            memcpy(d, "\\u00", 4);
            d[4] = hexdig[c >> 4];
            d[5] = hexdig[c & 15];
            d += 6;
            i++;
        } else {
            size_t len = utf8_len((const unsigned char *)s, i, n);
            if (len) {
                memcpy(d, s + i, len);
                d += len;
                i += len;
            } else {
                memcpy(d, "\xef\xbf\xbd", 3);
                d += 3;
                i++;
            }
        }
    }
    *d++ = '"';
    j->n = (size_t)(d - j->b);
}

void moni_jb_str_cjson(struct moni_jbuf *j, const char *s, size_t n)
{
    if (!moni_jb_room(j, 6 * n + 2))
        return;
    char *d = j->b + j->n;
    *d++ = '"';
    for (size_t i = 0; i < n;) {
        if (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (plain8(x, false)) {
                memcpy(d, &x, 8);
                d += 8;
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i++];
        if (!c)
            break; /* a C string to cJSON: it ends here */
        if (c >= 0x20 && c != '"' && c != '\\') {
            *d++ = (char)c;
            continue;
        }
        *d++ = '\\';
        switch (c) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\b': *d++ = 'b'; break;
        case '\f': *d++ = 'f'; break;
        case '\n': *d++ = 'n'; break;
        case '\r': *d++ = 'r'; break;
        case '\t': *d++ = 't'; break;
        default:
            memcpy(d, "u00", 3);
            d[3] = hexdig[c >> 4];
            d[4] = hexdig[c & 15];
            d += 5;
        }
    }
    *d++ = '"';
    j->n = (size_t)(d - j->b);
}

char *moni_put_u64(char *d, unsigned long long v)
{
    /* two digits a division, straight into place: a line number per `moni parse`
     * record */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    size_t len = 1;
    for (unsigned long long p = 10; len < 20 && v >= p; p *= 10)
        len++;
    char *e = d + len, *q = e;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(q - 2, pairs + 2 * v, 2);
    else
        q[-1] = (char)('0' + v);
    return e;
}

void moni_jb_u64(struct moni_jbuf *j, unsigned long long v)
{
    if (moni_jb_room(j, 20))
        j->n = (size_t)(moni_put_u64(j->b + j->n, v) - j->b);
}

void moni_jb_i64(struct moni_jbuf *j, long long v)
{
    if (v < 0) {
        moni_jb_putc(j, '-');
        moni_jb_u64(j, 0ull - (unsigned long long)v);
    } else {
        moni_jb_u64(j, (unsigned long long)v);
    }
}

/* The usual log number (0.6931, 5e-05 is not one: it has an exponent) without
 * stdio: d written with k <= 15 decimals, k the least that reads back as d exactly.
 * When that decimal S has at most 15 significant digits, "%1.15g" prints S too
 * (d lies within half an ulp of S, far inside half a unit of the 15th digit) and
 * S reads back as d, so cJSON keeps it.  False when d is not such a number. */
static bool short_decimal(struct moni_jbuf *j, double d)
{
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15)) /* "%g" switches to an exponent outside */
        return false;
    double p10 = 1;
    for (int k = 1; k <= 15; k++) {
        p10 *= 10; /* exact up to 1e22 */
        double r = nearbyint(a * p10);
        if (r >= 1e15) /* more than 15 significant digits */
            return false;
        if (r / p10 != a)
            continue;
        char b[40], *e = b + sizeof b, *q = e;
        uint64_t u = (uint64_t)r;
        while (u % 10 == 0) { /* the product rounded past a shorter k: same value */
            u /= 10;
            k--;
        }
        for (int i = 0; i < k; i++) {
            *--q = (char)('0' + u % 10);
            u /= 10;
        }
        *--q = '.';
        do {
            *--q = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (d < 0)
            *--q = '-';
        moni_jb_put(j, q, (size_t)(e - q));
        return true;
    }
    return false;
}

void moni_jb_num_cjson(struct moni_jbuf *j, double d)
{
    if (isnan(d) || isinf(d)) {
        moni_jb_put(j, "null", 4);
        return;
    }
    /* an integer below 1e15 is what "%1.15g" prints, exactly ("-0" stays "-0") */
    if (fabs(d) < 1e15 && d == trunc(d) && !(d == 0 && signbit(d))) {
        moni_jb_i64(j, (long long)d);
        return;
    }
    if (short_decimal(j, d))
        return;
    /* cJSON: 15 significant digits when they read back within an epsilon, else 17;
     * both formatted and read in the current locale, the decimal point then '.' */
    char b[32];
    int len = snprintf(b, sizeof b, "%1.15g", d);
    double t = strtod(b, NULL);
    double m = fabs(t) > fabs(d) ? fabs(t) : fabs(d);
    if (!(fabs(t - d) <= m * DBL_EPSILON))
        len = snprintf(b, sizeof b, "%1.17g", d);
    if (len <= 0 || (size_t)len >= sizeof b)
        return;
    char dp = localeconv()->decimal_point[0];
    if (dp != '.')
        for (int i = 0; i < len; i++)
            if (b[i] == dp)
                b[i] = '.';
    moni_jb_put(j, b, (size_t)len);
}
