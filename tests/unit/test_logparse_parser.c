/* Unit tests for the logparse streaming parser: metric values of every framework,
 * line splitting (LF/CRLF/CR, chunking), ANSI, NUL and long lines, timestamps,
 * traceback grouping, the running state and tail -F following. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lp-test.h"

static struct lp_rules *rules;

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    rules = lpt_builtin();
    return rules ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lp_rules_free(rules);
    return 0;
}

static void near(double a, double b, int line)
{
    if (!(fabs(a - b) <= 1e-9 * (fabs(b) + 1)))
        fail_msg("line %d: got %.17g, want %.17g", line, a, b);
}
#define NEAR(a, b) near((a), (double)(b), __LINE__)

static void test_hf_trainer(void **state)
{
    (void)state;
    struct lp_recset s;
    lpt_parse(rules, "hf.log",
              "{'loss': 0.6931, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.5}\n"
              "{'eval_loss': 0.41, 'eval_accuracy': 0.87, 'eval_runtime': 1.2, "
              "'eval_samples_per_second': 830.1, 'epoch': 1.0}\n"
              "{'train_runtime': 181.3, 'train_samples_per_second': 88.2, 'train_loss': 0.45, "
              "'epoch': 3.0}\n"
              "{'loss': nan, 'grad_norm': inf, 'learning_rate': 10.0, 'epoch': 0.2}\n"
              "{'loss': -inf, 'my_custom_metric': 42, 'note': 'text', 'epoch': 0.3}\n",
              0, &s);
    const struct lp_record *r = lpt_find(&s, "hf_metrics", 0);
    assert_non_null(r);
    NEAR(lpt_num(r, "loss"), 0.6931);
    NEAR(lpt_num(r, "grad_norm"), 1.2);
    NEAR(lpt_num(r, "learning_rate"), 5e-05);
    NEAR(lpt_num(r, "epoch"), 0.5);
    assert_int_equal(r->line_no, 1);
    r = lpt_find(&s, "hf_metrics", 1);
    NEAR(lpt_num(r, "eval_accuracy"), 0.87);
    NEAR(lpt_num(r, "eval_samples_per_s"), 830.1);
    r = lpt_find(&s, "hf_metrics", 2);
    NEAR(lpt_num(r, "train_runtime"), 181.3);
    r = lpt_find(&s, "hf_metrics", 3);
    assert_true(isnan(lpt_num(r, "loss")));
    assert_true(isinf(lpt_num(r, "grad_norm")) && lpt_num(r, "grad_norm") > 0);
    r = lpt_find(&s, "hf_metrics", 4);
    assert_true(isinf(lpt_num(r, "loss")) && lpt_num(r, "loss") < 0);
    NEAR(lpt_num(r, "my_custom_metric"), 42); /* any numeric key */
    assert_null(lp_record_field(r, "note"));  /* strings are not metrics */
    /* the nan dict line is also a NaN_Loss event; the finished phase is seen */
    const struct lp_record *e = lpt_find(&s, "nan_loss_dict", 0);
    assert_non_null(e);
    assert_int_equal(e->labels, LP_LABEL_BIT(LP_LABEL_NAN_LOSS));
    assert_int_equal(e->line_no, 4);
    assert_non_null(lpt_find(&s, "training_finished", 0));
    lp_recset_free(&s);
}

