#!/usr/bin/env bash
# `moni doctor`: one line per check (NAME ok|missing|degraded ...), a fix for
# everything not ok, exit 0 when the default workload can run; the NVML and
# libcuda checks follow MONI_NVML_LIB / MONI_CUDA_LIB (fake libraries).
set -u
M="$MONI_BUILD/moni"
fail() { echo "FAIL: $*"; echo "$out"; exit 1; }
export MONI_STATE_DIR="$TMPDIR/state"

out=$(MONI_NVML_LIB=/nonexistent/libnvidia-ml.so.1 MONI_CUDA_LIB=/nonexistent/libcuda.so.1 \
    "$M" doctor --out "$TMPDIR/newdir/run"); rc=$?
for c in proc clock workload disk leftovers alerts psi cgroup nvml nvidia-smi libcuda netem terminal; do
    n=$(grep -cE "^$c +(ok|missing|degraded) " <<<"$out")
    [ "$n" = 1 ] || fail "check '$c' printed $n lines"
done
# every line but the verdict is a check with a status; anything not ok says how to fix it
body=$(sed '$d' <<<"$out")
grep -vqE '^[a-z-]+ +(ok|missing|degraded) ' <<<"$body" && fail "a line without a status"
grep -E '^[a-z-]+ +(missing|degraded) ' <<<"$body" | grep -vq '; fix: ' && fail "a problem without a fix"
grep -qE '^nvml +missing .*/nonexistent/libnvidia-ml.so.1' <<<"$out" || fail "MONI_NVML_LIB not honoured"
grep -qE '^libcuda +missing ' <<<"$out" || fail "MONI_CUDA_LIB not honoured"
grep -qE "^disk +ok +$TMPDIR" <<<"$out" || grep -qE "^disk +(ok|degraded) " <<<"$out" || fail "disk check did not look at --out's parent"
grep -qE '^leftovers +ok ' <<<"$out" || fail "leftovers in an empty state dir"
# GPU absence must not fail the default workload
if grep -qE '^(proc|clock|workload|disk) +(missing|degraded)' <<<"$out"; then
    [ $rc -eq 1 ] || fail "a needed check failed but exit was $rc"
else
    [ $rc -eq 0 ] || fail "all needed checks ok but exit was $rc"
fi
tail -n 1 <<<"$out" | grep -q "default workload" || fail "no verdict line"

# with the fake libraries the GPU checks pass
if [ -e "$MONI_BUILD/tests/libfake_nvml.so" ]; then
    out=$(MONI_NVML_LIB="$MONI_BUILD/tests/libfake_nvml.so" MONI_FAKE_NVML_GPUS=2 "$M" doctor)
    grep -qE '^nvml +ok .*driver [^ ]+, 2 GPUs' <<<"$out" || fail "fake NVML not seen"
    out=$(MONI_NVML_LIB="$MONI_BUILD/tests/libfake_nvml.so" MONI_FAKE_NVML_INIT_FAIL=1 "$M" doctor)
    grep -qE '^nvml +missing .*nvmlInit failed.*; fix: ' <<<"$out" || fail "failing nvmlInit not reported"
else
    echo "note: fake NVML not built, skipped that part"
fi
if [ -e "$MONI_BUILD/tests/libfake_cuda.so" ]; then
    out=$(MONI_CUDA_LIB="$MONI_BUILD/tests/libfake_cuda.so" "$M" doctor)
    grep -qE '^libcuda +ok ' <<<"$out" || fail "fake libcuda not seen"
fi
err=$("$M" doctor --bogus 2>&1); [ $? -eq 2 ] || fail "unknown option not exit 2"
echo ok
