#!/usr/bin/env bash
# test_fault_dns.sh — dns: getaddrinfo of a matching host fails with EAI_AGAIN inside
# the workload while the fault fires (the workload's own error text), other hosts
# resolve, gethostbyname fails too; normal after the revert and after SIGKILL of moni; bad parameters refused.
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
# gethostbyname from C: NULL with h_errno HOST_NOT_FOUND (1) while firing, found after
printf '#include <netdb.h>\n#include <stdio.h>\n#include <unistd.h>\nint main(void){for(int i=0;i<40;i++){struct hostent*h=gethostbyname("localhost");printf("%%s %%d\\n",h?"ok":"err",h?0:h_errno);fflush(stdout);usleep(150000);}return 0;}\n' >"$TMPDIR/ghb.c"
cc -o "$TMPDIR/ghb" "$TMPDIR/ghb.c" || fail "cannot build the gethostbyname program"
out=$TMPDIR/ghb-run
"$M" run --out "$out" --duration 30s --fault "dns:host=localhost,error=EAI_NONAME@1s+2s" -- "$TMPDIR/ghb" \
    >"$TMPDIR/ghb.log" 2>&1
grep -q '^err 1$' "$out/workload.log" || { cat "$out/workload.log"; fail "gethostbyname did not fail"; }
[ "$(tail -1 "$out/workload.log")" = "ok 0" ] || fail "gethostbyname still failing after the revert"
echo "gethostbyname: $(grep -c '^err 1$' "$out/workload.log") failed lookups, then found again"
"$M" fault run dns --for 1s --out "$TMPDIR/bad" >"$TMPDIR/bad.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "host" "$TMPDIR/bad.log" || { cat "$TMPDIR/bad.log"; fail "no host: exit $rc"; }
echo PASS
