#!/usr/bin/python3
"""Writes a realistic N-line training log (deterministic): HF Trainer dicts, tqdm bars
redrawn with CR, INFO chatter, warnings, Megatron/DeepSpeed/Lightning lines and a few
tracebacks.  Usage: gen_trainlog.py N OUT"""
import random, sys

n = int(sys.argv[1]); out = open(sys.argv[2], 'w', newline='')
rng = random.Random(42)
bar = lambda pct: ('█' * (pct // 10)).ljust(10)
written = 0
step = 0
def emit(s, end='\n'):
    global written
    out.write(s + end); written += 1
infos = [
    "[INFO|trainer.py:2048] 2026-11-25 21:33:{:02d},123 >>   Num examples = 25000",
    "[INFO|configuration_utils.py:733] 2026-11-25 21:33:{:02d},456 >> Model config BertConfig {{",
    "2026-11-25 21:33:{:02d},789 - INFO - __main__ - Training/evaluation parameters TrainingArguments(output_dir=out)",
    "  \"hidden_size\": 768,",
    "  \"num_attention_heads\": {:d},",
    "2026-11-25 21:33:{:02d},001 - INFO - datasets.builder - Using custom data configuration default",
    "[2026-11-25 21:33:{:02d},123] [INFO] [real_accelerator.py:161:get_accelerator] Setting ds_accelerator to cuda (auto detect)",
    "  Batch size = {:d}",
]
warns = [
    "/usr/lib/python3/dist-packages/torch/utils/data/dataloader.py:557: UserWarning: This DataLoader will create 4 worker processes in total.",
    "2026-11-25 21:33:{:02d},111 - WARNING - transformers.modeling_utils - Some weights of the model checkpoint were not used",
]
while written < n:
    r = rng.random()
    if r < 0.40:   # a tqdm bar redrawn 5 times with CR, then LF
        parts = []
        for _ in range(5):
            step += 1
            pct = step * 100 // 100000 % 100
            parts.append(" %2d%%|%s| %d/100000 [01:02<01:16, %.2fit/s]" % (pct, bar(pct), step, 5 + rng.random() * 5))
        out.write("\r".join(parts) + "\n"); written += 5
    elif r < 0.55:
        emit("{'loss': %.4f, 'grad_norm': %.4f, 'learning_rate': %.3e, 'epoch': %.2f}" % (rng.random(), rng.random() * 3, 5e-5, step / 10000))
    elif r < 0.60:
        emit("{'eval_loss': %.4f, 'eval_accuracy': %.4f, 'eval_runtime': 1.2, 'eval_samples_per_second': 830.1, 'epoch': %.2f}" % (rng.random(), rng.random(), step / 10000))
    elif r < 0.85:
        emit(rng.choice(infos).format(rng.randrange(60)))
    elif r < 0.93:
        emit(rng.choice(warns).format(rng.randrange(60)))
    elif r < 0.95:
        emit(" iteration %8d/  100000 | consumed samples: %12d | elapsed time per iteration (ms): 512.3 | learning rate: 1.000E-04 | global batch size:    32 | lm loss: %.6E | loss scale: 1.0 | grad norm: 1.234 |" % (step, step * 32, rng.random() * 8))
    elif r < 0.97:
        emit("[2026-11-25 21:33:17,123] [INFO] [logging.py:96:log_dist] [Rank 0] step=%d, skipped=0, lr=[0.0001], mom=[(0.9, 0.999)]" % step)
    elif r < 0.99:
        emit("Epoch 1:  45%%|████▌     | %d/1000 [01:02<01:16,  7.21it/s, v_num=0, train_loss=%.3f]" % (step % 1000, rng.random()))
    elif r < 0.9995:
        emit("Saving model checkpoint to out/checkpoint-%d" % step)
    else:
        for l in ["Traceback (most recent call last):", '  File "train.py", line 88, in <module>', "    main()",
                  '  File "train.py", line 80, in main', "    trainer.train()",
                  "RuntimeError: CUDA error: an illegal memory access was encountered"]:
            emit(l)
out.close()
