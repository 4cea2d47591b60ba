#!/usr/bin/env bash
# moni on a cluster, Prometheus as the aggregator (issue 21): a real Prometheus on
# 127.0.0.1 finds three moni agents through the file_sd target files they write
# (--prometheus-sd), plus a node_exporter, and loads the rules `moni alerts export`
# wrote.  The agents are the nodes of one job, each in its own network namespace with
# its own address and host name, the host name being its node label
# (tests/sh/cluster_net.sh; separate ports on 127.0.0.1 and MONI_NODE where namespaces
# cannot be made: the output says which mode ran).  node3's training is slowed
# (moni-train's sleep_ms), node2's moni is killed with SIGKILL.  `moni top`, driven in
# tmux, must show every node's row, the straggler alert for node3, node2 DOWN with its
# heartbeat alert, and a node's drill-down.  Prints each agent's late ticks next to an
# agent nobody scrapes, and the console's PromQL load per refresh.  Every process,
# namespace, veth and bridge it makes is removed, on failure too.
. "$MONI_SRC/tests/sh/tui_common.sh"
PROM=$(command -v prometheus) || { echo "skipped: prometheus not installed"; exit 77; }
NODEEXP=$(command -v prometheus-node-exporter || command -v node_exporter) ||
    { echo "skipped: prometheus-node-exporter not installed"; exit 77; }
command -v curl >/dev/null || { echo "skipped: curl missing"; exit 77; }
. "$MONI_SRC/tests/sh/cluster_common.sh"
M="$MONI_BUILD/moni"
JOB=4242
MARK="MONI_CLUSTER_TEST=$$"   # in the environment of everything started below
cluster_cleanup() {
    local rc=$?
    cluster_stop || rc=1      # namespaces, veths and bridge included
    cleanup                   # tui_common: the tmux server and $W
    exit $rc
}
trap cluster_cleanup EXIT
pport=$(cnet_free_port); neport=$(cnet_free_port)

# --- the nodes: one agent each, in its own namespace where it can be ---------------
cnet_up node1 node2 node3 control
cluster_mode_line
cluster_agent node1 0 yes
cluster_agent node2 1 yes
cluster_agent node3 2 yes 2000      # the straggler: 2 s after every step
cluster_agent control 9 no          # same load, never scraped: the late-tick baseline
for n in node1 node2 node3; do
    wait_for_file_line "$W/sd/$n.json" '"targets"' 30 || fail "no file_sd target from $n: $(tail -3 "$W/$n.log")"
done
grep -q "\"node\": \"node2\"" "$W/sd/node2.json" && grep -q "\"job_id\": \"$JOB\"" "$W/sd/node2.json" ||
    fail "target labels missing: $(cat "$W/sd/node2.json")"
# each target is the node's own address (in netns mode, one per namespace)
for n in node1 node2 node3; do
    grep -q "\"$(cnet_listen $n)\"" "$W/sd/$n.json" || fail "$n's target is not $(cnet_listen $n): $(cat "$W/sd/$n.json")"
done

# --- node_exporter, Prometheus ------------------------------------------------------
env "$MARK" "$NODEEXP" --web.listen-address="127.0.0.1:$neport" --collector.disable-defaults \
    --collector.cpu --collector.diskstats --collector.netdev --collector.meminfo \
    >"$W/node_exporter.log" 2>&1 &
cluster_pids+=($!)
"$M" alerts export --scrape-interval 1s --out "$W/rules.yml" || fail "moni alerts export"
promtool check rules "$W/rules.yml" >/dev/null || fail "promtool check rules"
cluster_prometheus "$pport" "$W/rules.yml" "$neport" || fail "promtool check config"
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
# Prometheus reached each node at its own address
for n in node1 node2 node3; do
    q_has 'up{job="moni",node="'$n'"}' "\"instance\":\"$(cnet_listen $n)\"" ||
        fail "$n not scraped at $(cnet_listen $n): $got"
done

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
wait "$pid_node2" 2>/dev/null   # reaped here: no "Killed" line from bash
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
cluster_late_ticks node1 node3 control || fail "an agent did not stop"
# the node labels were the nodes' own: in netns mode each moni's host name
for n in node1 node3; do
    $PY - "$n" "$CNET_MODE" "$W/$n/run/meta.json" <<'PYEOF' || fail "$n's identity in meta.json"
import json, sys
name, mode, meta = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
assert meta["node"]["node"] == name, meta["node"]
if mode == "netns":
    assert meta["host"]["hostname"] == name, meta["host"]
PYEOF
done
echo ok
