#!/usr/bin/env bash
# tests/soak/recover_stress.sh — the stress loop for `moni recover` after a double
# SIGKILL (not part of `make test`): fires cpu, mem, disk_fill and stop faults with
# `moni fault run`, SIGKILLs the guardian and moni in one `kill` as test_fault_crash
# does (or, with GAP_MS=N, the guardian first and moni a random 0-N ms later, which
# lets moni start a new guardian in between), then runs `moni recover --dry-run` and
# `moni recover` and checks that the fill file is gone and the victim runs again.
# Run two at once (and under an ASan build) to widen the races.  Prints one line per
# failed round and a closing "recover_stress: N rounds, F failures, ..."; the logs
# of every failed round are kept (with the state file as it was after the kill and
# the session's processes still alive then).  Exit 1 on any failure.
# Usage: BUILD=build-asan ROUNDS=50 [GAP_MS=40] tests/soak/recover_stress.sh
set -u
cd "$(dirname "$0")/../.."
SRC=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
export MONI_SRC="$SRC"
. "$SRC/tests/sh/wait_common.sh"
MONI=$BUILD/moni
ROUNDS=${ROUNDS:-50}
GAP_MS=${GAP_MS:-0}
W=$(mktemp -d "${TMPDIR:-/tmp}/moni-rstress.XXXXXX")
KEEP=$W/failed
mkdir -p "$KEEP"
sleep 100000 & victim=$!
trap 'kill -CONT $victim 2>/dev/null; kill $victim 2>/dev/null' EXIT

find_guardian() {
    guardian=$(pgrep -P "$moni" -x moni | while read -r p; do
        [ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ] && echo "$p"; done)
    [ -n "$guardian" ]
}

fails=0 restarts=0 twoS=0 noleft=0
for r in $(seq 1 "$ROUNDS"); do
    R=$W/r$r
    mkdir -p "$R/fill"
    export MONI_STATE_DIR=$R/state
    MONI_RSTRESS=$R $MONI fault run --spec "cpu:load=50%" --spec "mem:size=100M,rate=1G/s" \
        --spec "disk_fill:size=32M,path=$R/fill" --spec "stop:pid=$victim" \
        --max 60s --out "$R/o" >"$R/moni.log" 2>&1 &
    moni=$!
    if ! wait_for_file_count "$R/o/faults.jsonl" '"event":"effective"' 4 60; then
        echo "round $r: faults not effective (setup, not counted)"
        kill -9 $moni; wait $moni 2>/dev/null; $MONI recover >/dev/null 2>&1
        rm -rf "$R"; continue
    fi
    guardian=
    wait_until 10 find_guardian || { echo "round $r: no guardian"; kill -9 $moni; continue; }
    if [ "$GAP_MS" -gt 0 ]; then
        kill -9 "$guardian"
        sleep "$(printf '0.%03d' $((RANDOM % GAP_MS)))"
        kill -9 $moni
    else
        kill -9 "$guardian" $moni
    fi
    wait_gone "$guardian" $moni
    wait $moni 2>/dev/null
    # what a test sees right after the kill: the state file and who is still there
    cat "$R"/state/*.undo >"$R/state-after-kill.txt" 2>/dev/null
    for p in $(procs_with_env "MONI_RSTRESS=$R"); do
        echo "$p $(cat /proc/$p/comm 2>/dev/null) $(proc_state "$p")"
    done >"$R/procs-after-kill.txt"
    ls -A "$R/fill" | grep -q moni-fill || noleft=$((noleft + 1))
    $MONI recover --dry-run >"$R/dry.log" 2>&1
    $MONI recover >"$R/recover.log" 2>&1
    grep -q "started a new one" "$R/moni.log" && restarts=$((restarts + 1))
    [ "$(grep -c '^S' "$R/state-after-kill.txt")" -ge 2 ] && twoS=$((twoS + 1))
    bad=
    ls -A "$R/fill" | grep -q moni-fill && bad="fill file left"
    [ "$(proc_state $victim)" = T ] && bad="$bad victim stopped"
    if [ -n "$bad" ]; then
        fails=$((fails + 1))
        echo "round $r: FAILED: $bad"
        sed 's/^/  dry: /' "$R/dry.log"; sed 's/^/  rec: /' "$R/recover.log"
        sed 's/^/  state: /' "$R/state-after-kill.txt"; sed 's/^/  alive: /' "$R/procs-after-kill.txt"
        sed 's/^/  moni: /' "$R/moni.log" | tail -n 3
        cp -r "$R" "$KEEP/"
        $MONI recover >/dev/null 2>&1   # leave nothing behind for the next round
        rm -f "$R"/fill/.moni-fill-*; kill -CONT $victim
    fi
    rm -rf "$R"
done
echo "recover_stress: $ROUNDS rounds, $fails failures; $restarts restarts warned," \
     "$twoS state files of a restarted guardian, $noleft rounds with nothing left after the kill; kept: $KEEP"
[ "$(ls -A "$KEEP")" ] || rm -rf "$W"
[ $fails -eq 0 ]
