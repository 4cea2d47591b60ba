#!/usr/bin/env bash
# The cross-node rules of `moni alerts export` (issue 21): promtool accepts the file,
# and promtool's rule unit tests, fed three nodes of one job, see the straggler (node
# c at under a third of the others' step rate), the node that went silent (c's
# target down), the climbing GPU memory (node b), and nothing on the healthy nodes.
set -u
M="$MONI_BUILD/moni"
export MONI_DATA_DIR="$MONI_SRC"
command -v promtool >/dev/null || { echo "skipped: promtool missing (Debian package prometheus)"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
cd "$TMPDIR" || exit 1

"$M" alerts export --out rules-15s.yml || fail "moni alerts export"
promtool check rules rules-15s.yml || fail "promtool check rules (default scrape interval)"
grep -q 'rate(moni_training_step\[2m\])' rules-15s.yml || fail "windows do not follow a 15 s scrape"
"$M" alerts export --scrape-interval 1s --out rules.yml || fail "moni alerts export --scrape-interval 1s"
promtool check rules rules.yml || fail "promtool check rules"
"$M" alerts export --scrape-interval 500ms >/dev/null 2>err; rc=$?
[ "$rc" = 2 ] && grep -q 'scrape-interval' err || fail "a sub-second scrape interval was not refused (rc=$rc)"

cat >cluster-test.yml <<'YML'
rule_files: [rules.yml]
evaluation_interval: 1s
tests:
  - interval: 1s
    input_series:
      - {series: 'moni_training_step{job_id="7",node="a",rank="0"}', values: '0+10x60'}
      - {series: 'moni_training_step{job_id="7",node="b",rank="1"}', values: '0+11x60'}
      - {series: 'moni_training_step{job_id="7",node="c",rank="2"}', values: '0+3x60'}
      - {series: 'moni_sample_timestamp_seconds{job_id="7",node="a",rank="0"}', values: '0+1x60'}
      - {series: 'moni_sample_timestamp_seconds{job_id="7",node="b",rank="1"}', values: '0+1x60'}
      - {series: 'moni_sample_timestamp_seconds{job_id="7",node="c",rank="2"}', values: '0+1x30'}
      - {series: 'up{job="moni",instance="a:1",job_id="7",node="a",rank="0"}', values: '1x60'}
      - {series: 'up{job="moni",instance="b:1",job_id="7",node="b",rank="1"}', values: '1x60'}
      - {series: 'up{job="moni",instance="c:1",job_id="7",node="c",rank="2"}', values: '1x30 0x30'}
      - {series: 'moni_gpu_memory_used_bytes{job_id="7",node="a",rank="0",gpu="0"}', values: '1e9x60'}
      - {series: 'moni_gpu_memory_used_bytes{job_id="7",node="b",rank="1",gpu="0"}', values: '1e9+1e7x60'}
    alert_rule_test:
      - eval_time: 40s
        alertname: MoniNodeStraggler
        exp_alerts:
          - exp_labels: {severity: warning, job_id: "7", node: c, rank: "2"}
            exp_annotations: {summary: "c (rank 2) trains at under 70% of job 7's median"}
      - eval_time: 40s
        alertname: MoniNodeHeartbeatMissing
        exp_alerts:
          - exp_labels: {severity: critical, job_id: "7", node: c, rank: "2"}
            exp_annotations: {summary: "moni on c (job 7) has gone silent"}
      - eval_time: 25s
        alertname: MoniNodeHeartbeatMissing
        exp_alerts: []
      - eval_time: 40s
        alertname: MoniNodeGpuMemoryClimbing
        exp_alerts:
          - exp_labels: {severity: warning, job_id: "7", node: b, rank: "1", gpu: "0"}
            exp_annotations: {summary: "GPU 0 memory on b climbs by more than 1 MiB/s"}
    promql_expr_test:
      - expr: moni_job:training_steps_per_second:median
        eval_time: 40s
        exp_samples:
          - {labels: 'moni_job:training_steps_per_second:median{job_id="7"}', value: 10}
YML
promtool test rules cluster-test.yml || fail "promtool test rules"
echo ok