static void test_progress_bars(void **state)
{
    (void)state;
    struct lp_recset s;
    lpt_parse(rules, "bars.log",
              " 45%|████▌     | 450/1000 [01:02<01:16, 7.21it/s]\r"
              "  3%|▎         | 3/100 [00:07<03:52,  2.40s/it]\n"
              "Epoch 1:  45%|████▌     | 450/1000 [01:02<01:16,  7.21it/s, v_num=0, "
              "train_loss=0.523]\n",
              0, &s);
    const struct lp_record *r = lpt_find(&s, "tqdm_progress", 0);
    assert_non_null(r);
    NEAR(lpt_num(r, "it_per_s"), 7.21);
    NEAR(lpt_num(r, "step"), 450);
    NEAR(lpt_num(r, "total_steps"), 1000);
    assert_int_equal(r->line_no, 1);
    r = lpt_find(&s, "tqdm_progress", 1);
    NEAR(lpt_num(r, "s_per_it"), 2.40);
    NEAR(lpt_num(r, "it_per_s"), 1 / 2.40);
    assert_int_equal(r->line_no, 1); /* CR redraws share the LF line number */
    r = lpt_find(&s, "lightning_progress", 0);
    assert_non_null(r);
    NEAR(lpt_num(r, "epoch"), 1);
    NEAR(lpt_num(r, "step"), 450);
    NEAR(lpt_num(r, "it_per_s"), 7.21);
    NEAR(lpt_num(r, "train_loss"), 0.523);
    assert_int_equal(r->line_no, 2);
    lp_recset_free(&s);
}

static void test_megatron_deepspeed_generic(void **state)
{
    (void)state;
    struct lp_recset s;
    lpt_parse(rules, "m.log",
              " iteration      100/    1000 | consumed samples:         3200 | elapsed time per "
              "iteration (ms): 512.3 | learning rate: 1.000E-04 | global batch size:    32 | lm "
              "loss: 6.543210E+00 | loss scale: 1.0 | grad norm: 1.234 | number of skipped "
              "iterations:   0 |\n"
              "[2024-05-01 10:00:00,123] [INFO] [logging.py:96:log_dist] [Rank 0] step=200, "
              "skipped=0, lr=[0.0001], mom=[(0.9, 0.999)]\n"
              "[Rank 0] epoch=0/micro_step=100/global_step=100, RunningAvgSamplesPerSec=123.4, "
              "CurrSamplesPerSec=125.0, MemAllocated=1.2GB\n"
              "step=300 loss=0.523 lr=1e-4 throughput=812.5\n",
              0, &s);
    const struct lp_record *r = lpt_find(&s, "megatron_iteration", 0);
    assert_non_null(r);
    NEAR(lpt_num(r, "step"), 100);
    NEAR(lpt_num(r, "total_steps"), 1000);
    NEAR(lpt_num(r, "loss"), 6.54321);
    NEAR(lpt_num(r, "learning_rate"), 1e-4);
    NEAR(lpt_num(r, "grad_norm"), 1.234);
    NEAR(lpt_num(r, "iter_time_s"), 0.5123);
    NEAR(lpt_num(r, "consumed_samples"), 3200);
    r = lpt_find(&s, "deepspeed_step", 0);
    NEAR(lpt_num(r, "step"), 200);
    NEAR(lpt_num(r, "learning_rate"), 1e-4);
    assert_true(r->has_time);
    r = lpt_find(&s, "deepspeed_throughput", 0);
    NEAR(lpt_num(r, "samples_per_s"), 125.0);
    NEAR(lpt_num(r, "step"), 100);
    r = lpt_find(&s, "generic_kv", 0);
    NEAR(lpt_num(r, "step"), 300);
    NEAR(lpt_num(r, "loss"), 0.523);
    NEAR(lpt_num(r, "learning_rate"), 1e-4);
    NEAR(lpt_num(r, "throughput"), 812.5);
    lp_recset_free(&s);
}

