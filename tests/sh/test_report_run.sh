#!/usr/bin/env bash
# `moni report` on a real recorded run: moni-train stopped (SIGSTOP) for 5 s from 4 s.
# The page shows the injection from the journal, the live process_stopped
# detection, the workload's CPU falling to zero while stopped, and renders in
# headless Chromium to a non-blank PNG (the test fails loudly without Chromium).
set -u
. "$(dirname "$0")/report_common.sh"
. "$MONI_SRC/tests/sh/run_common.sh"
ln -sfn "$MONI_SRC/examples" "$MONI_DATA_DIR/examples"
chromium_check
T="$MONI_BUILD/moni-train"
R="$TMPDIR/stop"
"$M" run --out "$R" --fault 'stop@4s+5s' --duration 13s -- "$T" --logging-steps 5 --no-progress \
    --output-dir "$TMPDIR/ckpt" >"$TMPDIR/run.log" 2>&1 || { cat "$TMPDIR/run.log"; fail "moni run exited $?"; }
"$M" report "$R" >/dev/null || fail "moni report exited $?"
dom_text "$R/report.html" "$TMPDIR/dom.html"
"$PY" - "$TMPDIR/dom.html" "$R" <<'PYEOF' || fail "the page does not show the run"
import json, re, sys
lines = [l.strip() for l in re.sub(r"<[^>]+>", "\n", open(sys.argv[1]).read()).split("\n") if l.strip()]
d = sys.argv[2]
fired = [json.loads(l) for l in open(d + "/faults.jsonl") if '"fired"' in l][0]
t0 = int(open(d + "/samples.csv").readlines()[1].split(",")[1])
want = "injection: stop (f1) at %.1f s" % ((fired["mono_ns"] - t0) / 1e9)
assert want in lines, (want, lines[:60])
assert any(l.startswith("detection process_stopped: Process_Hang at ") for l in lines), lines[:60]
# (no loss required: a slow machine may log none in 13 s)
for w in ("workload", "detectors", "workload CPU %", "Key metrics over time"):
    assert w in lines, (w, lines[:60])
print("page shows", want)
PYEOF
screenshot "$R/report.html" "$TMPDIR/run.png"
png_not_blank "$TMPDIR/run.png" || fail "the screenshot is blank"
echo ok
