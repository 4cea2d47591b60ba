/* core/runner-ctl.c — the runner as the console drives it: plain views of its parsed
 * records, training state and faults, and the fault controls (arm from a form, fire,
 * stop, panic) and diagnosis.  The console goes through these so that one driver,
 * the runner, owns the injector and the parser; it never includes faults/ or
 * logparse/.  Nothing here keeps state of its own. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "faults/faults.h"
#include "logparse/logparse.h"

/* ---- parsed records and training state ----------------------------------------------- */

void runner_record_view(const struct lp_record *rec, struct runner_record *out)
{
    memset(out, 0, sizeof *out);
    out->is_event = rec->kind == LP_KIND_EVENT;
    out->is_metric = rec->kind == LP_KIND_METRIC;
    out->is_phase = rec->kind == LP_KIND_PHASE;
    out->phase = out->is_phase ? lp_phase_name(rec->phase) : "";
    out->time_ns = lp_record_time(rec);
    out->recv = rec->recv;
    out->line = rec->line_no;
    out->sev = rec->severity == LP_SEV_CRITICAL ? RUNNER_SEV_CRIT
             : rec->severity == LP_SEV_ERROR    ? RUNNER_SEV_ERROR
             : rec->severity == LP_SEV_WARNING  ? RUNNER_SEV_WARN
                                                : RUNNER_SEV_INFO;
    out->rule = rec->rule_id ? rec->rule_id : "";
    lp_labels_format(rec->labels, ",", out->labels, sizeof out->labels);
    out->text = rec->text ? rec->text : "";
    out->text_len = rec->text ? rec->text_len : 0;
}

bool runner_record_num(const struct lp_record *rec, const char *field, double *v)
{
    const struct lp_field *f = lp_record_field(rec, field);
    if (!f || !f->is_num)
        return false;
    *v = f->num;
    return true;
}

void runner_train_state(const struct runner *r, struct runner_train *out)
{
    memset(out, 0, sizeof *out);
    out->tput_unit = "it/s";
    out->phase = "";
    const struct lp_parser *p = runner_parser(r);
    if (!p)
        return;
    const struct lp_state *st = lp_parser_state(p);
    out->loss_ok = st->valid[LP_M_LOSS];
    out->loss = st->val[LP_M_LOSS];
    out->lr_ok = st->valid[LP_M_LR];
    out->lr = st->val[LP_M_LR];
    out->step_ok = st->valid[LP_M_STEP];
    out->step = st->val[LP_M_STEP];
    out->max_steps_ok = st->valid[LP_M_MAX_STEPS];
    out->max_steps = st->val[LP_M_MAX_STEPS];
    out->epoch_ok = st->valid[LP_M_EPOCH];
    out->epoch = st->val[LP_M_EPOCH];
    if (st->valid[LP_M_IT_PER_S]) {
        out->tput_ok = true;
        out->throughput = st->val[LP_M_IT_PER_S];
    } else if (st->valid[LP_M_SAMPLES_PER_S]) {
        out->tput_ok = true;
        out->throughput = st->val[LP_M_SAMPLES_PER_S];
        out->tput_unit = "samples/s";
    }
    out->nan_seen = st->nan_seen;
    if (st->phase)
        out->phase = lp_phase_name(st->phase);
}

/* ---- fault views ---------------------------------------------------------------------- */

size_t runner_fault_kinds(const char **names, const char **summaries, size_t max)
{
    size_t n = 0;
    for (; n < fault_table_len && n < max; n++) {
        names[n] = fault_table[n]->name;
        summaries[n] = fault_table[n]->summary;
    }
    return n;
}

bool runner_faults_ready(const struct runner *r, const char **why)
{
    if (runner_injector(r))
        return true;
    if (why)
        *why = "no fault journal";
    return false;
}

size_t runner_fault_count(const struct runner *r)
{
    const struct injector *inj = r ? runner_injector(r) : NULL;
    return inj ? injector_count(inj) : 0;
}

static enum runner_fault_state view_state(enum fault_state s)
{
    switch (s) {
    case FAULT_ARMED: return RUNNER_FAULT_ARMED;
    case FAULT_FIRING: return RUNNER_FAULT_FIRING;
    case FAULT_STOPPED: case FAULT_REVERTED: return RUNNER_FAULT_STOPPED;
    case FAULT_FAILED: return RUNNER_FAULT_FAILED;
    default: return RUNNER_FAULT_IDLE;
    }
}

