/* core/plan-int.h — internal to core/plan*.c: the plan's fixed schema
 * (core/plan-schema.c). */
#ifndef MONI_PLAN_INT_H
#define MONI_PLAN_INT_H

#include "core/base.h"

/* item: the plan's "schema" (an array of column names, or a file name relative to
 * plan_path).  0 and *out (NULL-terminated, free with plan_schema_free), or -1 with
 * "FILE:LINE: schema: what" in err. */
int plan_schema_parse(const struct moni_json *doc, const cJSON *item, const char *plan_path,
                      char ***out, char *err, size_t errlen);
void plan_schema_free(char **schema);

#endif
