#!/usr/bin/env bash
# moni record: 100 ms for 3 s over `sleep 10` leaves >= 28 rows with strictly
# increasing timestamps, stops the workload, writes a valid meta.json; without any
# GPU backend the gpu0_* columns exist and are empty.
set -u
PY=/usr/bin/python3
out="$TMPDIR/run"
fail() { echo "FAIL: $*"; exit 1; }
MONI_NVML_LIB=/nonexistent/libnvidia-ml.so.1 PATH=/usr/bin:/bin \
    "$MONI_BUILD/moni" record --out "$out" --interval 100ms --duration 3s -- sleep 10 \
    2>"$TMPDIR/err"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc (want 0 for a --duration run)"
grep -q "no GPU data" "$TMPDIR/err" || fail "no GPU reason on stderr"
[ "$(grep -c 'no GPU data' "$TMPDIR/err")" -eq 1 ] || fail "GPU reason printed more than once"
$PY - "$out" <<'PYEOF' || exit 1
import csv, json, os, sys
d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
rows = list(csv.reader(open(os.path.join(d, "samples.csv"))))
hdr, body = rows[0], rows[1:]
def fail(m):
    print("FAIL:", m); sys.exit(1)
if hdr[:2] != ["timestamp", "mono_ns"]: fail("header starts %r" % hdr[:2])
if len(body) < 28: fail("only %d rows" % len(body))
if any(len(r) != len(hdr) for r in body): fail("ragged rows")
ts = [r[0] for r in body]; mono = [int(r[1]) for r in body]
if any(b <= a for a, b in zip(ts, ts[1:])): fail("timestamps not strictly increasing")
if any(b <= a for a, b in zip(mono, mono[1:])): fail("mono_ns not strictly increasing")
for col in ("cpu_pct", "mem_used_bytes", "load1", "proc_alive", "proc_rss_bytes"):
    if col not in hdr: fail("no column " + col)
    i = hdr.index(col)
    if not all(r[i] != "" for r in body[1:]): fail(col + " has missing cells")
gcols = [i for i, h in enumerate(hdr) if h.startswith("gpu0_")]
if not gcols: fail("no gpu0 columns")
if any(r[i] for r in body for i in gcols): fail("gpu0 cells not empty without a GPU")
i = hdr.index("proc_alive")
if body[0][i] != "1": fail("proc_alive not 1 while sleep runs")
if meta["complete"] is not True: fail("meta not complete")
if meta["workload"]["argv"] != ["sleep", "10"]: fail("argv %r" % meta["workload"]["argv"])
if meta["workload"]["exit_signal"] != 15: fail("sleep not stopped by SIGTERM")
if meta["stop_reason"] != "duration": fail("stop_reason %r" % meta["stop_reason"])
if meta["ticks"]["taken"] != len(body): fail("ticks.taken %d != rows %d" % (meta["ticks"]["taken"], len(body)))
for k in ("late", "missed", "gaps"):
    if not isinstance(meta["ticks"][k], int): fail("ticks." + k)
if not meta["gpu"]["reason"]: fail("no gpu reason in meta")
if meta["interval_s"] != 0.1: fail("interval_s")
if not meta["host"]["kernel"]: fail("no kernel")
pid = meta["workload"]["pid"]
if os.path.exists("/proc/%d" % pid):
    st = open("/proc/%d/stat" % pid).read()
    if ") Z" not in st: fail("workload %d still running" % pid)
print("ok: %d rows" % len(body))
PYEOF
head -1 "$out/workload.idx" | grep -qx 'line,timestamp,mono_ns,stream' || fail "idx header"
# Observe-only: no proc_* columns, exit 0.
"$MONI_BUILD/moni" record --out "$TMPDIR/obs" --interval 50ms --duration 300ms 2>/dev/null \
    || fail "observe-only exit $?"
head -1 "$TMPDIR/obs/samples.csv" | grep -q proc_alive && fail "proc columns without a workload"
[ "$(wc -l <"$TMPDIR/obs/samples.csv")" -ge 4 ] || fail "observe-only: too few rows"
# The workload's own exit ends the run with its status.
"$MONI_BUILD/moni" record --out "$TMPDIR/ex" --interval 50ms -- sh -c 'echo hi; exit 3' 2>/dev/null
rc=$?
[ $rc -eq 3 ] || fail "workload exit 3 gave $rc"
grep -q '^hi$' "$TMPDIR/ex/workload.log" || fail "workload.log"
grep -q '^1,.*,stdout$' "$TMPDIR/ex/workload.idx" || fail "workload.idx row"
echo PASS
