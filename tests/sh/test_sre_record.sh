#!/usr/bin/env bash
# A live `moni record --metrics-listen` serves /metrics that `promtool check metrics`
# accepts, with the real observer's columns; hostile clients during the run do not
# make ticks miss (meta.json) and the run directory gets alerts.jsonl.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
M="$MONI_BUILD/moni"
PY=/usr/bin/python3
export MONI_DATA_DIR="$MONI_SRC"
export XDG_CONFIG_HOME="$TMPDIR/config"
fail() { echo "FAIL: $*"; [ -e "$TMPDIR/rec.err" ] && sed 's/^/  moni: /' "$TMPDIR/rec.err"; exit 1; }
command -v curl >/dev/null || { echo "skipped: curl missing"; exit 77; }

# bad listen addresses are usage errors
"$M" record --out "$TMPDIR/bad" --duration 1s --metrics-listen 99999 2>"$TMPDIR/e"; rc=$?
[ $rc -eq 2 ] || fail "bad port: exit $rc, want 2"
grep -q "metrics-listen" "$TMPDIR/e" || fail "bad port error does not name the option: $(cat "$TMPDIR/e")"

# a broken user alert file is an input error, named by file and line
mkdir -p "$XDG_CONFIG_HOME/moni"
printf '{"rules": [\n {"name": "X", "series": "cpu_pct", "op": "!"}]}\n' >"$XDG_CONFIG_HOME/moni/alerts.json"
"$M" record --out "$TMPDIR/bad2" --duration 1s 2>"$TMPDIR/e"; rc=$?
[ $rc -eq 2 ] || fail "bad alerts.json: exit $rc, want 2"
grep -q "alerts.json:2: op:" "$TMPDIR/e" || fail "bad alerts.json error: $(cat "$TMPDIR/e")"
# a rule that fires at once while the workload lives
cat >"$XDG_CONFIG_HOME/moni/alerts.json" <<'EOF2'
{"rules": [{"name": "WorkloadUp", "series": "proc_alive", "op": ">=", "threshold": 1,
            "severity": "info", "summary": "the workload is alive"}]}
EOF2

# A control run records at the same time without being attacked: on a busy machine
# both see the same scheduling noise, so the attacked run is judged against it.
# Both are stopped together (SIGINT) once the test is done: a fixed --duration had
# to hold the whole attack, and on a loaded machine the run ended before the last
# scrape did.
out="$TMPDIR/run"
"$M" record --out "$TMPDIR/control" --interval 100ms --duration 60s -- sleep 90 2>/dev/null &
cpid=$!
"$M" record --out "$out" --interval 100ms --duration 60s --metrics-listen 0 -- sleep 90 \
    2>"$TMPDIR/rec.err" &
pid=$!
trap 'kill $pid $cpid 2>/dev/null; wait 2>/dev/null' EXIT
wait_for_file_line "$TMPDIR/rec.err" '^moni: metrics on http://' || fail "no metrics port announced"
port=$(sed -n 's|^moni: metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$TMPDIR/rec.err")
[ -n "$port" ] || fail "no metrics port announced"
# the rule fires at the first sample with the workload alive
wait_for_scrape "http://127.0.0.1:$port/metrics" "$TMPDIR/m.txt" '^moni_alert_firing\{alertname="WorkloadUp",' ||
    fail "scrape failed or no alert: $(head -c 300 "$TMPDIR/m.txt" 2>/dev/null)"
if command -v promtool >/dev/null; then
    promtool check metrics <"$TMPDIR/m.txt" >"$TMPDIR/lint" 2>&1 || { cat "$TMPDIR/lint"; fail "promtool check metrics"; }
fi
grep -q '^moni_alert_firing{alertname="WorkloadUp",severity="info"} 1$' "$TMPDIR/m.txt" ||
    fail "the firing alert is not exported"
for want in moni_cpu_usage_ratio moni_memory_used_bytes moni_disk_read_bytes_per_second \
    moni_workload_rss_bytes moni_workload_alive moni_fs_out_used_ratio moni_samples_total; do
    grep -q "^$want " "$TMPDIR/m.txt" || fail "no $want in a live scrape"
done

# slowloris + a 1 MB request line while recording
$PY - "$port" <<'PYEOF' >"$TMPDIR/hostile" 2>&1
import resource, socket, sys, time
port = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
socks = []
for i in range(1000):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.send(b"GET /metrics HTTP/1.1\r\n")
        socks.append(s)
    except OSError:
        pass
for _ in range(3):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /" + b"a" * (1 << 20))
    except OSError:
        pass
time.sleep(2)
print("opened", len(socks))
PYEOF
curl -sf -m 2 "http://127.0.0.1:$port/metrics" -o /dev/null || fail "no answer after the attack"
kill -0 $pid 2>/dev/null || fail "the attacked run ended before the test did"
kill -INT $pid $cpid
wait $pid; rc=$?
wait $cpid
trap - EXIT
[ $rc -eq 143 ] || [ $rc -eq 0 ] || fail "record exited $rc"
[ -e "$out/alerts.jsonl" ] || fail "no alerts.jsonl in the run directory"
$PY - "$out/alerts.jsonl" <<'PYEOF' || fail "alerts.jsonl lacks the firing line"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines and lines[0]["alert"] == "WorkloadUp" and lines[0]["state"] == "firing", lines
assert lines[0]["timestamp"].endswith("Z") and isinstance(lines[0]["mono_ns"], (int, float))
PYEOF
$PY - "$out/meta.json" "$TMPDIR/control/meta.json" <<'PYEOF' || fail "the attack made ticks late"
import json, sys
t = json.load(open(sys.argv[1]))["ticks"]
c = json.load(open(sys.argv[2]))["ticks"]
fmt = "taken %(taken)s late %(late)s missed %(missed)s max_lag_ms %(max_lag_ms).1f"
print("attacked: " + fmt % t)
print("control:  " + fmt % c)
quiet = t["missed"] == 0 and t["late"] == 0
# a missed tick is a late one past a whole interval: on a loaded machine they come
# and go together, so they are compared as one count (an attack that stalled the loop
# for its 2 s would make 20 of them)
as_control = (t["missed"] + t["late"] <= c["missed"] + c["late"] + 3
              and t["max_lag_ms"] <= max(50, 2 * c["max_lag_ms"]))
# the attack alone lasts over 2 s: at 100 ms that is 20 ticks at least
sys.exit(0 if t["taken"] >= 20 and (quiet or as_control) else 1)
PYEOF
cat "$TMPDIR/hostile"
echo ok
