/* core/cmd-run.c — `moni run`: one headless run with --fault SPECs, or every
 * experiment of one or more plans through a queue (priorities, N at a time, a
 * resource gate before each start, retries with exponential backoff, cooldown, a
 * progress line per run).  Each plan's output directory gets one run directory per
 * experiment and runs.csv. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

#define MAX_LIST 64

struct run_opts {
    const char *out;
    int64_t interval_ns, duration_ns;
    char **plans;
    size_t nplans;
    char **faults;
    size_t nfaults;
    bool quick, force, quiet, dry_run;
    int jobs;
    const char *metrics_listen; /* --metrics-listen */
    char **argv;
};

struct run_item {
    const struct plan *plan;
    const struct plan_experiment *exp;
    char name[160];
    char dir[PATH_MAX];
    size_t plan_idx;
    int attempt;            /* 1-based */
    int64_t not_before;     /* monotonic: retry backoff */
    /* while running */
    struct runner *r;
    int64_t started, last_progress;
    /* result */
    bool done;
    char outcome[32];
    int exit;
    int64_t start_real, end_real;
    uint64_t fired;
};

struct queue {
    struct moni_loop *loop;
    struct run_item *items;
    size_t n;
    int jobs;
    struct plan_queue q;
    const struct run_opts *ro;
    bool interrupted;
    int64_t next_start;     /* cooldown: no start before */
    size_t finished;
    double done_seconds;    /* for the ETA */
    /* gate state */
    unsigned long long cpu_busy, cpu_total;
};


static int usage(const char *what)
{
    moni_err("run: %s (usage: moni %s)", what, cmd_run_entry.usage);
    return MONI_EXIT_USAGE;
}

