/* tests/fuzz/fuzz_plan.c — libFuzzer harness for the plan loader (moni-plan(5)):
 * any bytes either load (then every experiment has a workload argv and sane
 * numbers) or give one "FILE:LINE: ..." error line; normal and --quick. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"

static int fd = -1;
static char path[64];

static void check(const char *text, size_t size, bool quick)
{
    char err[1024];
    struct plan *p = plan_load(path, quick, err, sizeof err);
    (void)text;
    (void)size;
    if (!p) {
        if (!err[0] || strchr(err, '\n'))
            __builtin_trap(); /* errors are one non-empty line */
        return;
    }
    if (p->nexps == 0 || !p->name)
        __builtin_trap();
    for (size_t i = 0; i < p->nexps; i++) {
        const struct plan_experiment *e = &p->exps[i];
        if (!e->name || !e->argv || !e->argv[0] || e->repeat < 1)
            __builtin_trap();
        if (e->interval_ns < 0 || e->duration_ns < 0 || e->cooldown_ns < 0)
            __builtin_trap();
        for (size_t j = 0; j < e->nfaults; j++) {
            const struct plan_fault *f = &e->faults[j];
            if (!f->kind || !f->params || f->at_ns < 0 || f->for_ns < 0 || f->delay_ns < 0)
                __builtin_trap();
        }
    }
    plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("fuzz-plan", MFD_CLOEXEC);
        if (fd < 0)
            return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    check((const char *)data, size, false);
    check((const char *)data, size, true);
    return 0;
}
