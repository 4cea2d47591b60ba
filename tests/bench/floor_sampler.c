/* tests/bench/floor_sampler.c — the floor peer for bench_observer.sh: wakes on the
 * same absolute-deadline timer as moni and reads the same /proc files into a buffer,
 * then goes back to sleep: no parsing, no row, no file written.  Its CPU cost is what
 * the kernel charges for a sampler of these fields on this machine; no sampler of
 * them can cost less, so psutil/floor is the largest ratio any can reach here.
 * usage: floor_sampler INTERVAL_NS DURATION_S */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char *const files[] = {"/proc/stat",         "/proc/meminfo",
                                    "/proc/loadavg",      "/proc/diskstats",
                                    "/proc/net/dev",      "/proc/pressure/cpu",
                                    "/proc/pressure/memory", "/proc/pressure/io"};
#define NFILES (sizeof files / sizeof files[0])

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: floor_sampler INTERVAL_NS DURATION_S\n");
        return 2;
    }
    long long iv = atoll(argv[1]);
    long long ticks = atoll(argv[2]) * 1000000000LL / iv;
    static char buf[1 << 16];
    int fds[NFILES];
    for (size_t i = 0; i < NFILES; i++)
        fds[i] = open(files[i], O_RDONLY | O_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec its = {{iv / 1000000000LL, iv % 1000000000LL},
                             {now.tv_sec + 1, now.tv_nsec}};
    struct epoll_event ev = {.events = EPOLLIN};
    if (ep < 0 || tfd < 0 || timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0) {
        perror("floor_sampler");
        return 1;
    }
    size_t bytes = 0;
    for (long long k = 0; k < ticks; k++) {
        struct epoll_event out;
        uint64_t expirations;
        if (epoll_wait(ep, &out, 1, -1) < 1 || read(tfd, &expirations, sizeof expirations) < 0)
            continue;
        for (size_t i = 0; i < NFILES; i++)
            if (fds[i] >= 0) {
                ssize_t n = pread(fds[i], buf, sizeof buf, 0);
                bytes += n > 0 ? (size_t)n : 0;
            }
    }
    printf("%zu\n", bytes);
    return 0;
}
