/* tests/unit/fixture-rundir.h — a scratch run directory for the unit tests that write
 * run files by hand (samples.csv, meta.json, the journal, ...) and check what moni reads
 * or derives from them.  Linked into every unit test (build/libtestfix.a); include it
 * after <cmocka.h>.  Never used by moni itself. */
#ifndef MONI_TESTS_FIXTURE_RUNDIR_H
#define MONI_TESTS_FIXTURE_RUNDIR_H

#include <limits.h>
#include <stdint.h>

/* Base times of a hand-written run: wall 2026-11-25T10:00:00.000Z at mono 1000 s. */
#define REAL0 1795600800000000000LL
#define MONO0 1000000000000LL
#define S(x) ((int64_t)((x) * 1e9))

/* The run directory of the test that is running (fx_setup makes it). */
extern char fx_dir[PATH_MAX];

/* cmocka setup and teardown: a fresh fx_dir under $TMPDIR (else /tmp); then fx_dir
 * and everything the test and moni left in it removed. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* A test that runs in a fresh fx_dir of its own. */
#define FX_RUNDIR_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

/* fx_dir/NAME written with TEXT (the test fails when it cannot be). */
void fx_put(const char *name, const char *text);
/* fx_dir/NAME read whole (malloc'd; the test fails when it cannot be). */
char *fx_get(const char *name);
/* The ISO 8601 time of REAL0 + SEC seconds into BUF (MONI_ISO_LEN bytes). */
void fx_iso(double sec, char *buf);

#endif
