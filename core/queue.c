/* core/queue.c — the experiment queue: every experiment of one or more plans as
 * runs (repeats expanded), ordered by priority, N at a time, a resource gate
 * before each start, retries with exponential backoff for failures its own faults
 * did not cause, cooldown between runs, a progress line per step and runs.csv in
 * each plan's output directory.  `moni run --plan` and the console drive the same
 * queue: the first lets it start runners itself (queue_step), the second claims
 * the current item, runs it in its own view and reports the result. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/core.h"

struct queue_item {
    const struct plan *plan;
    const struct plan_experiment *exp;
    struct plan_experiment *run_exp; /* exp with {run_dir} expanded, for its runner */
    char name[160];
    char dir[PATH_MAX];
    size_t plan_idx;
    int attempt;            /* 1-based */
    int64_t not_before;     /* monotonic: retry backoff */
    /* while running */
    struct runner *r;       /* when the queue runs it */
    bool claimed;           /* when a caller runs it (queue_claim) */
    bool skip;              /* queue_skip on a running item */
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
    struct queue_opts o;
    struct queue_item *items;
    size_t n;
    struct plan *const *plans;
    size_t nplans;
    char (*pdirs)[PATH_MAX]; /* output directory per plan */
    char base[PATH_MAX];
    int jobs;
    struct plan_queue q;
    bool interrupted;
    int64_t next_start;     /* cooldown: no start before */
    size_t finished;
    int64_t gate_since, last_gate_note;
    unsigned long long cpu_busy, cpu_total; /* gate state */
};

static int write_all_csv(const struct queue *qu, bool report);

/* ---- the resource gate -------------------------------------------------------------- */

static bool read_cpu(unsigned long long *busy, unsigned long long *total)
{
    struct procfs_cpu_times t;
    if (procfs_read_cpu_total(&t) < 0)
        return false;
    *total = t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
    *busy = *total - t.idle - t.iowait;
    return true;
}

static double mem_used_pct(void)
{
    int64_t total, avail;
    if (procfs_read_meminfo_field("MemTotal", &total) < 0 ||
        procfs_read_meminfo_field("MemAvailable", &avail) < 0 || total <= 0)
        return NAN;
    return 100.0 * (1.0 - (double)avail / (double)total);
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

/* ---- progress ------------------------------------------------------------------------ */

static void fmt_eta(double s, char *buf, size_t len)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, len, "?");
    else
        moni_fmt_duration((int64_t)(s * 1e9), buf, len);
}

static double planned_s(const struct queue_item *it)
{
    return it->exp->duration_ns ? (double)it->exp->duration_ns / 1e9 : 60.0;
}

static bool item_running(const struct queue_item *it)
{
    return it->r || it->claimed;
}

static double eta_s(const struct queue *qu)
{
    double left = 0;
    for (size_t i = 0; i < qu->n; i++) {
        const struct queue_item *it = &qu->items[i];
        if (it->done)
            continue;
        double p = planned_s(it);
        if (item_running(it)) {
            double el = (double)(moni_mono_ns() - it->started) / 1e9;
            left += p > el ? p - el : 0;
        } else {
            left += p + (double)it->exp->cooldown_ns / 1e9;
        }
    }
    return left / (qu->jobs > 0 ? qu->jobs : 1);
}

static void progress(struct queue *qu, const struct queue_item *it, const char *what)
{
    if (qu->o.quiet)
        return;
    char eta[32];
    fmt_eta(eta_s(qu), eta, sizeof eta);
    fprintf(stderr, "moni: [%zu/%zu] %s: %s; plan ETA %s\n", qu->finished + (it->done ? 0 : 1),
            qu->n, it->name, what, eta);
}

void queue_progress(const struct queue *qu, struct queue_progress *p)
{
    memset(p, 0, sizeof *p);
    p->total = qu->n;
    p->finished = qu->finished;
    for (size_t i = 0; i < qu->n; i++)
        p->running += item_running(&qu->items[i]);
    p->eta_s = eta_s(qu);
    p->interrupted = qu->interrupted;
}

