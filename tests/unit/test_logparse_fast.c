/* Unit tests for the parser's fast paths (field names worked out at load, the
 * memchr scans of the traceback header and of timestamps, JIT at first match):
 * every record of a large mixed log, and every timestamp, must be the same as
 * with the plain reference code (lp_reference_paths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lp-test.h"
#include "logparse/lp-int.h"

static struct lp_rules *rules;

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    rules = lpt_builtin();
    return rules ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lp_rules_free(rules);
    lp_reference_paths = false;
    return 0;
}

/* ---- the input: every format the packs know, mutated -------------------------------- */
struct text {
    char *b;
    size_t n, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->b = realloc(t->b, t->cap);
        assert_non_null(t->b);
    }
    memcpy(t->b + t->n, s, n);
    t->n += n;
    t->b[t->n] = '\0';
}

static void puts_(struct text *t, const char *s) { put(t, s, strlen(s)); }

static void add_file(struct text *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        put(t, buf, n);
    fclose(f);
    puts_(t, "\n");
}

/* Every file of dir whose name ends in ext. */
static size_t add_dir(struct text *t, const char *dir, const char *ext)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name), el = strlen(ext);
        if (de->d_name[0] == '.' || l < el || strcmp(de->d_name + l - el, ext))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        add_file(t, path);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

static uint32_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

/* A training log like the bench's (tqdm bars redrawn with CR, dicts, chatter,
 * Megatron/DeepSpeed/Lightning lines, tracebacks), lines of every rule's tests,
 * and each line a second time with a few bytes of noise put in. */
static void build_input(struct text *t)
{
    const char *src = getenv("MONI_SRC");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/corpus", src && *src ? src : ".");
    size_t files = add_dir(t, dir, ".cases");
    snprintf(dir, sizeof dir, "%s/tests/fuzz/seeds/fuzz_linesplit", src && *src ? src : ".");
    files += add_dir(t, dir, ".log");
    assert_true(files >= 5);
    for (size_t i = 0; i < lp_rules_count(rules); i++)
        for (int w = 0; w < 2; w++)
            for (size_t k = 0; k < lp_rule_ntests(lp_rules_at(rules, i), w); k++) {
                puts_(t, lp_rule_test(lp_rules_at(rules, i), w, k));
                puts_(t, "\n");
            }
    char line[512];
    for (int i = 0, step = 0; i < 3000; i++) {
        switch (rnd(9)) {
        case 0:
            for (int k = 0; k < 4; k++, step++) {
                snprintf(line, sizeof line, " %2d%%|\xe2\x96\x88\xe2\x96\x88    | %d/5000 [01:02<01:16, %d.%02dit/s]%s",
                         step % 100, step, 5 + k, step % 100, k < 3 ? "\r" : "\n");
                puts_(t, line);
            }
            break;
        case 1:
            snprintf(line, sizeof line, "{'loss': 0.%04d, 'grad_norm': %d.5, 'learning_rate': 5e-05, 'epoch': 0.%02d}\n",
                     (int)rnd(10000), (int)rnd(9), step % 100);
            puts_(t, line);
            break;
        case 2:
            snprintf(line, sizeof line, "[2026-11-25 21:33:%02d,123] [INFO] [real_accelerator.py:161:get_accelerator] Setting ds_accelerator to cuda (auto detect)\n",
                     (int)rnd(60));
            puts_(t, line);
            break;
        case 3:
            snprintf(line, sizeof line, " iteration %8d/  100000 | consumed samples: %12d | elapsed time per iteration (ms): 512.3 | learning rate: 1.000E-04 | lm loss: 6.%06dE+00 | loss scale: 1.0 | grad norm: 1.234 |\n",
                     step, step * 32, (int)rnd(1000000));
            puts_(t, line);
            break;
        case 4:
            snprintf(line, sizeof line, "Epoch 1:  45%%|\xe2\x96\x88\xe2\x96\x88\xe2\x96\x8c     | %d/1000 [01:02<01:16,  7.21it/s, v_num=0, train_loss=0.%03d]\n",
                     step % 1000, (int)rnd(1000));
            puts_(t, line);
            break;
        case 5:
            puts_(t, "Traceback (most recent call last):\n  File \"train.py\", line 88, in <module>\n    main()\nRuntimeError: CUDA error: an illegal memory access was encountered\n");
            break;
        case 6:
            snprintf(line, sizeof line, "Nov %2d 21:33:17 host kernel: [%d.1] Out of memory: Killed process %d (python)\n",
                     1 + (int)rnd(28), (int)rnd(99999), (int)rnd(99999));
            puts_(t, line);
            break;
        case 7:
            snprintf(line, sizeof line, "I1125 21:33:%02d.123456 12 trainer.cc:42] step %d loss=%d.25 lr=3e-4 tokens/s 10,%03d\n",
                     (int)rnd(60), step, (int)rnd(9), (int)rnd(1000));
            puts_(t, line);
            break;
        default:
            snprintf(line, sizeof line, "[rank%d]: 2026-11-25T21:33:%02d.5Z WARNING max mem: %d.5 GiB (%d%%) time: 0.%03d\n",
                     (int)rnd(8), (int)rnd(60), (int)rnd(80), (int)rnd(100), (int)rnd(1000));
            puts_(t, line);
        }
    }
    /* every line again with noise: ANSI, CR, quotes, bad UTF-8, units, nan */
    static const char *const noise[] = {"\x1b[31m", "\r", "\xff", "\"", "\\", "\t", " nan",
                                        "=inf", " 1,234", "ms", " GiB (5%)", "{", "'loss': 1e-3",
                                        "Traceback (most recent call last)", "2026-01-02 03:04:05"};
    size_t n0 = t->n;
    char *copy = malloc(n0 + 1);
    assert_non_null(copy);
    memcpy(copy, t->b, n0 + 1);
    for (char *l = copy, *e; l < copy + n0; l = e + 1) {
        e = memchr(l, '\n', (size_t)(copy + n0 - l));
        if (!e)
            break;
        size_t len = (size_t)(e - l), at = rnd((uint32_t)len + 1);
        put(t, l, at);
        puts_(t, noise[rnd(MONI_ARRAY_LEN(noise))]);
        put(t, l + at, len - at);
        puts_(t, "\n");
    }
    free(copy);
}

