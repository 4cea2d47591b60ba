/* logparse/rules.c — rule packs: JSON loading with line numbers, PCRE2 + JIT
 * compilation, the vocabulary of labels and phases, and the accessors.  The
 * prefilter index over a finished set is logparse/prefilter.c. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "logparse/lp-int.h"

/* ---- vocabulary ---------------------------------------------------------------- */
static const char *const label_names[LP_NLABELS] = {
    "CUDA_OutOfMemory", "Host_OOM",         "NaN_Loss",           "NCCL_Timeout",
    "Network_Timeout",  "DataLoader_Stuck", "Disk_Full",          "Permission_Denied",
    "Checkpoint_Corrupt", "CUDA_Driver_Mismatch", "GPU_Hardware", "Model_Code_Error",
    "Process_Killed",   "Cleanup_Failure",  "Batch_Mismatch",   "CPU_Contention",
    "IO_Bottleneck",    "Memory_Leak",      "No_Convergence",   "Process_Hang",
    "Network_Degradation", "Slowdown",      "Process_Crash",
};
static const char *const phase_names[LP_NPHASES] = {
    "none", "startup", "train", "eval", "checkpoint_save", "checkpoint_load",
    "rollout", "weight_update", "finished",
};
static const char *const sev_names[] = {"info", "warning", "error", "critical"};
static const char *const kind_names[] = {"metric", "event", "phase"};

const char *lp_kind_name(enum lp_kind k) { return (unsigned)k < 3 ? kind_names[k] : "?"; }
const char *lp_severity_name(enum lp_severity s) { return (unsigned)s < 4 ? sev_names[s] : "?"; }
const char *lp_label_name(enum lp_label l)
{
    return (unsigned)l < LP_NLABELS ? label_names[l] : "?";
}
const char *lp_phase_name(enum lp_phase p) { return (unsigned)p < LP_NPHASES ? phase_names[p] : "?"; }

const char *lp_phase_dataset_name(enum lp_phase p)
{
    switch (p) {
    case LP_PHASE_STARTUP: return "startup";
    case LP_PHASE_TRAIN: case LP_PHASE_ROLLOUT: case LP_PHASE_WEIGHT_UPDATE: return "train";
    case LP_PHASE_EVAL: return "eval";
    case LP_PHASE_CKPT_SAVE: case LP_PHASE_CKPT_LOAD: return "checkpoint";
    case LP_PHASE_FINISHED: return "finished";
    default: return "";
    }
}

int lp_label_from_name(const char *name)
{
    for (int i = 0; i < LP_NLABELS; i++)
        if (!strcmp(name, label_names[i]))
            return i;
    return -1;
}

int lp_phase_from_name(const char *name)
{
    static const struct { const char *alias; enum lp_phase p; } aliases[] = {
        {"training", LP_PHASE_TRAIN}, {"evaluation", LP_PHASE_EVAL},
        {"checkpoint", LP_PHASE_CKPT_SAVE}, {"save", LP_PHASE_CKPT_SAVE},
        {"load", LP_PHASE_CKPT_LOAD}, {"generate", LP_PHASE_ROLLOUT},
        {"weights_update", LP_PHASE_WEIGHT_UPDATE}, {"done", LP_PHASE_FINISHED},
    };
    for (int i = 1; i < LP_NPHASES; i++)
        if (!strcmp(name, phase_names[i]))
            return i;
    for (size_t i = 0; i < MONI_ARRAY_LEN(aliases); i++)
        if (!strcmp(name, aliases[i].alias))
            return aliases[i].p;
    return -1;
}

char *lp_labels_format(uint32_t labels, const char *sep, char *buf, size_t len)
{
    size_t off = 0;
    if (len)
        buf[0] = '\0';
    for (int i = 0; i < LP_NLABELS; i++) {
        if (!(labels & LP_LABEL_BIT(i)))
            continue;
        int n = snprintf(buf + off, len > off ? len - off : 0, "%s%s", off ? sep : "",
                         label_names[i]);
        if (n < 0 || off + (size_t)n >= len)
            break;
        off += (size_t)n;
    }
    return buf;
}

