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
#include <string.h>
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
/* Formats the message into err (errlen bytes) and returns -1: `return moni_seterr(...)`. */
int moni_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
/* strtod(s, &end) with *end == '\0' required, i.e. the whole of s is one number; the
 * same double strtod gives, by a fast exact path for plain decimals of at most 19
 * significant digits and powers of ten up to 22 (Clinger's), strtod for the rest.
 * For the CSV readers, where strtod was a third of `moni detect`. */
bool moni_strtod_whole(const char *s, double *out);
/* mant * 10^exp10 as the one correctly rounded double, when both are exact doubles
 * (mant <= 2^53, |exp10| <= 22); false otherwise (the caller falls back to strtod). */
bool moni_decimal_exact(uint64_t mant, int exp10, double *out);
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
    /* The line index is built on first use (moni_json_index, moni_json_line): a
     * document read without an error to report never pays for it. */
    char *text;        /* the parsed text, kept until the index is built */
    size_t len;
    bool indexed;
    size_t nitems;
    const cJSON **items; /* items in document order */
    int *lines;          /* line of each item; NULL when unknown */
};
/* 0 on success; -1 with "FILE:LINE: message" in err on a syntax error. */
int moni_json_load(const char *path, struct moni_json *doc, char *err, size_t errlen);
int moni_json_parse(const char *name, const char *text, size_t len, struct moni_json *doc,
                    char *err, size_t errlen);
