/* core/rundir-lifetimes.c — meta.json's "workload.lifetimes": one object per start
 * of the workload (a console restart, or a resume from a checkpoint, begins a new
 * one), written by the session and read by the dataset builder so that every
 * lifetime keeps its own phases and the time between two lifetimes is its own
 * phase ("dead").  The single-start fields of "workload" (started, ended,
 * exit_code, ...) stay as they were and describe the last lifetime.
 *
 * One lifetime:
 *   {"start": ISO, "start_mono_ns": N, "pid": N, "resumed_from": PATH|null,
 *    "end": ISO|null, "end_mono_ns": N|null, "exit_code": N|null,
 *    "exit_signal": N|null, "exit_signal_name": "TERM" (when signalled),
 *    "ended_by_moni": BOOL (when ended)} */
#include <stdlib.h>
#include <string.h>

#include "core/rundir.h"

static void add_time(cJSON *o, const char *key, const char *mono_key, const struct moni_stamp *t)
{
    char iso[MONI_ISO_LEN];
    cJSON_AddStringToObject(o, key, moni_fmt_iso(t->real_ns, iso, sizeof iso));
    cJSON_AddNumberToObject(o, mono_key, (double)t->mono_ns);
}

int rundir_lifetime_begin(cJSON *lifetimes, const struct moni_stamp *t, int pid,
                          const char *resumed_from)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    add_time(o, "start", "start_mono_ns", t);
    cJSON_AddNumberToObject(o, "pid", pid);
    if (resumed_from && *resumed_from)
        cJSON_AddStringToObject(o, "resumed_from", resumed_from);
    else
        cJSON_AddNullToObject(o, "resumed_from");
    cJSON_AddNullToObject(o, "end");
    cJSON_AddNullToObject(o, "end_mono_ns");
    cJSON_AddNullToObject(o, "exit_code");
    cJSON_AddNullToObject(o, "exit_signal");
    cJSON_AddItemToArray(lifetimes, o);
    return 0;
}

static void set(cJSON *o, const char *key, cJSON *v)
{
    if (!v)
        return;
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else
        cJSON_AddItemToObject(o, key, v);
}

void rundir_lifetime_end(cJSON *lifetimes, const struct moni_stamp *t, int exit_code,
                         int exit_signal, bool ended_by_moni)
{
    int n = cJSON_GetArraySize(lifetimes);
    cJSON *o = n ? cJSON_GetArrayItem(lifetimes, n - 1) : NULL;
    if (!o || cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "end")))
        return; /* none open */
    char iso[MONI_ISO_LEN];
    set(o, "end", cJSON_CreateString(moni_fmt_iso(t->real_ns, iso, sizeof iso)));
    set(o, "end_mono_ns", cJSON_CreateNumber((double)t->mono_ns));
    if (exit_signal) {
        set(o, "exit_signal", cJSON_CreateNumber(exit_signal));
        const char *name = sigabbrev_np(exit_signal);
        set(o, "exit_signal_name", cJSON_CreateString(name ? name : "?"));
    } else {
        set(o, "exit_code", cJSON_CreateNumber(exit_code));
    }
    set(o, "ended_by_moni", cJSON_CreateBool(ended_by_moni));
}

/* ---- reading ------------------------------------------------------------------------- */

static void read_time(const cJSON *o, const char *key, const char *mono_key,
                      struct rundir_stamp *t)
{
    memset(t, 0, sizeof *t);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, mono_key);
    if (cJSON_IsNumber(m) && m->valuedouble > 0)
        t->mono = (int64_t)m->valuedouble;
    if (cJSON_IsString(v)) {
        snprintf(t->iso, sizeof t->iso, "%s", v->valuestring);
        if (moni_parse_iso(v->valuestring, &t->real) != 0)
            t->real = 0;
    }
}

static void one_lifetime(const cJSON *o, struct rundir_lifetime *l)
{
    memset(l, 0, sizeof *l);
    read_time(o, "start", "start_mono_ns", &l->started);
    read_time(o, "end", "end_mono_ns", &l->ended);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "exit_code");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "exit_signal");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "ended_by_moni");
    l->has_exit = cJSON_IsNumber(code) || cJSON_IsNumber(sig);
    l->crashed = (cJSON_IsNumber(code) && code->valueint != 0) ||
                 (cJSON_IsNumber(sig) && sig->valueint != 0);
    l->ended_by_moni = cJSON_IsTrue(by);
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(o, "resumed_from");
    l->resumed_from = cJSON_IsString(rf) ? rf->valuestring : "";
}

void rundir_meta_lifetimes(struct rundir_meta *m)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(m->root, "workload");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(w, "lifetimes");
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (n > 0) {
        m->lifetimes = calloc((size_t)n, sizeof *m->lifetimes);
        if (!m->lifetimes)
            return;
        const cJSON *o;
        cJSON_ArrayForEach(o, arr)
        {
            if (cJSON_IsObject(o))
                one_lifetime(o, &m->lifetimes[m->nlifetimes++]);
        }
        return;
    }
    /* a run recorded before lifetimes: its one known start and end (after a restart
     * only the last one is known) */
    if (!m->started.real && !m->started.mono)
        return;
    m->lifetimes = calloc(1, sizeof *m->lifetimes);
    if (!m->lifetimes)
        return;
    struct rundir_lifetime *l = &m->lifetimes[m->nlifetimes++];
    l->started = m->started;
    l->ended = m->ended;
    l->has_exit = m->has_exit;
    l->crashed = m->crashed;
    l->resumed_from = "";
}