/* ---- the comparison ----------------------------------------------------------------- */
static void parse(const struct text *t, bool reference, struct lp_recset *out,
                  struct lp_state *st)
{
    lp_reference_paths = reference;
    lp_recset_init(out);
    struct lp_parser *p = lp_parser_new(rules, lp_recset_collect, out);
    assert_non_null(p);
    for (size_t off = 0; off < t->n; off += 4093) /* odd chunks: lines cut anywhere */
        lp_parser_feed(p, "train.log", t->b + off, t->n - off < 4093 ? t->n - off : 4093,
                       lpt_stamp());
    lp_parser_flush(p, NULL);
    *st = *lp_parser_state(p);
    lp_parser_free(p);
    lp_reference_paths = false;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void same_record(const struct lp_record *a, const struct lp_record *b, size_t i)
{
    bool ok = a->kind == b->kind && same_str(a->rule_id, b->rule_id) &&
              same_str(a->event, b->event) && a->severity == b->severity &&
              a->labels == b->labels && same_str(a->action, b->action) &&
              a->phase == b->phase && a->line_no == b->line_no &&
              a->first_line_no == b->first_line_no && a->text_len == b->text_len &&
              !memcmp(a->text, b->text, a->text_len) && a->truncated == b->truncated &&
              a->has_time == b->has_time && a->time_ns == b->time_ns &&
              a->nfields == b->nfields;
    for (size_t f = 0; ok && f < a->nfields; f++) {
        const struct lp_field *x = &a->fields[f], *y = &b->fields[f];
        ok = same_str(x->name, y->name) && same_str(x->text, y->text) &&
             x->is_num == y->is_num && same_str(x->raw, y->raw) && x->scaled == y->scaled &&
             (x->num == y->num || (isnan(x->num) && isnan(y->num)));
    }
    if (!ok)
        fail_msg("record %zu (line %llu, rule %s / %s) differs from the reference path", i,
                 (unsigned long long)a->line_no, a->rule_id, b->rule_id);
}

static void test_records_same_as_reference(void **state)
{
    (void)state;
    struct text t = {0};
    build_input(&t);
    struct lp_recset fast, ref;
    struct lp_state sf, sr;
    parse(&t, false, &fast, &sf);
    parse(&t, true, &ref, &sr);
    /* enough of every kind that a difference would show */
    size_t kinds[3] = {0}, tb = 0, timed = 0, raw = 0;
    for (size_t i = 0; i < ref.n; i++) {
        kinds[ref.v[i].kind]++;
        tb += ref.v[i].first_line_no != ref.v[i].line_no;
        timed += ref.v[i].has_time;
        for (size_t f = 0; f < ref.v[i].nfields; f++)
            raw += ref.v[i].fields[f].raw != NULL;
    }
    assert_true(kinds[LP_KIND_METRIC] > 2000 && kinds[LP_KIND_EVENT] > 500 &&
                kinds[LP_KIND_PHASE] > 10 && tb > 100 && timed > 1000 && raw > 100);
    assert_int_equal(fast.n, ref.n);
    for (size_t i = 0; i < ref.n; i++)
        same_record(&fast.v[i], &ref.v[i], i);
    assert_int_equal(sf.lines, sr.lines);
    assert_int_equal(sf.metric_records, sr.metric_records);
    assert_int_equal(sf.event_records, sr.event_records);
    assert_int_equal(sf.unclassified, sr.unclassified);
    assert_int_equal(sf.nan_count, sr.nan_count);
    for (int m = 0; m < LP_NMETRICS; m++) {
        assert_int_equal(sf.valid[m], sr.valid[m]);
        assert_true(sf.val[m] == sr.val[m] || (isnan(sf.val[m]) && isnan(sr.val[m])));
    }
    lp_recset_free(&fast);
    lp_recset_free(&ref);
    free(t.b);
}

/* Timestamps at every offset of every line and with every ref: the memchr scans and
 * the month's first-letter check find what the plain loops find. */
static void test_timestamps_same_as_reference(void **state)
{
    (void)state;
    struct text t = {0};
    build_input(&t);
    size_t found = 0, lines = 0;
    const int64_t refs[] = {0, 1795000000LL * MONI_NS_PER_SEC, 1764106397LL * MONI_NS_PER_SEC};
    for (char *l = t.b, *e; l < t.b + t.n; l = e + 1) {
        e = memchr(l, '\n', (size_t)(t.b + t.n - l));
        size_t len = e ? (size_t)(e - l) : (size_t)(t.b + t.n - l);
        for (size_t cut = 0; cut <= len && cut < 140; cut += 1 + cut / 8) {
            for (size_t r = 0; r < MONI_ARRAY_LEN(refs); r++) {
                int64_t a = -1, b = -1;
                lp_reference_paths = true;
                int ra = lp_parse_timestamp_ref(l, cut, refs[r], r == 2, &a);
                lp_reference_paths = false;
                int rb = lp_parse_timestamp_ref(l, cut, refs[r], r == 2, &b);
                if (ra != rb || (ra && a != b))
                    fail_msg("timestamp of '%.*s' (%zu bytes) differs", (int)cut, l, cut);
                found += (size_t)ra;
            }
        }
        lines++;
        if (!e)
            break;
    }
    assert_true(lines > 5000 && found > 5000);
    free(t.b);
}

/* lp_parse_number's short-decimal path gives what the general loop gives (the same
 * bits, or the same refusal), at every length around its 19-digit limit. */
static void test_numbers_same_as_reference(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789000999..-+e nN";
    static const char *const fixed[] = {"0", "-0", "5.", ".5", ".", "-", "+1", "007",
                                        "1234567890123456789", "12345678901234567890",
                                        "123456789012345678.9", "1.234567890123456789",
                                        "9007199254740993", "0.000000000000000000001",
                                        "99999999999999999999", "1e5", " 6.12 ", "nan", ""};
    size_t ok = 0;
    for (int i = 0; i < 400000; i++) {
        char b[32];
        size_t n;
        if (i < (int)MONI_ARRAY_LEN(fixed)) {
            n = strlen(fixed[i]);
            memcpy(b, fixed[i], n);
        } else {
            n = rnd(24);
            for (size_t k = 0; k < n; k++) /* mostly digits, now and then a dot or sign */
                b[k] = alphabet[rnd(k && rnd(4) ? 10 : sizeof alphabet - 1)];
        }
        double a = -1, r = -1;
        lp_reference_paths = true;
        bool ra = lp_parse_number(b, n, &a);
        lp_reference_paths = false;
        bool rf = lp_parse_number(b, n, &r);
        if (ra != rf || (ra && memcmp(&a, &r, sizeof a)))
            fail_msg("'%.*s': %d %.17g, reference %d %.17g", (int)n, b, rf, r, ra, a);
        ok += ra;
    }
    assert_true(ok > 100000);
}

/* JSON's number grammar, written out plainly: the length of s when it is one, else 0. */
static size_t json_number(const char *s)
{
    const char *p = s + (*s == '-');
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        if (!(p[1] >= '0' && p[1] <= '9'))
            return 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    }
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p ? 0 : (size_t)(p - s);
}

