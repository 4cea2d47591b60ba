/* tests/unit/test_tui_top.c — the cluster console's queries and answers (tui/top-query.c)
 * and its HTTP client (tui/top-http.c): the one table query holds every column with
 * the job's matchers, answers become rows (only moni's targets make a row; a node is
 * down when any of its targets is), alerts are filtered by job and counted per node,
 * sorting keeps missing values last, and a chunked HTTP answer from a real socket is
 * read back whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tui/top-int.h"

static int col(const char *key)
{
    for (size_t i = 0; i < top_ncols; i++)
        if (!strcmp(top_cols[i].key, key))
            return (int)i;
    fail_msg("no column %s", key);
    return -1;
}

static void test_query(void **state)
{
    (void)state;
    char *q = top_table_query("j\"1");
    assert_non_null(q);
    for (size_t i = 0; i < top_ncols; i++) {
        char tag[64];
        snprintf(tag, sizeof tag, "\"moni_col\", \"%s\", \"\", \"\")", top_cols[i].key);
        if (!strstr(q, tag))
            fail_msg("column %s missing in %s", top_cols[i].key, q);
    }
    assert_non_null(strstr(q, "up{job_id=\"j\\\"1\"}"));          /* escaped job id */
    assert_non_null(strstr(q, "DCGM_FI_DEV_GPU_UTIL{node!=\"\"}")); /* no job_id there */
    assert_non_null(strstr(q, "node_cpu_seconds_total{mode=\"idle\",node!=\"\"}"));
    /* two series added, the exporter's as rates; then the fallback to 0 */
    assert_non_null(strstr(q, "sum by (node) (moni_disk_read_bytes_per_second{job_id=\"j\\\"1\"}) + "
                              "sum by (node) (moni_disk_write_bytes_per_second{job_id=\"j\\\"1\"}) or "
                              "sum by (node) (rate(node_disk_read_bytes_total{node!=\"\"}[1m])) + "));
    assert_non_null(strstr(q, "(moni_fault_active{job_id=\"j\\\"1\"}) or 0 * max by (node) ("));
    free(q);
    q = top_table_query(NULL);
    assert_non_null(strstr(q, "up{node!=\"\"}"));
    free(q);
    q = top_node_query("7", "n1");
    assert_non_null(strstr(q, "job_id=\"7\",node=\"n1\"}"));
    free(q);
}

static const char table_json[] =
    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
    "{\"metric\":{\"moni_col\":\"up\",\"node\":\"b\",\"rank\":\"1\"},\"value\":[1,\"1\"]},"
    "{\"metric\":{\"moni_col\":\"up\",\"node\":\"a\",\"rank\":\"0\"},\"value\":[1,\"1\"]},"
    "{\"metric\":{\"moni_col\":\"up\",\"node\":\"a\"},\"value\":[1,\"0\"]},"
    "{\"metric\":{\"moni_col\":\"cpu\",\"node\":\"a\"},\"value\":[1,\"42.5\"]},"
    "{\"metric\":{\"moni_col\":\"cpu\",\"node\":\"other\"},\"value\":[1,\"99\"]},"
    "{\"metric\":{\"moni_col\":\"loss\",\"node\":\"b\"},\"value\":[1,\"NaN\"]},"
    "{\"metric\":{\"moni_col\":\"hb\",\"node\":\"c\"},\"value\":[1,\"120\"]},"
    "{\"metric\":{\"moni_col\":\"steps\",\"node\":\"b\"},\"value\":[1,\"3.5\"]},"
    "{\"metric\":{\"moni_col\":\"steps\",\"node\":\"c\"},\"value\":[1,\"9\"]}"
    "]}}";

static const char alerts_json[] =
    "{\"status\":\"success\",\"data\":{\"alerts\":["
    "{\"labels\":{\"alertname\":\"MoniNodeStraggler\",\"node\":\"b\",\"job_id\":\"7\","
    "\"severity\":\"warning\"},\"annotations\":{\"summary\":\"slow\"},\"state\":\"firing\","
    "\"activeAt\":\"2026-01-01T00:00:00.5Z\",\"value\":\"1e+00\"},"
    "{\"labels\":{\"alertname\":\"Other\",\"node\":\"b\",\"job_id\":\"8\"},\"state\":\"firing\","
    "\"activeAt\":\"2026-01-01T00:00:00Z\"},"
    "{\"labels\":{\"alertname\":\"NodeLevel\",\"node\":\"a\"},\"state\":\"pending\","
    "\"activeAt\":\"2026-01-01T00:00:10Z\"}"
    "]}}";

