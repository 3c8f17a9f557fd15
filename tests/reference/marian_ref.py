#!/usr/bin/python3
"""Independent PyTorch (float32, CPU) reference for Hugging Face MarianMT inference.

Reads a model directory in HF layout with our own safetensors reader and
re-implements, without importing `transformers`:
  * MarianTokenizer (source/target SentencePiece + vocab.json / target_vocab.json)
  * MarianMTModel forward (post-norm transformer, sinusoidal positions,
    final_logits_bias), with an incremental (KV-cached) decoder that can also
    return cross-attention weights per layer/head
  * generate(): greedy search and the vectorised beam search of current
    transformers (`_beam_search` and its helpers in generation/utils.py), with
    the logits processors NoBadWords (+ pad always banned), MinLength,
    ForcedEOS and, when generation_config.json says so, LogitNormalization;
    RepetitionPenalty, NoRepeatNGram and MinNewTokensLength when set, and the
    sampling warpers (Temperature, TopK, TopP) for distribution checks
  * forced-decoding scores

Command line (reads sources from stdin, one per line, writes JSON lines):
  /usr/bin/python3 tests/reference/marian_ref.py MODEL_DIR [--beam N] [--length-penalty X]
      [--early-stopping false|true|never] [--max-length M] [--nbest]
"""

import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import load_file  # noqa: E402

NEG_LARGE = -1.0e9  # the constant HF's beam search uses for "impossible"
SPIECE_UNDERLINE = "\u2581"


# ==========================================================================
# Tokenizer
# ==========================================================================

class MarianTokenizer:
    """Behaves like transformers.MarianTokenizer for plain text input:

    source: literal special tokens (</s>, <unk>, <pad>) are cut out of the text
            and map to their ids (PreTrainedTokenizer.tokenize's trie); in
            each piece of text between them, an optional leading ">>xx<<"
            language code becomes its own token;
            the rest goes through the source SentencePiece `encode(out_type=str)`;
            pieces are looked up in vocab.json (missing -> <unk>); </s> appended.
    target: same with target.spm and (separate vocabs) target_vocab.json.
    decode: drop special ids (eos, unk, pad), ids -> pieces through the target
            vocab, spm decode_pieces, then "\u2581" -> " " and strip."""

    def __init__(self, model_dir):
        import sentencepiece as spm

        with open(os.path.join(model_dir, "tokenizer_config.json"), encoding="utf-8") as f:
            self.config = json.load(f)
        self.separate_vocabs = bool(self.config.get("separate_vocabs", False))
        with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
            self.src_vocab = json.load(f)
        if self.separate_vocabs:
            with open(os.path.join(model_dir, "target_vocab.json"), encoding="utf-8") as f:
                self.tgt_vocab = json.load(f)
        else:
            self.tgt_vocab = self.src_vocab
        self.tgt_id_to_piece = {v: k for k, v in self.tgt_vocab.items()}
        self.spm_source = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "source.spm"))
        self.spm_target = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "target.spm"))
        self.eos_token = self.config.get("eos_token", "</s>")
        self.unk_token = self.config.get("unk_token", "<unk>")
        self.pad_token = self.config.get("pad_token", "<pad>")
        self.eos_id = self.src_vocab[self.eos_token]
        self.unk_id = self.src_vocab[self.unk_token]
        self.pad_id = self.src_vocab[self.pad_token]          # source-side pad (tokenizer.pad_token_id)
        self.tgt_eos_id = self.tgt_vocab[self.eos_token]
        self.tgt_unk_id = self.tgt_vocab[self.unk_token]
        self.tgt_pad_id = self.tgt_vocab[self.pad_token]

    @staticmethod
    def split_language_code(text):
        """">>de<< Hallo" -> ([">>de<<"], " Hallo"): the code is split off only
        at the very start (transformers' remove_language_code)."""
        if text.startswith(">>"):
            end = text.find("<<")
            if end != -1:
                return [text[:end + 2]], text[end + 2:]
        return [], text

    def split_special_tokens(self, text):
        """PreTrainedTokenizer.tokenize's first step: the text is cut at every
        literal special token (tokens_trie.split: leftmost, longest match),
        which stays whole; Marian's special tokens are AddedTokens without
        lstrip/rstrip, so the text around them keeps its spaces."""
        specials = [self.eos_token, self.unk_token, self.pad_token]
        chunks, start, i = [], 0, 0
        while i < len(text):
            match = max((t for t in specials if text.startswith(t, i)), key=len, default=None)
            if match is None:
                i += 1
                continue
            chunks.append(text[start:i])
            chunks.append(match)
            i += len(match)
            start = i
        chunks.append(text[start:])
        return [c for c in chunks if c]

    def _tokenize_with(self, text, spm_model):
        specials = {self.eos_token, self.unk_token, self.pad_token}
        pieces = []
        for chunk in self.split_special_tokens(text):
            if chunk in specials:
                pieces.append(chunk)
            else:  # MarianTokenizer._tokenize, chunk by chunk
                code, rest = self.split_language_code(chunk)
                pieces += code + spm_model.encode(rest, out_type=str)
        return pieces

    def tokenize_source(self, text):
        return self._tokenize_with(text, self.spm_source)

    def tokenize_target(self, text):
        return self._tokenize_with(text, self.spm_target)

    def encode_source(self, text):
        ids = [self.src_vocab.get(p, self.unk_id) for p in self.tokenize_source(text)]
        return ids + [self.eos_id]

    def encode_target(self, text):
        ids = [self.tgt_vocab.get(p, self.tgt_unk_id) for p in self.tokenize_target(text)]
        return ids + [self.tgt_eos_id]

    def decode_target(self, ids):
        special = {self.tgt_eos_id, self.tgt_unk_id, self.tgt_pad_id}
        pieces = [self.tgt_id_to_piece[i] for i in ids if i not in special and i in self.tgt_id_to_piece]
        text = self.spm_target.decode_pieces(pieces)
        return text.replace(SPIECE_UNDERLINE, " ").strip()