/* The writers' hints on each field: name_len is the name's length, json_len, when
 * set, the text's, and the text then is a JSON number (moni parse prints it as is). */
static void check_hints(const struct lp_record *r, void *arg)
{
    size_t *n = arg;
    for (size_t i = 0; i < r->nfields; i++) {
        const struct lp_field *f = &r->fields[i];
        if (f->name_len && f->name_len != strlen(f->name))
            fail_msg("field %s: name_len %u", f->name, f->name_len);
        for (size_t k = 0; f->name_len && k < f->name_len; k++)
            if (f->name[k] < 0x20 || f->name[k] >= 0x7f || f->name[k] == '"' ||
                f->name[k] == '\\')
                fail_msg("field %s: name_len set for a name that JSON escapes", f->name);
        if (f->json_len && (f->json_len != strlen(f->text) || !json_number(f->text)))
            fail_msg("field %s = '%s': json_len %u", f->name, f->text, f->json_len);
        n[0] += f->name_len != 0;
        n[1] += f->json_len != 0;
        n[2] += f->is_num && !f->json_len && json_number(f->text);
    }
}

static void test_field_hints(void **state)
{
    (void)state;
    struct text t = {0};
    build_input(&t);
    size_t n[3] = {0};
    struct lp_parser *p = lp_parser_new(rules, check_hints, n);
    assert_non_null(p);
    lp_parser_feed(p, "train.log", t.b, t.n, lpt_stamp());
    lp_parser_flush(p, NULL);
    lp_parser_free(p);
    assert_true(n[0] > 10000 && n[1] > 5000);
    assert_true(n[2] < n[1]); /* most numbers that are JSON are known to be (not: exponents) */
    assert_int_equal(json_number("-0.5"), 4);
    assert_int_equal(json_number("007"), 0);
    assert_int_equal(json_number("5."), 0);
    free(t.b);
}

