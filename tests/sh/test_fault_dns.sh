#!/usr/bin/env bash
# test_fault_dns.sh — dns: getaddrinfo of a matching host fails with EAI_AGAIN inside
# the workload while the fault fires (the workload's own error text), other hosts
# resolve; normal after the revert and after SIGKILL of moni; bad parameters refused.
set -u
. "$MONI_SRC/tests/sh/inject_common.sh"
inject_window dns "dns:host=LOCAL*" 'Temporary failure in name resolution' '^ok' dns localhost
inject_sigkill dns "dns:host=localhost,error=EAI_NONAME" 'Name or service not known' '^ok' dns localhost
# a host that does not match is untouched
out=$TMPDIR/other; st=$TMPDIR/other.status
"$M" run --out "$out" --duration 30s --fault "dns:host=*.example.invalid@0s+20s" -- \
    $PY "$PEER" "$st" dns localhost >/dev/null 2>&1 &
moni=$!; inject_pids+=($moni)
wait_for_file_line "$out/faults.jsonl" '"event":"fired"' 20 || fail "other: never fired"
wait_for_lines "$out/workload.log" 20 20 || fail "other: the peer made no calls"
grep -q '^err' "$out/workload.log" && fail "other: a non-matching host failed"
kill $moni; wait $moni 2>/dev/null
"$M" fault run dns --for 1s >"$TMPDIR/bad.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "host" "$TMPDIR/bad.log" || { cat "$TMPDIR/bad.log"; fail "no host: exit $rc"; }
echo PASS
