/* logparse/parser.c — the streaming parser: splits bytes of several sources into
 * lines (LF, CRLF, bare CR), strips ANSI escapes, groups Python tracebacks into one
 * event, runs the candidate rules of each line (prefilter first) and turns matches
 * into records; keeps the running training state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logparse/lp-int.h"

#define LP_MAX_FIELDS 64
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

struct lp_parser {
    const struct lp_rules *rules;
    lp_record_cb cb;
    void *arg;
    struct source *src;
    size_t nsrc, capsrc;
    struct source *last_src;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    uint64_t *cand;
    char *strip; /* ANSI-stripped line */
    size_t stripcap;
    char *arena; /* field names and texts of the current record */
    size_t arenacap, arenalen;
    struct lp_field fields[LP_MAX_FIELDS];
    signed char fmetric[LP_MAX_FIELDS]; /* enum lp_metric of each field, or -1 */
    size_t nfields;
    struct lp_state st;
};

/* ---- small helpers --------------------------------------------------------------- */
static const char *const metric_names[LP_NMETRICS] = {
    "loss", "learning_rate", "grad_norm", "step", "max_steps", "epoch", "it_per_s",
    "samples_per_second", "eval_loss", "eval_accuracy",
};
const char *lp_metric_name(enum lp_metric m)
{
    return (unsigned)m < LP_NMETRICS ? metric_names[m] : "?";
}

static int ensure(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    char *nb = realloc(*buf, nc);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = nc;
    return 0;
}

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A number: decimal (with exponent), nan, inf.  Whole text must be used (spaces
 * around allowed).  The common short case avoids strtod (Clinger's fast path). */
static bool parse_num(const char *s, size_t n, double *out)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n || n > 64)
        return false;
    size_t i = 0;
    bool neg = false;
    if (s[i] == '-' || s[i] == '+')
        neg = s[i++] == '-';
    if (i < n && (s[i] == 'n' || s[i] == 'N' || s[i] == 'i' || s[i] == 'I')) {
        size_t rest = n - i;
        if (rest == 3 && !strncasecmp(s + i, "nan", 3)) {
            *out = neg ? -NAN : NAN;
            return true;
        }
        if ((rest == 3 && !strncasecmp(s + i, "inf", 3)) ||
            (rest == 8 && !strncasecmp(s + i, "infinity", 8))) {
            *out = neg ? -INFINITY : INFINITY;
            return true;
        }
        return false;
    }
    uint64_t mant = 0;
    int ndig = 0, exp10 = 0;
    bool any = false;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (ndig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                ndig++;
        } else {
            exp10++;
        }
        i++;
        any = true;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (ndig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                if (mant)
                    ndig++;
                exp10--;
            }
            i++;
            any = true;
        }
    }
    if (!any)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        int e = 0;
        bool edig = false;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (e < 10000)
                e = e * 10 + (s[i] - '0');
            i++;
            edig = true;
        }
        if (!edig)
            return false;
        exp10 += eneg ? -e : e;
    }
    if (i != n)
        return false;
    double v;
    if (mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        v = (double)mant;
        v = exp10 < 0 ? v / pow10_tab[-exp10] : v * pow10_tab[exp10];
    } else {
        char tmp[72];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        v = strtod(tmp, NULL);
        *out = v;
        return true;
    }
    *out = neg ? -v : v;
    return true;
}

/* Normalised metric name: lower case, runs of other characters -> '_', then a few
 * aliases so every framework's spelling lands on one name. */
