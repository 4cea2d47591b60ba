/* tui/replay.c — plays a recorded run directory back into the console's model:
 * samples.csv, workload.log + workload.idx, events.jsonl, faults.jsonl, marks.jsonl
 * and meta.json (all read through core/rundir, never parsed here), each applied when the replay clock passes its CLOCK_MONOTONIC
 * stamp; for a multi-process workload also logs/ *.log, which give the pipeline's
 * stage and its per-process rows as the live console showed them.  --blind leaves out everything that names the fault (journal, fault
 * windows, marks, root-cause labels), so an MTTD test taker has to diagnose. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

struct rp_line {
    int64_t mono;
    uint64_t no;
    int stream;
    size_t off, len;
};

enum { RP_METRIC, RP_EVENT, RP_PHASE };
struct rp_rec {
    int64_t mono;
    int kind;
    struct tui_event ev;
    double v[6]; /* loss lr step epoch it/s samples/s */
    unsigned has; /* bit per v */
    char phase[24];
};

struct rp_fault {
    int64_t mono;
    char event[16], kind[24], id[16], label_kind[12], params[96], dose[64], reason[96];
};

struct rp_mark {
    int64_t mono;
    char note[48];
};

struct tui_replay {
    struct tui_model *m;
    bool blind;
    struct frame frame;
    size_t ncols;
    double *vals;
    unsigned char *valid;
    int64_t *mono, *real;
    size_t nrows, next_row;
    char *log;
    size_t loglen;
    struct rp_line *lines;
    size_t nlines, next_line;
    struct rp_rec *recs;
    size_t nrecs, next_rec;
    struct rp_fault *fl;
    size_t nfl, next_fl;
    struct rp_mark *marks;
    size_t nmarks, next_mark;
    int64_t t0, t_end;
    char end_state[64];
    struct pipeline_replay *pipe; /* RUN_DIR/logs/ of a multi-process workload, or NULL */
    char dir[512];
    int64_t offset; /* wall = mono + offset */
    /* the replay's clock: pos seconds into the run at wall time base (CLOCK_MONOTONIC),
     * moving at speed unless paused */
    double pos, speed;
    int64_t base;
    bool paused, clock_started;
    double played; /* the time the model was last advanced to */
    unsigned seeks; /* how many times the clock was moved by hand */
};

/* ---- loaders: every file through core/rundir ---------------------------------------- */

static void *grow(void *v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return v;
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = realloc(v, nc * elem);
    if (!nv)
        return NULL;
    *cap = nc;
    return nv;
}

static int load_samples(struct tui_replay *r, const char *dir, char *err, size_t errlen)
{
    struct rundir_samples s;
    if (rundir_samples_open(&s, dir, err, errlen) != 0) {
        rundir_samples_close(&s);
        return -1;
    }
    if (s.ts_field < 0 || s.mono_field < 0) {
        snprintf(err, errlen, "%s:1: header: expected 'timestamp,mono_ns,...'", s.l.path);
        rundir_samples_close(&s);
        return -1;
    }
    for (size_t c = 0; c < s.ncols; c++)
        frame_add(&r->frame, s.names[c], "", METRIC_GAUGE);
    r->ncols = r->frame.ncols;
    size_t cap = 0, w = r->ncols ? r->ncols : 1;
    struct rundir_sample row;
    int rc;
    while ((rc = rundir_samples_next(&s, &row)) != 0) {
        int64_t real = row.real;
        if (rc < 0 || !row.mono || !row.ts || (!real && moni_parse_iso(row.ts, &real) != 0))
            continue; /* a bad line, or the torn last line of a killed run */
        if (!(r->mono = grow(r->mono, &cap, r->nrows, sizeof *r->mono)))
            break;
        r->real = realloc(r->real, cap * sizeof *r->real);
        r->vals = realloc(r->vals, cap * w * sizeof *r->vals);
        r->valid = realloc(r->valid, cap * w);
        if (!r->real || !r->vals || !r->valid)
            break;
        for (size_t c = 0; c < r->ncols; c++) {
            r->vals[r->nrows * r->ncols + c] = row.valid[c] ? row.val[c] : 0;
            r->valid[r->nrows * r->ncols + c] = row.valid[c];
        }
        r->mono[r->nrows] = row.mono;
        r->real[r->nrows] = real;
        r->nrows++;
    }
    if (!r->nrows)
        snprintf(err, errlen, "%s: no samples", s.l.path);
    rundir_samples_close(&s);
    return r->nrows ? 0 : -1;
}

