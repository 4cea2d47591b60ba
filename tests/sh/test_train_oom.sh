#!/usr/bin/env bash
# moni-train, batch 1024 under an address-space cap: the input tensor allocation
# really fails -> host OOM error, exit 1. The same cap is fine for batch 32.
. "$(dirname "$0")/train_common.sh"
if [ "${MONI_SANITIZED:-0}" = 1 ]; then
    echo "RLIMIT_AS cannot be used under ASan (shadow memory)"; exit 77
fi
ARGS="--data-dir $W/data --output-dir $W/out --train-samples 4000 --eval-samples 400 --no-progress --eval-steps 0 --save-steps 0"

"$T" $ARGS --batch-size 32 --mem-limit 128M --max-steps 20 >"$W/log" 2>&1 || fail "batch 32 under 128M failed ($?)"
"$T" $ARGS --batch-size 1024 --mem-limit 128M --max-steps 20 >"$W/log" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "batch 1024 under 128M succeeded"
[ $rc -eq 1 ] || [ $rc -eq 137 ] || fail "exit $rc, want 1 (or 137 from the OOM killer)"
grep -q "RuntimeError: \[enforce fail at moni-train\] DefaultCPUAllocator: can't allocate memory: you tried to allocate [0-9]* bytes" "$W/log" \
    || fail "no OOM message"
grep "DefaultCPUAllocator" "$W/log"
