/* core/study-int.h — private to core/study*.c: the study directory's shared helpers. */
#ifndef MONI_STUDY_INT_H
#define MONI_STUDY_INT_H

#include <sys/types.h>

#include "core/base.h"

/* Writes a whole file atomically (a temporary file, fsync, rename): 0 or -1 with err. */
int study_write_file(const char *path, const char *text, size_t len, mode_t mode, char *err,
                     size_t errlen);
/* The same for a JSON document, pretty-printed with a final newline. */
int study_write_json(const char *path, const cJSON *o, mode_t mode, char *err, size_t errlen);
/* "logs" (the log panes only) or "full" (every pane). */
bool study_condition_known(const char *c);

#endif
