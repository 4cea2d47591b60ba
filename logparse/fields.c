/* logparse/fields.c — the fields of a record: named groups of the matching rule,
 * then the rule's extractor (Python dicts, key=value, Megatron's "| key: value |"),
 * with numbers parsed and metric names normalised to one spelling.  Works on the
 * parser's per-record arena; never allocates per line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logparse/parser-int.h"

static const char *const metric_names[LP_NMETRICS] = {
    "loss", "learning_rate", "grad_norm", "step", "total_steps", "epoch", "it_per_s",
    "samples_per_s", "eval_loss", "eval_accuracy",
};
const char *lp_metric_name(enum lp_metric m)
{
    return (unsigned)m < LP_NMETRICS ? metric_names[m] : "?";
}

/* Normalised metric key: lower case, runs of other characters -> '_' ("lm loss" ->
 * lm_loss); metricnames.c then maps the spelling to its canonical name. */
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
    return k;
}

/* Printable ASCII without " and \: a JSON string as it is. */
static bool json_plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return false;
    }
    return true;
}

static inline const char *arena_put(struct lp_parser *p, const char *s, size_t n)
{
    if (p->arenalen + n + 1 > p->arenacap)
        return NULL;
    char *d = p->arena + p->arenalen;
    if (n <= 16) /* most values */
        moni_copy_small(d, s, n);
    else
        memcpy(d, s, n);
    d[n] = '\0';
    p->arenalen += n + 1;
    return d;
}

static int metric_index(const char *name)
{
    for (int m = 0; m < LP_NMETRICS; m++)
        if (name[0] == metric_names[m][0] && !strcmp(name, metric_names[m]))
            return m;
    return -1;
}

/* "48.13GiB(50.67%)": the percentage printed beside a memory value. */
static bool paren_percent(const char *t, size_t n, const char **ps, size_t *pn)
{
    const char *lp = memchr(t, '(', n);
    if (!lp)
        return false;
    const char *pct = memchr(lp, '%', (size_t)(t + n - lp));
    if (!pct || pct == lp + 1)
        return false;
    *ps = lp + 1;
    *pn = (size_t)(pct - lp - 1);
    return true;
}

/* Canonical names of the keys seen lately, by their bytes as written: the same few
 * keys come on every line, so most fields skip normalising and the table lookup. */
#define CANON_SLOTS 256
#define CANON_KEYLEN 40
struct canon_slot {
    uint8_t klen; /* 0: empty */
    uint8_t nlen;
    bool loss; /* the name has "loss" in it */
    bool has_unit;
    signed char metric;
    char key[CANON_KEYLEN];
    char name[CANON_KEYLEN];
    struct lp_canon unit;
};
static _Thread_local struct canon_slot canon_cache[CANON_SLOTS];

/* The canonical name of a metric key as written, into nb (cap >= 128); returns its
 * length, 0 if the key normalises to nothing. */
static size_t canon_compute(const char *name, size_t nlen, char *nb, size_t cap,
                            struct lp_canon *unit, bool *has_unit, int *metric, bool *loss)
{
    char key[128];
    if (!norm_name(name, nlen, key, sizeof key))
        return 0;
    *has_unit = lp_canon_name(key, nb, cap, unit);
    if (!*has_unit)
        memcpy(nb, key, strlen(key) + 1);
    *metric = metric_index(nb);
    *loss = strstr(nb, "loss") != NULL;
    return strlen(nb);
}

/* canon_compute through a cache of the keys seen lately */
static size_t canon_key(const char *name, size_t nlen, char *nb, size_t cap,
                        struct lp_canon *unit, bool *has_unit, int *metric, bool *loss)
{
    struct canon_slot *slot = NULL;
    if (nlen && nlen < CANON_KEYLEN) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < nlen; i++)
            h = (h ^ (unsigned char)name[i]) * 16777619u;
        slot = &canon_cache[h & (CANON_SLOTS - 1)];
        if (slot->klen == nlen && !memcmp(slot->key, name, nlen)) {
            memcpy(nb, slot->name, (size_t)slot->nlen + 1);
            *unit = slot->unit;
            *has_unit = slot->has_unit;
            *metric = slot->metric;
            *loss = slot->loss;
            return slot->nlen;
        }
    }
    size_t nl = canon_compute(name, nlen, nb, cap, unit, has_unit, metric, loss);
    if (!nl)
        return 0;
    if (slot && nl < CANON_KEYLEN) {
        slot->klen = (uint8_t)nlen;
        slot->nlen = (uint8_t)nl;
        memcpy(slot->key, name, nlen);
        memcpy(slot->name, nb, nl + 1);
        slot->unit = *unit;
        slot->has_unit = *has_unit;
        slot->metric = (signed char)*metric;
        slot->loss = *loss;
    }
    return nl;
}

