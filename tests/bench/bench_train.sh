#!/usr/bin/env bash
# moni-train throughput (samples/s) at 1 and 2 threads, the 1-thread figure being
# the peer of the 2-thread one; and a numpy MLP on the same dense shapes as a peer.
set -u
T=${MONI_BUILD:-build}/moni-train
[ -x "$T" ] || { echo "   moni-train not built"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-train.XXXXXX")
trap 'rm -rf "$W"' EXIT
STEPS=${BENCH_TRAIN_STEPS:-300}
COMMON="--data-dir $W/data --output-dir $W/out --max-steps $STEPS --eval-steps 0 --save-steps 0 --save-total-limit 1 --no-progress --logging-steps 1000"
"$T" $COMMON --max-steps 1 >/dev/null 2>&1 # generate the corpus outside the timing

sps() { sed -n "s/.*'train_samples_per_second': \([0-9.]*\),.*/\1/p" "$1"; }
"$T" $COMMON --threads 1 >"$W/t1" 2>&1 || { echo "   1-thread run failed"; exit 0; }
"$T" $COMMON --threads 2 >"$W/t2" 2>&1 || { echo "   2-thread run failed"; exit 0; }
s1=$(sps "$W/t1"); s2=$(sps "$W/t2")
printf '   moni-train (batch 32, 32768x64 MLP, %s steps): 2 threads %s samples/s | 1 thread %s samples/s | ratio %sx\n' \
    "$STEPS" "$s2" "$s1" "$(awk -v a="$s2" -v b="$s1" 'BEGIN {printf "%.2f", a / b}')"

# Peer: the same model in numpy (dense input batch 32 x 32768, hidden 64, LeakyReLU,
# softmax cross-entropy, SGD with momentum), data already in memory.
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    np=$(/usr/bin/python3 - "$STEPS" <<'PY'
import sys, time
import numpy as np
steps = int(sys.argv[1]); B, D, H, C = 32, 32768, 64, 2
rng = np.random.default_rng(0)
W1 = rng.uniform(-D**-0.5, D**-0.5, (D, H)).astype(np.float32); b1 = np.zeros(H, np.float32)
W2 = rng.uniform(-H**-0.5, H**-0.5, (H, C)).astype(np.float32); b2 = np.zeros(C, np.float32)
params = [W1, b1, W2, b2]; mom = [np.zeros_like(p) for p in params]
X = np.zeros((B, D), np.float32)
idx = rng.integers(0, D, (B, 300)); X[np.arange(B)[:, None], idx] = 1.0
y = rng.integers(0, C, B)
t0 = time.perf_counter()
for _ in range(steps):
    z1 = X @ W1 + b1; h = np.where(z1 > 0, z1, 0.01 * z1)
    z2 = h @ W2 + b2; z2 -= z2.max(1, keepdims=True)
    p = np.exp(z2); p /= p.sum(1, keepdims=True)
    d2 = p; d2[np.arange(B), y] -= 1; d2 /= B
    gW2 = h.T @ d2; gb2 = d2.sum(0)
    d1 = (d2 @ W2.T) * np.where(z1 > 0, 1.0, 0.01).astype(np.float32)
    gW1 = X.T @ d1; gb1 = d1.sum(0)
    for p_, m_, g_ in zip(params, mom, [gW1, gb1, gW2, gb2]):
        m_ *= 0.9; m_ += g_; p_ -= 0.01 * m_
dt = time.perf_counter() - t0
print(f"{steps * B / dt:.1f}")
PY
)
    printf '   moni-train 2 threads %s samples/s | numpy (same shapes, in-memory data, %s) %s samples/s | ratio %sx\n' \
        "$s2" "$(/usr/bin/python3 -c 'import numpy; print("numpy", numpy.__version__)')" "$np" \
        "$(awk -v a="$s2" -v b="$np" 'BEGIN {printf "%.2f", a / b}')"
else
    echo "   numpy not available: no numpy peer"
fi
