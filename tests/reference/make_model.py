#!/usr/bin/python3
"""Create a random MarianMT model directory in the exact Hugging Face layout.

The directory contains: config.json, generation_config.json, model.safetensors,
source.spm, target.spm, vocab.json (+ target_vocab.json for separate vocabs),
tokenizer_config.json, special_tokens_map.json.

SentencePiece models are trained (unigram, deterministic: single thread, whole
input, fixed options) on the Multi30k training text.  Like the SentencePiece
models shipped with OPUS-MT (trained by Marian's built-in spm trainer) they use
</s> = id 0, <unk> = id 1 and have no <s>.

Random weights are shaped so the model behaves like a (bad) translator rather
than like noise: output distributions are peaked (a x5, zero-mean-gain last
decoder LayerNorm, which also stops tied embeddings from making the model copy
its previous token), sub-layers are scaled down so that a deep post-norm stack
does not forget its input, LayerNorm gains/biases and all biases are
non-trivial, and EOS becomes more likely as decoding proceeds: one decoder
hidden coordinate is reserved as a "position lane" and the EOS output weight on
it (plus final_logits_bias[eos]) is fitted on calibration sentences (Multi30k
val.en) so that EOS ties the best other token around step --eos-ramp-center
(see _make_position_lane / calibrate_eos).  Everything is seeded and
deterministic.

Usage: /usr/bin/python3 tests/reference/make_model.py --out DIR [options]
"""

import argparse
import gzip
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "multi30k"))

_SPM_CACHE_DIR = os.path.join(tempfile.gettempdir(), "heed-spm-cache")


# --------------------------------------------------------------------------
# SentencePiece
# --------------------------------------------------------------------------

def _read_lines(path, n):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f]
    if n and n > 0:
        lines = lines[:n]
    return lines


def train_spm(langs, vocab_size, train_lines=0, data_dir=DEFAULT_DATA):
    """Train (or fetch from a local cache) a unigram SentencePiece model on the
    Multi30k train text of `langs`.  Returns the path of the .model file."""
    import sentencepiece as spm

    key = hashlib.sha1(json.dumps([sorted(langs), vocab_size, train_lines,
                                   os.path.abspath(data_dir), 3]).encode()).hexdigest()[:16]
    os.makedirs(_SPM_CACHE_DIR, exist_ok=True)
    prefix = os.path.join(_SPM_CACHE_DIR, f"spm-{'+'.join(langs)}-{vocab_size}-{key}")
    if os.path.exists(prefix + ".model"):
        return prefix + ".model"
    with tempfile.TemporaryDirectory() as td:
        txt = os.path.join(td, "train.txt")
        with open(txt, "w", encoding="utf-8") as out:
            for lang in langs:
                for line in _read_lines(os.path.join(data_dir, f"train.{lang}.gz"), train_lines):
                    out.write(line + "\n")
        tmp_prefix = os.path.join(td, "m")
        # relative paths: the trainer spec stored in the model records them, and
        # the committed .spm files must not depend on the temp directory name
        old_cwd = os.getcwd()
        os.chdir(td)
        try:
            _train(spm, langs, vocab_size)
        finally:
            os.chdir(old_cwd)
        shutil.copyfile(tmp_prefix + ".model", prefix + ".model.tmp")
        os.replace(prefix + ".model.tmp", prefix + ".model")
    return prefix + ".model"


def _train(spm, langs, vocab_size):
    spm.SentencePieceTrainer.train(
        input="train.txt",
        model_prefix="m",
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        num_threads=1,
        input_sentence_size=0,        # use every sentence: no random sampling
        shuffle_input_sentence=False,
        bos_id=-1, eos_id=0, unk_id=1, pad_id=-1,  # Marian/OPUS-MT layout
        normalization_rule_name="nmt_nfkc",
        minloglevel=2,
    )