static void load_log(struct tui_replay *r, const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/workload.log", dir);
    r->log = moni_read_file(path, &r->loglen);
    struct rundir_lines idx;
    if (!r->log)
        return;
    if (rundir_idx_open(&idx, dir) != 0) {
        rundir_lines_close(&idx);
        return;
    }
    size_t cap = 0, off = 0;
    struct rundir_idx x;
    int rc;
    while ((rc = rundir_idx_next(&idx, &x)) != 0 && off < r->loglen) {
        if (rc < 0 || !x.mono)
            continue;
        struct rp_line *v = grow(r->lines, &cap, r->nlines, sizeof *v);
        if (!v)
            break;
        r->lines = v;
        char *nl = memchr(r->log + off, '\n', r->loglen - off);
        size_t len = nl ? (size_t)(nl - (r->log + off)) : r->loglen - off;
        r->lines[r->nlines++] = (struct rp_line){x.mono, x.line, x.stream, off, len};
        off += len + 1;
    }
    rundir_lines_close(&idx);
}

static enum tui_sev sev_of(const char *s)
{
    return !strcmp(s, "critical") ? TUI_SEV_CRIT : !strcmp(s, "error") ? TUI_SEV_ERROR
         : !strcmp(s, "warning") ? TUI_SEV_WARN : TUI_SEV_INFO;
}

/* A metric record: loss lr step epoch it/s samples/s, as far as present. */
static void metric_values(struct rp_rec *rec, const cJSON *fields)
{
    static const char *const mnames[6][3] = {
        {"loss", NULL, NULL}, {"learning_rate", "lr", NULL}, {"step", NULL, NULL},
        {"epoch", NULL, NULL}, {"it_per_s", "steps_per_s", NULL}, {"samples_per_s", "throughput", NULL},
    };
    for (int k = 0; k < 6; k++)
        for (int a = 0; a < 3 && mnames[k][a]; a++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(fields, mnames[k][a]);
            /* only the loss may be text ("nan", "inf") */
            if ((k == 0 || cJSON_IsNumber(v)) && rundir_json_num(v, &rec->v[k])) {
                rec->has |= 1u << k;
                break;
            }
        }
}

static void event_of(struct tui_event *e, const struct rundir_event *ev, int64_t mono)
{
    e->mono_ns = mono;
    e->real_ns = ev->t.real ? ev->t.real : moni_real_from_mono(mono);
    e->line = ev->line;
    e->sev = sev_of(ev->severity);
    snprintf(e->rule, sizeof e->rule, "%s", ev->rule);
    snprintf(e->text, sizeof e->text, "%s", ev->text);
    const cJSON *it;
    cJSON_ArrayForEach(it, ev->labels) if (cJSON_IsString(it))
        snprintf(e->labels + strlen(e->labels), sizeof e->labels - strlen(e->labels), "%s%s",
                 e->labels[0] ? "," : "", it->valuestring);
}

/* keep false: only the pipeline's rows are fed again (a rewind). */
static void load_events(struct tui_replay *r, const char *dir, int64_t offset, bool keep)
{
    struct rundir_jsonl in;
    if (rundir_jsonl_open(&in, dir, "events.jsonl") != 0) {
        rundir_jsonl_close(&in);
        return;
    }
    size_t cap = 0;
    struct rundir_event ev;
    int rc;
    while ((rc = rundir_event_next(&in, &ev)) != 0) {
        if (rc < 0)
            continue;
        struct rp_rec rec = {0};
        rec.mono = rundir_mono(&ev.t, offset);
        /* a process's warnings and errors, for its row (multi-process workloads) */
        pipeline_replay_event(r->pipe, rec.mono, ev.file, ev.rule, ev.severity, ev.text);
        if (!keep)
            continue;
        if (!strcmp(ev.kind, "metric")) {
            rec.kind = RP_METRIC;
            metric_values(&rec, ev.fields);
        } else if (!strcmp(ev.kind, "phase")) {
            rec.kind = RP_PHASE;
            snprintf(rec.phase, sizeof rec.phase, "%s", *ev.phase ? ev.phase : ev.event);
        } else {
            rec.kind = RP_EVENT;
            event_of(&rec.ev, &ev, rec.mono);
        }
        struct rp_rec *v = grow(r->recs, &cap, r->nrecs, sizeof *v);
        if (!v)
            break;
        r->recs = v;
        r->recs[r->nrecs++] = rec;
    }
    rundir_jsonl_close(&in);
}

