/* tui/replay.c — plays a recorded run directory back into the console's model:
 * samples.csv, workload.log + workload.idx, events.jsonl, faults.jsonl, marks.jsonl
 * and meta.json, each applied when the replay clock passes its CLOCK_MONOTONIC
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
};

/* ---- small parsers ------------------------------------------------------------------ */

static char *next_line(char **p)
{
    if (!*p || !**p)
        return NULL;
    char *s = *p, *e = strchr(s, '\n');
    if (e) {
        *e = 0;
        *p = e + 1;
    } else {
        *p = s + strlen(s);
    }
    return s;
}

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

static int64_t json_mono(const cJSON *o)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "mono_ns");
    if (cJSON_IsNumber(m))
        return (int64_t)m->valuedouble;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
    int64_t real;
    if (cJSON_IsString(t) && moni_parse_iso(t->valuestring, &real) == 0)
        return moni_mono_from_real(real);
    return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- loaders -------------------------------------------------------------------------- */

static int load_samples(struct tui_replay *r, const char *dir, char *err, size_t errlen)
{
    char path[700];
    snprintf(path, sizeof path, "%s/samples.csv", dir);
    char *text = moni_read_file(path, NULL);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read (is this a run directory?)", path);
        return -1;
    }
    char *p = text, *hdr = next_line(&p);
    if (!hdr || strncmp(hdr, "timestamp,mono_ns", 17)) {
        snprintf(err, errlen, "%s:1: header: expected 'timestamp,mono_ns,...'", path);
        free(text);
        return -1;
    }
    char *save = NULL;
    strtok_r(hdr, ",", &save);
    strtok_r(NULL, ",", &save);
    for (char *c; (c = strtok_r(NULL, ",\r", &save));)
        frame_add(&r->frame, c, "", METRIC_GAUGE);
    r->ncols = r->frame.ncols;
    size_t cap = 0, lineno = 1;
    for (char *l; (l = next_line(&p));) {
        lineno++;
        if (!*l)
            continue;
        if (!(r->mono = grow(r->mono, &cap, r->nrows, sizeof *r->mono)))
            break;
        size_t c2 = cap;
        r->real = realloc(r->real, c2 * sizeof *r->real);
        r->vals = realloc(r->vals, c2 * (r->ncols ? r->ncols : 1) * sizeof *r->vals);
        r->valid = realloc(r->valid, c2 * (r->ncols ? r->ncols : 1));
        if (!r->real || !r->vals || !r->valid)
            break;
        /* Fields split by hand: empty cells (missing values) matter. */
        char *f = l, *end;
        size_t col = 0;
        int64_t real = 0, mono = 0;
        bool torn = false;
        for (size_t k = 0;; k++) {
            end = strchr(f, ',');
            if (end)
                *end = 0;
            if (k == 0) {
                if (moni_parse_iso(f, &real) != 0)
                    torn = true;
            } else if (k == 1) {
                mono = strtoll(f, NULL, 10);
            } else if (col < r->ncols) {
                char *e2;
                double v = strtod(f, &e2);
                bool ok = *f && e2 != f;
                r->vals[r->nrows * r->ncols + col] = ok ? v : 0;
                r->valid[r->nrows * r->ncols + col] = ok;
                col++;
            }
            if (!end)
                break;
            f = end + 1;
        }
        if (torn || !mono || col < r->ncols)
            continue; /* a torn last line of a killed run */
        r->mono[r->nrows] = mono;
        r->real[r->nrows] = real;
        r->nrows++;
    }
    free(text);
    if (!r->nrows) {
        snprintf(err, errlen, "%s: no samples", path);
        return -1;
    }
    return 0;
}

static void load_log(struct tui_replay *r, const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/workload.log", dir);
    r->log = moni_read_file(path, &r->loglen);
    snprintf(path, sizeof path, "%s/workload.idx", dir);
    char *idx = moni_read_file(path, NULL);
    if (!r->log || !idx) {
        free(idx);
        return;
    }
    size_t cap = 0, off = 0;
    char *p = idx;
    next_line(&p); /* header */
    for (char *l; (l = next_line(&p)) && off < r->loglen;) {
        char *save = NULL, *no = strtok_r(l, ",", &save);
        strtok_r(NULL, ",", &save);
        char *mono = strtok_r(NULL, ",", &save), *stream = strtok_r(NULL, ",", &save);
        if (!no || !mono)
            continue;
        struct rp_line *v = grow(r->lines, &cap, r->nlines, sizeof *v);
        if (!v)
            break;
        r->lines = v;
        char *nl = memchr(r->log + off, '\n', r->loglen - off);
        size_t len = nl ? (size_t)(nl - (r->log + off)) : r->loglen - off;
        r->lines[r->nlines++] = (struct rp_line){strtoll(mono, NULL, 10), strtoull(no, NULL, 10),
                                                 stream && !strncmp(stream, "stderr", 6) ? 2 : 1,
                                                 off, len};
        off += len + 1;
    }
    free(idx);
}

