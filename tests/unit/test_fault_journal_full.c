/* tests/unit/test_fault_journal_full.c — issue 14, item 9: a journal line that cannot
 * be written (as on a full disk: here RLIMIT_FSIZE makes the append fail with EFBIG)
 * is counted in injector_stats.journal_errors, which the runner ends the run on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "faults/faults.h"

static void test_full_journal_counted(void **state)
{
    (void)state;
    char dir[256], sd[300], err[256];
    snprintf(dir, sizeof dir, "%s/moni-jfull-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(sd, sizeof sd, "%s/state", dir);
    setenv("MONI_STATE_DIR", sd, 1);
    char journal[400];
    snprintf(journal, sizeof journal, "%s/faults.jsonl", dir);
    enum { LIMIT = 64 * 1024 };
    FILE *fp = fopen(journal, "w"); /* the journal already at the limit */
    assert_non_null(fp);
    for (int i = 0; i < LIMIT; i++)
        fputc(i % 64 == 63 ? '\n' : ' ', fp);
    fclose(fp);
    struct injector *inj = injector_new(journal, "jfull", err, sizeof err);
    assert_non_null(inj);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim = {LIMIT, LIMIT};
    getrlimit(RLIMIT_FSIZE, &old);
    lim.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct injector_stats st;
    injector_stats(inj, &st);
    assert_int_equal(st.journal_errors, 0);
    struct fault_kv kv[1] = {{"load", "5%"}};
    int id = 0;
    assert_int_equal(injector_arm(inj, "cpu", kv, 1, NULL, 0, &id, err, sizeof err), 0);
    injector_stats(inj, &st);
    assert_true(st.journal_errors >= 1); /* the armed line */
    injector_free(inj);
    setrlimit(RLIMIT_FSIZE, &old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_journal_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
