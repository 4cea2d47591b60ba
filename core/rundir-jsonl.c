/* core/rundir-jsonl.c — the run directory's JSONL files: events.jsonl, faults.jsonl
 * (the injector journal, with the one compatibility reader for older spellings),
 * marks.jsonl, alerts.jsonl and detections.jsonl.  One reader and one writer each;
 * the shared parts (lines, stamps) are in core/rundir.c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/rundir.h"
#include "faults/faults.h"

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

bool rundir_json_num(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (cJSON_IsString(v)) {
        char *end;
        double x = strtod(v->valuestring, &end);
        if (end != v->valuestring && *end == '\0') {
            *out = x;
            return true;
        }
    }
    return false;
}

int rundir_jsonl_open(struct rundir_jsonl *r, const char *dir, const char *name)
{
    r->obj = NULL;
    return rundir_lines_open(&r->l, dir, name);
}

void rundir_jsonl_close(struct rundir_jsonl *r)
{
    cJSON_Delete(r->obj);
    r->obj = NULL;
    rundir_lines_close(&r->l);
}

/* The clocks of a record; mono exactly from the text (the writers put it first). */
static void read_stamp(const cJSON *o, const char *line, struct rundir_stamp *t)
{
    memset(t, 0, sizeof *t);
    const char *mp = strstr(line, "\"mono_ns\":");
    if (mp) {
        char *end;
        long long x = strtoll(mp + 10, &end, 10);
        if (end != mp + 10 && x > 0)
            t->mono = x;
    }
    if (!t->mono) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "mono_ns");
        long long x = 0;
        if (cJSON_IsNumber(v))
            x = (long long)v->valuedouble;
        else if (cJSON_IsString(v) && v->valuestring[0]) {
            char *end;
            x = strtoll(v->valuestring, &end, 10);
            if (*end)
                x = 0;
        }
        t->mono = x > 0 ? x : 0;
    }
    const char *ts = jstr(o, "timestamp");
    snprintf(t->iso, sizeof t->iso, "%s", ts);
    if (!*ts && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "timestamp")))
        ts = jstr(o, "time"); /* older files */
    if (*ts && moni_parse_iso(ts, &t->real) != 0)
        t->real = 0;
}

/* The next line as a JSON object: 1, 0 end, -1 bad (not JSON). */
static int next_object(struct rundir_jsonl *r, struct rundir_stamp *t)
{
    cJSON_Delete(r->obj);
    r->obj = NULL;
    char *line;
    size_t len;
    if (rundir_lines_next(&r->l, &line, &len) != 1)
        return 0;
    r->obj = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(r->obj)) {
        cJSON_Delete(r->obj);
        r->obj = NULL;
        return rundir_lines_bad(&r->l, "(line)", "not a JSON object");
    }
    read_stamp(r->obj, line, t);
    return 1;
}

/* Appends o unformatted, with the clocks first (mono_ns as an exact integer). */
static int append_stamped(int fd, cJSON *o, struct moni_stamp t)
{
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body)
        return -1;
    char iso[MONI_ISO_LEN];
    moni_fmt_iso(t.real_ns, iso, sizeof iso);
    size_t bl = strlen(body), cap = bl + 96;
    char *line = malloc(cap);
    int rc = -1;
    if (line) {
        int n = bl > 2 ? snprintf(line, cap, "{\"timestamp\":\"%s\",\"mono_ns\":%lld,%s", iso,
                                  (long long)t.mono_ns, body + 1)
                       : snprintf(line, cap, "{\"timestamp\":\"%s\",\"mono_ns\":%lld}", iso,
                                  (long long)t.mono_ns);
        rc = n > 0 ? rundir_append_line(fd, line, (size_t)n) : -1;
    }
    free(line);
    free(body);
    return rc;
}

/* ---- events.jsonl ---------------------------------------------------------------------- */

int rundir_event_next(struct rundir_jsonl *r, struct rundir_event *ev)
{
    memset(ev, 0, sizeof *ev);
    int rc = next_object(r, &ev->t);
    if (rc != 1)
        return rc;
    const cJSON *o = r->obj;
    if (!ev->t.mono && !ev->t.real)
        return rundir_lines_bad(&r->l, "mono_ns", "no time (neither mono_ns nor timestamp)");
    ev->obj = o;
    ev->file = jstr(o, "file");
    ev->rule = jstr(o, "rule");
    ev->kind = jstr(o, "kind");
    ev->event = jstr(o, "event");
    ev->severity = jstr(o, "severity");
    ev->phase = jstr(o, "phase");
    ev->text = jstr(o, "text");
    const cJSON *ln = cJSON_GetObjectItemCaseSensitive(o, "line");
    ev->line = cJSON_IsNumber(ln) && ln->valuedouble > 0 ? (uint64_t)ln->valuedouble : 0;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fields");
    ev->fields = cJSON_IsObject(f) ? f : NULL;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "labels");
    ev->labels = cJSON_IsArray(l) ? l : NULL;
    return 1;
}

