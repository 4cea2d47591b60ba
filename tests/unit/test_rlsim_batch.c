/* tests/unit/test_rlsim_batch.c — rlsim batch split, wire format and shape check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "workloads/rlsim/rlsim.h"

static void split_full_batch(void **state)
{
    (void)state;
    struct rlsim_share s[4];
    assert_int_equal(rlsim_batch_split(64, 4, 16, s), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s[i].start, i * 16);
        assert_int_equal(s[i].count, 16);
        assert_int_equal(s[i].expected, 16);
    }
}

static void split_short_batch_leaves_last_share_short(void **state)
{
    (void)state;
    struct rlsim_share s[4];
    assert_int_equal(rlsim_batch_split(48, 4, 16, s), 0);
    assert_int_equal(s[2].count, 16);
    assert_int_equal(s[3].count, 0);
    assert_int_equal(s[3].start, 48);
    assert_int_equal(rlsim_batch_split(40, 4, 16, s), 0);
    assert_int_equal(s[2].count, 8);
    assert_int_equal(s[3].count, 0);
}

static void split_rejects_bad_arguments(void **state)
{
    (void)state;
    struct rlsim_share s[2];
    assert_int_equal(rlsim_batch_split(10, 0, 5, s), -1);
    assert_int_equal(rlsim_batch_split(10, 2, 0, s), -1);
    assert_int_equal(rlsim_batch_split(-1, 2, 5, s), -1);
}

static void format_parse_roundtrip(void **state)
{
    (void)state;
    int lens[3] = {12, 400, 7}, out[8];
    char buf[128];
    assert_int_equal(rlsim_batch_format(lens, 3, buf, sizeof buf), 3);
    assert_string_equal(buf, "n=3 lens=12,400,7");
    assert_int_equal(rlsim_batch_parse(buf, out, 8), 3);
    assert_memory_equal(lens, out, sizeof lens);
    assert_int_equal(rlsim_batch_format(lens, 0, buf, sizeof buf), 0);
    assert_int_equal(rlsim_batch_parse(buf, out, 8), 0);
    assert_int_equal(rlsim_batch_format(lens, 3, buf, 8), -1); /* too small */
}

static void parse_rejects_malformed(void **state)
{
    (void)state;
    int out[4];
    assert_int_equal(rlsim_batch_parse("n=2 lens=1", out, 4), -1);
    assert_int_equal(rlsim_batch_parse("n=2 lens=1,x", out, 4), -1);
    assert_int_equal(rlsim_batch_parse("n=9 lens=1", out, 4), -1); /* over max */
    assert_int_equal(rlsim_batch_parse("lens=1", out, 4), -1);
    assert_int_equal(rlsim_batch_parse("n=1 lens=0", out, 4), -1);
    assert_int_equal(rlsim_batch_parse("n=1 lens=5 junk", out, 4), -1);
    assert_int_equal(rlsim_batch_parse("n=1 lens=5\n", out, 4), 1);
}

static void shape_check_names_both_sizes(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(rlsim_batch_check(16, 16, err, sizeof err), 0);
    assert_int_equal(rlsim_batch_check(0, 16, err, sizeof err), -1);
    assert_non_null(strstr(err, "RuntimeError: batch size mismatch"));
    assert_non_null(strstr(err, "(0)"));
    assert_non_null(strstr(err, "(16)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_full_batch),
        cmocka_unit_test(split_short_batch_leaves_last_share_short),
        cmocka_unit_test(split_rejects_bad_arguments),
        cmocka_unit_test(format_parse_roundtrip),
        cmocka_unit_test(parse_rejects_malformed),
        cmocka_unit_test(shape_check_names_both_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
