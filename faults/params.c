/* faults/params.c — parameter values, key=value lists and fault SPECs
 * (KIND[:key=value,...][@AT][+FOR]), validated against a kind's parameter spec. */
#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static const struct {
    const char *name;
    int signo;
} signal_names[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"XCPU", SIGXCPU},
};

static int parse_signal(const char *s, int *signo)
{
    if (isdigit((unsigned char)s[0])) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || v < 1 || v > 64)
            return -1;
        *signo = (int)v;
        return 0;
    }
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < MONI_ARRAY_LEN(signal_names); i++)
        if (strcasecmp(s, signal_names[i].name) == 0) {
            *signo = signal_names[i].signo;
            return 0;
        }
    return -1;
}

static int parse_bool(const char *s, bool *b)
{
    static const char *const yes[] = {"1", "yes", "true", "on", "y"};
    static const char *const no[] = {"0", "no", "false", "off", "n"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *b = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *b = false;
            return 0;
        }
    }
    return -1;
}

/* "0-3,6" -> 0 if every CPU exists. */
static int parse_cpulist(const char *s, char *why, size_t whylen)
{
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    const char *p = s;
    if (!*p) {
        snprintf(why, whylen, "empty CPU list");
        return -1;
    }
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || a < 0) {
            snprintf(why, whylen, "expected a CPU list like 0-3,6");
            return -1;
        }
        b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a) {
                snprintf(why, whylen, "bad range in CPU list");
                return -1;
            }
            p = end;
        }
        if (b >= ncpu) {
            snprintf(why, whylen, "CPU %ld does not exist (this machine has %ld)", b, ncpu);
            return -1;
        }
        if (*p == ',' || *p == '+')
            p++;
        else if (*p) {
            snprintf(why, whylen, "expected a CPU list like 0-3,6");
            return -1;
        }
    }
    return 0;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static void fmt_limit(const struct fault_param *p, double v, char *buf, size_t len)
{
    switch (p->type) {
    case FP_SIZE:
    case FP_RATE:
        moni_fmt_bytes(v, buf, len);
        if (p->type == FP_RATE)
            strncat(buf, "/s", len - strlen(buf) - 1);
        break;
    case FP_DURATION:
        moni_fmt_duration((int64_t)(v * 1e9), buf, len);
        break;
    case FP_PERCENT:
        snprintf(buf, len, "%g%%", v);
        break;
    default:
        snprintf(buf, len, "%g", v);
    }
}

int fault_value_parse(const struct fault_param *p, const char *text, struct fault_value *out,
                      char *err, size_t errlen)
{
    char why[160] = "";
    memset(out, 0, sizeof *out);
    if (has_control(text)) { /* errors stay one line; values name files and lines */
        snprintf(err, errlen, "%s: control character in the value", p->key);
        return FAULT_ERR_USAGE;
    }
    if (strlen(text) >= sizeof out->str) {
        snprintf(err, errlen, "%s=%.20s...: value too long", p->key, text);
        return FAULT_ERR_USAGE;
    }
    snprintf(out->str, sizeof out->str, "%s", text);
    int rc = 0;
    switch (p->type) {
    case FP_INT: {
        long long v;
        rc = moni_parse_int(text, (long long)p->min, p->max > p->min ? (long long)p->max : LLONG_MAX,
                            &v, why, sizeof why);
        out->num = (double)v;
        if (rc == 0)
            goto done; /* range checked by moni_parse_int */
        break;
    }
    case FP_DOUBLE:
        rc = moni_parse_double(text, &out->num, why, sizeof why);
        break;
    case FP_PERCENT:
        rc = moni_parse_percent(text, &out->num, why, sizeof why);
        break;
    case FP_SIZE: {
        uint64_t b;
        rc = moni_parse_size(text, &b, why, sizeof why);
        out->num = (double)b;
        break;
    }
    case FP_SIZE_PCT: {
        size_t n = strlen(text);
        if (n && text[n - 1] == '%') {
            out->is_pct = true;
            rc = moni_parse_percent(text, &out->num, why, sizeof why);
            if (rc == 0 && (out->num <= 0 || out->num > 100)) {
                snprintf(err, errlen, "%s=%s: must be between 0%% and 100%%", p->key, text);
                return FAULT_ERR_USAGE;
            }
            goto done;
        }
        uint64_t b;
        rc = moni_parse_size(text, &b, why, sizeof why);
        out->num = (double)b;
        break;
    }
    case FP_RATE:
        rc = moni_parse_rate(text, &out->num, why, sizeof why);
        break;
    case FP_DURATION:
        rc = moni_parse_duration(text, &out->ns, why, sizeof why);
        out->num = (double)out->ns / 1e9;
        break;
    case FP_BOOL: {
        bool b = false;
        rc = parse_bool(text, &b);
        if (rc)
            snprintf(why, sizeof why, "expected 0 or 1");
        out->num = b;
        goto done;
    }
    case FP_ENUM: {
        const char *c = p->choices;
        size_t n = strlen(text);
        int idx = 0;
        rc = -1;
        while (c && *c) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && strncmp(c, text, n) == 0) {
                out->num = idx;
                rc = 0;
                break;
            }
            idx++;
            c = bar ? bar + 1 : c + len;
        }
        if (rc)
            snprintf(why, sizeof why, "expected one of %s", p->choices);
        goto done;
    }
    case FP_SIGNAL: {
        int s = 0;
        rc = parse_signal(text, &s);
        if (rc)
            snprintf(why, sizeof why, "unknown signal (use KILL, TERM, 9, ...)");
        out->num = s;
        goto done;
    }
    case FP_CPULIST:
        rc = parse_cpulist(text, why, sizeof why);
        goto done;
    case FP_STRING:
        if (!*text) {
            rc = -1;
            snprintf(why, sizeof why, "empty value");
        }
        goto done;
    }
    if (rc == 0 && (p->min != 0 || p->max != 0) && (out->num < p->min || out->num > p->max)) {
        char lo[32], hi[32];
        fmt_limit(p, p->min, lo, sizeof lo);
        fmt_limit(p, p->max, hi, sizeof hi);
        snprintf(err, errlen, "%s=%s: must be between %s and %s", p->key, text, lo, hi);
        return FAULT_ERR_USAGE;
    }