static size_t norm_name(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    bool us = false;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (us && k)
                out[k++] = '_';
            us = false;
            if (k + 1 < cap)
                out[k++] = c;
        } else {
            us = true;
        }
    }
    out[k] = '\0';
    static const struct { const char *from, *to; } aliases[] = {
        {"lm_loss", "loss"},
        {"lr", "learning_rate"},
        {"iteration", "step"},
        {"iter", "step"},
        {"global_step", "step"},
        {"samples_per_sec", "samples_per_second"},
        {"currsamplespersec", "samples_per_second"},
        {"eval_acc", "eval_accuracy"},
        {"val_loss", "eval_loss"},
        {"val_acc", "eval_accuracy"},
        {"grad_norm_", "grad_norm"},
    };
    if (k < 2 || k > 17 || !strchr("lignscev", out[0]))
        return k;
    for (size_t i = 0; i < MONI_ARRAY_LEN(aliases); i++)
        if (out[0] == aliases[i].from[0] && !strcmp(out, aliases[i].from)) {
            size_t l = strlen(aliases[i].to);
            if (l + 1 <= cap) {
                memcpy(out, aliases[i].to, l + 1);
                k = l;
            }
            break;
        }
    return k;
}

/* ---- sources ------------------------------------------------------------------- */
static struct source *get_source(struct lp_parser *p, const char *name)
{
    if (!name)
        name = "-";
    if (p->last_src && (p->last_src->name == name || !strcmp(p->last_src->name, name)))
        return p->last_src;
    for (size_t i = 0; i < p->nsrc; i++)
        if (!strcmp(p->src[i].name, name))
            return p->last_src = &p->src[i];
    if (p->nsrc == p->capsrc) {
        size_t nc = p->capsrc ? p->capsrc * 2 : 8;
        struct source *ns = realloc(p->src, nc * sizeof *ns);
        if (!ns)
            return NULL;
        p->src = ns;
        p->capsrc = nc;
    }
    struct source *s = &p->src[p->nsrc];
    memset(s, 0, sizeof *s);
    if (!(s->name = strdup(name)))
        return NULL;
    p->nsrc++;
    return p->last_src = s;
}

struct lp_parser *lp_parser_new(const struct lp_rules *rules, lp_record_cb cb, void *arg)
{
    struct lp_parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->rules = rules;
    p->cb = cb;
    p->arg = arg;
    p->md = pcre2_match_data_create(rules->maxcap ? rules->maxcap : 1, NULL);
    p->mc = pcre2_match_context_create(NULL);
    p->cand = calloc(rules->nwords ? rules->nwords : 1, sizeof *p->cand);
    if (!p->md || !p->mc || !p->cand) {
        lp_parser_free(p);
        return NULL;
    }
    /* A pathological user pattern must not hang the parser. */
    pcre2_set_match_limit(p->mc, 1000000);
    pcre2_set_depth_limit(p->mc, 10000);
    return p;
}

void lp_parser_free(struct lp_parser *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsrc; i++) {
        free(p->src[i].name);
        free(p->src[i].buf);
        free(p->src[i].tb);
    }
    free(p->src);
    if (p->md)
        pcre2_match_data_free(p->md);
    if (p->mc)
        pcre2_match_context_free(p->mc);
    free(p->cand);
    free(p->strip);
    free(p->arena);
    free(p);
}

const struct lp_state *lp_parser_state(const struct lp_parser *p) { return &p->st; }
void lp_parser_reset_state(struct lp_parser *p) { memset(&p->st, 0, sizeof p->st); }

/* ---- fields ----------------------------------------------------------------------- */
static const char *arena_put(struct lp_parser *p, const char *s, size_t n)
{
    if (p->arenalen + n + 1 > p->arenacap)
        return NULL;
    char *d = p->arena + p->arenalen;
    memcpy(d, s, n);
    d[n] = '\0';
    p->arenalen += n + 1;
    return d;
}

static struct lp_field *field_find(struct lp_parser *p, const char *name)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (p->fields[i].name[0] == name[0] && !strcmp(p->fields[i].name, name))
            return &p->fields[i];
    return NULL;
}

static int metric_index(const char *name)
{
    for (int m = 0; m < LP_NMETRICS; m++)
        if (name[0] == metric_names[m][0] && !strcmp(name, metric_names[m]))
            return m;
    return -1;
}

