#!/usr/bin/env bash
# nvidia-smi fallback: the streaming child is restarted (with a backoff) when it
# exits or stalls; GPU values are missing in between, the restart is noted in
# meta.json and counted in gpu.restarts, and no nvidia-smi is left behind.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$TMPDIR/bin"
cp "$MONI_SRC/tests/fakes/nvidia-smi" "$TMPDIR/bin/"
chmod +x "$TMPDIR/bin/nvidia-smi"

# run NAME DURATION WORD ENV...: one record with the fake on PATH and no NVML;
# WORD must be in the restart note.
run() {
    local name=$1 dur=$2 word=$3
    shift 3
    env "$@" FAKE_SMI_LOG="$TMPDIR/$name.log" MONI_NVML_LIB=/nonexistent/libnvidia-ml.so.1 \
        PATH="$TMPDIR/bin:/usr/bin:/bin" "$MONI_BUILD/moni" record --out "$TMPDIR/$name" \
        --interval 100ms --duration "$dur" 2>"$TMPDIR/$name.err" ||
        fail "moni exit $? ($name): $(head -3 "$TMPDIR/$name.err")"
    local starts
    starts=$(grep -c start "$TMPDIR/$name.log")
    [ "$starts" -eq 2 ] || fail "$name: nvidia-smi streaming child started $starts times, want 2"
    local pid
    for pid in $(awk '{print $2}' "$TMPDIR/$name.log"); do
        wait_gone "$pid" --for 5 || fail "$name: nvidia-smi child $pid left running"
    done
    wait_no_pgrep "$TMPDIR/bin/nvidia-smi" || fail "$name: an nvidia-smi is left running"
    $PY - "$TMPDIR/$name" "$word" <<'PYEOF' || exit 1
import csv, json, sys
d, word = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(d + "/samples.csv")))
meta = json.load(open(d + "/meta.json"))
def fail(m): print("FAIL:", d, m); sys.exit(1)
util = [r["gpu0_util_pct"] for r in rows]
if util[-1] != "33" or rows[-1]["gpu0_temp_c"] != "61":
    fail("last row %r, want the scripted values after the restart" % util[-1])
first = util.index("33")
back = len(util) - 1 - util[::-1].index("")
if not first < back: fail("no gap of missing values between the two children: %r" % util)
if util[back + 1] != "33": fail("values do not come back: %r" % util)
notes = [n for n in meta["notes"] if "nvidia-smi" in n and "restarted after 1 s" in n]
if len(notes) != 1 or word not in notes[0]: fail("restart note: %r" % meta["notes"])
if meta["gpu"]["backend"] != "nvidia-smi": fail("backend %r" % meta["gpu"]["backend"])
if meta["gpu"].get("restarts") != 1: fail("gpu.restarts %r" % meta["gpu"].get("restarts"))
print("%s ok: %d rows, gap of %d, note: %s" % (d.rsplit("/", 1)[1], len(rows),
      util[first:].count(""), notes[0]))
PYEOF
}

# Dies after 5 lines (~0.5 s): missing at once, restarted 1 s later.
run die 4s "exited (status 1)" FAKE_SMI_DIE_AFTER=5
# Stops printing after 5 lines but stays alive: killed after the 5 s stall limit,
# restarted 1 s later (~6.5 s).
run stall 8s "stalled" FAKE_SMI_STALL_AFTER=5
echo PASS
