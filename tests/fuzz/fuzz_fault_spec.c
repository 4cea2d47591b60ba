/* tests/fuzz/fuzz_fault_spec.c — libFuzzer harness for fault SPECs and parameter
 * values: any bytes either parse (and then every parsed value is in its limits) or
 * give one error line. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "faults/faults.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[1200], err[512];
    if (size >= sizeof text)
        size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = 0;
    struct fault_spec spec;
    if (fault_spec_parse(text, &spec, err, sizeof err) != 0) {
        if (strchr(err, '\n'))
            __builtin_trap(); /* errors are one line */
        return 0;
    }
    if (!spec.ops || spec.for_ns < 0 || spec.at_ns < 0)
        __builtin_trap();
    for (size_t i = 0; i < spec.ops->nparams; i++) {
        const struct fault_param *p = &spec.ops->params[i];
        const struct fault_value *v = &spec.params.v[i];
        if (v->set && (p->min != 0 || p->max != 0) && p->type != FP_ENUM && p->type != FP_INT &&
            p->type != FP_SIZE_PCT && (v->num < p->min || v->num > p->max))
            __builtin_trap();
    }
    /* every value on its own, as the console's form checks a field */
    for (size_t k = 0; k < fault_table_len; k++)
        for (size_t i = 0; i < fault_table[k]->nparams; i++) {
            struct fault_value v;
            fault_value_parse(&fault_table[k]->params[i], text, &v, err, sizeof err);
        }
    return 0;
}
