#!/usr/bin/env bash
# moni-train, healthy short run: loss falls, eval accuracy rises, HF-format lines,
# checkpoints, resume, corrupt-checkpoint error, bad flags.
. "$(dirname "$0")/train_common.sh"

"$T" $SMALL --max-steps 300 --logging-steps 10 --eval-steps 100 --save-steps 150 --threads 2 >"$W/log" 2>&1 \
    || fail "healthy run exited $?"
grep -q '^\*\*\*\*\* Running training \*\*\*\*\*$' "$W/log" || fail "no training banner"
grep -q '^\*\*\*\*\* Running Evaluation \*\*\*\*\*$' "$W/log" || fail "no evaluation banner"
grep -q "^Saving model checkpoint to $W/out/checkpoint-150$" "$W/log" || fail "no checkpoint line"
grep -q '^Training completed\.' "$W/log" || fail "no 'Training completed'"
grep -Eq "^\{'train_runtime': [0-9.]+, 'train_samples_per_second': [0-9.]+, 'train_steps_per_second': [0-9.]+, 'train_loss': [0-9.]+, 'epoch': [0-9.]+\}$" "$W/log" \
    || fail "bad train_runtime dict"
grep -Eq "^\{'loss': [0-9.]+, 'grad_norm': [0-9.e+-]+, 'learning_rate': [0-9.e+-]+, 'epoch': [0-9.]+\}$" "$W/log" \
    || fail "bad loss dict"
[ -f "$W/out/checkpoint-300/model.bin" ] && [ -f "$W/out/checkpoint-300/trainer_state.json" ] \
    || fail "final checkpoint missing"
ls "$W/out" | grep -q tmp && fail "temporary checkpoint left behind"

mapfile -t L < <(losses "$W/log")
[ ${#L[@]} -eq 30 ] || fail "expected 30 loss lines, got ${#L[@]}"
first=$(printf '%s\n' "${L[@]:0:3}" | awk '{s+=$1} END {print s/NR}')
last=$(printf '%s\n' "${L[@]: -3}" | awk '{s+=$1} END {print s/NR}')
awk -v a="$first" -v b="$last" 'BEGIN {exit !(b < 0.8 * a)}' || fail "loss did not fall: $first -> $last"
mapfile -t A < <(evals "$W/log")
[ ${#A[@]} -eq 3 ] || fail "expected 3 eval lines, got ${#A[@]}"
awk -v a="${A[0]}" -v b="${A[2]}" 'BEGIN {exit !(b > a && b >= 0.7)}' || fail "accuracy did not rise: ${A[*]}"
echo "loss $first -> $last, eval accuracy ${A[*]}"

# resume continues from the latest checkpoint
"$T" $SMALL --max-steps 320 --logging-steps 10 --save-steps 0 --eval-steps 0 --resume >"$W/log2" 2>&1 \
    || { cat "$W/log2"; fail "resume exited $?"; }
grep -q "^Loading checkpoint from $W/out/checkpoint-300$" "$W/log2" || fail "no 'Loading checkpoint from'"
[ "$(losses "$W/log2" | wc -l)" -eq 2 ] || fail "resume did not run exactly steps 301..320"

# a corrupt checkpoint is refused with a clear error
printf 'garbage' | dd of="$W/out/checkpoint-320/model.bin" bs=1 seek=200 conv=notrunc 2>/dev/null
"$T" $SMALL --max-steps 340 --resume >"$W/log3" 2>&1 && fail "resume from a corrupt checkpoint succeeded"
grep -q "RuntimeError: Error(s) in loading checkpoint '.*model.bin': checksum mismatch" "$W/log3" \
    || { cat "$W/log3"; fail "no checksum error"; }

# usage errors: one line, exit 2
"$T" --bogus >"$W/log4" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "bad flag exit $rc, want 2"
[ "$(wc -l <"$W/log4")" -eq 1 ] || fail "bad flag message is not one line"
"$T" --lr abc >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad value not exit 2"
"$T" --help | grep -q -- '--control FILE' || fail "--help lacks --control"
echo "ok"
