/* logparse/fields.c — the fields of a record: named groups of the matching rule,
 * then the rule's extractor (Python dicts, key=value, Megatron's "| key: value |"),
 * with numbers parsed and metric names normalised to one spelling.  Works on the
 * parser's per-record arena; never allocates per line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logparse/parser-int.h"

static const char *const metric_names[LP_NMETRICS] = {
    "loss", "learning_rate", "grad_norm", "step", "max_steps", "epoch", "it_per_s",
    "samples_per_second", "eval_loss", "eval_accuracy",
};
const char *lp_metric_name(enum lp_metric m)
{
    return (unsigned)m < LP_NMETRICS ? metric_names[m] : "?";
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

static int metric_index(const char *name)
{
    for (int m = 0; m < LP_NMETRICS; m++)
        if (name[0] == metric_names[m][0] && !strcmp(name, metric_names[m]))
            return m;
    return -1;
}

/* Adds a field (name normalised); numeric text gets is_num.  A later field of the
 * same name replaces an earlier one.  numeric_only drops non-numbers. */
void lp_field_add(struct lp_parser *p, const char *name, size_t nlen, const char *text,
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
    struct lp_field *f = lp_field_find(p, nb);
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
        lp_field_add(p, s + ks, ke - ks, v, vl, true, true);
    }
}

/* key=value, key: value (value numeric, key an identifier). */
static void extract_kv(struct lp_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!lp_is_key_start(s[i]) || (i > 0 && lp_is_key_char(s[i - 1]))) {
            i++;
            continue;
        }
        size_t ks = i;
        while (i < n && lp_is_key_char(s[i]))
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
        lp_field_add(p, s + ks, ke - ks, s + vs, i - vs, true, true);
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

/* Fields of one regex match: named groups, then the extractor. */
void lp_match_fields(struct lp_parser *p, const struct lp_rule *rule, const char *s)
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
        lp_field_add(p, nm, strlen(nm), s + ov[2 * g], ov[2 * g + 1] - ov[2 * g], false,
                  rule->kind == LP_KIND_METRIC);
    }
    switch (rule->extract) {
    case LP_X_PYDICT: extract_pydict(p, xs, xn); break;
    case LP_X_KV: extract_kv(p, xs, xn); break;
    case LP_X_PIPE: extract_pipe(p, xs, xn); break;
    case LP_X_NONE: break;
    }
    /* tqdm prints s/it when slower than one step a second. */
    struct lp_field *spi = lp_field_find(p, "s_per_it");
    if (spi && spi->is_num && spi->num > 0 && !lp_field_find(p, "it_per_s") &&
        p->nfields < LP_MAX_FIELDS) {
        char buf[32];
        int l = snprintf(buf, sizeof buf, "%.17g", 1.0 / spi->num);
        lp_field_add(p, "it_per_s", 8, buf, (size_t)l, true, false);
    }
}
