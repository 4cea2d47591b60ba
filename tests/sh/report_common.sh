# tests/sh/report_common.sh — shared by test_report_*.sh and test_study_*.sh: a
# synthetic recorded run (exact times, so numbers can be computed by hand), and the
# checks of a page as a person sees it: headless Chromium's DOM text and screenshot.
. "$MONI_SRC/tests/sh/lp_common.sh"

# synth_run DIR KIND ONSET_S [COMPONENT]: a 30 s run, first sample at mono 1000 s;
# KIND "healthy" has no fault.  Multi-process (logs/controller.log, logs/train_worker_3.log,
# logs/rollout_worker_0.log) when COMPONENT is given.  The first error in the logs
# is 6 s after the onset (in COMPONENT, or the workload), the controller's 3 s later;
# a detection naming the kind's effect label 4 s after the onset.
synth_run() {
    "$PY" - "$@" <<'PYEOF'
import json, os, sys
d, kind, onset = sys.argv[1], sys.argv[2], float(sys.argv[3])
comp = sys.argv[4] if len(sys.argv) > 4 else ""
os.makedirs(d, exist_ok=True)
T0, OFF = 1000 * 10**9, 1796000000 * 10**9
def iso(mono):
    import datetime
    r = (mono + OFF) / 1e9
    return datetime.datetime.fromtimestamp(r, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
def at(s):
    m = T0 + int(round(s * 1e9))
    return {"timestamp": iso(m), "mono_ns": m}
json.dump({"format": "moni-run/1", "run_id": "synthetic-" + kind, "complete": True, "interval_s": 1,
           "start": iso(T0), "start_mono_ns": T0, "clock_offset_ns": str(OFF),
           "end": iso(T0 + 30 * 10**9), "end_mono_ns": T0 + 30 * 10**9, "experiment": "exp_" + kind,
           "workload": {"argv": [d + "/bin/train", "--out", d + "/ckpt"], "exit_code": 0}},
          open(d + "/meta.json", "w"), indent=1)
with open(d + "/samples.csv", "w") as f:
    f.write("timestamp,mono_ns,proc_cpu_pct,proc_rss_bytes,psi_cpu_some_avg10\n")
    for i in range(31):
        hit = kind != "healthy" and i >= onset
        f.write("%s,%d,%.1f,%d,%.2f\n" % (iso(T0 + i * 10**9), T0 + i * 10**9, 95 if hit else 50,
                (300 + (200 if hit else 0)) << 20, 40.0 if hit else 2.0))
open(d + "/workload.log", "w").write("".join("step %d\n" % i for i in range(30)))
ev = []
for i in range(0, 30, 2):
    ev.append(dict(at(i), file="workload.log", line=i + 1, rule="hf_metrics", kind="metric",
                   event="metric", severity="info", fields={"loss": 2.0 - i * 0.03,
                   "samples_per_second": 100 if kind == "healthy" or i < onset else 40},
                   text="step %d" % i))
if kind != "healthy":
    src = "logs/%s.log" % comp if comp else "workload.log"
    ev.append(dict(at(onset + 6), file=src, line=40, rule="oom", kind="event", event="error",
                   severity="error", labels=["CUDA_OutOfMemory"], text="RuntimeError: something broke in " + d))
    if comp:
        ev.append(dict(at(onset + 9), file="logs/controller.log", line=41, rule="stage", kind="event",
                       event="error", severity="error", labels=[], text="FrameworkError: step failed"))
ev.sort(key=lambda e: e["mono_ns"])
open(d + "/events.jsonl", "w").write("".join(json.dumps(e) + "\n" for e in ev))
if comp:
    os.makedirs(d + "/logs", exist_ok=True)
    for c in ("controller", comp, "rollout_worker_0"):
        open("%s/logs/%s.log" % (d, c), "w").write("%s started in %s\n" % (c, d))
if kind != "healthy":
    params = {"train_worker.3.gpu_mem_extra": "5G"} if comp else {}
    fj = [dict(at(1), event="armed", fault_id="f1", kind=kind, label_kind="interval",
               target="pid:42", params=params),
          dict(at(onset), event="fired", fault_id="f1", kind=kind, label_kind="interval",
               target="pid:42", params=params),
          dict(at(onset + 8), event="stopped", fault_id="f1", kind=kind, label_kind="interval",
               target="pid:42", params=params)]
    open(d + "/faults.jsonl", "w").write("".join(json.dumps(x) + "\n" for x in fj))
    open(d + "/ground_truth.csv", "w").write("fault_id,kind\nf1,%s\n" % kind)
    label = {"stop": "Process_Hang", "cpu": "CPU_Contention", "mem": "Memory_Leak"}.get(kind, "CUDA_OutOfMemory")
    dets = [dict(at(onset - 3), detector="early_noise", label="Slowdown", signals=["x"], score=1,
                 threshold=0.5, ttf_s=None, evidence="before the onset"),
            dict(at(onset + 4), detector="synthetic", label=label, signals=["proc_cpu_pct"],
                 score=1, threshold=0.5, ttf_s=None, evidence="synthetic detection")]
    open(d + "/detections.jsonl", "w").write("".join(json.dumps(x) + "\n" for x in dets))
open(d + "/control", "w").write("secret control file\n")
PYEOF
}

# The Chromium the tests drive: Debian's `chromium` (make deps installs it).
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
# chromium_start_check: fails the test loudly (never skips) when Chromium is
# missing or cannot start: the report is checked as a person would see it or not at all.
chromium_check() {
    [ -n "$CHROMIUM" ] || fail "chromium is not installed (Debian package chromium; 'make deps' installs it)"
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom "about:blank" >"$TMPDIR/chromium-probe.out" 2>&1 ||
        fail "chromium cannot start: $(tail -n 3 "$TMPDIR/chromium-probe.out")"
}
# dom_text FILE.html OUT: the rendered page's DOM.
dom_text() {
    HOME="$TMPDIR" "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom "file://$1" >"$2" 2>"$TMPDIR/chromium-dom.err" ||
        fail "chromium --dump-dom $1: $(tail -n 3 "$TMPDIR/chromium-dom.err")"
}
# screenshot FILE.html OUT.png: 1200x1600 pixels as a person sees them.
screenshot() {
    HOME="$TMPDIR" "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --screenshot="$2" --window-size=1200,1600 "file://$1" >"$TMPDIR/chromium-shot.err" 2>&1 ||
        fail "chromium --screenshot $1: $(tail -n 3 "$TMPDIR/chromium-shot.err")"
    [ -s "$2" ] || fail "chromium wrote no screenshot: $(tail -n 3 "$TMPDIR/chromium-shot.err")"
}
# png_not_blank FILE.png: decodes the PNG (zlib + struct) and checks that it has
# drawing in it: enough non-white pixels and several colours.
png_not_blank() {
    "$PY" - "$1" <<'PYEOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "PNG depth %d colour type %d" % (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
nonwhite, colours = 0, set()
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 4 == 0:
        for x in range(0, w, 4):
            px = tuple(line[x * bpp:x * bpp + 3])
            colours.add(px)
            if sum(px) < 720:
                nonwhite += 1
    prev = line
total = (h // 4 + 1) * (w // 4 + 1)
print("png %dx%d: %.1f%% non-white, %d colours" % (w, h, 100.0 * nonwhite / total, len(colours)))
assert w >= 1000 and h >= 1000, "too small: %dx%d" % (w, h)
assert nonwhite > total * 0.02, "blank: only %d of %d sampled pixels are not white" % (nonwhite, total)
assert len(colours) >= 8, "only %d colours" % len(colours)
PYEOF
}
