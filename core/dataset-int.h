/* core/dataset-int.h — private to the dataset builder (core/dataset.c: reading the
 * raw files through core/rundir; dataset-grid.c: the grid; dataset-labels.c: faults
 * and labels; dataset-write.c: the derived files), the validator (core/validate.c)
 * and their unit tests.  Everything others use is in core.h (dataset_build,
 * dataset_validate). */
#ifndef MONI_DATASET_INT_H
#define MONI_DATASET_INT_H

#include <limits.h>

#include "core/core.h"

enum ds_kind {
    DS_GAUGE,   /* mean of the samples in the cell */
    DS_COUNTER, /* per-second rate between the last samples of two cells */
    DS_FLAG,    /* max (0/1) of the events in the cell */
    DS_AGE,     /* seconds since the last log line at the cell's end */
};

struct ds_col {
    char *name;
    enum ds_kind kind;
};

enum ds_label_kind { DS_LABEL_POINT, DS_LABEL_INTERVAL, DS_LABEL_GLOBAL };

/* One fault from faults.jsonl (times: CLOCK_MONOTONIC ns, 0 = that transition never
 * happened). */
struct ds_fault {
    char id[64];
    char kind[32];
    char target[128];
    char root_cause[96];
    char stage[64];
    char params[512];      /* compact JSON of the parameters, for ground_truth notes */
    enum ds_label_kind label_kind;
    int64_t armed, fired, effective, stopped, reverted, failed;
    /* the journal's own wall stamps of fired/effective/stopped/reverted/failed, so
     * ground_truth.csv repeats them to the millisecond */
    int64_t stamp_mono[5];
    char stamp_iso[5][32];
    int64_t start, end, effect_end; /* the label window (effect_end >= end) */
    double requested_dose, delivered_dose; /* NaN when not journalled */
    char affected[1024];   /* ';'-separated channel names */
    bool labelled;         /* fired (or effective): gets labels */
};

struct ds {
    char dir[PATH_MAX];
    int64_t grid_ns;
    int64_t offset_ns;  /* real = mono + offset (from samples.csv) */
    int64_t t0_mono;    /* start of row 0 (aligned to the grid in real time) */
    size_t nrows, ncols;
    struct ds_col *cols;
    double *val;           /* nrows * ncols */
    unsigned char *valid;  /* nrows * ncols */
    unsigned char *phase;  /* per row: index into ds_phase_names */
    unsigned char *anomaly;  /* per row */
    size_t nfaults;
    struct ds_fault *faults;
    /* whole-run label from meta.json (plan experiment "global") */
    char global_label[96], global_root_cause[96], global_stage[64];
    /* raw quality figures */
    size_t nsamples, bad_lines, nonmonotonic, late_ticks, raw_gaps, gap_cells, gap_runs;
    size_t nevents, nlog_lines;
    int64_t interval_ns;   /* sampling interval (meta.json or median spacing) */
    long long meta_late;   /* the session's own late-tick count, -1 if unknown */
    int64_t first_mono, last_mono; /* of the samples */
    int64_t workload_start, workload_end; /* mono, 0 unknown: first start, last end */
    /* every lifetime of the workload (meta.json workload.lifetimes): [start, end)
     * in mono, end 0 when unknown; between two of them the phase is "dead" */
    struct ds_lifetime {
        int64_t start, end;
    } *lives;
    size_t nlives;
    bool has_exit, crashed;
    size_t ntorn;          /* files that end in a torn line (killed, disk full) */
    char torn[256];        /* where: "samples.csv line 35, faults.jsonl line 4" */
    int64_t span_lo, span_hi; /* the run's own start/end (meta.json, mono), 0 unknown */
    size_t outliers;       /* samples far outside the run's span, left out */
    bool incomplete;       /* meta.json has no end: the run was killed */
    /* the detectors over the same raw files (core/detect-run.c): onsets in time order */
    struct detection *dets;
    size_t ndets;
    bool dets_ran;
    bool has_live_detections; /* detections.jsonl exists already */
    /* samples.csv columns no sample fills (gpu0_* without a GPU): left out of the
     * matrix, named in meta.json */
    char **left_out;
    size_t nleft_out;
    /* meta.json "dataset_schema" (a plan's fixed schema): tse_matrix.csv has exactly
     * these columns, in this order; one the run cannot fill is empty */
    char **schema;
    size_t nschema;
    /* meta.json as ds_load read it (have_meta): the detectors and the dataset
     * writer use this one copy instead of reading the file again */
    struct rundir_meta meta;
    bool have_meta;
};
/* After reading a file to its end: notes a torn last line (and the run incomplete). */
struct rundir_lines;
void ds_note_torn(struct ds *d, const struct rundir_lines *l);

