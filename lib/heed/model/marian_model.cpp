#include "heed/model/marian_model.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/core/prefault.h"
#include "heed/model/checkpoint.h"
#include "heed/model/weight_reader.h"
#include "heed/ops/cpu_isa.h"

namespace heed {
namespace fs = std::filesystem;

namespace {

// int8 compute reads weight matrices as int8 rows (WeightReader::read_int8),
// every other compute type as float32.
Linear read_linear(WeightReader &r, const std::string &prefix, int64_t out, int64_t in,
                   ops::ComputeType type) {
  Linear l;
  if (type == ops::ComputeType::int8)
    l.quantized_weight = r.read_int8(prefix + ".weight", {out, in});
  else
    l.weight = r.read(prefix + ".weight", {out, in});
  l.bias = r.read(prefix + ".bias", {out});
  return l;
}

LayerNorm read_norm(WeightReader &r, const std::string &prefix, int64_t d) {
  LayerNorm n;
  n.gamma = r.read(prefix + ".weight", {d});
  n.beta = r.read(prefix + ".bias", {d});
  return n;
}

// Several projections of the same input read into one layer, their rows
// stacked in order (the fused Q/K/V and cross-attention K/V projections): each
// part is read straight into its rows, never held apart and copied.
Linear read_fused_linear(WeightReader &r, const std::vector<std::string> &prefixes, int64_t out,
                         int64_t in, ops::ComputeType type) {
  const int64_t parts = static_cast<int64_t>(prefixes.size());
  for (const auto &p : prefixes) {
    r.require(p + ".weight", {out, in});
    r.require(p + ".bias", {out});
  }
  const bool int8 = type == ops::ComputeType::int8;
  Linear l;
  if (int8) {
    l.quantized_weight.resize(parts * out, in);
  } else {
    l.weight.resize({parts * out, in});
    // The parts below fill it whole (core/prefault.h).
    prefault_for_writing(l.weight.data(), sizeof(float) * static_cast<size_t>(l.weight.size()));
  }
  l.bias.resize({parts * out});
  for (int64_t i = 0; i < parts; ++i) {
    const std::string &p = prefixes[static_cast<size_t>(i)];
    if (int8)
      r.read_int8_into(p + ".weight", {out, in}, l.quantized_weight.values.data() + i * out * in,
                       l.quantized_weight.scales.data() + i * out);
    else
      r.read_into(p + ".weight", {out, in}, l.weight.data() + i * out * in);
    r.read_into(p + ".bias", {out}, l.bias.data() + i * out);
  }
  return l;
}

// HF multiplies projected queries by head_dim^-0.5; folding the factor into the
// projection (its first `rows` outputs) saves a pass over the queries at every
// step. int8 rows take it in their scales, so the int8 values stay those of
// the file (or of quantize_rows over the unscaled weights, for a float file).
void scale_queries(Linear &l, int64_t rows, int64_t heads) {
  const auto factor = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rows / heads)));
  if (!l.quantized_weight.empty()) {
    for (int64_t i = 0; i < rows; ++i)
      l.quantized_weight.scales[static_cast<size_t>(i)] *= factor;
  } else {
    for (int64_t i = 0; i < rows * l.in_features(); ++i)
      l.weight[i] *= factor;
  }
  for (int64_t i = 0; i < rows; ++i)
    l.bias[i] *= factor;
}

SelfAttention read_self_attention(WeightReader &r, const std::string &prefix, int64_t d,
                                  int64_t heads, ops::ComputeType type) {
  SelfAttention a;
  a.qkv = read_fused_linear(r, {prefix + ".q_proj", prefix + ".k_proj", prefix + ".v_proj"}, d, d,
                            type);
  scale_queries(a.qkv, d, heads);
  a.out = read_linear(r, prefix + ".out_proj", d, d, type);
  a.heads = heads;
  return a;
}

CrossAttention read_cross_attention(WeightReader &r, const std::string &prefix, int64_t d,
                                    int64_t heads, ops::ComputeType type) {
  CrossAttention a;
  a.q = read_linear(r, prefix + ".q_proj", d, d, type);
  scale_queries(a.q, d, heads);
  a.kv = read_fused_linear(r, {prefix + ".k_proj", prefix + ".v_proj"}, d, d, type);
  a.out = read_linear(r, prefix + ".out_proj", d, d, type);
  a.heads = heads;
  return a;
}

FeedForward read_feed_forward(WeightReader &r, const std::string &prefix, int64_t d, int64_t ffn,
                              ops::Activation act, ops::ComputeType type) {
  FeedForward f;
  f.fc1 = read_linear(r, prefix + ".fc1", ffn, d, type);
  f.fc2 = read_linear(r, prefix + ".fc2", d, ffn, type);
  f.activation = act;
  return f;
}

