/* core/core.h — what core/ exports above the base layer: sources, session, recorder,
 * exporter, alerts, plans, the runner and the experiment queue.  The command
 * front-ends live in cmd/ (cmd/cmd.h), above core.
 *
 * core/ may include faults/ and logparse/ headers; it never includes tui/ or cmd/.
 * faults/ and logparse/ never include this header, only core/base.h. */
#ifndef MONI_CORE_H
#define MONI_CORE_H

#include "core/base.h"
#include "core/rundir.h" /* the run directory's files: records, readers, writers */
#include "core/detect.h"

/* ---- what the exporter and the alert engine see besides the frame ---------------
 * (core/exporter.c, core/alerts.c).  Plain arrays the session fills each tick; the
 * strings are only read during the call they are passed to. */
struct moni_train_metric {  /* latest value of a training metric parsed from the log */
    const char *name;       /* "loss", "learning_rate", "throughput", "step", "epoch",
                               "grad_norm", "eval_loss", "eval_accuracy", ... */
    double value;           /* NaN and +-Inf are kept as such */
    int64_t updated_mono_ns; /* when it last changed (0 = unknown) */
};
struct moni_event_count {   /* log events so far, by root-cause label or event name */
    const char *label;
    uint64_t count;
};
struct moni_fault_state {   /* one fault instance of the session */
    const char *kind;       /* "cpu", "mem", ... */
    const char *fault_id;
    bool active;            /* firing now */
    bool fired;             /* has fired at least once (counts as one injection) */
    double requested_dose;  /* in the kind's dose unit; NaN if none */
    double delivered_dose;
};
struct moni_alert_state {   /* a firing alert (alerts_firing fills these) */
    const char *name;
    const char *severity;   /* "critical", "warning", "info" */
    const char *summary;
    const char *label_key;  /* e.g. "gpu" for per-GPU rules, NULL otherwise */
    const char *label_value;
    double value;           /* the value that made it fire (latest) */
    int64_t since_real_ns;  /* when it started firing */
};
struct moni_detection_count { /* detections so far, by detector */
    const char *detector, *label;
    uint64_t count;
};
struct exporter_extra {
    const struct moni_train_metric *train; /* also "detections" (total so far) and
                                              "time_to_failure_s" (the soonest predicted
                                              failure, while one is pending) */
    size_t ntrain;
    const struct moni_event_count *events;
    size_t nevents;
    const struct moni_detection_count *detections;
    size_t ndetections;
    const struct moni_fault_state *faults;
    size_t nfaults;
    const struct moni_alert_state *alerts;
    size_t nalerts;
};

/* ---- Prometheus exporter (core/exporter.c serves, core/exposition.c renders) ----------
 * Serves GET /metrics (text format 0.0.4) from a buffer rebuilt once per publish, on
 * non-blocking sockets driven by the loop; bounded connections, request size and
 * per-connection deadline, so no client can stall sampling.  listen is
 * "[ADDR:]PORT" (127.0.0.1 when only a port; PORT 0 picks a free one). */
struct exporter;
struct exporter *exporter_start(struct moni_loop *loop, const char *listen, char *err,
                                size_t errlen);
void exporter_publish(struct exporter *ex, const struct frame *f,
                      const struct exporter_extra *extra);
int exporter_port(const struct exporter *ex); /* the bound port */
void exporter_stop(struct exporter *ex);       /* closes everything; NULL is fine */
/* Renders the exposition text for a frame (what /metrics serves); malloc'd. */
char *exporter_render(const struct frame *f, const struct exporter_extra *extra, size_t *len);
/* Maps a frame column pattern (as used in alert rules, e.g. "gpu{gpu}_temp_c"), or a
 * training metric name when train is set, to its exported family; scale converts the
 * column's unit to the family's base unit.  Returns 0, or -1 if it is not exported. */
int exporter_family_for(const char *name, bool train, char *family, size_t len, double *scale);

/* ---- cluster identity and Prometheus file_sd target (core/prom-target.c) ----------
 * job_id: MONI_JOB_ID, else SLURM_JOB_ID; node: MONI_NODE, else SLURMD_NODENAME, else
 * the host name; rank: MONI_RANK, else SLURM_PROCID.  When in_job (any of those job
 * variables is set, or a target file was asked for) every exported series carries
 * the non-empty ones as labels; outside a job the exposition is unchanged. */
struct prom_identity {
    char job_id[64], node[128], rank[16];
    bool in_job;
};
void prom_identity_read(struct prom_identity *id);
/* --prometheus-sd FILE, process-wide: every exporter started afterwards writes its
 * target there (%j %n %r expanded; a directory gets moni-JOB-NODE-RANK.json) and
 * removes it when it stops.  NULL or "" = none. */
void prom_set_sd_file(const char *path);
const char *prom_sd_file(void);
int prom_sd_expand(const char *pattern, const struct prom_identity *id, char *out, size_t cap);
/* Writes FILE atomically: [{"targets": [target], "labels": {job_id, node, rank}}]. */
int prom_sd_write(const char *path, const char *target, const struct prom_identity *id,
                  char *err, size_t errlen);

/* ---- alert engine (core/alerts.c) -------------------------------------------------
 * Rules in JSON (moni(1) ALERTS; default examples/alerts.json, user
 * $XDG_CONFIG_HOME/moni/alerts.json).  Evaluated each tick over the frame and the
 * training metrics; transitions go to alerts.jsonl. */
struct alerts;
/* path NULL: the user file if present, else the shipped default.  On a bad file
 * returns NULL with "FILE:LINE: field: message" in err (callers exit 2). */
struct alerts *alerts_load(const char *path, char *err, size_t errlen);
/* The same from text in memory (name is used in messages). */
struct alerts *alerts_parse(const char *name, const char *text, size_t len, char *err,
                            size_t errlen);
void alerts_free(struct alerts *al);
/* Appends firing/resolved transitions to this file (fd >= 0) from now on. */
void alerts_set_journal(struct alerts *al, int fd);
/* Evaluates every rule; returns the number of transitions this tick. */
int alerts_eval(struct alerts *al, const struct frame *f, const struct moni_train_metric *train,
                size_t ntrain, struct moni_stamp now);
