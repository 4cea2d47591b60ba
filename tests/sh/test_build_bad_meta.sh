#!/usr/bin/env bash
# `moni build` never overwrites an input it could not read (issue 14, item 11): a
# meta.json with one stray comma -> "FILE:LINE: ..." naming the line, exit 2, and
# meta.json byte for byte unchanged (before: it became a 314-byte stub, exit 0).
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
d="$TMPDIR/run"
"$M" record --out "$d" --interval 100ms --duration 1s -- sleep 5 >/dev/null 2>&1 ||
    fail "record failed"
[ -s "$d/meta.json" ] || fail "no meta.json"
# one stray comma at the end of line 3
awk 'NR == 3 { $0 = $0 "," } { print }' "$d/meta.json" >"$TMPDIR/bad.json"
cp "$TMPDIR/bad.json" "$d/meta.json"
cp "$d/meta.json" "$TMPDIR/before.json"
err=$("$M" build "$d" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "build exit $rc, want 2 ($err)"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "not one line: $err"
grep -Eq "meta\.json:[0-9]+:" <<<"$err" || fail "the error does not name FILE:LINE: $err"
cmp -s "$TMPDIR/before.json" "$d/meta.json" || fail "meta.json was changed"
# a run killed before its first meta.json still builds
rm "$d/meta.json"
"$M" build "$d" >/dev/null 2>&1 || fail "build without meta.json failed"
echo PASS
