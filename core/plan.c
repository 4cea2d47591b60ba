/* core/plan.c — experiment plans (moni-plan(5)): a JSON file of experiments, each
 * one run of a workload with scheduled or triggered faults and its labels, plus the
 * queue settings.  Everything is checked before anything starts; the first problem
 * is reported as "FILE:LINE: field: what" (exit 2). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/plan-int.h"
#include "faults/faults.h"
#include "logparse/logparse.h"

struct item_line {
    const cJSON *item;
    int line;
};

struct ctx {
    struct moni_json doc;
    struct item_line *by_item; /* doc's lines sorted by item: a lookup per fault must
                                  not scan the document (40k faults took seconds) */
    char *err;
    size_t errlen;
    struct lp_rules *rules; /* loaded on the first trigger that needs it */
    bool rules_failed;
};

static int cmp_item(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct item_line *)a)->item;
    uintptr_t y = (uintptr_t)((const struct item_line *)b)->item;
    return (x > y) - (x < y);
}

static void index_lines(struct ctx *c)
{
    moni_json_index(&c->doc);
    c->by_item = malloc((c->doc.nitems + 1) * sizeof *c->by_item);
    if (!c->by_item || !c->doc.lines)
        return;
    for (size_t i = 0; i < c->doc.nitems; i++)
        c->by_item[i] = (struct item_line){c->doc.items[i], c->doc.lines[i]};
    qsort(c->by_item, c->doc.nitems, sizeof *c->by_item, cmp_item);
}

/* moni_json_line by binary search. */
static int line_of(const struct ctx *c, const cJSON *item)
{
    if (!c->by_item || !c->doc.lines)
        return moni_json_line(&c->doc, item);
    struct item_line key = {item, 0};
    const struct item_line *hit =
        bsearch(&key, c->by_item, c->doc.nitems, sizeof key, cmp_item);
    return hit ? hit->line : 0;
}

#define FAIL(c, item, ...)                                                                     \
    do {                                                                                       \
        moni_json_errf(&(c)->doc, (item), (c)->err, (c)->errlen, __VA_ARGS__);                 \
        return -1;                                                                             \
    } while (0)

static int get_duration(struct ctx *c, const cJSON *item, int64_t *out)
{
    if (cJSON_IsNumber(item)) {
        if (!isfinite(item->valuedouble) || item->valuedouble < 0)
            FAIL(c, item, "must not be negative");
        if (item->valuedouble > 1e7)
            FAIL(c, item, "too long");
        *out = (int64_t)(item->valuedouble * 1e9);
        return 0;
    }
    if (!cJSON_IsString(item))
        FAIL(c, item, "must be a duration (\"30s\", \"2m\")");
    const char *s = item->valuestring;
    while (*s == ' ')
        s++;
    if (*s == '-')
        FAIL(c, item, "must not be negative");
    char e[160];
    if (moni_parse_duration(item->valuestring, out, e, sizeof e) < 0)
        FAIL(c, item, "%s", e);
    return 0;
}

static int get_pct(struct ctx *c, const cJSON *item, double *out)
{
    char e[160];
    if (cJSON_IsNumber(item))
        *out = item->valuedouble;
    else if (!cJSON_IsString(item) || moni_parse_percent(item->valuestring, out, e, sizeof e) < 0)
        FAIL(c, item, "must be a percentage (\"90%%\")");
    if (!(*out >= 0 && *out <= 100))
        FAIL(c, item, "must be 0..100%%");
    return 0;
}

static int get_int(struct ctx *c, const cJSON *item, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble))
        FAIL(c, item, "must be an integer");
    if (item->valuedouble < lo || item->valuedouble > hi)
        FAIL(c, item, "must be %d..%d", lo, hi);
    *out = (int)item->valuedouble;
    return 0;
}

static int get_str(struct ctx *c, const cJSON *item, char **out)
{
    if (!cJSON_IsString(item) || !item->valuestring[0])
        FAIL(c, item, "must be a non-empty string");
    free(*out);
    *out = strdup(item->valuestring);
    return *out ? 0 : -1;
}

