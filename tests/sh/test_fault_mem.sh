#!/usr/bin/env bash
# test_fault_mem.sh — mem: the hog's RSS (read from /proc from outside) grows to the
# size, the journal keeps the RSS curve, and the hog is gone afterwards.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
out=$TMPDIR/out
fail() { echo "FAIL: $*"; exit 1; }
$MONI fault run mem size=160M rate=200M/s oom=prefer --for 4s --out "$out" >"$TMPDIR/run.log" 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired"
pid=$(grep '"event":"fired"' "$out/faults.jsonl" | sed 's/.*"details":{"pid":\([0-9]*\).*/\1/')
[ -n "$pid" ] && [ -d /proc/$pid ] || fail "no hog pid in the journal"
r1=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
# 160M at 200M/s takes 0.8 s on an idle machine; the fault lasts 4 s
rss_reached() { r2=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null); [ "${r2:-0}" -ge 160000 ]; }
r2=$r1
wait_until 4 rss_reached
adj=$(cat /proc/$pid/oom_score_adj)
echo "hog $pid RSS ${r1} kB -> ${r2} kB, oom_score_adj $adj"
[ "$r2" -gt "$r1" ] || fail "RSS did not grow"
[ "$r2" -ge 160000 ] || fail "RSS ${r2} kB did not reach ~160M"
[ "$adj" = 1000 ] || fail "oom_score_adj $adj, want 1000"
wait $moni || fail "moni exited $?"
cat "$TMPDIR/run.log"
grep -q '"event":"effective"' "$out/faults.jsonl" || fail "no effective line"
grep '"event":"stopped"' "$out/faults.jsonl" | grep -q '"rss_curve":\[\[' || fail "no RSS curve"
grep -q '"event":"reverted"' "$out/faults.jsonl" || fail "no reverted line"
proc_gone $pid || fail "hog $pid still exists"
echo PASS
