/* tests/unit/test_sre_exporter.c — the Prometheus exporter: column -> family
 * mapping, the exposition text, and the HTTP server on a real loop (status codes,
 * oversized requests, connection cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"

static void expect_family(const char *col, bool train, const char *family, double scale)
{
    char fam[160];
    double s = 0;
    assert_int_equal(exporter_family_for(col, train, fam, sizeof fam, &s), 0);
    if (strcmp(fam, family))
        fail_msg("%s -> %s, want %s", col, fam, family);
    assert_true(fabs(s - scale) < 1e-12);
}

static void test_names(void **state)
{
    (void)state;
    expect_family("gpu{gpu}_util_pct", false, "moni_gpu_utilization_ratio", 0.01);
    expect_family("gpu{gpu}_mem_used_bytes", false, "moni_gpu_memory_used_bytes", 1);
    expect_family("gpu{gpu}_mem_total_bytes", false, "moni_gpu_memory_total_bytes", 1);
    expect_family("gpu{gpu}_temp_c", false, "moni_gpu_temperature_celsius", 1);
    expect_family("gpu{gpu}_power_w", false, "moni_gpu_power_watts", 1);
    expect_family("gpu{gpu}_sm_clock_mhz", false, "moni_gpu_sm_clock_hertz", 1e6);
    expect_family("cpu_pct", false, "moni_cpu_usage_ratio", 0.01);
    expect_family("cpu{cpu}_pct", false, "moni_cpu_core_usage_ratio", 0.01);
    expect_family("cpu_iowait_pct", false, "moni_cpu_iowait_ratio", 0.01);
    expect_family("mem_used_bytes", false, "moni_memory_used_bytes", 1);
    expect_family("disk_read_Bps", false, "moni_disk_read_bytes_per_second", 1);
    expect_family("disk_{device}_write_Bps", false, "moni_disk_device_write_bytes_per_second", 1);
    expect_family("net_{interface}_rx_Bps", false, "moni_network_interface_receive_bytes_per_second",
                  1);
    expect_family("proc_rss_bytes", false, "moni_workload_rss_bytes", 1);
    expect_family("proc_cpu_pct", false, "moni_workload_cpu_usage_ratio", 0.01);
    expect_family("proc_log_age_s", false, "moni_workload_log_age_seconds", 1);
    expect_family("fsync_ms", false, "moni_fsync_seconds", 0.001);
    expect_family("psi_memory_some_avg10", false, "moni_psi_memory_some_avg10_ratio", 0.01);
    expect_family("proc_heartbeat_age_s", false, "moni_workload_heartbeat_age_seconds", 1);
    expect_family("load1", false, "moni_load1", 1);
    expect_family("proc_count", false, "moni_workload_processes", 1);
    expect_family("moni_cpu_pct", false, "moni_self_cpu_usage_ratio", 0.01);
    expect_family("x_count", false, "moni_x_count_number", 1);
    expect_family("loss", true, "moni_training_loss", 1);
    expect_family("throughput", true, "moni_training_samples_per_second", 1);
    expect_family("weird key!", true, "moni_training_weird_key_", 1);
}

static struct frame *make_frame(void)
{
    static struct frame f;
    frame_init(&f);
    frame_set(&f, frame_add(&f, "gpu0_util_pct", "GPU utilisation", METRIC_GAUGE), 87);
    frame_set(&f, frame_add(&f, "gpu1_util_pct", "GPU utilisation", METRIC_GAUGE), 3);
    frame_add(&f, "gpu2_util_pct", "GPU utilisation", METRIC_GAUGE); /* missing */
    frame_set(&f, frame_add(&f, "disk_sda_read_Bps", "Disk reads\nper device", METRIC_GAUGE), 512);
    frame_set(&f, frame_add(&f, "proc_read_bytes", "Workload bytes read", METRIC_COUNTER), 4096);
    frame_set(&f, frame_add(&f, "net_eth0_rx_Bps", "rx", METRIC_GAUGE), 10);
    frame_set(&f, frame_add(&f, "proc_state_R", "running", METRIC_GAUGE), 2);
    frame_set(&f, frame_add(&f, "psi_io_some_total_us", "PSI", METRIC_COUNTER), 1234);
    f.seq = 7;
    f.t = moni_now();
    return &f;
}

