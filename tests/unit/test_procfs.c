/* tests/unit/test_procfs.c — the base layer's /proc parsers (core/procfs.c) on
 * synthetic text: well-formed lines as the kernel writes them, malformed and
 * truncated ones (every prefix of every fixture, in a buffer of exactly that size,
 * so ASan catches a read past the NUL), and the readers on real and temporary files. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base.h"

static void test_cpu_line(void **state)
{
    (void)state;
    struct procfs_cpu_times t;
    int idx;
    assert_int_equal(procfs_parse_cpu_line("cpu  100 5 50 800 10 1 2 3 0 0", &idx, &t), 0);
    assert_int_equal(idx, -1);
    assert_int_equal(t.user, 100);
    assert_int_equal(t.nice, 5);
    assert_int_equal(t.idle, 800);
    assert_int_equal(t.steal, 3);
    assert_int_equal(procfs_parse_cpu_line("cpu13 1 2 3 4 5 6 7 8", &idx, &t), 0);
    assert_int_equal(idx, 13);
    assert_int_equal(t.iowait, 5);
    assert_int_equal(procfs_parse_cpu_line("intr 1 2 3", &idx, &t), -1);
    assert_int_equal(procfs_parse_cpu_line("cpux 1 2 3 4", &idx, &t), -1);
    assert_int_equal(procfs_parse_cpu_line("cpu 1 2", &idx, &t), -1);
}

static void test_meminfo(void **state)
{
    (void)state;
    const char *text = "MemTotal:       24683620 kB\nMemFree:        23759388 kB\n"
                       "MemAvailable:   24113520 kB\nBuffers:           21092 kB\n"
                       "Cached:           637564 kB\nSwapCached:            0 kB\n"
                       "SwapTotal:        1024 kB\nSwapFree:          512 kB\n"
                       "SReclaimable:      40000 kB\n";
    struct procfs_mem m;
    assert_int_equal(procfs_parse_meminfo(text, &m), 0);
    assert_int_equal(m.total, 24683620LL * 1024);
    assert_int_equal(m.available, 24113520LL * 1024);
    assert_int_equal(m.cached, 637564LL * 1024); /* not SwapCached */
    assert_int_equal(m.swap_free, 512 * 1024);
    assert_int_equal(m.shmem, -1); /* absent */
    assert_int_equal(procfs_parse_meminfo("garbage\n", &m), -1);
}

static void test_diskstats(void **state)
{
    (void)state;
    struct procfs_disk d;
    assert_int_equal(procfs_parse_diskstats_line(
                         " 254       0 vda 31606 7686 2368730 9336 43764 19597 2961968 13739 0 "
                         "12484 26671 5318 23 128752 2101 3372 1493", &d), 0);
    assert_string_equal(d.name, "vda");
    assert_int_equal(d.rd_ios, 31606);
    assert_int_equal(d.rd_sectors, 2368730);
    assert_int_equal(d.wr_ios, 43764);
    assert_int_equal(d.wr_sectors, 2961968);
    assert_int_equal(d.io_ms, 12484);
    assert_int_equal(procfs_parse_diskstats_line("   7 0 loop0 0 0", &d), -1);
}

static void test_netdev(void **state)
{
    (void)state;
    struct procfs_net n;
    assert_int_equal(procfs_parse_netdev_line("  eth0: 81687736    2790    4    5    0     0      "
                                              "    0         0   128707    1695    6    7    0   "
                                              "  0       0          0", &n), 0);
    assert_string_equal(n.name, "eth0");
    assert_int_equal(n.rx_bytes, 81687736);
    assert_int_equal(n.rx_errs, 4);
    assert_int_equal(n.rx_drop, 5);
    assert_int_equal(n.tx_bytes, 128707);
    assert_int_equal(n.tx_errs, 6);
    assert_int_equal(n.tx_drop, 7);
    assert_int_equal(procfs_parse_netdev_line("Inter-|   Receive    |  Transmit", &n), -1);
    assert_int_equal(procfs_parse_netdev_line(" face |bytes    packets errs drop fifo", &n), -1);
}