size_t alerts_count(const struct alerts *al); /* rules loaded */
/* Firing alerts (valid until the next alerts_eval/alerts_free). */
size_t alerts_firing(const struct alerts *al, const struct moni_alert_state **out);
/* Writes the rules as a Prometheus rules file (YAML) over the exported names. */
int alerts_export_prometheus(const struct alerts *al, FILE *out);
/* Appends the cross-node group (core/alerts-cluster.c): recording rules and the
 * straggler, heartbeat-missing and GPU-memory-climbing alerts, their windows scaled
 * to Prometheus' scrape interval (at least 1 s). */
int alerts_export_cluster(FILE *out, int64_t scrape_ns);

/* ---- exporter + alerts attached to a session (core/sre.c) -------------------------
 * Call before session_start.  Adds the fs_out_used_pct / fs_out_free_bytes columns
 * (filesystem of the run directory), and on every sample: evaluates the alert rules
 * (transitions -> RUN_DIR/alerts.jsonl) and, when metrics_listen is set, publishes
 * the row to the exporter.  rules: NULL = the user's or the shipped default file;
 * "none" = no alert engine.  NULL + err on failure (*usage for bad input: exit 2). */
struct sre;
struct session; /* core/session.c, declared in the observer section below */
struct sre *sre_attach(struct session *s, const char *metrics_listen, const char *rules,
                       char *err, size_t errlen, bool *usage);
/* What the exporter and the alert engine see besides the frame (training metrics,
 * event counters, fault states): fill sets the arrays of x (alerts are added by
 * sre).  Called on the loop's thread once per sample. */
typedef void (*sre_fill_cb)(void *arg, struct exporter_extra *x);
void sre_set_fill(struct sre *sre, sre_fill_cb fill, void *arg);
/* Or let sre read them itself from a runner's log parser (training metrics, event
 * counts by label) and injector (fault states, doses); either may be NULL, and they
 * may be set after sre_attach (e.g. once the injector exists). */
struct lp_parser;
struct injector;
void sre_set_sources(struct sre *sre, const struct lp_parser *parser, const struct injector *inj);
/* And the live detectors' findings (counts by detector, the soonest predicted failure). */
struct detect;
void sre_set_detect(struct sre *sre, const struct detect *det);
size_t sre_firing(const struct sre *sre, const struct moni_alert_state **out);
int sre_port(const struct sre *sre); /* exporter port, -1 if none */
void sre_free(struct sre *sre);      /* after session_finish */

/* ==== observer (issue 2): data sources, workload executor, recorder, session =======
 * A session is one run: it spawns the workload (or observes the machine only),
 * samples every source on a drift-free ticker, writes the run directory
 * (meta.json, samples.csv, workload.log, workload.idx; DESIGN.md section 3) and
 * calls the hooks below.  The console, `moni run`, `moni record`, the log parser,
 * the fault engine, the exporter and the alert engine all drive or attach to it.
 * Everything runs on the loop's thread except the GPU poller and the fsync thread,
 * which never call hooks.  Exported names are session_*, source_* and obs_*. */
struct session;

/* One process of the workload tree (for the console's process pane). */
struct obs_proc {
    pid_t pid, ppid;
    char state;      /* R S D T Z ... from /proc/PID/stat */
    char comm[32];
    char cmd[96];    /* command line, shortened */
    double cpu_pct;  /* of one core, since the previous sample; < 0 = not yet known */
    uint64_t rss_bytes;
    int threads;
};

/* A data source: one const descriptor per source, collected in obs_sources[].  What
 * differs between sources is said here, so no code outside a source tests which one
 * it is. */
struct session_opts;
struct source_ops {
    const char *name;
    int64_t cadence_ns; /* 0 = every tick; else at most this often (values held between) */
    /* Absence is normal here (no GPU, no PSI, no workload): a failed init is only
     * noted in meta.json.  A required source that fails is also warned about. */
    bool optional;
    /* Whether this run wants the source at all (NULL = always); a source left out
     * adds no columns and is not listed in meta.json. */
    bool (*enabled)(const struct session_opts *o);
    /* Adds the source's columns to f (before the CSV header is written).  Returns 0,
     * or -1 with a one-line reason in err: the source is then left out.  arg is what
     * session_add_source was given (NULL for the built-in sources). */
    int (*init)(struct session *s, struct frame *f, void *arg, void **state, char *err,
                size_t errlen);
    /* Fills this tick's values (the frame was cleared: anything not set is missing). */
    void (*sample)(struct session *s, void *state, struct frame *f);
    void (*free)(void *state);
};
extern const struct source_ops *const obs_sources[]; /* built-ins, NULL-terminated */
extern const struct source_ops obs_source_cpu, obs_source_mem, obs_source_disk, obs_source_net,
    obs_source_psi, obs_source_workload, obs_source_gpu, obs_source_fs;

struct session_opts {
    const char *out_dir;    /* run directory; NULL = no files (live view only) */
    bool force;             /* accept an existing, non-empty out_dir */
    int64_t interval_ns;    /* sampling period, 10 ms .. 60 s; 0 = 1 s */
    int64_t duration_ns;    /* 0 = no limit; else the run stops after this long */
    char *const *argv;      /* workload argv (argv[0] searched in $PATH); NULL = observe only */
    char *const *env_add;   /* extra "NAME=VALUE" for the workload's environment, or NULL */
    const char *run_id;     /* NULL = derived from the start time and host */
    const char *experiment; /* plan/experiment name for meta.json, or NULL */
    int64_t grace_ns;       /* SIGTERM -> SIGKILL grace when stopping; 0 = 5 s */
    bool keep_after_exit;   /* the workload exiting does NOT end the session (console) */
    bool quiet;             /* no notes on stderr (the console shows them itself) */
    bool no_gpu;            /* skip the GPU source */
    bool inject;            /* libmoni-inject.so in the workload (in-process faults) */
};

