/* core/obs-int.h — private to the observer files of core/ (sources, executor,
 * recorder, session) and their unit tests.  Everything others use is in core.h. */
#ifndef MONI_OBS_INT_H
#define MONI_OBS_INT_H

#include "core/core.h"

/* ---- /proc files shared by the sources (src-procfiles.c) -------------------------
 * The parsers are in the base layer (core/base.h, procfs_*).  Each file here is
 * opened once, on first use, kept open and read at most once per tick however many
 * sources use it (cpu and workload both read /proc/loadavg): the first read of a
 * tick re-reads it with pread at 0 (seq_file regenerates it), later ones get the
 * same text.  The observer's budget is ~0.5 ms CPU per s. */
enum obs_procfile {
    OBS_PF_STAT, OBS_PF_LOADAVG, OBS_PF_MEMINFO, OBS_PF_DISKSTATS, OBS_PF_NETDEV,
    OBS_PF_PSI_CPU, OBS_PF_PSI_MEMORY, OBS_PF_PSI_IO, OBS_NPROCFILES
};
struct obs_procfiles;
struct obs_procfiles *obs_procfiles_new(void);
void obs_procfiles_tick(struct obs_procfiles *pf); /* a new tick: the next read is fresh */
/* The file's text this tick (valid until the next tick), or NULL if unreadable. */
const char *obs_procfiles_text(struct obs_procfiles *pf, enum obs_procfile which);
void obs_procfiles_free(struct obs_procfiles *pf);
const char *obs_procfile_path(enum obs_procfile which); /* "/proc/stat", ... */
/* The session's shared files (session.c ticks them before the sources sample). */
const char *obs_session_procfile(struct session *s, enum obs_procfile which);

/* ---- disks and interfaces that come and go (src-devset.c) ----------------------
 * samples.csv's columns are fixed at start, so only the devices present then get
 * per-device columns (disk_NAME_*, net_NAME_*).  A device that appears later is
 * tracked from the tick it is first seen (that read is its baseline) and counted in
 * the totals (disk_*, net_*) from the next one; one that goes away leaves the
 * totals (its per-device columns, if any, are missing) and, if it comes back,
 * starts again from a new baseline.  Each change is reported once through note.
 * The set of names is remembered, so the predicate (disk_wanted stats /sys/block)
 * runs once per new name, not per tick.  Exported for tests. */
#define OBS_DEV_HOTPLUG_MAX 64   /* devices tracked at once beyond those present at start */
#define OBS_DEV_NAMES_MAX 1024   /* names remembered at once (wanted or not) */
#define OBS_DEV_NOTES_MAX 100    /* notes per kind; then one saying the rest are not */
#define OBS_DEV_COLS_MAX 6       /* columns per device */
typedef bool (*obs_dev_wanted_fn)(const char *name, void *arg);
typedef void (*obs_dev_note_fn)(void *arg, const char *text);
/* One column of a kind of device.  SUM and MAX: a rate, counter delta * mul /
 * (dt * div), at most cap (0 = no cap); the total adds the devices up or takes the
 * largest.  SINCE_START: the count since the device was first read, kept across its
 * lives (it went and came back), a counter; the total keeps the counts of devices
 * that went away. */
enum obs_dev_agg { OBS_DEV_SUM, OBS_DEV_MAX, OBS_DEV_SINCE_START };
struct obs_dev_col {
    const char *suffix;     /* "read_Bps": columns PREFIX_SUFFIX and PREFIX_NAME_SUFFIX */
    const char *total_help; /* help of the PREFIX_SUFFIX column */
    enum obs_dev_agg agg;
    double mul, div, cap;
};
/* A kind of device: everything the device set knows about it (src-disk.c, src-net.c). */
struct obs_dev_class {
    const char *what;     /* in notes: "disk sdb appeared ..." */
    const char *prefix;   /* of the columns: disk_*, disk_NAME_* */
    const char *dev_help; /* help of a device's own columns */
    int ncols;            /* <= OBS_DEV_COLS_MAX */
    const struct obs_dev_col *col;
    obs_dev_wanted_fn wanted; /* which devices count when the caller gives no predicate */
    /* The device name on a line, cut to 31 bytes as the parsers cut it; its length,
     * or 0 when the line names none (the header lines of /proc/net/dev). */
    size_t (*line_name)(const char *line, const char **name);
    /* The counters of a line, in column order; 0 or -1. */
    int (*parse)(const char *line, uint64_t counters[OBS_DEV_COLS_MAX]);
};
extern const struct obs_dev_class obs_dev_disk, obs_dev_net;
struct obs_devset;
/* Reads text (the file as read at start) and adds to f the totals and the columns
 * of each device wanted() accepts (NULL: the class's own predicate).  NULL on
 * allocation failure. */
