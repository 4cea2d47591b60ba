#!/usr/bin/env bash
# moni-train, lr 10: the loss really overflows to nan within a few dozen steps;
# --stop-on-nan turns that into exit 1.
. "$(dirname "$0")/train_common.sh"

"$T" $SMALL --lr 10 --max-steps 80 --logging-steps 5 --eval-steps 0 --save-steps 0 >"$W/log" 2>&1 \
    || fail "lr 10 run exited $? (training should continue through nan, as HF does)"
n=$(losses "$W/log" | grep -n -m1 -E '^(nan|inf)$' | cut -d: -f1)
[ -n "$n" ] || fail "no 'loss': nan within 80 steps: $(losses "$W/log" | tr '\n' ' ')"
echo "first nan/inf loss at log line $n (step $((n * 5)))"
[ "$n" -le 12 ] || fail "nan only after $((n * 5)) steps"
grep -q "^{'eval_loss': nan" "$W/log" || fail "eval loss not nan after divergence"

"$T" $SMALL --lr 10 --max-steps 200 --logging-steps 5 --eval-steps 0 --save-steps 0 --stop-on-nan >"$W/log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--stop-on-nan exit $rc, want 1"
grep -q "RuntimeError: loss is \(nan\|inf\) at step" "$W/log" || fail "no stop-on-nan message"
echo ok
