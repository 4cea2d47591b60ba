/* faults/faults.h — what faults/ exports: the fault kinds (one const fault_ops per
 * kind, collected in one table), fault SPEC and parameter parsing, the injector (the
 * lifecycle engine that journals every transition to faults.jsonl), the guardian
 * (a separate process that reverts everything if moni dies) and `moni recover`.
 *
 * Lifecycle: idle -> armed (validated, pre-flight checks) -> firing -> stopped ->
 * reverted, or failed at any step.  `effective` is journalled when the effect was
 * verified from outside (burner CPU measured, RSS reached, file size reached, qdisc
 * listed, process in state T, process gone, for `knob` the trainer's FILE.ack) or
 * from outside with injector_mark_effective().
 *
 * Typical use (console, `moni run`):
 *     struct injector *inj = injector_new(dir "/faults.jsonl", session_id, err, sizeof err);
 *     injector_set_workload(inj, workload_pid);
 *     struct fault_spec spec;
 *     if (fault_spec_parse("cpu:workers=2,load=95%@10s+30s", &spec, err, sizeof err)) ...
 *     int id; injector_arm_spec(inj, &spec, &id, err, sizeof err);   (at start)
 *     injector_fire(inj, id, err, sizeof err);                        (at spec.at_ns)
 *     every tick: injector_poll(inj);   (stops it after spec.for_ns, checks effects)
 *     at the end: injector_free(inj);   (stops and reverts whatever is still active)
 */
#ifndef MONI_FAULTS_H
#define MONI_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <cJSON.h>

/* ---- parameters ------------------------------------------------------------------ */
enum fault_param_type {
    FP_INT,      /* integer, min..max */
    FP_DOUBLE,   /* plain number, min..max */
    FP_PERCENT,  /* "95%" or "95", min..max (percent points) */
    FP_SIZE,     /* "512M", "2G" (powers of 1024) -> bytes */
    FP_SIZE_PCT, /* a size or a percentage ("2G" or "50%"): str keeps the text */
    FP_RATE,     /* "1G/s" -> bytes per second */
    FP_DURATION, /* "500ms", "30s" -> ns (num holds seconds as a double too, see below) */
    FP_BOOL,     /* 0/1, yes/no, true/false, on/off */
    FP_ENUM,     /* one of choices ("a|b|c") */
    FP_SIGNAL,   /* "KILL", "SIGTERM", "9" -> signal number */
    FP_CPULIST,  /* "0-3,6" -> str keeps the text; validated against the machine */
    FP_STRING,   /* free text (a name, an interface) */
};

struct fault_param {
    const char *key;
    enum fault_param_type type;
    const char *unit;    /* shown in forms and `moni fault list`: "%", "B", "B/s", "s", "" */
    const char *def;     /* default as text (parsed like user input); NULL = unset */
    double min, max;     /* limits for numeric types (both 0 = unchecked) */
    const char *choices; /* FP_ENUM: "duty|topup" */
    const char *help;    /* one line */
};

#define FAULT_MAX_PARAMS 24
#define FAULT_STR_LEN 128

/* One parsed parameter value.  num: the number in base units (bytes, bytes/s,
 * percent points, seconds for durations, signal number, 0/1 for bools, the index of
 * the choice for enums); ns: durations in nanoseconds; str: the text as given (or
 * the default).  FP_SIZE_PCT: is_pct says which one was given. */
struct fault_value {
    bool set;      /* given or defaulted */
    bool given;    /* given by the user */
    bool is_pct;
    double num;
    int64_t ns;
    char str[FAULT_STR_LEN];
};

/* Free-form key=value pairs (the `knob` kind takes any key). */
struct fault_kv {
    char key[48];
    char val[FAULT_STR_LEN];
};

struct fault_params {
    const struct fault_ops *ops;
    struct fault_value v[FAULT_MAX_PARAMS]; /* indexed like ops->params */
    size_t nextra;
    struct fault_kv extra[FAULT_MAX_PARAMS]; /* ops->free_keys kinds only */
};

