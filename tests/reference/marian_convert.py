"""Native Marian (OPUS-MT) directory <-> Hugging Face Marian layout.

`marian_to_hf(marian_dir)` restates what transformers'
`models/marian/convert_marian_to_pytorch.py` (OpusState, load_marian_model)
does, written from a reading of it (see README.md, "Marian native layout"):
it returns the HF state dict (float32 torch tensors, the names HF's
`save_pretrained` writes: tied embeddings stored once as
`model.shared.weight`), config.json / generation_config.json dicts and the
vocab.json (and target_vocab.json) mappings.

`hf_to_marian(...)` is the inverse used by write_formats.py to build the
fixtures.  Nothing here imports transformers.
"""

import glob
import io
import os
import zipfile

import numpy as np
import torch
import yaml

CONFIG_KEY = "special:model.yml"
BIAS_KEY = "decoder_ff_logit_out_b"

# Marian per-layer suffix -> HF per-layer name (encoder and decoder layers)
LAYER_MAP = {
    "self_Wq": "self_attn.q_proj.weight",
    "self_Wk": "self_attn.k_proj.weight",
    "self_Wv": "self_attn.v_proj.weight",
    "self_Wo": "self_attn.out_proj.weight",
    "self_bq": "self_attn.q_proj.bias",
    "self_bk": "self_attn.k_proj.bias",
    "self_bv": "self_attn.v_proj.bias",
    "self_bo": "self_attn.out_proj.bias",
    "self_Wo_ln_scale": "self_attn_layer_norm.weight",
    "self_Wo_ln_bias": "self_attn_layer_norm.bias",
    "ffn_W1": "fc1.weight",
    "ffn_b1": "fc1.bias",
    "ffn_W2": "fc2.weight",
    "ffn_b2": "fc2.bias",
    "ffn_ffn_ln_scale": "final_layer_norm.weight",
    "ffn_ffn_ln_bias": "final_layer_norm.bias",
    "context_Wq": "encoder_attn.q_proj.weight",
    "context_Wk": "encoder_attn.k_proj.weight",
    "context_Wv": "encoder_attn.v_proj.weight",
    "context_Wo": "encoder_attn.out_proj.weight",
    "context_bq": "encoder_attn.q_proj.bias",
    "context_bk": "encoder_attn.k_proj.bias",
    "context_bv": "encoder_attn.v_proj.bias",
    "context_bo": "encoder_attn.out_proj.bias",
    "context_Wo_ln_scale": "encoder_attn_layer_norm.weight",
    "context_Wo_ln_bias": "encoder_attn_layer_norm.bias",
}
ENCODER_SUFFIXES = [k for k in LAYER_MAP if not k.startswith("context_")]   # 16
DECODER_SUFFIXES = list(LAYER_MAP)                                          # 26

# check_marian_cfg_assumptions
ASSUMED = {
    "layer-normalization": False,
    "right-left": False,
    "transformer-ffn-depth": 2,
    "transformer-aan-depth": 2,
    "transformer-no-projection": False,
    "transformer-postprocess-emb": "d",
    "transformer-postprocess": "dan",
    "transformer-preprocess": "",
    "type": "transformer",
    "ulr-dim-emb": 0,
    "dec-cell-base-depth": 2,
    "dec-cell-high-depth": 1,
    "transformer-aan-nogate": False,
}


class ConversionError(ValueError):
    pass


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------

def _cast(v):
    """The converter's _cast_yaml_str: top-level scalars only."""
    if not isinstance(v, str):
        return v
    if v in ("true", "false"):
        return v == "true"
    try:
        return int(v)
    except ValueError:
        return v


def parse_model_yml(arr):
    """special:model.yml bytes (int8/uint8 array) -> cast dict.  Unlike the
    converter (which drops exactly one trailing byte), cut at the first NUL so
    that Marian's 256-byte NUL padding is accepted too."""
    raw = np.asarray(arr).astype(np.uint8).tobytes()
    text = raw.split(b"\0", 1)[0].decode("utf-8")
    return {k: _cast(v) for k, v in yaml.load(text, Loader=yaml.BaseLoader).items()}


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.BaseLoader)


