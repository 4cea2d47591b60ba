#!/usr/bin/env bash
# `moni build` on a synthetic 24-hour run at 1 Hz (86,400 rows, 40 columns in
# samples.csv, plus log index, events and faults), next to pandas reading the same
# samples.csv, resampling it to 1 s (mean) and writing it out.  Target: faster than
# pandas.
set -u
PY=/usr/bin/python3
M="$MONI_BUILD/moni"
$PY -c 'import pandas' 2>/dev/null || { echo "   skipped: python3-pandas missing"; exit 0; }
run="$TMPDIR/run24h"
t0=$(date +%s.%N)
$PY "$MONI_SRC/tests/bench/gen_run.py" "$run" 24 || { echo "   generator failed"; exit 0; }
t1=$(date +%s.%N)
rows=$(($(wc -l <"$run/samples.csv") - 1))
cols=$(head -1 "$run/samples.csv" | tr , '\n' | wc -l)
printf '   synthetic run: %d rows x %d columns (%.1f MB samples.csv), generated in %.1fs\n' \
    "$rows" "$cols" "$(echo "$(stat -c %s "$run/samples.csv") / 1048576" | bc -l)" "$(echo "$t1 - $t0" | bc -l)"
best() { # runs "$@" 3 times; prints the best wall and CPU (user+sys) seconds
    local bw=999999 bc=999999 w c
    for _ in 1 2 3; do
        /usr/bin/time -f '%e %U %S' -o "$TMPDIR/t" "$@" >/dev/null 2>&1 || { echo "fail fail"; return; }
        read -r w u s <"$TMPDIR/t"
        c=$(echo "$u + $s" | bc -l)
        bw=$(echo "if ($w < $bw) $w else $bw" | bc -l)
        bc=$(echo "if ($c < $bc) $c else $bc" | bc -l)
    done
    printf '%.2f %.2f' "$bw" "$bc"
}
read -r moni_w moni_c <<<"$(best "$M" build "$run")"
read -r pd_w pd_c <<<"$(best $PY "$MONI_SRC/tests/bench/pandas_resample.py" "$run")"
mrows=$(($(wc -l <"$run/tse_matrix.csv") - 1))
mcols=$(head -1 "$run/tse_matrix.csv" | tr , '\n' | wc -l)
echo "   moni build: all derived files (tse_matrix ${mrows} rows x ${mcols} columns, labels, ground truth, windows)"
echo "   pandas: read samples.csv + resample(1s).mean() + write, nothing else"
if [ "$moni_w" != fail ] && [ "$pd_w" != fail ]; then
    printf '   moni build 24h@1Hz: %ss wall %ss cpu | pandas resample: %ss wall %ss cpu | ratio %.1fx wall, %.1fx cpu\n' \
        "$moni_w" "$moni_c" "$pd_w" "$pd_c" "$(echo "$pd_w / $moni_w" | bc -l)" "$(echo "$pd_c / $moni_c" | bc -l)"
fi
