/* logparse/logparse.h — what logparse/ exports: rule packs (PCRE2, JIT), a streaming
 * line parser that turns log bytes into metric / event / phase records, a running
 * "latest training state", a tail -F follower, and the root-cause diagnosis.
 *
 * Typical live use (one parser per session, fed from several log sources):
 *
 *   char err[512];
 *   struct lp_rules *rules = lp_rules_load(NULL, 0, LP_LOAD_BUILTIN | LP_LOAD_USER,
 *                                          err, sizeof err);
 *   if (!rules) { moni_err("%s", err); ... }          // err: "FILE:LINE: rule ID: ..."
 *   struct lp_parser *p = lp_parser_new(rules, on_record, ctx);
 *   lp_parser_feed(p, "workload.log", buf, n, moni_now());   // any chunking
 *   ...
 *   const struct lp_state *st = lp_parser_state(p);   // latest loss/lr/step/...
 *   lp_parser_flush(p, NULL);                         // at end of stream
 *
 * Records passed to the callback point into parser buffers and are valid only during
 * the call; keep one with lp_recset_add() (deep copy).  The parser is not thread-safe:
 * feed and read the state from one thread (copy struct lp_state by value to publish
 * a snapshot; it holds no pointers). */
#ifndef MONI_LOGPARSE_H
#define MONI_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/base.h"

/* ---- vocabulary ---------------------------------------------------------------- */
enum lp_kind { LP_KIND_METRIC, LP_KIND_EVENT, LP_KIND_PHASE };

enum lp_severity { LP_SEV_INFO, LP_SEV_WARNING, LP_SEV_ERROR, LP_SEV_CRITICAL };

/* Root-cause labels (one fixed vocabulary); a record carries a bit mask of them. */
enum lp_label {
    LP_LABEL_CUDA_OOM,             /* CUDA_OutOfMemory */
    LP_LABEL_HOST_OOM,             /* Host_OOM */
    LP_LABEL_NAN_LOSS,             /* NaN_Loss */
    LP_LABEL_NCCL_TIMEOUT,         /* NCCL_Timeout */
    LP_LABEL_NETWORK_TIMEOUT,      /* Network_Timeout */
    LP_LABEL_DATALOADER_STUCK,     /* DataLoader_Stuck */
    LP_LABEL_DISK_FULL,            /* Disk_Full */
    LP_LABEL_PERMISSION_DENIED,    /* Permission_Denied */
    LP_LABEL_CHECKPOINT_CORRUPT,   /* Checkpoint_Corrupt */
    LP_LABEL_CUDA_DRIVER_MISMATCH, /* CUDA_Driver_Mismatch */
    LP_LABEL_GPU_HARDWARE,         /* GPU_Hardware */
    LP_LABEL_MODEL_CODE_ERROR,     /* Model_Code_Error */
    LP_LABEL_PROCESS_KILLED,       /* Process_Killed */
    LP_LABEL_CLEANUP_FAILURE,      /* Cleanup_Failure */
    LP_LABEL_BATCH_MISMATCH,       /* Batch_Mismatch */
    /* also named by core's detectors from metrics and the process's fate */
    LP_LABEL_CPU_CONTENTION,       /* CPU_Contention */
    LP_LABEL_IO_BOTTLENECK,        /* IO_Bottleneck */
    LP_LABEL_MEMORY_LEAK,          /* Memory_Leak */
    LP_LABEL_NO_CONVERGENCE,       /* No_Convergence */
    LP_LABEL_PROCESS_HANG,         /* Process_Hang */
    LP_LABEL_NETWORK_DEGRADATION,  /* Network_Degradation */
    LP_LABEL_SLOWDOWN,             /* Slowdown */
    LP_LABEL_PROCESS_CRASH,        /* Process_Crash */
    LP_NLABELS
};
#define LP_LABEL_BIT(l) (1u << (l))

/* Phases of a training job.  Names: "startup", "train", "eval", "checkpoint_save",
 * "checkpoint_load", "rollout", "weight_update", "finished" (a phase rule's "event"
 * is one of these; plans trigger on them, e.g. "when": {"event": "checkpoint_save"}).
 * lp_phase_dataset_name() maps to the dataset's coarser column (checkpoint_* ->
 * "checkpoint", rollout/weight_update -> "train"). */