done:
    if (rc) {
        snprintf(err, errlen, "%s=%s: %s", p->key, text, why[0] ? why : "invalid value");
        return FAULT_ERR_USAGE;
    }
    out->set = true;
    return 0;
}

int fault_params_parse(const struct fault_ops *ops, const struct fault_kv *kv, size_t nkv,
                       struct fault_params *out, char *err, size_t errlen)
{
    char why[256];
    memset(out, 0, sizeof *out);
    out->ops = ops;
    for (size_t i = 0; i < ops->nparams; i++) {
        const struct fault_param *p = &ops->params[i];
        if (p->def && fault_value_parse(p, p->def, &out->v[i], why, sizeof why)) {
            snprintf(err, errlen, "%s: bad default for %s", ops->name, p->key); /* a bug */
            return FAULT_ERR_USAGE;
        }
    }
    for (size_t k = 0; k < nkv; k++) {
        int i = fault_param_index(ops, kv[k].key);
        if (i < 0) {
            if (ops->free_keys && out->nextra < FAULT_MAX_PARAMS && kv[k].key[0]) {
                out->extra[out->nextra++] = kv[k];
                continue;
            }
            snprintf(err, errlen, "%s: unknown parameter '%s' (see 'moni fault list')",
                     ops->name, kv[k].key);
            return FAULT_ERR_USAGE;
        }
        if (fault_value_parse(&ops->params[i], kv[k].val, &out->v[i], why, sizeof why)) {
            snprintf(err, errlen, "%s: %s", ops->name, why);
            return FAULT_ERR_USAGE;
        }
        out->v[i].given = true;
    }
    return 0;
}

