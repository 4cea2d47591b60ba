#!/usr/bin/env bash
# test_fault_recover_trust.sh — `moni recover` trusts only the user's own state
# (issue 14 item 14): a state directory writable by others, or owned by another user,
# is refused with a clear message and nothing in it is acted on; a planted state file
# that is writable by others is refused too; and with no HOME the state directory is
# never a shared /tmp/moni-UID.
set -u
M=$MONI_BUILD/moni
fail() { echo "FAIL: $*"; exit 1; }
victim=$TMPDIR/victim; : >"$victim"
plant() { # dir: a state file of a dead session that would delete $victim
    printf 'S\t999999\t1\tnot-this-boot\t\nJ\tf1\tdisk_fill\tpath:x\tx\nF\tf1\t%s\n' "$victim" \
        >"$1/session-x-999999.undo"
}

# a shared, world-writable state directory (as /tmp/moni-0 could be, made by anyone)
shared=$TMPDIR/shared; mkdir -p "$shared"; chmod 0777 "$shared"; plant "$shared"
chmod 0600 "$shared"/*.undo
MONI_STATE_DIR=$shared $M recover >"$TMPDIR/out" 2>"$TMPDIR/err"; rc=$?
cat "$TMPDIR/err"
[ $rc = 1 ] || fail "recover in a world-writable directory exited $rc, want 1"
grep -q "writable by group or others" "$TMPDIR/err" || fail "no reason given"
[ -e "$victim" ] || fail "recover acted on a state file in a shared directory"

# our own directory, but the state file is writable by others: refused
chmod 0700 "$shared"; chmod 0666 "$shared"/*.undo
MONI_STATE_DIR=$shared $M recover >"$TMPDIR/out" 2>"$TMPDIR/err"; rc=$?
cat "$TMPDIR/err"
[ $rc = 1 ] || fail "recover with a world-writable state file exited $rc"
grep -q "session-x-999999.undo is writable by group or others" "$TMPDIR/err" || fail "no reason for the file"
[ -e "$victim" ] || fail "recover believed a world-writable state file"

# private again: now it is believed
chmod 0600 "$shared"/*.undo
MONI_STATE_DIR=$shared $M recover || fail "recover of a private state file failed"
[ -e "$victim" ] && fail "recover did not undo a trusted state file"

if [ "$(id -u)" = 0 ]; then # a directory owned by someone else
    other=$TMPDIR/other; mkdir -p "$other"; : >"$victim"; plant "$other"
    chown -R 65534:65534 "$other"; chmod 0700 "$other"
    MONI_STATE_DIR=$other $M recover >"$TMPDIR/out" 2>"$TMPDIR/err"; rc=$?
    cat "$TMPDIR/err"
    [ $rc = 1 ] || fail "recover in another user's directory exited $rc"
    grep -q "owned by another user" "$TMPDIR/err" || fail "no reason for the owner"
    [ -e "$victim" ] || fail "recover acted on another user's state file"
fi

# no HOME: never /tmp/moni-UID
env -u HOME -u XDG_STATE_HOME -u MONI_STATE_DIR $M recover --dry-run >"$TMPDIR/out" 2>&1
cat "$TMPDIR/out"
grep -q "/tmp/moni-" "$TMPDIR/out" && fail "state directory fell back to /tmp"
echo PASS
