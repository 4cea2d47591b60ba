/* Unit tests for the events.jsonl line format the runner writes (and the dataset
 * builder reads): both clocks first and exact, non-finite numbers as text, the
 * phase on phase records only, labels by name; and the hand-written writer gives
 * the very bytes the former cJSON writer (kept here as the reference) gave, on
 * random hostile records: control bytes, quotes, backslashes, invalid UTF-8,
 * NULs, duplicate and missing field names, every kind of double, long lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/runner-int.h"
#include "logparse/logparse.h"

/* ---- the reference: events.jsonl as written through cJSON until the writer was
 * hand-rolled (verbatim but for the names) ---------------------------------------- */

static cJSON *ref_num_or_text(double v)
{
    if (isnan(v))
        return cJSON_CreateString("nan");
    if (isinf(v))
        return cJSON_CreateString(v > 0 ? "inf" : "-inf");
    return cJSON_CreateNumber(v);
}

static size_t ref_event_json(const struct lp_record *rec, char *buf, size_t len)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !len)
        return 0;
    cJSON_AddStringToObject(o, "file", rec->source ? rec->source : "");
    cJSON_AddNumberToObject(o, "line", (double)rec->line_no);
    if (rec->first_line_no && rec->first_line_no != rec->line_no)
        cJSON_AddNumberToObject(o, "first_line", (double)rec->first_line_no);
    cJSON_AddStringToObject(o, "rule", rec->rule_id ? rec->rule_id : "");
    cJSON_AddStringToObject(o, "kind", lp_kind_name(rec->kind));
    cJSON_AddStringToObject(o, "event", rec->event ? rec->event : "");
    cJSON_AddStringToObject(o, "severity", lp_severity_name(rec->severity));
    cJSON *labels = cJSON_AddArrayToObject(o, "labels");
    for (int l = 0; l < LP_NLABELS; l++)
        if (rec->labels & LP_LABEL_BIT(l))
            cJSON_AddItemToArray(labels, cJSON_CreateString(lp_label_name((enum lp_label)l)));
    if (rec->kind == LP_KIND_PHASE)
        cJSON_AddStringToObject(o, "phase", lp_phase_name(rec->phase));
    if (rec->action && rec->action[0])
        cJSON_AddStringToObject(o, "action", rec->action);
    if (rec->has_time) {
        char iso[MONI_ISO_LEN];
        cJSON_AddStringToObject(o, "time", moni_fmt_iso(rec->time_ns, iso, sizeof iso));
    } else {
        cJSON_AddNullToObject(o, "time");
    }
    cJSON *fields = cJSON_AddObjectToObject(o, "fields");
    for (size_t i = 0; i < rec->nfields; i++) {
        const struct lp_field *f = &rec->fields[i];
        if (!f->name || cJSON_GetObjectItemCaseSensitive(fields, f->name))
            continue;
        cJSON_AddItemToObject(fields, f->name,
                              f->is_num ? ref_num_or_text(f->num)
                                        : cJSON_CreateString(f->text ? f->text : ""));
    }
    size_t tl = rec->text_len < 1024 ? rec->text_len : 1024;
    char *text = malloc(tl + 1);
    if (text) {
        memcpy(text, rec->text ? rec->text : "", rec->text ? tl : 0);
        text[rec->text ? tl : 0] = '\0';
        cJSON_AddStringToObject(o, "text", text);
        free(text);
    }
    if (rec->truncated)
        cJSON_AddTrueToObject(o, "truncated");
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body)
        return 0;
    char iso[MONI_ISO_LEN];
    moni_fmt_iso(rec->recv.real_ns, iso, sizeof iso);
    int n = snprintf(buf, len, "{\"timestamp\":\"%s\",\"mono_ns\":%lld,%s", iso,
                     (long long)rec->recv.mono_ns, body + 1);
    free(body);
    if (n < 0 || (size_t)n >= len)
        return 0;
    return (size_t)n;
}

