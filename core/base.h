/* core/base.h — the base layer: errors, clock, units, JSON with line numbers, files,
 * the event loop, metric frames and small procfs readers.
 *
 * This is the bottom of the dependency graph: faults/ and logparse/ include this
 * header and nothing else of core; it must never include another moni header
 * (tests/check-layers.sh fails the build if it does). */
#ifndef MONI_BASE_H
#define MONI_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <cJSON.h>

#define MONI_VERSION "0.1.0"

enum { MONI_EXIT_OK = 0, MONI_EXIT_FAIL = 1, MONI_EXIT_USAGE = 2 };

#define MONI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MONI_NS_PER_SEC 1000000000LL
#define MONI_NS_PER_MS 1000000LL

/* ---- errors --------------------------------------------------------------------
 * Every user-facing error is one line on stderr: "moni: what is wrong".  Input
 * errors name the place: "moni: FILE:LINE: field: what is wrong". */
void moni_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void moni_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix used by moni_err/moni_warn ("moni" by default; moni-train sets its own). */
void moni_set_progname(const char *name);

/* ---- clock ---------------------------------------------------------------------
 * One clock for every source: CLOCK_MONOTONIC orders, and wall time is derived from
 * it with an offset taken once at start, so two stamps never disagree in order. */
struct moni_stamp {
    int64_t mono_ns; /* CLOCK_MONOTONIC */
    int64_t real_ns; /* UTC nanoseconds since the epoch, = mono_ns + offset */
};
#define MONI_ISO_LEN 32 /* "2026-11-23T20:33:17.123Z" + NUL, with room */
void moni_clock_init(void);                 /* idempotent; called lazily too */
int64_t moni_mono_ns(void);
struct moni_stamp moni_now(void);
int64_t moni_real_from_mono(int64_t mono_ns);
int64_t moni_mono_from_real(int64_t real_ns);
/* UTC ISO 8601 with milliseconds: 2026-11-23T20:33:17.123Z. Returns buf. */
char *moni_fmt_iso(int64_t real_ns, char *buf, size_t len);
/* Parses the same format (and without milliseconds). Returns 0 or -1. */
int moni_parse_iso(const char *s, int64_t *real_ns);
void moni_sleep_ns(int64_t ns);

/* ---- units ---------------------------------------------------------------------
 * Durations: "500ms", "30s", "2m", "1h", "1.5s", bare number = seconds.
 * Sizes: K M G T as powers of 1024 (also KiB/KB/k), bare number = bytes.
 * Rates: a size per second: "1G/s", "200M/s", "200M" (the /s is optional).
 * Percentages: "95%" or "95", range checked by the caller.
 * Each returns 0, or -1 with a short reason in err (may be NULL). */
int moni_parse_duration(const char *s, int64_t *ns, char *err, size_t errlen);
int moni_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen);
int moni_parse_rate(const char *s, double *bytes_per_s, char *err, size_t errlen);
int moni_parse_percent(const char *s, double *pct, char *err, size_t errlen);
int moni_parse_double(const char *s, double *out, char *err, size_t errlen);
int moni_parse_int(const char *s, long long lo, long long hi, long long *out, char *err,
                   size_t errlen);
/* Human formatting: "1.5G", "512K", "12B"; "1m30s", "250ms". Return buf. */
char *moni_fmt_bytes(double bytes, char *buf, size_t len);
char *moni_fmt_duration(int64_t ns, char *buf, size_t len);

/* ---- JSON documents that remember line numbers ---------------------------------
 * cJSON keeps no positions, so moni_json_load also tokenises the text and maps every
 * cJSON item to the line where it (or its key) starts. */
struct moni_json {
    cJSON *root;
    char *name;        /* file name used in messages */
    size_t nitems;
    const cJSON **items; /* items in document order */
    int *lines;          /* line of each item */
};
/* 0 on success; -1 with "FILE:LINE: message" in err on a syntax error. */
int moni_json_load(const char *path, struct moni_json *doc, char *err, size_t errlen);
int moni_json_parse(const char *name, const char *text, size_t len, struct moni_json *doc,
                    char *err, size_t errlen);
