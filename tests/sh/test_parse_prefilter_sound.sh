#!/usr/bin/env bash
# Every rule's prefilter lets through every line its pattern can match
# (tests/sh/prefilter_sound.py reads the pattern, no test line needed): a literal
# that is not required, or a \b mark the pattern does not imply, fails here.
# KNOWN: rules the check cannot pass yet.  keras_progress: its pattern matches any
# "N/M x" line, the prefilter ('/step', 'eta:') is part of what it means;
# hf_metrics_block (tabs around '='), progress_kv ('[ 3/10 ]' without a word) and
# host_mem_high ('RAM-usage 95%'...): narrower than their pattern since before issue
# 16, left so that their matches stay as they were; tqdm_hf_dict: sound, but the
# check loses the ']' before its '{' in so long a pattern.  Fixing one means taking
# it off this list.
set -u
. "$(dirname "$0")/lp_common.sh"
KNOWN="tqdm_hf_dict keras_progress hf_metrics_block progress_kv host_mem_high"
out=$("$PY" "$MONI_SRC/tests/sh/prefilter_sound.py" -v "$MONI_SRC"/logparse/rules/*.json)
echo "$out" | tail -n 1
grep -q '^[0-9]* prefilters checked' <<<"$out" || fail "checker did not run: $out"
n=$(grep -o '^[0-9]*' <<<"$(tail -n 1 <<<"$out")")
[ "$n" -ge 90 ] || fail "only $n prefilters checked"
bad=$(grep -o 'rule [A-Za-z0-9_.-]*: ' <<<"$out" | sed 's/rule //; s/: $//')
for r in $bad; do
    grep -qw "$r" <<<"$KNOWN" || { grep -A3 "rule $r:" <<<"$out"; fail "rule $r: prefilter can hide lines its pattern matches"; }
done
for r in $KNOWN; do
    grep -qx "$r" <<<"$bad" || fail "rule $r: prefilter is sound now: take it off KNOWN"
done
exit 0
