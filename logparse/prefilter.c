/* logparse/prefilter.c — the literal prefilter index of a rule set: an Aho-Corasick
 * DFA over the case-folded prefilter literals of the rules, which tells the parser
 * which few rules can match a line at all.  Built once by lp_rules_finish (rules in
 * their final order), then read per line by lp_rules_candidates; never changed while
 * a parser uses the set.  A literal with a \\b mark outputs its rule only after a check
 * of the bytes around it (lp_pf_cond), so plain literals keep the one-lookup loop. */
#include <stdlib.h>
#include <string.h>

#include "logparse/lp-int.h"

/* Scratch tables of one build: the trie (goto function, then the full transition
 * table) with failure links and per-state outputs, before they are compacted into
 * the rule set. */
struct ac_build {
    size_t total;   /* literal bytes + 1: an upper bound on the states */
    size_t nstates;
    size_t ncls;
    int32_t *go;    /* nstates x ncls */
    int32_t *kid, *sib; /* the trie's edges: a state's first child, a child's next */
    uint8_t *ecls;      /* the class of the edge into a state */
    int32_t *fail;
    int32_t *queue;
    uint64_t *outs; /* nwords per state: the rules whose literal ends there */
    /* bounded literals: own_* chains those ending at each state (-1 = none); after
     * the failure links, each state's list (its own and its failure state's) is
     * conds[first[s] .. first[s] + n[s]) */
    int32_t *own_head;
    int32_t *own_next;
    struct lp_pf_cond *own;
    size_t nown;
    uint32_t *first, *n;
    struct lp_pf_cond *conds;
    size_t nconds, capconds;
    uint32_t *out_of; /* per state: 1 + its output's index, 0 = none */
    uint32_t *perm;   /* per state: its number in the final DFA */
};

static void ac_build_free(struct ac_build *b)
{
    free(b->go);
    free(b->kid);
    free(b->sib);
    free(b->ecls);
    free(b->fail);
    free(b->queue);
    free(b->outs);
    free(b->own_head);
    free(b->own_next);
    free(b->own);
    free(b->first);
    free(b->n);
    free(b->conds);
    free(b->out_of);
    free(b->perm);
}

