/* core/runner-int.h — internal to core/runner*.c: the per-process log follower
 * (core/runner-logs.c) the runner uses for multi-process workloads. */
#ifndef MONI_RUNNER_INT_H
#define MONI_RUNNER_INT_H

#include <stdbool.h>

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

#endif
