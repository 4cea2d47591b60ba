#!/usr/bin/env bash
# bench_parse: `moni parse` with all built-in packs over a generated 1,000,000-line
# training log (HF dicts, tqdm bars redrawn with CR, INFO chatter, warnings,
# Megatron/DeepSpeed/Lightning lines, a few tracebacks), next to (a) `grep -P -c` with
# the same patterns joined and (b) /usr/bin/python3 `re` applying the same patterns
# line by line, as Python prototypes do.  Figures are wall time on this machine, in
# the same run; CPU time of moni is printed too (the CI box is shared).
set -u
cd "$(dirname "$0")/../.."
SRC=$(pwd)
M="$MONI_BUILD/moni"
N=${BENCH_PARSE_LINES:-1000000}
T=${TMPDIR:-/tmp}
[ -x "$M" ] || { echo "   moni not built"; exit 0; }
mkdir -p "$T/data"
ln -sfn "$SRC/logparse/rules" "$T/data/rules"
export MONI_DATA_DIR="$T/data" XDG_CONFIG_HOME="$T/xdg"
log="$T/train.log"
/usr/bin/python3 tests/bench/gen_trainlog.py "$N" "$log"
"$M" parse --list-patterns >"$T/patterns"
npat=$(wc -l <"$T/patterns")
echo "   input: $N lines, $(($(stat -c %s "$log") / 1048576)) MiB, $npat patterns"

secs() { /usr/bin/python3 -c 'import sys; print("%.3f" % float(sys.argv[1]))' "$1"; }
now() { date +%s.%N; }

# moni parse (full JSON-lines output to /dev/null), best of 3
best=999
for _ in 1 2 3; do
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$T/cpu" "$M" parse "$log" >/dev/null
    t1=$(now)
    dt=$(/usr/bin/python3 -c "print($t1 - $t0)")
    if /usr/bin/python3 -c "import sys; sys.exit(0 if $dt < $best else 1)"; then
        best=$dt; cpu=$(awk '{print $1 + $2}' "$T/cpu")
    fi
done
moni_lps=$(/usr/bin/python3 -c "print(int($N / $best))")
echo "   moni parse:  $(secs "$best") s  ${moni_lps} lines/s  (cpu $(secs "$cpu") s: $(/usr/bin/python3 -c "print(int($N / max($cpu, 1e-9)))") lines/s per core)"

# (a) grep -P -c with the patterns joined (named groups made anonymous, since grep
# does not allow duplicate names; (?i: scopes are kept)
sed -E 's/\(\?<[A-Za-z_][A-Za-z0-9_]*>/(?:/g' "$T/patterns" | paste -sd'|' >"$T/joined"
t0=$(now)
LC_ALL=C grep -P -c -f "$T/joined" "$log" >"$T/grepcount" 2>"$T/greperr"
t1=$(now)
if [ -s "$T/greperr" ]; then
    echo "   grep -P:     failed: $(head -c 200 "$T/greperr")"
else
    g=$(/usr/bin/python3 -c "print($t1 - $t0)")
    echo "   grep -P -c:  $(secs "$g") s  $(/usr/bin/python3 -c "print(int($N / $g))") lines/s  ($(cat "$T/grepcount") matching lines)  | moni/grep ratio $(/usr/bin/python3 -c "print('%.2fx' % ($g / $best))")"
fi

# (b) Python re, every pattern on every line
cat >"$T/pyre.py" <<'PY'
import re, sys, time
pats = [re.compile(re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", l.rstrip("\n")).encode())
        for l in open(sys.argv[1])]
t0 = time.perf_counter()
hits = 0
with open(sys.argv[2], "rb") as f:
    for raw in f:
        for line in raw.rstrip(b"\n").split(b"\r"):
            for p in pats:
                if p.search(line):
                    hits += 1
print(time.perf_counter() - t0, hits)
PY
read -r py pyhits < <(/usr/bin/python3 "$T/pyre.py" "$T/patterns" "$log")
echo "   python re:   $(secs "$py") s  $(/usr/bin/python3 -c "print(int($N / $py))") lines/s  ($pyhits matches)  | moni/python ratio $(/usr/bin/python3 -c "print('%.1fx' % ($py / $best))")"
rm -f "$log"
