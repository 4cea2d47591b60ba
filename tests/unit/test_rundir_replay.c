/* Unit test: the console's replay reads a run directory through core/rundir, so an
 * old journal (state/id/parameters spellings, no label_kind) and records without
 * mono_ns replay like new ones: fault rows, the kill as a point on the timeline, the
 * cpu window closed by its stop, and the operator's mark. */
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

#include "tui/tui.h"
#include "tests/unit/fixture-rundir.h"

/* fx_dir opened as the console's replay would (the test fails when it cannot be). */
static struct tui_replay *open_replay(struct tui_model *m)
{
    tui_model_init(m);
    char err[512];
    struct tui_replay *r = tui_replay_open(fx_dir, false, m, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    return r;
}

static void test_old_journal_replays(void **state)
{
    (void)state;
    /* wall = mono + 1795599800 s */
    fx_put("samples.csv", "timestamp,mono_ns,cpu_pct\n"
                          "2026-11-25T10:00:00.000Z,1000000000000,10\n"
                          "2026-11-25T10:00:01.000Z,1001000000000,90\n"
                          "2026-11-25T10:00:02.000Z,1002000000000,90\n"
                          "2026-11-25T10:00:03.000Z,1003000000000,10\n"
                          "2026-11-25T10:00:04.000Z,1004000000000,");
    fx_put("faults.jsonl",
        "{\"timestamp\":\"2026-11-25T10:00:00.500Z\",\"state\":\"armed\",\"id\":\"f1\",\"kind\":\"cpu\","
        "\"parameters\":{\"load\":\"90%\"}}\n"
        "{\"timestamp\":\"2026-11-25T10:00:01.000Z\",\"transition\":\"fired\",\"id\":\"f1\","
        "\"kind\":\"cpu\",\"parameters\":{\"load\":\"90%\"},\"requested\":90}\n"
        "{\"timestamp\":\"2026-11-25T10:00:02.500Z\",\"state\":\"stopped\",\"id\":\"f1\",\"kind\":\"cpu\","
        "\"parameters\":{\"load\":\"90%\"}}\n"
        "{\"timestamp\":\"2026-11-25T10:00:03.000Z\",\"state\":\"fired\",\"id\":\"f2\",\"kind\":\"kill\"}\n");
    fx_put("marks.jsonl", "{\"timestamp\":\"2026-11-25T10:00:02.000Z\",\"mono_ns\":1002000000000,"
                          "\"note\":\"spike\"}\n");
    struct tui_model m;
    struct tui_replay *r = open_replay(&m);
    tui_replay_advance(r, 10);
    assert_int_equal(m.nfaults, 2);
    assert_string_equal(m.faults[0].kind, "cpu");
    assert_int_equal(m.faults[0].state, TUI_F_STOPPED);
    assert_string_equal(m.faults[0].params, "load=90%");
    /* the requested dose read from the old "requested" spelling, in the row's compact form */
    assert_true(!strncmp(m.faults[0].dose, "90", 2));
    assert_string_equal(m.faults[1].kind, "kill");
    bool window = false, kill = false, mark = false;
    for (size_t i = 0; i < m.ntl; i++) {
        const struct tui_tl_item *t = &m.tl[i];
        if (t->kind == TUI_TL_FAULT && !strcmp(t->label, "cpu"))
            window = t->start_mono == 1001000000000LL && t->end_mono == 1002500000000LL;
        if (t->kind == TUI_TL_KILL && !strcmp(t->label, "kill"))
            kill = t->start_mono == 1003000000000LL;
        if (t->kind == TUI_TL_MARK && !strcmp(t->label, "spike"))
            mark = t->start_mono == 1002000000000LL;
    }
    assert_true(window);
    assert_true(kill);
    assert_true(mark);
    tui_replay_close(r);
    tui_model_free(&m);
}

/* A recording whose length in ns does not survive / 1e9 * 1e9 (16.033177774 s): the
 * replay must still reach its end, at the duration and on the clock past it. */
static void test_replay_reaches_its_end(void **state)
{
    (void)state;
    fx_put("samples.csv", "timestamp,mono_ns,cpu_pct\n"
                          "2026-11-25T10:00:00.000Z,1000000000000,10\n"
                          "2026-11-25T10:00:16.033Z,1016033177774,20\n");
    struct tui_model m;
    struct tui_replay *r = open_replay(&m);
    double d = tui_replay_duration(r);
    assert_true(d > 16.03 && d < 16.04);
    assert_false(tui_replay_advance(r, d / 2));
    assert_true(tui_replay_advance(r, d));
    assert_false(tui_replay_tick(r, 5000000000000LL)); /* the clock starts at 0 here... */
    assert_true(tui_replay_tick(r, 5000000000000LL + 17000000000LL)); /* ...and 17 s on */
    tui_replay_close(r);
    tui_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_RUNDIR_TEST(test_old_journal_replays),
        FX_RUNDIR_TEST(test_replay_reaches_its_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