/* ---- accessors ------------------------------------------------------------------- */
size_t lp_rules_count(const struct lp_rules *rs) { return rs->n; }
const struct lp_rule *lp_rules_at(const struct lp_rules *rs, size_t i)
{
    return i < rs->n ? rs->v[i] : NULL;
}
const struct lp_rule *lp_rules_find(const struct lp_rules *rs, const char *id)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->v[i]->id, id))
            return rs->v[i];
    return NULL;
}
const char *lp_rule_id(const struct lp_rule *r) { return r->id; }
const char *lp_rule_pattern(const struct lp_rule *r) { return r->pattern; }
const char *lp_rule_event(const struct lp_rule *r) { return r->event; }
const char *lp_rule_action(const struct lp_rule *r) { return r->action; }
const char *lp_rule_pack(const struct lp_rule *r) { return r->pack; }
enum lp_kind lp_rule_kind(const struct lp_rule *r) { return r->kind; }
enum lp_severity lp_rule_severity(const struct lp_rule *r) { return r->severity; }
uint32_t lp_rule_labels(const struct lp_rule *r) { return r->labels; }
size_t lp_rule_ntests(const struct lp_rule *r, int which) { return r->ntests[which != 0]; }
const char *lp_rule_test(const struct lp_rule *r, int which, size_t i)
{
    return i < r->ntests[which != 0] ? r->tests[which != 0][i] : NULL;
}

int lp_rule_matches(const struct lp_rule *r, const char *line, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
    if (!md)
        return 0;
    int rc = lp_rule_exec(r, line, len, md, NULL);
    pcre2_match_data_free(md);
    return rc > 0;
}

/* A rule is JIT compiled the first time it runs, not at load: the prefilter keeps
 * most rules of the packs off most logs, and compiling all of them at start-up cost
 * a session more instructions and memory than its first minute of sampling.  The
 * set is shared read-only between parsers (threads), hence the lock around the one
 * compilation and the atomic state. */
enum jit_state { JIT_UNTRIED, JIT_READY, JIT_NONE };
static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;

static int rule_jit(const struct lp_rule *r)
{
    int st = atomic_load_explicit(&r->jit_state, memory_order_acquire);
    if (st != JIT_UNTRIED)
        return st;
    struct lp_rule *w = (struct lp_rule *)r; /* allocated by us, never const itself */
    pthread_mutex_lock(&jit_lock);
    st = atomic_load_explicit(&w->jit_state, memory_order_relaxed);
    if (st == JIT_UNTRIED) {
        st = pcre2_jit_compile(w->re, PCRE2_JIT_COMPLETE) == 0 ? JIT_READY : JIT_NONE;
        atomic_store_explicit(&w->jit_state, st, memory_order_release);
    }
    pthread_mutex_unlock(&jit_lock);
    return st;
}

int lp_rule_exec(const struct lp_rule *r, const char *s, size_t len, pcre2_match_data *md,
                 pcre2_match_context *mc)
{
    if (rule_jit(r) == JIT_READY)
        return pcre2_jit_match(r->re, (PCRE2_SPTR)s, len, 0, 0, md, mc);
    /* PCRE2_NO_JIT: the interpreter, as the JIT failed for this pattern */
    return pcre2_match(r->re, (PCRE2_SPTR)s, len, 0, PCRE2_NO_JIT, md, mc);
}

/* ---- construction ------------------------------------------------------------------ */
static void rule_free(struct lp_rule *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->pattern);
    free(r->event);
    free(r->action);
    free(r->pack);
    for (size_t i = 0; i < r->nprefilters; i++)
        free(r->prefilters[i]);
    free(r->prefilters);
    free(r->prefilter_bounds);
    for (int w = 0; w < 2; w++) {
        for (size_t i = 0; i < r->ntests[w]; i++)
            free(r->tests[w][i]);
        free(r->tests[w]);
    }
    for (size_t i = 0; i < r->nnames; i++) {
        free(r->names[i].name);
        free(r->names[i].field);
    }
    free(r->names);
    if (r->re)
        pcre2_code_free(r->re);
    free(r);
}