static bool field_add_key(struct lp_parser *p, const struct field_key *k, const char *text,
                          size_t tlen, bool numeric_only);

/* Adds a field.  Metric keys (normalise) get their canonical name and unit
 * (metricnames.c) and keep the key as written in raw; numeric text gets is_num.  A
 * later field of the same name replaces an earlier one.  numeric_only drops
 * non-numbers.  Returns whether the field was added. */
bool lp_field_add(struct lp_parser *p, const char *name, size_t nlen, const char *text,
                  size_t tlen, bool numeric_only, bool normalise)
{
    char nb[128];
    struct lp_canon unit = {0};
    struct field_key k = {.name = nb, .normalise = normalise, .metric = -1, .unit = &unit};
    if (normalise) {
        if (!(k.len = canon_key(name, nlen, nb, sizeof nb, &unit, &k.has_unit, &k.metric,
                                &k.loss)))
            return false;
        if (nlen != k.len || memcmp(name, nb, k.len)) {
            k.raw = name;
            k.rawlen = nlen;
        }
    } else {
        k.len = nlen < sizeof nb - 1 ? nlen : sizeof nb - 1;
        memcpy(nb, name, k.len);
        nb[k.len] = '\0';
        k.metric = -2; /* not looked up yet */
    }
    /* a normalised name is lower case letters, digits and '_' (or a canonical one) */
    k.plain = normalise || json_plain(nb, k.len);
    if (!k.len)
        return false;
    return field_add_key(p, &k, text, tlen, numeric_only);
}

/* The n (1..8) bytes at s as one key for the number memo, unique for each text of
 * length n (0: none): the first and the last four bytes (overlapping when n < 8), or
 * the first, middle and last byte for n < 4. */
static inline uint64_t num_key(const char *s, size_t n)
{
    uint32_t a, b;
    if (n >= 4 && n <= 8) {
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
    } else if (n && n < 4) {
        a = (unsigned char)s[0] | (uint32_t)(unsigned char)s[n / 2] << 8 |
            (uint32_t)(unsigned char)s[n - 1] << 16;
        b = 0;
    } else {
        return 0;
    }
    return (uint64_t)b << 32 | a;
}

static bool field_add_key(struct lp_parser *p, const struct field_key *k, const char *text,
                          size_t tlen, bool numeric_only)
{
    while (tlen && (*text == ' ' || *text == '\t'))
        text++, tlen--;
    while (tlen && (text[tlen - 1] == ' ' || text[tlen - 1] == '\t'))
        tlen--;
    double v = 0;
    bool json = false, isnum, scaled = false;
    uint64_t key = lp_reference_paths ? 0 : num_key(text, tlen);
    struct num_memo *m = &p->num_memo[((key ^ tlen) * 0x9e3779b97f4a7c15ull) >> 58];
    if (key && m->key == key && m->len == tlen) {
        v = m->v;
        isnum = m->isnum;
        json = m->json;
    } else {
        isnum = lp_number_short(text, tlen, &v, &json) ||
                lp_parse_number_trimmed(text, tlen, &v, &json);
        if (key)
            *m = (struct num_memo){.key = key, .v = v, .len = (uint8_t)tlen, .isnum = isnum,
                                   .json = json};
    }
    if (isnum && k->has_unit && k->unit->scale != 1) {
        v = lp_scale(text, tlen, v, k->unit->scale);
        scaled = true;
    } else if (!isnum && k->normalise) {
        isnum = scaled = lp_parse_value(text, tlen, k->has_unit ? k->unit : NULL, &v);
    }
    if (numeric_only && !isnum)
        return false;
    struct lp_field *f = k->fresh && !lp_reference_paths ? NULL : lp_field_find(p, k->name);
    if (!f) {
        if (p->nfields == LP_MAX_FIELDS)
            return false;
        const char *n = k->stable ? k->name : arena_put(p, k->name, k->len);
        if (!n)
            return false;
        p->fmetric[p->nfields] =
            (signed char)(k->metric == -2 ? metric_index(k->name) : k->metric);
        f = &p->fields[p->nfields++];
        f->name = n;
        f->name_len = k->plain ? (uint16_t)k->len : 0;
        p->has_spi |= k->len == 8 && !memcmp(k->name, "s_per_it", 8);
    }
    const char *t = arena_put(p, text, tlen);
    f->text = t ? t : "";
    f->json_len = t && json && tlen <= UINT16_MAX ? (uint16_t)tlen : 0;
    f->num = v;
    f->is_num = isnum;
    f->scaled = scaled;
    p->loss_like |= k->loss;
    f->raw = NULL;
    if (k->raw)
        f->raw = k->stable ? k->raw : arena_put(p, k->raw, k->rawlen);
    const char *ps;
    size_t pn;
    if (isnum && k->has_unit && k->unit->unit == LP_UNIT_BYTES && !strncmp(k->name, "mem_", 4) &&
        paren_percent(text, tlen, &ps, &pn))
        lp_field_add(p, "mem_pct", 7, ps, pn, true, false);
    return true;
}

