/* Unit tests for plans: a valid plan (defaults, overrides that replace or append
 * workload arguments, quick overrides, repeat, priorities, triggers) and malformed
 * plans refused with "FILE:LINE: field: what". */
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

static char path[PATH_MAX];

static void write_plan(const char *text)
{
    snprintf(path, sizeof path, "%s/moni-plan-XXXXXX.json",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static const char *good =
    "{\n"
    "  \"name\": \"t\",\n"
    "  \"defaults\": {\"workload\": [\"moni-train\", \"--lr\", \"0.01\", \"--no-progress\"],\n"
    "               \"interval\": \"500ms\", \"duration\": \"2m\", \"cooldown\": \"5s\"},\n"
    "  \"quick\": {\"duration\": \"20s\", \"args\": [\"--max-steps\", \"50\"]},\n"
    "  \"queue\": {\"jobs\": 2, \"retries\": 3, \"backoff\": \"1s\",\n"
    "            \"gate\": {\"cpu\": \"80%\", \"mem\": 70, \"disk\": \"95%\"}},\n"
    "  \"experiments\": [\n"
    "    {\"name\": \"baseline\", \"priority\": 5},\n"
    "    {\"name\": \"nan\", \"args\": [\"--lr\", \"10\"], \"repeat\": 3},\n"
    "    {\"name\": \"flat\", \"args\": [\"--lr\", 1e-9], \"global\": \"non_convergence\",\n"
    "     \"root_cause\": \"lr_too_small\", \"expected_failure_stage\": \"train\"},\n"
    "    {\"name\": \"cpu\", \"faults\": [\n"
    "      {\"kind\": \"cpu\", \"params\": {\"workers\": 2, \"load\": \"95%\"}, \"at\": \"10s\",\n"
    "       \"for\": \"30s\", \"root_cause\": \"cpu_contention\"},\n"
    "      {\"kind\": \"kill\", \"when\": {\"event\": \"checkpoint_save\"}, \"delay\": \"2s\"},\n"
    "      {\"kind\": \"knob\", \"params\": \"lr=10\", \"at\": 5}\n"
    "    ], \"quick\": {\"duration\": \"15s\"}}\n"
    "  ]\n"
    "}\n";

static void test_good_plan(void **state)
{
    (void)state;
    char err[512] = "";
    write_plan(good);
    struct plan *p = plan_load(path, false, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    assert_string_equal(p->name, "t");
    assert_int_equal(p->nexps, 4);
    assert_int_equal(p->queue.jobs, 2);
    assert_int_equal(p->queue.retries, 3);
    assert_true(p->queue.gate_cpu_pct == 80 && p->queue.gate_mem_pct == 70);
    const struct plan_experiment *b = &p->exps[0], *n = &p->exps[1], *f = &p->exps[2],
                                 *c = &p->exps[3];
    assert_int_equal(b->priority, 5);
    assert_int_equal(b->interval_ns, 500 * MONI_NS_PER_MS);
    assert_int_equal(b->duration_ns, 120 * MONI_NS_PER_SEC);
    assert_int_equal(b->cooldown_ns, 5 * MONI_NS_PER_SEC);
    /* --lr 10 replaces the default's value, nothing appended */
    assert_string_equal(n->argv[0], "moni-train");
    assert_string_equal(n->argv[1], "--lr");
    assert_string_equal(n->argv[2], "10");
    assert_string_equal(n->argv[3], "--no-progress");
    assert_null(n->argv[4]);
    assert_int_equal(n->repeat, 3);
    assert_string_equal(f->argv[2], "1e-09");
    assert_string_equal(f->global_label, "non_convergence");
    assert_string_equal(f->root_cause, "lr_too_small");
    assert_int_equal(c->nfaults, 3);
    assert_string_equal(c->faults[0].kind, "cpu");
    assert_string_equal(c->faults[0].params, "workers=2,load=95%");
    assert_true(c->faults[0].has_at);
    assert_int_equal(c->faults[0].at_ns, 10 * MONI_NS_PER_SEC);
    assert_int_equal(c->faults[0].for_ns, 30 * MONI_NS_PER_SEC);
    assert_string_equal(c->faults[0].root_cause, "cpu_contention");
    assert_string_equal(c->faults[1].when_event, "checkpoint_save");
    assert_int_equal(c->faults[1].delay_ns, 2 * MONI_NS_PER_SEC);
    assert_false(c->faults[1].has_at);
    assert_string_equal(c->faults[2].params, "lr=10");
    assert_int_equal(c->faults[2].at_ns, 5 * MONI_NS_PER_SEC);
    assert_int_equal(c->faults[2].line, 17);
    plan_free(p);

    /* quick: plan-level args appended, experiment-level duration wins */
    p = plan_load(path, true, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(p->exps[0].duration_ns, 20 * MONI_NS_PER_SEC);
    assert_int_equal(p->exps[3].duration_ns, 15 * MONI_NS_PER_SEC);
    assert_string_equal(p->exps[1].argv[4], "--max-steps");
    assert_string_equal(p->exps[1].argv[5], "50");
    plan_free(p);
    unlink(path);
}

/* Each bad plan must be refused with "PATH:LINE: FIELD: ..." */
static void expect_error(const char *text, int line, const char *field, const char *what)
{
    char err[512] = "", want[PATH_MAX + 64];
    write_plan(text);
    struct plan *p = plan_load(path, false, err, sizeof err);
    if (p)
        fail_msg("accepted: %s", text);
    snprintf(want, sizeof want, "%s:%d: %s: ", path, line, field);
    if (strncmp(err, want, strlen(want)) || !strstr(err, what))
        fail_msg("got '%s', want '%s...%s'", err, want, what);
    unlink(path);
}

static void test_bad_plans(void **state)
{
    (void)state;
    expect_error("{\"experiments\": [{\"name\": \"a\"}],\n \"bogus\": 1}", 2, "bogus", "unknown key");
    expect_error("{\"experiments\": [\n{\"name\": \"a\", \"repeat\": \"3\"}]}", 2, "repeat",
                 "integer");
    expect_error("{\"defaults\": {\n\"duration\": \"-5s\"}, \"experiments\": [{\"name\": \"a\"}]}",
                 2, "duration", "negative");
    expect_error("{\"experiments\": [{\"name\": \"a\",\n \"cooldown\": -1}]}", 2, "cooldown",
                 "negative");
    expect_error("{\"experiments\": [{\"name\": \"a\", \"faults\": [\n{\"kind\": \"frobnicate\"}]}]}",
                 2, "kind", "unknown fault kind");
    expect_error("{\"experiments\": [{\"name\": \"a\", \"faults\": [{\"kind\": \"cpu\",\n"
                 " \"params\": {\"load\": \"150%\"}}]}]}",
                 2, "params", "load");
    expect_error("{\"experiments\": [{\"name\": \"a\", \"faults\": [{\"kind\": \"cpu\",\n"
                 " \"when\": {\"rule\": \"no_such_rule_anywhere\"}}]}]}",
                 2, "rule", "no rule");
    expect_error("{\"experiments\": [{\"name\": \"a\", \"faults\": [{\"kind\": \"cpu\",\n"
                 " \"when\": {\"event\": \"no_such_event_anywhere\"}}]}]}",
                 2, "event", "no event");
    expect_error("{\"experiments\": [{\"name\": \"a\", \"faults\": [{\"kind\": \"cpu\",\n"
                 " \"at\": \"5s\", \"when\": {\"phase\": \"eval\"}}]}]}",
                 2, "at", "delay");
    expect_error("{\"experiments\": [{\"name\": \"a\"},\n {\"name\": \"a\"}]}", 2, "name",
                 "duplicate");
    expect_error("{\"experiments\": [{\"name\": \"a\", \"faults\": [{\"kind\": \"cpu\",\n"
                 " \"sometime\": \"5s\"}]}]}",
                 2, "sometime", "unknown key");
    expect_error("{\n\"experiments\": []}", 2, "experiments", "non-empty");
    expect_error("{\"experiments\": [{\"name\": \"a\",\n \"args\": [\"--x\", {}]}]}", 2, "args",
                 "strings");
    expect_error("{\"queue\": {\"gate\": {\n\"cpu\": \"120%\"}}, \"experiments\": [{\"name\": \"a\"}]}",
                 2, "cpu", "0..100");
}

static void test_syntax_error(void **state)
{
    (void)state;
    char err[512] = "";
    write_plan("{\"experiments\": [\n{\"name\": \"a\",}\n]}");
    assert_null(plan_load(path, false, err, sizeof err));
    assert_non_null(strstr(err, path));
    unlink(path);
    assert_null(plan_load("/nonexistent/plan.json", false, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/plan.json"));
}

/* {run_dir} in args, fault targets and parameters: the run's directory once it is
 * known, in a copy; the plan keeps the placeholder. */
static void test_run_dir_placeholder(void **state)
{
    (void)state;
    char err[512] = "";
    write_plan("{\"defaults\": {\"workload\": [\"moni-train\"]},\n"
               " \"experiments\": [{\"name\": \"e\",\n"
               " \"args\": [\"--output-dir\", \"{run_dir}/ck\", \"--tag\", \"{run_dir}:{run_dir}\"],\n"
               " \"faults\": [{\"kind\": \"fs\",\n"
               "   \"params\": {\"ops\": \"write\", \"error\": \"ENOSPC\"},\n"
               "   \"target\": \"path={run_dir}/ck\", \"at\": \"1s\"},\n"
               "  {\"kind\": \"kill\", \"at\": \"2s\"}]}]}\n");
    struct plan *p = plan_load(path, false, err, sizeof err);
    unlink(path);
    if (!p)
        fail_msg("%s", err);
    const struct plan_experiment *e = &p->exps[0];
    struct plan_experiment *x = plan_experiment_in(e, "/runs/a b");
    assert_non_null(x);
    assert_string_equal(x->argv[0], "moni-train");
    assert_string_equal(x->argv[1], "--output-dir");
    assert_string_equal(x->argv[2], "/runs/a b/ck");
    assert_string_equal(x->argv[4], "/runs/a b:/runs/a b");
    assert_null(x->argv[5]);
    assert_int_equal(x->nfaults, 2);
    assert_string_equal(x->faults[0].target, "path=/runs/a b/ck");
    assert_string_equal(x->faults[0].kind, "fs");
    assert_non_null(strstr(x->faults[0].params, "error=ENOSPC"));
    assert_null(x->faults[1].target); /* the workload */
    assert_true(x->faults[1].at_ns == 2 * MONI_NS_PER_SEC);
    assert_string_equal(e->argv[2], "{run_dir}/ck"); /* the plan is left as it was */
    assert_string_equal(e->faults[0].target, "path={run_dir}/ck");
    plan_experiment_in_free(x);
    plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plan),
        cmocka_unit_test(test_bad_plans),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_run_dir_placeholder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