enum lp_phase {
    LP_PHASE_NONE,
    LP_PHASE_STARTUP,
    LP_PHASE_TRAIN,
    LP_PHASE_EVAL,
    LP_PHASE_CKPT_SAVE,
    LP_PHASE_CKPT_LOAD,
    LP_PHASE_ROLLOUT,
    LP_PHASE_WEIGHT_UPDATE,
    LP_PHASE_FINISHED,
    LP_NPHASES
};

const char *lp_kind_name(enum lp_kind k);           /* "metric" "event" "phase" */
const char *lp_severity_name(enum lp_severity s);   /* "info" "warning" "error" "critical" */
const char *lp_label_name(enum lp_label l);         /* "CUDA_OutOfMemory", ... */
const char *lp_phase_name(enum lp_phase p);         /* "none", "startup", ... */
const char *lp_phase_dataset_name(enum lp_phase p); /* "startup" "train" "eval" "checkpoint" "finished" */
int lp_label_from_name(const char *name);           /* -1 if unknown */
int lp_phase_from_name(const char *name);           /* -1 if unknown */
/* Writes "A,B" (sep between names) into buf; returns buf. */
char *lp_labels_format(uint32_t labels, const char *sep, char *buf, size_t len);

/* ---- rule packs ------------------------------------------------------------------
 * Format: moni-rules(5).  Packs are compiled once (PCRE2 + JIT) into one rule set
 * with a literal prefilter index, so most lines try very few regexes. */
struct lp_rules;
struct lp_rule; /* opaque; inspect with the accessors below */

enum {
    LP_LOAD_BUILTIN = 1 << 0, /* moni_data_dir("rules")/ *.json */
    LP_LOAD_USER = 1 << 1,    /* $XDG_CONFIG_HOME/moni/rules/ *.json (if present) */
};
/* Loads the built-in and/or user packs, then each of paths (a pack file or a
 * directory of *.json).  NULL on error with one line in err:
 * "FILE:LINE: rule ID: pattern: PCRE2 MESSAGE at offset N" and the like. */
struct lp_rules *lp_rules_load(const char *const *paths, size_t npaths, unsigned flags,
                               char *err, size_t errlen);
/* Piecewise construction (tests, fuzzing): new, add packs, then finish (builds the
 * prefilter index; required before use).  Each returns 0 or -1 with err filled. */
struct lp_rules *lp_rules_new(void);
int lp_rules_add_file(struct lp_rules *rs, const char *path, char *err, size_t errlen);
int lp_rules_add_dir(struct lp_rules *rs, const char *dir, char *err, size_t errlen);
int lp_rules_add_text(struct lp_rules *rs, const char *name, const char *text, size_t len,
                      char *err, size_t errlen);
int lp_rules_finish(struct lp_rules *rs, char *err, size_t errlen);
void lp_rules_free(struct lp_rules *rs);

size_t lp_rules_count(const struct lp_rules *rs);
const struct lp_rule *lp_rules_at(const struct lp_rules *rs, size_t i);
const struct lp_rule *lp_rules_find(const struct lp_rules *rs, const char *id);
const char *lp_rule_id(const struct lp_rule *r);
const char *lp_rule_pattern(const struct lp_rule *r);
const char *lp_rule_event(const struct lp_rule *r); /* event / phase name, or "" */
const char *lp_rule_action(const struct lp_rule *r); /* "" if none */
const char *lp_rule_pack(const struct lp_rule *r);   /* file it came from */
enum lp_kind lp_rule_kind(const struct lp_rule *r);
enum lp_severity lp_rule_severity(const struct lp_rule *r);
uint32_t lp_rule_labels(const struct lp_rule *r);
/* Runs the rule's own regex on one line (no prefilter): 1 match, 0 no match. */
int lp_rule_matches(const struct lp_rule *r, const char *line, size_t len);
/* The "tests" lines of a rule: which = 0 for "match", 1 for "nomatch". */
size_t lp_rule_ntests(const struct lp_rule *r, int which);
const char *lp_rule_test(const struct lp_rule *r, int which, size_t i);