/* Adds a field (name normalised); numeric text gets is_num.  A later field of the
 * same name replaces an earlier one.  numeric_only drops non-numbers. */
static void add_field(struct lp_parser *p, const char *name, size_t nlen, const char *text,
                      size_t tlen, bool numeric_only, bool normalise)
{
    char nb[128];
    size_t nl;
    if (normalise) {
        nl = norm_name(name, nlen, nb, sizeof nb);
    } else {
        nl = nlen < sizeof nb - 1 ? nlen : sizeof nb - 1;
        memcpy(nb, name, nl);
        nb[nl] = '\0';
    }
    if (!nl)
        return;
    while (tlen && (*text == ' ' || *text == '\t'))
        text++, tlen--;
    while (tlen && (text[tlen - 1] == ' ' || text[tlen - 1] == '\t'))
        tlen--;
    double v = 0;
    bool isnum = parse_num(text, tlen, &v);
    if (numeric_only && !isnum)
        return;
    struct lp_field *f = field_find(p, nb);
    if (!f) {
        if (p->nfields == LP_MAX_FIELDS)
            return;
        const char *n = arena_put(p, nb, nl);
        if (!n)
            return;
        p->fmetric[p->nfields] = (signed char)metric_index(nb);
        f = &p->fields[p->nfields++];
        f->name = n;
    }
    const char *t = arena_put(p, text, tlen);
    f->text = t ? t : "";
    f->num = v;
    f->is_num = isnum;
}

static bool is_key_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_key_char(char c)
{
    return is_key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '-';
}

/* {'loss': 0.69, "epoch": 1.0, ...}: every quoted key with a numeric value. */
static void extract_pydict(struct lp_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        char q = s[i];
        if (q != '\'' && q != '"') {
            i++;
            continue;
        }
        size_t ks = ++i;
        while (i < n && s[i] != q)
            i++;
        if (i >= n)
            return;
        size_t ke = i++;
        while (i < n && s[i] == ' ')
            i++;
        if (i >= n || s[i] != ':')
            continue;
        i++;
        size_t vs = i;
        while (i < n && s[i] != ',' && s[i] != '}' && s[i] != '\'' && s[i] != '"')
            i++;
        if (i < n && (s[i] == '\'' || s[i] == '"'))
            continue; /* a string value; its quote starts the next scan */
        /* tensor(0.5) and np.float64(0.5) print their value in parentheses */
        const char *v = s + vs;
        size_t vl = i - vs;
        const char *lp = memchr(v, '(', vl);
        if (lp && vl && v[vl - 1] == ')') {
            vl = (size_t)(v + vl - 1 - (lp + 1));
            v = lp + 1;
            const char *comma = memchr(v, ',', vl);
            if (comma)
                vl = (size_t)(comma - v);
        }
        add_field(p, s + ks, ke - ks, v, vl, true, true);
    }
}

/* key=value, key: value (value numeric, key an identifier). */
static void extract_kv(struct lp_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!is_key_start(s[i]) || (i > 0 && is_key_char(s[i - 1]))) {
            i++;
            continue;
        }
        size_t ks = i;
        while (i < n && is_key_char(s[i]))
            i++;
        size_t ke = i;
        if (i < n && s[i] == '=') {
            i++;
        } else if (i + 1 < n && s[i] == ':' && s[i + 1] == ' ') {
            i += 2;
        } else {
            continue;
        }
        while (i < n && s[i] == ' ')
            i++;
        if (i < n && s[i] == '[') /* lr=[0.0001] (DeepSpeed prints lists) */
            i++;
        size_t vs = i;
        while (i < n && s[i] != ' ' && s[i] != ',' && s[i] != ';' && s[i] != '|' &&
               s[i] != ']' && s[i] != ')' && s[i] != '}' && s[i] != '\t')
            i++;
        add_field(p, s + ks, ke - ks, s + vs, i - vs, true, true);
    }
}

