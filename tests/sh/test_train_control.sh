#!/usr/bin/env bash
# moni-train --control: lr changed mid-run is applied at the next step, logged as
# "[control] lr=10.0 applied at step N", and the loss reacts; bad keys only warn.
. "$(dirname "$0")/train_common.sh"

CTL=$W/control
"$T" $SMALL --control "$CTL" --max-steps 250 --logging-steps 5 --eval-steps 0 --save-steps 0 \
    --lr-scheduler constant >"$W/log" 2>&1 &
pid=$!
# wait until 40 steps have been logged, then fire (atomic replace, as moni does)
logged() { [ "$(losses "$W/log" | wc -l)" -ge "$1" ]; }
wait_until 60 logged 8 || fail "40 steps not logged in 60 s"
printf 'lr=10\nbogus_key=1\nsleep_ms=1\n' >"$CTL.tmp" && mv "$CTL.tmp" "$CTL"
wait $pid || fail "run exited $?"

grep -Eq '^\[control\] lr=10\.0 applied at step [0-9]+$' "$W/log" || fail "no [control] lr line"
grep -Eq '^\[control\] sleep_ms=1 applied at step [0-9]+$' "$W/log" || fail "no [control] sleep_ms line"
grep -q "^\[control\] warning: .*unknown key 'bogus_key'" "$W/log" || fail "no warning for the unknown key"
step=$(sed -n 's/^\[control\] lr=10\.0 applied at step \([0-9]*\)$/\1/p' "$W/log")
[ "$step" -ge 40 ] || fail "applied too early (step $step)"
before=$(sed -n '/^\[control\] lr=/q;p' "$W/log" | sed -n "s/^{'loss': \([^,]*\),.*/\1/p" | tail -n 3 | awk '{s+=$1} END {print s/NR}')
after=$(sed -n '/^\[control\] lr=/,$p' "$W/log" | sed -n "s/^{'loss': \([^,]*\),.*/\1/p")
echo "lr=10 applied at step $step; loss before ~$before; after: $(echo $after | cut -c1-120)"
echo "$after" | awk -v b="$before" '$1 == "nan" || $1 == "inf" || $1 > 3 * b {hit=1} END {exit !hit}' \
    || fail "loss did not react to lr=10"
# the learning rate in the dict lines follows the override
grep -q "'learning_rate': 10.0," "$W/log" || fail "learning_rate not 10.0 after the change"
echo ok