bool runner_fault_get(const struct runner *r, size_t idx, struct runner_fault *out)
{
    const struct injector *inj = runner_injector(r);
    struct fault_info fi;
    if (!inj || !injector_info(inj, idx, &fi) || !fi.ops)
        return false;
    memset(out, 0, sizeof *out);
    out->id = fi.id;
    snprintf(out->id_str, sizeof out->id_str, "%s", fi.id_str);
    out->kind = fi.ops->name;
    out->state = view_state(fi.state);
    out->effective = fi.effective;
    snprintf(out->params, sizeof out->params, "%s", fi.params);
    out->fired_ns = fi.fired_ns;
    out->stopped_ns = fi.stopped_ns;
    out->remaining_ns = fi.remaining_ns;
    out->requested_dose = fi.requested_dose;
    out->delivered_dose = fi.delivered_dose;
    out->delivered_valid = fi.delivered_valid;
    out->dose_unit = fi.dose_unit;
    snprintf(out->error, sizeof out->error, "%s", fi.error);
    snprintf(out->target, sizeof out->target, "%s", fi.target);
    out->armed_ns = fi.armed_ns;
    out->effective_ns = fi.effective_ns;
    out->for_ns = fi.for_ns;
    return true;
}

size_t runner_faults_active(const struct runner *r)
{
    const struct injector *inj = runner_injector(r);
    struct injector_stats st = {0};
    if (inj)
        injector_stats(inj, &st);
    return st.active;
}

/* ---- the arm form ------------------------------------------------------------------- */

static const char *type_hint(const struct fault_param *p, char *buf, size_t len)
{
    if (p->type == FP_ENUM && p->choices)
        snprintf(buf, len, "one of %s", p->choices);
    else if ((p->min != 0 || p->max != 0) &&
             (p->type == FP_INT || p->type == FP_DOUBLE || p->type == FP_PERCENT))
        snprintf(buf, len, "%g..%g", p->min, p->max);
    else
        buf[0] = 0;
    return buf;
}

static void target_param(struct runner_fault_param *t, const char *name, const char *unit,
                         const char *def, const char *help)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->unit, sizeof t->unit, "%s", unit);
    snprintf(t->def, sizeof t->def, "%.47s", def);
    snprintf(t->help, sizeof t->help, "%s", help);
}

/* The list field of kinds that take free keys (knob): "lr=10 nan_next_step=1". */
#define LIST_FIELD "set"

/* Where a kind acts when the form leaves path empty, as plans do: the control file
 * for control-file kinds, else the run directory ("" when there is no run). */
static void default_path(const struct runner *r, const struct fault_ops *ops, char *buf, size_t len)
{
    const struct session *s = r ? runner_session(r) : NULL;
    const char *dir = s ? session_run_dir(s) : NULL;
    if (!dir)
        buf[0] = 0;
    else if (ops->control_file)
        snprintf(buf, len, "%s/control", dir);
    else
        snprintf(buf, len, "%s", dir);
}

size_t runner_fault_params(const struct runner *r, const char *kind, struct runner_fault_param *out,
                           size_t max)
{
    const struct fault_ops *ops = fault_find(kind);
    if (!ops)
        return 0;
    size_t n = 0;
    /* What the kind cannot do without comes first: the keys to write, the port. */
    if (ops->free_keys && n < max)
        target_param(&out[n++], LIST_FIELD, "", "",
                     "KEY=VALUE pairs to write (lr=10 nan_next_step=1 sleep_ms=500)");
    bool port_first = (ops->targets & FAULT_TGT_PORT) && (ops->targets & FAULT_TGT_REQUIRED);
    if (port_first && n < max)
        target_param(&out[n++], "port", "", "", "the port the workload's peer listens on (required)");
    for (size_t i = 0; i < ops->nparams && n < max; i++) {
        const struct fault_param *p = &ops->params[i];
        struct runner_fault_param *t = &out[n++];
        char hint[64], help[96];
        type_hint(p, hint, sizeof hint);
        snprintf(help, sizeof help, "%s%s%s", p->help ? p->help : "", hint[0] ? "; " : "", hint);
        target_param(t, p->key, p->unit ? p->unit : "", p->def ? p->def : "", help);
    }
    if ((ops->targets & FAULT_TGT_PORT) && !port_first && n < max)
        target_param(&out[n++], "port", "", "", "the port the workload's peer listens on");
    if ((ops->targets & FAULT_TGT_PATH) && n < max) {
        char def[PATH_MAX];
        default_path(r, ops, def, sizeof def);
        target_param(&out[n++], "path", "", def,
                     ops->control_file ? "the trainer's control file" : "directory (its filesystem) to act on");
    }
    if ((ops->targets & FAULT_TGT_PID) && n < max)
        target_param(&out[n++], "pid", "", "", "target process; empty = the workload");
    if (n < max)
        target_param(&out[n++], "for", "s", "",
                     "window after firing (500ms, 30s, 2m); empty = until stopped");
    return n;
}