static void test_state(void **state)
{
    (void)state;
    struct lp_parser *p = lp_parser_new(rules, NULL, NULL);
    const char *text = "***** Running training *****\n"
                       "{'loss': 0.5, 'learning_rate': 2e-05, 'epoch': 0.1}\n"
                       " 10%|█         | 100/1000 [00:10<01:30, 9.50it/s]\n"
                       "{'eval_loss': 0.4, 'eval_accuracy': 0.9, 'epoch': 1.0}\n"
                       "{'loss': nan, 'epoch': 1.1}\n"
                       "torch.cuda.OutOfMemoryError: CUDA out of memory.\n"
                       "ERROR something nobody wrote a rule for\n";
    lp_parser_feed(p, "w", text, strlen(text), lpt_stamp());
    const struct lp_state *st = lp_parser_state(p);
    assert_true(st->valid[LP_M_LOSS] && isnan(st->val[LP_M_LOSS]));
    assert_true(st->valid[LP_M_LR]);
    NEAR(st->val[LP_M_LR], 2e-05);
    NEAR(st->val[LP_M_STEP], 100);
    NEAR(st->val[LP_M_MAX_STEPS], 1000);
    NEAR(st->val[LP_M_IT_PER_S], 9.5);
    NEAR(st->val[LP_M_EVAL_ACCURACY], 0.9);
    NEAR(st->val[LP_M_EPOCH], 1.1);
    assert_false(st->valid[LP_M_SAMPLES_PER_S]);
    assert_true(st->nan_seen);
    assert_int_equal(st->phase, LP_PHASE_TRAIN);
    assert_int_equal(st->events_by_label[LP_LABEL_CUDA_OOM], 1);
    assert_int_equal(st->events_by_label[LP_LABEL_NAN_LOSS], 1);
    assert_int_equal(st->unclassified, 1);
    assert_string_equal(st->last_event_rule, "unclassified");
    assert_int_equal(st->lines, 7);
    lp_parser_free(p);
}

/* The same bytes in any chunking give the same records. */
static void test_splitting(void **state)
{
    (void)state;
    const char *text = "a\r\n{'loss': 1.5}\r\n\x1b[32m{'loss': 2.5}\x1b[0m\n"
                       "x\ry\r{'loss': 3.5}\n\n\n"
                       "\xff\xfe bad utf8 {'loss': 4.5}\n"
                       "nul\0byte {'loss': 5.5}\n"
                       "\x1b]0;title\x07{'loss': 6.5}\n"
                       "{'loss': 7.5}"; /* no final newline: flushed */
    size_t len = strlen(text) + 1 + strlen(text + strlen(text) + 1);
    for (size_t chunk = 1; chunk <= 7; chunk += 3) {
        struct lp_recset s;
        lp_recset_init(&s);
        struct lp_parser *p = lp_parser_new(rules, lp_recset_collect, &s);
        for (size_t off = 0; off < len; off += chunk)
            lp_parser_feed(p, "s", text + off, len - off < chunk ? len - off : chunk, lpt_stamp());
        lp_parser_flush(p, "s");
        lp_parser_free(p);
        static const double want[] = {1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5};
        static const uint64_t lines[] = {2, 3, 4, 7, 8, 9, 10};
        size_t k = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (s.v[i].kind != LP_KIND_METRIC)
                continue;
            assert_true(k < 7);
            NEAR(lpt_num(&s.v[i], "loss"), want[k]);
            if (s.v[i].line_no != lines[k])
                fail_msg("chunk %zu: record %zu on line %llu, want %llu", chunk, k,
                         (unsigned long long)s.v[i].line_no, (unsigned long long)lines[k]);
            k++;
        }
        assert_int_equal(k, 7);
        /* ANSI escapes are gone from the text */
        const struct lp_record *r = lpt_find(&s, "hf_metrics", 1);
        assert_null(memchr(r->text, 0x1b, r->text_len));
        lp_recset_free(&s);
    }
}