static void free_argv(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

static char **argv_dup(char *const *argv)
{
    size_t n = 0;
    while (argv && argv[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        out[i] = strdup(argv[i]);
    return out;
}

static int get_strings(struct ctx *c, const cJSON *arr, char ***out)
{
    if (!cJSON_IsArray(arr))
        FAIL(c, arr, "must be an array of strings");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return -1;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsNumber(it)) {
            char b[64];
            snprintf(b, sizeof b, "%.15g", it->valuedouble);
            v[i++] = strdup(b);
        } else if (cJSON_IsString(it)) {
            v[i++] = strdup(it->valuestring);
        } else {
            free_argv(v);
            FAIL(c, arr, "must be an array of strings (item %zu is not)", i + 1);
        }
    }
    free_argv(*out);
    *out = v;
    return 0;
}

/* Overrides: "--opt VALUE" replaces the value of "--opt" already in argv, anything
 * else is appended.  ("--flag" followed by another option, or last, is a switch.) */
static char **argv_override(char **argv, char *const *over)
{
    size_t n = 0, m = 0;
    while (argv && argv[n])
        n++;
    while (over && over[m])
        m++;
    char **out = calloc(n + m + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = strdup(argv[i]);
    for (size_t j = 0; j < m; j++) {
        const char *o = over[j];
        bool has_val = o[0] == '-' && o[1] == '-' && j + 1 < m && over[j + 1][0] != '-';
        bool done = false;
        if (o[0] == '-' && o[1] == '-' && !strchr(o, '=')) {
            for (size_t i = 1; i < n; i++) {
                if (strcmp(out[i], o))
                    continue;
                if (has_val && i + 1 < n && out[i + 1][0] != '-') {
                    free(out[i + 1]);
                    out[i + 1] = strdup(over[j + 1]);
                    done = true;
                } else if (!has_val) {
                    done = true; /* switch already present */
                }
                break;
            }
        }
        if (done) {
            j += has_val;
            continue;
        }
        out[n++] = strdup(o);
        if (has_val)
            out[n++] = strdup(over[++j]);
    }
    out[n] = NULL;
    free_argv(argv);
    return out;
}

/* The names a trigger may use: phases and the event names of the rule packs. */
static bool known_event(struct ctx *c, const char *name)
{
    if (lp_phase_from_name(name) >= 0)
        return true;
    if (!c->rules && !c->rules_failed) {
        char e[512];
        c->rules = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN | LP_LOAD_USER, e, sizeof e);
        c->rules_failed = !c->rules;
    }
    for (size_t i = 0; c->rules && i < lp_rules_count(c->rules); i++) {
        const struct lp_rule *r = lp_rules_at(c->rules, i);
        if (!strcmp(lp_rule_event(r), name) || !strcmp(lp_rule_id(r), name))
            return true;
    }
    return false;
}

static bool known_rule(struct ctx *c, const char *id)
{
    if (!c->rules && !c->rules_failed) {
        char e[512];
        c->rules = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN | LP_LOAD_USER, e, sizeof e);
        c->rules_failed = !c->rules;
    }
    return c->rules && lp_rules_find(c->rules, id);
}

static void fault_clear(struct plan_fault *f)
{
    free(f->kind);
    free(f->params);
    free(f->target);
    free(f->when_event);
    free(f->when_rule);
    free(f->when_text);
    free(f->root_cause);
    free(f->expected_failure_stage);
    for (size_t i = 0; i < f->nnodes; i++)
        free(f->nodes[i]);
    free(f->nodes);
    free(f->ranks);
}

/* "params": an object {"load": "95%"} or the SPEC text "load=95%,workers=2", checked
 * by the fault kind itself as `--fault` would be; kept as SPEC text. */