/* Splits a list field ("lr=10 nan_next_step=1", commas also separate) into kv,
 * appended after *n (at most max).  0, or -1 with err. */
static int split_list(const char *text, struct fault_kv *kv, size_t max, size_t *n, char *err,
                      size_t errlen)
{
    size_t given = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (!len)
            break;
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p) {
            snprintf(err, errlen, "'%.*s': want KEY=VALUE", (int)(len > 40 ? 40 : len), p);
            return -1;
        }
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        if (klen >= sizeof kv->key || vlen >= sizeof kv->val) {
            snprintf(err, errlen, "'%.*s': too long", (int)(len > 40 ? 40 : len), p);
            return -1;
        }
        if (*n >= max) {
            snprintf(err, errlen, "too many pairs (at most %zu)", max);
            return -1;
        }
        snprintf(kv[*n].key, sizeof kv->key, "%.*s", (int)klen, p);
        snprintf(kv[*n].val, sizeof kv->val, "%.*s", (int)vlen, eq + 1);
        (*n)++;
        given++;
        p += len;
    }
    if (!given) {
        snprintf(err, errlen, "give at least one KEY=VALUE (lr=10)");
        return -1;
    }
    return 0;
}

int runner_fault_validate(const struct runner *r, const char *kind, const char *key,
                          const char *value, char *err, size_t errlen)
{
    (void)r;
    const struct fault_ops *ops = fault_find(kind);
    if (!ops) {
        snprintf(err, errlen, "unknown fault kind");
        return -1;
    }
    if (!strcmp(key, "for")) {
        int64_t ns;
        return moni_parse_duration(value, &ns, err, errlen);
    }
    if (!strcmp(key, "port") || !strcmp(key, "pid")) {
        long long v;
        return moni_parse_int(value, 1, !strcmp(key, "port") ? 65535 : 4194304, &v, err, errlen);
    }
    if (!strcmp(key, "path")) {
        if (ops->control_file) /* the trainer creates it; its directory must exist */
            return 0;
        return access(value, F_OK) == 0 ? 0 : (snprintf(err, errlen, "%s", strerror(errno)), -1);
    }
    if (ops->free_keys && !strcmp(key, LIST_FIELD)) {
        struct fault_kv kv[FAULT_MAX_PARAMS];
        size_t n = 0;
        return split_list(value, kv, FAULT_MAX_PARAMS, &n, err, errlen);
    }
    int idx = fault_param_index(ops, key);
    if (idx < 0) {
        snprintf(err, errlen, "unknown parameter");
        return -1;
    }
    struct fault_value v;
    return fault_value_parse(&ops->params[idx], value, &v, err, errlen) == 0 ? 0 : -1;
}

/* The form's keys as the injector takes them: parameters (the list field split),
 * the target (path defaulting as in a plan) and the window.  0, or -1 with err. */
