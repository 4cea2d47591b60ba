#!/usr/bin/env bash
# test_fault_connect.sh — connect: connections to 127.0.0.1 are refused inside the
# workload while its listener is up (the workload's own ConnectionRefusedError), then
# time out, then are reset after 250 bytes sent; normal after the revert and after
# SIGKILL of moni.
set -u
. "$MONI_SRC/tests/sh/inject_common.sh"
inject_window connect "connect:host=127.0.0.1" 'Connection refused' '^ok' connect
inject_window connect-timeout "connect:host=127.*,action=timeout,delay=200ms" 'timed out' '^ok' connect
inject_window connect-reset "connect:host=127.0.0.1,action=reset,after=250" 'Connection reset' '^ok' connect-send
inject_sigkill connect "connect:host=127.0.0.1" 'Connection refused' '^ok' connect
echo PASS
