/* libFuzzer harness for the streaming parser: arbitrary bytes in arbitrary chunks
 * over two sources (line splitting, ANSI stripping, long lines, tracebacks,
 * timestamps, field extraction), then the diagnosis and its renderings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse/logparse.h"

static struct lp_rules *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[1024];
    rules = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN, err, sizeof err);
    const char *src = getenv("MONI_SRC");
    if (!rules && src) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/logparse/rules", src);
        const char *paths[] = {dir};
        rules = lp_rules_load(paths, 1, 0, err, sizeof err);
    }
    if (!rules) {
        fprintf(stderr, "fuzz_linesplit: %s\n", err);
        abort();
    }
    return 0;
}

struct sink {
    struct lp_recset set;
};

static void on_record(const struct lp_record *r, void *arg)
{
    struct sink *s = arg;
    /* touch every field the way consumers do */
    for (size_t i = 0; i < r->nfields; i++)
        if (!r->fields[i].name || !r->fields[i].text)
            abort();
    if (r->text_len && !r->text)
        abort();
    if (s->set.n < 2000)
        lp_recset_add(&s->set, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sink s;
    lp_recset_init(&s.set);
    struct lp_parser *p = lp_parser_new(rules, on_record, &s);
    if (!p)
        return 0;
    struct moni_stamp now = {1, 1795642397123LL * 1000000LL};
    /* the first byte picks the chunk size, the second byte splits the input in
     * two sources */
    size_t chunk = size ? (size_t)data[0] % 17 + 1 : 1;
    size_t half = size > 1 ? (size_t)data[1] * size / 256 : size;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        lp_parser_feed(p, off < half ? "a.log" : "b.log", data + off, n, now);
    }
    lp_parser_line(p, "c.log", (const char *)data, size, now);
    lp_parser_flush(p, NULL);
    int64_t t;
    lp_parse_timestamp((const char *)data, size, now.real_ns, &t);
    lp_parser_free(p);
    lp_recset_sort(&s.set);
    struct lp_diagnosis *d = lp_diagnose(&s.set);
    if (d) {
        cJSON *j = lp_diagnosis_json(d);
        char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
        free(txt);
        cJSON_Delete(j);
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            lp_diagnosis_write_text(d, devnull);
            fclose(devnull);
        }
        lp_diagnosis_free(d);
    }
    lp_recset_free(&s.set);
    return 0;
}
