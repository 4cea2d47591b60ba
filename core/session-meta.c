/* core/session-meta.c — a run's meta.json: the host, the node, the clock, the
 * workload and its lifetimes, tick statistics, GPUs, sources and column kinds, notes
 * and what others set (session_meta_set).  Written at start, at the end and when a
 * command asks (session_write_meta); the recorder writes it atomically. */
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/session-int.h"

static const char *signame(int sig)
{
    const char *d = sigabbrev_np(sig);
    return d ? d : "?";
}

static void add_iso(cJSON *o, const char *key, int64_t real_ns)
{
    char iso[MONI_ISO_LEN];
    if (real_ns)
        cJSON_AddStringToObject(o, key, moni_fmt_iso(real_ns, iso, sizeof iso));
    else
        cJSON_AddNullToObject(o, key);
}

static const char *cgroup_version(void)
{
    struct stat sb;
    if (stat("/sys/fs/cgroup/cgroup.controllers", &sb) == 0)
        return "v2";
    if (stat("/sys/fs/cgroup/unified", &sb) == 0)
        return "hybrid";
    if (stat("/sys/fs/cgroup", &sb) == 0)
        return "v1";
    return "none";
}

static cJSON *host_json(void)
{
    cJSON *h = cJSON_CreateObject();
    struct utsname u;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(h, "hostname", host);
    if (uname(&u) == 0) {
        cJSON_AddStringToObject(h, "kernel", u.release);
        cJSON_AddStringToObject(h, "kernel_version", u.version);
        cJSON_AddStringToObject(h, "machine", u.machine);
    }
    cJSON_AddNumberToObject(h, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    char buf[4096];
    if (procfs_read_small("/proc/cpuinfo", buf, sizeof buf) > 0) {
        char *m = strstr(buf, "model name");
        if (m && (m = strchr(m, ':'))) {
            m++;
            while (*m == ' ' || *m == '\t')
                m++;
            char *e = strchr(m, '\n');
            if (e)
                *e = '\0';
            cJSON_AddStringToObject(h, "cpu_model", m);
        }
    }
    int64_t mem_total;
    if (procfs_read_meminfo_field("MemTotal", &mem_total) == 0)
        cJSON_AddNumberToObject(h, "mem_total_bytes", (double)mem_total);
    cJSON_AddStringToObject(h, "cgroup", cgroup_version());
    if (procfs_read_small("/etc/os-release", buf, sizeof buf) > 0) {
        char *p = strstr(buf, "PRETTY_NAME=");
        if (p) {
            p += 12;
            if (*p == '"')
                p++;
            char *e = strpbrk(p, "\"\n");
            if (e)
                *e = '\0';
            cJSON_AddStringToObject(h, "os", p);
        }
    }
    return h;
}

/* meta.json's "workload": the argv, the last start's fields and every lifetime. */
static void add_workload(const struct session *s, cJSON *m)
{
    cJSON *w = cJSON_AddObjectToObject(m, "workload");
    if (s->argv) {
        cJSON *av = cJSON_AddArrayToObject(w, "argv");
        for (size_t i = 0; s->argv[i]; i++)
            cJSON_AddItemToArray(av, cJSON_CreateString(s->argv[i]));
        cJSON_AddNumberToObject(w, "pid", s->w.pid);
        cJSON_AddNumberToObject(w, "starts", s->w.starts);
        add_iso(w, "started", s->w.started.real_ns);
        add_iso(w, "ended", s->w.ended.real_ns);
        bool ended = s->w.ended.mono_ns && !s->w.running;
        if (ended && !s->w.exit_signal)
            cJSON_AddNumberToObject(w, "exit_code", s->w.exit_code);
        else
            cJSON_AddNullToObject(w, "exit_code");
        if (ended && s->w.exit_signal) {
            cJSON_AddNumberToObject(w, "exit_signal", s->w.exit_signal);
            cJSON_AddStringToObject(w, "exit_signal_name", signame(s->w.exit_signal));
        } else {
            cJSON_AddNullToObject(w, "exit_signal");
        }
        if (ended) {
            /* the detectors' process fate, so that `moni build` judges as the run did */
            cJSON_AddBoolToObject(w, "ended_by_moni", s->w.ended_by_moni);
            cJSON_AddBoolToObject(w, "oom_killed", s->w.oom_killed);
        }
        cJSON_AddNumberToObject(w, "log_lines", (double)s->w.lines);
        /* every start and end (restarts, resumes); the fields above: the last one */
        cJSON_AddItemToObject(w, "lifetimes", cJSON_Duplicate(s->lifetimes, 1));
    } else {
        cJSON_AddNullToObject(w, "argv");
    }
}

cJSON *session_build_meta(struct session *s)
{
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return NULL;
    cJSON_AddStringToObject(m, "format", "moni-run/1");
    cJSON_AddStringToObject(m, "run_id", s->run_id);
    cJSON_AddStringToObject(m, "moni_version", MONI_VERSION);
    if (s->experiment)
        cJSON_AddStringToObject(m, "experiment", s->experiment);
    cJSON_AddBoolToObject(m, "complete", s->finished);
    cJSON_AddItemToObject(m, "host", host_json());
    cJSON_AddItemToObject(m, "node", node_meta_json()); /* job, node, rank, clock quality */
    cJSON_AddNumberToObject(m, "interval_s", (double)s->o.interval_ns / 1e9);
    if (s->o.duration_ns)
        cJSON_AddNumberToObject(m, "duration_limit_s", (double)s->o.duration_ns / 1e9);
    else
        cJSON_AddNullToObject(m, "duration_limit_s");
    add_iso(m, "start", s->start.real_ns);
    cJSON_AddNumberToObject(m, "start_mono_ns", (double)s->start.mono_ns);
    /* The exact wall-minus-monotonic offset of moni's one clock, as a string (a JSON
     * number would lose nanoseconds): `moni build` maps mono_ns to wall time with it
     * exactly, instead of estimating it from millisecond timestamps. */
    char offset[32];
    snprintf(offset, sizeof offset, "%lld", (long long)moni_real_from_mono(0));
    cJSON_AddStringToObject(m, "clock_offset_ns", offset);
    add_iso(m, "end", s->end.real_ns);
    if (s->end.mono_ns)
        cJSON_AddNumberToObject(m, "end_mono_ns", (double)s->end.mono_ns);
    else
        cJSON_AddNullToObject(m, "end_mono_ns");
    if (s->stop_why[0])
        cJSON_AddStringToObject(m, "stop_reason", s->stop_why);
    else
        cJSON_AddNullToObject(m, "stop_reason");

    if (s->inject)
        cJSON_AddItemToObject(m, "inject", cJSON_Duplicate(s->inject, 1));
    add_workload(s, m);

    cJSON *t = cJSON_AddObjectToObject(m, "ticks");
    cJSON_AddNumberToObject(t, "taken", (double)s->stats.ticks);
    cJSON_AddNumberToObject(t, "late", (double)s->stats.late);
    cJSON_AddNumberToObject(t, "missed", (double)s->stats.missed);
    cJSON_AddNumberToObject(t, "gaps", (double)s->stats.gaps);
    cJSON_AddNumberToObject(t, "max_lag_ms", (double)s->stats.max_lag_ns / 1e6);
    cJSON_AddNumberToObject(t, "late_threshold_ms",
                            (double)(s->o.interval_ns / 10 > MONI_NS_PER_MS ?
                                     s->o.interval_ns / 10 : MONI_NS_PER_MS) / 1e6);

    cJSON *g = cJSON_AddObjectToObject(m, "gpu");
    if (s->gpu_backend[0])
        cJSON_AddStringToObject(g, "backend", s->gpu_backend);
    else
        cJSON_AddNullToObject(g, "backend");
    cJSON_AddStringToObject(g, "driver", s->gpu_driver);
    cJSON *devs = cJSON_AddArrayToObject(g, "devices");
    for (size_t i = 0; i < s->ngpus; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "index", (double)i);
        cJSON_AddStringToObject(d, "name", s->gpus[i].name);
        cJSON_AddStringToObject(d, "uuid", s->gpus[i].uuid);
        cJSON_AddNumberToObject(d, "mem_total_bytes", (double)s->gpus[i].mem_total_bytes);
        cJSON_AddItemToArray(devs, d);
    }
    if (s->gpu_reason[0])
        cJSON_AddStringToObject(g, "reason", s->gpu_reason);
    else
        cJSON_AddNullToObject(g, "reason");
    if (!strcmp(s->gpu_backend, "nvidia-smi"))
        cJSON_AddNumberToObject(g, "restarts", (double)s->gpu_restarts);

    cJSON *srcs = cJSON_AddArrayToObject(m, "sources");
    for (size_t i = 0; i < s->nsrc; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->src[i].ops->name);
        cJSON_AddBoolToObject(o, "active", s->src[i].active);
        cJSON_AddNumberToObject(o, "columns", (double)(s->src[i].col_hi - s->src[i].col_lo));
        if (!s->src[i].active)
            cJSON_AddStringToObject(o, "reason", s->src[i].reason);
        cJSON_AddItemToArray(srcs, o);
    }
    cJSON_AddNumberToObject(m, "columns", (double)s->frame.ncols);
    /* each column's kind as its source declared it: the dataset derives rates from
     * the counters, never from a name */
    cJSON *kinds = cJSON_AddObjectToObject(m, "column_kinds");
    /* ~100 entries written twice a run: keys and values by reference (the frame's
     * names outlive this object; obs_meta_utf8 replaces a const key, never writes it) */
    for (size_t i = 0; kinds && i < s->frame.ncols; i++)
        cJSON_AddItemToObjectCS(kinds, s->frame.cols[i].name,
                                cJSON_CreateStringReference(
                                    s->frame.cols[i].kind == METRIC_COUNTER ? "counter" : "gauge"));
    cJSON_AddItemToObject(m, "notes", cJSON_Duplicate(s->notes, true));
    for (cJSON *e = s->extra->child; e; e = e->next)
        cJSON_AddItemToObject(m, e->string, cJSON_Duplicate(e, true));
    return m;
}

int session_write_meta(struct session *s)
{
    if (!s->rec)
        return 0;
    cJSON *m = session_build_meta(s);
    if (!m)
        return -1;
    obs_meta_utf8(m);
    int rc = obs_rec_meta(s->rec, m);
    cJSON_Delete(m);
    return rc;
}

void session_note(struct session *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(s->notes, cJSON_CreateString(buf));
}

int session_meta_set(struct session *s, const char *key, cJSON *item)
{
    if (!item)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(s->extra, key))
        cJSON_ReplaceItemInObjectCaseSensitive(s->extra, key, item);
    else
        cJSON_AddItemToObject(s->extra, key, item);
    return 0;
}