static void fault_of(struct rp_fault *f, const struct rundir_fault *j, int64_t offset)
{
    memset(f, 0, sizeof *f);
    f->mono = rundir_mono(&j->t, offset);
    snprintf(f->event, sizeof f->event, "%s", j->event);
    snprintf(f->kind, sizeof f->kind, "%s", j->kind);
    snprintf(f->id, sizeof f->id, "%s", j->fault_id);
    snprintf(f->label_kind, sizeof f->label_kind, "%s", j->label_kind);
    snprintf(f->reason, sizeof f->reason, "%s", j->reason);
    const cJSON *it;
    cJSON_ArrayForEach(it, j->params) if (cJSON_IsString(it))
        snprintf(f->params + strlen(f->params), sizeof f->params - strlen(f->params), "%s%s=%s",
                 f->params[0] ? " " : "", it->string, it->valuestring);
    if (!isnan(j->requested_dose) && isnan(j->delivered_dose))
        snprintf(f->dose, sizeof f->dose, "%.3g %s", j->requested_dose, j->dose_unit);
    else if (!isnan(j->requested_dose)) /* compact, as the live row: requested->delivered */
        snprintf(f->dose, sizeof f->dose, "%.3g->%.3g %s", j->requested_dose, j->delivered_dose,
                 j->dose_unit);
}

static void load_faults(struct tui_replay *r, const char *dir, int64_t offset)
{
    struct rundir_jsonl in;
    size_t cap = 0;
    int rc;
    if (rundir_jsonl_open(&in, dir, "faults.jsonl") == 0) {
        struct rundir_fault j;
        while ((rc = rundir_fault_next(&in, &j)) != 0) {
            struct rp_fault *v = rc > 0 ? grow(r->fl, &cap, r->nfl, sizeof *v) : r->fl;
            if (!v)
                break;
            r->fl = v;
            if (rc > 0)
                fault_of(&r->fl[r->nfl++], &j, offset);
        }
    }
    rundir_jsonl_close(&in);
    cap = 0;
    if (rundir_jsonl_open(&in, dir, "marks.jsonl") == 0) {
        struct rundir_mark mk;
        while ((rc = rundir_mark_next(&in, &mk)) != 0) {
            struct rp_mark *v = rc > 0 ? grow(r->marks, &cap, r->nmarks, sizeof *v) : r->marks;
            if (!v)
                break;
            r->marks = v;
            if (rc > 0) {
                struct rp_mark *m = &r->marks[r->nmarks++];
                m->mono = rundir_mono(&mk.t, offset);
                snprintf(m->note, sizeof m->note, "%s", mk.note);
            }
        }
    }
    rundir_jsonl_close(&in);
}

static void load_meta(struct tui_replay *r, const char *dir)
{
    struct tui_model *m = r->m;
    char err[RUNDIR_ERR_LEN];
    struct rundir_meta meta;
    snprintf(m->workload, sizeof m->workload, "running");
    if (rundir_meta_load(dir, &meta, err, sizeof err) != 0)
        return;
    snprintf(m->run_id, sizeof m->run_id, "%s", meta.run_id);
    if (meta.interval_ns)
        m->interval_ns = meta.interval_ns;
    const cJSON *it;
    cJSON_ArrayForEach(it, meta.argv) if (cJSON_IsString(it))
        snprintf(m->workload_cmd + strlen(m->workload_cmd), sizeof m->workload_cmd - strlen(m->workload_cmd),
                 "%s%s", m->workload_cmd[0] ? " " : "", it->valuestring);
    const char *sig = meta.exit_signal_name;
    if (meta.exit_code_valid)
        snprintf(r->end_state, sizeof r->end_state, "exited %d", meta.exit_code);
    else if (*sig)
        snprintf(r->end_state, sizeof r->end_state, "killed by %s%s", strncmp(sig, "SIG", 3) ? "SIG" : "",
                 sig);
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(meta.gpu, "devices");
    cJSON_ArrayForEach(it, devs) if (m->ngpus < TUI_MAX_GPUS) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        snprintf(m->gpu_names[m->ngpus++], sizeof m->gpu_names[0], "%s",
                 cJSON_IsString(name) ? name->valuestring : "");
    }
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(meta.gpu, "reason");
    snprintf(m->gpu_reason, sizeof m->gpu_reason, "%s", cJSON_IsString(reason) ? reason->valuestring : "");
    if (meta.end_mono_ns)
        r->t_end = meta.end_mono_ns;
    rundir_meta_free(&meta);
}

