#!/usr/bin/env python3
"""tests/study/participant.py -- a scripted tester for `moni study run` in tmux.

It reads the screen the way a person would (tmux capture-pane, every 100 ms) and
answers only through the console's keys: Enter at the prompt, `!` when a symptom
shows, `p` to pause, `c` and the cause picker (typing a label, Enter; a process when
the picker asks and one is named on screen; no confidence; its reasoning as the
note), `q` to end the session.

What it reads is only the blind replay's screen text (never a file of the run):
  - the log: the raw log pane (logs condition) and the events pane, line by line,
    remembered across screens (a person remembers what scrolled by);
  - the header: the replay clock and the workload's state (killed, stopped, exited);
    how long the log has been silent (the heartbeat, or no new raw log line);
  - in the full condition, the metric panes: the Training pane's loss, it/s or the
    epoch's pace, the CPU bar, the PSI line, the Mem bar, the disk write rate; each
    compared with the session's first seconds, as a person compares with the
    healthy start.
Each thing it notices is a finding: a cause from the picker's vocabulary, a weight
(how directly it names a cause: an out-of-memory error names it, a timeout is
usually a consequence) and the process it names.  At the first finding it presses
`!`, watches LOOK_S more seconds of replay, pauses and answers with the heaviest
finding (the earliest of equals).  When the replay ends with nothing noticed it
answers No_Convergence if the loss stayed flat, else healthy.

usage: participant.py SOCKET TARGET [--timeout S] [--look S]
"""
import math
import re
import subprocess
import sys
import time

LOOK_S = 10.0  # replay seconds watched after the first symptom, before answering

# Log text a person reads as naming a cause: (name, pattern, cause, weight).
# Weight 3: names the cause; 2: a symptom with one usual cause; 1: a consequence
# (timeouts, a stage that waited); 0: an error of unknown cause.
LOG_RULES = [
    ("nan loss", r"'loss': (nan|inf)\b|\bloss[=:] ?(nan|inf)\b|\bNaN\b.*\bloss|\bloss\b.*\bNaN\b",
     "NaN_Loss", 3),
    # memory "held by" another process that never lets go: a hand-over that hung
    ("gpu held", r"still held by|waiting for GPU|GPU \d+ held by|memory held by|not sent within event timeout",
     "Process_Hang", 3),
    ("gpu oom", r"CUDA out of memory|CUDA error: out of memory|OutOfMemoryError", "CUDA_OutOfMemory", 3),
    ("host oom", r"MemoryError|can't allocate memory|[Cc]annot allocate memory|bad_alloc|"
     r"[Oo]ut of memory|oom-kill", "Host_OOM", 3),
    ("disk full", r"No space left|ENOSPC|[Dd]isk quota", "Disk_Full", 3),
    ("corrupt checkpoint", r"corrupt checkpoint|checkpoint.{0,40}(corrupt|truncated|checksum)|"
     r"(corrupt|truncated).{0,40}checkpoint|async checkpoint save failed", "Checkpoint_Corrupt", 3),
    ("killed", r"killed by SIGKILL|\bKilled\b|signal 9\b", "Process_Killed", 3),
    ("weight sync", r"MetaServer\b.{0,60}\bslow|update_weights failed|shard weights/\S+.{0,80}"
     r"(timed? ?out|[Tt]imeout|failed)|InferenceEngineError.{0,80}weight", "Network_Degradation", 3),
    ("nccl", r"\bNCCL\b.{0,60}([Tt]imeout|[Ww]atchdog)", "NCCL_Timeout", 3),
    ("slow generate", r"generate slow|\(slower th", "CPU_Contention", 2),
    ("slow data", r"data ?loader.{0,40}(slow|stuck|waiting)", "DataLoader_Stuck", 2),
    ("batch short", r"did not deliver its rollout|gathered \d+ of \d+ samples|batch share for|"
     r"batch size mismatch", "Slowdown", 1),
    ("timeout", r"[Tt]imed? ?out|[Tt]imeout|Connection refused", "Network_Timeout", 1),
    ("error", r"\x00ERR|Traceback|\b[A-Z][A-Za-z]*(Error|Exception)\b|\bERROR\b", "Model_Code_Error", 0),
]
# a line a person reads as a complaint: the consequences (weight 1 and 0) count only there
COMPLAINT = re.compile(r"\x00(WARN|ERR)|\b(WARNING|ERROR|CRITICAL|FATAL)\b|Traceback|"
                       r"\b[A-Z][A-Za-z]*(Error|Exception)\b")