/* ---- creating ------------------------------------------------------------------------ */

static int cmp_prio(const void *a, const void *b)
{
    const struct queue_item *x = a, *y = b;
    if (x->exp->priority != y->exp->priority)
        return x->exp->priority > y->exp->priority ? -1 : 1;
    /* stable: plan order, then experiment order, then repeat */
    if (x->plan_idx != y->plan_idx)
        return x->plan_idx < y->plan_idx ? -1 : 1;
    return strcmp(x->name, y->name) < 0 ? -1 : strcmp(x->name, y->name) > 0;
}

static void add_items(struct queue *qu, size_t p)
{
    const struct plan *pl = qu->plans[p];
    for (size_t e = 0; e < pl->nexps; e++) {
        const struct plan_experiment *ex = &pl->exps[e];
        for (int k = 1; k <= ex->repeat; k++) {
            struct queue_item *it = &qu->items[qu->n++];
            it->plan = pl;
            it->exp = ex;
            it->plan_idx = p * 100000 + e;
            it->attempt = 1;
            if (ex->repeat > 1)
                snprintf(it->name, sizeof it->name, "%s-%d", ex->name, k);
            else
                snprintf(it->name, sizeof it->name, "%s", ex->name);
            snprintf(it->dir, sizeof it->dir, "%s/%s", qu->pdirs[p], it->name);
        }
    }
}

struct queue *queue_new(struct moni_loop *loop, struct plan *const *plans, size_t nplans,
                        const struct queue_opts *o, char *err, size_t errlen)
{
    if (!nplans || !o->out) {
        snprintf(err, errlen, "no plan or no output directory");
        return NULL;
    }
    struct queue *qu = calloc(1, sizeof *qu);
    size_t total = 0;
    for (size_t p = 0; p < nplans; p++)
        for (size_t e = 0; e < plans[p]->nexps; e++)
            total += (size_t)plans[p]->exps[e].repeat;
    if (qu) {
        qu->items = calloc(total ? total : 1, sizeof *qu->items);
        qu->pdirs = calloc(nplans, sizeof *qu->pdirs);
    }
    if (!qu || !qu->items || !qu->pdirs) {
        snprintf(err, errlen, "out of memory");
        queue_free(qu);
        return NULL;
    }
    qu->loop = loop;
    qu->o = *o;
    qu->plans = plans;
    qu->nplans = nplans;
    qu->q = plans[0]->queue;
    qu->jobs = o->jobs ? o->jobs : plans[0]->queue.jobs;
    snprintf(qu->base, sizeof qu->base, "%s", o->out);
    for (size_t p = 0; p < nplans; p++) {
        if (nplans == 1)
            snprintf(qu->pdirs[p], PATH_MAX, "%s", qu->base);
        else
            snprintf(qu->pdirs[p], PATH_MAX, "%s/%s", qu->base, plans[p]->name);
        if (moni_mkdir_p(qu->pdirs[p], 0755) < 0) {
            snprintf(err, errlen, "%s: %s", qu->pdirs[p], strerror(errno));
            queue_free(qu);
            return NULL;
        }
        add_items(qu, p);
    }
    qsort(qu->items, qu->n, sizeof *qu->items, cmp_prio);
    unsigned long long b, t;
    if (read_cpu(&b, &t)) {
        qu->cpu_busy = b;
        qu->cpu_total = t;
    }
    if (!o->quiet) {
        char eta[32];
        fmt_eta(eta_s(qu), eta, sizeof eta);
        fprintf(stderr, "moni: %zu runs from %zu plan(s) into %s, %d at a time, ETA %s\n", qu->n,
                nplans, qu->base, qu->jobs, eta);
    }
    return qu;
}

