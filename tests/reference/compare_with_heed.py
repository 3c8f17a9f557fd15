#!/usr/bin/python3
"""Token-by-token comparison of heed with the reference on the base-size model.

    /usr/bin/python3 tests/reference/compare_with_heed.py [--dir build/base-model] [--heed build/heed]

Runs heed (greedy and beam 4, JSON lines) over DIR/sources.en with the model in
DIR/model and compares with DIR/greedy.jsonl and DIR/beam4.jsonl written by
base_model_check.py: identical token sequences, largest score difference, and
for each mismatch whether the reference flagged it as a near-tie. Exits 1 on
a mismatch that is not a near-tie.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def run_heed(heed, model, sources, beam, max_length, lines):
    """heed's JSON lines for the first `lines` source lines (the reference may
    still be writing its output)."""
    with open(sources, encoding="utf-8") as f:
        text = "".join(f.readlines()[:lines])
    out = subprocess.run([heed, "translate", "-m", model, "--format", "jsonl",
                          "--beam-size", str(beam), "--max-length", str(max_length), "-q"],
                         input=text, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def compare(name, ours, ref, near_tie):
    assert len(ours) == len(ref), f"{name}: {len(ours)} heed lines, {len(ref)} reference lines"
    same = sum(o["tokens"] == r["tokens"] for o, r in zip(ours, ref))
    diffs = [abs(o["score"] - r["score"]) for o, r in zip(ours, ref) if o["tokens"] == r["tokens"]]
    bad = [i for i, (o, r) in enumerate(zip(ours, ref)) if o["tokens"] != r["tokens"] and not near_tie(r)]
    ties = len(ours) - same - len(bad)
    print(f"{name}: {same}/{len(ours)} identical token sequences; max |score diff| on those "
          f"{max(diffs) if diffs else 0:.2e}; mismatches at reference near-ties {ties}, other {len(bad)}")
    for i in bad[:5]:
        print(f"  line {i + 1}: heed {ours[i]['tokens']}\n          ref  {ref[i]['tokens']}")
    return not bad


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default=os.path.join(REPO, "build", "base-model"))
    p.add_argument("--heed", default=os.path.join(REPO, "build", "heed"))
    a = p.parse_args()
    model = os.path.join(a.dir, "model")
    sources = os.path.join(a.dir, "sources.en")
    with open(os.path.join(model, "generation_config.json")) as f:
        max_length = json.load(f)["max_length"]
    greedy = read_jsonl(os.path.join(a.dir, "greedy.jsonl"))
    beam = read_jsonl(os.path.join(a.dir, "beam4.jsonl"))
    ok = compare("greedy", run_heed(a.heed, model, sources, 1, max_length, len(greedy)), greedy,
                 lambda r: r.get("min_margin", 1.0) < 1e-3)
    ok &= compare("beam 4", run_heed(a.heed, model, sources, 4, max_length, len(beam)), beam,
                  lambda r: r.get("stable") is False)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