struct lp_rules *lp_rules_new(void)
{
    return calloc(1, sizeof(struct lp_rules));
}

void lp_rules_free(struct lp_rules *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        rule_free(rs->v[i]);
    free(rs->v);
    free(rs->dfa);
    free(rs->outs);
    free(rs->always);
    free(rs->cond_first);
    free(rs->cond_n);
    free(rs->conds);
    free(rs);
}

int lp_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int str_array(const struct moni_json *doc, const cJSON *arr, char ***out, size_t *n,
                     bool allow_string, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (allow_string && cJSON_IsString(arr)) {
        *out = calloc(1, sizeof(char *));
        if (!*out || !(**out = strdup(arr->valuestring)))
            return lp_set_err(err, errlen, "out of memory");
        *n = 1;
        return 0;
    }
    if (!cJSON_IsArray(arr)) {
        moni_json_errf(doc, arr, err, errlen, "must be %s", allow_string ? "a string or an array of strings" : "an array of strings");
        return -1;
    }
    size_t cnt = (size_t)cJSON_GetArraySize(arr);
    *out = calloc(cnt ? cnt : 1, sizeof(char *));
    if (!*out)
        return lp_set_err(err, errlen, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it)) {
            moni_json_errf(doc, it, err, errlen, "%s: elements must be strings",
                           arr->string ? arr->string : "array");
            return -1;
        }
        if (!((*out)[*n] = strdup(it->valuestring)))
            return lp_set_err(err, errlen, "out of memory");
        (*n)++;
    }
    return 0;
}

static const char *const rule_keys[] = {"id", "kind", "pattern", "prefilter", "event",
                                        "severity", "labels", "action", "extract",
                                        "fallback", "priority", "tests", "description",
                                        "phase", NULL};
static const char *const pack_keys[] = {"name", "description", "version", "rules", NULL};

/* Error prefix naming the rule: "FILE:LINE: rule ID: " */
static void rule_errf(const struct moni_json *doc, const cJSON *item, const char *id,
                      char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void rule_errf(const struct moni_json *doc, const cJSON *item, const char *id,
                      char *err, size_t errlen, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%d: rule %s: %s", doc->name, moni_json_line(doc, item),
             id ? id : "?", msg);
}

static int compile_rule(struct lp_rule *r, const struct moni_json *doc, const cJSON *pat,
                        char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE off;
    r->re = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
    if (!r->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        rule_errf(doc, pat, r->id, err, errlen, "pattern: %s at offset %zu", (char *)msg,
                  (size_t)off);
        return -1;
    }
    atomic_init(&r->jit_state, JIT_UNTRIED); /* compiled at the first match */
    uint32_t cnt = 0, esz = 0;
    PCRE2_SPTR tab = NULL;
    pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &r->ncaptures);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMECOUNT, &cnt);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMEENTRYSIZE, &esz);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMETABLE, &tab);
    if (cnt) {
        r->names = calloc(cnt, sizeof *r->names);
        if (!r->names)
            return lp_set_err(err, errlen, "out of memory");
        for (uint32_t i = 0; i < cnt; i++) {
            const unsigned char *e = tab + (size_t)i * esz;
            r->names[i].group = (e[0] << 8) | e[1];
            if (!(r->names[i].name = strdup((const char *)e + 2)))
                return lp_set_err(err, errlen, "out of memory");
            r->nnames++;
            struct lp_group *g = &r->names[i];
            if (lp_group_prepare(g, r->kind == LP_KIND_METRIC) < 0)
                return lp_set_err(err, errlen, "out of memory");
            bool first = g->field && strcmp(g->field, "mem_pct");
            for (uint32_t k = 0; k < i && first; k++)
                first = !r->names[k].field || strcmp(r->names[k].field, g->field);
            g->key.fresh = first;
        }
    }
    return 0;
}

