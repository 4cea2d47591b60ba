/* cmd/cmd-run.c — `moni run`: one headless run with --fault SPECs, or every
 * experiment of one or more plans through the experiment queue (core/queue.c:
 * priorities, N at a time, the resource gate, retries, cooldown, runs.csv).  This
 * file only reads the command line, checks the plans and drives the queue. */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/core.h"

#define MAX_LIST 64

struct run_opts {
    const char *out;
    int64_t interval_ns, duration_ns;
    const char *plans[MAX_LIST];
    size_t nplans;
    char *faults[MAX_LIST];
    size_t nfaults;
    bool quick, force, quiet, dry_run, no_inject;
    int jobs;
    const char *metrics_listen; /* --metrics-listen */
    char **argv;
    const char *out_pattern;    /* --out as given (%n, %j, %t unexpanded) */
    char out_buf[PATH_MAX];     /* --out expanded for this node */
};

static void default_out(const char *stem, char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, len, "runs/%s-%04d%02d%02dT%02d%02d%02dZ", stem, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void signal_why(int signo, char *why, size_t len)
{
    snprintf(why, len, "signal SIG%s", sigabbrev_np(signo) ? sigabbrev_np(signo) : "?");
}

/* ---- one run (no plan) ----------------------------------------------------------- */

static void on_signal_single(struct moni_loop *loop, int signo, void *arg)
{
    (void)loop;
    char why[48];
    signal_why(signo, why, sizeof why);
    runner_stop(arg, why);
}

static int run_single(const struct run_opts *ro)
{
    char out[PATH_MAX], err[1024];
    if (ro->out)
        snprintf(out, sizeof out, "%s", ro->out);
    else
        default_out("run", out, sizeof out);
    struct moni_loop *loop = moni_loop_new();
    if (!loop) {
        moni_err("run: cannot create the event loop");
        return MONI_EXIT_FAIL;
    }
    struct runner_opts o = {
        .out_dir = out,
        .force = ro->force,
        .interval_ns = ro->interval_ns,
        .duration_ns = ro->duration_ns,
        .argv = ro->argv,
        .fault_specs = ro->faults,
        .nfault_specs = ro->nfaults,
        .quiet = ro->quiet,
        .no_inject = ro->no_inject,
        .metrics_listen = ro->metrics_listen,
    };
    bool usage_err = false;
    struct runner *r = runner_new(loop, &o, err, sizeof err, &usage_err);
    if (!r) {
        moni_err("run: %s", err);
        moni_loop_free(loop);
        return usage_err ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    moni_loop_on_signals(loop, sigs, MONI_ARRAY_LEN(sigs), on_signal_single, r);
    signal(SIGPIPE, SIG_IGN);
    if (runner_start(r, err, sizeof err, &usage_err) < 0) {
        moni_err("run: %s", err);
        runner_free(r);
        moni_loop_free(loop);
        return usage_err ? MONI_EXIT_USAGE : MONI_EXIT_FAIL;
    }
    if (!ro->quiet)
        fprintf(stderr, "moni: run %s: started\n", out);
    if (!runner_done(r))
        moni_loop_run(loop);
    int status = runner_finish(r);
    if (!ro->quiet)
        fprintf(stderr, "moni: run %s: finished, exit %d\n", out, status);
    runner_free(r);
    moni_loop_free(loop);
    return status;
}

/* ---- a queue of plans --------------------------------------------------------------- */

static void on_signal_queue(struct moni_loop *loop, int signo, void *arg)
{
    (void)loop;
    char why[48];
    signal_why(signo, why, sizeof why);
    queue_abort(arg, why);
}

/* After the last run of a plan: its detectors.csv (trained on the baseline runs). */
static void plan_detectors(const struct queue *qu, const struct plan *pl, bool quiet)
{
    size_t n = queue_len(qu), k = 0;
    const char **runs = calloc(n + 1, sizeof *runs);
    char dir[PATH_MAX] = "", msg[PATH_MAX + 512];
    struct queue_item_info it;
    for (size_t i = 0; runs && i < n; i++)
        if (queue_item(qu, i, &it) && it.plan == pl && it.state == QUEUE_ITEM_DONE)
            runs[k++] = it.dir;
    if (k) {
        snprintf(dir, sizeof dir, "%s", runs[0]);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        int rc = detect_plan_csv(dir, runs, k, 0, msg, sizeof msg);
        if (rc < 0)
            moni_warn("%s", msg);
        else if (!quiet)
            fprintf(stderr, "moni: %s\n", msg);
    }
    free(runs);
}

static int run_plans(const struct run_opts *ro, struct plan **plans, size_t nplans)
{
    char base[PATH_MAX], err[1024];
    if (ro->out)
        snprintf(base, sizeof base, "%s", ro->out);
    else
        default_out(nplans == 1 ? plans[0]->name : "plans", base, sizeof base);
    struct moni_loop *loop = moni_loop_new();
    if (!loop) {
        moni_err("run: cannot create the event loop");
        return MONI_EXIT_FAIL;
    }
    struct queue_opts qo = {
        .out = base, .force = ro->force, .quiet = ro->quiet, .no_inject = ro->no_inject,
        .interval_ns = ro->interval_ns,
        .duration_ns = ro->duration_ns, .jobs = ro->jobs, .metrics_listen = ro->metrics_listen,
        .out_pattern = ro->out_pattern,
    };
    struct queue *qu = queue_new(loop, plans, nplans, &qo, err, sizeof err);
    if (!qu) {
        moni_err("run: %s", err);
        moni_loop_free(loop);
        return MONI_EXIT_FAIL;
    }
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    moni_loop_on_signals(loop, sigs, MONI_ARRAY_LEN(sigs), on_signal_queue, qu);
    signal(SIGPIPE, SIG_IGN);
    while (queue_step(qu))
        moni_loop_once(loop, queue_wait_ms(qu));
    int rc = queue_finish(qu);
    struct queue_progress qp;
    queue_progress(qu, &qp);
    for (size_t p = 0; p < nplans && !qp.interrupted; p++)
        plan_detectors(qu, plans[p], ro->quiet);
    queue_free(qu);
    moni_loop_free(loop);
    return rc;
}

/* ---- the command line ------------------------------------------------------------------ */

/* Reads the options into ro; -1 after a one-line error. */
static int run_options(const struct cmd_args *a, struct run_opts *ro)
{
    char err[512];
    const char *v;
    ro->quick = cmd_flag(a, "quick");
    ro->force = cmd_flag(a, "force");
    ro->dry_run = cmd_flag(a, "dry-run");
    ro->quiet = cmd_flag(a, "quiet");
    ro->no_inject = cmd_flag(a, "no-inject");
    ro->nplans = cmd_arg_list(a, "plan", ro->plans, MAX_LIST);
    ro->nfaults = cmd_arg_list(a, "fault", (const char **)ro->faults, MAX_LIST);
    ro->metrics_listen = cmd_arg(a, "metrics-listen");
    ro->argv = a->cmd;
    if ((ro->out = cmd_arg(a, "out")) && !*ro->out)
        return cmd_usage_error(a, "--out: empty directory name"), -1;
    if (ro->out) { /* --out DIR/%n: one directory per node of a Slurm job */
        if (node_expand_out_here(ro->out, ro->out_buf, sizeof ro->out_buf, err, sizeof err) < 0) {
            moni_err("run: --out %s", err);
            return -1;
        }
        ro->out_pattern = ro->out;
        ro->out = ro->out_buf;
    }
    if ((v = cmd_arg(a, "interval")) &&
        (moni_parse_duration(v, &ro->interval_ns, err, sizeof err) < 0 ||
         ro->interval_ns < 10 * MONI_NS_PER_MS || ro->interval_ns > 60 * MONI_NS_PER_SEC)) {
        moni_err("run: --interval %s: must be a duration between 10ms and 60s", v);
        return -1;
    }
    if ((v = cmd_arg(a, "duration")) &&
        (moni_parse_duration(v, &ro->duration_ns, err, sizeof err) < 0 || ro->duration_ns <= 0)) {
        moni_err("run: --duration %s: must be a duration more than 0", v);
        return -1;
    }
    if ((v = cmd_arg(a, "jobs"))) {
        long long n;
        if (moni_parse_int(v, 1, 64, &n, err, sizeof err) < 0) {
            moni_err("run: --jobs %s: %s", v, err);
            return -1;
        }
        ro->jobs = (int)n;
    }
    if (ro->nplans && ro->argv)
        return cmd_usage_error(a, "-- CMD cannot be combined with --plan (set \"workload\" in the plan)"), -1;
    if (ro->nplans && ro->nfaults)
        return cmd_usage_error(a, "--fault cannot be combined with --plan (add the faults to the plan)"), -1;
    return 0;
}

static void free_plans(struct plan **loaded, size_t n)
{
    for (size_t k = 0; k < n; k++)
        plan_free(loaded[k]);
}

/* Loads and checks every plan (names unique, fault specs valid) before anything
 * starts; -1 after a one-line error. */
static int load_plans(const struct run_opts *ro, struct plan **loaded)
{
    char err[1024];
    for (size_t p = 0; p < ro->nplans; p++) {
        loaded[p] = plan_load(ro->plans[p], ro->quick, err, sizeof err);
        if (!loaded[p]) {
            moni_err("%s", err);
            free_plans(loaded, p);
            return -1;
        }
        for (size_t k = 0; k < p; k++)
            if (!strcmp(loaded[k]->name, loaded[p]->name)) {
                moni_err("%s: name: plan name '%s' used twice", ro->plans[p], loaded[p]->name);
                free_plans(loaded, p + 1);
                return -1;
            }
    }
    /* the specs of plan faults are checked by the runner too: try them now */
    for (size_t p = 0; p < ro->nplans; p++)
        for (size_t e = 0; e < loaded[p]->nexps; e++) {
            struct runner_opts o = {.exp = &loaded[p]->exps[e], .plan_path = ro->plans[p]};
            if (runner_check(&o, err, sizeof err) < 0) {
                moni_err("%s", err);
                free_plans(loaded, ro->nplans);
                return -1;
            }
        }
    return 0;
}

/* --dry-run: what would run, in plan order: checked, nothing started. */
static void print_plans(const struct run_opts *ro, struct plan *const *loaded)
{
    for (size_t p = 0; p < ro->nplans; p++) {
        const struct plan *pl = loaded[p];
        printf("plan %s (%s): %zu experiments, %d at a time\n", pl->name, pl->path, pl->nexps,
               ro->jobs ? ro->jobs : pl->queue.jobs);
        for (size_t e = 0; e < pl->nexps; e++) {
            const struct plan_experiment *x = &pl->exps[e];
            char d[32];
            moni_fmt_duration(ro->duration_ns ? ro->duration_ns : x->duration_ns, d, sizeof d);
            printf("  %s x%d prio %d, %s:", x->name, x->repeat, x->priority,
                   x->duration_ns || ro->duration_ns ? d : "until exit");
            for (size_t a = 0; x->argv[a]; a++)
                printf(" %s", x->argv[a]);
            printf("\n");
            for (size_t f = 0; f < x->nfaults; f++) {
                const struct plan_fault *pf = &x->faults[f];
                bool trig = pf->when_event || pf->when_rule;
                char at[32], fo[32];
                moni_fmt_duration(trig ? pf->delay_ns : pf->at_ns, at, sizeof at);
                moni_fmt_duration(pf->for_ns, fo, sizeof fo);
                printf("    fault %s:%s %s %s%s%s for %s\n", pf->kind, pf->params,
                       trig ? "after" : "at", at, trig ? " after " : "",
                       pf->when_event ? pf->when_event : pf->when_rule ? pf->when_rule : "",
                       pf->for_ns ? fo : "the rest of the run");
            }
            if (x->global_label)
                printf("    global label %s\n", x->global_label);
        }
    }
}

/* --dry-run of a single run: the faults checked like a real run checks them, then
 * what would run; nothing is created and nothing starts. */
static int print_single(const struct run_opts *ro)
{
    char out[PATH_MAX], err[1024];
    struct runner_opts o = {.fault_specs = ro->faults, .nfault_specs = ro->nfaults};
    if (runner_check(&o, err, sizeof err) < 0) {
        moni_err("run: %s", err);
        return MONI_EXIT_USAGE;
    }
    if (ro->out)
        snprintf(out, sizeof out, "%s", ro->out);
    else
        default_out("run", out, sizeof out);
    char d[32], iv[32];
    moni_fmt_duration(ro->duration_ns, d, sizeof d);
    moni_fmt_duration(ro->interval_ns ? ro->interval_ns : MONI_NS_PER_SEC, iv, sizeof iv);
    printf("run %s: every %s, %s:", out, iv, ro->duration_ns ? d : "until exit");
    if (!ro->argv || !ro->argv[0])
        printf(" moni-train");
    for (size_t i = 0; ro->argv && ro->argv[i]; i++)
        printf(" %s", ro->argv[i]);
    printf("\n");
    for (size_t i = 0; i < ro->nfaults; i++)
        printf("  fault %s\n", ro->faults[i]);
    return MONI_EXIT_OK;
}

static int cmd_run_exec(struct cmd_args *a)
{
    struct run_opts ro = {0};
    if (run_options(a, &ro) < 0 || cmd_prometheus_sd(a) < 0)
        return MONI_EXIT_USAGE;
    if (!ro.nplans)
        return ro.dry_run ? print_single(&ro) : run_single(&ro);
    struct plan *loaded[MAX_LIST];
    if (load_plans(&ro, loaded) < 0)
        return MONI_EXIT_USAGE;
    int rc = MONI_EXIT_OK;
    if (ro.dry_run)
        print_plans(&ro, loaded);
    else
        rc = run_plans(&ro, loaded, ro.nplans);
    free_plans(loaded, ro.nplans);
    return rc;
}

static const struct cmd_opt run_opts_spec[] = {
    {"plan", 0, "FILE", MAX_LIST, "run every experiment of this plan (moni-plan(5))"},
    {"fault", 0, "SPEC", MAX_LIST, "a fault for a single run: KIND[:key=value,...]@AT[+FOR]"},
    {"out", 0, "DIR", 0, "run (or plan output) directory (default runs/NAME-TIME; %n node, %j job, %t rank)"},
    {"interval", 0, "D", 0, "sampling period, 10ms..60s (default 1s or the plan's)"},
    {"duration", 0, "D", 0, "stop each run after this long"},
    {"quick", 0, NULL, 0, "apply the plans' \"quick\" overrides"},
    {"jobs", 0, "N", 0, "plan runs at a time, 1..64 (default: the plan's)"},
    {"metrics-listen", 0, "[ADDR:]PORT", 0, "serve Prometheus /metrics here"},
    CMD_PROMETHEUS_SD_OPT,
    {"force", 0, NULL, 0, "accept an existing, non-empty --out"},
    {"quiet", 'q', NULL, 0, "no progress lines"},
    {"no-inject", 0, NULL, 0, "no preload library in the workload (no fs/dns/connect/clock faults)"},
    {"dry-run", 0, NULL, 0, "check the faults and plans and print what would run"},
    {0},
};

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .usage = "run [--plan FILE]... [--fault SPEC]... [--out DIR] [--interval D] [--duration D] "
             "[--quick] [--jobs N] [--metrics-listen [ADDR:]PORT] [--prometheus-sd FILE] [--force] [--quiet] [--dry-run] [-- CMD ARGS...]",
    .summary = "headless run: one workload with faults, or every experiment of plans",
    .args = {.opts = run_opts_spec, .command = true},
    .exec = cmd_run_exec,
};