static int form_to_spec(const struct runner *r, const struct fault_ops *ops,
                        const char *const *keys, const char *const *values, size_t n,
                        struct fault_kv *kv, size_t *nkv, struct fault_target *tg,
                        int64_t *for_ns, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (runner_fault_validate(r, ops->name, keys[i], values[i], err, errlen) != 0) {
            char e[200];
            snprintf(e, sizeof e, "%s", err);
            snprintf(err, errlen, "%s: %s", keys[i], e);
            return -1;
        }
        if (!strcmp(keys[i], "for")) {
            moni_parse_duration(values[i], for_ns, err, errlen);
        } else if (!strcmp(keys[i], "port")) {
            tg->port = atoi(values[i]);
        } else if (!strcmp(keys[i], "pid")) {
            tg->pid = atoi(values[i]);
        } else if (!strcmp(keys[i], "path")) {
            snprintf(tg->path, sizeof tg->path, "%s", values[i]);
        } else if (ops->free_keys && !strcmp(keys[i], LIST_FIELD)) {
            if (split_list(values[i], kv, FAULT_MAX_PARAMS, nkv, err, errlen))
                return -1;
        } else if (*nkv < FAULT_MAX_PARAMS) {
            snprintf(kv[*nkv].key, sizeof kv->key, "%s", keys[i]);
            snprintf(kv[*nkv].val, sizeof kv->val, "%s", values[i]);
            (*nkv)++;
        }
    }
    if ((ops->targets & FAULT_TGT_PATH) && !tg->path[0])
        default_path(r, ops, tg->path, sizeof tg->path);
    /* Everything the parameter spec can tell before anything is journalled: a form
     * that does not validate is not a fault. */
    struct fault_params p;
    if (fault_params_parse(ops, kv, *nkv, &p, err, errlen) != 0)
        return -1;
    if ((ops->targets & FAULT_TGT_PORT) && (ops->targets & FAULT_TGT_REQUIRED) && tg->port <= 0) {
        snprintf(err, errlen, "port: required (the port the workload's peer listens on)");
        return -1;
    }
    if (ops->free_keys && *nkv == 0) {
        snprintf(err, errlen, LIST_FIELD ": give at least one KEY=VALUE (lr=10)");
        return -1;
    }
    /* and the kind's own pre-flight that acts on nothing (a dns fault without a host),
     * as a plan gets before its runs start */
    struct fault_spec spec = {.ops = ops, .params = p, .target = *tg, .for_ns = *for_ns};
    return fault_spec_preflight(&spec, err, errlen) == 0 ? 0 : -1;
}

int runner_fault_arm(struct runner *r, const char *kind, const char *const *keys,
                     const char *const *values, size_t n, int *id, char *err, size_t errlen)
{
    struct injector *inj = runner_injector(r);
    const struct fault_ops *ops = fault_find(kind);
    if (!inj || !ops) {
        snprintf(err, errlen, !inj ? "faults are not available: no fault journal" : "unknown fault kind");
        return -1;
    }
    struct fault_kv kv[FAULT_MAX_PARAMS];
    size_t nkv = 0;
    struct fault_target tg = {0};
    int64_t for_ns = 0;
    if (form_to_spec(r, ops, keys, values, n, kv, &nkv, &tg, &for_ns, err, errlen) != 0)
        return -1;
    int dummy;
    return injector_arm(inj, kind, kv, nkv, &tg, for_ns, id ? id : &dummy, err, errlen) ? -1 : 0;
}

/* ---- controls ---------------------------------------------------------------------------- */

int runner_fault_fire(struct runner *r, int id, char *err, size_t errlen)
{
    struct injector *inj = runner_injector(r);
    if (!inj) {
        snprintf(err, errlen, "faults are not available: no fault journal");
        return -1;
    }
    return injector_fire(inj, id, err, errlen) ? -1 : 0;
}

int runner_fault_stop(struct runner *r, int id, char *err, size_t errlen)
{
    struct injector *inj = runner_injector(r);
    if (!inj || injector_stop(inj, id) != 0) {
        snprintf(err, errlen, "could not stop it");
        return -1;
    }
    return 0;
}

void runner_fault_stop_all(struct runner *r)
{
    struct injector *inj = runner_injector(r);
    if (inj)
        injector_stop_all(inj);
}

int runner_restart_workload(struct runner *r, char *err, size_t errlen)
{
    return runner_restart_resume(r, false, err, errlen);
}

/* Workloads that resume from checkpoints of their own: where they keep them, what a
 * complete one holds, and the flag that asks for it.  One row per workload. */
static const struct resume_ops {
    const char *program;     /* argv[0]'s base name */
    const char *dir_option;  /* the option naming the checkpoint directory */
    const char *default_dir; /* without it */
    const char *prefix;      /* checkpoint directories: PREFIX + step */
    const char *state_file;  /* written into a checkpoint last */
    const char *flag;        /* resume from the latest checkpoint */
} resumable[] = {
    {"moni-train", "--output-dir", "moni-train-out", "checkpoint-", "trainer_state.json",
     "--resume"},
};