int lp_group_prepare(struct lp_group *g, bool normalise)
{
    char nb[128];
    size_t nlen = strlen(g->name);
    int metric = -1;
    g->is_kv = !strcmp(g->name, "kv");
    g->unit = (struct lp_canon){0};
    g->has_unit = g->loss = g->renamed = false;
    if (normalise) {
        g->field_len = canon_compute(g->name, nlen, nb, sizeof nb, &g->unit, &g->has_unit,
                                     &metric, &g->loss);
        g->renamed = g->field_len && (nlen != g->field_len || memcmp(g->name, nb, nlen));
    } else {
        g->field_len = nlen < sizeof nb - 1 ? nlen : sizeof nb - 1;
        memcpy(nb, g->name, g->field_len);
        nb[g->field_len] = '\0';
        metric = metric_index(nb);
    }
    g->metric = (signed char)metric;
    g->field = NULL;
    if (g->field_len && !(g->field = strdup(nb)))
        return -1;
    g->key = (struct field_key){.name = g->field, .len = g->field_len, .stable = true,
                                .raw = g->renamed ? g->name : NULL,
                                .rawlen = g->renamed ? nlen : 0, .unit = &g->unit,
                                .has_unit = g->has_unit, .normalise = normalise,
                                .loss = g->loss, .metric = metric,
                                .plain = json_plain(nb, g->field_len)};
    return 0;
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
        if (i >= n)
            return; /* a dict cut by a terminal wrap: the last value may be cut too */
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
        lp_field_add(p, s + ks, ke - ks, v, vl, true, true);
    }
}

/* Words that start a two-word key: "train loss", "max mem", "learning rate". */
static bool key_first_word(const char *w, size_t n)
{
    static const char *const words[] = {"train", "val", "valid", "validation", "test",
                                        "eval", "lm", "total", "max", "avg", "mean",
                                        "learning", "grad", "loss", "global", "data",
                                        "step", "iter"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(words); i++)
        if (strlen(words[i]) == n && !strncasecmp(w, words[i], n))
            return true;
    return false;
}

static bool is_split_prefix(const char *w, size_t n)
{
    return (n == 5 && !strncasecmp(w, "train", 5)) || (n == 3 && !strncasecmp(w, "val", 3)) ||
           (n == 5 && !strncasecmp(w, "valid", 5)) || (n == 4 && !strncasecmp(w, "test", 4)) ||
           (n == 4 && !strncasecmp(w, "eval", 4)) ||
           (n == 10 && !strncasecmp(w, "validation", 10));
}

static bool isdig(char c) { return c >= '0' && c <= '9'; }

/* A key with a known spelling: the only keys read from "key value" (no = or :). */
static bool known_key(const char *k, size_t n)
{
    char key[128], nb[128];
    struct lp_canon u;
    if (!norm_name(k, n, key, sizeof key))
        return false;
    size_t kl = strlen(key);
    return lp_canon_name(key, nb, sizeof nb, &u) || lp_canon_lookup(key) ||
           (kl >= 4 && !strcmp(key + kl - 4, "loss"));
}

/* The canonical name of key k: "step" or "epoch" when k counts progress. */
static const char *progress_name(const char *k, size_t n)
{
    char key[64];
    if (n >= sizeof key || !norm_name(k, n, key, sizeof key))
        return NULL;
    const struct lp_canon *c = lp_canon_lookup(key);
    if (c && (!strcmp(c->name, "step") || !strcmp(c->name, "epoch")))
        return c->name;
    if (!strcmp(key, "batch") || !strcmp(key, "update") || !strcmp(key, "round"))
        return "step";
    return NULL;
}