static int cmp_rule(const void *a, const void *b)
{
    const struct lp_rule *x = *(struct lp_rule *const *)a, *y = *(struct lp_rule *const *)b;
    if (x->fallback != y->fallback)
        return x->fallback ? 1 : -1;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Drops the old index, puts the rules in matching order (fallbacks last, then
 * priority, then load order) and sizes the bitsets and the match data. */
static void order_rules(struct lp_rules *rs)
{
    free(rs->dfa);
    free(rs->outs);
    free(rs->always);
    free(rs->cond_first);
    free(rs->cond_n);
    free(rs->conds);
    rs->dfa = NULL;
    rs->outs = NULL;
    rs->always = NULL;
    rs->cond_first = NULL;
    rs->cond_n = NULL;
    rs->conds = NULL;
    if (rs->n)
        qsort(rs->v, rs->n, sizeof *rs->v, cmp_rule);
    rs->nwords = (rs->n + 63) / 64;
    if (rs->nwords == 0)
        rs->nwords = 1;
    rs->maxcap = 1;
    for (size_t i = 0; i < rs->n; i++) {
        rs->v[i]->index = i;
        if (rs->v[i]->ncaptures + 1 > rs->maxcap)
            rs->maxcap = rs->v[i]->ncaptures + 1;
    }
}

/* The rules without a prefilter (always candidates), and the byte classes: each
 * byte that occurs in a literal gets its own class, upper case folded onto lower.
 * *nbounded: how many literals carry a \\b mark. */
static int classify_bytes(struct lp_rules *rs, size_t *total, size_t *nbounded, char *err,
                          size_t errlen)
{
    rs->always = calloc(rs->nwords, sizeof(uint64_t));
    if (!rs->always)
        return lp_set_err(err, errlen, "out of memory");
    memset(rs->cls, 0, sizeof rs->cls);
    rs->ncls = 1;
    *total = 1;
    *nbounded = 0;
    for (size_t i = 0; i < rs->n; i++) {
        struct lp_rule *r = rs->v[i];
        if (!r->nprefilters)
            rs->always[i / 64] |= 1ull << (i % 64);
        for (size_t j = 0; j < r->nprefilters; j++) {
            *nbounded += r->prefilter_bounds[j] != 0;
            for (const unsigned char *c = (const unsigned char *)r->prefilters[j]; *c; c++) {
                if (!rs->cls[*c])
                    rs->cls[*c] = (uint8_t)rs->ncls++;
                (*total)++;
            }
        }
    }
    if (rs->ncls > 255)
        return lp_set_err(err, errlen, "prefilter literals use too many distinct bytes");
    for (int c = 'A'; c <= 'Z'; c++)
        rs->cls[c] = rs->cls[c - 'A' + 'a'];
    return 0;
}

/* The trie of every literal (goto function in b->go, -1 = no edge); a literal's
 * last state outputs its rule, at once or, for a bounded literal, after its check. */
static void build_trie(const struct lp_rules *rs, struct ac_build *b)
{
    size_t ncls = b->ncls;
    /* a state's row is set when the state is made: only the rows used are touched
     * (the table is sized for the worst case, no shared prefixes) */
    for (size_t c = 0; c < ncls; c++)
        b->go[c] = -1;
    b->kid[0] = -1;
    b->nstates = 1;
    for (size_t i = 0; i < rs->n; i++) {
        struct lp_rule *r = rs->v[i];
        for (size_t j = 0; j < r->nprefilters; j++) {
            int32_t s = 0;
            for (const unsigned char *c = (const unsigned char *)r->prefilters[j]; *c; c++) {
                int32_t *slot = &b->go[(size_t)s * ncls + rs->cls[*c]];
                if (*slot < 0) {
                    int32_t t = (int32_t)b->nstates++;
                    for (size_t k = 0; k < ncls; k++)
                        b->go[(size_t)t * ncls + k] = -1;
                    b->kid[t] = -1;
                    b->ecls[t] = rs->cls[*c];
                    b->sib[t] = b->kid[s];
                    b->kid[s] = t;
                    *slot = t;
                }
                s = *slot;
            }
            if (r->prefilter_bounds[j]) {
                size_t k = b->nown++;
                b->own[k] = (struct lp_pf_cond){.rule = (uint32_t)i,
                                                .len = (uint16_t)strlen(r->prefilters[j]),
                                                .bounds = r->prefilter_bounds[j]};
                b->own_next[k] = b->own_head[s];
                b->own_head[s] = (int32_t)k;
            } else {
                b->outs[(size_t)s * rs->nwords + i / 64] |= 1ull << (i % 64);
            }
        }
    }
}

/* Breadth first over the trie: failure links, outputs inherited along them, and
 * the missing edges filled in, which turns the trie into a DFA.  A state's row
 * starts as a copy of its failure state's (complete already: it is nearer the
 * root), then gets its own edges back; the order of siblings in the queue does not
 * change any table. */
static void link_failures(const struct lp_rules *rs, struct ac_build *b)
{
    size_t ncls = b->ncls;
    int32_t *go = b->go, *fail = b->fail, *queue = b->queue;
    size_t qh = 0, qt = 0;
    for (size_t c = 0; c < ncls; c++)
        if (go[c] < 0)
            go[c] = 0;
    for (int32_t t = b->kid[0]; t >= 0; t = b->sib[t]) {
        fail[t] = 0;
        queue[qt++] = t;
    }
    while (qh < qt) {
        int32_t s = queue[qh++], f = fail[s];
        uint64_t *so = &b->outs[(size_t)s * rs->nwords];
        uint64_t *fo = &b->outs[(size_t)f * rs->nwords];
        for (size_t w = 0; w < rs->nwords; w++)
            so[w] |= fo[w];
        int32_t *row = &go[(size_t)s * ncls];
        const int32_t *frow = &go[(size_t)f * ncls];
        memcpy(row, frow, ncls * sizeof *row);
        for (int32_t t = b->kid[s]; t >= 0; t = b->sib[t]) {
            fail[t] = frow[b->ecls[t]];
            row[b->ecls[t]] = t;
            queue[qt++] = t;
        }
    }
}

static int push_cond(struct ac_build *b, struct lp_pf_cond c)
{
    if (b->nconds == b->capconds) {
        size_t cap = b->capconds ? 2 * b->capconds : 64;
        struct lp_pf_cond *v = realloc(b->conds, cap * sizeof *v);
        if (!v)
            return -1;
        b->conds = v;
        b->capconds = cap;
    }
    b->conds[b->nconds++] = c;
    return 0;
}

/* Each state's bounded literals: its own, then its failure state's (already listed:
 * the queue of link_failures is in breadth-first order, so failure states come first). */
static int list_conds(struct ac_build *b)
{
    b->first = calloc(b->nstates, sizeof *b->first);
    b->n = calloc(b->nstates, sizeof *b->n);
    if (!b->first || !b->n)
        return -1;
    for (size_t q = 0; q + 1 < b->nstates; q++) {
        int32_t s = b->queue[q];
        b->first[s] = (uint32_t)b->nconds;
        for (int32_t k = b->own_head[s]; k >= 0; k = b->own_next[k])
            if (push_cond(b, b->own[k]) < 0)
                return -1;
        int32_t f = b->fail[s];
        for (uint32_t k = 0; k < b->n[f]; k++)
            if (push_cond(b, b->conds[b->first[f] + k]) < 0)
                return -1;
        b->n[s] = (uint32_t)b->nconds - b->first[s];
    }
    return 0;
}

/* Compacts the outputs: b->out_of[state] = 1 + index into outs (and cond_first,
 * cond_n), 0 = none. */
static int compact_outputs(struct lp_rules *rs, struct ac_build *b)
{
    b->out_of = calloc(b->nstates, sizeof *b->out_of);
    rs->cond_first = calloc(b->nstates, sizeof *rs->cond_first);
    rs->cond_n = calloc(b->nstates, sizeof *rs->cond_n);
    if (!b->out_of || !rs->cond_first || !rs->cond_n)
        return -1;
    size_t nout = 0;
    for (size_t s = 0; s < b->nstates; s++) {
        bool any = b->n[s] != 0;
        for (size_t w = 0; w < rs->nwords; w++)
            any |= b->outs[s * rs->nwords + w] != 0;
        if (any) {
            memmove(&b->outs[nout * rs->nwords], &b->outs[s * rs->nwords],
                    rs->nwords * sizeof *b->outs);
            rs->cond_first[nout] = b->first[s];
            rs->cond_n[nout] = b->n[s];
            b->out_of[s] = (uint32_t)++nout;
        }
    }
    rs->conds = b->conds;
    b->conds = NULL;
    return 0;
}

/* Renumbers the states, those without outputs first (the root stays 0) and those
 * with outputs after them in output order, and premultiplies the DFA: an entry is
 * next_state * ncls, and next >= rs->first_out means "has outputs", so the scan loop
 * does one lookup and one compare per byte; output index = next / ncls - first. */
static int premultiply(struct lp_rules *rs, struct ac_build *b)
{
    size_t ncls = b->ncls;
    b->perm = malloc(b->nstates * sizeof *b->perm);
    int32_t *tmp = malloc(2 * ncls * sizeof *tmp), *spare = tmp + ncls;
    unsigned char *placed = calloc(b->nstates ? b->nstates : 1, 1);
    if (!b->perm || !tmp || !placed) {
        free(tmp);
        free(placed);
        return -1;
    }
    uint32_t k = 0;
    for (size_t s = 0; s < b->nstates; s++)
        if (!b->out_of[s])
            b->perm[s] = k++;
    uint32_t first = k;
    for (size_t s = 0; s < b->nstates; s++)
        if (b->out_of[s])
            b->perm[s] = first + b->out_of[s] - 1;
    /* In place (a second table was the peak of the process's memory): entries first,
     * then the rows, each cycle of the permutation followed with one spare row. */
    for (size_t i = 0; i < b->nstates * ncls; i++)
        b->go[i] = (int32_t)(b->perm[b->go[i]] * (uint32_t)ncls);
    for (size_t s = 0; s < b->nstates; s++) {
        if (placed[s])
            continue;
        int32_t *hand = tmp, *other = spare;
        memcpy(hand, &b->go[s * ncls], ncls * sizeof *hand); /* the row that was at j */
        for (size_t j = s;;) {
            size_t to = b->perm[j]; /* it goes to row `to`, whose row is taken in hand */
            int32_t *row = &b->go[to * ncls];
            memcpy(other, row, ncls * sizeof *other);
            memcpy(row, hand, ncls * sizeof *row);
            int32_t *t = hand;
            hand = other;
            other = t;
            placed[to] = 1;
            if (to == s)
                break;
            j = to;
        }
    }
    free(tmp);
    free(placed);
    int32_t *fit = realloc(b->go, (b->nstates ? b->nstates : 1) * ncls * sizeof *fit);
    if (fit)
        b->go = fit; /* the build's bound on states was larger */
    rs->first_out = first;
    return 0;
}

int lp_rules_finish(struct lp_rules *rs, char *err, size_t errlen)
{
    order_rules(rs);
    struct ac_build b = {0};
    size_t nbounded = 0;
    if (classify_bytes(rs, &b.total, &nbounded, err, errlen) < 0)
        return -1;
    b.ncls = rs->ncls;
    b.go = malloc(b.total * b.ncls * sizeof *b.go);
    b.fail = calloc(b.total, sizeof *b.fail);
    b.queue = malloc(b.total * sizeof *b.queue);
    b.outs = calloc(b.total * rs->nwords, sizeof *b.outs);
    b.own_head = malloc(b.total * sizeof *b.own_head);
    b.kid = malloc(b.total * sizeof *b.kid);
    b.sib = malloc(b.total * sizeof *b.sib);
    b.ecls = malloc(b.total * sizeof *b.ecls);
    b.own_next = malloc((nbounded + 1) * sizeof *b.own_next);
    b.own = malloc((nbounded + 1) * sizeof *b.own);
    if (!b.go || !b.fail || !b.queue || !b.outs || !b.own_head || !b.own_next || !b.own ||
        !b.kid || !b.sib || !b.ecls) {
        ac_build_free(&b);
        return lp_set_err(err, errlen, "out of memory");
    }
    memset(b.own_head, 0xff, b.total * sizeof *b.own_head);
    build_trie(rs, &b);
    link_failures(rs, &b);
    if (list_conds(&b) < 0 || compact_outputs(rs, &b) < 0) {
        ac_build_free(&b);
        return lp_set_err(err, errlen, "out of memory");
    }
    if (premultiply(rs, &b) < 0) {
        ac_build_free(&b);
        return lp_set_err(err, errlen, "out of memory");
    }
    rs->outs = b.outs;
    rs->dfa = b.go;
    rs->nstates = b.nstates;
    b.go = NULL;
    b.outs = NULL;
    ac_build_free(&b);
    rs->finished = true;
    return 0;
}

/* PCRE2's \w without UCP: ASCII letters, digits and '_'. */
static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* The bounded literals ending at s[end]: a rule whose literal has \b where a regex \b
 * holds (outside the line counts as a non-word byte). */
static void check_conds(const struct lp_rules *rs, uint32_t o, const unsigned char *s,
                        size_t end, size_t len, uint64_t *cand)
{
    const struct lp_pf_cond *c = &rs->conds[rs->cond_first[o]];
    for (uint32_t k = 0; k < rs->cond_n[o]; k++, c++) {
        size_t start = end + 1 - c->len;
        if ((c->bounds & LP_PF_BOUND_START) &&
            (start > 0 && is_word(s[start - 1])) == is_word(s[start]))
            continue;
        if ((c->bounds & LP_PF_BOUND_END) &&
            is_word(s[end]) == (end + 1 < len && is_word(s[end + 1])))
            continue;
        cand[c->rule / 64] |= 1ull << (c->rule % 64);
    }
}

/* The rules of the output state st (premultiplied), reached at s[end]. */
__attribute__((noinline)) static void mark_outputs(const struct lp_rules *rs, size_t st,
                                                   const unsigned char *s, size_t end,
                                                   size_t len, uint64_t *cand)
{
    uint32_t o = (uint32_t)(st / rs->ncls) - rs->first_out;
    const uint64_t *ob = &rs->outs[(size_t)o * rs->nwords];
    for (size_t w = 0; w < rs->nwords; w++)
        cand[w] |= ob[w];
    if (rs->cond_n[o])
        check_conds(rs, o, s, end, len, cand);
}

/* Marks in cand (nwords words) every rule whose prefilter occurs in s, plus the
 * rules without a prefilter.  The hot loop: one table lookup and one compare a byte
 * (4 bytes a round); outputs are rare and handled out of line. */
void lp_rules_candidates(const struct lp_rules *rs, const char *s, size_t len, uint64_t *cand)
{
    for (size_t w = 0; w < rs->nwords; w++) /* (a word or two: no memcpy call) */
        cand[w] = rs->always[w];
    if (!rs->dfa)
        return;
    const uint32_t *dfa = (const uint32_t *)rs->dfa;
    const uint8_t *cls = rs->cls;
    size_t thr = (size_t)rs->first_out * rs->ncls, st = 0;
    const unsigned char *b = (const unsigned char *)s, *p = b, *end = b + len;
#define PF_STEP(q)                                                                         \
    do {                                                                                   \
        st = dfa[st + cls[*(q)]];                                                          \
        if (__builtin_expect(st >= thr, 0))                                                \
            mark_outputs(rs, st, b, (size_t)((q) - b), len, cand);                         \
    } while (0)
    for (; end - p >= 4; p += 4) {
        PF_STEP(p);
        PF_STEP(p + 1);
        PF_STEP(p + 2);
        PF_STEP(p + 3);
    }
    for (; p < end; p++)
        PF_STEP(p);
#undef PF_STEP
}
