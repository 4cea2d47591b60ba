#!/usr/bin/env python3
"""tests/corpus/score.py — scores `moni parse` and `moni diagnose` on the development
corpus (tests/data/corpus/*.cases): root cause top-1, the subset whose last error is a
consequence ("misleading"), and metric recall (canonical name, value, line).

A .cases file holds many cases:

    === case-id
    label: CUDA_OutOfMemory        (or "healthy": no root cause at all)
    misleading: yes                (optional: the last error is not the cause)
    metric: 3 loss=0.52 learning_rate=5e-05
    metric: /step:  40/ grad_norm=0.88 mem_reserved_bytes=9.46GiB
    ---
    the log lines, as a training job wrote them
    === next-case ...

A metric line names its log line by number (1 = first line after ---) or by a
/substring/ (the first line containing it).  Values may carry KiB/MiB/GiB/TiB
(converted to bytes) or be nan/inf.

Usage: score.py [--moni PATH] [--min-top1 PCT] [--min-recall PCT] [-v] [FILE...]
Exit 1 when a score is below its minimum, 2 on a malformed case file."""
import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys
import tempfile

UNITS = {"KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4}


def parse_value(text):
    for u, f in UNITS.items():
        if text.endswith(u):
            return float(text[: -len(u)]) * f
    return float(text)


def load_cases(path):
    cases, cur, body = [], None, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        if line.startswith("=== "):
            if cur:
                cases.append(cur)
            cur = {"id": line[4:].strip(), "file": path, "line": no, "label": None,
                   "misleading": False, "metrics": [], "body": None}
            body = None
            continue
        if cur is None:
            if line.strip() and not line.startswith("#"):
                raise ValueError("%s:%d: text before the first === case" % (path, no))
            continue
        if body is not None:
            body.append(line)
            continue
        if line.strip() == "---":
            body = cur["body"] = []
            continue
        if not line.strip() or line.startswith("#"):
            continue
        key, _, val = line.partition(":")
        val = val.strip()
        if key == "label":
            cur["label"] = val
        elif key == "misleading":
            cur["misleading"] = val in ("yes", "true", "1")
        elif key == "metric":
            if val.startswith("/"):
                end = 1
                while end < len(val) and not (val[end] == "/" and val[end - 1] != "\\"):
                    end += 1
                where, rest = val[: end + 1], val[end + 1:]
            else:
                where, _, rest = val.partition(" ")
            kv = {}
            for item in rest.split():
                k, _, v = item.partition("=")
                kv[k] = parse_value(v)
            cur["metrics"].append((where, kv, no))
        else:
            raise ValueError("%s:%d: unknown key %r" % (path, no, key))
    if cur:
        cases.append(cur)
    for c in cases:
        if c["label"] is None or c["body"] is None:
            raise ValueError("%s:%d: case %s needs a label and a --- body" %
                             (c["file"], c["line"], c["id"]))
        while c["body"] and not c["body"][-1].strip():
            c["body"].pop()
        resolved = []
        for where, kv, no in c["metrics"]:
            if where.startswith("/"):
                needle = re.sub(r"\\(.)", r"\1", where[1:-1])  # \/ \[ \| ... stand for themselves
                if needle.startswith("^"):
                    hits = [i + 1 for i, l in enumerate(c["body"]) if l.startswith(needle[1:])]
                else:
                    hits = [i + 1 for i, l in enumerate(c["body"]) if needle in l]
                if not hits:
                    raise ValueError("%s:%d: %s not found in case %s" % (c["file"], no, where, c["id"]))
                ln = hits[0]
            else:
                ln = int(where)
            resolved.append((ln, kv))
        c["metrics"] = resolved
    return cases


def near(got, want):
    if isinstance(got, str):
        try:
            got = float(got)
        except ValueError:
            return False
    if got is None:
        return False
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    return abs(got - want) <= 1e-6 * max(abs(want), 1e-9) + 1e-12


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moni", default=os.path.join(os.environ.get("MONI_BUILD", "build"), "moni"))
    ap.add_argument("--min-top1", type=float, default=0)
    ap.add_argument("--min-recall", type=float, default=0)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    files = a.files or sorted(glob.glob(os.path.join(here, "..", "data", "corpus", "*.cases")))
    cases = []
    try:
        for f in files:
            cases += load_cases(f)
    except (ValueError, IndexError) as e:
        print("score.py: %s" % e, file=sys.stderr)
        return 2
    ids = [c["id"] for c in cases]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        print("score.py: duplicate case ids: %s" % ", ".join(sorted(dup)), file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="moni-corpus.")
    paths = []
    for c in cases:
        p = os.path.join(tmp, c["id"] + ".log")
        with open(p, "w", encoding="utf-8") as f:
            f.write("\n".join(c["body"]) + "\n")
        c["path"] = p
        paths.append(p)
    # metrics: one parse of every case file
    out = subprocess.run([a.moni, "parse", "--format", "jsonl"] + paths, capture_output=True,
                         text=True, errors="replace")
    if out.returncode != 0:
        print("score.py: moni parse exited %d: %s" % (out.returncode, out.stderr[:500]), file=sys.stderr)
        return 2
    fields = {}  # (path, line) -> merged fields of the metric records of that line
    for l in out.stdout.splitlines():
        r = json.loads(l)
        if r.get("kind") == "metric":
            fields.setdefault((r["file"], r["line"]), {}).update(r.get("fields", {}))
    top1 = mis_ok = mis_n = m_ok = m_n = 0
    fails = []
    for c in cases:
        d = subprocess.run([a.moni, "diagnose", "--json", c["path"]], capture_output=True,
                           text=True, errors="replace")
        try:
            got = json.loads(d.stdout).get("root_cause")
        except ValueError:
            got = "?(exit %d: %s)" % (d.returncode, d.stderr.strip()[:200])
        want = None if c["label"] == "healthy" else c["label"]
        ok = got == want
        top1 += ok
        if c["misleading"]:
            mis_n += 1
            mis_ok += ok
        if not ok:
            fails.append("%s:%d: %s: root cause %s, expected %s" %
                         (os.path.relpath(c["file"]), c["line"], c["id"], got, want or "none"))
        for ln, kv in c["metrics"]:
            have = fields.get((c["path"], ln), {})
            for k, v in kv.items():
                m_n += 1
                if near(have.get(k), v):
                    m_ok += 1
                else:
                    fails.append("%s:%d: %s: line %d: %s=%s, expected %g  (have %s)" %
                                 (os.path.relpath(c["file"]), c["line"], c["id"], ln, k,
                                  have.get(k), v, json.dumps(have, sort_keys=True)[:300]))
    for p in paths:
        os.unlink(p)
    os.rmdir(tmp)
    n = len(cases)
    pct = lambda a_, b_: 100.0 * a_ / b_ if b_ else 100.0
    if a.verbose:
        for f in fails:
            print(f)
    print("cases: %d" % n)
    print("top-1: %d/%d = %.1f%%" % (top1, n, pct(top1, n)))
    print("misleading last error: %d/%d = %.1f%%" % (mis_ok, mis_n, pct(mis_ok, mis_n)))
    print("metric recall: %d/%d = %.1f%%" % (m_ok, m_n, pct(m_ok, m_n)))
    if pct(top1, n) < a.min_top1 or pct(m_ok, m_n) < a.min_recall:
        if not a.verbose:
            for f in fails:
                print(f)
        print("below target: top-1 >= %g%%, metric recall >= %g%%" % (a.min_top1, a.min_recall))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
