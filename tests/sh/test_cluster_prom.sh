#!/usr/bin/env bash
# moni on a cluster, Prometheus as the aggregator (issue 21): a real Prometheus on
# 127.0.0.1 finds three moni agents through the file_sd target files they write
# (--prometheus-sd), plus a node_exporter, and loads the rules `moni alerts export`
# wrote.  The agents are "nodes" of one job (separate ports and node labels; one
# host): node3's training is slowed (moni-train's sleep_ms), node2's moni is killed
# with SIGKILL.  `moni top`, driven in tmux, must show every node's row, the
# straggler alert for node3, node2 DOWN with its heartbeat alert, and a node's
# drill-down.  Prints each agent's late ticks next to an agent nobody scrapes, and
# the console's PromQL load per refresh.  Every process it starts is stopped.
. "$MONI_SRC/tests/sh/tui_common.sh"
PROM=$(command -v prometheus) || { echo "skipped: prometheus not installed"; exit 77; }
NODEEXP=$(command -v prometheus-node-exporter || command -v node_exporter) ||
    { echo "skipped: prometheus-node-exporter not installed"; exit 77; }
command -v curl >/dev/null || { echo "skipped: curl missing"; exit 77; }
M="$MONI_BUILD/moni"
JOB=4242
MARK="MONI_CLUSTER_TEST=$$"   # in the environment of everything started below
pids=()
cluster_cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in $(procs_with_env "$MARK"); do kill "$p" 2>/dev/null; done
    wait_until 10 no_marked
    for p in $(procs_with_env "$MARK"); do kill -9 "$p" 2>/dev/null; done
    cleanup   # tui_common: the tmux server and $W
}
no_marked() { [ -z "$(procs_with_env "$MARK")" ]; }
trap cluster_cleanup EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pport=$(free_port); neport=$(free_port)
mkdir -p "$W/sd"

# --- the agents: moni run (no faults) on moni-train, one "node" each --------------
# (moni-train's progress bar gives the step; moni record exports no training metrics)
agent() { # NAME RANK PORT SD(yes|no) [sleep_ms]
    local name=$1 rank=$2 port=$3 sd=$4 slow=${5:-0}
    mkdir -p "$W/$name"
    printf 'sleep_ms=%s\n' "$slow" >"$W/$name/control"
    local sdopt=()
    [ "$sd" = yes ] && sdopt=(--prometheus-sd "$W/sd/%n.json")
    env "$MARK" MONI_JOB_ID=$JOB MONI_NODE="$name" MONI_RANK="$rank" \
        "$M" run --no-inject --out "$W/$name/run" --interval 200ms --duration 600s \
        --metrics-listen "127.0.0.1:$port" "${sdopt[@]}" -- \
        "$MONI_BUILD/moni-train" --data-dir "$W/$name/data" --output-dir "$W/$name/out" \
        --train-samples 2000 --eval-samples 200 --features 4096 --hidden 32 \
        --logging-steps 1 --threads 1 --epochs 500 --eval-steps 0 --save-steps 0 --keep-cache \
        --control "$W/$name/control" >"$W/$name.log" 2>&1 &
    pids+=($!)
    eval "pid_$name=\$!"
}
agent node1 0 "$(free_port)" yes
agent node2 1 "$(free_port)" yes
agent node3 2 "$(free_port)" yes 2000      # the straggler: 2 s after every step
agent control 9 "$(free_port)" no          # same load, never scraped: the late-tick baseline
for n in node1 node2 node3; do
    wait_for_file_line "$W/sd/$n.json" '"targets"' 30 || fail "no file_sd target from $n: $(tail -3 "$W/$n.log")"
done
grep -q "\"node\": \"node2\"" "$W/sd/node2.json" && grep -q "\"job_id\": \"$JOB\"" "$W/sd/node2.json" ||
    fail "target labels missing: $(cat "$W/sd/node2.json")"

# --- node_exporter, Prometheus ------------------------------------------------------
env "$MARK" "$NODEEXP" --web.listen-address="127.0.0.1:$neport" --collector.disable-defaults \
    --collector.cpu --collector.diskstats --collector.netdev --collector.meminfo \
    >"$W/node_exporter.log" 2>&1 &
pids+=($!)
"$M" alerts export --scrape-interval 1s --out "$W/rules.yml" || fail "moni alerts export"
promtool check rules "$W/rules.yml" >/dev/null || fail "promtool check rules"
cat >"$W/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $W/rules.yml
scrape_configs:
  - job_name: moni
    honor_labels: true          # moni's own job_id/node/rank labels win
    file_sd_configs:
      - files: ['$W/sd/*.json']
        refresh_interval: 1s
  - job_name: node              # a node seen only through node_exporter's names
    static_configs:
      - targets: ['127.0.0.1:$neport']
        labels: {job_id: '$JOB', node: 'node-nx'}
