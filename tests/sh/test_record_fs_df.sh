#!/usr/bin/env bash
# fs_out_used_pct agrees with df(1) on the run directory's filesystem (df rounds
# up to a whole percent; allow one point either way for writes in between).
set -u
. "$(dirname "$0")/run_common.sh"
R="$TMPDIR/fsrun"
"$M" record --out "$R" --interval 200ms --duration 6s -- sleep 5 >"$TMPDIR/rec.log" 2>&1 ||
    { cat "$TMPDIR/rec.log"; fail "record exited $?"; }
df_pct=$(df --output=pcent "$R" | tail -1 | tr -dc 0-9)
"$PY" - "$R/samples.csv" "$df_pct" <<'PYEOF' || fail "fs_out_used_pct vs df"
import csv, sys
vals = [float(r["fs_out_used_pct"]) for r in csv.DictReader(open(sys.argv[1])) if r["fs_out_used_pct"]]
assert vals, "no fs_out_used_pct value"
df = float(sys.argv[2])
print("fs_out_used_pct %.2f, df %d%%" % (vals[-1], df))
assert df - 1.5 <= vals[-1] <= df + 0.5, "fs_out_used_pct %.2f but df says %d%%" % (vals[-1], df)
PYEOF
echo "PASS test_record_fs_df"
