#!/usr/bin/env python3
"""tests/sh/rules_equiv.py — the rules rewritten for speed must give the records their
old wording gave.  tests/data/rules-before-rewrite.json keeps the old pattern and
prefilter of each rewritten rule; this script builds the old packs from it and runs
`moni parse` with the old and the new packs over the same lines:

  - the development corpus, the test logs and the line-splitter fuzz seeds,
  - every rule's test lines (old and new packs),
  - the bench mix (tests/bench/gen_trainlog.py),
  - a mutated copy of all of these: case flips, a byte replaced, deleted or
    doubled, and words of the old patterns dropped in at random places, so that
    lines near each rule's edges are tried too.

Twice: all packs together (what users get), then each rewritten rule alone (so that
a difference another rule would hide still shows).  The records must be the same
byte for byte.  Exit 1 and the first differences otherwise.

Usage: rules_equiv.py MONI SRCDIR WORKDIR [BENCH_LINES]
Environment: EQUIV_SEED (default 16) and EQUIV_MUTANTS (mutants per line, default 4)
to search wider by hand."""
import difflib
import glob
import json
import os
import random
import re
import subprocess
import sys

MONI, SRC, WORK = sys.argv[1:4]
BENCH_LINES = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
PACKS = os.path.join(SRC, "logparse", "rules")
FIXTURE = os.path.join(SRC, "tests", "data", "rules-before-rewrite.json")


def load_packs():
    packs = {}
    for path in sorted(glob.glob(os.path.join(PACKS, "*.json"))):
        with open(path, encoding="utf-8") as f:
            packs[os.path.basename(path)] = json.load(f)
    return packs


def old_packs(packs, fixture):
    """The packs with the fixture's patterns and prefilters put back."""
    old = json.loads(json.dumps(packs))
    found = set()
    for name, pack in old.items():
        for rule in pack["rules"]:
            was = fixture.get(rule["id"])
            if not was:
                continue
            found.add(rule["id"])
            rule["pattern"] = was["pattern"]
            rule.pop("prefilter", None)
            if "prefilter" in was:
                rule["prefilter"] = was["prefilter"]
    missing = set(fixture) - found
    if missing:
        sys.exit("rules_equiv: fixture names rules no pack has: %s" % ", ".join(sorted(missing)))
    return old


def write_dir(path, packs):
    os.makedirs(path, exist_ok=True)
    for name, pack in packs.items():
        with open(os.path.join(path, name), "w", encoding="utf-8") as f:
            json.dump(pack, f, indent=2, ensure_ascii=False)


def base_lines(packs, old):
    lines = []
    for path in sorted(glob.glob(os.path.join(SRC, "tests", "data", "corpus", "*.cases"))):
        with open(path, encoding="utf-8") as f:
            lines += [l for l in f.read().split("\n") if not l.startswith(("=== ", "label:", "metric:"))]
    seeds = glob.glob(os.path.join(SRC, "tests", "data", "logs", "**"), recursive=True)
    seeds += glob.glob(os.path.join(SRC, "tests", "fuzz", "seeds", "fuzz_linesplit", "*"))
    for path in sorted(p for p in seeds if os.path.isfile(p)):
        with open(path, "rb") as f:
            lines += f.read().decode("utf-8", "surrogateescape").replace("\r", "\n").split("\n")
    for p in (packs, old):
        for pack in p.values():
            for rule in pack["rules"]:
                for which in ("match", "nomatch"):
                    lines += rule.get("tests", {}).get(which, [])
    return lines