struct session_workload {
    pid_t pid;                  /* current (or last) workload pid = its process group; 0 = none */
    bool running;
    int exit_code;              /* valid when !running && exit_signal == 0 && ended.mono_ns */
    int exit_signal;            /* killing signal, 0 if it exited */
    struct moni_stamp started;  /* zero if never started */
    struct moni_stamp ended;    /* zero while running */
    struct moni_stamp last_line; /* zero until the first log line */
    uint64_t lines;             /* log lines so far (all starts together) */
    unsigned starts;            /* 1 after the first start, +1 per restart */
    bool ended_by_moni;         /* the last end was moni's stop or restart, not a failure */
    bool oom_killed;            /* the kernel log shows an OOM kill of it (when readable) */
};

struct session_stats {
    uint64_t ticks;        /* rows taken */
    uint64_t late;         /* ticks that ran more than max(interval/10, 1 ms) after their deadline */
    uint64_t missed;       /* deadlines that passed without a tick */
    uint64_t gaps;         /* runs of missed deadlines */
    int64_t max_lag_ns;    /* worst (tick time - deadline) seen */
    double moni_cpu_pct;   /* moni's own CPU use over the last tick, % of one core */
};

struct session_gpu {
    char name[96];
    char uuid[96];
    uint64_t mem_total_bytes;
};

/* Creates a session (validates options, prepares — but does not create — files).
 * NULL with a one-line reason in err on bad options; *usage_error (may be NULL) is
 * set when it is the user's input at fault (exit 2). */
struct session *session_new(struct moni_loop *loop, const struct session_opts *opts,
                            char *err, size_t errlen, bool *usage_error);
/* Registers an extra source (before session_start): its init adds columns, its
 * sample fills them every tick, like the built-ins.  ops must outlive the session. */
int session_add_source(struct session *s, const struct source_ops *ops, void *arg);
/* Creates the run directory, writes meta.json and the CSV header, spawns the
 * workload, starts the ticker.  -1 with err on failure; *usage_error as above (a
 * CMD that cannot be executed, a non-empty --out without force). */
int session_start(struct session *s, char *err, size_t errlen, bool *usage_error);
/* Ends the run: stops the workload (SIGTERM to its group, SIGKILL after the grace)
 * and then the session (session_done becomes true; the loop is NOT stopped: the
 * owner checks session_done in an on_exit/on_done hook or after each loop pass).
 * why ("signal SIGINT", "duration", "user") goes to meta.json. */
void session_stop(struct session *s, const char *why);
bool session_done(const struct session *s);
/* Finalises the files (last partial log lines, meta.json with end, exit, counts;
 * fsync).  Returns the exit status for the command: the workload's code,
 * 128+signal if it was killed (0 if the session's own --duration stopped it),
 * 0 for observe-only. */
int session_finish(struct session *s);
void session_free(struct session *s);

/* Workload control (console). restart: stop it if running, then start it again
 * with the same argv; the log and its line numbers continue. */
int session_restart_workload(struct session *s);
/* The same, the new lifetime started with extra arguments after the run's argv (NULL:
 * none) and noted in meta.json's workload.lifetimes as resumed from resumed_from
 * (NULL: a fresh start). */
int session_restart_workload_with(struct session *s, char *const *extra, const char *resumed_from);
int session_stop_workload(struct session *s); /* SIGTERM group, SIGKILL after grace */
int session_signal_workload(struct session *s, int signo); /* to the whole group */

/* State, valid on the loop's thread. */
const struct frame *session_frame(const struct session *s); /* latest row */
const char *session_run_dir(const struct session *s);       /* NULL without out_dir */
const char *session_run_id(const struct session *s);
int64_t session_interval_ns(const struct session *s);
struct moni_loop *session_loop(const struct session *s);
bool session_has_workload(const struct session *s); /* argv was given */
const struct session_workload *session_workload(const struct session *s);
const struct session_stats *session_stats(const struct session *s);
/* The workload's process tree as of the last sample; returns the count. */
size_t session_procs(const struct session *s, const struct obs_proc **procs);
/* PIDs of the workload tree (for faults and the GPU per-process memory). */
size_t session_pids(const struct session *s, const pid_t **pids);
/* GPU inventory: count 0 with a reason ("no NVML library and no nvidia-smi") if none;
 * backend "nvml", "nvidia-smi" or NULL; driver version or "". */
size_t session_gpus(const struct session *s, const struct session_gpu **gpus);
const char *session_gpu_backend(const struct session *s);
const char *session_gpu_reason(const struct session *s);
const char *session_gpu_driver(const struct session *s);

/* Hooks (any number of each, called in registration order on the loop's thread).
 * on_tick: after all sources sampled, before the row is written: may set values of
 *   columns it added (session_add_source) — the place for per-tick work.
 * on_sample: after the row is written (f = the row, read-only).
 * on_line: each complete workload log line (without its terminator), with its
 *   1-based line number, stream (1 = stdout, 2 = stderr) and arrival stamp;
 *   called after the line is in workload.log and workload.idx.
 * on_exit: the workload ended (see w->exit_code / exit_signal).
 * on_done: the session is done (after the workload was stopped); finish it now. */
typedef void (*session_frame_cb)(struct session *s, struct frame *f, void *arg);
typedef void (*session_line_cb)(struct session *s, const char *line, size_t len,
                                uint64_t lineno, int stream, const struct moni_stamp *t,
                                void *arg);
typedef void (*session_event_cb)(struct session *s, void *arg);
int session_on_tick(struct session *s, session_frame_cb cb, void *arg);
int session_on_sample(struct session *s, session_frame_cb cb, void *arg);
int session_on_line(struct session *s, session_line_cb cb, void *arg);
int session_on_exit(struct session *s, session_event_cb cb, void *arg);
int session_on_done(struct session *s, session_event_cb cb, void *arg);

/* meta.json extras: notes (a list of strings) and fields owned by other modules
 * (e.g. "plan", "faults"), written at start (if added before) and at the end.
 * session_meta_set takes ownership of item. */
