#!/usr/bin/env bash
# The development corpus (tests/data/corpus/*.cases, logs written after the formats
# of Hugging Face, Lightning, DeepSpeed, Megatron-LM, torchtitan, torchrun, NCCL,
# vLLM, SGLang, fairseq, detectron2, MMCV, Keras, tqdm and plain scripts): root cause
# top-1 and metric recall (canonical name, value, line) must stay at 95% or more.
set -u
. "$(dirname "$0")/lp_common.sh"
out=$("$PY" "$MONI_SRC/tests/corpus/score.py" --moni "$M" --min-top1 95 --min-recall 95 2>&1)
rc=$?
echo "$out" | tail -n 4
[ $rc -eq 0 ] || { echo "$out" | head -n 40; fail "corpus score below target (exit $rc)"; }
grep -q '^cases: 1[5-9][0-9]\|^cases: [2-9][0-9][0-9]' <<<"$out" || fail "the corpus has fewer than 150 cases"
exit 0
