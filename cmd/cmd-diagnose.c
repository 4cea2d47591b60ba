/* cmd/cmd-diagnose.c — `moni diagnose`: the root cause of a run.
 *
 * A recorded run (a directory with samples.csv) is diagnosed from everything an
 * operator could see: the detectors over its samples and events, the workload's fate
 * from meta.json, and the log's ranked causes (workload.log + logs/ *.log, merged by
 * time), fused by core's run diagnosis.  Never the fault journal, ground truth or
 * marks.  Log files, or a directory of logs only, are diagnosed from the log alone. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/core.h"
#include "logparse/logparse.h"

/* The fused diagnosis printed as text, or merged into the log diagnosis's JSON. */
static int print_run(const struct run_diagnosis *rd, const struct lp_diagnosis *logd, bool json)
{
    if (!json) {
        run_diagnosis_write_text(rd, stdout);
        if (logd->ncauses) {
            printf("\nthe log alone:\n");
            lp_diagnosis_write_text(logd, stdout);
        }
        return MONI_EXIT_OK;
    }
    cJSON *j = lp_diagnosis_json(logd), *fused = run_diagnosis_json(rd);
    if (!j || !fused) {
        cJSON_Delete(j);
        cJSON_Delete(fused);
        return MONI_EXIT_FAIL;
    }
    /* the log's keys stay (candidates, component, masked, last_error); the verdict
     * and the fused ranking are the run's */
    cJSON *lr = cJSON_DetachItemFromObject(j, "root_cause");
    cJSON_AddItemToObject(j, "log_root_cause", lr ? lr : cJSON_CreateNull());
    const char *keys[] = {"root_cause", "healthy", "fate", "detections", "causes"};
    for (size_t i = 0; i < MONI_ARRAY_LEN(keys); i++)
        cJSON_AddItemToObject(j, keys[i], cJSON_DetachItemFromObject(fused, keys[i]));
    cJSON_Delete(fused);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    if (!s)
        return MONI_EXIT_FAIL;
    printf("%s\n", s);
    free(s);
    return MONI_EXIT_OK;
}

static int diagnose_run(const struct lp_rules *rules, const char *dir,
                        const struct det_config *cfg, bool json)
{
    char err[1024];
    struct run_diagnosis *rd = malloc(sizeof *rd);
    if (!rd)
        return MONI_EXIT_FAIL;
    struct lp_diagnosis *logd = run_diagnose_dir(rules, dir, cfg, false, NULL, 0, rd, err, sizeof err);
    int rc = MONI_EXIT_USAGE;
    if (!logd)
        moni_err("%s", err);
    else
        rc = print_run(rd, logd, json);
    lp_diagnosis_free(logd);
    free(rd);
    return rc;
}

static int diagnose_logs(const struct lp_rules *rules, const char *const *paths, size_t n,
                         bool json)
{
    char err[1024];
    struct lp_recset set;
    lp_recset_init(&set);
    /* metrics too: a NaN only in a metrics line, progress that stops */
    if (lp_parse_paths(rules, paths, n, LP_KIND_BIT(LP_KIND_EVENT) | LP_KIND_BIT(LP_KIND_METRIC),
                       &set, err, sizeof err) < 0) {
        moni_err("%s", err);
        lp_recset_free(&set);
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
    return rc;
}

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
    int rc;
    struct cluster_runs cl = {0};
    bool cluster = npaths == 1 && !dataset_is_run_dir(paths[0]) &&
                   cluster_runs_find(paths[0], &cl, err, sizeof err) == 0;
    cluster_runs_free(&cl);
    if (cluster) { /* one run per node of a job: the node that failed first */
        struct det_config cfg;
        if (det_config_load(&cfg, cmd_arg(a, "detectors"), err, sizeof err) < 0) {
            moni_err("%s", err);
            rc = MONI_EXIT_USAGE;
        } else {
            rc = cluster_diagnose(paths[0], rules, &cfg, json, stdout, err, sizeof err) < 0
                     ? (moni_err("%s", err), MONI_EXIT_USAGE) : MONI_EXIT_OK;
            det_config_free(&cfg);
        }
    } else if (npaths == 1 && dataset_is_run_dir(paths[0])) {
        struct det_config cfg;
        if (det_config_load(&cfg, cmd_arg(a, "detectors"), err, sizeof err) < 0) {
            moni_err("%s", err);
            rc = MONI_EXIT_USAGE;
        } else {
            rc = diagnose_run(rules, paths[0], &cfg, json);
            det_config_free(&cfg);
        }
    } else {
        rc = diagnose_logs(rules, paths, npaths, json);
    }
    lp_rules_free(rules);
    return rc;
}

static const struct cmd_opt diagnose_opts[] = {
    {"rules", 0, "PATH", 64, "an extra rule pack (file or directory)"},
    {"detectors", 0, "FILE", 1, "detector thresholds (default: the user's or the shipped)"},
    {"json", 0, NULL, 0, "the ranking as JSON"},
    {0},
};

const struct cmd_entry cmd_diagnose_entry = {
    .name = "diagnose",
    .usage = "diagnose RUN_DIR|CLUSTER_DIR|LOGFILE... [--rules PATH]... [--detectors FILE] [--json]",
    .summary = "name the root cause of a run: detections, exit status and logs",
    .args = {.opts = diagnose_opts, .min_pos = 1, .max_pos = 256, .pos_name = "RUN_DIR|LOGFILE"},
    .exec = cmd_diagnose_exec,
};
