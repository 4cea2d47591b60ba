/* core/rundir.h — the run directory (moni-dataset(5)): one typed record, one reader
 * and one writer per file.  Everything in core, the console's replay and the tests
 * read the run files through here, so that two readers can never disagree.
 *
 * The CSV and JSONL readers stream (one line in memory at a time); meta.json and a
 * logs/ file are read whole.  A bad line is reported, not fatal: next returns -1
 * with "FILE:LINE: field: what is wrong" in r->err and the caller goes on.  A last line without its newline (the writer was killed mid-line)
 * is torn: it is never returned, r->torn is set and r->err says where.  Empty
 * lines are skipped silently.  Strings of a record point into the reader and stay
 * valid until the next call; absent strings are "" (never NULL).
 *
 * Writers append whole lines (one write(2) per line, on an O_APPEND descriptor).
 * Who writes what today: samples.csv and workload.idx the recorder (core/recorder.c,
 * with obs_csv_row/obs_idx_row, which the writers here use too); meta.json the
 * session (core/recorder.c) and the dataset builder (rundir_meta_write); events.jsonl
 * the runner (runner_event_json, which rundir_event_append uses);
 * faults.jsonl the injector and the guardian in faults/ (fault_journal_line: faults/
 * may not call core; rundir_fault_append writes the same bytes, checked by a test);
 * marks.jsonl the console (rundir_mark_*); alerts.jsonl the alert engine (core/alerts.c,
 * the same line as rundir_alert_append's); detections.jsonl the runner and the
 * dataset builder (rundir_detection_append, from core/detect.h's records).
 *
 * This header includes only the base layer and core/detect.h (which is base-only). */
#ifndef MONI_RUNDIR_H
#define MONI_RUNDIR_H

#include "core/base.h"
#include "core/detect.h"

#define RUNDIR_ERR_LEN 512

/* ---- lines ---------------------------------------------------------------------- */
struct rundir_lines {
    FILE *f;
    char path[4096];    /* "DIR/NAME", used in messages */
    char *buf;
    size_t cap;
    size_t lineno;      /* of the line last returned */
    size_t bad;         /* bad lines seen so far (torn one excluded) */
    bool torn;          /* the file ends in a line without its newline */
    char err[RUNDIR_ERR_LEN]; /* the latest problem, "FILE:LINE: field: what" */
};
/* Opens DIR/NAME.  0, or -1 with errno set (ENOENT: the file is optional). */
int rundir_lines_open(struct rundir_lines *r, const char *dir, const char *name);
/* The next complete non-empty line without its terminator (and a '\r'): 1 and
 * *line (writable, NUL-terminated) / *len; 0 at the end (check r->torn). */