extern const char *const ds_phase_names[]; /* "startup" "train" ... indexed by phase[] */

/* Reads the raw files of run_dir and aggregates them on the grid (grid_ns 0 = 1 s).
 * 0, or -1 with err (no samples.csv at all, unreadable files). */
/* 0; -1 with err; DS_BAD_INPUT (-2) when an input is there but unreadable (a
 * meta.json with a syntax error: err = "FILE:LINE: ..."). */
#define DS_BAD_INPUT (-2)
int ds_load(struct ds *d, const char *run_dir, int64_t grid_ns, char *err, size_t errlen);
void ds_free(struct ds *d);
int ds_find_col(const struct ds *d, const char *name);
static inline bool ds_get(const struct ds *d, size_t row, size_t col, double *v)
{
    size_t i = row * d->ncols + col;
    if (!d->valid[i])
        return false;
    *v = d->val[i];
    return true;
}
/* Row index of a monotonic time (clamped to the grid). */
size_t ds_row_of(const struct ds *d, int64_t mono);
/* Last row of a window (a window ending exactly on a cell boundary does not reach
 * into that cell). */
size_t ds_row_end_of(const struct ds *d, int64_t start, int64_t end);
/* Mean and standard deviation of a column over rows [a, b) where mask (may be NULL)
 * is 0; returns the number of valid finite values. */
size_t ds_stats(const struct ds *d, size_t col, size_t a, size_t b, const unsigned char *skip,
                double *mean, double *sd);


/* ---- between the files of the builder ---------------------------------------------- */
static inline void ds_copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* samples.csv as read: one row per sample, before the grid. */
struct ds_raw {
    size_t n, cap, ncols;
    int64_t *mono;
    double *val;          /* n * ncols */
    unsigned char *valid; /* n * ncols */
    char **names;
    bool *counter;        /* a cumulative column (rate per cell) */
};

/* dataset-grid.c: the columns and what fills them. */
enum { DS_PH_IDLE, DS_PH_STARTUP, DS_PH_TRAIN, DS_PH_EVAL, DS_PH_CKPT, DS_PH_CRASHED,
       DS_PH_FINISHED, DS_PH_DEAD };
struct ds_phase_change {
    int64_t t;
    int phase;
};
int ds_add_col(struct ds *d, const char *name, enum ds_kind kind);
/* The samples' columns (counters renamed to rates); colmap: raw column -> grid column,
 * -1 for a column no sample fills (left out, named in d->left_out).
 * *heartbeat: the samples carry a heartbeat of their own.  0 or -1. */
int ds_add_sample_cols(struct ds *d, const struct ds_raw *rs, int *colmap, bool *heartbeat);
/* The training metrics and the event flags from events.jsonl: first column of each. */
int ds_add_log_cols(struct ds *d, int *train0, int *flag0);
int ds_grid_alloc(struct ds *d);
void ds_fill_samples(struct ds *d, const struct ds_raw *rs, const int *colmap);
void ds_count_gaps(struct ds *d, const struct ds_raw *rs);
void ds_fill_log_index(struct ds *d, struct rundir_lines *idx, int col_rate, int col_age);
void ds_fill_events(struct ds *d, struct rundir_jsonl *ev, int train0, int flag0,
                    struct ds_phase_change **pc, size_t *npc);
/* The lifetimes' starts and the dead times between them, added to the changes. */
int ds_add_lifetime_changes(const struct ds *d, struct ds_phase_change **pc, size_t *npc);
void ds_fill_phases(struct ds *d, struct ds_phase_change *pc, size_t npc);

/* dataset-labels.c: the faults from the injector journal, their windows and effects. */
void ds_read_journal(struct ds *d, struct rundir_jsonl *journal);
void ds_apply_meta_labels(struct ds *d, const struct rundir_meta *meta);
void ds_compute_labels(struct ds *d);
bool ds_fault_covers(const struct ds *d, const struct ds_fault *f, size_t row);
const char *ds_label_kind_name(enum ds_label_kind k);

#endif