/* ---- random hostile records ---------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A string of up to max bytes drawn from pieces that need escaping (or not). */
static void rnd_str(char *out, size_t max, size_t *len_out)
{
    static const char *const pieces[] = {
        "loss", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1b[31m",
        "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc0\xaf",
        "\xed\xa0\x80", "\xe0\x80", "\xf4\x90\x80\x80", "\x80", "abcdefghijklmnop",
        "{'loss': 0.5}", "\\u0000", "12345678",
    };
    size_t n = 0, target = rnd() % (max + 1);
    while (n < target) {
        if (rnd() % 23 == 0) { /* a random byte, NUL included */
            out[n++] = (char)(rnd() & 0xff);
            continue;
        }
        const char *p = pieces[rnd() % MONI_ARRAY_LEN(pieces)];
        size_t pl = strlen(p);
        if (n + pl > target)
            break;
        memcpy(out + n, p, pl);
        n += pl;
    }
    out[n] = '\0';
    *len_out = n;
}

static double rnd_double(void)
{
    static const double special[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.30000000000000004, 5e-05,
                                     1e15, 1e15 - 1, -1e15, 1e16, 2147483647.0, 2147483648.0,
                                     -2147483649.0, 9007199254740993.0, 1e300, -1e-300,
                                     4.9e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                                     1.0 / 3, 2.0 / 3, 123.456, 0.6931471805599453};
    switch (rnd() % 6) {
    case 0:
        return special[rnd() % MONI_ARRAY_LEN(special)];
    case 1: { /* any bit pattern: nan, inf and denormals included */
        uint64_t b = rnd();
        double d;
        memcpy(&d, &b, sizeof d);
        return d;
    }
    case 2:
        return (double)(int64_t)(rnd() % 2000001) - 1000000.0;
    case 3:
        return (double)(rnd() % 100000) / 1000.0;
    case 4:
        return rnd() % 2 ? INFINITY : rnd() % 2 ? -INFINITY : NAN;
    default:
        return ((double)(rnd() >> 11) / 9007199254740992.0 - 0.5) * pow(10, (int)(rnd() % 40) - 20);
    }
}

static void test_same_bytes_as_cjson(void **state)
{
    (void)state;
    static const char *const names[] = {"loss", "learning_rate", "epoch", "step", "loss",
                                        "grad_norm", "a\"b", "\x1b", "\xff", ""};
    enum { NF = 12, TEXT = 3000, SMALL = 64 };
    static char text[TEXT + 1], ftext[NF][SMALL + 1], fname[NF][SMALL + 1], rule[SMALL + 1],
        event[SMALL + 1], action[SMALL + 1], source[SMALL + 1];
    size_t dropped = 0, compared = 0;
    for (int iter = 0; iter < 8000; iter++) {
        struct lp_field fields[NF];
        size_t nf = rnd() % (NF + 1), dummy;
        for (size_t i = 0; i < nf; i++) {
            const char *name = NULL;
            switch (rnd() % 4) {
            case 0:
                rnd_str(fname[i], SMALL, &dummy);
                name = fname[i];
                break;
            case 1:
                name = rnd() % 8 ? names[rnd() % MONI_ARRAY_LEN(names)] : NULL;
                break;
            default:
                name = names[rnd() % MONI_ARRAY_LEN(names)];
            }
            rnd_str(ftext[i], SMALL, &dummy);
            fields[i] = (struct lp_field){.name = name, .text = rnd() % 10 ? ftext[i] : NULL,
                                          .num = rnd_double(), .is_num = rnd() % 2};
        }
        size_t tl;
        rnd_str(text, rnd() % 4 ? 200 : TEXT, &tl);
        rnd_str(rule, SMALL, &dummy);
        rnd_str(event, SMALL, &dummy);
        rnd_str(action, SMALL, &dummy);
        rnd_str(source, SMALL, &dummy);
        uint64_t line = rnd() % 3 ? rnd() % 100000 : rnd();
        struct lp_record r = {
            .kind = (enum lp_kind)(rnd() % 3),
            .rule_id = rnd() % 10 ? rule : NULL,
            .event = rnd() % 10 ? event : NULL,
            .severity = (enum lp_severity)(rnd() % 4),
            .labels = (uint32_t)rnd() & ((1u << LP_NLABELS) - 1),
            .action = rnd() % 3 ? (rnd() % 2 ? action : "") : NULL,
            .phase = (enum lp_phase)(rnd() % LP_NPHASES),
            .source = rnd() % 10 ? (rnd() % 2 ? "workload.log" : source) : NULL,
            .line_no = line,
            .first_line_no = rnd() % 2 ? line : rnd() % 3 ? 0 : rnd() % 100000,
            .text = rnd() % 20 ? text : NULL,
            .text_len = tl, /* NULs inside: the text ends at the first */
            .truncated = rnd() % 4 == 0,
            .recv = {.mono_ns = (int64_t)(rnd() >> 1), .real_ns = 1795600800123000000LL +
                                                                 (int64_t)(rnd() % 100000000000000ull)},
            .has_time = rnd() % 2,
            .time_ns = 1700000000000000000LL + (int64_t)(rnd() % 200000000000000000ull),
            .nfields = nf,
            .fields = fields,
        };
        size_t len = rnd() % 8 ? 8191 : 16 + rnd() % 9000;
        static char want[16384], got[16384];
        memset(got, 'x', sizeof got);
        size_t nw = ref_event_json(&r, want, len);
        size_t ng = runner_event_json(&r, got, len);
        if (nw != ng || memcmp(want, got, nw) || (ng && got[ng] != '\0')) {
            print_error("record %d differs (len %zu):\nwant %zu: %.*s\ngot  %zu: %.*s\n", iter, len,
                        nw, (int)nw, want, ng, (int)ng, got);
            fail();
        }
        dropped += nw == 0;
        compared += nw != 0;
    }
    /* both branches were exercised: lines written, and lines too long to write */
    assert_true(compared > 4000);
    assert_true(dropped > 4);
}

/* Numbers alone, many of them: short decimals (the stdio-free path), their
 * neighbours one ulp away, and every magnitude around the exponent switches. */
static void test_numbers_as_cjson(void **state)
{
    (void)state;
    struct moni_jbuf j = {0};
    for (int i = 0; i < 300000; i++) {
        double d;
        switch (i % 4) {
        case 0: /* up to 15 digits with up to 15 decimals */
            d = (double)(int64_t)(rnd() % 1000000000000000ull) / pow(10, (int)(rnd() % 16));
            break;
        case 1:
            d = (double)(int64_t)(rnd() % 100000) / pow(10, (int)(rnd() % 10));
            d = rnd() % 2 ? nextafter(d, INFINITY) : nextafter(d, -INFINITY);
            break;
        case 2:
            d = ((double)(rnd() >> 11) / 9007199254740992.0) * pow(10, (int)(rnd() % 24) - 8);
            break;
        default:
            d = (double)(rnd() % 10000) * pow(10, (int)(rnd() % 40) - 20);
        }
        if (rnd() % 2)
            d = -d;
        cJSON *n = cJSON_CreateNumber(d);
        char *want = cJSON_PrintUnformatted(n);
        j.n = 0;
        moni_jb_num_cjson(&j, d);
        if (strlen(want) != j.n || memcmp(want, j.b, j.n)) {
            print_error("%.17g: want %s got %.*s\n", d, want, (int)j.n, j.b);
            fail();
        }
        cJSON_free(want);
        cJSON_Delete(n);
    }
    moni_jb_free(&j);
}

/* Buffered through a jbuf: several lines appended, a too-long one dropped whole. */
static void test_jb_append_and_drop(void **state)
{
    (void)state;
    static char big[2000];
    memset(big, '\x01', sizeof big - 1); /* 6 bytes each once escaped, capped at 1024 */
    struct lp_record r = {.kind = LP_KIND_EVENT, .rule_id = "x", .event = "e", .source = "w",
                          .line_no = 1, .text = "ok", .text_len = 2};
    struct moni_jbuf j = {0};
    size_t a = runner_event_jb(&r, &j, 8191);
    assert_true(a > 0 && j.n == a);
    r.text = big;
    r.text_len = sizeof big - 1;
    assert_int_equal(runner_event_jb(&r, &j, 4000), 0); /* 1024 * 6 > 4000: dropped */
    assert_int_equal(j.n, a);
    size_t b = runner_event_jb(&r, &j, 8191);
    assert_true(b > 6 * 1024 && j.n == a + b);
    char want[8192];
    assert_int_equal(ref_event_json(&r, want, sizeof want), b);
    assert_memory_equal(j.b + a, want, b);
    moni_jb_free(&j);
}

static void test_metric_record(void **state)
{
    (void)state;
    struct lp_field fields[] = {
        {.name = "loss", .text = "nan", .num = NAN, .is_num = true},
        {.name = "learning_rate", .text = "5e-05", .num = 5e-05, .is_num = true},
        {.name = "note", .text = "a \"quoted\" word", .is_num = false},
    };
    const char *text = "{'loss': nan, 'learning_rate': 5e-05}";
    struct lp_record r = {
        .kind = LP_KIND_METRIC,
        .rule_id = "hf_metrics",
        .event = "",
        .severity = LP_SEV_INFO,
        .source = "workload.log",
        .line_no = 42,
        .first_line_no = 42,
        .text = text,
        .text_len = strlen(text),
        .recv = {.mono_ns = 9007199254740993LL, /* 2^53 + 1: not a double */
                 .real_ns = 1795600800123000000LL},
        .nfields = 3,
        .fields = fields,
    };
    char buf[4096];
    size_t n = runner_event_json(&r, buf, sizeof buf);
    assert_true(n > 0 && n == strlen(buf));
    assert_null(strchr(buf, '\n'));
    assert_true(!strncmp(buf, "{\"timestamp\":\"2026-11-25T10:00:00.123Z\",\"mono_ns\":9007199254740993,",
                         66));
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "metric");
    assert_string_equal(cJSON_GetObjectItem(o, "rule")->valuestring, "hf_metrics");
    assert_int_equal(cJSON_GetObjectItem(o, "line")->valueint, 42);
    assert_null(cJSON_GetObjectItem(o, "phase"));
    cJSON *f = cJSON_GetObjectItem(o, "fields");
    assert_string_equal(cJSON_GetObjectItem(f, "loss")->valuestring, "nan");
    assert_true(fabs(cJSON_GetObjectItem(f, "learning_rate")->valuedouble - 5e-05) < 1e-12);
    assert_string_equal(cJSON_GetObjectItem(f, "note")->valuestring, "a \"quoted\" word");
    assert_string_equal(cJSON_GetObjectItem(o, "text")->valuestring, text);
    cJSON_Delete(o);
    /* too small a buffer: nothing, not a torn line */
    assert_int_equal(runner_event_json(&r, buf, 40), 0);
}