/* Megatron style: "| lm loss: 6.5E+00 | learning rate: 1.0E-04 |" */
static void extract_pipe(struct lp_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *bar = memchr(s + i, '|', n - i);
        size_t e = bar ? (size_t)(bar - s) : n;
        const char *colon = NULL;
        for (size_t k = e; k > i; k--)
            if (s[k - 1] == ':') {
                colon = s + k - 1;
                break;
            }
        if (colon) {
            size_t ks = i, ke = (size_t)(colon - s);
            while (ks < ke && s[ks] == ' ')
                ks++;
            add_field(p, s + ks, ke - ks, colon + 1, (size_t)(s + e - colon - 1), true, true);
        }
        i = e + 1;
    }
}

/* ---- records ---------------------------------------------------------------------- */
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

static void update_state(struct lp_parser *p, const struct lp_record *r)
{
    struct lp_state *st = &p->st;
    switch (r->kind) {
    case LP_KIND_METRIC:
        st->metric_records++;
        for (size_t i = 0; i < r->nfields; i++) {
            const struct lp_field *f = &r->fields[i];
            int m = p->fmetric[i];
            if (!f->is_num || m < 0)
                continue;
            st->val[m] = f->num;
            st->valid[m] = true;
            st->updated_ns[m] = r->recv.mono_ns;
            if ((m == LP_M_LOSS || m == LP_M_GRAD_NORM || m == LP_M_EVAL_LOSS) &&
                !isfinite(f->num)) {
                st->nan_seen = true;
                st->nan_count++;
            }
        }
        break;
    case LP_KIND_PHASE:
        st->phase_records++;
        if (r->phase != st->phase) {
            st->phase = r->phase;
            st->phase_since_ns = r->recv.mono_ns;
        }
        break;
    case LP_KIND_EVENT:
        st->event_records++;
        if ((unsigned)r->severity < 4)
            st->events_by_severity[r->severity]++;
        for (int l = 0; l < LP_NLABELS; l++)
            if (r->labels & LP_LABEL_BIT(l))
                st->events_by_label[l]++;
        if (!strcmp(r->rule_id, "unclassified"))
            st->unclassified++;
        if (r->severity >= LP_SEV_WARNING) {
            snprintf(st->last_event_rule, sizeof st->last_event_rule, "%s", r->rule_id);
            size_t n = r->text_len < sizeof st->last_event_text - 1
                           ? r->text_len : sizeof st->last_event_text - 1;
            memcpy(st->last_event_text, r->text, n);
            st->last_event_text[n] = '\0';
            st->last_event_labels = r->labels;
            st->last_event_severity = r->severity;
            st->last_event_ns = r->recv.mono_ns ? r->recv.mono_ns : 1;
        }
        break;
    }
}

static void emit(struct lp_parser *p, struct lp_record *r)
{
    r->fields = p->fields;
    r->nfields = p->nfields;
    update_state(p, r);
    if (p->cb)
        p->cb(r, p->arg);
}

static void record_base(struct lp_record *r, const struct line_ctx *lc)
{
    memset(r, 0, sizeof *r);
    r->source = lc->src->name;
    r->line_no = r->first_line_no = lc->line_no;
    r->text = lc->text;
    r->text_len = lc->len;
    r->truncated = lc->truncated;
    r->recv = lc->recv;
    r->has_time = lc->has_time;
    r->time_ns = lc->time_ns;
    r->event = "";
    r->action = "";
}

