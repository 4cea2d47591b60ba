#!/usr/bin/env bash
# `make install` honours PREFIX and DESTDIR: binaries, man pages, rule packs, themes,
# examples and completion land under the staged prefix, and the installed moni finds
# its rule packs and themes there (not in the source tree); uninstall removes them.
set -u
fail() { echo "FAIL: $*"; exit 1; }
stage="$TMPDIR/stage"
# make install may relink out-of-date binaries: with the flags the build dir was made with
[ "${MONI_SANITIZED:-0}" = 1 ] && san=1 || san=
make -s -C "$MONI_SRC" BUILD="$MONI_BUILD" SAN="$san" PREFIX=/opt/moni DESTDIR="$stage" install >"$TMPDIR/inst.log" 2>&1 ||
    { cat "$TMPDIR/inst.log"; fail "make install"; }
p="$stage/opt/moni"
for f in bin/moni bin/moni-train bin/moni-rlsim share/man/man1/moni.1 share/man/man5/moni-plan.5 \
    share/man/man5/moni-dataset.5 share/man/man5/moni-rules.5 share/man/man7/moni-faults.7 \
    share/moni/rules/10-metrics.json share/moni/themes/default.json share/moni/examples/fault-matrix.json \
    share/bash-completion/completions/moni lib/moni/libmoni-inject.so; do
    [ -e "$p/$f" ] || fail "not installed: $f"
done
[ -x "$p/bin/moni" ] || fail "moni not executable"
# The installed binary, away from the source tree, finds its installed rule packs.
printf "{'loss': 0.5, 'learning_rate': 1e-05, 'epoch': 0.1}\nCUDA out of memory. Tried to allocate 2.00 GiB\n" >"$TMPDIR/t.log"
out=$(cd / && env -u MONI_SRC -u MONI_DATA_DIR "$p/bin/moni" parse --format jsonl "$TMPDIR/t.log" 2>&1) ||
    fail "installed moni parse: $out"
grep -q '"loss"' <<<"$out" || fail "installed moni found no metric rules: $out"
grep -q 'CUDA_OutOfMemory' <<<"$out" || fail "installed moni found no event rules: $out"
make -s -C "$MONI_SRC" BUILD="$MONI_BUILD" SAN="$san" PREFIX=/opt/moni DESTDIR="$stage" uninstall >/dev/null 2>&1 || fail "uninstall"
left=$(find "$p" -type f | head -5)
[ -z "$left" ] || fail "uninstall left files: $left"
echo ok
