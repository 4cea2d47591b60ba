/* core/cmd-diagnose.c — `moni diagnose`: rank the root causes of a failed run from its
 * logs (a run directory: workload.log + logs/ *.log, or log files), merged by time. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "logparse/logparse.h"

static int cmd_diagnose_exec(int argc, char **argv)
{
    const char *rules_paths[64] = {0};
    size_t nrules = 0;
    const char *paths[256];
    size_t npaths = 0;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = moni_opt_value(argc, argv, &i, "--rules", &v)) != 0) {
            if (m < 0 || moni_list_add(rules_paths, &nrules, MONI_ARRAY_LEN(rules_paths), v,
                                       "diagnose: too many --rules") < 0)
                return MONI_EXIT_USAGE;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: moni %s\n", cmd_diagnose_entry.usage);
            return MONI_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            moni_err("diagnose: unknown option %s", argv[i]);
            return MONI_EXIT_USAGE;
        } else if (moni_list_add(paths, &npaths, MONI_ARRAY_LEN(paths), argv[i],
                                 "diagnose: too many paths") < 0) {
            return MONI_EXIT_USAGE;
        }
    }
    if (!npaths) {
        moni_err("usage: moni %s", cmd_diagnose_entry.usage);
        return MONI_EXIT_USAGE;
    }
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

const struct cmd_entry cmd_diagnose_entry = {
    .name = "diagnose",
    .usage = "diagnose RUN_DIR|LOGFILE... [--rules PATH]... [--json]",
    .summary = "name the root cause of a failed run",
    .exec = cmd_diagnose_exec,
};