/* "N/M" (spaces around / allowed) at s[i]: a progress pair; returns its end or 0. */
static size_t progress_pair(const char *s, size_t n, size_t i, size_t *ae, size_t *bs,
                            size_t *be)
{
    size_t k = i;
    while (k < n && isdig(s[k]))
        k++;
    if (k == i)
        return 0;
    *ae = k;
    while (k < n && s[k] == ' ')
        k++;
    if (k >= n || s[k] != '/')
        return 0;
    k++;
    while (k < n && s[k] == ' ')
        k++;
    *bs = k;
    while (k < n && isdig(s[k]))
        k++;
    if (k == *bs || (k < n && (s[k] == '.' || lp_is_key_start(s[k]))))
        return 0;
    *be = k;
    return k;
}

static void add_progress(struct lp_parser *p, const char *name, const char *s, size_t a,
                         size_t ae, size_t b, size_t be)
{
    bool ep = !strcmp(name, "epoch");
    lp_field_add(p, ep ? "epoch" : "step", ep ? 5 : 4, s + a, ae - a, true, false);
    lp_field_add(p, ep ? "total_epochs" : "total_steps", ep ? 12 : 11, s + b, be - b, true,
                 false);
}

/* The end of a value starting at i: a number may hold thousands separators
 * ("10,050") and a parenthesised note ("48.13GiB(50.67%)"). */
static size_t value_end(const char *s, size_t n, size_t i)
{
    size_t vs = i;
    bool digits = true;
    while (i < n) {
        char c = s[i];
        if (c == ',' && digits && i > vs && i + 3 < n && isdig(s[i + 1]) && isdig(s[i + 2]) &&
            isdig(s[i + 3]) && (i + 4 >= n || !isdig(s[i + 4]))) {
            i += 4;
            continue;
        }
        if (c == ' ' || c == ',' || c == ';' || c == '|' || c == ']' || c == ')' || c == '}' ||
            c == '\t' || (c == ':' && (i + 1 >= n || s[i + 1] == ' ')))
            break;
        if (!isdig(c))
            digits = false;
        i++;
    }
    return i;
}

/* "48.13 GiB (50.67%)", "991 ms": a unit after a space belongs to the number before
 * it (and a parenthesised percentage after the unit to both).  Returns the new end. */
static size_t unit_after(const char *s, size_t n, size_t vs, size_t i)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "KB", "MB", "GB",
                                        "TB",  "ms",  "us",  "s",   "sec", "%"};
    if (i == vs || i + 1 >= n || s[i] != ' ' || !isdig(s[i - 1]))
        return i;
    size_t ws = i + 1, we = ws;
    while (we < n && s[we] != ' ' && s[we] != ',' && s[we] != '|' && s[we] != ';' &&
           s[we] != ')' && s[we] != ']' && s[we] != '(')
        we++;
    bool unit = false;
    for (size_t k = 0; k < MONI_ARRAY_LEN(units) && !unit; k++)
        unit = strlen(units[k]) == we - ws && !memcmp(s + ws, units[k], we - ws);
    if (!unit)
        return i;
    size_t e = we;
    if (e + 1 < n && s[e] == ' ' && s[e + 1] == '(') /* "GiB (50.67%)" */
        e++;
    if (e < n && s[e] == '(') {
        const char *close = memchr(s + e, ')', n - e < 16 ? n - e : 16);
        if (close && close[-1] == '%')
            return (size_t)(close - s);
    }
    return we;
}

/* " samples/s" after a value: the unit names the metric when the key does not
 * ("throughput: 1234 samples/s"). */