int rundir_event_append(int fd, const struct lp_record *rec)
{
    char buf[8192];
    size_t n = runner_event_json(rec, buf, sizeof buf);
    return n ? rundir_append_line(fd, buf, n) : -1;
}

/* ---- faults.jsonl ------------------------------------------------------------------------ */

static void rename_item(cJSON *o, const char *from, const char *to)
{
    cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(o, from);
    if (!v)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(o, to);
    cJSON_AddItemToObject(o, to, v);
}

/* requested_dose from the old "requested" or "dose": {"requested"}, when it has no
 * number of its own. */
static void compat_dose(cJSON *o, const char *canon, const char *old)
{
    double x;
    if (rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, canon), &x))
        return;
    if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, old), &x) &&
        !rundir_json_num(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "dose"), old),
            &x))
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(o, canon);
    cJSON_AddNumberToObject(o, canon, x);
}

void rundir_journal_compat(cJSON *o)
{
    if (!cJSON_IsObject(o))
        return;
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "event"))) {
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "state")))
            rename_item(o, "state", "event");
        else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "transition")))
            rename_item(o, "transition", "event");
    }
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "fault_id")) &&
        cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "id")))
        rename_item(o, "id", "fault_id");
    if (!cJSON_GetObjectItemCaseSensitive(o, "params"))
        rename_item(o, "parameters", "params");
    compat_dose(o, "requested_dose", "requested");
    compat_dose(o, "delivered_dose", "delivered");
    /* journals before label_kind: the kind's own (its descriptor, never its name) */
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const struct fault_ops *ops = cJSON_IsString(kind) ? fault_find(kind->valuestring) : NULL;
    if (ops && ops->label_kind && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "label_kind"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, "label_kind");
        cJSON_AddStringToObject(o, "label_kind", ops->label_kind);
    }
    cJSON *tg = cJSON_GetObjectItemCaseSensitive(o, "target");
    if (cJSON_IsNumber(tg)) {
        char num[24];
        snprintf(num, sizeof num, "%d", tg->valueint);
        cJSON_ReplaceItemInObjectCaseSensitive(o, "target", cJSON_CreateString(num));
    }
}

int rundir_fault_next(struct rundir_jsonl *r, struct rundir_fault *f)
{
    memset(f, 0, sizeof *f);
    int rc = next_object(r, &f->t);
    if (rc != 1)
        return rc;
    rundir_journal_compat(r->obj);
    const cJSON *o = r->obj;
    f->obj = o;
    f->fault_id = jstr(o, "fault_id");
    f->event = jstr(o, "event");
    if (!*f->fault_id)
        return rundir_lines_bad(&r->l, "fault_id", "missing");
    if (!*f->event)
        return rundir_lines_bad(&r->l, "event", "missing");
    f->kind = jstr(o, "kind");
    f->label_kind = jstr(o, "label_kind");
    snprintf(f->target_buf, sizeof f->target_buf, "%s", jstr(o, "target"));
    f->target = f->target_buf;
    f->mode = jstr(o, "mode");
    f->reason = jstr(o, "reason");
    f->dose_unit = jstr(o, "dose_unit");
    f->root_cause = jstr(o, "root_cause");
    f->stage = jstr(o, "expected_failure_stage");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "params");
    f->params = cJSON_IsObject(p) ? p : NULL;
    if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, "requested_dose"),
                         &f->requested_dose))
        f->requested_dose = NAN;
    if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, "delivered_dose"),
                         &f->delivered_dose))
        f->delivered_dose = NAN;
    return 1;
}

int rundir_fault_append(int fd, const cJSON *o, struct moni_stamp t)
{
    /* the same line as faults/'s fault_journal_line (a unit test compares them) */
    cJSON *copy = cJSON_Duplicate(o, true);
    return copy ? append_stamped(fd, copy, t) : -1;
}

/* ---- marks.jsonl --------------------------------------------------------------------------- */

