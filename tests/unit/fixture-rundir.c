/* tests/unit/fixture-rundir.c — the scratch run directory of the unit tests (see
 * fixture-rundir.h).  Removes only what lies in the directory it made itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/base.h"
#include "tests/unit/fixture-rundir.h"

char fx_dir[PATH_MAX];

int fx_setup(void **state)
{
    (void)state;
    snprintf(fx_dir, sizeof fx_dir, "%s/moni-rundir-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(fx_dir));
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int fx_teardown(void **state)
{
    (void)state;
    /* depth first, links not followed: no shell, as in moni */
    return nftw(fx_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

void fx_put(const char *name, const char *text)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", fx_dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

char *fx_get(const char *name)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", fx_dir, name);
    char *t = moni_read_file(p, NULL);
    assert_non_null(t);
    return t;
}

void fx_iso(double sec, char *buf)
{
    moni_fmt_iso(REAL0 + S(sec), buf, MONI_ISO_LEN);
}
