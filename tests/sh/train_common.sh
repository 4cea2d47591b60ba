# Shared by tests/sh/test_train_*.sh (sourced, not a test itself).
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
T=${MONI_BUILD:?MONI_BUILD not set}/moni-train
[ -x "$T" ] || { echo "moni-train not built at $T"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/moni-train-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
# Small shapes so the tests stay fast, also under ASan.
SMALL="--data-dir $W/data --output-dir $W/out --train-samples 4000 --eval-samples 400 --features 4096 --hidden 32 --no-progress"
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -n 15 "$W/log"; exit 1; }
# losses FILE -> one training loss per line (nan/inf kept)
losses() { sed -n "s/^{'loss': \([^,]*\),.*/\1/p" "$1"; }
evals() { sed -n "s/^{'eval_loss': [^,]*, 'eval_accuracy': \([^,]*\),.*/\1/p" "$1"; }
