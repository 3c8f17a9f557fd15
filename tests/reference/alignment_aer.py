#!/usr/bin/env python3
"""Which decoder layers give heed's best word alignments: AER against hand-made links.

    alignment_aer.py [--gold data/alignment/test_2016_flickr.sample.gold]
                     [--source ../shared/data/multi30k/test_2016_flickr.en.gz]
                     [--heed build/heed] [--model DIR] [--choices "0 1 2 1,2 mean default"]

The gold file has "LINE ||| TRANSLATION ||| LINKS" per sentence: the 1-based line of
the source file, the translation heed produced, and hand-made Pharaoh links "s-t"
(0-based source word, target word; words are whitespace-separated tokens with their
punctuation, as heed forms them from SentencePiece pieces). All links are sure links,
so AER = 1 - 2|A & S| / (|A| + |S|) (Och & Ney 2003 with P = S).

For each choice, heed translates the gold's sources with `--alignment hard` and
`--attention-layers CHOICE --attention-heads mean` ("default": heed's default
layer); the translations must match the gold's. Prints precision, recall and AER.
Only the Python standard library is needed.
"""
import argparse
import gzip
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def links(text):
    return {tuple(int(x) for x in pair.split("-")) for pair in text.split()}


def read_gold(path):
    gold = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            parts = [p.strip() for p in line.rstrip("\n").split("|||")]
            if len(parts) != 3:
                sys.exit(f"{path}:{number}: expected LINE ||| TRANSLATION ||| LINKS")
            gold.append((int(parts[0]), parts[1], links(parts[2])))
    return gold


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", default=os.path.join(REPO, "data/alignment/test_2016_flickr.sample.gold"))
    p.add_argument("--source", default=os.path.join(os.path.dirname(REPO),
                                                    "shared/data/multi30k/test_2016_flickr.en.gz"))
    p.add_argument("--heed", default=os.path.join(REPO, "build/heed"))
    p.add_argument("--model", default=os.path.join(REPO, "models/multi30k-en-de/a"))
    p.add_argument("--choices", default="0 1 2 1,2 mean default",
                   help="space-separated --attention-layers values (a value may be a list: 1,2)")
    a = p.parse_args()
    if not os.path.exists(a.source):
        sys.exit(f"{a.source}: not found (the Multi30k data lives in ../shared/data/multi30k)")
    gold = read_gold(a.gold)
    opener = gzip.open if a.source.endswith(".gz") else open
    with opener(a.source, "rt", encoding="utf-8") as f:
        source_lines = f.read().split("\n")
    sources = "".join(source_lines[n - 1] + "\n" for n, _, _ in gold)
    for choice in a.choices.split():
        cmd = [a.heed, "translate", "-m", a.model, "--alignment", "hard", "-q"]
        if choice != "default":
            cmd += ["--attention-layers", choice, "--attention-heads", "mean"]
        rows = subprocess.run(cmd, input=sources, capture_output=True, text=True, check=True).stdout
        hit = predicted = sure = 0
        for (line, target, s), row in zip(gold, rows.splitlines()):
            translation, _, pairs = row.partition(" ||| ")
            if translation.strip() != target:
                sys.exit(f"line {line}: heed translated '{translation}', the gold has '{target}'")
            predicted_links = links(pairs)
            hit += len(predicted_links & s)
            predicted += len(predicted_links)
            sure += len(s)
        precision, recall = hit / max(predicted, 1), hit / max(sure, 1)
        aer = 1 - 2 * hit / max(predicted + sure, 1)
        print(f"layers {choice:>7}: precision {precision:.3f} recall {recall:.3f} AER {aer:.3f} "
              f"({hit} of {predicted} links in the {sure} gold links, {len(gold)} sentences)")


if __name__ == "__main__":
    main()