/* ---- records --------------------------------------------------------------------- */
struct lp_field {
    const char *name;  /* metric or group name, normalised: "loss", "learning_rate", ... */
    const char *text;  /* the captured text */
    double num;        /* numeric value (nan/inf kept as such) when is_num */
    bool is_num;
    const char *raw;   /* the key as the log wrote it ("lm loss") when name is its
                        * canonical form (moni-rules(5) METRIC NAMES); else NULL */
    bool scaled;       /* num was converted (unit, scale, separators): text is not num */
    /* For writers, 0 when unknown (set by the parser, kept by lp_recset copies):
     * strlen(name) when the name is printable ASCII without " and \ (a JSON string
     * as it is), and strlen(text) when text is a JSON number as written */
    uint16_t name_len, json_len;
};

struct lp_record {
    enum lp_kind kind;
    const char *rule_id;    /* "hf_metrics", "cuda_oom", "unclassified", "line_truncated" */
    const char *event;      /* event or phase name ("" for metrics) */
    enum lp_severity severity;
    uint32_t labels;        /* LP_LABEL_BIT(...) mask */
    const char *action;     /* suggested action, "" if none */
    enum lp_phase phase;    /* for phase records; LP_PHASE_NONE otherwise */
    const char *source;     /* source name given to the parser ("controller.log") */
    uint64_t line_no;       /* 1-based line (LF-counted) in source */
    uint64_t first_line_no; /* first line of a grouped record (traceback), else line_no */
    const char *text;       /* the line, ANSI stripped (for a traceback: the exception line) */
    size_t text_len;
    bool truncated;         /* the line was longer than LP_MAX_LINE and was cut */
    struct moni_stamp recv; /* when the line was received */
    bool has_time;          /* a timestamp was found inside the line */
    int64_t time_ns;        /* ... as UTC ns (partial stamps completed from context) */
    size_t nfields;
    const struct lp_field *fields;
};
#define LP_MAX_LINE (1u << 20) /* longer lines are cut to this and flagged */

/* The record's best time: the in-line timestamp if any, else the receive time. */
int64_t lp_record_time(const struct lp_record *r);
/* Field lookup: NULL if absent. */
const struct lp_field *lp_record_field(const struct lp_record *r, const char *name);

/* A growable set of owned (deep-copied) records, e.g. everything of one run. */
struct lp_recset {
    struct lp_record *v;
    size_t n, cap;
};
void lp_recset_init(struct lp_recset *s);
int lp_recset_add(struct lp_recset *s, const struct lp_record *r); /* 0 or -1 (ENOMEM) */
void lp_recset_sort(struct lp_recset *s); /* by lp_record_time, stable */
void lp_recset_free(struct lp_recset *s);
/* Use as an lp_record_cb with arg = struct lp_recset * to collect everything. */
void lp_recset_collect(const struct lp_record *r, void *set);

/* ---- running state --------------------------------------------------------------- */
enum lp_metric {
    LP_M_LOSS,
    LP_M_LR,
    LP_M_GRAD_NORM,
    LP_M_STEP,
    LP_M_MAX_STEPS,
    LP_M_EPOCH,
    LP_M_IT_PER_S,       /* iterations (steps) per second */
    LP_M_SAMPLES_PER_S,
    LP_M_EVAL_LOSS,
    LP_M_EVAL_ACCURACY,
    LP_NMETRICS
};
const char *lp_metric_name(enum lp_metric m); /* "loss", "learning_rate", ... */

struct lp_state {
    double val[LP_NMETRICS];
    bool valid[LP_NMETRICS];      /* missing until a line reported it */
    int64_t updated_ns[LP_NMETRICS]; /* receive mono_ns of the last update */
    bool nan_seen;                /* a loss/grad was nan or inf at some point */
    uint64_t nan_count;
    enum lp_phase phase;          /* last phase record */
    int64_t phase_since_ns;       /* receive mono_ns */
    uint64_t lines, truncated_lines, metric_records, event_records, phase_records;
    uint64_t events_by_label[LP_NLABELS];
    uint64_t events_by_severity[4];
    uint64_t unclassified;        /* catch-all events: a rule is missing */
    /* The latest event of severity >= warning (copied, truncated). */
    char last_event_rule[64];
    char last_event_text[256];
    uint32_t last_event_labels;
    enum lp_severity last_event_severity;
    int64_t last_event_ns;        /* receive mono_ns, 0 if none */
};

/* ---- streaming parser ------------------------------------------------------------ */
struct lp_parser;
typedef void (*lp_record_cb)(const struct lp_record *r, void *arg);

