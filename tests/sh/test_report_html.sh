#!/usr/bin/env bash
# `moni report RUN` checked as a person would see it: on a synthetic multi-process
# run with exact times, the page is self-contained (no script, no network), headless
# Chromium renders it to a PNG that is not blank, and the DOM text has the figures'
# labels: every component, the injection, each component's first error, the
# detections, the metrics and the gap from the injection to the first error log
# (6.0 s by construction).  --blind hides the injection.  When Chromium is missing or
# cannot start, this test fails (it never skips).  Bad input: one line, exit 2.
set -u
. "$(dirname "$0")/report_common.sh"
chromium_check

R="$TMPDIR/run"
synth_run "$R" knob 10 train_worker_3 || fail "cannot write the synthetic run"
out=$("$M" report "$R") || fail "moni report exited $?"
[ "$out" = "$R/report.html" ] || fail "report printed '$out', expected $R/report.html"
H="$R/report.html"
grep -qi "<script" "$H" && fail "the page has a script"
grep -Eo '(src|href)="[^"]*"' "$H" | grep -q . && fail "the page loads something: $(grep -Eo '(src|href)="[^"]*"' "$H" | head -1)"
[ "$(grep -c "<svg" "$H")" -eq 2 ] || fail "expected 2 SVG figures, found $(grep -c "<svg" "$H")"

dom_text "$H" "$TMPDIR/dom.html"
"$PY" - "$TMPDIR/dom.html" <<'PYEOF' || fail "labels missing from the rendered page"
import re, sys
html = open(sys.argv[1]).read()
text = re.sub(r"<[^>]+>", "\n", html)
lines = [l.strip() for l in text.split("\n") if l.strip()]
want = ["Fault propagation path", "Key metrics over time", "controller", "train_worker_3",
        "rollout_worker_0", "detectors", "injection: knob (f1) at 10.0 s", "first error 16.0 s",
        "first error 19.0 s", "detection synthetic: CUDA_OutOfMemory at 14.0 s",
        "loss", "throughput /s", "workload CPU %", "workload memory MiB", "CPU pressure PSI %",
        "injection 10.0 s", "first error log 16.0 s",
        "gap 6.0 s from the injection to the first error log"]
missing = [w for w in want if w not in lines]
assert not missing, "missing %s; have %s" % (missing, lines[:80])
# components in order: the controller first, then by name
rows = [l for l in lines if l in ("controller", "rollout_worker_0", "train_worker_3", "detectors")]
assert rows[:4] == ["controller", "rollout_worker_0", "train_worker_3", "detectors"], rows
print("dom: %d text lines, every label present" % len(lines))
PYEOF

screenshot "$H" "$TMPDIR/report.png"
png_not_blank "$TMPDIR/report.png" || fail "the screenshot is blank"
[ -n "${MONI_KEEP_PNG:-}" ] && cp "$TMPDIR/report.png" "$MONI_KEEP_PNG"

# --blind: no injection, no fault kind, no gap (it needs the truth)
"$M" report --blind "$R" >/dev/null || fail "moni report --blind exited $?"
dom_text "$R/report-blind.html" "$TMPDIR/blind.html"
grep -q "first error 16.0 s" "$TMPDIR/blind.html" || fail "blind page lost the first error"
for w in injection knob gap; do
    grep -qi "$w" "$TMPDIR/blind.html" && fail "blind page shows '$w': $(grep -io ".\{40\}$w.\{40\}" "$TMPDIR/blind.html" | head -1)"
done

# --out -: the page on stdout
"$M" report --out - "$R" | grep -q "</html>" || fail "--out - gave no page"

# bad input
"$M" report "$TMPDIR/nope" 2>"$TMPDIR/err"; rc=$?
[ $rc -eq 2 ] || fail "a missing run exited $rc, expected 2"
grep -q "not a run directory" "$TMPDIR/err" || fail "no error line: $(cat "$TMPDIR/err")"
echo "ok"