static void test_phase_and_event_records(void **state)
{
    (void)state;
    struct lp_record r = {
        .kind = LP_KIND_PHASE,
        .rule_id = "hf_saving",
        .event = "checkpoint_save",
        .phase = LP_PHASE_CKPT_SAVE,
        .source = "workload.log",
        .line_no = 7,
        .text = "Saving model checkpoint to out/checkpoint-500",
        .text_len = 45,
        .recv = {.mono_ns = 5, .real_ns = 1795600800000000000LL},
    };
    char buf[4096];
    assert_true(runner_event_json(&r, buf, sizeof buf) > 0);
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "phase")->valuestring,
                        lp_phase_name(LP_PHASE_CKPT_SAVE));
    assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, "checkpoint_save");
    cJSON_Delete(o);

    r = (struct lp_record){
        .kind = LP_KIND_EVENT,
        .rule_id = "cuda_oom",
        .event = "oom",
        .severity = LP_SEV_ERROR,
        .labels = LP_LABEL_BIT(LP_LABEL_CUDA_OOM) | LP_LABEL_BIT(LP_LABEL_HOST_OOM),
        .source = "workload.log",
        .line_no = 9,
        .text = "CUDA out of memory",
        .text_len = 18,
        .recv = {.mono_ns = 6, .real_ns = 1795600800000000000LL},
    };
    assert_true(runner_event_json(&r, buf, sizeof buf) > 0);
    o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "severity")->valuestring, "error");
    cJSON *labels = cJSON_GetObjectItem(o, "labels");
    assert_int_equal(cJSON_GetArraySize(labels), 2);
    assert_string_equal(cJSON_GetArrayItem(labels, 0)->valuestring,
                        lp_label_name(LP_LABEL_CUDA_OOM));
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_record),
        cmocka_unit_test(test_phase_and_event_records),
        cmocka_unit_test(test_same_bytes_as_cjson),
        cmocka_unit_test(test_jb_append_and_drop),
        cmocka_unit_test(test_numbers_as_cjson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