/* What the steps of parse_rule share: the pack and the rule's id, for "FILE:LINE:
 * rule ID: " errors. */
struct rule_doc {
    const struct moni_json *doc;
    const char *id;
    char *err;
    size_t errlen;
};

#define RULE_FAIL(c, item, ...)                                                           \
    do {                                                                                  \
        rule_errf((c)->doc, (item), (c)->id, (c)->err, (c)->errlen, __VA_ARGS__);         \
        return -1;                                                                        \
    } while (0)

static int check_rule_id(const struct moni_json *doc, const cJSON *obj, const cJSON *jid,
                         const char *id, char *err, size_t errlen)
{
    if (!id || !*id) {
        rule_errf(doc, jid ? jid : obj, id, err, errlen, "id: missing or not a non-empty string");
        return -1;
    }
    for (const char *c = id; *c; c++)
        if (!(*c == '_' || *c == '-' || *c == '.' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))) {
            rule_errf(doc, jid, id, err, errlen, "id: only letters, digits, '_', '-' and '.'");
            return -1;
        }
    return 0;
}

static int parse_kind(const struct rule_doc *c, const cJSON *obj, struct lp_rule *r)
{
    const cJSON *jk = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (!cJSON_IsString(jk))
        RULE_FAIL(c, jk ? jk : obj, "kind: missing; one of metric, event, phase");
    if (!strcmp(jk->valuestring, "metric"))
        r->kind = LP_KIND_METRIC;
    else if (!strcmp(jk->valuestring, "event"))
        r->kind = LP_KIND_EVENT;
    else if (!strcmp(jk->valuestring, "phase"))
        r->kind = LP_KIND_PHASE;
    else
        RULE_FAIL(c, jk, "kind: '%s' is not one of metric, event, phase", jk->valuestring);
    return 0;
}

static int parse_pattern(const struct rule_doc *c, const cJSON *obj, struct lp_rule *r)
{
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(obj, "pattern");
    if (!cJSON_IsString(jp) || !*jp->valuestring)
        RULE_FAIL(c, jp ? jp : obj, "pattern: missing or empty");
    if (!(r->pattern = strdup(jp->valuestring)))
        RULE_FAIL(c, obj, "out of memory");
    return 0;
}

/* "event": an event rule's name (its id by default); a phase rule's phase. */
static int parse_event(const struct rule_doc *c, const cJSON *obj, struct lp_rule *r)
{
    const cJSON *je = cJSON_GetObjectItemCaseSensitive(obj, "event");
    if (je && !cJSON_IsString(je))
        RULE_FAIL(c, je, "event: must be a string");
    if (!(r->event = strdup(je ? je->valuestring : (r->kind == LP_KIND_EVENT ? c->id : ""))))
        RULE_FAIL(c, obj, "out of memory");
    if (r->kind == LP_KIND_PHASE) {
        if (*r->event) {
            int ph = lp_phase_from_name(r->event);
            if (ph < 0)
                RULE_FAIL(c, je, "event: '%s' is not a phase (startup, train, eval, "
                                 "checkpoint_save, checkpoint_load, rollout, weight_update, "
                                 "finished)", r->event);
            r->phase = (enum lp_phase)ph;
            free(r->event);
            if (!(r->event = strdup(lp_phase_name(r->phase))))
                RULE_FAIL(c, obj, "out of memory");
        }
    }
    return 0;
}

