/* Unit tests for the console's screen and keys, drawn into an ncurses screen whose
 * output goes to /dev/null: panes show values and "-" for missing ones, "no GPU:
 * reason", NaN loss; the keymap opens the help, the arm form (with inline
 * validation), the quit dialog, mark and filter prompts; too-small message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fixture-curses.h"
#include "tui/tui.h"

static struct tui_model model;
static struct tui ui;

/* Mock actions: record what the console asked for. */
static char armed_kind[32], armed_vals[256], marked[128];
static int quits, fires;

static size_t mock_params(void *ctx, const char *kind, struct tui_param *out, size_t max)
{
    (void)ctx;
    if (!strcmp(kind, "mem")) { /* a long form (net has 18 fields) */
        size_t n = max < 18 ? max : 18;
        for (size_t i = 0; i < n; i++) {
            out[i] = (struct tui_param){"", "", "0", "a field"};
            snprintf(out[i].name, sizeof out[i].name, i + 1 == n ? "lastfield" : "field%zu", i);
        }
        return n;
    }
    if (max < 2)
        return 0;
    out[0] = (struct tui_param){"load", "%", "95%", "duty cycle"};
    out[1] = (struct tui_param){"workers", "", "1", "burners"};
    return 2;
}

static int mock_validate(void *ctx, const char *kind, const char *key, const char *value, char *err,
                         size_t errlen)
{
    (void)ctx;
    (void)kind;
    if (!strcmp(key, "load") && atof(value) > 100) {
        snprintf(err, errlen, "load=%s: must be 0..100%%", value);
        return -1;
    }
    return 0;
}