/* ---- targets ---------------------------------------------------------------------- */
struct fault_target {
    pid_t pid;       /* 0 = the workload (injector_set_workload) */
    int port;        /* net: the port the workload's peer listens on */
    char path[512];  /* disk_fill/io: a directory; knob: the control file */
    bool allow_any;  /* allow a pid outside the workload's tree (never 1, moni, guardian) */
};
enum {
    FAULT_TGT_PID = 1 << 0,  /* kind acts on a process (defaults to the workload) */
    FAULT_TGT_PORT = 1 << 1, /* kind needs a port */
    FAULT_TGT_PATH = 1 << 2, /* kind needs a path */
    FAULT_TGT_REQUIRED = 1 << 8, /* the above target is mandatory */
};

/* ---- states ------------------------------------------------------------------------ */
enum fault_state {
    FAULT_IDLE,
    FAULT_ARMED,
    FAULT_FIRING,
    FAULT_STOPPED,
    FAULT_REVERTED,
    FAULT_FAILED,
};
const char *fault_state_name(enum fault_state s); /* "idle", "armed", ... */

/* Journal events, in faults.jsonl's "event" field. */
enum fault_event {
    FAULT_EV_ARMED,
    FAULT_EV_FIRED,
    FAULT_EV_EFFECTIVE,
    FAULT_EV_STOPPED,
    FAULT_EV_REVERTED,
    FAULT_EV_FAILED,
};
const char *fault_event_name(enum fault_event e);

/* ---- one fault kind ------------------------------------------------------------------
 * A kind is one const descriptor; adding a kind is adding a file and a table row. */
struct fault;
enum fault_check { FAULT_CHECK_WAIT = 0, FAULT_CHECK_EFFECTIVE = 1, FAULT_CHECK_DONE = 2,
                   FAULT_CHECK_FAILED = -1 };
struct fault_ops {
    const char *name;       /* "cpu" */
    const char *summary;    /* one line for `moni fault list` and the console */
    const char *privileges; /* "none", "CAP_NET_ADMIN", "CAP_KILL over the target", ... */
    /* How the dataset labels it: "interval" (the fault window), "point" (start =
     * end, e.g. kill) or "global" (the whole run).  Journalled with every transition;
     * readers of old journals fall back to it (core/rundir), never to the name. */
    const char *label_kind;
    /* What a diagnosis names when the fault has its effect ("CPU_Contention,Slowdown"),
     * for the machine's time to detect in `moni validate`; never used to label data. */
    const char *effect_labels;
    /* Acts through the workload's control file (moni-train --control): the runner
     * passes --control when one is planned; the trainer's FILE.ack makes it effective. */
    bool control_file;
    /* check() only reads counters: it runs once more just before a stop, so an effect
     * seen between the last poll and the stop (a workload that failed at once) is
     * journalled as `effective`. */
    bool check_at_stop;
    const char *dose_unit;  /* unit of requested/delivered dose: "pct", "bytes", "Bps", ... */
    const char *undo;       /* how it is undone (man page, list) */
    const struct fault_param *params;
    size_t nparams;
    unsigned targets;       /* FAULT_TGT_* */
    bool free_keys;         /* accepts keys not in params (knob) */
    /* Cross-parameter validation and pre-flight (target exists, headroom,
     * privileges, library present).  0, or FAULT_ERR_USAGE / FAULT_ERR_FAIL. */
    int (*arm)(struct fault *f, char *err, size_t errlen);
    int (*fire)(struct fault *f, char *err, size_t errlen);
    /* Called on every poll while firing: verifies the effect from outside and updates
     * f->delivered.  Returns enum fault_check. */
    int (*check)(struct fault *f, int64_t now_ns);
    void (*stop)(struct fault *f); /* ends the effect (may be called when armed) */
    /* Removes what is left and verifies it is gone.  0, or -1 with err. */
    int (*revert)(struct fault *f, char *err, size_t errlen);
    /* Adds kind-specific details (mode, CPUs used, RSS curve, latencies) to the
     * journal's "details" object. May be NULL. */
    void (*describe)(const struct fault *f, cJSON *details);
    void (*release)(struct fault *f); /* frees f->priv; may be NULL */
    /* The part of arm's pre-flight that needs no target and acts on nothing
     * (parameters that exclude each other, addresses, a library present): run before
     * the workload starts.  f->priv is NULL and stays so.  0 or FAULT_ERR_*; may be NULL. */
    int (*precheck)(const struct fault *f, char *err, size_t errlen);
};
enum { FAULT_OK = 0, FAULT_ERR_FAIL = -1, FAULT_ERR_USAGE = -2 };

