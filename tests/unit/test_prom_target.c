/* tests/unit/test_prom_target.c — cluster identity and the Prometheus file_sd target
 * (core/prom-target.c, issue 21): where job_id/node/rank come from, that every
 * exported series carries them in a job (and none outside one), the %j/%n/%r
 * expansion of the target path, and the target file itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/exporter-int.h"

static void clear_env(void)
{
    const char *vars[] = {"MONI_JOB_ID", "MONI_NODE", "MONI_RANK", "SLURM_JOB_ID",
                          "SLURMD_NODENAME", "SLURM_PROCID"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
    prom_set_sd_file(NULL);
}

static void test_identity(void **state)
{
    (void)state;
    struct prom_identity id;
    clear_env();
    prom_identity_read(&id);
    assert_false(id.in_job);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    assert_string_equal(id.node, host);
    setenv("SLURM_JOB_ID", "1234", 1);
    setenv("SLURMD_NODENAME", "gpu07", 1);
    setenv("SLURM_PROCID", "3", 1);
    prom_identity_read(&id);
    assert_true(id.in_job);
    assert_string_equal(id.job_id, "1234");
    assert_string_equal(id.node, "gpu07");
    assert_string_equal(id.rank, "3");
    setenv("MONI_NODE", "n\"x", 1); /* the override wins, and is escaped below */
    setenv("MONI_JOB_ID", "", 1);  /* empty = not set */
    prom_identity_read(&id);
    assert_string_equal(id.node, "n\"x");
    assert_string_equal(id.job_id, "1234");
    char labels[320];
    expo_identity_labels(&id, labels, sizeof labels);
    assert_string_equal(labels, "job_id=\"1234\",node=\"n\\\"x\",rank=\"3\"");
    clear_env();
    prom_set_sd_file("/x/sd.json"); /* a target file alone makes it a job */
    prom_identity_read(&id);
    assert_true(id.in_job);
    assert_string_equal(id.job_id, "");
    expo_identity_labels(&id, labels, sizeof labels);
    assert_null(strstr(labels, "job_id")); /* empty labels are left out */
    assert_non_null(strstr(labels, "node=\""));
    clear_env();
}

static void test_render_labels(void **state)
{
    (void)state;
    static struct frame f;
    frame_init(&f);
    frame_set(&f, frame_add(&f, "gpu0_util_pct", "GPU", METRIC_GAUGE), 50);
    frame_set(&f, frame_add(&f, "cpu_pct", "CPU", METRIC_GAUGE), 20);
    f.seq = 3;
    f.t = moni_now();
    struct moni_train_metric train[] = {{"loss", 0.5, 0}};
    struct exporter_extra x = {.train = train, .ntrain = 1};
    struct expo_plan *p = expo_plan_new();
    size_t len;
    const char *ident = "job_id=\"9\",node=\"a\",rank=\"0\"";
    char *t = expo_render(p, &f, &x, ident, &len);
    assert_non_null(t);
    const char *want[] = {
        "moni_gpu_utilization_ratio{gpu=\"0\",job_id=\"9\",node=\"a\",rank=\"0\"} 0.5\n",
        "moni_cpu_usage_ratio{job_id=\"9\",node=\"a\",rank=\"0\"} 0.2\n",
        "moni_training_loss{job_id=\"9\",node=\"a\",rank=\"0\"} 0.5\n",
        "moni_samples_total{job_id=\"9\",node=\"a\",rank=\"0\"} 3\n",
        "moni_build_info{version=\"" MONI_VERSION "\",job_id=\"9\",node=\"a\",rank=\"0\"} 1\n",
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(want); i++)
        if (!strstr(t, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], t);
    free(t);
    t = expo_render(p, &f, &x, "", &len); /* outside a job: as before */
    assert_non_null(strstr(t, "moni_cpu_usage_ratio 0.2\n"));
    assert_null(strstr(t, "node="));
    free(t);
    expo_plan_free(p);
    frame_free(&f);
}

static void test_sd_file(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/moni-prom-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chdir(dir), 0);
    struct prom_identity id = {.job_id = "77", .node = "n2", .rank = "1", .in_job = true};
    char out[512];
    assert_int_equal(prom_sd_expand("sd-%j-%n-%r-%%-%x.json", &id, out, sizeof out), 0);
    assert_string_equal(out, "sd-77-n2-1-%-%x.json");
    mkdir("targets", 0755);
    assert_int_equal(prom_sd_expand("targets", &id, out, sizeof out), 0);
    assert_string_equal(out, "targets/moni-77-n2-1.json");
    assert_int_equal(prom_sd_expand("%n%n%n%n", &id, out, 6), -1); /* too long */
    char err[256];
    assert_int_equal(prom_sd_write("targets/t.json", "10.0.0.2:9400", &id, err, sizeof err), 0);
    FILE *fp = fopen("targets/t.json", "r");
    assert_non_null(fp);
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    assert_true(cJSON_IsArray(j));
    cJSON *g = cJSON_GetArrayItem(j, 0);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(g, "targets"), 0)->valuestring,
                        "10.0.0.2:9400");
    cJSON *l = cJSON_GetObjectItem(g, "labels");
    assert_string_equal(cJSON_GetObjectItem(l, "job_id")->valuestring, "77");
    assert_string_equal(cJSON_GetObjectItem(l, "node")->valuestring, "n2");
    assert_string_equal(cJSON_GetObjectItem(l, "rank")->valuestring, "1");
    cJSON_Delete(j);
    /* no temporary left behind; an unwritable place is one error naming the option */
    assert_int_equal(access("targets/t.json.tmp", F_OK), -1);
    assert_int_equal(prom_sd_write("no/such/dir/t.json", "x:1", &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "--prometheus-sd no/such/dir/t.json"));
    unlink("targets/t.json");
    rmdir("targets");
    assert_int_equal(chdir("/"), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_render_labels),
        cmocka_unit_test(test_sd_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