static int mock_arm(void *ctx, const char *kind, const char *const *keys, const char *const *values,
                    size_t n, char *err, size_t errlen)
{
    (void)ctx;
    (void)err;
    (void)errlen;
    snprintf(armed_kind, sizeof armed_kind, "%s", kind);
    armed_vals[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(armed_vals + strlen(armed_vals), sizeof armed_vals - strlen(armed_vals), "%s=%s ",
                 keys[i], values[i]);
    return 0;
}

static int mock_fire(void *ctx, const char *kind, char *err, size_t errlen)
{
    (void)ctx;
    (void)kind;
    (void)err;
    (void)errlen;
    fires++;
    return 0;
}

static int mock_mark(void *ctx, const char *note, char *err, size_t errlen)
{
    (void)ctx;
    (void)err;
    (void)errlen;
    snprintf(marked, sizeof marked, "%s", note);
    return 0;
}

static void mock_quit(void *ctx)
{
    (void)ctx;
    quits++;
}

static int setup(void **state)
{
    (void)state;
    if (fx_curses_open(24, 80) < 0)
        return -1;
    tui_model_init(&model);
    memset(&ui, 0, sizeof ui);
    ui.m = &model;
    ui.lines = 24;
    ui.cols = 80;
    ui.focus = TUI_P_FAULTS;
    ui.active = true;
    ui.act = (struct tui_actions){.params = mock_params, .validate = mock_validate, .arm = mock_arm,
                                  .fire = mock_fire, .mark = mock_mark, .quit = mock_quit};
    tui_theme_builtin(&ui.theme);
    tui_theme_apply(&ui.theme, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_curses_close();
    tui_model_free(&model);
    return 0;
}

/* The screen's text (ASCII part; wide glyphs come out as bytes we do not check). */
static char screen[24 * 1100 + 1];
static const char *grab(void)
{
    char *p = screen;
    for (int y = 0; y < ui.lines && y < 24; y++) {
        char row[1024];
        mvinnstr(y, 0, row, 1000);
        p += sprintf(p, "%.1000s\n", row);
    }
    return screen;
}

static void fill_model(void)
{
    struct frame f;
    frame_init(&f);
    int c_cpu = frame_add(&f, "cpu_pct", "", METRIC_GAUGE);
    frame_add(&f, "cpu_user_pct", "", METRIC_GAUGE);
    int c_mu = frame_add(&f, "mem_used_bytes", "", METRIC_GAUGE);
    int c_mt = frame_add(&f, "mem_total_bytes", "", METRIC_GAUGE);
    int c_rd = frame_add(&f, "disk_read_Bps", "", METRIC_GAUGE);
    frame_add(&f, "net_rx_Bps", "", METRIC_GAUGE); /* left missing */
    for (int i = 0; i < 5; i++) {
        frame_clear(&f);
        frame_set(&f, c_cpu, 42.5);
        frame_set(&f, c_mu, 1024.0 * 1024 * 1024);
        frame_set(&f, c_mt, 4.0 * 1024 * 1024 * 1024);
        frame_set(&f, c_rd, 2.0 * 1024 * 1024);
        f.t = (struct moni_stamp){(int64_t)(i + 1) * MONI_NS_PER_SEC, 1795643610LL * MONI_NS_PER_SEC};
        tui_model_sample(&model, &f);
    }
    frame_free(&f);
    model.start_mono = MONI_NS_PER_SEC;
    snprintf(model.run_id, sizeof model.run_id, "run-test");
    snprintf(model.gpu_reason, sizeof model.gpu_reason, "NVML: libnvidia-ml.so.1: not found");
    model.loss = NAN;
    model.loss_ok = true;
    model.nfaults = 2;
    snprintf(model.faults[0].kind, sizeof model.faults[0].kind, "cpu");
    snprintf(model.faults[1].kind, sizeof model.faults[1].kind, "mem");
    model.faults[0].elapsed_ns = model.faults[0].remaining_ns = -1;
    model.faults[1].elapsed_ns = model.faults[1].remaining_ns = -1;
    struct tui_event e = {.real_ns = 1795643610LL * MONI_NS_PER_SEC, .sev = TUI_SEV_ERROR};
    snprintf(e.rule, sizeof e.rule, "cuda_oom");
    snprintf(e.labels, sizeof e.labels, "CUDA_OutOfMemory");
    snprintf(e.text, sizeof e.text, "CUDA out of memory. Tried to allocate 2.00 GiB");
    tui_model_event(&model, &e);
}

static void test_panes(void **state)
{
    (void)state;
    fill_model();
    tui_draw(&ui);
    const char *s = grab();
    assert_non_null(strstr(s, "run-test"));
    assert_non_null(strstr(s, "42.5%"));          /* CPU bar */
    assert_non_null(strstr(s, "1.0G/4.0G"));      /* memory */
    assert_non_null(strstr(s, "no GPU: NVML"));   /* the reason, never zeros */
    /* one line, in the GPU pane's title: the CPU pane takes the rest */
    assert_int_equal(ui.rect[TUI_P_GPU].h, 1);
    assert_int_equal(ui.rect[TUI_P_CPU].y, ui.rect[TUI_P_GPU].y + 1);
    assert_non_null(strstr(s, "loss NaN"));       /* NaN shown as such */
    assert_non_null(strstr(s, "disk rd   2.0M")); /* compact I/O at 80x24 */
    assert_non_null(strstr(s, "net rx       -"));  /* missing is "-", not 0 */
    assert_non_null(strstr(s, "cuda_oom [CUDA_OutOfMemory]"));
    assert_non_null(strstr(s, ">1 cpu"));         /* selected fault row */
    /* blind replay hides the labels and the faults */
    model.blind = true;
    tui_draw(&ui);
    s = grab();
    assert_null(strstr(s, "CUDA_OutOfMemory]"));
    assert_non_null(strstr(s, "hidden (blind replay)"));
    model.blind = false;
}

static void test_keys(void **state)
{
    (void)state;
    tui_key(&ui, '?');
    tui_draw(&ui);
    assert_non_null(strstr(grab(), "moni keys"));
    tui_key(&ui, 'x'); /* any key closes */
    assert_int_equal(ui.overlay, TUI_O_NONE);
    /* digits select a fault, j/k move */
    tui_key(&ui, '2');
    assert_int_equal(ui.fault_sel, 1);
    tui_key(&ui, 'k');
    assert_int_equal(ui.fault_sel, 0);
    /* arm form: empty fields show the defaults (not given), inline validation,
     * then arm with only what was typed */
    tui_key(&ui, 'a');
    assert_int_equal(ui.overlay, TUI_O_FORM);
    assert_string_equal(ui.form.val[0], "");
    tui_draw(&ui);
    assert_non_null(strstr(grab(), "95%"));
    tui_key(&ui, '1');
    tui_key(&ui, '5');
    tui_key(&ui, '0');
    tui_draw(&ui);
    assert_non_null(strstr(grab(), "must be 0..100%"));
    tui_key(&ui, '\r');
    assert_int_equal(ui.overlay, TUI_O_FORM); /* refused */
    tui_key(&ui, KEY_BACKSPACE);
    tui_key(&ui, KEY_BACKSPACE);
    tui_key(&ui, '\r');
    assert_int_equal(ui.overlay, TUI_O_NONE);
    assert_string_equal(armed_kind, "cpu");
    assert_string_equal(armed_vals, "load=1 ");
    tui_key(&ui, 'f');
    assert_int_equal(fires, 1);
    /* mark */
    tui_key(&ui, 'm');
    for (const char *p = "loss spike"; *p; p++)
        tui_key(&ui, *p);
    tui_key(&ui, '\r');
    assert_string_equal(marked, "loss spike");
    /* filter hides non-matching events */
    tui_key(&ui, '/');
    for (const char *p = "nomatch"; *p; p++)
        tui_key(&ui, *p);
    tui_key(&ui, '\r');
    tui_draw(&ui);
    assert_non_null(strstr(grab(), "no event matches the filter"));
    tui_key(&ui, 27);
    assert_string_equal(ui.filter, "");
    /* quit asks while faults are active */
    model.active_faults = 1;
    tui_key(&ui, 'q');
    assert_int_equal(ui.overlay, TUI_O_CONFIRM_QUIT);
    tui_draw(&ui);
    assert_non_null(strstr(grab(), "1 fault is still active"));
    tui_key(&ui, 'n');
    assert_int_equal(quits, 0);
    tui_key(&ui, 'q');
    tui_key(&ui, 'y');
    assert_int_equal(quits, 1);
    model.active_faults = 0;
    ui.quitting = false;
    /* pause freezes the graphs' offset */
    tui_key(&ui, 'p');
    assert_true(ui.paused);
    tui_key(&ui, 'p');
    assert_false(ui.paused);
}

/* A form longer than the screen scrolls: every field is reachable (the net form's
 * port, direction and window were cut off at 12 fields). */
static void test_long_form(void **state)
{
    (void)state;
    tui_key(&ui, '2');
    tui_key(&ui, 'a');
    assert_int_equal(ui.overlay, TUI_O_FORM);
    assert_int_equal(ui.form.n, 18);
    tui_draw(&ui);
    const char *s = grab();
    assert_non_null(strstr(s, "arm mem: fields 1-"));
    assert_null(strstr(s, "lastfield"));
    for (int i = 0; i < 17; i++)
        tui_key(&ui, KEY_DOWN);
    tui_draw(&ui);
    s = grab();
    assert_non_null(strstr(s, "lastfield"));
    assert_non_null(strstr(s, "-18 of 18"));
    tui_key(&ui, '7');
    tui_key(&ui, KEY_PPAGE);
    tui_key(&ui, KEY_PPAGE);
    assert_int_equal(ui.form.cur, 0);
    tui_draw(&ui);
    assert_non_null(strstr(grab(), "field0"));
    tui_key(&ui, '\r');
    assert_int_equal(ui.overlay, TUI_O_NONE);
    assert_string_equal(armed_kind, "mem");
    assert_string_equal(armed_vals, "lastfield=7 ");
}

/* A firing fault's row shows its dose (requested->delivered) even in a narrow pane,
 * before the long parameter list. */
static void test_fault_row(void **state)
{
    (void)state;
    struct tui_fault_row *f = &model.faults[0];
    f->state = TUI_F_FIRING;
    snprintf(f->dose, sizeof f->dose, "95%%->93%%");
    snprintf(f->params, sizeof f->params, "workers=2 load=95%% cpus=0-3 mode=duty period=100ms");
    f->elapsed_ns = 5 * MONI_NS_PER_SEC;
    f->remaining_ns = 25 * MONI_NS_PER_SEC;
    model.version++;
    tui_draw(&ui);
    const char *s = grab();
    assert_non_null(strstr(s, "1 cpu        firing  95%->93% 00:05"));
    f->state = TUI_F_IDLE;
    f->dose[0] = f->params[0] = 0;
    f->elapsed_ns = f->remaining_ns = -1;
}

/* A replay counts a stage's age and a worker's silence on the recording's clock, not
 * the wall clock: a stage logged at 20 s and replayed at 25 s is 5 s old whenever it
 * is replayed. */
static void test_replay_quiet(void **state)
{
    (void)state;
    struct runner_stage st = {.step = 7, .since_mono = 20 * MONI_NS_PER_SEC};
    snprintf(st.stage, sizeof st.stage, "rollout");
    struct runner_worker w = {.lines = 4, .last_line_mono = 3 * MONI_NS_PER_SEC};
    snprintf(w.name, sizeof w.name, "rollout_worker_1");
    model.replay = true;
    model.now_mono = 25 * MONI_NS_PER_SEC;
    tui_model_workers(&model, &st, &w, 1, model.now_mono);
    model.version++;
    tui_draw(&ui);
    const char *s = grab();
    /* at 80x24 the pane has room for its stage line only; the worker's row is the
     * same clock's (its state says so) */
    assert_non_null(strstr(s, "stage=rollout (for 5s)"));
    assert_int_equal(model.workers[0].state, TUI_W_QUIET);
    tui_model_workers(&model, NULL, NULL, 0, model.now_mono);
    model.replay = false;
}

static void test_too_small(void **state)
{
    (void)state;
    ui.lines = 20;
    ui.cols = 70;
    tui_draw(&ui);
    ui.lines = 24;
    ui.cols = 80;
    char row[128];
    mvinnstr(10, 0, row, 79);
    assert_non_null(strstr(row, "terminal too small: 70x20"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panes),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_long_form),
        cmocka_unit_test(test_fault_row),
        cmocka_unit_test(test_replay_quiet),
        cmocka_unit_test(test_too_small),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
