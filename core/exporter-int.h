/* core/exporter-int.h — private to the Prometheus exporter: the server
 * (core/exporter.c) asks the exposition renderer (core/exposition.c) for the text
 * of each publish.  What others use is in core.h (exporter_*). */
#ifndef MONI_EXPORTER_INT_H
#define MONI_EXPORTER_INT_H

#include "core/core.h"

/* The frame's columns mapped to metric families, kept between publishes: mapping
 * names is the expensive part of rendering and the columns rarely change. */
struct expo_plan;
struct expo_plan *expo_plan_new(void);
void expo_plan_free(struct expo_plan *p); /* NULL is fine */

/* The exposition text of f (NULL: no frame yet) and x (NULL: none), remapping the
 * plan first when f's columns changed; malloc'd, *len its length.  NULL when out of
 * memory (the caller keeps serving its previous text).  ident (NULL or "": none)
 * is `key="value",...` added after every sample's own labels. */
char *expo_render(struct expo_plan *p, const struct frame *f, const struct exporter_extra *x,
                  const char *ident, size_t *len);
/* The job_id/node/rank labels of id as ident wants them; "" outside a job. */
void expo_identity_labels(const struct prom_identity *id, char *out, size_t cap);

#endif
