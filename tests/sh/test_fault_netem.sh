#!/usr/bin/env bash
# test_fault_netem.sh — net mode=netem inside a throwaway network namespace (never the
# host's interfaces): the qdisc is listed while firing and gone afterwards.  On kernels
# without sch_netem moni must say so at arm time; the test then reports a skip.
set -u
. "$MONI_SRC/tests/sh/wait_common.sh"
MONI=$MONI_BUILD/moni
export MONI_STATE_DIR=$TMPDIR/state
fail() { echo "FAIL: $*"; exit 1; }
command -v ip >/dev/null || { echo "skipped: no ip(8)"; exit 77; }
ns=moni-netem-$$
ip netns add "$ns" 2>/dev/null || { echo "skipped: cannot create a network namespace"; exit 77; }
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" "$MONI" fault run net mode=netem iface=lo delay=100ms --port 5555 --for 1s \
    --out "$TMPDIR/o" >"$TMPDIR/run.log" 2>"$TMPDIR/err" &
moni=$!
# until the qdisc is there, or moni has given up (a kernel without netem)
netem_listed() { during=$(ip netns exec "$ns" tc qdisc show dev lo); grep -q "netem 4d6f" <<<"$during"; }
wait_until 10 eval 'netem_listed || proc_gone $moni'
wait $moni; rc=$?
if grep -q "kernel has no netem" "$TMPDIR/err"; then
    [ $rc -eq 1 ] || fail "no-netem case exited $rc, want 1"
    grep -q '"event":"failed"' "$TMPDIR/o/faults.jsonl" || fail "failure not journalled"
    ip netns exec "$ns" tc qdisc show dev lo | grep -q 4d6e && fail "qdisc left behind"
    echo "moni said: $(cat "$TMPDIR/err")"
    echo "skipped: kernel has no netem"
    exit 77
fi
[ $rc -eq 0 ] || fail "moni exited $rc: $(cat "$TMPDIR/err")"
echo "$during" | grep -q "netem 4d6f" || fail "netem qdisc not listed while firing: $during"
ip netns exec "$ns" tc qdisc show dev lo | grep -q 4d6e && fail "qdisc left behind"
# a foreign root qdisc is refused
ip netns exec "$ns" tc qdisc add dev lo root handle 1: htb
ip netns exec "$ns" "$MONI" fault run net mode=netem iface=lo delay=10ms --port 5555 --out "$TMPDIR/o2" 2>"$TMPDIR/err"
grep -q "does not own" "$TMPDIR/err" || fail "foreign qdisc not refused"
echo PASS
