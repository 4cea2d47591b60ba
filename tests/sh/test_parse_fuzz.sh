#!/usr/bin/env bash
# Runs the log-parser fuzz harnesses (tests/fuzz/fuzz_linesplit.c, fuzz_rulepack.c)
# for 10 s each when clang's libFuzzer is available; a crash, sanitizer report or
# leak fails the test.  Skipped without clang/libFuzzer.
set -u
. "$(dirname "$0")/lp_common.sh"
command -v clang >/dev/null || { echo "skipped: clang not installed"; exit 77; }
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$TMPDIR/probe.c"
clang -fsanitize=fuzzer -o "$TMPDIR/probe" "$TMPDIR/probe.c" 2>/dev/null ||
    { echo "skipped: clang has no libFuzzer (Debian package libclang-rt-14-dev)"; exit 77; }
SECS=${FUZZ_SECONDS:-10}
cd "$MONI_SRC"
# the parser needs only core's base and JSON files: a quick build
srcs="core/base.c core/json.c $(ls logparse/*.c)"
flags=$(pkg-config --cflags --libs libcjson libpcre2-8)
for h in fuzz_linesplit fuzz_rulepack; do
    bin="$TMPDIR/$h"
    # shellcheck disable=SC2086
    clang -std=c11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=undefined -DMONI_PREFIX='"/usr/local"' -o "$bin" \
        "tests/fuzz/$h.c" $srcs $flags -lpthread -lm -ldl 2>"$TMPDIR/$h.build" ||
        fail "building $h: $(tail -n 5 "$TMPDIR/$h.build")"
    mkdir -p "$TMPDIR/corpus-$h"
    "$bin" -max_total_time="$SECS" -max_len=8192 -rss_limit_mb=2048 "$TMPDIR/corpus-$h" \
        "tests/fuzz/seeds/$h" >"$TMPDIR/$h.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || grep -qE "runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)" "$TMPDIR/$h.log"; then
        grep -E -A15 "runtime error|ERROR:" "$TMPDIR/$h.log" | head -40
        fail "$h found a problem (exit $rc)"
    fi
    echo "$h: $(grep -Eo '#[0-9]+' "$TMPDIR/$h.log" | tail -n 1) runs in ${SECS}s, clean"
done
echo ok
