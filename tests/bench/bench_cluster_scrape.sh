#!/usr/bin/env bash
# Does Prometheus scraping moni make moni late?  (issue 21: "the scrape of 3+ agents
# adds no late ticks to any agent").  N moni agents (default 3) sampling every 200 ms
# on moni-train, each in its own network namespace with its own address and host name
# where namespaces can be made (else ports on 127.0.0.1; the output says which), are
# scraped every second by a real Prometheus in the root namespace for
# BENCH_CLUSTER_S seconds (default 90); a control agent with the same load, which
# nobody scrapes, is the peer.  Prints, for the measured span only (rows of each
# agent's samples.csv), each agent's late and missed ticks (late: tick_lag_ms above
# meta.json's late_threshold_ms, a tenth of the interval), how many scrapes each got,
# and the load average; then meta.json's totals over each agent's whole life.
#   BENCH_CLUSTER_S=90 BENCH_CLUSTER_AGENTS=3 tests/bench/run.sh bench_cluster_scrape
set -u
PY=/usr/bin/python3
PROM=$(command -v prometheus) || { echo "prometheus not installed: nothing measured"; exit 0; }
command -v curl >/dev/null || { echo "curl missing: nothing measured"; exit 0; }
secs=${BENCH_CLUSTER_S:-90}
nagents=${BENCH_CLUSTER_AGENTS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/moni-bench-cluster.XXXXXX")
MARK="MONI_CLUSTER_BENCH=$$"
JOB=4343
export MONI_DATA_DIR="$MONI_SRC" MONI_STATE_DIR="$W/state"
. "$MONI_SRC/tests/sh/cluster_common.sh"
CLUSTER_AGENT_DURATION="$((secs + 300))s"
trap 'cluster_stop; rm -rf "$W"' EXIT

nodes=()
for ((i = 1; i <= nagents; i++)); do nodes+=("node$i"); done
cnet_up "${nodes[@]}" control
cluster_mode_line
pport=$(cnet_free_port)
# Prometheus first: it scrapes each agent from the moment its target file appears
cluster_prometheus "$pport" || { echo "promtool check config failed"; exit 1; }
q() { curl -s --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }
for ((i = 1; i <= nagents; i++)); do cluster_agent "node$i" "$((i - 1))" yes; done
cluster_agent control 99 no
scraped_all() { q 'count(up{job="moni"} == 1)' | grep -q "\"$nagents\"\]"; }
wait_until 60 scraped_all || { echo "Prometheus does not scrape the $nagents agents"; exit 1; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$EPOCHREALTIME
sleep "$secs"    # the measurement: a fixed span, not a wait for a condition
t1=$EPOCHREALTIME
echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg)"
q "sum_over_time(up{job=\"moni\"}[${secs}s])" |
    $PY -c 'import json,sys
for r in sorted(json.load(sys.stdin)["data"]["result"], key=lambda r: r["metric"]["node"]):
    print("scrapes of %-8s %s successful in the last %ss (at %s)" % (r["metric"]["node"], r["value"][1],
          sys.argv[1], r["metric"]["instance"]))' "$secs"
echo "whole life of each agent (meta.json):"
cluster_late_ticks "${nodes[@]}" control | sed 's/^/  /'
echo "the measured ${secs} s (samples.csv):"
for n in "${nodes[@]}" control; do
    $PY - "$n" "$W/$n/run" "$t0" "$t1" <<'PYEOF'
import csv, datetime, json, sys
name, run, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
meta = json.load(open(run + "/meta.json"))
thr, interval_ns = meta["ticks"]["late_threshold_ms"], None
rows = []
for r in csv.DictReader(open(run + "/samples.csv")):
    t = datetime.datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")).timestamp()
    if t0 <= t <= t1 and r["tick_lag_ms"]:
        rows.append((int(r["mono_ns"]), float(r["tick_lag_ms"])))
gaps = [b[0] - a[0] for a, b in zip(rows, rows[1:])]
interval_ns = sorted(gaps)[len(gaps) // 2] if gaps else 1
missed = sum(max(0, round(g / interval_ns) - 1) for g in gaps)
late = sum(1 for _, lag in rows if lag > thr)
print("  late ticks %-8s %d of %d (missed %d, max lag %.1f ms, late above %.0f ms)" %
      (name, late, len(rows), missed, max((l for _, l in rows), default=0), thr))
PYEOF
done