/* Fields of one regex match: named groups, then the extractor. */
static void match_fields(struct lp_parser *p, const struct lp_rule *rule, const char *s)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    const char *xs = s + ov[0];
    size_t xn = ov[1] - ov[0];
    for (size_t i = 0; i < rule->nnames; i++) {
        int g = rule->names[i].group;
        if (ov[2 * g] == PCRE2_UNSET)
            continue;
        if (!strcmp(rule->names[i].name, "kv")) {
            xs = s + ov[2 * g];
            xn = ov[2 * g + 1] - ov[2 * g];
            continue;
        }
        const char *nm = rule->names[i].name;
        add_field(p, nm, strlen(nm), s + ov[2 * g], ov[2 * g + 1] - ov[2 * g], false,
                  rule->kind == LP_KIND_METRIC);
    }
    switch (rule->extract) {
    case LP_X_PYDICT: extract_pydict(p, xs, xn); break;
    case LP_X_KV: extract_kv(p, xs, xn); break;
    case LP_X_PIPE: extract_pipe(p, xs, xn); break;
    case LP_X_NONE: break;
    }
    /* tqdm prints s/it when slower than one step a second. */
    struct lp_field *spi = field_find(p, "s_per_it");
    if (spi && spi->is_num && spi->num > 0 && !field_find(p, "it_per_s") &&
        p->nfields < LP_MAX_FIELDS) {
        char buf[32];
        int l = snprintf(buf, sizeof buf, "%.17g", 1.0 / spi->num);
        add_field(p, "it_per_s", 8, buf, (size_t)l, true, false);
    }
}

static void start_fields(struct lp_parser *p)
{
    p->nfields = 0;
    p->arenalen = 0;
}

/* Runs the rules on one line; returns true if an event rule matched.  only_events:
 * used for the exception line of a traceback. */
static bool match_line(struct lp_parser *p, const struct line_ctx *lc, bool only_events,
                       const struct tb *tb)
{
    const struct lp_rules *rs = p->rules;
    if (!rs->n)
        return false;
    lp_rules_candidates(rs, lc->text, lc->len, p->cand);
    bool done[3] = {only_events, false, only_events};
    bool matched_event = false;
    for (size_t w = 0; w < rs->nwords; w++) {
        uint64_t bits = p->cand[w];
        while (bits) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            const struct lp_rule *rule = rs->v[i];
            if (done[rule->kind])
                continue;
            if (rule->fallback && matched_event)
                continue;
            int rc = lp_rule_exec(rule, lc->text, lc->len, p->md, p->mc);
            if (rc <= 0)
                continue;
            done[rule->kind] = true;
            struct lp_record r;
            record_base(&r, lc);
            r.kind = rule->kind;
            r.rule_id = rule->id;
            r.event = rule->event;
            r.severity = rule->severity;
            r.labels = rule->labels;
            r.action = rule->action;
            start_fields(p);
            match_fields(p, rule, lc->text);
            if (rule->kind == LP_KIND_METRIC) {
                size_t nnum = 0;
                for (size_t f = 0; f < p->nfields; f++)
                    nnum += p->fields[f].is_num;
                if (!nnum) { /* no number after all: let another metric rule try */
                    done[LP_KIND_METRIC] = false;
                    continue;
                }
            }
            if (rule->kind == LP_KIND_PHASE) {
                r.phase = rule->phase;
                const struct lp_field *pf = field_find(p, "phase");
                if (pf) {
                    int ph = lp_phase_from_name(pf->text);
                    if (ph > 0)
                        r.phase = (enum lp_phase)ph;
                }
                if (r.phase == LP_PHASE_NONE) { /* an unknown stage name */
                    done[LP_KIND_PHASE] = false;
                    continue;
                }
                r.event = lp_phase_name(r.phase);
            }
            if (rule->kind == LP_KIND_EVENT) {
                matched_event = true;
                if (tb) {
                    r.first_line_no = tb->first_line;
                    r.recv = tb->recv;
                    if (tb->has_time) {
                        r.has_time = true;
                        r.time_ns = tb->time_ns;
                    }
                }
            }
            if (tb)
                return true; /* caller emits with traceback fields */
            emit(p, &r);
        }
    }
    return matched_event;
}

