/* Unit tests for logparse rule packs: every built-in rule's own positive and
 * negative test lines, the prefilter index, and the errors of bad packs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "logparse/lp-int.h"
#include "lp-test.h"

static void test_builtin_rule_lines(void **state)
{
    (void)state;
    struct lp_rules *rs = lpt_builtin();
    assert_non_null(rs);
    assert_true(lp_rules_count(rs) >= 40);
    uint64_t cand[16];
    assert_true(rs->nwords <= 16);
    size_t nlines = 0;
    for (size_t i = 0; i < lp_rules_count(rs); i++) {
        const struct lp_rule *r = lp_rules_at(rs, i);
        /* the issue asks for positive AND negative lines for every rule */
        if (lp_rule_ntests(r, 0) == 0 || lp_rule_ntests(r, 1) == 0)
            fail_msg("rule %s lacks match or nomatch test lines", lp_rule_id(r));
        for (size_t k = 0; k < lp_rule_ntests(r, 0); k++) {
            const char *line = lp_rule_test(r, 0, k);
            if (!lp_rule_matches(r, line, strlen(line)))
                fail_msg("rule %s does not match its test line: %s", lp_rule_id(r), line);
            /* the prefilter must let the rule be tried on its own lines */
            lp_rules_candidates(rs, line, strlen(line), cand);
            if (!(cand[i / 64] & (1ull << (i % 64))))
                fail_msg("rule %s: prefilter rejects its test line: %s", lp_rule_id(r), line);
            nlines++;
        }
        for (size_t k = 0; k < lp_rule_ntests(r, 1); k++) {
            const char *line = lp_rule_test(r, 1, k);
            if (lp_rule_matches(r, line, strlen(line)))
                fail_msg("rule %s matches its negative line: %s", lp_rule_id(r), line);
            nlines++;
        }
    }
    assert_true(nlines > 150);
    lp_rules_free(rs);
}

/* Every label of the vocabulary is used by some built-in rule, and the phases too. */
static void test_builtin_coverage(void **state)
{
    (void)state;
    struct lp_rules *rs = lpt_builtin();
    assert_non_null(rs);
    uint32_t labels = 0;
    bool phase[LP_NPHASES] = {0};
    bool kinds[3] = {0};
    for (size_t i = 0; i < lp_rules_count(rs); i++) {
        const struct lp_rule *r = lp_rules_at(rs, i);
        labels |= lp_rule_labels(r);
        kinds[lp_rule_kind(r)] = true;
        if (lp_rule_kind(r) == LP_KIND_PHASE && *lp_rule_event(r))
            phase[lp_phase_from_name(lp_rule_event(r))] = true;
    }
    for (int l = 0; l < LP_NLABELS; l++)
        if (!(labels & LP_LABEL_BIT(l)))
            fail_msg("label %s is used by no rule", lp_label_name(l));
    assert_true(kinds[0] && kinds[1] && kinds[2]);
    assert_true(phase[LP_PHASE_STARTUP] && phase[LP_PHASE_TRAIN] && phase[LP_PHASE_EVAL] &&
                phase[LP_PHASE_CKPT_SAVE] && phase[LP_PHASE_CKPT_LOAD] &&
                phase[LP_PHASE_FINISHED]);
    assert_non_null(lp_rules_find(rs, "unclassified"));
    lp_rules_free(rs);
}

static void test_vocabulary(void **state)
{
    (void)state;
    assert_string_equal(lp_label_name(LP_LABEL_CUDA_OOM), "CUDA_OutOfMemory");
    assert_string_equal(lp_label_name(LP_LABEL_BATCH_MISMATCH), "Batch_Mismatch");
    assert_int_equal(lp_label_from_name("Cleanup_Failure"), LP_LABEL_CLEANUP_FAILURE);
    assert_int_equal(lp_label_from_name("nope"), -1);
    assert_int_equal(lp_phase_from_name("checkpoint_save"), LP_PHASE_CKPT_SAVE);
    assert_int_equal(lp_phase_from_name("training"), LP_PHASE_TRAIN);
    assert_string_equal(lp_phase_dataset_name(LP_PHASE_CKPT_LOAD), "checkpoint");
    char buf[128];
    assert_string_equal(lp_labels_format(LP_LABEL_BIT(LP_LABEL_HOST_OOM) |
                                             LP_LABEL_BIT(LP_LABEL_PROCESS_KILLED),
                                         ",", buf, sizeof buf),
                        "Host_OOM,Process_Killed");
}

/* Loads a pack from text; returns 0/-1 and the message. */
static int load_text(const char *text, char *err, size_t errlen)
{
    struct lp_rules *rs = lp_rules_new();
    int rc = lp_rules_add_text(rs, "user.json", text, strlen(text), err, errlen);
    if (rc == 0)
        rc = lp_rules_finish(rs, err, errlen);
    lp_rules_free(rs);
    return rc;
}