LOG_RULES = [(n, re.compile(p), c, w) for n, p, c, w in LOG_RULES]
PROC = re.compile(r"\b((?:train|rollout)_worker_\d+|controller|scheduler)\b")
TAG = re.compile(r"\[((?:train|rollout)_worker_\d+|controller|scheduler)\]")
# a line of the raw log pane ("   123  text") or of the events pane ("06:42:05.377 WARN rule: text")
RAW_LINE = re.compile(r"^\s{0,8}(\d+)\s\s(.*)$")
EVENT_LINE = re.compile(r"^\s?(\d\d:\d\d:\d\d\.\d\d\d) (INFO|WARN|ERR |CRIT) ([\w.:-]+): (.*)$")
CLOCK = re.compile(r"\| (\d+):(\d\d)/(\d+):(\d\d) ")
SIZE = {"": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}


def size(txt):
    m = re.match(r"([\d.]+)([KMGT]?)", txt)
    return float(m.group(1)) * SIZE[m.group(2)] if m else None


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None



# What a tester reads off the full screen: series name, where it is, which group, as what.
PANE_READINGS = (
    ("cpu", r"\bCPU \[[|#\s]*?\s*([\d.]+)%\]", 1, float),
    ("psi_cpu", r"PSI some cpu ([\d.]+)%\s+mem ([\d.]+)%\s+io ([\d.]+)%", 1, float),
    ("psi_io", r"PSI some cpu ([\d.]+)%\s+mem ([\d.]+)%\s+io ([\d.]+)%", 3, float),
    ("mem", r"Mem \[[|#\s]*?\s*([\d.]+[KMGT]?)/([\d.]+[KMGT]?)\]", 1, lambda v: size(v)),
    ("disk_wr", r"disk wr\s+([\d.]+[KMGT]?)B?/s", 1, lambda v: size(v)),
    ("heartbeat", r"heartbeat ([\d.]+)s ago", 1, float),
)