static void test_psi(void **state)
{
    (void)state;
    struct procfs_psi p;
    assert_int_equal(procfs_parse_psi("some avg10=1.50 avg60=0.20 avg300=0.00 total=123456\n"
                                   "full avg10=0.25 avg60=0.00 avg300=0.00 total=789\n", &p), 0);
    assert_true(p.has_some && p.has_full);
    assert_float_equal(p.some_avg10, 1.5, 1e-9);
    assert_float_equal(p.full_avg10, 0.25, 1e-9);
    assert_int_equal(p.some_total, 123456);
    assert_int_equal(p.full_total, 789);
    assert_int_equal(procfs_parse_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", &p), 0);
    assert_false(p.has_full);
}

static void test_pid_stat(void **state)
{
    (void)state;
    struct procfs_pid_stat st;
    /* comm with spaces and a ')' inside */
    const char *text = "4242 (py thon) x) S 4200 4242 4200 0 -1 4194560 1000 0 0 0 250 50 0 0 "
                       "20 0 7 0 123456 1000000 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 "
                       "0 17 1 0 0 0 0 0";
    assert_int_equal(procfs_parse_pid_stat(text, &st), 0);
    assert_int_equal(st.pid, 4242);
    assert_string_equal(st.comm, "py thon) x");
    assert_int_equal(st.state, 'S');
    assert_int_equal(st.ppid, 4200);
    assert_int_equal(st.pgrp, 4242);
    assert_int_equal(st.utime, 250);
    assert_int_equal(st.stime, 50);
    assert_int_equal(st.threads, 7);
    assert_int_equal(st.starttime, 123456);
    assert_int_equal(st.rss_pages, 2560);
    assert_int_equal(procfs_parse_pid_stat("12 (x", &st), -1);
    assert_int_equal(procfs_parse_pid_stat("", &st), -1);
}

static void test_pid_io(void **state)
{
    (void)state;
    uint64_t r = 0, w = 0;
    assert_int_equal(procfs_parse_pid_io("rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\n"
                                      "read_bytes: 4096\nwrite_bytes: 8192\n"
                                      "cancelled_write_bytes: 0\n", &r, &w), 0);
    assert_int_equal(r, 4096);
    assert_int_equal(w, 8192);
    assert_int_equal(procfs_parse_pid_io("rchar: 10\n", &r, &w), -1);
}

static void test_cpu_malformed(void **state)
{
    (void)state;
    struct procfs_cpu_times t;
    int idx;
    assert_int_equal(procfs_parse_cpu_line("", &idx, &t), -1);
    assert_int_equal(procfs_parse_cpu_line("cp", &idx, &t), -1);
    assert_int_equal(procfs_parse_cpu_line("cpu", &idx, &t), -1);
    assert_int_equal(procfs_parse_cpu_line("cpu  ", &idx, &t), -1);
    assert_int_equal(procfs_parse_cpu_line("cpu3", &idx, &t), -1);
    assert_int_equal(procfs_parse_cpu_line("cpu99999 1 2 3 4", &idx, &t), -1); /* no such core */
    assert_int_equal(procfs_parse_cpu_line("cpu  1 2 x 4", &idx, &t), -1);
    /* four fields are enough (old kernels); the rest read as 0 */
    assert_int_equal(procfs_parse_cpu_line("cpu  1 2 3 4", &idx, &t), 0);
    assert_int_equal(t.idle, 4);
    assert_int_equal(t.steal, 0);
    /* a line ends at its LF: the next line's numbers are not read into it */
    assert_int_equal(procfs_parse_cpu_line("cpu  1 2 3 4\n5 6 7 8", &idx, &t), 0);
    assert_int_equal(t.iowait, 0);
    /* saturates as strtoull did */
    assert_int_equal(procfs_parse_cpu_line("cpu  99999999999999999999999 2 3 4", &idx, &t), 0);
    assert_true(t.user == UINT64_MAX);
}

static void test_stat_total(void **state)
{
    (void)state;
    struct procfs_cpu_times t;
    assert_int_equal(procfs_parse_stat_total("cpu  10 0 5 100 1 0 0 0 0 0\n"
                                             "cpu0 5 0 2 50 0 0 0 0 0 0\nintr 1 2\n", &t), 0);
    assert_int_equal(t.user, 10);
    assert_int_equal(t.idle, 100);
    assert_int_equal(procfs_parse_stat_total("cpu0 5 0 2 50\nintr 1\n", &t), -1);
    assert_int_equal(procfs_parse_stat_total("", &t), -1);
    /* the real file: the machine has been up for some jiffies */
    assert_int_equal(procfs_read_cpu_total(&t), 0);
    assert_true(t.user + t.system + t.idle > 0);
}

static void test_loadavg(void **state)
{
    (void)state;
    double l[3];
    assert_int_equal(procfs_parse_loadavg("13.44 13.02 9.48 14/171 16798\n", l), 0);
    assert_float_equal(l[0], 13.44, 1e-12);
    assert_float_equal(l[2], 9.48, 1e-12);
    assert_int_equal(procfs_parse_last_pid("13.44 13.02 9.48 14/171 16798\n"), 16798);
    assert_int_equal(procfs_parse_loadavg("0.50 0.4", l), -1);
    assert_int_equal(procfs_parse_loadavg("", l), -1);
    assert_int_equal(procfs_parse_loadavg("a b c", l), -1);
    assert_int_equal(procfs_parse_last_pid(""), -1);
    assert_int_equal(procfs_parse_last_pid("16798"), -1);            /* not the last field */
    assert_int_equal(procfs_parse_last_pid("1.0 2.0 3.0 1/2"), -1);  /* cut before the PID */
    assert_int_equal(procfs_parse_last_pid("1 2 3 1/2 123456789012\n"), -1); /* too long */
}

static void test_meminfo_malformed(void **state)
{
    (void)state;
    struct procfs_mem m;
    int64_t v;
    assert_int_equal(procfs_parse_meminfo("MemTotal:\n", &m), -1);     /* no number */
    assert_int_equal(procfs_parse_meminfo("MemTotal:   12", &m), 0); /* no unit, no LF */
    assert_int_equal(m.total, 12 * 1024);
    assert_int_equal(m.free, -1);
    assert_int_equal(procfs_parse_meminfo("", &m), -1);
    assert_int_equal(procfs_parse_meminfo(" MemTotal: 5 kB\n", &m), -1); /* not at line start */
    const char *text = "MemTotal: 100 kB\nMemAvailable:  42 kB\nMemAvail: 7 kB\n";
    assert_int_equal(procfs_meminfo_field(text, "MemAvailable", &v), 0);
    assert_int_equal(v, 42 * 1024);
    assert_int_equal(procfs_meminfo_field(text, "MemAvail", &v), 0); /* the whole key */
    assert_int_equal(v, 7 * 1024);
    assert_int_equal(procfs_meminfo_field(text, "Mem", &v), -1);
    assert_int_equal(procfs_meminfo_field("MemAvailable:\n", "MemAvailable", &v), -1);
    assert_int_equal(procfs_meminfo_field("", "MemTotal", &v), -1);
    assert_int_equal(procfs_read_meminfo_field("MemTotal", &v), 0);
    assert_true(v > 0);
}

static void test_devices_malformed(void **state)
{
    (void)state;
    struct procfs_disk d;
    struct procfs_net n;
    assert_int_equal(procfs_parse_diskstats_line("", &d), -1);
    assert_int_equal(procfs_parse_diskstats_line(" 8 0 sda 1 2 3", &d), -1);
    assert_int_equal(procfs_parse_diskstats_line(" 8 0", &d), -1);
    assert_int_equal(procfs_parse_diskstats_line(" 8 0 sda 1 2 3 4 5 6 7 8 9 10\n11", &d), -1);
    assert_int_equal(procfs_parse_diskstats_line("99999999999 0 sda 1 2 3 4 5 6 7 8 9 10 11",
                                                 &d), -1);
    /* a long name is cut to 31 bytes */
    const char *longname = "8 0 abcdefghijklmnopqrstuvwxyz0123456789 1 2 3 4 5 6 7 8 9 10 11";
    assert_int_equal(procfs_parse_diskstats_line(longname, &d), 0);
    assert_int_equal(strlen(d.name), 31);
    assert_int_equal(d.io_ms, 10);
    assert_int_equal(procfs_parse_netdev_line("", &n), -1);
    assert_int_equal(procfs_parse_netdev_line("eth0:", &n), -1);
    assert_int_equal(procfs_parse_netdev_line("eth0: 1 2 3", &n), -1);
    assert_int_equal(procfs_parse_netdev_line("eth0 1 2 3 4 5 6 7 8 9 10 11 12", &n), -1);
    assert_int_equal(procfs_parse_netdev_line(": 1 2 3 4 5 6 7 8 9 10 11 12", &n), -1);
    assert_int_equal(procfs_parse_netdev_line(
                         "averyveryverylonginterfacename0123: 1 2 3 4 5 6 7 8 9 10 11 12", &n), -1);
    assert_int_equal(procfs_parse_netdev_line("eth0: 1 2 3 4 5 6\n7 8 9 10 11 12", &n), -1);
    assert_int_equal(procfs_parse_netdev_line("lo:1 2 3 4 5 6 7 8 9 10 11 12", &n), 0);
    assert_string_equal(n.name, "lo");
    assert_int_equal(n.tx_drop, 12);
}

static void test_psi_malformed(void **state)
{
    (void)state;
    struct procfs_psi p;
    assert_int_equal(procfs_parse_psi("", &p), -1);
    assert_int_equal(procfs_parse_psi("some avg10=1.0 avg60=", &p), -1);
    assert_int_equal(procfs_parse_psi("some avg10=x avg60=0 avg300=0 total=1\n", &p), -1);
    assert_int_equal(procfs_parse_psi("full avg10=1.00 avg60=0 avg300=0 total=1\n", &p), -1);
    assert_int_equal(procfs_parse_psi("somex avg10=1 avg60=0 avg300=0 total=1\n", &p), -1);
    /* a broken "full" line leaves "some" valid and full absent */
    assert_int_equal(procfs_parse_psi("some avg10=2.50 avg60=0 avg300=0 total=9\n"
                                      "full avg10=1.0 avg60\n", &p), 0);
    assert_true(p.has_some);
    assert_false(p.has_full);
    assert_float_equal(p.some_avg10, 2.5, 1e-12);
}

static void test_pid_malformed(void **state)
{
    (void)state;
    struct procfs_pid_stat st;
    uint64_t r = 0, w = 0;
    assert_int_equal(procfs_parse_pid_stat("1 (x) S 1 2", &st), -1);      /* truncated */
    assert_int_equal(procfs_parse_pid_stat("0 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
                                           "17 18 19 20 21", &st), -1); /* pid 0 */
    assert_int_equal(procfs_parse_pid_stat("-5 (x) S", &st), -1);
    assert_int_equal(procfs_parse_pid_stat("5 (x)S 1", &st), -1);
    assert_int_equal(procfs_parse_pid_stat("5 (x) ", &st), -1);
    assert_int_equal(procfs_parse_pid_stat("5 x) S 1", &st), -1);
    assert_int_equal(procfs_parse_pid_stat("7 (a) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99 0 "
                                           "12", &st), 0); /* 21 fields after the state */
    assert_int_equal(st.rss_pages, 12);
    assert_int_equal(st.utime, 3);
    assert_int_equal(procfs_parse_pid_io("read_bytes: \nwrite_bytes: 5\n", &r, &w), -1);
    assert_int_equal(procfs_parse_pid_io("", &r, &w), -1);
    assert_int_equal(procfs_parse_pid_io("write_bytes: 5\nread_bytes: 6", &r, &w), 0);
    assert_int_equal(r, 6);
    assert_int_equal(w, 5);
}

/* Every prefix of every fixture, in a heap buffer of exactly its size: the parsers
 * must stop at the NUL (ASan fails the test otherwise) and never crash. */
static void test_every_prefix(void **state)
{
    (void)state;
    static const char *const fixtures[] = {
        "cpu  100 5 50 800 10 1 2 3 0 0\ncpu0 50 2 25 400 5 0 1 1 0 0\nintr 1 2\n",
        "MemTotal:       24683620 kB\nMemFree:        23759388 kB\nMemAvailable: 1 kB\n",
        " 254       0 vda 31606 7686 2368730 9336 43764 19597 2961968 13739 0 12484 26671\n",
        "Inter-|   Receive\n face |bytes\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        "some avg10=1.50 avg60=0.20 avg300=0.00 total=123456\n"
        "full avg10=0.25 avg60=0.00 avg300=0.00 total=789\n",
        "4242 (py thon) x) S 4200 4242 4200 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 7 0 "
        "123456 1000000 2560 18446744073709551615 1 1\n",
        "rchar: 10\nread_bytes: 4096\nwrite_bytes: 8192\n",
        "13.44 13.02 9.48 14/171 16798\n",
    };
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        size_t len = strlen(fixtures[i]);
        for (size_t n = 0; n <= len; n++) {
            char *b = malloc(n + 1);
            assert_non_null(b);
            memcpy(b, fixtures[i], n);
            b[n] = '\0';
            struct procfs_cpu_times t;
            struct procfs_mem m;
            struct procfs_disk d;
            struct procfs_net nd;
            struct procfs_psi p;
            struct procfs_pid_stat st;
            uint64_t r, w;
            int64_t v;
            double l[3];
            int idx;
            (void)procfs_parse_cpu_line(b, &idx, &t);
            (void)procfs_parse_stat_total(b, &t);
            (void)procfs_parse_meminfo(b, &m);
            (void)procfs_meminfo_field(b, "MemAvailable", &v);
            for (const char *line = b; line && *line; line = procfs_next_line(line)) {
                (void)procfs_parse_diskstats_line(line, &d);
                (void)procfs_parse_netdev_line(line, &nd);
            }
            (void)procfs_parse_psi(b, &p);
            (void)procfs_parse_pid_stat(b, &st);
            (void)procfs_parse_pid_io(b, &r, &w);
            (void)procfs_parse_loadavg(b, l);
            (void)procfs_parse_last_pid(b);
            free(b);
        }
    }
    /* a cut /proc/PID/stat never parses as a whole one */
    const char *stat = fixtures[5];
    struct procfs_pid_stat st;
    char buf[512];
    for (size_t n = 0; n < 40; n++) {
        snprintf(buf, sizeof buf, "%.*s", (int)n, stat);
        assert_int_equal(procfs_parse_pid_stat(buf, &st), -1);
    }
}