void queue_free(struct queue *qu)
{
    if (!qu)
        return;
    for (size_t i = 0; i < qu->n; i++) {
        runner_free(qu->items[i].r);
        plan_experiment_in_free(qu->items[i].run_exp);
    }
    free(qu->items);
    free(qu->pdirs);
    free(qu);
}

/* ---- one item's life ------------------------------------------------------------------ */

static size_t count_running(const struct queue *qu)
{
    size_t n = 0;
    for (size_t i = 0; i < qu->n; i++)
        n += item_running(&qu->items[i]);
    return n;
}

/* A retry gets a fresh directory; the failed attempt is kept beside it. */
static void begin_item(struct queue_item *it)
{
    if (it->attempt > 1) {
        char old[PATH_MAX + 32];
        snprintf(old, sizeof old, "%s.attempt%d", it->dir, it->attempt - 1);
        rename(it->dir, old);
    }
    it->start_real = moni_now().real_ns;
    it->started = it->last_progress = moni_mono_ns();
}

static void end_item(struct queue *qu, struct queue_item *it, const char *outcome, int status)
{
    it->done = true;
    it->exit = status;
    it->end_real = moni_now().real_ns;
    snprintf(it->outcome, sizeof it->outcome, "%s", outcome);
    qu->finished++;
}

static bool start_item(struct queue *qu, struct queue_item *it)
{
    char err[1024];
    begin_item(it);
    char pattern[PATH_MAX + 64] = ""; /* the others' run directories: --out as given + /NAME */
    if (qu->o.out_pattern)
        snprintf(pattern, sizeof pattern, "%s%s", qu->o.out_pattern, it->dir + strlen(qu->base));
    plan_experiment_in_free(it->run_exp); /* an earlier attempt's */
    if (!(it->run_exp = plan_experiment_in(it->exp, it->dir))) {
        moni_warn("run %s: could not start: out of memory", it->name);
        end_item(qu, it, "could_not_start", -1);
        return false;
    }
    struct runner_opts o = {
        .out_dir = it->dir,
        .out_pattern = pattern[0] ? pattern : NULL,
        .plan_path = it->plan->path,
        .force = qu->o.force,
        .interval_ns = qu->o.interval_ns,
        .duration_ns = qu->o.duration_ns,
        .exp = it->run_exp,
        .plan_name = it->plan->name,
        .quiet = qu->o.quiet,
        .no_inject = qu->o.no_inject,
        .keep_loop = true,
        /* One listener: with jobs > 1 only runs that start while no other run is
         * active serve /metrics (two cannot bind one port). */
        .metrics_listen = count_running(qu) == 0 ? qu->o.metrics_listen : NULL,
    };
    bool usage_err = false;
    it->r = runner_new(qu->loop, &o, err, sizeof err, &usage_err);
    if (it->r && runner_start(it->r, err, sizeof err, &usage_err) == 0) {
        char what[128];
        snprintf(what, sizeof what, "started (attempt %d) in %s", it->attempt, it->dir);
        progress(qu, it, what);
        return true;
    }
    moni_warn("run %s: could not start: %s", it->name, err);
    runner_free(it->r);
    it->r = NULL;
    end_item(qu, it, "could_not_start", -1);
    progress(qu, it, "failed: workload could not start");
    return false;
}

/* The outcome of a run that ended with status: done, or back in the queue for a
 * retry (false). */
static void settle_item(struct queue *qu, struct queue_item *it, int status, bool never_started)
{
    double took = (double)(moni_mono_ns() - it->started) / 1e9;
    const struct plan_experiment *e = it->exp;
    bool expected = e->nfaults || e->global_label || e->expected_failure_stage;
    const char *outcome;
    if (it->skip) {
        outcome = "skipped";
    } else if (qu->interrupted) {
        outcome = "interrupted";
    } else if (never_started) {
        outcome = "could_not_start";
    } else if (status == 0) {
        outcome = "completed";
    } else if (expected && (it->fired || !e->nfaults)) {
        /* its own faults (or its bad configuration) made it fail: that is the data */
        outcome = "failed_as_injected";
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
        outcome = "failed";
    }
    end_item(qu, it, outcome, status);
    char what[200];
    snprintf(what, sizeof what, "%s, exit %d, %.0fs", it->outcome, status, took);
    progress(qu, it, what);
    qu->next_start = moni_mono_ns() + e->cooldown_ns;
}