static int parse_fault_params(struct ctx *c, const cJSON *o, const cJSON *kind,
                              const struct fault_ops *ops, struct plan_fault *f)
{
    char ptext[1024] = "";
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    if (cJSON_IsString(params)) {
        snprintf(ptext, sizeof ptext, "%s", params->valuestring);
    } else if (cJSON_IsObject(params)) {
        size_t n = 0;
        const cJSON *p;
        cJSON_ArrayForEach(p, params)
        {
            char v[256];
            if (cJSON_IsString(p))
                snprintf(v, sizeof v, "%s", p->valuestring);
            else if (cJSON_IsNumber(p))
                snprintf(v, sizeof v, "%.15g", p->valuedouble);
            else if (cJSON_IsBool(p))
                snprintf(v, sizeof v, "%s", cJSON_IsTrue(p) ? "1" : "0");
            else
                FAIL(c, p, "must be a string, number or boolean");
            if (strchr(v, ','))
                FAIL(c, p, "must not contain ','");
            n += (size_t)snprintf(ptext + n, sizeof ptext - n, "%s%s=%s", n ? "," : "", p->string,
                                  v);
            if (n >= sizeof ptext)
                FAIL(c, params, "too long");
        }
    } else if (params) {
        FAIL(c, params, "must be an object or \"key=value,...\"");
    }
    struct fault_kv kv[FAULT_MAX_PARAMS];
    size_t nkv = 0;
    char e[512];
    if (ptext[0] && fault_kv_split(ptext, ',', kv, FAULT_MAX_PARAMS, &nkv, e, sizeof e) < 0)
        FAIL(c, params, "%s", e);
    struct fault_params fp;
    if (fault_params_parse(ops, kv, nkv, &fp, e, sizeof e) != 0)
        FAIL(c, params ? params : kind, "%s", e);
    f->params = strdup(ptext);
    return 0;
}

/* "target": "workload" (the default, kept as NULL), "pid=N", "port=N", "path=P". */
static int parse_fault_target(struct ctx *c, const cJSON *o, struct plan_fault *f)
{
    const cJSON *tg = cJSON_GetObjectItemCaseSensitive(o, "target");
    if (!tg)
        return 0;
    if (cJSON_IsNumber(tg)) {
        char b[64];
        snprintf(b, sizeof b, "pid=%d", tg->valueint);
        f->target = strdup(b);
    } else if (!cJSON_IsString(tg) || !tg->valuestring[0]) {
        FAIL(c, tg, "must be \"workload\", \"pid=N\", \"port=N\" or \"path=P\"");
    } else if (strcmp(tg->valuestring, "workload") != 0) {
        if (strncmp(tg->valuestring, "pid=", 4) && strncmp(tg->valuestring, "port=", 5) &&
            strncmp(tg->valuestring, "path=", 5))
            FAIL(c, tg, "must be \"workload\", \"pid=N\", \"port=N\" or \"path=P\"");
        f->target = strdup(tg->valuestring);
    }
    return 0;
}

/* "when": one trigger (an event, a rule or a phase of the rule packs), optionally
 * narrowed by "text". */
static int parse_fault_when(struct ctx *c, const cJSON *when, struct plan_fault *f)
{
    static const char *const wkeys[] = {"event", "rule", "phase", "text", NULL};
    if (!cJSON_IsObject(when) || !when->child)
        FAIL(c, when, "must be {\"event\": NAME}, {\"rule\": ID} or {\"phase\": NAME}");
    if (moni_json_check_keys(&c->doc, when, wkeys, c->err, c->errlen) < 0)
        return -1;
    /* "text": only records whose line contains it ("step 2 stage=rollout") */
    const cJSON *wt = cJSON_GetObjectItemCaseSensitive(when, "text");
    if (wt) {
        if (!cJSON_IsString(wt) || !wt->valuestring[0])
            FAIL(c, wt, "must be a non-empty string");
        f->when_text = strdup(wt->valuestring);
    }
    const cJSON *t = NULL;
    int ntrig = 0;
    for (const cJSON *k = when->child; k; k = k->next)
        if (strcmp(k->string, "text")) {
            t = k;
            ntrig++;
        }
    if (ntrig == 0)
        FAIL(c, when, "\"text\" needs one of \"event\", \"rule\" or \"phase\"");
    if (ntrig > 1)
        FAIL(c, when, "one trigger per fault");
    if (!cJSON_IsString(t) || !t->valuestring[0])
        FAIL(c, t, "must be a non-empty string");
    if (!strcmp(t->string, "rule")) {
        if (!known_rule(c, t->valuestring))
            FAIL(c, t, "no rule '%s' in the rule packs%s", t->valuestring,
                 c->rules_failed ? " (rule packs failed to load)" : "");
        f->when_rule = strdup(t->valuestring);
    } else if (!strcmp(t->string, "phase")) {
        if (lp_phase_from_name(t->valuestring) < 0)
            FAIL(c, t, "unknown phase '%s'", t->valuestring);
        f->when_event = strdup(t->valuestring);
    } else {
        if (!known_event(c, t->valuestring))
            FAIL(c, t, "no event or phase '%s' in the rule packs", t->valuestring);
        f->when_event = strdup(t->valuestring);
    }
    return 0;
}

