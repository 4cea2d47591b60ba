/* core/plan-schema.c — a plan's fixed schema (moni-plan(5) "schema"): the columns
 * every run of the plan writes into tse_matrix.csv, in that order, whatever the
 * machine can fill, so that runs on different machines have the same columns (a
 * column the machine cannot fill stays empty and is noted in meta.json).  Given in
 * the plan as an array of names, or as the name of a file relative to the plan: one
 * name per line or comma-separated, so the first line of a reference run's
 * tse_matrix.csv serves as is ("timestamp" and "is_anomaly" are skipped there; they
 * are always the first and the last column).  Every problem is "FILE:LINE: schema:
 * what" (exit 2). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/plan-int.h"

#define SCHEMA_MAX 4096 /* columns */
#define NAME_MAX_LEN 128

struct names {
    char **v;
    size_t n;
};

static void names_free(struct names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* NULL when name is a valid new column, else what is wrong with it. */
static const char *bad_name(const struct names *s, const char *name)
{
    size_t n = strlen(name);
    if (!n)
        return "an empty column name";
    if (n > NAME_MAX_LEN)
        return "a column name longer than 128 characters";
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == ',' || *p == '"' || (unsigned char)*p == 0x7f)
            return "a column name with a space, comma, quote or control character";
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], name))
            return "a column named twice";
    if (s->n == SCHEMA_MAX)
        return "more than 4096 columns";
    return NULL;
}

static int push(struct names *s, const char *name)
{
    char **v = realloc(s->v, (s->n + 2) * sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    if (!(v[s->n] = strdup(name)))
        return -1;
    v[++s->n] = NULL;
    return 0;
}

static int from_array(const struct moni_json *doc, const cJSON *arr, struct names *s, char *err,
                      size_t errlen)
{
    const cJSON *it;
    size_t k = 0;
    cJSON_ArrayForEach(it, arr)
    {
        k++;
        int line = moni_json_line(doc, it);
        if (line <= 0)
            line = moni_json_line(doc, arr);
        const char *why = !cJSON_IsString(it) ? "not a string"
                          : !strcmp(it->valuestring, "timestamp") ||
                                  !strcmp(it->valuestring, "is_anomaly")
                              ? "timestamp and is_anomaly are always there: leave them out"
                              : bad_name(s, it->valuestring);
        if (why) {
            snprintf(err, errlen, "%s:%d: schema: item %zu: %s", doc->name, line, k, why);
            return -1;
        }
        if (push(s, it->valuestring) < 0)
            return snprintf(err, errlen, "out of memory"), -1;
    }
    return 0;
}

/* The file named by the plan, relative to the plan's directory. */
static int from_file(const char *plan_path, const char *name, struct names *s, char *err,
                     size_t errlen)
{
    char path[PATH_MAX];
    const char *slash = strrchr(plan_path, '/');
    if (name[0] == '/' || !slash)
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - plan_path), plan_path, name);
    char *text = moni_read_input(path, MONI_INPUT_MAX, NULL, err, errlen);
    if (!text)
        return -1;
    int line = 0, rc = 0;
    for (char *l = text, *next; l && *l && rc == 0; l = next) {
        line++;
        next = strchr(l, '\n');
        if (next)
            *next++ = '\0';
        size_t n = strlen(l);
        if (n && l[n - 1] == '\r')
            l[--n] = '\0';
        if (l[strspn(l, " \t")] == '#')
            continue;
        for (char *s2 = NULL, *f = strtok_r(l, ",", &s2); f && rc == 0; f = strtok_r(NULL, ",", &s2)) {
            while (*f == ' ' || *f == '\t')
                f++;
            size_t m = strlen(f);
            while (m && (f[m - 1] == ' ' || f[m - 1] == '\t'))
                f[--m] = '\0';
            if (!m || !strcmp(f, "timestamp") || !strcmp(f, "is_anomaly"))
                continue;
            const char *why = bad_name(s, f);
            if (why)
                rc = (snprintf(err, errlen, "%s:%d: schema: '%.60s': %s", path, line, f, why), -1);
            else if (push(s, f) < 0)
                rc = (snprintf(err, errlen, "out of memory"), -1);
        }
    }
    free(text);
    if (rc == 0 && !s->n) {
        snprintf(err, errlen, "%s:1: schema: no column names in the file", path);
        rc = -1;
    }
    return rc;
}

int plan_schema_parse(const struct moni_json *doc, const cJSON *item, const char *plan_path,
                      char ***out, char *err, size_t errlen)
{
    struct names s = {0};
    int rc;
    if (cJSON_IsArray(item) && cJSON_GetArraySize(item) > 0) {
        rc = from_array(doc, item, &s, err, errlen);
    } else if (cJSON_IsString(item) && item->valuestring[0]) {
        rc = from_file(plan_path, item->valuestring, &s, err, errlen);
    } else {
        moni_json_errf(doc, item, err, errlen,
                       "must be a non-empty array of column names or a schema file name");
        rc = -1;
    }
    if (rc < 0) {
        names_free(&s);
        return -1;
    }
    *out = s.v;
    return 0;
}

void plan_schema_free(char **schema)
{
    for (size_t i = 0; schema && schema[i]; i++)
        free(schema[i]);
    free(schema);
}
