/* libFuzzer harness for the rule-pack loader: arbitrary JSON text as a pack; when it
 * loads, its rules run over their own test lines and a few sample lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse/logparse.h"

static const char *const samples[] = {
    "{'loss': 0.6931, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.5}",
    " 45%|####5     | 450/1000 [01:02<01:16, 7.21it/s]",
    "2026-11-25 21:33:17.123 ERROR [controller] Error stopping job 12: Request timeout",
    "Traceback (most recent call last):",
    "torch.cuda.OutOfMemoryError: CUDA out of memory.",
    "step=3 loss=nan lr=1e-4 stage=train",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    struct lp_rules *rs = lp_rules_new();
    if (!rs)
        return 0;
    if (lp_rules_add_text(rs, "fuzz.json", (const char *)data, size, err, sizeof err) < 0 ||
        lp_rules_finish(rs, err, sizeof err) < 0) {
        if (!memchr(err, '\0', sizeof err)) /* the message must be a string */
            abort();
        lp_rules_free(rs);
        return 0;
    }
    struct lp_parser *p = lp_parser_new(rs, NULL, NULL);
    struct moni_stamp now = {1, 1};
    for (size_t i = 0; p && i < lp_rules_count(rs); i++) {
        const struct lp_rule *r = lp_rules_at(rs, i);
        for (int w = 0; w < 2; w++)
            for (size_t k = 0; k < lp_rule_ntests(r, w); k++) {
                const char *line = lp_rule_test(r, w, k);
                lp_rule_matches(r, line, strlen(line));
                lp_parser_line(p, "t", line, strlen(line), now);
            }
    }
    for (size_t i = 0; p && i < sizeof samples / sizeof *samples; i++)
        lp_parser_line(p, "s", samples[i], strlen(samples[i]), now);
    if (p)
        lp_parser_flush(p, NULL);
    lp_parser_free(p);
    lp_rules_free(rs);
    return 0;
}
