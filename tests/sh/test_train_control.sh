#!/usr/bin/env bash
# moni-train --control: lr changed mid-run is applied at the next step and the loss
# reacts; the change is acknowledged in CONTROL.ack (step, time, values, ignored keys)
# and not in the log, unless --log-control asks for "[control] lr=10.0 applied at
# step N"; bad keys only warn.
. "$(dirname "$0")/train_common.sh"

CTL=$W/control
logged() { [ "$(losses "$1" | wc -l)" -ge "$2" ]; }
# $1 log file, then extra options: runs 250 steps, changes the knobs after 40
run_with_change() {
    local log=$1
    shift
    rm -f "$CTL" "$CTL.ack"
    "$T" $SMALL --control "$CTL" --max-steps 250 --logging-steps 5 --eval-steps 0 --save-steps 0 \
        --lr-scheduler constant "$@" >"$log" 2>&1 &
    local pid=$!
    wait_until 60 logged "$log" 8 || fail "40 steps not logged in 60 s"
    printf 'lr=10\nbogus_key=1\nsleep_ms=1\n' >"$CTL.tmp" && mv "$CTL.tmp" "$CTL" # as moni does
    wait $pid || fail "run exited $?"
}

run_with_change "$W/log"
# the log holds no acknowledgement; the ack file does
! grep -q '^\[control\].*applied' "$W/log" || fail "a [control] ... applied line in the log by default"
[ -s "$CTL.ack" ] || fail "no $CTL.ack"
ls "$W"/control.ack.tmp 2>/dev/null && fail "temporary ack left behind"
python3 - "$CTL.ack" "$CTL" <<'PY' || fail "bad ack: $(cat "$CTL.ack")"
import json, sys, re
a = json.load(open(sys.argv[1]))
assert a["control"] == sys.argv[2], a
assert a["values"] == {"lr": 10, "sleep_ms": 1}, a
assert a["applied"] == {"lr": 10, "sleep_ms": 1}, a
assert a["ignored"] == ["bogus_key"] and a["warnings"] == 1, a
assert a["step"] >= 40 and a["mono_ns"] > 0, a
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", a["time"]), a
PY
grep -q "^\[control\] warning: .*unknown key 'bogus_key'" "$W/log" || fail "no warning for the unknown key"
step=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$CTL.ack")
# the loss reacts after the step the ack names (loss lines every 5 steps)
before=$(losses "$W/log" | head -n $((step / 5)) | tail -n 3 | awk '{s+=$1} END {print s/NR}')
after=$(losses "$W/log" | tail -n +$((step / 5 + 1)))
echo "lr=10 applied at step $step; loss before ~$before; after: $(echo $after | cut -c1-120)"
echo "$after" | awk -v b="$before" '$1 == "nan" || $1 == "inf" || $1 > 3 * b {hit=1} END {exit !hit}' \
    || fail "loss did not react to lr=10"
# the learning rate in the dict lines follows the override
grep -q "'learning_rate': 10.0," "$W/log" || fail "learning_rate not 10.0 after the change"

# --log-control: the old line, for people who want it
run_with_change "$W/log2" --log-control
grep -Eq '^\[control\] lr=10\.0 applied at step [0-9]+$' "$W/log2" || fail "no [control] lr line with --log-control"
grep -Eq '^\[control\] sleep_ms=1 applied at step [0-9]+$' "$W/log2" || fail "no [control] sleep_ms line with --log-control"
s2=$(sed -n 's/^\[control\] lr=10\.0 applied at step \([0-9]*\)$/\1/p' "$W/log2")
a2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$CTL.ack")
[ "$s2" = "$a2" ] || fail "log line says step $s2, ack says $a2"
echo ok