/* Exception line "pkg.module.SomeError: message" -> type and message. */
static bool exception_line(const char *s, size_t n, size_t *tlen, size_t *msg_off)
{
    size_t i = 0;
    if (!n || !is_key_start(s[0]))
        return false;
    while (i < n && (is_key_char(s[i]) && s[i] != '/' && s[i] != '-'))
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

static void tb_emit(struct lp_parser *p, struct source *src)
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
        if (match_line(p, &lc, true, tb)) {
            found = true;
            use = k;
        }
    }
    /* match_line left the winning rule's fields in p->fields; rebuild the record. */
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
        start_fields(p);
        if (rule)
            match_fields(p, rule, tb->exc[use]);
    } else {
        start_fields(p);
    }
    lc.text = tb->nexc ? tb->exc[tb->nexc - 1] : "Traceback (most recent call last):";
    lc.len = tb->nexc ? tb->exclen[tb->nexc - 1] : strlen(lc.text);
    lc.line_no = tb->nexc ? tb->exc_line[tb->nexc - 1] : tb->first_line;
    record_base(&r, &lc);
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
            add_field(p, last ? "exc_type" : "cause_type", last ? 8 : 10, tb->exc[k], tl,
                      false, false);
            add_field(p, last ? "exc_message" : "cause_message", last ? 11 : 13,
                      tb->exc[k] + mo, tb->exclen[k] - mo, false, false);
        }
    }
    char nb[32];
    int l = snprintf(nb, sizeof nb, "%llu", (unsigned long long)tb->nlines);
    add_field(p, "traceback_lines", 15, nb, (size_t)l, false, false);
    tb->st = TB_NONE;
    tb->nexc = 0;
    emit(p, &r);
}

/* Traceback grouping.  Returns true if the line was consumed by a traceback. */
static bool tb_line(struct lp_parser *p, const struct line_ctx *lc)
{
    struct source *src = lc->src;
    struct tb *tb = src->tb;
    const char *s = lc->text;
    size_t n = lc->len;
    /* the header sits near the start (after a log prefix at most) */
    bool starts = n >= 33 && memmem(s, n < 96 ? n : 96, "Traceback (most recent call last)", 33);
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
    tb_emit(p, src);
    if (starts)
        return tb_line(p, lc);
    return false;
}

