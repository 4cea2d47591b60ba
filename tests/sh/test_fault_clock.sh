#!/usr/bin/env bash
# test_fault_clock.sh — clock: the workload's time.time() jumps by an hour while the
# machine's clock does not; a drift makes it run fast; normal after the revert and
# after SIGKILL of moni.
set -u
. "$MONI_SRC/tests/sh/inject_common.sh"
before=$(date +%s)
inject_window clock "clock:offset=3600" '^skew 3(599|600)\.' '^skew -?0\.0' clock
after=$(date +%s)
[ $((after - before)) -lt 600 ] || fail "the machine's clock moved"
inject_window clock-drift "clock:drift=500000" '^skew 0\.[2-9]|^skew [1-9]' '^skew -?0\.0' clock
inject_sigkill clock "clock:offset=-7200" '^skew -7(199|200)\.' '^skew -?0\.0' clock
echo PASS
