/* tests/unit/test_rlsim_master.c — moni-rlsim's --master-addr: the workers' connections
 * go to the address the name resolves to, and a name that does not resolve is a
 * NameResolutionError in the requests wording the log rules know. */
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

static void master_by_name(void **state)
{
    (void)state;
    int lfd = rlsim_listen(0);
    assert_true(lfd >= 0);
    int port = rlsim_socket_port(lfd);
    struct rlsim_http_conn c;
    rlsim_http_set_master("localhost");
    assert_int_equal(rlsim_http_connect(&c, port, 2000), RLSIM_HTTP_OK);
    rlsim_http_close(&c);

    rlsim_http_set_master("no-such-host.invalid");
    assert_int_equal(rlsim_http_connect(&c, port, 2000), RLSIM_HTTP_NAME);
    char msg[512];
    rlsim_http_strerror(RLSIM_HTTP_NAME, port, "/kv/weights/v2/rank0", 2000, msg, sizeof msg);
    assert_non_null(strstr(msg, "requests.exceptions.ConnectionError: HTTPConnectionPool("
                                "host='no-such-host.invalid'"));
    assert_non_null(strstr(msg, "NameResolutionError"));
    assert_non_null(strstr(msg, "Failed to resolve 'no-such-host.invalid'"));

    rlsim_http_set_master(""); /* back to loopback without a lookup */
    assert_int_equal(rlsim_http_connect(&c, port, 2000), RLSIM_HTTP_OK);
    rlsim_http_close(&c);
    close(lfd);
}

static void master_addr_option(void **state)
{
    (void)state;
    struct rlsim_config cfg;
    char *ok[] = {"moni-rlsim", "--master-addr", "rdzv.local", NULL};
    assert_int_equal(rlsim_parse_args(&cfg, 3, ok), 0);
    assert_string_equal(cfg.master_addr, "rdzv.local");
    char *bad[] = {"moni-rlsim", "--master-addr", "", NULL};
    assert_int_equal(rlsim_parse_args(&cfg, 3, bad), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(master_by_name),
        cmocka_unit_test(master_addr_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
