/* tests/unit/test_rlsim_http.c — rlsim's HTTP parser, query strings, unit parsing,
 * the control file and the command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "workloads/rlsim/rlsim.h"

static void parse_request_complete(void **state)
{
    (void)state;
    const char *req = "PUT /kv/a?x=1 HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\n\r\nabcEXTRA";
    struct rlsim_http_msg m;
    long n = rlsim_http_parse(req, strlen(req), 1, &m);
    assert_int_equal(n, (long)strlen(req) - 5);
    assert_string_equal(m.method, "PUT");
    assert_string_equal(m.path, "/kv/a?x=1");
    assert_int_equal(m.body_len, 3);
    assert_string_equal(m.body, "abc");
    assert_int_equal(m.keep_alive, 1);
    rlsim_http_msg_free(&m);
}

static void parse_request_incomplete(void **state)
{
    (void)state;
    struct rlsim_http_msg m;
    const char *a = "GET /health HTTP/1.1\r\nHost: h\r\n";
    assert_int_equal(rlsim_http_parse(a, strlen(a), 1, &m), 0);
    const char *b = "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc";
    assert_int_equal(rlsim_http_parse(b, strlen(b), 1, &m), 0);
    const char *c = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_int_equal(rlsim_http_parse(c, strlen(c), 1, &m), (long)strlen(c));
    assert_int_equal(m.keep_alive, 0);
    assert_int_equal(m.body_len, 0);
    rlsim_http_msg_free(&m);
}

static void parse_rejects_malformed(void **state)
{
    (void)state;
    struct rlsim_http_msg m;
    const char *bad[] = {
        "GET\r\n\r\n",
        "get / HTTP/1.1\r\n\r\n",
        "GET / FTP/1.0\r\n\r\n",
        "GET noslash HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColonHere\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(rlsim_http_parse(bad[i], strlen(bad[i]), 1, &m), -1);
    const char *resp_bad[] = {"HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 99 X\r\n\r\n", "FOO\r\n\r\n"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rlsim_http_parse(resp_bad[i], strlen(resp_bad[i]), 0, &m), -1);
}

static void parse_response(void **state)
{
    (void)state;
    const char *r = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!";
    struct rlsim_http_msg m;
    assert_int_equal(rlsim_http_parse(r, strlen(r), 0, &m), (long)strlen(r));
    assert_int_equal(m.status, 500);
    assert_string_equal(m.body, "oops!");
    rlsim_http_msg_free(&m);
}

static void query_values(void **state)
{
    (void)state;
    char v[16];
    assert_int_equal(rlsim_http_query("/g?step=3&n=16", "n", v, sizeof v), 0);
    assert_string_equal(v, "16");
    assert_int_equal(rlsim_http_query("/g?step=3&n=16", "step", v, sizeof v), 0);
    assert_string_equal(v, "3");
    assert_int_equal(rlsim_http_query("/g?stepx=3", "step", v, sizeof v), -1);
    assert_int_equal(rlsim_http_query("/g", "step", v, sizeof v), -1);
    assert_int_equal(rlsim_http_query_long("/g?wait_ms=250", "wait_ms", 0), 250);
    assert_int_equal(rlsim_http_query_long("/g?wait_ms=x", "wait_ms", 7), 7);
}

static void units(void **state)
{
    (void)state;
    long ms;
    uint64_t b;
    assert_int_equal(rlsim_parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(rlsim_parse_duration_ms("1.5s", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(rlsim_parse_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(rlsim_parse_duration_ms("3", &ms), 0);
    assert_int_equal(ms, 3000);
    assert_int_equal(rlsim_parse_duration_ms("-1s", &ms), -1);
    assert_int_equal(rlsim_parse_duration_ms("5q", &ms), -1);
    assert_int_equal(rlsim_parse_size("16G", &b), 0);
    assert_true(b == 16ull << 30);
    assert_int_equal(rlsim_parse_size("512KiB", &b), 0);
    assert_true(b == 512ull << 10);
    assert_int_equal(rlsim_parse_size("1.5M", &b), 0);
    assert_true(b == 3ull << 19);
    assert_int_equal(rlsim_parse_size("12X", &b), -1);
}

static void control_file(void **state)
{
    (void)state;
    char path[256], v[64];
    const char *t = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/rlsim-ctl-XXXXXX", t && *t ? t : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\n"
                       "train_worker.3.gpu_mem_extra = 6G @ 5\n"
                       "rollout_worker.*.work_factor=4\n"
                       "rollout_worker.1.work_factor=9\n"
                       "scheduler.delay_ms=30000\n"
                       "garbage line\n";
    assert_int_equal(write(fd, text, strlen(text)), (long)strlen(text));
    close(fd);
    assert_int_equal(rlsim_ctl_lookup(path, "train_worker", 3, "gpu_mem_extra", 4, v, sizeof v), -1);
    assert_int_equal(rlsim_ctl_lookup(path, "train_worker", 3, "gpu_mem_extra", 5, v, sizeof v), 0);
    assert_string_equal(v, "6G");
    assert_true(rlsim_ctl_num(path, "train_worker", 3, "gpu_mem_extra", 9, 0) == (double)(6ull << 30));
    assert_true(rlsim_ctl_num(path, "train_worker", 2, "gpu_mem_extra", 9, 0) == 0);
    assert_true(rlsim_ctl_num(path, "rollout_worker", 0, "work_factor", 1, 1) == 4);
    assert_true(rlsim_ctl_num(path, "rollout_worker", 1, "work_factor", 1, 1) == 9);
    assert_true(rlsim_ctl_num(path, "scheduler", -1, "delay_ms", 1, 0) == 30000);
    assert_true(rlsim_ctl_num("/nonexistent/x", "scheduler", -1, "delay_ms", 1, 5) == 5);
    unlink(path);
}

static void command_line(void **state)
{
    (void)state;
    struct rlsim_config c;
    char *a1[] = {"moni-rlsim", "--quick", "--request-timeout", "3s", "--train-workers", "8",
                  "--rollout-workers=8", "--train-meta-port", "5=7005", NULL};
    assert_int_equal(rlsim_parse_args(&c, 9, a1), 0);
    assert_int_equal(c.request_timeout_ms, 3000); /* explicit: not scaled */
    assert_int_equal(c.rpc_timeout_ms, 9000);     /* default 90s x 0.1 */
    assert_int_equal(c.train_workers, 8);
    assert_int_equal(c.rollout_workers, 8);
    assert_int_equal(c.train_meta_port[5], 7005);
    assert_int_equal(c.batch_size, 64);
    char *a2[] = {"moni-rlsim", "--train-workers", "3", NULL};
    assert_int_equal(rlsim_parse_args(&c, 3, a2), 0);
    assert_int_equal(c.batch_size % 12, 0); /* lcm(3,4) multiple */
    char *bad1[] = {"moni-rlsim", "--nope", NULL};
    assert_int_equal(rlsim_parse_args(&c, 2, bad1), 2);
    char *bad2[] = {"moni-rlsim", "--colocate", "--train-workers", "2", NULL};
    assert_int_equal(rlsim_parse_args(&c, 4, bad2), 2);
    char *bad3[] = {"moni-rlsim", "--base-port", "70000", NULL};
    assert_int_equal(rlsim_parse_args(&c, 3, bad3), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_request_complete),
        cmocka_unit_test(parse_request_incomplete),
        cmocka_unit_test(parse_rejects_malformed),
        cmocka_unit_test(parse_response),
        cmocka_unit_test(query_values),
        cmocka_unit_test(units),
        cmocka_unit_test(control_file),
        cmocka_unit_test(command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