/* An element of "nodes"/"ranks": "FILE:LINE: field: [i]: what" at the element's line. */
static int fail_elem(struct ctx *c, const cJSON *arr, const cJSON *elem, size_t i, const char *what)
{
    int line = line_of(c, elem);
    if (!line)
        line = line_of(c, arr);
    snprintf(c->err, c->errlen, "%s:%d: %s: [%zu]: %s", c->doc.name ? c->doc.name : "(input)",
             line, arr->string, i, what);
    return -1;
}

static bool node_name_ok(const char *s)
{
    if (!*s || strlen(s) > 127)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* "nodes": ["n2", ...] or "ranks": [1, ...]: where a cluster job fires the fault
 * (moni-plan(5) CLUSTER FAULTS).  Whether the job has them is checked at run time. */
static int parse_fault_where(struct ctx *c, const cJSON *o, struct plan_fault *f)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(o, "nodes");
    const cJSON *ranks = cJSON_GetObjectItemCaseSensitive(o, "ranks");
    if (nodes && ranks)
        FAIL(c, ranks, "give \"nodes\" or \"ranks\", not both");
    const cJSON *arr = nodes ? nodes : ranks;
    if (!arr)
        return 0;
    /* a fault on another node ends by its own clock there: rank 0 cannot stop it
     * safely (cancelling the step kills its guardian with it) */
    const struct fault_ops *ops = fault_find(f->kind);
    if (!f->for_ns && ops && ops->label_kind && strcmp(ops->label_kind, "point"))
        FAIL(c, arr, "needs \"for\": a fault on other nodes ends by its own window");
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n == 0)
        FAIL(c, arr, "must be a non-empty list of %s", nodes ? "node names" : "ranks (0, 1, ...)");
    if (n > 4096)
        FAIL(c, arr, "more than 4096 entries");
    if (nodes ? !(f->nodes = calloc((size_t)n, sizeof *f->nodes))
              : !(f->ranks = calloc((size_t)n, sizeof *f->ranks)))
        FAIL(c, arr, "out of memory");
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (nodes) {
            if (!cJSON_IsString(e) || !node_name_ok(e->valuestring))
                return fail_elem(c, arr, e, i, "must be a node name (letters, digits, '-', '_', '.')");
            for (size_t k = 0; k < f->nnodes; k++)
                if (!strcmp(f->nodes[k], e->valuestring))
                    return fail_elem(c, arr, e, i, "named twice");
            if (!(f->nodes[f->nnodes++] = strdup(e->valuestring)))
                FAIL(c, arr, "out of memory");
        } else {
            if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) ||
                e->valuedouble < 0 || e->valuedouble > 1000000)
                return fail_elem(c, arr, e, i, "must be a rank, an integer 0..1000000");
            for (size_t k = 0; k < f->nranks; k++)
                if (f->ranks[k] == (int)e->valuedouble)
                    return fail_elem(c, arr, e, i, "named twice");
            f->ranks[f->nranks++] = (int)e->valuedouble;
        }
        i++;
    }
    return 0;
}

/* "at", "for", "delay" and "when": when the fault fires and for how long. */
static int parse_fault_timing(struct ctx *c, const cJSON *o, struct plan_fault *f)
{
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at");
    if (at) {
        if (get_duration(c, at, &f->at_ns) < 0)
            return -1;
        f->has_at = true;
    }
    const cJSON *fo = cJSON_GetObjectItemCaseSensitive(o, "for");
    if (fo && get_duration(c, fo, &f->for_ns) < 0)
        return -1;
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(o, "delay");
    if (dl && get_duration(c, dl, &f->delay_ns) < 0)
        return -1;
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(o, "when");
    if (when) {
        if (parse_fault_when(c, when, f) < 0)
            return -1;
        if (at)
            FAIL(c, at, "use \"delay\" with \"when\" (not \"at\")");
    } else if (dl) {
        FAIL(c, dl, "\"delay\" needs \"when\"");
    }
    return 0;
}