static const struct resume_ops *resume_ops_of(char *const *argv, const char **dir)
{
    if (!argv || !argv[0])
        return NULL;
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    for (size_t i = 0; i < MONI_ARRAY_LEN(resumable); i++) {
        const struct resume_ops *ro = &resumable[i];
        if (strcmp(base, ro->program))
            continue;
        size_t ol = strlen(ro->dir_option);
        *dir = ro->default_dir;
        for (size_t a = 1; argv[a]; a++)
            if (!strcmp(argv[a], ro->dir_option) && argv[a + 1])
                *dir = argv[++a];
            else if (!strncmp(argv[a], ro->dir_option, ol) && argv[a][ol] == '=')
                *dir = argv[a] + ol + 1;
        return ro;
    }
    return NULL;
}

int runner_resume_point(const struct runner *r, char *ckpt, size_t len)
{
    const char *dir = NULL;
    const struct resume_ops *ro = resume_ops_of(runner_argv(r), &dir);
    DIR *dp = ro ? opendir(dir) : NULL;
    if (!dp)
        return 0;
    long best = -1;
    size_t pl = strlen(ro->prefix);
    struct dirent *e;
    while ((e = readdir(dp))) {
        char *end, path[PATH_MAX];
        if (strncmp(e->d_name, ro->prefix, pl))
            continue;
        long step = strtol(e->d_name + pl, &end, 10);
        snprintf(path, sizeof path, "%s/%s/%s", dir, e->d_name, ro->state_file);
        if (*end || end == e->d_name + pl || step <= best || access(path, R_OK) != 0)
            continue;
        best = step;
        snprintf(ckpt, len, "%s/%s", dir, e->d_name);
    }
    closedir(dp);
    return best >= 0;
}

int runner_restart_resume(struct runner *r, bool resume, char *err, size_t errlen)
{
    struct session *s = runner_session(r);
    char ckpt[PATH_MAX] = "";
    const char *dir;
    const struct resume_ops *ro = resume_ops_of(runner_argv(r), &dir);
    if (resume && !runner_resume_point(r, ckpt, sizeof ckpt)) {
        snprintf(err, errlen, "no checkpoint to resume from");
        return -1;
    }
    char *const extra[] = {(char *)(ro ? ro->flag : ""), NULL};
    if (!s || session_restart_workload_with(s, resume ? extra : NULL, resume ? ckpt : NULL) != 0) {
        snprintf(err, errlen, "could not restart the workload");
        return -1;
    }
    struct injector *inj = runner_injector(r);
    if (inj)
        injector_set_workload(inj, session_workload(s)->pid);
    return 0;
}

/* ---- diagnosis -------------------------------------------------------------------------- */

/* The fused diagnosis of dir as text: live detections when a runner gives them. */
static char *diagnosis_text(const struct lp_rules *rules, const char *dir,
                            const struct runner *r, char *err, size_t errlen)
{
    struct det_config cfg;
    if (det_config_load(&cfg, NULL, err, errlen) < 0)
        return NULL;
    const struct detection *live = NULL;
    size_t nlive = r ? runner_detections(r, &live) : 0;
    struct run_diagnosis *rd = malloc(sizeof *rd);
    struct lp_diagnosis *logd =
        rd ? run_diagnose_dir(rules, dir, &cfg, r != NULL, live, nlive, rd, err, errlen) : NULL;
    det_config_free(&cfg);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = logd ? open_memstream(&buf, &len) : NULL;
    if (f) {
        if (rd->healthy)
            fprintf(f, "no failure found so far: %zu log events, %zu detections\n",
                    rd->nlog_events, rd->ndetections);
        else
            run_diagnosis_write_text(rd, f);
        fclose(f);
    } else if (logd) {
        snprintf(err, errlen, "out of memory");
    }
    lp_diagnosis_free(logd);
    free(rd);
    return buf;
}

char *runner_diagnose_dir(const struct lp_rules *rules, const char *dir, char *err, size_t errlen)
{
    if (rules)
        return diagnosis_text(rules, dir, NULL, err, errlen);
    char e[512];
    struct lp_rules *own = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN | LP_LOAD_USER, e, sizeof e);
    if (!own) {
        snprintf(err, errlen, "%.200s", e);
        return NULL;
    }
    char *t = diagnosis_text(own, dir, NULL, err, errlen);
    lp_rules_free(own);
    return t;
}

char *runner_diagnose(const struct runner *r, char *err, size_t errlen)
{
    const struct session *s = runner_session(r);
    const char *dir = s ? session_run_dir(s) : NULL;
    if (!dir) {
        snprintf(err, errlen, "no run directory");
        return NULL;
    }
    return diagnosis_text(runner_rules(r), dir, r, err, errlen);
}