/* ---- lines ---------------------------------------------------------------------- */
/* Copies s without ANSI escape sequences (CSI, OSC, two-byte) into p->strip. */
static const char *strip_ansi(struct lp_parser *p, const char *s, size_t n, size_t *out)
{
    if (!memchr(s, 0x1b, n)) {
        *out = n;
        return s;
    }
    if (ensure(&p->strip, &p->stripcap, n + 1) < 0) {
        *out = n;
        return s;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != 0x1b) {
            p->strip[k++] = (char)c;
            continue;
        }
        if (i + 1 >= n)
            break;
        unsigned char t = (unsigned char)s[i + 1];
        if (t == '[') { /* CSI: parameters, then a final byte 0x40-0x7e */
            i += 2;
            while (i < n && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
                i++;
        } else if (t == ']') { /* OSC: until BEL or ESC \ */
            i += 2;
            while (i < n && s[i] != 0x07 && !(s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\'))
                i++;
            if (i < n && s[i] == 0x1b)
                i++;
        } else {
            i++; /* two-byte escape */
        }
    }
    *out = k;
    return p->strip;
}

static void process_line(struct lp_parser *p, struct source *src, const char *raw, size_t n,
                         uint64_t line_no, bool truncated, struct moni_stamp recv)
{
    size_t len;
    const char *s = strip_ansi(p, raw, n, &len);
    /* A leading "[rank0]: " style prefix is common in torchrun output; keep it. */
    p->st.lines++;
    if (truncated)
        p->st.truncated_lines++;
    /* Room for every field's copy (groups can overlap, so be generous). */
    if (ensure(&p->arena, &p->arenacap, 4 * len + 8192) < 0)
        return;
    struct line_ctx lc = {.src = src, .text = s, .len = len, .line_no = line_no,
                          .truncated = truncated, .recv = recv};
    int64_t ref = src->last_time_ns ? src->last_time_ns : recv.real_ns;
    int64_t t;
    if (len && lp_parse_timestamp(s, len < 128 ? len : 128, ref, &t)) {
        lc.has_time = true;
        lc.time_ns = src->last_time_ns = t;
    } else {
        lc.time_ns = src->last_time_ns;
    }
    if (truncated) {
        struct lp_record r;
        record_base(&r, &lc);
        r.kind = LP_KIND_EVENT;
        r.rule_id = "line_truncated";
        r.event = "line_truncated";
        r.severity = LP_SEV_WARNING;
        start_fields(p);
        char nb[32];
        int l = snprintf(nb, sizeof nb, "%u", LP_MAX_LINE);
        add_field(p, "kept_bytes", 10, nb, (size_t)l, false, false);
        /* the record text is the first 200 bytes; the full line still goes to rules */
        r.text_len = len < 200 ? len : 200;
        emit(p, &r);
    }
    if (tb_line(p, &lc))
        return;
    match_line(p, &lc, false, NULL);
}

void lp_parser_line(struct lp_parser *p, const char *source, const char *line, size_t len,
                    struct moni_stamp recv)
{
    struct source *src = get_source(p, source);
    if (!src)
        return;
    bool trunc = len > LP_MAX_LINE;
    src->line_no++;
    process_line(p, src, line, trunc ? LP_MAX_LINE : len, src->line_no, trunc, recv);
}

/* Ends the buffered segment of src. */
static void end_segment(struct lp_parser *p, struct source *src, const char *direct,
                        size_t dlen, struct moni_stamp recv)
{
    const char *s = direct;
    size_t n = dlen;
    bool trunc = src->overflow;
    if (src->len || src->overflow) {
        /* append the direct part to the buffer (bounded) */
        size_t room = LP_MAX_LINE - src->len;
        size_t take = dlen < room ? dlen : room;
        if (dlen > room)
            trunc = true;
        if (take && ensure(&src->buf, &src->cap, src->len + take) == 0) {
            memcpy(src->buf + src->len, direct, take);
            src->len += take;
        }
        s = src->buf;
        n = src->len;
    } else if (n > LP_MAX_LINE) {
        n = LP_MAX_LINE;
        trunc = true;
    }
    if (n || trunc)
        process_line(p, src, s, n, src->line_no + 1, trunc, recv);
    src->len = 0;
    src->overflow = false;
}

static void buffer_partial(struct source *src, const char *s, size_t n)
{
    if (src->overflow)
        return;
    size_t room = LP_MAX_LINE - src->len;
    if (n > room) {
        n = room;
        src->overflow = true;
    }
    if (n && ensure(&src->buf, &src->cap, src->len + n) < 0) {
        src->overflow = true;
        return;
    }
    memcpy(src->buf + src->len, s, n);
    src->len += n;
    /* Keep the allocation bounded once a long line is done. */
}

void lp_parser_feed(struct lp_parser *p, const char *source, const void *buf, size_t len,
                    struct moni_stamp recv)
{
    struct source *src = get_source(p, source);
    if (!src || !len)
        return;
    const char *s = buf, *end = s + len;
    while (s < end) {
        if (src->pending_cr) {
            src->pending_cr = false;
            if (*s == '\n') { /* CRLF: the CR already ended the segment */
                src->line_no++;
                s++;
                continue;
            }
        }
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *lim = nl ? nl : end;
        const char *cr = memchr(s, '\r', (size_t)(lim - s));
        if (cr) {
            end_segment(p, src, s, (size_t)(cr - s), recv);
            src->pending_cr = true;
            s = cr + 1;
            continue;
        }
        if (nl) {
            end_segment(p, src, s, (size_t)(nl - s), recv);
            src->line_no++;
            s = nl + 1;
            continue;
        }
        buffer_partial(src, s, (size_t)(end - s));
        break;
    }
    if (src->cap > 4 * 65536 && src->len < 65536) {
        char *nb = realloc(src->buf, 65536);
        if (nb) {
            src->buf = nb;
            src->cap = 65536;
        }
    }
}

static void flush_source(struct lp_parser *p, struct source *src)
{
    struct moni_stamp now = {0, 0};
    if (src->len || src->overflow) {
        now = moni_now();
        end_segment(p, src, "", 0, now);
        src->line_no++;
    }
    src->pending_cr = false;
    tb_emit(p, src);
}

void lp_parser_flush(struct lp_parser *p, const char *source)
{
    if (source) {
        for (size_t i = 0; i < p->nsrc; i++)
            if (!strcmp(p->src[i].name, source))
                flush_source(p, &p->src[i]);
        return;
    }
    for (size_t i = 0; i < p->nsrc; i++)
        flush_source(p, &p->src[i]);
}

/* ---- records: helpers and sets --------------------------------------------------- */
int64_t lp_record_time(const struct lp_record *r)
{
    return r->time_ns ? r->time_ns : r->recv.real_ns;
}

const struct lp_field *lp_record_field(const struct lp_record *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].name, name))
            return &r->fields[i];
    return NULL;
}