static void test_long_line(void **state)
{
    (void)state;
    size_t n = 3 * LP_MAX_LINE;
    char *big = malloc(n + 64);
    assert_non_null(big);
    memset(big, 'x', n);
    memcpy(big, "ERROR ", 6);
    memcpy(big + n, "\n{'loss': 0.25}\n", 17);
    const size_t chunks[] = {4096, n + 64};
    for (size_t ci = 0; ci < 2; ci++) {
        size_t chunk = chunks[ci];
        struct lp_recset s;
        lp_recset_init(&s);
        struct lp_parser *p = lp_parser_new(rules, lp_recset_collect, &s);
        size_t len = n + 16;
        for (size_t off = 0; off < len; off += chunk)
            lp_parser_feed(p, "big", big + off, len - off < chunk ? len - off : chunk, lpt_stamp());
        lp_parser_flush(p, NULL);
        const struct lp_record *t = lpt_find(&s, "line_truncated", 0);
        assert_non_null(t);
        assert_true(t->truncated);
        assert_int_equal(t->line_no, 1);
        const struct lp_record *u = lpt_find(&s, "unclassified", 0);
        assert_non_null(u); /* the kept megabyte is still matched */
        assert_true(u->truncated);
        assert_int_equal(u->text_len, LP_MAX_LINE);
        const struct lp_record *m = lpt_find(&s, "hf_metrics", 0);
        assert_non_null(m);
        assert_int_equal(m->line_no, 2);
        assert_false(m->truncated);
        assert_int_equal(lp_parser_state(p)->truncated_lines, 1);
        lp_parser_free(p);
        lp_recset_free(&s);
    }
    free(big);
}

static void test_timestamps(void **state)
{
    (void)state;
    int64_t ref, t;
    /* 2026-11-25T21:33:17.123Z */
    int64_t want = 1795642397123LL * MONI_NS_PER_MS;
    char iso[MONI_ISO_LEN];
    assert_int_equal(lp_parse_timestamp("2026-11-25T21:33:17.123Z x", 26, 0, &t), 1);
    assert_int_equal(t, want);
    const char *l = "2026-11-25 21:33:17.123 INFO [controller] step 3";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), 0, &t), 1);
    assert_int_equal(t, want);
    l = "[2026-11-25 21:33:17,123] [INFO] deepspeed";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), 0, &t), 1);
    assert_int_equal(t, want);
    l = "2026-11-25T22:33:17.123+01:00 shifted";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), 0, &t), 1);
    assert_int_equal(t, want);
    ref = want + 3600LL * MONI_NS_PER_SEC; /* an hour later the same day */
    l = "[21:33:17.123] time of day only";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), ref, &t), 1);
    assert_int_equal(t, want);
    l = "Nov 25 21:33:17 host kernel: Out of memory";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), ref, &t), 1);
    assert_int_equal(t, want - 123 * MONI_NS_PER_MS);
    l = "I1125 21:33:17.123456 1234 main.cc:12] glog";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), ref, &t), 1);
    assert_int_equal(t, want + 456 * 1000);
    l = "INFO 2026-11-25 21:33:17.123 later in the line";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), 0, &t), 1);
    assert_int_equal(t, want);
    /* ref just after midnight: 23:59 means yesterday */
    ref = 1795651200LL * MONI_NS_PER_SEC + 60 * MONI_NS_PER_SEC; /* 2026-11-26 00:01 */
    l = "[23:59:00] late";
    assert_int_equal(lp_parse_timestamp(l, strlen(l), ref, &t), 1);
    assert_string_equal(moni_fmt_iso(t, iso, sizeof iso), "2026-11-25T23:59:00.000Z");
    static const char *const none[] = {" 45%|####| 450/1000 [01:02<01:16, 7.21it/s]", "step 3",
                                       "99:99:99 nope", "2026-13-45 10:00:00", ""};
    for (size_t i = 0; i < sizeof none / sizeof *none; i++)
        assert_int_equal(lp_parse_timestamp(none[i], strlen(none[i]), ref, &t), 0);
    /* records carry the in-line time; lines without one inherit the last */
    struct lp_recset s;
    lpt_parse(rules, "c.log",
              "2026-11-25 21:33:17.123 ERROR [controller] Error stopping job 12: Request timeout\n"
              "Killed\n",
              0, &s);
    assert_int_equal(s.n, 2);
    assert_true(s.v[0].has_time);
    assert_int_equal(s.v[0].time_ns, want);
    assert_false(s.v[1].has_time);
    assert_int_equal(lp_record_time(&s.v[1]), want);
    lp_recset_free(&s);
}