void moni_json_free(struct moni_json *doc);
int moni_json_line(const struct moni_json *doc, const cJSON *item); /* 0 if unknown */
/* Formats "NAME:LINE: FIELD: message" for item (field = item->string or "(root)"). */
void moni_json_errf(const struct moni_json *doc, const cJSON *item, char *err, size_t errlen,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Checks that every key of obj is one of the NULL-terminated allowed list;
 * on an unknown key fills err and returns -1. */
int moni_json_check_keys(const struct moni_json *doc, const cJSON *obj,
                         const char *const *allowed, char *err, size_t errlen);

/* ---- files and paths ----------------------------------------------------------- */
int moni_mkdir_p(const char *path, mode_t mode);
/* Reads a whole regular file (malloc'd, NUL-terminated).  NULL with errno: EINVAL for
 * what is not a regular file (a FIFO, a device: opened without blocking), EISDIR, EFBIG
 * past MONI_READ_FILE_MAX. */
#define MONI_READ_FILE_MAX ((size_t)1 << 31)
char *moni_read_file(const char *path, size_t *len);
/* The same for an input the user names (plan, rules, alerts): at most max bytes
 * (MONI_INPUT_MAX is the usual bound), err says "PATH: not a regular file", "PATH:
 * larger than the 64M limit for this input" or "PATH: cannot read: ...". */
#define MONI_INPUT_MAX ((size_t)64 << 20)
char *moni_read_input(const char *path, size_t max, size_t *len, char *err, size_t errlen);
int moni_write_all(int fd, const void *buf, size_t len);
/* Directory of the running executable (from /proc/self/exe). */
int moni_exe_dir(char *out, size_t len);
/* Directory of installed data: kind is "rules", "themes" or "examples".  Looks at
 * $MONI_DATA_DIR/KIND, then the source tree next to the executable (build/../), then
 * $(PREFIX)/share/moni/KIND.  Returns 0 and fills out, or -1. */
int moni_data_dir(const char *kind, char *out, size_t len);
/* Finds a built-in workload binary ("moni-train", "moni-rlsim"): next to the moni
 * executable first, then $PATH.  Returns 0 and fills out, or -1. */
int moni_find_program(const char *name, char *out, size_t len);
/* $XDG_CONFIG_HOME/moni/SUB (or ~/.config/moni/SUB). */
int moni_config_dir(const char *sub, char *out, size_t len);

/* ---- event loop ----------------------------------------------------------------
 * epoll + timerfd + signalfd.  Callbacks run on the loop's thread. */
struct moni_loop;
typedef void (*moni_fd_cb)(struct moni_loop *loop, int fd, uint32_t events, void *arg);
/* deadline: the absolute CLOCK_MONOTONIC time this tick was due; now: when it ran;
 * missed: deadlines that passed without a callback (0 normally). */
typedef void (*moni_tick_cb)(struct moni_loop *loop, int64_t deadline_ns, int64_t now_ns,
                             uint64_t missed, void *arg);
typedef void (*moni_signal_cb)(struct moni_loop *loop, int signo, void *arg);

struct moni_loop *moni_loop_new(void);
void moni_loop_free(struct moni_loop *loop);
int moni_loop_add_fd(struct moni_loop *loop, int fd, uint32_t events, moni_fd_cb cb, void *arg);
int moni_loop_mod_fd(struct moni_loop *loop, int fd, uint32_t events);
void moni_loop_del_fd(struct moni_loop *loop, int fd);
/* A drift-free periodic timer: deadlines are start + k*period (absolute), first one
 * at first_ns (0 = now + period).  Returns an id >= 0, or -1. */
int moni_loop_add_ticker(struct moni_loop *loop, int64_t period_ns, int64_t first_ns,
                         moni_tick_cb cb, void *arg);
/* A one-shot timer at an absolute monotonic time.  Returns an id >= 0, or -1. */
int moni_loop_add_timeout(struct moni_loop *loop, int64_t at_mono_ns, moni_tick_cb cb, void *arg);
void moni_loop_cancel_timer(struct moni_loop *loop, int id);
/* Blocks the signals and delivers them through a signalfd. */
int moni_loop_on_signals(struct moni_loop *loop, const int *signos, size_t n, moni_signal_cb cb,
                         void *arg);
/* Runs until moni_loop_stop; returns 0, or -1 on an epoll error. */
int moni_loop_run(struct moni_loop *loop);
/* One pass: waits up to timeout_ms (-1 forever) and dispatches what is ready. */
int moni_loop_once(struct moni_loop *loop, int timeout_ms);
void moni_loop_stop(struct moni_loop *loop);
bool moni_loop_stopped(const struct moni_loop *loop);

/* ---- metric frames -------------------------------------------------------------
 * One row of the wide sample table.  Columns carry their unit in the name
 * (cpu_pct, mem_used_bytes, disk_read_Bps, gpu0_util_pct, ...).  Every value has a
 * validity bit: a value that could not be read is missing (empty CSV cell, "-" on
 * screen), never 0.  Columns are added while sources initialise; values are
 * cleared (made missing) before each tick. */
enum metric_kind { METRIC_GAUGE, METRIC_COUNTER };
struct metric_col {
    char *name;
    char *help;
    enum metric_kind kind;
};
struct frame {
    size_t ncols, cap;
    struct metric_col *cols;
    double *val;
    unsigned char *valid;
    struct moni_stamp t; /* when the row was taken */
    int64_t deadline_ns; /* when it was due */
    uint64_t seq;
};
void frame_init(struct frame *f);
void frame_free(struct frame *f);
/* Adds (or finds) a column; returns its index, or -1 on allocation failure. */
int frame_add(struct frame *f, const char *name, const char *help, enum metric_kind kind);
int frame_find(const struct frame *f, const char *name); /* -1 if absent */
void frame_clear(struct frame *f);                       /* all values missing */
void frame_set(struct frame *f, int col, double v);      /* ignores col < 0 */
bool frame_get(const struct frame *f, int col, double *v); /* false if missing */
/* Copies values and stamps (columns of dst are made to match src). */
int frame_copy(struct frame *dst, const struct frame *src);

#endif /* MONI_BASE_H */