static void finish_item(struct queue *qu, struct queue_item *it)
{
    int status = runner_finish(it->r);
    it->fired = runner_fired(it->r);
    bool never_started = !session_workload(runner_session(it->r))->starts;
    runner_free(it->r);
    it->r = NULL;
    settle_item(qu, it, status, never_started);
}

/* ---- driving it ------------------------------------------------------------------------ */

long queue_current(const struct queue *qu)
{
    int64_t now = moni_mono_ns();
    for (size_t i = 0; i < qu->n; i++) {
        const struct queue_item *it = &qu->items[i];
        if (!item_running(it) && !it->done && now >= it->not_before)
            return (long)i;
    }
    return -1;
}

/* Starts the next item when a slot is free, the cooldown is over and the gate is
 * open (or has been closed for too long). */
static bool maybe_start(struct queue *qu, size_t active)
{
    int64_t now = moni_mono_ns();
    if (qu->interrupted || (int)active >= qu->jobs || now < qu->next_start)
        return false;
    long k = queue_current(qu);
    if (k < 0)
        return false;
    struct queue_item *next = &qu->items[k];
    char why[96] = "";
    /* the gate looks at the machine between runs only: our own run's load must not
     * hold the next one back when jobs > 1 */
    bool open = active > 0 || gate_open(qu, next->dir, why, sizeof why);
    if (!open && !qu->gate_since)
        qu->gate_since = now;
    if (!open && now - qu->gate_since > qu->q.gate_max_wait_ns) {
        moni_warn("run %s: starting anyway after waiting %llds (%s)", next->name,
                  (long long)((now - qu->gate_since) / MONI_NS_PER_SEC), why);
        open = true;
    }
    if (!open && !qu->o.quiet && now - qu->last_gate_note > 10 * MONI_NS_PER_SEC) {
        fprintf(stderr, "moni: waiting before %s: %s\n", next->name, why);
        qu->last_gate_note = now;
    }
    if (!open)
        return false;
    qu->gate_since = 0;
    if (!start_item(qu, next))
        qu->next_start = moni_mono_ns();
    return true;
}

static void note_running(struct queue *qu, struct queue_item *it)
{
    if (qu->o.quiet || moni_mono_ns() - it->last_progress <= 30 * MONI_NS_PER_SEC)
        return;
    double el, pl;
    runner_progress(it->r, &el, &pl);
    char what[96];
    if (pl > 0)
        snprintf(what, sizeof what, "running %.0fs of %.0fs (%.0f%%)", el, pl, 100 * el / pl);
    else
        snprintf(what, sizeof what, "running %.0fs", el);
    progress(qu, it, what);
    it->last_progress = moni_mono_ns();
}

bool queue_step(struct queue *qu)
{
    bool changed = false;
    for (size_t i = 0; i < qu->n; i++) {
        struct queue_item *it = &qu->items[i];
        if (!it->r)
            continue;
        if (runner_done(it->r)) {
            finish_item(qu, it);
            changed = true;
        } else {
            note_running(qu, it);
        }
    }
    if (changed)
        write_all_csv(qu, false);
    /* as many as there are free slots (a run that could not start frees its slot) */
    while (maybe_start(qu, count_running(qu)))
        ;
    size_t active = count_running(qu), pending = 0;
    for (size_t i = 0; i < qu->n; i++)
        pending += !item_running(&qu->items[i]) && !qu->items[i].done;
    return active || (pending && !qu->interrupted);
}

int queue_wait_ms(const struct queue *qu)
{
    return count_running(qu) ? 200 : 1000;
}