def build_vocab(spm_path, shuffle_seed=None):
    """OPUS-MT style vocab: {"</s>": 0, "<unk>": 1, <every other piece in spm
    id order>..., "<pad>": last}.  With shuffle_seed the other pieces are put
    in a seeded random order instead, so that vocab ids differ from spm ids
    (as in real OPUS-MT vocabularies, built by Marian from the corpus)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=spm_path)
    pieces = []
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_control(i) or sp.is_unknown(i) or piece in ("<s>", "</s>", "<unk>", "<pad>"):
            continue
        if piece not in pieces:
            pieces.append(piece)
    if shuffle_seed is not None:
        order = torch.randperm(len(pieces), generator=torch.Generator().manual_seed(shuffle_seed)).tolist()
        pieces = [pieces[j] for j in order]
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in pieces:
        vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


def pad_vocab(vocab, size):
    """Grow a vocab.json mapping to `size` entries: filler pieces that no
    SentencePiece segmentation produces are inserted before "<pad>", which
    stays last (id size-1, as 58100 in opus-mt-en-de's 58,101 entries).  For
    speed measurements with real OPUS-MT vocabulary sizes: Multi30k is too
    small to train SentencePiece models beyond about 21k pieces."""
    if size <= len(vocab):
        return vocab
    out = {piece: i for piece, i in vocab.items() if piece != "<pad>"}
    n = 0
    while len(out) < size - 1:
        out[f"<filler_{n}>"] = len(out)
        n += 1
    out["<pad>"] = len(out)
    return out


# --------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------

def sinusoidal_table(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding table: column j < ceil(dim/2) holds
    sin(pos / 10000^(2j/dim)), column ceil(dim/2)+j holds cos(pos / 10000^(2j/dim)).
    Computed in float64 (like numpy in HF) and rounded to float32."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    j = np.arange(dim)
    rates = np.power(10000.0, 2 * (j // 2) / dim)[None, :]
    enc = pos / rates
    out = np.empty((n_pos, dim), dtype=np.float32)
    sentinel = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    out[:, :sentinel] = np.sin(enc[:, 0::2])
    out[:, sentinel:] = np.cos(enc[:, 1::2])
    return torch.from_numpy(out)


class _Rng:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def normal(self, shape, std=1.0, mean=0.0):
        return torch.randn(*shape, generator=self.g, dtype=torch.float32) * std + mean

    def uniform(self, shape, lo, hi):
        return torch.rand(*shape, generator=self.g, dtype=torch.float32) * (hi - lo) + lo


def make_weights(a, v_src, v_tgt, eos_id=0):
    """Random weights, HF MarianMTModel names, float32."""
    r = _Rng(a.seed)
    d, ffn = a.d_model, a.ffn
    t = {}
    lin_std = a.linear_gain / math.sqrt(d)
    att_std = a.attn_gain / math.sqrt(d)

    def linear(prefix, n_out, n_in, std, bias_std):
        t[prefix + ".weight"] = r.normal((n_out, n_in), std)
        t[prefix + ".bias"] = r.normal((n_out,), bias_std)

    def layernorm(prefix):
        t[prefix + ".weight"] = r.normal((d,), a.ln_gain_std, a.ln_gain_mean)
        t[prefix + ".bias"] = r.normal((d,), a.ln_bias_std)

    def attention(prefix):
        linear(prefix + ".q_proj", d, d, att_std, a.bias_std)
        linear(prefix + ".k_proj", d, d, att_std, a.bias_std)
        linear(prefix + ".v_proj", d, d, lin_std, a.bias_std)
        linear(prefix + ".out_proj", d, d, lin_std, a.bias_std)

    emb_std = a.logit_std / math.sqrt(d)
    if a.joint_vocab:
        t["model.shared.weight"] = r.normal((v_src, d), emb_std)
    else:
        t["model.encoder.embed_tokens.weight"] = r.normal((v_src, d), emb_std)
        t["model.decoder.embed_tokens.weight"] = r.normal((v_tgt, d), emb_std)
    pos = sinusoidal_table(a.max_position_embeddings, d)
    if not a.omit_positions:
        t["model.encoder.embed_positions.weight"] = pos.clone()
        t["model.decoder.embed_positions.weight"] = pos.clone()

    for i in range(a.encoder_layers):
        p = f"model.encoder.layers.{i}"
        attention(p + ".self_attn")
        layernorm(p + ".self_attn_layer_norm")
        linear(p + ".fc1", ffn, d, lin_std, a.bias_std)
        linear(p + ".fc2", d, ffn, a.linear_gain / math.sqrt(ffn), a.bias_std)
        layernorm(p + ".final_layer_norm")
    for i in range(a.decoder_layers):
        p = f"model.decoder.layers.{i}"
        attention(p + ".self_attn")
        layernorm(p + ".self_attn_layer_norm")
        attention(p + ".encoder_attn")
        layernorm(p + ".encoder_attn_layer_norm")
        linear(p + ".fc1", ffn, d, lin_std, a.bias_std)
        linear(p + ".fc2", d, ffn, a.linear_gain / math.sqrt(ffn), a.bias_std)
        layernorm(p + ".final_layer_norm")

    last = f"model.decoder.layers.{a.decoder_layers - 1}.final_layer_norm"
    if a.final_ln_random_sign:
        # zero-mean gains: h.E[y] no longer favours y == current token (tied
        # embeddings would otherwise make the model copy its input forever)
        t[last + ".weight"] = r.normal((d,), 1.0)
    t[last + ".weight"] = t[last + ".weight"] * a.final_ln_gain
    t[last + ".bias"] = t[last + ".bias"] * a.final_ln_gain

    flb = r.normal((1, v_tgt), a.logits_bias_std)
    flb[0, eos_id] += a.eos_bias
    t["final_logits_bias"] = flb
    if not a.tie_embeddings:
        t["lm_head.weight"] = r.normal((v_tgt, d), emb_std)
    if a.eos_ramp > 0:
        _make_position_lane(a, t, eos_id)
    return t


def _out_matrix(a, t):
    if not a.tie_embeddings:
        return t["lm_head.weight"]
    if a.joint_vocab:
        return t["model.shared.weight"]
    return t["model.decoder.embed_tokens.weight"]


def lane_index(d, max_length):
    """A sin column of the sinusoidal table that is still increasing (about
    linear) over positions 0..max_length: angle pos/10000^(2j/d) <= ~1 rad."""
    j = int(math.ceil(d / 2 * math.log(max(2, max_length)) / math.log(10000.0)))
    return min(j, d // 2 - 1)


def _make_position_lane(a, t, eos_id):
    """Reserve hidden coordinate k of the decoder as a 'position lane': no token
    embedding writes to it, no sub-layer output (attention out_proj, fc2)
    writes to it, and every decoder LayerNorm passes it through with gain
    `lane_gain` and bias 0.  The decoder hidden state at k then follows the
    (normalised) sinusoidal feature of the position, a quantity that rises
    with the decoding step.  Only the EOS output row reads it (its weight is
    set by calibrate_eos), which makes EOS more likely as decoding proceeds.
    The rest of the EOS output row is scaled by eos_noise."""
    d = a.d_model
    k = lane_index(d, a.max_length)
    emb = [t["model.shared.weight"]] if a.joint_vocab else [t["model.encoder.embed_tokens.weight"],
                                                             t["model.decoder.embed_tokens.weight"]]
    for e in emb:
        e[:, k] = 0.0
    out = _out_matrix(a, t)
    out[:, k] = 0.0
    out[eos_id] *= a.eos_noise
    for i in range(a.decoder_layers):
        p = f"model.decoder.layers.{i}"
        for lin in (".self_attn.out_proj", ".encoder_attn.out_proj", ".fc2"):
            t[p + lin + ".weight"][k, :] = 0.0
            t[p + lin + ".bias"][k] = 0.0
        for ln in (".self_attn_layer_norm", ".encoder_attn_layer_norm", ".final_layer_norm"):
            # first guess; calibrate_eos sets gain = (mean input std of this LN) so the
            # lane keeps a magnitude of ~lane_gain * sinusoid feature through the decoder
            t[p + ln + ".weight"][k] = a.lane_gain if (i == 0 and ln == ".self_attn_layer_norm") else 1.0
            t[p + ln + ".bias"][k] = 0.0


def _decoder_ln_names(a):
    return [f"model.decoder.layers.{i}{ln}" for i in range(a.decoder_layers)
            for ln in (".self_attn_layer_norm", ".encoder_attn_layer_norm", ".final_layer_norm")]


# --------------------------------------------------------------------------
# Config files
# --------------------------------------------------------------------------

def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def make_model(a):
    out = a.out
    os.makedirs(out, exist_ok=True)
    tgt_size = a.target_vocab_size or a.vocab_size
    shuffle = a.seed if a.vocab_order == "shuffled" else None

    if a.joint_vocab:
        sp = train_spm(["en", "de"], a.vocab_size, a.spm_train_lines, a.data_dir)
        shutil.copyfile(sp, os.path.join(out, "source.spm"))
        shutil.copyfile(sp, os.path.join(out, "target.spm"))
        src_vocab = pad_vocab(build_vocab(sp, shuffle), a.vocab_pad_to)
        tgt_vocab = src_vocab
        write_json(os.path.join(out, "vocab.json"), src_vocab)
        for stale in ("target_vocab.json",):
            if os.path.exists(os.path.join(out, stale)):
                os.remove(os.path.join(out, stale))
    else:
        sp_src = train_spm(["en"], a.vocab_size, a.spm_train_lines, a.data_dir)
        sp_tgt = train_spm(["de"], tgt_size, a.spm_train_lines, a.data_dir)
        shutil.copyfile(sp_src, os.path.join(out, "source.spm"))
        shutil.copyfile(sp_tgt, os.path.join(out, "target.spm"))
        src_vocab = build_vocab(sp_src, shuffle)
        tgt_vocab = build_vocab(sp_tgt, None if shuffle is None else shuffle + 1)
        write_json(os.path.join(out, "vocab.json"), src_vocab)
        write_json(os.path.join(out, "target_vocab.json"), tgt_vocab)

    v_src, v_tgt = len(src_vocab), len(tgt_vocab)
    if v_src != v_tgt:
        print(f"warning: source vocab {v_src} != target vocab {v_tgt}: HF generate() beam search "
              "reshapes with config.vocab_size and cannot run such a model", file=sys.stderr)
    pad_id = tgt_vocab["<pad>"]
    eos_id = 0

    dtype_name = {"f32": "float32", "f16": "float16"}[a.dtype]
    config = {
        "_name_or_path": "heed-random-marian",
        "activation_dropout": 0.0,
        "activation_function": a.activation,
        "add_bias_logits": False,
        "add_final_layer_norm": False,
        "architectures": ["MarianMTModel"],
        "attention_dropout": 0.0,
        "bad_words_ids": [[pad_id]],
        "bos_token_id": 0,
        "classif_dropout": 0.0,
        "classifier_dropout": 0.0,
        "d_model": a.d_model,
        "decoder_attention_heads": a.heads,
        "decoder_ffn_dim": a.ffn,
        "decoder_layerdrop": 0.0,
        "decoder_layers": a.decoder_layers,
        "decoder_start_token_id": pad_id,
        "decoder_vocab_size": v_tgt,
        "dropout": 0.1,
        "encoder_attention_heads": a.heads,
        "encoder_ffn_dim": a.ffn,
        "encoder_layerdrop": 0.0,
        "encoder_layers": a.encoder_layers,
        "eos_token_id": eos_id,
        "extra_pos_embeddings": v_src,
        "forced_eos_token_id": eos_id,
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "max_length": a.max_length,
        "max_position_embeddings": a.max_position_embeddings,
        "model_type": "marian",
        "normalize_before": False,
        "normalize_embedding": False,
        "num_beams": a.num_beams,
        "num_hidden_layers": a.encoder_layers,
        "pad_token_id": pad_id,
        "scale_embedding": a.scale_embedding,
        "share_encoder_decoder_embeddings": bool(a.joint_vocab),
        "static_position_embeddings": True,
        "tie_word_embeddings": bool(a.tie_embeddings),
        "torch_dtype": dtype_name,
        "transformers_version": "4.56.0",
        "use_cache": True,
        "vocab_size": v_src,
    }
    write_json(os.path.join(out, "config.json"), config)

    gen = {
        "bad_words_ids": [[pad_id]],
        "bos_token_id": 0,
        "decoder_start_token_id": pad_id,
        "eos_token_id": eos_id,
        "forced_eos_token_id": eos_id,
        "max_length": a.max_length,
        "num_beams": a.num_beams,
        "pad_token_id": pad_id,
    }
    if a.renormalize_logits:
        gen["renormalize_logits"] = True
    gen["transformers_version"] = "4.56.0"
    write_json(os.path.join(out, "generation_config.json"), gen)

    tok_cfg = {
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "model_max_length": 512,
        "pad_token": "<pad>",
        "separate_vocabs": not a.joint_vocab,
        "source_lang": "en",
        "sp_model_kwargs": {},
        "target_lang": "de",
        "tokenizer_class": "MarianTokenizer",
        "unk_token": "<unk>",
    }
    write_json(os.path.join(out, "tokenizer_config.json"), tok_cfg)
    write_json(os.path.join(out, "special_tokens_map.json"),
               {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"})

    weights = make_weights(a, v_src, v_tgt, eos_id)
    path = os.path.join(out, "model.safetensors")
    save_file(weights, path, {"format": "pt"})
    if a.eos_ramp > 0:
        for it in range(a.eos_ramp_iters):
            calibrate_eos(a, out, weights, eos_id, update_gains=it < a.eos_ramp_iters - 1)
            save_file(weights, path, {"format": "pt"})
    if a.dtype == "f16":
        weights = {k: v.to(torch.float16) for k, v in weights.items()}
        save_file(weights, path, {"format": "pt"})
    return out


def calibrate_eos(a, out, weights, eos_id, update_gains=False):
    """Set the EOS output weight on the position lane (see _make_position_lane)
    and final_logits_bias[eos].

    Decode calibration sentences (Multi30k val.en) greedily with EOS banned;
    at every step t record the lane value z_t = h_t[k], the best non-EOS logit
    top_t and the rest of the EOS logit r_t (EOS logit without the lane term
    and without its bias).  Fit w, c (least squares) so that
        w * z_t + c  ~=  top_t - r_t + eos_ramp * (t - eos_ramp_center),
    i.e. EOS ties the best other token around step eos_ramp_center and gains
    eos_ramp logits per step.  final_logits_bias[eos] = c + eos_bias."""
    from marian_ref import MarianRef  # local import: marian_ref imports nothing from here

    k = lane_index(a.d_model, a.max_length)
    m = MarianRef(out, fast=a.d_model >= 256)
    ln_std = {}
    orig_ln = m._ln

    def recording_ln(x, name):
        if name.startswith("model.decoder."):
            ln_std.setdefault(name, []).append(float(x.std(dim=-1, unbiased=False).mean()))
        return orig_ln(x, name)

    m._ln = recording_ln
    ml = a.max_length
    center = a.eos_ramp_center if a.eos_ramp_center > 0 else 0.5 * ml
    lines = _read_lines(os.path.join(a.data_dir, "val.en.gz"), a.eos_calib_lines)
    eos_row = m.lm_head[eos_id]
    eos_bias_now = float(m.final_logits_bias[0, eos_id])
    zs, ys, errs = [], [], []
    with torch.no_grad():
        for s in range(0, len(lines), 32):
            chunk = lines[s:s + 32]
            _, (ids, mask) = m._prepare(chunk)
            st = m.init_decoder_state(m.encode(ids, mask), mask)
            cur = torch.full((len(chunk), 1), m.decoder_start_id, dtype=torch.long)
            for step in range(1, ml):
                h = m.decoder_forward(cur, st, return_hidden=True)[:, -1]
                logits = m._linear(h, m.lm_head) + m.final_logits_bias
                eos_now = logits[:, eos_id].clone()
                rest = h @ eos_row - h[:, k] * eos_row[k]
                logits[:, m.bad_ids] = -math.inf
                logits[:, eos_id] = -math.inf
                top, nxt = logits.max(dim=-1)
                target = top + a.eos_ramp * (step - center)
                zs.append(h[:, k])
                ys.append(target - rest)
                errs.append((step, float((eos_now - target).mean())))
                cur = nxt[:, None]
    z = torch.cat(zs).double()
    y = torch.cat(ys).double()
    x = torch.stack([z, torch.ones_like(z)], dim=1)
    w, c = torch.linalg.lstsq(x, y[:, None]).solution[:, 0].tolist()
    if a.verbose:
        resid = (x @ torch.tensor([w, c], dtype=torch.float64) - y).std().item()
        print(f"calibrate_eos: lane {k}; mean (EOS logit - target) at steps 1,5,10,...: "
              f"{[round(e, 2) for st_, e in errs[:ml - 1] if st_ == 1 or st_ % 5 == 0]}; "
              f"fit w {w:.3f} c {c:.3f} residual std {resid:.2f} (bias was {eos_bias_now:.2f})",
              file=sys.stderr)
    _out_matrix(a, weights)[eos_id, k] = w
    weights["final_logits_bias"][0, eos_id] = c + a.eos_bias
    if update_gains:
        names = _decoder_ln_names(a)
        for j, name in enumerate(names):
            g = sum(ln_std[name]) / len(ln_std[name])
            weights[name + ".weight"][k] = g * (a.lane_gain if j == 0 else 1.0)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--d-model", type=int, default=32)
    p.add_argument("--encoder-layers", type=int, default=2)
    p.add_argument("--decoder-layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=64)
    p.add_argument("--activation", choices=["swish", "relu", "gelu", "gelu_new"], default="swish")
    p.add_argument("--vocab-size", type=int, default=600,
                   help="SentencePiece size of the source (or joint) model")
    p.add_argument("--target-vocab-size", type=int, default=0,
                   help="SentencePiece size of the target model (separate vocabs; default = --vocab-size)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--joint-vocab", dest="joint_vocab", action="store_true", default=True)
    g.add_argument("--separate-vocabs", dest="joint_vocab", action="store_false")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--tie-embeddings", dest="tie_embeddings", action="store_true", default=True)
    g.add_argument("--untied-lm-head", dest="tie_embeddings", action="store_false")
    p.add_argument("--vocab-order", choices=["spm", "shuffled"], default="spm",
                   help="order of the pieces in vocab.json: spm id order, or seeded random "
                        "(vocab ids != spm ids)")
    p.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--scale-embedding", dest="scale_embedding", action="store_true", default=True)
    g.add_argument("--no-scale-embedding", dest="scale_embedding", action="store_false")
    p.add_argument("--max-position-embeddings", type=int, default=128)
    p.add_argument("--max-length", type=int, default=20)
    p.add_argument("--num-beams", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--vocab-pad-to", type=int, default=0,
                   help="joint vocab only: grow vocab.json (and the model's vocabulary) to this many "
                        "entries with filler pieces (see pad_vocab)")
    p.add_argument("--spm-train-lines", type=int, default=0, help="first N lines per language (0 = all)")
    p.add_argument("--eos-bias", type=float, default=0.0, help="added to final_logits_bias[eos]")
    p.add_argument("--eos-ramp", type=float, default=0.6,
                   help="calibrate the EOS logit to rise by this much per decoding step (0 = off)")
    p.add_argument("--eos-ramp-center", type=float, default=0.0,
                   help="step at which EOS ties the best other token (default max_length/2)")
    p.add_argument("--eos-ramp-iters", type=int, default=3)
    p.add_argument("--eos-noise", type=float, default=0.2,
                   help="scale of the random (non-lane) part of the EOS output row")
    p.add_argument("--lane-gain", type=float, default=4.0,
                   help="the position lane carries about lane_gain * sinusoid feature")
    p.add_argument("--eos-calib-lines", type=int, default=128)
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--renormalize-logits", action="store_true",
                   help="write renormalize_logits: true into generation_config.json")
    p.add_argument("--omit-positions", action="store_true",
                   help="do not store embed_positions (HF save_pretrained drops them: _keys_to_ignore_on_save)")
    # weight distribution knobs
    p.add_argument("--logit-std", type=float, default=1.0,
                   help="embedding / lm_head std is logit_std/sqrt(d_model)")
    p.add_argument("--final-ln-gain", type=float, default=5.0,
                   help="multiplier on the last decoder final_layer_norm (sharpens the output distribution)")
    p.add_argument("--final-ln-random-sign", action=argparse.BooleanOptionalAction, default=True,
                   help="draw the last decoder LayerNorm gains from N(0, 1) (times --final-ln-gain)")
    p.add_argument("--logits-bias-std", type=float, default=1.0)
    p.add_argument("--linear-gain", type=float, default=0.7)
    p.add_argument("--attn-gain", type=float, default=1.5)
    p.add_argument("--bias-std", type=float, default=0.1)
    p.add_argument("--ln-gain-mean", type=float, default=1.0)
    p.add_argument("--ln-gain-std", type=float, default=0.3)
    p.add_argument("--ln-bias-std", type=float, default=0.1)
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    return p


def main(argv=None):
    a = build_parser().parse_args(argv)
    make_model(a)
    print(a.out)


if __name__ == "__main__":
    main()