void lp_recset_init(struct lp_recset *s) { memset(s, 0, sizeof *s); }

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void record_release(struct lp_record *r)
{
    free((char *)r->rule_id);
    free((char *)r->event);
    free((char *)r->action);
    free((char *)r->source);
    free((char *)r->text);
    for (size_t i = 0; i < r->nfields; i++) {
        free((char *)r->fields[i].name);
        free((char *)r->fields[i].text);
    }
    free((void *)r->fields);
}

int lp_recset_add(struct lp_recset *s, const struct lp_record *r)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        struct lp_record *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    struct lp_record *d = &s->v[s->n];
    *d = *r;
    d->rule_id = strdup(r->rule_id ? r->rule_id : "");
    d->event = strdup(r->event ? r->event : "");
    d->action = strdup(r->action ? r->action : "");
    d->source = strdup(r->source ? r->source : "");
    d->text = dupn(r->text ? r->text : "", r->text ? r->text_len : 0);
    d->fields = NULL;
    d->nfields = 0;
    struct lp_field *f = r->nfields ? calloc(r->nfields, sizeof *f) : NULL;
    bool ok = d->rule_id && d->event && d->action && d->source && d->text &&
              (!r->nfields || f);
    if (f) {
        d->fields = f;
        for (size_t i = 0; i < r->nfields; i++) {
            f[i] = r->fields[i];
            f[i].name = strdup(r->fields[i].name);
            f[i].text = strdup(r->fields[i].text ? r->fields[i].text : "");
            d->nfields = i + 1;
            if (!f[i].name || !f[i].text)
                ok = false;
        }
    }
    if (!ok) {
        record_release(d);
        return -1;
    }
    s->n++;
    return 0;
}

struct rec_idx {
    struct lp_record r;
    size_t i;
};

static int cmp_time_stable(const void *a, const void *b)
{
    const struct rec_idx *x = a, *y = b;
    int64_t tx = lp_record_time(&x->r), ty = lp_record_time(&y->r);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void lp_recset_sort(struct lp_recset *s)
{
    if (s->n < 2)
        return;
    struct rec_idx *tmp = malloc(s->n * sizeof *tmp);
    if (!tmp)
        return;
    for (size_t i = 0; i < s->n; i++) {
        tmp[i].r = s->v[i];
        tmp[i].i = i;
    }
    qsort(tmp, s->n, sizeof *tmp, cmp_time_stable);
    for (size_t i = 0; i < s->n; i++)
        s->v[i] = tmp[i].r;
    free(tmp);
}

void lp_recset_free(struct lp_recset *s)
{
    for (size_t i = 0; i < s->n; i++)
        record_release(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void lp_recset_collect(const struct lp_record *r, void *set)
{
    lp_recset_add(set, r);
}
