/* Unit tests for the process pane's and the raw log view's pure logic: the sort
 * orders, the filter, who moni may signal (never itself, its guardian or its
 * injectors: its own children other than the workload), progress-bar lines and
 * the key their redraws share, and the raw lines' times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

static struct tui_proc proc(int pid, double cpu, double rss, int thr, const char *cmd)
{
    struct tui_proc p = {.pid = pid, .cpu_pct = cpu, .rss_bytes = rss, .threads = thr, .state = 'S'};
    snprintf(p.cmd, sizeof p.cmd, "%s", cmd);
    snprintf(p.comm, sizeof p.comm, "%.15s", cmd);
    return p;
}

static enum tui_proc_sort key;
static int cmp(const void *a, const void *b) { return tui_proc_cmp(a, b, key); }

static void order(struct tui_proc *v, size_t n, enum tui_proc_sort k, const int *want)
{
    key = k;
    qsort(v, n, sizeof *v, cmp);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].pid, want[i]);
}

static void test_sort_keys(void **state)
{
    (void)state;
    struct tui_proc v[4] = {
        proc(30, 5.0, 1e6, 2, "python3 train.py"), proc(10, 50.0, 3e6, 1, "cc1 -quiet"),
        proc(20, 5.0, 2e9, 8, "Btop"), proc(40, 0.0, 5e5, 8, "awk"),
    };
    order(v, 4, TUI_PS_CPU, (const int[]){10, 20, 30, 40}); /* ties: lower pid first */
    order(v, 4, TUI_PS_RSS, (const int[]){20, 10, 30, 40});
    order(v, 4, TUI_PS_THREADS, (const int[]){20, 40, 30, 10});
    order(v, 4, TUI_PS_PID, (const int[]){10, 20, 30, 40});
    order(v, 4, TUI_PS_COMMAND, (const int[]){40, 20, 10, 30}); /* case-insensitive */
    for (int k = 0; k < TUI_PS_N; k++)
        assert_string_not_equal(tui_proc_sort_name(k), "?");
    assert_string_equal(tui_proc_sort_name(TUI_PS_N), "?");
}

static void test_filter(void **state)
{
    (void)state;
    struct tui_proc p = proc(1234, 1, 1, 1, "/usr/bin/moni-train --threads 1");
    assert_true(tui_proc_matches(&p, ""));
    assert_true(tui_proc_matches(&p, NULL));
    assert_true(tui_proc_matches(&p, "MONI-TRAIN"));
    assert_true(tui_proc_matches(&p, "1234"));
    assert_false(tui_proc_matches(&p, "123")); /* a pid matches whole */
    assert_false(tui_proc_matches(&p, "htop"));
    p.cmd[0] = 0; /* a kernel thread: its comm */
    snprintf(p.comm, sizeof p.comm, "kworker/0:1");
    assert_true(tui_proc_matches(&p, "kworker"));
}

static void test_may_signal(void **state)
{
    (void)state;
    const char *why = NULL;
    int self = 100, root = 101;
    assert_true(tui_proc_may_signal(root, self, self, true, &why)); /* the workload's root */
    assert_null(why);
    assert_true(tui_proc_may_signal(205, root, self, true, &why)); /* its child */
    assert_true(tui_proc_may_signal(999, 1, self, false, &why));   /* another process */
    assert_false(tui_proc_may_signal(self, 1, self, false, &why)); /* moni */
    assert_non_null(strstr(why, "moni itself"));
    assert_false(tui_proc_may_signal(102, self, self, false, &why)); /* guardian, injector */
    assert_non_null(strstr(why, "guardian"));
    assert_false(tui_proc_may_signal(1, 0, self, false, &why));
    assert_false(tui_proc_may_signal(0, 0, self, false, &why));
    /* moni itself even if it were listed in the tree */
    assert_false(tui_proc_may_signal(self, 1, self, true, &why));
}

static void test_bar_key(void **state)
{
    (void)state;
    char a[64], b[64];
    assert_true(tui_line_bar_key(" 20%|██        | 20/100 [00:01<00:04, 10.00it/s]", a, sizeof a));
    assert_true(tui_line_bar_key(" 21%|██▏       | 21/100 [00:02<00:04, 10.00it/s]", b, sizeof b));
    assert_string_equal(a, b); /* one bar, redrawn */
    assert_string_equal(a, "/100");
    /* the evaluation's bar (another total) is another bar */
    assert_true(tui_line_bar_key(" 43%|████▎     | 3/7 [00:00<00:00, 116.85it/s]", b, sizeof b));
    assert_string_not_equal(a, b);
    /* a description is part of the key */
    assert_true(tui_line_bar_key("Epoch 1:  42%|####  | 42/100 [00:01<00:02]", a, sizeof a));
    assert_string_equal(a, "Epoch 1/100");
    assert_true(tui_line_bar_key("Epoch 2:  42%|####  | 42/100 [00:01<00:02]", b, sizeof b));
    assert_string_not_equal(a, b);
    assert_true(tui_line_bar_key("100%|##########| 10/10 [00:10<00:00, 1.00it/s]", a, sizeof a));
    /* Keras */
    assert_true(tui_line_bar_key(" 3/10 [=====>........] - ETA: 1s - loss: 0.5", a, sizeof a));
    assert_string_equal(a, "keras/10");
    /* not bars */
    assert_false(tui_line_bar_key("{'loss': 0.69, 'epoch': 0.1}", a, sizeof a));
    assert_false(tui_line_bar_key("GPU at 95%|busy", a, sizeof a));
    assert_false(tui_line_bar_key("step 3/10 [done]", a, sizeof a));
    assert_false(tui_line_bar_key("", a, sizeof a));
    assert_false(tui_line_bar_key(NULL, a, sizeof a));
}

static void test_line_stamp(void **state)
{
    (void)state;
    struct tui_model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    tui_model_init(m);
    tui_model_line_stamp(m, 5); /* no line yet: nothing happens */
    tui_model_line(m, 1, 1, "a", 1);
    tui_model_line_stamp(m, 1000);
    tui_model_line(m, 2, 1, "b", 1);
    assert_int_equal(tui_model_line_at(m, 0)->real_ns, 1000);
    assert_int_equal(tui_model_line_at(m, 1)->real_ns, 0); /* not stamped */
    for (int i = 0; i < TUI_MAX_LINES; i++) { /* the ring reuses slots: no stale time */
        tui_model_line(m, 3 + (uint64_t)i, 1, "c", 1);
        tui_model_line_stamp(m, 7);
    }
    tui_model_line(m, 99999, 1, "d", 1);
    assert_int_equal(tui_model_line_at(m, m->nlines - 1)->real_ns, 0);
    tui_model_free(m);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_keys), cmocka_unit_test(test_filter),
        cmocka_unit_test(test_may_signal), cmocka_unit_test(test_bar_key),
        cmocka_unit_test(test_line_stamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