// The name of a token table [vocab, d]: the first of `names` present in the
// file; the others, if present, are tied duplicates and only have their shape
// checked.
std::string token_table_name(WeightReader &r, const std::vector<std::string> &names,
                             const std::vector<int64_t> &shape, const std::string &what) {
  const std::string *first = nullptr;
  for (const auto &name : names) {
    if (!r.has(name))
      continue;
    if (!first)
      first = &name;
    else
      r.skip(name, shape);
  }
  if (!first) {
    std::string list;
    for (const auto &name : names)
      list += (list.empty() ? "'" : ", '") + name + "'";
    throw ModelError(r.file().path() + ": missing " + what + " (expected one of " + list + ")");
  }
  return *first;
}

// A token table [vocab, d] into `e`, in int8 rows for int8 compute (no float32
// copy of the largest matrix, 60,000 x 1,024 in tc-big), else in float32.
void read_token_table(WeightReader &r, const std::string &name, const std::vector<int64_t> &shape,
                      ops::ComputeType type, Embeddings &e) {
  if (type == ops::ComputeType::int8)
    e.quantized_tokens = std::make_shared<QuantizedRows>(r.read_int8(name, shape));
  else
    e.tokens = std::make_shared<Tensor>(r.read(name, shape));
}

// A token table tied to the output projection, under float32 or bfloat16
// compute: packed straight from the file, block by block, so that no float32
// copy of the largest matrix (58,101 x 512 in OPUS-MT en-de, 119 MB) is ever
// made; the embeddings then read their rows from the packed weights.
void pack_tied_token_table(WeightReader &r, const std::string &name,
                           const std::vector<int64_t> &shape, ops::ComputeType type, Linear &output,
                           std::initializer_list<Embeddings *> embeddings) {
  r.require(name, shape); // before allocating what config.json asks for
  output.packed = ops::PackedWeights::from_row_blocks(
      shape[0], shape[1], type,
      [&](int64_t block_rows, const ops::PackedWeights::RowBlockSink &sink) {
        r.read_row_blocks(name, shape, block_rows, sink);
      });
  if (!output.packed.rows_readable())
    throw std::logic_error("pack_tied_token_table: packed rows must be readable");
  for (Embeddings *e : embeddings)
    e->packed_tokens = output.packed;
}

Tensor read_positions(WeightReader &r, const std::string &name, int64_t positions, int64_t d) {
  // HF keeps the sinusoidal table in the state dict; use the stored one when
  // present (that is what HF loads), else build it.
  if (r.has(name))
    return r.read(name, {positions, d});
  return sinusoidal_positions(positions, d);
}

// Quantizes (int8) and reorders dense layers for the compute type, dropping
// their float32 copies; returns the packed bytes. Each layer is packed as soon
// as it is read, so at most one layer exists twice during loading.
int64_t pack(ops::ComputeType type, std::initializer_list<Linear *> layers) {
  int64_t bytes = 0;
  for (Linear *l : layers) {
    l->pack(type);
    bytes += static_cast<int64_t>(l->packed.bytes());
  }
  return bytes;
}

// In bfloat16, token embeddings are kept in bfloat16, rounded as the packed
// weights and `heed convert --quantize bfloat16` round them.
std::shared_ptr<const BFloat16Rows> bfloat16_table(const Tensor &table) {
  auto b = std::make_shared<BFloat16Rows>();
  b->rows = table.dim(0);
  b->cols = table.dim(1);
  b->values.resize(static_cast<size_t>(b->rows * b->cols));
  for (size_t i = 0; i < b->values.size(); ++i)
    b->values[i] = to_bfloat16(table[static_cast<int64_t>(i)]);
  return b;
}

// The compute type a load asks for, or the model's own: int8 for a model
// converted to int8; bfloat16 for one converted to bfloat16 where the
// processor computes it (elsewhere its bfloat16 weights are computed in
// float32, which gives them exactly); else float32.
ops::ComputeType choose_compute_type(const LoadOptions &options, const MarianConfig &c) {
  if (options.compute_type)
    return *options.compute_type;
  if (c.quantized_weights == "int8")
    return ops::ComputeType::int8;
  if (c.quantized_weights == "bfloat16" && ops::has_bfloat16_kernels())
    return ops::ComputeType::bfloat16;
  return ops::ComputeType::float32;
}

} // namespace