/* PCRE2's ASCII \w, as the prefilter's bounded literals use it. */
static bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* The prefilter DFA gives, on every line of the mixed log and every piece of one,
 * the rules a plain search of each literal (case-folded, \b checked) gives. */
static void test_prefilter_same_as_search(void **state)
{
    (void)state;
    struct text t = {0};
    build_input(&t);
    const struct lp_rules *rs = rules;
    uint64_t *cand = calloc(rs->nwords, sizeof *cand);
    assert_non_null(cand);
    size_t lines = 0;
    for (char *l = t.b, *e; l < t.b + t.n; l = e + 1) {
        e = memchr(l, '\n', (size_t)(t.b + t.n - l));
        size_t len = e ? (size_t)(e - l) : (size_t)(t.b + t.n - l);
        for (size_t off = 0; off <= len; off += len / 3 + 1) {
            const unsigned char *s = (const unsigned char *)l + off;
            size_t n = len - off;
            lp_rules_candidates(rs, (const char *)s, n, cand);
            for (size_t i = 0; i < rs->n; i++) {
                const struct lp_rule *r = rs->v[i];
                bool hit = !r->nprefilters;
                for (size_t k = 0; k < r->nprefilters && !hit; k++) {
                    size_t ll = strlen(r->prefilters[k]);
                    for (size_t at = 0; at + ll <= n && !hit; at++) {
                        size_t m = 0;
                        while (m < ll && (unsigned char)tolower(s[at + m]) ==
                                             (unsigned char)r->prefilters[k][m])
                            m++;
                        if (m < ll)
                            continue;
                        uint8_t b = r->prefilter_bounds[k];
                        bool start = !(b & LP_PF_BOUND_START) ||
                                     (at > 0 && word_byte(s[at - 1])) != word_byte(s[at]);
                        bool end = !(b & LP_PF_BOUND_END) ||
                                   word_byte(s[at + ll - 1]) !=
                                       (at + ll < n && word_byte(s[at + ll]));
                        hit = start && end;
                    }
                }
                bool got = cand[i / 64] >> (i % 64) & 1;
                if (got != hit)
                    fail_msg("rule %s on '%.*s': prefilter %d, search %d", r->id, (int)n,
                             (const char *)s, got, hit);
            }
        }
        lines++;
        if (!e)
            break;
    }
    assert_true(lines > 5000);
    free(cand);
    free(t.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_same_as_reference),
        cmocka_unit_test(test_timestamps_same_as_reference),
        cmocka_unit_test(test_numbers_same_as_reference),
        cmocka_unit_test(test_field_hints),
        cmocka_unit_test(test_prefilter_same_as_search),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