static enum tui_sev sev_of(const char *s)
{
    return !strcmp(s, "critical") ? TUI_SEV_CRIT : !strcmp(s, "error") ? TUI_SEV_ERROR
         : !strcmp(s, "warning") ? TUI_SEV_WARN : TUI_SEV_INFO;
}

static void load_events(struct tui_replay *r, const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    char *text = moni_read_file(path, NULL), *p = text;
    size_t cap = 0;
    static const char *const mnames[6][3] = {
        {"loss", NULL, NULL}, {"learning_rate", "lr", NULL}, {"step", NULL, NULL},
        {"epoch", NULL, NULL}, {"it_per_s", "steps_per_s", NULL}, {"samples_per_s", "throughput", NULL},
    };
    for (char *l; (l = next_line(&p));) {
        cJSON *o = cJSON_Parse(l);
        if (!o)
            continue;
        struct rp_rec rec = {0};
        rec.mono = json_mono(o);
        /* a process's warnings and errors, for its row (multi-process workloads) */
        pipeline_replay_event(r->pipe, rec.mono, jstr(o, "file"), jstr(o, "rule"),
                              jstr(o, "severity"), jstr(o, "text"));
        const char *kind = jstr(o, "kind");
        if (!strcmp(kind, "metric")) {
            rec.kind = RP_METRIC;
            const cJSON *fields = cJSON_GetObjectItemCaseSensitive(o, "fields");
            for (int k = 0; k < 6; k++)
                for (int a = 0; a < 3 && mnames[k][a]; a++) {
                    const cJSON *v = cJSON_GetObjectItemCaseSensitive(fields, mnames[k][a]);
                    if (cJSON_IsNumber(v)) {
                        rec.v[k] = v->valuedouble;
                        rec.has |= 1u << k;
                        break;
                    }
                    if (cJSON_IsString(v) && k == 0) { /* "nan", "inf" */
                        rec.v[k] = strtod(v->valuestring, NULL);
                        rec.has |= 1u << k;
                        break;
                    }
                }
        } else if (!strcmp(kind, "phase")) {
            rec.kind = RP_PHASE;
            snprintf(rec.phase, sizeof rec.phase, "%s", *jstr(o, "phase") ? jstr(o, "phase") : jstr(o, "event"));
        } else {
            rec.kind = RP_EVENT;
            struct tui_event *e = &rec.ev;
            e->mono_ns = rec.mono;
            e->real_ns = moni_real_from_mono(rec.mono);
            int64_t real;
            if (moni_parse_iso(jstr(o, "timestamp"), &real) == 0)
                e->real_ns = real;
            const cJSON *ln = cJSON_GetObjectItemCaseSensitive(o, "line");
            e->line = cJSON_IsNumber(ln) ? (uint64_t)ln->valuedouble : 0;
            e->sev = sev_of(jstr(o, "severity"));
            snprintf(e->rule, sizeof e->rule, "%s", jstr(o, "rule"));
            snprintf(e->text, sizeof e->text, "%s", jstr(o, "text"));
            const cJSON *labels = cJSON_GetObjectItemCaseSensitive(o, "labels"), *it;
            cJSON_ArrayForEach(it, labels) if (cJSON_IsString(it))
                snprintf(e->labels + strlen(e->labels), sizeof e->labels - strlen(e->labels), "%s%s",
                         e->labels[0] ? "," : "", it->valuestring);
        }
        cJSON_Delete(o);
        struct rp_rec *v = grow(r->recs, &cap, r->nrecs, sizeof *v);
        if (!v)
            break;
        r->recs = v;
        r->recs[r->nrecs++] = rec;
    }
    free(text);
}

