/* faults/inject-int.h — the control block shared by moni and libmoni-inject.so (the
 * preload library in faults/inject/), private to faults/.
 *
 * The block is a file in the run directory (inject.ctl), two pages long:
 *   page 0, the orders: written by moni only (the library maps it read-only).  Rules
 *     change under a seqlock: `seq` is odd while moni writes, and a reader retries
 *     when it saw an odd or changed seq.  `active` has bit (1 << kind) set for each
 *     kind with a rule: the library reads it first (one relaxed load) and does nothing
 *     else while it is 0.
 *   page 1, the counters: written by the library (atomic adds), read by moni's effect
 *     check: calls that matched each rule, calls it changed, the first change's time.
 * The owner is alive while its heartbeat (CLOCK_MONOTONIC, shared by every process of
 * the machine) is younger than stale_ns and its pid exists; otherwise the library
 * acts as if no rule were set (the guardian's guarantee after SIGKILL of moni; the
 * guardian also clears the rules it was told about: undo item 'I'). */
#ifndef MONI_FAULTS_INJECT_INT_H
#define MONI_FAULTS_INJECT_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INJ_MAGIC 0x314a4e4931494e4dull /* "MNI1INJ1" */
#define INJ_VERSION 1u
#define INJ_RULES 8
#define INJ_PAT_LEN 224
#define INJ_PAGE 4096
#define INJ_FILE_SIZE (2 * INJ_PAGE)
#define INJ_CTL_NAME "inject.ctl"       /* in the run directory */
#define INJ_LIB_NAME "libmoni-inject.so"
#define INJ_ENV_CTL "MONI_INJECT_CTL"
#define INJ_STALE_NS_DEFAULT 3000000000ll /* owner silent this long = gone */

enum inj_kind { INJ_NONE = 0, INJ_FS = 1, INJ_DNS = 2, INJ_CONNECT = 3, INJ_CLOCK = 4 };

/* fs: which calls a rule applies to */
enum {
    INJ_OP_OPEN = 1 << 0,
    INJ_OP_READ = 1 << 1,
    INJ_OP_WRITE = 1 << 2,
    INJ_OP_FSYNC = 1 << 3,
    INJ_OP_RENAME = 1 << 4,
    INJ_OP_CLOSE = 1 << 5,
};

/* connect: what happens to a matched connect() */
enum { INJ_CONN_REFUSE = 0, INJ_CONN_TIMEOUT = 1, INJ_CONN_DELAY = 2, INJ_CONN_RESET = 3 };

struct inj_rule {
    uint32_t kind;        /* enum inj_kind; INJ_NONE = free slot */
    uint32_t ops;         /* fs: INJ_OP_* mask; connect: INJ_CONN_* */
    int32_t err;          /* fs: errno; dns: EAI_* (negative); 0 = none */
    uint32_t every;       /* change one matched call in N (1 = every one) */
    int64_t delay_ns;     /* added before the call (fs, dns, connect delay/timeout) */
    uint32_t short_pct;   /* fs writes: pass on this % of the bytes (0 = off) */
    uint32_t port;        /* connect: 0 = any */
    int64_t offset_ns;    /* clock: CLOCK_REALTIME shift */
    int64_t drift_ppm;    /* clock: extra ns per ms of CLOCK_MONOTONIC since since_ns */
    int64_t since_ns;     /* clock: drift origin (CLOCK_MONOTONIC) */
    uint64_t reset_after; /* connect reset: bytes sent before the connection fails */
    char pattern[INJ_PAT_LEN]; /* fs: path prefix or glob; dns: host glob; connect: IP glob */
};

struct inj_orders {
    uint64_t magic;
    uint32_t version;
    uint32_t size;                /* INJ_FILE_SIZE */
    _Atomic uint32_t active;      /* bit (1 << kind) per kind with a rule */
    _Atomic uint32_t seq;         /* odd while the rules change */
    int32_t owner_pid;            /* moni; 0 = no owner yet */
    uint32_t reserved;
    _Atomic int64_t heartbeat_ns; /* CLOCK_MONOTONIC of the owner's last poll */
    int64_t stale_ns;
    struct inj_rule rule[INJ_RULES];
};

struct inj_counters {
    _Atomic uint64_t matched[INJ_RULES];
    _Atomic uint64_t injected[INJ_RULES];
    _Atomic int64_t first_ns[INJ_RULES]; /* CLOCK_MONOTONIC of the first changed call */
};

_Static_assert(sizeof(struct inj_orders) <= INJ_PAGE, "orders fit one page");
_Static_assert(sizeof(struct inj_counters) <= INJ_PAGE, "counters fit one page");

#ifdef MONI_FAULTS_INTERNAL
/* moni's side (faults/inject.c): a mapping of both pages, read-write. */
struct inj_map {
    struct inj_orders *o;
    struct inj_counters *c;
};
int inj_map_open(const char *path, struct inj_map *m, char *err, size_t errlen);
void inj_map_close(struct inj_map *m);
/* Takes a free slot for r (counters zeroed, owner and heartbeat set): the slot, or -1. */
int inj_rule_add(struct inj_map *m, const struct inj_rule *r);
void inj_rule_clear(struct inj_map *m, int slot);
void inj_heartbeat(struct inj_map *m);
/* The guardian's and `moni recover`'s undo of item 'I': clears slot in the file at
 * path.  true when the slot is free afterwards (or the file is gone). */
bool inj_clear_path(const char *path, int slot);

/* The lifecycle the in-process kinds share (their ops call these): arm checks that the
 * target runs the library (and says why not: static, setuid, --no-inject) and keeps r;
 * fire hands the guardian its undo, then sets the rule; check sends the heartbeat and
 * reads the counters (effective at the first changed call; delivered = changed calls);
 * stop clears the rule; revert verifies it is clear. */
struct fault;
int inj_fault_arm(struct fault *f, const struct inj_rule *r, char *err, size_t errlen);
int inj_fault_fire(struct fault *f, char *err, size_t errlen);
int inj_fault_check(struct fault *f, int64_t now);
void inj_fault_stop(struct fault *f);
int inj_fault_revert(struct fault *f, char *err, size_t errlen);
void inj_fault_describe(const struct fault *f, cJSON *d);
void inj_fault_release(struct fault *f);
#endif

#endif
