/* tests/unit/fixture-detect.h — a synthetic run for the detector unit tests: one
 * frame of named gauge columns a tick, the detector fed by the test, and every
 * detection it reports collected.  Linked into every unit test (build/libtestfix.a);
 * include it after <cmocka.h>.  Never used by moni itself. */
#ifndef MONI_TESTS_FIXTURE_DETECT_H
#define MONI_TESTS_FIXTURE_DETECT_H

#include <stdint.h>

#include "core/core.h"

struct sim {
    struct det_config cfg;
    struct detect *d;
    struct frame f;
    struct detection got[64]; /* the first 64 detections */
    int ngot;
    unsigned seed;
    double step, next_log; /* the synthetic training loop, for tests that keep one a run */
};

/* A detector on the default configuration and a frame whose column i is names[i]
 * (a gauge); SEED starts noise's sequence.  sim_free undoes it. */
struct sim *sim_open(const char *const *names, int ncols, unsigned seed);
void sim_free(struct sim *s);

/* Uniform noise in [-1, 1], the same sequence for the same seed. */
double noise(struct sim *s);
/* The monotonic time T seconds into the run (mono 1000 s at T = 0). */
int64_t at(double t);
/* Seconds into the run of a detection. */
double det_t(const struct detection *d);
/* The first detection by DETECTOR, or NULL. */
const struct detection *first_of(const struct sim *s, const char *detector);

#endif