/* A kept-open file larger than the first buffer is read whole, and re-reading it
 * gives the text as it is now. */
static void test_file_reader(void **state)
{
    (void)state;
    char path[] = "/tmp/moni-procfs-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char big[10000];
    memset(big, 'a', sizeof big);
    assert_int_equal(write(fd, big, sizeof big), (ssize_t)sizeof big);
    struct procfs_file pf;
    assert_int_equal(procfs_file_open(&pf, path), 0);
    const char *t = procfs_file_read(&pf);
    assert_non_null(t);
    assert_int_equal(strlen(t), sizeof big);
    assert_int_equal(pf.len, sizeof big);
    assert_int_equal(ftruncate(fd, 3), 0);
    assert_int_equal(pwrite(fd, "xyz", 3, 0), 3);
    t = procfs_file_read(&pf);
    assert_string_equal(t, "xyz");
    procfs_file_close(&pf);
    assert_int_equal(pf.fd, -1);
    /* a small buffer cuts the text at len - 1 */
    char small[8];
    assert_int_equal(procfs_pread(fd, small, sizeof small), 3);
    assert_int_equal(procfs_read_small(path, small, 3), 2);
    assert_string_equal(small, "xy");
    close(fd);
    unlink(path);
    assert_int_equal(procfs_file_open(&pf, path), -1);
    assert_null(procfs_file_read(&pf));
    procfs_file_close(&pf);
    assert_int_equal(procfs_read_small(path, small, sizeof small), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_line),        cmocka_unit_test(test_cpu_malformed),
        cmocka_unit_test(test_stat_total),      cmocka_unit_test(test_loadavg),
        cmocka_unit_test(test_meminfo),         cmocka_unit_test(test_meminfo_malformed),
        cmocka_unit_test(test_diskstats),       cmocka_unit_test(test_netdev),
        cmocka_unit_test(test_devices_malformed), cmocka_unit_test(test_psi),
        cmocka_unit_test(test_psi_malformed),   cmocka_unit_test(test_pid_stat),
        cmocka_unit_test(test_pid_io),          cmocka_unit_test(test_pid_malformed),
        cmocka_unit_test(test_every_prefix),    cmocka_unit_test(test_file_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
