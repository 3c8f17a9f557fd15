"""A Marian transformer in PyTorch with Hugging Face MarianMTModel's parameter
names and semantics, so that its state dict exports 1:1 to an HF model directory.

  * post-norm layers (BART style): x = LN(x + Dropout(SubLayer(x)));
  * sinusoidal positions exactly as MarianSinusoidalPositionalEmbedding (first
    half of the columns sin, second half cos), frozen, stored under
    model.{encoder,decoder}.embed_positions.weight;
  * token embeddings scaled by sqrt(d_model); one table model.shared.weight for
    encoder input, decoder input and output projection (tied lm_head);
  * output bias final_logits_bias [1, V] (a learned parameter here, as Marian's
    output bias; HF stores it as a buffer, the inference semantics are the same);
  * attention queries scaled by head_dim**-0.5, LayerNorm eps 1e-5, activation
    swish / relu / gelu / gelu_new; no final encoder/decoder layer norm and no
    embedding layer norm (normalize_before = normalize_embedding = False).

State dict keys (no duplicates for the tied tables):
  model.shared.weight, model.encoder.embed_positions.weight,
  model.encoder.layers.N.{self_attn.{q,k,v,out}_proj, self_attn_layer_norm, fc1, fc2, final_layer_norm}.*,
  model.decoder.embed_positions.weight,
  model.decoder.layers.N.{self_attn.*, self_attn_layer_norm, encoder_attn.*, encoder_attn_layer_norm,
                          fc1, fc2, final_layer_norm}.*,
  final_logits_bias
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int
    pad_token_id: int
    eos_token_id: int = 0
    d_model: int = 256
    encoder_layers: int = 3
    decoder_layers: int = 3
    encoder_attention_heads: int = 4
    decoder_attention_heads: int = 4
    encoder_ffn_dim: int = 1024
    decoder_ffn_dim: int = 1024
    activation_function: str = "swish"
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation_dropout: float = 0.0
    max_position_embeddings: int = 512
    scale_embedding: bool = True

    @property
    def decoder_start_token_id(self):
        return self.pad_token_id

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def activation(name):
    if name in ("swish", "silu"):
        return F.silu
    if name == "relu":
        return F.relu
    if name == "gelu":
        return F.gelu
    if name == "gelu_new":
        c = math.sqrt(2.0 / math.pi)
        return lambda x: 0.5 * x * (1.0 + torch.tanh(c * (x + 0.044715 * torch.pow(x, 3.0))))
    raise ValueError(f"unsupported activation {name!r}")


def sinusoidal_table(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding._init_weight: column j < ceil(dim/2)
    holds sin(pos / 10000^(2j/dim)), column ceil(dim/2)+j holds cos(...);
    computed in float64 like numpy in HF, rounded to float32."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    j = np.arange(dim)
    enc = pos / np.power(10000.0, 2 * (j // 2) / dim)[None, :]
    out = np.empty((n_pos, dim), dtype=np.float32)
    half = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    out[:, :half] = np.sin(enc[:, 0::2])
    out[:, half:] = np.cos(enc[:, 1::2])
    return torch.from_numpy(out)


class SinusoidalPositions(nn.Module):
    def __init__(self, n_pos, dim):
        super().__init__()
        self.register_buffer("weight", sinusoidal_table(n_pos, dim))

    def forward(self, length, start=0):
        if start + length > self.weight.shape[0]:
            raise ValueError(f"sequence of {start + length} positions > max_position_embeddings "
                             f"{self.weight.shape[0]}")
        return self.weight[start:start + length]


class Attention(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        assert d % heads == 0, "d_model must be a multiple of the number of heads"
        self.heads, self.head_dim, self.dropout = heads, d // heads, dropout
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def kv(self, x):
        return self.split(self.k_proj(x)), self.split(self.v_proj(x))

    def forward(self, x, k, v, mask_add):
        """x [B,T,d]; k, v [B,H,S,hd]; mask_add broadcastable to [B,H,T,S] (0 / -inf-ish)."""
        q = self.split(self.q_proj(x) * self.scaling)
        w = torch.matmul(q, k.transpose(-1, -2))
        if mask_add is not None:
            w = w + mask_add
        w = torch.softmax(w, dim=-1)
        w = F.dropout(w, self.dropout, self.training)
        o = torch.matmul(w, v)
        b, h, t, hd = o.shape
        return self.out_proj(o.transpose(1, 2).reshape(b, t, h * hd))


class EncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c.d_model
        self.self_attn = Attention(d, c.encoder_attention_heads, c.attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.fc1 = nn.Linear(d, c.encoder_ffn_dim)
        self.fc2 = nn.Linear(c.encoder_ffn_dim, d)
        self.final_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.act = activation(c.activation_function)
        self.dropout, self.act_dropout = c.dropout, c.activation_dropout

    def forward(self, h, mask_add):
        k, v = self.self_attn.kv(h)
        a = self.self_attn(h, k, v, mask_add)
        h = self.self_attn_layer_norm(h + F.dropout(a, self.dropout, self.training))
        f = F.dropout(self.act(self.fc1(h)), self.act_dropout, self.training)
        f = F.dropout(self.fc2(f), self.dropout, self.training)
        return self.final_layer_norm(h + f)


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c.d_model
        self.self_attn = Attention(d, c.decoder_attention_heads, c.attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.encoder_attn = Attention(d, c.decoder_attention_heads, c.attention_dropout)
        self.encoder_attn_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.fc1 = nn.Linear(d, c.decoder_ffn_dim)
        self.fc2 = nn.Linear(c.decoder_ffn_dim, d)
        self.final_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.act = activation(c.activation_function)
        self.dropout, self.act_dropout = c.dropout, c.activation_dropout

    def forward(self, h, self_kv, self_mask, cross_kv, cross_mask):
        a = self.self_attn(h, self_kv[0], self_kv[1], self_mask)
        h = self.self_attn_layer_norm(h + F.dropout(a, self.dropout, self.training))
        a = self.encoder_attn(h, cross_kv[0], cross_kv[1], cross_mask)
        h = self.encoder_attn_layer_norm(h + F.dropout(a, self.dropout, self.training))
        f = F.dropout(self.act(self.fc1(h)), self.act_dropout, self.training)
        f = F.dropout(self.fc2(f), self.dropout, self.training)
        return self.final_layer_norm(h + f)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_positions = SinusoidalPositions(c.max_position_embeddings, c.d_model)
        self.layers = nn.ModuleList([EncoderLayer(c) for _ in range(c.encoder_layers)])


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_positions = SinusoidalPositions(c.max_position_embeddings, c.d_model)
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c.decoder_layers)])


class MarianModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.shared = nn.Embedding(c.vocab_size, c.d_model)
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)


def padding_mask(attention_mask):
    """bool [B,S] (True = token) -> additive [B,1,1,S]."""
    fmin = torch.finfo(torch.float32).min
    return torch.zeros(attention_mask.shape, dtype=torch.float32).masked_fill(
        ~attention_mask, fmin)[:, None, None, :]


class DecoderCache:
    """Incremental decoding state: per layer self-attention (k, v) and
    cross-attention (k, v), the encoder padding mask, the decoded length."""

    def __init__(self, self_kv, cross_kv, cross_mask):
        self.self_kv, self.cross_kv, self.cross_mask, self.length = self_kv, cross_kv, cross_mask, 0

    def reorder(self, index):
        self.self_kv = [(k.index_select(0, index), v.index_select(0, index)) for k, v in self.self_kv]
        self.cross_kv = [(k.index_select(0, index), v.index_select(0, index)) for k, v in self.cross_kv]
        self.cross_mask = self.cross_mask.index_select(0, index)


class MarianMTModel(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.model = MarianModel(config)
        self.final_logits_bias = nn.Parameter(torch.zeros(1, config.vocab_size))
        self.embed_scale = math.sqrt(config.d_model) if config.scale_embedding else 1.0
        self.reset_parameters()

    def reset_parameters(self):
        """Transformer-base style init: embeddings N(0, d^-1/2) (unit variance
        after the sqrt(d) scale), Xavier-uniform projections, zero biases."""
        d = self.config.d_model
        nn.init.normal_(self.model.shared.weight, 0.0, d ** -0.5)
        for name, p in self.named_parameters():
            if name.startswith("model.shared") or name == "final_logits_bias":
                continue
            if "layer_norm" in name:
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            elif name.endswith(".weight"):
                nn.init.xavier_uniform_(p)
            else:
                nn.init.zeros_(p)
        nn.init.zeros_(self.final_logits_bias)

    # ------------------------------------------------------------ encoder
    def encode(self, input_ids, attention_mask):
        emb = self.model.shared(input_ids) * self.embed_scale
        h = emb + self.model.encoder.embed_positions(input_ids.shape[1])[None]
        h = F.dropout(h, self.config.dropout, self.training)
        mask = padding_mask(attention_mask)
        for layer in self.model.encoder.layers:
            h = layer(h, mask)
        return h

    # ------------------------------------------------------------ decoder
    def _embed_target(self, ids, start):
        h = self.model.shared(ids) * self.embed_scale
        h = h + self.model.decoder.embed_positions(ids.shape[1], start)[None]
        return F.dropout(h, self.config.dropout, self.training)

    def decode(self, decoder_input_ids, enc_out, attention_mask):
        """Full (teacher-forced) decoder pass -> hidden states [B,T,d]."""
        t = decoder_input_ids.shape[1]
        h = self._embed_target(decoder_input_ids, 0)
        fmin = torch.finfo(torch.float32).min
        causal = torch.triu(torch.full((t, t), fmin), diagonal=1)[None, None]
        cross_mask = padding_mask(attention_mask)
        for layer in self.model.decoder.layers:
            self_kv = layer.self_attn.kv(h)
            cross_kv = layer.encoder_attn.kv(enc_out)
            h = layer(h, self_kv, causal, cross_kv, cross_mask)
        return h

    def logits(self, hidden):
        return F.linear(hidden, self.model.shared.weight) + self.final_logits_bias[0]

    def forward(self, input_ids, attention_mask, decoder_input_ids):
        """-> decoder hidden states [B,T,d]; apply .logits() to the rows you need."""
        return self.decode(decoder_input_ids, self.encode(input_ids, attention_mask), attention_mask)

    # ------------------------------------------------------------ incremental decoding
    def init_cache(self, enc_out, attention_mask):
        layers = self.model.decoder.layers
        cross = [layer.encoder_attn.kv(enc_out) for layer in layers]
        b = enc_out.shape[0]
        empty = []
        for layer in layers:
            hd = layer.self_attn.head_dim
            z = torch.zeros((b, layer.self_attn.heads, 0, hd))
            empty.append((z, z))
        return DecoderCache(empty, cross, padding_mask(attention_mask))

    def decode_step(self, tokens, cache):
        """tokens [N,1] at position cache.length -> logits [N,V]; updates the cache."""
        h = self._embed_target(tokens, cache.length)
        for i, layer in enumerate(self.model.decoder.layers):
            k, v = layer.self_attn.kv(h)
            pk, pv = cache.self_kv[i]
            k, v = torch.cat([pk, k], dim=2), torch.cat([pv, v], dim=2)
            cache.self_kv[i] = (k, v)
            h = layer(h, (k, v), None, cache.cross_kv[i], cache.cross_mask)
        cache.length += tokens.shape[1]
        return self.logits(h[:, -1])


def count_parameters(model):
    """Trained parameters (positions are fixed buffers)."""
    return sum(p.numel() for p in model.parameters())