/* The table of kinds (faults/table.c). */
extern const struct fault_ops *const fault_table[];
extern const size_t fault_table_len;
const struct fault_ops *fault_find(const char *name); /* NULL if unknown */
int fault_param_index(const struct fault_ops *ops, const char *key); /* -1 if unknown */

/* Parses and validates key=value pairs against ops->params, applying defaults.
 * Errors are one line naming the parameter: "cpu: load=150%: must be 0..100%".
 * Returns 0 or FAULT_ERR_USAGE. */
int fault_params_parse(const struct fault_ops *ops, const struct fault_kv *kv, size_t nkv,
                       struct fault_params *out, char *err, size_t errlen);
/* Parses "key=value,key=value" (as in a SPEC) into kv (at most max). -1 on syntax. */
int fault_kv_split(const char *text, char sep, struct fault_kv *kv, size_t max, size_t *n,
                   char *err, size_t errlen);
/* One value, as the console's form validates a field as it is typed. */
int fault_value_parse(const struct fault_param *p, const char *text, struct fault_value *out,
                      char *err, size_t errlen);
/* Accessors by key (the key must exist in the kind's spec; 0/""/false otherwise). */
double fault_num(const struct fault *f, const char *key);
int64_t fault_ns(const struct fault *f, const char *key);
const char *fault_str(const struct fault *f, const char *key);
bool fault_given(const struct fault *f, const char *key);

/* ---- a SPEC: KIND[:key=value,...][@AT][+FOR] ----------------------------------------
 * e.g. "cpu:workers=2,load=95%@10s+30s", "kill@40s", "knob:lr=10@2m".  Parameters are
 * validated against the kind (fault_params_parse); target keys are accepted inside the
 * spec too: pid=N, port=N, path=P, allow_any=1. */
struct fault_spec {
    const struct fault_ops *ops;
    size_t nkv;
    struct fault_kv kv[FAULT_MAX_PARAMS]; /* as given, target keys removed */
    struct fault_params params;           /* validated, defaults applied */
    struct fault_target target;
    bool has_at;
    int64_t at_ns;  /* offset from the run's start */
    int64_t for_ns; /* 0 = until stopped (or the kind ends by itself, or the max) */
};
int fault_spec_parse(const char *text, struct fault_spec *spec, char *err, size_t errlen);
/* Everything arming checks that acts on nothing, for plans and --fault before anything
 * starts: the target pid (never init, moni or a pid outside a workload that does not
 * exist yet), the window against the default hard maximum, and the kind's precheck.
 * 0, or FAULT_ERR_USAGE / FAULT_ERR_FAIL with err. */
int fault_spec_preflight(const struct fault_spec *spec, char *err, size_t errlen);

/* ---- the injector --------------------------------------------------------------------- */
struct injector;

/* What the console pane and the exporter show.  Times are CLOCK_MONOTONIC ns, 0 = not
 * reached.  Doses are in ops->dose_unit; delivered_valid false = not measured yet. */
struct fault_info {
    int id;
    char id_str[16];            /* "f3": the fault_id in faults.jsonl */
    const struct fault_ops *ops;
    enum fault_state state;
    bool effective;
    char target[160];           /* "pid:1234", "port:8080", "path:/data", "" */
    char params[256];           /* "workers=2,load=95%" */
    char mode[24];              /* kind-specific mode ("duty", "topup", "proxy", ...) */
    int64_t armed_ns, fired_ns, effective_ns, stopped_ns, reverted_ns;
    int64_t for_ns;             /* requested window (0 = open) */
    int64_t remaining_ns;       /* until the window or the hard max ends; -1 = n/a */
    double requested_dose, delivered_dose;
    bool delivered_valid;
    const char *dose_unit;
    char error[256];            /* last failure, "" if none */
};

struct injector_stats {
    uint64_t armed, fired, effective, failed, reverted; /* counters since start */
    size_t active;                                      /* armed or firing now */
    uint64_t journal_errors;  /* journal lines that could not be written (disk full) */
};

/* One line of the journal as it was written (for the console timeline, plan labels). */
typedef void (*injector_event_cb)(struct injector *inj, const struct fault_info *fi,
                                  enum fault_event ev, const char *json_line, void *arg);

/* Opens (appends to) the journal; session_id names fill files and the state file.
 * Also checks the state directory for leftovers of killed sessions and warns once
 * ("moni: leftovers of a killed session ...; run 'moni recover'").  NULL + err. */
