/* core/report.h — reports for people after the fact: `moni report RUN` (a run's fault
 * propagation path and its key metrics over time) and blind MTTD studies (`moni study
 * new|report`: the study directory, the testers' answers, the scores and the
 * MTTD-by-scenario figure).  HTML with inline SVG written by hand: no network, no
 * JavaScript.  Run files are read only through core/rundir.h. */
#ifndef MONI_REPORT_H
#define MONI_REPORT_H

#include "core/base.h"

#define REPORT_MAX_COMP 24
#define REPORT_MAX_MARKS 64
#define REPORT_MAX_SERIES 6

/* A point in time of the run: seconds from the run's start, a label, a component row
 * (-1 when it belongs to none). */
struct report_mark {
    double t;
    int comp;
    char label[120];
};

struct report_series {
    char name[40];      /* "loss", "workload CPU %" */
    double *t, *v;
    size_t n, cap;
};

/* What the two run figures draw. */
struct report_run {
    char dir[4096];
    char run_id[80];
    double span_s;                      /* the run's length */
    char comp[REPORT_MAX_COMP][48];     /* "workload", or controller, train_worker_0, ... */
    size_t ncomp;
    struct report_mark first_error[REPORT_MAX_COMP]; /* t < 0: none */
    struct report_mark inject[8];       /* the fired faults (truth) */
    size_t ninject;
    struct report_mark dets[REPORT_MAX_MARKS]; /* detections (the machine) */
    size_t ndets;
    struct report_series series[REPORT_MAX_SERIES];
    size_t nseries;
};

/* Loads a run directory.  0, or -1 with err. */
int report_run_load(const char *dir, struct report_run *r, char *err, size_t errlen);
void report_run_free(struct report_run *r);
/* The earliest first error over all components; NaN when none. */
double report_first_error(const struct report_run *r);

/* HTML pieces (core/report-svg.c).  Text is escaped where it is written. */
void report_html_begin(FILE *out, const char *title);
void report_html_end(FILE *out);
void report_html_text(FILE *out, const char *s); /* escaped */
/* Figure 1: time on x, components on y: injections (unless blind), first errors,
 * detections.  Figure 2: the key metrics, injection and first error marked, the gap
 * labelled. */
void report_fig_path(FILE *out, const struct report_run *r, bool blind);
void report_fig_metrics(FILE *out, const struct report_run *r, bool blind);
/* The whole `moni report RUN` page. */
int report_run_html(const char *dir, bool blind, FILE *out, char *err, size_t errlen);

/* Grouped horizontal bars: per group (scenario) one bar per series (condition or the
 * machine), a bar's value its median and a whisker to its p90; NaN = no value. */
struct report_bars {
    const char *title, *unit;
    size_t ngroups, nseries;
    const char *const *groups, *const *series;
    const double *median, *p90; /* [group * nseries + series] */
    const size_t *attempts;     /* the same shape, or NULL: 0 says "no attempts" */
};
void report_fig_bars(FILE *out, const struct report_bars *b);

/* ---- blind studies (core/study*.c) ------------------------------------------------- */
struct study_new_opts {
    const char *const *runs; /* run directories, plan outputs, rlsim scenario dirs */
    size_t nruns;
    const char *const *testers;
    size_t ntesters;
    const char *const *conditions; /* NULL: "logs", "full" */
    size_t nconditions;
    const char *const *accept; /* "SCENARIO=LABEL,LABEL": the causes that count */
    size_t naccept;
    bool each_condition; /* every run in every condition (else each run once) */
    uint64_t seed;
};
/* Writes the study directory out (must not exist or be empty).  0, or -1 with err. */
int study_new(const char *out, const struct study_new_opts *o, char *err, size_t errlen);
/* Scores a study: writes STUDY/report/{scores.csv,scores.json,answers.csv,report.html}
 * and prints a summary to out.  0, or -1 with err ("FILE:LINE: field: what"). */
int study_report(const char *study, FILE *out, char *err, size_t errlen);

/* One answer of a tester (moni-dataset(5) ANSWERS FILES), appended as one line to
 * STUDY/testers/TESTER/answers.jsonl with the wall-clock time.  Checked against
 * study.json (tester, session, condition) first.  0, or -1 with err. */
struct study_answer {
    const char *tester, *session, *condition;
    const char *kind;          /* start detected cause log done */
    double replay_s;           /* NaN: not given */
    const char *cause, *component, *note, *file; /* NULL: not given */
    double confidence;         /* NaN: not given */
    long lines;                /* -1: not given */
};
int study_answer_append(const char *study, const struct study_answer *a, char *err, size_t errlen);

/* The root-cause labels a tester may answer with: the parser's vocabulary, the labels
 * the fault kinds' effects show as, sorted, and "healthy" (no fault) last.  Count. */
#define STUDY_LABEL_LEN 48
size_t study_cause_labels(char (*out)[STUDY_LABEL_LEN], size_t max);
/* Whether study.json knows the tester, session and condition: 0, or -1 with err. */
int study_context_check(const char *study, const char *tester, const char *session, const char *cond,
                        char *err, size_t errlen);

/* Plays the tester's sessions not yet done, in order, each in the blind replay on
 * this terminal (speed: its --speed, or NULL), with a prompt read from in between
 * them; `start` and `done` answers frame each.  0, or -1 with err. */
int study_run(const char *study, const char *tester, const char *speed, FILE *in, FILE *out,
              char *err, size_t errlen);

/* Order statistics of the study's scores: the median and the p-th percentile with
 * linear interpolation between closest ranks (numpy's default).  NaN when n is 0. */
double study_percentile(const double *v, size_t n, double p);

#endif /* MONI_REPORT_H */