static int parse_fault(struct ctx *c, const cJSON *o, struct plan_fault *f)
{
    static const char *const keys[] = {"kind", "params", "target", "at", "for", "when",
                                       "delay", "root_cause", "expected_failure_stage",
                                       "comment", "nodes", "ranks", NULL};
    memset(f, 0, sizeof *f);
    f->line = line_of(c, o);
    if (!cJSON_IsObject(o))
        FAIL(c, o, "a fault must be an object");
    if (moni_json_check_keys(&c->doc, o, keys, c->err, c->errlen) < 0)
        return -1;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!kind)
        FAIL(c, o, "missing \"kind\"");
    if (get_str(c, kind, &f->kind) < 0)
        return -1;
    const struct fault_ops *ops = fault_find(f->kind);
    if (!ops)
        FAIL(c, kind, "unknown fault kind '%s' (see 'moni fault list')", f->kind);
    if (parse_fault_params(c, o, kind, ops, f) < 0 || parse_fault_target(c, o, f) < 0 ||
        parse_fault_timing(c, o, f) < 0 || parse_fault_where(c, o, f) < 0)
        return -1;
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(o, "root_cause");
    if (rc && get_str(c, rc, &f->root_cause) < 0)
        return -1;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "expected_failure_stage");
    if (st && get_str(c, st, &f->expected_failure_stage) < 0)
        return -1;
    return 0;
}

/* Settings shared by "defaults", "quick" and experiments. */
struct settings {
    char **workload, **args;
    int64_t interval_ns, duration_ns, cooldown_ns;
    bool has_interval, has_duration, has_cooldown;
};

static void settings_free(struct settings *s)
{
    free_argv(s->workload);
    free_argv(s->args);
}

static int parse_settings(struct ctx *c, const cJSON *o, struct settings *s)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "workload"))) {
        if (get_strings(c, v, &s->workload) < 0)
            return -1;
        if (!s->workload[0])
            FAIL(c, v, "must not be empty");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "args")) && get_strings(c, v, &s->args) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "interval"))) {
        if (get_duration(c, v, &s->interval_ns) < 0)
            return -1;
        if (s->interval_ns < 10 * MONI_NS_PER_MS || s->interval_ns > 60 * MONI_NS_PER_SEC)
            FAIL(c, v, "must be 10ms..60s");
        s->has_interval = true;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "duration"))) {
        if (get_duration(c, v, &s->duration_ns) < 0)
            return -1;
        s->has_duration = true;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "cooldown"))) {
        if (get_duration(c, v, &s->cooldown_ns) < 0)
            return -1;
        s->has_cooldown = true;
    }
    return 0;
}

static void settings_apply(struct plan_experiment *e, const struct settings *s)
{
    if (s->workload) {
        free_argv(e->argv);
        e->argv = argv_dup(s->workload);
    }
    if (s->args)
        e->argv = argv_override(e->argv, s->args);
    if (s->has_interval)
        e->interval_ns = s->interval_ns;
    if (s->has_duration)
        e->duration_ns = s->duration_ns;
    if (s->has_cooldown)
        e->cooldown_ns = s->cooldown_ns;
}

static int parse_queue(struct ctx *c, const cJSON *q, struct plan_queue *pq)
{
    static const char *const keys[] = {"jobs", "retries", "backoff", "cooldown", "gate",
                                       "comment", NULL};
    static const char *const gkeys[] = {"cpu", "mem", "disk", "max_wait", NULL};
    if (!cJSON_IsObject(q))
        FAIL(c, q, "must be an object");
    if (moni_json_check_keys(&c->doc, q, keys, c->err, c->errlen) < 0)
        return -1;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(q, "jobs")) && get_int(c, v, 1, 64, &pq->jobs) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(q, "retries")) &&
        get_int(c, v, 0, 100, &pq->retries) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(q, "backoff")) &&
        get_duration(c, v, &pq->backoff_ns) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(q, "cooldown")) &&
        get_duration(c, v, &pq->cooldown_ns) < 0)
        return -1;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(q, "gate");
    if (g) {
        if (!cJSON_IsObject(g))
            FAIL(c, g, "must be an object");
        if (moni_json_check_keys(&c->doc, g, gkeys, c->err, c->errlen) < 0)
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(g, "cpu")) && get_pct(c, v, &pq->gate_cpu_pct) < 0)
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(g, "mem")) && get_pct(c, v, &pq->gate_mem_pct) < 0)
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(g, "disk")) &&
            get_pct(c, v, &pq->gate_disk_pct) < 0)
            return -1;
        if ((v = cJSON_GetObjectItemCaseSensitive(g, "max_wait")) &&
            get_duration(c, v, &pq->gate_max_wait_ns) < 0)
            return -1;
    }
    return 0;
}