struct injector *injector_new(const char *journal_path, const char *session_id, char *err,
                              size_t errlen);
/* Stops and reverts every active fault, ends the guardian, closes the journal. */
void injector_free(struct injector *inj);
/* The workload's root pid: default target, and the tree targets must be inside. */
void injector_set_workload(struct injector *inj, pid_t pid);
/* Fault ids become PREFIXfN (at most 7 of [a-z0-9-]): faults sent to a node's run
 * directory from another node must not reuse the node's own ids.  0 or -1. */
int injector_set_id_prefix(struct injector *inj, const char *prefix);
/* Hard maximum per fault (default 10 min); applies to faults armed afterwards. */
void injector_set_max_duration(struct injector *inj, int64_t ns);
/* Memory headroom (default 512M of MemAvailable kept) and disk ceiling (default 99%). */
void injector_set_headroom(struct injector *inj, uint64_t mem_bytes, double disk_ceiling_pct);
void injector_on_event(struct injector *inj, injector_event_cb cb, void *arg);

/* Arms a fault: validates parameters and target, runs the pre-flight checks, starts
 * the guardian if needed, journals `armed` (or `failed`).  for_ns: window after
 * firing (0 = open).  Returns 0 and sets *id, or FAULT_ERR_USAGE (bad parameter or
 * target: exit 2) / FAULT_ERR_FAIL (pre-flight or system failure: exit 1) with err.
 * A fault refused before its kind's pre-flight is not listed; one that failed the
 * pre-flight is listed as failed (and journalled) and *id is set.
 *
 * Threading: one thread owns an injector (call everything from the loop thread).
 * Stressors get PR_SET_PDEATHSIG, which fires when the THREAD that forked them ends:
 * do not arm/fire from short-lived threads.  Stressors and the guardian are reaped
 * with waitpid(pid) on their own pids; a waitpid(-1) elsewhere is tolerated. */
int injector_arm(struct injector *inj, const char *kind, const struct fault_kv *kv, size_t nkv,
                 const struct fault_target *target, int64_t for_ns, int *id, char *err,
                 size_t errlen);
int injector_arm_spec(struct injector *inj, const struct fault_spec *spec, int *id, char *err,
                      size_t errlen);
/* Fires an armed fault; refused (FAULT_ERR_FAIL) when no guardian can hold its undo. */
int injector_fire(struct injector *inj, int id, char *err, size_t errlen);
/* Stops the effect and reverts (journals `stopped` then `reverted`).  Works on armed
 * faults too (disarm).  0, or -1 if the id is unknown or already finished. */
int injector_stop(struct injector *inj, int id);
void injector_stop_all(struct injector *inj); /* panic button */
/* The same with the reason journalled ("run duration reached"). */
void injector_stop_all_why(struct injector *inj, const char *reason);
/* Marks a firing fault effective from outside (a knob on moni-rlsim, which acks nothing). */
int injector_mark_effective(struct injector *inj, int id, const char *detail);
/* Call every tick (every 100 ms or faster; the effective stamp is as precise as this):
 * checks effects, updates delivered doses, enforces windows and the hard max, sends
 * the guardian its heartbeat (without one for a second it ends overdue faults itself)
 * and notices a dead guardian (restarts it, or stops every fault when it cannot).
 * Returns the number of active faults. */
size_t injector_poll(struct injector *inj);

size_t injector_count(const struct injector *inj); /* every fault since start */
/* Fills fi for the idx-th fault (0..count-1, in arming order). false if out of range. */
bool injector_info(const struct injector *inj, size_t idx, struct fault_info *fi);
bool injector_info_by_id(const struct injector *inj, int id, struct fault_info *fi);
void injector_stats(const struct injector *inj, struct injector_stats *st);
const char *injector_journal_path(const struct injector *inj);
pid_t injector_guardian_pid(const struct injector *inj); /* 0 if not started */

