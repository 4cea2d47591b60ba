#!/usr/bin/env bash
# test_fault_io.sh — io writes at the requested rate (bytes written measured from
# /proc/PID/io), fsync latencies are journalled, the file is deleted afterwards.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
d=$TMPDIR/io; mkdir -p "$d"; out=$TMPDIR/out
$MONI fault run io op=write direct=0 rate=20M/s block=1M fsync=each size=64M --path "$d" --for 4s --out "$out" >"$TMPDIR/run.log" 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired"
# the writer: a child of moni with the moni-io file open
find_writer() {
    pid=$(cat /proc/$moni/task/*/children 2>/dev/null | tr ' ' '\n' | while read -r p; do
        [ -n "$p" ] && grep -q '^wchar' /proc/$p/io 2>/dev/null && [ "$(ls -l /proc/$p/fd 2>/dev/null | grep -c moni-io)" -gt 0 ] && echo $p; done | head -1)
    [ -n "$pid" ]
}
wait_until 10 find_writer || fail "no writer process found"
wait_for_file_line "$out/faults.jsonl" '"event":"effective"' || fail "the fault never became effective"
w0=$(awk '/^wchar/{print $2}' /proc/$pid/io); t0=$(date +%s%N)
sleep 2   # the measurement window (the fault runs 4 s)
w1=$(awk '/^wchar/{print $2}' /proc/$pid/io); t1=$(date +%s%N)
rate=$(awk -v a="$w0" -v b="$w1" -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.2f", (b-a)/1048576/((t1-t0)/1e9)}')
echo "writer $pid: $rate MiB/s (requested 20)"
awk -v r="$rate" 'BEGIN{exit !(r >= 17 && r <= 23)}' || fail "rate $rate MiB/s not within 20±15%"
wait $moni || fail "moni exited $?"
grep '"event":"stopped"' "$out/faults.jsonl" | grep -q '"fsync_mean_ms"' || fail "no fsync latencies"
grep -q '"event":"reverted"' "$out/faults.jsonl" || fail "no reverted"
ls -A "$d" | grep -q moni-io && fail "io file left behind"
proc_gone $pid || fail "writer $pid still running"
# the defaults contend for the device: reads and writes, O_DIRECT where the filesystem
# has it (its journal says which), at a rate the disk cannot reach
out2=$TMPDIR/out2
$MONI fault run io size=16M --path "$d" --for 2s --out "$out2" >"$TMPDIR/run2.log" 2>&1 || fail "defaults: moni exited $?"
stopped=$(grep '"event":"stopped"' "$out2/faults.jsonl")
for want in '"op":"rw"' '"direct":' '"rate":"1G/s"'; do
    echo "$stopped" | grep -q "$want" || fail "defaults: no $want in $stopped"
done
echo "$stopped" | grep -qE '"bytes_read":[1-9]' || fail "defaults read nothing: $stopped"
echo "$stopped" | grep -qE '"bytes_written":[1-9]' || fail "defaults wrote nothing: $stopped"
echo PASS
