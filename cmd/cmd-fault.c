/* cmd/cmd-fault.c — `moni fault list` (the catalog of fault kinds, from the kinds'
 * parameter specs) and `moni fault run` (arm and fire faults now, journal them, stop
 * after --for or on Ctrl-C, print one line per journal event). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "faults/faults.h"

static const char *type_name(enum fault_param_type t)
{
    switch (t) {
    case FP_INT: return "int";
    case FP_DOUBLE: return "number";
    case FP_PERCENT: return "percent";
    case FP_SIZE: return "size";
    case FP_SIZE_PCT: return "size|pct";
    case FP_RATE: return "rate";
    case FP_DURATION: return "duration";
    case FP_BOOL: return "bool";
    case FP_ENUM: return "choice";
    case FP_SIGNAL: return "signal";
    case FP_CPULIST: return "cpulist";
    case FP_STRING: return "text";
    }
    return "?";
}

/* Limits are printed the way the parser reads them back ("1024T", not "1.00P";
 * "1m", not "1m00s"): a user may copy them into a SPEC. */
static const char *size_exact(double v, char *buf, size_t len)
{
    static const char units[] = "TGMK";
    unsigned long long n = (unsigned long long)llround(v);
    for (int i = 0; units[i]; i++) {
        unsigned long long m = 1ULL << (10 * (4 - i));
        if (n && n % m == 0) {
            snprintf(buf, len, "%llu%c", n / m, units[i]);
            return buf;
        }
    }
    snprintf(buf, len, "%lluB", n);
    return buf;
}

static const char *duration_exact(double seconds, char *buf, size_t len)
{
    long long ms = llround(seconds * 1000);
    if (ms && ms % 3600000 == 0)
        snprintf(buf, len, "%lldh", ms / 3600000);
    else if (ms && ms % 60000 == 0)
        snprintf(buf, len, "%lldm", ms / 60000);
    else if (ms && ms % 1000 == 0)
        snprintf(buf, len, "%llds", ms / 1000);
    else
        snprintf(buf, len, "%lldms", ms);
    return buf;
}

/* A number as the parameter parser reads it back: whole numbers in full ("1000000",
 * not "1e+06", which an int parameter refuses), others exactly. */
static const char *number_exact(double v, char *buf, size_t len)
{
    if (v == (double)(long long)v && v > -1e15 && v < 1e15)
        snprintf(buf, len, "%lld", (long long)v);
    else
        snprintf(buf, len, "%.15g", v);
    return buf;
}

static void limits_text(const struct fault_param *p, char *buf, size_t len)
{
    char a[32], b[32];
    buf[0] = 0;
    if (p->type == FP_ENUM) {
        snprintf(buf, len, "%s", p->choices);
        return;
    }
    if (p->min == 0 && p->max == 0)
        return;
    switch (p->type) {
    case FP_SIZE:
    case FP_RATE:
        snprintf(buf, len, "%s..%s%s", size_exact(p->min, a, sizeof a),
                 size_exact(p->max, b, sizeof b), p->type == FP_RATE ? "/s" : "");
        break;
    case FP_DURATION:
        snprintf(buf, len, "%s..%s", duration_exact(p->min, a, sizeof a),
                 duration_exact(p->max, b, sizeof b));
        break;
    case FP_PERCENT:
        snprintf(buf, len, "%g%%..%g%%", p->min, p->max);
        break;
    default:
        snprintf(buf, len, "%s..%s", number_exact(p->min, a, sizeof a),
                 number_exact(p->max, b, sizeof b));
    }
}

static void target_text(unsigned t, char *buf, size_t len)
{
    const char *req = (t & FAULT_TGT_REQUIRED) ? "" : " (optional)";
    if (t & FAULT_TGT_PID)
        snprintf(buf, len, "--target PID (default: the workload)");
    else if (t & FAULT_TGT_PORT)
        snprintf(buf, len, "--port N%s", req);
    else if (t & FAULT_TGT_PATH)
        snprintf(buf, len, "--path P%s", req);
    else
        snprintf(buf, len, "none");
}

