"""The Hugging Face MarianMT directory layout (what heed loads), both ways.

write_model_dir(): config.json, generation_config.json, tokenizer_config.json,
special_tokens_map.json, vocab.json, source.spm, target.spm and
model.safetensors (HF tensor names, tied lm_head and embed_tokens not stored),
following the conventions of tests/reference/make_model.py.
load_model_dir(): the inverse, into a model.MarianMTModel (float32).
"""

import json
import os
import shutil

import torch

import data
from model import MarianMTModel, ModelConfig
from safetensors_io import load_file, save_file

TRANSFORMERS_VERSION = "4.56.0"
DTYPES = {"f16": (torch.float16, "float16"), "f32": (torch.float32, "float32"),
          "bf16": (torch.bfloat16, "bfloat16")}


def hf_config(c: ModelConfig, dtype_name, num_beams, max_length, name="heed-multi30k-en-de"):
    return {
        "_name_or_path": name,
        "activation_dropout": c.activation_dropout,
        "activation_function": c.activation_function,
        "add_bias_logits": False,
        "add_final_layer_norm": False,
        "architectures": ["MarianMTModel"],
        "attention_dropout": c.attention_dropout,
        "bad_words_ids": [[c.pad_token_id]],
        "bos_token_id": 0,
        "classif_dropout": 0.0,
        "classifier_dropout": 0.0,
        "d_model": c.d_model,
        "decoder_attention_heads": c.decoder_attention_heads,
        "decoder_ffn_dim": c.decoder_ffn_dim,
        "decoder_layerdrop": 0.0,
        "decoder_layers": c.decoder_layers,
        "decoder_start_token_id": c.pad_token_id,
        "decoder_vocab_size": c.vocab_size,
        "dropout": c.dropout,
        "encoder_attention_heads": c.encoder_attention_heads,
        "encoder_ffn_dim": c.encoder_ffn_dim,
        "encoder_layerdrop": 0.0,
        "encoder_layers": c.encoder_layers,
        "eos_token_id": c.eos_token_id,
        "extra_pos_embeddings": c.vocab_size,
        "forced_eos_token_id": c.eos_token_id,
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "max_length": max_length,
        "max_position_embeddings": c.max_position_embeddings,
        "model_type": "marian",
        "normalize_before": False,
        "normalize_embedding": False,
        "num_beams": num_beams,
        "num_hidden_layers": c.encoder_layers,
        "pad_token_id": c.pad_token_id,
        "scale_embedding": c.scale_embedding,
        "share_encoder_decoder_embeddings": True,
        "static_position_embeddings": True,
        "tie_word_embeddings": True,
        "torch_dtype": dtype_name,
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": c.vocab_size,
    }


def generation_config(c: ModelConfig, num_beams, max_length):
    return {
        "bad_words_ids": [[c.pad_token_id]],
        "bos_token_id": 0,
        "decoder_start_token_id": c.pad_token_id,
        "eos_token_id": c.eos_token_id,
        "forced_eos_token_id": c.eos_token_id,
        "max_length": max_length,
        "num_beams": num_beams,
        "pad_token_id": c.pad_token_id,
        "transformers_version": TRANSFORMERS_VERSION,
    }


def tokenizer_config(model_max_length=512):
    return {
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "model_max_length": model_max_length,
        "pad_token": "<pad>",
        "separate_vocabs": False,
        "source_lang": data.SRC_LANG,
        "sp_model_kwargs": {},
        "target_lang": data.TGT_LANG,
        "tokenizer_class": "MarianTokenizer",
        "unk_token": "<unk>",
    }


def hf_tensors(state_dict, dtype):
    """Training state dict -> {HF name: tensor in dtype}.  The names already are
    HF's; lm_head.weight / embed_tokens are tied to model.shared.weight and not
    stored (HF's save_pretrained drops tied copies too)."""
    out = {}
    for name, t in state_dict.items():
        if name.endswith("lm_head.weight") or ".embed_tokens." in name:
            continue
        out[name] = t.detach().to(torch.float32).to(dtype).contiguous()
    return out


def write_model_dir(out_dir, state_dict, config: ModelConfig, spm_dir, dtype="f16", num_beams=4,
                    max_length=256):
    os.makedirs(out_dir, exist_ok=True)
    torch_dtype, dtype_name = DTYPES[dtype]
    tensors = hf_tensors(state_dict, torch_dtype)
    expected = {"model.shared.weight", "final_logits_bias",
                "model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight"}
    missing = expected - set(tensors)
    if missing:
        raise data.RecipeError(f"state dict lacks {sorted(missing)}")
    if tuple(tensors["model.shared.weight"].shape) != (config.vocab_size, config.d_model):
        raise data.RecipeError("model.shared.weight does not match the config's vocab_size/d_model")
    tensors["final_logits_bias"] = tensors["final_logits_bias"].reshape(1, config.vocab_size)
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), {"format": "pt"})
    data.write_json(os.path.join(out_dir, "config.json"),
                    hf_config(config, dtype_name, num_beams, max_length))
    data.write_json(os.path.join(out_dir, "generation_config.json"),
                    generation_config(config, num_beams, max_length))
    data.write_json(os.path.join(out_dir, "tokenizer_config.json"), tokenizer_config())
    data.write_json(os.path.join(out_dir, "special_tokens_map.json"),
                    {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"})
    for name in ("source.spm", "target.spm", "vocab.json"):
        shutil.copyfile(os.path.join(spm_dir, name), os.path.join(out_dir, name))
    stale = os.path.join(out_dir, "target_vocab.json")
    if os.path.exists(stale):
        os.remove(stale)
    return os.path.join(out_dir, "model.safetensors")


def set_num_beams(model_dir, num_beams, length_penalty=None):
    """Rewrite num_beams (and length_penalty when given) in generation_config.json and config.json."""
    for name in ("generation_config.json", "config.json"):
        path = os.path.join(model_dir, name)
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["num_beams"] = num_beams
        if length_penalty is not None:
            cfg["length_penalty"] = length_penalty
        data.write_json(path, cfg)


def load_model_dir(model_dir):
    """HF MarianMT directory (joint vocabulary, tied embeddings) -> (MarianMTModel, generation dict)."""
    data.require_files([os.path.join(model_dir, n) for n in ("config.json", "model.safetensors")])
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        hf = json.load(f)
    gen = {}
    gpath = os.path.join(model_dir, "generation_config.json")
    if os.path.exists(gpath):
        with open(gpath, encoding="utf-8") as f:
            gen = json.load(f)
    if not hf.get("share_encoder_decoder_embeddings", True) or not hf.get("tie_word_embeddings", True):
        raise data.RecipeError(f"{model_dir}: only joint-vocabulary, tied-embedding models are supported")
    c = ModelConfig.from_dict(hf)
    m = MarianMTModel(c)
    w = {k: v.to(torch.float32) for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
    if "model.shared.weight" not in w:
        for alt in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"):
            if alt in w:
                w["model.shared.weight"] = w[alt]
                break
    for k in list(w):
        if k.endswith("lm_head.weight") or ".embed_tokens." in k:
            del w[k]
    w.setdefault("final_logits_bias", torch.zeros(1, c.vocab_size))
    sd = m.state_dict()
    for k in ("model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight"):
        w.setdefault(k, sd[k])
    m.load_state_dict(w, strict=True)
    m.eval()
    return m, gen
