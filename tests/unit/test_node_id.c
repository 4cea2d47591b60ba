/* Unit tests for a node's place in a cluster job (core/node-id.c) and the routing of
 * cluster faults (core/cluster-fault.c): the SLURM_* environment read, the hostname
 * fallback, --out patterns, Slurm node lists and which node holds which rank, and a
 * plan's "nodes"/"ranks" checked against the job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

/* A fake environment: NAME=VALUE strings, NULL-terminated. */
static const char *fake_get(const char *name, void *arg)
{
    size_t n = strlen(name);
    for (const char *const *e = arg; *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static const char *const job_env[] = {
    "SLURM_JOB_ID=4242", "SLURM_STEP_ID=0", "SLURMD_NODENAME=gpu02", "SLURM_PROCID=3",
    "SLURM_LOCALID=1", "SLURM_NTASKS=6", "SLURM_STEP_NODELIST=gpu[01-03]",
    "SLURM_STEP_TASKS_PER_NODE=2(x3)", NULL};

static void test_identity_slurm(void **state)
{
    (void)state;
    struct node_identity id;
    node_identity_from(&id, fake_get, (void *)job_env);
    assert_true(id.slurm);
    assert_string_equal(id.job_id, "4242");
    assert_string_equal(id.step_id, "0");
    assert_string_equal(id.node, "gpu02");
    assert_int_equal(id.rank, 3);
    assert_int_equal(id.local_rank, 1);
    assert_int_equal(id.ntasks, 6);
    cJSON *j = node_identity_json(&id);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "source")->valuestring, "slurm");
    assert_string_equal(cJSON_GetObjectItem(j, "job_id")->valuestring, "4242");
    assert_int_equal(cJSON_GetObjectItem(j, "rank")->valueint, 3);
    assert_non_null(cJSON_GetObjectItem(j, "clock"));
    cJSON_Delete(j);
}

static void test_identity_host(void **state)
{
    (void)state;
    static const char *const none[] = {"SLURM_PROCID=oops", NULL};
    struct node_identity id;
    node_identity_from(&id, fake_get, (void *)none);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    assert_false(id.slurm);
    assert_string_equal(id.node, host);
    assert_int_equal(id.rank, 0); /* malformed: the default */
    assert_int_equal(id.ntasks, 1);
    cJSON *j = node_identity_json(&id);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "job_id")));
    cJSON_Delete(j);
}

static void test_clock(void **state)
{
    (void)state;
    struct node_clock c;
    node_clock_read(&c); /* read-only adjtimex works unprivileged */
    assert_true(c.valid);
    assert_true(c.maxerror_s >= 0);
}

