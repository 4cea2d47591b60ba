/* core/detect-run.c — the detectors over a recorded run (what `moni build` and
 * `moni diagnose` do), and the adapters that feed the engine from the live parser.
 *
 * Offline, samples.csv rows and events.jsonl records are merged by CLOCK_MONOTONIC:
 * every record received at or before a row's time is fed before that row's tick, the
 * order in which the live runner saw them.  The workload's fate comes from meta.json.
 * Reads only raw files; never the journal, ground truth or marks. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/detect-int.h"
#include "logparse/logparse.h"

/* ---- live: one parsed log record ------------------------------------------------------- */

void detect_feed_record(struct detect *d, const struct lp_record *rec)
{
    if (rec->has_time)
        detect_log_time(d, rec->recv.mono_ns, rec->recv.real_ns, rec->time_ns);
    if (rec->kind == LP_KIND_METRIC) {
        for (size_t i = 0; i < rec->nfields; i++)
            if (rec->fields[i].name && rec->fields[i].is_num)
                detect_metric(d, rec->recv.mono_ns, rec->fields[i].name, rec->fields[i].num);
    } else if (rec->kind == LP_KIND_EVENT && rec->labels) {
        const char *labels[LP_NLABELS];
        size_t n = 0;
        for (int l = 0; l < LP_NLABELS; l++)
            if (rec->labels & LP_LABEL_BIT(l))
                labels[n++] = lp_label_name((enum lp_label)l);
        detect_event(d, rec->recv.mono_ns, labels, n, lp_severity_name(rec->severity));
    }
}

/* ---- offline: one events.jsonl record ---------------------------------------------------- */

static void feed_event(struct detect *d, const struct rundir_event *ev, int64_t mono)
{
    const cJSON *time = cJSON_GetObjectItemCaseSensitive(ev->obj, "time");
    int64_t line_ns;
    if (cJSON_IsString(time) && ev->t.real && moni_parse_iso(time->valuestring, &line_ns) == 0)
        detect_log_time(d, mono, ev->t.real, line_ns);
    if (strcmp(ev->kind, "metric") == 0 && cJSON_IsObject(ev->fields)) {
        const cJSON *f;
        cJSON_ArrayForEach(f, ev->fields) {
            double v;
            if (f->string && rundir_json_num(f, &v))
                detect_metric(d, mono, f->string, v);
        }
    } else if (strcmp(ev->kind, "event") == 0 && cJSON_IsArray(ev->labels)) {
        const char *labels[32];
        size_t n = 0;
        const cJSON *l;
        cJSON_ArrayForEach(l, ev->labels) {
            if (cJSON_IsString(l) && n < MONI_ARRAY_LEN(labels))
                labels[n++] = l->valuestring;
        }
        if (n)
            detect_event(d, mono, labels, n, ev->severity);
    }
}

static int signal_number(const char *name)
{
    for (int s = 1; s < NSIG; s++) {
        const char *abbrev = sigabbrev_np(s);
        if (abbrev && strcmp(abbrev, name) == 0)
            return s;
    }
    return 0;
}

/* The workload's fate as meta.json records it; false when the run has no end. */
bool detect_fate_from_meta(const struct rundir_meta *m, struct det_fate *fate)
{
    memset(fate, 0, sizeof *fate);
    if (!m->has_exit)
        return false;
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(m->root, "stop_reason");
    const cJSON *wl = cJSON_GetObjectItemCaseSensitive(m->root, "workload");
    const cJSON *by_moni = cJSON_GetObjectItemCaseSensitive(wl, "ended_by_moni");
    /* the session's word when it recorded it; older runs: moni stopped it unless the
     * session says the workload ended by itself */
    if (cJSON_IsBool(by_moni))
        fate->scheduled = cJSON_IsTrue(by_moni);
    else
        fate->scheduled = !(cJSON_IsString(reason) &&
                            strcmp(reason->valuestring, "workload exited") == 0);
    fate->signal = m->exit_signal_name[0] ? signal_number(m->exit_signal_name) : 0;
    fate->exit_code = m->exit_code_valid ? m->exit_code : -1;
    fate->oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(wl, "oom_killed"));
    fate->real_ns = m->ended.real;
    fate->mono_ns = m->ended.mono ? m->ended.mono
                                  : (m->has_clock_offset ? m->ended.real - m->clock_offset_ns : 0);
    return true;
}