/* Builds items[] and lines[] (once); lines stays NULL when they cannot be known. */
void moni_json_index(struct moni_json *doc);
void moni_json_free(struct moni_json *doc);
int moni_json_line(const struct moni_json *doc, const cJSON *item); /* 0 if unknown */
/* Formats "NAME:LINE: FIELD: message" for item (field = item->string or "(root)"). */
void moni_json_errf(const struct moni_json *doc, const cJSON *item, char *err, size_t errlen,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Checks that every key of obj is one of the NULL-terminated allowed list;
 * on an unknown key fills err and returns -1. */
int moni_json_check_keys(const struct moni_json *doc, const cJSON *obj,
                         const char *const *allowed, char *err, size_t errlen);

/* memcpy for n <= 16 without a call: two overlapping words (the per-line writers
 * copy many short values). */
static inline void moni_copy_small(char *d, const char *s, size_t n)
{
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* ---- JSON lines written by hand (core/jsonw.c) ----------------------------------
 * For writers that run per log line: a record is built in a growable buffer with
 * no cJSON tree, then written at once.  On out of memory a put writes nothing and
 * sets oom (the record is then incomplete: drop it).
 *   struct moni_jbuf j = {0};
 *   MONI_JB_LIT(&j, "{\"k\":"); moni_jb_str(&j, s, strlen(s)); moni_jb_putc(&j, '}');
 *   ... write(fd, j.b, j.n); j.n = 0; ... moni_jb_free(&j); */
struct moni_jbuf {
    char *b;
    size_t n, cap;
    bool oom;
};
bool moni_jb_grow(struct moni_jbuf *j, size_t more);
void moni_jb_free(struct moni_jbuf *j);
/* Room for more bytes; false (and nothing may be written) when out of memory. */
static inline bool moni_jb_room(struct moni_jbuf *j, size_t more)
{
    return j->n + more <= j->cap || moni_jb_grow(j, more);
}
static inline void moni_jb_put(struct moni_jbuf *j, const char *s, size_t n)
{
    if (moni_jb_room(j, n)) {
        memcpy(j->b + j->n, s, n);
        j->n += n;
    }
}
static inline void moni_jb_putc(struct moni_jbuf *j, char c)
{
    if (moni_jb_room(j, 1))
        j->b[j->n++] = c;
}
#define MONI_JB_LIT(j, lit) moni_jb_put((j), lit, sizeof lit - 1)
/* A quoted string of n bytes: quotes, backslashes and control bytes escaped
 * (\u00XX), bytes that are not valid UTF-8 written as U+FFFD. */
void moni_jb_str(struct moni_jbuf *j, const char *s, size_t n);
/* The same bytes cJSON_PrintUnformatted writes for the C string s (at most n bytes,
 * ends at a NUL): \" \\ \b \f \n \r \t, \u00xx for other control bytes, every other
 * byte as is (invalid UTF-8 included). */
void moni_jb_str_cjson(struct moni_jbuf *j, const char *s, size_t n);
/* The number as cJSON writes it: "%1.15g" when that reads back within an epsilon,
 * else "%1.17g", always with '.'; null when not finite. */
void moni_jb_num_cjson(struct moni_jbuf *j, double v);
void moni_jb_u64(struct moni_jbuf *j, unsigned long long v);
/* v in decimal at d (room for 20 bytes, no NUL); returns the end. */
char *moni_put_u64(char *d, unsigned long long v);
void moni_jb_i64(struct moni_jbuf *j, long long v);

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
/* Clears a stop so that moni_loop_run runs again (the console, between two runs). */
void moni_loop_resume(struct moni_loop *loop);
bool moni_loop_stopped(const struct moni_loop *loop);

/* ---- CSV rows (core/csv.c) ------------------------------------------------------
 * The one writer of CSV cells (RFC 4180): cells separated by commas; a cell with a
 * comma, a quote or a line break quoted, its quotes doubled.
 *   struct moni_csv_row r = {f, 0};
 *   moni_csv_text(&r, kind); moni_csv_num(&r, "%.3f", auc); moni_csv_end(&r); */
struct moni_csv_row {
    FILE *f;
    size_t cells; /* written so far in this row */
};
void moni_csv_text(struct moni_csv_row *r, const char *s); /* quoted when it must be */
/* A number or other text of ours, as is (never quoted: it must need no quotes). */
void moni_csv_fmt(struct moni_csv_row *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A number printed with fmt (one double conversion); empty for NaN and infinities
 * (pandas reads an empty cell as NaN). */
void moni_csv_num(struct moni_csv_row *r, const char *fmt, double v);
void moni_csv_end(struct moni_csv_row *r); /* the line break; the next cell starts a row */

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

/* ---- procfs readers (core/procfs.c) ----------------------------------------------
 * Pure parsers over text (what the kernel writes; truncated or malformed text gives
 * -1 or "absent", never a read past the NUL) and small readers.  The observer's
 * sources, the fault kinds and the commands all parse /proc through these. */
/* Reads a whole small file through an open fd (pread at 0, so a kept-open /proc
 * file is re-read without open/close).  Returns the length (NUL-terminated in buf,
 * cut at len - 1), or -1. */
ssize_t procfs_pread(int fd, char *buf, size_t len);
/* Opens + reads + closes a small file into buf; length or -1. */
ssize_t procfs_read_small(const char *path, char *buf, size_t len);
/* A kept-open /proc file whose buffer grows (up to 1 MiB) to hold the whole text. */
struct procfs_file {
    int fd; /* -1 when it could not be opened */
    char *buf;
    size_t cap, len;
};
int procfs_file_open(struct procfs_file *pf, const char *path); /* 0, or -1 (fd = -1) */
const char *procfs_file_read(struct procfs_file *pf); /* the whole text now, or NULL */
void procfs_file_close(struct procfs_file *pf);
const char *procfs_next_line(const char *p); /* after the next LF, or NULL */

struct procfs_cpu_times { /* jiffies from one "cpu..." line of /proc/stat */
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};
/* Parses "cpu  1 2 3 ..." or "cpu3 ..."; *index = -1 for the total, else the core.
 * Returns 0, or -1 if the line is not a cpu line (or has fewer than 4 fields). */
int procfs_parse_cpu_line(const char *line, int *index, struct procfs_cpu_times *t);
int procfs_parse_stat_total(const char *text, struct procfs_cpu_times *t); /* 0 or -1 */
int procfs_read_cpu_total(struct procfs_cpu_times *t); /* reads /proc/stat; 0 or -1 */
/* "13.44 13.02 9.48 14/171 16798": the three averages (0 or -1), and the last PID
 * the kernel handed out (the last field), or -1. */
int procfs_parse_loadavg(const char *text, double avg[3]);
long procfs_parse_last_pid(const char *text);

struct procfs_mem { /* bytes; -1 = absent */
    int64_t total, free, available, buffers, cached, sreclaimable, shmem, swap_total,
        swap_free;
};
int procfs_parse_meminfo(const char *text, struct procfs_mem *m); /* -1 without MemTotal */
/* One "Key:   123 kB" line of /proc/meminfo by key ("MemAvailable"), in bytes. */
int procfs_meminfo_field(const char *text, const char *key, int64_t *bytes);
int procfs_read_meminfo_field(const char *key, int64_t *bytes); /* reads the file */

struct procfs_disk {
    char name[32]; /* cut to 31 bytes */
    uint64_t rd_ios, rd_sectors, wr_ios, wr_sectors, io_ms;
};
int procfs_parse_diskstats_line(const char *line, struct procfs_disk *d); /* 0 or -1 */

struct procfs_net {
    char name[32];
    uint64_t rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets, tx_errs, tx_drop;
};
/* One /proc/net/dev line ("  eth0: 1 2 ..."); 0, or -1 (the two header lines). */
int procfs_parse_netdev_line(const char *line, struct procfs_net *n);

struct procfs_psi { /* avg10 in %, total in us; has_full false for "cpu" on old kernels */
    double some_avg10, full_avg10;
    uint64_t some_total, full_total;
    bool has_some, has_full;
};
int procfs_parse_psi(const char *text, struct procfs_psi *p); /* -1 without a "some" line */

struct procfs_pid_stat {
    pid_t pid, ppid, pgrp;
    char state;
    char comm[32];
    uint64_t utime, stime; /* clock ticks */
    long threads;
    uint64_t starttime;
    int64_t rss_pages;
};
/* /proc/PID/stat (comm may hold spaces and parentheses); 0 or -1. */
int procfs_parse_pid_stat(const char *text, struct procfs_pid_stat *st);
/* /proc/PID/io: read_bytes and write_bytes (storage); 0, or -1 if either is absent. */
int procfs_parse_pid_io(const char *text, uint64_t *read_bytes, uint64_t *write_bytes);

#endif /* MONI_BASE_H */
