#!/usr/bin/python3
"""Base-size random Marian model + reference translations for a token-by-token
comparison with the C++ engine (not a committed fixture).

    nice -n 10 /usr/bin/python3 tests/reference/base_model_check.py \\
        [--out build/base-model] [--lines 1000] [--max-length 64] [--batch 32]

The benchmark models (random weights that run to the length cap, as in the
performance issues' CTranslate2 figures), one per --shape:

    /usr/bin/python3 tests/reference/base_model_check.py --out build/bench-model \
        --eos-ramp 0 --max-length 256 --model-only                      # base-15k
    /usr/bin/python3 tests/reference/base_model_check.py --shape base-58k \
        --out build/bench-base-58k --eos-ramp 0 --max-length 256 --model-only
    /usr/bin/python3 tests/reference/base_model_check.py --shape tc-big \
        --out build/bench-tc-big --eos-ramp 0 --max-length 256 --model-only

    base-15k  d 512, 6+6 layers, 8 heads, ffn 2048, swish, joint vocab 15,001, F32
    base-58k  the same with the joint vocabulary of opus-mt-en-de: 58,101 entries, F16
    tc-big    d 1024, 6+6 layers, 16 heads, ffn 4096, relu, joint vocab 60,000, F16
              (the OPUS-MT "tc-big" transformer-big models)

All three segment text with the same 15,000-piece SentencePiece model (Multi30k
is too small for larger ones); the 58k and 60k vocabularies are completed with
filler pieces (make_model.pad_vocab), which the random weights do generate.

Creates OUT/model/ (HF layout, by default base-15k: d_model 512, 6+6 layers,
8 heads, ffn 2048, swish, joint SentencePiece vocab of 15000 pieces trained on
Multi30k en+de, tied embeddings, fp32) unless it already exists (--rebuild forces it), then
translates the first --lines lines of Multi30k test_2016_flickr.en with the
reference, writing
    OUT/sources.en        the source lines used (one per line)
    OUT/greedy.jsonl      {"tokens": [...], "score": s, "text": t, "min_margin": m}
    OUT/beam4.jsonl       {"tokens": [...], "score": s, "text": t, "stable": b}
one JSON object per source line, in order.  "tokens" are the generated ids
after the decoder start token, EOS included.  Greedy "score" is the sum of the
processed log-probs of the chosen tokens; beam "score" is HF's
sequences_scores (length-penalised, length_penalty 1.0, early_stopping false).
"min_margin" is the smallest gap between the best and second-best processed
logit along the greedy path; "stable" is false when re-running the beam search
with 1e-4 noise on the logits changed the result (with --no-stability it is
omitted).  A C++ mismatch on a line with a tiny margin / stable=false is a
floating-point near-tie, not necessarily a bug.
"""

import argparse
import gzip
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model  # noqa: E402
from marian_ref import MarianRef  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "multi30k"))


# Model shapes for speed measurements (see the docstring).
SHAPES = {
    "base-15k": dict(d=512, layers=6, heads=8, ffn=2048, activation="swish", vocab=0, dtype="f32"),
    "base-58k": dict(d=512, layers=6, heads=8, ffn=2048, activation="swish", vocab=58101,
                     dtype="f16"),
    "tc-big": dict(d=1024, layers=6, heads=16, ffn=4096, activation="relu", vocab=60000,
                   dtype="f16"),
}