class Observer:
    """What a person watching one session has seen so far."""

    def __init__(self):
        self.t = 0.0
        self.lines = {}        # log text seen -> replay time first seen
        self.findings = {}     # name -> [t, cause, weight, component, text]
        self.series = {}       # metric -> [(t, value)], one per replay second
        self.losses = {}       # raw log line number or replay second -> loss
        self.state = ""
        self.slow = {}         # rollout worker -> slow-generation lines seen
        self.last_no = 0       # the raw log's last line number seen ...
        self.growth = []       # ... and (replay time, lines) each time it grew

    def note(self, name, cause, weight, text, comp=None):
        if name not in self.findings:
            self.findings[name] = [self.t, cause, weight, comp, text]

    def sample(self, key, value):
        s = self.series.setdefault(key, [])
        if value is not None and (not s or int(s[-1][0]) != int(self.t)):
            s.append((self.t, value))

    def read(self, screen):
        rows = screen.splitlines()
        if not rows:
            return
        m = CLOCK.search(rows[0])
        if m:
            self.t = int(m.group(1)) * 60 + int(m.group(2))
        st = re.search(r"\| workload ([^|]+?)\s*(\||$)", rows[0])
        self.state = st.group(1) if st else self.state
        self.read_state()
        for row in rows[1:-1]:
            self.read_log_row(row)
        self.read_metrics("\n".join(rows[1:-1]))

    def read_state(self):
        s = self.state
        if "SIGKILL" in s:
            self.note("killed", "Process_Killed", 3, "workload " + s)
        elif s.startswith("stopped"):
            self.note("stopped", "Process_Hang", 3, "workload " + s)
        else:  # moni ends a run at its duration with SIGTERM: not a symptom
            m = re.match(r"exited (\d+)", s)
            if m and m.group(1) not in ("0", "143"):
                self.note("exited", "Process_Crash", 0, "workload " + s)

    def read_log_row(self, row):
        text = None
        m = RAW_LINE.match(row)
        if m:
            text = m.group(2)
            if int(m.group(1)) > self.last_no:
                self.growth.append((self.t, int(m.group(1)) - self.last_no))
                self.last_no = int(m.group(1))
            lm = re.search(r"\{'loss': ([^,]+),", text)
            if lm:
                try:
                    v = float(lm.group(1))
                    if math.isfinite(v) and ("log", int(m.group(1))) not in self.losses:
                        self.losses[("log", int(m.group(1)))] = (self.t, v)
                except ValueError:
                    pass
        m = EVENT_LINE.match(row) if text is None else None
        if m:  # the pane's own severity, kept apart from the text
            sev = {"WARN": " \x00WARN", "ERR ": " \x00ERR", "CRIT": " \x00ERR"}.get(m.group(2), "")
            text = m.group(4) + sev
        if not text or text.strip() in self.lines:
            return
        key = text.strip()
        self.lines[key] = self.t
        complaint = COMPLAINT.search(key)
        for name, pat, cause, weight in LOG_RULES:
            hit = pat.search(key)
            if hit and (weight >= 2 or complaint):
                tag = TAG.search(key)
                # the process a line blames: one it names ("failed on train_worker_1",
                # a shard or checkpoint of rank 3: train_worker_3), else the one that wrote it
                rank = re.search(r"\brank_?(\d+)\b", key) if name in ("weight sync", "corrupt checkpoint") \
                    else None
                others = [p for p in PROC.findall(key[tag.end():] if tag else key) if not tag or p != tag.group(1)]
                comp = ("train_worker_" + rank.group(1) if rank else others[0] if others and name != "slow generate"
                        else tag.group(1) if tag else None)
                self.note(name, cause, weight, re.sub(r" \x00\w+$", "", key)[:120], comp)
                self.generate_worker(name, comp)
                break

    def generate_worker(self, name, comp):
        """Slow generation on one rollout worker names that worker; on all, none."""
        if name != "slow generate" or not comp:
            return
        self.slow[comp] = self.slow.get(comp, 0) + 1
        f = self.findings[name]
        top = max(self.slow, key=self.slow.get)
        f[3] = top if self.slow[top] * 2 > sum(self.slow.values()) else None

    def read_metrics(self, body):
        m = re.search(r"\bloss (\S+)( DIVERGING| \(NaN seen\))?\s", body)
        if m:
            try:
                v = float(m.group(1))
            except ValueError:
                v = None
            if (v is not None and not math.isfinite(v)) or m.group(2):
                self.note("nan loss", "NaN_Loss", 3, "Training pane: loss " + m.group(1) + (m.group(2) or ""))
            elif v is not None:
                self.losses[("pane", int(self.t))] = (self.t, v)
        m = re.search(r"step \S+\s+epoch ([\d.]+)\s+(\S+) (it|samples)/s", body)
        if m:  # progress: it/s when shown, else how fast the epoch moves
            self.sample("epoch", float(m.group(1)))
            try:
                self.sample("its", float(m.group(2)))
            except ValueError:
                pass
        for series, pattern, group, conv in PANE_READINGS:
            m = re.search(pattern, body)
            if m:
                self.sample(series, conv(m.group(group)))
        self.judge_metrics()
        self.judge_loss()
        self.judge_stall()

    def judge_stall(self):
        """A job that wrote steadily and then fell silent: stopped or hung."""
        hb = self.series.get("heartbeat", [])
        fresh = [t for t, v in hb if v <= 2.0]
        if hb and hb[-1][1] >= 15.0 and len(fresh) >= 10:
            self.note("silent", "Process_Hang", 1, "heartbeat %.0fs ago, was under 2 s" % hb[-1][1])
        if self.growth and self.t - self.growth[-1][0] >= 15.0:
            last = self.growth[-1][0]
            if sum(n for t, n in self.growth if last - 15.0 <= t <= last) >= 10 and last > 0:
                self.note("silent", "Process_Hang", 1, "no new log line for %.0fs" % (self.t - last))

    def loss_points(self, source):
        """[(replay time first seen, loss)] of one source, in the order logged."""
        return [tv for k, tv in sorted(self.losses.items()) if k[0] == source]

    def loss_values(self, source):
        return [v for _, v in self.loss_points(source)]

    def judge_loss(self):
        """A loss that leaves its start by an order of magnitude is diverging."""
        for source in ("log", "pane"):
            vals = self.loss_values(source)
            start = median(vals[:3]) if len(vals) >= 3 else None
            if start and start > 0 and vals[-1] >= 10 * start:
                self.note("loss exploding", "NaN_Loss", 3, "loss %.3g, was %.3g" % (vals[-1], start))
        flat = self.loss_flat()
        if flat:
            self.note("loss flat", "No_Convergence", 2, flat)

    def base(self, key, until=12.0):
        """The session's healthy start: the median of its first seconds."""
        return median([v for t, v in self.series.get(key, []) if t <= until])

    def recent(self, key, n):
        s = self.series.get(key, [])
        return [v for _, v in s[-n:]] if len(s) >= n and s[-n][0] > 12.0 else None

    def progress(self):
        """(recent rate, start rate): it/s, or epochs per second over 5 s windows."""
        if self.recent("its", 3):
            return self.recent("its", 3), self.base("its")
        ep = self.series.get("epoch", [])
        def rate(pts):
            return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0]) if len(pts) > 1 and \
                pts[-1][0] - pts[0][0] >= 4 else None
        start = rate([p for p in ep if p[0] <= 12.0])
        now = [rate([p for p in ep if q - 6 <= p[0] <= q]) for q in (self.t - 2, self.t - 1, self.t)]
        if ep and ep[-1][0] > 16.0 and None not in now:
            return now, start
        return None, start

    def judge_metrics(self):
        its, b_its = self.progress()
        psi, b_psi = self.recent("psi_cpu", 3), self.base("psi_cpu")
        cpu, b_cpu = self.recent("cpu", 3), self.base("cpu")
        slow = its and b_its and max(its) < 0.6 * b_its
        busier = (psi and b_psi is not None and min(psi) >= max(20.0, b_psi + 15.0)) or \
            (cpu and b_cpu is not None and min(cpu) >= max(90.0, b_cpu + 30.0))
        if slow and busier:
            self.note("cpu pressure", "CPU_Contention", 2,
                      "progress %.3g/s (was %.3g/s), PSI cpu %s%% (was %s), CPU %s%% (was %s)" % (
                          its[-1], b_its, (psi or ["-"])[-1], b_psi, (cpu or ["-"])[-1], b_cpu))
        mem, b_mem = self.recent("mem", 3), self.base("mem")
        if mem and b_mem and min(mem) >= max(b_mem + 768 * 2 ** 20, 1.5 * b_mem):
            self.note("memory climbing", "Memory_Leak", 2,
                      "Mem %.1fG (was %.1fG)" % (mem[-1] / 2 ** 30, b_mem / 2 ** 30))
        wr, b_wr = self.recent("disk_wr", 2), self.base("disk_wr")
        pio, b_pio = self.recent("psi_io", 2), self.base("psi_io")
        wr = self.recent("disk_wr", 3)
        if (wr and min(wr) >= max(10 * 2 ** 20, 10 * (b_wr or 0))) or \
                (pio and b_pio is not None and min(pio) >= max(15.0, b_pio + 10.0)):
            self.note("io pressure", "IO_Bottleneck", 2, "disk wr %.0fM/s, PSI io %s%%" % (
                (wr or [0])[-1] / 2 ** 20, (pio or ["-"])[-1]))
        if its and b_its and max(its) <= 0:  # not slower: stopped
            self.note("silent", "Process_Hang", 1, "no progress (was %.3g/s)" % b_its)
        elif its and b_its and 0 < min(its) and max(its) < 0.4 * b_its:  # slower, still moving
            self.note("slower", "Slowdown", 1, "progress %.3g/s (was %.3g/s)" % (its[-1], b_its))

    def loss_flat(self, final=False):
        """The loss did not come down: the median of its last third within 3% of its
        first third's; with 10 values over 25 s while watching, or 5 at the end."""
        for source in ("log", "pane"):
            pts = self.loss_points(source)
            enough = len(pts) >= 10 and pts[-1][0] - pts[0][0] >= 25 or final and len(pts) >= 5
            if not enough:
                continue
            third = max(1, len(pts) // 3)
            first, last = median([v for _, v in pts[:third]]), median([v for _, v in pts[-third:]])
            if first > 0 and 0.97 * first <= last <= 1.5 * first:
                return "loss %.4g at first, %.4g now, over %d values" % (first, last, len(pts))
        return None

    def verdict(self):
        """The heaviest finding, the earliest of equals: (cause, component, note)."""
        if not self.findings:
            flat = self.loss_flat(final=True)
            return ("No_Convergence", None, flat) if flat else ("healthy", None, "nothing seen")
        name, (t, cause, weight, comp, text) = max(
            self.findings.items(), key=lambda kv: (kv[1][2], -kv[1][0]))
        return cause, comp, "%s at %ds: %s" % (name, t, text)


class Screen:
    def __init__(self, sock, target):
        self.sock, self.target = sock, target

    def text(self):
        r = subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-p", "-t", self.target],
                           capture_output=True, text=True)
        return r.stdout

    def keys(self, *k, literal=False):
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", self.target]
                       + (["-l"] if literal else []) + list(k), check=True)

    def wait(self, pattern, limit=20):
        end = time.time() + limit
        while time.time() < end:
            t = self.text()
            m = re.search(pattern, t)
            if m:
                return m, t
            time.sleep(0.05)
        raise TimeoutError("screen never showed /%s/:\n%s" % (pattern, self.text()))


