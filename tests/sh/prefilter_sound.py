#!/usr/bin/env python3
"""tests/sh/prefilter_sound.py — checks, from each rule's pattern alone, that its
prefilter can never hide a line the pattern matches: every way the pattern can match
must contain one of the literals (where a literal has a \\b mark, at a place where
the pattern makes that word boundary hold).  A prefilter that fails this is a bug
that no test line may show: the rule silently narrows.

The pattern is read with Python's re parser and abstracted into a small set of
strings per sequence (lower case, as the prefilter compares), where

    \\x01  a \\b of the pattern         \\x03  some word byte (\\d, \\w, [A-Z]...)
    \\x02  anything (unknown)           \\x04  some non-word byte, or the line's edge
    U+E000...  one byte out of a small set (\\d, \\s, [Ee]...)

A literal never spans \\x02..\\x04, and a word boundary next to \\x02 is unknown, so the
check can only err on the safe side (call a sound prefilter unsound, never the
reverse).  Usage: prefilter_sound.py [-v] PACK.json...  (-v: strings not covered;
~ anything, w a word byte, _ a non-word byte).   Exit 1 with the rules that fail."""
import json
import re
import sys
from re import _constants as C
from re import _parser as P

LIMIT = 512
ANYTHING, BOUND, WORD, NONWORD = "\x02", "\x01", "\x03", "\x04"
WORDCH = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def charset(items, icase):
    """The bytes a character class matches (PCRE2 byte mode: \\w etc. are ASCII)."""
    cats = {
        C.CATEGORY_DIGIT: set(range(48, 58)),
        C.CATEGORY_SPACE: set(b" \t\n\r\f\v"),
        C.CATEGORY_WORD: set(WORDCH),
    }
    for k, v in list(cats.items()):
        cats[{C.CATEGORY_DIGIT: C.CATEGORY_NOT_DIGIT, C.CATEGORY_SPACE: C.CATEGORY_NOT_SPACE,
              C.CATEGORY_WORD: C.CATEGORY_NOT_WORD}[k]] = set(range(256)) - v
    s, neg = set(), False
    for op, av in items:
        if op is C.NEGATE:
            neg = True
        elif op is C.LITERAL:
            s.add(av)
        elif op is C.RANGE:
            s |= set(range(av[0], av[1] + 1))
        elif op is C.CATEGORY:
            s |= cats[av]
        else:
            return None
    if icase:
        s |= {c ^ 0x20 for c in s if chr(c & 0xff).isascii() and chr(c).isalpha()}
    s = set(range(256)) - s if neg else s
    return s - {10}  # a line never holds a newline


CLASSES = {}  # a private-use character per small set of bytes: one of them


def class_token(chars):
    key = frozenset(chars)
    if key not in CLASSES:
        CLASSES[key] = chr(0xE000 + len(CLASSES))
    return CLASSES[key]


def class_of(ch):
    return next(k for k, v in CLASSES.items() if v == ch) if "\ue000" <= ch <= "\uf8ff" else None


def one_of(codes):
    """The abstraction of one byte out of codes."""
    if codes is None or not codes:
        return {ANYTHING}
    low = {chr(c).lower() for c in codes if c < 128}
    if all(c < 128 for c in codes) and len(low) <= 16:
        return low if len(low) == 1 else {class_token(low)}
    if codes <= WORDCH:
        return {WORD}
    if not codes & WORDCH:
        return {NONWORD}
    return {ANYTHING}


LIMIT, TAIL = 2048, 32


def merge(d, key, flag):
    """A string and whether a literal was already seen in it; of two ways to the same
    string, the one without a literal counts."""
    d[key] = d.get(key, True) and flag


