/* core/runner-int.h — internal to core/runner*.c: the per-process log follower
 * (core/runner-logs.c) the runner uses for multi-process workloads. */
#ifndef MONI_RUNNER_INT_H
#define MONI_RUNNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lp_parser;
struct lp_record;
struct runner_logs;

struct runner_logs *runner_logs_new(const char *dir, struct lp_parser *parser);
/* Call on every tick: looks at the files only every 500 ms; final reads everything
 * (and incomplete last lines) and flushes the sources. */
void runner_logs_poll(struct runner_logs *l, bool final);
/* Per-process latest warning / error, from the parser's records. */
void runner_logs_note_record(struct runner_logs *l, const struct lp_record *rec);
const struct runner_stage *runner_logs_stage(const struct runner_logs *l);
const struct runner_worker *runner_logs_workers(const struct runner_logs *l, size_t *n);
void runner_logs_free(struct runner_logs *l);

/* The live detectors of a run (core/runner-detect.c). */
struct runner;
struct runner_det;
struct session_workload;
struct frame;
struct detection;
/* config_path NULL: the user's or the shipped thresholds.  NULL with err on a bad file. */
struct runner_det *runner_det_new(struct runner *r, const char *config_path, bool quiet,
                                  char *err, size_t errlen);
void runner_det_start(struct runner_det *rd, const char *run_dir, int64_t start_mono);
void runner_det_record(struct runner_det *rd, const struct lp_record *rec);
void runner_det_tick(struct runner_det *rd, const struct frame *f);
void runner_det_exit(struct runner_det *rd, const struct session_workload *w);
int runner_det_on(struct runner_det *rd, void (*cb)(struct runner *, const struct detection *, void *),
                  void *arg);
size_t runner_det_list(const struct runner_det *rd, const struct detection **out);
const struct detect *runner_det_engine(const struct runner_det *rd);
void runner_det_free(struct runner_det *rd);

/* events.jsonl (core/runner-events.c): appends the line of rec (no newline) to j and
 * returns its length; 0 and nothing appended when it would be max bytes or more or
 * memory ran out (the line is dropped, as runner_event_json's full buffer does). */
struct moni_jbuf;
size_t runner_event_jb(const struct lp_record *rec, struct moni_jbuf *j, size_t max);

#endif