def answer(sc, label, note, component=None):
    sc.keys("c")
    sc.wait(r"root cause\? type to filter")
    sc.keys(label, literal=True)
    sc.wait(r"> " + re.escape(label))
    sc.keys("Enter")
    m, t = sc.wait(r"which process\?|how sure\?")
    if "which process" in m.group(0):
        if component:
            sc.keys(component, literal=True)
            try:
                sc.wait(r"> " + re.escape(component), 3)
            except TimeoutError:  # not a process of this run: not sure
                sc.keys(*["BSpace"] * len(component))
        sc.keys("Enter")
        sc.wait(r"how sure\?")
    sc.keys("Enter")  # not given
    sc.wait(r"a note \(optional\)")
    sc.keys(re.sub(r"[^\x20-\x7e]", "?", note)[:100], literal=True)
    sc.keys("Enter")
    sc.wait(r"recorded: cause")


def play_session(sc, look):
    """One session from the replay's first screen to q; returns (cause, component)."""
    sc.wait(r"moni REPLAY \(blind\)", 60)
    ob, seen_at = Observer(), None
    while True:
        t = sc.text()
        ob.read(t)
        ended = "end of the recording" in t
        if seen_at is None and ob.findings:
            sc.keys("!")
            sc.wait(r"recorded: a problem seen")
            seen_at = ob.t
        if ended or (seen_at is not None and ob.t >= seen_at + look):
            if not ended:
                sc.keys("p")
                sc.wait(r"PAUSED")
                ob.read(sc.text())
            cause, comp, note = ob.verdict()
            answer(sc, cause, note, comp)
            sc.keys("q")
            return cause, comp, note
        time.sleep(0.1)


