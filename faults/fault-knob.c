/* faults/fault-knob.c — training-knob faults through a trainer's control file (the
 * moni-train protocol: key=value lines, polled every step).  Firing merges the given
 * keys into the file (written to a temporary name, fsync'd, renamed); `effective` is
 * journalled when the trainer's acknowledgement FILE.ack (a JSON object it replaces
 * after each read: step, time, "values", "ignored") is new since the firing and holds
 * the written values.  The ack stays out of the training log, so the log of a knob
 * run reads like a real bad configuration.  Stopping writes the undo_KEY=VALUE pairs,
 * or restores the file as it was before firing, with its owner and mode.  The control
 * file must be a regular file: a FIFO or a device would block moni's loop. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* long paths are cut, by design */
#endif
#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

static const struct fault_param knob_params[] = {
    {"restore", FP_BOOL, "", "1", 0, 0, NULL,
     "at stop, restore the file as it was (when no undo_KEY=VALUE is given)"},
};

struct knob_state {
    char backup[1100];
    bool had_file, fired;
    int nset, nundo;
    struct stat st;     /* the file as it was (had_file) */
    char ack[1100];     /* FILE.ack, the trainer's acknowledgement */
    struct stat ack_st; /* the ack last looked at (zero: none) */
};

/* Gives path the owner and mode the control file had (a non-root trainer must keep
 * its own file). */
static int give_back(const char *path, const struct stat *st)
{
    if (chown(path, st->st_uid, st->st_gid) != 0 && geteuid() == 0)
        return -1;
    return chmod(path, st->st_mode & 07777);
}

/* 0 when path is absent or a regular file (filling *st, *exists), else -1 with err. */
static int control_file(const char *path, struct stat *st, bool *exists, char *err, size_t errlen)
{
    *exists = false;
    if (lstat(path, st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: not a regular file (a FIFO, a device or a link would block "
                 "or redirect the write); refusing", path);
        return -1;
    }
    *exists = true;
    return 0;
}

#define MAX_LINES 256
/* Writes path afresh (temporary name, fsync, rename) with the keys merged in; it gets
 * the owner and mode in st (NULL: a new file, the defaults). */
static int merge_write(const char *path, const struct fault_kv *kv, size_t n, const char *prefix,
                       const struct stat *st)
{
    char *old = moni_read_file(path, NULL);
    char *lines[MAX_LINES];
    size_t nl = 0;
    size_t plen = strlen(prefix);
    for (char *save = NULL, *l = old ? strtok_r(old, "\n", &save) : NULL; l && nl < MAX_LINES;
         l = strtok_r(NULL, "\n", &save)) {
        bool replaced = false;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(kv[i].key, prefix, plen) != 0)
                continue;
            const char *k = kv[i].key + plen;
            size_t kl = strlen(k);
            if (strncmp(l, k, kl) == 0 && (l[kl] == '=' || l[kl] == ' '))
                replaced = true;
        }
        if (!replaced)
            lines[nl++] = l;
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.moni-tmp", path);
    FILE *fp = fopen(tmp, "we");
    if (!fp) {
        free(old);
        return -1;
    }
    for (size_t i = 0; i < nl; i++)
        fprintf(fp, "%s\n", lines[i]);
    for (size_t i = 0; i < n; i++)
        if (strncmp(kv[i].key, prefix, plen) == 0 && (plen || strncmp(kv[i].key, "undo_", 5)))
            fprintf(fp, "%s=%s\n", kv[i].key + plen, kv[i].val);
    int rc = fflush(fp) || fsync(fileno(fp)) ? -1 : 0;
    fclose(fp);
    free(old);
    if (rc == 0 && st)
        rc = give_back(tmp, st);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    return rc;
}

