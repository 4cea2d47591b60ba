#!/usr/bin/env bash
# test_tui_presets.sh — "repeat last fault" and presets in tmux: a cpu fault armed
# from the form (load 5%) and fired; `:preset save light` writes it to
# $XDG_CONFIG_HOME/moni/presets.json; `:preset fire light` (completed with Tab) arms
# and fires it with the same fields; `.` fires it once more; the presets view
# lists it; a broken presets file is one line naming FILE:LINE: field and the
# console goes on.
. "$(dirname "$0")/tui_common.sh"
R="$W/run"
J="$R/faults.jsonl"
PRE="$XDG_CONFIG_HOME/moni/presets.json"
start 120 40 -- --out "$R" --interval 200ms -- sleep 600
wait_for 'REC ' 15

command_line() { # TEXT: typed after ':' and run
    keys :
    wait_for "Tab completes, Enter runs" 5
    keys -l "$1"
    keys Enter
}
fired_lines() { if [ -e "$J" ]; then grep -c '"event":"fired"' "$J"; else echo 0; fi; }
fired_count() { [ "$(fired_lines)" -ge "$1" ]; }

# the first fault: armed from the form (opened by :arm cpu), fired by f
command_line "arm cpu"
wait_for "arm cpu" 5
focus "load \(%\)"
keys -l "5%"
wait_for "│ load \(%\) +5%_" 5
keys Enter
wait_for ">1 cpu +armed" 10
keys f
wait_for ">1 cpu +firing" 10
wait_until 10 fired_count 1 || fail "cpu never fired"
keys s
wait_for ">1 cpu +stopped" 10

# saved as a preset, for this user
command_line "preset save light"
wait_for "preset light saved \(cpu\)" 5
[ -s "$PRE" ] || fail "no $PRE"
$PY - "$PRE" <<'EOF' || fail "the preset file does not hold the fault: $(cat "$PRE")"
import json, sys
p = json.load(open(sys.argv[1]))["light"]
assert p["kind"] == "cpu" and p["params"]["load"] == "5%", p
EOF

# fired again from the preset (its name completed with Tab)
keys :
wait_for "Tab completes, Enter runs" 5
keys -l "preset fire l"
keys Tab
wait_for "^:preset fire light _" 5
keys Enter
wait_for "cpu fired \(light\)" 10
wait_until 10 fired_count 2 || fail "the preset did not fire"
grep '"event":"armed"' "$J" | tail -n 1 | grep -q '"load":"5%"' ||
    fail "the preset's fault was not armed with load=5%: $(grep armed "$J" | tail -n 1)"
keys s
wait_for ">1 cpu +stopped" 10

# . repeats the last fired fault
keys .
wait_for "cpu fired \(last fault\)" 10
wait_until 10 fired_count 3 || fail ". did not fire the fault again"
grep '"event":"armed"' "$J" | tail -n 1 | grep -q '"load":"5%"' || fail ". changed the fault's fields"
keys X
wait_for "PANIC: every fault stopped" 5

# the presets view
keys v
wait_for "fault presets \(Enter fires" 5
wait_for "> light +cpu +load=5%" 5
keys Escape
wait_gone_from_screen "fault presets \(Enter fires" 5

# a broken file: one line naming file, line and field; nothing fires
printf '{"light":\n  {"kind": 5}}\n' >"$PRE"
command_line "preset fire light"
wait_for "presets.json:2: kind: must be a fault kind name" 5
[ "$(fired_lines)" = 3 ] || fail "a broken preset fired something"
wait_for 'REC ' 5                                   # still running

keys q
rc=$(wait_exit 30)
[ "$rc" = 0 ] || fail "console exit $rc, want 0"
grep -q '^{"light":$' "$PRE" || fail "the broken presets file was rewritten"
echo PASS
