/* faults/table.c — the one table of fault kinds.  Adding a kind is adding its file
 * (faults/fault-KIND.c with one const struct fault_ops) and one row here. */
#include <string.h>

#define MONI_FAULTS_INTERNAL
#include "faults/faults.h"

extern const struct fault_ops fault_cpu_ops;
extern const struct fault_ops fault_mem_ops;
extern const struct fault_ops fault_disk_fill_ops;
extern const struct fault_ops fault_io_ops;
extern const struct fault_ops fault_net_ops;
extern const struct fault_ops fault_kill_ops;
extern const struct fault_ops fault_stop_ops;
extern const struct fault_ops fault_gpu_mem_ops;
extern const struct fault_ops fault_knob_ops;
extern const struct fault_ops fault_fs_ops;
extern const struct fault_ops fault_dns_ops;
extern const struct fault_ops fault_connect_ops;
extern const struct fault_ops fault_clock_ops;
extern const struct fault_ops fault_straggler_ops;

const struct fault_ops *const fault_table[] = {
    &fault_cpu_ops,  &fault_mem_ops,  &fault_disk_fill_ops, &fault_io_ops,   &fault_net_ops,
    &fault_kill_ops, &fault_stop_ops, &fault_gpu_mem_ops,   &fault_knob_ops,
    &fault_fs_ops,   &fault_dns_ops,  &fault_connect_ops,   &fault_clock_ops,
    &fault_straggler_ops,
};
const size_t fault_table_len = sizeof(fault_table) / sizeof(fault_table[0]);

const struct fault_ops *fault_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < fault_table_len; i++)
        if (strcmp(fault_table[i]->name, name) == 0)
            return fault_table[i];
    return NULL;
}

int fault_param_index(const struct fault_ops *ops, const char *key)
{
    for (size_t i = 0; ops && i < ops->nparams; i++)
        if (strcmp(ops->params[i].key, key) == 0)
            return (int)i;
    return -1;
}

static const char *const state_names[] = {"idle", "armed", "firing", "stopped", "reverted",
                                          "failed"};
static const char *const event_names[] = {"armed",   "fired",    "effective",
                                          "stopped", "reverted", "failed"};

const char *fault_state_name(enum fault_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

const char *fault_event_name(enum fault_event e)
{
    return (unsigned)e < sizeof(event_names) / sizeof(event_names[0]) ? event_names[e] : "?";
}