static void blind_name(const char *dir, char *out, size_t len)
{
    char d[512];
    snprintf(d, sizeof d, "%s", dir);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/')
        d[--n] = 0;
    char *base = strrchr(d, '/');
    if (!base) {
        snprintf(out, len, "(hidden)");
        return;
    }
    *base++ = 0;
    const char *parent = strrchr(d, '/');
    parent = parent ? parent + 1 : d;
    snprintf(out, len, "%s", !strcmp(parent, "sessions") ? base : "(hidden)");
}

/* The model as it is before the first sample: the run's facts, fault rows (every
 * kind seen in the journal), nothing played yet. */
static void model_setup(struct tui_replay *r)
{
    struct tui_model *m = r->m;
    load_meta(r, r->dir);
    m->replay = true;
    m->blind = r->blind;
    m->start_mono = r->t0;
    m->now_mono = r->t0;
    m->now_real = r->real[0];
    snprintf(m->run_dir, sizeof m->run_dir, "%s", r->dir);
    if (!m->run_id[0])
        snprintf(m->run_id, sizeof m->run_id, "%s", r->dir);
    if (r->blind) /* a run's id or directory may name its experiment: only a study's
                   * session number (STUDY/sessions/sNN) is shown */
        blind_name(r->dir, m->run_id, sizeof m->run_id);
    for (size_t i = 0; i < r->nfl && m->nfaults < TUI_MAX_FAULTS; i++) {
        bool seen = false;
        for (size_t k = 0; k < m->nfaults; k++)
            seen |= !strcmp(m->faults[k].kind, r->fl[i].kind);
        if (!seen) {
            struct tui_fault_row *row = &m->faults[m->nfaults++];
            memset(row, 0, sizeof *row);
            snprintf(row->kind, sizeof row->kind, "%s", r->fl[i].kind);
            row->elapsed_ns = row->remaining_ns = -1;
        }
    }
}

struct tui_replay *tui_replay_open(const char *dir, bool blind, struct tui_model *m, char *err,
                                   size_t errlen)
{
    struct tui_replay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->m = m;
    r->blind = blind;
    r->speed = 1;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    frame_init(&r->frame);
    if (load_samples(r, dir, err, errlen) != 0) {
        tui_replay_close(r);
        return NULL;
    }
    /* wall = mono + offset, from the first row (ms: enough to place log lines and
     * the records of old files that have no mono_ns) */
    r->offset = r->real[0] - r->mono[0];
    r->pipe = pipeline_replay_open(dir, r->offset);
    load_log(r, dir);
    load_events(r, dir, r->offset, true);
    load_faults(r, dir, r->offset);
    r->t0 = r->mono[0];
    model_setup(r); /* meta.json's end, too */
    if (r->t_end < r->mono[r->nrows - 1])
        r->t_end = r->mono[r->nrows - 1];
    return r;
}

/* Back to the start: a fresh model and every file from its first record (the model
 * only moves forward, so seeking back replays up to the new time). */
static void rewind_replay(struct tui_replay *r)
{
    tui_model_free(r->m);
    tui_model_init(r->m);
    r->next_row = r->next_line = r->next_rec = r->next_fl = r->next_mark = 0;
    pipeline_replay_free(r->pipe);
    r->pipe = pipeline_replay_open(r->dir, r->offset);
    if (r->pipe)
        load_events(r, r->dir, r->offset, false);
    int64_t t_end = r->t_end;
    model_setup(r);
    r->t_end = t_end;
}

double tui_replay_duration(const struct tui_replay *r)
{
    return (double)(r->t_end - r->t0) / 1e9;
}

