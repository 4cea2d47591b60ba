#!/usr/bin/env bash
# SIGTERM/SIGINT to moni record: SIGTERM to the workload's group, files finished,
# exit with the workload's status (128+15); a workload that ignores SIGTERM is
# killed after the grace period (137).
set -u
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
m="$MONI_BUILD/moni"
"$m" record --out "$TMPDIR/t" --interval 100ms -- sh -c 'sleep 30 & wait' 2>/dev/null &
mpid=$!
sleep 1
kill -TERM $mpid
wait $mpid
rc=$?
[ $rc -eq 143 ] || fail "exit $rc after SIGTERM, want 143"
$PY -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["complete"] and m["stop_reason"] == "signal SIGTERM", m["stop_reason"]
assert m["workload"]["exit_signal"] == 15
' "$TMPDIR/t/meta.json" || fail "meta after SIGTERM"
pgrep -f 'sleep 30' -P $$ >/dev/null && fail "grandchild left"
"$m" record --out "$TMPDIR/i" --interval 100ms -- sleep 30 2>/dev/null &
mpid=$!
sleep 0.7
kill -INT $mpid
wait $mpid
rc=$?
[ $rc -eq 143 ] || fail "exit $rc after SIGINT, want 143 (sleep got SIGTERM)"
# a workload ignoring SIGTERM: SIGKILL after the 5 s grace
"$m" record --out "$TMPDIR/k" --interval 200ms -- sh -c 'trap "" TERM; while :; do sleep 0.1; done' 2>/dev/null &
mpid=$!
sleep 0.7
t0=$(date +%s)
kill -TERM $mpid
wait $mpid
rc=$?
dt=$(( $(date +%s) - t0 ))
[ $rc -eq 137 ] || fail "exit $rc for a TERM-ignoring workload, want 137"
[ $dt -le 8 ] || fail "took ${dt}s to kill"
echo PASS
