#!/usr/bin/env bash
# test_tui_faults.sh — fault kinds armed, fired and stopped from the keyboard in
# tmux (cpu is in test_tui_console.sh): net with its port, delay, direction and
# window (a form of 21 fields that scrolls at 120x40) and its drill-down, gpu_mem
# through the fake CUDA library, mem, io, disk_fill, knob with its KEY=VALUE list
# (lr=10: moni-train, started with its control file, goes NaN on screen), stop
# (the header reads "stopped") and kill.  A form that does not validate is refused
# in the form and journals nothing; the run then validates.
. "$(dirname "$0")/tui_common.sh"
fake="$MONI_BUILD/tests/libfake_cuda.so"
[ -e "$fake" ] || { echo "skipped: no $fake"; exit 77; }
[ -x "${TRAIN[0]}" ] || { echo "skipped: moni-train not built"; exit 77; }
PEER=$MONI_SRC/tests/sh/fault_peer.py
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
srv=$(freeport)
$PY "$PEER" server "$srv" & server=$!
trap 'kill $server 2>/dev/null; cleanup' EXIT
wait_until 10 $PY "$PEER" rtt "$srv" 1 >/dev/null 2>&1 || fail "the echo server did not start"
R="$W/run"
J="$R/faults.jsonl"
CS="$W/cuda.state"
start 120 40 MONI_CUDA_LIB="$fake" FAKE_CUDA_STATE="$CS" FAKE_CUDA_TOTAL=$((8 << 30)) -- \
    --out "$R" --interval 500ms -- "${TRAIN[@]}"
wait_for "loss [0-9]" 30

# ---- net: the port (first, it is required), delay, direction and the window,
# the 18th of 21 fields (the form scrolls)
keys 5 a
wait_for "arm net: fields 1-[0-9]+ of 21" 5
keys Enter                                  # no port: refused in the form
wait_for "port: required" 5
[ "$(journal_lines)" = 0 ] || fail "a refused form was journalled: $(cat "$J")"
focus "port"
keys -l "$srv"
wait_for "│ port +${srv}_" 5
focus "delay \(s\)"
keys -l "20ms"
wait_for "│ delay \(s\) +20ms_" 5
focus "direction"
keys -l "sideways"
wait_for "one of|both\|up\|down" 5          # inline validation
keys BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
keys -l "up"
wait_for "│ direction +up_" 5
focus "for \(s\)"
wait_for "arm net: fields [0-9]+-(1[89]|2[01]) of 21" 5  # scrolled down to it
keys -l "60s"
keys Enter
wait_for ">5 net +armed" 10
keys f
wait_for ">5 net +firing" 10
wait_for_file_line "$J" '"event":"fired"' || fail "net never fired"
grep '"event":"fired"' "$J" | grep -q "port:$srv" || fail "the form's port is not the target: $(grep fired "$J")"
grep '"event":"armed"' "$J" | grep -q '"direction":"up"' || fail "direction=up not journalled"
grep '"event":"armed"' "$J" | grep -q '"delay":"20ms"' || fail "delay=20ms not journalled"
keys s
wait_for ">5 net +stopped" 10
wait_until 10 journal_has "$J" reverted f1 || fail "net not reverted"
# the row shows the dose first; Enter drills down into the fault
screen | grep -Eq ">5 net +stopped +20 ?ms->" || fail "the net row does not show its dose first"
keys Enter
wait_for "fault net \(j/k scroll" 5
wait_for "dose +requested 20 ?ms, delivered" 5
wait_for "effect +(effective|no effect seen while it fired)" 5
wait_for '"event":"reverted","fault_id":"f1"' 5   # its journal lines
keys Escape
wait_gone_from_screen "fault net \(j/k scroll"

# ---- gpu_mem through the fake CUDA driver: 1G held, then released
keys 8 a
wait_for "arm gpu_mem" 5
focus "size \(B\|%\)"
keys -l "1G"
keys Enter
wait_for ">8 gpu_mem +armed" 10
# the holder is the one process with the fake's environment that was not there before
base=$(procs_with_env "FAKE_CUDA_STATE=$CS" | sort)
keys f
wait_for ">8 gpu_mem +firing" 10
held() { [ "$(awk '{print $2}' "$CS" 2>/dev/null)" = "$1" ]; }
wait_until 20 held $((1 << 30)) || fail "the fake device does not hold 1G: $(cat "$CS" 2>/dev/null)"
wait_until 10 journal_has "$J" effective f2 || fail "gpu_mem never effective"
holder=$(comm -13 <(echo "$base") <(procs_with_env "FAKE_CUDA_STATE=$CS" | sort))
[ -n "$holder" ] || fail "no holder process while gpu_mem fires"
keys s
wait_for ">8 gpu_mem +stopped" 10
wait_gone $holder || fail "the holder $holder is still running"
wait_until 10 journal_has "$J" reverted f2 || fail "gpu_mem not reverted"
keys Enter
wait_for "fault gpu_mem \(j/k scroll" 5
wait_for "dose +requested 1.0G, delivered 1.0G" 5
wait_for "effect +effective" 5
keys Escape
wait_gone_from_screen "fault gpu_mem \(j/k scroll"