static void apply_fault(struct tui_replay *r, const struct rp_fault *f)
{
    struct tui_model *m = r->m;
    struct tui_fault_row *row = NULL;
    for (size_t k = 0; k < m->nfaults; k++)
        if (!strcmp(m->faults[k].kind, f->kind))
            row = &m->faults[k];
    if (!row)
        return;
    snprintf(row->id, sizeof row->id, "%s", f->id);
    snprintf(row->params, sizeof row->params, "%s", f->params);
    if (f->dose[0])
        snprintf(row->dose, sizeof row->dose, "%s", f->dose);
    bool point = !strcmp(f->label_kind, "point");
    if (!strcmp(f->event, "armed")) {
        row->state = TUI_F_ARMED;
    } else if (!strcmp(f->event, "fired")) {
        row->state = TUI_F_FIRING;
        tui_model_tl_add(m, point ? TUI_TL_KILL : TUI_TL_FAULT, f->mono, point ? f->mono : 0, f->kind);
    } else if (!strcmp(f->event, "effective")) {
        snprintf(row->note, sizeof row->note, "effective");
    } else if (!strcmp(f->event, "stopped") || !strcmp(f->event, "reverted")) {
        row->state = TUI_F_STOPPED;
        for (size_t i = m->ntl; i-- > 0;)
            if (m->tl[i].kind == TUI_TL_FAULT && !m->tl[i].end_mono && !strcmp(m->tl[i].label, f->kind)) {
                m->tl[i].end_mono = f->mono;
                break;
            }
    } else if (!strcmp(f->event, "failed")) {
        row->state = TUI_F_FAILED;
        snprintf(row->note, sizeof row->note, "failed: %.80s", f->reason);
    }
    m->version++;
}

bool tui_replay_advance(struct tui_replay *r, double t)
{
    struct tui_model *m = r->m;
    r->played = t;
    /* At the end the target is t_end itself: (t_end - t0) / 1e9 * 1e9 truncates to one
     * nanosecond short for about 2% of durations, and the replay never ended. */
    int64_t target = t >= tui_replay_duration(r) ? r->t_end : r->t0 + (int64_t)llround(t * 1e9);
    while (r->next_row < r->nrows && r->mono[r->next_row] <= target) {
        size_t i = r->next_row++;
        frame_clear(&r->frame);
        for (size_t c = 0; c < r->ncols; c++)
            if (r->valid[i * r->ncols + c])
                frame_set(&r->frame, (int)c, r->vals[i * r->ncols + c]);
        r->frame.t = (struct moni_stamp){r->mono[i], r->real[i]};
        tui_model_sample(m, &r->frame);
    }
    while (r->next_line < r->nlines && r->lines[r->next_line].mono <= target) {
        const struct rp_line *l = &r->lines[r->next_line++];
        tui_model_line(m, l->no, l->stream, r->log + l->off, l->len);
        tui_model_line_stamp(m, l->mono + (r->real[0] - r->mono[0]));
        m->last_line_mono = l->mono;
    }
    while (r->next_rec < r->nrecs && r->recs[r->next_rec].mono <= target) {
        const struct rp_rec *rec = &r->recs[r->next_rec++];
        if (rec->kind == RP_EVENT) {
            struct tui_event e = rec->ev;
            if (r->blind)
                e.labels[0] = 0;
            tui_model_event(m, &e);
        } else if (rec->kind == RP_PHASE) {
            snprintf(m->phase, sizeof m->phase, "%s", rec->phase);
        } else {
            if (rec->has & 1) {
                m->loss = rec->v[0];
                m->loss_ok = true;
                tui_hist_push(&m->loss_hist, rec->v[0], true);
                m->loss_samples++;
                if (!isfinite(rec->v[0]))
                    m->nan_seen = true;
            }
            if (rec->has & 2) { m->lr = rec->v[1]; m->lr_ok = true; }
            if (rec->has & 4) { m->step = rec->v[2]; m->step_ok = true; }
            if (rec->has & 8) { m->epoch = rec->v[3]; m->epoch_ok = true; }
            if (rec->has & 16) {
                m->throughput = rec->v[4];
                m->tput_ok = true;
                snprintf(m->tput_unit, sizeof m->tput_unit, "it/s");
            } else if (rec->has & 32) {
                m->throughput = rec->v[5];
                m->tput_ok = true;
                snprintf(m->tput_unit, sizeof m->tput_unit, "samples/s");
            }
            m->version++;
        }
    }
    while (r->next_fl < r->nfl && r->fl[r->next_fl].mono <= target) {
        const struct rp_fault *f = &r->fl[r->next_fl++];
        if (!r->blind)
            apply_fault(r, f);
    }
    while (r->next_mark < r->nmarks && r->marks[r->next_mark].mono <= target) {
        const struct rp_mark *mk = &r->marks[r->next_mark++];
        if (!r->blind)
            tui_model_tl_add(m, TUI_TL_MARK, mk->mono, mk->mono, mk->note);
    }
    if (target > r->t_end)
        target = r->t_end;
    if (r->next_row > 0) {
        size_t i = r->next_row - 1;
        m->now_real = r->real[i] + (target - r->mono[i]);
    }
    m->now_mono = target;
    if (r->pipe) {
        pipeline_replay_advance(r->pipe, target);
        size_t nw;
        const struct runner_worker *w = pipeline_replay_workers(r->pipe, &nw);
        tui_model_workers(m, pipeline_replay_stage(r->pipe), w, nw, target);
    }
    bool end = target >= r->t_end;
    snprintf(m->workload, sizeof m->workload, "%s", end && r->end_state[0] ? r->end_state : "running");
    m->version++;
    return end;
}

