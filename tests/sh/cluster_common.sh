# tests/sh/cluster_common.sh — sourced by test_cluster_prom.sh and
# tests/bench/bench_cluster_scrape.sh (not a test itself): moni agents as the nodes of
# one job (tests/sh/cluster_net.sh: a network namespace and host name each, or ports
# on 127.0.0.1), a real Prometheus in the root namespace that finds them through the
# file_sd target files they write, and each agent's late ticks from its meta.json.
# The caller sets W (its work directory), MARK (NAME=VALUE, put in the environment of
# everything started here, so that cluster_stop finds it all), JOB, PY and optionally
# PROM and CLUSTER_AGENT_DURATION (600s), and calls cluster_stop from its EXIT trap.
# Nothing here stops the caller's own processes.
. "$MONI_SRC/tests/sh/wait_common.sh"
. "$MONI_SRC/tests/sh/cluster_net.sh"

cluster_pids=()

# cluster_mode_line: which mode this run is in, for the output
cluster_mode_line() {
    if [ "$CNET_MODE" = netns ]; then
        echo "cluster mode: netns (each agent in its own network namespace on $CNET_NET.0/24 with its own host name; Prometheus in the root namespace)"
    else
        echo "cluster mode: ports (agents on 127.0.0.1, named by MONI_NODE; $CNET_WHY)"
    fi
}

# cluster_agent NAME RANK SD(yes|no) [SLEEP_MS]: moni run (no faults) on moni-train as
# node NAME of job $JOB; its pid in pid_NAME.  moni-train's progress bar gives the step
# (moni record exports no training metrics); SLEEP_MS after every step makes a straggler.
cluster_agent() {
    local name=$1 rank=$2 sd=$3 slow=${4:-0}
    mkdir -p "$W/$name" "$W/sd"
    printf 'sleep_ms=%s\n' "$slow" >"$W/$name/control"
    local sdopt=()
    [ "$sd" = yes ] && sdopt=(--prometheus-sd "$W/sd/%n.json")
    # no MONI_NODE in netns mode: the node label is the namespace's host name
    cnet_run "$name" env "$MARK" MONI_JOB_ID="$JOB" MONI_RANK="$rank" \
        "$MONI_BUILD/moni" run --no-inject --out "$W/$name/run" --interval 200ms \
        --duration "${CLUSTER_AGENT_DURATION:-600s}" \
        --metrics-listen "$(cnet_listen "$name")" "${sdopt[@]}" -- \
        "$MONI_BUILD/moni-train" --data-dir "$W/$name/data" --output-dir "$W/$name/out" \
        --train-samples 2000 --eval-samples 200 --features 4096 --hidden 32 \
        --logging-steps 1 --threads 1 --epochs 500 --eval-steps 0 --save-steps 0 --keep-cache \
        --control "$W/$name/control" >"$W/$name.log" 2>&1 &
    cluster_pids+=($!)
    eval "pid_$name=\$!"
}

# cluster_prometheus PORT [RULES [NODE_EXPORTER_PORT]]: Prometheus on 127.0.0.1:PORT,
# scraping and evaluating every second, the agents through $W/sd/*.json, with RULES
# and a node_exporter at NODE_EXPORTER_PORT (labelled node-nx) when given
cluster_prometheus() {
    local port=$1 rules=${2:-} neport=${3:-}
    {
        printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
        [ -n "$rules" ] && printf 'rule_files:\n  - %s\n' "$rules"
        printf 'scrape_configs:\n'
        printf '  - job_name: moni\n'
        printf '    honor_labels: true          # moni'"'"'s own job_id/node/rank labels win\n'
        printf '    file_sd_configs:\n'
        printf "      - files: ['%s/sd/*.json']\n" "$W"
        printf '        refresh_interval: 1s\n'
        if [ -n "$neport" ]; then
            printf '  - job_name: node              # a node seen only through node_exporter'"'"'s names\n'
            printf '    static_configs:\n'
            printf "      - targets: ['127.0.0.1:%s']\n" "$neport"
            printf "        labels: {job_id: '%s', node: 'node-nx'}\n" "$JOB"
        fi
    } >"$W/prometheus.yml"
    promtool check config "$W/prometheus.yml" >/dev/null || return 1
    env "$MARK" "${PROM:-prometheus}" --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
        --web.listen-address="127.0.0.1:$port" >"$W/prometheus.log" 2>&1 &
    cluster_pids+=($!)
}

# cluster_late_ticks NAME...: stop those agents (SIGINT, as a user would) and print
# each one's late ticks from its meta.json; non-zero when one did not stop
cluster_late_ticks() {
    local n p
    for n in "$@"; do kill -INT "$(eval echo \$pid_$n)" 2>/dev/null; done
    for n in "$@"; do
        p=$(eval echo \$pid_$n)
        wait_gone "$p" --for 30 || { echo "$n: moni did not stop"; return 1; }
    done
    for n in "$@"; do
        $PY - "$n" "$W/$n/run/meta.json" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[2]))["ticks"]
print("late ticks %-8s %d of %d (missed %d, max lag %.1f ms)" %
      (sys.argv[1], t["late"], t["taken"], t["missed"], t["max_lag_ms"]))
PYEOF
    done
}

cluster_no_marked() { [ -z "$(procs_with_env "$MARK")" ]; }

# cluster_stop: every process started with $MARK, then the namespaces, veths and
# bridge; prints what is left over and returns non-zero when something is
cluster_stop() {
    local p left
    for p in "${cluster_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in $(procs_with_env "$MARK"); do kill "$p" 2>/dev/null; done
    wait_until 10 cluster_no_marked
    for p in $(procs_with_env "$MARK"); do kill -9 "$p" 2>/dev/null; done
    wait_until 5 cluster_no_marked
    cnet_down
    left=$(cnet_leftovers)
    [ -z "$left" ] && return 0
    echo "left over after the test:" $left
    return 1
}