struct obs_devset *obs_devset_new(const struct obs_dev_class *k, const char *text,
                                  struct frame *f, obs_dev_wanted_fn wanted, void *wanted_arg);
/* One tick over the file's text now: sets the columns of f; dt = seconds since the
 * previous tick (0 = first); now_real_ns stamps the notes. */
void obs_devset_sample(struct obs_devset *ds, const char *text, struct frame *f, double dt,
                       int64_t now_real_ns, obs_dev_note_fn note, void *note_arg);
size_t obs_devset_tracked(const struct obs_devset *ds); /* devices counted now */
void obs_devset_free(struct obs_devset *ds);
/* A source over one device set and its file (the disk and network sources use these
 * as their init, sample and free): notes go to session_note (meta.json notes). */
int obs_devsrc_init(struct session *s, struct frame *f, const struct obs_dev_class *k,
                    enum obs_procfile file, void **state, char *err, size_t errlen);
void obs_devsrc_sample(struct session *s, void *state, struct frame *f);
void obs_devsrc_free(void *state);

/* ---- line splitting (workload output) ------------------------------------------
 * Lines end at LF, CR or CRLF; a CRLF split across two reads still counts once.
 * Lines longer than OBS_LINE_MAX are cut there (the piece is emitted as a line). */
#define OBS_LINE_MAX (1024 * 1024)
typedef void (*obs_line_cb)(void *arg, const char *line, size_t len, size_t term_len);
struct obs_linebuf {
    char *buf;
    size_t len, cap;
    size_t scan;   /* bytes of buf already looked at: a long line is scanned once */
    bool after_cr; /* the previous chunk ended in CR: a leading LF belongs to it */
};
void obs_linebuf_feed(struct obs_linebuf *lb, const char *data, size_t len, obs_line_cb cb,
                      void *arg);
void obs_linebuf_flush(struct obs_linebuf *lb, obs_line_cb cb, void *arg); /* partial line */
void obs_linebuf_free(struct obs_linebuf *lb);

/* ---- spawning (no shell): fork + execve with an error pipe, so "cannot execute"
 * is reported to the caller rather than as exit status 127. ----------------------- */
/* Finds name on $PATH (or takes it as a path if it has a '/'); 0 or -1 (errno set). */
int obs_which(const char *name, char *out, size_t len);
/* fs_out_used_pct from statvfs block counts as df(1) computes it: used / (used +
 * available to unprivileged users), used = blocks - free; NaN when both are 0. */
double obs_fs_used_pct(unsigned long long blocks, unsigned long long bfree,
                       unsigned long long bavail);
struct obs_spawn_opts {
    int stdin_fd, stdout_fd, stderr_fd; /* -1 = /dev/null */
    bool new_group;                     /* setpgid(0, 0) */
    int pdeathsig;                      /* signal when moni dies, 0 = none */
    char *const *env_add;               /* "NAME=VALUE" added to the environment */
};
/* Returns the pid, or -1 with errno = why the exec failed. */
pid_t obs_spawn(const char *path, char *const *argv, const struct obs_spawn_opts *o);

/* ---- executor: the workload process group ------------------------------------- */
struct obs_exec;
/* line: the bytes of one line including its terminator (term_len bytes of it). */
typedef void (*obs_exec_line_cb)(void *arg, const char *line, size_t len, size_t term_len,
                                 int stream, const struct moni_stamp *t);
typedef void (*obs_exec_exit_cb)(void *arg, int wstatus, const struct moni_stamp *t);
struct obs_exec *obs_exec_new(struct moni_loop *loop, char *const *argv, char *const *env_add,
                              int64_t grace_ns, obs_exec_line_cb on_line,
                              obs_exec_exit_cb on_exit, void *arg);
