/* Unit tests for the console's `:` command line (tui/cmdline.c) and fault presets
 * (tui/presets.c): commands come from the key table (exact names, unique
 * prefixes, live-only ones refused in a replay), Tab completes commands and their
 * arguments (literal choices, fault kinds, preset names, files), an unknown command
 * gets a did-you-mean, a KIND argument selects the row before the action; presets
 * parse, round-trip through the file, and a bad file is one "FILE:LINE: field:"
 * line and is never overwritten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/tui.h"

static struct tui_model model;
static struct tui ui;
static char tmp[256];
static char fired_kind[32];
static char armed_kv[512];

static int mock_fire(void *ctx, const char *kind, char *err, size_t errlen)
{
    (void)ctx;
    (void)err;
    (void)errlen;
    snprintf(fired_kind, sizeof fired_kind, "%s", kind);
    return 0;
}

static int mock_arm(void *ctx, const char *kind, const char *const *keys, const char *const *values,
                    size_t n, char *err, size_t errlen)
{
    (void)ctx;
    (void)kind;
    (void)err;
    (void)errlen;
    armed_kv[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(armed_kv + strlen(armed_kv), sizeof armed_kv - strlen(armed_kv), "%s=%s;", keys[i],
                 values[i]);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "%s/moni-cmdline.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp))
        return -1;
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/config", tmp);
    setenv("XDG_CONFIG_HOME", cfg, 1);
    tui_model_init(&model);
    model.nfaults = 3;
    const char *kinds[] = {"cpu", "mem", "disk_fill"};
    for (int i = 0; i < 3; i++) {
        snprintf(model.faults[i].kind, sizeof model.faults[i].kind, "%s", kinds[i]);
        model.faults[i].elapsed_ns = model.faults[i].remaining_ns = -1;
    }
    memset(&ui, 0, sizeof ui);
    ui.m = &model;
    ui.lines = 40;
    ui.cols = 120;
    ui.focus = TUI_P_CPU;
    ui.act = (struct tui_actions){.fire = mock_fire, .arm = mock_arm};
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    if (nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) /* no shell, as in moni */
        return -1;
    free(ui.presets);
    tui_model_free(&model);
    return 0;
}

/* ---- the command line ------------------------------------------------------------- */

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(tui_cmd_distance("fire", "fire"), 0);
    assert_int_equal(tui_cmd_distance("fier", "fire"), 1); /* a transposition is one */
    assert_int_equal(tui_cmd_distance("fir", "fire"), 1);
    assert_int_equal(tui_cmd_distance("", "quit"), 4);
    assert_int_equal(tui_cmd_distance("panic", "pause"), 3);
}

static void test_find(void **state)
{
    (void)state;
    model.replay = false;
    const struct tui_keybind *b = tui_cmd_find(&ui, "fire", 4);
    assert_non_null(b);
    assert_int_equal(b->codes[0], 'f');
    assert_ptr_equal(tui_cmd_find(&ui, "qu", 2), NULL);        /* queue, quit: ambiguous */
    assert_ptr_equal(tui_cmd_find(&ui, "qui", 3), tui_cmd_find(&ui, "quit", 4));
    assert_ptr_equal(tui_cmd_find(&ui, "zzz", 3), NULL);
    /* every row with an action is found by its own name */
    for (size_t i = 0; i < tui_nkeys; i++)
        if (tui_keys[i].action)
            assert_ptr_equal(tui_cmd_find(&ui, tui_keys[i].cmd, strlen(tui_keys[i].cmd)), &tui_keys[i]);
}

static size_t cands(const char *line, char (*out)[TUI_CMD_MAXC], size_t *word)
{
    return tui_cmd_candidates(&ui, line, out, 64, word);
}

