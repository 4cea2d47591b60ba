/* tests/unit/lp-test.h — helpers shared by the test_logparse_*.c tests: load the
 * built-in packs from the source tree and collect the records of some text. */
#ifndef MONI_LP_TEST_H
#define MONI_LP_TEST_H

#include <stdlib.h>
#include <string.h>

#include "logparse/logparse.h"

/* Built-in packs: $MONI_SRC/logparse/rules when run by tests/run.sh, else the
 * usual data-dir lookup. */
static inline struct lp_rules *lpt_builtin(void)
{
    char err[1024] = "";
    const char *src = getenv("MONI_SRC");
    struct lp_rules *rs;
    if (src && *src) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/logparse/rules", src);
        const char *paths[] = {dir};
        rs = lp_rules_load(paths, 1, 0, err, sizeof err);
    } else {
        rs = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN, err, sizeof err);
    }
    if (!rs)
        fprintf(stderr, "loading built-in packs: %s\n", err);
    return rs;
}

static inline struct moni_stamp lpt_stamp(void)
{
    struct moni_stamp s = {1000 * MONI_NS_PER_SEC, 1795000000LL * MONI_NS_PER_SEC};
    return s;
}

/* Parses text as one source; returns the records (owned). */
static inline void lpt_parse(const struct lp_rules *rs, const char *source, const char *text,
                      size_t chunk, struct lp_recset *out)
{
    lp_recset_init(out);
    struct lp_parser *p = lp_parser_new(rs, lp_recset_collect, out);
    size_t n = strlen(text);
    if (!chunk)
        chunk = n ? n : 1;
    for (size_t off = 0; off < n; off += chunk)
        lp_parser_feed(p, source, text + off, n - off < chunk ? n - off : chunk, lpt_stamp());
    lp_parser_flush(p, NULL);
    lp_parser_free(p);
}

static inline const struct lp_record *lpt_find(const struct lp_recset *s, const char *rule, size_t nth)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].rule_id, rule) && nth-- == 0)
            return &s->v[i];
    return NULL;
}

static inline double lpt_num(const struct lp_record *r, const char *name)
{
    const struct lp_field *f = r ? lp_record_field(r, name) : NULL;
    if (!f || !f->is_num) {
        fprintf(stderr, "field %s missing or not numeric\n", name);
        return -12345.0;
    }
    return f->num;
}

#endif