def main():
    args = sys.argv[1:]
    sock, target = args[0], args[1]
    opt = dict(zip(args[2::2], args[3::2]))
    limit, look = float(opt.get("--timeout", 3600)), float(opt.get("--look", LOOK_S))
    sc, end, played = Screen(sock, target), time.time() + limit, 0
    while time.time() < end:
        t = sc.text()
        if re.search(r"\d+ sessions? played", t):
            print("participant: %d sessions answered" % played)
            return 0
        prompts = list(re.finditer(r"session (\d+) of (\d+): (s\d+), condition (\w+)", t))
        m = prompts[-1] if prompts else None
        if m and t.rstrip().endswith("stops the study here:"):
            # an Enter typed while the terminal changes hands may be lost: again
            for _ in range(5):
                sc.keys("Enter")
                try:
                    sc.wait(r"moni REPLAY \(blind\)", 15)
                    break
                except TimeoutError:
                    if not sc.text().rstrip().endswith("stops the study here:"):
                        raise
            cause, comp, note = play_session(sc, look)
            played += 1
            print("participant: %s %s -> %s%s (%s)" % (m.group(3), m.group(4), cause,
                  " in " + comp if comp else "", note), flush=True)
            # the next prompt replaces this one
            sc.wait(r"session %d of|sessions? played" % (int(m.group(1)) + 1), 60)
            continue
        time.sleep(0.1)
    print("participant: timed out", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
