#!/usr/bin/env bash
# SIGTERM/SIGINT to moni record: SIGTERM to the workload's group, files finished,
# exit with the workload's status (128+15), no process of the workload left; a
# workload that ignores SIGTERM is killed after the 5 s grace period (137).
set -u
PY=/usr/bin/python3
. "$MONI_SRC/tests/sh/wait_common.sh"
fail() { echo "FAIL: $*"; exit 1; }
m="$MONI_BUILD/moni"
# Each run's processes carry a marker in their environment (moni passes its own on
# to the workload): a grandchild re-parented to init when its parent dies is still
# found by it, which its parent pid would not do.
mark() { echo "MONI_TEST_RUN=record_signal-$$-$1"; }
# has_marked COMM MARK: a live process named COMM carries MARK
has_marked() {
    local p
    for p in $(procs_with_env "$2"); do [ "$(cat /proc/$p/comm 2>/dev/null)" = "$1" ] && return 0; done
    return 1
}
# left_behind MARK: fails when a process of that run is still alive after moni exited
left_behind() {
    wait_no_procs_with_env "$1" 5 && return 0
    ps -o pid,ppid,pgid,stat,args -p "$(procs_with_env "$1" | tr '\n' ',' | sed 's/,$//')"
    fail "$2: process left running after moni exited"
}

# SIGTERM: the workload's grandchild (sleep under sh) must die too
mk=$(mark term)
env "$mk" "$m" record --out "$TMPDIR/t" --interval 100ms -- sh -c 'sleep 30 & wait' 2>/dev/null &
mpid=$!
wait_until 20 has_marked sleep "$mk" || fail "the workload's sleep never started"
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
left_behind "$mk" "SIGTERM"

# SIGINT: the workload gets SIGTERM
mk=$(mark int)
env "$mk" "$m" record --out "$TMPDIR/i" --interval 100ms -- sleep 30 2>/dev/null &
mpid=$!
wait_until 20 has_marked sleep "$mk" || fail "the workload never started"
kill -INT $mpid
wait $mpid
rc=$?
[ $rc -eq 143 ] || fail "exit $rc after SIGINT, want 143 (sleep got SIGTERM)"
left_behind "$mk" "SIGINT"

# a workload ignoring SIGTERM: SIGKILL after the 5 s grace.  A `sleep` under the
# shell means the trap is already set.
mk=$(mark kill)
env "$mk" "$m" record --out "$TMPDIR/k" --interval 200ms -- sh -c 'trap "" TERM; while :; do sleep 0.1; done' 2>/dev/null &
mpid=$!
wait_until 20 has_marked sleep "$mk" || fail "the TERM-ignoring workload never started"
t0=$(now_us)
kill -TERM $mpid
wait $mpid
rc=$?
ms=$((($(now_us) - t0) / 1000))
[ $rc -eq 137 ] || fail "exit $rc for a TERM-ignoring workload, want 137"
echo "TERM-ignoring workload killed after $ms ms"
[ $ms -ge 4500 ] || fail "killed after $ms ms, before the 5 s grace"
[ $ms -le 8000 ] || fail "took $ms ms to kill"
left_behind "$mk" "SIGKILL after grace"
echo PASS
