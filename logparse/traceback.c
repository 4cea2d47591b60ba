/* logparse/traceback.c — Python traceback grouping: the lines of one traceback
 * (frames, exception, chained causes) become one event record, classified by the
 * innermost exception line a rule matches.  One open traceback per source. */
#include <stdlib.h>
#include <string.h>

#include "logparse/parser-int.h"

#define TB_MAX_EXC 4      /* exception lines kept of a chained traceback */
#define TB_EXC_LEN 4096   /* bytes kept of each */
#define TB_MAX_LINES 5000 /* a traceback longer than this is closed */

enum tb_state { TB_NONE, TB_FRAMES, TB_AFTER_EXC, TB_CHAIN };

struct tb {
    enum tb_state st;
    uint64_t first_line, last_line, nlines;
    struct moni_stamp recv;
    int64_t time_ns;
    bool has_time;
    size_t nexc;
    char exc[TB_MAX_EXC][TB_EXC_LEN];
    size_t exclen[TB_MAX_EXC];
    uint64_t exc_line[TB_MAX_EXC];
};

/* Exception line "pkg.module.SomeError: message" -> type and message. */
static bool exception_line(const char *s, size_t n, size_t *tlen, size_t *msg_off)
{
    size_t i = 0;
    if (!n || !lp_is_key_start(s[0]))
        return false;
    while (i < n && (lp_is_key_char(s[i]) && s[i] != '/' && s[i] != '-'))
        i++;
    if (i < n && s[i] != ':')
        return false;
    static const char *const hints[] = {"Error", "Exception", "Interrupt", "Exit",
                                        "Iteration", "Fault", "Timeout", "Warning"};
    bool ok = false;
    for (size_t h = 0; h < MONI_ARRAY_LEN(hints) && !ok; h++)
        ok = memmem(s, i, hints[h], strlen(hints[h])) != NULL;
    if (!ok)
        return false;
    *tlen = i;
    *msg_off = i < n ? i + 1 : n;
    while (*msg_off < n && s[*msg_off] == ' ')
        (*msg_off)++;
    return true;
}

/* Ends the open traceback of src, if any, and emits its one event record. */
void lp_tb_emit(struct lp_parser *p, struct source *src)
{
    struct tb *tb = src->tb;
    if (!tb || tb->st == TB_NONE)
        return;
    struct line_ctx lc = {.src = src, .recv = tb->recv, .has_time = tb->has_time,
                          .time_ns = tb->time_ns};
    /* Try the causes first: the innermost exception of a chain is the root. */
    struct lp_record r;
    bool found = false;
    size_t use = tb->nexc ? tb->nexc - 1 : 0;
    for (size_t k = 0; k < tb->nexc && !found; k++) {
        lc.text = tb->exc[k];
        lc.len = tb->exclen[k];
        lc.line_no = tb->exc_line[k];
        if (lp_match_line(p, &lc, true)) {
            found = true;
            use = k;
        }
    }
    /* lp_match_line only said which line matched; rebuild the record from it. */
    const struct lp_rule *rule = NULL;
    if (found) {
        /* Find the rule again by rerunning candidate selection on the chosen line. */
        lp_rules_candidates(p->rules, tb->exc[use], tb->exclen[use], p->cand);
        for (size_t w = 0; w < p->rules->nwords && !rule; w++) {
            uint64_t bits = p->cand[w];
            while (bits && !rule) {
                size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                const struct lp_rule *c = p->rules->v[i];
                if (c->kind == LP_KIND_EVENT &&
                    lp_rule_exec(c, tb->exc[use], tb->exclen[use], p->md, p->mc) > 0)
                    rule = c;
            }
        }
        lp_fields_start(p);
        if (rule)
            lp_match_fields(p, rule, tb->exc[use]);
    } else {
        lp_fields_start(p);
    }
    lc.text = tb->nexc ? tb->exc[tb->nexc - 1] : "Traceback (most recent call last):";
    lc.len = tb->nexc ? tb->exclen[tb->nexc - 1] : strlen(lc.text);
    lc.line_no = tb->nexc ? tb->exc_line[tb->nexc - 1] : tb->first_line;
    lp_record_base(&r, &lc);
    r.first_line_no = tb->first_line;
    r.kind = LP_KIND_EVENT;
    if (rule) {
        r.rule_id = rule->id;
        r.event = rule->event;
        r.severity = rule->severity;
        r.labels = rule->labels;
        r.action = rule->action;
    } else {
        r.rule_id = "unclassified";
        r.event = "traceback";
        r.severity = LP_SEV_ERROR;
    }
    /* exception type and message of the last (reported) exception; the cause too */
    for (size_t k = 0; k < tb->nexc; k++) {
        bool last = k + 1 == tb->nexc;
        if (!last && k != 0)
            continue;
        size_t tl, mo;
        if (exception_line(tb->exc[k], tb->exclen[k], &tl, &mo)) {
            lp_field_add(p, last ? "exc_type" : "cause_type", last ? 8 : 10, tb->exc[k], tl,
                      false, false);
            lp_field_add(p, last ? "exc_message" : "cause_message", last ? 11 : 13,
                      tb->exc[k] + mo, tb->exclen[k] - mo, false, false);
        }
    }
    char nb[32];
    int l = snprintf(nb, sizeof nb, "%llu", (unsigned long long)tb->nlines);
    lp_field_add(p, "traceback_lines", 15, nb, (size_t)l, false, false);
    tb->st = TB_NONE;
    tb->nexc = 0;
    lp_emit(p, &r);
}