std::shared_ptr<const MarianModel> MarianModel::load(const std::string &dir,
                                                     const LoadOptions &options) {
  const auto started = std::chrono::steady_clock::now();
  Checkpoint checkpoint = open_checkpoint(dir);
  auto model = std::make_shared<MarianModel>();
  model->directory = checkpoint.directory;
  model->format = checkpoint.format;
  model->config = checkpoint.config;
  model->generation = checkpoint.generation;
  model->alignment_layer = checkpoint.alignment_layer;
  const MarianConfig &c = model->config;
  model->compute_type = choose_compute_type(options, c);
  // Before any weight is read: bfloat16 without the instructions would run on
  // oneDNN's reference kernels, if at all.
  if (model->compute_type == ops::ComputeType::bfloat16 && !ops::has_bfloat16_kernels())
    throw OptionError("compute type bfloat16: " + ops::bfloat16_unavailable_reason());
  const int64_t d = c.d_model;

  const io::TensorArchive &file = *checkpoint.tensors;
  model->weights_path = file.path();
  model->weights_file_bytes = static_cast<int64_t>(file.file_bytes());
  std::set<std::string> dtypes;
  for (const auto &[name, entry] : file.tensors())
    dtypes.insert(io::dtype_name(entry.dtype));
  for (const auto &name : dtypes)
    model->weights_dtype += (model->weights_dtype.empty() ? "" : "+") + name;

  WeightReader r(file);
  const ops::ComputeType type = model->compute_type;
  r.round_matrices_to_bfloat16(type == ops::ComputeType::bfloat16);
  Encoder &enc = model->encoder;
  Decoder &dec = model->decoder;
  const float scale =
      c.scale_embedding ? static_cast<float>(std::sqrt(static_cast<double>(d))) : 1.f;
  int64_t &packed = model->packed_weight_bytes;
  Linear &output = dec.output_projection;
  // The decoder's table becomes the output projection's weights: packed
  // before the layers are read, so that no float32 copy of the largest matrix
  // sits beside them. float32 and bfloat16 pack it straight from the file;
  // int8 quantizes it row by row first.
  const bool stream_tied = c.tie_word_embeddings && type != ops::ComputeType::int8;
  if (c.share_encoder_decoder_embeddings) {
    const std::string name =
        token_table_name(r,
                         {"model.shared.weight", "model.encoder.embed_tokens.weight",
                          "model.decoder.embed_tokens.weight"},
                         {c.vocab_size, d}, "shared token embeddings");
    if (stream_tied) {
      pack_tied_token_table(r, name, {c.vocab_size, d}, type, output,
                            {&enc.embeddings, &dec.embeddings});
    } else {
      read_token_table(r, name, {c.vocab_size, d}, type, enc.embeddings);
      dec.embeddings.tokens = enc.embeddings.tokens;
      dec.embeddings.quantized_tokens = enc.embeddings.quantized_tokens;
    }
  } else {
    read_token_table(r,
                     token_table_name(r,
                                      {"model.encoder.embed_tokens.weight", "model.shared.weight"},
                                      {c.vocab_size, d}, "encoder token embeddings"),
                     {c.vocab_size, d}, type, enc.embeddings);
    const std::string name =
        token_table_name(r, {"model.decoder.embed_tokens.weight"}, {c.decoder_vocab_size, d},
                         "decoder token embeddings");
    if (stream_tied)
      pack_tied_token_table(r, name, {c.decoder_vocab_size, d}, type, output, {&dec.embeddings});
    else
      read_token_table(r, name, {c.decoder_vocab_size, d}, type, dec.embeddings);
  }
  if (stream_tied) {
    packed += static_cast<int64_t>(output.packed.bytes());
  } else if (c.tie_word_embeddings) {
    // int8: packed from the table's 8-bit rows.
    output.pack_from(*dec.embeddings.quantized_tokens);
    packed += static_cast<int64_t>(output.packed.bytes());
    // The table is then read from the packed weights where they hold its
    // values (all but int8 on processors without VNNI), and dropped: it
    // exists once, not twice (30 MB of int8 in OPUS-MT en-de, 61 MB in
    // tc-big). The encoder's too when the table is shared.
    if (output.packed.rows_readable()) {
      const bool shared = c.share_encoder_decoder_embeddings;
      for (Embeddings *e : {&dec.embeddings, shared ? &enc.embeddings : nullptr}) {
        if (!e)
          continue;
        e->packed_tokens = output.packed;
        e->tokens.reset();
        e->quantized_tokens.reset();
      }
    }
  }

  enc.embeddings.scale = scale;
  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    const std::string p = "model.encoder.layers." + std::to_string(i);
    EncoderLayer layer;
    layer.self_attn = read_self_attention(r, p + ".self_attn", d, c.encoder_attention_heads, type);
    layer.self_attn_norm = read_norm(r, p + ".self_attn_layer_norm", d);
    layer.ffn = read_feed_forward(r, p, d, c.encoder_ffn_dim, c.activation, type);
    layer.final_norm = read_norm(r, p + ".final_layer_norm", d);
    packed +=
        pack(type, {&layer.self_attn.qkv, &layer.self_attn.out, &layer.ffn.fc1, &layer.ffn.fc2});
    enc.layers.push_back(std::move(layer));
  }

  dec.embeddings.scale = scale;
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    const std::string p = "model.decoder.layers." + std::to_string(i);
    DecoderLayer layer;
    layer.self_attn = read_self_attention(r, p + ".self_attn", d, c.decoder_attention_heads, type);
    layer.self_attn_norm = read_norm(r, p + ".self_attn_layer_norm", d);
    layer.cross_attn =
        read_cross_attention(r, p + ".encoder_attn", d, c.decoder_attention_heads, type);
    layer.cross_attn_norm = read_norm(r, p + ".encoder_attn_layer_norm", d);
    layer.ffn = read_feed_forward(r, p, d, c.decoder_ffn_dim, c.activation, type);
    layer.final_norm = read_norm(r, p + ".final_layer_norm", d);
    packed +=
        pack(type, {&layer.self_attn.qkv, &layer.self_attn.out, &layer.cross_attn.q,
                    &layer.cross_attn.kv, &layer.cross_attn.out, &layer.ffn.fc1, &layer.ffn.fc2});
    dec.layers.push_back(std::move(layer));
  }
  // Positions last: a table missing from the file is built from config.json's
  // sizes, so d_model must first have been checked against every matrix (a
  // hostile config must not make heed allocate what the file does not back).
  enc.embeddings.positions =
      read_positions(r, "model.encoder.embed_positions.weight", c.max_position_embeddings, d);
  dec.embeddings.positions =
      read_positions(r, "model.decoder.embed_positions.weight", c.max_position_embeddings, d);
  if (c.tie_word_embeddings) {
    // Packed above from the token table.
    if (r.has("lm_head.weight"))
      r.skip("lm_head.weight", {c.decoder_vocab_size, d});
  } else if (type == ops::ComputeType::int8) {
    output.quantized_weight = r.read_int8("lm_head.weight", {c.decoder_vocab_size, d});
  } else {
    output.weight = r.read("lm_head.weight", {c.decoder_vocab_size, d});
  }
  if (r.has("final_logits_bias")) {
    output.bias = r.read("final_logits_bias", {1, c.decoder_vocab_size});
    output.bias.resize({c.decoder_vocab_size});
  } else {
    // HF registers the bias as a zero buffer when the checkpoint lacks it.
    output.bias.resize({c.decoder_vocab_size});
    output.bias.fill(0.f);
  }
  r.check_all_used();
  if (!c.tie_word_embeddings) {
    output.pack(type);
    packed += static_cast<int64_t>(output.packed.bytes());
  }
  // bfloat16 keeps the other token tables in bfloat16 (no float32 copy), a
  // table shared by encoder and decoder converted once. (int8 read them in
  // int8.)
  if (type == ops::ComputeType::bfloat16) {
    const bool shared = enc.embeddings.tokens == dec.embeddings.tokens;
    if (enc.embeddings.tokens)
      enc.embeddings.bfloat16_tokens = bfloat16_table(*enc.embeddings.tokens);
    if (dec.embeddings.tokens)
      dec.embeddings.bfloat16_tokens =
          shared ? enc.embeddings.bfloat16_tokens : bfloat16_table(*dec.embeddings.tokens);
    enc.embeddings.tokens.reset();
    dec.embeddings.tokens.reset();
  }

  TokenizerSpec spec;
  spec.eos_token_id = c.eos_token_id;
  spec.pad_token_id = c.pad_token_id;
  spec.vocab_size = c.vocab_size;
  spec.decoder_vocab_size = c.decoder_vocab_size;
  spec.shared_vocab = c.share_encoder_decoder_embeddings;
  if (checkpoint.source_vocab)
    model->tokenizer =
        std::make_unique<Tokenizer>(model->directory, spec, std::move(*checkpoint.source_vocab),
                                    std::move(checkpoint.target_vocab));
  else
    model->tokenizer = std::make_unique<Tokenizer>(model->directory, spec);
  model->source_language = model_source_language(model->directory);
  // A tensor stored once under several names (pytorch_model.bin's tied
  // embeddings share one storage) counts once.
  int64_t parameters = 0;
  std::set<const uint8_t *> counted;
  for (const auto &[name, entry] : file.tensors())
    if (name.find("embed_positions") == std::string::npos && counted.insert(entry.data).second)
      parameters += entry.numel();
  model->parameter_count = parameters;
  model->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return model;
}

} // namespace heed
