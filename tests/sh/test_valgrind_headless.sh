#!/usr/bin/env bash
# The headless commands under valgrind (normal build): no invalid access, no use of
# uninitialised memory, no definite or indirect leak -- on good input and on bad input
# (exit 2).  Children (workload, burners, guardian) are not traced.
set -u
M="$MONI_BUILD/moni"
fail() { echo "FAIL: $*"; exit 1; }
[ "${MONI_SANITIZED:-0}" = 1 ] && { echo "skipped: sanitized build (valgrind and ASan do not mix)"; exit 77; }
command -v valgrind >/dev/null || { echo "skipped: valgrind not installed"; exit 77; }
[ -x "$M" ] || fail "no $M"

export XDG_CONFIG_HOME="$TMPDIR/xdg"   # no user alert rules
if [ -z "${MONI_DATA_DIR:-}" ]; then   # rule packs and examples from the source tree
    export MONI_DATA_DIR="$TMPDIR/data"
    mkdir -p "$MONI_DATA_DIR"
    ln -sfn "$MONI_SRC/logparse/rules" "$MONI_DATA_DIR/rules"
    ln -sfn "$MONI_SRC/examples" "$MONI_DATA_DIR/examples"
fi
W="$TMPDIR/vg"
mkdir -p "$W"
cd "$W" || fail "cd $W"

# PCRE2's JIT code (no object file, so "???") reads whole machine words past the
# end of the subject inside the caller's buffer: a known false positive, and only
# code without an object file matches this.
cat >vg.supp <<'EOF'
{
   pcre2-jit-word-reads
   Memcheck:Cond
   obj:???
}
{
   pcre2-jit-word-reads-value
   Memcheck:Value8
   obj:???
}
EOF

VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
          --error-exitcode=99 --track-fds=no --num-callers=30 --suppressions=vg.supp)
n=0 bad=0
# vg WANT_EXITS ARGS... : runs moni ARGS under valgrind; WANT_EXITS is "0" or "0|1"...
vg() {
    local want=$1; shift
    n=$((n + 1))
    local log="vg-$n.log" rc
    "${VALGRIND[@]}" --log-file="$log" "$M" "$@" >"out-$n.txt" 2>"err-$n.txt" </dev/null
    rc=$?
    # valgrind 3.19 does not know pidfd_open (moni falls back to polling): not an error
    local errs
    errs=$(grep -v -e 'unhandled amd64-linux syscall' -e 'You may be able' \
        -e 'README_MISSING_SYSCALL' -e 'Nevertheless we consider' -e 'bug_reports.html' \
        -e '^==[0-9]*== *$' "$log")
    if [ $rc -eq 99 ] || [ -n "$errs" ]; then
        echo "FAIL: moni $* -- valgrind found errors (exit $rc):"
        sed 's/^/    /' "$log" | head -n 60
        bad=$((bad + 1))
        return
    fi
    case "|$want|" in
        *"|$rc|"*) echo "ok    moni $* (exit $rc)" ;;
        *)  echo "FAIL: moni $* exited $rc, want $want"; sed 's/^/    /' "err-$n.txt" | tail -n 5
            bad=$((bad + 1)) ;;
    esac
}

LOGS="$MONI_SRC/tests/data/logs"
if [ -f "$LOGS/hf_trainer.log" ] && [ -f "$LOGS/megatron.log" ]; then
    log1="$LOGS/hf_trainer.log" log2="$LOGS/megatron.log"
else
    for i in $(seq 1 40); do
        echo "{'loss': $((100 - i)).5, 'learning_rate': 1e-05, 'epoch': 0.$i}"
    done >gen.log
    echo "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB" >>gen.log
    log1=gen.log log2=gen.log
fi

t0=$SECONDS
# --- good input -----------------------------------------------------------------
vg 0 parse "$log1"
vg 0 parse --format csv "$log2"
vg "0|1" diagnose "$log2"
vg "0|1" diagnose --json "$log1"
vg 0 record --out D1 --interval 200ms --duration 2s -- sleep 5
[ -s D1/samples.csv ] || fail "record wrote no samples.csv"
vg 0 run --out D2 --duration 3s --interval 200ms --fault 'stop@1s+1s' -- sleep 10
grep -q stop D2/faults.jsonl 2>/dev/null || fail "run journaled no stop fault"
vg 0 build D1
vg 0 build --grid 500ms D2
# 1 = the report found problems (a stopped `sleep` shows no effect): still clean
vg "0|1" validate D1 D2
vg "0|1" validate --json --baseline D1 D2
vg "0|1" diagnose D2
vg 0 fault list
vg 0 fault list cpu
vg 0 fault run cpu workers=1 load=30% --for 1s --out D3
vg "0|1" doctor
vg 0 alerts export
vg 0 alerts check
vg 0 grafana export

# --- bad input: one line, exit 2, nothing leaked ---------------------------------
printf '{"name": "x", "experiments": [\n {"name": 3}\n]}\n' >badplan.json
printf '{"groups": [ {"name": "g", "rules": [ {"alert": "A", "expr": ' >badrules.json
vg 2 parse /nonexistent.log
vg 2 parse --format xml "$log1"
vg 2 parse --rules badrules.json "$log1"
vg 2 diagnose
vg 2 diagnose /nonexistent
vg 2 record --interval 200ms
vg 2 record --out Dx --interval bogus -- true
vg 2 run --out Dy --fault 'bogus@1s' -- true
vg 2 run --out Dy --fault 'cpu:load=300%@1s' -- true
vg 2 run --plan badplan.json --dry-run
vg 2 build /nonexistent
vg 2 validate --grid xx D1
vg 2 fault run nosuch
vg 2 fault run cpu load=300% --for 1s
vg 2 fault list nosuch
vg 2 alerts check --rules badrules.json
vg 2 grafana frob
vg 2 doctor --bogus
vg 2 frobnicate

echo "$n commands under valgrind in $((SECONDS - t0))s, $bad failed"
[ $bad -eq 0 ] || fail "$bad of $n commands failed under valgrind"
echo ok
