/* core/runner-events.c — the events.jsonl line of one parser record, written by hand
 * into a buffer (core/jsonw.c): a cJSON tree built and printed per log line was
 * the largest cost of a console on a chatty log.  The bytes are exactly those the
 * cJSON version wrote (keys, order, escapes, number text; tests/unit/
 * test_run_events.c compares both on hostile records), so files written before
 * and after read the same.  It formats only: the runner batches and writes. */
#include <string.h>

#include "core/core.h"
#include "core/runner-int.h"
#include "logparse/logparse.h"

static void put_key(struct moni_jbuf *j, const char *lit, size_t n) { moni_jb_put(j, lit, n); }
#define KEY(j, lit) put_key((j), "," lit ":", sizeof lit + 1)

static void put_str0(struct moni_jbuf *j, const char *s) { moni_jb_str_cjson(j, s, strlen(s)); }

/* A field's number: non-finite values as the strings "nan", "inf", "-inf". */
static void put_num_or_text(struct moni_jbuf *j, double v)
{
    if (v != v)
        MONI_JB_LIT(j, "\"nan\"");
    else if (v > 1.7976931348623157e308)
        MONI_JB_LIT(j, "\"inf\"");
    else if (v < -1.7976931348623157e308)
        MONI_JB_LIT(j, "\"-inf\"");
    else
        moni_jb_num_cjson(j, v);
}

/* First occurrence wins, as cJSON's lookup of an existing key did. */
static bool field_seen(const struct lp_record *rec, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (rec->fields[k].name && !strcmp(rec->fields[k].name, rec->fields[i].name))
            return true;
    return false;
}

static void put_fields(struct moni_jbuf *j, const struct lp_record *rec)
{
    KEY(j, "\"fields\"");
    moni_jb_putc(j, '{');
    bool first = true;
    for (size_t i = 0; i < rec->nfields; i++) {
        const struct lp_field *f = &rec->fields[i];
        if (!f->name || field_seen(rec, i))
            continue;
        if (!first)
            moni_jb_putc(j, ',');
        first = false;
        put_str0(j, f->name);
        moni_jb_putc(j, ':');
        if (f->is_num)
            put_num_or_text(j, f->num);
        else
            put_str0(j, f->text ? f->text : "");
    }
    moni_jb_putc(j, '}');
}

size_t runner_event_jb(const struct lp_record *rec, struct moni_jbuf *j, size_t max)
{
    size_t start = j->n;
    bool oom = j->oom;
    j->oom = false;
    char iso[MONI_ISO_LEN];
    /* the clocks first: mono_ns exact, never through a double */
    MONI_JB_LIT(j, "{\"timestamp\":\"");
    moni_fmt_iso(rec->recv.real_ns, iso, sizeof iso);
    moni_jb_put(j, iso, strlen(iso));
    MONI_JB_LIT(j, "\",\"mono_ns\":");
    moni_jb_i64(j, (long long)rec->recv.mono_ns);
    /* the keys of `moni parse --format jsonl`, plus the phase */
    KEY(j, "\"file\"");
    put_str0(j, rec->source ? rec->source : "");
    KEY(j, "\"line\"");
    moni_jb_num_cjson(j, (double)rec->line_no);
    if (rec->first_line_no && rec->first_line_no != rec->line_no) {
        KEY(j, "\"first_line\"");
        moni_jb_num_cjson(j, (double)rec->first_line_no);
    }
    KEY(j, "\"rule\"");
    put_str0(j, rec->rule_id ? rec->rule_id : "");
    KEY(j, "\"kind\"");
    put_str0(j, lp_kind_name(rec->kind));
    KEY(j, "\"event\"");
    put_str0(j, rec->event ? rec->event : "");
    KEY(j, "\"severity\"");
    put_str0(j, lp_severity_name(rec->severity));
    KEY(j, "\"labels\"");
    moni_jb_putc(j, '[');
    bool first = true;
    for (int l = 0; l < LP_NLABELS; l++)
        if (rec->labels & LP_LABEL_BIT(l)) {
            if (!first)
                moni_jb_putc(j, ',');
            first = false;
            put_str0(j, lp_label_name((enum lp_label)l));
        }
    moni_jb_putc(j, ']');
    if (rec->kind == LP_KIND_PHASE) {
        KEY(j, "\"phase\"");
        put_str0(j, lp_phase_name(rec->phase));
    }
    if (rec->action && rec->action[0]) {
        KEY(j, "\"action\"");
        put_str0(j, rec->action);
    }
    KEY(j, "\"time\"");
    if (rec->has_time)
        put_str0(j, moni_fmt_iso(rec->time_ns, iso, sizeof iso));
    else
        MONI_JB_LIT(j, "null");
    put_fields(j, rec);
    /* the line itself, capped (the log keeps the full text); a C string, as cJSON
     * saw it: it ends at a NUL */
    KEY(j, "\"text\"");
    size_t tl = rec->text_len < 1024 ? rec->text_len : 1024;
    moni_jb_str_cjson(j, rec->text ? rec->text : "", rec->text ? tl : 0);
    if (rec->truncated)
        MONI_JB_LIT(j, ",\"truncated\":true");
    moni_jb_putc(j, '}');
    size_t n = j->n - start;
    if (j->oom || n >= max) {
        j->n = start;
        n = 0;
    }
    j->oom = oom;
    return n;
}

size_t runner_event_json(const struct lp_record *rec, char *buf, size_t len)
{
    struct moni_jbuf j = {0};
    size_t n = runner_event_jb(rec, &j, len);
    if (n) {
        memcpy(buf, j.b, n);
        buf[n] = '\0';
    }
    moni_jb_free(&j);
    return n;
}
