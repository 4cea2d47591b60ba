/* Unit test for the fs source's fs_out_used_pct: df(1)'s arithmetic, not
 * 1 - free/blocks (which counts the root-reserved blocks as free). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "core/obs-int.h"

static void test_used_pct_as_df(void **state)
{
    (void)state;
    /* 1000 blocks, 930 free, 311 available to users (619 reserved or otherwise
     * unavailable): used = 1000 - 930 = 70; df: 70 / (70 + 311) = 18.373%.
     * 1 - free/blocks would say 7%. */
    assert_true(fabs(obs_fs_used_pct(1000, 930, 311) - 7000.0 / 381.0) < 1e-9);
    /* no reserve: both formulas agree, 250 of 1000 used = 25% */
    assert_true(fabs(obs_fs_used_pct(1000, 750, 750) - 25.0) < 1e-12);
    /* full for users: used 950, available 0 -> 100% */
    assert_true(fabs(obs_fs_used_pct(1000, 50, 0) - 100.0) < 1e-12);
    assert_true(isnan(obs_fs_used_pct(0, 0, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_used_pct_as_df)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