/* Resolves argv[0] on $PATH and spawns it; -1 with err if it cannot be executed. */
int obs_exec_start(struct obs_exec *e, char *err, size_t errlen);
/* The argv of the next start (a restart with other arguments); the caller keeps it. */
void obs_exec_set_argv(struct obs_exec *e, char *const *argv);
void obs_exec_stop(struct obs_exec *e);             /* SIGTERM, SIGKILL after grace */
int obs_exec_signal(struct obs_exec *e, int signo); /* to the group */
pid_t obs_exec_pid(const struct obs_exec *e);
bool obs_exec_running(const struct obs_exec *e);
/* Reads what is left in the pipes and emits the partial lines (at the end). */
void obs_exec_drain(struct obs_exec *e);
/* Kills what is left of the group (SIGKILL) and closes everything. */
void obs_exec_free(struct obs_exec *e);

/* ---- recorder: the run directory ---------------------------------------------- */
struct obs_rec;
/* Creates/validates dir (refuses a non-empty one unless force; *usage set then). */
struct obs_rec *obs_rec_open(const char *dir, bool force, char *err, size_t errlen,
                             bool *usage);
int obs_rec_header(struct obs_rec *r, const struct frame *f);
int obs_rec_row(struct obs_rec *r, const struct frame *f);
int obs_rec_line(struct obs_rec *r, const char *line, size_t len, uint64_t lineno, int stream,
                 const struct moni_stamp *t);
int obs_rec_meta(struct obs_rec *r, const cJSON *meta); /* temp + rename */
/* Replaces every invalid UTF-8 byte in the strings (and keys) of item and what follows
 * it by U+FFFD: meta.json is JSON, names and argv may be any bytes. */
void obs_meta_utf8(cJSON *item);
const char *obs_rec_dir(const struct obs_rec *r);
uint64_t obs_rec_errors(const struct obs_rec *r);
const char *obs_rec_first_error(const struct obs_rec *r); /* "FILE: strerror", "" if none */
void obs_rec_close(struct obs_rec *r); /* fsync all, stop the fsync thread */
/* The directory's lock fd (the caller closes it when the run is over; after close
 * the next run may take the directory). */
int obs_rec_take_lock(struct obs_rec *r);
/* "line,timestamp,mono_ns,stream\n" row for workload.idx. */
size_t obs_idx_row(uint64_t lineno, const struct moni_stamp *t, int stream, char *buf,
                   size_t len);

/* ---- what sources publish into the session ------------------------------------ */
void obs_session_set_procs(struct session *s, const struct obs_proc *procs, size_t n);
void obs_session_set_gpus(struct session *s, const char *backend, const char *reason,
                          const char *driver, const struct session_gpu *gpus, size_t n);
/* Restarts of the GPU backend's helper (nvidia-smi): meta.json gpu.restarts. */
void obs_session_set_gpu_restarts(struct session *s, unsigned n);

/* ---- GPU backends (src-nvml.c, src-nvsmi.c) ----------------------------------- */
#define OBS_GPU_MAX 16
enum obs_gpu_field {
    GPU_UTIL, GPU_MEM_UTIL, GPU_MEM_USED, GPU_MEM_TOTAL, GPU_TEMP, GPU_POWER, GPU_SM_CLOCK,
    GPU_PCIE_RX, GPU_PCIE_TX, GPU_ECC_CORR, GPU_ECC_UNCORR, GPU_XID_COUNT, GPU_XID_LAST,
    GPU_PROC_MEM, GPU_NFIELDS
};
extern const char *const obs_gpu_field_suffix[GPU_NFIELDS]; /* "util_pct", ... */
struct obs_gpu_values {
    double v[OBS_GPU_MAX][GPU_NFIELDS];
    bool ok[OBS_GPU_MAX][GPU_NFIELDS];
};
/* nvidia-smi fallback: inventory (one short call) then one streaming child. */
struct obs_nvsmi;
struct obs_nvsmi *obs_nvsmi_open(struct moni_loop *loop, int64_t period_ns,
                                 struct session_gpu *gpus, size_t *ngpus, char *driver,
                                 size_t driver_len, char *err, size_t errlen);
/* Copies the latest parsed values (missing where the child printed nothing/N/A). */
void obs_nvsmi_values(struct obs_nvsmi *n, struct obs_gpu_values *out);
void obs_nvsmi_close(struct obs_nvsmi *n);
/* Where restarts of the streaming child are noted and counted (gpu.restarts). */
void obs_nvsmi_set_session(struct obs_nvsmi *n, struct session *s);
/* Parses one streamed CSV line into out (exported for tests); GPU index or -1. */
int obs_nvsmi_parse_line(const char *line, struct obs_gpu_values *out);

#endif
