/* core/detect.h — streaming detectors: training health, resources and process fate.
 *
 * One engine per run.  It is fed the same inputs live (by the recording commands) and
 * offline (by `moni build` over a recorded run): samples rows (frames), training metric
 * values parsed from the log, log events with their root-cause labels, and the
 * workload's fate (exit code, signal, who sent it).  Decisions are taken only at
 * ticks, from inputs whose monotonic time is not after the tick, so the live and the
 * offline pass give the same detections for the same inputs.
 *
 * Each detector is a `const struct detector_ops` (name, the label it names, its
 * parameters with defaults and help, a tick function), collected in detectors[].
 * Thresholds are data: examples/detectors.json (installed under share/moni) holds
 * every parameter; a user file may override any of them.  The engine never writes
 * files: detections go to a callback (the run directory's detections.jsonl writer,
 * the console, the exporter).  Never reads faults.jsonl, ground truth or marks. */
#ifndef MONI_DETECT_H
#define MONI_DETECT_H

#include "core/base.h"

/* One detection: the onset of a condition a detector watches. */
struct detection {
    int64_t mono_ns, real_ns; /* the tick at which it was decided */
    const char *detector;     /* "cpu_contention" */
    const char *label;        /* root-cause label it names: "CPU_Contention" */
    const char *signals;      /* the inputs it used: "proc_cpu_pct,cpu_pct" */
    double score, threshold;  /* fired because score crossed threshold */
    double ttf_s;             /* predicted time to failure; NaN when none */
    char evidence[256];       /* one sentence with the numbers */
};

/* A tunable of a detector (thresholds, windows).  value is the default. */
struct det_param {
    const char *name;
    double value;
    const char *help;
};

#define DET_MAX_PARAMS 12

struct det_ctx; /* what a detector sees at a tick (core/detect.c) */

struct detector_ops {
    const char *name;
    const char *label;
    const char *help;
    const char *signals;
    const struct det_param *params; /* terminated by a NULL name */
    size_t state_size;              /* zeroed per run */
    /* Called once per tick; returns true (and fills score, threshold, ttf_s and the
     * evidence of *out) on the onset of a detection. */
    bool (*tick)(struct det_ctx *c, void *state, struct detection *out);
};

extern const struct detector_ops *const detectors[];
extern const size_t ndetectors;

/* Parameters for every detector (defaults, then overridden from a JSON file). */
struct det_config {
    double p[32][DET_MAX_PARAMS]; /* [detector index][param index] */
    bool disabled[32];
    /* The progress rate every detector sees: measured over progress_window_s, its
     * usual level an average with time constant progress_baseline_s, learnt after
     * progress_warmup_s and never from a slowed stretch. */
    double progress_window_s, progress_baseline_s, progress_warmup_s;
    /* Names of training metrics: which parsed fields are a loss, a progress counter,
     * a throughput, and which log labels are network trouble. NULL-terminated. */
    char **loss_fields, **progress_fields, **throughput_fields, **network_labels;
};
/* Defaults from the descriptors. */
void det_config_defaults(struct det_config *cfg);
/* Loads path (NULL: $XDG_CONFIG_HOME/moni/detectors.json if present, else the shipped
 * examples/detectors.json, else the descriptors' defaults).  0, or -1 with
 * "FILE:LINE: field: message" in err. */
int det_config_load(struct det_config *cfg, const char *path, char *err, size_t errlen);
int det_config_parse(struct det_config *cfg, const char *name, const char *text, size_t len,
                     char *err, size_t errlen);
void det_config_free(struct det_config *cfg);

struct detect;
typedef void (*detect_cb)(const struct detection *det, void *arg);

/* cfg is copied (its name lists are borrowed: keep cfg alive). */
struct detect *detect_new(const struct det_config *cfg, detect_cb cb, void *arg);
void detect_free(struct detect *d);

/* A training metric value from the log (loss, step, it_per_s, ...) at mono_ns. */
void detect_metric(struct detect *d, int64_t mono_ns, const char *name, double value);
/* A log event with its root-cause labels (e.g. "Network_Timeout") and severity. */
void detect_event(struct detect *d, int64_t mono_ns, const char *const *labels, size_t nlabels,
                  const char *severity);
/* A log line that carries its own time: when it arrived (wall clock of moni's sample
 * clock) and the time written in it.  clock_skew watches the difference. */
void detect_log_time(struct detect *d, int64_t mono_ns, int64_t recv_real_ns,
                     int64_t line_real_ns);
/* One samples row.  Runs every detector; detections are passed to the callback. */
void detect_tick(struct detect *d, const struct frame *f);

/* The workload ended.  scheduled: moni stopped it (--duration, a restart, quit), which
 * is not a failure.  oom_killed: the kernel log shows an OOM kill of its process. */
struct det_fate {
    int64_t mono_ns, real_ns;
    int exit_code;  /* -1 when killed by a signal */
    int signal;     /* 0 when it exited */
    bool scheduled;
    bool oom_killed;
};
void detect_fate(struct detect *d, const struct det_fate *fate);

