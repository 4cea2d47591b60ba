#!/usr/bin/env bash
# `moni alerts export` writes rules `promtool check rules` accepts; bad rule files
# fail with one line naming file, line and field (exit 2); `moni grafana export`
# writes a dashboard that parses and references only metric names the exporter
# actually serves.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
M="$MONI_BUILD/moni"
PY=/usr/bin/python3
export MONI_DATA_DIR="$MONI_SRC"
export XDG_CONFIG_HOME="$TMPDIR/config" # no user rules unless the test writes them
fail() { echo "FAIL: $*"; exit 1; }

# --- alert rules ---------------------------------------------------------------
"$M" alerts export >"$TMPDIR/rules.yml" || fail "alerts export exited $?"
grep -q "alert: TrainingLossHigh" "$TMPDIR/rules.yml" || fail "no TrainingLossHigh rule"
n=$(grep -Ec '^      - (alert|record): ' "$TMPDIR/rules.yml")  # promtool counts both
[ "$n" -ge 8 ] || fail "only $n rules exported"
if command -v promtool >/dev/null; then
    promtool check rules "$TMPDIR/rules.yml" >"$TMPDIR/pc.txt" 2>&1 || { cat "$TMPDIR/pc.txt"; fail "promtool check rules"; }
    grep -q "SUCCESS: $n rules found" "$TMPDIR/pc.txt" || { cat "$TMPDIR/pc.txt"; fail "promtool saw a different rule count"; }
else
    echo "note: promtool missing, rules lint skipped"
fi
"$M" alerts export --out "$TMPDIR/rules2.yml" || fail "--out"
cmp -s "$TMPDIR/rules.yml" "$TMPDIR/rules2.yml" || fail "--out differs from stdout"
"$M" alerts check | grep -q OK || fail "alerts check on the defaults"

# a user file overrides the default
mkdir -p "$XDG_CONFIG_HOME/moni"
cat >"$XDG_CONFIG_HOME/moni/alerts.json" <<'EOF'
{"rules": [{"name": "OnlyMine", "series": "gpu{gpu}_temp_c", "op": ">=", "threshold": 70}]}
EOF
out=$("$M" alerts export) || fail "export with the user file"
grep -q "alert: OnlyMine" <<<"$out" || fail "user rules not used"
grep -q "TrainingLossHigh" <<<"$out" && fail "default rules used despite the user file"
grep -q 'moni_gpu_temperature_celsius >= 70' <<<"$out" || fail "bad expression: $out"
rm -r "$XDG_CONFIG_HOME/moni"

# bad files: one line, file:line: field, exit 2
bad() { # expected-substring, file content
    printf '%s' "$2" >"$TMPDIR/bad.json"
    err=$("$M" alerts export --rules "$TMPDIR/bad.json" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || fail "bad rules exit $rc, want 2 ($2)"
    [ "$(wc -l <<<"$err")" -eq 1 ] || fail "error is not one line: $err"
    grep -qF "$1" <<<"$err" || fail "error '$err' lacks '$1'"
}
bad "bad.json:3: threshold: must be a number" '{"rules": [
  {"name": "A", "series": "loss", "op": ">",
   "threshold": "ten"}]}'
bad "bad.json:2: check: must be one of" '{"rules": [{"name": "A", "series": "x",
"check": "bogus"}]}'
bad "bad.json:1: " '{"rules": [}'
bad "bad.json:1: " ''
rm -f "$TMPDIR/bad.json"
err=$("$M" alerts export --rules "$TMPDIR/none.json" 2>&1); [ $? -eq 2 ] || fail "missing file not exit 2"
err=$("$M" alerts export --bogus 2>&1); [ $? -eq 2 ] || fail "unknown flag not exit 2"

# --- Grafana ------------------------------------------------------------------------
"$M" grafana export --out "$TMPDIR/dash.json" || fail "grafana export exited $?"
"$M" alerts _exporter-demo --metrics-listen 0 --interval 100ms --duration 20s >"$TMPDIR/demo.log" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null' EXIT
wait_for_file_line "$TMPDIR/demo.log" "^listening on" || fail "demo did not start"
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMPDIR/demo.log")
[ -n "$port" ] || fail "demo did not start"
wait_for_scrape "http://127.0.0.1:$port/metrics" "$TMPDIR/m.txt" "$SAMPLED_TWICE" || fail "scrape"
kill $dpid
$PY - "$TMPDIR/dash.json" "$TMPDIR/m.txt" <<'EOF' || fail "dashboard check"
import json, re, sys
d = json.load(open(sys.argv[1]))
families = set(re.findall(r"^# TYPE (\S+) ", open(sys.argv[2]).read(), re.M))
assert d["title"] and d["uid"] == "moni", "title/uid"
panels = [p for p in d["panels"] if p["type"] != "row"]
rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
for want in ("GPU", "CPU", "I/O", "Training", "Fault"):
    assert any(want in r for r in rows), "no row for " + want
exprs = [t["expr"] for p in panels for t in p["targets"]]
exprs += [a["expr"] for a in d["annotations"]["list"]]
assert any("moni_fault_active" in a["expr"] for a in d["annotations"]["list"]), "no fault annotations"
names = set()
for e in exprs:
    names |= set(re.findall(r"\bmoni_[a-zA-Z0-9_:]*", e))
unknown = names - families
assert not unknown, "dashboard uses metrics the exporter does not serve: %s" % sorted(unknown)
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids)), "duplicate panel ids"
print("dashboard: %d panels, %d metric names, all exported" % (len(panels), len(names)))
EOF
echo ok
