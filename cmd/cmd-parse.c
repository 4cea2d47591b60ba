/* cmd/cmd-parse.c — `moni parse`: run the rule packs over log files (or stdin) and
 * print one record per match as JSON lines, CSV or text.  The output writer is
 * hand-rolled (no cJSON per record) because this runs at a million lines a second. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "logparse/logparse.h"

enum fmt { FMT_JSONL, FMT_CSV, FMT_TEXT };

struct out {
    FILE *f;
    enum fmt fmt;
    const char *file; /* name printed for the current input */
    char *prefix;     /* {"file":"NAME","line": with NAME escaped, made once per file */
    size_t prefixlen;
    uint64_t counts[3];
    struct moni_jbuf *jb; /* JSON lines: records are built here, then written in one
                           * call per input chunk (half of `moni parse`'s time went to
                           * stdio per piece) */
    struct head *heads;   /* JSON lines: the middle of a record per rule, made once */
};

/* The part of a JSON line between "time" and the fields, which only depends on the
 * rule: ,"rule":..,"kind":..[,"event":..][,"severity":..,"labels":[..]],"fields":{
 * Keyed by the strings' addresses: the parser's rule ids and event names are the
 * rules' own strings or literals, which live as long as the rules. */
#define HEAD_SLOTS 32
struct head {
    const char *rule_id, *event;
    enum lp_kind kind;
    enum lp_severity severity;
    uint32_t labels;
    char *b; /* NULL: empty slot */
    size_t n;
};

/* The captured text is printed as is when it already is a JSON number: its length,
 * or 0 when it is not one. */
static size_t json_number_len(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0' ? (size_t)(p - s) : 0;
}

/* A converted value (ms to s, GiB to bytes) in the fewest digits that read back as the
 * same double: 41.2, not %.17g's 41.200000000000003. */
