#!/usr/bin/env bash
# Themes and terminals: the console runs under TERM=xterm-256color, screen-256color,
# tmux-256color and linux; `t` cycles the shipped themes; NO_COLOR draws without
# colour; a broken user theme gives one error naming file, line and field, and the
# default theme is used.
. "$(dirname "$0")/tui_common.sh"
for term in xterm-256color screen-256color tmux-256color linux; do
    infocmp "$term" >/dev/null 2>&1 || { echo "skipped: no terminfo for $term"; exit 77; }
done
colours_drawn() { T capture-pane -e -p -t m | grep -Eq $'\e\\[[0-9;]*(3[0-7]|38;5;[0-9]+)[;m]'; }
n=0
for term in xterm-256color screen-256color tmux-256color linux; do
    n=$((n + 1))
    T kill-server 2>/dev/null
    start 100 30 TERM=$term -- --out "$W/run$n" --interval 200ms -- sleep 60
    wait_for "Faults .*a arm" 10
    wait_for "theme default" 3
    keys t
    wait_for "theme colorblind" 3
    keys t
    wait_for "theme high-contrast" 3
    keys t t
    wait_for "theme default" 3
    # colours reach the screen (SGR colour codes in the pane's content)
    wait_until 10 colours_drawn || fail "$term: no colours on screen"
    keys q
    rc=$(wait_exit 20)
    [ "$rc" = 0 ] || fail "$term: moni exited $rc"
    [ -s "$W/run$n/session.cast" ] || fail "$term: no session.cast"
done

# NO_COLOR: no colour codes at all, attributes only
T kill-server 2>/dev/null
start 100 30 NO_COLOR=1 -- --out "$W/nocolor" --interval 200ms -- sleep 60
wait_for "Faults .*a arm" 10
# titles in reverse video show the screen is drawn with attributes
reverse_drawn() { T capture-pane -e -p -t m | grep -q $'\e\\[[0-9;]*7m'; }
wait_until 10 reverse_drawn || fail "NO_COLOR: no reverse video for titles"
wait_for "Timeline  00:00 \.\. 00:0[1-9]" 10    # samples drawn (graphs, bars) too
T capture-pane -e -p -t m | grep -Eq $'\e\\[[0-9;]*(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)[;m]' &&
    fail "NO_COLOR: colour codes on screen"
keys q
rc=$(wait_exit 20)
[ "$rc" = 0 ] || fail "NO_COLOR: moni exited $rc"

# a broken user theme
mkdir -p "$XDG_CONFIG_HOME/moni/themes"
printf '{\n  "name": "broken",\n  "roles": {\n    "accent": {"fg": [81, 14]}\n  }\n}\n' \
    > "$XDG_CONFIG_HOME/moni/themes/broken.json"
T kill-server 2>/dev/null
start 120 30 -- --out "$W/broken" --interval 200ms --theme broken -- sleep 60
wait_for "broken.json:4: roles.accent.fg: " 10
wait_for "theme default" 8                  # the default is in use once the message goes
[ "$(grep -c 'broken.json' "$W/err")" = 1 ] || fail "want exactly one error line on stderr"
grep -q "broken.json:4: roles.accent.fg: expected \[256-colour, 16-colour, 8-colour\]" "$W/err" ||
    fail "stderr: $(cat "$W/err")"
keys q
rc=$(wait_exit 20)
[ "$rc" = 0 ] || fail "broken theme: moni exited $rc"
# unknown theme name: same treatment
T kill-server 2>/dev/null
start 120 30 -- --out "$W/unknown" --interval 200ms --theme nosuch -- sleep 60
wait_for "unknown theme 'nosuch'" 10
keys q
wait_exit 20 >/dev/null
echo "themes ok"
