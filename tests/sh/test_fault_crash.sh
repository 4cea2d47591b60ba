#!/usr/bin/env bash
# test_fault_crash.sh — the guardian: several faults fire (cpu, mem, disk_fill, stop on
# a victim, net proxy), moni is killed with SIGKILL, and within 2 s no burner or hog
# runs, no fill file remains, the victim is not stopped, the proxy is gone and the
# journal says `reverted` (by the guardian) for every fault.  Then the guardian is
# killed too, and `moni recover` undoes the leftovers from the state file.  (The
# guardian restart that a kill can cut short: test_guardian_recover and
# tests/soak/recover_stress.sh GAP_MS=60.)
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
PY=/usr/bin/python3
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
state() { proc_state "$1"; }
alive() { ! proc_gone "$1"; }
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
d=$TMPDIR/fill; mkdir -p "$d"
sleep 120 & victim=$!
srv=$(freeport); lp=$(freeport)
$PY "$MONI_SRC/tests/sh/fault_peer.py" server "$srv" & server=$!
trap 'kill -CONT $victim 2>/dev/null; kill $victim $server 2>/dev/null' EXIT

start_all() { # out-dir
    $MONI fault run --spec "cpu:load=50%" --spec "mem:size=100M,rate=1G/s" \
        --spec "disk_fill:size=32M,path=$d" --spec "stop:pid=$victim" \
        --spec "net:port=$srv,listen=$lp,delay=50ms" --max 60s --out "$1" >"$1.log" 2>&1 &
    moni=$!
    wait_for_file_count "$1/faults.jsonl" '"event":"fired"' 5 || { cat "$1.log"; fail "not all 5 faults fired"; }
    # the net proxy is effective only once traffic passes; the other four are
    # effective once their stressor holds (the victim stopped, the file filled, ...)
    wait_for_file_count "$1/faults.jsonl" '"event":"effective"' 4 || { cat "$1.log"; fail "not all 4 faults became effective"; }
    pids=$(grep -h '"event":"fired"' "$1/faults.jsonl" | grep -o '"\(pids\|pid\|proxy_pid\)":\[\?[0-9,]*' | grep -o '[0-9][0-9,]*' | tr ',\n' '  ')
    # the guardian: moni's child that leads its own session
    find_guardian() {
        guardian=$(pgrep -P $moni -x moni | while read -r p; do [ "$(ps -o sid= -p $p | tr -d ' ')" = "$p" ] && echo $p; done)
        [ -n "$guardian" ]
    }
    wait_until 10 find_guardian
}

# --- 1. kill -9 moni: the guardian reverts everything
out=$TMPDIR/o1
start_all "$out"
[ "$(state $victim)" = T ] || fail "victim not stopped before the crash"
ls -A "$d" | grep -q moni-fill || fail "no fill file before the crash"
echo "moni $moni, guardian ${guardian:-?}, stressors: $pids"
kill -9 $moni
t0=$(date +%s%N)
all_reverted() {
    local p
    for p in $pids; do [ "$p" != "$victim" ] && alive $p && return 1; done
    ls -A "$d" | grep -q moni-fill && return 1
    [ "$(state $victim)" = T ] && return 1
    ls "$MONI_STATE_DIR" | grep -q undo && return 1   # removed after the last revert
    file_count_ge "$out/faults.jsonl" '"event":"reverted"' 5
}
ok=0
wait_until 2 all_reverted && ok=1
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ok = 1 ] || {
    for p in $pids; do alive $p && echo "still alive: $p $(cat /proc/$p/comm)"; done
    ls -A "$d"; echo "victim state $(state $victim)"; grep reverted "$out/faults.jsonl"
    fail "not everything reverted within 2 s"
}
echo "everything reverted ${ms} ms after kill -9"
[ "$(grep '"event":"reverted"' "$out/faults.jsonl" | grep -c '"by":"guardian"')" = 5 ] || fail "reverted not by the guardian"
ls "$MONI_STATE_DIR" | grep -q undo && fail "state file left after the guardian's revert"
wait $moni 2>/dev/null

# --- 2. kill -9 moni AND its guardian: `moni recover` undoes the leftovers
out=$TMPDIR/o2; lp=$(freeport)
start_all "$out"
[ -n "$guardian" ] || fail "guardian not found"
# moni stopped first: between the two kills a running moni may notice its dead
# guardian and start a new one, which then undoes everything (or, before the state
# file was the record, deleted the file holding nothing: the ASan failure of issue 14)
kill -STOP $moni
kill -9 "$guardian" $moni
wait_gone "$guardian" $moni || fail "moni or its guardian survived kill -9"
ls -A "$d" | grep -q moni-fill || fail "expected a leftover fill file"
[ "$(state $victim)" = T ] || fail "expected the victim left stopped"
$MONI fault list 2>&1 >/dev/null | grep -q "leftovers" || fail "leftovers not reported at start"
$MONI recover --dry-run | tee "$TMPDIR/dry.log"
ls -A "$d" | grep -q moni-fill || fail "--dry-run deleted something"
$MONI recover | tee "$TMPDIR/recover.log" || fail "moni recover exited $?"
ls -A "$d" | grep -q moni-fill && fail "recover left the fill file"
[ "$(state $victim)" = T ] && fail "recover left the victim stopped"
for p in $pids; do [ "$p" != "$victim" ] && alive $p && fail "stressor $p alive after recover"; done
grep '"event":"reverted"' "$out/faults.jsonl" | grep -q '"by":"recover"' || fail "recover did not journal"
$MONI recover | grep -q "nothing to recover" || fail "second recover found work"
echo PASS