static const char *rate_unit_name(const char *s, size_t n, size_t i)
{
    static const struct { const char *unit, *name; } units[] = {
        {"samples/s", "samples_per_s"}, {"samples/sec", "samples_per_s"},
        {"sample/s", "samples_per_s"},  {"img/s", "samples_per_s"},
        {"imgs/s", "samples_per_s"},    {"images/s", "samples_per_s"},
        {"tokens/s", "tokens_per_s"},   {"tokens/sec", "tokens_per_s"},
        {"tok/s", "tokens_per_s"},      {"tok/sec", "tokens_per_s"},
        {"it/s", "it_per_s"},           {"steps/s", "it_per_s"},
        {"TFLOPS", "tflops"},           {"TFLOP/s", "tflops"},
    };
    if (i + 1 >= n || s[i] != ' ')
        return NULL;
    size_t ws = i + 1, we = ws;
    while (we < n && s[we] != ' ' && s[we] != ',' && s[we] != '|' && s[we] != ';' &&
           s[we] != ')' && s[we] != ']')
        we++;
    for (size_t k = 0; k < MONI_ARRAY_LEN(units); k++)
        if (strlen(units[k].unit) == we - ws && !strncasecmp(s + ws, units[k].unit, we - ws))
            return units[k].name;
    return NULL;
}

/* "[20/100]" with no key before it: the step, when the line has none yet.  Only a
 * closed bracket counts ("[10/02 11:27:04" is a date).  Returns the end, or 0. */
static size_t bracket_progress(struct lp_parser *p, const char *s, size_t n, size_t i)
{
    size_t a = i + 1, ae, b, be;
    while (a < n && s[a] == ' ')
        a++;
    if (lp_field_find(p, "step") || !progress_pair(s, n, a, &ae, &b, &be))
        return 0;
    size_t k = be;
    while (k < n && s[k] == ' ')
        k++;
    if (k >= n || s[k] != ']')
        return 0;
    add_progress(p, "step", s, a, ae, b, be);
    return k + 1;
}

/* key=value, key: value, "key = value", "key value" for known keys, progress as
 * "key N/M" or a leading "[N/M]"; two-word keys ("train loss", "max mem") joined. */
static void extract_kv(struct lp_parser *p, const char *s, size_t n)
{
    size_t i = 0, a, ae, b, be;
    while (i < n && s[i] == ' ')
        i++;
    a = i + 1;
    while (a < n && s[a] == ' ')
        a++;
    if (i < n && s[i] == '[' && progress_pair(s, n, a, &ae, &b, &be)) {
        size_t k = be;
        while (k < n && s[k] == ' ')
            k++;
        if (k < n && s[k] == ']') {
            add_progress(p, "step", s, a, ae, b, be);
            i = k + 1;
        }
    }
    size_t pws = 0, pwe = 0; /* the previous word, if a single space before this key */
    while (i < n) {
        if (!lp_is_key_start(s[i]) || (i > 0 && lp_is_key_char(s[i - 1]))) {
            size_t e;
            if (s[i] == '[' && (e = bracket_progress(p, s, n, i))) { /* "Epoch 1 [20/100]" */
                i = e;
                continue;
            }
            if (s[i] != ' ')
                pwe = 0;
            i++;
            continue;
        }
        size_t ks = i;
        while (i < n && lp_is_key_char(s[i]))
            i++;
        size_t ke = i;
        /* "train loss", "max mem": join with the word before when it starts a key */
        char joined[128];
        const char *key = s + ks;
        size_t klen = ke - ks;
        bool joinable = pwe && pwe + 1 == ks && key_first_word(s + pws, pwe - pws) &&
                        pwe - pws + 1 + klen < sizeof joined;
        if (joinable) {
            size_t jl = pwe - pws;
            memcpy(joined, s + pws, jl);
            joined[jl] = ' ';
            memcpy(joined + jl + 1, key, klen);
            if (is_split_prefix(s + pws, jl) || known_key(joined, jl + 1 + klen)) {
                key = joined;
                klen += jl + 1;
            }
        }
        size_t sp = i;
        while (i < n && s[i] == ' ')
            i++;
        bool bare = false;
        if (i < n && (s[i] == '=' || s[i] == ':')) {
            i++;
            while (i < n && s[i] == ' ')
                i++;
        } else if (i > sp) {
            bare = true;
            while (i < n && (s[i] == '|' || (unsigned char)s[i] >= 0x80 || s[i] == ' '))
                i++; /* table cells: "val_acc │ 0.91" */
        } else {
            pws = ks;
            pwe = ke;
            continue;
        }
        if (i < n && s[i] == '[') { /* lr=[0.0001], Step [150/600] */
            i++;
            while (i < n && s[i] == ' ')
                i++;
        }
        const char *pn = progress_name(key, klen);
        if (pn && progress_pair(s, n, i, &ae, &b, &be)) {
            a = i;
            add_progress(p, pn, s, a, ae, b, be);
            i = be;
            pwe = 0;
            continue;
        }
        if (bare && (!known_key(key, klen) ||
                     !(i < n && (isdig(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == 'n' ||
                                 s[i] == 'i')))) {
            i = sp;
            pws = ks;
            pwe = ke;
            continue;
        }
        size_t vs = i;
        i = value_end(s, n, i);
        i = unit_after(s, n, vs, i);
        const char *rate = rate_unit_name(s, n, i);
        if (rate && !known_key(key, klen)) { /* "throughput: 1234 samples/s" */
            lp_field_add(p, rate, strlen(rate), s + vs, i - vs, true, false);
            pwe = 0;
            continue;
        }
        if (!lp_field_add(p, key, klen, s + vs, i - vs, true, true))
            i = vs; /* not a number ("wandb: train/loss 0.21"): its text may hold keys */
        pwe = 0;
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
            lp_field_add(p, s + ks, ke - ks, colon + 1, (size_t)(s + e - colon - 1), true, true);
        }
        i = e + 1;
    }
}

