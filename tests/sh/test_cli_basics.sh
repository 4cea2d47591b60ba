#!/usr/bin/env bash
# The command dispatcher: help lists every command, `moni help CMD` shows one, unknown
# ones fail with one line and exit 2, --version prints the version.
set -u
M="$MONI_BUILD/moni"
fail() { echo "FAIL: $*"; exit 1; }

out=$("$M" help) || fail "moni help exited $?"
for c in console run record fault parse diagnose build validate replay doctor recover alerts grafana; do
    grep -q "^  $c " <<<"$out" || fail "help does not list '$c'"
done
"$M" --version | grep -Eq '^moni [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

err=$("$M" frobnicate 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "unknown command exit $rc, want 2"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "unknown command error is not one line: $err"
grep -q "frobnicate" <<<"$err" || fail "error does not name the command: $err"

# `moni help CMD` is `moni CMD --help`
[ "$("$M" help run)" = "$("$M" run --help)" ] || fail "'moni help run' differs from 'moni run --help'"
"$M" help run | grep -q '^usage: moni run ' || fail "'moni help run' has no usage line"
"$M" help nosuch >/dev/null 2>&1; [ $? -eq 2 ] || fail "'moni help nosuch' should exit 2"
echo ok