struct offline {
    struct rundir_samples smp;
    struct rundir_jsonl ev;
    bool have_ev, ev_pending;
    struct rundir_event cur;
    int64_t cur_mono, offset;
    struct frame f;
    int *col; /* samples column -> frame column */
};

static void next_event(struct offline *o)
{
    o->ev_pending = false;
    int rc;
    while (o->have_ev && (rc = rundir_event_next(&o->ev, &o->cur)) != 0) {
        if (rc < 0)
            continue; /* a bad line: reported by validate, skipped here */
        o->cur_mono = rundir_mono(&o->cur.t, o->offset);
        o->ev_pending = true;
        return;
    }
}

static void feed_until(struct offline *o, struct detect *d, int64_t mono)
{
    while (o->ev_pending && o->cur_mono <= mono) {
        feed_event(d, &o->cur, o->cur_mono);
        next_event(o);
    }
}

int detect_run_dir(const char *dir, const struct det_config *cfg, detect_cb cb, void *arg,
                   char *err, size_t errlen)
{
    /* meta.json gives the clock offset and the fate; a run killed before writing it
     * still has its samples and events */
    struct rundir_meta meta;
    char merr[RUNDIR_ERR_LEN];
    bool have_meta = rundir_meta_load(dir, &meta, merr, sizeof merr) == 0;
    int rc = detect_run_dir_meta(dir, have_meta ? &meta : NULL, cfg, cb, arg, err, errlen);
    if (have_meta)
        rundir_meta_free(&meta);
    return rc;
}

int detect_run_dir_meta(const char *dir, const struct rundir_meta *meta, const struct det_config *cfg,
                        detect_cb cb, void *arg, char *err, size_t errlen)
{
    bool have_meta = meta != NULL;
    struct offline o = {.offset = have_meta && meta->has_clock_offset ? meta->clock_offset_ns : 0};
    if (rundir_samples_open(&o.smp, dir, err, errlen) < 0)
        return -1;
    struct detect *d = detect_new(cfg, cb, arg);
    frame_init(&o.f);
    o.col = calloc(o.smp.ncols ? o.smp.ncols : 1, sizeof *o.col);
    int rc = d && o.col ? 0 : -1;
    /* only the columns the engine looks at: a run has ~100 and it reads ~20 */
    bool *parse = calloc(o.smp.ncols ? o.smp.ncols : 1, sizeof *parse);
    rc = rc == 0 && parse ? 0 : -1;
    for (size_t c = 0; rc == 0 && c < o.smp.ncols; c++) {
        int use = detect_column_use(o.smp.names[c]);
        parse[c] = use == 2;
        o.col[c] = -1;
        if (use && (o.col[c] = frame_add(&o.f, o.smp.names[c], "", METRIC_GAUGE)) < 0)
            rc = -1;
    }
    for (int nf = 0; rc == 0 && nf < o.smp.nfields; nf++)
        if (o.smp.map[nf] >= 0 && !parse[o.smp.map[nf]])
            o.smp.map[nf] = -1; /* not parsed */
    free(parse);
    if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", dir);
    o.have_ev = rc == 0 && rundir_jsonl_open(&o.ev, dir, "events.jsonl") == 0;
    next_event(&o);
    struct rundir_sample row;
    int n;
    while (rc == 0 && (n = rundir_samples_next(&o.smp, &row)) != 0) {
        if (n < 0)
            continue;
        int64_t mono = row.mono ? row.mono : row.real - o.offset;
        feed_until(&o, d, mono);
        frame_clear(&o.f);
        for (size_t c = 0; c < o.smp.ncols; c++)
            if (o.col[c] >= 0 && row.valid[c])
                frame_set(&o.f, o.col[c], row.val[c]);
        o.f.t.mono_ns = mono;
        o.f.t.real_ns = row.real ? row.real : mono + o.offset;
        detect_tick(d, &o.f);
    }
    struct det_fate fate;
    if (rc == 0 && have_meta && detect_fate_from_meta(meta, &fate)) {
        feed_until(&o, d, fate.mono_ns);
        detect_fate(d, &fate);
    }
    if (o.have_ev)
        rundir_jsonl_close(&o.ev);
    rundir_samples_close(&o.smp);
    frame_free(&o.f);
    free(o.col);
    detect_free(d);
    return rc;
}
