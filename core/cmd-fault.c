/* core/cmd-fault.c — `moni fault list` (the catalog of fault kinds, from the kinds'
 * parameter specs) and `moni fault run` (arm and fire faults now, journal them, stop
 * after --for or on Ctrl-C, print one line per journal event). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        snprintf(buf, len, "%s..%s%s", moni_fmt_bytes(p->min, a, sizeof a),
                 moni_fmt_bytes(p->max, b, sizeof b), p->type == FP_RATE ? "/s" : "");
        break;
    case FP_DURATION:
        snprintf(buf, len, "%s..%s", moni_fmt_duration((int64_t)(p->min * 1e9), a, sizeof a),
                 moni_fmt_duration((int64_t)(p->max * 1e9), b, sizeof b));
        break;
    case FP_PERCENT:
        snprintf(buf, len, "%g%%..%g%%", p->min, p->max);
        break;
    default:
        snprintf(buf, len, "%g..%g", p->min, p->max);
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

static int fault_list(int argc, char **argv)
{
    const char *only = argc > 2 ? argv[2] : NULL;
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

static int fault_run(int argc, char **argv)
{
    const char *out = ".", *for_s = NULL, *max_s = NULL, *v;
    struct fault_target tgt = {0};
    const char *kind = NULL;
    struct fault_kv kv[FAULT_MAX_PARAMS];
    size_t nkv = 0;
    const char *specs[16];
    size_t nspecs = 0;
    char err[512];
    long long n;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = moni_opt_value(argc, argv, &i, "--out", &out)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
        } else if ((r = moni_opt_value(argc, argv, &i, "--for", &for_s)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
        } else if ((r = moni_opt_value(argc, argv, &i, "--max", &max_s)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
        } else if ((r = moni_opt_value(argc, argv, &i, "--spec", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            if (nspecs < MONI_ARRAY_LEN(specs))
                specs[nspecs++] = v;
        } else if ((r = moni_opt_value(argc, argv, &i, "--target", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            if (moni_parse_int(v, 1, INT_MAX, &n, err, sizeof err)) {
                moni_err("fault run: --target %s: %s", v, err);
                return MONI_EXIT_USAGE;
            }
            tgt.pid = (pid_t)n;
        } else if ((r = moni_opt_value(argc, argv, &i, "--port", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            if (moni_parse_int(v, 1, 65535, &n, err, sizeof err)) {
                moni_err("fault run: --port %s: %s", v, err);
                return MONI_EXIT_USAGE;
            }
            tgt.port = (int)n;
        } else if ((r = moni_opt_value(argc, argv, &i, "--path", &v)) != 0) {
            if (r < 0)
                return MONI_EXIT_USAGE;
            snprintf(tgt.path, sizeof tgt.path, "%s", v);
        } else if (!strcmp(argv[i], "--allow-any")) {
            tgt.allow_any = true;
        } else if (argv[i][0] == '-') {
            moni_err("fault run: unknown option '%s'", argv[i]);
            return MONI_EXIT_USAGE;
        } else if (!kind && !strchr(argv[i], '=')) {
            kind = argv[i];
        } else {
            size_t got;
            if (nkv >= FAULT_MAX_PARAMS ||
                fault_kv_split(argv[i], '\0', kv + nkv, FAULT_MAX_PARAMS - nkv, &got, err,
                               sizeof err)) {
                moni_err("fault run: %s", nkv >= FAULT_MAX_PARAMS ? "too many parameters" : err);
                return MONI_EXIT_USAGE;
            }
            nkv += got;
        }
    }
    if (!kind && nspecs == 0) {
        moni_err("fault run: missing KIND (see 'moni fault list')");
        return MONI_EXIT_USAGE;
    }
    if (kind && !fault_find(kind)) {
        moni_err("fault run: unknown fault kind '%s' (see 'moni fault list')", kind);
        return MONI_EXIT_USAGE;
    }
    int64_t for_ns = 0, max_ns = 0;
    if (for_s && (moni_parse_duration(for_s, &for_ns, err, sizeof err) || for_ns <= 0)) {
        moni_err("fault run: --for %s: %s", for_s, err[0] ? err : "must be positive");
        return MONI_EXIT_USAGE;
    }
    if (max_s && (moni_parse_duration(max_s, &max_ns, err, sizeof err) || max_ns <= 0)) {
        moni_err("fault run: --max %s: %s", max_s, err[0] ? err : "must be positive");
        return MONI_EXIT_USAGE;
    }
    /* Validate everything before anything is armed. */
    struct fault_spec *sp = calloc(nspecs + 1, sizeof *sp);
    if (!sp)
        return MONI_EXIT_FAIL;
    for (size_t i = 0; i < nspecs; i++)
        if (fault_spec_parse(specs[i], &sp[i], err, sizeof err)) {
            moni_err("fault run: %s", err);
            free(sp);
            return MONI_EXIT_USAGE;
        }
    if (kind) {
        struct fault_params p;
        const struct fault_ops *ops = fault_find(kind);
        if (fault_params_parse(ops, kv, nkv, &p, err, sizeof err)) {
            moni_err("fault run: %s", err);
            free(sp);
            return MONI_EXIT_USAGE;
        }
        /* No workload here: a kind that needs a target must be given one. */
        const char *missing = NULL;
        if ((ops->targets & FAULT_TGT_REQUIRED) && (ops->targets & FAULT_TGT_PID) && tgt.pid <= 0)
            missing = "give --target PID";
        else if ((ops->targets & FAULT_TGT_REQUIRED) && (ops->targets & FAULT_TGT_PORT) &&
                 tgt.port <= 0)
            missing = "give --port N";
        else if ((ops->targets & FAULT_TGT_REQUIRED) && (ops->targets & FAULT_TGT_PATH) &&
                 !tgt.path[0])
            missing = "give --path P";
        if (missing) {
            moni_err("fault run: %s: missing target: %s", kind, missing);
            free(sp);
            return MONI_EXIT_USAGE;
        }
    }
    if (moni_mkdir_p(out, 0755)) {
        moni_err("fault run: --out %s: %s", out, strerror(errno));
        free(sp);
        return MONI_EXIT_FAIL;
    }
    char journal[PATH_MAX];
    snprintf(journal, sizeof journal, "%s/faults.jsonl", out);
    struct injector *inj = injector_new(journal, NULL, err, sizeof err);
    if (!inj) {
        moni_err("fault run: %s", err);
        free(sp);
        return MONI_EXIT_FAIL;
    }
    /* The process the user named is the workload: its tree is fair game. */
    if (tgt.pid > 0)
        injector_set_workload(inj, tgt.pid);
    else
        for (size_t i = 0; i < nspecs; i++)
            if (sp[i].target.pid > 0) {
                injector_set_workload(inj, sp[i].target.pid);
                break;
            }
    if (max_ns)
        injector_set_max_duration(inj, max_ns);
    injector_on_event(inj, print_event, NULL);
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

    int rc = MONI_EXIT_OK, ids[17], nids = 0;
    printf("journal: %s\n", journal);
    fflush(stdout);
    for (size_t i = 0; i <= nspecs && rc == MONI_EXIT_OK; i++) {
        int id = 0, r;
        if (i < nspecs) {
            if (sp[i].for_ns == 0)
                sp[i].for_ns = for_ns;
            if (tgt.allow_any)
                sp[i].target.allow_any = true;
            r = injector_arm_spec(inj, &sp[i], &id, err, sizeof err);
        } else if (kind) {
            r = injector_arm(inj, kind, kv, nkv, &tgt, for_ns, &id, err, sizeof err);
        } else {
            break;
        }
        if (r) {
            moni_err("fault run: %s", err);
            rc = r == FAULT_ERR_USAGE ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
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
    struct injector_stats st;
    injector_stats(inj, &st);
    for (size_t i = 0; i < injector_count(inj); i++) {
        struct fault_info fi;
        if (!injector_info(inj, i, &fi))
            continue;
        if (fi.state == FAULT_FAILED && rc == MONI_EXIT_OK)
            rc = MONI_EXIT_FAIL;
    }
    injector_free(inj);
    free(sp);
    return rc;
}

static int cmd_fault_exec(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout, "usage: moni %s\n", cmd_fault_entry.usage);
        return argc < 2 ? MONI_EXIT_USAGE : MONI_EXIT_OK;
    }
    if (!strcmp(argv[1], "list")) {
        guardian_warn_leftovers();
        return fault_list(argc, argv);
    }
    if (!strcmp(argv[1], "run"))
        return fault_run(argc, argv);
    moni_err("fault: unknown subcommand '%s' (list or run)", argv[1]);
    return MONI_EXIT_USAGE;
}

const struct cmd_entry cmd_fault_entry = {
    .name = "fault",
    .usage = "fault list [KIND] | fault run KIND [key=value...] [--target PID|--port N|--path P]\n"
             "            [--allow-any] [--spec SPEC]... [--for D] [--max D] [--out DIR]",
    .summary = "list fault kinds or fire faults now",
    .exec = cmd_fault_exec,
};