class Checker:
    def __init__(self, literals):
        self.lits = []
        for lit in literals:
            bounds = 0
            if lit.startswith("\\b"):
                lit, bounds = lit[2:], bounds | 1
            if lit.endswith("\\b"):
                lit, bounds = lit[:-2], bounds | 2
            self.lits.append((lit.lower(), bounds))

    def string_covered(self, r, depth=0):
        """Whether r holds a literal; a byte out of a small set counts if each of its
        bytes in its place would (tried for the first three such bytes)."""
        if self.plain_covered(r):
            return True
        k = next((i for i, ch in enumerate(r) if class_of(ch)), -1)
        if k < 0 or depth >= 3:
            return False
        return all(self.string_covered(r[:k] + c + r[k + 1:], depth + 1) for c in class_of(r[k]))

    def plain_covered(self, r):
        marks, s = set(), []
        for ch in r:
            if ch == BOUND:
                marks.add(len(s))
            else:
                s.append(ch)
        s = "".join(s)

        def word(i):
            if i < 0 or i >= len(s) or s[i] == ANYTHING:
                return None
            cls = class_of(s[i])
            if cls:
                kinds = {ord(c) in WORDCH for c in cls}
                return kinds.pop() if len(kinds) == 1 else None
            return s[i] == WORD or (s[i] != NONWORD and ord(s[i]) < 128 and ord(s[i]) in WORDCH)

        def boundary(i):
            if i in marks:
                return True
            left, right = word(i - 1), word(i)
            return left is not None and right is not None and left != right

        for lit, bounds in self.lits:
            i = s.find(lit)
            while i >= 0:
                if (not bounds & 1 or boundary(i)) and (not bounds & 2 or boundary(i + len(lit))):
                    return True
                i = s.find(lit, i + 1)
        return False

    @staticmethod
    def kind(ch):
        """WORD or NONWORD when every byte ch stands for is of that kind."""
        cls = class_of(ch) or ({ch} if ch not in (ANYTHING, WORD, NONWORD, BOUND) else None)
        if cls is None:
            return ch if ch in (WORD, NONWORD) else None
        kinds = {ord(c) in WORDCH for c in cls}
        return None if len(kinds) != 1 else (WORD if kinds.pop() else NONWORD)

    def covered(self, d):
        return all(flag or self.string_covered(r) for r, flag in d.items())

    def shorten(self, d):
        """Keeps the last TAIL bytes of each string (after a gap), noting for each
        whether the part dropped held a literal, until few enough remain."""
        tail = TAIL
        while len(d) > LIMIT and tail >= 0:
            out = {}
            for r, flag in d.items():
                if len(r) <= tail:
                    merge(out, r, flag)
                else:
                    merge(out, ANYTHING + (r[-tail:] if tail else ""), flag or self.string_covered(r))
            d, tail = out, tail // 2 if tail > 1 else tail - 1
        return d

    def product(self, a, b):
        out = {}
        for x, fx in a.items():
            for y, fy in b.items():
                merge(out, x + y, fx or fy)
        return self.shorten(out) if len(out) > LIMIT else out

    def seq(self, items, icase):
        """{abstract string: a literal already seen in it} of a sequence."""
        cur = {"": False}
        for op, av in items:
            cur = self.product(cur, self.item(op, av, icase))
        return cur

    def item(self, op, av, icase):
        plain = lambda strings: {x: False for x in strings}
        if op is C.LITERAL:
            return plain(one_of({av} | ({av ^ 0x20} if icase and chr(av).isalpha() else set())))
        if op is C.IN:
            return plain(one_of(charset(av, icase)))
        if op is C.AT:
            if av is C.AT_BOUNDARY:
                return plain({BOUND})
            if av in (C.AT_BEGINNING, C.AT_BEGINNING_STRING, C.AT_END, C.AT_END_STRING):
                return plain({NONWORD})
            return plain({""})
        if op in (C.ASSERT, C.ASSERT_NOT):
            return plain({""})
        if op is C.SUBPATTERN:
            _, add, dele, p = av
            ic = (icase or bool(add & re.I)) and not dele & re.I
            return self.seq(p.data, ic)
        if op is C.ATOMIC_GROUP:
            return self.seq(av.data, icase)
        if op is C.BRANCH:
            out = {}
            for b in av[1]:
                for r, flag in self.seq(b.data, icase).items():
                    merge(out, r, flag)
            return self.shorten(out) if len(out) > LIMIT else out
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, p = av
            once = self.seq(p.data, icase)
            out = dict(once)
            if hi != 1:  # two or more: the first and the last, the rest between
                between = {ANYTHING}
                if all(len(r) == 1 for r in once):  # one byte a time: its kind
                    kinds = {self.kind(r) for r in once}
                    between = {kinds.pop()} if len(kinds) == 1 and None not in kinds else between
                for r, flag in self.product(self.product(once, {between.pop(): False}), once).items():
                    merge(out, r, flag)
            if lo == 0:
                merge(out, "", False)
            return self.shorten(out) if len(out) > LIMIT else out
        return plain({ANYTHING})


def check_rule(rule, verbose=False):
    pf = rule.get("prefilter")
    if pf is None:
        return None
    pf = [pf] if isinstance(pf, str) else pf
    pat = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", rule["pattern"])
    ch = Checker(pf)
    d = ch.seq(P.parse(pat, 0).data, False)
    if verbose:
        for r in [r for r, flag in d.items() if not flag and not ch.string_covered(r)][:3]:
            print("    e.g. %r" % r.replace(ANYTHING, "~").replace(BOUND, "\\b")
                  .replace(WORD, "w").replace(NONWORD, "_"))
    return ch.covered(d)


def main():
    bad = checked = 0
    verbose = "-v" in sys.argv
    for path in [a for a in sys.argv[1:] if a != "-v"]:
        with open(path, encoding="utf-8") as f:
            pack = json.load(f)
        for rule in pack["rules"]:
            try:
                ok = check_rule(rule, verbose)
            except (re.error, KeyError) as e:
                print("%s: rule %s: pattern not readable here: %s" % (path, rule["id"], e))
                bad += 1
                continue
            if ok is None:
                continue
            checked += 1
            if not ok:
                print("%s: rule %s: some match of the pattern contains none of the prefilter literals"
                      % (path, rule["id"]))
                bad += 1
    print("%d prefilters checked, %d unsound or not shown sound" % (checked, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