static void load_faults(struct tui_replay *r, const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/faults.jsonl", dir);
    char *text = moni_read_file(path, NULL), *p = text;
    size_t cap = 0;
    for (char *l; (l = next_line(&p));) {
        cJSON *o = cJSON_Parse(l);
        if (!o)
            continue;
        struct rp_fault f = {0};
        f.mono = json_mono(o);
        snprintf(f.event, sizeof f.event, "%s", jstr(o, "event"));
        snprintf(f.kind, sizeof f.kind, "%s", jstr(o, "kind"));
        snprintf(f.id, sizeof f.id, "%s", jstr(o, "fault_id"));
        snprintf(f.label_kind, sizeof f.label_kind, "%s", jstr(o, "label_kind"));
        snprintf(f.reason, sizeof f.reason, "%s", jstr(o, "reason"));
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params"), *it;
        cJSON_ArrayForEach(it, params) if (cJSON_IsString(it))
            snprintf(f.params + strlen(f.params), sizeof f.params - strlen(f.params), "%s%s=%s",
                     f.params[0] ? " " : "", it->string, it->valuestring);
        const cJSON *rq = cJSON_GetObjectItemCaseSensitive(o, "requested_dose");
        const cJSON *dl = cJSON_GetObjectItemCaseSensitive(o, "delivered_dose");
        if (cJSON_IsNumber(rq))
            snprintf(f.dose, sizeof f.dose, "req %.3g%s%.3g %s", rq->valuedouble,
                     cJSON_IsNumber(dl) ? " got " : "", cJSON_IsNumber(dl) ? dl->valuedouble : 0.0,
                     jstr(o, "dose_unit"));
        cJSON_Delete(o);
        struct rp_fault *v = grow(r->fl, &cap, r->nfl, sizeof *v);
        if (!v)
            break;
        r->fl = v;
        r->fl[r->nfl++] = f;
    }
    free(text);
    snprintf(path, sizeof path, "%s/marks.jsonl", dir);
    text = moni_read_file(path, NULL);
    p = text;
    cap = 0;
    for (char *l; (l = next_line(&p));) {
        cJSON *o = cJSON_Parse(l);
        if (!o)
            continue;
        struct rp_mark mk = {json_mono(o), ""};
        snprintf(mk.note, sizeof mk.note, "%s", jstr(o, "note"));
        cJSON_Delete(o);
        struct rp_mark *v = grow(r->marks, &cap, r->nmarks, sizeof *v);
        if (!v)
            break;
        r->marks = v;
        r->marks[r->nmarks++] = mk;
    }
    free(text);
}

static void load_meta(struct tui_replay *r, const char *dir)
{
    struct tui_model *m = r->m;
    char path[700], err[256];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    struct moni_json doc;
    snprintf(m->workload, sizeof m->workload, "running");
    if (moni_json_load(path, &doc, err, sizeof err) != 0)
        return;
    const cJSON *o = doc.root;
    snprintf(m->run_id, sizeof m->run_id, "%s", jstr(o, "run_id"));
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(o, "interval_s");
    if (cJSON_IsNumber(iv))
        m->interval_ns = (int64_t)(iv->valuedouble * 1e9);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "workload");
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(w, "argv"), *it;
    cJSON_ArrayForEach(it, av) if (cJSON_IsString(it))
        snprintf(m->workload_cmd + strlen(m->workload_cmd), sizeof m->workload_cmd - strlen(m->workload_cmd),
                 "%s%s", m->workload_cmd[0] ? " " : "", it->valuestring);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(w, "exit_code");
    const char *sig = jstr(w, "exit_signal_name");
    if (cJSON_IsNumber(code))
        snprintf(r->end_state, sizeof r->end_state, "exited %d", code->valueint);
    else if (*sig)
        snprintf(r->end_state, sizeof r->end_state, "killed by %s%s", strncmp(sig, "SIG", 3) ? "SIG" : "",
                 sig);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "gpu");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(g, "devices");
    cJSON_ArrayForEach(it, devs) if (m->ngpus < TUI_MAX_GPUS)
        snprintf(m->gpu_names[m->ngpus++], sizeof m->gpu_names[0], "%s", jstr(it, "name"));
    snprintf(m->gpu_reason, sizeof m->gpu_reason, "%s", jstr(g, "reason"));
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(o, "end_mono_ns");
    if (cJSON_IsNumber(em))
        r->t_end = (int64_t)em->valuedouble;
    moni_json_free(&doc);
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
    frame_init(&r->frame);
    if (load_samples(r, dir, err, errlen) != 0) {
        tui_replay_close(r);
        return NULL;
    }
    /* wall = mono + offset, from the first row (ms: enough to place log lines) */
    r->pipe = pipeline_replay_open(dir, r->real[0] - r->mono[0]);
    load_log(r, dir);
    load_events(r, dir);
    load_faults(r, dir);
    load_meta(r, dir);
    r->t0 = r->mono[0];
    if (r->t_end < r->mono[r->nrows - 1])
        r->t_end = r->mono[r->nrows - 1];
    m->replay = true;
    m->blind = blind;
    m->start_mono = r->t0;
    m->now_mono = r->t0;
    m->now_real = r->real[0];
    snprintf(m->run_dir, sizeof m->run_dir, "%s", dir);
    if (!m->run_id[0])
        snprintf(m->run_id, sizeof m->run_id, "%s", dir);
    /* Fault rows: every kind seen in the journal. */
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
    return r;
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
    int64_t target = r->t0 + (int64_t)(t * 1e9);
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