EOF
promtool check config "$W/prometheus.yml" >/dev/null || fail "promtool check config"
env "$MARK" "$PROM" --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$W/prometheus.log" 2>&1 &
pids+=($!)
q() { curl -s --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }
q_has() { got=$(q "$1"); grep -Eq -- "$2" <<<"$got"; }
# on failure, what Prometheus thought
fail() {
    if [ -n "${pport:-}" ] && curl -s -m 2 "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1; then
        echo "--- Prometheus: up: $(q 'up' | head -c 1500)"
        echo "--- steps/s: $(q 'moni_node:training_steps_per_second' | head -c 1500)"
        echo "--- ALERTS: $(q 'ALERTS' | head -c 1500)"
    fi
    for f in "$W"/node*.log; do [ -e "$f" ] && tail -n 3 "$f" | sed "s|^|  $(basename "$f"): |"; done
    echo "FAIL: $*"
    echo "--- screen:"; T capture-pane -p -t m 2>/dev/null | grep -v '^ *$' | sed 's/^/| /'
    exit 1
}
wait_until 40 q_has 'count(up{job="moni",job_id="'$JOB'"} == 1)' '"3"\]' ||
    fail "Prometheus does not scrape the 3 agents: $got"
wait_until 60 q_has 'count(moni_training_step{job_id="'$JOB'"})' '"3"\]' ||
    fail "no training step from every agent: $got"

# --- the console ------------------------------------------------------------------
start 160 40 -- top --prometheus "http://127.0.0.1:$pport" --job "$JOB" --interval 1s
for n in node1 node2 node3 node-nx; do wait_for "^$n " 30; done
# node_exporter's names fill CPU% for the node moni does not run on
wait_for '^node-nx +- +up +- +- +- +[0-9]+ ' 30
wait_for 'PromQL queries' 5
load=$(screen | grep -Eo 'refresh [^:]*: [0-9]+ PromQL queries, [0-9]+ HTTP requests, [^,]+ sent, [^,]+ received')
echo "console load per refresh: $load"

# the straggler rule fires for node3 only
wait_for 'FIRING +warning +MoniNodeStraggler +node3 ' 120
screen_lacks 'FIRING .*MoniNodeStraggler +node[12] ' || fail "a healthy node was called a straggler"

# node2's moni dies: its target stays in file_sd, Prometheus cannot scrape it
kill -9 "$pid_node2"
wait_for '^node2 .*DOWN' 30
wait_for 'FIRING +critical +MoniNodeHeartbeatMissing +node2 ' 30
# a live node's heartbeat alert would be wrong, but on a machine with 15+ runnable
# processes per core a starved agent can miss three 1 s scrapes in a row: say so
screen_lacks 'FIRING .*MoniNodeHeartbeatMissing +node[13] ' ||
    echo "note: a live node missed 3 scrapes in a row (load: $(cut -d' ' -f1 /proc/loadavg))"

# drill-down into node1 and back: rows are sorted by node name (node-nx first),
# the first row is selected; `s` then cycles the sort column
keys j
keys Enter
wait_for '^node node1 ' 10
wait_for '^[0-9]+ series' 10
wait_for '^moni_cpu_usage_ratio +[0-9.]+$' 10
keys Escape
wait_for '^NODE' 10
# sorting: s picks the next column (UP), S reverses it
keys s
wait_for ' UP\^' 5
keys S
wait_for ' UPv' 5
keys q
wait_until 10 test -e "$W/rc" || fail "moni top did not quit"
[ "$(cat "$W/rc")" = 0 ] || fail "moni top exited $(cat "$W/rc")"

# --- late ticks: the scraped agents against the one nobody scraped ------------------
for n in node1 node3 control; do kill -INT "$(eval echo \$pid_$n)" 2>/dev/null; done
for n in node1 node3 control; do
    wait_gone "$(eval echo \$pid_$n)" --for 30 || fail "$n: moni did not stop"
done
for n in node1 node3 control; do
    $PY - "$n" "$W/$n/run/meta.json" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[2]))["ticks"]
print("late ticks %-8s %d of %d (missed %d, max lag %.1f ms)" %
      (sys.argv[1], t["late"], t["taken"], t["missed"], t["max_lag_ms"]))
PYEOF
done
echo ok
