#!/usr/bin/python3
"""Golden cross-attention weights for the tiny fixture models.

    nice -n 10 /usr/bin/python3 tests/reference/make_attention_fixtures.py

For every tests/data/<name>/golden.json this writes golden_attention.json: for
each case, the cross-attention probabilities [layers, heads, target, source] of
the greedy output and of every hypothesis of the first beam-search variant.
The weights of a hypothesis are those of the decoder steps that produced its
tokens; since a step depends only on the tokens before it, replaying the
hypothesis with teacher forcing gives exactly them, whichever beams the search
moved it through. The C++ tests record weights during the search itself and
compare.
"""

import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from marian_ref import MarianRef  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "data")


def f32(x):
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def cross_attention(model, source, tokens):
    """[layers, heads, len(tokens), source_len] for the steps producing `tokens`."""
    inputs = [model.decoder_start_id] + list(tokens[:-1])
    _, layers = model.forward_logits(source, inputs, return_cross_attention=True)
    return torch.stack(layers).tolist()  # each layer [H, T, S]


def rounded(nested):
    if isinstance(nested, list):
        return [rounded(x) for x in nested]
    return f32(nested)


def main():
    torch.set_num_threads(1)
    for name in sorted(os.listdir(DATA)):
        golden_path = os.path.join(DATA, name, "golden.json")
        if not os.path.exists(golden_path):
            continue
        with open(golden_path, encoding="utf-8") as f:
            golden = json.load(f)
        model = MarianRef(os.path.join(DATA, name))
        cases = []
        for case in golden["cases"]:
            beam = case["beam"][0]
            cases.append({
                "source": case["source"],
                "greedy": rounded(cross_attention(model, case["source"], case["greedy"]["tokens"])),
                "beam": [rounded(cross_attention(model, case["source"], h["tokens"]))
                         for h in beam["hypotheses"]],
            })
        out = {"model": name, "beam_variant": 0, "cases": cases}
        with open(os.path.join(DATA, name, "golden_attention.json"), "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(name, os.path.getsize(os.path.join(DATA, name, "golden_attention.json")), "bytes")


if __name__ == "__main__":
    main()
