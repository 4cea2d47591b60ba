/* core/runner-detect.c — the detectors of a live run: fed by the runner with every
 * parsed record, every samples row and the workload's fate, in the order the
 * offline pass of `moni build` replays them; each detection is written to
 * RUN_DIR/detections.jsonl (made durable at once: they are few) and handed to the
 * runner's detection hooks (the console, stderr). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/runner-int.h"

#define RUNNER_DET_HOOKS 8

struct runner_det {
    struct det_config cfg;
    struct detect *det;
    int fd;
    bool quiet;
    int64_t start_mono;
    struct {
        runner_detection_cb cb;
        void *arg;
    } hooks[RUNNER_DET_HOOKS];
    size_t nhooks;
    struct runner *r;
};

static void on_detection(const struct detection *det, void *arg)
{
    struct runner_det *rd = arg;
    if (rd->fd >= 0) {
        if (rundir_detection_append(rd->fd, det) < 0 || fdatasync(rd->fd) < 0)
            moni_warn("detections.jsonl: %s", strerror(errno));
    }
    if (!rd->quiet)
        fprintf(stderr, "moni: detection %s (%s) at %.1fs: %s\n", det->detector, det->label,
                (double)(det->mono_ns - rd->start_mono) / 1e9, det->evidence);
    for (size_t i = 0; i < rd->nhooks; i++)
        rd->hooks[i].cb(rd->r, det, rd->hooks[i].arg);
}

struct runner_det *runner_det_new(struct runner *r, const char *config_path, bool quiet,
                                  char *err, size_t errlen)
{
    struct runner_det *rd = calloc(1, sizeof *rd);
    if (!rd) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rd->fd = -1;
    rd->quiet = quiet;
    rd->r = r;
    if (det_config_load(&rd->cfg, config_path, err, errlen) < 0) {
        free(rd);
        return NULL;
    }
    rd->det = detect_new(&rd->cfg, on_detection, rd);
    if (!rd->det) {
        snprintf(err, errlen, "out of memory");
        runner_det_free(rd);
        return NULL;
    }
    return rd;
}

void runner_det_start(struct runner_det *rd, const char *run_dir, int64_t start_mono)
{
    rd->start_mono = start_mono;
    if (run_dir && rd->fd < 0) {
        rd->fd = rundir_open_append(run_dir, "detections.jsonl");
        if (rd->fd < 0)
            moni_warn("%s/detections.jsonl: %s", run_dir, strerror(errno));
    }
}

void runner_det_record(struct runner_det *rd, const struct lp_record *rec)
{
    detect_feed_record(rd->det, rec);
}

void runner_det_tick(struct runner_det *rd, const struct frame *f)
{
    detect_tick(rd->det, f);
}

void runner_det_exit(struct runner_det *rd, const struct session_workload *w)
{
    struct det_fate fate = {.mono_ns = w->ended.mono_ns, .real_ns = w->ended.real_ns,
                            .exit_code = w->exit_signal ? -1 : w->exit_code,
                            .signal = w->exit_signal, .scheduled = w->ended_by_moni,
                            .oom_killed = w->oom_killed};
    detect_fate(rd->det, &fate);
}

int runner_det_on(struct runner_det *rd, runner_detection_cb cb, void *arg)
{
    if (rd->nhooks == RUNNER_DET_HOOKS)
        return -1;
    rd->hooks[rd->nhooks].cb = cb;
    rd->hooks[rd->nhooks].arg = arg;
    rd->nhooks++;
    return 0;
}

size_t runner_det_list(const struct runner_det *rd, const struct detection **out)
{
    return detect_list(rd->det, out);
}

const struct detect *runner_det_engine(const struct runner_det *rd)
{
    return rd->det;
}

void runner_det_free(struct runner_det *rd)
{
    if (!rd)
        return;
    if (rd->fd >= 0)
        close(rd->fd);
    detect_free(rd->det);
    det_config_free(&rd->cfg);
    free(rd);
}