static int knob_arm(struct fault *f, char *err, size_t errlen)
{
    struct knob_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return FAULT_ERR_FAIL;
    }
    f->priv = s;
    for (size_t i = 0; i < f->p.nextra; i++) {
        const char *k = f->p.extra[i].key;
        if (strncmp(k, "undo_", 5) == 0)
            s->nundo++;
        else
            s->nset++;
        if (strpbrk(k, "\n=") || strchr(f->p.extra[i].val, '\n')) {
            snprintf(err, errlen, "%s: bad key or value", k);
            return FAULT_ERR_USAGE;
        }
    }
    if (s->nset == 0) {
        snprintf(err, errlen, "give at least one KEY=VALUE to write (lr=10, batch_size=1024, "
                 "sleep_ms=500, nan_next_step=1)");
        return FAULT_ERR_USAGE;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s", f->target.path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    struct stat st;
    bool exists;
    if (control_file(f->target.path, &st, &exists, err, errlen) != 0)
        return FAULT_ERR_USAGE;
    if (access(dir[0] ? dir : "/", W_OK)) {
        snprintf(err, errlen, "%s: cannot write the control file's directory: %s", f->target.path,
                 strerror(errno));
        return FAULT_ERR_FAIL;
    }
    /* The first key's value is the dose when it is a number (lr=10 -> 10). */
    char *end;
    for (size_t i = 0; i < f->p.nextra; i++)
        if (strncmp(f->p.extra[i].key, "undo_", 5)) {
            double v = strtod(f->p.extra[i].val, &end);
            f->requested = (*end || end == f->p.extra[i].val) ? s->nset : v;
            snprintf(f->mode, sizeof f->mode, "%s", f->p.extra[i].key);
            break;
        }
    return 0;
}

