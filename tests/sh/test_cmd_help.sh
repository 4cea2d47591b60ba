#!/usr/bin/env bash
# Commands as data: every command `moni help` lists (and every subcommand its own
# --help lists) answers --help with exit 0, a usage line and its options, and every
# option its usage line names is described; mistyped commands and options get one
# line, exit 2 and a suggestion; a repeat limit is an error, not a silent drop.
set -u
M="$MONI_BUILD/moni"
fail() { echo "FAIL: $*"; exit 1; }

# the names listed under "commands:" in a help text
list_commands() { awk '/^commands:/ {on = 1; next} on && /^  [a-z_]/ {print $1} on && /^$/ {on = 0}'; }

check_help() { # path words...
    local out rc
    out=$("$M" "$@" --help 2>&1); rc=$?
    [ $rc -eq 0 ] || fail "moni $* --help: exit $rc: $out"
    grep -qi '^usage: moni ' <<<"$out" || fail "moni $* --help: no usage line: $out"
    grep -Eq '^  (-[a-zA-Z], )?--help' <<<"$out" || fail "moni $* --help: no option lines: $out"
    # every --option in the usage line(s) has a line of its own among the options
    # (a command with subcommands: in theirs)
    local usage="" opt
    grep -q '^commands:' <<<"$out" || usage=$(awk '/^usage:/ {on = 1} on && /^$/ {exit} on' <<<"$out")
    for opt in $(grep -oE -- '--[a-z][a-z-]*' <<<"$usage" | sort -u); do
        grep -Eq "^  (-[a-zA-Z], |    )$opt( |$)" <<<"$out" ||
            fail "moni $* --help: usage names $opt but no option line describes it"
    done
    # nested commands: each of them too
    local sub
    for sub in $(list_commands <<<"$out"); do
        check_help "$@" "$sub"
    done
    echo "ok  moni $* --help"
}

cmds=$("$M" help | list_commands)
[ "$(wc -w <<<"$cmds")" -ge 10 ] || fail "moni help lists too few commands: $cmds"
for c in $cmds; do
    check_help "$c"
done

expect_usage() { # pattern, args...
    local pat=$1; shift
    local err rc
    err=$("$M" "$@" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || fail "moni $*: exit $rc, want 2 ($err)"
    [ "$(wc -l <<<"$err")" -eq 1 ] || fail "moni $*: not one line: $err"
    grep -q -- "$pat" <<<"$err" || fail "moni $*: got '$err', want '$pat'"
    echo "ok  moni $*: $err"
}
expect_usage "did you mean 'record'" recrod
expect_usage "did you mean '--force'" run --forse
expect_usage "did you mean 'run'" fault rnu
expect_usage "did you mean '--json'" diagnose --jsno x
expect_usage "needs a value" record --out
expect_usage "unknown option '--bogus'" replay --bogus x
expect_usage "too many arguments" replay a b
specs=()
for i in $(seq 17); do specs+=(--spec "cpu:load=10%@0s+1s"); done
expect_usage "'--spec' given 17 times; at most 16 allowed" fault run --out "$TMPDIR/f" "${specs[@]}"
[ ! -e "$TMPDIR/f/faults.jsonl" ] || fail "fault run armed something despite the error"

# the bash completion reads a command's options from its --help
C="$MONI_SRC/man/moni.bash-completion"
r=$(PATH="$MONI_BUILD:$PATH" bash --norc --noprofile -c '
source "$1"
COMP_WORDS=(moni replay run1 --sp); COMP_CWORD=3; COMPREPLY=()
_moni moni --sp run1
printf "%s " "${COMPREPLY[@]}"' _ "$C")
[ "$r" = "--speed " ] || fail "completing 'moni replay run1 --sp' gave [$r], want --speed"
echo PASS