/* ---- in-process faults (libmoni-inject.so) ------------------------------------------
 * Prepares a workload about to start for the fs, dns, connect and clock kinds: checks
 * exe (a statically linked or set-user-ID program cannot take a preload library),
 * finds the library ($MONI_INJECT_LIB, next to moni, or PREFIX/lib/moni) and creates
 * RUN_DIR/inject.ctl.  Fills env[0] "LD_PRELOAD=..." and env[1] "MONI_INJECT_CTL=...",
 * and for an AddressSanitizer build env[2] "ASAN_OPTIONS=...verify_asan_link_order=0"
 * (malloc'd; all NULL when refused, env[2] NULL when not needed) and returns
 * meta.json's "inject" object: {"enabled":true,"library":...,"ctl":...} or
 * {"enabled":false,"reason":...}. */
cJSON *fault_inject_prepare(const char *run_dir, const char *exe, char *env[3]);

/* ---- guardian state and `moni recover` ----------------------------------------------
 * The state directory: $MONI_STATE_DIR, else $XDG_STATE_HOME/moni, else
 * $HOME/.local/state/moni, else the passwd entry's home; never a shared place such as
 * /tmp (-1 when there is no home). */
int guardian_state_dir(char *out, size_t len);
/* Fills dir and checks that it can be trusted: a real directory (not a symlink) owned
 * by the user running moni and writable by nobody else; every state file in it is
 * checked the same way before `moni recover` believes it.  create: make it (0700).
 * 0 = trusted, 1 = it does not exist (create false), -1 with err ("... is owned by
 * another user ...; refusing to trust it"). */
int guardian_state_dir_check(char *dir, size_t len, bool create, char *err, size_t errlen);
/* Counts undo items left by sessions whose moni and guardian are both gone. */
int guardian_leftovers(size_t *items, size_t *sessions);
/* Prints the one-line leftovers warning to stderr when there are any (injector_new
 * calls it; commands that start without an injector may too).  Returns the count. */
size_t guardian_warn_leftovers(void);
/* Undoes them (kill process groups, delete files, SIGCONT, remove qdiscs, restore
 * control files), journals `reverted` into their journals when still writable, and
 * prints one line per item to out (may be NULL).  dry_run: only print.  A state file
 * that is not the user's own (see guardian_state_dir_check) is refused and counted.
 * Returns the number of items that could not be undone, or -1 (an error printed)
 * when the state directory cannot be trusted. */
int guardian_recover(FILE *out, bool dry_run);

/* ===== for fault kinds (faults/fault-*.c) and the engine; not for other folders ===== */
#ifdef MONI_FAULTS_INTERNAL
struct fault {
    int id;
    char id_str[16];
    const struct fault_ops *ops;
    struct injector *inj;
    struct fault_params p;
    struct fault_target target; /* resolved: pid filled with the workload when 0 */
    enum fault_state state;
    bool effective;
    int64_t armed_ns, fired_ns, effective_ns, stopped_ns, reverted_ns, for_ns, max_ns;
    double requested, delivered;
    bool delivered_valid;
    char mode[24];
    char effect_detail[160];
    char error[256];
    bool undo_lost; /* an undo item could not be handed to the guardian */
    void *priv;
};

/* Context the kinds need from the injector. */
const char *fault_session_id(const struct fault *f);
uint64_t fault_mem_headroom(const struct fault *f);
double fault_disk_ceiling(const struct fault *f);
pid_t fault_workload_pid(const struct fault *f);
/* The pid a signal kind acts on: the target's, or with name= the process of that
 * name in the target's tree.  -1 with err when there is no such process. */
pid_t fault_target_pid_named(const struct fault *f, char *err, size_t errlen);
/* 1 when `tc qdisc show` output holds a root qdisc moni does not own (what =
 * "pfifo_fast 0:"), else 0 (none, noqueue, or moni's own). */
int fault_qdisc_foreign(const char *tc_show, char *what, size_t len);
/* ops->release for kinds whose priv is one malloc'd block. */
void fault_release_priv(struct fault *f);

/* Forks a stressor child: PR_SET_PDEATHSIG(SIGKILL), its own process group, every fd
 * above 2 closed except keep_fd (-1: none), so it holds none of moni's pipes (the
 * guardian's, the workload's); runs body(arg) and _exits.  The child's pgid is handed
 * to the guardian before this returns.  Returns the pid or -1. */
pid_t fault_spawn(struct fault *f, void (*body)(void *arg), void *arg, int keep_fd);
/* Kills a stressor's process group (SIGKILL), reaps it; true when it is gone. */
bool fault_kill_child(pid_t pid);
/* Undo registrations: sent to the guardian and appended to the state file (fsync'd)
 * BEFORE the effect is created. */
