/* Unit tests for core's base: units, clock formatting, JSON line numbers, frames and
 * the event loop's drift-free ticker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

static void test_durations(void **state)
{
    (void)state;
    int64_t ns;
    char err[128];
    assert_int_equal(moni_parse_duration("500ms", &ns, err, sizeof err), 0);
    assert_int_equal(ns, 500 * MONI_NS_PER_MS);
    assert_int_equal(moni_parse_duration("30s", &ns, err, sizeof err), 0);
    assert_int_equal(ns, 30 * MONI_NS_PER_SEC);
    assert_int_equal(moni_parse_duration("2m", &ns, err, sizeof err), 0);
    assert_int_equal(ns, 120 * MONI_NS_PER_SEC);
    assert_int_equal(moni_parse_duration("1h", &ns, err, sizeof err), 0);
    assert_int_equal(ns, 3600 * MONI_NS_PER_SEC);
    assert_int_equal(moni_parse_duration("1.5s", &ns, err, sizeof err), 0);
    assert_int_equal(ns, 1500 * MONI_NS_PER_MS);
    assert_int_equal(moni_parse_duration("10", &ns, err, sizeof err), 0);
    assert_int_equal(ns, 10 * MONI_NS_PER_SEC);
    assert_int_equal(moni_parse_duration("10x", &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "10x"));
    assert_int_equal(moni_parse_duration("-1s", &ns, err, sizeof err), -1);
    assert_int_equal(moni_parse_duration("", &ns, err, sizeof err), -1);
    assert_int_equal(moni_parse_duration("inf", &ns, err, sizeof err), -1);
    assert_int_equal(moni_parse_duration("nan", &ns, err, sizeof err), -1);
    assert_int_equal(moni_parse_duration("1e400s", &ns, err, sizeof err), -1);
}

static void test_sizes_rates_percent(void **state)
{
    (void)state;
    uint64_t b;
    double r, p;
    char err[128];
    assert_int_equal(moni_parse_size("512M", &b, err, sizeof err), 0);
    assert_int_equal(b, 512ULL << 20);
    assert_int_equal(moni_parse_size("4G", &b, err, sizeof err), 0);
    assert_int_equal(b, 4ULL << 30);
    assert_int_equal(moni_parse_size("1T", &b, err, sizeof err), 0);
    assert_int_equal(b, 1ULL << 40);
    assert_int_equal(moni_parse_size("100", &b, err, sizeof err), 0);
    assert_int_equal(b, 100);
    assert_int_equal(moni_parse_size("12Q", &b, err, sizeof err), -1);
    assert_int_equal(moni_parse_rate("1G/s", &r, err, sizeof err), 0);
    assert_true(r == 1073741824.0);
    assert_int_equal(moni_parse_rate("200M", &r, err, sizeof err), 0);
    assert_true(r == 200.0 * 1048576.0);
    assert_int_equal(moni_parse_rate("fast", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "fast"));
    assert_int_equal(moni_parse_percent("95%", &p, err, sizeof err), 0);
    assert_true(p == 95.0);
    assert_int_equal(moni_parse_percent("150%", &p, err, sizeof err), 0); /* caller checks range */
    assert_true(p == 150.0);
    assert_int_equal(moni_parse_percent("95%%", &p, err, sizeof err), -1);
    long long v;
    assert_int_equal(moni_parse_int("42", 0, 100, &v, err, sizeof err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(moni_parse_int("420", 0, 100, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of range"));
}

static void test_iso_roundtrip(void **state)
{
    (void)state;
    char buf[MONI_ISO_LEN];
    int64_t t = 1795465997123LL * MONI_NS_PER_MS + 456789; /* sub-ms part dropped */
    moni_fmt_iso(t, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-23T20:33:17.123Z");
    int64_t back;
    assert_int_equal(moni_parse_iso(buf, &back), 0);
    assert_int_equal(back, 1795465997123LL * MONI_NS_PER_MS);
    assert_int_equal(moni_parse_iso("2026-13-01T00:00:00Z", &back), -1);
    assert_int_equal(moni_parse_iso("yesterday", &back), -1);
    /* The two clocks of a stamp agree with the offset. */
    struct moni_stamp a = moni_now(), b = moni_now();
    assert_true(b.mono_ns >= a.mono_ns);
    assert_int_equal(b.real_ns - b.mono_ns, a.real_ns - a.mono_ns);
    assert_int_equal(moni_real_from_mono(a.mono_ns), a.real_ns);
}

/* moni_fmt_iso writes the digits by hand: the same text as the snprintf it replaced,
 * before 1970, at the ends of the stamps' range, and cut short in a small buffer. */
static void ref_iso(int64_t real_ns, char *buf, size_t len)
{
    int64_t sec = real_ns / MONI_NS_PER_SEC, ms = (real_ns % MONI_NS_PER_SEC) / MONI_NS_PER_MS;
    if (ms < 0) {
        ms += 1000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
}

static void test_iso_digits(void **state)
{
    (void)state;
    const int64_t s = MONI_NS_PER_SEC;
    const int64_t ts[] = {0, 1, 999999999, -1, -999999, -1000000, -s - 1,
                          1795465997123LL * MONI_NS_PER_MS, 951782400LL * s + 5 * MONI_NS_PER_MS,
                          -6000000000LL * s + 1, /* 1779 */
                          INT64_MAX - 1,          /* 2262, the last year a stamp reaches */
                          INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        for (size_t len = 1; len <= MONI_ISO_LEN; len++) {
            char a[MONI_ISO_LEN], b[MONI_ISO_LEN];
            memset(a, 'x', sizeof a);
            memset(b, 'x', sizeof b);
            ref_iso(ts[i], a, len);
            moni_fmt_iso(ts[i], b, len);
            assert_memory_equal(a, b, sizeof a);
        }
    for (int64_t t = -3 * s; t < 3 * s; t += 7777777)
        for (int k = 0; k < 2; k++) {
            int64_t v = k ? t + 1700000000LL * s : t;
            char a[MONI_ISO_LEN], b[MONI_ISO_LEN];
            ref_iso(v, a, sizeof a);
            moni_fmt_iso(v, b, sizeof b);
            assert_string_equal(a, b);
        }
}

/* moni_fmt_iso's own calendar (no gmtime_r) prints what gmtime_r and snprintf print:
 * every day boundary, leap days and centuries, negative times (all an int64 of ns holds). */
static void test_iso_fast_same_as_gmtime(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t sec;
        switch (i % 4) {
        case 0: sec = (int64_t)(x % 9200000000ull); break;            /* 1970..2261 */
        case 1: sec = (int64_t)(x % 290) * 86400 * 366 - 1 + (int64_t)(x >> 40) % 3; break;
        case 2: sec = (int64_t)(x % 4102444800ull) / 86400 * 86400 - 1 + i % 3; break;
        default: sec = (int64_t)(x % 18400000000ull) - 9200000000LL; /* before 1970 too */
        }
        int64_t ns = sec * MONI_NS_PER_SEC + (int64_t)(x >> 20) % MONI_NS_PER_SEC;
        char got[MONI_ISO_LEN], want[MONI_ISO_LEN];
        moni_fmt_iso(ns, got, sizeof got);
        int64_t s = ns / MONI_NS_PER_SEC, ms = (ns % MONI_NS_PER_SEC) / MONI_NS_PER_MS;
        if (ms < 0)
            ms += 1000, s -= 1;
        time_t t = (time_t)s;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
        if (strcmp(got, want))
            fail_msg("%lld ns: %s, gmtime_r says %s", (long long)ns, got, want);
    }
    char small[8];
    moni_fmt_iso(0, small, sizeof small); /* a short buffer is cut as snprintf cuts */
    assert_string_equal(small, "1970-01");
}

static void test_json_lines(void **state)
{
    (void)state;
    const char *text = "{\n"
                       "  \"name\": \"x\",\n"
                       "  \"experiments\": [\n"
                       "    {\"name\": \"a\"},\n"
                       "    {\n"
                       "      \"name\": \"b\",\n"
                       "      \"bogus\": 1\n"
                       "    }\n"
                       "  ]\n"
                       "}\n";
    struct moni_json doc;
    char err[256];
    assert_int_equal(moni_json_parse("plan.json", text, strlen(text), &doc, err, sizeof err), 0);
    const cJSON *exps = cJSON_GetObjectItem(doc.root, "experiments");
    assert_int_equal(moni_json_line(&doc, exps), 3);
    const cJSON *second = cJSON_GetArrayItem(exps, 1);
    assert_int_equal(moni_json_line(&doc, cJSON_GetObjectItem(second, "name")), 6);
    static const char *const allowed[] = {"name", NULL};
    assert_int_equal(moni_json_check_keys(&doc, cJSON_GetArrayItem(exps, 0), allowed, err, sizeof err), 0);
    assert_int_equal(moni_json_check_keys(&doc, second, allowed, err, sizeof err), -1);
    assert_string_equal(err, "plan.json:7: bogus: unknown key");
    moni_json_free(&doc);

    const char *bad = "{\n  \"a\": 1,\n  \"b\": ,\n}\n";
    assert_int_equal(moni_json_parse("bad.json", bad, strlen(bad), &doc, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad.json:3:"));
    const char *trunc = "{\n  \"a\": [1, 2";
    assert_int_equal(moni_json_parse("t.json", trunc, strlen(trunc), &doc, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.json:2:"));
}

static void test_frame(void **state)
{
    (void)state;
    struct frame f, g;
    frame_init(&f);
    frame_init(&g);
    int a = frame_add(&f, "cpu_pct", "CPU busy", METRIC_GAUGE);
    int b = frame_add(&f, "mem_used_bytes", "memory used", METRIC_GAUGE);
    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "col%d", i);
        assert_true(frame_add(&f, name, NULL, METRIC_COUNTER) >= 0);
    }
    assert_int_equal(frame_add(&f, "cpu_pct", NULL, METRIC_GAUGE), a);
    assert_int_equal(frame_find(&f, "mem_used_bytes"), b);
    assert_int_equal(frame_find(&f, "nope"), -1);
    double v;
    assert_false(frame_get(&f, a, &v)); /* missing until set */
    frame_set(&f, a, 12.5);
    assert_true(frame_get(&f, a, &v));
    assert_true(v == 12.5);
    frame_set(&f, -1, 3); /* ignored */
    assert_int_equal(frame_copy(&g, &f), 0);
    assert_true(frame_get(&g, a, &v) && v == 12.5);
    assert_false(frame_get(&g, b, &v));
    frame_clear(&f);
    assert_false(frame_get(&f, a, &v));
    frame_free(&f);
    frame_free(&g);
}

struct tick_log {
    int n;
    int64_t first_deadline, last_deadline, period;
    int64_t max_late;
    uint64_t missed, first_missed;
};

static void on_tick(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    struct tick_log *t = arg;
    if (t->n == 0) {
        t->first_deadline = deadline;
        t->first_missed = missed;
    }
    t->last_deadline = deadline;
    t->missed += missed;
    if (now - deadline > t->max_late)
        t->max_late = now - deadline;
    if (++t->n == 20)
        moni_loop_stop(loop);
}

static void test_loop_ticker_is_drift_free(void **state)
{
    (void)state;
    struct moni_loop *loop = moni_loop_new();
    assert_non_null(loop);
    struct tick_log t = {0};
    int64_t period = 10 * MONI_NS_PER_MS;
    int64_t start = moni_mono_ns() + period;
    assert_true(moni_loop_add_ticker(loop, period, start, on_tick, &t) >= 0);
    assert_int_equal(moni_loop_run(loop), 0);
    assert_int_equal(t.n, 20);
    /* a loaded machine may run the first callback after more than one deadline: it
     * then serves the newest and counts the others as missed */
    assert_int_equal(t.first_deadline, start + (int64_t)t.first_missed * period);
    /* Deadlines sit exactly on the grid however late the callbacks ran. */
    assert_int_equal(t.last_deadline, start + (int64_t)(19 + t.missed) * period);
    assert_true(t.max_late >= 0);
    moni_loop_free(loop);
}

static void on_timeout(struct moni_loop *loop, int64_t deadline, int64_t now, uint64_t missed, void *arg)
{
    *(int64_t *)arg = now - deadline;
    moni_loop_stop(loop);
}

static void on_signal(struct moni_loop *loop, int signo, void *arg)
{
    *(int *)arg = signo;
    moni_loop_stop(loop);
}

static void test_loop_timeout_and_signal(void **state)
{
    (void)state;
    struct moni_loop *loop = moni_loop_new();
    int64_t late = -1;
    assert_true(moni_loop_add_timeout(loop, moni_mono_ns() + 5 * MONI_NS_PER_MS, on_timeout, &late) >= 0);
    assert_int_equal(moni_loop_run(loop), 0);
    assert_true(late >= 0 && late < 200 * MONI_NS_PER_MS);
    moni_loop_free(loop);

    loop = moni_loop_new();
    int got = 0;
    int sigs[] = {SIGUSR1};
    assert_true(moni_loop_on_signals(loop, sigs, 1, on_signal, &got) >= 0);
    kill(getpid(), SIGUSR1);
    assert_int_equal(moni_loop_run(loop), 0);
    assert_int_equal(got, SIGUSR1);
    moni_loop_free(loop);
}

static void test_fmt(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(moni_fmt_bytes(1536, buf, sizeof buf), "1.50K");
    assert_string_equal(moni_fmt_bytes(12, buf, sizeof buf), "12B");
    assert_string_equal(moni_fmt_duration(90 * MONI_NS_PER_SEC, buf, sizeof buf), "1m30s");
    assert_string_equal(moni_fmt_duration(250 * MONI_NS_PER_MS, buf, sizeof buf), "250ms");
}

/* A key with a newline in it (found by fuzz_plan) still gives a one-line error. */
static void test_json_error_is_one_line(void **state)
{
    (void)state;
    const char *text = "{\"na\\nme\": 1,\n \"x\\ty\": 2}";
    struct moni_json doc;
    char err[256];
    assert_int_equal(moni_json_parse("p.json", text, strlen(text), &doc, err, sizeof err), 0);
    const char *allowed[] = {"name", NULL};
    assert_int_equal(moni_json_check_keys(&doc, doc.root, allowed, err, sizeof err), -1);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "p.json:1: na?me: unknown key"));
    moni_json_free(&doc);
}

/* moni_strtod_whole against strtod: the same bits (or the same refusal) on fixed
 * edge cases and on 200k random decimals in the shapes samples.csv holds and around
 * the fast path's limits (19 digits, 2^53, 10^22). */
static bool same(const char *s)
{
    char *end;
    double want = strtod(s, &end);
    bool ok_want = end != s && *end == '\0';
    double got = 12345;
    bool ok = moni_strtod_whole(s, &got);
    if (ok != ok_want)
        return false;
    return !ok || (isnan(want) ? isnan(got) : memcmp(&want, &got, sizeof want) == 0);
}

static void test_strtod_whole(void **state)
{
    (void)state;
    static const char *const fixed[] = {
        "0", "-0", "+0", "1", "-1", "0.1", "0.3", ".5", "5.", "-.5", "1e22", "1e23", "1e-22",
        "1e-23", "9007199254740992", "9007199254740993", "18446744073709551615",
        "18446744073709551616", "1234567890123456789", "12345678901234567890",
        "0.000000000000000000000000001", "123.456e-5", "1E5", "1e+5", "1e", "1e+", "e5",
        ".", "-", "", "nan", "inf", "-inf", "0x1p3", "1,5", " 1", "1 ", "3.14159265358979323846",
        "99.9973", "35254272", "1659748.6", "2.2250738585072014e-308", "1e-320", "1e400",
        "0e999999", "00000000000000000000000000012", "1.000000000000000000000000001"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!same(fixed[i]))
            fail_msg("differs from strtod on '%s'", fixed[i]);
    uint64_t r = 88172645463325252ull;
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        int shape = (int)(r % 5);
        uint64_t m = (r >> 8) % (i % 3 == 0 ? 10000000000000000000ull : 100000000ull);
        int e = (int)((r >> 40) % 60) - 30;
        if (shape == 0)
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)m);
        else if (shape == 1)
            snprintf(buf, sizeof buf, "%.*f", (int)((r >> 20) % 12), (double)m / 1e6);
        else if (shape == 2)
            snprintf(buf, sizeof buf, "%.9g", (double)m * pow(10, e));
        else if (shape == 3)
            snprintf(buf, sizeof buf, "-%llue%d", (unsigned long long)m, e);
        else
            snprintf(buf, sizeof buf, "%llu.%llu", (unsigned long long)(m >> 20),
                     (unsigned long long)(m & 0xfffff));
        if (!same(buf))
            fail_msg("differs from strtod on '%s'", buf);
    }
}

/* CSV cells: separated, quoted only when they must be, NaN and infinities empty. */
static void test_csv_row(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    struct moni_csv_row r = {f, 0};
    moni_csv_text(&r, "plain");
    moni_csv_text(&r, "a,b");
    moni_csv_text(&r, "say \"hi\"");
    moni_csv_text(&r, "two\nlines");
    moni_csv_text(&r, "");
    moni_csv_fmt(&r, "%d", 42);
    moni_csv_num(&r, "%.3f", 0.5);
    moni_csv_num(&r, "%.3f", NAN);
    moni_csv_num(&r, "%.3f", INFINITY);
    moni_csv_end(&r);
    moni_csv_text(&r, "next");
    moni_csv_end(&r);
    fclose(f);
    assert_string_equal(text, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,42,0.500,,\nnext\n");
    free(text);
    char err[32];
    assert_int_equal(moni_seterr(err, sizeof err, "%s: %d", "x", 7), -1);
    assert_string_equal(err, "x: 7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strtod_whole),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes_rates_percent),
        cmocka_unit_test(test_iso_roundtrip),
        cmocka_unit_test(test_iso_digits),
        cmocka_unit_test(test_iso_fast_same_as_gmtime),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_loop_ticker_is_drift_free),
        cmocka_unit_test(test_loop_timeout_and_signal),
        cmocka_unit_test(test_fmt),
        cmocka_unit_test(test_json_error_is_one_line),
        cmocka_unit_test(test_csv_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
