#!/usr/bin/python3
"""Random opus-mt-en-de-shaped model (d 512, 6+6 layers, 8 heads, ffn 2048,
swish, tied, joint vocab of 58,101 entries via make_model.py --vocab-pad-to,
F16 safetensors) in the four layouts heed reads, written OUTSIDE the repo:

    nice -n 10 /usr/bin/python3 tests/reference/make_base58k_formats.py --out /tmp/base58k
    -> OUT/safetensors/ OUT/pytorch-zip/ OUT/pytorch-legacy/ OUT/marian/ (+ marian.expected/)

--small builds a d 64 / 2+2 / 4 heads / ffn 128 / 2,000-entry model instead
(a quick check of the machinery).  No EOS calibration (--eos-ramp 0).
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model  # noqa: E402
import safetensors_io
import write_formats  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--small", action="store_true")
    a = p.parse_args(argv)
    if a.small:
        shape = ["--d-model", "64", "--encoder-layers", "2", "--decoder-layers", "2", "--heads", "4",
                 "--ffn", "128", "--vocab-pad-to", "2000"]
    else:
        shape = ["--d-model", "512", "--encoder-layers", "6", "--decoder-layers", "6", "--heads", "8",
                 "--ffn", "2048", "--vocab-pad-to", "58101"]
    st = os.path.join(a.out, "safetensors")
    make_model.make_model(make_model.build_parser().parse_args(
        ["--out", st] + shape + ["--activation", "swish", "--vocab-size", "1000", "--joint-vocab",
                                 "--tie-embeddings", "--scale-embedding", "--dtype", "f16", "--omit-positions",
                                 "--max-position-embeddings", "512", "--max-length", "512", "--num-beams", "4",
                                 "--eos-ramp", "0", "--seed", "58"]))
    # The model transformers' converter would make: a zero <pad> row and bias,
    # so that the Marian layout (which has no pad row) holds the same model.
    path = os.path.join(st, "model.safetensors")
    w = safetensors_io.load_file(path)
    pad = json.load(open(os.path.join(st, "config.json"), encoding="utf-8"))["pad_token_id"]
    w["model.shared.weight"][pad] = 0
    w["final_logits_bias"][0, pad] = 0
    safetensors_io.save_file(w, path, {"format": "pt"})
    for layout in ("pytorch-zip", "pytorch-legacy", "marian"):
        write_formats.write_layout(st, os.path.join(a.out, layout), layout,
                                   dict(newer=False, vocab_style="yaml-cpp"))
    print("wrote", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