static void test_tracebacks(void **state)
{
    (void)state;
    struct lp_recset s;
    lpt_parse(rules, "tb.log",
              "step 1\n"
              "Traceback (most recent call last):\n"
              "  File \"train.py\", line 10, in <module>\n"
              "    raise RuntimeError(\"CUDA out of memory\")\n"
              "  File \"x.py\", line 2, in f\n"
              "\n"
              "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
              "Traceback (most recent call last):\n"
              "  File \"a.py\", line 1, in <module>\n"
              "my.pkg.WeirdError: something odd\n"
              "\n"
              "During handling of the above exception, another exception occurred:\n"
              "\n"
              "Traceback (most recent call last):\n"
              "  File \"b.py\", line 3, in <module>\n"
              "RuntimeError: cleanup crashed\n"
              "Traceback (most recent call last):\n"
              "  File \"c.py\", line 3, in <module>\n"
              "    foo()\n"
              "{'loss': 0.5}\n"
              "Traceback (most recent call last):\n"
              "  File \"d.py\", line 3, in <module>\n"
              "ValueError: checkpoint out/checkpoint-3 is corrupt: truncated\n"
              "Traceback (most recent call last):\n"
              "  File \"e.py\", line 1, in <module>\n"
              "RuntimeError: Function 'X' returned nan values in its 0th output.\n"
              "\n"
              "The above exception was the direct cause of the following exception:\n"
              "\n"
              "Traceback (most recent call last):\n"
              "  File \"e.py\", line 9, in <module>\n"
              "TypeError: wrapper failed\n",
              0, &s);
    size_t nev = 0;
    for (size_t i = 0; i < s.n; i++)
        nev += s.v[i].kind == LP_KIND_EVENT;
    assert_int_equal(nev, 5); /* one event per traceback (chains are one) */
    const struct lp_record *r = lpt_find(&s, "cuda_oom", 0);
    assert_non_null(r);
    assert_int_equal(r->first_line_no, 2);
    assert_int_equal(r->line_no, 7);
    assert_string_equal(lp_record_field(r, "exc_type")->text, "torch.cuda.OutOfMemoryError");
    assert_string_equal(lp_record_field(r, "exc_message")->text,
                        "CUDA out of memory. Tried to allocate 2.00 GiB");
    /* the code line inside the traceback does not make a second OOM event */
    assert_null(lpt_find(&s, "cuda_oom", 1));
    /* a chain nobody has a rule for: unclassified, reported exception last, cause kept */
    r = lpt_find(&s, "unclassified", 0);
    assert_non_null(r);
    assert_int_equal(r->first_line_no, 8);
    assert_int_equal(r->line_no, 16);
    assert_string_equal(lp_record_field(r, "exc_type")->text, "RuntimeError");
    assert_string_equal(lp_record_field(r, "cause_type")->text, "my.pkg.WeirdError");
    /* a traceback cut short by a normal line: still one event, and the line is parsed */
    r = lpt_find(&s, "unclassified", 1);
    assert_non_null(r);
    assert_int_equal(r->first_line_no, 17);
    assert_null(lp_record_field(r, "exc_type"));
    assert_non_null(lpt_find(&s, "hf_metrics", 0));
    r = lpt_find(&s, "checkpoint_corrupt", 0);
    assert_non_null(r);
    assert_string_equal(lp_record_field(r, "exc_type")->text, "ValueError");
    /* the cause of a chain wins: NaN, not the TypeError of the wrapper */
    r = lpt_find(&s, "nan_loss_text", 0);
    assert_non_null(r);
    assert_string_equal(lp_record_field(r, "exc_type")->text, "TypeError");
    lp_recset_free(&s);
}

#define FEED(src, str) lp_parser_feed(p, src, str, strlen(str), now)

