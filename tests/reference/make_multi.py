#!/usr/bin/python3
"""tests/data/tiny-multi: a tiny multilingual (OPUS-MT en-ROMANCE style) model
for --target-language.  vocab.json holds the language tokens >>deu<<,
>>fra<<, >>spa<< as ordinary entries (ids 2, 3, 4; not SentencePiece pieces:
MarianTokenizer keeps a leading >>xx<< as one token).  The model is exactly
what the HF converter makes of its Marian copy (tests/data/formats/tiny-multi/marian):
zero <pad> embedding row and final_logits_bias entry, max_position_embeddings
= d_model, no stored positions; only max_length (20 here, 512 from the
converter) differs.  golden.json (make_fixtures format) is computed for the
sources WITH the language code prepended.

    nice -n 10 /usr/bin/python3 tests/reference/make_multi.py
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures  # noqa: E402
import make_model  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402

LANGS = [">>deu<<", ">>fra<<", ">>spa<<"]
OUT = os.path.join(HERE, "..", "data", "tiny-multi")
ARGS = ["--d-model", "32", "--encoder-layers", "2", "--decoder-layers", "2", "--heads", "4",
        "--ffn", "64", "--activation", "swish", "--vocab-size", "600", "--joint-vocab",
        "--tie-embeddings", "--scale-embedding", "--dtype", "f32", "--omit-positions",
        "--max-position-embeddings", "128", "--max-length", "20", "--num-beams", "4",
        "--seed", "11"] + make_fixtures.KNOBS + ["--eos-ramp", "0.6", "--eos-bias", "-0.5"]
VARIANTS = [(4, 1.0, False, None), (4, 0.6, False, None), (2, 1.0, False, None), (4, 1.0, True, None)]


def main():
    torch.set_num_threads(1)
    orig = make_model.build_vocab

    def build_vocab(spm_path, shuffle_seed=None):
        v = orig(spm_path, shuffle_seed)
        items = [k for k, _ in sorted(v.items(), key=lambda kv: kv[1]) if k not in ("</s>", "<unk>")]
        out = {"</s>": 0, "<unk>": 1}
        for k in LANGS + items:
            out[k] = len(out)
        return out
    make_model.build_vocab = build_vocab
    orig_weights = make_model.make_weights

    def make_weights(*a, **k):      # zero <pad> row/bias before the EOS calibration
        w = orig_weights(*a, **k)
        pad = w["model.shared.weight"].shape[0] - 1
        w["model.shared.weight"][pad] = 0
        w["final_logits_bias"][0, pad] = 0
        return w
    make_model.make_weights = make_weights
    if os.path.isdir(OUT):
        for fn in os.listdir(OUT):
            os.remove(os.path.join(OUT, fn))
    make_model.make_model(make_model.build_parser().parse_args(["--out", OUT] + ARGS))
    make_model.build_vocab = orig
    # the converter's model: zero <pad> row and bias
    path = os.path.join(OUT, "model.safetensors")
    w = load_file(path)
    pad = w["model.shared.weight"].shape[0] - 1
    w["model.shared.weight"][pad] = 0
    w["final_logits_bias"][0, pad] = 0
    save_file(w, path, {"format": "pt"})
    # the converter's max_position_embeddings = d_model (positions are not
    # stored, so only the config changes; calibration above needed longer inputs)
    cfg_path = os.path.join(OUT, "config.json")
    cfg = make_model.json.load(open(cfg_path, encoding="utf-8"))
    cfg["max_position_embeddings"] = cfg["d_model"]
    make_model.write_json(cfg_path, cfg)
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(OUT, "source.spm"))
    # sources that fit the 32 positions (language token and </s> included)
    fit = [(s, t) for s, t in zip(make_fixtures.SOURCES, make_fixtures.TARGETS) if len(sp.encode(s)) + 2 <= 32]
    srcs = [LANGS[i % 3] + " " + s for i, (s, _) in enumerate(fit)]
    make_fixtures.TARGETS = [t for _, t in fit]
    make_fixtures.SOURCES = srcs
    report = []
    golden = make_fixtures.build_golden(OUT, VARIANTS, report)
    make_fixtures.write_json(os.path.join(OUT, "golden.json"), golden)
    bad = False
    for name, st, unstable in report:
        print(name, "greedy lengths", st["greedy_len"])
        for u in unstable:
            bad = True
            print("  UNSTABLE:", u)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