/* A line without a plain "loss" names its training loss otherwise (total_loss,
 * train_loss, closs): copy the first such field to "loss". */
static void copy_primary_loss(struct lp_parser *p)
{
    if (!p->loss_like || lp_field_find(p, "loss"))
        return;
    for (size_t i = 0; i < p->nfields; i++) {
        const struct lp_field *f = &p->fields[i];
        size_t l = strlen(f->name);
        /* Lightning's train_loss_step / train_loss_epoch too */
        if (l > 5 && !strcmp(f->name + l - 5, "_step"))
            l -= 5;
        else if (l > 6 && !strcmp(f->name + l - 6, "_epoch"))
            l -= 6;
        if (!f->is_num || l < 5 || strncmp(f->name + l - 4, "loss", 4) ||
            !strncmp(f->name, "eval_", 5) || !strncmp(f->name, "test_", 5) ||
            !strncmp(f->name, "val", 3) || strstr(f->name, "nll"))
            continue;
        const char *raw = f->name;
        lp_field_add(p, "loss", 4, f->text, strlen(f->text), true, false);
        struct lp_field *c = lp_field_find(p, "loss");
        if (c) {
            c->num = p->fields[i].num;
            c->scaled = p->fields[i].scaled;
            c->raw = raw;
        }
        return;
    }
}

/* Fields of one regex match: named groups, then the extractor. */
void lp_match_fields(struct lp_parser *p, const struct lp_rule *rule, const char *s)
{
    const PCRE2_SIZE *ov = p->ov;
    const char *xs = s + ov[0];
    size_t xn = ov[1] - ov[0];
    bool normalise = rule->kind == LP_KIND_METRIC;
    for (size_t i = 0; i < rule->nnames; i++) {
        const struct lp_group *gr = &rule->names[i];
        int g = gr->group;
        if (ov[2 * g] == PCRE2_UNSET)
            continue;
        if (gr->is_kv) {
            xs = s + ov[2 * g];
            xn = ov[2 * g + 1] - ov[2 * g];
            continue;
        }
        const char *ts = s + ov[2 * g];
        size_t tl = ov[2 * g + 1] - ov[2 * g];
        if (lp_reference_paths) {
            lp_field_add(p, gr->name, strlen(gr->name), ts, tl, false, normalise);
            continue;
        }
        if (!gr->field) /* the name normalises to nothing */
            continue;
        /* the field name worked out at load: no normalising, no lookup, no copy */
        field_add_key(p, &gr->key, ts, tl, false);
    }
    switch (rule->extract) {
    case LP_X_PYDICT: extract_pydict(p, xs, xn); break;
    case LP_X_KV: extract_kv(p, xs, xn); break;
    case LP_X_PIPE: extract_pipe(p, xs, xn); break;
    case LP_X_NONE: break;
    }
    if (rule->kind == LP_KIND_METRIC)
        copy_primary_loss(p);
    /* tqdm prints s/it when slower than one step a second. */
    struct lp_field *spi = p->has_spi ? lp_field_find(p, "s_per_it") : NULL;
    if (spi && spi->is_num && spi->num > 0 && !lp_field_find(p, "it_per_s") &&
        p->nfields < LP_MAX_FIELDS) {
        char buf[32];
        int l = snprintf(buf, sizeof buf, "%.17g", 1.0 / spi->num);
        lp_field_add(p, "it_per_s", 8, buf, (size_t)l, true, false);
    }
}