/* "severity", "labels" and "action": what an event means to the reader. */
static int parse_meaning(const struct rule_doc *c, const cJSON *obj, struct lp_rule *r)
{
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(obj, "severity");
    if (js) {
        int s = -1;
        for (int i = 0; cJSON_IsString(js) && i < 4; i++)
            if (!strcmp(js->valuestring, sev_names[i]))
                s = i;
        if (s < 0)
            RULE_FAIL(c, js, "severity: must be one of info, warning, error, critical");
        r->severity = (enum lp_severity)s;
    } else if (r->kind == LP_KIND_EVENT) {
        r->severity = LP_SEV_ERROR;
    }

    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(obj, "labels");
    if (jl) {
        if (!cJSON_IsArray(jl))
            RULE_FAIL(c, jl, "labels: must be an array of label names");
        const cJSON *it;
        cJSON_ArrayForEach(it, jl) {
            int l = cJSON_IsString(it) ? lp_label_from_name(it->valuestring) : -1;
            if (l < 0)
                RULE_FAIL(c, it, "labels: '%s' is not a label of the vocabulary (see "
                                 "moni-rules(5))",
                          cJSON_IsString(it) ? it->valuestring : "(not a string)");
            r->labels |= LP_LABEL_BIT(l);
        }
    }

    const cJSON *ja = cJSON_GetObjectItemCaseSensitive(obj, "action");
    if (ja && !cJSON_IsString(ja))
        RULE_FAIL(c, ja, "action: must be a string");
    if (!(r->action = strdup(ja ? ja->valuestring : "")))
        RULE_FAIL(c, obj, "out of memory");
    return 0;
}

/* "extract", "fallback" and "priority": how the rule is run. */
static int parse_matching(const struct rule_doc *c, const cJSON *obj, struct lp_rule *r)
{
    const cJSON *jx = cJSON_GetObjectItemCaseSensitive(obj, "extract");
    if (jx) {
        if (!cJSON_IsString(jx))
            RULE_FAIL(c, jx, "extract: must be a string");
        if (!strcmp(jx->valuestring, "none"))
            r->extract = LP_X_NONE;
        else if (!strcmp(jx->valuestring, "pydict"))
            r->extract = LP_X_PYDICT;
        else if (!strcmp(jx->valuestring, "kv"))
            r->extract = LP_X_KV;
        else if (!strcmp(jx->valuestring, "pipe"))
            r->extract = LP_X_PIPE;
        else
            RULE_FAIL(c, jx, "extract: '%s' is not one of none, pydict, kv, pipe",
                      jx->valuestring);
    }

    const cJSON *jf = cJSON_GetObjectItemCaseSensitive(obj, "fallback");
    if (jf) {
        if (!cJSON_IsBool(jf))
            RULE_FAIL(c, jf, "fallback: must be true or false");
        r->fallback = cJSON_IsTrue(jf);
        if (r->fallback && r->kind != LP_KIND_EVENT)
            RULE_FAIL(c, jf, "fallback: only event rules can be fallbacks");
    }
    const cJSON *jpr = cJSON_GetObjectItemCaseSensitive(obj, "priority");
    if (jpr) {
        if (!cJSON_IsNumber(jpr) || jpr->valuedouble < -1000 || jpr->valuedouble > 1000)
            RULE_FAIL(c, jpr, "priority: must be a number from -1000 to 1000");
        r->priority = jpr->valueint;
    }
    return 0;
}

/* "prefilter": literals, case-folded for the index, a leading or trailing \b taken
 * off into prefilter_bounds. */
