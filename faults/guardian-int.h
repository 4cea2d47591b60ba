/* faults/guardian-int.h — the guardian's undo list and state file, shared by the
 * guardian (faults/guardian.c) and `moni recover` (faults/guardian-recover.c); private
 * to faults/. */
#ifndef MONI_FAULTS_GUARDIAN_INT_H
#define MONI_FAULTS_GUARDIAN_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define MAX_FIELDS 6

struct undo_item {
    char type;
    char *line;                 /* malloc'd copy; the fields point into it */
    char *f[MAX_FIELDS];        /* f[0] = fault id; "" past nf (never written) */
    int nf;
    bool done;
    int64_t deadline_ns;        /* J: when its window or maximum ends (W), 0 = not fired */
};

/* No fixed cap: the list grows, and moni's R lines free a fault's items. */
struct undo_list {
    struct undo_item *items;
    size_t n, cap;
    /* state file header */
    pid_t moni_pid, guardian_pid;
    uint64_t moni_start, guardian_start;
    char boot_id[64];
    char journal[PATH_MAX];
};

/* Reads a state file (refused unless it is a regular file of ours that nobody else
 * can write) into *l; its R lines forget their faults.  -1 with err. */
int guardian_load_state(const char *path, struct undo_list *l, char *err, size_t errlen);
void guardian_list_free(struct undo_list *l);
/* Undoes every pending fault of l, journalling `stopped` and `reverted` (or `failed`)
 * with "by":by into jfd (-1: none); with out, says what it does; dry_run undoes
 * nothing.  same_boot: pids may still mean the session's.  Returns the failures. */
int guardian_undo_all(struct undo_list *l, int jfd, bool same_boot, const char *by, FILE *out,
                      bool dry_run);
void guardian_read_boot_id(char *out, size_t len);

#endif