static void experiment_clear(struct plan_experiment *e)
{
    free(e->name);
    free_argv(e->argv);
    for (size_t i = 0; i < e->nfaults; i++)
        fault_clear(&e->faults[i]);
    free(e->faults);
    free(e->global_label);
    free(e->root_cause);
    free(e->expected_failure_stage);
}

static int parse_experiment(struct ctx *c, const cJSON *o, const struct settings *defaults,
                            const struct settings *quick, bool use_quick,
                            struct plan_experiment *e, const struct plan *p, size_t idx)
{
    static const char *const keys[] = {"name",     "workload",    "args",   "interval",
                                       "duration", "cooldown",    "faults", "global",
                                       "root_cause", "expected_failure_stage", "repeat",
                                       "priority", "quick",       "comment", NULL};
    memset(e, 0, sizeof *e);
    e->repeat = 1;
    if (!cJSON_IsObject(o))
        FAIL(c, o, "an experiment must be an object");
    if (moni_json_check_keys(&c->doc, o, keys, c->err, c->errlen) < 0)
        return -1;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!name)
        FAIL(c, o, "missing \"name\"");
    if (get_str(c, name, &e->name) < 0)
        return -1;
    for (const char *s = e->name; *s; s++)
        if (*s == '/' || *s == ',' || *s == '"' || (unsigned char)*s < 0x20)
            FAIL(c, name, "must not contain '/', ',', '\"' or control characters");
    if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
        FAIL(c, name, "is not a usable directory name");
    for (size_t i = 0; i < idx; i++)
        if (!strcmp(p->exps[i].name, e->name))
            FAIL(c, name, "duplicate experiment name '%s'", e->name);
    e->interval_ns = MONI_NS_PER_SEC;
    e->cooldown_ns = p->queue.cooldown_ns;
    settings_apply(e, defaults);
    struct settings own = {0};
    int rc = parse_settings(c, o, &own);
    if (rc == 0)
        settings_apply(e, &own);
    settings_free(&own);
    if (rc < 0)
        return -1;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "quick");
    if (q) {
        static const char *const qkeys[] = {"workload", "args", "interval", "duration",
                                            "cooldown", NULL};
        if (!cJSON_IsObject(q))
            FAIL(c, q, "must be an object");
        if (moni_json_check_keys(&c->doc, q, qkeys, c->err, c->errlen) < 0)
            return -1;
    }
    if (use_quick) {
        settings_apply(e, quick);
        struct settings qs = {0};
        rc = q ? parse_settings(c, q, &qs) : 0;
        if (rc == 0)
            settings_apply(e, &qs);
        settings_free(&qs);
        if (rc < 0)
            return -1;
    } else if (q) {
        struct settings qs = {0}; /* checked even when not used */
        rc = parse_settings(c, q, &qs);
        settings_free(&qs);
        if (rc < 0)
            return -1;
    }
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "global")) && get_str(c, v, &e->global_label) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "root_cause")) &&
        get_str(c, v, &e->root_cause) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "expected_failure_stage")) &&
        get_str(c, v, &e->expected_failure_stage) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "repeat")) && get_int(c, v, 1, 1000, &e->repeat) < 0)
        return -1;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "priority")) &&
        get_int(c, v, -1000, 1000, &e->priority) < 0)
        return -1;
    const cJSON *faults = cJSON_GetObjectItemCaseSensitive(o, "faults");
    if (faults) {
        if (!cJSON_IsArray(faults))
            FAIL(c, faults, "must be an array");
        size_t n = (size_t)cJSON_GetArraySize(faults);
        e->faults = calloc(n ? n : 1, sizeof *e->faults);
        if (!e->faults)
            return -1;
        const cJSON *f;
        cJSON_ArrayForEach(f, faults)
        {
            if (parse_fault(c, f, &e->faults[e->nfaults]) < 0) {
                fault_clear(&e->faults[e->nfaults]);
                return -1;
            }
            e->nfaults++;
        }
    }
    if (!e->argv || !e->argv[0]) {
        free_argv(e->argv);
        e->argv = calloc(2, sizeof *e->argv);
        if (!e->argv)
            return -1;
        e->argv[0] = strdup("moni-train");
    }
    return 0;
}

