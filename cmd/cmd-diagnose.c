/* cmd/cmd-diagnose.c — `moni diagnose`: rank the root causes of a failed run from its
 * logs (a run directory: workload.log + logs/ *.log, or log files), merged by time. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "logparse/logparse.h"

static int cmd_diagnose_exec(struct cmd_args *a)
{
    const char *rules_paths[64] = {0};
    size_t nrules = cmd_arg_list(a, "rules", rules_paths, MONI_ARRAY_LEN(rules_paths));
    const char *const *paths = (const char *const *)a->pos;
    size_t npaths = (size_t)a->npos;
    bool json = cmd_flag(a, "json");
    char err[1024];
    struct lp_rules *rules =
        lp_rules_load(rules_paths, nrules, LP_LOAD_BUILTIN | LP_LOAD_USER, err, sizeof err);
    if (!rules) {
        moni_err("%s", err);
        return MONI_EXIT_USAGE;
    }
    struct lp_recset set;
    lp_recset_init(&set);
    if (lp_parse_paths(rules, paths, npaths, LP_KIND_BIT(LP_KIND_EVENT), &set, err,
                       sizeof err) < 0) {
        moni_err("%s", err);
        lp_recset_free(&set);
        lp_rules_free(rules);
        return MONI_EXIT_USAGE;
    }
    struct lp_diagnosis *d = lp_diagnose(&set);
    int rc = MONI_EXIT_OK;
    if (!d) {
        moni_err("diagnose: out of memory");
        rc = MONI_EXIT_FAIL;
    } else if (json) {
        cJSON *j = lp_diagnosis_json(d);
        char *s = j ? cJSON_Print(j) : NULL;
        if (s)
            printf("%s\n", s);
        else
            rc = MONI_EXIT_FAIL;
        free(s);
        cJSON_Delete(j);
    } else {
        lp_diagnosis_write_text(d, stdout);
    }
    lp_diagnosis_free(d);
    lp_recset_free(&set);
    lp_rules_free(rules);
    return rc;
}

static const struct cmd_opt diagnose_opts[] = {
    {"rules", 0, "PATH", 64, "an extra rule pack (file or directory)"},
    {"json", 0, NULL, 0, "the ranking as JSON"},
    {0},
};

const struct cmd_entry cmd_diagnose_entry = {
    .name = "diagnose",
    .usage = "diagnose RUN_DIR|LOGFILE... [--rules PATH]... [--json]",
    .summary = "name the root cause of a failed run",
    .args = {.opts = diagnose_opts, .min_pos = 1, .max_pos = 256, .pos_name = "RUN_DIR|LOGFILE"},
    .exec = cmd_diagnose_exec,
};
