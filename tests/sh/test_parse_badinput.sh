#!/usr/bin/env bash
# Bad input to `moni parse`: unreadable files, binary garbage, a 100 MB line, CRLF and
# ANSI noise, a broken pack given with --rules or found in the user's pack dir.
# Each gives one clear error (exit 2) or a flagged record, never a crash.
set -u
. "$(dirname "$0")/lp_common.sh"

# unreadable / missing file: one line naming it, exit 2; the other files still parsed
printf "{'loss': 0.5}\n" >"$TMPDIR/ok.log"
err=$("$M" parse "$TMPDIR/missing.log" "$TMPDIR/ok.log" 2>&1 >"$TMPDIR/out"); rc=$?
[ $rc -eq 2 ] || fail "missing file exit $rc, want 2"
[ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "missing.log: No such file" <<<"$err" || fail "error: $err"
grep -q '"loss":0.5' "$TMPDIR/out" || fail "the readable file was not parsed"
"$M" parse "$TMPDIR" >/dev/null 2>&1; [ $? -eq 2 ] || fail "a directory should exit 2"

# binary garbage: no crash, output is valid JSON lines
head -c 3000000 /dev/urandom >"$TMPDIR/garbage.bin"
printf '\nERROR \xff\xfe\x00 broken \x1b[31mred\x1b[0m\n' >>"$TMPDIR/garbage.bin"
"$M" parse "$TMPDIR/garbage.bin" >"$TMPDIR/g.jsonl"; rc=$?
[ $rc -eq 0 ] || fail "garbage exit $rc"
"$PY" -c '
import json, sys
n = 0
for l in open(sys.argv[1], encoding="utf-8"):
    json.loads(l); n += 1
print(n, "records from garbage")
' "$TMPDIR/g.jsonl" || fail "garbage output is not valid UTF-8 JSON lines"
grep -q '"rule":"unclassified".*broken red' "$TMPDIR/g.jsonl" || fail "ANSI not stripped / NUL not tolerated"

# a 100 MB line: truncated and flagged, the next line still parsed, memory bounded
"$PY" -c '
import sys
with open(sys.argv[1], "w") as f:
    f.write("ERROR " + "x" * (100 << 20) + "\r\n{\x27loss\x27: 0.25}\r\n")
' "$TMPDIR/huge.log"
/usr/bin/time -f "%M" -o "$TMPDIR/rss" "$M" parse "$TMPDIR/huge.log" >"$TMPDIR/h.jsonl" || fail "huge line exit $?"
grep -q '"rule":"line_truncated".*"truncated":true' "$TMPDIR/h.jsonl" || fail "no line_truncated record"
grep -q '"line":2,.*"loss":0.25' "$TMPDIR/h.jsonl" || fail "line after the huge one lost"
rss=$(tail -n 1 "$TMPDIR/rss")
[ "$rss" -lt 60000 ] || fail "max RSS ${rss} KiB for a 100 MB line"

# broken packs: file, line, rule id, PCRE2 message, offset; exit 2
cat >"$TMPDIR/bad.json" <<'J'
{"rules": [
  {"id": "fine", "kind": "event", "pattern": "fine"},
  {"id": "oops", "kind": "event",
   "pattern": "(?<name>abc"}
]}
J
err=$("$M" parse --rules "$TMPDIR/bad.json" "$TMPDIR/ok.log" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "bad pack exit $rc"
grep -q "bad.json:4: rule oops: pattern: missing closing parenthesis at offset 11" <<<"$err" || fail "bad pack error: $err"
printf '{"rules": [{"id": "x", "kind": "event", "pattern": "x", "labels": ["Nope"]}]}' >"$TMPDIR/bad2.json"
err=$("$M" parse --rules "$TMPDIR/bad2.json" "$TMPDIR/ok.log" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && grep -q "bad2.json:1: .*Nope" <<<"$err" || fail "unknown label: rc=$rc $err"
printf '{"rules": [' >"$TMPDIR/bad3.json"
"$M" parse --rules "$TMPDIR/bad3.json" "$TMPDIR/ok.log" >/dev/null 2>&1; [ $? -eq 2 ] || fail "truncated pack"
mkdir -p "$XDG_CONFIG_HOME/moni/rules"
cp "$TMPDIR/bad.json" "$XDG_CONFIG_HOME/moni/rules/mine.json"
err=$("$M" parse "$TMPDIR/ok.log" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && grep -q "mine.json:4: rule oops" <<<"$err" || fail "broken user pack: rc=$rc $err"
rm "$XDG_CONFIG_HOME/moni/rules/mine.json"

# a good user pack adds rules, --rules adds more, --list-patterns lists them
printf '{"rules": [{"id": "flux", "kind": "event", "pattern": "flux capacitor", "labels": ["GPU_Hardware"]}]}' \
    >"$XDG_CONFIG_HOME/moni/rules/mine.json"
echo "the flux capacitor melted" | "$M" parse - | grep -q '"rule":"flux".*"GPU_Hardware"' || fail "user pack not used"
"$M" parse --list-patterns | grep -qx "flux capacitor" || fail "--list-patterns"
echo ok
