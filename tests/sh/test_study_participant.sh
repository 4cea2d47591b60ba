#!/usr/bin/env bash
# The scripted study tester (tests/study/participant.py) reads the blind console's
# screen as a person would: each case feeds it screens laid out as the console draws
# them (header with the replay clock and the workload's state, the Training pane,
# the CPU/memory/PSI and I/O panes, the events pane, the raw log pane of the logs
# condition), one per replay second, and checks the cause and process it would
# answer.  Checked: NaN and a diverging loss, a flat loss (No_Convergence), also
# from a few noisy lines at the end, against a falling one (healthy), SIGKILL vs moni's own SIGTERM at the end, a
# crash's out-of-memory line, CPU pressure with slower progress, memory climbing,
# disk writes, slow generation on one rollout worker named as the process, and a
# weight-sync warning weighed above the timeout it causes, a GPU hand-over that hung
# (not the out-of-memory it causes), a corrupt checkpoint of rank 1 (train_worker_1),
# a log that falls silent (heartbeat, raw log) against a steady one.
set -u
SRC=${MONI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 - "$SRC/tests/study/participant.py" <<'PYEOF' || fail "participant cases"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("participant", sys.argv[1])
P = importlib.util.module_from_spec(spec)
spec.loader.exec_module(P)

def screen(t, state="running", loss=None, epoch=None, psi=(2.0, 0.0, 1.0), cpu=25.0, mem="700M",
           disk_wr="1.0M", events=(), raw=(), hb=None):
    """One console screen at replay second t (the layout of the full condition, or
    with raw lines the logs condition's log pane)."""
    rows = [" moni REPLAY (blind) s04 | %02d:%02d/01:00 10x | 2026-12-02T06:51:38.144Z | workload %s | every 1s"
            % (t // 60, t % 60, state)]
    if raw:
        rows.append(" Log  (logs only: the job's output as it was written; l to scroll and search)")
        rows += ["  %5d  %s" % (n, text) for n, text in raw]
    else:
        rows.append(" GPU  no GPU                                                       Training  phase train")
        rows.append(" CPU / memory / PSI  load 1.0 1.0 1.0                              loss %-24s lr 0.01"
                    % ("-" if loss is None else loss))
        rows.append(" CPU [|||||||||||||                                       %.1f%%]  step -  epoch %s  - it/s"
                    % (cpu, "-" if epoch is None else "%.4f" % epoch))
        rows.append(" Mem [||                                               %s/24G]  1" % mem)
        rows.append(" PSI some cpu %.1f%%  mem %.1f%%  io %.1f%%" % psi)
        rows.append(" disk rd      0B/s                       ▁▇▁▁▁")
        rows.append(" disk wr    %s/s                       ▁▁▁▁▁" % disk_wr)
        if hb is not None:
            rows.append("                          Workload  heartbeat %.1fs ago  sort CPU%%  o sort" % hb)
    rows.append(" Log events  %d events  / filter  l raw log  d diagnose" % len(events))
    rows += [" %s %s %s: %s" % e for e in events]
    rows.append("?Help pPause /Filter lLog dDiag tTheme qQuit")
    return "\n".join(rows) + "\n"

def verdict(screens):
    ob = P.Observer()
    for s in screens:
        ob.read(s)
    return ob.verdict()

def check(name, screens, cause, comp=None):
    got = verdict(screens)
    if got[0] != cause or (comp is not None and got[1] != comp):
        print("case %s: answered %s in %s (%s), expected %s in %s" % (name, got[0], got[1], got[2], cause, comp))
        sys.exit(1)
    print("ok %-22s -> %s%s (%s)" % (name, got[0], " in " + got[1] if got[1] else "", got[2]))

falling = [0.69 - 0.01 * t for t in range(40)]
flat = [0.6931 + (0.0003 if t % 2 else 0) for t in range(40)]
ep = lambda t: 0.002 * t
check("healthy full", [screen(t, loss="%.4f" % falling[t], epoch=ep(t)) for t in range(40)]
      + [screen(40, state="killed by SIGTERM", loss="0.29", epoch=ep(40))], "healthy")
check("nan pane", [screen(t, loss="%.4f" % falling[t] if t < 20 else "NaN", epoch=ep(t)) for t in range(25)],
      "NaN_Loss")
check("diverging log", [screen(t, raw=[(n, "{'loss': %s, 'grad_norm': 1.0, 'learning_rate': 0.01, 'epoch': 0.01}"
                                        % (0.69 if n < 14 else 6.2e4)) for n in range(10, 10 + t)])
                        for t in range(1, 8)], "NaN_Loss")
check("flat pane", [screen(t, loss="%.4f" % flat[t], epoch=ep(t)) for t in range(40)], "No_Convergence")
check("flat log", [screen(t, raw=[(n, "{'loss': %.4f, 'learning_rate': 1e-09, 'epoch': 0.01}" % flat[n])
                                  for n in range(max(0, t - 20), t)]) for t in range(30)], "No_Convergence")
# a loaded machine: six loss lines in the whole run, noisy but not coming down
noisy = [0.6925, 0.6962, 0.692, 0.7003, 0.6931, 0.6966]
check("few flat lines", [screen(t, raw=[(n, "{'loss': %.4f, 'epoch': 0.01}" % noisy[n]) for n in range(t * 6 // 40)])
                         for t in range(41)], "No_Convergence")
slowfall = [0.6965, 0.6957, 0.6745, 0.6624, 0.6402, 0.6053]
check("few falling lines", [screen(t, raw=[(n, "{'loss': %.4f, 'epoch': 0.01}" % slowfall[n])
                                           for n in range(t * 6 // 40)]) for t in range(41)], "healthy")
check("falling log", [screen(t, raw=[(n, "{'loss': %.4f, 'learning_rate': 0.01, 'epoch': 0.01}" % falling[n])
                                     for n in range(max(0, t - 20), t)]) for t in range(30)], "healthy")
check("kill", [screen(t, loss="0.5", epoch=ep(t)) for t in range(20)]
      + [screen(21, state="killed by SIGKILL", loss="0.5", epoch=ep(20))], "Process_Killed")
check("host oom", [screen(t, raw=[(1, "***** Running training *****")]) for t in range(10)]
      + [screen(11, state="exited 1", raw=[(1, "***** Running training *****"),
              (2, "RuntimeError: [enforce fail at moni-train] DefaultCPUAllocator: can't allocate memory")])],
      "Host_OOM")
# CPU burners: PSI cpu from 2% to 60% while the epoch moves at a quarter of its pace
check("cpu pressure", [screen(t, loss="0.5", epoch=ep(t) if t < 15 else ep(15) + 0.0005 * (t - 15),
                              psi=(2.0 if t < 15 else 60.0, 0.0, 1.0)) for t in range(30)], "CPU_Contention")
# on a loaded machine PSI is high all along: the CPU bar going from half to full
check("cpu bar", [screen(t, loss="0.5", epoch=ep(t) if t < 15 else ep(15) + 0.0005 * (t - 15),
                         psi=(60.0, 0.0, 1.0), cpu=50.0 if t < 15 else 100.0) for t in range(30)], "CPU_Contention")
check("no pressure", [screen(t, loss="%.4f" % falling[t], epoch=ep(t), psi=(50.0, 0.0, 1.0)) for t in range(30)],
      "healthy")
check("memory", [screen(t, loss="%.4f" % falling[t], epoch=ep(t), mem="700M" if t < 15 else "%.1fG" % (0.7 + 0.1 * (t - 14)))
                 for t in range(25)], "Memory_Leak")
check("disk writes", [screen(t, loss="%.4f" % falling[t], epoch=ep(t), disk_wr="1.0M" if t < 15 else "200M")
                      for t in range(25)], "IO_Bottleneck")
slow = [("06:42:05.%03d" % i, "WARN", "slow_on_cpu", "2026-12-02 06:42:05.%03d WARNING [rollout_worker_3] step %d "
         "generate slow: 5/16 samples after 1.55s w" % (i, i)) for i in range(3)]
tmo = ("06:42:38.728", "ERR ", "net_timeout", "2026-12-02 06:42:38.728 ERROR [controller] TrainEngineError: "
       "train_batch failed on train_worker_1: requests.exceptions.ReadTimeout: Read timed out.")
check("slow rollout worker", [screen(t, events=slow[:min(t, 3)] + ([tmo] if t > 5 else [])) for t in range(10)],
      "CPU_Contention", "rollout_worker_3")
meta = ("06:40:01.100", "WARN", "warning", "2026-12-02 06:40:01.100 WARNING [train_worker_3] step 2 MetaServer "
        "127.0.0.1:36093 slow: chunk 3 after 1.52s")
check("weight sync", [screen(t, events=([tmo] if t > 1 else []) + ([meta] if t > 3 else [])) for t in range(8)],
      "Network_Degradation", "train_worker_3")
# colocation: the hand-over that never came, then an out-of-memory that says why
hold = [("06:44:50.100", "WARN", "warning", "2026-12-02 06:44:50.100 WARNING [controller] event rollout_start -> "
         "rollout_worker_0 not sent within event timeout 0.5s; dropped"),
        ("06:44:51.000", "ERR ", "cuda_oom", "2026-12-02 06:44:51.000 ERROR [rollout_worker_0] RuntimeError: CUDA error: "
         "out of memory: failed to allocate KV cache on GPU 0: device memory held by train_worker_0")]
check("gpu hand-over", [screen(t, events=hold[:t]) for t in range(6)], "Process_Hang", "rollout_worker_0")
ckpt = [("06:50:01.000", "ERR ", "checkpoint_corrupt", "2026-12-02 06:50:01.000 ERROR [rollout_worker_0] RuntimeError: "
         "corrupt checkpoint '/run/ckpt_even/rank_1.pt' (1024 bytes, step 10): failed finding central directory")]
check("corrupt checkpoint", [screen(t, events=ckpt if t > 2 else []) for t in range(6)], "Checkpoint_Corrupt",
      "train_worker_1")
# a stopped job: the log falls silent after writing steadily (heartbeat; raw log lines)
check("silent full", [screen(t, loss="%.4f" % falling[min(t, 20)], epoch=ep(min(t, 20)), hb=0.5 if t < 20 else t - 20.0) for t in range(40)],
      "Process_Hang")
check("silent log", [screen(t, raw=[(n, "{'loss': %.4f, 'epoch': 0.01}" % falling[n]) for n in range(max(0, min(t, 20) - 15), min(t, 20))])
                     for t in range(40)], "Process_Hang")
check("steady full", [screen(t, loss="%.4f" % falling[t], epoch=ep(t), hb=0.5) for t in range(40)], "healthy")
check("timeout alone", [screen(t, events=[tmo] if t > 1 else []) for t in range(8)], "Network_Timeout")
PYEOF
echo ok
