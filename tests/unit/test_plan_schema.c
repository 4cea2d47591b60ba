/* Unit tests for a plan's fixed schema (core/plan-schema.c and the matrix writer):
 * the plan's "schema" as an array or a file (a tse_matrix.csv header works), bad
 * values reported as FILE:LINE: schema: ..., and two runs with different columns
 * (a machine with a GPU and a second disk, one without) writing the same matrix
 * columns, the missing ones empty and noted in meta.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "tests/unit/fixture-rundir.h"

static char *path_of(const char *name)
{
    static char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", fx_dir, name);
    return p;
}

static struct plan *load(const char *text, char *err, size_t len)
{
    fx_put("plan.json", text);
    return plan_load(path_of("plan.json"), false, err, len);
}

static void test_array(void **state)
{
    (void)state;
    char err[512] = "";
    struct plan *p = load("{\"name\": \"s\",\n \"schema\": [\"cpu_pct\", \"gpu0_util_pct\"],\n"
                          " \"experiments\": [{\"name\": \"baseline\"}, {\"name\": \"b2\"}]}\n",
                          err, sizeof err);
    assert_non_null(p);
    assert_non_null(p->schema);
    assert_string_equal(p->schema[0], "cpu_pct");
    assert_string_equal(p->schema[1], "gpu0_util_pct");
    assert_null(p->schema[2]);
    assert_ptr_equal(p->exps[0].schema, p->schema);
    assert_ptr_equal(p->exps[1].schema, p->schema);
    plan_free(p);
}

static void test_bad_values(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(load("{\"name\": \"s\",\n \"schema\": [\"cpu_pct\",\n  \"cpu_pct\"],\n"
                     " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err));
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s:3: schema: item 2: a column named twice", path_of("plan.json"));
    assert_string_equal(err, want);
    assert_null(load("{\"name\": \"s\",\n \"schema\": [\"timestamp\"],\n"
                     " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err));
    assert_non_null(strstr(err, "plan.json:2: schema: item 1: timestamp and is_anomaly"));
    assert_null(load("{\"name\": \"s\",\n \"schema\": [\"a b\"],\n"
                     " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err));
    assert_non_null(strstr(err, "plan.json:2: schema: item 1: a column name with a space"));
    assert_null(load("{\"name\": \"s\",\n \"schema\": 3,\n"
                     " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err));
    assert_non_null(strstr(err, "plan.json:2: schema: must be a non-empty array"));
    assert_null(load("{\"name\": \"s\",\n \"schema\": [],\n"
                     " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err));
    assert_non_null(strstr(err, "plan.json:2: schema: must be a non-empty array"));
    /* a file that is not there */
    assert_null(load("{\"name\": \"s\", \"schema\": \"nope.csv\",\n"
                     " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err));
    assert_non_null(strstr(err, "nope.csv"));
}

static void test_file(void **state)
{
    (void)state;
    char err[512] = "";
    /* a tse_matrix.csv header, a comment, a blank line, one more name */
    fx_put("schema.csv", "timestamp,cpu_pct,disk_read_Bps,is_anomaly\n# from host A\n\nloss\n");
    struct plan *p = load("{\"name\": \"s\", \"schema\": \"schema.csv\",\n"
                          " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err);
    assert_non_null(p);
    assert_string_equal(p->schema[0], "cpu_pct");
    assert_string_equal(p->schema[1], "disk_read_Bps");
    assert_string_equal(p->schema[2], "loss");
    assert_null(p->schema[3]);
    plan_free(p);
    fx_put("schema.csv", "cpu_pct\n\nmem\"x\n");
    assert_null(load("{\"name\": \"s\", \"schema\": \"schema.csv\",\n"
                     " \"experiments\": [{\"name\": \"baseline\"}]}\n", err, sizeof err));
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s:3: schema: 'mem\"x': a column name with a space, comma, quote "
             "or control character", path_of("schema.csv"));
    assert_string_equal(err, want);
}

/* One run's raw files: samples with the given columns (every value 1), meta.json
 * with the schema. */
static void fake_run(const char *name, const char *cols, const char *schema)
{
    char d[PATH_MAX + 64], buf[8192], ts[MONI_ISO_LEN];
    snprintf(d, sizeof d, "%s/%s", fx_dir, name);
    assert_int_equal(mkdir(d, 0755), 0);
    size_t n = (size_t)snprintf(buf, sizeof buf, "timestamp,mono_ns,%s\n", cols);
    size_t ncols = 1;
    for (const char *c = cols; *c; c++)
        ncols += *c == ',';
    for (int k = 0; k < 5; k++) {
        int64_t t = k * 1000000000LL + 200000000LL;
        moni_fmt_iso(REAL0 + t, ts, sizeof ts);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s,%lld", ts, (long long)(MONO0 + t));
        for (size_t c = 0; c < ncols; c++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, ",1");
        buf[n++] = '\n';
    }
    buf[n] = 0;
    char p[PATH_MAX + 96];
    snprintf(p, sizeof p, "%s/samples.csv", name);
    fx_put(p, buf);
    snprintf(buf, sizeof buf,
             "{\"interval_ns\": 1000000000, \"end\": \"x\", \"complete\": true, "
             "\"clock_offset_ns\": \"%lld\", \"dataset_schema\": %s}",
             REAL0 - MONO0, schema);
    snprintf(p, sizeof p, "%s/meta.json", name);
    fx_put(p, buf);
}

static char *first_line(const char *run, const char *file)
{
    char p[PATH_MAX + 96];
    snprintf(p, sizeof p, "%s/%s", run, file);
    char *t = moni_read_file(path_of(p), NULL);
    assert_non_null(t);
    char *nl = strchr(t, '\n');
    if (nl)
        *nl = 0;
    return t;
}

static void test_same_columns_on_two_machines(void **state)
{
    (void)state;
    const char *schema = "[\"cpu_pct\", \"gpu0_util_pct\", \"disk_vdb_busy_pct\"]";
    fake_run("a", "cpu_pct,gpu0_util_pct,disk_vdb_busy_pct,mem_used_bytes", schema);
    fake_run("b", "cpu_pct,net_rx_Bps", schema);
    char err[512];
    assert_int_equal(dataset_build(path_of("a"), NULL, NULL, err, sizeof err), 0);
    assert_int_equal(dataset_build(path_of("b"), NULL, NULL, err, sizeof err), 0);
    char *ha = first_line("a", "tse_matrix.csv"), *hb = first_line("b", "tse_matrix.csv");
    assert_string_equal(ha, "timestamp,cpu_pct,gpu0_util_pct,disk_vdb_busy_pct,is_anomaly");
    assert_string_equal(ha, hb);
    free(ha);
    free(hb);
    /* b's missing columns are empty cells, cpu_pct has its value */
    char *mb = moni_read_file(path_of("b/tse_matrix.csv"), NULL);
    assert_non_null(strstr(mb, ",1,,,0\n"));
    free(mb);
    struct rundir_meta m;
    assert_int_equal(rundir_meta_load(path_of("b"), &m, err, sizeof err), 0);
    cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(m.root, "dataset"), "schema");
    assert_non_null(s);
    char *empty = cJSON_PrintUnformatted(cJSON_GetObjectItem(s, "columns_empty"));
    assert_string_equal(empty, "[\"gpu0_util_pct\",\"disk_vdb_busy_pct\"]");
    free(empty);
    char *out = cJSON_PrintUnformatted(cJSON_GetObjectItem(s, "columns_not_in_schema"));
    assert_non_null(strstr(out, "net_rx_Bps"));
    free(out);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m.root, "dataset"), "columns")->valueint, 5);
    rundir_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_RUNDIR_TEST(test_array),
        FX_RUNDIR_TEST(test_bad_values),
        FX_RUNDIR_TEST(test_file),
        FX_RUNDIR_TEST(test_same_columns_on_two_machines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