/* ---- the replay's clock: pause, seek, speed ------------------------------------------ */

double tui_replay_pos(const struct tui_replay *r, int64_t now)
{
    double p = r->pos;
    if (r->clock_started && !r->paused)
        p += (double)(now - r->base) / 1e9 * r->speed;
    double d = tui_replay_duration(r);
    return p > d ? d : p < 0 ? 0 : p;
}

bool tui_replay_tick(struct tui_replay *r, int64_t now)
{
    if (!r->clock_started) {
        r->clock_started = true;
        r->base = now;
    }
    return tui_replay_advance(r, tui_replay_pos(r, now));
}

/* The clock goes on from here: what changes next counts from now. */
static void rebase(struct tui_replay *r, int64_t now)
{
    r->pos = tui_replay_pos(r, now);
    r->base = now;
}

void tui_replay_pause(struct tui_replay *r, bool paused, int64_t now)
{
    rebase(r, now);
    r->paused = paused;
}

bool tui_replay_paused(const struct tui_replay *r) { return r->paused; }

void tui_replay_set_speed(struct tui_replay *r, double speed, int64_t now)
{
    if (!(speed > 0))
        return;
    rebase(r, now);
    r->speed = speed;
}

double tui_replay_speed(const struct tui_replay *r) { return r->speed; }

void tui_replay_seek(struct tui_replay *r, double t, int64_t now)
{
    double d = tui_replay_duration(r);
    t = t < 0 ? 0 : t > d ? d : t;
    if (t < r->played)
        rewind_replay(r);
    r->pos = t;
    r->base = now;
    r->clock_started = true;
    r->seeks++;
    tui_replay_advance(r, t);
}

unsigned tui_replay_seeks(const struct tui_replay *r) { return r->seeks; }

static void fmt_clock(double s, char *buf, size_t len)
{
    long v = (long)s;
    if (v >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", v / 60, v % 60);
}

void tui_replay_clock_text(const struct tui_replay *r, int64_t now, char *buf, size_t len)
{
    char a[24], b[24], sp[16];
    fmt_clock(tui_replay_pos(r, now), a, sizeof a);
    fmt_clock(tui_replay_duration(r), b, sizeof b);
    if (r->speed >= TUI_REPLAY_MAX_SPEED)
        snprintf(sp, sizeof sp, "max");
    else
        snprintf(sp, sizeof sp, "%gx", r->speed);
    snprintf(buf, len, "%s/%s %s%s", a, b, sp, r->paused ? " PAUSED" : "");
}

void tui_replay_close(struct tui_replay *r)
{
    if (!r)
        return;
    frame_free(&r->frame);
    pipeline_replay_free(r->pipe);
    free(r->vals);
    free(r->valid);
    free(r->mono);
    free(r->real);
    free(r->log);
    free(r->lines);
    free(r->recs);
    free(r->fl);
    free(r->marks);
    free(r);
}
