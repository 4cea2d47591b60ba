/* logparse/parser.c — the streaming parser: splits bytes of several sources into
 * lines (LF, CRLF, bare CR), strips ANSI escapes, hands each line to the traceback
 * grouper (traceback.c), runs the candidate rules of each line (prefilter first)
 * and turns matches into records, whose fields fields.c fills; keeps the running
 * training state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logparse/parser-int.h"

bool lp_reference_paths;

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
    p->ov = pcre2_get_ovector_pointer(p->md);
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

/* ---- records ---------------------------------------------------------------------- */
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

void lp_emit(struct lp_parser *p, struct lp_record *r)
{
    r->fields = p->fields;
    r->nfields = p->nfields;
    update_state(p, r);
    if (p->cb)
        p->cb(r, p->arg);
}

void lp_record_base(struct lp_record *r, const struct line_ctx *lc)
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

/* Runs the rules on one line and emits a record per kind that matched; returns true
 * if an event rule matched.  exception_probe (an exception line of a traceback): only
 * event rules, and nothing is emitted, since the traceback builds its own record. */
bool lp_match_line(struct lp_parser *p, const struct line_ctx *lc, bool exception_probe)
{
    const struct lp_rules *rs = p->rules;
    if (!rs->n)
        return false;
    lp_rules_candidates(rs, lc->text, lc->len, p->cand);
    bool done[3] = {exception_probe, false, exception_probe};
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
            lp_record_base(&r, lc);
            r.kind = rule->kind;
            r.rule_id = rule->id;
            r.event = rule->event;
            r.severity = rule->severity;
            r.labels = rule->labels;
            r.action = rule->action;
            lp_fields_start(p);
            lp_match_fields(p, rule, lc->text);
            if (rule->kind == LP_KIND_METRIC) {
                bool anynum = false;
                for (size_t f = 0; f < p->nfields && !anynum; f++)
                    anynum = p->fields[f].is_num;
                if (!anynum) { /* no number after all: let another metric rule try */
                    done[LP_KIND_METRIC] = false;
                    continue;
                }
            }
            if (rule->kind == LP_KIND_PHASE) {
                r.phase = rule->phase;
                const struct lp_field *pf = lp_field_find(p, "phase");
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
            if (rule->kind == LP_KIND_EVENT)
                matched_event = true;
            if (exception_probe)
                return true;
            lp_emit(p, &r);
        }
    }
    return matched_event;
}

/* ---- lines ---------------------------------------------------------------------- */
/* Copies s without ANSI escape sequences (CSI, OSC, two-byte) into p->strip. */
static const char *strip_ansi(struct lp_parser *p, const char *s, size_t n, size_t *out)
{
    uintptr_t a = (uintptr_t)s;
    if ((a >= p->noesc_lo && a + n <= p->noesc_hi) || !memchr(s, 0x1b, n)) {
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
    if (len && lp_parse_timestamp_ref(s, len < 128 ? len : 128, ref, !src->last_time_ns, &t)) {
        lc.has_time = true;
        lc.time_ns = src->last_time_ns = t;
    } else {
        lc.time_ns = src->last_time_ns;
    }
    if (truncated) {
        struct lp_record r;
        lp_record_base(&r, &lc);
        r.kind = LP_KIND_EVENT;
        r.rule_id = "line_truncated";
        r.event = "line_truncated";
        r.severity = LP_SEV_WARNING;
        lp_fields_start(p);
        char nb[32];
        int l = snprintf(nb, sizeof nb, "%u", LP_MAX_LINE);
        lp_field_add(p, "kept_bytes", 10, nb, (size_t)l, false, false);
        /* the record text is the first 200 bytes; the full line still goes to rules */
        r.text_len = len < 200 ? len : 200;
        lp_emit(p, &r);
    }
    if (lp_tb_line(p, &lc))
        return;
    lp_match_line(p, &lc, false);
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
    /* one search for ESC in the whole chunk spares one a line (most logs have none) */
    if (!lp_reference_paths && !memchr(buf, 0x1b, len)) {
        p->noesc_lo = (uintptr_t)buf;
        p->noesc_hi = (uintptr_t)buf + len;
    }
    /* the next LF, found once for all the CR segments before it (tqdm redraws a bar
     * many times on one line: one search per segment made the line quadratic) */
    const char *nl = NULL;
    bool nl_known = false;
    while (s < end) {
        if (src->pending_cr) {
            src->pending_cr = false;
            if (*s == '\n') { /* CRLF: the CR already ended the segment */
                src->line_no++;
                s++;
                continue;
            }
        }
        if (!nl_known || (nl && nl < s)) {
            nl = memchr(s, '\n', (size_t)(end - s));
            nl_known = true;
        }
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
    p->noesc_lo = p->noesc_hi = 0; /* the caller's buffer is theirs again */
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
    lp_tb_emit(p, src);
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
