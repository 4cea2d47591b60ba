/* Unit tests for the events.jsonl line format the runner writes (and the dataset
 * builder reads): both clocks first and exact, non-finite numbers as text, the
 * phase on phase records only, labels by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/core.h"
#include "logparse/logparse.h"

static void test_metric_record(void **state)
{
    (void)state;
    struct lp_field fields[] = {
        {.name = "loss", .text = "nan", .num = NAN, .is_num = true},
        {.name = "learning_rate", .text = "5e-05", .num = 5e-05, .is_num = true},
        {.name = "note", .text = "a \"quoted\" word", .is_num = false},
    };
    const char *text = "{'loss': nan, 'learning_rate': 5e-05}";
    struct lp_record r = {
        .kind = LP_KIND_METRIC,
        .rule_id = "hf_metrics",
        .event = "",
        .severity = LP_SEV_INFO,
        .source = "workload.log",
        .line_no = 42,
        .first_line_no = 42,
        .text = text,
        .text_len = strlen(text),
        .recv = {.mono_ns = 9007199254740993LL, /* 2^53 + 1: not a double */
                 .real_ns = 1795600800123000000LL},
        .nfields = 3,
        .fields = fields,
    };
    char buf[4096];
    size_t n = runner_event_json(&r, buf, sizeof buf);
    assert_true(n > 0 && n == strlen(buf));
    assert_null(strchr(buf, '\n'));
    assert_true(!strncmp(buf, "{\"timestamp\":\"2026-11-25T10:00:00.123Z\",\"mono_ns\":9007199254740993,",
                         66));
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "metric");
    assert_string_equal(cJSON_GetObjectItem(o, "rule")->valuestring, "hf_metrics");
    assert_int_equal(cJSON_GetObjectItem(o, "line")->valueint, 42);
    assert_null(cJSON_GetObjectItem(o, "phase"));
    cJSON *f = cJSON_GetObjectItem(o, "fields");
    assert_string_equal(cJSON_GetObjectItem(f, "loss")->valuestring, "nan");
    assert_true(fabs(cJSON_GetObjectItem(f, "learning_rate")->valuedouble - 5e-05) < 1e-12);
    assert_string_equal(cJSON_GetObjectItem(f, "note")->valuestring, "a \"quoted\" word");
    assert_string_equal(cJSON_GetObjectItem(o, "text")->valuestring, text);
    cJSON_Delete(o);
    /* too small a buffer: nothing, not a torn line */
    assert_int_equal(runner_event_json(&r, buf, 40), 0);
}

static void test_phase_and_event_records(void **state)
{
    (void)state;
    struct lp_record r = {
        .kind = LP_KIND_PHASE,
        .rule_id = "hf_saving",
        .event = "checkpoint_save",
        .phase = LP_PHASE_CKPT_SAVE,
        .source = "workload.log",
        .line_no = 7,
        .text = "Saving model checkpoint to out/checkpoint-500",
        .text_len = 45,
        .recv = {.mono_ns = 5, .real_ns = 1795600800000000000LL},
    };
    char buf[4096];
    assert_true(runner_event_json(&r, buf, sizeof buf) > 0);
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "phase")->valuestring,
                        lp_phase_name(LP_PHASE_CKPT_SAVE));
    assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, "checkpoint_save");
    cJSON_Delete(o);

    r = (struct lp_record){
        .kind = LP_KIND_EVENT,
        .rule_id = "cuda_oom",
        .event = "oom",
        .severity = LP_SEV_ERROR,
        .labels = LP_LABEL_BIT(LP_LABEL_CUDA_OOM) | LP_LABEL_BIT(LP_LABEL_HOST_OOM),
        .source = "workload.log",
        .line_no = 9,
        .text = "CUDA out of memory",
        .text_len = 18,
        .recv = {.mono_ns = 6, .real_ns = 1795600800000000000LL},
    };
    assert_true(runner_event_json(&r, buf, sizeof buf) > 0);
    o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "severity")->valuestring, "error");
    cJSON *labels = cJSON_GetObjectItem(o, "labels");
    assert_int_equal(cJSON_GetArraySize(labels), 2);
    assert_string_equal(cJSON_GetArrayItem(labels, 0)->valuestring,
                        lp_label_name(LP_LABEL_CUDA_OOM));
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_record),
        cmocka_unit_test(test_phase_and_event_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