int fault_kv_split(const char *text, char sep, struct fault_kv *kv, size_t max, size_t *n,
                   char *err, size_t errlen)
{
    *n = 0;
    const char *p = text;
    while (p && *p) {
        const char *end = sep ? strchr(p, sep) : NULL; /* sep 0: one pair */
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            p = end ? end + 1 : NULL;
            continue;
        }
        const char *eq = memchr(p, '=', len);
        for (size_t c = 0; c < len; c++)
            if ((unsigned char)p[c] < 0x20 || p[c] == 0x7f) {
                snprintf(err, errlen, "control character in a parameter");
                return -1;
            }
        if (!eq || eq == p) {
            snprintf(err, errlen, "'%.*s': expected key=value", (int)len, p);
            return -1;
        }
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        if (*n >= max) {
            snprintf(err, errlen, "too many parameters (at most %zu)", max);
            return -1;
        }
        if (klen >= sizeof kv->key || vlen >= sizeof kv->val) {
            snprintf(err, errlen, "'%.*s': key or value too long", (int)len, p);
            return -1;
        }
        memcpy(kv[*n].key, p, klen);
        kv[*n].key[klen] = 0;
        for (size_t i = 0; i < *n; i++) /* which one would win is anyone's guess */
            if (!strcmp(kv[i].key, kv[*n].key)) {
                snprintf(err, errlen, "%s= given twice", kv[i].key);
                return -1;
            }
        memcpy(kv[*n].val, eq + 1, vlen);
        kv[*n].val[vlen] = 0;
        (*n)++;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static const struct fault_value *find_value(const struct fault *f, const char *key)
{
    int i = fault_param_index(f->ops, key);
    return i < 0 ? NULL : &f->p.v[i];
}

double fault_num(const struct fault *f, const char *key)
{
    const struct fault_value *v = find_value(f, key);
    return v && v->set ? v->num : 0;
}

int64_t fault_ns(const struct fault *f, const char *key)
{
    const struct fault_value *v = find_value(f, key);
    return v && v->set ? v->ns : 0;
}

const char *fault_str(const struct fault *f, const char *key)
{
    const struct fault_value *v = find_value(f, key);
    return v && v->set ? v->str : "";
}

bool fault_given(const struct fault *f, const char *key)
{
    const struct fault_value *v = find_value(f, key);
    return v && v->given;
}

/* Target keys may appear inside a spec: pid=, port=, path=, allow_any=. */
static int take_target_key(struct fault_spec *spec, const struct fault_kv *kv, bool *taken,
                           char *err, size_t errlen)
{
    const char *kind = spec->ops->name;
    long long v;
    char why[128];
    *taken = true;
    if (!strcmp(kv->key, "pid") && fault_param_index(spec->ops, "pid") < 0) {
        if (moni_parse_int(kv->val, 1, 4194304, &v, why, sizeof why)) {
            snprintf(err, errlen, "%s: pid=%s: %s", kind, kv->val, why);
            return -1;
        }
        spec->target.pid = (pid_t)v;
    } else if (!strcmp(kv->key, "port") && fault_param_index(spec->ops, "port") < 0) {
        if (moni_parse_int(kv->val, 1, 65535, &v, why, sizeof why)) {
            snprintf(err, errlen, "%s: port=%s: %s", kind, kv->val, why);
            return -1;
        }
        spec->target.port = (int)v;
    } else if (!strcmp(kv->key, "path") && fault_param_index(spec->ops, "path") < 0) {
        snprintf(spec->target.path, sizeof spec->target.path, "%s", kv->val);
    } else if (!strcmp(kv->key, "allow_any")) {
        bool b;
        if (parse_bool(kv->val, &b)) {
            snprintf(err, errlen, "%s: allow_any=%s: expected 0 or 1", kind, kv->val);
            return -1;
        }
        spec->target.allow_any = b;
    } else {
        *taken = false;
    }
    return 0;
}

int fault_spec_parse(const char *text, struct fault_spec *spec, char *err, size_t errlen)
{
    char buf[1024], why[160];
    memset(spec, 0, sizeof *spec);
    if (!text || !*text) {
        snprintf(err, errlen, "empty fault spec");
        return FAULT_ERR_USAGE;
    }
    if (strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "fault spec too long");
        return FAULT_ERR_USAGE;
    }
    if (has_control(text)) {
        snprintf(err, errlen, "fault spec contains a control character");
        return FAULT_ERR_USAGE;
    }
    snprintf(buf, sizeof buf, "%s", text);
    /* KIND ends at ':', '@' or '+'. */
    size_t klen = strcspn(buf, ":@+");
    char kind[32];
    if (klen == 0 || klen >= sizeof kind) {
        snprintf(err, errlen, "'%s': expected KIND[:key=value,...][@AT][+FOR]", text);
        return FAULT_ERR_USAGE;
    }
    memcpy(kind, buf, klen);
    kind[klen] = 0;
    spec->ops = fault_find(kind);
    if (!spec->ops) {
        snprintf(err, errlen, "'%s': unknown fault kind '%s' (see 'moni fault list')", text, kind);
        return FAULT_ERR_USAGE;
    }
    char *rest = buf + klen, *params = NULL;
    if (*rest == ':') {
        params = rest + 1;
        rest = params;
    }
    char *at = strrchr(rest, '@');
    char *plus = strrchr(at ? at : rest, '+');
    if (plus && !at && params) {
        /* Without @, a '+' in a value (1e+3) is not a window: only take it when what
         * follows parses as a duration. */
        int64_t ns;
        if (moni_parse_duration(plus + 1, &ns, NULL, 0) != 0 || strchr(plus, '='))
            plus = NULL;
    }
    if (plus) {
        *plus = 0;
        if (moni_parse_duration(plus + 1, &spec->for_ns, why, sizeof why) || spec->for_ns <= 0) {
            snprintf(err, errlen, "'%s': +%s: bad duration%s%s", text, plus + 1, why[0] ? ": " : "",
                     why);
            return FAULT_ERR_USAGE;
        }
    }
    if (at) {
        *at = 0;
        spec->has_at = true;
        if (moni_parse_duration(at + 1, &spec->at_ns, why, sizeof why) || spec->at_ns < 0) {
            snprintf(err, errlen, "'%s': @%s: bad offset%s%s", text, at + 1, why[0] ? ": " : "",
                     why);
            return FAULT_ERR_USAGE;
        }
    }
    if (!params && *rest) { /* "cpu@@1s", "cpu@1s@2s": something left over */
        snprintf(err, errlen, "'%s': expected KIND[:key=value,...][@AT][+FOR]", text);
        return FAULT_ERR_USAGE;
    }
    struct fault_kv all[FAULT_MAX_PARAMS];
    size_t n = 0;
    if (params && fault_kv_split(params, ',', all, FAULT_MAX_PARAMS, &n, why, sizeof why)) {
        snprintf(err, errlen, "'%s': %s", text, why);
        return FAULT_ERR_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        bool taken;
        if (take_target_key(spec, &all[i], &taken, err, errlen))
            return FAULT_ERR_USAGE;
        if (!taken)
            spec->kv[spec->nkv++] = all[i];
    }
    return fault_params_parse(spec->ops, spec->kv, spec->nkv, &spec->params, err, errlen);
}
