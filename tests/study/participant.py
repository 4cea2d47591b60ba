#!/usr/bin/env python3
"""tests/study/participant.py -- a scripted tester for `moni study run` in tmux.

It reads the screen the way a person would (tmux capture-pane, every 100 ms) and
answers only through the console's keys: Enter at the prompt, `!` when a symptom
shows, `p` to pause, `c` and the cause picker (typing a label, Enter; the process of a
multi-process run when one is shown in error; no confidence; its rule as the note),
`q` to end the session.  When the replay ends and nothing was seen it answers
"healthy".  Its rules are symptom patterns on the screen text, so it sees only what
the blind replay shows; in the logs condition that is the log alone.

usage: participant.py SOCKET TARGET [--timeout S]
"""
import re
import subprocess
import sys
import time

# (name, pattern on the screen text, cause label); the first that matches wins
RULES = [
    ("nan loss", r"loss (nan|inf)\b|\bnan\b.*loss|NaN", "NaN_Loss"),
    ("gpu oom", r"CUDA out of memory|CUDA error: out of memory|OutOfMemoryError", "CUDA_OutOfMemory"),
    ("host oom", r"MemoryError|[Oo]ut of memory|[Cc]an(not|'t) allocate|bad_alloc|\bOOM\b", "Host_OOM"),
    ("disk", r"No space left|ENOSPC|[Tt]runcated|checkpoint.*(corrupt|fail)", "Disk_Full"),
    ("nccl", r"NCCL", "NCCL_Timeout"),
    ("timeout", r"[Tt]imed? ?out|[Tt]imeout", "Network_Timeout"),
    # (SIGTERM at the end of a run is moni stopping it at its duration)
    ("killed", r"killed by SIGKILL|\bKilled\b", "Process_Killed"),
    ("hang", r"deadlock|[Hh]ung|stalled|quiet [1-9][0-9]s", "Process_Hang"),
    ("io", r"PSI some cpu [0-9.]+%  mem [0-9.-]+%?  io ([3-9][0-9]|100)\.", "IO_Bottleneck"),
    ("error", r" ERR |Traceback|[Ee]rror:", "Model_Code_Error"),
]
# a process row in error in the Workload pane: "train_worker_3  ...  error"
ERROR_ROW = re.compile(r"^\s*([a-z]+_worker_\d+|controller|scheduler)\b.*\berror\b", re.M)


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
            sc.wait(r"> " + re.escape(component))
        sc.keys("Enter")
        sc.wait(r"how sure\?")
    sc.keys("Enter")  # not given
    sc.wait(r"a note \(optional\)")
    sc.keys(note, literal=True)
    sc.keys("Enter")
    sc.wait(r"recorded: cause")


def play_session(sc):
    """One session from the replay's first screen to q; returns what was answered."""
    sc.wait(r"moni REPLAY \(blind\)", 60)
    while True:
        t = sc.text()
        # the header's clock and the footer's status are moni's, not the workload's
        body = "\n".join(t.splitlines()[1:-1])
        for name, pat, label in RULES:
            if re.search(pat, body):
                sc.keys("!")
                sc.wait(r"recorded: a problem seen")
                sc.keys("p")
                rows = ERROR_ROW.findall(sc.text())
                answer(sc, label, "rule " + name, rows[0] if rows else None)
                sc.keys("q")
                return label
        if "end of the recording" in t:
            answer(sc, "healthy", "nothing seen")
            sc.keys("q")
            return "healthy"
        time.sleep(0.1)


def main():
    sock, target = sys.argv[1], sys.argv[2]
    limit = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--timeout" else 3600
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
            got = play_session(sc)
            played += 1
            print("participant: %s %s -> %s" % (m.group(3), m.group(4), got), flush=True)
            # the next prompt replaces this one
            sc.wait(r"session %d of|sessions? played" % (int(m.group(1)) + 1), 60)
            continue
        time.sleep(0.1)
    print("participant: timed out", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