static void test_bad_packs(void **state)
{
    (void)state;
    char err[1024];
    /* a PCRE2 error names file, line, rule, PCRE2's message and the offset */
    assert_int_equal(load_text("{\"rules\": [\n"
                               "  {\"id\": \"ok\", \"kind\": \"event\", \"pattern\": \"x\"},\n"
                               "  {\"id\": \"broken\", \"kind\": \"event\",\n"
                               "   \"pattern\": \"abc(def\"}\n]}",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "user.json:4:"));
    assert_non_null(strstr(err, "rule broken"));
    assert_non_null(strstr(err, "missing closing parenthesis"));
    assert_non_null(strstr(err, "offset 7"));
    /* JSON syntax error */
    assert_int_equal(load_text("{\"rules\": [\n{\"id\": \"a\",,}]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "user.json:2"));
    /* unknown label, unknown key, wrong kind, duplicate id, missing pattern */
    assert_int_equal(load_text("{\"rules\": [{\"id\": \"a\", \"kind\": \"event\", \"pattern\": "
                               "\"x\", \"labels\": [\"GPU_Melted\"]}]}",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "GPU_Melted"));
    assert_non_null(strstr(err, "rule a"));
    assert_int_equal(load_text("{\"rules\": [{\"id\": \"a\", \"kind\": \"event\", \"pattern\": "
                               "\"x\", \"colour\": \"red\"}]}",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "colour"));
    assert_int_equal(load_text("{\"rules\": [{\"id\": \"a\", \"kind\": \"alarm\", \"pattern\": \"x\"}]}",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "kind"));
    assert_int_equal(load_text("{\"rules\": [{\"id\": \"a\", \"kind\": \"event\", \"pattern\": \"x\"},"
                               "{\"id\": \"a\", \"kind\": \"event\", \"pattern\": \"y\"}]}",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "duplicate"));
    assert_int_equal(load_text("{\"rules\": [{\"id\": \"a\", \"kind\": \"event\"}]}", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "pattern"));
    assert_int_equal(load_text("{\"rules\": [{\"id\": \"p\", \"kind\": \"phase\", \"event\": "
                               "\"lunch\", \"pattern\": \"x\"}]}",
                               err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "lunch"));
    assert_int_equal(load_text("[1, 2]", err, sizeof err), -1);
    assert_int_equal(load_text("{\"rules\": []}", err, sizeof err), 0);
}

static void test_override_and_priority(void **state)
{
    (void)state;
    char err[512];
    struct lp_rules *rs = lp_rules_new();
    const char *a = "{\"rules\": [{\"id\": \"oom\", \"kind\": \"event\", "
                    "\"pattern\": \"out of memory\", \"labels\": [\"Host_OOM\"]},"
                    "{\"id\": \"any\", \"kind\": \"event\", \"pattern\": \"memory\"}]}";
    assert_int_equal(lp_rules_add_text(rs, "a.json", a, strlen(a), err, sizeof err), 0);
    /* same id in a later pack replaces; priority puts a rule first */
    const char *b = "{\"rules\": [{\"id\": \"oom\", \"kind\": \"event\", \"pattern\": \"out of "
                    "memory\", \"labels\": [\"CUDA_OutOfMemory\"]},"
                    "{\"id\": \"first\", \"kind\": \"event\", \"priority\": 10, \"pattern\": \"of\"}]}";
    assert_int_equal(lp_rules_add_text(rs, "b.json", b, strlen(b), err, sizeof err), 0);
    assert_int_equal(lp_rules_finish(rs, err, sizeof err), 0);
    assert_int_equal(lp_rules_count(rs), 3);
    assert_int_equal(lp_rule_labels(lp_rules_find(rs, "oom")), LP_LABEL_BIT(LP_LABEL_CUDA_OOM));
    struct lp_recset set;
    lpt_parse(rs, "x", "out of memory\n", 0, &set);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.v[0].rule_id, "first");
    lp_recset_free(&set);
    lp_rules_free(rs);
}

static void test_load_dirs(void **state)
{
    (void)state;
    char dir[] = "/tmp/lp-rules-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/extra.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"name\": \"extra\", \"rules\": [{\"id\": \"my_rule\", \"kind\": \"event\", "
          "\"pattern\": \"flux capacitor\", \"labels\": [\"GPU_Hardware\"],"
          " \"prefilter\": \"flux\"}]}\n",
          f);
    fclose(f);
    /* XDG user packs are picked up with LP_LOAD_USER */
    char xdg[256], udir[300];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    snprintf(udir, sizeof udir, "%s/moni/rules", xdg);
    assert_int_equal(moni_mkdir_p(udir, 0755), 0);
    snprintf(path, sizeof path, "%s/u.json", udir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"rules\": [{\"id\": \"user_rule\", \"kind\": \"event\", \"pattern\": \"zzz\"}]}", f);
    fclose(f);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    const char *paths[] = {dir};
    struct lp_rules *rs = lp_rules_load(paths, 1, LP_LOAD_USER, err, sizeof err);
    assert_non_null(rs);
    assert_non_null(lp_rules_find(rs, "my_rule"));
    assert_non_null(lp_rules_find(rs, "user_rule"));
    lp_rules_free(rs);
    /* a broken user pack is refused with its name */
    f = fopen(path, "w");
    fputs("{\"rules\": [{\"id\": \"user_rule\", \"kind\": \"event\", \"pattern\": \"(?<\"}]}", f);
    fclose(f);
    rs = lp_rules_load(paths, 1, LP_LOAD_USER, err, sizeof err);
    assert_null(rs);
    assert_non_null(strstr(err, "u.json:1: rule user_rule: pattern:"));
    assert_non_null(strstr(err, "offset"));
    unsetenv("XDG_CONFIG_HOME");
    const char *missing[] = {"/nonexistent/pack.json"};
    assert_null(lp_rules_load(missing, 1, 0, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/pack.json"));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "%s/xdg/moni/rules/u.json", dir);
    unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/extra.json", dir);
    unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/xdg/moni/rules", dir);
    rmdir(cmd);
    snprintf(cmd, sizeof cmd, "%s/xdg/moni", dir);
    rmdir(cmd);
    snprintf(cmd, sizeof cmd, "%s/xdg", dir);
    rmdir(cmd);
    rmdir(dir);
}

/* Bounded prefilter literals: "\bacc" only where a word starts, "nan\b" only where
 * one ends, "\b500\b" only as a whole number; both ends of the line count as
 * non-word bytes, and a literal may also end at a suffix of another one. */
static bool candidate(const struct lp_rules *rs, const char *id, const char *line)
{
    uint64_t cand[4] = {0};
    lp_rules_candidates(rs, line, strlen(line), cand);
    size_t i = lp_rules_find(rs, id)->index;
    return cand[i / 64] >> (i % 64) & 1;
}

static void test_bounded_prefilter(void **state)
{
    (void)state;
    const char *pack =
        "{\"rules\": ["
        "{\"id\": \"acc\", \"kind\": \"event\", \"pattern\": \"x\", \"prefilter\": \"\\\\bacc\"},"
        "{\"id\": \"nan\", \"kind\": \"event\", \"pattern\": \"x\", \"prefilter\": [\"NaN\\\\b\", \"infinite\"]},"
        "{\"id\": \"n500\", \"kind\": \"event\", \"pattern\": \"x\", \"prefilter\": \"\\\\b500\\\\b\"},"
        "{\"id\": \"plain\", \"kind\": \"event\", \"pattern\": \"x\", \"prefilter\": \"an\"}]}";
    char err[512];
    struct lp_rules *rs = lp_rules_new();
    assert_int_equal(lp_rules_add_text(rs, "b.json", pack, strlen(pack), err, sizeof err), 0);
    assert_int_equal(lp_rules_finish(rs, err, sizeof err), 0);
    assert_true(candidate(rs, "acc", "acc=0.9"));
    assert_true(candidate(rs, "acc", "val Accuracy: 0.9"));
    assert_true(candidate(rs, "acc", "real_accelerator acc"));
    assert_false(candidate(rs, "acc", "real_accelerator.py get_accelerator"));
    assert_true(candidate(rs, "nan", "loss: nan"));
    assert_true(candidate(rs, "nan", "loss=NaN, step 3"));
    assert_true(candidate(rs, "nan", "loss is infinite"));
    assert_false(candidate(rs, "nan", "took 3 nanoseconds"));
    assert_true(candidate(rs, "n500", "500"));
    assert_true(candidate(rs, "n500", "HTTP 500 error"));
    assert_false(candidate(rs, "n500", "4500/100000"));
    assert_false(candidate(rs, "n500", "5000 steps"));
    /* a plain literal that is a suffix of a bounded one still counts everywhere */
    assert_true(candidate(rs, "plain", "nanoseconds"));
    lp_rules_free(rs);
    /* a literal that is only a boundary mark is empty */
    const char *bad = "{\"rules\": [{\"id\": \"e\", \"kind\": \"event\", \"pattern\": \"x\","
                      " \"prefilter\": \"\\\\b\"}]}";
    rs = lp_rules_new();
    assert_int_equal(lp_rules_add_text(rs, "e.json", bad, strlen(bad), err, sizeof err), -1);
    assert_non_null(strstr(err, "must not be empty"));
    lp_rules_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_rule_lines),
        cmocka_unit_test(test_builtin_coverage),
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_bad_packs),
        cmocka_unit_test(test_override_and_priority),
        cmocka_unit_test(test_load_dirs),
        cmocka_unit_test(test_bounded_prefilter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
