#!/usr/bin/env bash
# test_fault_guardian.sh — the guardian keeps every fault revertible (issue 14):
#  1. more than 512 undo items in a session: a disk_fill armed after 519 faults is
#     still undone when moni is SIGKILLed (no fixed cap drops an undo item);
#  2. moni stopped (SIGTSTP) past a fault's window: the guardian ends the burner and
#     deletes the fill file on its own clock, journals it, and moni, continued,
#     does not journal those faults again;
#  5. the guardian killed: moni notices at once, says so, starts a new one, and that
#     one undoes the fill file when moni is SIGKILLed afterwards.
set -u
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
state() { awk '{print $3}' /proc/$1/stat 2>/dev/null; }
alive() { [ -d /proc/$1 ] && [ "$(state $1)" != Z ]; }
gone() { ! alive "$1"; }
is_state() { [ "$(state $1)" = "$2" ]; }
wait_for() { # deadline_s, command... : polls until the command succeeds
    local end=$((SECONDS + $1)); shift
    until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.05; done
}
fired() { local n; n=$(grep -c '"event":"fired"' "$1/faults.jsonl" 2>/dev/null); [ "${n:-0}" -ge "$2" ]; }
fills() { ls -A "$1" 2>/dev/null | grep -q moni-fill; }
no_fill() { ! fills "$1"; }
guardian_of() { # moni pid -> its guardian (a child of moni leading its own session)
    pgrep -P "$1" -x moni | while read -r p; do
        [ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ] && echo "$p"
    done
}
pids=()
trap 'for p in "${pids[@]}"; do kill -CONT $p 2>/dev/null; kill -9 $p 2>/dev/null; done' EXIT

# --- 1. 519 armed faults, then a fill: SIGKILL moni, the fill file goes
d=$TMPDIR/fill1; mkdir -p "$d"; out=$TMPDIR/o1
{ # a plan: one experiment with 519 kill faults far ahead and a fill at 1 s
    echo '{"name": "many", "defaults": {"workload": ["sleep", "120"], "duration": "2m"},'
    echo ' "experiments": [{"name": "e", "faults": ['
    for _ in $(seq 519); do echo '{"kind": "kill", "params": {"signal": "CONT"}, "at": "100s"},'; done
    echo "{\"kind\": \"disk_fill\", \"params\": {\"size\": \"8M\"}, \"target\": \"path=$d\", \"at\": \"1s\"}]}]}"
} >"$TMPDIR/many.json"
$MONI run --plan "$TMPDIR/many.json" --out "$out" >"$TMPDIR/o1.log" 2>&1 &
moni=$!; pids+=($moni)
# arming 519 faults journals (and fsyncs) 519 lines first: slow under ASan and load
wait_for 120 fills "$d" || { tail -5 "$TMPDIR/o1.log"; fail "1: no fill file"; }
out=$(dirname "$(ls "$out"/*/faults.jsonl | head -1)")
wait_for 10 fired "$out" 1 || fail "1: the fill never fired"
kill -9 $moni
wait_for 5 no_fill "$d" || { ls -l "$d"; fail "1: fill file left after SIGKILL of moni (undo item dropped)"; }
grep '"kind":"disk_fill"' "$out/faults.jsonl" | grep '"event":"reverted"' | grep -q '"by":"guardian"' \
    || fail "1: the guardian did not journal the fill reverted"
grep '"kind":"disk_fill"' "$out/faults.jsonl" | grep '"event":"reverted"' | grep -q 'deleted' \
    || fail "1: the fill's reverted line lists no undo"
echo "1: fill file undone after 520 faults"

# --- 2. moni stopped past the window: the guardian ends the faults itself
d=$TMPDIR/fill2; mkdir -p "$d"; out=$TMPDIR/o2
$MONI run --fault "cpu:load=30%@500ms+1s" --fault "disk_fill:size=8M,path=$d@500ms+1s" \
    --out "$out" -- sleep 60 >"$TMPDIR/o2.log" 2>&1 &
moni=$!; pids+=($moni)
wait_for 20 fired "$out" 2 || { cat "$TMPDIR/o2.log"; fail "2: faults did not fire"; }
burner=$(grep '"kind":"cpu"' "$out/faults.jsonl" | grep -o '"pids":\[[0-9]*' | grep -o '[0-9]*$' | head -1)
kill -TSTP $moni
wait_for 5 is_state $moni T || fail "2: moni not stopped"
t0=$SECONDS
wait_for 8 no_fill "$d" || fail "2: fill file outlived its window while moni was stopped"
[ -n "$burner" ] || fail "2: no burner pid in the journal"
wait_for 5 gone "$burner" || fail "2: burner $burner outlived its window while moni was stopped"
echo "2: reverted by the guardian within $((SECONDS - t0)) s of stopping moni"
[ "$(state $moni)" = T ] || fail "2: moni ran meanwhile"
[ "$(grep '"event":"reverted"' "$out/faults.jsonl" | grep -c '"by":"guardian"')" = 2 ] \
    || { cat "$out/faults.jsonl"; fail "2: the guardian did not journal both faults"; }
kill -CONT $moni
kill -TERM $moni
wait $moni
for k in cpu disk_fill; do
    n=$(grep "\"kind\":\"$k\"" "$out/faults.jsonl" | grep -c '"event":"reverted"')
    [ "$n" = 1 ] || fail "2: $k journalled reverted $n times"
done

# --- 5. the guardian dies: moni says so and starts another one
d=$TMPDIR/fill5; mkdir -p "$d"; out=$TMPDIR/o5
$MONI run --fault "disk_fill:size=8M,path=$d@300ms" --out "$out" -- sleep 60 \
    >"$TMPDIR/o5.log" 2>&1 &
moni=$!; pids+=($moni)
wait_for 20 fills "$d" || fail "5: no fill file"
g=$(guardian_of $moni)
[ -n "$g" ] || fail "5: guardian not found"
kill -9 "$g"
wait_for 3 grep -q "guardian (pid $g) died" "$TMPDIR/o5.log" || { cat "$TMPDIR/o5.log"; fail "5: moni did not notice the dead guardian"; }
grep "guardian" "$TMPDIR/o5.log"
has_guardian() { [ -n "$(guardian_of $moni)" ]; }
wait_for 3 has_guardian || fail "5: no new guardian"
g2=$(guardian_of $moni)
[ "$g2" != "$g" ] || fail "5: same guardian"
kill -9 $moni
wait_for 5 no_fill "$d" || fail "5: the new guardian did not undo the fill"
echo PASS