static int knob_fire(struct fault *f, char *err, size_t errlen)
{
    struct knob_state *s = f->priv;
    const char *path = f->target.path;
    if (control_file(path, &s->st, &s->had_file, err, errlen) != 0)
        return FAULT_ERR_FAIL;
    if (s->had_file) {
        snprintf(s->backup, sizeof s->backup, "%s.moni-backup-%s-%s", path, fault_session_id(f),
                 f->id_str);
        size_t len;
        char *old = moni_read_file(path, &len);
        int fd = old ? open(s->backup, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
        if (fd < 0 || moni_write_all(fd, old, len) || fsync(fd)) {
            snprintf(err, errlen, "%s: cannot back it up: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            free(old);
            return FAULT_ERR_FAIL;
        }
        close(fd);
        free(old);
        if (fault_num(f, "restore") && s->nundo == 0)
            fault_undo_restore(f, path, s->backup, s->st.st_mode, s->st.st_uid, s->st.st_gid);
        else
            fault_undo_file(f, s->backup);
    }
    /* an ack already there is the trainer's answer to an earlier write */
    snprintf(s->ack, sizeof s->ack, "%s.ack", path);
    if (stat(s->ack, &s->ack_st) != 0)
        memset(&s->ack_st, 0, sizeof s->ack_st);
    if (merge_write(path, f->p.extra, f->p.nextra, "", s->had_file ? &s->st : NULL)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return FAULT_ERR_FAIL;
    }
    s->fired = true;
    f->delivered = f->requested;
    return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads the ack: 1 when every key written is in "values" with its value or in
 * "ignored", and at least one was applied; -1 when all were ignored; 0 otherwise. */
static int ack_matches(struct fault *f, const char *text)
{
    cJSON *a = cJSON_Parse(text);
    cJSON *vals = cJSON_GetObjectItemCaseSensitive(a, "values");
    cJSON *ign = cJSON_GetObjectItemCaseSensitive(a, "ignored");
    int applied = 0, ignored = 0, missing = 0;
    for (size_t i = 0; a && i < f->p.nextra; i++) {
        const struct fault_kv *kv = &f->p.extra[i];
        if (strncmp(kv->key, "undo_", 5) == 0)
            continue;
        cJSON *v = cJSON_GetObjectItemCaseSensitive(vals, kv->key);
        char *end;
        double want = strtod(kv->val, &end);
        bool num = end != kv->val && !*end;
        bool ign_key = false;
        cJSON *it;
        cJSON_ArrayForEach(it, ign) ign_key |= cJSON_IsString(it) && !strcmp(it->valuestring, kv->key);
        if (cJSON_IsNumber(v) && num && fabs(v->valuedouble - want) <= 1e-12 * fabs(want))
            applied++;
        else if (ign_key)
            ignored++;
        else
            missing++;
    }
    if (a && !missing) {
        cJSON *step = cJSON_GetObjectItemCaseSensitive(a, "step");
        cJSON *when = cJSON_GetObjectItemCaseSensitive(a, "time");
        snprintf(f->effect_detail, sizeof f->effect_detail, "%s at step %.0f, %s (%s)",
                 applied ? "applied" : "ignored", cJSON_IsNumber(step) ? step->valuedouble : -1,
                 cJSON_IsString(when) ? when->valuestring : "?", "control file's .ack");
    }
    cJSON_Delete(a);
    return !a || missing ? 0 : applied ? 1 : -1;
}

/* Effective when the trainer has acknowledged a read of what was written. */
static int knob_check(struct fault *f, int64_t now)
{
    (void)now;
    struct knob_state *s = f->priv;
    if (f->effective) {
        f->delivered_valid = true;
        return FAULT_CHECK_EFFECTIVE;
    }
    struct stat st;
    if (!s || !s->fired || stat(s->ack, &st) != 0 || same_file(&st, &s->ack_st))
        return FAULT_CHECK_WAIT;
    s->ack_st = st;
    char *text = moni_read_file(s->ack, NULL);
    int m = text ? ack_matches(f, text) : 0;
    free(text);
    if (m < 0) {
        snprintf(f->error, sizeof f->error, "the trainer ignored every key written (see %s)",
                 s->ack);
        return FAULT_CHECK_FAILED;
    }
    if (m > 0)
        f->delivered_valid = true;
    return m > 0 ? FAULT_CHECK_EFFECTIVE : FAULT_CHECK_WAIT;
}

static void knob_stop(struct fault *f)
{
    struct knob_state *s = f->priv;
    if (!s || !s->fired)
        return;
    if (s->nundo)
        merge_write(f->target.path, f->p.extra, f->p.nextra, "undo_", s->had_file ? &s->st : NULL);
    else if (fault_num(f, "restore") && s->had_file && rename(s->backup, f->target.path) == 0)
        give_back(f->target.path, &s->st);
}

static int knob_revert(struct fault *f, char *err, size_t errlen)
{
    struct knob_state *s = f->priv;
    if (s && s->had_file && s->backup[0])
        unlink(s->backup);
    return 0;
}

static void knob_describe(const struct fault *f, cJSON *d)
{
    const struct knob_state *s = f->priv;
    cJSON_AddStringToObject(d, "control_file", f->target.path);
    if (s)
        cJSON_AddNumberToObject(d, "keys", s->nset);
}

const struct fault_ops fault_knob_ops = {
    .name = "knob",
    .summary = "training knob: write KEY=VALUE lines into the trainer's control file",
    .privileges = "write access to the control file",
    .label_kind = "interval",
    .effect_labels = "NaN_Loss,No_Convergence,Host_OOM,CUDA_OutOfMemory,Slowdown,Process_Crash",
    .control_file = true,
    .check_at_stop = true,
    .dose_unit = "value",
    .undo = "undo_KEY=VALUE pairs are written, or the file is restored as it was",
    .params = knob_params,
    .nparams = MONI_ARRAY_LEN(knob_params),
    .targets = FAULT_TGT_PATH | FAULT_TGT_REQUIRED,
    .free_keys = true,
    .arm = knob_arm,
    .fire = knob_fire,
    .check = knob_check,
    .stop = knob_stop,
    .revert = knob_revert,
    .describe = knob_describe,
    .release = fault_release_priv,
};