int rundir_mark_next(struct rundir_jsonl *r, struct rundir_mark *mk)
{
    memset(mk, 0, sizeof *mk);
    int rc = next_object(r, &mk->t);
    if (rc != 1)
        return rc;
    mk->note = jstr(r->obj, "note");
    if (!mk->t.mono && !mk->t.real)
        return rundir_lines_bad(&r->l, "mono_ns", "no time (neither mono_ns nor timestamp)");
    return 1;
}

int rundir_mark_open(const char *dir)
{
    return rundir_open_append(dir, "marks.jsonl");
}

int rundir_mark_append(int fd, struct moni_stamp t, const char *note)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "note", note ? note : "")) {
        cJSON_Delete(o);
        errno = ENOMEM;
        return -1;
    }
    if (append_stamped(fd, o, t) < 0)
        return -1;
    return fdatasync(fd) == 0 || errno == EINVAL ? 0 : -1;
}

/* ---- alerts.jsonl --------------------------------------------------------------------------- */

int rundir_alert_next(struct rundir_jsonl *r, struct rundir_alert *a)
{
    memset(a, 0, sizeof *a);
    int rc = next_object(r, &a->t);
    if (rc != 1)
        return rc;
    const cJSON *o = r->obj;
    a->alert = jstr(o, "alert");
    a->state = jstr(o, "state");
    a->severity = jstr(o, "severity");
    a->summary = jstr(o, "summary");
    if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, "value"), &a->value))
        a->value = NAN;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "labels");
    a->labels = cJSON_IsObject(l) ? l : NULL;
    if (!*a->alert)
        return rundir_lines_bad(&r->l, "alert", "missing");
    return 1;
}

int rundir_alert_append(int fd, struct moni_stamp t, const char *alert, const char *state,
                        double value, const char *severity, const char *label_key,
                        const char *label_value, const char *summary)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    cJSON_AddStringToObject(o, "alert", alert);
    cJSON_AddStringToObject(o, "state", state);
    if (isfinite(value)) {
        cJSON_AddNumberToObject(o, "value", value);
    } else {
        cJSON_AddNullToObject(o, "value");
        cJSON_AddStringToObject(o, "value_text", isnan(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf");
    }
    cJSON_AddStringToObject(o, "severity", severity ? severity : "");
    cJSON *labels = cJSON_AddObjectToObject(o, "labels");
    if (labels && label_key && label_value)
        cJSON_AddStringToObject(labels, label_key, label_value);
    cJSON_AddStringToObject(o, "summary", summary ? summary : "");
    return append_stamped(fd, o, t);
}

/* ---- detections.jsonl ------------------------------------------------------------------------ */

int rundir_detection_next(struct rundir_jsonl *r, struct rundir_detection *d)
{
    memset(d, 0, sizeof *d);
    int rc = next_object(r, &d->t);
    if (rc != 1)
        return rc;
    const cJSON *o = r->obj;
    d->detector = jstr(o, "detector");
    d->label = jstr(o, "label");
    d->evidence = jstr(o, "evidence");
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "signals"), *it;
    size_t n = 0;
    cJSON_ArrayForEach(it, sig) {
        if (cJSON_IsString(it) && n < sizeof d->signals)
            n += (size_t)snprintf(d->signals + n, sizeof d->signals - n, "%s%s", n ? "," : "",
                                  it->valuestring);
    }
    if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, "score"), &d->score))
        return rundir_lines_bad(&r->l, "score", "missing or not a number");
    if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, "threshold"), &d->threshold))
        d->threshold = NAN;
    if (!rundir_json_num(cJSON_GetObjectItemCaseSensitive(o, "ttf_s"), &d->ttf_s))
        d->ttf_s = NAN;
    if (!*d->detector)
        return rundir_lines_bad(&r->l, "detector", "missing");
    return 1;
}

static void add_num_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

int rundir_detection_append(int fd, const struct detection *det)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return -1;
    cJSON_AddStringToObject(o, "detector", det->detector ? det->detector : "");
    cJSON_AddStringToObject(o, "label", det->label ? det->label : "");
    cJSON *sig = cJSON_AddArrayToObject(o, "signals");
    const char *p = det->signals ? det->signals : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        char name[96];
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        cJSON_AddItemToArray(sig, cJSON_CreateString(name));
        p += n + (p[n] == ',');
    }
    add_num_or_null(o, "score", det->score);
    add_num_or_null(o, "threshold", det->threshold);
    add_num_or_null(o, "ttf_s", det->ttf_s);
    cJSON_AddStringToObject(o, "evidence", det->evidence);
    struct moni_stamp t = {.mono_ns = det->mono_ns, .real_ns = det->real_ns};
    return append_stamped(fd, o, t);
}
