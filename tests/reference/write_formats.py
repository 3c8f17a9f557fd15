#!/usr/bin/python3
"""Write the weights of an HF Marian model directory (model.safetensors) in
every layout heed reads, each a complete model directory:

  safetensors-f16/  model.safetensors with F16 tensors (its own, rounded model)
  pytorch-zip/      pytorch_model.bin, torch.save zip format; tied weights are
                    one tensor under all four names (old transformers style)
  pytorch-legacy/   the same state dict, legacy (pre-1.6) pickle format
  pytorch-views/    zip format with genuine views (fused q/k/v storage with
                    offsets, a transposed non-contiguous weight, a LayerNorm
                    weight+bias pair in one storage, one f16 and one bf16
                    tensor) + expected.safetensors: what a loader must get
                    (reloaded, contiguous float32, tied duplicates removed)
  marian/           native Marian: model.npz + decoder.yml + vocab yml(s)
                    (see README.md, "Marian native layout"), plus
                    marian.expected/: config.json, generation_config.json,
                    vocab.json the HF converter would write for it

    /usr/bin/python3 tests/reference/write_formats.py MODEL_DIR OUT_DIR [--layouts a,b] [--marian-newer] [--vocab-style pyyaml]

`--all` regenerates tests/data/formats/ (see README.md).  Output is
byte-for-byte reproducible.
"""

import argparse
import collections
import json
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import marian_convert  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402

DATA = os.path.join(HERE, "..", "data")
FORMATS = os.path.join(DATA, "formats")
ALL_LAYOUTS = ["safetensors-f16", "pytorch-zip", "pytorch-legacy", "pytorch-views", "marian"]
TOKENIZER_FILES = ["source.spm", "target.spm", "vocab.json", "target_vocab.json", "tokenizer_config.json",
                   "special_tokens_map.json"]

# model -> (layouts, marian options)
PLAN = {
    "tiny-joint": (["safetensors-f16", "pytorch-zip", "pytorch-legacy", "pytorch-views", "marian"],
                   dict(newer=False, vocab_style="yaml-cpp")),
    "tiny-separate": (["pytorch-zip"], None),
    "tiny-gelu": (["pytorch-legacy"], None),
    "tiny-multi": (["marian"], dict(newer=True, vocab_style="pyyaml")),
}


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def copy_files(src, dst, names):
    os.makedirs(dst, exist_ok=True)
    for n in names:
        if os.path.exists(os.path.join(src, n)):
            shutil.copyfile(os.path.join(src, n), os.path.join(dst, n))


def fresh(d):
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)


def hf_state_dict(src_dir):
    """The state dict old transformers' MarianMTModel.state_dict() would hold:
    final_logits_bias (own buffer) first, then model.*, then lm_head; tied
    weights are ONE tensor object under every name."""
    st = load_file(os.path.join(src_dir, "model.safetensors"))
    cfg = read_json(os.path.join(src_dir, "config.json"))
    share = cfg.get("share_encoder_decoder_embeddings", True)
    tied = cfg.get("tie_word_embeddings", True)
    sd = collections.OrderedDict()
    sd["final_logits_bias"] = st["final_logits_bias"].clone()
    if share:
        shared = st["model.shared.weight"].clone()
        sd["model.shared.weight"] = shared
        enc_emb = dec_emb = shared
    else:
        enc_emb = st["model.encoder.embed_tokens.weight"].clone()
        dec_emb = st["model.decoder.embed_tokens.weight"].clone()
    for side, emb in (("encoder", enc_emb), ("decoder", dec_emb)):
        sd[f"model.{side}.embed_tokens.weight"] = emb
        pos = f"model.{side}.embed_positions.weight"
        if pos in st:
            sd[pos] = st[pos].clone()
        i = 0
        while f"model.{side}.layers.{i}.fc1.weight" in st:
            prefix = f"model.{side}.layers.{i}."
            for k in sorted(k for k in st if k.startswith(prefix)):
                sd[k] = st[k].clone()
            i += 1
    sd["lm_head.weight"] = dec_emb if tied else st["lm_head.weight"].clone()
    assert set(sd) >= set(st), set(st) - set(sd)
    return sd, cfg


