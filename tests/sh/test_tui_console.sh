#!/usr/bin/env bash
# The console end to end in tmux, with the fake NVML and a short moni-train run:
# every pane shows live values; a cpu fault armed (form), fired and stopped by keys
# with the transitions in faults.jsonl; a mark typed into marks.jsonl; quit while a
# fault is active asks, then reverts it and completes meta.json; session.cast is
# asciicast v2.
. "$(dirname "$0")/tui_common.sh"
lib="$MONI_BUILD/tests/libfake_nvml.so"
[ -e "$lib" ] || { echo "skipped: no $lib"; exit 77; }
[ -x "${TRAIN[0]}" ] || { echo "skipped: moni-train not built"; exit 77; }
R="$W/run"
start 120 40 MONI_NVML_LIB="$lib" MONI_FAKE_NVML_GPUS=1 MONI_FAKE_NVML_TEMP=70 -- \
    --out "$R" --interval 500ms -- "${TRAIN[@]}"
wait_for 'REC .*/run' 10
# live values in every pane
wait_for "loss [0-9]" 20                            # training (parsed from the log)
wait_for "^ 0 +\[\|+ +42%\] mem 1.0G/16G 70C" 5      # GPU 0 from the fake NVML
wait_for "CPU \[\|*.*[0-9.]+%\]" 5                  # CPU bar
wait_for "Mem \[\|*.*[0-9.]+[KMG]/[0-9.]+G\]" 5     # memory
wait_for "disk wr +[0-9.]+[BKMG]/s" 5               # I/O rates
wait_for "moni-train" 5                              # the workload's process tree
wait_for "heartbeat [0-9.]+s ago" 5
wait_for "Timeline  00:00 \.\. 00:0[1-9]" 5          # the clock runs
screen | grep -q "epoch [0-9]" || fail "no epoch in the training pane"

# arm a cpu fault through the form: 30% on one burner
keys 1 a
wait_for "arm cpu" 5
# the focused field is the form line with the '_' cursor: after each Down, wait
# for the focus to move before looking again (a slow redraw must not make it skip)
focused() { screen | grep -E '│ [a-z][^│]*_ +│' | head -n 1; }
focus_moved() { [ "$(focused)" != "$1" ]; }
for i in 1 2 3 4 5 6 7 8; do
    screen | grep -q "load (%) *[^ ]*_" && break
    before=$(focused)
    keys Down
    wait_until 10 focus_moved "$before" || fail "Down did not move the focus from: $before"
done
screen | grep -q "load (%) *[^ ]*_" || fail "could not reach the load field"
keys BSpace BSpace BSpace BSpace BSpace BSpace
keys -l "300%"
wait_for "must be|1\.\.100|out of range" 5          # inline validation message
keys BSpace BSpace BSpace BSpace
keys -l "30%"
keys Enter
wait_for ">1 cpu +armed" 5
keys f
wait_for ">1 cpu +firing" 5
J="$R/faults.jsonl"
wait_until 10 journal_has "$J" effective f1
journal_has "$J" armed f1 || fail "no armed line"
journal_has "$J" fired f1 || fail "no fired line"
journal_has "$J" effective f1 || fail "no effective line within 5 s"
grep -q '"load":"30%"' "$J" || fail "the form's load=30% is not in the journal"
# the fault window on the timeline strip
window_drawn() { screen | grep -A1 " Timeline " | tail -n 1 | grep -q "c━"; }
wait_until 10 window_drawn || fail "no fault window on the timeline"
keys s
wait_for ">1 cpu +stopped" 5
wait_until 10 journal_has "$J" reverted f1
journal_has "$J" stopped f1 || fail "no stopped line"
journal_has "$J" reverted f1 || fail "no reverted line"

# a mark
keys m
wait_for "mark note:" 3
keys -l "loss spike here"
keys Enter
wait_for "marked: loss spike here" 3
$PY - "$R/marks.jsonl" <<'PYEOF' || fail "marks.jsonl"
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
m = rows[0]
assert m["note"] == "loss spike here", m
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m["timestamp"]), m
assert isinstance(m["mono_ns"], int) and m["mono_ns"] > 0, m
PYEOF

# raw log, diagnosis, restart, mouse
keys l
wait_for "raw log \(workload.log" 3
wait_for "[0-9]+  [0-9:.]{12} \{'loss': " 3   # numbered, with its time
# search back to the start of training (scrolled out of a long log)
keys /
wait_for "search log:" 3
keys -l "optimization steps"
keys Enter
wait_for "/optimization steps" 3
wait_for "Total optimization steps" 3
keys n                                  # no older one: said so
wait_for 'no older line with "optimization steps"' 3
keys Escape
keys d
wait_for "diagnosis \(j/k scroll" 5
keys Escape
wait_gone_from_screen "diagnosis \(j/k"
row=$(screen | grep -n " 3 disk_fill " | cut -d: -f1)
[ -n "$row" ] || fail "no disk_fill row"
col=$(screen | sed -n "${row}p" | awk '{ print index($0, "3 disk_fill") }')
keys -l $'\e[<0;'"$((col + 2))"';'"$row"'M'$'\e[<0;'"$((col + 2))"';'"$row"'m'
wait_for ">3 disk_fill" 3                             # a click selected the row
keys 1
wait_for ">1 cpu" 3

# panic: X stops every fault at once
keys a Enter
wait_for ">1 cpu +armed" 5
keys f
wait_for ">1 cpu +firing" 5
keys X
wait_for "PANIC: every fault stopped" 3
wait_until 10 journal_has "$J" reverted f2
journal_has "$J" stopped f2 || fail "X did not stop f2"
journal_has "$J" reverted f2 || fail "X did not revert f2"

# quit while a fault fires: asks first, then stops and reverts it
keys a Enter
wait_for ">1 cpu +armed" 5
keys f
wait_for ">1 cpu +firing" 5
keys q
wait_for "still active" 3
keys n
wait_gone_from_screen "still active"
wait_for ">1 cpu +firing" 5      # back on the console, the fault still firing
[ -s "$W/rc" ] && fail "moni quit on n"
keys q
wait_for "still active" 3
keys y
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "moni exited $rc"
journal_has "$J" stopped f3 || fail "f3 was not stopped at quit"
journal_has "$J" reverted f3 || fail "f3 was not reverted at quit"
$PY - "$R" <<'PYEOF' || fail "run directory"
import json, sys
d = sys.argv[1]
meta = json.load(open(d + "/meta.json"))
assert meta["complete"] is True, meta.get("complete")
assert meta["end"], "no end"
assert meta["stop_reason"] == "user", meta["stop_reason"]
# drawing never delayed a sample: none missed; a few late ones are the machine's
# (other tests and builds share these two cores), a blocked draw makes most late
t = meta["ticks"]
assert t["missed"] == 0 and t["late"] <= max(4, t["taken"] // 4), t
lines = open(d + "/session.cast").read().splitlines()
h = json.loads(lines[0])
assert h["version"] == 2 and h["width"] == 120 and h["height"] == 40, h
assert isinstance(h["timestamp"], (int, float)) and "env" in h, h
last, n, text = 0.0, 0, ""
for l in lines[1:]:
    e = json.loads(l)
    assert isinstance(e, list) and len(e) == 3 and e[1] in ("o", "r"), e
    assert e[0] >= last, "time goes back"
    last = e[0]
    n += 1
    if e[1] == "o":
        text += e[2]
assert n > 10, n
for want in ("Faults", "firing", "loss spike here", "still active"):
    assert want in text, "cast lacks %r" % want
print("cast: %d events, %.1f s" % (n, last))
PYEOF
echo "console ok"
