# tests/sh/wait_common.sh — sourced by the shell tests (directly or through the other
# *_common.sh files): wait for the condition a test checks, with a deadline, instead
# of a fixed sleep followed by a check.  Each helper returns 0 as soon as the
# condition holds and 1 once the deadline passes, and the caller says what failed.
# Deadlines are wall-clock, not loop counts: on a loaded machine (2 cores shared by
# several builds) a check that takes 10 ms idle can take half a second.

# now_us: the wall clock in microseconds
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# wait_until SECONDS COMMAND...: until COMMAND succeeds (polled every 50 ms);
# SECONDS is a whole number
wait_until() {
    local limit=$1; shift
    local deadline=$(( $(now_us) + limit * 1000000 ))
    while :; do
        "$@" && return 0
        [ "$(now_us)" -ge "$deadline" ] && return 1
        sleep 0.05
    done
}

# file_has FILE ERE: FILE exists and has a line matching ERE
file_has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
# file_count_ge FILE ERE N: FILE has at least N lines matching ERE
file_count_ge() { [ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; }
# file_lines_ge FILE N: FILE has at least N lines
file_lines_ge() { [ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# wait_for_file_line FILE ERE [SECONDS=20]: until FILE has a line matching ERE
wait_for_file_line() { wait_until "${3:-20}" file_has "$1" "$2"; }
# wait_for_file_count FILE ERE N [SECONDS=20]: until FILE has N lines matching ERE
wait_for_file_count() { wait_until "${4:-20}" file_count_ge "$1" "$2" "$3"; }
# wait_for_lines FILE N [SECONDS=20]: until FILE has N lines
wait_for_lines() { wait_until "${3:-20}" file_lines_ge "$1" "$2"; }

# proc_state PID: the one-letter state (R, S, T, Z, ...), empty when PID is gone
proc_state() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) && s=${s##*) } && echo "${s%% *}"; }
# proc_gone PID: PID has exited (gone, or a zombie nobody reaped yet)
proc_gone() { local s; s=$(proc_state "$1"); [ -z "$s" ] || [ "$s" = Z ] || [ "$s" = X ]; }
all_gone() { local p; for p in "$@"; do proc_gone "$p" || return 1; done; }
# wait_gone PID... [--for SECONDS]: until every PID has exited (default 10 s)
wait_gone() {
    local limit=10 pids=()
    while [ $# -gt 0 ]; do
        case $1 in --for) limit=$2; shift 2 ;; *) pids+=("$1"); shift ;; esac
    done
    wait_until "$limit" all_gone "${pids[@]}"
}

# procs_with_env NAME=VALUE: the live processes (of this user) whose environment has
# that exact entry.  A test gives the marker to the command it starts (not to itself,
# or every grep it runs would match): unlike the parent pid, the environment stays
# with a grandchild that is re-parented to init when its parent dies.
procs_with_env() {
    local f p
    for f in $(grep -lzxF -- "$1" /proc/[0-9]*/environ 2>/dev/null); do
        p=${f#/proc/}; p=${p%/environ}
        proc_gone "$p" || echo "$p"   # a zombie is not left running
    done
}
no_procs_with_env() { [ -z "$(procs_with_env "$1")" ]; }
# wait_no_procs_with_env NAME=VALUE [SECONDS=10]: until none is left
wait_no_procs_with_env() { wait_until "${2:-10}" no_procs_with_env "$1"; }
# wait_no_pgrep PATTERN [SECONDS=5]: until no process of this user matches pgrep -f
# PATTERN (make PATTERN unique to the test, e.g. a path under its TMPDIR)
no_pgrep() { ! pgrep -u "$(id -u)" -f -- "$1" >/dev/null; }
wait_no_pgrep() { wait_until "${2:-5}" no_pgrep "$1"; }
# wait_for_scrape URL FILE ERE [SECONDS=10]: until a GET of URL succeeds with a body
# (kept in FILE) that has a line matching ERE
scrape_has() { curl -sf -m 2 "$1" -o "$2" && grep -Eq -- "$3" "$2"; }
wait_for_scrape() { wait_until "${4:-10}" scrape_has "$1" "$2" "$3"; }
# an exporter page after at least two samples: every family is there by then
SAMPLED_TWICE='^moni_samples_total ([2-9]|[1-9][0-9]+)$'