def views_state_dict(sd):
    """Replace some tensors of sd by views with the same values (and change
    two dtypes).  Returns the new OrderedDict."""
    out = collections.OrderedDict(sd)
    p = "model.encoder.layers.0.self_attn."
    q, k, v = (sd[p + f"{n}_proj.weight"] for n in "qkv")
    fused = torch.cat([q, k, v], 0)                       # [3d, d], one storage
    d = q.shape[0]
    for j, n in enumerate("qkv"):
        out[p + f"{n}_proj.weight"] = fused[j * d:(j + 1) * d]   # storage_offset j*d*d
    # biases of the same layer: one storage, offsets
    fb = torch.cat([sd[p + f"{n}_proj.bias"] for n in "qkv"], 0)
    for j, n in enumerate("qkv"):
        out[p + f"{n}_proj.bias"] = fb[j * d:(j + 1) * d]
    # transposed non-contiguous: fc1.weight [ffn, d] stored as a [d, ffn] storage
    w = sd["model.encoder.layers.0.fc1.weight"]
    out["model.encoder.layers.0.fc1.weight"] = w.t().contiguous().t()   # stride (1, ffn)
    # LayerNorm weight/bias: rows of one [2, d] storage
    ln = "model.decoder.layers.0.final_layer_norm."
    pair = torch.stack([sd[ln + "weight"], sd[ln + "bias"]])
    out[ln + "weight"], out[ln + "bias"] = pair[0], pair[1]
    # a strided view: every other column of a wider storage
    w2 = sd["model.decoder.layers.0.self_attn.out_proj.weight"]
    wide = torch.zeros(w2.shape[0], 2 * w2.shape[1], dtype=w2.dtype)
    wide[:, ::2] = w2
    out["model.decoder.layers.0.self_attn.out_proj.weight"] = wide[:, ::2]
    # dtype changes (values rounded: expected.safetensors holds the result)
    out["model.decoder.layers.0.fc2.weight"] = sd["model.decoder.layers.0.fc2.weight"].to(torch.float16)
    out["model.decoder.layers.0.fc1.weight"] = sd["model.decoder.layers.0.fc1.weight"].to(torch.bfloat16)
    return out


_ELEMENT_SIZE = {"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8,
                 "LongStorage": 8, "IntStorage": 4}


def deterministic_legacy(path):
    """torch's legacy format names storages str(storage._cdata) (a memory
    address) and writes them in sorted-name order, so two runs differ.
    Rename the storages 0, 1, ... in order of first use in the object pickle
    and write their data in that order (pickle protocol 2 has no offsets)."""
    import io
    import pickle
    import struct

    data = open(path, "rb").read()
    f = io.BytesIO(data)
    for _ in range(3):          # magic number, protocol version, sys_info
        pickle.load(f)
    head = data[:f.tell()]
    pids = []

    class Marker(dict):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def __call__(self, *a, **k):
            return Marker(self.name)

    class U(pickle.Unpickler):
        def find_class(self, module, name):
            return Marker(name)

        def persistent_load(self, pid):
            pids.append(pid)
            return Marker("storage")

    start = f.tell()
    U(f).load()
    main = data[start:f.tell()]
    keys = pickle.load(f)
    order = []
    es = {}
    for pid in pids:
        if pid[2] not in es:
            es[pid[2]] = _ELEMENT_SIZE[pid[1].name]
            order.append(pid[2])
    blocks = {}
    for k in keys:
        n = struct.unpack("<q", f.read(8))[0]
        blocks[k] = struct.pack("<q", n) + f.read(n * es[k])
    assert f.read() == b"" and sorted(order) == sorted(keys)
    new = {k: str(i) for i, k in enumerate(order)}

    def ustr(s):
        b = s.encode()
        return b"X" + struct.pack("<I", len(b)) + b
    for k in order:
        assert main.count(ustr(k)) >= 1
        main = main.replace(ustr(k), ustr(new[k]))
    out = head + main + pickle.dumps([new[k] for k in order], protocol=2) + b"".join(blocks[k] for k in order)
    with open(path, "wb") as fh:
        fh.write(out)


