/* core/session-int.h — the session's state, shared by core/session.c (sources, ticks,
 * the workload, the lifecycle) and core/session-meta.c (meta.json).  Not exported
 * beyond them: everything others use is in core.h and core/obs-int.h. */
#ifndef MONI_SESSION_INT_H
#define MONI_SESSION_INT_H

#include "core/obs-int.h"

struct src_inst {
    const struct source_ops *ops;
    void *arg, *state;
    bool active;
    char reason[256];
    size_t col_lo, col_hi; /* the columns it added: [lo, hi) */
    int64_t last_ns;
    unsigned char *held; /* validity of its columns at its last sample (cadence) */
};

struct hook {
    union {
        session_frame_cb frame;
        session_line_cb line;
        session_event_cb event;
    } cb;
    void *arg;
};
struct hooks {
    struct hook *h;
    size_t n;
};

struct session {
    struct moni_loop *loop;
    struct session_opts o;
    char *out_dir, *run_id, *experiment;
    char **argv, **env_add;
    struct frame frame;
    struct src_inst *src;
    size_t nsrc;
    struct obs_procfiles *procfiles; /* the /proc files the sources share */
    struct obs_exec *exec;
    struct obs_rec *rec;
    struct session_workload w;
    struct session_stats stats;
    struct obs_proc *procs;
    size_t nprocs, capprocs;
    pid_t *pids;
    size_t npids, cappids;
    struct session_gpu gpus[OBS_GPU_MAX];
    size_t ngpus;
    char gpu_backend[16], gpu_reason[640], gpu_driver[96];
    bool gpu_known;
    unsigned gpu_restarts; /* nvidia-smi child restarts */
    struct hooks on_tick, on_sample, on_line, on_exit, on_done;
    cJSON *extra, *notes;
    cJSON *inject; /* meta.json's "inject": the preload library, or why not */
    cJSON *lifetimes;   /* meta.json's workload.lifetimes (core/rundir-lifetimes.c) */
    char **argv_next;   /* a restart's argv (argv + its extra arguments), or NULL */
    char *resumed_from; /* the checkpoint the next/current start resumes from */
    struct moni_stamp start, end;
    int ticker, duration_timer;
    bool started, stopping, done, finished, restart_pending;
    char stop_why[96];
    int col_moni_cpu, col_lag;
    int64_t prev_cpu_ns, prev_cpu_at;
    int exit_status;
    int dir_lock;             /* the run directory's lock, held until session_free */
    uint64_t write_errors;    /* the recorder's, kept once it is closed */
    char write_error[256];
};

/* meta.json as it stands now (core/session-meta.c); NULL when out of memory. */
cJSON *session_build_meta(struct session *s);

#endif /* MONI_SESSION_INT_H */
