#!/usr/bin/env bash
# Invalid UTF-8 in an experiment name (or the workload's argv) does not make
# meta.json invalid JSON (issue 14, item 16): the bad bytes become U+FFFD.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
p="$TMPDIR/plan.json"
printf '{"experiments": [{"name": "caf\xe9", "workload": ["sh", "-c", "exit 0", "\xff\xfe"]}]}\n' >"$p"
"$M" run --quiet --plan "$p" --out "$TMPDIR/out" >/dev/null 2>&1 || fail "the plan did not run"
n=0
for m in "$TMPDIR"/out/*/meta.json; do
    [ -f "$m" ] || fail "no meta.json"
    "$PY" - "$m" <<'PY' || fail "meta.json is not valid UTF-8 JSON: $m"
import json, sys
meta = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
assert meta["experiment"] == "caf\ufffd", meta["experiment"]
PY
    n=$((n + 1))
done
[ $n -eq 1 ] || fail "$n run directories, want 1"
echo PASS