static void test_expand_out(void **state)
{
    (void)state;
    struct node_identity id;
    node_identity_from(&id, fake_get, (void *)job_env);
    char out[64], err[256];
    assert_int_equal(node_expand_out("runs/%j/%n-%t%%", &id, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "runs/4242/gpu02-3%");
    assert_int_equal(node_expand_out("plain", &id, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "plain");
    assert_int_equal(node_expand_out("runs/%x", &id, out, sizeof out, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown '%x'"));
    assert_int_equal(node_expand_out("runs/%", &id, out, sizeof out, err, sizeof err), -1);
    assert_int_equal(node_expand_out("a-long-directory-name-that-will-not-fit/%n/%n/%n/%n/%n", &id, out,
                                     sizeof out, err, sizeof err), -1);
    assert_true(node_out_has_pattern("x/%n"));
    assert_false(node_out_has_pattern("x/%%n"));
}

static void test_node_list(void **state)
{
    (void)state;
    char **v;
    size_t n;
    assert_int_equal(node_list_expand("n[1-3,07],login,gpu[09-10]x", &v, &n), 0);
    assert_int_equal(n, 7);
    const char *want[] = {"n1", "n2", "n3", "n07", "login", "gpu09x", "gpu10x"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i], want[i]);
    node_list_free(v, n);
    assert_int_equal(node_list_expand("n[3-1]", &v, &n), -1);
    assert_int_equal(node_list_expand("n[1-2", &v, &n), -1);
}

static void test_rank_to_node(void **state)
{
    (void)state;
    struct node_identity id;
    node_identity_from(&id, fake_get, (void *)job_env);
    char node[64];
    assert_int_equal(node_of_rank(&id, 0, node, sizeof node), 0);
    assert_string_equal(node, "gpu01");
    assert_int_equal(node_of_rank(&id, 3, node, sizeof node), 0);
    assert_string_equal(node, "gpu02");
    assert_int_equal(node_of_rank(&id, 5, node, sizeof node), 0);
    assert_string_equal(node, "gpu03");
    assert_int_equal(node_of_rank(&id, 6, node, sizeof node), -1);
    assert_int_equal(node_first_rank(&id, "gpu03"), 4);
    assert_int_equal(node_first_rank(&id, "gpu04"), -1);
    /* uneven: "2,1" */
    static const char *const uneven[] = {"SLURM_JOB_ID=1", "SLURM_NTASKS=3",
                                         "SLURM_JOB_NODELIST=a,b", "SLURM_TASKS_PER_NODE=2,1", NULL};
    node_identity_from(&id, fake_get, (void *)uneven);
    assert_int_equal(node_of_rank(&id, 1, node, sizeof node), 0);
    assert_string_equal(node, "a");
    assert_int_equal(node_of_rank(&id, 2, node, sizeof node), 0);
    assert_string_equal(node, "b");
}

static char path[PATH_MAX];

static struct plan *load(const char *faults, char *err, size_t errlen)
{
    snprintf(path, sizeof path, "%s/moni-cl-XXXXXX.json", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "{\"name\": \"c\", \"defaults\": {\"workload\": [\"sleep\", \"1\"]},\n"
                     " \"experiments\": [{\"name\": \"e\", \"faults\": [\n%s\n]}]}\n", faults);
    assert_int_equal(write(fd, text, (size_t)n), n);
    close(fd);
    struct plan *p = plan_load(path, false, err, errlen);
    unlink(path);
    return p;
}

static void test_plan_routing(void **state)
{
    (void)state;
    char err[512] = "";
    struct plan *p = load("{\"kind\": \"stop\", \"for\": \"1s\", \"ranks\": [0, 4]},\n"
                          "{\"kind\": \"stop\", \"for\": \"1s\", \"nodes\": [\"gpu02\"]},\n"
                          "{\"kind\": \"stop\", \"for\": \"1s\"}",
                          err, sizeof err);
    assert_non_null(p);
    const struct plan_experiment *e = &p->exps[0];
    assert_int_equal(e->faults[0].nranks, 2);
    assert_int_equal(e->faults[0].ranks[1], 4);
    assert_int_equal(e->faults[1].nnodes, 1);
    assert_string_equal(e->faults[1].nodes[0], "gpu02");
    struct node_identity id;
    node_identity_from(&id, fake_get, (void *)job_env); /* rank 3 on gpu02 */
    assert_false(cluster_fault_here(&e->faults[0], &id));
    assert_false(cluster_fault_here(&e->faults[1], &id)); /* named, but rank 0 sends it */
    assert_true(cluster_fault_here(&e->faults[2], &id));
    id.rank = 0;
    assert_true(cluster_fault_here(&e->faults[0], &id));
    assert_int_equal(cluster_faults_check(e, "P", &id, err, sizeof err), 0);
    id.ntasks = 4; /* rank 4 is no longer in the job */
    assert_int_equal(cluster_faults_check(e, "P", &id, err, sizeof err), -1);
    assert_string_equal(err, "P:3: ranks: rank 4 is not in this job (4 tasks)");
    plan_free(p);

    p = load("{\"kind\": \"stop\", \"for\": 1,\n \"ranks\": [1,\n 1]}", err, sizeof err);
    assert_null(p);
    assert_non_null(strstr(err, ":5: ranks: [1]: named twice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_slurm), cmocka_unit_test(test_identity_host),
        cmocka_unit_test(test_clock),          cmocka_unit_test(test_expand_out),
        cmocka_unit_test(test_node_list),      cmocka_unit_test(test_rank_to_node),
        cmocka_unit_test(test_plan_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
