#!/usr/bin/env bash
# Bad input to moni record: one clear line on stderr, exit 2, nothing left running.
set -u
fail() { echo "FAIL: $*"; exit 1; }
m="$MONI_BUILD/moni"
mkdir -p "$TMPDIR/full" && touch "$TMPDIR/full/x"
check() { # description, args...
    local what=$1; shift
    "$m" record "$@" >"$TMPDIR/o" 2>"$TMPDIR/e"
    local rc=$?
    [ $rc -eq 2 ] || fail "$what: exit $rc, want 2 ($(cat "$TMPDIR/e"))"
    # one error line (warnings from attached modules, e.g. alerts, are not errors)
    grep -v '^moni: warning: ' "$TMPDIR/e" >"$TMPDIR/e2"
    [ "$(wc -l <"$TMPDIR/e2")" -eq 1 ] || fail "$what: stderr has $(wc -l <"$TMPDIR/e2") error lines"
    grep -q '^moni: ' "$TMPDIR/e2" || fail "$what: no 'moni:' prefix"
    echo "ok  $what: $(cat "$TMPDIR/e")"
}
check "unknown flag" --out "$TMPDIR/a" --bogus
check "bad interval" --out "$TMPDIR/b" --interval 10x
check "interval too small" --out "$TMPDIR/b" --interval 1ms
check "interval too large" --out "$TMPDIR/b" --interval 2m
check "bad duration" --out "$TMPDIR/b" --duration soon
check "missing --out" --interval 1s
check "--out without value" --out
check "non-empty --out" --out "$TMPDIR/full" --duration 1s
check "unwritable --out" --out /proc/moni-test/x --duration 1s
check "not executable" --out "$TMPDIR/c" --duration 1s -- /nonexistent/cmd
check "not on PATH" --out "$TMPDIR/d" --duration 1s -- no-such-command-xyz
check "stray argument" --out "$TMPDIR/e1" sleep 1
[ -e "$TMPDIR/c" ] && fail "run dir created for a command that cannot run"
[ -e "$TMPDIR/d" ] && fail "run dir created for a command not on PATH"
# --force reuses a non-empty directory
"$m" record --out "$TMPDIR/full" --force --interval 50ms --duration 200ms 2>/dev/null \
    || fail "--force: exit $?"
[ -s "$TMPDIR/full/samples.csv" ] || fail "--force: no samples"
echo PASS
