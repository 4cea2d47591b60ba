#!/usr/bin/env bash
# A kill fault that ends the workload gets its `effective` line (issue 14, item 16):
# the workload exits on SIGTERM 50 ms after the signal, the session ends at once, and
# the journal still says the kill took effect before it says stopped.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
for sig in TERM INT; do
    d="$TMPDIR/run-$sig"
    "$M" run --quiet --out "$d" --fault "kill:signal=$sig@500ms" -- \
        sh -c 'trap "sleep 0.05; exit 3" TERM INT; sleep 30 & wait' >/dev/null 2>&1; rc=$?
    [ $rc -eq 3 ] || fail "$sig: the workload exit status is $rc, want 3"
    ev=$(grep -o '"event":"[a-z]*"' "$d/faults.jsonl" | cut -d'"' -f4 | tr '\n' ' ')
    case "$ev" in
    "armed fired effective stopped reverted ") ;;
    *) fail "$sig: journal says: $ev" ;;
    esac
    grep '"event":"effective"' "$d/faults.jsonl" | grep -Eq 'gone|zombie' ||
        fail "$sig: effective without its detail"
done
echo PASS