static int fault_list(struct cmd_args *a)
{
    guardian_warn_leftovers();
    const char *only = a->npos ? a->pos[0] : NULL;
    for (size_t k = 0; k < fault_table_len; k++) {
        const struct fault_ops *o = fault_table[k];
        if (only && strcmp(only, o->name))
            continue;
        char tgt[80];
        target_text(o->targets, tgt, sizeof tgt);
        printf("%s — %s\n", o->name, o->summary);
        printf("  target: %s   privileges: %s   label: %s   dose: %s\n", tgt, o->privileges,
               o->label_kind, o->dose_unit);
        printf("  undo: %s\n", o->undo);
        if (o->free_keys)
            printf("  KEY=VALUE          any key, written as a line into the control file "
                   "(undo_KEY=VALUE at stop)\n");
        for (size_t i = 0; i < o->nparams; i++) {
            const struct fault_param *p = &o->params[i];
            char lim[64], left[64];
            limits_text(p, lim, sizeof lim);
            snprintf(left, sizeof left, "%s=%s", p->key, p->def ? p->def : "-");
            printf("  %-18s %-9s %-4s %-22s %s\n", left, type_name(p->type), p->unit, lim, p->help);
        }
        printf("\n");
    }
    if (only && !fault_find(only)) {
        moni_err("fault list: unknown fault kind '%s'", only);
        return MONI_EXIT_USAGE;
    }
    printf("Every fault also takes --for D (window) and stops at the hard maximum (--max, "
           "default 10m).\nSee moni-faults(7).\n");
    return MONI_EXIT_OK;
}

static volatile sig_atomic_t stop_requested;
static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void print_event(struct injector *inj, const struct fault_info *fi, enum fault_event ev,
                        const char *json_line, void *arg)
{
    (void)inj;
    (void)arg;
    char iso[MONI_ISO_LEN], req[32] = "", del[32] = "-";
    const char *ts = strstr(json_line, "\"timestamp\":\"");
    snprintf(iso, sizeof iso, "%.24s", ts ? ts + 13 : "");
    bool bytes = !strcmp(fi->dose_unit, "bytes") || !strcmp(fi->dose_unit, "Bps");
    const char *unit = !strcmp(fi->dose_unit, "bytes") ? "" : !strcmp(fi->dose_unit, "Bps") ? "/s"
                                                                                    : fi->dose_unit;
    if (bytes)
        moni_fmt_bytes(fi->requested_dose, req, sizeof req);
    else
        snprintf(req, sizeof req, "%g", fi->requested_dose);
    if (fi->delivered_valid && bytes)
        moni_fmt_bytes(fi->delivered_dose, del, sizeof del);
    else if (fi->delivered_valid)
        snprintf(del, sizeof del, "%.4g", fi->delivered_dose);
    printf("%s %-4s %-9s %-9s requested %s%s%s, delivered %s%s%s", iso, fi->id_str,
           fault_event_name(ev), fi->ops->name, req, bytes ? "" : " ", unit, del,
           fi->delivered_valid && !bytes ? " " : "", fi->delivered_valid ? unit : "");
    if (ev == FAULT_EV_EFFECTIVE && fi->fired_ns)
        printf(", %.1f ms after fire", (double)(fi->effective_ns - fi->fired_ns) / 1e6);
    if (ev == FAULT_EV_ARMED && fi->target[0])
        printf(", target %s", fi->target);
    const char *lp = strstr(json_line, "\"listen_port\":");
    if (ev == FAULT_EV_ARMED && lp)
        printf(", listening on 127.0.0.1:%d", atoi(lp + 14));
    if (ev == FAULT_EV_FAILED && fi->error[0])
        printf(": %s", fi->error);
    printf("\n");
    fflush(stdout);
}

#define MAX_SPECS 16 /* --spec given more often is an error, not a drop */

/* What `fault run` was asked for, checked before anything is armed. */
struct fault_request {
    const char *out, *kind;
    struct fault_target tgt;
    struct fault_kv kv[FAULT_MAX_PARAMS];
    size_t nkv;
    struct fault_spec sp[MAX_SPECS];
    size_t nspecs;
    int64_t for_ns, max_ns;
};