int fault_undo_pgid(struct fault *f, pid_t pgid);
int fault_undo_file(struct fault *f, const char *path);
int fault_undo_cont(struct fault *f, pid_t pid);
int fault_undo_qdisc(struct fault *f, const char *dev, const char *handle);
/* A file to restore from backup, then given back owner uid:gid and mode (the low 12
 * bits of mode; mode 0 = leave them). */
int fault_undo_restore(struct fault *f, const char *path, const char *backup, mode_t mode,
                       uid_t uid, gid_t gid);
/* An in-process fault's rule: slot of the control block at ctl, cleared on undo. */
int fault_undo_inject(struct fault *f, const char *ctl, int slot);
/* A cgroup moni made (straggler): its processes go back to orig, then it is removed. */
int fault_undo_cgroup(struct fault *f, const char *dir, const char *orig);
/* That undo (faults/fault-straggler.c; the guardian and recover call it too): true
 * when dir is gone; what says what was done. */
bool fault_cgroup_release(const char *dir, const char *orig, char *what, size_t len);
/* Shared memory for counters a child updates (MAP_SHARED, zeroed). */
void *fault_shared_alloc(size_t len);
void fault_shared_free(void *p, size_t len);

/* The guardian (faults/guardian.c): a separate process holding the undo list. */
struct guardian {
    pid_t pid;          /* 0 = not started */
    int wfd;            /* socket to the guardian (O_CLOEXEC); it answers on it too */
    int state_fd;       /* the state file (undo log), -1 if none */
    char state_path[512];
    char *log;          /* every line sent but heartbeats, for a restarted guardian */
    size_t loglen, logcap;
};
int guardian_start(struct guardian *g, int journal_fd, const char *journal_path,
                   const char *session, char *err, size_t errlen);
/* Sends one undo line ("P\tf1\t1234\t...") to the guardian and the state file
 * ("W" deadlines and "H" heartbeats go to the guardian only).  -1 when the line is
 * lost: neither kept for a restarted guardian nor sent. */
int guardian_send(struct guardian *g, const char *line);
/* Reads what the guardian said without waiting: on_line(arg, 'R', id) for a fault it
 * ended itself (moni was silent past its window), 'E' for one it could not record.
 * 0, or -1 when the guardian is gone (its socket closed). */
int guardian_poll(struct guardian *g, void (*on_line)(void *arg, char type, const char *id),
                  void *arg);
/* Starts a new guardian after one died and hands it everything sent so far. */
int guardian_restart(struct guardian *g, int journal_fd, const char *journal_path,
                     const char *session, char *err, size_t errlen);
/* Clean end: everything was reverted by moni; the guardian exits, the state file goes. */
void guardian_finish(struct guardian *g);
/* Journal a line for a fault from outside moni (guardian, recover). */
void guardian_journal(int fd, const char *event, const char *id, const char *kind,
                      const char *target, const char *session, const char *by,
                      const char *reason, cJSON *undo);
/* A journal line: "timestamp" (from real_ns) and "mono_ns", then o's members, ending
 * in '\n' (malloc'd, NUL-terminated, *len without the NUL); NULL when out of memory. */
char *fault_journal_line(const cJSON *o, int64_t real_ns, int64_t mono_ns, size_t *len);

/* /proc helpers */
int fault_proc_state(pid_t pid);                 /* 'R','S','T','Z',... or 0 if gone */
int64_t fault_proc_cpu_ns(pid_t pid);            /* /proc/PID/schedstat on-CPU ns, -1 */
int fault_proc_last_cpu(pid_t pid);              /* field 39 of /proc/PID/stat, -1 */
uint64_t fault_proc_rss(pid_t pid);              /* bytes, 0 if unknown */
uint64_t fault_proc_starttime(pid_t pid);        /* field 22, 0 if gone */
bool fault_proc_in_tree(pid_t pid, pid_t root);  /* pid == root or a descendant */
pid_t fault_proc_find_name(pid_t root, const char *name); /* comm match in tree, 0 */
uint64_t fault_meminfo(const char *key);         /* "MemAvailable" -> bytes */
/* Runs argv (no shell), waits up to timeout; stdout into out (may be NULL).
 * Returns the exit status, or -1. */
int fault_run_argv(char *const argv[], char *out, size_t outlen, int64_t timeout_ns);
#endif

#endif
