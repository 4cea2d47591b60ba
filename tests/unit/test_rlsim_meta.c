/* tests/unit/test_rlsim_meta.c — the MetaServer store and its HTTP front. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "workloads/rlsim/rlsim.h"

static void put_get_delete(void **state)
{
    (void)state;
    struct rlsim_meta *m = rlsim_meta_new();
    void *d;
    size_t n;
    rlsim_meta_put(m, "weights/v1/rank0", "abc", 3);
    assert_int_equal(rlsim_meta_get(m, "weights/v1/rank0", 0, &d, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "abc", 3);
    free(d);
    rlsim_meta_put(m, "weights/v1/rank0", "xy", 2); /* overwrite */
    assert_int_equal(rlsim_meta_get(m, "weights/v1/rank0", 0, &d, &n), 0);
    assert_int_equal(n, 2);
    free(d);
    assert_int_equal(rlsim_meta_count(m), 1);
    assert_int_equal(rlsim_meta_del(m, "weights/v1/rank0"), 0);
    assert_int_equal(rlsim_meta_del(m, "weights/v1/rank0"), -1);
    rlsim_meta_free(m);
}

static void missing_shard_waits_then_fails(void **state)
{
    (void)state;
    struct rlsim_meta *m = rlsim_meta_new();
    void *d;
    size_t n;
    int64_t t0 = rlsim_now_ms();
    assert_int_equal(rlsim_meta_get(m, "weights/v1/rank5", 150, &d, &n), -1);
    int64_t took = rlsim_now_ms() - t0;
    assert_true(took >= 140);
    assert_true(took < 2000);
    rlsim_meta_free(m);
}

struct late_put { struct rlsim_meta *m; };

static void *put_later(void *arg)
{
    struct late_put *lp = arg;
    rlsim_sleep_ms(100);
    rlsim_meta_put(lp->m, "k", "late", 4);
    return NULL;
}

static void long_poll_wakes_on_put(void **state)
{
    (void)state;
    struct rlsim_meta *m = rlsim_meta_new();
    struct late_put lp = {m};
    pthread_t t;
    pthread_create(&t, NULL, put_later, &lp);
    void *d;
    size_t n;
    int64_t t0 = rlsim_now_ms();
    assert_int_equal(rlsim_meta_get(m, "k", 5000, &d, &n), 0);
    assert_true(rlsim_now_ms() - t0 < 3000);
    assert_memory_equal(d, "late", 4);
    free(d);
    pthread_join(t, NULL);
    rlsim_meta_free(m);
}

static void commit_assembles_chunks(void **state)
{
    (void)state;
    struct rlsim_meta *m = rlsim_meta_new();
    rlsim_meta_put(m, "w/chunk0", "he", 2);
    assert_int_equal(rlsim_meta_commit(m, "w", 2), -1); /* chunk1 missing */
    rlsim_meta_put(m, "w/chunk1", "llo", 3);
    assert_int_equal(rlsim_meta_commit(m, "w", 2), 0);
    void *d;
    size_t n;
    assert_int_equal(rlsim_meta_get(m, "w", 0, &d, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(d, "hello", 5);
    free(d);
    assert_int_equal(rlsim_meta_count(m), 1); /* chunks consumed */
    rlsim_meta_free(m);
}

static void http_put_get_and_read_timeout(void **state)
{
    (void)state;
    struct rlsim_meta *m = rlsim_meta_new();
    int fd = rlsim_listen(0);
    assert_true(fd >= 0);
    int port = rlsim_socket_port(fd);
    assert_int_equal(rlsim_meta_serve(m, fd), 0);
    struct rlsim_http_msg r;
    assert_int_equal(rlsim_http_call(port, "PUT", "/kv/a/b", "data", 4, 2000, &r), 0);
    assert_int_equal(r.status, 200);
    rlsim_http_msg_free(&r);
    /* keep-alive: two requests on one connection */
    struct rlsim_http_conn c;
    assert_int_equal(rlsim_http_connect(&c, port, 2000), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rlsim_http_request(&c, "GET", "/kv/a/b", NULL, 0, 2000, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 4);
        assert_string_equal(r.body, "data");
        rlsim_http_msg_free(&r);
    }
    rlsim_http_close(&c);
    /* a missing shard with no wait: 404 */
    assert_int_equal(rlsim_http_call(port, "GET", "/kv/none", NULL, 0, 2000, &r), 0);
    assert_int_equal(r.status, 404);
    rlsim_http_msg_free(&r);
    /* a missing shard with a long wait: the reader's read timeout fires */
    int rc = rlsim_http_call(port, "GET", "/kv/none?wait_ms=60000", NULL, 0, 200, &r);
    assert_int_equal(rc, RLSIM_HTTP_TIMEOUT);
    char msg[512];
    rlsim_http_strerror(rc, port, "/kv/none", 200, msg, sizeof msg);
    assert_non_null(strstr(msg, "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='127.0.0.1', port="));
    assert_non_null(strstr(msg, "Read timed out. (read timeout=0.2)"));
    rlsim_meta_stop(m);
    close(fd);
    rlsim_meta_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_delete),
        cmocka_unit_test(missing_shard_waits_then_fails),
        cmocka_unit_test(long_poll_wakes_on_put),
        cmocka_unit_test(commit_assembles_chunks),
        cmocka_unit_test(http_put_get_and_read_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
