#!/usr/bin/env bash
# test_fault_cpu.sh — `moni fault run cpu workers=1 load=50% --for 5s`: the burner's
# CPU, measured from outside (/proc/PID/stat), is 50±3% of one core; the journal has
# fired/effective/stopped/reverted with ms timestamps; the burner is gone afterwards.
# Also: bad parameters are one line naming the parameter, exit 2.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
out=$TMPDIR/out
fail() { echo "FAIL: $*"; exit 1; }
tck=$(getconf CLK_TCK)

# -- bad parameters: exit 2, one line naming the parameter
for args in "cpu load=150%" "io rate=fast --path $TMPDIR" "kill" "cpu bogus=1" "net delay=1x --port 9"; do
    # shellcheck disable=SC2086
    msg=$($MONI fault run $args --out "$TMPDIR/bad" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || fail "'$args' exited $rc, want 2 ($msg)"
    [ "$(printf '%s\n' "$msg" | wc -l)" -eq 1 ] || fail "'$args': more than one line: $msg"
    echo "ok: $args -> $msg"
done
$MONI fault run cpu load=150% --out "$TMPDIR/bad" 2>&1 | grep -q "load=150%" || fail "load=150% not named"
$MONI fault run io rate=fast --path "$TMPDIR" --out "$TMPDIR/bad" 2>&1 | grep -q "rate=fast" || fail "rate=fast not named"
$MONI fault run kill --out "$TMPDIR/bad" 2>&1 | grep -q "missing target" || fail "missing target not said"

# -- the real thing
busy_idle() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
$MONI fault run cpu workers=1 load=50% --for 5s --out "$out" >"$TMPDIR/run.log" 2>&1 &
moni=$!
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' || fail "the fault never fired"
pid=$(grep '"event":"fired"' "$out/faults.jsonl" | sed 's/.*"pids":\[\([0-9]*\).*/\1/')
[ -n "$pid" ] && [ -d /proc/$pid ] || fail "no burner pid in the journal"
# the window opens once the burner runs at its duty cycle
wait_for_file_line "$out/faults.jsonl" '"event":"effective"' || fail "the fault never became effective"
read -r b0 i0 < <(busy_idle)
t0=$(date +%s%N); c0=$(awk '{print $14+$15}' /proc/$pid/stat)
sleep 3.5   # the measurement window (the fault runs 5 s)
t1=$(date +%s%N); c1=$(awk '{print $14+$15}' /proc/$pid/stat 2>/dev/null)
[ -n "$c1" ] || fail "burner $pid ended before the measurement window did"

read -r b1 i1 < <(busy_idle)
load=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$tck" \
    'BEGIN{printf "%.1f", 100*(c1-c0)/hz/((t1-t0)/1e9)}')
# Idle share of the machine during the window: on a saturated CI box the burner only
# gets its fair share, so the precision claim is only checked when there was room.
idle=$(awk -v b0="$b0" -v b1="$b1" -v i0="$i0" -v i1="$i1" 'BEGIN{printf "%.1f", 100*(i1-i0)/((b1-b0)+(i1-i0))}')
echo "burner $pid: ${load}% of one core over 3.5 s (machine idle ${idle}%)"
wait $moni || fail "moni fault run exited $?"
cat "$TMPDIR/run.log"
if awk -v i="$idle" 'BEGIN{exit !(i >= 10)}'; then
    awk -v l="$load" 'BEGIN{exit !(l >= 47 && l <= 53)}' || fail "load ${load}% not within 50±3%"
else
    # at a load average of 10 on 2 cores a 50% duty burner got 14.8% (seen): only
    # "it ran, and never above the request" holds there
    awk -v l="$load" 'BEGIN{exit !(l >= 5 && l <= 53)}' || fail "load ${load}% implausible"
    echo "note: machine saturated (idle ${idle}%), precision not asserted"
fi
for ev in armed fired effective stopped reverted; do
    line=$(grep "\"event\":\"$ev\"" "$out/faults.jsonl") || fail "no $ev line"
    echo "$line" | grep -Eq '"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z","mono_ns":[0-9]+' \
        || fail "$ev line lacks ms timestamp + mono_ns"
done
grep '"event":"stopped"' "$out/faults.jsonl" | grep -q '"mode":"duty"' || fail "mode not journalled"
grep '"event":"stopped"' "$out/faults.jsonl" | grep -q '"cpus_used":\[[0-9]' || fail "cpus not journalled"
delivered=$(grep '"event":"stopped"' "$out/faults.jsonl" | sed 's/.*"delivered_dose":\([0-9.]*\).*/\1/')
echo "journal delivered dose: $delivered"
proc_gone $pid || fail "burner $pid still runs"
ls "$MONI_STATE_DIR" 2>/dev/null | grep -q undo && fail "state file left behind"
echo "PASS"
