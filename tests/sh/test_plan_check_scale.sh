#!/usr/bin/env bash
# Checking a plan is linear in its faults (issue 14, item 16: 40k faults took 2 s and
# more, a line-number scan per fault): 40k faults check in well under a second on
# an idle machine, and 4x the faults never costs much more than 4x the time.
set -u
. "$MONI_SRC/tests/sh/run_common.sh"
mk() { "$PY" - "$1" "$2" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
faults = [{"kind": "kill", "params": {"signal": "CONT"}, "at": "%ds" % (i % 500 + 1)} for i in range(n)]
json.dump({"experiments": [{"name": "big", "workload": ["true"], "faults": faults}]}, open(path, "w"))
PY
}
mk 10000 "$TMPDIR/p10k.json"
mk 40000 "$TMPDIR/p40k.json"
# CPU time (user + system, from wait4) of one check, in ms: wall time on a loaded
# machine measured the other processes (a 10k check once took 939 ms of wall time)
ms() {
    "$PY" - "$M" "$1" "$TMPDIR/err" <<'PY' || fail "check failed: $(cat "$TMPDIR/err")"
import os, subprocess, sys
m, plan, err = sys.argv[1:4]
p = subprocess.Popen([m, "run", "--dry-run", "--plan", plan], stdout=subprocess.DEVNULL,
                     stderr=open(err, "w"))
_, status, ru = os.wait4(p.pid, 0)
p.returncode = os.waitstatus_to_exitcode(status)
print(int((ru.ru_utime + ru.ru_stime) * 1000))
sys.exit(p.returncode)
PY
}
best() { local b=999999 t; for _ in 1 2 3; do t=$(ms "$1"); [ "$t" -lt "$b" ] && b=$t; done; echo "$b"; }
t10=$(best "$TMPDIR/p10k.json")
t40=$(best "$TMPDIR/p40k.json")
echo "10k faults: ${t10} ms, 40k faults: ${t40} ms"
[ "$t40" -le $((6 * t10 + 300)) ] || fail "not linear: 10k ${t10} ms, 40k ${t40} ms"
[ -n "${MONI_SANITIZED:-}" ] || [ "$t40" -lt 3000 ] || fail "40k faults took ${t40} ms"
echo PASS
