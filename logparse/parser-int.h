/* logparse/parser-int.h — private to the files of the streaming parser
 * (parser.c: sources, lines, rule matching and state; fields.c: the fields of a
 * record; traceback.c: traceback grouping).  Not exported beyond logparse/. */
#ifndef MONI_LP_PARSER_INT_H
#define MONI_LP_PARSER_INT_H

#include <string.h>

#include "logparse/lp-int.h"

#define LP_MAX_FIELDS 64

struct tb; /* an open traceback (traceback.c) */

struct source {
    char *name;
    char *buf; /* the partial line */
    size_t len, cap;
    bool pending_cr; /* last byte was CR: a following LF belongs to it */
    bool overflow;   /* current line exceeded LP_MAX_LINE */
    uint64_t line_no; /* LF-terminated lines completed so far */
    int64_t last_time_ns;
    struct tb *tb;
};

/* A number text of 1..8 bytes as the parser last read it (fields.c): the same few
 * values (total steps, an epoch, a learning rate) come on every line. */
struct num_memo {
    uint64_t key; /* with len, the bytes (see fields.c: num_key); 0: empty */
    double v;
    uint8_t len;
    bool isnum, json;
};
#define LP_NUM_MEMO 64

struct lp_parser {
    const struct lp_rules *rules;
    lp_record_cb cb;
    void *arg;
    struct source *src;
    size_t nsrc, capsrc;
    struct source *last_src;
    pcre2_match_data *md;
    PCRE2_SIZE *ov; /* md's ovector (fixed for md's life) */
    pcre2_match_context *mc;
    uint64_t *cand;
    char *strip; /* ANSI-stripped line */
    uintptr_t noesc_lo, noesc_hi; /* bytes being fed that hold no ESC (else 0, 0) */
    size_t stripcap;
    char *arena; /* field names and texts of the current record */
    size_t arenacap, arenalen;
    struct lp_field fields[LP_MAX_FIELDS];
    signed char fmetric[LP_MAX_FIELDS]; /* enum lp_metric of each field, or -1 */
    size_t nfields;
    bool loss_like; /* a field of this record has "loss" in its name */
    bool has_spi;   /* ... one is named s_per_it */
    struct num_memo num_memo[LP_NUM_MEMO];
    struct lp_state st;
};

/* One line as the rules see it: ANSI-stripped text, its place and its time. */
struct line_ctx {
    struct source *src;
    const char *text;
    size_t len;
    uint64_t line_no;
    bool truncated;
    struct moni_stamp recv;
    bool has_time;
    int64_t time_ns;
};

static inline bool lp_is_key_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static inline bool lp_is_key_char(char c)
{
    return lp_is_key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '-';
}

/* parser.c: a record filled from the line's context, emitted (state updated, callback
 * called), and the rules run on a line */
void lp_record_base(struct lp_record *r, const struct line_ctx *lc);
void lp_emit(struct lp_parser *p, struct lp_record *r);
bool lp_match_line(struct lp_parser *p, const struct line_ctx *lc, bool exception_probe);

/* fields.c: the fields of the record being built (p->fields, names and texts in
 * p->arena) */
static inline void lp_fields_start(struct lp_parser *p)
{
    p->nfields = 0;
    p->arenalen = 0;
    p->loss_like = false;
    p->has_spi = false;
}
/* Adds a field (name normalised if asked; a later one of the same name replaces it). */
bool lp_field_add(struct lp_parser *p, const char *name, size_t nlen, const char *text,
                  size_t tlen, bool numeric_only, bool normalise);
static inline struct lp_field *lp_field_find(struct lp_parser *p, const char *name)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (p->fields[i].name[0] == name[0] && !strcmp(p->fields[i].name, name))
            return &p->fields[i];
    return NULL;
}
/* The fields of rule's match on s (its named groups, then its extractor). */
void lp_match_fields(struct lp_parser *p, const struct lp_rule *rule, const char *s);

/* traceback.c: true when the line belongs to a traceback (started, continued) and
 * must not be matched on its own; lp_tb_emit closes src's open traceback. */
bool lp_tb_line(struct lp_parser *p, const struct line_ctx *lc);
void lp_tb_emit(struct lp_parser *p, struct source *src);

#endif
