#!/usr/bin/env bash
# events.jsonl, workload.log and workload.idx are written once per tick, not per
# line: after a kill -9 of moni every line read one tick or more before the kill and
# its record are on disk, and every line of the files is whole.  For `moni run` (the 100 ms fault tick) and `moni record`
# (the sample tick).
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
# 40 metric lines at 20 a second, then silence (the workload lives on)
cat >"$TMPDIR/chatty.sh" <<'SH'
for i in $(seq 1 40); do
    echo "{'loss': 0.$i, 'learning_rate': 5e-05, 'epoch': $i.5}"
    sleep 0.05
done
exec sleep 60
SH
check() { # MODE OUT
    local mode=$1 out=$2 mpid rows
    if [ "$mode" = run ]; then
        "$M" run --out "$out" --interval 200ms --duration 60s -- bash "$TMPDIR/chatty.sh" >/dev/null 2>&1 &
    else
        "$M" record --out "$out" --interval 200ms -- bash "$TMPDIR/chatty.sh" >/dev/null 2>&1 &
    fi
    mpid=$!
    # all 40 lines read (workload.idx: header + one row per line) ...
    wait_for_lines "$out/workload.idx" 41 30 || { kill -9 $mpid; fail "$mode: the 40 lines were not read"; }
    # ... and two samples taken since: at least one tick passed after the last line
    rows=$(wc -l <"$out/samples.csv")
    wait_for_lines "$out/samples.csv" $((rows + 2)) 20 || { kill -9 $mpid; fail "$mode: no samples"; }
    kill -9 $mpid
    wait $mpid 2>/dev/null
    $PY - "$out" "$mode" <<'PYEOF' || exit 1
import json, sys
d, mode = sys.argv[1], sys.argv[2]
def fail(m): print("FAIL: %s: %s" % (mode, m)); sys.exit(1)
raw = open(d + "/events.jsonl", "rb").read()
if raw and not raw.endswith(b"\n"): fail("torn last line")
ev = [json.loads(l) for l in raw.decode().splitlines()]
loss = [e for e in ev if "loss" in e.get("fields", {})]
if len(loss) != 40: fail("%d of the 40 metric records on disk after kill -9" % len(loss))
if [e["line"] for e in loss] != list(range(1, 41)): fail("lines %s" % [e["line"] for e in loss])
log = open(d + "/workload.log", "rb").read()
if not log.endswith(b"\n") or log.count(b"\n") != 40: fail("workload.log: %r" % log[-200:])
idx = open(d + "/workload.idx").read().splitlines()
if len(idx) != 41 or idx[-1].split(",")[0] != "40": fail("workload.idx: %s" % idx[-2:])
print("ok: %s: 40 records, %d lines" % (mode, len(ev)))
PYEOF
}
check run "$TMPDIR/run"
check record "$TMPDIR/rec"
echo PASS
