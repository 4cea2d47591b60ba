/* tests/unit/fixture-detect.c — the synthetic run of the detector unit tests (see
 * fixture-detect.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/unit/fixture-detect.h"

static void on_det(const struct detection *det, void *arg)
{
    struct sim *s = arg;
    if (s->ngot < (int)MONI_ARRAY_LEN(s->got))
        s->got[s->ngot++] = *det;
}

struct sim *sim_open(const char *const *names, int ncols, unsigned seed)
{
    struct sim *s = calloc(1, sizeof *s);
    assert_non_null(s);
    det_config_defaults(&s->cfg);
    s->d = detect_new(&s->cfg, on_det, s);
    frame_init(&s->f);
    for (int i = 0; i < ncols; i++)
        assert_int_equal(frame_add(&s->f, names[i], "", METRIC_GAUGE), i);
    s->seed = seed;
    return s;
}

void sim_free(struct sim *s)
{
    detect_free(s->d);
    frame_free(&s->f);
    det_config_free(&s->cfg);
    free(s);
}

double noise(struct sim *s)
{
    s->seed = s->seed * 1103515245u + 12345u;
    return ((s->seed >> 8) % 20001) / 10000.0 - 1.0;
}

int64_t at(double t) { return (int64_t)(1000e9 + t * 1e9); }

double det_t(const struct detection *d) { return (d->mono_ns - at(0)) / 1e9; }

const struct detection *first_of(const struct sim *s, const char *detector)
{
    for (int i = 0; i < s->ngot; i++)
        if (strcmp(s->got[i].detector, detector) == 0)
            return &s->got[i];
    return NULL;
}
