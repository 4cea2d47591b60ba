# Shared by tests/sh/test_tui_*.sh (sourced, not a test itself): runs moni's console
# in a private tmux server and reads the screen with capture-pane.
set -u
PY=/usr/bin/python3
. "$MONI_SRC/tests/sh/wait_common.sh"
command -v tmux >/dev/null || { echo "skipped: tmux not installed"; exit 77; }
[ -x "$MONI_BUILD/moni" ] || { echo "skipped: $MONI_BUILD/moni not built"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/moni-tui.XXXXXX")
SOCK="moni-tui-$$"
T() { tmux -L "$SOCK" "$@"; }
cleanup() {
    T kill-server 2>/dev/null
    # the console's children (workload, burners) die with it; the guardian reverts
    rm -rf "$W"
}
trap cleanup EXIT
# Installed data (rule packs, themes, alert rules) from the source tree.
mkdir -p "$W/data"
ln -s "$MONI_SRC/logparse/rules" "$W/data/rules"
ln -s "$MONI_SRC/themes" "$W/data/themes"
ln -s "$MONI_SRC/examples" "$W/data/examples"
export MONI_DATA_DIR="$W/data" XDG_CONFIG_HOME="$W/config" MONI_STATE_DIR="$W/state"
fail() {
    echo "FAIL: $*"
    echo "--- screen:"; T capture-pane -p -t m 2>/dev/null | sed 's/^/| /'
    [ -s "$W/err" ] && { echo "--- stderr:"; tail -n 5 "$W/err"; }
    exit 1
}
# A short moni-train run (small shapes, ~30 s) as the workload.
TRAIN=("$MONI_BUILD/moni-train" --data-dir "$W/train-data" --output-dir "$W/train-out"
       --train-samples 4000 --eval-samples 400 --features 4096 --hidden 32 --no-progress
       --logging-steps 5 --threads 1 --epochs 60)
# start WIDTH HEIGHT [VAR=VALUE...] -- moni arguments...
start() {
    local w=$1 h=$2; shift 2
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    {
        echo "#!/bin/bash"
        printf 'cd %q\n' "$W"
        printf 'exec env LANG=C.UTF-8 TERM=xterm-256color'
        printf ' %q' "${envs[@]}" "$MONI_BUILD/moni" "$@"
        printf ' 2>%q\n' "$W/err"
    } > "$W/run.sh"
    # the pane stays after moni exits so the exit status can be read
    {
        echo "#!/bin/bash"
        printf 'bash %q; echo $? > %q; sleep 600\n' "$W/run.sh" "$W/rc"
    } > "$W/pane.sh"
    rm -f "$W/rc"
    # After a kill-server the old server may still be exiting: a new-session that
    # reaches it fails with "server exited unexpectedly".  Wait for it to go, and
    # retry once more if the race is still lost.
    local i
    wait_until 5 no_server
    for ((i = 0; i < 3; i++)); do
        T -f /dev/null new-session -d -s m -x "$w" -y "$h" "bash $W/pane.sh" && return 0
        sleep 0.5
    done
    fail "tmux new-session"
}
no_server() { ! T list-sessions >/dev/null 2>&1; }
screen() { T capture-pane -p -t m; }
keys() { T send-keys -t m "$@"; }
# screen_has ERE: the screen matches now (extended regex); screen_lacks: it does
# not (and the screen could be read)
screen_has() { screen | grep -Eq -- "$1"; }
screen_lacks() { local s; s=$(screen) && ! grep -Eq -- "$1" <<<"$s"; }
# A deadline only matters when the test fails: never less than 10 s, so that a
# loaded machine (several builds on 2 cores) does not turn a slow redraw into a FAIL.
tui_limit() { local l=${1:-15}; [ "$l" -lt 10 ] && l=10; echo "$l"; }
# wait_for ERE [SECONDS=15]: until the screen matches, else the test fails
wait_for() {
    local l; l=$(tui_limit "${2:-15}")
    wait_until "$l" screen_has "$1" || fail "screen never showed /$1/ in ${l}s"
}
# wait_gone_from_screen ERE [SECONDS=10]: until the screen no longer matches
wait_gone_from_screen() {
    local l; l=$(tui_limit "${2:-10}")
    wait_until "$l" screen_lacks "$1" || fail "screen still shows /$1/ after ${l}s"
}
# wait_exit [SECONDS]: until moni has exited; prints its status
wait_exit() {
    wait_until "${1:-20}" test -s "$W/rc" || fail "moni did not exit within ${1:-20}s"
    cat "$W/rc"
}
# journal_has FILE EVENT FAULT_ID
journal_has() { grep -q "\"event\":\"$2\",\"fault_id\":\"$3\"" "$1"; }
# The forms (arm a fault, a preset): the focused field's name (not its value: a
# redraw of typed text is no move); focus FIELD_ERE: Down until the form's cursor is
# on that field, waiting after each Down for the focus to move (a slow redraw must
# not make it skip)
focused() { screen | grep -E '│ [a-z][^│]*_ +│' | head -n 1 | sed 's/^[^│]*│ //' | awk '{ print $1 }'; }
focus_moved() { [ "$(focused)" != "$1" ]; }
focus() {
    local i before
    for ((i = 0; i < 30; i++)); do
        screen | grep -Eq "│ $1 +[^ │]*_ " && return 0
        before=$(focused)
        keys Down
        wait_until 10 focus_moved "$before" || fail "Down did not move the focus from: $before"
    done
    fail "could not reach the field /$1/"
}
# lines in the fault journal $J (0 before it exists)
journal_lines() { if [ -e "$J" ]; then wc -l <"$J"; else echo 0; fi; }
