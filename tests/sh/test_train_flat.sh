#!/usr/bin/env bash
# moni-train, lr 1e-9: the loss stays flat at its starting value (within 1%).
. "$(dirname "$0")/train_common.sh"

"$T" $SMALL --lr 1e-9 --batch-size 64 --max-steps 120 --logging-steps 20 --eval-steps 60 --save-steps 0 \
    >"$W/log" 2>&1 || fail "run exited $?"
mapfile -t L < <(losses "$W/log")
[ ${#L[@]} -eq 6 ] || fail "expected 6 loss lines, got ${#L[@]}"
printf '%s\n' "${L[@]}" | awk 'NR==1 {f=$1} {if ($1 > f*1.01 || $1 < f*0.99) bad=1} END {exit bad}' \
    || fail "loss not flat within 1%: ${L[*]}"
mapfile -t E < <(sed -n "s/^{'eval_loss': \([^,]*\),.*/\1/p" "$W/log")
awk -v a="${E[0]}" -v b="${E[1]}" 'BEGIN {d=a-b; if (d<0) d=-d; exit !(d < 0.001)}' \
    || fail "eval loss moved: ${E[*]}"
echo "losses ${L[*]}"