static int parse_prefilters(const struct rule_doc *c, const cJSON *obj, struct lp_rule *r)
{
    const cJSON *jpf = cJSON_GetObjectItemCaseSensitive(obj, "prefilter");
    if (str_array(c->doc, jpf, &r->prefilters, &r->nprefilters, true, c->err, c->errlen) < 0)
        return -1;
    r->prefilter_bounds = calloc(r->nprefilters ? r->nprefilters : 1, 1);
    if (!r->prefilter_bounds)
        return lp_set_err(c->err, c->errlen, "out of memory");
    for (size_t i = 0; i < r->nprefilters; i++) {
        char *lit = r->prefilters[i];
        size_t n = strlen(lit);
        if (n >= 2 && lit[0] == '\\' && lit[1] == 'b') {
            memmove(lit, lit + 2, n - 1);
            n -= 2;
            r->prefilter_bounds[i] |= LP_PF_BOUND_START;
        }
        if (n >= 2 && lit[n - 2] == '\\' && lit[n - 1] == 'b') {
            lit[n - 2] = '\0';
            r->prefilter_bounds[i] |= LP_PF_BOUND_END;
        }
        if (!*r->prefilters[i])
            RULE_FAIL(c, jpf, "prefilter: literals must not be empty");
        if (strlen(r->prefilters[i]) > 128)
            RULE_FAIL(c, jpf, "prefilter: literals must be at most 128 bytes");
        for (char *p = r->prefilters[i]; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    return 0;
}

/* "tests": lines the rule must and must not match (checked by the unit tests). */
static int parse_tests(const struct rule_doc *c, const cJSON *obj, struct lp_rule *r)
{
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(obj, "tests");
    if (!jt)
        return 0;
    static const char *const tkeys[] = {"match", "nomatch", NULL};
    if (!cJSON_IsObject(jt))
        RULE_FAIL(c, jt, "tests: must be an object with match and nomatch arrays");
    if (moni_json_check_keys(c->doc, jt, tkeys, c->err, c->errlen) < 0)
        return -1;
    if (str_array(c->doc, cJSON_GetObjectItemCaseSensitive(jt, "match"), &r->tests[0],
                  &r->ntests[0], false, c->err, c->errlen) < 0 ||
        str_array(c->doc, cJSON_GetObjectItemCaseSensitive(jt, "nomatch"), &r->tests[1],
                  &r->ntests[1], false, c->err, c->errlen) < 0)
        return -1;
    return 0;
}

static int parse_rule(struct lp_rules *rs, const struct moni_json *doc, const cJSON *obj,
                      struct lp_rule **out, char *err, size_t errlen)
{
    *out = NULL;
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(obj, "id");
    const char *id = cJSON_IsString(jid) ? jid->valuestring : NULL;
    if (!cJSON_IsObject(obj)) {
        moni_json_errf(doc, obj, err, errlen, "a rule must be an object");
        return -1;
    }
    if (moni_json_check_keys(doc, obj, rule_keys, err, errlen) < 0)
        return -1;
    if (check_rule_id(doc, obj, jid, id, err, errlen) < 0)
        return -1;
    struct lp_rule *r = calloc(1, sizeof *r);
    if (!r)
        return lp_set_err(err, errlen, "out of memory");
    r->severity = LP_SEV_INFO;
    const struct rule_doc c = {doc, id, err, errlen};
    if (!(r->id = strdup(id)) || !(r->pack = strdup(doc->name))) {
        rule_errf(doc, obj, id, err, errlen, "out of memory");
        rule_free(r);
        return -1;
    }
    if (parse_kind(&c, obj, r) < 0 || parse_pattern(&c, obj, r) < 0 ||
        parse_event(&c, obj, r) < 0 || parse_meaning(&c, obj, r) < 0 ||
        parse_matching(&c, obj, r) < 0 || parse_prefilters(&c, obj, r) < 0 ||
        parse_tests(&c, obj, r) < 0 ||
        compile_rule(r, doc, cJSON_GetObjectItemCaseSensitive(obj, "pattern"), err, errlen) < 0) {
        rule_free(r);
        return -1;
    }
    (void)rs;
    *out = r;
    return 0;
}

static int add_rule(struct lp_rules *rs, struct lp_rule *r)
{
    /* A later pack may replace a rule of an earlier one by reusing its id. */
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->v[i]->id, r->id)) {
            rule_free(rs->v[i]);
            rs->v[i] = r;
            return 0;
        }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        struct lp_rule **nv = realloc(rs->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        rs->v = nv;
        rs->cap = cap;
    }
    r->order = rs->next_order++;
    rs->v[rs->n++] = r;
    return 0;
}

