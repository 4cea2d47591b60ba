#!/usr/bin/env bash
# `moni parse` extracts loss, learning rate, step/epoch and throughput with the right
# values from Hugging Face Trainer, Lightning, Megatron-LM and DeepSpeed logs, in all
# three output formats, from files and from stdin.
set -u
. "$(dirname "$0")/lp_common.sh"

# check FILE PYTHON-ASSERTIONS: runs moni parse --format jsonl and evaluates the
# assertions with recs = list of records.
check() {
    local file=$1 code=$2 out
    out=$("$M" parse "$LOGS/$file") || fail "moni parse $file exited $?"
    "$PY" -c '
import json, math, sys
recs = [json.loads(l) for l in sys.stdin if l.strip()]
def m(rule, i=0):
    r = [x for x in recs if x["rule"] == rule]
    assert len(r) > i, "no record %d of %s" % (i, rule)
    return r[i]["fields"]
def near(a, b): assert abs(float(a) - b) <= 1e-9 * (abs(b) + 1), (a, b)
'"$code" <<<"$out" || fail "$file: values wrong"
}

check hf_trainer.log '
near(m("tqdm_hf_dict")["loss"], 0.6931); near(m("tqdm_hf_dict")["learning_rate"], 5e-05)
near(m("tqdm_hf_dict")["grad_norm"], 1.2345); near(m("tqdm_hf_dict")["epoch"], 0.02)
near(m("tqdm_hf_dict")["step"], 20); near(m("tqdm_hf_dict")["total_steps"], 1000)
near(m("hf_metrics", 1)["eval_accuracy"], 0.8734); near(m("hf_metrics", 1)["eval_loss"], 0.3812)
near(m("hf_metrics", 3)["train_runtime"], 181.3)
near(m("tqdm_progress", 1)["it_per_s"], 9.95); near(m("tqdm_progress", 1)["step"], 10)
near(m("tqdm_progress", 1)["total_steps"], 1000)
near(m("tqdm_progress", 2)["step"], 500)
ph = [x["event"] for x in recs if x["kind"] == "phase"]
for want in ["train", "eval", "checkpoint_save", "finished"]: assert want in ph, (want, ph)
ck = [x for x in recs if x.get("event") == "checkpoint_save"]
assert ck[0]["fields"]["path"] == "out/checkpoint-500" and ck[0]["line"] == 14, ck[0]
assert not [x for x in recs if x["kind"] == "event" and x["severity"] in ("error", "critical")], [x for x in recs if x["kind"] == "event"]
'
check lightning.log '
near(m("lightning_progress")["train_loss"], 0.812); near(m("lightning_progress")["it_per_s"], 12.5)
near(m("lightning_progress", 1)["step"], 32); near(m("lightning_progress", 1)["epoch"], 0)
near(m("lightning_progress", 2)["epoch"], 1); near(m("lightning_progress", 2)["eval_loss"], 0.502)
near(m("lightning_progress", 2)["eval_accuracy"], 0.811)
'
check megatron.log '
near(m("megatron_iteration")["step"], 100); near(m("megatron_iteration")["total_steps"], 1000)
near(m("megatron_iteration")["loss"], 6.54321); near(m("megatron_iteration")["learning_rate"], 1e-4)
near(m("megatron_iteration", 1)["loss"], 5.12345); near(m("megatron_iteration", 1)["grad_norm"], 0.987)
near(m("megatron_iteration", 1)["iter_time_s"], 0.4987)
assert "checkpoint_save" in [x.get("event") for x in recs]
'
check deepspeed.log '
near(m("deepspeed_step")["step"], 10); near(m("deepspeed_step")["learning_rate"], 2e-05)
near(m("deepspeed_step", 1)["learning_rate"], 1.8e-05)
near(m("deepspeed_throughput")["samples_per_s"], 120.25); near(m("deepspeed_throughput")["step"], 10)
r = [x for x in recs if x["rule"] == "deepspeed_step"][0]
assert r["time"] == "2026-11-25T20:01:00.123Z", r["time"]
assert [x for x in recs if x["rule"] == "grad_overflow" and x["labels"] == ["NaN_Loss"]]
'

# text and csv formats carry the same values; stdin works
out=$("$M" parse --format text - <"$LOGS/megatron.log") || fail "parse - exited $?"
grep -q '^-:5 metric megatron_iteration .*loss=6.543210E+00' <<<"$out" || fail "text format: $out"
out=$("$M" parse --format csv "$LOGS/deepspeed.log") || fail "csv exited $?"
"$PY" -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
r = [x for x in rows if x["rule"] == "deepspeed_step"][0]
assert r["line"] == "3" and "learning_rate=2e-05" in r["fields"], r
assert r["time"] == "2026-11-25T20:01:00.123Z"
' <<<"$out" || fail "csv format"

# nan / inf are kept as such
printf "{'loss': nan, 'grad_norm': inf, 'epoch': 0.2}\n" >"$TMPDIR/nan.log"
out=$("$M" parse "$TMPDIR/nan.log")
grep -q '"loss":"nan","grad_norm":"inf"' <<<"$out" || fail "nan/inf not kept: $out"
grep -q '"rule":"nan_loss_dict".*"labels":\["NaN_Loss"\]' <<<"$out" || fail "no NaN_Loss event: $out"

"$M" parse --format yaml "$LOGS/hf_trainer.log" 2>/dev/null; [ $? -eq 2 ] || fail "bad --format should exit 2"
echo ok
