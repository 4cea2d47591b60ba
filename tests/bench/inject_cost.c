/* tests/bench/inject_cost.c — for bench_inject.sh: the cost of a wrapped call, and a
 * workload that makes one kind of call without pause (so that a fault's fire to
 * first changed call latency is the library's, not the workload's pace).
 *   inject_cost cost N          ns per call of write(/dev/null, 1 byte) and of
 *                               clock_gettime(CLOCK_REALTIME) as the program calls
 *                               them (wrapped under LD_PRELOAD), then of libc's own
 *                               (dlsym on libc.so.6: never wrapped), rounds
 *                               alternated in one process, best of 200 each
 *   inject_cost spin fs PATH    write() 1 byte to PATH (truncated now and then)
 *   inject_cost spin dns HOST   getaddrinfo(HOST)
 *   inject_cost spin connect PORT   connect() to 127.0.0.1:PORT
 *   inject_cost spin clock      clock_gettime(CLOCK_REALTIME) */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static ssize_t (*libc_write)(int, const void *, size_t);
static int (*libc_clock_gettime)(clockid_t, struct timespec *);

/* ns per call of one round: what 0 write, 1 clock_gettime; direct: libc's own */
static double round_ns(int what, int direct, long n, int fd)
{
    char c = 'x';
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if (what == 0) {
            if ((direct ? libc_write(fd, &c, 1) : write(fd, &c, 1)) != 1)
                abort();
        } else {
            struct timespec ts;
            if (direct)
                libc_clock_gettime(CLOCK_REALTIME, &ts);
            else
                clock_gettime(CLOCK_REALTIME, &ts);
            __asm__ volatile("" : : "r"(&ts) : "memory");
        }
    }
    return (double)(now_ns() - t0) / (double)n;
}

static void cost(long n)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    libc_write = libc ? (ssize_t(*)(int, const void *, size_t))dlsym(libc, "write") : NULL;
    libc_clock_gettime =
        libc ? (int (*)(clockid_t, struct timespec *))dlsym(libc, "clock_gettime") : NULL;
    if (!libc_write || !libc_clock_gettime) {
        fprintf(stderr, "inject_cost: libc.so.6 not found\n");
        exit(1);
    }
    int fd = open("/dev/null", O_WRONLY);
    double best[2][2] = {{1e30, 1e30}, {1e30, 1e30}};
    for (int round = 0; round < 200; round++)
        for (int what = 0; what < 2; what++)
            for (int direct = 0; direct < 2; direct++) {
                double v = round_ns(what, direct, n, fd);
                if (v < best[what][direct])
                    best[what][direct] = v;
            }
    close(fd);
    printf("%.2f %.2f %.2f %.2f\n", best[0][0], best[0][1], best[1][0], best[1][1]);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "cost") == 0) {
        cost(atol(argv[2]));
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "spin") != 0) {
        fprintf(stderr, "usage: inject_cost cost N | spin fs PATH|dns HOST|connect PORT|clock\n");
        return 2;
    }
    const char *kind = argv[2], *arg = argc > 3 ? argv[3] : "";
    if (strcmp(kind, "fs") == 0) {
        for (;;) {
            int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            for (int i = 0; fd >= 0 && i < 10000; i++)
                if (write(fd, "x", 1) < 0)
                    break;
            if (fd >= 0)
                close(fd);
        }
    }
    if (strcmp(kind, "dns") == 0) {
        for (;;) {
            struct addrinfo *res = NULL;
            if (getaddrinfo(arg, NULL, NULL, &res) == 0)
                freeaddrinfo(res);
        }
    }
    if (strcmp(kind, "connect") == 0) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg))};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        for (;;) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            connect(s, (struct sockaddr *)&sa, sizeof sa);
            close(s);
        }
    }
    if (strcmp(kind, "clock") == 0) {
        for (;;) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            __asm__ volatile("" : : "r"(&ts) : "memory");
        }
    }
    return 2;
}
