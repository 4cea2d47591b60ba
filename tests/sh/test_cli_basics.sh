#!/usr/bin/env bash
# The command dispatcher: help lists every command, unknown ones fail with one line
# and exit 2, --version prints the version.
set -u
M="$MONI_BUILD/moni"
fail() { echo "FAIL: $*"; exit 1; }

out=$("$M" help) || fail "moni help exited $?"
for c in run record fault parse diagnose build validate replay doctor recover; do
    grep -q "^  $c " <<<"$out" || fail "help does not list '$c'"
done
"$M" --version | grep -Eq '^moni [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

err=$("$M" frobnicate 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "unknown command exit $rc, want 2"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "unknown command error is not one line: $err"
grep -q "frobnicate" <<<"$err" || fail "error does not name the command: $err"
echo ok