int rundir_lines_next(struct rundir_lines *r, char **line, size_t *len);
void rundir_lines_close(struct rundir_lines *r);
/* Records a bad line: r->bad++, r->err = "PATH:LINE: field: message"; returns -1. */
int rundir_lines_bad(struct rundir_lines *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every JSONL record carries both clocks.  mono is exact (read from the text: a
 * double holds only 2^53 ns); 0 when absent.  real is from "timestamp" (or, in old
 * files, "time"); 0 when absent.  iso is the timestamp as written. */
struct rundir_stamp {
    int64_t mono, real;
    char iso[40];
};
/* The record's CLOCK_MONOTONIC time: mono, else real - offset (offset = wall - mono
 * of the run), else 0. */
int64_t rundir_mono(const struct rundir_stamp *t, int64_t offset);

/* One JSONL file being read (events, faults, marks, alerts, detections). */
struct rundir_jsonl {
    struct rundir_lines l;
    cJSON *obj;         /* the current record's object (owned; freed by the next call) */
};
int rundir_jsonl_open(struct rundir_jsonl *r, const char *dir, const char *name);
void rundir_jsonl_close(struct rundir_jsonl *r);

/* A number written as a JSON number or as "nan"/"inf" text. */
bool rundir_json_num(const cJSON *v, double *out);

/* Appends one whole line (text without its newline) in one write: 0 or -1 (errno). */
int rundir_append_line(int fd, const char *text, size_t len);
/* Opens DIR/NAME for appending (created 0644).  fd, or -1 with errno. */
int rundir_open_append(const char *dir, const char *name);

/* ---- meta.json -------------------------------------------------------------------- */
struct rundir_meta {
    cJSON *root;               /* the whole document (owned), for fields not typed here */
    const char *run_id;        /* "" when absent */
    int64_t interval_ns;       /* interval_ns, interval_s or interval; 0 unknown */
    bool has_clock_offset;
    int64_t clock_offset_ns;   /* wall - mono of the run, exact */
    long long ticks_late;      /* the session's late ticks, -1 unknown */
    struct rundir_stamp started, ended; /* of the workload; zero when unknown */
    bool has_exit;             /* exit_code or exit_signal present */
    bool crashed;              /* non-zero exit code or killed by a signal */
    bool exit_code_valid;
    int exit_code;
    const char *exit_signal_name; /* "" when absent */
    bool complete;             /* "end" present and "complete" not false */
    int64_t end_mono_ns;       /* 0 when absent */
    const cJSON *argv;         /* workload argv (array) or NULL */
    const cJSON *gpu;          /* the "gpu" object or NULL */
    /* the plan's labels (experiment_labels): whole-run label and per-fault labels */
    const char *global_label, *global_root_cause, *global_stage;
    const cJSON *fault_labels; /* array of {fault_id, root_cause, expected_failure_stage,
                                  label_kind}, or NULL */
    /* workload.lifetimes, one per start (core/rundir-lifetimes.c); a run recorded
     * before them gets its one known start and end; none when it never started */
    struct rundir_lifetime *lifetimes;
    size_t nlifetimes;
};
struct rundir_lifetime {
    struct rundir_stamp started, ended; /* ended zero while (or if killed) running */
    bool has_exit, crashed, ended_by_moni;
    const char *resumed_from;  /* the checkpoint it resumed from, "" for a fresh start */
};
/* 0; -1 with "DIR/meta.json: ..." (missing, or "FILE:LINE: ..." syntax) in err. */
int rundir_meta_load(const char *dir, struct rundir_meta *m, char *err, size_t errlen);
void rundir_meta_free(struct rundir_meta *m);
/* Writes root (pretty-printed, then a newline) as DIR/meta.json atomically (a
 * temporary file, fsync, rename).  0, or -1 with err. */
int rundir_meta_write(const char *dir, const cJSON *root, char *err, size_t errlen);
/* The writer's side of workload.lifetimes (the array is the caller's): a new
 * lifetime at t; then its end (the last open one).  0 or -1 (out of memory). */
int rundir_lifetime_begin(cJSON *lifetimes, const struct moni_stamp *t, int pid,
                          const char *resumed_from);
void rundir_lifetime_end(cJSON *lifetimes, const struct moni_stamp *t, int exit_code,
                         int exit_signal, bool ended_by_moni);
/* Fills m->lifetimes from m->root (rundir_meta_load calls it). */
void rundir_meta_lifetimes(struct rundir_meta *m);

/* ---- samples.csv ------------------------------------------------------------------
 * timestamp,mono_ns, then one column per metric; a missing value is an empty cell. */
struct rundir_samples {
    struct rundir_lines l;
    size_t ncols;              /* metric columns (timestamp and mono_ns excluded) */
    char **names;              /* their names */
    int ts_field, mono_field;  /* field index of timestamp / mono_ns, -1 if absent */
    int nfields;
    int *map;                  /* field -> metric column, -1 for the clocks; a reader
                                  may set -1 for a column it does not read (not parsed) */
    double *val;
    unsigned char *valid;
};
struct rundir_sample {
    const char *ts;            /* the timestamp as written, NULL without the column */
    int64_t mono;              /* 0 when absent or unreadable */
    int64_t real;              /* parsed from ts only when mono is 0, else 0 */
    const double *val;         /* ncols values, valid[c] = 0 for a missing cell */
    const unsigned char *valid;
};
/* Opens DIR/samples.csv and reads its header.  0, or -1 with err. */
int rundir_samples_open(struct rundir_samples *s, const char *dir, char *err, size_t errlen);
/* 1 row, 0 end, -1 bad line (wrong field count, no time at all; s->l.err). */
int rundir_samples_next(struct rundir_samples *s, struct rundir_sample *row);
void rundir_samples_close(struct rundir_samples *s);
/* The header of f's columns, and one row of f (obs_csv_header / obs_csv_row). */
int rundir_samples_write_header(int fd, const struct frame *f);
int rundir_samples_append(int fd, const struct frame *f);

/* ---- workload.idx: line,timestamp,mono_ns,stream ------------------------------------ */
struct rundir_idx {
    uint64_t line;
    const char *ts;            /* as written */
    int64_t mono;              /* 0 when unreadable */
    int64_t real;              /* parsed from ts; 0 when unreadable */
    int stream;                /* 1 stdout, 2 stderr */
};
int rundir_idx_open(struct rundir_lines *r, const char *dir);
/* 1, 0 end, -1 bad (no time); the header line is skipped. */
int rundir_idx_next(struct rundir_lines *r, struct rundir_idx *x);
int rundir_idx_append(int fd, uint64_t lineno, const struct moni_stamp *t, int stream);

/* ---- logs/: one log file per process of a multi-process workload ------------------------
 * Written by the workload itself (moni-rlsim); moni only reads them. */
struct rundir_logs {
    void *dp;                  /* DIR * */
    char dir[4096];            /* RUN_DIR/logs */
};
/* 0, or -1 when the run has no logs/ directory. */
int rundir_logs_open(struct rundir_logs *it, const char *run_dir);
/* The next file name in directory order (dot files skipped), NULL at the end. */
const char *rundir_logs_next(struct rundir_logs *it);
/* One log file whole (malloc'd, NUL-terminated), NULL on error. */
char *rundir_logs_read(const struct rundir_logs *it, const char *name, size_t *len);
void rundir_logs_close(struct rundir_logs *it);
/* Every log file of a run, in the order `moni diagnose` and `moni parse` read them:
 * workload.log (left out when logs/controller.log exists: moni-rlsim's controller
 * prints its log on stdout too, so it would count twice), then logs/ *.log, then the
 * other *.log next to workload.log, each group sorted by name.  *paths is
 * malloc'd ("RUN_DIR/logs/x.log"; free with rundir_paths_free).  0; -1 with
 * "RUN_DIR: ..." in err when there is none. */
int rundir_log_files(const char *run_dir, char ***paths, size_t *n, char *err, size_t errlen);
void rundir_paths_free(char **paths, size_t n);

/* ---- events.jsonl: one log-rule match per line ---------------------------------------- */
struct rundir_event {
    struct rundir_stamp t;
    const char *file, *rule, *kind, *event, *severity, *phase, *text;
    uint64_t line;
    const cJSON *fields;       /* object or NULL */
    const cJSON *labels;       /* array of root-cause labels or NULL */
    const cJSON *obj;
};
/* 1, 0 end, -1 bad (not JSON, no time). */
int rundir_event_next(struct rundir_jsonl *r, struct rundir_event *ev);
struct lp_record;
int rundir_event_append(int fd, const struct lp_record *rec); /* runner_event_json */

/* ---- faults.jsonl: the injector journal ------------------------------------------------
 * One spelling: "event" (armed fired effective stopped reverted failed), "fault_id",
 * "params", "requested_dose", "delivered_dose".  Older journals are read through
 * rundir_journal_compat. */
struct rundir_fault {
    struct rundir_stamp t;
    const char *event, *fault_id, *kind, *label_kind, *target, *mode, *reason, *dose_unit;
    const char *root_cause, *stage; /* plan labels, when journalled */
    const cJSON *params;       /* object or NULL */
    double requested_dose, delivered_dose; /* NaN when not journalled */
    const cJSON *obj;
    char target_buf[160];
};
/* 1, 0 end, -1 bad (not JSON, no fault_id or event). */
int rundir_fault_next(struct rundir_jsonl *r, struct rundir_fault *f);
/* Rewrites a journal object of an older spelling in place into the one above:
 * "state"/"transition" -> "event", "id" -> "fault_id", "parameters" -> "params",
 * "requested"/"delivered" and "dose": {"requested", "delivered"} -> *_dose, a
 * numeric target -> text, and no "label_kind" -> the kind's fault_ops.label_kind. */
void rundir_journal_compat(cJSON *o);
/* Appends a journal line for o at t: the clocks first, then o's members; the same
 * bytes as faults/'s fault_journal_line, which the injector and guardian use (faults/
 * may not call core; tests/unit/test_rundir_files.c checks that the two agree). */
int rundir_fault_append(int fd, const cJSON *o, struct moni_stamp t);

/* ---- marks.jsonl: operator notes ------------------------------------------------------- */
struct rundir_mark {
    struct rundir_stamp t;
    const char *note;
};
int rundir_mark_next(struct rundir_jsonl *r, struct rundir_mark *mk);
/* DIR/marks.jsonl for appending: fd or -1 (errno). */
int rundir_mark_open(const char *dir);
/* One line, made durable (fdatasync) before returning.  0 or -1 (errno). */
int rundir_mark_append(int fd, struct moni_stamp t, const char *note);

/* ---- alerts.jsonl: alert transitions -------------------------------------------------- */
struct rundir_alert {
    struct rundir_stamp t;
    const char *alert, *state, *severity, *summary;
    double value;              /* NaN when null (value_text then says why) */
    const cJSON *labels;
};
int rundir_alert_next(struct rundir_jsonl *r, struct rundir_alert *a);
/* label_key may be NULL (no labels). */
int rundir_alert_append(int fd, struct moni_stamp t, const char *alert, const char *state,
                        double value, const char *severity, const char *label_key,
                        const char *label_value, const char *summary);

/* ---- detections.jsonl: detector firings ----------------------------------------------- */
struct rundir_detection {
    struct rundir_stamp t;
    const char *detector;
    const char *label;         /* the root-cause label it names */
    char signals[256];         /* the "signals" array, ','-separated */
    double score, threshold;
    const char *evidence;
    double ttf_s;              /* predicted time to failure, NaN when none */
};
int rundir_detection_next(struct rundir_jsonl *r, struct rundir_detection *d);
/* One line for det (its own stamp): timestamp, mono_ns, detector, label, signals (an
 * array), score, threshold, ttf_s (null when none), evidence. */
int rundir_detection_append(int fd, const struct detection *det);

#endif /* MONI_RUNDIR_H */