static void test_render(void **state)
{
    (void)state;
    struct frame *f = make_frame();
    struct moni_train_metric train[] = {{"loss", NAN, 0}, {"learning_rate", 5e-5, 0},
                                        {"time_to_failure_s", 42, 0}};
    struct moni_event_count ev[] = {{"CUDA_OutOfMemory", 2}, {"we\"ird", 1}};
    struct moni_fault_state faults[] = {{"cpu", "f1", true, true, 95, 93.5},
                                        {"cpu", "f2", false, false, 50, NAN}};
    struct moni_alert_state alerts[] = {{"GPUTemperatureHigh", "warning", "hot", "gpu", "0", 85, 0}};
    struct moni_detection_count dets[] = {{"memory_growth", "Memory_Leak", 2}};
    struct exporter_extra x = {.train = train, .ntrain = 3, .events = ev, .nevents = 2,
                               .detections = dets, .ndetections = 1, .faults = faults,
                               .nfaults = 2, .alerts = alerts, .nalerts = 1};
    size_t len;
    char *t = exporter_render(f, &x, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    const char *want[] = {
        "# TYPE moni_gpu_utilization_ratio gauge\n",
        "moni_gpu_utilization_ratio{gpu=\"0\"} 0.87",
        "moni_gpu_utilization_ratio{gpu=\"1\"} 0.03",
        "moni_disk_device_read_bytes_per_second{device=\"sda\"} 512\n",
        "# HELP moni_disk_device_read_bytes_per_second Disk reads\\nper device",
        "# TYPE moni_workload_read_bytes_total counter\nmoni_workload_read_bytes_total 4096\n",
        "moni_network_interface_receive_bytes_per_second{interface=\"eth0\"} 10\n",
        "moni_training_loss NaN\n",
        "moni_training_learning_rate 5e-05\n",
        "moni_time_to_failure_seconds 42\n",
        "moni_detections_total{detector=\"memory_growth\",label=\"Memory_Leak\"} 2\n",
        "moni_log_events_total{label=\"CUDA_OutOfMemory\"} 2\n",
        "moni_log_events_total{label=\"we\\\"ird\"} 1\n",
        "moni_fault_active{kind=\"cpu\",fault_id=\"f1\"} 1\n",
        "moni_fault_active{kind=\"cpu\",fault_id=\"f2\"} 0\n",
        "moni_fault_injections_total{kind=\"cpu\"} 1\n",
        "moni_fault_delivered_dose{kind=\"cpu\",fault_id=\"f1\"} 93.5\n",
        "moni_alert_firing{alertname=\"GPUTemperatureHigh\",severity=\"warning\",gpu=\"0\"} 1\n",
        "moni_samples_total 7\n",
        "moni_workload_processes_by_state{state=\"R\"} 2\n",
        "# TYPE moni_psi_io_some_seconds_total counter\nmoni_psi_io_some_seconds_total 0.00123",
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(want); i++)
        if (!strstr(t, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], t);
    assert_null(strstr(t, "gpu=\"2\"")); /* missing stays missing */
    assert_null(strstr(t, "moni_fault_delivered_dose{kind=\"cpu\",fault_id=\"f2\"}"));
    /* every family has HELP and TYPE, each once */
    for (const char *p = t; (p = strstr(p, "# TYPE ")) != NULL; p++) {
        char name[160];
        assert_int_equal(sscanf(p, "# TYPE %159s", name), 1);
        char help[200];
        snprintf(help, sizeof help, "# HELP %s ", name);
        const char *h = strstr(t, help);
        assert_non_null(h);
        assert_null(strstr(h + 1, help));
    }
    free(t);
    frame_free(f);
}

/* ---- server ------------------------------------------------------------------------ */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Sends req, pumps the loop until the server closes; returns the response. */
static char *exchange(struct moni_loop *loop, int fd, const char *req, size_t reqlen)
{
    size_t sent = 0, len = 0, cap = 1 << 16;
    char *buf = calloc(1, cap + 1);
    for (int iter = 0; iter < 2000; iter++) {
        if (sent < reqlen) {
            ssize_t w = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN)
                sent = reqlen; /* server closed on us: read what it said */
        }
        moni_loop_once(loop, 5);
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN))
            break;
        if (r > 0)
            len += (size_t)r;
    }
    buf[len] = '\0';
    close(fd);
    return buf;
}

