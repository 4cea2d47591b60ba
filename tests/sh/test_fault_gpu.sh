#!/usr/bin/env bash
# test_fault_gpu.sh — gpu_mem through the fake CUDA driver: the memory is held (seen
# from outside in the fake's state file) and released; without a driver the fault
# fails at arm time with the reason.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
fake=$MONI_BUILD/tests/libfake_cuda.so
[ -e "$fake" ] || { echo "skipped: $fake not built"; exit 77; }
export FAKE_CUDA_STATE=$TMPDIR/cuda.state FAKE_CUDA_TOTAL=$((8 << 30))
# the holder carries this marker, so that it is found whatever its parent (and
# another test run's holder is not)
mark="MONI_TEST_RUN=fault_gpu-$$"
env "$mark" MONI_CUDA_LIB=$fake $MONI fault run gpu_mem size=25% chunk=512M --for 1500ms --out "$TMPDIR/o" >"$TMPDIR/run.log" 2>&1 &
moni=$!
wait_for_file_line "$TMPDIR/o/faults.jsonl" '"event":"effective"' || fail "the fault never became effective"
used=$(awk '{print $2}' "$FAKE_CUDA_STATE" 2>/dev/null)
echo "fake device: used $used bytes"
[ "$used" = $((2 << 30)) ] || fail "held $used bytes, want 2G (25% of 8G)"
wait $moni || fail "moni exited $?"
cat "$TMPDIR/run.log"
grep -q '"event":"reverted"' "$TMPDIR/o/faults.jsonl" || fail "no reverted"
[ -z "$(procs_with_env "$mark")" ] || fail "holder still running: $(procs_with_env "$mark")"
# more than the device has
MONI_CUDA_LIB=$fake $MONI fault run gpu_mem size=9G --out "$TMPDIR/o2" 2>"$TMPDIR/err"; rc=$?
[ $rc -eq 1 ] && grep -q "more than the device" "$TMPDIR/err" || fail "9G on 8G: $rc $(cat "$TMPDIR/err")"
# no driver
MONI_CUDA_LIB=/nonexistent/libcuda.so.1 $MONI fault run gpu_mem --out "$TMPDIR/o3" 2>"$TMPDIR/err"; rc=$?
echo "without a driver: $(cat "$TMPDIR/err")"
[ $rc -eq 1 ] && grep -q "cannot load" "$TMPDIR/err" || fail "no-driver case: exit $rc"
grep -q '"event":"failed"' "$TMPDIR/o3/faults.jsonl" || fail "failure not journalled"
echo PASS