def read_vocab_yml(path):
    """vocab.yml -> vocab.json mapping: BaseLoader keys, int ids, <pad> added
    at max(id)+1 unless present (add_to_vocab_)."""
    vocab = {k: int(v) for k, v in load_yaml(path).items()}
    if "<pad>" not in vocab:
        vocab["<pad>"] = max(vocab.values()) + 1
    return vocab


def find_model_file(d):
    files = sorted(glob.glob(os.path.join(d, "*.npz")))
    if len(files) != 1:
        raise ConversionError(f"expected exactly one *.npz in {d}, found {files}")
    return files[0]


def _zero_row(w):
    return np.concatenate([w, np.zeros((1, w.shape[1]), dtype=w.dtype)], axis=0)


def marian_to_hf(marian_dir):
    """Returns (state_dict, config, generation_config, vocab, target_vocab or None)."""
    npz = np.load(find_model_file(marian_dir))
    sd = {k: npz[k] for k in npz.files}
    cfg = parse_model_yml(sd[CONFIG_KEY])
    if cfg["dim-vocabs"][0] != cfg["dim-vocabs"][1]:
        raise ConversionError(f"dim-vocabs differ: {cfg['dim-vocabs']}")
    if "Wpos" in sd:
        raise ConversionError("Wpos key in state dictionary")
    if cfg["tied-embeddings-all"]:
        cfg["tied-embeddings-src"] = True
        cfg["tied-embeddings"] = True
    share = cfg["tied-embeddings-src"]

    if share:
        vocab = read_vocab_yml(sorted(glob.glob(os.path.join(marian_dir, "*vocab.yml")))[0])
        target_vocab = None
    else:
        vocab = read_vocab_yml(sorted(glob.glob(os.path.join(marian_dir, "*src.vocab.yml")))[0])
        target_vocab = read_vocab_yml(sorted(glob.glob(os.path.join(marian_dir, "*trg.vocab.yml")))[0])
    eos = vocab.get("</s>", 0)

    out = {}
    bias = np.concatenate([sd[BIAS_KEY], np.zeros((1, 1), dtype=sd[BIAS_KEY].dtype)], axis=1)
    if share:
        wemb = _zero_row(sd["Wemb"])
        dec_wemb = wemb
    else:
        wemb = _zero_row(sd["encoder_Wemb"])
        dec_wemb = _zero_row(sd["decoder_Wemb"])
    pad = wemb.shape[0] - 1
    vocab_size = pad + 1
    if len(vocab) != vocab_size:
        raise ConversionError(f"vocab size {vocab_size} != tokenizer vocab size {len(vocab)}")
    if "Wtype" in sd:
        raise ConversionError("Wtype key in state dictionary")
    d_model, _ffn = sd["encoder_l1_ffn_W1"].shape
    if d_model != cfg["dim-emb"]:
        raise ConversionError(f"hidden size {d_model} != dim-emb {cfg['dim-emb']}")
    dec_yml = {k: _cast(v) for k, v in load_yaml(os.path.join(marian_dir, "decoder.yml")).items()}
    for k, v in ASSUMED.items():
        if cfg[k] != v:
            raise ConversionError(f"Unexpected config value for {k} expected {v} got {cfg[k]}")
    if cfg["transformer-train-position-embeddings"]:
        raise ConversionError("config.static_position_embeddings should be True")

    used = {CONFIG_KEY, BIAS_KEY, "Wemb", "encoder_Wemb", "decoder_Wemb"}
    for side, depth, suffixes in (("encoder", cfg["enc-depth"], ENCODER_SUFFIXES),
                                  ("decoder", cfg["dec-depth"], DECODER_SUFFIXES)):
        for i in range(depth):
            for suf in suffixes:
                key = f"{side}_l{i + 1}_{suf}"
                if key not in sd:   # the converter leaves it at random init (strict=False)
                    raise ConversionError(f"missing {key}")
                out[f"model.{side}.layers.{i}.{LAYER_MAP[suf]}"] = torch.tensor(sd[key].T).squeeze()
                used.add(key)
    extra = [k for k in sd if k not in used]
    if extra:
        raise ConversionError(f"Failed to convert {extra}")

    f = lambda a: torch.tensor(a, dtype=torch.float32)
    if share:
        out["model.shared.weight"] = f(wemb)
    else:
        out["model.encoder.embed_tokens.weight"] = f(wemb)
        out["model.decoder.embed_tokens.weight"] = f(dec_wemb)
    if not cfg["tied-embeddings"]:
        # the converter would leave lm_head at random init; the npz key
        # decoder_ff_logit_out_W has already been refused above.
        raise ConversionError("untied output layer")
    out["final_logits_bias"] = f(bias)
    out = {k: v.to(torch.float32) for k, v in out.items()}

    config = {
        "activation_function": cfg["transformer-ffn-activation"],
        "bad_words_ids": [[pad]],
        "bos_token_id": 0,
        "d_model": cfg["dim-emb"],
        "decoder_attention_heads": cfg["transformer-heads"],
        "decoder_ffn_dim": cfg["transformer-dim-ffn"],
        "decoder_layers": cfg["dec-depth"],
        "decoder_start_token_id": pad,
        "decoder_vocab_size": vocab_size,
        "dropout": 0.1,
        "encoder_attention_heads": cfg["transformer-heads"],
        "encoder_ffn_dim": cfg["transformer-dim-ffn"],
        "encoder_layers": cfg["enc-depth"],
        "eos_token_id": eos,
        "forced_eos_token_id": eos,
        "max_length": 512,
        "max_position_embeddings": cfg["dim-emb"],
        "model_type": "marian",
        "normalize_embedding": "n" in cfg["transformer-preprocess"],
        "num_beams": dec_yml["beam-size"],
        "pad_token_id": pad,
        "scale_embedding": True,
        "share_encoder_decoder_embeddings": share,
        "static_position_embeddings": not cfg["transformer-train-position-embeddings"],
        "tie_word_embeddings": cfg["tied-embeddings"],
        "vocab_size": vocab_size,
    }
    gen = {k: config[k] for k in ("bad_words_ids", "bos_token_id", "decoder_start_token_id", "eos_token_id",
                                  "forced_eos_token_id", "max_length", "num_beams", "pad_token_id")}
    return out, config, gen, vocab, target_vocab