/* Feeds one parsed log record (metric fields, event labels) as the live runner sees it. */
struct lp_record;
void detect_feed_record(struct detect *d, const struct lp_record *rec);
/* The workload's fate from a run's meta.json; false when it is not recorded. */
struct rundir_meta;
bool detect_fate_from_meta(const struct rundir_meta *m, struct det_fate *fate);
/* Runs every detector over a recorded run (samples.csv, events.jsonl, meta.json),
 * merged by time as the live runner saw them; detections go to cb.  0, or -1 with
 * err (no meta.json or samples.csv). */
int detect_run_dir(const char *dir, const struct det_config *cfg, detect_cb cb, void *arg,
                   char *err, size_t errlen);
/* The same with meta.json already read (NULL: the run has none). */
int detect_run_dir_meta(const char *dir, const struct rundir_meta *meta, const struct det_config *cfg,
                        detect_cb cb, void *arg, char *err, size_t errlen);

/* Detections so far (valid until the next call that feeds the engine). */
size_t detect_list(const struct detect *d, const struct detection **out);

/* Whether the kernel log (/dev/kmsg, when readable) records an OOM kill of pid at or
 * after since_mono_ns.  false when it cannot be read. */
bool det_kmsg_oom_killed(pid_t pid, int64_t since_mono_ns);

/* detections.jsonl lines are written and read by core/rundir (rundir_detection_*). */

/* Small series helpers shared by the detectors (exported for the unit tests). */
struct det_series { /* a ring of (t, v) points */
    double t[128], v[128];
    int n, head;
    /* Running sums of (t - t0) and (v - v0) over the points, so that a fit costs O(1)
     * per tick: updated by push and trim, recomputed from the points (and the origin
     * moved to the oldest point) every 128 pushes so that rounding cannot build up. */
    double t0, v0, st, sv, stt, stv, svv;
    int pushes;
    bool unordered; /* a point was pushed with t before the previous point's */
};
void det_series_push(struct det_series *s, double t, double v);
/* Drops points older than t_now - window_s. */
void det_series_trim(struct det_series *s, double t_now, double window_s);
/* Least-squares slope (per second) and r^2 over the points, from the running sums;
 * false with < 3 points. */
bool det_series_fit(const struct det_series *s, double *slope, double *intercept, double *r2);
/* The same fit computed afresh over the last n points (n <= s->n). */
bool det_series_fit_last(const struct det_series *s, int n, double *slope, double *intercept,
                         double *r2);
double det_series_mean(const struct det_series *s);
/* The i-th point from the oldest (0 <= i < s->n). */
static inline double det_series_t(const struct det_series *s, int i)
{
    return s->t[(s->head + i) % (int)(sizeof s->t / sizeof s->t[0])];
}
static inline double det_series_v(const struct det_series *s, int i)
{
    return s->v[(s->head + i) % (int)(sizeof s->v / sizeof s->v[0])];
}

/* ---- a run's diagnosis (core/diagnosis.c) -----------------------------------------
 * Fuses the log's ranked causes, the detections and the workload's fate into ranked
 * causes with evidence of each kind ("log", "metrics", "exit") and an action.  Never
 * uses the fault journal, ground truth or marks. */
struct run_evidence {
    char kind[8];
    int64_t real_ns;
    char text[320];
};
struct run_cause {
    char label[32];
    int cls;               /* 0 failure, 1 prediction, 2 consequence */
    int64_t first_real_ns; /* earliest evidence */
    char first_kind[8];
    char kinds[24];        /* "metrics+log" */
    double score;
    double ttf_s;          /* shortest time to failure its predictions gave, NaN if none */
    const char *action;
    struct run_evidence evidence[6];
    size_t nevidence;
    char explains[6][32];  /* labels of later causes it explains */
    size_t nexplains;
    bool fatal;            /* explains the workload's own (unscheduled) exit */
};
struct run_diagnosis {
    bool healthy;
    struct run_cause causes[12]; /* ranked: causes[0] is the root cause */
    size_t ncauses;
    size_t nlog_events, ndetections;
    bool have_fate;
    struct det_fate fate;
};
struct lp_diagnosis;
/* logd may be NULL (no log); fate may be NULL (not recorded). */
void run_diagnose(const struct lp_diagnosis *logd, const struct detection *dets, size_t ndets,
                  const struct det_fate *fate, struct run_diagnosis *out);
void run_diagnosis_write_text(const struct run_diagnosis *d, FILE *out);
/* A run directory's diagnosis (core/diagnosis-run.c): the log's causes, the
 * detections (live ones when given, else replayed from the raw files with cfg) and
 * the fate from meta.json.  Returns the log's own diagnosis (free it with
 * lp_diagnosis_free) and fills out; NULL with err on unreadable input. */
struct lp_rules;
struct lp_diagnosis *run_diagnose_dir(const struct lp_rules *rules, const char *dir,
                                      const struct det_config *cfg, bool live,
                                      const struct detection *dets, size_t nlive,
                                      struct run_diagnosis *out, char *err, size_t errlen);
cJSON *run_diagnosis_json(const struct run_diagnosis *d);

#endif /* MONI_DETECT_H */
