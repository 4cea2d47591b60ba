/* logparse/lp-int.h — internals shared by the files of logparse/ (not exported). */
#ifndef MONI_LP_INT_H
#define MONI_LP_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "logparse/logparse.h"

enum lp_extract { LP_X_NONE, LP_X_PYDICT, LP_X_KV, LP_X_PIPE };

/* metricnames.c: canonical metric names (moni-rules(5) METRIC NAMES) and units */
enum lp_unit { LP_UNIT_NUMBER, LP_UNIT_COUNT, LP_UNIT_SECONDS, LP_UNIT_BYTES, LP_UNIT_PERCENT };
struct lp_canon {
    const char *key;  /* normalised spelling in a log */
    const char *name; /* canonical name */
    enum lp_unit unit;
    double scale;     /* factor for a value without its own unit (ms -> s: 1e-3) */
};
/* v (read from text[0..n)) times a unit's scale.  For a scale of 10^-k the decimal
 * point of the text is moved instead, so the result is the double nearest the true
 * value: 1450.2 ms is 1.4502 s, where 1450.2 * 0.001 is 1.4502000000000002. */
double lp_scale(const char *text, size_t n, double v, double scale);
const struct lp_canon *lp_canon_lookup(const char *key);
bool lp_canon_name(const char *key, char *out, size_t cap, struct lp_canon *unit);
/* A number (decimal, exponent, nan, inf); the whole text, blanks around allowed. */
bool lp_parse_number(const char *s, size_t n, double *out);
/* lp_parse_number of text without blanks around it; *json (may be NULL) is set when
 * the text is also a JSON number as written (false: not known) */
bool lp_parse_number_trimmed(const char *s, size_t n, double *out, bool *json);

/* Tests only: true runs the plain reference code instead of each fast path; the
 * records must be the same either way (test_logparse_fast compares them). */
extern bool lp_reference_paths;

/* lp_parse_number_trimmed's common case, inline for the parser's fields: a sign, at
 * most 19 digits, a fraction, no exponent.  No digit can overflow mant, so the digit
 * counting of the general path is not needed; the same mant and exp10 give the same
 * double.  False: not such a number, the general path decides. */
static inline bool lp_number_short(const char *s, size_t n, double *out, bool *json)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                   1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                   1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
    if (!n || n > 20 || lp_reference_paths)
        return false;
    const unsigned char *q = (const unsigned char *)s, *e = q + n;
    bool neg = *q == '-';
    q += *q == '-' || *q == '+';
    const unsigned char *ds = q;
    uint64_t mant = 0;
    while (q < e && (unsigned)(*q - '0') < 10)
        mant = mant * 10 + (unsigned)(*q++ - '0');
    bool dot = q < e && *q == '.', digits = q > ds;
    size_t nfrac = 0;
    if (dot) {
        const unsigned char *fs = ++q;
        while (q < e && (unsigned)(*q - '0') < 10)
            mant = mant * 10 + (unsigned)(*q++ - '0');
        nfrac = (size_t)(q - fs);
        digits |= nfrac > 0;
    }
    /* at most 19 digits: with a dot, 20 bytes hold no more */
    if (q != e || !digits || mant > (1ull << 53) || (!dot && e - ds > 19))
        return false;
    double v = (double)mant / pow10[nfrac]; /* exact operands: rounded once (Clinger) */
    *out = neg ? -v : v;
    if (json) { /* -?(0|[1-9][0-9]*)(\.[0-9]+)? */
        size_t nint = (size_t)(q - ds) - (dot ? nfrac + 1 : 0);
        *json = *s != '+' && nint && (!dot || nfrac) && (*ds != '0' || nint == 1);
    }
    return true;
}
/* A value with thousands separators and, given unit, a unit suffix or a default scale. */
bool lp_parse_value(const char *s, size_t n, const struct lp_canon *unit, double *out);

/* quiet.c: failures the diagnosis reads from metric records (a NaN loss no event
 * names, progress that stops while the log goes on), as synthetic events */
struct lp_quiet {
    struct lp_record rec[2];
    size_t n;
    char text[600];
};
void lp_quiet_find(const struct lp_recset *set, struct lp_quiet *q);