/* torchrun prefixes every line of a rank's output with "[rank3]: " (and Ray with
 * "(Worker pid=42) "): the traceback is what follows. */
static void strip_rank_prefix(const char **s, size_t *n)
{
    const char *t = *s;
    size_t k = 0;
    if (*n > 8 && !memcmp(t, "[rank", 5)) {
        k = 5;
        while (k < *n && t[k] >= '0' && t[k] <= '9')
            k++;
        if (k == 5 || k + 1 >= *n || t[k] != ']' || t[k + 1] != ':')
            return;
        k += 2;
    } else if (*n > 8 && t[0] == '(' && memmem(t, *n < 80 ? *n : 80, " pid=", 5)) {
        const char *e = memchr(t, ')', *n < 80 ? *n : 80);
        if (!e)
            return;
        k = (size_t)(e - t) + 1;
    } else {
        return;
    }
    if (k < *n && t[k] == ' ')
        k++;
    *s = t + k;
    *n -= k;
}

/* "Traceback (most recent call last)" within the first 96 bytes.  Runs on every
 * line: a 'T' is looked for first (memchr), and only there the header compared,
 * which is much cheaper than a general substring search. */
static bool tb_header(const char *s, size_t n)
{
    static const char hdr[] = "Traceback (most recent call last)";
    const size_t hl = sizeof hdr - 1;
    size_t lim = n < 96 ? n : 96;
    if (lp_reference_paths)
        return n >= hl && memmem(s, lim, hdr, hl);
    if (lim < hl)
        return false;
    const char *p = s, *last = s + lim - hl; /* the last place the header can start */
    while ((p = memchr(p, 'T', (size_t)(last - p) + 1))) {
        if (!memcmp(p + 1, hdr + 1, hl - 1))
            return true;
        if (p++ == last)
            break;
    }
    return false;
}

/* Traceback grouping.  Returns true if the line was consumed by a traceback. */
bool lp_tb_line(struct lp_parser *p, const struct line_ctx *lc)
{
    struct source *src = lc->src;
    struct tb *tb = src->tb;
    const char *s = lc->text;
    size_t n = lc->len;
    strip_rank_prefix(&s, &n);
    /* the header sits near the start (after a log prefix at most) */
    bool starts = tb_header(s, n);
    if (!tb || tb->st == TB_NONE) {
        if (!starts)
            return false;
        if (!tb && !(tb = src->tb = calloc(1, sizeof *tb)))
            return false;
        tb->st = TB_FRAMES;
        tb->first_line = tb->last_line = lc->line_no;
        tb->nlines = 1;
        tb->nexc = 0;
        tb->recv = lc->recv;
        tb->has_time = lc->has_time;
        tb->time_ns = lc->time_ns;
        return true;
    }
    bool blank = true;
    for (size_t i = 0; i < n && blank; i++)
        blank = s[i] == ' ' || s[i] == '\t';
    size_t tl, mo;
    switch (tb->st) {
    case TB_FRAMES:
        if (tb->nlines >= TB_MAX_LINES)
            break;
        if (blank || s[0] == ' ' || s[0] == '\t' || starts) {
            tb->nlines++;
            return true;
        }
        if (exception_line(s, n, &tl, &mo)) {
            size_t k = tb->nexc < TB_MAX_EXC ? tb->nexc++ : TB_MAX_EXC - 1;
            size_t cl = n < TB_EXC_LEN - 1 ? n : TB_EXC_LEN - 1;
            memcpy(tb->exc[k], s, cl);
            tb->exc[k][cl] = '\0';
            tb->exclen[k] = cl;
            tb->exc_line[k] = lc->line_no;
            tb->nlines++;
            tb->st = TB_AFTER_EXC;
            return true;
        }
        /* "RuntimeError" lines of C++ exceptions may be followed by indented text;
         * any other unindented line ends the traceback without a type. */
        break;
    case TB_AFTER_EXC:
        if (blank) {
            tb->nlines++;
            return true;
        }
        if ((n >= 20 && !memcmp(s, "During handling of the above exception", 20)) ||
            (n >= 20 && !memcmp(s, "The above exception was the direct cause", 20))) {
            tb->st = TB_CHAIN;
            tb->nlines++;
            return true;
        }
        if (s[0] == ' ' || s[0] == '\t') { /* message continued on indented lines */
            tb->nlines++;
            return true;
        }
        break;
    case TB_CHAIN:
        if (blank) {
            tb->nlines++;
            return true;
        }
        if (starts) {
            tb->st = TB_FRAMES;
            tb->nlines++;
            return true;
        }
        break;
    case TB_NONE:
        break;
    }
    lp_tb_emit(p, src);
    if (starts)
        return lp_tb_line(p, lc);
    return false;
}
