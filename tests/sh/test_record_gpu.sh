#!/usr/bin/env bash
# GPU columns: scripted values through the fake NVML (the real dlopen path), a
# failing call left empty; then the nvidia-smi fallback with a fake nvidia-smi on
# PATH (one streaming child, never one per sample).
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
lib="$MONI_BUILD/tests/libfake_nvml.so"
[ -e "$lib" ] || { echo "no $lib"; exit 77; }
MONI_NVML_LIB="$lib" MONI_FAKE_NVML_GPUS=2 MONI_FAKE_NVML_FAIL=DeviceGetPowerUsage \
    MONI_FAKE_NVML_TEMP=70 "$MONI_BUILD/moni" record --out "$TMPDIR/nv" --interval 100ms \
    --duration 1500ms -- sleep 5 2>"$TMPDIR/err" || fail "moni exit $?"
$PY - "$TMPDIR/nv" <<'PYEOF' || exit 1
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/samples.csv")))
meta = json.load(open(d + "/meta.json"))
def fail(m): print("FAIL:", m); sys.exit(1)
last = rows[-1]
want = {"gpu0_util_pct": "42", "gpu0_mem_util_pct": "17", "gpu0_temp_c": "70",
        "gpu1_temp_c": "71", "gpu0_sm_clock_mhz": "1410", "gpu0_mem_used_bytes": "1073741824",
        "gpu0_mem_total_bytes": "17179869184", "gpu0_pcie_rx_Bps": "2097152",
        "gpu0_ecc_corrected": "3", "gpu0_proc_mem_bytes": "536870912"}
for k, v in want.items():
    if last.get(k) != v: fail("%s = %r, want %r" % (k, last.get(k), v))
if any(r["gpu0_power_w"] for r in rows): fail("failing call gave a value")
if meta["gpu"]["backend"] != "nvml": fail("backend %r" % meta["gpu"]["backend"])
if len(meta["gpu"]["devices"]) != 2: fail("devices")
print("nvml ok")
PYEOF
# nvidia-smi fallback
mkdir -p "$TMPDIR/bin"
cp "$MONI_SRC/tests/fakes/nvidia-smi" "$TMPDIR/bin/"
FAKE_SMI_LOG="$TMPDIR/smi.log" MONI_NVML_LIB=/nonexistent/libnvidia-ml.so.1 \
    PATH="$TMPDIR/bin:/usr/bin:/bin" "$MONI_BUILD/moni" record --out "$TMPDIR/smi" \
    --interval 100ms --duration 2s 2>"$TMPDIR/err2" || fail "moni exit $? (fallback)"
[ "$(grep -c start "$TMPDIR/smi.log")" -eq 1 ] || fail "nvidia-smi streaming child started $(grep -c start "$TMPDIR/smi.log") times"
$PY - "$TMPDIR/smi" <<'PYEOF' || exit 1
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/samples.csv")))
meta = json.load(open(d + "/meta.json"))
def fail(m): print("FAIL:", m); sys.exit(1)
last = rows[-1]
want = {"gpu0_util_pct": "33", "gpu0_mem_util_pct": "11", "gpu0_temp_c": "61",
        "gpu0_mem_used_bytes": str(2048 * 1024 * 1024), "gpu0_sm_clock_mhz": "1500"}
for k, v in want.items():
    if last.get(k) != v: fail("%s = %r, want %r" % (k, last.get(k), v))
if last["gpu0_power_w"] != "": fail("[N/A] power should be empty")
if meta["gpu"]["backend"] != "nvidia-smi": fail("backend %r" % meta["gpu"]["backend"])
if meta["gpu"]["devices"][0]["name"] != "Fake SMI GPU": fail("inventory")
print("nvidia-smi ok")
PYEOF
wait_no_pgrep "$TMPDIR/bin/nvidia-smi" || fail "nvidia-smi child left running"
echo PASS