int queue_claim(struct queue *qu, size_t idx)
{
    if (idx >= qu->n || item_running(&qu->items[idx]) || qu->items[idx].done)
        return -1;
    struct queue_item *it = &qu->items[idx];
    begin_item(it);
    it->claimed = true;
    progress(qu, it, "started");
    return 0;
}

void queue_report(struct queue *qu, size_t idx, int status, uint64_t fired, bool never_started)
{
    if (idx >= qu->n || !qu->items[idx].claimed)
        return;
    struct queue_item *it = &qu->items[idx];
    it->claimed = false;
    it->fired = fired;
    settle_item(qu, it, status, never_started);
    write_all_csv(qu, false);
}

int queue_skip(struct queue *qu, size_t idx)
{
    if (idx >= qu->n || qu->items[idx].done)
        return -1;
    struct queue_item *it = &qu->items[idx];
    it->skip = true;
    if (it->r) {
        runner_stop(it->r, "skipped");
        return 0; /* settled as skipped when it is done */
    }
    if (it->claimed)
        return 0; /* the caller stops it and reports */
    end_item(qu, it, "skipped", -1);
    progress(qu, it, "skipped");
    write_all_csv(qu, false);
    return 0;
}

void queue_abort(struct queue *qu, const char *why)
{
    qu->interrupted = true;
    for (size_t i = 0; i < qu->n; i++)
        if (qu->items[i].r)
            runner_stop(qu->items[i].r, why);
}

size_t queue_len(const struct queue *qu)
{
    return qu->n;
}

bool queue_item(const struct queue *qu, size_t idx, struct queue_item_info *info)
{
    if (idx >= qu->n)
        return false;
    const struct queue_item *it = &qu->items[idx];
    *info = (struct queue_item_info){
        .name = it->name, .dir = it->dir, .plan = it->plan, .exp = it->exp,
        .state = it->done ? QUEUE_ITEM_DONE : item_running(it) ? QUEUE_ITEM_RUNNING
                                                               : QUEUE_ITEM_PENDING,
        .outcome = it->outcome, .attempt = it->attempt, .exit = it->exit, .fired = it->fired,
        .runner = it->r,
    };
    return true;
}

const char *queue_dir(const struct queue *qu)
{
    return qu->base;
}

/* ---- runs.csv ------------------------------------------------------------------------- */

static int write_plan_csv(const struct queue *qu, const struct plan *p, const char *dir)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fputs("name,outcome,exit,global_label,experiment,attempts,faults_fired,start,end,run_dir\n", f);
    for (size_t i = 0; i < qu->n; i++) {
        const struct queue_item *it = &qu->items[i];
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

/* Every plan's runs.csv; report: say which one could not be written. */
static int write_all_csv(const struct queue *qu, bool report)
{
    int rc = 0;
    for (size_t p = 0; p < qu->nplans; p++)
        if (write_plan_csv(qu, qu->plans[p], qu->pdirs[p]) < 0) {
            if (report)
                moni_err("run: %s/runs.csv: cannot write", qu->pdirs[p]);
            rc = -1;
        }
    return rc;
}

int queue_write_runs_csv(struct queue *qu)
{
    return write_all_csv(qu, true);
}

int queue_finish(struct queue *qu)
{
    int rc = queue_write_runs_csv(qu) < 0 ? MONI_EXIT_FAIL : MONI_EXIT_OK;
    size_t bad = 0;
    for (size_t i = 0; i < qu->n; i++)
        if (!qu->items[i].done || !strcmp(qu->items[i].outcome, "failed") ||
            !strcmp(qu->items[i].outcome, "could_not_start") ||
            !strcmp(qu->items[i].outcome, "interrupted"))
            bad++;
    if (!qu->o.quiet)
        fprintf(stderr, "moni: %zu of %zu runs done%s; results in %s\n", qu->n - bad, qu->n,
                qu->interrupted ? " (interrupted)" : "", qu->base);
    return bad ? MONI_EXIT_FAIL : rc;
}