/* --target/--port/--path into r->tgt; -1 after an error. */
static int read_target(const struct cmd_args *a, struct fault_request *r)
{
    const char *v;
    char err[256];
    long long n;
    if ((v = cmd_arg(a, "target"))) {
        if (moni_parse_int(v, 1, INT_MAX, &n, err, sizeof err)) {
            moni_err("fault run: --target %s: %s", v, err);
            return -1;
        }
        r->tgt.pid = (pid_t)n;
    }
    if ((v = cmd_arg(a, "port"))) {
        if (moni_parse_int(v, 1, 65535, &n, err, sizeof err)) {
            moni_err("fault run: --port %s: %s", v, err);
            return -1;
        }
        r->tgt.port = (int)n;
    }
    if ((v = cmd_arg(a, "path")))
        snprintf(r->tgt.path, sizeof r->tgt.path, "%s", v);
    r->tgt.allow_any = cmd_flag(a, "allow-any");
    return 0;
}

/* --for and --max; -1 after an error. */
static int read_durations(const struct cmd_args *a, struct fault_request *r)
{
    const char *for_s = cmd_arg(a, "for"), *max_s = cmd_arg(a, "max");
    char err[256] = "";
    if (for_s && (moni_parse_duration(for_s, &r->for_ns, err, sizeof err) || r->for_ns <= 0)) {
        moni_err("fault run: --for %s: %s", for_s, err[0] ? err : "must be positive");
        return -1;
    }
    if (max_s && (moni_parse_duration(max_s, &r->max_ns, err, sizeof err) || r->max_ns <= 0)) {
        moni_err("fault run: --max %s: %s", max_s, err[0] ? err : "must be positive");
        return -1;
    }
    return 0;
}

/* KIND and its key=value parameters: the first positional without '=' is the kind. */
static int read_kind(const struct cmd_args *a, struct fault_request *r)
{
    char err[512];
    for (int i = 0; i < a->npos; i++) {
        if (!r->kind && !strchr(a->pos[i], '=')) {
            r->kind = a->pos[i];
            continue;
        }
        size_t got;
        if (r->nkv >= FAULT_MAX_PARAMS ||
            fault_kv_split(a->pos[i], '\0', r->kv + r->nkv, FAULT_MAX_PARAMS - r->nkv, &got, err,
                           sizeof err)) {
            moni_err("fault run: %s", r->nkv >= FAULT_MAX_PARAMS ? "too many parameters" : err);
            return -1;
        }
        r->nkv += got;
    }
    if (!r->kind && cmd_arg_count(a, "spec") == 0) {
        moni_err("fault run: missing KIND (see 'moni fault list')");
        return -1;
    }
    if (r->kind && !fault_find(r->kind)) {
        const char *names[64];
        size_t n = 0;
        for (size_t k = 0; k < fault_table_len && n < MONI_ARRAY_LEN(names); k++)
            names[n++] = fault_table[k]->name;
        const char *hint = cmd_suggest(r->kind, names, n);
        if (hint)
            moni_err("fault run: unknown fault kind '%s' (did you mean '%s'?)", r->kind, hint);
        else
            moni_err("fault run: unknown fault kind '%s' (see 'moni fault list')", r->kind);
        return -1;
    }
    return 0;
}

/* The kind's parameters and target (no workload here: a kind that needs a target
 * must be given one), and every --spec. */
static int check_request(const struct cmd_args *a, struct fault_request *r)
{
    char err[512];
    const char *specs[MAX_SPECS];
    r->nspecs = cmd_arg_list(a, "spec", specs, MAX_SPECS);
    for (size_t i = 0; i < r->nspecs; i++)
        if (fault_spec_parse(specs[i], &r->sp[i], err, sizeof err)) {
            moni_err("fault run: %s", err);
            return -1;
        }
    if (!r->kind)
        return 0;
    struct fault_params p;
    const struct fault_ops *ops = fault_find(r->kind);
    if (fault_params_parse(ops, r->kv, r->nkv, &p, err, sizeof err)) {
        moni_err("fault run: %s", err);
        return -1;
    }
    const char *missing = NULL;
    unsigned t = ops->targets;
    if ((t & FAULT_TGT_REQUIRED) && (t & FAULT_TGT_PID) && r->tgt.pid <= 0)
        missing = "give --target PID";
    else if ((t & FAULT_TGT_REQUIRED) && (t & FAULT_TGT_PORT) && r->tgt.port <= 0)
        missing = "give --port N";
    else if ((t & FAULT_TGT_REQUIRED) && (t & FAULT_TGT_PATH) && !r->tgt.path[0])
        missing = "give --path P";
    if (missing) {
        moni_err("fault run: %s: missing target: %s", r->kind, missing);
        return -1;
    }
    return 0;
}