def dedup_contiguous_f32(sd, cfg):
    """What save_pretrained would keep: tied duplicates dropped, contiguous float32."""
    drop = set()
    if cfg.get("share_encoder_decoder_embeddings", True):
        drop |= {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"}
    if cfg.get("tie_word_embeddings", True):
        drop.add("lm_head.weight")
    return {k: v.to(torch.float32).contiguous().clone() for k, v in sd.items() if k not in drop}


def write_layout(src, out, layout, marian_opts=None):
    fresh(out)
    cfg = read_json(os.path.join(src, "config.json"))
    copy_files(src, out, TOKENIZER_FILES)
    if layout != "marian":
        copy_files(src, out, ["config.json", "generation_config.json"])
    if layout == "safetensors-f16":
        st = load_file(os.path.join(src, "model.safetensors"))
        save_file({k: v.to(torch.float16) for k, v in st.items()}, os.path.join(out, "model.safetensors"),
                  {"format": "pt"})
        cfg["torch_dtype"] = "float16"
        write_json(os.path.join(out, "config.json"), cfg)
    elif layout in ("pytorch-zip", "pytorch-legacy", "pytorch-views"):
        sd, _ = hf_state_dict(src)
        if layout == "pytorch-views":
            sd = views_state_dict(sd)
        torch.save(sd, os.path.join(out, "pytorch_model.bin"),
                   _use_new_zipfile_serialization=(layout != "pytorch-legacy"))
        if layout == "pytorch-legacy":
            deterministic_legacy(os.path.join(out, "pytorch_model.bin"))
        if layout == "pytorch-views":
            back = torch.load(os.path.join(out, "pytorch_model.bin"), map_location="cpu")
            save_file(dedup_contiguous_f32(back, cfg), os.path.join(out, "expected.safetensors"),
                      {"format": "pt"})
    elif layout == "marian":
        opts = marian_opts or {}
        st = load_file(os.path.join(src, "model.safetensors"))
        vocab = read_json(os.path.join(src, "vocab.json"))
        tv_path = os.path.join(src, "target_vocab.json")
        tvocab = read_json(tv_path) if os.path.exists(tv_path) else None
        gen = read_json(os.path.join(src, "generation_config.json"))
        for fn in ("vocab.json", "target_vocab.json", "tokenizer_config.json", "special_tokens_map.json"):
            if os.path.exists(os.path.join(out, fn)):
                os.remove(os.path.join(out, fn))      # an OPUS-MT zip has none of these
        marian_convert.hf_to_marian(st, cfg, vocab, tvocab, out, newer=opts.get("newer", False),
                                    vocab_style=opts.get("vocab_style", "yaml-cpp"),
                                    beam_size=gen.get("num_beams", cfg.get("num_beams", 4)))
        exp = out.rstrip("/") + ".expected"
        fresh(exp)
        _sd, hcfg, hgen, hvocab, htv = marian_convert.marian_to_hf(out)
        write_json(os.path.join(exp, "config.json"), hcfg)
        write_json(os.path.join(exp, "generation_config.json"), hgen)
        write_json(os.path.join(exp, "vocab.json"), hvocab)
        if htv is not None:
            write_json(os.path.join(exp, "target_vocab.json"), htv)
    else:
        raise ValueError(layout)


def write_all(root=FORMATS, data=DATA):
    for model, (layouts, mopts) in PLAN.items():
        src = os.path.join(data, model)
        for layout in layouts:
            write_layout(src, os.path.join(root, model, layout), layout, mopts)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir", nargs="?")
    p.add_argument("out_dir", nargs="?")
    p.add_argument("--all", action="store_true", help="regenerate tests/data/formats/ from tests/data/*")
    p.add_argument("--layouts", default=",".join(ALL_LAYOUTS))
    p.add_argument("--marian-newer", action="store_true", help="256-byte NUL-padded model.yml, newer keys")
    p.add_argument("--vocab-style", choices=["yaml-cpp", "pyyaml"], default="yaml-cpp")
    a = p.parse_args(argv)
    torch.manual_seed(0)
    if a.all:
        write_all()
        return 0
    if not a.model_dir or not a.out_dir:
        p.error("MODEL_DIR OUT_DIR or --all")
    cfg = read_json(os.path.join(a.model_dir, "config.json"))
    for layout in a.layouts.split(","):
        if layout == "marian":
            why = marian_convert.marian_incompatibility(cfg, None)
            if why:
                print(f"skipping marian: {why}", file=sys.stderr)
                continue
        write_layout(a.model_dir, os.path.join(a.out_dir, layout), layout,
                     dict(newer=a.marian_newer, vocab_style=a.vocab_style))
    return 0


if __name__ == "__main__":
    sys.exit(main())