# ---- mem, io, disk_fill: one field each, then arm, fire, effective, stop
# run N KIND ID FIELD_ERE VALUE: the whole cycle from the keyboard
run() {
    keys "$1" a
    wait_for "arm $2" 5
    focus "$4"
    keys -l "$5"
    wait_for "│ $4 +$5_" 5
    keys Enter
    wait_for ">$1 $2 +armed" 10
    keys f
    wait_for ">$1 $2 +firing" 10
    wait_until 20 journal_has "$J" effective "$3" || fail "$2 never effective"
    keys s
    wait_for ">$1 $2 +stopped" 10
    wait_until 15 journal_has "$J" reverted "$3" || fail "$2 not reverted"
}
run 2 mem f3 "size \(B\)" 64M
run 4 io f4 "size \(B\)" 16M
run 3 disk_fill f5 "size \(B\)" 16M

# ---- knob: the KEY=VALUE list, written to the control file moni-train was given
keys 9 a
wait_for "arm knob" 5
before=$(journal_lines)
keys Enter                                  # nothing to write: refused in the form
wait_for "set: give at least one KEY=VALUE" 5
[ "$(journal_lines)" = "$before" ] || fail "a refused knob form was journalled"
focus "set"
keys -l "lr=10"
keys Enter
wait_for ">9 knob +armed" 10
keys f
wait_for ">9 knob +firing" 10
wait_for "loss NaN" 60                      # the trainer applied it: the loss on screen
wait_until 10 journal_has "$J" effective f6 || fail "knob never effective (applied line)"
grep '"event":"armed","fault_id":"f6"' "$J" | grep -q "path:$R/control" ||
    fail "the knob did not target the run's control file: $(grep f6 "$J" | head -n 1)"
pgrep -f -- "--control $R/control" >/dev/null || fail "moni-train was not given --control $R/control"
keys s
wait_for ">9 knob +stopped" 10
wait_until 10 journal_has "$J" reverted f6 || fail "knob not reverted"

# ---- stop: the workload hangs for 3 s, and the header says so
keys 7 a
wait_for "arm stop" 5
focus "duration \(s\)"
keys -l "3s"
wait_for "│ duration \(s\) +3s_" 5
keys Enter
wait_for ">7 stop +armed" 10
keys f
wait_for ">7 stop +firing" 10
wait_for "workload stopped pid" 10
wait_for ">7 stop +stopped" 15                     # it ends by itself
wait_for "workload running pid" 10
wait_until 10 journal_has "$J" reverted f7 || fail "stop not reverted"

# ---- kill: the default SIGKILL to the workload
keys 6 a
wait_for "arm kill" 5
keys Enter
wait_for ">6 kill +armed" 10
keys f
wait_for "workload killed by SIGKILL" 15
wait_until 10 journal_has "$J" fired f8 || fail "kill never fired"

keys q
rc=$(wait_exit 30)
[ "$rc" = 137 ] || fail "moni exited $rc, not the killed workload's 137"
grep -q '"event":"failed"' "$J" && fail "a fault failed: $(grep failed "$J")"
# what the console journalled validates: every fault fired and was labelled, none
# failed or never fired (sub-second windows may show no channel moved on a 1 s grid:
# that is the data telling the truth, not a console error)
"$MONI_BUILD/moni" validate "$R" >"$W/validate.out" 2>&1
grep -q "NEVER FIRED\|label coverage [0-8]\?[0-9]%" "$W/validate.out" && {
    cat "$W/validate.out"; fail "moni validate found unfired or unlabelled faults"; }
[ "$(grep -c '^  fault f[0-9]' "$W/validate.out")" -ge 8 ] || {
    cat "$W/validate.out"; fail "moni validate does not list the 8 faults"; }
echo PASS
