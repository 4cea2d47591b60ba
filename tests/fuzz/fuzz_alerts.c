/* tests/fuzz/fuzz_alerts.c — libFuzzer harness for the alert rule loader: any bytes
 * either load or give one error line; loaded rules evaluate on a small frame and
 * export to Prometheus YAML without crashing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    struct alerts *al = alerts_parse("fuzz.json", (const char *)data, size, err, sizeof err);
    if (!al) {
        if (strchr(err, '\n'))
            __builtin_trap(); /* errors are one line */
        return 0;
    }
    struct frame f;
    frame_init(&f);
    int a = frame_add(&f, "gpu0_temp_c", "", METRIC_GAUGE);
    int b = frame_add(&f, "proc_rss_bytes", "", METRIC_GAUGE);
    struct moni_train_metric tm = {"loss", NAN, 0};
    for (int i = 0; i < 5; i++) {
        frame_clear(&f);
        frame_set(&f, a, 80 + i);
        frame_set(&f, b, 1e9 * i);
        struct moni_stamp t = {(int64_t)i * MONI_NS_PER_SEC, (int64_t)i * MONI_NS_PER_SEC};
        alerts_eval(al, &f, &tm, 1, t);
    }
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull) {
        alerts_export_prometheus(al, devnull);
        fclose(devnull);
    }
    frame_free(&f);
    alerts_free(al);
    return 0;
}