static void test_server(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    struct moni_loop *loop = moni_loop_new();
    assert_non_null(loop);
    char err[256];
    assert_null(exporter_start(loop, "127.0.0.1:99999", err, sizeof err));
    assert_non_null(strstr(err, "bad port"));
    assert_null(exporter_start(loop, "nohost:80", err, sizeof err));
    struct exporter *ex = exporter_start(loop, "0", err, sizeof err);
    assert_non_null(ex);
    int port = exporter_port(ex);
    assert_true(port > 0);
    struct frame *f = make_frame();
    exporter_publish(ex, f, NULL);

    const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    char *r = exchange(loop, connect_to(port), get, strlen(get));
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "moni_gpu_utilization_ratio{gpu=\"0\"} 0.87"));
    free(r);

    r = exchange(loop, connect_to(port), "GET / HTTP/1.0\r\n\r\n", 18);
    assert_non_null(strstr(r, "200 OK"));
    assert_non_null(strstr(r, "href=\"/metrics\""));
    free(r);
    r = exchange(loop, connect_to(port), "GET /nope HTTP/1.0\r\n\r\n", 22);
    assert_non_null(strstr(r, "HTTP/1.1 404"));
    free(r);
    r = exchange(loop, connect_to(port), "POST /metrics HTTP/1.0\r\n\r\n", 26);
    assert_non_null(strstr(r, "HTTP/1.1 405"));
    assert_non_null(strstr(r, "Allow: GET"));
    free(r);
    r = exchange(loop, connect_to(port), "garbage\r\n\r\n", 11);
    assert_non_null(strstr(r, "HTTP/1.1 400"));
    free(r);

    /* a 1 MB request line: 431 after 8 KiB, then close */
    size_t big = 1 << 20;
    char *req = malloc(big);
    memset(req, 'a', big);
    memcpy(req, "GET /", 5);
    r = exchange(loop, connect_to(port), req, big);
    assert_true(strstr(r, "431") != NULL || r[0] == '\0'); /* reset may eat the reply */
    free(r);
    free(req);

    /* 200 idle connections: the oldest are dropped, a fresh scrape still works */
    int idle[200];
    for (int i = 0; i < 200; i++) {
        idle[i] = connect_to(port);
        moni_loop_once(loop, 0);
    }
    for (int i = 0; i < 20; i++)
        moni_loop_once(loop, 1);
    char c;
    int closed = 0;
    for (int i = 0; i < 200; i++) {
        ssize_t n = recv(idle[i], &c, 1, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            closed++;
    }
    assert_true(closed >= 200 - 64);
    /* publish again: the new snapshot is served */
    f->seq = 8;
    exporter_publish(ex, f, NULL);
    r = exchange(loop, connect_to(port), get, strlen(get));
    assert_non_null(strstr(r, "moni_samples_total 8\n"));
    free(r);
    for (int i = 0; i < 200; i++)
        close(idle[i]);
    exporter_stop(ex);
    frame_free(f);
    moni_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
