#!/usr/bin/python3
"""Unicode normalization and lowercasing as Python's unicodedata does them (the same Unicode
version the runtime's tables were generated from, scripts/gen_normalize_tables.py), for
tests/normalize_test.cc: every code point that has a decomposition, a combining class or a
lowercase mapping on its own, every Hangul syllable and jamo pair, and seeded random sequences of
starters and combining marks (canonical reordering, blocked and unblocked composition).

Usage: normalization.py OUT.json
"""
import json
import random
import sys
import unicodedata


def cases():
    singles = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if (unicodedata.decomposition(ch) or unicodedata.combining(ch) or ch.lower() != ch or
                0xAC00 <= cp <= 0xD7A3 or 0x1100 <= cp <= 0x11FF):
            singles.append(ch)
    out = list(singles)
    rng = random.Random(15)
    marks = [c for c in singles if unicodedata.combining(c)]
    starters = [c for c in singles if not unicodedata.combining(c)] + list("aeiouAEIOUnNcCsSzZ")
    jamo = [chr(c) for c in range(0x1100, 0x1113)] + [chr(c) for c in range(0x1161, 0x1176)] + \
           [chr(c) for c in range(0x11A8, 0x11C3)]
    for _ in range(20000):
        seq = []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            seq.append(rng.choice(marks) if r < 0.5 else rng.choice(jamo) if r < 0.6 else rng.choice(starters))
        out.append("".join(seq))
    return out


def main():
    rows = []
    for text in cases():
        rows.append([text] + [unicodedata.normalize(f, text) for f in ("NFC", "NFKC", "NFD", "NFKD")] +
                    ["".join(c.lower() for c in text)])
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump({"unicode": unicodedata.unidata_version, "rows": rows}, f, ensure_ascii=False)
    print(f"normalization: {len(rows)} texts, Unicode {unicodedata.unidata_version}")


main()