void session_note(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int session_meta_set(struct session *s, const char *key, cJSON *item);
/* Rewrites meta.json now (atomically); 0 or -1. */
int session_write_meta(struct session *s);
/* Writes into the run directory that failed so far (rows, log lines, meta.json), also
 * after session_finish; *first (may be NULL) = the first one, "samples.csv: No space
 * left on device", or "". */
uint64_t session_write_errors(const struct session *s, const char **first);

/* Lower-level pieces, exported for tests and other commands. */
/* Formats one samples.csv row ("timestamp,mono_ns,v1,,v3\n"; missing = empty). */
size_t obs_csv_row(const struct frame *f, char *buf, size_t len);
size_t obs_csv_header(const struct frame *f, char *buf, size_t len);
/* Formats a number the way samples.csv does. */
size_t obs_fmt_value(double v, char *buf, size_t len);
/* ==== end observer ================================================================= */

/* ==== experiments (issue 6): dataset builder, plans, the runner ====================
 * core/dataset.c, core/validate.c, core/plan.c, core/runner.c; formats in
 * moni-dataset(5) and moni-plan(5).  Exported names are dataset_*, plan_*, runner_*. */

/* Derives tse_matrix.csv, labels.csv, ground_truth.csv and windows.json from a run
 * directory's raw files (samples.csv, workload.idx, events.jsonl, faults.jsonl,
 * meta.json; a torn last line is skipped) and adds a "dataset" object to meta.json. */
struct dataset_opts {
    int64_t grid_ns; /* 0 = 1 s */
    /* keep an existing detections.jsonl (the live run's) instead of writing the
     * offline pass's; the matrix's det_* flags come from the offline pass either way */
    bool keep_detections;
};
struct dataset_summary {
    size_t rows, columns, gap_rows, gaps, faults, anomalous_rows, bad_lines;
    bool incomplete; /* the run was killed (no end in meta.json, torn lines) */
    bool bad_input;  /* failed: an input is there but unreadable (exit 2), nothing written */
};
int dataset_build(const char *run_dir, const struct dataset_opts *opts,
                  struct dataset_summary *sum, char *err, size_t errlen);
/* Data-quality report of a run (text to out); baseline_dir (may be NULL) is a
 * healthy run to measure fault effects against.  Returns the number of problems
 * found (0 = clean), or -1 with err when the run cannot be read. */
int dataset_validate(const char *run_dir, const char *baseline_dir, int64_t grid_ns, FILE *out,
                     bool json, char *err, size_t errlen);
/* A run directory is one with a readable samples.csv. */
bool dataset_is_run_dir(const char *dir);
/* Calls fn on dir when it is a run directory, else on every run directory directly
 * below it (a plan's output), sorted by name.  Returns the largest exit status fn
 * returned, or MONI_EXIT_USAGE after "CMD: DIR: ..." when dir is neither. */
int dataset_for_each_run(const char *dir, const char *cmd, int (*fn)(const char *run, void *arg),
                         void *arg);

/* L2 and L3 detectors (issue 18; core/score.c): an Isolation Forest and an
 * autoencoder fitted on the standardised rows of healthy runs (train), then scoring
 * every row of runs.  With write_scores each run gets scores.csv and one
 * TimeEval-style file per model (scores-iforest.ts, scores-autoencoder.ts); with
 * export_dir the standardised matrices go there (train.csv, score-N.csv).  The
 * evaluation table (per model and fault kind) goes to table (text) and csv_path
 * (detectors.csv) when given.  0, or -1 with err. */
struct detect_opts {
    const char *const *train;
    size_t ntrain;
    int64_t grid_ns;        /* 0 = 1 s */
    bool write_scores;
    const char *export_dir; /* or NULL */
    FILE *table;            /* or NULL */
    const char *csv_path;   /* or NULL */
    uint64_t seed;
};
int detect_score_runs(const char *const *runs, size_t nruns, const struct detect_opts *o,
                      char *err, size_t errlen);
/* A baseline (healthy) run: its directory is named baseline* (plans name their healthy
 * experiment so); `moni validate --detectors` and a plan's detectors.csv both train
 * on these. */
bool detect_is_baseline_run(const char *run_dir);
/* A plan's detectors.csv (core/score-plan.c): trains on the baseline runs among runs,
 * scores the others into PLAN_DIR/detectors.csv.  1 written, 0 nothing to write, -1
 * an error; msg says which in one line (no baseline, nothing to score, the error). */
int detect_plan_csv(const char *plan_dir, const char *const *runs, size_t nruns, int64_t grid_ns,
                    char *msg, size_t msglen);

/* A plan (moni-plan(5)): experiments, each one run of a workload with faults. */
struct plan_fault {
    char *kind;          /* a fault kind (fault_find) or "knob" */
    char *params;        /* "key=value,key=value" as in a fault SPEC ("" for none) */
    char *target;        /* NULL = the workload; "pid=N", "port=N", "path=P" */
    int64_t at_ns;       /* offset from the start (or from the trigger), >= 0 */
    int64_t for_ns;      /* window; 0 = until stopped / point faults */
    bool has_at;
    char *when_event;    /* trigger on a log event or phase name, or NULL */
    char *when_rule;     /* trigger on a rule id, or NULL */
    char *when_text;     /* ... only on a line containing this text, or NULL */
    int64_t delay_ns;    /* after the trigger */
    char *root_cause, *expected_failure_stage; /* for ground_truth.csv, or NULL */
    int line;            /* where it is in the plan file */
    /* a cluster job (moni-plan(5) CLUSTER FAULTS): fire only on these nodes or ranks
     * (both empty: on every node); rank 0's runner sends it to the others */
    char **nodes;
    size_t nnodes;
    int *ranks;
    size_t nranks;
};
struct plan_experiment {
    char *name;
    char **argv;           /* the workload argv (defaults + overrides), NULL-terminated */
    int64_t interval_ns, duration_ns, cooldown_ns;
    struct plan_fault *faults;
    size_t nfaults;
    char *global_label;    /* whole-run label ("non_convergence") or NULL */
    char *root_cause, *expected_failure_stage;
    int repeat;            /* >= 1 */
    int priority;          /* higher runs first; ties keep file order */
    char *const *schema;   /* the plan's fixed matrix columns (its schema), or NULL */
};
struct plan_queue {
    int jobs;              /* runs at a time (default 1) */
    int retries;           /* per run, for failures not caused by its own faults */
    int64_t backoff_ns;    /* first retry delay, doubled each time */
    int64_t cooldown_ns;   /* between runs */
    double gate_cpu_pct, gate_mem_pct, gate_disk_pct; /* wait while above */
    int64_t gate_max_wait_ns; /* then start anyway, noting it */
};
struct plan {
    char *path, *name;
    char **schema;         /* "schema": fixed tse_matrix.csv columns, NULL-terminated, or NULL */
    struct plan_experiment *exps;
    size_t nexps;
    struct plan_queue queue;
};
/* Loads and checks a plan (unknown keys, types, negative durations, unknown fault
 * kinds or parameters, triggers on unknown rules/events).  quick applies the
 * plan's "quick" overrides.  NULL with "FILE:LINE: field: what" in err. */
struct plan *plan_load(const char *path, bool quick, char *err, size_t errlen);
void plan_free(struct plan *p);
/* "{run_dir}" in an experiment's workload arguments and fault targets and parameters
 * stands for the run's directory.  The experiment as the run in run_dir runs it: a
 * copy with the placeholder replaced (free with plan_experiment_in_free; it shares
 * the rest with e, so it must not outlive the plan), or NULL when out of memory. */
#define PLAN_RUN_DIR "{run_dir}"
struct plan_experiment *plan_experiment_in(const struct plan_experiment *e, const char *run_dir);
void plan_experiment_in_free(struct plan_experiment *x);

/* The runner: one run = session + log parser (events.jsonl) + injector
 * (faults.jsonl) + fault schedule and triggers + the dataset at the end.  Shared by
 * `moni run`, `moni record` and the console.  Drive it on a moni_loop:
 *   r = runner_new(loop, &opts, err, sizeof err, &usage);
 *   runner_on_record(r, cb, arg); ...           (optional hooks)
 *   runner_start(r, err, sizeof err, &usage);
 *   moni_loop_run(loop)  (the runner stops the loop when done unless keep_loop)
 *   status = runner_finish(r); runner_free(r); */
struct runner;
struct lp_record;
struct injector;
struct lp_parser;
struct runner_opts {
    const char *out_dir;        /* run directory (required for files) */
    bool force;
    int64_t interval_ns, duration_ns; /* 0 = defaults (1 s, no limit) */
    char *const *argv;          /* workload; NULL = the experiment's, else moni-train */
    const struct plan_experiment *exp; /* faults, labels, argv from a plan (or NULL) */
    const char *plan_name;      /* for meta.json */
    const char *plan_path;      /* for messages about plan faults: "PLAN:LINE: ..." (or NULL) */
    char *const *fault_specs;   /* --fault SPECs (KIND[:k=v,...]@AT[+FOR]) */
    size_t nfault_specs;
    bool no_faults;             /* `moni record`: no injector at all */
    bool no_build;              /* skip the dataset at the end */
    int64_t grid_ns;            /* dataset grid; 0 = 1 s */
    bool quiet, no_gpu, keep_after_exit;
    bool no_inject;             /* no preload library in the workload (--no-inject) */
    bool keep_loop;             /* do not stop the loop when the run is done (console) */
    bool control;               /* give moni-train --control even with no knob planned
                                 * (the console arms knobs live) */
    const char *const *rule_paths; /* extra rule packs */
    size_t nrule_paths;
    /* Attach to a session the caller created and starts itself (`moni record`, the
     * console): the runner hooks its lines and ticks (events.jsonl, faults from the
     * first tick on); runner_finish after session_finish; the session is not freed. */
    struct session *attach_to;
    /* Prometheus /metrics and the alert engine for an owned session ("[ADDR:]PORT";
     * NULL = no exporter, alerts still evaluated).  Ignored when attached. */
    const char *metrics_listen;
    bool no_sre; /* neither exporter nor alerts (the queue's extra parallel jobs) */
    const char *detectors_path; /* detector thresholds; NULL: the user's or the shipped */
    const char *out_pattern;    /* --out as given (DIR/%n): other nodes' run directories */
};
/* Validates options (fault specs, rules) before anything starts: NULL with err, and
 * *usage_error set for input errors (exit 2). */
struct runner *runner_new(struct moni_loop *loop, const struct runner_opts *opts, char *err,
                          size_t errlen, bool *usage_error);
/* Only checks the faults of opts (plan faults and --fault SPECs): 0, or -1 with err. */
int runner_check(const struct runner_opts *opts, char *err, size_t errlen);
typedef void (*runner_record_cb)(struct runner *r, const struct lp_record *rec, void *arg);
typedef void (*runner_fault_cb)(struct runner *r, const char *fault_id, const char *event,
                                const char *json_line, void *arg);
int runner_on_record(struct runner *r, runner_record_cb cb, void *arg);
int runner_on_fault(struct runner *r, runner_fault_cb cb, void *arg);
/* Detections as they happen (after detections.jsonl has them), and all so far. */
typedef void (*runner_detection_cb)(struct runner *r, const struct detection *det, void *arg);
int runner_on_detection(struct runner *r, runner_detection_cb cb, void *arg);
size_t runner_detections(const struct runner *r, const struct detection **out);
int runner_start(struct runner *r, char *err, size_t errlen, bool *usage_error);
void runner_stop(struct runner *r, const char *why);
bool runner_done(const struct runner *r);
/* Finishes the session, flushes events.jsonl, stops the faults, builds the dataset.
 * Returns the workload's exit status (as session_finish). */
int runner_finish(struct runner *r);
void runner_free(struct runner *r);
struct session *runner_session(const struct runner *r);
struct injector *runner_injector(const struct runner *r); /* NULL without faults */
struct lp_parser *runner_parser(const struct runner *r);
/* Progress: seconds since start and the planned length (0 = open). */
void runner_progress(const struct runner *r, double *elapsed_s, double *planned_s);
/* Faults that fired so far (the queue retries failed runs none of whose faults fired). */
uint64_t runner_fired(const struct runner *r);
char *const *runner_argv(const struct runner *r); /* the workload's argv (NULL-terminated) */
/* Formats one log record as an events.jsonl line (no newline); returns its length. */
size_t runner_event_json(const struct lp_record *rec, char *buf, size_t len);
/* Multi-process workloads (moni-rlsim): the runner follows RUN_DIR/logs/ *.log live
 * (new bytes every 500 ms, merged by their in-line time) and parses them with the
 * file name as the source; for moni-rlsim the controller's stdout copy is recorded
 * in workload.log but not parsed twice.  For the console: the pipeline's latest
 * "step N stage=X" line and one entry per log file (process), updated live. */
struct runner_stage {
    long step;                /* -1 until the controller logged a stage */
    char stage[32];           /* "rollout", "train", "weight_update", "checkpoint" */
    int64_t since_mono;       /* when the line was read (CLOCK_MONOTONIC ns) */
};
struct runner_worker {
    char name[64];            /* "train_worker_3" (the log file's name without .log) */
    int pid;                  /* from the controller's "worker NAME pid=PID" line, or 0 */
    uint64_t lines, warnings, errors; /* lines read; records of severity warning / >= error */
    char last_rule[48];       /* the latest record of severity >= warning, "" if none */
    char last_severity[12];   /* "warning", "error", "critical" */
    char last_text[200];
    int64_t last_mono;        /* when it was read, 0 if none */
    int64_t last_line_mono;   /* when the process last wrote a line, 0 if never */
};
const struct runner_stage *runner_stage(const struct runner *r);
/* The processes seen so far (log file order); *n set to the count. */
const struct runner_worker *runner_workers(const struct runner *r, size_t *n);
/* The same view rebuilt from a recorded run for the console's replay: open reads
 * RUN_DIR/logs/ (NULL when the run has none; clock_offset_ns = wall - mono of the
 * run), _event passes in one events.jsonl record (only warnings and errors of the
 * pipeline's log files count), advance goes to a CLOCK_MONOTONIC time of the run;
 * then read it as above. */
struct pipeline_replay;
struct pipeline_replay *pipeline_replay_open(const char *run_dir, int64_t clock_offset_ns);
void pipeline_replay_event(struct pipeline_replay *p, int64_t mono, const char *file,
                           const char *rule, const char *severity, const char *text);
void pipeline_replay_advance(struct pipeline_replay *p, int64_t mono);
const struct runner_stage *pipeline_replay_stage(const struct pipeline_replay *p);
const struct runner_worker *pipeline_replay_workers(const struct pipeline_replay *p, size_t *n);
void pipeline_replay_free(struct pipeline_replay *p);
/* ---- the experiment queue (core/queue.c) ------------------------------------------
 * Every experiment of one or more plans as runs (repeats expanded as NAME-1,
 * NAME-2, ...), in priority order: N at a time, a resource gate before each start,
 * retries with exponential backoff for failures not caused by the run's own
 * faults, cooldown, a progress line per step on stderr (unless quiet) and runs.csv
 * in each plan's output directory (moni-dataset(5)).  One plan's runs go into
 * out/NAME, several plans' into out/PLAN/NAME.  Two ways to drive it:
 *   headless (`moni run --plan`): while (queue_step(q)) moni_loop_once(loop,
 *     queue_wait_ms(q));  the queue starts and finishes runners on the loop;
 *   a caller that runs an item itself (the console): k = queue_current(q);
 *     queue_claim(q, k); ... run it in queue_item(q, k).dir ...;
 *     queue_report(q, k, status, fired, never_started).
 * queue_skip and queue_abort work in both; queue_finish writes runs.csv and says
 * whether every run completed (or failed as injected). */
struct queue;
struct queue_opts {
    const char *out;            /* output directory (required) */
    bool force, quiet;
    bool no_inject;             /* no preload library in the workloads (--no-inject) */
    int64_t interval_ns, duration_ns; /* override every experiment's; 0 = the plan's */
    int jobs;                   /* runs at a time; 0 = the first plan's queue.jobs */
    const char *metrics_listen; /* for runs that start while no other run is active */
    const char *out_pattern;    /* out as given (DIR/%n), for cluster faults */
};
enum queue_item_state { QUEUE_ITEM_PENDING, QUEUE_ITEM_RUNNING, QUEUE_ITEM_DONE };
struct queue_item_info {
    const char *name;           /* "baseline", "oom-2" */
    const char *dir;            /* its run directory */
    const struct plan *plan;
    const struct plan_experiment *exp;
    enum queue_item_state state;
    const char *outcome;        /* runs.csv outcome once done ("completed", "skipped", ...) */
    int attempt, exit;
    uint64_t fired;
    struct runner *runner;      /* while the queue runs it, else NULL */
};
struct queue_progress {
    size_t total, finished, running;
    double eta_s;               /* planned time left, spread over the jobs */
    bool interrupted;
};
/* The plans must outlive the queue.  Creates the output directories.  NULL with err. */
struct queue *queue_new(struct moni_loop *loop, struct plan *const *plans, size_t nplans,
                        const struct queue_opts *o, char *err, size_t errlen);
/* Finishes runs that are done (writing runs.csv), starts what may start now;
 * returns true while anything is running or still to start. */
bool queue_step(struct queue *q);
int queue_wait_ms(const struct queue *q);    /* how long the loop may wait until the next step */
long queue_current(const struct queue *q);   /* the item that starts next, -1 if none now */
int queue_claim(struct queue *q, size_t idx); /* the caller runs item idx: 0 or -1 */
void queue_report(struct queue *q, size_t idx, int status, uint64_t fired, bool never_started);
/* A pending item is not run (outcome "skipped"); a running one is stopped and
 * recorded as skipped.  0 or -1 (no such item, or already done). */
int queue_skip(struct queue *q, size_t idx);
void queue_abort(struct queue *q, const char *why); /* stops every run; nothing more starts */
size_t queue_len(const struct queue *q);
bool queue_item(const struct queue *q, size_t idx, struct queue_item_info *info);
void queue_progress(const struct queue *q, struct queue_progress *p);
const char *queue_dir(const struct queue *q);
int queue_write_runs_csv(struct queue *q);   /* 0, or -1 after an error line */
/* Writes runs.csv and a summary line; MONI_EXIT_OK when every run completed or
 * failed as injected (or was skipped), else MONI_EXIT_FAIL. */
int queue_finish(struct queue *q);
void queue_free(struct queue *q);

/* ---- the runner driven from a console (core/runner-ctl.c) --------------------------
 * One driver of the fault and parser lifecycle for headless runs and the console:
 * the console reads the runner's parsed records, training state and faults through
 * these plain views, and arms, fires and stops faults here, never by calling faults/
 * or logparse/ itself.  Loop thread only, like the rest of the runner. */
struct lp_rules;
struct sre *runner_sre(const struct runner *r); /* exporter + alerts; NULL if none */
const struct lp_rules *runner_rules(const struct runner *r);
enum runner_sev { RUNNER_SEV_INFO, RUNNER_SEV_WARN, RUNNER_SEV_ERROR, RUNNER_SEV_CRIT };
struct runner_record {          /* one parsed record (valid during the hook only) */
    bool is_event, is_metric;   /* log-rule match; metric line */
    bool is_phase;              /* a phase line (evaluation, checkpoint save, ...) */
    const char *phase;          /* its phase: "eval", "checkpoint_save", ...; "" if none */
    int64_t time_ns;            /* the line's own time, else when it was received */
    struct moni_stamp recv;
    uint64_t line;
    enum runner_sev sev;
    const char *rule;           /* "" if none */
    char labels[96];            /* root-cause labels "A,B", "" if none */
    const char *text;           /* the line, not NUL-terminated: text_len bytes */
    size_t text_len;
};
/* For a runner_record_cb: the record as a plain view, and one numeric field. */
void runner_record_view(const struct lp_record *rec, struct runner_record *out);
bool runner_record_num(const struct lp_record *rec, const char *field, double *v);
struct runner_train {           /* the parser's running training state */
    double loss, lr, step, max_steps, epoch, throughput;
    bool loss_ok, lr_ok, step_ok, max_steps_ok, epoch_ok, tput_ok;
    const char *tput_unit;      /* "it/s" or "samples/s" */
    bool nan_seen;
    const char *phase;          /* "" before the first phase line */
};
void runner_train_state(const struct runner *r, struct runner_train *out);
/* Fault kinds (the faults table order): names and one-line summaries; the count. */
size_t runner_fault_kinds(const char **names, const char **summaries, size_t max);
enum runner_fault_state {
    RUNNER_FAULT_IDLE, RUNNER_FAULT_ARMED, RUNNER_FAULT_FIRING, RUNNER_FAULT_STOPPED,
    RUNNER_FAULT_FAILED
};
struct runner_fault {           /* one fault armed in this run, as the console shows it */
    int id;
    char id_str[16];            /* "f3" */
    const char *kind;
    enum runner_fault_state state; /* stopped includes reverted */
    bool effective;
    char params[256];           /* "workers=2,load=95%" */
    int64_t fired_ns, stopped_ns; /* CLOCK_MONOTONIC, 0 = not reached */
    int64_t remaining_ns;       /* until the window or the hard maximum ends; -1 n/a */
    double requested_dose, delivered_dose;
    bool delivered_valid;
    const char *dose_unit;      /* "pct", "bytes", "Bps", ... */
    char error[256];            /* "" if none */
    char target[160];           /* "pid:1234", "port:8080", "path:/data", "" */
    int64_t armed_ns, effective_ns; /* CLOCK_MONOTONIC, 0 = not reached */
    int64_t for_ns;             /* requested window, 0 = open */
};
/* false without an injector (observe only, or no journal): why in *why. */
bool runner_faults_ready(const struct runner *r, const char **why);
size_t runner_fault_count(const struct runner *r); /* every fault since the start */
bool runner_fault_get(const struct runner *r, size_t idx, struct runner_fault *out);
size_t runner_faults_active(const struct runner *r); /* armed or firing */
/* The arm form of a kind: what it cannot do without first ("set", the KEY=VALUE
 * list of free-key kinds such as knob; a required port), its parameters, then the
 * other target keys (port, path defaulting to the run directory or the control
 * file, pid) and "for".  Returns the count. */
struct runner_fault_param {
    char name[32], unit[16], def[48], help[96];
};
size_t runner_fault_params(const struct runner *r, const char *kind, struct runner_fault_param *out,
                           size_t max);
/* One form field as it is typed: 0, or -1 with a message. */
int runner_fault_validate(const struct runner *r, const char *kind, const char *key,
                          const char *value, char *err, size_t errlen);
/* Arms kind with the form's keys (parameters, port, pid, path, for); *id set.  A
 * form the parameter spec refuses is refused here, before anything is journalled. */
int runner_fault_arm(struct runner *r, const char *kind, const char *const *keys,
                     const char *const *values, size_t n, int *id, char *err, size_t errlen);
int runner_fault_fire(struct runner *r, int id, char *err, size_t errlen);
int runner_fault_stop(struct runner *r, int id, char *err, size_t errlen);
void runner_fault_stop_all(struct runner *r); /* panic button; also at quit */
/* Restarts the workload and points the injector's default target at the new pid. */
int runner_restart_workload(struct runner *r, char *err, size_t errlen);
/* Resuming: the latest checkpoint the workload could resume from (1, its path in
 * ckpt), or 0 when the workload cannot resume (not a workload known to, or no
 * checkpoint yet).  restart_resume: resume from it when resume and there is one,
 * else from scratch; the new lifetime in meta.json names the checkpoint. */
int runner_resume_point(const struct runner *r, char *ckpt, size_t len);
int runner_restart_resume(struct runner *r, bool resume, char *err, size_t errlen);
/* Ranked causes of a run directory's logs so far, as text (malloc'd), or NULL with
 * err.  rules NULL: the built-in and user packs, loaded for this call. */
char *runner_diagnose_dir(const struct lp_rules *rules, const char *dir, char *err, size_t errlen);
/* The same for the runner's own run directory with the runner's rules. */
char *runner_diagnose(const struct runner *r, char *err, size_t errlen);
/* ---- this node's place in a cluster job (core/node-id.c) ---------------------------
 * Read from the SLURM_* environment (SLURM_JOB_ID, SLURM_STEP_ID, SLURMD_NODENAME,
 * SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS, the step's node list and tasks per
 * node); outside Slurm: the hostname, rank 0 of 1 task.  meta.json's "node" block. */
struct node_clock {          /* the kernel clock's discipline (adjtimex, read only) */
    bool valid;              /* adjtimex answered (else error says why) */
    bool synced;             /* not STA_UNSYNC and not TIME_ERROR: NTP/chrony keeps it */
    int state;               /* adjtimex's return: TIME_OK ... TIME_ERROR */
    int status;              /* STA_* bits */
    double offset_s;         /* the offset the kernel is still slewing out */
    double maxerror_s, esterror_s; /* error bounds the time daemon reports */
    char error[96];
};
struct node_identity {
    bool slurm;              /* inside a Slurm job (SLURM_JOB_ID set) */
    char job_id[32], step_id[32];
    char node[128];          /* SLURMD_NODENAME, else the hostname */
    char hostname[128];
    int rank, local_rank, ntasks; /* SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS; 0, 0, 1 */
    char nodelist[1024];     /* SLURM_STEP_NODELIST (or the job's), "" outside Slurm */
    char tasks_per_node[256]; /* SLURM_STEP_TASKS_PER_NODE ("1(x3)") */
    struct node_clock clock;
};
typedef const char *(*node_env_fn)(const char *name, void *arg);
void node_identity_read(struct node_identity *id);  /* the environment and the clock */
/* The same from get (NULL: getenv), without the clock (tests give their own). */
void node_identity_from(struct node_identity *id, node_env_fn get, void *arg);
void node_clock_read(struct node_clock *c);
cJSON *node_identity_json(const struct node_identity *id);
cJSON *node_meta_json(void);                          /* read now, as JSON */
/* --out patterns: %n node name, %j job id ("local" outside Slurm), %t rank, %% a %.
 * 0, or -1 with err (an unknown %x, too long). */
int node_expand_out(const char *pattern, const struct node_identity *id, char *out, size_t len,
                    char *err, size_t errlen);
int node_expand_out_here(const char *pattern, char *out, size_t len, char *err, size_t errlen);
bool node_out_has_pattern(const char *pattern);
/* "n[1-3,07],gpu" -> n1 n2 n3 n07 gpu (malloc'd; node_list_free).  0 or -1. */
int node_list_expand(const char *list, char ***names, size_t *n);
void node_list_free(char **names, size_t n);
/* The node a rank runs on (block distribution over the step's node list), and the
 * first rank on a node: 0 / the rank, or -1 when the job has no such rank or node. */
int node_of_rank(const struct node_identity *id, int rank, char *out, size_t len);
int node_first_rank(const struct node_identity *id, const char *node);

/* ---- faults on chosen nodes of a cluster job (core/cluster-fault.c) ----------------
 * A plan fault with "nodes"/"ranks" is rank 0's: its runner fires it when rank 0 is
 * named, and sends it to the other named nodes through srun (MONI_SRUN overrides),
 * where `moni fault run --run DIR` journals it into that node's run directory. */
bool cluster_fault_here(const struct plan_fault *pf, const struct node_identity *id);
bool cluster_fault_needs_control(const struct plan_fault *pf); /* a knob: --control */
/* Every rank and node the experiment's faults name is in the job: 0, or -1 with
 * "PLAN:LINE: ranks: ..." (exit 2). */
int cluster_faults_check(const struct plan_experiment *e, const char *plan_path,
                         const struct node_identity *id, char *err, size_t errlen);
struct cluster_dispatch;
/* Rank 0 with faults for other nodes: the dispatcher; NULL with err "" when there is
 * nothing to send from here, NULL with err on bad input.  out_pattern is --out as
 * given (%n/%t/%j expanded per target node). */
struct cluster_dispatch *cluster_dispatch_new(struct moni_loop *loop,
                                              const struct plan_experiment *e,
                                              const char *plan_path, const char *out_pattern,
                                              bool quiet, char *err, size_t errlen);
void cluster_dispatch_start(struct cluster_dispatch *d, int64_t start_mono);
void cluster_dispatch_record(struct cluster_dispatch *d, const struct lp_record *rec);
void cluster_dispatch_finish(struct cluster_dispatch *d); /* stops what still runs */
cJSON *cluster_dispatch_json(const struct cluster_dispatch *d); /* meta "cluster_faults" */
void cluster_dispatch_free(struct cluster_dispatch *d);

/* ---- a cluster job's dataset (core/cluster-build.c, core/cluster-diagnose.c) ---------
 * The node runs of one job: DIR/NODE or DIR/NODE/EXPERIMENT (a plan), each a run
 * directory with meta.json's "node" block; DIR/cluster is the merged output. */
struct cluster_node_run {
    char *dir, *group;       /* run directory; experiment ("" for DIR/NODE) */
    char node[128];          /* meta.json node.node, else the directory name */
    int rank;                /* node.rank, -1 unknown */
    char job_id[32];
    bool has_clock, clock_synced;
    double clock_maxerror_s;
};
struct cluster_runs {
    struct cluster_node_run *v; /* sorted by experiment, rank, node */
    size_t n;
};
/* 0; -1 with err when there is none, or a node and rank twice in one experiment
 * (runs of one host, such as a plan's output, are not a job's nodes). */
int cluster_runs_find(const char *dir, struct cluster_runs *c, char *err, size_t errlen);
void cluster_runs_free(struct cluster_runs *c);
struct cluster_build_summary {
    size_t groups, nodes, rows, faults, anomalous_rows;
    bool bad_input;          /* exit 2: nothing to merge, or a node's input unreadable */
};
/* Builds every node's dataset, then DIR/cluster[/EXPERIMENT]/{tse_matrix.csv,
 * labels.csv, ground_truth.csv, cluster.json} (moni-dataset(5) CLUSTER DATASET);
 * a line per node and group to progress (may be NULL).  0, or -1 with err. */
int cluster_build(const char *dir, const struct dataset_opts *o, FILE *progress,
                  struct cluster_build_summary *sum, char *err, size_t errlen);
/* Ranks causes across the nodes of DIR: every node's run diagnosis, then the node
 * that failed first (its earliest evidence), not the one with the most evidence.
 * Text or JSON to out.  0, or -1 with err (*bad_input: exit 2). */
struct lp_rules;
struct det_config;
int cluster_diagnose(const char *dir, const struct lp_rules *rules, const struct det_config *cfg,
                     bool json, FILE *out, char *err, size_t errlen);

/* ==== end experiments ============================================================== */

#endif