static int add_doc(struct lp_rules *rs, const struct moni_json *doc, char *err, size_t errlen)
{
    const cJSON *root = doc->root;
    if (!cJSON_IsObject(root)) {
        moni_json_errf(doc, root, err, errlen, "a rule pack must be an object with \"rules\"");
        return -1;
    }
    if (moni_json_check_keys(doc, root, pack_keys, err, errlen) < 0)
        return -1;
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
    if (!cJSON_IsArray(rules)) {
        moni_json_errf(doc, rules ? rules : root, err, errlen, "rules: missing or not an array");
        return -1;
    }
    /* Parse everything first so a bad pack leaves the set unchanged. */
    size_t cnt = (size_t)cJSON_GetArraySize(rules), k = 0;
    struct lp_rule **tmp = calloc(cnt ? cnt : 1, sizeof *tmp);
    if (!tmp)
        return lp_set_err(err, errlen, "out of memory");
    const cJSON *it;
    int rc = 0;
    cJSON_ArrayForEach(it, rules) {
        if (parse_rule(rs, doc, it, &tmp[k], err, errlen) < 0) {
            rc = -1;
            break;
        }
        for (size_t j = 0; j < k; j++)
            if (!strcmp(tmp[j]->id, tmp[k]->id)) {
                rule_errf(doc, it, tmp[k]->id, err, errlen, "id: duplicate in this pack");
                k++;
                rc = -1;
                break;
            }
        if (rc < 0)
            break;
        k++;
    }
    for (size_t j = 0; j < k; j++) {
        if (rc == 0 && add_rule(rs, tmp[j]) < 0) {
            rc = lp_set_err(err, errlen, "out of memory");
        }
        if (rc < 0)
            rule_free(tmp[j]);
    }
    free(tmp);
    if (rc == 0)
        rs->finished = false;
    return rc;
}

int lp_rules_add_text(struct lp_rules *rs, const char *name, const char *text, size_t len,
                      char *err, size_t errlen)
{
    struct moni_json doc;
    if (moni_json_parse(name, text, len, &doc, err, errlen) < 0)
        return -1;
    int rc = add_doc(rs, &doc, err, errlen);
    moni_json_free(&doc);
    return rc;
}

int lp_rules_add_file(struct lp_rules *rs, const char *path, char *err, size_t errlen)
{
    struct moni_json doc;
    if (moni_json_load(path, &doc, err, errlen) < 0)
        return -1;
    int rc = add_doc(rs, &doc, err, errlen);
    moni_json_free(&doc);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int lp_rules_add_dir(struct lp_rules *rs, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return lp_set_err(err, errlen, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") || de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = lp_set_err(err, errlen, "out of memory");
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = lp_set_err(err, errlen, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            rc = lp_rules_add_file(rs, path, err, errlen);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int add_path(struct lp_rules *rs, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return lp_set_err(err, errlen, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return lp_rules_add_dir(rs, path, err, errlen);
    return lp_rules_add_file(rs, path, err, errlen);
}

struct lp_rules *lp_rules_load(const char *const *paths, size_t npaths, unsigned flags,
                               char *err, size_t errlen)
{
    struct lp_rules *rs = lp_rules_new();
    char dir[4096];
    if (!rs) {
        lp_set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (flags & LP_LOAD_BUILTIN) {
        if (moni_data_dir("rules", dir, sizeof dir) < 0) {
            lp_set_err(err, errlen, "built-in rule packs not found (set MONI_DATA_DIR or "
                                 "install moni)");
            goto fail;
        }
        if (lp_rules_add_dir(rs, dir, err, errlen) < 0)
            goto fail;
    }
    if (flags & LP_LOAD_USER) {
        struct stat st;
        if (moni_config_dir("rules", dir, sizeof dir) == 0 && stat(dir, &st) == 0 &&
            S_ISDIR(st.st_mode) && lp_rules_add_dir(rs, dir, err, errlen) < 0)
            goto fail;
    }
    for (size_t i = 0; i < npaths; i++)
        if (add_path(rs, paths[i], err, errlen) < 0)
            goto fail;
    if (lp_rules_finish(rs, err, errlen) < 0)
        goto fail;
    return rs;
fail:
    lp_rules_free(rs);
    return NULL;
}