static int shortest_num(double v, char *b, size_t len)
{
    int l = 0;
    for (int prec = 15; prec <= 17; prec++) {
        l = snprintf(b, len, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    return l;
}

static void put_num(FILE *f, const struct lp_field *fl, bool json)
{
    /* the text as written is the value unless a unit or a scale converted it */
    if (!fl->scaled && json_number_len(fl->text)) {
        fputs_unlocked(fl->text, f);
    } else if (fl->num != fl->num || fl->num > 1.7976931348623157e308 ||
               fl->num < -1.7976931348623157e308) {
        /* nan / inf kept as such: a string in JSON, the word elsewhere */
        const char *w = fl->num != fl->num ? "nan" : fl->num > 0 ? "inf" : "-inf";
        fprintf(f, json ? "\"%s\"" : "%s", w);
    } else {
        char b[40];
        shortest_num(fl->num, b, sizeof b);
        fputs_unlocked(b, f);
    }
}

/* put_num for JSON into the record buffer */
static void jb_num(struct moni_jbuf *j, const struct lp_field *fl)
{
    size_t nl;
    /* json_len: the parser saw it is one */
    if (!fl->scaled && (nl = fl->json_len ? fl->json_len : json_number_len(fl->text))) {
        moni_jb_put(j, fl->text, nl);
    } else if (fl->num != fl->num || fl->num > 1.7976931348623157e308 ||
               fl->num < -1.7976931348623157e308) {
        if (fl->num != fl->num)
            MONI_JB_LIT(j, "\"nan\"");
        else if (fl->num > 0)
            MONI_JB_LIT(j, "\"inf\"");
        else
            MONI_JB_LIT(j, "\"-inf\"");
    } else {
        char b[40];
        int l = shortest_num(fl->num, b, sizeof b);
        moni_jb_put(j, b, (size_t)l);
    }
}

static void jb_str0(struct moni_jbuf *j, const char *s) { moni_jb_str(j, s, strlen(s)); }

/* Writes the JSON lines built so far. */
static void jsonl_flush(struct out *o)
{
    if (o->jb && o->jb->n) {
        fwrite_unlocked(o->jb->b, 1, o->jb->n, o->f);
        o->jb->n = 0;
    }
}

/* The bytes of a record's head (struct head) into j. */
static void put_head(struct moni_jbuf *j, const struct lp_record *r)
{
    MONI_JB_LIT(j, ",\"rule\":");
    jb_str0(j, r->rule_id);
    MONI_JB_LIT(j, ",\"kind\":\"");
    moni_jb_put(j, lp_kind_name(r->kind), strlen(lp_kind_name(r->kind)));
    moni_jb_putc(j, '"');
    if (r->kind != LP_KIND_METRIC) {
        MONI_JB_LIT(j, ",\"event\":");
        jb_str0(j, r->event);
    }
    if (r->kind == LP_KIND_EVENT) {
        char labels[512] = "";
        if (r->labels)
            lp_labels_format(r->labels, "\",\"", labels, sizeof labels);
        MONI_JB_LIT(j, ",\"severity\":\"");
        moni_jb_put(j, lp_severity_name(r->severity), strlen(lp_severity_name(r->severity)));
        MONI_JB_LIT(j, "\",\"labels\":[");
        if (*labels) {
            moni_jb_putc(j, '"');
            moni_jb_put(j, labels, strlen(labels));
            moni_jb_putc(j, '"');
        }
        moni_jb_putc(j, ']');
    }
    MONI_JB_LIT(j, ",\"fields\":{");
}

/* The record's head from o->heads, made on first use; false when out of memory. */
static bool jb_head(struct out *o, struct moni_jbuf *j, const struct lp_record *r)
{
    uintptr_t k = (uintptr_t)r->rule_id ^ ((uintptr_t)r->event >> 4) ^ r->labels;
    struct head *h = o->heads ? &o->heads[(k ^ (k >> 5) ^ (k >> 10)) % HEAD_SLOTS] : NULL;
    if (h && h->b && h->rule_id == r->rule_id && h->event == r->event && h->kind == r->kind &&
        h->severity == r->severity && h->labels == r->labels) {
        moni_jb_put(j, h->b, h->n);
        return true;
    }
    size_t at = j->n;
    put_head(j, r);
    if (!h || j->oom)
        return !j->oom;
    char *b = malloc(j->n - at);
    if (!b)
        return true;
    memcpy(b, j->b + at, j->n - at);
    free(h->b);
    *h = (struct head){.rule_id = r->rule_id, .event = r->event, .kind = r->kind,
                       .severity = r->severity, .labels = r->labels, .b = b, .n = j->n - at};
    return true;
}

/* Bytes that go into a JSON string as they are: ASCII from the space up, but " and \ */
static const unsigned char plain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* jb_str0 in one pass for a short plain string (a field's name): copied as it is
 * scanned; anything else goes to jb_str0. */
static void jb_name(struct moni_jbuf *j, const char *s)
{
    if (!moni_jb_room(j, 66))
        return;
    char *d = j->b + j->n;
    size_t i = 0;
    d[0] = '"';
    for (; i < 64 && plain_byte[(unsigned char)s[i]]; i++)
        d[i + 1] = s[i];
    if (s[i]) {
        jb_str0(j, s);
        return;
    }
    d[i + 1] = '"';
    j->n += i + 2;
}

/* The usual field, "name":number with both lengths known from the parser (and the
 * name known to need no escaping), written at once; false when it is not one (the
 * caller writes it piece by piece). */
static bool jb_field_fast(struct moni_jbuf *j, const struct lp_field *fl, bool comma)
{
    size_t nl = fl->name_len, tl = fl->json_len;
    if (!fl->is_num || fl->scaled || !tl || tl > 16 || !nl || nl > 16 ||
        !moni_jb_room(j, nl + tl + 4))
        return false;
    char *d = j->b + j->n;
    *d = ',';
    d += comma;
    *d++ = '"';
    moni_copy_small(d, fl->name, nl);
    d += nl;
    *d++ = '"';
    *d++ = ':';
    moni_copy_small(d, fl->text, tl);
    j->n = (size_t)(d + tl - j->b);
    return true;
}

/* One record as a JSON line, appended to o->jb (written by parse_fd). */
static void write_jsonl(struct out *o, const struct lp_record *r, const char *iso, size_t tlen)
{
    struct moni_jbuf *j = o->jb;
    size_t isolen = *iso ? strlen(iso) : 0;
    if (!moni_jb_room(j, o->prefixlen + 20 + 10 + isolen))
        return;
    char *d = j->b + j->n;
    memcpy(d, o->prefix, o->prefixlen);
    d = moni_put_u64(d + o->prefixlen, r->line_no);
    memcpy(d, ",\"time\":", 8);
    d += 8;
    if (isolen) {
        *d++ = '"';
        memcpy(d, iso, isolen);
        d += isolen;
        *d++ = '"';
    } else {
        memcpy(d, "null", 4);
        d += 4;
    }
    j->n = (size_t)(d - j->b);
    if (!jb_head(o, j, r))
        return;
    bool raws = false;
    for (size_t i = 0; i < r->nfields; i++) {
        raws |= r->fields[i].raw != NULL;
        if (jb_field_fast(j, &r->fields[i], i))
            continue;
        if (i)
            moni_jb_putc(j, ',');
        jb_name(j, r->fields[i].name);
        moni_jb_putc(j, ':');
        if (r->fields[i].is_num)
            jb_num(j, &r->fields[i]);
        else
            jb_str0(j, r->fields[i].text);
    }
    moni_jb_putc(j, '}');
    /* the keys as the log wrote them, where the names are canonical */
    bool anyraw = false;
    for (size_t i = 0; raws && i < r->nfields; i++) {
        if (!r->fields[i].raw)
            continue;
        if (anyraw)
            moni_jb_putc(j, ',');
        else
            MONI_JB_LIT(j, ",\"raw\":{");
        anyraw = true;
        jb_name(j, r->fields[i].name);
        moni_jb_putc(j, ':');
        jb_str0(j, r->fields[i].raw);
    }
    if (anyraw)
        moni_jb_putc(j, '}');
    if (r->first_line_no != r->line_no) {
        MONI_JB_LIT(j, ",\"first_line\":");
        moni_jb_u64(j, r->first_line_no);
    }
    if (r->truncated)
        MONI_JB_LIT(j, ",\"truncated\":true");
    if (r->kind != LP_KIND_METRIC) {
        MONI_JB_LIT(j, ",\"text\":");
        moni_jb_str(j, r->text, tlen);
    }
    MONI_JB_LIT(j, "}\n");
    if (j->n >= (1u << 16))
        jsonl_flush(o);
}

static void put_csv_str(FILE *f, const char *s, size_t n)
{
    putc_unlocked('"', f);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"')
            putc_unlocked('"', f);
        if (c == '\n' || c == '\r' || c == '\0')
            c = ' ';
        putc_unlocked(c, f);
    }
    putc_unlocked('"', f);
}

static void on_record(const struct lp_record *r, void *arg)
{
    struct out *o = arg;
    FILE *f = o->f;
    char iso[MONI_ISO_LEN], labels[512];
    o->counts[r->kind]++;
    iso[0] = '\0';
    if (r->has_time)
        moni_fmt_iso(r->time_ns, iso, sizeof iso);
    size_t tlen = r->text_len > 2000 ? 2000 : r->text_len;
    if (o->fmt == FMT_JSONL) {
        write_jsonl(o, r, iso, tlen);
        return;
    }
    labels[0] = '\0';
    if (r->labels)
        lp_labels_format(r->labels, ",", labels, sizeof labels);
    switch (o->fmt) {
    case FMT_JSONL:
        break;
    case FMT_CSV:
        put_csv_str(f, o->file, strlen(o->file));
        fprintf(f, ",%llu,%s,%s,%s,%s,%s,\"%s\",\"", (unsigned long long)r->line_no, iso, r->rule_id,
                lp_kind_name(r->kind), r->event,
                r->kind == LP_KIND_EVENT ? lp_severity_name(r->severity) : "", labels);
        for (size_t i = 0; i < r->nfields; i++) {
            if (i)
                putc_unlocked(';', f);
            fputs_unlocked(r->fields[i].name, f);
            putc_unlocked('=', f);
            if (r->fields[i].is_num) {
                put_num(f, &r->fields[i], false);
            } else {
                for (const char *c = r->fields[i].text; *c; c++)
                    putc_unlocked(*c == '"' ? '\'' : (*c == ';' || *c == '\n') ? ' ' : *c, f);
            }
        }
        fputs_unlocked("\",", f);
        if (r->kind != LP_KIND_METRIC)
            put_csv_str(f, r->text, tlen);
        putc_unlocked('\n', f);
        break;
    case FMT_TEXT:
        fprintf(f, "%s:%llu%s%s %s %s", o->file, (unsigned long long)r->line_no, *iso ? " " : "",
                iso, lp_kind_name(r->kind), r->rule_id);
        if (*labels)
            fprintf(f, " [%s]", labels);
        for (size_t i = 0; i < r->nfields; i++) {
            fprintf(f, " %s=", r->fields[i].name);
            if (r->fields[i].is_num)
                put_num(f, &r->fields[i], false);
            else
                fputs_unlocked(r->fields[i].text, f);
        }
        if (r->kind != LP_KIND_METRIC) {
            fputs_unlocked(" | ", f);
            for (size_t i = 0; i < tlen; i++) {
                unsigned char c = (unsigned char)r->text[i];
                putc_unlocked(c < 0x20 ? '?' : c, f);
            }
        }
        putc_unlocked('\n', f);
        break;
    }
}

static int parse_fd(struct lp_parser *p, struct out *o, int fd, const char *name)
{
    static char buf[1 << 16];
    o->file = name;
    free(o->prefix);
    o->prefix = NULL;
    struct moni_jbuf pj = {0};
    MONI_JB_LIT(&pj, "{\"file\":");
    jb_str0(&pj, name);
    MONI_JB_LIT(&pj, ",\"line\":");
    if (pj.oom) {
        free(pj.b);
        moni_err("parse: out of memory");
        return -1;
    }
    o->prefix = pj.b;
    o->prefixlen = pj.n;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            jsonl_flush(o);
            moni_err("%s: %s", name, strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        lp_parser_feed(p, name, buf, (size_t)n, moni_now());
        jsonl_flush(o);
    }
    lp_parser_flush(p, name);
    jsonl_flush(o);
    return 0;
}

static int cmd_parse_exec(struct cmd_args *a)
{
    const char *rules_paths[64] = {0};
    size_t nrules = cmd_arg_list(a, "rules", rules_paths, MONI_ARRAY_LEN(rules_paths));
    enum fmt fmt = FMT_JSONL;
    bool list = cmd_flag(a, "list-patterns"), stats = cmd_flag(a, "stats");
    bool builtin = !cmd_flag(a, "no-builtin");
    const char *const *files = (const char *const *)a->pos;
    size_t nfiles = (size_t)a->npos;
    const char *v = cmd_arg(a, "format");
    if (!v || !strcmp(v, "jsonl") || !strcmp(v, "json")) {
        fmt = FMT_JSONL;
    } else if (!strcmp(v, "csv")) {
        fmt = FMT_CSV;
    } else if (!strcmp(v, "text")) {
        fmt = FMT_TEXT;
    } else {
        moni_err("parse: --format: '%s' is not one of jsonl, csv, text", v);
        return MONI_EXIT_USAGE;
    }
    char err[1024];
    struct lp_rules *rules = lp_rules_load(rules_paths, nrules,
                                           builtin ? LP_LOAD_BUILTIN | LP_LOAD_USER : 0, err,
                                           sizeof err);
    if (!rules) {
        moni_err("%s", err);
        return MONI_EXIT_USAGE;
    }
    if (list) { /* for the bench: the patterns, one a line */
        for (size_t i = 0; i < lp_rules_count(rules); i++)
            printf("%s\n", lp_rule_pattern(lp_rules_at(rules, i)));
        lp_rules_free(rules);
        return MONI_EXIT_OK;
    }
    if (!nfiles) {
        cmd_usage_error(a, "missing FILE");
        lp_rules_free(rules);
        return MONI_EXIT_USAGE;
    }
    static char obuf[1 << 16];
    /* JSON lines come in blocks of o.jb: a stdio buffer would only copy them again */
    if (fmt == FMT_JSONL)
        setvbuf(stdout, NULL, _IONBF, 0);
    else
        setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (fmt == FMT_CSV)
        printf("file,line,time,rule,kind,event,severity,labels,fields,text\n");
    struct moni_jbuf jb = {0};
    struct out o = {.f = stdout, .fmt = fmt, .jb = &jb,
                    .heads = calloc(HEAD_SLOTS, sizeof(struct head))};
    struct lp_parser *p = lp_parser_new(rules, on_record, &o);
    if (!p) {
        moni_err("parse: out of memory");
        lp_rules_free(rules);
        return MONI_EXIT_FAIL;
    }
    int rc = MONI_EXIT_OK;
    int64_t t0 = moni_mono_ns();
    for (size_t i = 0; i < nfiles; i++) {
        if (!strcmp(files[i], "-")) {
            if (parse_fd(p, &o, 0, "-") < 0)
                rc = MONI_EXIT_USAGE;
            continue;
        }
        int fd = open(files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            moni_err("%s: %s", files[i], strerror(errno));
            rc = MONI_EXIT_USAGE;
            continue;
        }
        if (parse_fd(p, &o, fd, files[i]) < 0)
            rc = MONI_EXIT_USAGE;
        close(fd);
    }
    fflush(stdout);
    if (stats) {
        const struct lp_state *st = lp_parser_state(p);
        double dt = (double)(moni_mono_ns() - t0) / 1e9;
        fprintf(stderr,
                "lines %llu  metrics %llu  events %llu  phases %llu  unclassified %llu  "
                "truncated %llu  %.3f s  %.0f lines/s\n",
                (unsigned long long)st->lines, (unsigned long long)o.counts[LP_KIND_METRIC],
                (unsigned long long)o.counts[LP_KIND_EVENT],
                (unsigned long long)o.counts[LP_KIND_PHASE], (unsigned long long)st->unclassified,
                (unsigned long long)st->truncated_lines, dt, dt > 0 ? (double)st->lines / dt : 0);
    }
    lp_parser_free(p);
    lp_rules_free(rules);
    free(o.prefix);
    for (size_t i = 0; o.heads && i < HEAD_SLOTS; i++)
        free(o.heads[i].b);
    free(o.heads);
    free(jb.b);
    if (jb.oom && rc == MONI_EXIT_OK) {
        moni_err("parse: out of memory: some records were cut");
        rc = MONI_EXIT_FAIL;
    }
    if (ferror(stdout) && rc == MONI_EXIT_OK)
        rc = MONI_EXIT_FAIL;
    return rc;
}

static const struct cmd_opt parse_opts[] = {
    {"rules", 0, "PATH", 64, "an extra rule pack (file or directory)"},
    {"no-builtin", 0, NULL, 0, "only the --rules packs, not the shipped or the user's"},
    {"format", 0, "jsonl|csv|text", 0, "output format (default jsonl)"},
    {"stats", 0, NULL, 0, "counts and speed on standard error at the end"},
    {"list-patterns", 0, NULL, 0, "print the rules' patterns, one a line, and exit"},
    {0},
};

const struct cmd_entry cmd_parse_entry = {
    .name = "parse",
    .usage = "parse [--rules PATH]... [--no-builtin] [--format jsonl|csv|text] [--stats] FILE...|-",
    .summary = "turn log lines into metrics and events",
    .args = {.opts = parse_opts, .max_pos = 256, .pos_name = "FILE"},
    .exec = cmd_parse_exec,
};
