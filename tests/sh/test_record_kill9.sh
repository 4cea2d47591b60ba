#!/usr/bin/env bash
# kill -9 of moni midway: every row taken is on disk and parses; the workload dies
# with moni (PR_SET_PDEATHSIG).
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
out="$TMPDIR/run"
"$MONI_BUILD/moni" record --out "$out" --interval 20ms -- sleep 60 2>/dev/null &
mpid=$!
find_workload() { wpid=$(pgrep -P $mpid -x sleep); [ -n "$wpid" ]; }
wait_until 10 find_workload || fail "the workload never started"
# kill once 50 rows are on disk (~1 s at 20 ms): rows are written as they are taken
wait_for_lines "$out/samples.csv" 51 || fail "fewer than 50 rows on disk after 20 s"
kill -9 $mpid
wait $mpid 2>/dev/null
# (a dead child of a killed moni may stay a zombie if PID 1 does not reap)
wait_gone "$wpid" || { kill -9 "$wpid"; fail "workload survived moni"; }
$PY - "$out" <<'PYEOF' || exit 1
import csv, json, sys
d = sys.argv[1]
raw = open(d + "/samples.csv").read()
def fail(m): print("FAIL:", m); sys.exit(1)
if not raw.endswith("\n"): fail("torn last row")
rows = list(csv.reader(raw.splitlines()))
hdr, body = rows[0], rows[1:]
if len(body) < 50: fail("only %d rows, 50 were on disk before the kill" % len(body))
for r in body:
    if len(r) != len(hdr): fail("ragged row")
    for c in r[2:]:
        if c: float(c)
json.load(open(d + "/meta.json"))  # the start version, still valid
print("ok %d rows" % len(body))
PYEOF
echo PASS