struct lp_parser *lp_parser_new(const struct lp_rules *rules, lp_record_cb cb, void *arg);
void lp_parser_free(struct lp_parser *p);
/* Feeds raw bytes of one source in any chunking.  Lines end at LF, CRLF or a bare
 * CR; ANSI escapes are stripped; NUL bytes and invalid UTF-8 are tolerated. */
void lp_parser_feed(struct lp_parser *p, const char *source, const void *buf, size_t len,
                    struct moni_stamp recv);
/* Feeds one complete line (no terminator) of source. */
void lp_parser_line(struct lp_parser *p, const char *source, const char *line, size_t len,
                    struct moni_stamp recv);
/* End of stream for source (NULL = all): matches a pending partial line and closes
 * an open traceback. */
void lp_parser_flush(struct lp_parser *p, const char *source);
const struct lp_state *lp_parser_state(const struct lp_parser *p);
void lp_parser_reset_state(struct lp_parser *p);

/* Parses a timestamp inside a line (ISO 8601, "2026-11-25 21:33:17.123",
 * "[14:30:16.789]", syslog "Nov 25 21:33:17", glog "I1125 21:33:17.123456").
 * Partial stamps (no date / no year) are completed from ref_ns (UTC ns), choosing
 * the nearest.  Naive local times use the local UTC offset.  1 found, 0 not. */
int lp_parse_timestamp(const char *line, size_t len, int64_t ref_ns, int64_t *out_ns);

/* ---- tail -F ------------------------------------------------------------------------
 * Follows a file by name: survives truncation (reads from 0 again) and rotation
 * (drains the old file, then opens the new one); a missing file is retried. */
struct lp_follow;
struct lp_follow *lp_follow_open(const char *path, bool from_start);
/* Reads what is new (up to max bytes, 0 = no limit) and feeds it to p under source.
 * Returns bytes fed (0 if nothing new), -1 on a read error (retried next call). */
long lp_follow_poll(struct lp_follow *f, struct lp_parser *p, const char *source, size_t max);
void lp_follow_close(struct lp_follow *f);

/* ---- diagnosis ------------------------------------------------------------------- */
struct lp_evidence {
    const char *source;
    uint64_t line_no;
    int64_t time_ns;
    bool has_time;   /* in-line timestamp (else time_ns is the receive time) */
    const char *rule_id;
    uint32_t labels;
    enum lp_severity severity;
    const char *text;
};

struct lp_cause {
    enum lp_label label;      /* primary label */
    uint32_t labels;          /* all labels seen in this cluster */
    double score;
    bool consequence;         /* a consequence-type failure (timeout, cleanup, ...) */
    const char *action;       /* suggested action */
    size_t count;             /* events in this cluster */
    struct lp_evidence first; /* the first occurrence */
    struct lp_evidence *evidence; /* up to a few lines, first first */
    size_t nevidence;
    struct lp_evidence *explains; /* later errors this cause explains */
    size_t nexplains;
};

struct lp_diagnosis {
    size_t ncauses;
    struct lp_cause *causes;    /* ranked: causes[0] is the root cause */
    bool masked;                /* the last error is not the root cause */
    struct lp_evidence last_error; /* valid if has_last_error */
    bool has_last_error;
    size_t nevents, nerrors, nunclassified;
};

/* Ranks root-cause candidates from a set of records (any order; several sources are
 * merged by time).  Returns NULL only on allocation failure; with no error events
 * ncauses is 0. */
struct lp_diagnosis *lp_diagnose(const struct lp_recset *set);
void lp_diagnosis_free(struct lp_diagnosis *d);
cJSON *lp_diagnosis_json(const struct lp_diagnosis *d);
void lp_diagnosis_write_text(const struct lp_diagnosis *d, FILE *out);

/* Convenience for `moni diagnose` and the console's "diagnose now": parses files
 * (each named by its basename) or run directories (workload.log + logs/ *.log) into
 * set, keeping the kinds in the mask (LP_KINDS_ALL, or e.g.
 * LP_KIND_BIT(LP_KIND_EVENT) | LP_KIND_BIT(LP_KIND_PHASE)).  0, or -1 with err
 * ("PATH: No such file or directory"). */
#define LP_KIND_BIT(k) (1u << (k))
#define LP_KINDS_ALL 7u
int lp_parse_paths(const struct lp_rules *rules, const char *const *paths, size_t n,
                   unsigned kinds, struct lp_recset *set, char *err, size_t errlen);

#endif