static void catch_stop_signals(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGINT);
    sigaddset(&unblock, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

/* Arms every spec and the KIND, fires them, waits until they stop (--for, their
 * maximum, or a signal).  Returns the exit status. */
static int arm_fire_wait(struct injector *inj, struct fault_request *r)
{
    char err[512];
    int rc = MONI_EXIT_OK, ids[MAX_SPECS + 1], nids = 0;
    for (size_t i = 0; i <= r->nspecs && rc == MONI_EXIT_OK; i++) {
        int id = 0, e;
        if (i < r->nspecs) {
            if (r->sp[i].for_ns == 0)
                r->sp[i].for_ns = r->for_ns;
            if (r->tgt.allow_any)
                r->sp[i].target.allow_any = true;
            e = injector_arm_spec(inj, &r->sp[i], &id, err, sizeof err);
        } else if (r->kind) {
            e = injector_arm(inj, r->kind, r->kv, r->nkv, &r->tgt, r->for_ns, &id, err, sizeof err);
        } else {
            break;
        }
        if (e) {
            moni_err("fault run: %s", err);
            rc = e == FAULT_ERR_USAGE ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
            break;
        }
        ids[nids++] = id;
    }
    for (int i = 0; i < nids && rc == MONI_EXIT_OK; i++)
        if (injector_fire(inj, ids[i], err, sizeof err)) {
            moni_err("fault run: %s", err);
            rc = MONI_EXIT_FAIL;
        }
    while (rc == MONI_EXIT_OK && !stop_requested && injector_poll(inj) > 0)
        moni_sleep_ns(10 * MONI_NS_PER_MS);
    if (stop_requested)
        injector_stop_all(inj);
    for (size_t i = 0; i < injector_count(inj); i++) {
        struct fault_info fi;
        if (injector_info(inj, i, &fi) && fi.state == FAULT_FAILED && rc == MONI_EXIT_OK)
            rc = MONI_EXIT_FAIL;
    }
    return rc;
}

/* --run DIR: the faults act on the run in DIR as if its own runner fired them: the
 * journal is DIR/faults.jsonl, the default target its workload (meta.json), paths
 * its directory (a knob: its control file).  How rank 0 of a cluster job fires a
 * plan's fault on another node (moni-plan(5) CLUSTER FAULTS).  -1 after an error. */
static int read_run_dir(const char *dir, struct fault_request *r)
{
    char err[RUNDIR_ERR_LEN];
    struct rundir_meta m = {0};
    if (rundir_meta_load(dir, &m, err, sizeof err) < 0) {
        moni_err("fault run: --run %s", err);
        return -1;
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(m.root, "workload");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(w, "pid");
    if (r->tgt.pid <= 0 && cJSON_IsNumber(pid) && pid->valuedouble > 1)
        r->tgt.pid = (pid_t)pid->valuedouble;
    rundir_meta_free(&m);
    for (size_t i = 0; i < r->nspecs; i++) {
        struct fault_target *t = &r->sp[i].target;
        if (t->path[0] || !(r->sp[i].ops->targets & FAULT_TGT_PATH))
            continue;
        snprintf(t->path, sizeof t->path, "%s%s", dir, r->sp[i].ops->control_file ? "/control" : "");
    }
    r->out = dir;
    return 0;
}

static int fault_run(struct cmd_args *a)
{
    static struct fault_request r; /* large (specs with their parameters): off the stack */
    memset(&r, 0, sizeof r);
    r.out = cmd_arg(a, "out") ? cmd_arg(a, "out") : ".";
    /* Validate everything before anything is armed. */
    if (read_target(a, &r) < 0 || read_kind(a, &r) < 0 || read_durations(a, &r) < 0 ||
        check_request(a, &r) < 0)
        return MONI_EXIT_USAGE;
    if (cmd_arg(a, "run") && read_run_dir(cmd_arg(a, "run"), &r) < 0)
        return MONI_EXIT_USAGE;
    char err[512], journal[PATH_MAX];
    if (moni_mkdir_p(r.out, 0755)) {
        moni_err("fault run: --out %s: %s", r.out, strerror(errno));
        return MONI_EXIT_FAIL;
    }
    snprintf(journal, sizeof journal, "%s/faults.jsonl", r.out);
    struct injector *inj = injector_new(journal, NULL, err, sizeof err);
    if (!inj) {
        moni_err("fault run: %s", err);
        return MONI_EXIT_FAIL;
    }
    /* The process the user named is the workload: its tree is fair game. */
    if (r.tgt.pid > 0)
        injector_set_workload(inj, r.tgt.pid);
    else
        for (size_t i = 0; i < r.nspecs; i++)
            if (r.sp[i].target.pid > 0) {
                injector_set_workload(inj, r.sp[i].target.pid);
                break;
            }
    if (r.max_ns)
        injector_set_max_duration(inj, r.max_ns);
    if (cmd_arg(a, "id-prefix") && injector_set_id_prefix(inj, cmd_arg(a, "id-prefix")) < 0) {
        moni_err("fault run: --id-prefix %s: at most 7 of a-z, 0-9 and '-'", cmd_arg(a, "id-prefix"));
        injector_free(inj);
        return MONI_EXIT_USAGE;
    }
    injector_on_event(inj, print_event, NULL);
    catch_stop_signals();
    printf("journal: %s\n", journal);
    fflush(stdout);
    int rc = arm_fire_wait(inj, &r);
    injector_free(inj);
    return rc;
}

static const struct cmd_opt list_opts[] = {{0}};
static const struct cmd_opt run_opts[] = {
    {"target", 0, "PID", 0, "the process to act on (its tree counts as the workload)"},
    {"port", 0, "N", 0, "net faults: the port of the peer"},
    {"path", 0, "P", 0, "disk_fill/io: a directory; knob: the control file"},
    {"allow-any", 0, NULL, 0, "allow a PID outside the named process's tree"},
    {"spec", 0, "SPEC", MAX_SPECS, "a fault as KIND[:key=value,...][@AT][+FOR]"},
    {"for", 0, "D", 0, "how long each fault fires (default: until Ctrl-C or --max)"},
    {"max", 0, "D", 0, "hard maximum per fault (default 10m)"},
    {"out", 0, "DIR", 0, "where faults.jsonl is written (default .)"},
    {"run", 0, "DIR", 0, "act on the run in DIR: its journal, workload and directory"},
    {"id-prefix", 0, "P", 0, "fault ids PfN instead of fN (a cluster fault from rank 0)"},
    {0},
};

static const struct cmd_entry fault_list_entry = {
    .name = "list",
    .usage = "fault list [KIND]",
    .summary = "the catalog of fault kinds: parameters, units, limits, targets",
    .args = {.opts = list_opts, .max_pos = 1, .pos_name = "KIND"},
    .exec = fault_list,
};
static const struct cmd_entry fault_run_entry = {
    .name = "run",
    .usage = "fault run KIND [key=value...] [--target PID|--port N|--path P]\n"
             "            [--allow-any] [--spec SPEC]... [--for D] [--max D] [--out DIR|--run DIR]\n"
             "            [--id-prefix P]",
    .summary = "arm and fire faults now, journal them, stop after --for or on Ctrl-C",
    .args = {.opts = run_opts, .max_pos = 1 + FAULT_MAX_PARAMS, .pos_name = "KIND key=value"},
    .exec = fault_run,
};
static const struct cmd_entry *const fault_subs[] = {&fault_list_entry, &fault_run_entry, NULL};

const struct cmd_entry cmd_fault_entry = {
    .name = "fault",
    .usage = "fault list [KIND] | fault run KIND [key=value...] [--target PID|--port N|--path P]\n"
             "            [--allow-any] [--spec SPEC]... [--for D] [--max D] [--out DIR]",
    .summary = "list fault kinds or fire faults now",
    .subs = fault_subs,
};