static void test_candidates(void **state)
{
    (void)state;
    char c[64][TUI_CMD_MAXC];
    size_t w;
    model.replay = false;
    size_t n = cands("pa", c, &w); /* panic, pause: sorted */
    assert_int_equal(n, 2);
    assert_string_equal(c[0], "panic");
    assert_string_equal(c[1], "pause");
    assert_int_equal(w, 0);
    n = cands(":fire ", c, &w); /* a KIND argument: the fault rows */
    assert_int_equal(n, 3);
    assert_string_equal(c[0], "cpu");
    assert_string_equal(c[2], "mem");
    assert_int_equal(w, 6);
    n = cands("fire d", c, &w);
    assert_int_equal(n, 1);
    assert_string_equal(c[0], "disk_fill");
    n = cands("preset s", c, &w); /* literal choices */
    assert_int_equal(n, 1);
    assert_string_equal(c[0], "save");
    n = cands("help ", c, &w); /* no argument: nothing */
    assert_int_equal(n, 0);
    /* a replay offers no live-only command */
    model.replay = true;
    n = cands("f", c, &w);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(c[i], "fire");
    assert_int_equal(cands("ab", c, &w), 0);
    model.replay = false;
}

static void test_complete(void **state)
{
    (void)state;
    char line[128], hint[240];
    snprintf(line, sizeof line, "pla");
    assert_int_equal(tui_cmd_complete(&ui, line, sizeof line, hint, sizeof hint), 1);
    assert_string_equal(line, "plan "); /* whole: the next word follows */
    /* files: one match completes, a directory keeps its '/', several give the prefix */
    char path[400];
    snprintf(path, sizeof path, "%s/plan-a.json", tmp);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/plan-b.json", tmp);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/plans", tmp);
    mkdir(path, 0755);
    snprintf(line, sizeof line, "plan %s/pl", tmp);
    assert_int_equal(tui_cmd_complete(&ui, line, sizeof line, hint, sizeof hint), 3);
    char want[400];
    snprintf(want, sizeof want, "plan %s/plan", tmp);
    assert_string_equal(line, want);
    assert_non_null(strstr(hint, "plan-a.json"));
    assert_non_null(strstr(hint, "plans/"));
    snprintf(line, sizeof line, "plan %s/plan-b", tmp);
    assert_int_equal(tui_cmd_complete(&ui, line, sizeof line, hint, sizeof hint), 1);
    snprintf(want, sizeof want, "plan %s/plan-b.json ", tmp);
    assert_string_equal(line, want);
    snprintf(line, sizeof line, "plan %s/plans", tmp);
    tui_cmd_complete(&ui, line, sizeof line, hint, sizeof hint);
    snprintf(want, sizeof want, "plan %s/plans/", tmp);
    assert_string_equal(line, want);
    snprintf(line, sizeof line, "xyz");
    assert_int_equal(tui_cmd_complete(&ui, line, sizeof line, hint, sizeof hint), 0);
    assert_string_equal(line, "xyz");
    assert_non_null(strstr(hint, "no completion"));
}

static void test_run(void **state)
{
    (void)state;
    model.replay = false;
    tui_cmd_run(&ui, "fier");
    assert_true(ui.status_error);
    assert_string_equal(ui.status, "unknown command \"fier\" (did you mean \"fire\"?)");
    tui_cmd_run(&ui, "qwertyuiop");
    assert_non_null(strstr(ui.status, "unknown command \"qwertyuiop\" (Tab lists"));
    tui_cmd_run(&ui, "select 2");
    assert_int_equal(ui.fault_sel, 1);
    tui_cmd_run(&ui, "select disk_fill"); /* a kind by name */
    assert_int_equal(ui.fault_sel, 2);
    fired_kind[0] = 0;
    tui_cmd_run(&ui, ":fire mem"); /* selects mem, then fires it */
    assert_string_equal(fired_kind, "mem");
    assert_int_equal(ui.fault_sel, 1);
    tui_cmd_run(&ui, "fire nosuch");
    assert_true(ui.status_error);
    assert_non_null(strstr(ui.status, "no fault kind \"nosuch\""));
    tui_cmd_run(&ui, "pause now");
    assert_non_null(strstr(ui.status, ":pause takes no argument"));
    assert_false(ui.paused);
    tui_cmd_run(&ui, "  pause  ");
    assert_true(ui.paused);
    tui_cmd_run(&ui, "pau"); /* a unique prefix */
    assert_false(ui.paused);
    tui_cmd_run(&ui, "filter loss spike");
    assert_string_equal(ui.filter, "loss spike");
    assert_int_equal(ui.overlay, TUI_O_NONE);
    model.replay = true;
    fired_kind[0] = 0;
    tui_cmd_run(&ui, "fire cpu");
    assert_string_equal(fired_kind, "");
    assert_non_null(strstr(ui.status, "not in a replay"));
    model.replay = false;
}