struct plan *plan_load(const char *path, bool quick, char *err, size_t errlen)
{
    struct ctx c = {.err = err, .errlen = errlen};
    err[0] = '\0';
    if (moni_json_load(path, &c.doc, err, errlen) < 0)
        return NULL;
    index_lines(&c);
    struct plan *p = calloc(1, sizeof *p);
    struct settings defaults = {0}, qs = {0};
    int rc = -1;
    if (!p)
        goto out;
    p->path = strdup(path);
    p->queue = (struct plan_queue){.jobs = 1,
                                   .retries = 1,
                                   .backoff_ns = 5 * MONI_NS_PER_SEC,
                                   .cooldown_ns = 5 * MONI_NS_PER_SEC,
                                   .gate_cpu_pct = 90,
                                   .gate_mem_pct = 85,
                                   .gate_disk_pct = 90,
                                   .gate_max_wait_ns = 10 * 60 * MONI_NS_PER_SEC};
    const cJSON *root = c.doc.root;
    static const char *const keys[] = {"name", "defaults", "experiments", "queue", "quick",
                                       "comment", "description", "schema", NULL};
    static const char *const dkeys[] = {"workload", "args", "interval", "duration", "cooldown",
                                        NULL};
    if (!cJSON_IsObject(root)) {
        moni_json_errf(&c.doc, root, err, errlen, "a plan must be a JSON object");
        goto out;
    }
    if (moni_json_check_keys(&c.doc, root, keys, err, errlen) < 0)
        goto out;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (v && get_str(&c, v, &p->name) < 0)
        goto out;
    if (!p->name) {
        const char *b = strrchr(path, '/');
        p->name = strdup(b ? b + 1 : path);
        char *dot = p->name ? strrchr(p->name, '.') : NULL;
        if (dot && dot != p->name)
            *dot = '\0';
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    if (d) {
        if (!cJSON_IsObject(d)) {
            moni_json_errf(&c.doc, d, err, errlen, "must be an object");
            goto out;
        }
        if (moni_json_check_keys(&c.doc, d, dkeys, err, errlen) < 0 ||
            parse_settings(&c, d, &defaults) < 0)
            goto out;
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quick");
    if (q) {
        if (!cJSON_IsObject(q)) {
            moni_json_errf(&c.doc, q, err, errlen, "must be an object");
            goto out;
        }
        if (moni_json_check_keys(&c.doc, q, dkeys, err, errlen) < 0 || parse_settings(&c, q, &qs) < 0)
            goto out;
    }
    const cJSON *qu = cJSON_GetObjectItemCaseSensitive(root, "queue");
    if (qu && parse_queue(&c, qu, &p->queue) < 0)
        goto out;
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (sch && plan_schema_parse(&c.doc, sch, path, &p->schema, err, errlen) < 0)
        goto out;
    if (quick && qs.has_cooldown)
        p->queue.cooldown_ns = qs.cooldown_ns;
    const cJSON *exps = cJSON_GetObjectItemCaseSensitive(root, "experiments");
    if (!exps) {
        moni_json_errf(&c.doc, root, err, errlen, "missing \"experiments\"");
        goto out;
    }
    if (!cJSON_IsArray(exps) || cJSON_GetArraySize(exps) == 0) {
        moni_json_errf(&c.doc, exps, err, errlen, "must be a non-empty array");
        goto out;
    }
    p->exps = calloc((size_t)cJSON_GetArraySize(exps), sizeof *p->exps);
    if (!p->exps)
        goto out;
    const cJSON *e;
    cJSON_ArrayForEach(e, exps)
    {
        if (parse_experiment(&c, e, &defaults, &qs, quick, &p->exps[p->nexps], p, p->nexps) < 0) {
            experiment_clear(&p->exps[p->nexps]);
            goto out;
        }
        p->exps[p->nexps].schema = p->schema;
        p->nexps++;
    }
    rc = 0;
out:
    settings_free(&defaults);
    settings_free(&qs);
    lp_rules_free(c.rules);
    moni_json_free(&c.doc);
    free(c.by_item);
    if (rc < 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s: out of memory", path);
        plan_free(p);
        return NULL;
    }
    return p;
}

void plan_free(struct plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nexps; i++)
        experiment_clear(&p->exps[i]);
    free(p->exps);
    plan_schema_free(p->schema);
    free(p->name);
    free(p->path);
    free(p);
}