/* timestamp.c: lp_parse_timestamp, knowing whether ref is the receive time */
int lp_parse_timestamp_ref(const char *s, size_t len, int64_t ref_ns, bool ref_is_now,
                           int64_t *out_ns);

/* A field's name, worked out: the name to store (canonical for metric keys), how
 * its values convert, and the key as written when that differs (raw). */
struct field_key {
    const char *name;   /* NUL-terminated */
    size_t len;
    bool stable;        /* name and raw outlive the record: no copy into the arena */
    const char *raw;    /* the key as written, NULL when the name is the same */
    size_t rawlen;
    const struct lp_canon *unit;
    bool has_unit, normalise, loss;
    bool fresh;         /* no field of this name yet: no need to look */
    bool plain;         /* name is printable ASCII without " and \ (as JSON: as is) */
    int metric;         /* enum lp_metric, -1 none, -2 not looked up yet */
};

/* A named group of a rule, with the field name it gives worked out once at load
 * (fields.c: lp_group_prepare) instead of on every match. */
struct lp_group {
    int group;
    char *name;      /* as written in the pattern */
    bool is_kv;      /* "kv": the extractor's input, not a field */
    char *field;     /* the field's name (canonical for metric rules); NULL: none */
    size_t field_len;
    bool renamed;    /* field differs from name: name is kept as the field's raw */
    struct field_key key; /* the above as fields.c adds the field (key.fresh: no
                           * earlier group of the rule gives this field, nor can the
                           * fields of the groups before it: not "mem_pct") */
    bool has_unit;
    bool loss;       /* the name has "loss" in it (metric rules) */
    signed char metric; /* enum lp_metric, or -1 */
    struct lp_canon unit;
};
/* Fills g's field name from its name; normalise for metric rules.  0 or -1 (ENOMEM). */
int lp_group_prepare(struct lp_group *g, bool normalise);

/* A prefilter literal written "\\bword" or "word\\b" counts only where a regex \b would
 * hold at that end (PCRE2's ASCII \w): "\\bacc" skips "real_accelerator". */
enum { LP_PF_BOUND_START = 1, LP_PF_BOUND_END = 2 };

/* One bounded literal ending at a prefilter state: the rule it lets through, its
 * length (to find its first byte) and which ends need a word boundary. */
struct lp_pf_cond {
    uint32_t rule;
    uint16_t len;
    uint8_t bounds;
};

struct lp_rule {
    char *id, *pattern, *event, *action, *pack;
    enum lp_kind kind;
    enum lp_severity severity;
    uint32_t labels;
    enum lp_phase phase;
    enum lp_extract extract;
    bool fallback;
    int priority;
    unsigned order; /* load order */
    size_t index;   /* position in the finished set */
    char **prefilters;     /* case-folded, without their \b marks */
    uint8_t *prefilter_bounds; /* per literal: LP_PF_BOUND_START | LP_PF_BOUND_END */
    size_t nprefilters;
    char **tests[2];
    size_t ntests[2];
    pcre2_code *re;
    atomic_int jit_state; /* rules.c: JIT compiled at the first match (enum jit_state) */
    uint32_t ncaptures;
    struct lp_group *names; /* named groups, in PCRE2's (alphabetical) order */
    size_t nnames;
};

struct lp_rules {
    struct lp_rule **v;
    size_t n, cap;
    unsigned next_order;
    bool finished;
    uint32_t maxcap; /* largest capture count + 1 */
    size_t nwords;   /* 64-bit words of a rule bitset */
    uint64_t *always; /* rules without a prefilter */
    uint8_t cls[256];
    size_t ncls, nstates;
    int32_t *dfa;       /* prefilter.c: states with outputs numbered from first_out */
    uint32_t first_out;
    uint64_t *outs;     /* per output: the rules its plain literals let through */
    uint32_t *cond_first, *cond_n; /* per output: its bounded literals */
    struct lp_pf_cond *conds;
};

int lp_rule_exec(const struct lp_rule *r, const char *s, size_t len, pcre2_match_data *md,
                 pcre2_match_context *mc);
/* Formats a message into err (if any); returns -1. */
int lp_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lp_rules_candidates(const struct lp_rules *rs, const char *s, size_t len, uint64_t *cand);

#endif
