/* tests/unit/test_rlsim_ckpt.c — parity checkpoints: write, read back, detect torn
 * and corrupted files. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "workloads/rlsim/rlsim.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/rlsim-ckpt-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[512];
    for (int par = 0; par < 2; par++) {
        for (int r = 0; r < 4; r++) {
            rlsim_ckpt_path(dir, par, r, p, sizeof p);
            unlink(p);
        }
        snprintf(p, sizeof p, "%s/ckpt_%s", dir, par ? "odd" : "even");
        rmdir(p);
    }
    rmdir(dir);
    return 0;
}

static void parity_paths(void **state)
{
    (void)state;
    char p[512];
    rlsim_ckpt_path("/c", 10, 2, p, sizeof p);
    assert_string_equal(p, "/c/ckpt_even/rank_2.pt");
    rlsim_ckpt_path("/c", 11, 0, p, sizeof p);
    assert_string_equal(p, "/c/ckpt_odd/rank_0.pt");
}

static void write_read_roundtrip(void **state)
{
    (void)state;
    size_t len = 300000;
    unsigned char *buf = malloc(len);
    rlsim_shard_fill(buf, len, 10, 1);
    char err[512];
    assert_int_equal(rlsim_ckpt_write(dir, 10, 1, buf, len, -1, 0, err, sizeof err), 0);
    void *d;
    size_t n;
    assert_int_equal(rlsim_ckpt_read(dir, 10, 1, &d, &n, err, sizeof err), 0);
    assert_int_equal(n, len);
    assert_memory_equal(d, buf, len);
    free(d);
    /* the other parity is independent and missing */
    assert_int_equal(rlsim_ckpt_read(dir, 11, 1, &d, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    free(buf);
}

static void truncated_write_is_detected(void **state)
{
    (void)state;
    size_t len = 200000;
    unsigned char *buf = malloc(len);
    rlsim_shard_fill(buf, len, 12, 0);
    char err[512];
    assert_int_equal(rlsim_ckpt_write(dir, 12, 0, buf, len, 100000, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "No space left on device"));
    void *d;
    size_t n;
    assert_int_equal(rlsim_ckpt_read(dir, 12, 0, &d, &n, err, sizeof err), -2);
    assert_non_null(strstr(err, "RuntimeError: corrupt checkpoint"));
    assert_non_null(strstr(err, "failed finding central directory"));
    /* a deadline already passed leaves an incomplete file too */
    assert_int_equal(rlsim_ckpt_write(dir, 12, 2, buf, len, -1, rlsim_now_ms() - 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "TimeoutError"));
    assert_int_equal(rlsim_ckpt_read(dir, 12, 2, &d, &n, err, sizeof err), -2);
    free(buf);
}

static void flipped_byte_fails_crc(void **state)
{
    (void)state;
    size_t len = 5000;
    unsigned char *buf = malloc(len);
    rlsim_shard_fill(buf, len, 13, 3);
    char err[512], p[512];
    assert_int_equal(rlsim_ckpt_write(dir, 13, 3, buf, len, -1, 0, err, sizeof err), 0);
    rlsim_ckpt_path(dir, 13, 3, p, sizeof p);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, 100), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, 100), 1);
    close(fd);
    void *d;
    size_t n;
    assert_int_equal(rlsim_ckpt_read(dir, 13, 3, &d, &n, err, sizeof err), -2);
    assert_non_null(strstr(err, "corrupted"));
    /* a stale file of the same parity (step 11 read as 13) is rejected */
    assert_int_equal(rlsim_ckpt_write(dir, 11, 3, buf, len, -1, 0, err, sizeof err), 0);
    assert_int_equal(rlsim_ckpt_read(dir, 13, 3, &d, &n, err, sizeof err), -2);
    free(buf);
}

/* A full disk: the rank file is a symlink to /dev/full, so every write fails with
 * ENOSPC the way a filled checkpoint directory does. */
static void disk_full_is_reported_and_detected(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0) {
        skip();
        return;
    }
    char sub[300], p[512], err[512];
    snprintf(sub, sizeof sub, "%s/ckpt_even", dir);
    mkdir(sub, 0755);
    rlsim_ckpt_path(dir, 14, 3, p, sizeof p);
    unlink(p);
    assert_int_equal(symlink("/dev/full", p), 0);
    size_t len = 100000;
    unsigned char *buf = calloc(1, len);
    assert_int_equal(rlsim_ckpt_write(dir, 14, 3, buf, len, -1, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "[Errno 28] No space left on device"));
    void *d;
    size_t n;
    assert_int_equal(rlsim_ckpt_read(dir, 14, 3, &d, &n, err, sizeof err), -2);
    assert_non_null(strstr(err, "corrupt checkpoint"));
    unlink(p);
    free(buf);
}

static void crc32_known_value(void **state)
{
    (void)state;
    assert_int_equal(rlsim_crc32("123456789", 9), 0xCBF43926u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parity_paths),
        cmocka_unit_test(write_read_roundtrip),
        cmocka_unit_test(truncated_write_is_detected),
        cmocka_unit_test(flipped_byte_fails_crc),
        cmocka_unit_test(disk_full_is_reported_and_detected),
        cmocka_unit_test(crc32_known_value),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
