#!/usr/bin/env bash
# `moni run --metrics-listen` exports the live run, fault state included: while a
# stop fault is firing on the workload, /metrics shows it active, and promtool
# accepts the page.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
M="$MONI_BUILD/moni"
export XDG_CONFIG_HOME="$TMPDIR/config"
fail() { echo "FAIL: $*"; [ -e "$TMPDIR/run.err" ] && sed 's/^/  moni: /' "$TMPDIR/run.err"; exit 1; }
command -v curl >/dev/null || { echo "skipped: curl missing"; exit 77; }

"$M" run --out "$TMPDIR/run" --interval 200ms --duration 8s --metrics-listen 0 \
    --fault 'stop@1s+4s' -- sleep 30 >/dev/null 2>"$TMPDIR/run.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null' EXIT
wait_for_file_line "$TMPDIR/run.err" '^moni: metrics on http://' || fail "no metrics port announced"
port=$(sed -n 's|^moni: metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$TMPDIR/run.err")
[ -n "$port" ] || fail "no metrics port announced"
# the stop fault fires at 1 s for 4 s: scrape while it is active
wait_for_scrape "http://127.0.0.1:$port/metrics" "$TMPDIR/m.txt" '^moni_fault_active\{kind="stop",fault_id="f1"\} 1$' ||
    { grep moni_fault "$TMPDIR/m.txt"; fail "the firing stop fault is not exported as active"; }
if command -v promtool >/dev/null; then
    promtool check metrics <"$TMPDIR/m.txt" >"$TMPDIR/lint" 2>&1 || { cat "$TMPDIR/lint"; fail "promtool check metrics"; }
fi
grep -q '^moni_workload_alive 1$' "$TMPDIR/m.txt" || fail "workload not exported alive"
wait $pid
grep -q '"event":"reverted"' "$TMPDIR/run/faults.jsonl" || fail "fault not reverted"
[ -s "$TMPDIR/run/tse_matrix.csv" ] || fail "no dataset built"
echo ok