# --------------------------------------------------------------------------
# writing (inverse)
# --------------------------------------------------------------------------

def npy_bytes(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), version=(1, 0), allow_pickle=False)
    return buf.getvalue()


def write_npz(path, arrays):
    """Deterministic uncompressed npz (np.savez stamps the current time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            z.writestr(info, npy_bytes(arr))


def model_yml_bytes(text, padded):
    """special:model.yml as Marian stores it: int8 bytes + one NUL (older
    Marian) or NUL-padded to a multiple of 256 (io::addMetaToItems now)."""
    raw = text.encode("utf-8")
    n = len(raw) + 1
    if padded:
        n = (n + 255) // 256 * 256
    buf = raw + b"\0" * (n - len(raw))
    return np.frombuffer(buf, dtype=np.int8).copy()


def _yaml_cpp_scalar(s):
    """A scalar as yaml-cpp's emitter writes it: plain when it can, else
    double-quoted with escapes (approximation of IsValidPlainScalar)."""
    plain = (s != "" and s not in ("~", "null", "Null", "NULL")
             and s[0] not in ",[]{}#&*!|>'\"%@`" and s[0] not in " \t"
             and not (s[0] in "-?:" and (len(s) == 1 or s[1] in " \t"))
             and not s.endswith(" ") and not s.endswith(":")
             and ": " not in s and " #" not in s and "\t" not in s
             and all(c >= " " and c != "\x7f" for c in s))
    if plain:
        return s
    out = []
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c < " " or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def vocab_yml_text(vocab, style):
    """vocab (piece -> id, without <pad>) as a Marian vocab.yml.
    style "yaml-cpp": what marian-vocab writes; "pyyaml": yaml.safe_dump
    (non-ASCII as \\u escapes, ambiguous keys single-quoted)."""
    items = sorted(vocab.items(), key=lambda kv: kv[1])
    if style == "yaml-cpp":
        return "".join(f"{_yaml_cpp_scalar(k)}: {v}\n" for k, v in items)
    text = yaml.safe_dump(dict(items), allow_unicode=False, sort_keys=False, width=1 << 20)
    assert {k: int(v) for k, v in yaml.load(text, Loader=yaml.BaseLoader).items()} == dict(items)
    return text


def model_yml_text(cfg_items):
    """yaml-cpp block style with sorted keys (cli::OutputYaml)."""
    lines = []
    for k in sorted(cfg_items):
        v = cfg_items[k]
        if isinstance(v, list):
            if v:
                lines.append(f"{k}:")
                lines.extend(f"  - {_fmt(x)}" for x in v)
            else:
                lines.append(f"{k}:\n  []")
        else:
            lines.append(f"{k}: {_fmt(v)}")
    return "\n".join(lines) + "\n"


def _fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '""' if v == "" else _yaml_cpp_scalar(v)
    return str(v)


def marian_cfg(hf_cfg, v_marian, newer):
    """model.yml options of a transformer Marian would have trained for this HF config."""
    d = hf_cfg["d_model"]
    tied_src = bool(hf_cfg.get("share_encoder_decoder_embeddings", True))
    cfg = {
        "dec-cell": "gru", "dec-cell-base-depth": 2, "dec-cell-high-depth": 1,
        "dec-depth": hf_cfg["decoder_layers"], "dim-emb": d, "dim-rnn": 1024,
        "dim-vocabs": [v_marian, v_marian],
        "enc-cell": "gru", "enc-cell-depth": 1, "enc-depth": hf_cfg["encoder_layers"],
        "enc-type": "bidirectional", "layer-normalization": False, "right-left": False,
        "skip": False, "special-vocab": [],
        "tied-embeddings": True, "tied-embeddings-all": tied_src, "tied-embeddings-src": False,
        "transformer-aan-activation": "swish", "transformer-aan-depth": 2, "transformer-aan-nogate": False,
        "transformer-decoder-autoreg": "self-attention", "transformer-dim-aan": 2048,
        "transformer-dim-ffn": hf_cfg["encoder_ffn_dim"], "transformer-ffn-activation": hf_cfg["activation_function"],
        "transformer-ffn-depth": 2, "transformer-guided-alignment-layer": "last",
        "transformer-heads": hf_cfg["encoder_attention_heads"], "transformer-no-projection": False,
        "transformer-postprocess": "dan", "transformer-postprocess-emb": "d", "transformer-preprocess": "",
        "transformer-tied-layers": [], "transformer-train-position-embeddings": False,
        "type": "transformer", "ulr": False, "ulr-dim-emb": 0, "ulr-trainable-transformation": False,
        "version": "v1.9.56 a9e2d5d 2020-06-12 07:43:37 +0100",
    }
    if newer:
        cfg.update({
            "bert-train-type-embeddings": True, "bert-type-vocab-size": 2,
            "factors-combine": "sum", "factors-dim-emb": 0, "input-types": [], "lemma-dependency": "",
            "lemma-dim-emb": 0, "output-omit-bias": False, "separator-symbol": "",
            "transformer-alibi-shift": False, "transformer-alibi-trainable": False,
            "transformer-attention-mask": "", "transformer-decoder-dim-ffn": 0,
            "transformer-decoder-ffn-depth": 0, "transformer-disable-position-embeddings": False,
            "transformer-no-affine": False, "transformer-no-bias": False, "transformer-pool": False,
            "transformer-postprocess-top": "", "transformer-rnn-projection": False,
            "transformer-guided-alignment-layer": str(hf_cfg["decoder_layers"]),
            "version": "v1.12.0 65bf82ff 2023-02-21 09:56:29 -0800",
        })
    return cfg


def marian_incompatibility(hf_cfg, sd):
    """Why this HF model has no Marian form the converter maps back to it (None if it has one)."""
    if not hf_cfg.get("tie_word_embeddings", True):
        return "untied lm_head (Marian's decoder_ff_logit_out_W is refused by the converter)"
    if not hf_cfg.get("scale_embedding", False):
        return "scale_embedding false (the converter always sets scale_embedding true)"
    if hf_cfg["activation_function"] not in ("swish", "relu"):
        return f"activation {hf_cfg['activation_function']} (Marian's gelu is x*sigmoid(1.702x), HF's is erf)"
    if hf_cfg.get("vocab_size") != hf_cfg.get("decoder_vocab_size", hf_cfg.get("vocab_size")):
        return "different source and target vocab sizes (dim-vocabs must be equal)"
    if hf_cfg["encoder_ffn_dim"] != hf_cfg["decoder_ffn_dim"] or \
            hf_cfg["encoder_attention_heads"] != hf_cfg["decoder_attention_heads"]:
        return "encoder and decoder differ in ffn dim / heads"
    return None


def hf_to_marian(sd, hf_cfg, vocab, target_vocab, out_dir, *, newer, vocab_style, beam_size,
                 normalize=0.6):
    """Write model.npz, decoder.yml and vocab yml(s) for an HF model.
    The HF pad id must be the last id with a zero embedding row and zero
    final_logits_bias entry (else the round trip changes the model)."""
    why = marian_incompatibility(hf_cfg, sd)
    if why:
        raise ConversionError(why)
    os.makedirs(out_dir, exist_ok=True)
    f32 = lambda t: t.detach().to(torch.float32).numpy()
    pad = hf_cfg["pad_token_id"]
    V = hf_cfg["vocab_size"] - 1
    assert pad == V, "pad must be the last id"
    tied_src = bool(hf_cfg.get("share_encoder_decoder_embeddings", True))
    arrays = {}
    if tied_src:
        w = sd.get("model.shared.weight", sd.get("model.encoder.embed_tokens.weight"))
        arrays["Wemb"] = f32(w)[:V]
    else:
        arrays["encoder_Wemb"] = f32(sd["model.encoder.embed_tokens.weight"])[:V]
        arrays["decoder_Wemb"] = f32(sd["model.decoder.embed_tokens.weight"])[:V]
    for side, n, suffixes in (("encoder", hf_cfg["encoder_layers"], ENCODER_SUFFIXES),
                              ("decoder", hf_cfg["decoder_layers"], DECODER_SUFFIXES)):
        for i in range(n):
            for suf in suffixes:
                t = f32(sd[f"model.{side}.layers.{i}.{LAYER_MAP[suf]}"])
                arrays[f"{side}_l{i + 1}_{suf}"] = t.T.copy() if t.ndim == 2 else t[None, :]
    arrays[BIAS_KEY] = f32(sd["final_logits_bias"])[:, :V]
    cfg = marian_cfg(hf_cfg, V, newer)
    if not tied_src:
        cfg["tied-embeddings-all"] = False
    arrays[CONFIG_KEY] = model_yml_bytes(model_yml_text(cfg), padded=newer)
    # Marian writes the items sorted by name
    write_npz(os.path.join(out_dir, "model.npz"), dict(sorted(arrays.items())))

    def strip(v):
        return {k: i for k, i in v.items() if k != "<pad>"}
    if tied_src:
        vocab_files = ["vocab.yml", "vocab.yml"]
        with open(os.path.join(out_dir, "vocab.yml"), "w", encoding="utf-8") as fh:
            fh.write(vocab_yml_text(strip(vocab), vocab_style))
    else:
        vocab_files = ["src.vocab.yml", "trg.vocab.yml"]
        for fn, v in zip(vocab_files, (vocab, target_vocab)):
            with open(os.path.join(out_dir, fn), "w", encoding="utf-8") as fh:
                fh.write(vocab_yml_text(strip(v), vocab_style))
    dec = (f"relative-paths: true\nmodels:\n  - model.npz\nvocabs:\n  - {vocab_files[0]}\n  - {vocab_files[1]}\n"
           f"beam-size: {beam_size}\nnormalize: {normalize}\nword-penalty: 0\nmini-batch: 16\n"
           f"maxi-batch: 100\nmaxi-batch-sort: src\n")
    with open(os.path.join(out_dir, "decoder.yml"), "w", encoding="utf-8") as fh:
        fh.write(dec)
    return arrays