def model_args(a, out):
    s = SHAPES[a.shape]
    return ["--out", out, "--d-model", str(s["d"]), "--encoder-layers", str(s["layers"]),
            "--decoder-layers", str(s["layers"]), "--heads", str(s["heads"]), "--ffn", str(s["ffn"]),
            "--activation", s["activation"], "--vocab-size", str(a.vocab_size),
            "--vocab-pad-to", str(s["vocab"]),
            "--joint-vocab", "--tie-embeddings", "--scale-embedding", "--dtype", s["dtype"],
            "--max-position-embeddings", "512", "--max-length", str(a.max_length), "--num-beams", "4",
            "--seed", str(a.seed), "--ln-gain-mean", "1.0", "--ln-gain-std", "0.3", "--ln-bias-std", "0.05",
            "--bias-std", "0.05", "--linear-gain", "0.5", "--logit-std", "1.0",
            "--final-ln-random-sign", "--final-ln-gain", "6",
            "--eos-ramp", str(a.eos_ramp), "--eos-ramp-center", str(a.eos_center), "--eos-noise", str(a.eos_noise),
            "--eos-bias", str(a.eos_bias), "--eos-calib-lines", "32"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(REPO, "build", "base-model"))
    p.add_argument("--lines", type=int, default=1000)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--shape", choices=sorted(SHAPES), default="base-15k",
                   help="model shape (default base-15k; the others are for speed measurements)")
    p.add_argument("--vocab-size", type=int, default=15000, help="SentencePiece pieces")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eos-ramp", type=float, default=0.3, help="EOS logit gain per decoding step")
    p.add_argument("--eos-center", type=float, default=18.0, help="step where EOS ties the best token")
    p.add_argument("--eos-noise", type=float, default=0.05)
    p.add_argument("--eos-bias", type=float, default=-1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rebuild", action="store_true")
    p.add_argument("--exact", action="store_true",
                   help="use torch's default BLAS instead of oneDNN for the linear layers (slow here)")
    p.add_argument("--no-stability", action="store_true", help="skip the perturbed beam re-run")
    p.add_argument("--skip-beam", action="store_true")
    p.add_argument("--model-only", action="store_true",
                   help="write the model and stop (for benchmarks: with --eos-ramp 0 its random weights "
                        "never choose EOS, so every sentence runs to the length cap)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)

    model_dir = os.path.join(a.out, "model")
    os.makedirs(a.out, exist_ok=True)
    if a.rebuild or not os.path.exists(os.path.join(model_dir, "model.safetensors")):
        t0 = time.time()
        make_model.make_model(make_model.build_parser().parse_args(model_args(a, model_dir)))
        print(f"model written to {model_dir} ({time.time() - t0:.1f}s)", file=sys.stderr)
    if a.model_only:
        return
    m = MarianRef(model_dir, fast=not a.exact)
    if m.max_length != a.max_length:
        print(f"note: model max_length {m.max_length}, using --max-length {a.max_length}", file=sys.stderr)

    with gzip.open(os.path.join(DATA, "test_2016_flickr.en.gz"), "rt", encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f][:a.lines]
    with open(os.path.join(a.out, "sources.en"), "w", encoding="utf-8") as f:
        for l in lines:
            f.write(l + "\n")

    t0 = time.time()
    with open(os.path.join(a.out, "greedy.jsonl"), "w", encoding="utf-8") as f:
        for s in range(0, len(lines), a.batch):
            chunk = lines[s:s + a.batch]
            res = m.greedy(chunk, max_length=a.max_length, with_margin=True)
            for r in res:
                f.write(json.dumps({"tokens": r["tokens"], "score": r["score"], "text": m.detok(r["tokens"]),
                                    "min_margin": r["min_margin"]}, ensure_ascii=False) + "\n")
    print(f"greedy: {len(lines)} lines in {time.time() - t0:.1f}s", file=sys.stderr)

    if a.skip_beam:
        return
    t0 = time.time()
    g = torch.Generator().manual_seed(1234)
    noise = lambda shape: torch.randn(*shape, generator=g) * 1e-4  # noqa: E731
    with open(os.path.join(a.out, "beam4.jsonl"), "w", encoding="utf-8") as f:
        for s in range(0, len(lines), a.batch):
            chunk = lines[s:s + a.batch]
            res = m.beam_search(chunk, 4, 1.0, False, a.max_length)
            if not a.no_stability:
                res2 = m.beam_search(chunk, 4, 1.0, False, a.max_length, perturb=noise)
            for i, hyps in enumerate(res):
                h = hyps[0]
                rec = {"tokens": h["tokens"], "score": h["score"], "text": m.detok(h["tokens"])}
                if not a.no_stability:
                    rec["stable"] = [x["tokens"] for x in res2[i]] == [x["tokens"] for x in hyps]
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            print(f"  beam {s + len(chunk)}/{len(lines)} ({time.time() - t0:.0f}s)", file=sys.stderr)
    print(f"beam4: {len(lines)} lines in {time.time() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