static void test_sources_and_phases(void **state)
{
    (void)state;
    struct lp_recset s;
    lp_recset_init(&s);
    struct lp_parser *p = lp_parser_new(rules, lp_recset_collect, &s);
    struct moni_stamp now = lpt_stamp();
    /* partial lines of two sources interleave without mixing */
    FEED("controller.log", "2026-11-25 21:33:17.123 INFO [controller] step 3 sta");
    FEED("train_worker_5.log", "2026-11-25 21:33:18.000 ERROR [train_worker_5] CUDA out");
    FEED("controller.log", "ge=weight_update\n");
    FEED("train_worker_5.log", " of memory\n");
    lp_parser_line(p, "controller.log", "Saving model checkpoint to out/checkpoint-10",
                   strlen("Saving model checkpoint to out/checkpoint-10"), now);
    lp_parser_free(p);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.v[0].source, "controller.log");
    assert_int_equal(s.v[0].kind, LP_KIND_PHASE);
    assert_int_equal(s.v[0].phase, LP_PHASE_WEIGHT_UPDATE);
    assert_string_equal(s.v[0].event, "weight_update");
    assert_string_equal(s.v[1].source, "train_worker_5.log");
    assert_string_equal(s.v[1].rule_id, "cuda_oom");
    assert_int_equal(s.v[2].phase, LP_PHASE_CKPT_SAVE);
    assert_int_equal(s.v[2].line_no, 2);
    assert_string_equal(lp_record_field(&s.v[2], "path")->text, "out/checkpoint-10");
    lp_recset_free(&s);
}

static void test_follow(void **state)
{
    (void)state;
    char path[] = "/tmp/lp-follow-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{'loss': 1.0}\n", 14), 14);
    struct lp_recset s;
    lp_recset_init(&s);
    struct lp_parser *p = lp_parser_new(rules, lp_recset_collect, &s);
    struct lp_follow *f = lp_follow_open(path, true);
    assert_non_null(f);
    assert_int_equal(lp_follow_poll(f, p, "w", 0), 14);
    assert_int_equal(lp_follow_poll(f, p, "w", 0), 0);
    assert_int_equal(write(fd, "{'loss': 2.0}\n", 14), 14);
    assert_int_equal(lp_follow_poll(f, p, "w", 0), 14);
    /* truncation: start over */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, "{'loss': 3.0}\n", 14, 0), 14);
    assert_int_equal(lp_follow_poll(f, p, "w", 0), 14);
    close(fd);
    /* rotation: the name now points to a new file */
    char old[64];
    snprintf(old, sizeof old, "%s.1", path);
    assert_int_equal(rename(path, old), 0);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{'loss': 4.0}\n", 14), 14);
    close(fd);
    assert_true(lp_follow_poll(f, p, "w", 0) >= 14);
    lp_follow_close(f);
    lp_parser_free(p);
    assert_int_equal(s.n, 4);
    for (size_t i = 0; i < 4; i++)
        NEAR(lpt_num(&s.v[i], "loss"), (double)(i + 1));
    lp_recset_free(&s);
    unlink(path);
    unlink(old);
    /* a file that does not exist yet is picked up when it appears */
    f = lp_follow_open(path, false);
    lp_recset_init(&s);
    p = lp_parser_new(rules, lp_recset_collect, &s);
    assert_int_equal(lp_follow_poll(f, p, "w", 0), 0);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(write(fd, "{'loss': 5.0}\n", 14), 14);
    close(fd);
    assert_int_equal(lp_follow_poll(f, p, "w", 0), 14);
    lp_follow_close(f);
    lp_parser_free(p);
    assert_int_equal(s.n, 1);
    lp_recset_free(&s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hf_trainer),
        cmocka_unit_test(test_progress_bars),
        cmocka_unit_test(test_megatron_deepspeed_generic),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_splitting),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_tracebacks),
        cmocka_unit_test(test_sources_and_phases),
        cmocka_unit_test(test_follow),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
