/* logparse/metricnames.c — one canonical name and unit per metric, whatever the
 * framework calls it: "lm loss", "gnorm", "elapsed time per iteration (ms)",
 * "tok/sec", "MaxMemAllocated" ... (the table is moni-rules(5)'s METRIC NAMES), and
 * values read with their units: "991.44ms" -> 0.99144 s, "3961M" -> bytes,
 * "10,050" -> 10050, "37.54%" -> 37.54. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "logparse/lp-int.h"

#define KIB 1024.0
#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)

/* Sorted by key (strcmp order): looked up by binary search for every field. */
static const struct lp_canon canon_table[] = {
    {"acc", "accuracy", LP_UNIT_NUMBER, 1},
    {"acc1", "accuracy", LP_UNIT_NUMBER, 1},
    {"acc5", "accuracy_top5", LP_UNIT_NUMBER, 1},
    {"acc_1", "accuracy", LP_UNIT_NUMBER, 1},
    {"accuracy", "accuracy", LP_UNIT_NUMBER, 1},
    {"allocated", "mem_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"batch_time", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"consumed_samples", "consumed_samples", LP_UNIT_COUNT, 1},
    {"consumed_tokens", "consumed_tokens", LP_UNIT_COUNT, 1},
    {"cuda_mem", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"currsamplespersec", "samples_per_s", LP_UNIT_NUMBER, 1},
    {"data", "data_time_s", LP_UNIT_SECONDS, 1},
    {"data_time", "data_time_s", LP_UNIT_SECONDS, 1},
    {"data_time_s", "data_time_s", LP_UNIT_SECONDS, 1},
    {"dt", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"elapsed_time_per_iteration_ms", "iter_time_s", LP_UNIT_SECONDS, 1e-3},
    {"elapsed_time_per_iteration_s", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"ep", "epoch", LP_UNIT_NUMBER, 1},
    {"epoch", "epoch", LP_UNIT_NUMBER, 1},
    {"epochs", "total_epochs", LP_UNIT_COUNT, 1},
    {"gen_tokens_per_s", "gen_tokens_per_s", LP_UNIT_COUNT, 1},
    {"global_batch_size", "global_batch_size", LP_UNIT_COUNT, 1},
    {"global_step", "step", LP_UNIT_COUNT, 1},
    {"gnorm", "grad_norm", LP_UNIT_NUMBER, 1},
    {"gpu_mem", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"gpu_memory", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"grad_norm", "grad_norm", LP_UNIT_NUMBER, 1},
    {"grad_norm_", "grad_norm", LP_UNIT_NUMBER, 1},
    {"gradient_norm", "grad_norm", LP_UNIT_NUMBER, 1},
    {"gradnorm", "grad_norm", LP_UNIT_NUMBER, 1},
    {"images_per_sec", "samples_per_s", LP_UNIT_COUNT, 1},
    {"img_s", "samples_per_s", LP_UNIT_COUNT, 1},
    {"it", "step", LP_UNIT_COUNT, 1},
    {"it_per_s", "it_per_s", LP_UNIT_NUMBER, 1},
    {"it_s", "it_per_s", LP_UNIT_NUMBER, 1},
    {"iter", "step", LP_UNIT_COUNT, 1},
    {"iter_time", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"iter_time_ms", "iter_time_s", LP_UNIT_SECONDS, 1e-3},
    {"iter_time_s", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"iter_time_us", "iter_time_s", LP_UNIT_SECONDS, 1e-6},
    {"iteration", "step", LP_UNIT_COUNT, 1},
    {"iteration_time", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"kv_cache_usage_pct", "kv_cache_usage_pct", LP_UNIT_PERCENT, 1},
    {"learning_rate", "learning_rate", LP_UNIT_NUMBER, 1},
    {"lm_loss", "loss", LP_UNIT_NUMBER, 1},
    {"loss", "loss", LP_UNIT_NUMBER, 1},
    {"loss_scale", "loss_scale", LP_UNIT_NUMBER, 1},
    {"lr", "learning_rate", LP_UNIT_NUMBER, 1},
    {"max_allocated", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"max_epochs", "total_epochs", LP_UNIT_COUNT, 1},
    {"max_iter", "total_steps", LP_UNIT_COUNT, 1},
    {"max_iters", "total_steps", LP_UNIT_COUNT, 1},
    {"max_mem", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"max_mem_mb", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"max_memory", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"max_memory_allocated", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"max_reserved", "mem_max_reserved_bytes", LP_UNIT_BYTES, MIB},
    {"max_steps", "total_steps", LP_UNIT_COUNT, 1},
    {"maxmemallocated", "mem_max_allocated_bytes", LP_UNIT_BYTES, GIB},
    {"mem", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"mem_allocated", "mem_allocated_bytes", LP_UNIT_BYTES, GIB},
    {"mem_allocated_bytes", "mem_allocated_bytes", LP_UNIT_BYTES, 1},
    {"mem_allocated_gb", "mem_allocated_bytes", LP_UNIT_BYTES, GIB},
    {"mem_max_allocated_bytes", "mem_max_allocated_bytes", LP_UNIT_BYTES, 1},
    {"mem_max_allocated_gb", "mem_max_allocated_bytes", LP_UNIT_BYTES, GIB},
    {"mem_max_reserved_bytes", "mem_max_reserved_bytes", LP_UNIT_BYTES, 1},
    {"mem_max_reserved_gb", "mem_max_reserved_bytes", LP_UNIT_BYTES, GIB},
    {"mem_pct", "mem_pct", LP_UNIT_PERCENT, 1},
    {"mem_reserved", "mem_reserved_bytes", LP_UNIT_BYTES, GIB},
    {"mem_reserved_bytes", "mem_reserved_bytes", LP_UNIT_BYTES, 1},
    {"mem_reserved_gb", "mem_reserved_bytes", LP_UNIT_BYTES, GIB},
    {"mem_reserved_gib", "mem_reserved_bytes", LP_UNIT_BYTES, GIB},
    {"memallocated", "mem_allocated_bytes", LP_UNIT_BYTES, GIB},
    {"memory", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"memory_allocated", "mem_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"memory_mb", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"mfu", "mfu_pct", LP_UNIT_PERCENT, 1},
    {"mfu_pct", "mfu_pct", LP_UNIT_PERCENT, 1},
    {"model_tflops", "tflops", LP_UNIT_NUMBER, 1},
    {"ms_iter", "iter_time_s", LP_UNIT_SECONDS, 1e-3},
    {"ms_step", "iter_time_s", LP_UNIT_SECONDS, 1e-3},
    {"nan_steps", "nan_steps", LP_UNIT_COUNT, 1},
    {"num_epochs", "total_epochs", LP_UNIT_COUNT, 1},
    {"num_updates", "step", LP_UNIT_COUNT, 1},
    {"number_of_nan_iterations", "nan_steps", LP_UNIT_COUNT, 1},
    {"number_of_skipped_iterations", "skipped_steps", LP_UNIT_COUNT, 1},
    {"peak_mem", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"peak_memory", "mem_max_allocated_bytes", LP_UNIT_BYTES, MIB},
    {"prompt_tokens_per_s", "prompt_tokens_per_s", LP_UNIT_COUNT, 1},
    {"reserved", "mem_reserved_bytes", LP_UNIT_BYTES, MIB},
    {"runningavgsamplespersec", "samples_per_s_avg", LP_UNIT_NUMBER, 1},
    {"s_iter", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"s_per_it", "s_per_it", LP_UNIT_NUMBER, 1},
    {"s_step", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"samples_per_s", "samples_per_s", LP_UNIT_COUNT, 1},
    {"samples_per_sec", "samples_per_s", LP_UNIT_COUNT, 1},
    {"samples_per_second", "samples_per_s", LP_UNIT_COUNT, 1},
    {"samples_per_second_avg", "samples_per_s_avg", LP_UNIT_COUNT, 1},
    {"samples_s", "samples_per_s", LP_UNIT_COUNT, 1},
    {"samples_sec", "samples_per_s", LP_UNIT_COUNT, 1},
    {"sec_iter", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"sec_step", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"skipped", "skipped_steps", LP_UNIT_COUNT, 1},
    {"skipped_iterations", "skipped_steps", LP_UNIT_COUNT, 1},
    {"skipped_steps", "skipped_steps", LP_UNIT_COUNT, 1},
    {"step", "step", LP_UNIT_COUNT, 1},
    {"step_time", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"step_time_ms", "iter_time_s", LP_UNIT_SECONDS, 1e-3},
    {"steps_per_sec", "it_per_s", LP_UNIT_NUMBER, 1},
    {"steps_per_second", "it_per_s", LP_UNIT_NUMBER, 1},
    {"steps_s", "it_per_s", LP_UNIT_NUMBER, 1},
    {"tflop_s", "tflops", LP_UNIT_NUMBER, 1},
    {"tflops", "tflops", LP_UNIT_NUMBER, 1},
    {"tflops_gpu", "tflops", LP_UNIT_NUMBER, 1},
    {"tflops_per_gpu", "tflops", LP_UNIT_NUMBER, 1},
    {"throughput_per_gpu_tflop_s_gpu", "tflops", LP_UNIT_NUMBER, 1},
    {"time", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"time_iter", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"time_per_iter", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"time_per_iteration", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"time_per_step", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"time_step", "iter_time_s", LP_UNIT_SECONDS, 1},
    {"tok_s", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"tok_sec", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"tokens_per_s", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"tokens_per_sec", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"tokens_per_second", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"tokens_s", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"tokens_sec", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"top1", "accuracy", LP_UNIT_NUMBER, 1},
    {"top5", "accuracy_top5", LP_UNIT_NUMBER, 1},
    {"top_1", "accuracy", LP_UNIT_NUMBER, 1},
    {"total_epochs", "total_epochs", LP_UNIT_COUNT, 1},
    {"total_iters", "total_steps", LP_UNIT_COUNT, 1},
    {"total_norm", "grad_norm", LP_UNIT_NUMBER, 1},
    {"total_steps", "total_steps", LP_UNIT_COUNT, 1},
    {"tps", "tokens_per_s", LP_UNIT_COUNT, 1},
    {"ups", "it_per_s", LP_UNIT_NUMBER, 1},
    {"wps", "tokens_per_s", LP_UNIT_COUNT, 1},
};

const struct lp_canon *lp_canon_lookup(const char *key)
{
    size_t lo = 0, hi = MONI_ARRAY_LEN(canon_table);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(key, canon_table[mid].key);
        if (!c)
            return &canon_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Split prefixes: "val_acc" is eval_accuracy, "train_samples_per_second" is
 * samples_per_s, "test_acc" is test_accuracy.  Returns the canonical name into out
 * (cap bytes) and the unit, or false when key has no known spelling. */
bool lp_canon_name(const char *key, char *out, size_t cap, struct lp_canon *unit)
{
    const struct lp_canon *c = lp_canon_lookup(key);
    if (c) {
        size_t l = strlen(c->name);
        if (l + 1 > cap)
            return false;
        *unit = *c;
        memcpy(out, c->name, l + 1);
        return true;
    }
    static const struct { const char *from, *to; bool keep_loss; } prefixes[] = {
        {"val_", "eval_", true},        {"valid_", "eval_", true},
        {"validation_", "eval_", true}, {"eval_", "eval_", true},
        {"test_", "test_", true},       {"train_", "", false},
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(prefixes); i++) {
        size_t pl = strlen(prefixes[i].from);
        if (strncmp(key, prefixes[i].from, pl) || !key[pl])
            continue;
        const char *base = key + pl;
        c = lp_canon_lookup(base);
        if (!c)
            return false;
        /* train_loss stays train_loss (the primary loss copy names it "loss") */
        if (!prefixes[i].keep_loss && !strcmp(c->name, "loss"))
            return false;
        size_t tl = strlen(prefixes[i].to), nl = strlen(c->name);
        if (tl + nl + 1 > cap)
            return false;
        *unit = *c;
        memcpy(out, prefixes[i].to, tl);
        memcpy(out + tl, c->name, nl + 1);
        return strcmp(out, key) != 0;
    }
    return false;
}

/* lp_parse_number on trimmed text of 1..64 bytes: every form, strtod for the hard
 * cases. */
__attribute__((noinline)) static bool parse_number_general(const char *s, size_t n, double *out)
{
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
    if (!moni_decimal_exact(mant, exp10, &v)) {
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

/* A number: decimal (with exponent), nan, inf.  Whole text must be used (spaces
 * around allowed).  The common short case avoids strtod (Clinger's fast path). */
bool lp_parse_number(const char *s, size_t n, double *out)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return lp_parse_number_trimmed(s, n, out, NULL);
}

bool lp_parse_number_trimmed(const char *s, size_t n, double *out, bool *json)
{
    if (lp_number_short(s, n, out, json))
        return true;
    if (json)
        *json = false;
    if (!n || n > 64)
        return false;
    return parse_number_general(s, n, out);
}

static bool isdig(char c) { return c >= '0' && c <= '9'; }

/* "12,345,678" -> "12345678" into buf; false if s does not start with digit groups
 * of three.  A fraction or a unit after the groups is copied as it is. */
static bool strip_thousands(const char *s, size_t n, char *buf, size_t cap, size_t *outn)
{
    size_t i = 0, k = 0, lead = 0;
    if (n + 1 > cap)
        return false;
    if (s[0] == '-' || s[0] == '+')
        buf[k++] = s[i++];
    while (i < n && isdig(s[i]))
        buf[k++] = s[i++], lead++;
    if (!lead || lead > 3 || i >= n || s[i] != ',')
        return false;
    while (i < n && s[i] == ',') {
        if (i + 3 >= n)
            return false;
        if (!isdig(s[i + 1]) || !isdig(s[i + 2]) || !isdig(s[i + 3]))
            return false;
        buf[k++] = s[i + 1];
        buf[k++] = s[i + 2];
        buf[k++] = s[i + 3];
        i += 4;
        if (i < n && isdig(s[i]))
            return false;
    }
    while (i < n)
        buf[k++] = s[i++];
    *outn = k;
    return true;
}

static double byte_unit(const char *u, size_t n)
{
    if (!n)
        return 0;
    char c = u[0];
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    double f = c == 'K' ? KIB : c == 'M' ? MIB : c == 'G' ? GIB : c == 'T' ? GIB * KIB
               : c == 'B' ? 1 : 0;
    if (!f)
        return 0;
    size_t i = 1;
    if (c != 'B' && i < n && (u[i] == 'i' || u[i] == 'I'))
        i++;
    if (c != 'B' && i < n && (u[i] == 'B' || u[i] == 'b'))
        i++;
    return i == n ? f : 0;
}

double lp_scale(const char *text, size_t n, double v, double scale)
{
    static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    int k = 1;
    while (k < 10 && scale != 1 / pow10[k]) /* which 10^-k, by the same division */
        k++;
    bool decimal = k < 10 && n > 0 && n < 40;
    for (size_t i = 0; decimal && i < n; i++)
        decimal = (text[i] >= '0' && text[i] <= '9') || text[i] == '.' || (i == 0 && text[i] == '-');
    if (!decimal)
        return v * scale;
    char b[48];
    int bn = snprintf(b, sizeof b, "%.*se-%d", (int)n, text, k);
    double out;
    return bn > 0 && lp_parse_number(b, (size_t)bn, &out) ? out : v * scale; /* no locale */
}

bool lp_parse_value(const char *s, size_t n, const struct lp_canon *unit, double *out)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (lp_parse_number(s, n, out)) {
        if (unit)
            *out = lp_scale(s, n, *out, unit->scale);
        return true;
    }
    if (!n || n > 64)
        return false;
    char buf[80];
    size_t bn;
    if (strip_thousands(s, n, buf, sizeof buf, &bn)) {
        s = buf;
        n = bn;
        if (lp_parse_number(s, n, out)) {
            if (unit)
                *out = lp_scale(s, n, *out, unit->scale);
            return true;
        }
    }
    if (!unit)
        return false;
    /* the number, then a unit (and a "(pct%)" or the like after it) */
    size_t e = 0;
    if (e < n && (s[e] == '-' || s[e] == '+'))
        e++;
    while (e < n && (isdig(s[e]) || s[e] == '.'))
        e++;
    if (e < n && (s[e] == 'e' || s[e] == 'E') && e + 1 < n &&
        (isdig(s[e + 1]) || s[e + 1] == '-' || s[e + 1] == '+')) {
        e += 2;
        while (e < n && isdig(s[e]))
            e++;
    }
    double v;
    if (!e || !lp_parse_number(s, e, &v))
        return false;
    size_t us = e;
    while (us < n && s[us] == ' ')
        us++;
    size_t ue = us;
    while (ue < n && s[ue] != '(' && s[ue] != ' ' && s[ue] != '/')
        ue++;
    const char *u = s + us;
    size_t ul = ue - us;
    switch (unit->unit) {
    case LP_UNIT_BYTES: {
        double f = byte_unit(u, ul);
        if (!f)
            return false;
        *out = v * f;
        return true;
    }
    case LP_UNIT_SECONDS:
        if (ul == 2 && u[0] == 'm' && u[1] == 's')
            *out = lp_scale(s, e, v, 1e-3);
        else if (ul == 2 && (u[0] == 'u' || u[0] == 'U') && u[1] == 's')
            *out = lp_scale(s, e, v, 1e-6);
        else if ((ul == 1 && u[0] == 's') || (ul == 3 && !memcmp(u, "sec", 3)))
            *out = v;
        else if (ul == 3 && !memcmp(u, "min", 3))
            *out = v * 60;
        else
            return false;
        return true;
    case LP_UNIT_PERCENT:
        if (ul != 1 || u[0] != '%')
            return false;
        *out = v;
        return true;
    case LP_UNIT_COUNT:
    case LP_UNIT_NUMBER:
        /* "7.21it/s", "812.5 tokens/s": a rate whose name already says per second */
        if (ue < n && s[ue] == '/' && ue + 1 < n && s[ue + 1] == 's') {
            *out = v;
            return true;
        }
        if (ul == 1 && u[0] == '%') {
            *out = v;
            return true;
        }
        return false;
    }
    return false;
}