static void default_out(const char *stem, char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, len, "runs/%s-%04d%02d%02dT%02d%02d%02dZ", stem, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- one run (no plan) ----------------------------------------------------------- */

static void on_signal_single(struct moni_loop *loop, int signo, void *arg)
{
    (void)loop;
    char why[48];
    snprintf(why, sizeof why, "signal SIG%s", sigabbrev_np(signo) ? sigabbrev_np(signo) : "?");
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

/* ---- the resource gate -------------------------------------------------------------- */

static bool read_cpu(unsigned long long *busy, unsigned long long *total)
{
    char buf[512];
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    bool ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    unsigned long long v[8] = {0};
    if (!ok || sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                      &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
        return false;
    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *total - v[3] - v[4];
    return true;
}

static double mem_used_pct(void)
{
    char *t = moni_read_file("/proc/meminfo", NULL);
    if (!t)
        return NAN;
    unsigned long long total = 0, avail = 0;
    char *p = strstr(t, "MemTotal:");
    if (p)
        sscanf(p, "MemTotal: %llu", &total);
    p = strstr(t, "MemAvailable:");
    if (p)
        sscanf(p, "MemAvailable: %llu", &avail);
    free(t);
    return total ? 100.0 * (1.0 - (double)avail / (double)total) : NAN;
}

static double disk_used_pct(const char *dir)
{
    struct statvfs vf;
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    while (statvfs(d, &vf) != 0) { /* the directory may not exist yet: its parents */
        char *s = strrchr(d, '/');
        if (!s || s == d)
            return statvfs(".", &vf) == 0 && vf.f_blocks
                       ? 100.0 * (1.0 - (double)vf.f_bavail / (double)vf.f_blocks) : NAN;
        *s = '\0';
    }
    return vf.f_blocks ? 100.0 * (1.0 - (double)vf.f_bavail / (double)vf.f_blocks) : NAN;
}

/* true when the machine is calm enough to start; why names what is over */
static bool gate_open(struct queue *qu, const char *dir, char *why, size_t len)
{
    unsigned long long b, t;
    double cpu = NAN;
    if (read_cpu(&b, &t)) {
        if (qu->cpu_total && t > qu->cpu_total)
            cpu = 100.0 * (double)(b - qu->cpu_busy) / (double)(t - qu->cpu_total);
        qu->cpu_busy = b;
        qu->cpu_total = t;
    }
    double mem = mem_used_pct(), disk = disk_used_pct(dir);
    if (cpu > qu->q.gate_cpu_pct) {
        snprintf(why, len, "CPU %.0f%% > %.0f%%", cpu, qu->q.gate_cpu_pct);
        return false;
    }
    if (mem > qu->q.gate_mem_pct) {
        snprintf(why, len, "memory %.0f%% > %.0f%%", mem, qu->q.gate_mem_pct);
        return false;
    }
    if (disk > qu->q.gate_disk_pct) {
        snprintf(why, len, "disk %.0f%% > %.0f%%", disk, qu->q.gate_disk_pct);
        return false;
    }
    return true;
}

/* ---- the queue ------------------------------------------------------------------------ */

static void fmt_eta(double s, char *buf, size_t len)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, len, "?");
    else
        moni_fmt_duration((int64_t)(s * 1e9), buf, len);
}

static double planned_s(const struct run_item *it)
{
    return it->exp->duration_ns ? (double)it->exp->duration_ns / 1e9 : 60.0;
}

static double eta_s(const struct queue *qu)
{
    double left = 0;
    for (size_t i = 0; i < qu->n; i++) {
        const struct run_item *it = &qu->items[i];
        if (it->done)
            continue;
        double p = planned_s(it);
        if (it->r) {
            double el = (double)(moni_mono_ns() - it->started) / 1e9;
            left += p > el ? p - el : 0;
        } else {
            left += p + (double)it->exp->cooldown_ns / 1e9;
        }
    }
    return left / (qu->jobs > 0 ? qu->jobs : 1);
}

static void progress(struct queue *qu, const struct run_item *it, const char *what)
{
    if (qu->ro->quiet)
        return;
    char eta[32];
    fmt_eta(eta_s(qu), eta, sizeof eta);
    fprintf(stderr, "moni: [%zu/%zu] %s: %s; plan ETA %s\n", qu->finished + (it->done ? 0 : 1),
            qu->n, it->name, what, eta);
}

static void on_signal_queue(struct moni_loop *loop, int signo, void *arg)
{
    (void)loop;
    struct queue *qu = arg;
    char why[48];
    snprintf(why, sizeof why, "signal SIG%s", sigabbrev_np(signo) ? sigabbrev_np(signo) : "?");
    qu->interrupted = true;
    for (size_t i = 0; i < qu->n; i++)
        if (qu->items[i].r)
            runner_stop(qu->items[i].r, why);
}

static size_t qu_active(const struct queue *qu)
{
    size_t n = 0;
    for (size_t i = 0; i < qu->n; i++)
        n += qu->items[i].r != NULL;
    return n;
}

static bool start_item(struct queue *qu, struct run_item *it)
{
    char err[1024];
    /* a retry gets a fresh directory; the failed attempt is kept beside it */
    if (it->attempt > 1) {
        char old[PATH_MAX + 32];
        snprintf(old, sizeof old, "%s.attempt%d", it->dir, it->attempt - 1);
        rename(it->dir, old);
    }
    struct runner_opts o = {
        .out_dir = it->dir,
        .force = qu->ro->force,
        .interval_ns = qu->ro->interval_ns,
        .duration_ns = qu->ro->duration_ns,
        .exp = it->exp,
        .plan_name = it->plan->name,
        .quiet = qu->ro->quiet,
        .keep_loop = true,
        /* One listener: with --jobs > 1 only runs that start while no other run is
         * active serve /metrics (two cannot bind one port). */
        .metrics_listen = qu_active(qu) == 0 ? qu->ro->metrics_listen : NULL,
    };
    it->start_real = moni_now().real_ns;
    bool usage_err = false;
    it->r = runner_new(qu->loop, &o, err, sizeof err, &usage_err);
    if (it->r && runner_start(it->r, err, sizeof err, &usage_err) == 0) {
        it->started = it->last_progress = moni_mono_ns();
        char what[128];
        snprintf(what, sizeof what, "started (attempt %d) in %s", it->attempt, it->dir);
        progress(qu, it, what);
        return true;
    }
    moni_warn("run %s: could not start: %s", it->name, err);
    if (it->r) {
        runner_free(it->r);
        it->r = NULL;
    }
    it->done = true;
    it->exit = -1;
    snprintf(it->outcome, sizeof it->outcome, "could_not_start");
    it->end_real = moni_now().real_ns;
    qu->finished++;
    progress(qu, it, "failed: workload could not start");
    return false;
}

static void finish_item(struct queue *qu, struct run_item *it)
{
    int status = runner_finish(it->r);
    it->fired = runner_fired(it->r);
    const struct session_workload *w = session_workload(runner_session(it->r));
    bool never_started = !w->starts;
    runner_free(it->r);
    it->r = NULL;
    it->end_real = moni_now().real_ns;
    it->exit = status;
    double took = (double)(moni_mono_ns() - it->started) / 1e9;
    const struct plan_experiment *e = it->exp;
    bool expected = e->nfaults || e->global_label || e->expected_failure_stage;
    if (qu->interrupted) {
        snprintf(it->outcome, sizeof it->outcome, "interrupted");
    } else if (never_started) {
        snprintf(it->outcome, sizeof it->outcome, "could_not_start");
    } else if (status == 0) {
        snprintf(it->outcome, sizeof it->outcome, "completed");
    } else if (expected && (it->fired || !e->nfaults)) {
        /* its own faults (or its bad configuration) made it fail: that is the data */
        snprintf(it->outcome, sizeof it->outcome, "failed_as_injected");
    } else if (it->attempt <= qu->q.retries) {
        int64_t backoff = qu->q.backoff_ns << (it->attempt - 1);
        char what[160], b[32];
        moni_fmt_duration(backoff, b, sizeof b);
        snprintf(what, sizeof what, "failed (exit %d) for reasons other than its faults; retry in %s",
                 status, b);
        progress(qu, it, what);
        it->attempt++;
        it->not_before = moni_mono_ns() + backoff;
        return; /* back in the queue */
    } else {
        snprintf(it->outcome, sizeof it->outcome, "failed");
    }
    it->done = true;
    qu->finished++;
    qu->done_seconds += took;
    char what[200];
    snprintf(what, sizeof what, "%s, exit %d, %.0fs", it->outcome, status, took);
    progress(qu, it, what);
    qu->next_start = moni_mono_ns() + e->cooldown_ns;
}

static int write_runs_csv(const struct queue *qu, const struct plan *p, const char *dir)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fputs("name,outcome,exit,global_label,experiment,attempts,faults_fired,start,end,run_dir\n", f);
    for (size_t i = 0; i < qu->n; i++) {
        const struct run_item *it = &qu->items[i];
        if (it->plan != p)
            continue;
        char a[MONI_ISO_LEN] = "", b[MONI_ISO_LEN] = "", ex[16] = "";
        if (it->start_real)
            moni_fmt_iso(it->start_real, a, sizeof a);
        if (it->end_real)
            moni_fmt_iso(it->end_real, b, sizeof b);
        if (it->done && it->exit >= 0)
            snprintf(ex, sizeof ex, "%d", it->exit);
        const char *base = strrchr(it->dir, '/');
        fprintf(f, "%s,%s,%s,%s,%s,%d,%llu,%s,%s,%s\n", it->name,
                it->done ? it->outcome : "not_run", ex,
                it->exp->global_label ? it->exp->global_label : "", it->exp->name, it->attempt,
                (unsigned long long)it->fired, a, b, base ? base + 1 : it->dir);
    }
    bool bad = ferror(f) != 0;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        bad = true;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int cmp_prio(const void *a, const void *b)
{
    const struct run_item *x = a, *y = b;
    if (x->exp->priority != y->exp->priority)
        return x->exp->priority > y->exp->priority ? -1 : 1;
    /* stable: plan order, then experiment order, then repeat */
    if (x->plan_idx != y->plan_idx)
        return x->plan_idx < y->plan_idx ? -1 : 1;
    return strcmp(x->name, y->name) < 0 ? -1 : strcmp(x->name, y->name) > 0;
}

static int run_plans(const struct run_opts *ro, struct plan **plans, size_t nplans)
{
    char base[PATH_MAX];
    if (ro->out)
        snprintf(base, sizeof base, "%s", ro->out);
    else
        default_out(nplans == 1 ? plans[0]->name : "plans", base, sizeof base);
    struct queue qu = {.ro = ro, .q = plans[0]->queue};
    qu.jobs = ro->jobs ? ro->jobs : plans[0]->queue.jobs;
    char (*pdirs)[PATH_MAX] = calloc(nplans, sizeof *pdirs);
    size_t total = 0;
    for (size_t p = 0; p < nplans; p++)
        for (size_t e = 0; e < plans[p]->nexps; e++)
            total += (size_t)plans[p]->exps[e].repeat;
    qu.items = calloc(total ? total : 1, sizeof *qu.items);
    if (!qu.items || !pdirs) {
        free(qu.items);
        free(pdirs);
        moni_err("run: out of memory");
        return MONI_EXIT_FAIL;
    }
    for (size_t p = 0; p < nplans; p++) {
        if (nplans == 1)
            snprintf(pdirs[p], PATH_MAX, "%s", base);
        else
            snprintf(pdirs[p], PATH_MAX, "%s/%s", base, plans[p]->name);
        if (moni_mkdir_p(pdirs[p], 0755) < 0) {
            moni_err("run: %s: %s", pdirs[p], strerror(errno));
            free(qu.items);
            free(pdirs);
            return MONI_EXIT_FAIL;
        }
        for (size_t e = 0; e < plans[p]->nexps; e++) {
            const struct plan_experiment *ex = &plans[p]->exps[e];
            for (int k = 1; k <= ex->repeat; k++) {
                struct run_item *it = &qu.items[qu.n++];
                it->plan = plans[p];
                it->exp = ex;
                it->plan_idx = p * 100000 + e;
                it->attempt = 1;
                if (ex->repeat > 1)
                    snprintf(it->name, sizeof it->name, "%s-%d", ex->name, k);
                else
                    snprintf(it->name, sizeof it->name, "%s", ex->name);
                snprintf(it->dir, sizeof it->dir, "%s/%s", pdirs[p], it->name);
            }
        }
    }
    qsort(qu.items, qu.n, sizeof *qu.items, cmp_prio);
    qu.loop = moni_loop_new();
    if (!qu.loop) {
        moni_err("run: cannot create the event loop");
        free(qu.items);
        free(pdirs);
        return MONI_EXIT_FAIL;
    }
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    moni_loop_on_signals(qu.loop, sigs, MONI_ARRAY_LEN(sigs), on_signal_queue, &qu);
    signal(SIGPIPE, SIG_IGN);
    if (!ro->quiet) {
        char eta[32];
        fmt_eta(eta_s(&qu), eta, sizeof eta);
        fprintf(stderr, "moni: %zu runs from %zu plan(s) into %s, %d at a time, ETA %s\n", qu.n,
                nplans, base, qu.jobs, eta);
    }
    unsigned long long b, t;
    if (read_cpu(&b, &t)) {
        qu.cpu_busy = b;
        qu.cpu_total = t;
    }
    int64_t gate_since = 0, last_gate_note = 0;
    for (;;) {
        size_t active = 0, pending = 0;
        for (size_t i = 0; i < qu.n; i++) {
            if (qu.items[i].r)
                active++;
            else if (!qu.items[i].done)
                pending++;
        }
        if (!active && (!pending || qu.interrupted))
            break;
        int64_t now = moni_mono_ns();
        if (!qu.interrupted && pending && (int)active < qu.jobs && now >= qu.next_start) {
            struct run_item *next = NULL;
            for (size_t i = 0; i < qu.n && !next; i++)
                if (!qu.items[i].r && !qu.items[i].done && now >= qu.items[i].not_before)
                    next = &qu.items[i];
            if (next) {
                char why[96];
                /* the gate looks at the machine between runs only: our own run's load
                 * must not hold the next one back when jobs > 1 */
                bool open = active > 0 || gate_open(&qu, next->dir, why, sizeof why);
                if (!open && !gate_since)
                    gate_since = now;
                if (!open && now - gate_since > qu.q.gate_max_wait_ns) {
                    moni_warn("run %s: starting anyway after waiting %llds (%s)", next->name,
                              (long long)((now - gate_since) / MONI_NS_PER_SEC), why);
                    open = true;
                }
                if (!open && !ro->quiet && now - last_gate_note > 10 * MONI_NS_PER_SEC) {
                    fprintf(stderr, "moni: waiting before %s: %s\n", next->name, why);
                    last_gate_note = now;
                }
                if (open) {
                    gate_since = 0;
                    if (!start_item(&qu, next))
                        qu.next_start = moni_mono_ns();
                    continue;
                }
            }
        }
        moni_loop_once(qu.loop, active ? 200 : 1000);
        for (size_t i = 0; i < qu.n; i++) {
            struct run_item *it = &qu.items[i];
            if (!it->r)
                continue;
            if (runner_done(it->r)) {
                finish_item(&qu, it);
                for (size_t p = 0; p < nplans; p++)
                    write_runs_csv(&qu, plans[p], pdirs[p]);
            } else if (!ro->quiet && moni_mono_ns() - it->last_progress > 30 * MONI_NS_PER_SEC) {
                double el, pl;
                runner_progress(it->r, &el, &pl);
                char what[96];
                if (pl > 0)
                    snprintf(what, sizeof what, "running %.0fs of %.0fs (%.0f%%)", el, pl,
                             100 * el / pl);
                else
                    snprintf(what, sizeof what, "running %.0fs", el);
                progress(&qu, it, what);
                it->last_progress = moni_mono_ns();
            }
        }
    }
    int rc = MONI_EXIT_OK;
    for (size_t p = 0; p < nplans; p++)
        if (write_runs_csv(&qu, plans[p], pdirs[p]) < 0) {
            moni_err("run: %s/runs.csv: cannot write", pdirs[p]);
            rc = MONI_EXIT_FAIL;
        }
    size_t bad = 0;
    for (size_t i = 0; i < qu.n; i++)
        if (!qu.items[i].done || !strcmp(qu.items[i].outcome, "failed") ||
            !strcmp(qu.items[i].outcome, "could_not_start") ||
            !strcmp(qu.items[i].outcome, "interrupted"))
            bad++;
    if (!ro->quiet)
        fprintf(stderr, "moni: %zu of %zu runs done%s; results in %s\n", qu.n - bad, qu.n,
                qu.interrupted ? " (interrupted)" : "", base);
    if (bad)
        rc = MONI_EXIT_FAIL;
    moni_loop_free(qu.loop);
    free(qu.items);
    free(pdirs);
    return rc;
}

static int cmd_run_exec(int argc, char **argv)
{
    struct run_opts ro = {0};
    char *plans[MAX_LIST], *faults[MAX_LIST], err[1024];
    ro.plans = plans;
    ro.faults = faults;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: moni %s\n", cmd_run_entry.usage);
            return MONI_EXIT_OK;
        }
        if (!strcmp(a, "--quick")) {
            ro.quick = true;
            continue;
        }
        if (!strcmp(a, "--force")) {
            ro.force = true;
            continue;
        }
        if (!strcmp(a, "--dry-run")) {
            ro.dry_run = true;
            continue;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            ro.quiet = true;
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--plan", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            if (ro.nplans == MAX_LIST)
                return usage("too many --plan");
            plans[ro.nplans++] = (char *)v;
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--fault", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            if (ro.nfaults == MAX_LIST)
                return usage("too many --fault");
            faults[ro.nfaults++] = (char *)v;
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            if (!*v)
                return usage("--out: empty directory name");
            ro.out = v;
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--interval", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            if (moni_parse_duration(v, &ro.interval_ns, err, sizeof err) < 0 ||
                ro.interval_ns < 10 * MONI_NS_PER_MS || ro.interval_ns > 60 * MONI_NS_PER_SEC) {
                moni_err("run: --interval %s: must be a duration between 10ms and 60s", v);
                return MONI_EXIT_USAGE;
            }
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--duration", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            if (moni_parse_duration(v, &ro.duration_ns, err, sizeof err) < 0 || ro.duration_ns <= 0) {
                moni_err("run: --duration %s: must be a duration more than 0", v);
                return MONI_EXIT_USAGE;
            }
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--metrics-listen", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            ro.metrics_listen = v;
            continue;
        }
        if ((m = moni_opt_value(argc, argv, &i, "--jobs", &v)) != 0) {
            if (m < 0)
                return MONI_EXIT_USAGE;
            long long n;
            if (moni_parse_int(v, 1, 64, &n, err, sizeof err) < 0) {
                moni_err("run: --jobs %s: %s", v, err);
                return MONI_EXIT_USAGE;
            }
            ro.jobs = (int)n;
            continue;
        }
        char what[300];
        snprintf(what, sizeof what,
                 a[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s' (put the command after --)",
                 a);
        return usage(what);
    }
    if (i < argc)
        ro.argv = argv + i;
    if (!ro.nplans)
        return run_single(&ro);
    if (ro.argv)
        return usage("-- CMD cannot be combined with --plan (set \"workload\" in the plan)");
    if (ro.nfaults)
        return usage("--fault cannot be combined with --plan (add the faults to the plan)");
    /* every plan is checked before anything starts */
    struct plan *loaded[MAX_LIST];
    for (size_t p = 0; p < ro.nplans; p++) {
        loaded[p] = plan_load(plans[p], ro.quick, err, sizeof err);
        if (!loaded[p]) {
            moni_err("%s", err);
            for (size_t k = 0; k < p; k++)
                plan_free(loaded[k]);
            return MONI_EXIT_USAGE;
        }
        for (size_t k = 0; k < p; k++)
            if (!strcmp(loaded[k]->name, loaded[p]->name)) {
                moni_err("%s: name: plan name '%s' used twice", plans[p], loaded[p]->name);
                for (size_t j = 0; j <= p; j++)
                    plan_free(loaded[j]);
                return MONI_EXIT_USAGE;
            }
    }
    /* the specs of plan faults are checked by the runner too: try them now */
    for (size_t p = 0; p < ro.nplans; p++)
        for (size_t e = 0; e < loaded[p]->nexps; e++) {
            struct runner_opts o = {.exp = &loaded[p]->exps[e]};
            if (runner_check(&o, err, sizeof err) < 0) {
                moni_err("%s: experiment %s: %s", plans[p], loaded[p]->exps[e].name, err);
                for (size_t k = 0; k < ro.nplans; k++)
                    plan_free(loaded[k]);
                return MONI_EXIT_USAGE;
            }
        }
    if (ro.dry_run) {
        /* what would run, in queue order per plan: checked, nothing started */
        for (size_t p = 0; p < ro.nplans; p++) {
            const struct plan *pl = loaded[p];
            printf("plan %s (%s): %zu experiments, %d at a time\n", pl->name, pl->path, pl->nexps,
                   ro.jobs ? ro.jobs : pl->queue.jobs);
            for (size_t e = 0; e < pl->nexps; e++) {
                const struct plan_experiment *x = &pl->exps[e];
                char d[32];
                moni_fmt_duration(ro.duration_ns ? ro.duration_ns : x->duration_ns, d, sizeof d);
                printf("  %s x%d prio %d, %s:", x->name, x->repeat, x->priority,
                       x->duration_ns || ro.duration_ns ? d : "until exit");
                for (size_t a = 0; x->argv[a]; a++)
                    printf(" %s", x->argv[a]);
                printf("\n");
                for (size_t f = 0; f < x->nfaults; f++) {
                    const struct plan_fault *pf = &x->faults[f];
                    char at[32], fo[32];
                    moni_fmt_duration(pf->when_event || pf->when_rule ? pf->delay_ns : pf->at_ns,
                                      at, sizeof at);
                    moni_fmt_duration(pf->for_ns, fo, sizeof fo);
                    printf("    fault %s:%s %s %s%s%s for %s\n", pf->kind, pf->params,
                           pf->when_event || pf->when_rule ? "after" : "at", at,
                           pf->when_event || pf->when_rule ? " after " : "",
                           pf->when_event ? pf->when_event : pf->when_rule ? pf->when_rule : "",
                           pf->for_ns ? fo : "the rest of the run");
                }
                if (x->global_label)
                    printf("    global label %s\n", x->global_label);
            }
        }
        for (size_t p = 0; p < ro.nplans; p++)
            plan_free(loaded[p]);
        return MONI_EXIT_OK;
    }
    int rc = run_plans(&ro, loaded, ro.nplans);
    for (size_t p = 0; p < ro.nplans; p++)
        plan_free(loaded[p]);
    return rc;
}

const struct cmd_entry cmd_run_entry = {
    .name = "run",
    .usage = "run [--plan FILE]... [--fault SPEC]... [--out DIR] [--interval D] [--duration D] "
             "[--quick] [--jobs N] [--metrics-listen [ADDR:]PORT] [--force] [--quiet] [--dry-run] [-- CMD ARGS...]",
    .summary = "headless run: one workload with faults, or every experiment of plans",
    .exec = cmd_run_exec,
};
