#!/usr/bin/env bash
# A real Prometheus (Debian's prometheus package) on loopback scrapes moni's
# exporter, loads the rules `moni alerts export` wrote, and answers queries for a
# moni series and for the alert those rules raise.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
M="$MONI_BUILD/moni"
PY=/usr/bin/python3
export MONI_DATA_DIR="$MONI_SRC"
PROM=$(command -v prometheus || echo /usr/bin/prometheus)
[ -x "$PROM" ] || { echo "skipped: prometheus not installed (Debian package prometheus)"; exit 77; }
command -v curl >/dev/null || { echo "skipped: curl missing"; exit 77; }
fail() { echo "FAIL: $*"; for f in "$TMPDIR"/*.log; do [ -e "$f" ] && tail -n 15 "$f" | sed "s|^|  $(basename "$f"): |"; done; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

"$M" alerts _exporter-demo --metrics-listen 0 --interval 200ms --duration 100s >"$TMPDIR/demo.log" 2>&1 &
pids+=($!)
wait_for_file_line "$TMPDIR/demo.log" "^listening on"
mport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMPDIR/demo.log")
[ -n "$mport" ] || fail "demo did not start"

"$M" alerts export --out "$TMPDIR/rules.yml" || fail "moni alerts export"
pport=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMPDIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $TMPDIR/rules.yml
scrape_configs:
  - job_name: moni
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
"$PROM" --config.file="$TMPDIR/prometheus.yml" --storage.tsdb.path="$TMPDIR/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$TMPDIR/prometheus.log" 2>&1 &
pids+=($!)

q() { curl -s --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }
# q_has QUERY ERE: the answer (kept in $got) matches
q_has() { got=$(q "$1"); grep -Eq -- "$2" <<<"$got"; }
wait_until 30 q_has 'moni_gpu_utilization_ratio{gpu="0",job="moni"}' '"0\.87"' || fail "Prometheus did not return the moni series: $got"
echo "series: $got"

up=$(q 'up{job="moni"}')
grep -q '"1"\]' <<<"$up" || fail "target not up: $up"

# The loss turns NaN after 20 ticks; the exported TrainingLossNaN rule (no `for`)
# must fire inside Prometheus too.
wait_until 30 q_has 'ALERTS{alertname="TrainingLossNaN",alertstate="firing"}' '"TrainingLossNaN"' ||
    fail "exported NaN rule did not fire in Prometheus: $got"
# and moni's own engine reports the same alert
fi=$(q 'moni_alert_firing{alertname="TrainingLossNaN"}')
grep -q '"1"\]' <<<"$fi" || fail "moni_alert_firing not scraped: $fi"
echo ok
