#!/usr/bin/env bash
# moni-train and SIGTERM: with --save-on-term it saves a checkpoint, then dies by
# the signal (status 143); an ENOSPC-like save failure is a logged OSError, exit 1.
. "$(dirname "$0")/train_common.sh"

"$T" $SMALL --save-on-term --max-steps 100000 --logging-steps 5 --eval-steps 0 --save-steps 0 >"$W/log" 2>&1 &
pid=$!
logged() { [ "$(losses "$W/log" | wc -l)" -ge "$1" ]; }
wait_until 60 logged 3 || fail "15 steps not logged in 60 s"
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] || fail "exit $rc after SIGTERM, want 143"
grep -q "^Received SIGTERM at step [0-9]*, saving a checkpoint" "$W/log" || fail "no SIGTERM line"
ck=$(sed -n "s|^Saving model checkpoint to \(.*\)$|\1|p" "$W/log")
[ -n "$ck" ] && [ -f "$ck/model.bin" ] || fail "no checkpoint saved on SIGTERM"

# checkpoint into a directory that cannot be created: real OSError, exit 1
touch "$W/file"
"$T" $SMALL --output-dir "$W/file/out" --max-steps 5 --eval-steps 0 >"$W/log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "failed save exit $rc, want 1"
grep -q "^OSError: \[Errno 20\] Not a directory: '$W/file/out'" "$W/log" || fail "no OSError line"

# ENOSPC for real, when /dev/full-backed space is not available use a full tmpfs
# only if we may mount one (root in a private mount namespace); else skip that part.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
    unshare -m sh -c "mkdir -p '$W/small' && mount -t tmpfs -o size=512k tmpfs '$W/small' && \
        '$T' $SMALL --output-dir '$W/small/out' --max-steps 5 --eval-steps 0 >'$W/log' 2>&1; echo \$? >'$W/rc'"
    [ "$(cat "$W/rc")" = 1 ] || fail "ENOSPC save exit $(cat "$W/rc"), want 1"
    grep -q "^OSError: \[Errno 28\] No space left on device: '.*'" "$W/log" || fail "no ENOSPC line"
    echo "ENOSPC: $(grep OSError "$W/log")"
else
    echo "(ENOSPC part skipped: needs root and mount namespaces)"
fi
echo ok
