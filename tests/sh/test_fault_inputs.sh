#!/usr/bin/env bash
# test_fault_inputs.sh — inputs are bounded (issue 14 item 15): a plan, rule pack or
# alert rules that is a device, a FIFO or a file past the size limit is refused at
# once with a one-line error naming the file and exit 2, instead of reading forever.
set -u
M=$MONI_BUILD/moni
fail() { echo "FAIL: $*"; exit 1; }
refused() { # what, expected text, command...
    local what=$1 want=$2; shift 2
    local t0=$SECONDS
    timeout 20 "$@" >"$TMPDIR/out" 2>"$TMPDIR/err"
    local rc=$?
    cat "$TMPDIR/err"
    [ $rc = 2 ] || fail "$what: exit $rc, want 2"
    [ $((SECONDS - t0)) -le 5 ] || fail "$what: took $((SECONDS - t0)) s"
    grep -q "$want" "$TMPDIR/err" || fail "$what: no '$want' in the error"
    [ "$(wc -l <"$TMPDIR/err")" -le 1 ] || fail "$what: error is not one line"
}
refused "--plan /dev/zero" "/dev/zero: not a regular file" $M run --plan /dev/zero
refused "parse --rules /dev/zero" "/dev/zero: not a regular file" $M parse --rules /dev/zero /dev/null
refused "alerts check --rules /dev/zero" "/dev/zero: not a regular file" $M alerts check --rules /dev/zero
mkfifo "$TMPDIR/plan.fifo"
refused "--plan FIFO" "plan.fifo: not a regular file" $M run --plan "$TMPDIR/plan.fifo"
# a sparse 100 MB file: refused by its size, without reading it
truncate -s 100M "$TMPDIR/big.json"
refused "--plan 100M" "big.json: larger than the" $M run --plan "$TMPDIR/big.json"
echo PASS
