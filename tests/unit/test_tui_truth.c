/* Unit tests for what the console's model keeps true: the evaluation's progress bar
 * apart from training's, phases that end when training goes on, and the workload's
 * state read from its process (stopped, zombie, killed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "tui/tui.h"

static struct tui_model m;

static struct runner_train bar(const char *phase, double step, double max)
{
    return (struct runner_train){.step = step, .step_ok = true, .max_steps = max,
                                 .max_steps_ok = max > 0, .phase = phase, .tput_unit = "it/s",
                                 .loss = 0.5, .loss_ok = true};
}

static void loss_line(void) { m.loss_samples++; }

static void test_eval_apart(void **state)
{
    (void)state;
    tui_model_init(&m);
    struct runner_train st = bar("train", 20, 100);
    tui_model_train(&m, &st);
    assert_string_equal(m.phase, "train");
    assert_true(m.step == 20 && m.max_steps == 100);
    /* evaluating: its bar is the evaluation's */
    tui_model_phase(&m, "eval");
    st = bar("eval", 3, 7);
    tui_model_train(&m, &st);
    assert_string_equal(m.phase, "eval");
    assert_true(m.step == 20 && m.max_steps == 100);
    assert_true(m.eval_ok && m.eval_step == 3 && m.eval_max == 7);
    /* a checkpoint follows while the parser still holds the eval's 7/7 */
    tui_model_phase(&m, "checkpoint_save");
    st = bar("checkpoint_save", 7, 7);
    tui_model_train(&m, &st);
    assert_string_equal(m.phase, "checkpoint_save");
    assert_true(m.step == 20 && m.max_steps == 100);
    tui_model_free(&m);
}

static void test_phase_ends(void **state)
{
    (void)state;
    tui_model_init(&m);
    struct runner_train st = bar("train", 20, 100);
    tui_model_train(&m, &st);
    tui_model_phase(&m, "checkpoint_save");
    st = bar("checkpoint_save", 20, 100);
    for (int i = 0; i < 5; i++) /* nothing new: the checkpoint is still being saved */
        tui_model_train(&m, &st);
    assert_string_equal(m.phase, "checkpoint_save");
    loss_line(); /* training goes on: a loss line */
    tui_model_train(&m, &st);
    assert_string_equal(m.phase, "train");
    /* or the training bar moving on */
    tui_model_phase(&m, "checkpoint_save");
    assert_string_equal(m.phase, "checkpoint_save");
    st = bar("checkpoint_save", 21, 100);
    tui_model_train(&m, &st);
    assert_string_equal(m.phase, "train");
    /* a phase that does not end by itself stays */
    tui_model_phase(&m, "finished");
    loss_line();
    tui_model_train(&m, &(struct runner_train){.phase = "finished", .tput_unit = "it/s"});
    assert_string_equal(m.phase, "finished");
    tui_model_free(&m);
}

static void test_workload_state(void **state)
{
    (void)state;
    char b[96];
    struct tui_workload_state w = {.has_workload = true, .running = true, .pid = 42, .state = 'S'};
    tui_fmt_workload(b, sizeof b, &w);
    assert_string_equal(b, "running pid 42");
    w.state = 'T';
    tui_fmt_workload(b, sizeof b, &w);
    assert_non_null(strstr(b, "stopped pid 42"));
    assert_null(strstr(b, "running"));
    w.state = 'Z';
    tui_fmt_workload(b, sizeof b, &w);
    assert_non_null(strstr(b, "zombie pid 42"));
    w = (struct tui_workload_state){.has_workload = true, .ended = true, .exit_signal = SIGKILL};
    tui_fmt_workload(b, sizeof b, &w);
    assert_string_equal(b, "killed by SIGKILL");
    w = (struct tui_workload_state){.has_workload = true, .ended = true, .exit_code = 3};
    tui_fmt_workload(b, sizeof b, &w);
    assert_string_equal(b, "exited 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_apart),
        cmocka_unit_test(test_phase_ends),
        cmocka_unit_test(test_workload_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