/* ---- presets ------------------------------------------------------------------------ */

static void parse_err(const char *text, const char *want)
{
    struct tui_preset *p = NULL;
    size_t n = 7;
    char err[300] = "";
    assert_int_equal(tui_presets_parse("presets.json", text, strlen(text), &p, &n, err, sizeof err), -1);
    assert_null(p);
    assert_int_equal(n, 0);
    if (!strstr(err, want))
        fprintf(stderr, "got: %s\nwant: %s\n", err, want);
    assert_non_null(strstr(err, want));
}

static void test_preset_parse(void **state)
{
    (void)state;
    const char *good = "{\n \"half\": {\"kind\": \"cpu\", \"params\": {\"load\": \"50%\", \"workers\": 2}},\n"
                       " \"nan\": {\"kind\": \"knob\", \"params\": {\"set\": \"lr=10 nan_next_step=1\"}},\n"
                       " \"plain\": {\"kind\": \"stop\"}\n}\n";
    struct tui_preset *p;
    size_t n;
    char err[300];
    assert_int_equal(tui_presets_parse("presets.json", good, strlen(good), &p, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(p[0].name, "half");
    assert_string_equal(p[0].kind, "cpu");
    char bufs[1024];
    const char *k[8], *v[8];
    assert_int_equal(tui_preset_fields(&p[0], bufs, sizeof bufs, k, v, 8), 2);
    assert_string_equal(k[0], "load");
    assert_string_equal(v[0], "50%");
    assert_string_equal(k[1], "workers");
    assert_string_equal(v[1], "2");
    assert_int_equal(tui_preset_fields(&p[1], bufs, sizeof bufs, k, v, 8), 1);
    assert_string_equal(k[0], "set");
    assert_string_equal(v[0], "lr=10 nan_next_step=1"); /* '=' kept in a value */
    assert_int_equal(tui_preset_fields(&p[2], bufs, sizeof bufs, k, v, 8), 0);
    free(p);
    /* every bad file: one line naming the file, the line and the field */
    parse_err("{\"a\": {\"kind\": \"cpu\",}", "presets.json:1:");
    parse_err("[1, 2]", "presets.json:1: (root): must be an object of presets by name");
    parse_err("{\n\"a\": {\n\"kind\": 5}}", "presets.json:3: kind: must be a fault kind name");
    parse_err("{\n\"a\": {\"params\": {}}}", "presets.json:2: a: \"kind\" is missing");
    parse_err("{\"a\": {\"kind\": \"cpu\",\n \"params\": {\n\"load\": [1]}}}", "presets.json:3: load: must be a string");
    parse_err("{\"a\": {\"kind\": \"cpu\", \"when\": 1}}", "when");
    parse_err("{\"a b\": {\"kind\": \"cpu\"}}", "presets.json:1: a b: a preset name is");
    parse_err("{\"a\": 3}", "presets.json:1: a: must be an object");
    parse_err("{\"a\": {\"kind\": \"cpu\"},\n\"a\": {\"kind\": \"mem\"}}", "presets.json:2: a: a second preset");
    parse_err("{\"a\": {\"kind\": \"cpu\", \"params\": \"load=5\"}}", "params: must be an object");
}

static void test_preset_file(void **state)
{
    (void)state;
    char path[400], err[300] = "";
    assert_int_equal(tui_presets_path(path, sizeof path), 0);
    assert_non_null(strstr(path, "/config/moni/presets.json"));
    unlink(path);
    struct tui_preset *p;
    size_t n;
    assert_int_equal(tui_presets_load(path, &p, &n, err, sizeof err), 0); /* none yet */
    assert_int_equal(n, 0);
    free(p);
    struct tui_preset a = {.name = "half", .kind = "cpu"};
    tui_preset_add(&a, "load", "50%");
    assert_int_equal(tui_presets_save(path, &a, err, sizeof err), 0);
    struct tui_preset b = {.name = "nan", .kind = "knob"};
    tui_preset_add(&b, "set", "lr=10");
    assert_int_equal(tui_presets_save(path, &b, err, sizeof err), 0);
    tui_preset_add(&a, "workers", "3"); /* same name: replaced */
    assert_int_equal(tui_presets_save(path, &a, err, sizeof err), 0);
    assert_int_equal(tui_presets_load(path, &p, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].name, "half");
    assert_string_equal(p[0].kv, "load=50%\nworkers=3\n");
    assert_string_equal(p[1].kv, "set=lr=10\n");
    free(p);
    struct tui_preset bad = {.name = "no/slash", .kind = "cpu"};
    assert_int_equal(tui_presets_save(path, &bad, err, sizeof err), -1);
    /* a broken file is reported and left as it is */
    FILE *f = fopen(path, "w");
    fputs("{\"x\":\n {\"kind\": 5}}\n", f);
    fclose(f);
    assert_int_equal(tui_presets_save(path, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "presets.json:2: kind: must be a fault kind name"));
    char buf[64] = "";
    f = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "{\"x\":\n");
    /* the console says it on its status line and fires nothing */
    fired_kind[0] = 0;
    tui_cmd_run(&ui, "preset fire half");
    assert_true(ui.status_error);
    assert_non_null(strstr(ui.status, "presets.json:2: kind:"));
    assert_string_equal(fired_kind, "");
    unlink(path);
}

/* Fire from the form, save it, fire the preset, repeat the last one. */
static void test_preset_round_trip(void **state)
{
    (void)state;
    model.replay = false;
    memset(&ui.last_fired, 0, sizeof ui.last_fired);
    tui_cmd_run(&ui, "again");
    assert_true(ui.status_error); /* nothing fired yet */
    assert_non_null(strstr(ui.status, "no fault fired"));
    struct tui_preset spec = {.kind = "mem"};
    tui_preset_add(&spec, "size", "32M");
    tui_preset_armed(&ui, &spec); /* what the form does when it arms */
    ui.fault_sel = 1;
    tui_cmd_run(&ui, "fire");
    assert_string_equal(fired_kind, "mem");
    assert_string_equal(ui.last_fired.kind, "mem");
    tui_cmd_run(&ui, "preset save big-mem");
    assert_false(ui.status_error);
    assert_int_equal(ui.npresets, 1);
    fired_kind[0] = armed_kv[0] = 0;
    ui.fault_sel = 0;
    tui_cmd_run(&ui, "preset fire big-mem");
    assert_false(ui.status_error);
    assert_string_equal(fired_kind, "mem");
    assert_string_equal(armed_kv, "size=32M;");
    assert_int_equal(ui.fault_sel, 1);
    fired_kind[0] = armed_kv[0] = 0;
    tui_cmd_run(&ui, "again");
    assert_string_equal(fired_kind, "mem");
    assert_string_equal(armed_kv, "size=32M;");
    tui_cmd_run(&ui, "preset fire nosuch");
    assert_non_null(strstr(ui.status, "no preset \"nosuch\""));
    tui_cmd_run(&ui, "preset bogus");
    assert_non_null(strstr(ui.status, "preset: list, save NAME or fire NAME"));
    tui_cmd_run(&ui, "preset");
    assert_int_equal(ui.overlay, TUI_O_PRESETS);
    ui.overlay = TUI_O_NONE;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),      cmocka_unit_test(test_find),
        cmocka_unit_test(test_candidates),    cmocka_unit_test(test_complete),
        cmocka_unit_test(test_run),           cmocka_unit_test(test_preset_parse),
        cmocka_unit_test(test_preset_file),   cmocka_unit_test(test_preset_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
