#!/usr/bin/env bash
# A plan's fixed schema end to end: "schema" names a file (the header of a matrix from
# another machine, with a GPU column this machine lacks); every run of the plan writes
# exactly those tse_matrix.csv columns in that order, the missing one empty and noted
# in meta.json, and `moni build` keeps them.  A bad schema fails the plan check with
# FILE:LINE: schema: ..., exit 2, before anything runs.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
echo "timestamp,cpu_pct,mem_used_bytes,gpu7_util_pct,loss,is_anomaly" >"$TMPDIR/schema.csv"
cat >"$TMPDIR/plan.json" <<'PLAN'
{
  "name": "fixed",
  "schema": "schema.csv",
  "defaults": {"workload": ["sleep", "60"], "duration": "3s", "interval": "250ms",
               "cooldown": "0s"},
  "queue": {"gate": {"cpu": "100%", "mem": "100%", "disk": "100%"}},
  "experiments": [{"name": "one"}, {"name": "two", "workload": ["sleep", "30"]}]
}
PLAN
out="$TMPDIR/out"
"$M" run -q --plan "$TMPDIR/plan.json" --out "$out" 2>"$TMPDIR/err" ||
    { cat "$TMPDIR/err"; fail "moni run exited $?"; }
want="timestamp,cpu_pct,mem_used_bytes,gpu7_util_pct,loss,is_anomaly"
for r in one two; do
    [ "$(head -1 "$out/$r/tse_matrix.csv")" = "$want" ] ||
        fail "$r: matrix header $(head -1 "$out/$r/tse_matrix.csv")"
done
"$M" build "$out/one" >/dev/null 2>&1 || fail "moni build exited $?"
[ "$(head -1 "$out/one/tse_matrix.csv")" = "$want" ] || fail "moni build changed the columns"
$PY - "$out/one" <<'PYEOF' || fail "meta.json"
import csv, json, sys
d = sys.argv[1]
m = json.load(open(d + "/meta.json"))
assert m["dataset_schema"] == ["cpu_pct", "mem_used_bytes", "gpu7_util_pct", "loss"], m["dataset_schema"]
s = m["dataset"]["schema"]
assert "gpu7_util_pct" in s["columns_empty"], s
assert "cpu_pct" not in s["columns_empty"], s
assert "disk_read_Bps" in s["columns_not_in_schema"], s
assert m["dataset"]["columns"] == 6, m["dataset"]["columns"]
rows = list(csv.DictReader(open(d + "/tse_matrix.csv")))
assert rows and all(r["gpu7_util_pct"] == "" for r in rows), rows[:2]
assert any(r["cpu_pct"] != "" for r in rows), rows[:2]
PYEOF

# a bad schema: the plan check refuses it, nothing runs
printf 'cpu_pct\nmem used\n' >"$TMPDIR/bad.csv"
sed 's/"schema.csv"/"bad.csv"/' "$TMPDIR/plan.json" >"$TMPDIR/bad.json"
"$M" run --plan "$TMPDIR/bad.json" --out "$TMPDIR/out2" 2>"$TMPDIR/e"; rc=$?
[ "$rc" = 2 ] || fail "bad schema file: exit $rc"
grep -q "bad.csv:2: schema: 'mem used': a column name with a space" "$TMPDIR/e" || fail "$(cat "$TMPDIR/e")"
[ ! -e "$TMPDIR/out2/one" ] || fail "a run started with a bad schema"
sed 's/"schema": "schema.csv"/"schema": ["cpu_pct", 7]/' "$TMPDIR/plan.json" >"$TMPDIR/bad2.json"
"$M" run --dry-run --plan "$TMPDIR/bad2.json" 2>"$TMPDIR/e"; rc=$?
[ "$rc" = 2 ] || fail "bad schema array: exit $rc"
grep -q "bad2.json:3: schema: item 2: not a string" "$TMPDIR/e" || fail "$(cat "$TMPDIR/e")"
echo "PASS test_run_plan_schema"
