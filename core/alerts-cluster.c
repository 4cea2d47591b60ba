/* core/alerts-cluster.c — the recording and alerting rules that look across the
 * nodes of a job, which no single moni can evaluate: a straggler (one node's step
 * rate or throughput well under the job's median), a node whose moni heartbeat is
 * missing, a node whose GPU memory keeps climbing.  Written by `moni alerts export`
 * after the per-node rules (core/alerts.c), as a second group of the same file.
 *
 * Every series is grouped by the job_id/node/rank labels that the exporter adds in
 * a job and the file_sd target file repeats (core/prom-target.c).  Windows scale
 * with the scrape interval: a rate needs several samples, a missing heartbeat
 * needs more than one lost scrape. */
#include <stdio.h>

#include "core/core.h"

#define BY_NODE "job_id, node, rank"

static void fmt_dur(int64_t ns, char *buf, size_t len)
{
    if (ns % (60 * MONI_NS_PER_SEC) == 0)
        snprintf(buf, len, "%lldm", (long long)(ns / (60 * MONI_NS_PER_SEC)));
    else if (ns % MONI_NS_PER_SEC == 0)
        snprintf(buf, len, "%llds", (long long)(ns / MONI_NS_PER_SEC));
    else
        snprintf(buf, len, "%lldms", (long long)(ns / MONI_NS_PER_MS));
}

static void record(FILE *out, const char *name, const char *expr)
{
    fprintf(out, "      - record: %s\n        expr: %s\n", name, expr);
}

static void alert(FILE *out, const char *name, const char *expr, const char *forb,
                  const char *severity, const char *summary)
{
    fprintf(out,
            "      - alert: %s\n        expr: %s\n        for: %s\n        labels:\n"
            "          severity: %s\n        annotations:\n          summary: %s\n",
            name, expr, forb, severity, summary);
}

int alerts_export_cluster(FILE *out, int64_t scrape_ns)
{
    if (scrape_ns < MONI_NS_PER_SEC)
        scrape_ns = MONI_NS_PER_SEC;
    char win[32], stale[32], forb[32], slow_for[32], expr[1024];
    fmt_dur(8 * scrape_ns, win, sizeof win);       /* rates: 8 samples */
    fmt_dur(3 * scrape_ns, forb, sizeof forb);     /* three lost scrapes */
    fmt_dur(5 * scrape_ns, slow_for, sizeof slow_for);
    /* a sample may be up to moni's longest interval (60 s) old when scraped */
    snprintf(stale, sizeof stale, "%lld", (long long)(60 + 3 * scrape_ns / MONI_NS_PER_SEC));
    fprintf(out, "  # Across the nodes of a job (labels job_id, node, rank; scrape interval %lld s).\n"
                 "  - name: moni-cluster\n    rules:\n",
            (long long)(scrape_ns / MONI_NS_PER_SEC));

    record(out, "moni_node:heartbeat_age_seconds",
           "time() - max by (" BY_NODE ") (moni_sample_timestamp_seconds)");
    snprintf(expr, sizeof expr, "max by (" BY_NODE ") (rate(moni_training_step[%s]))", win);
    record(out, "moni_node:training_steps_per_second", expr);
    record(out, "moni_job:training_steps_per_second:median",
           "quantile by (job_id) (0.5, moni_node:training_steps_per_second)");
    record(out, "moni_node:training_samples_per_second",
           "max by (" BY_NODE ") (moni_training_samples_per_second)");
    record(out, "moni_job:training_samples_per_second:median",
           "quantile by (job_id) (0.5, moni_node:training_samples_per_second)");
    /* DCGM's framebuffer use is in MiB */
    snprintf(expr, sizeof expr,
             "max by (" BY_NODE ", gpu) (deriv(moni_gpu_memory_used_bytes[%s])) or max by (" BY_NODE
             ", gpu) (deriv(DCGM_FI_DEV_FB_USED[%s]) * 1048576)",
             win, win);
    record(out, "moni_node:gpu_memory_used_bytes:deriv", expr);

    alert(out, "MoniNodeStraggler",
          "(moni_node:training_steps_per_second < on (job_id) group_left () (0.7 * "
          "moni_job:training_steps_per_second:median) and on (job_id) (count by (job_id) "
          "(moni_node:training_steps_per_second) >= 2)) or (moni_node:training_samples_per_second "
          "< on (job_id) group_left () (0.7 * moni_job:training_samples_per_second:median) and on "
          "(job_id) (count by (job_id) (moni_node:training_samples_per_second) >= 2))",
          slow_for, "warning",
          "\"{{ $labels.node }} (rank {{ $labels.rank }}) trains at under 70% of job "
          "{{ $labels.job_id }}'s median\"");
    /* down = no successful scrape in three intervals, not one slow scrape */
    snprintf(expr, sizeof expr,
             "(max by (" BY_NODE ") (max_over_time(up{job_id!=\"\"}[%s])) == 0) or "
             "(moni_node:heartbeat_age_seconds > %s)",
             forb, stale);
    alert(out, "MoniNodeHeartbeatMissing", expr, forb, "critical",
          "\"moni on {{ $labels.node }} (job {{ $labels.job_id }}) has gone silent\"");
    alert(out, "MoniNodeGpuMemoryClimbing", "moni_node:gpu_memory_used_bytes:deriv > 1048576",
          win, "warning",
          "\"GPU {{ $labels.gpu }} memory on {{ $labels.node }} climbs by more than 1 MiB/s\"");
    return ferror(out) ? -1 : 0;
}