# ==========================================================================
# Model
# ==========================================================================

def _activation(name):
    if name in ("swish", "silu"):
        return F.silu
    if name == "relu":
        return F.relu
    if name == "gelu":
        return lambda x: F.gelu(x)  # exact erf form
    if name == "gelu_new":
        c = math.sqrt(2.0 / math.pi)
        return lambda x: 0.5 * x * (1.0 + torch.tanh(c * (x + 0.044715 * torch.pow(x, 3.0))))
    raise ValueError(f"unsupported activation {name}")


def sinusoidal_table(n_pos, dim):
    import numpy as np

    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    j = np.arange(dim)
    enc = pos / np.power(10000.0, 2 * (j // 2) / dim)[None, :]
    out = np.empty((n_pos, dim), dtype=np.float32)
    sentinel = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    out[:, :sentinel] = np.sin(enc[:, 0::2])
    out[:, sentinel:] = np.cos(enc[:, 1::2])
    return torch.from_numpy(out)


class DecoderState:
    """Incremental decoding state for N = batch*beams rows."""

    def __init__(self, self_kv, cross_kv, enc_mask_add, length):
        self.self_kv = self_kv          # per layer: (k, v) [N, H, t, hd]
        self.cross_kv = cross_kv        # per layer: (k, v) [N, H, S, hd]
        self.enc_mask_add = enc_mask_add  # [N, 1, 1, S] additive mask
        self.length = length            # number of decoder positions already processed

    def reorder(self, index, cross=True):
        """Select rows (beam reordering).  Beam search reorders only within a
        sentence, where the cross-attention keys/values are identical, so it
        passes cross=False."""
        self.self_kv = [(k.index_select(0, index), v.index_select(0, index)) for k, v in self.self_kv]
        if cross:
            self.cross_kv = [(k.index_select(0, index), v.index_select(0, index)) for k, v in self.cross_kv]
            self.enc_mask_add = self.enc_mask_add.index_select(0, index)


class MarianRef:
    def __init__(self, model_dir, fast=False):
        """fast=True runs the linear layers through oneDNN (torch's mkldnn
        ops) instead of torch's default BLAS: much faster on machines whose
        torch uses the reference BLAS, numerically slightly different."""
        self.model_dir = model_dir
        self.fast = fast and torch.backends.mkldnn.is_available()
        self._mkl = {}
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            self.config = json.load(f)
        gpath = os.path.join(model_dir, "generation_config.json")
        self.gen_config = {}
        if os.path.exists(gpath):
            with open(gpath, encoding="utf-8") as f:
                self.gen_config = json.load(f)
        self.tok = MarianTokenizer(model_dir)
        c = self.config
        self.d = c["d_model"]
        self.enc_layers = c["encoder_layers"]
        self.dec_layers = c["decoder_layers"]
        self.enc_heads = c["encoder_attention_heads"]
        self.dec_heads = c["decoder_attention_heads"]
        self.act = _activation(c.get("activation_function", "gelu"))
        self.embed_scale = math.sqrt(self.d) if c.get("scale_embedding", False) else 1.0
        self.share = c.get("share_encoder_decoder_embeddings", True)
        self.tie = c.get("tie_word_embeddings", True)

        raw = load_file(os.path.join(model_dir, "model.safetensors"))
        w = {k: v.to(torch.float32) for k, v in raw.items()}  # f16/bf16 upcast to f32
        self.w = w
        if self.share:
            shared = w.get("model.shared.weight")
            if shared is None:
                shared = w.get("model.encoder.embed_tokens.weight", w.get("model.decoder.embed_tokens.weight"))
            self.enc_emb = w.get("model.encoder.embed_tokens.weight", shared)
            self.dec_emb = w.get("model.decoder.embed_tokens.weight", shared)
        else:
            self.enc_emb = w["model.encoder.embed_tokens.weight"]
            self.dec_emb = w["model.decoder.embed_tokens.weight"]
        if self.tie:
            self.lm_head = self.dec_emb
        else:
            self.lm_head = w["lm_head.weight"]
        self.v_tgt = self.lm_head.shape[0]
        self.final_logits_bias = w.get("final_logits_bias", torch.zeros(1, self.v_tgt))
        n_pos = c["max_position_embeddings"]
        table = sinusoidal_table(n_pos, self.d)
        self.enc_pos = w.get("model.encoder.embed_positions.weight", table)
        self.dec_pos = w.get("model.decoder.embed_positions.weight", table)

        self.pad_id = c["pad_token_id"]
        self.eos_id = c.get("eos_token_id", 0)
        self.decoder_start_id = self.gen_config.get("decoder_start_token_id", c.get("decoder_start_token_id"))
        self.max_length = self.gen_config.get("max_length", c.get("max_length", 512))
        self.num_beams = self.gen_config.get("num_beams", c.get("num_beams", 1))
        bad = self.gen_config.get("bad_words_ids", c.get("bad_words_ids")) or []
        # NoBadWordsLogitsProcessor ignores a bad word that is exactly [eos].
        self.bad_ids = sorted({b[0] for b in bad if len(b) == 1 and b[0] != self.eos_id} | {self.pad_id})
        self.forced_eos_id = self.gen_config.get("forced_eos_token_id", c.get("forced_eos_token_id"))
        self.min_length = self.gen_config.get("min_length", 0) or 0
        self.renormalize_logits = bool(self.gen_config.get("renormalize_logits", False))
        # Off unless a caller sets them (make_processor_fixtures.py).
        self.repetition_penalty = 1.0
        self.no_repeat_ngram_size = 0
        self.min_new_tokens = 0
        self.prefix = None  # target prefix ids forced after the start token (heed's)

    # ------------------------------------------------------------------ layers
    def _lin(self, x, name):
        return self._linear(x, name + ".weight", name + ".bias")

    def _linear(self, x, wname, bname=None):
        w = self.w[wname] if isinstance(wname, str) else wname
        b = (self.w[bname] if isinstance(bname, str) else bname) if bname is not None else None
        if not self.fast:
            return F.linear(x, w, b)
        key = (wname if isinstance(wname, str) else id(wname), bname if isinstance(bname, str) else id(bname))
        if key not in self._mkl:
            bias = b if b is not None else torch.zeros(w.shape[0])
            self._mkl[key] = (w.contiguous().to_mkldnn(), bias.contiguous().reshape(-1).to_mkldnn())
        wm, bm = self._mkl[key]
        shape = x.shape
        y = torch._C._nn.mkldnn_linear(x.reshape(-1, shape[-1]).contiguous().to_mkldnn(), wm, bm).to_dense()
        return y.reshape(*shape[:-1], y.shape[-1])

    def _ln(self, x, name):
        return F.layer_norm(x, (self.d,), self.w[name + ".weight"], self.w[name + ".bias"], eps=1e-5)

    def _split(self, x, heads):
        n, t, _ = x.shape
        return x.view(n, t, heads, self.d // heads).transpose(1, 2)

    def _merge(self, x):
        n, h, t, hd = x.shape
        return x.transpose(1, 2).reshape(n, t, h * hd)

    @staticmethod
    def _attend(q, k, v, mask_add):
        scores = torch.matmul(q, k.transpose(-1, -2))
        if mask_add is not None:
            scores = scores + mask_add
        p = torch.softmax(scores, dim=-1)
        return torch.matmul(p, v), p

    # ------------------------------------------------------------------ encoder
    def pad_batch(self, id_lists, pad_id):
        s = max(len(x) for x in id_lists)
        ids = torch.full((len(id_lists), s), pad_id, dtype=torch.long)
        mask = torch.zeros((len(id_lists), s), dtype=torch.bool)
        for i, x in enumerate(id_lists):
            ids[i, :len(x)] = torch.tensor(x, dtype=torch.long)
            mask[i, :len(x)] = True
        return ids, mask

    def encode(self, ids, mask):
        """ids [B, S] long, mask [B, S] bool (True = real token) -> [B, S, d]."""
        b, s = ids.shape
        h = self.enc_emb[ids] * self.embed_scale + self.enc_pos[:s][None]
        fmin = torch.finfo(torch.float32).min
        mask_add = torch.zeros((b, 1, 1, s), dtype=torch.float32).masked_fill(~mask[:, None, None, :], fmin)
        hd = self.d // self.enc_heads
        for i in range(self.enc_layers):
            p = f"model.encoder.layers.{i}"
            q = self._split(self._lin(h, p + ".self_attn.q_proj") * (hd ** -0.5), self.enc_heads)
            k = self._split(self._lin(h, p + ".self_attn.k_proj"), self.enc_heads)
            v = self._split(self._lin(h, p + ".self_attn.v_proj"), self.enc_heads)
            a, _ = self._attend(q, k, v, mask_add)
            h = self._ln(h + self._lin(self._merge(a), p + ".self_attn.out_proj"), p + ".self_attn_layer_norm")
            f = self._lin(self.act(self._lin(h, p + ".fc1")), p + ".fc2")
            h = self._ln(h + f, p + ".final_layer_norm")
        return h

    # ------------------------------------------------------------------ decoder
    def init_decoder_state(self, enc_out, enc_mask):
        fmin = torch.finfo(torch.float32).min
        n, s, _ = enc_out.shape
        mask_add = torch.zeros((n, 1, 1, s), dtype=torch.float32).masked_fill(~enc_mask[:, None, None, :], fmin)
        cross = []
        for i in range(self.dec_layers):
            p = f"model.decoder.layers.{i}.encoder_attn"
            k = self._split(self._lin(enc_out, p + ".k_proj"), self.dec_heads)
            v = self._split(self._lin(enc_out, p + ".v_proj"), self.dec_heads)
            cross.append((k, v))
        hd = self.d // self.dec_heads
        empty = [(torch.zeros((n, self.dec_heads, 0, hd)), torch.zeros((n, self.dec_heads, 0, hd)))
                 for _ in range(self.dec_layers)]
        return DecoderState(empty, cross, mask_add, 0)

    def decoder_forward(self, tokens, state, return_cross_attention=False, return_hidden=False):
        """Feed `tokens` [N, T] at positions state.length .. state.length+T-1.
        Returns logits [N, T, V] (and, if asked, a list per layer of cross
        attention probabilities [N, H, T, S]); updates `state` in place.
        With return_hidden, returns the final decoder hidden states [N, T, d]
        instead of the logits."""
        n, t = tokens.shape
        start = state.length
        h = self.dec_emb[tokens] * self.embed_scale + self.dec_pos[start:start + t][None]
        hd = self.d // self.dec_heads
        fmin = torch.finfo(torch.float32).min
        total = start + t
        # causal mask for the new rows against cache + new columns
        qpos = torch.arange(start, total)[:, None]
        kpos = torch.arange(total)[None, :]
        causal = torch.zeros((t, total), dtype=torch.float32).masked_fill(kpos > qpos, fmin)[None, None]
        cross_attn = []
        for i in range(self.dec_layers):
            p = f"model.decoder.layers.{i}"
            q = self._split(self._lin(h, p + ".self_attn.q_proj") * (hd ** -0.5), self.dec_heads)
            k = self._split(self._lin(h, p + ".self_attn.k_proj"), self.dec_heads)
            v = self._split(self._lin(h, p + ".self_attn.v_proj"), self.dec_heads)
            pk, pv = state.self_kv[i]
            k = torch.cat([pk, k], dim=2)
            v = torch.cat([pv, v], dim=2)
            state.self_kv[i] = (k, v)
            a, _ = self._attend(q, k, v, causal)
            h = self._ln(h + self._lin(self._merge(a), p + ".self_attn.out_proj"), p + ".self_attn_layer_norm")

            q = self._split(self._lin(h, p + ".encoder_attn.q_proj") * (hd ** -0.5), self.dec_heads)
            ck, cv = state.cross_kv[i]
            a, probs = self._attend(q, ck, cv, state.enc_mask_add)
            if return_cross_attention:
                cross_attn.append(probs)
            h = self._ln(h + self._lin(self._merge(a), p + ".encoder_attn.out_proj"), p + ".encoder_attn_layer_norm")

            f = self._lin(self.act(self._lin(h, p + ".fc1")), p + ".fc2")
            h = self._ln(h + f, p + ".final_layer_norm")
        state.length = total
        if return_hidden:
            return h
        logits = self._linear(h, self.lm_head) + self.final_logits_bias  # as HF: lm_head(h) + bias
        if return_cross_attention:
            return logits, cross_attn
        return logits

    # ------------------------------------------------------------------ helpers
    def _prepare(self, sources):
        """sources: list of str or of id lists -> (ids, mask)."""
        id_lists = [self.tok.encode_source(s) if isinstance(s, str) else list(s) for s in sources]
        return id_lists, self.pad_batch(id_lists, self.tok.pad_id)

    def process_scores(self, scores, cur_len, max_length, history=None, stage="all"):
        """HF logits processors, in generate()'s order (_get_logits_processor).
        `cur_len` is the current decoder sequence length including the start
        token; `history` [N][cur_len] the decoder inputs so far (needed by the
        repetition processors).  stage "repetition" applies only
        RepetitionPenaltyLogitsProcessor, "rest" every other one."""
        scores = scores.clone()
        if stage != "rest" and self.repetition_penalty != 1.0:  # RepetitionPenaltyLogitsProcessor
            ids = torch.tensor(history, dtype=torch.long)
            score = torch.gather(scores, 1, ids)
            score = torch.where(score < 0, score * self.repetition_penalty, score / self.repetition_penalty)
            scores = scores.scatter(1, ids, score)
        if stage == "repetition":
            return scores
        n = self.no_repeat_ngram_size                   # NoRepeatNGramLogitsProcessor
        if n > 0 and cur_len + 1 >= n:
            for row, tokens in enumerate(history):
                ngrams = {}
                for gram in zip(*[tokens[i:] for i in range(n)]):
                    ngrams.setdefault(tuple(gram[:-1]), []).append(gram[-1])
                banned = ngrams.get(tuple(tokens[cur_len + 1 - n:cur_len]), [])
                scores[row, banned] = -math.inf
        if self.bad_ids:                       # NoBadWordsLogitsProcessor (+ pad)
            scores[:, self.bad_ids] = -math.inf
        if self.min_length > 0 and cur_len < self.min_length:  # MinLengthLogitsProcessor
            scores[:, self.eos_id] = -math.inf
        if self.min_new_tokens > 0 and cur_len - 1 < self.min_new_tokens:  # MinNewTokensLength...
            scores[:, self.eos_id] = -math.inf
        if self.prefix and cur_len - 1 < len(self.prefix):  # heed's target prefix: forced tokens
            forced = self.prefix[cur_len - 1]
            kept = scores[:, forced].clone()
            scores = torch.full_like(scores, -math.inf)
            scores[:, forced] = kept
        if self.forced_eos_id is not None and cur_len == max_length - 1:  # ForcedEOSTokenLogitsProcessor
            scores = torch.full_like(scores, -math.inf)
            scores[:, self.forced_eos_id] = 0.0
        if self.renormalize_logits:            # LogitNormalization (always last)
            scores = torch.log_softmax(scores, dim=-1)
        return scores

    def warp_scores(self, scores, temperature=1.0, top_k=50, top_p=1.0):
        """HF's sampling warpers in _get_logits_processor's order:
        TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper
        (min_tokens_to_keep 1)."""
        scores = scores.clone()
        if temperature != 1.0:
            scores = scores / temperature
        if top_k and top_k != 0:
            k = min(max(top_k, 1), scores.size(-1))
            remove = scores < torch.topk(scores, k)[0][..., -1, None]
            scores = scores.masked_fill(remove, -math.inf)
        if top_p < 1.0:
            sorted_logits, sorted_indices = torch.sort(scores, descending=False)
            cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
            sorted_remove = cumulative <= (1 - top_p)
            sorted_remove[..., -1:] = 0
            remove = sorted_remove.scatter(1, sorted_indices, sorted_remove)
            scores = scores.masked_fill(remove, -math.inf)
        return scores

    # ------------------------------------------------------------------ logits API
    def first_step_logits(self, source):
        ids = self.tok.encode_source(source) if isinstance(source, str) else list(source)
        ids_t, mask = self.pad_batch([ids], self.tok.pad_id)
        enc = self.encode(ids_t, mask)
        st = self.init_decoder_state(enc, mask)
        return self.decoder_forward(torch.tensor([[self.decoder_start_id]]), st)[0, -1]

    def forward_logits(self, source, decoder_ids, return_cross_attention=False):
        """Non-incremental pass: all decoder positions at once. -> [T, V]."""
        ids = self.tok.encode_source(source) if isinstance(source, str) else list(source)
        ids_t, mask = self.pad_batch([ids], self.tok.pad_id)
        enc = self.encode(ids_t, mask)
        st = self.init_decoder_state(enc, mask)
        out = self.decoder_forward(torch.tensor([list(decoder_ids)]), st, return_cross_attention)
        if return_cross_attention:
            return out[0][0], [a[0] for a in out[1]]
        return out[0]

    # ------------------------------------------------------------------ search
    def _stepper(self, sources, repeat):
        """Encode `sources` and return (step, reorder) closures for the search
        functions: step(last_tokens [N]) -> raw logits [N, V]."""
        id_lists, (ids, mask) = self._prepare(sources)
        enc = self.encode(ids, mask)
        if repeat > 1:
            enc = enc.repeat_interleave(repeat, dim=0)
            mask = mask.repeat_interleave(repeat, dim=0)
        st = self.init_decoder_state(enc, mask)

        def step(last):
            return self.decoder_forward(last[:, None], st)[:, -1, :]

        def reorder(index):
            st.reorder(index, cross=False)

        return len(id_lists), step, reorder

    @torch.no_grad()
    def greedy(self, sources, max_length=None, record_logits=0, perturb=None, with_margin=False):
        """HF greedy search.  See greedy_search()."""
        b, step, _ = self._stepper(sources, 1)
        return greedy_search(step, b, self.decoder_start_id, self.eos_id, self.pad_id,
                             max_length or self.max_length, self.process_scores,
                             record_logits=record_logits, perturb=perturb, with_margin=with_margin)

    @torch.no_grad()
    def beam_search(self, sources, num_beams=None, length_penalty=1.0, early_stopping=False,
                    max_length=None, perturb=None, trace=None):
        """HF beam search.  See beam_search()."""
        n = num_beams or self.num_beams
        b, step, reorder = self._stepper(sources, n)
        return beam_search(step, reorder, b, n, self.v_tgt, self.decoder_start_id, self.eos_id, self.pad_id,
                           max_length or self.max_length, self.process_scores, length_penalty, early_stopping,
                           perturb=perturb, trace=trace)

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def score(self, source, target):
        """Forced decoding: per-token log_softmax(raw logits)[target] (no
        processors) of tokenize(target)+</s>, decoder input [start]+target[:-1]."""
        tgt_ids = self.tok.encode_target(target) if isinstance(target, str) else list(target)
        dec_in = [self.decoder_start_id] + tgt_ids[:-1]
        logits = self.forward_logits(source, dec_in)
        lp = torch.log_softmax(logits, dim=-1)
        tl = [float(lp[t, tgt_ids[t]]) for t in range(len(tgt_ids))]
        return {"target_ids": tgt_ids, "token_logprobs": tl, "total": float(sum(tl))}

    def detok(self, ids):
        return self.tok.decode_target(ids)


# ==========================================================================
# Search (model independent: `step` maps the last tokens [N] to raw logits [N, V])
# ==========================================================================

def greedy_search(step, batch, start_id, eos_id, pad_id, max_length, process, record_logits=0,
                  perturb=None, with_margin=False):
    """transformers' greedy decoding (`_sample` with do_sample=False).

    The processors are applied to the raw logits and the argmax is taken;
    a sentence stops at EOS or when its length (start token included) reaches
    max_length.  Returns per sentence {"tokens": generated ids after the start
    token (EOS included when produced), "score": sum over the chosen tokens of
    process(log_softmax(raw logits)) (so a forced-EOS step adds 0),
    "step_logits": raw logits of the first `record_logits` steps} and, with
    with_margin, "min_margin": the smallest gap between the best and the
    second-best processed logit over the steps where a choice existed."""
    seqs = [[] for _ in range(batch)]
    scores = [0.0] * batch
    step_logits = [[] for _ in range(batch)]
    margins = [math.inf] * batch
    done = torch.zeros(batch, dtype=torch.bool)
    cur = torch.full((batch,), start_id, dtype=torch.long)
    cur_len = 1
    while True:
        logits = step(cur)
        if perturb is not None:
            logits = logits + perturb(logits.shape)
        hist = [[start_id] + seqs[i] + [pad_id] * (cur_len - 1 - len(seqs[i])) for i in range(batch)]
        proc = process(logits, cur_len, max_length, hist)
        nxt = torch.argmax(proc, dim=-1)
        # heed's greedy score: the processors on the log-softmax of the logits
        # after the repetition penalty (which HF applies to the raw logits).
        penalised = process(logits, cur_len, max_length, hist, stage="repetition")
        lp = process(torch.log_softmax(penalised, dim=-1), cur_len, max_length, hist, stage="rest")
        if with_margin:
            top2 = torch.topk(proc, 2, dim=-1).values
            gap = (top2[:, 0] - top2[:, 1]).tolist()
        for i in range(batch):
            if done[i]:
                continue
            tok = int(nxt[i])
            seqs[i].append(tok)
            scores[i] += float(lp[i, tok])
            if with_margin and gap[i] != math.inf:
                margins[i] = min(margins[i], gap[i])
            if len(step_logits[i]) < record_logits:
                step_logits[i].append(logits[i].tolist())
            if tok == eos_id:
                done[i] = True
        cur_len += 1
        if cur_len >= max_length:
            done[:] = True
        if bool(done.all()):
            break
        cur = torch.where(done, torch.full_like(nxt, pad_id), nxt)
    out = [{"tokens": seqs[i], "score": scores[i], "step_logits": step_logits[i]} for i in range(batch)]
    if with_margin:
        for i in range(batch):
            out[i]["min_margin"] = margins[i] if margins[i] != math.inf else None
    return out


def beam_search(step, reorder, batch, num_beams, vocab, start_id, eos_id, pad_id, max_length, process,
                length_penalty=1.0, early_stopping=False, perturb=None, trace=None):
    """transformers' vectorised beam search (`_beam_search`, do_sample=False,
    one EOS id), float32 throughout.

    Rows of `step` are sentence-major: row b*num_beams + j is beam j of
    sentence b.  Per step (cur_len = current length incl. the start token):
      1. log_probs = process(log_softmax(logits)) + running beam scores
         (initially 0 for beam 0 and -1e9 for the others);
      2. top 2*num_beams over num_beams*vocab (torch.topk);
      3. a candidate "hits" if its token is EOS or cur_len+1 >= max_length;
      4. running beams := top num_beams of (score - 1e9*hit);
      5. finished beams := top num_beams of old finished + candidates, where
         a candidate counts only if it hits and is among the first num_beams
         of the top-k, with score / (cur_len+1-1)**length_penalty, and gets
         -1e9 when (early_stopping is True and all finished slots are full)
         or the sentence's early-stop heuristic already says done;
      6. cur_len += 1; heuristic: best = running[:, 0] / L**length_penalty,
         L = max_length-1 if (early_stopping == "never" and length_penalty > 0)
         else cur_len-1; still open &= any over finished slots of
         best > (min finished score if the slot is finished else -1e9);
      7. stop when no sentence is open, or early_stopping is True and every
         slot of every sentence is finished, or every candidate hit.
    Returns per sentence the num_beams finished hypotheses, best first:
    {"tokens": ids after the start token (EOS included), "score": float32
    length-penalised score, "finished": slot flag}."""
    b, n, v = batch, num_beams, vocab
    k_keep = max(2, 1 + 1) * n
    top_mask = torch.cat([torch.ones(n, dtype=torch.bool), torch.zeros(k_keep - n, dtype=torch.bool)])

    running_seqs = torch.full((b, n, max_length), pad_id, dtype=torch.long)
    running_seqs[:, :, 0] = start_id
    fin_seqs = running_seqs.clone()
    running_scores = torch.zeros((b, n), dtype=torch.float32)
    running_scores[:, 1:] = NEG_LARGE
    fin_scores = torch.full((b, n), NEG_LARGE, dtype=torch.float32)
    fin_flag = torch.zeros((b, n), dtype=torch.bool)
    fin_len = torch.zeros((b, n), dtype=torch.long)   # generated length of each finished slot
    unsatisfied = torch.ones((b, 1), dtype=torch.bool)

    cur_len = 1
    while True:
        logits = step(running_seqs[:, :, cur_len - 1].reshape(b * n))
        if perturb is not None:
            logits = logits + perturb(logits.shape)
        hist = running_seqs[:, :, :cur_len].reshape(b * n, cur_len).tolist()
        logp = process(torch.log_softmax(logits, dim=-1), cur_len, max_length, hist)
        acc = (logp.view(b, n, v) + running_scores[:, :, None]).reshape(b, n * v)

        topk_scores, topk_idx = torch.topk(acc, k=k_keep)
        src_beam = topk_idx // v
        tok = topk_idx % v
        cand_seqs = torch.take_along_dim(running_seqs, src_beam[:, :, None], dim=1)
        cand_seqs[:, :, cur_len] = tok
        hits = (tok == eos_id) | (cur_len + 1 >= max_length)

        run_cand = topk_scores + hits.to(torch.float32) * NEG_LARGE
        nxt = torch.topk(run_cand, k=n)[1]
        running_seqs = torch.take_along_dim(cand_seqs, nxt[:, :, None], dim=1)
        running_scores = torch.take_along_dim(run_cand, nxt, dim=1)
        running_src = torch.take_along_dim(src_beam, nxt, dim=1)

        just_finished = hits & top_mask[None, :]
        fs = topk_scores / ((cur_len + 1 - 1) ** length_penalty)
        full = torch.all(fin_flag, dim=-1, keepdim=True) & (early_stopping is True)
        fs = fs + full.to(torch.float32) * NEG_LARGE
        fs = fs + (~unsatisfied).to(torch.float32) * NEG_LARGE
        fs = fs + (~just_finished).to(torch.float32) * NEG_LARGE
        merged_scores = torch.cat([fin_scores, fs], dim=1)
        sel = torch.topk(merged_scores, k=n)[1]
        fin_seqs = torch.take_along_dim(torch.cat([fin_seqs, cand_seqs], dim=1), sel[:, :, None], dim=1)
        fin_scores = torch.take_along_dim(merged_scores, sel, dim=1)
        fin_flag = torch.take_along_dim(torch.cat([fin_flag, just_finished], dim=1), sel, dim=1)
        fin_len = torch.take_along_dim(torch.cat([fin_len, torch.full((b, k_keep), cur_len)], dim=1), sel, dim=1)

        if trace is not None:
            trace.append({"cur_len": cur_len, "topk_scores": topk_scores.clone(), "tok": tok.clone(),
                          "src_beam": src_beam.clone(), "hits": hits.clone(), "running_src": running_src.clone(),
                          "fin_scores": fin_scores.clone(), "fin_flag": fin_flag.clone(), "sel": sel.clone()})

        reorder((running_src + torch.arange(b)[:, None] * n).reshape(-1))
        cur_len += 1
        if early_stopping == "never" and length_penalty > 0.0:
            best_len = max_length - 1
        else:
            best_len = cur_len - 1
        best_possible = running_scores[:, :1] / (best_len ** length_penalty)
        worst = torch.where(fin_flag, torch.min(fin_scores, dim=1, keepdim=True)[0],
                            torch.tensor(NEG_LARGE, dtype=torch.float32))
        unsatisfied = unsatisfied & torch.any(best_possible > worst, dim=-1, keepdim=True)
        improvement_possible = bool(torch.any(unsatisfied))
        exists_open_beam = not (bool(torch.all(fin_flag)) and early_stopping is True)
        valid_continuations = not bool(torch.all(hits))
        if not (improvement_possible and exists_open_beam and valid_continuations):
            break

    out = []
    for i in range(b):
        out.append([{"tokens": fin_seqs[i, j, 1:1 + int(fin_len[i, j])].tolist(),
                     "score": float(fin_scores[i, j]),
                     "finished": bool(fin_flag[i, j])} for j in range(n)])
    return out


def _parse_es(s):
    s = s.lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no"):
        return False
    if s == "never":
        return "never"
    raise argparse.ArgumentTypeError(s)


def main(argv=None):
    p = argparse.ArgumentParser(description="MarianMT reference translator (stdin -> JSON lines)")
    p.add_argument("model_dir")
    p.add_argument("--beam", type=int, default=0, help="0 = model default; 1 = greedy")
    p.add_argument("--length-penalty", type=float, default=1.0)
    p.add_argument("--early-stopping", type=_parse_es, default=False)
    p.add_argument("--max-length", type=int, default=0)
    p.add_argument("--nbest", action="store_true")
    p.add_argument("--batch", type=int, default=16)
    a = p.parse_args(argv)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    m = MarianRef(a.model_dir)
    beams = a.beam or m.num_beams
    lines = [l.rstrip("\n") for l in sys.stdin]
    for s in range(0, len(lines), a.batch):
        chunk = lines[s:s + a.batch]
        if beams == 1:
            res = m.greedy(chunk, max_length=a.max_length or None)
            for r in res:
                print(json.dumps({"tokens": r["tokens"], "score": r["score"], "text": m.detok(r["tokens"])},
                                 ensure_ascii=False))
        else:
            res = m.beam_search(chunk, beams, a.length_penalty, a.early_stopping, a.max_length or None)
            for hyps in res:
                hs = hyps if a.nbest else hyps[:1]
                rec = [{"tokens": h["tokens"], "score": h["score"], "text": m.detok(h["tokens"])} for h in hs]
                print(json.dumps(rec if a.nbest else rec[0], ensure_ascii=False))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