def mutants(lines, words, rng, per_line):
    """Lines near the originals: each mutation keeps most of the line."""
    fillers = [" ", "_", "a", "0", ".", ":", "=", "-", "\t", "|", "/", "N", "é"]
    out = []
    for line in lines:
        for _ in range(per_line):
            s = line
            for _ in range(rng.randint(1, 3)):
                op = rng.randrange(7)
                i = rng.randrange(len(s) + 1)
                if op == 6:  # glue a word byte onto a word's edge: \b literals' case
                    edges = [k for k in range(len(s) + 1)
                             if (k > 0 and s[k - 1].isalnum()) != (k < len(s) and s[k].isalnum())]
                    i = rng.choice(edges) if edges else i
                    s = s[:i] + rng.choice("a0_Z") + s[i:]
                    continue
                if op == 0 and s:
                    s = s.swapcase() if rng.random() < 0.2 else s[:i] + s[i:i + 1].swapcase() + s[i + 1:]
                elif op == 1:
                    s = s[:i] + rng.choice(fillers) + s[i + 1:]
                elif op == 2:
                    s = s[:i] + s[i + 1:]
                elif op == 3:
                    s = s[:i] + s[i:i + rng.randint(1, 8)] + s[i:]
                else:
                    w = rng.choice(words)
                    w = w.upper() if rng.random() < 0.2 else w
                    sep = rng.choice(["", " ", "=", ": ", "_"])
                    s = s[:i] + w + sep + rng.choice(["0.5", "nan", "inf", "3", ""]) + s[i:]
            out.append(s)
    return out


def run(args, lines_path):
    res = subprocess.run([MONI, "parse"] + args + [lines_path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if res.returncode != 0:
        sys.exit("rules_equiv: moni parse %s exited %d: %s" %
                 (" ".join(args), res.returncode, res.stderr.decode()[:300]))
    return res.stdout.decode("utf-8", "surrogateescape").split("\n")


def compare(what, a, b):
    if a == b:
        return 0
    diff = [l for l in difflib.unified_diff(a, b, "old", "new", n=0, lineterm="")
            if l[:1] in "+-" and l[:3] not in ("---", "+++")]
    print("FAIL: %s: old and new records differ (%d vs %d records, %d lines of diff)" %
          (what, len(a), len(b), len(diff)))
    for l in diff[:6]:
        print("  " + l[:300])
    return 1


def main():
    with open(FIXTURE, encoding="utf-8") as f:
        fixture = {r["id"]: r for r in json.load(f)["rules"]}
    packs = load_packs()
    old = old_packs(packs, fixture)
    write_dir(os.path.join(WORK, "old"), old)
    write_dir(os.path.join(WORK, "new"), packs)

    lines = base_lines(packs, old)
    bench = os.path.join(WORK, "bench.log")
    subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tests", "bench", "gen_trainlog.py"),
                    str(BENCH_LINES), bench], check=True)
    with open(bench, encoding="utf-8") as f:
        bench_lines = f.read().replace("\r", "\n").split("\n")
    # words of the old patterns: the rewritten rules' own vocabulary
    words = sorted({w for r in fixture.values() for w in re.findall(r"[A-Za-z][A-Za-z_]{2,}", r["pattern"])})
    rng = random.Random(int(os.environ.get("EQUIV_SEED", "16")))
    all_lines = lines + bench_lines
    per_line = int(os.environ.get("EQUIV_MUTANTS", "4"))
    all_lines += mutants(lines, words, rng, per_line) + mutants(bench_lines[:5000], words, rng, 1)
    all_lines = [l for l in all_lines if l and "\n" not in l]
    path = os.path.join(WORK, "lines.log")
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(all_lines) + "\n")

    bad = compare("all packs", run(["--no-builtin", "--rules", os.path.join(WORK, "old")], path),
                  run(["--no-builtin", "--rules", os.path.join(WORK, "new")], path))
    matched = 0
    for rid in sorted(fixture):
        outs = []
        for which, p in (("old", old), ("new", packs)):
            rule = next(r for pack in p.values() for r in pack["rules"] if r["id"] == rid)
            one = os.path.join(WORK, "one-%s-%s.json" % (which, rid))
            with open(one, "w", encoding="utf-8") as f:
                json.dump({"rules": [rule]}, f, ensure_ascii=False)
            outs.append(run(["--no-builtin", "--rules", one], path))
        bad += compare("rule %s alone" % rid, outs[0], outs[1])
        n = sum(1 for l in outs[0] if l.strip())
        if n == 0:
            print("FAIL: rule %s alone matches none of the %d lines: the check proves nothing" %
                  (rid, len(all_lines)))
            bad += 1
        matched += n
    print("%d lines (%d mutated), %d rewritten rules, %d records of them alone: %s" %
          (len(all_lines), len(all_lines) - len(lines) - len(bench_lines), len(fixture), matched,
           "same" if not bad else "DIFFERENT"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
