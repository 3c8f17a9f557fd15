#!/usr/bin/env python3
"""Scores heed's word alignments against hand-made ones: precision, recall, AER.

    alignment_aer.py GOLD HEED_OUTPUT [HEED_OUTPUT ...]

GOLD has one line per sentence, "SOURCE ||| TARGET ||| LINKS", where TARGET is the
translation heed produced and LINKS are Pharaoh pairs "s-t" (0-based source word,
target word; words = whitespace-separated tokens, punctuation attached as heed
forms them from SentencePiece pieces). All gold links are "sure" links, so
AER = 1 - 2|A & S| / (|A| + |S|) (Och & Ney 2003 with P = S).
Each HEED_OUTPUT is `heed translate --alignment hard` output for GOLD's sources:
"TARGET ||| LINKS" per line. The targets must match the gold's.
"""
import sys


def links(text):
    return {tuple(int(x) for x in pair.split("-")) for pair in text.split()}


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    gold = []
    with open(argv[1], encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            parts = [p.strip() for p in line.rstrip("\n").split("|||")]
            if len(parts) != 3:
                sys.exit(f"{argv[1]}:{number}: expected SOURCE ||| TARGET ||| LINKS")
            gold.append((parts[1], links(parts[2])))
    for path in argv[2:]:
        hit = predicted = sure = 0
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n") for line in f]
        if len(rows) != len(gold):
            sys.exit(f"{path}: {len(rows)} lines, gold has {len(gold)}")
        for number, (row, (target, s)) in enumerate(zip(rows, gold), 1):
            translation, _, pairs = row.partition(" ||| ")
            if translation.strip() != target:
                sys.exit(f"{path}:{number}: translation '{translation}' differs from the gold's '{target}'")
            a = links(pairs)
            hit += len(a & s)
            predicted += len(a)
            sure += len(s)
        precision, recall = hit / max(predicted, 1), hit / max(sure, 1)
        aer = 1 - 2 * hit / max(predicted + sure, 1)
        print(f"{path}: precision {precision:.3f} recall {recall:.3f} AER {aer:.3f} "
              f"({hit} of {predicted} predicted links in the {sure} gold links)")


if __name__ == "__main__":
    main(sys.argv)