static void test_parse(void **state)
{
    (void)state;
    struct top_model m = {0};
    char err[256];
    assert_int_equal(top_parse_table(&m, table_json, err, sizeof err), 0);
    assert_int_equal(m.nn, 3); /* a, b, c; "other" has no moni target */
    top_sort(&m, -1, false);
    assert_string_equal(m.nodes[0].node, "a");
    assert_string_equal(m.nodes[0].rank, "0");
    assert_true(m.nodes[0].ok[col("up")]);
    assert_true(m.nodes[0].v[col("up")] == 0); /* one of a's targets is down */
    assert_true(fabs(m.nodes[0].v[col("cpu")] - 42.5) < 1e-9);
    assert_true(isnan(m.nodes[1].v[col("loss")]));
    char cell[32];
    top_fmt_cell(&top_cols[col("loss")], true, m.nodes[1].v[col("loss")], cell, sizeof cell);
    assert_string_equal(cell, "NaN"); /* a NaN loss is not a missing one */
    top_fmt_cell(&top_cols[col("up")], true, 0, cell, sizeof cell);
    assert_string_equal(cell, "DOWN");
    top_fmt_cell(&top_cols[col("cpu")], false, 0, cell, sizeof cell);
    assert_string_equal(cell, "-");
    /* by steps/s descending: c (9), b (3.5), then a (missing) */
    top_sort(&m, col("steps"), true);
    assert_string_equal(m.nodes[0].node, "c");
    assert_string_equal(m.nodes[1].node, "b");
    assert_string_equal(m.nodes[2].node, "a");
    top_sort(&m, col("steps"), false); /* ascending: missing still last */
    assert_string_equal(m.nodes[2].node, "a");

    double now = 1767225600.0 + 30; /* 2026-01-01T00:00:30Z */
    assert_int_equal(top_parse_alerts(&m, alerts_json, "7", now, err, sizeof err), 0);
    assert_int_equal(m.na, 2); /* job 8's alert left out; a's node-level one kept */
    assert_string_equal(m.alerts[0].name, "MoniNodeStraggler"); /* firing first */
    assert_true(fabs(m.alerts[0].age_s - 29.5) < 1e-6);
    assert_string_equal(m.alerts[1].state, "pending");
    for (size_t i = 0; i < m.nn; i++)
        assert_int_equal((int)m.nodes[i].v[TOP_COL_ALERTS], !strcmp(m.nodes[i].node, "b"));

    assert_int_equal(top_parse_table(&m, "{\"status\":\"error\",\"error\":\"parse error\"}", err,
                                     sizeof err), -1);
    assert_non_null(strstr(err, "parse error"));
    assert_int_equal(top_parse_table(&m, "<html>", err, sizeof err), -1);
    top_model_free(&m);
}

static void test_url(void **state)
{
    (void)state;
    struct top_url u;
    char err[256];
    assert_int_equal(top_url_parse("http://prom.example:9091/pfx/", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "prom.example");
    assert_string_equal(u.port, "9091");
    assert_string_equal(u.prefix, "/pfx");
    assert_int_equal(top_url_parse("localhost", &u, err, sizeof err), 0);
    assert_string_equal(u.port, "9090");
    assert_int_equal(top_url_parse("https://x", &u, err, sizeof err), -1);
    assert_int_equal(top_url_parse("http://x:99999", &u, err, sizeof err), -1);
    char *e = top_urlencode("up{a=\"b c\"}");
    assert_string_equal(e, "up%7Ba%3D%22b%20c%22%7D");
    free(e);
}

/* A one-shot server answering with a chunked body split across writes. */
static void test_http_chunked(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    assert_int_equal(listen(lfd, 1), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int c = accept(lfd, NULL, NULL);
        char req[4096];
        ssize_t n = recv(c, req, sizeof req - 1, 0);
        req[n > 0 ? n : 0] = '\0';
        const char *ok = strstr(req, "GET /p/api/v1/query?query=up HTTP/1.1\r\n") ? "" : "BAD";
        char resp[512];
        int l = snprintf(resp, sizeof resp,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "transfer-encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n%x\r\n1%s}\r\n0\r\n\r\n",
                         (unsigned)(2 + strlen(ok)), ok);
        send(c, resp, (size_t)l / 2, 0);
        usleep(20000);
        send(c, resp + l / 2, (size_t)(l - l / 2), 0);
        close(c);
        _exit(0);
    }
    close(lfd);
    struct top_url u = {.host = "127.0.0.1", .prefix = "/p"};
    snprintf(u.port, sizeof u.port, "%d", ntohs(sa.sin_port));
    struct top_buf b = {0};
    int status = 0;
    char err[256];
    assert_int_equal(top_http_get(&u, "/api/v1/query?query=up", 3000, &b, &status, err, sizeof err), 0);
    assert_int_equal(status, 200);
    assert_string_equal(b.p, "{\"a\":1}");
    assert_true(b.received > b.len);
    free(b.p);
    waitpid(pid, NULL, 0);
    /* nobody listening: one error, no hang */
    snprintf(u.port, sizeof u.port, "%d", ntohs(sa.sin_port));
    assert_int_equal(top_http_get(&u, "/", 1000, &b, &status, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_http_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
