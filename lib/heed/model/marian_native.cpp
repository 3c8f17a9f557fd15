#include "heed/model/marian_native.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "heed/core/error.h"
#include "heed/io/npz_archive.h"
#include "heed/io/printable.h"
#include "heed/io/regular_file.h"

namespace heed {
namespace fs = std::filesystem;

namespace {

constexpr const char *kConfigKey = "special:model.yml";
constexpr const char *kBiasKey = "decoder_ff_logit_out_b";
// Bounds on the special:model.yml text, far above any real one (a few KB).
constexpr uint64_t kMaxModelYmlBytes = uint64_t{1} << 20;

// BART_CONVERTER: Marian's per-layer suffix -> the Hugging Face name inside
// model.{encoder,decoder}.layers.N. The encoder uses the first 16, the
// decoder all 26.
constexpr std::pair<const char *, const char *> kLayerNames[] = {
    {"self_Wq", "self_attn.q_proj.weight"},
    {"self_Wk", "self_attn.k_proj.weight"},
    {"self_Wv", "self_attn.v_proj.weight"},
    {"self_Wo", "self_attn.out_proj.weight"},
    {"self_bq", "self_attn.q_proj.bias"},
    {"self_bk", "self_attn.k_proj.bias"},
    {"self_bv", "self_attn.v_proj.bias"},
    {"self_bo", "self_attn.out_proj.bias"},
    {"self_Wo_ln_scale", "self_attn_layer_norm.weight"},
    {"self_Wo_ln_bias", "self_attn_layer_norm.bias"},
    {"ffn_W1", "fc1.weight"},
    {"ffn_b1", "fc1.bias"},
    {"ffn_W2", "fc2.weight"},
    {"ffn_b2", "fc2.bias"},
    {"ffn_ffn_ln_scale", "final_layer_norm.weight"},
    {"ffn_ffn_ln_bias", "final_layer_norm.bias"},
    {"context_Wq", "encoder_attn.q_proj.weight"},
    {"context_Wk", "encoder_attn.k_proj.weight"},
    {"context_Wv", "encoder_attn.v_proj.weight"},
    {"context_Wo", "encoder_attn.out_proj.weight"},
    {"context_bq", "encoder_attn.q_proj.bias"},
    {"context_bk", "encoder_attn.k_proj.bias"},
    {"context_bv", "encoder_attn.v_proj.bias"},
    {"context_bo", "encoder_attn.out_proj.bias"},
    {"context_Wo_ln_scale", "encoder_attn_layer_norm.weight"},
    {"context_Wo_ln_bias", "encoder_attn_layer_norm.bias"},
};
constexpr size_t kEncoderLayerKeys = 16;

bool present(const fs::path &path) {
  return io::model_path_kind(path.string()) != io::PathKind::missing;
}

YAML::Node parse_yaml(const std::string &text, const std::string &what) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception &e) {
    throw ModelError(what + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML (" +
                     io::printable(e.msg) + ")");
  }
}

// A YAML mapping's top-level entries with the converter's reading:
// yaml.BaseLoader (every scalar a string) then cast_marian_config, which turns
// top-level "true"/"false" into booleans and integers into ints. Nested nodes
// are only ever looked at one level down (dim-vocabs, models, vocabs), so
// aliases cannot make this walk grow.
class YamlFields {
public:
  YamlFields(const YAML::Node &root, std::string what) : what_(std::move(what)) {
    if (!root.IsMap())
      throw ModelError(what_ + ": expected a YAML mapping");
    for (const auto &entry : root) {
      if (!entry.first.IsScalar())
        throw ModelError(what_ + ": has a key that is not a string");
      fields_[entry.first.Scalar()] = entry.second;
    }
  }

  const std::string &what() const { return what_; }
  bool has(const std::string &key) const { return fields_.count(key) != 0; }
  [[noreturn]] void fail(const std::string &key, const std::string &problem) const {
    throw ModelError(what_ + ": " + key + " " + problem);
  }
  const YAML::Node &node(const std::string &key) const {
    auto it = fields_.find(key);
    if (it == fields_.end())
      throw ModelError(what_ + ": has no " + key + " (the converter requires it)");
    return it->second;
  }
  // A scalar's text (BaseLoader: an empty or null scalar is "").
  std::string text(const std::string &key) const {
    const YAML::Node &n = node(key);
    if (n.IsNull())
      return "";
    if (!n.IsScalar())
      fail(key, "is not a single value");
    return n.Scalar();
  }
  bool flag(const std::string &key) const {
    const std::string v = text(key);
    if (v == "true")
      return true;
    if (v == "false")
      return false;
    fail(key, "is \"" + io::printable(v) + "\", expected true or false");
  }
  int64_t integer(const std::string &key, int64_t lo, int64_t hi) const {
    const std::string v = text(key);
    const auto parsed = parse_int(v);
    if (!parsed)
      fail(key, "is \"" + io::printable(v) + "\", expected an integer");
    if (*parsed < lo || *parsed > hi)
      fail(key, "is " + std::to_string(*parsed) + ", outside [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
    return *parsed;
  }
  // The scalar items of a sequence (empty for a null value).
  std::vector<std::string> list(const std::string &key) const {
    const YAML::Node &n = node(key);
    std::vector<std::string> items;
    if (n.IsNull())
      return items;
    if (!n.IsSequence())
      fail(key, "is not a list");
    for (const auto &item : n) {
      if (!item.IsScalar())
        fail(key, "has an item that is not a single value");
      items.push_back(item.Scalar());
    }
    return items;
  }

  // int() of a YAML scalar as the converter's _cast_yaml_str does it, for the
  // integers real files hold: optional sign, decimal digits.
  static std::optional<int64_t> parse_int(const std::string &v) {
    size_t i = (!v.empty() && (v[0] == '+' || v[0] == '-')) ? 1 : 0;
    if (i == v.size() || v.size() - i > 18)
      return std::nullopt;
    for (size_t j = i; j < v.size(); ++j)
      if (v[j] < '0' || v[j] > '9')
        return std::nullopt;
    const int64_t value = std::stoll(v.substr(i));
    return v[0] == '-' ? -value : value;
  }

private:
  std::string what_;
  std::map<std::string, YAML::Node> fields_;
};

// special:model.yml's text: the bytes up to the first NUL (older Marian ends
// the text with one NUL, newer pads with NULs to a multiple of 256; the
// converter's [:-1] handles only the first). What follows must be NULs.
std::string model_yml_text(const io::NpzArchive &npz) {
  const std::string what = npz.path() + ": " + kConfigKey;
  if (!npz.contains(kConfigKey))
    throw ModelError(npz.path() + ": has no " + kConfigKey +
                     " (not a Marian model, or saved without its config)");
  const io::NpyArray a = npz.read(kConfigKey);
  if (a.type != io::NpyType::i8 && a.type != io::NpyType::u8)
    throw ModelError(what + ": is " + io::npy_type_name(a.type) + ", expected bytes (int8)");
  if (a.data.size() > kMaxModelYmlBytes)
    throw ModelError(what + ": is " + std::to_string(a.data.size()) + " bytes, more than " +
                     std::to_string(kMaxModelYmlBytes));
  const auto nul = std::find(a.data.begin(), a.data.end(), uint8_t{0});
  if (nul == a.data.end())
    throw ModelError(what + ": does not end with a NUL byte");
  if (std::any_of(nul, a.data.end(), [](uint8_t b) { return b != 0; }))
    throw ModelError(what + ": has bytes after the NUL that ends its text");
  return std::string(a.data.begin(), nul);
}

// check_marian_cfg_assumptions, then what the converter does not check but
// would silently turn into a different model.
void check_architecture(const YamlFields &cfg) {
  const auto expect_flag = [&](const char *key, bool wanted, const std::string &why) {
    if (cfg.flag(key) != wanted)
      cfg.fail(key, std::string("is ") + (wanted ? "false" : "true") + ": " + why);
  };
  const auto expect_int = [&](const char *key, int64_t wanted, const std::string &why) {
    if (cfg.integer(key, INT64_MIN / 2, INT64_MAX / 2) != wanted)
      cfg.fail(key, "is " + cfg.text(key) + ", expected " + std::to_string(wanted) + ": " + why);
  };
  const auto expect_text = [&](const char *key, const std::string &wanted, const std::string &why) {
    if (cfg.text(key) != wanted)
      cfg.fail(key,
               "is \"" + io::printable(cfg.text(key)) + "\", expected \"" + wanted + "\": " + why);
  };
  // Not a transformer first: the other types lack most keys below.
  const std::string type = cfg.text("type");
  if (type != "transformer")
    cfg.fail("type", "is \"" + io::printable(type) +
                         "\": heed runs Marian transformer models only (as the converter)");
  if (cfg.has("transformer-decoder-autoreg") &&
      cfg.text("transformer-decoder-autoreg") != "self-attention") {
    const std::string autoreg = cfg.text("transformer-decoder-autoreg");
    const std::string cell = cfg.has("dec-cell") ? cfg.text("dec-cell") : "";
    cfg.fail("transformer-decoder-autoreg",
             "is \"" + io::printable(autoreg) + "\"" +
                 (autoreg == "rnn" ? " (dec-cell \"" + io::printable(cell) + "\")" : "") +
                 ": only self-attention decoders convert to MarianMTModel" +
                 (cell == "ssru" ? " (an SSRU decoder is not supported)" : ""));
  }
  if (cfg.has("dec-cell") && cfg.text("dec-cell") == "ssru")
    cfg.fail("dec-cell", "is \"ssru\": an SSRU decoder does not convert to MarianMTModel");
  const std::string arch = "MarianMTModel has no such layer";
  expect_flag("layer-normalization", false, arch);
  expect_flag("right-left", false, "right-to-left models are not supported");
  expect_int("transformer-ffn-depth", 2, arch);
  expect_int("transformer-aan-depth", 2, arch);
  expect_flag("transformer-no-projection", false, arch);
  expect_text("transformer-postprocess-emb", "d", arch);
  expect_text("transformer-postprocess", "dan", "MarianMTModel is post-norm (dropout, add, norm)");
  expect_text("transformer-preprocess", "", "pre-norm models are not supported");
  expect_int("ulr-dim-emb", 0, arch);
  expect_int("dec-cell-base-depth", 2, arch);
  expect_int("dec-cell-high-depth", 1, arch);
  expect_flag("transformer-aan-nogate", false, arch);
  // Beyond the converter's checks: keys of newer Marian versions that change
  // the network where set.
  if (cfg.has("transformer-tied-layers") && !cfg.list("transformer-tied-layers").empty())
    cfg.fail("transformer-tied-layers", "is not empty: tied layers are not supported");
  const int64_t ffn = cfg.integer("transformer-dim-ffn", 1, INT64_MAX / 2);
  if (cfg.has("transformer-decoder-dim-ffn")) {
    const int64_t dec = cfg.integer("transformer-decoder-dim-ffn", 0, INT64_MAX / 2);
    if (dec != 0 && dec != ffn)
      cfg.fail("transformer-decoder-dim-ffn",
               "is " + std::to_string(dec) + ", not transformer-dim-ffn (" + std::to_string(ffn) +
                   "): the converter gives both sides transformer-dim-ffn");
  }
  if (cfg.has("transformer-decoder-ffn-depth")) {
    const int64_t depth = cfg.integer("transformer-decoder-ffn-depth", 0, INT64_MAX / 2);
    if (depth != 0 && depth != 2)
      cfg.fail("transformer-decoder-ffn-depth", "is " + std::to_string(depth) + ": " + arch);
  }
  for (const char *key : {"transformer-postprocess-top", "transformer-attention-mask"})
    if (cfg.has(key) && !cfg.text(key).empty())
      cfg.fail(key, "is not empty: " + arch);
  for (const char *key : {"output-omit-bias", "transformer-no-bias", "transformer-no-affine",
                          "transformer-disable-position-embeddings", "transformer-depth-scaling",
                          "transformer-pool", "transformer-alibi-shift",
                          "transformer-alibi-trainable", "transformer-rnn-projection", "ulr"})
    if (cfg.has(key) && cfg.flag(key))
      cfg.fail(key, "is true: MarianMTModel cannot express it");
  // static_position_embeddings = not transformer-train-position-embeddings,
  // which load_marian_model requires.
  if (cfg.flag("transformer-train-position-embeddings"))
    cfg.fail("transformer-train-position-embeddings",
             "is true: learned positions are not supported (the converter refuses them)");
  for (const char *key : {"factors-dim-emb", "lemma-dim-emb"})
    if (cfg.has(key) && cfg.integer(key, INT64_MIN / 2, INT64_MAX / 2) > 0)
      cfg.fail(key, "is set: factored vocabularies are not supported");
}

io::DType weight_dtype(const io::NpzArchive &npz, const std::string &name, io::NpyType type) {
  if (type == io::NpyType::f32)
    return io::DType::f32;
  if (type == io::NpyType::f16)
    return io::DType::f16;
  throw ModelError(npz.path() + ": tensor " + io::printable(name) + " is " +
                   io::npy_type_name(type) + ", expected float32 or float16");
}

// out[c][r] = in[r][c] for a rows x cols matrix of T, in tiles that stay in
// the cache (a model's matrices are read once at load: this is most of it).
template <typename T>
void transpose(const uint8_t *in_bytes, uint8_t *out_bytes, size_t rows, size_t cols) {
  constexpr size_t kTile = 32;
  // Column tiles write disjoint rows of `out`: split across the threads
  // (page faults on the fresh buffer included).
  const auto column_tiles = static_cast<int64_t>((cols + kTile - 1) / kTile);
#pragma omp parallel for schedule(static) if (rows * cols >= (1u << 16))
  for (int64_t t = 0; t < column_tiles; ++t)
    for (size_t r0 = 0; r0 < rows; r0 += kTile) {
      const size_t c0 = static_cast<size_t>(t) * kTile;
      const size_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (size_t c = c0; c < c1; ++c)
        for (size_t r = r0; r < r1; ++r) {
          T v;
          std::memcpy(&v, in_bytes + (r * cols + c) * sizeof(T), sizeof(T));
          std::memcpy(out_bytes + (c * rows + r) * sizeof(T), &v, sizeof(T));
        }
    }
}

// numpy's .T then torch's squeeze(): a matrix [in, out] becomes [out, in];
// every dimension of size 1 goes ([1, d] biases become [d]).
std::pair<std::vector<int64_t>, std::vector<uint8_t>> transpose_squeeze(const io::NpyArray &a,
                                                                        const std::string &what) {
  std::vector<int64_t> shape = a.shape;
  std::vector<uint8_t> data;
  if (shape.size() > 2)
    throw ModelError(what + ": has " + std::to_string(shape.size()) +
                     " dimensions (Marian stores matrices and [1, n] vectors)");
  if (shape.size() == 2 && shape[0] > 1 && shape[1] > 1) {
    const auto rows = static_cast<size_t>(shape[0]), cols = static_cast<size_t>(shape[1]);
    data.resize(a.data.size());
    switch (io::npy_type_size(a.type)) {
    case 4:
      transpose<uint32_t>(a.data.data(), data.data(), rows, cols);
      break;
    case 2:
      transpose<uint16_t>(a.data.data(), data.data(), rows, cols);
      break;
    default:
      transpose<uint8_t>(a.data.data(), data.data(), rows, cols);
    }
    std::swap(shape[0], shape[1]);
  } else {
    data = a.data; // a vector: .T changes nothing but the shape
    std::reverse(shape.begin(), shape.end());
  }
  shape.erase(std::remove(shape.begin(), shape.end(), int64_t{1}), shape.end());
  return {std::move(shape), std::move(data)};
}

// add_emb_entries: `rows` more zero rows (the embedding) or zero columns of a
// [1, n] row (the logit bias) at the end.
std::vector<uint8_t> with_zeros(std::vector<uint8_t> data, size_t extra_bytes) {
  data.resize(data.size() + extra_bytes, 0);
  return data;
}

// The converter's glob for a file class: exactly one match wanted.
fs::path glob_one(const fs::path &dir, const std::string &suffix, const std::string &why) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      found.push_back(it->path());
  }
  if (ec)
    throw ModelError(dir.string() + ": cannot list: " + ec.message());
  if (found.size() != 1) {
    std::sort(found.begin(), found.end());
    std::string names;
    for (const auto &f : found)
      names += (names.empty() ? "" : ", ") + f.filename().string();
    throw ModelError(dir.string() + ": " + std::to_string(found.size()) + " files match *" +
                     suffix + " (" + why + ", exactly one expected" +
                     (names.empty() ? "" : ": " + names) + ")");
  }
  return found.front();
}

// An entry of decoder.yml's models/vocabs: the file of that name in `dir`
// (Marian writes names relative to the directory; an absolute path from the
// training machine is taken by its file name).
fs::path in_directory(const fs::path &dir, const std::string &entry, const std::string &what) {
  const fs::path name = fs::path(entry).filename();
  if (name.empty() || name == "." || name == "..")
    throw ModelError(what + ": names \"" + io::printable(entry) + "\", not a file");
  const fs::path path = dir / name;
  if (!present(path))
    throw ModelError(what + ": names " + name.string() + ", which " + dir.string() +
                     " does not have");
  return path;
}

bool ends_with(const std::string &s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

bool is_marian_native_file(const std::string &file) {
  const fs::path p(file);
  return p.extension() == ".npz" || p.extension() == ".yml" || p.extension() == ".yaml";
}

bool looks_like_marian_native(const std::string &dir) {
  if (present(fs::path(dir) / "decoder.yml"))
    return true;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".npz")
      return true;
  return false;
}

Checkpoint open_marian_native(const std::string &directory, const std::string &named) {
  const fs::path dir(directory);
  // SentencePiece models only: the converter skips BPE-based releases.
  for (const char *spm : {"source.spm", "target.spm"})
    if (!present(dir / spm))
      throw ModelError((dir / spm).string() +
                       ": missing: heed runs SentencePiece-based Marian models (BPE-based "
                       "releases are not supported, as the Hugging Face converter skips them)");

  fs::path decoder_yml = dir / "decoder.yml", npz_path;
  if (!named.empty()) {
    if (fs::path(named).extension() == ".npz")
      npz_path = named;
    else
      decoder_yml = named;
  }
  if (!present(decoder_yml))
    throw ModelError(decoder_yml.string() +
                     ": missing (a Marian release has one; the converter reads beam-size from it)");
  const std::string decoder_what = decoder_yml.string();
  const YamlFields decoding(
      parse_yaml(io::read_regular_file(decoder_what, io::kMaxConfigFileBytes), decoder_what),
      decoder_what);
  // num_beams = decoder.yml's beam-size. Its `normalize` (Marian's length
  // normalisation) is not carried over by the converter: length_penalty
  // stays transformers' 1.0, and so does heed's.
  const int64_t beam_size = decoding.integer("beam-size", 1, INT64_MAX / 2);

  if (npz_path.empty()) {
    if (decoding.has("models") && !decoding.list("models").empty()) {
      const auto models = decoding.list("models");
      if (models.size() != 1)
        decoding.fail("models", "lists " + std::to_string(models.size()) +
                                    " models: ensembles are not supported");
      npz_path = in_directory(dir, models[0], decoder_what + ": models");
    } else {
      npz_path = glob_one(dir, ".npz", "the model");
    }
  }

  const io::NpzArchive npz(npz_path.string());
  const std::string cfg_what = npz.path() + ": " + kConfigKey;
  const YamlFields cfg(parse_yaml(model_yml_text(npz), cfg_what), cfg_what);

  // OpusState.__init__, in its order.
  const auto dim_vocabs = cfg.list("dim-vocabs");
  if (dim_vocabs.size() != 2)
    cfg.fail("dim-vocabs", "has " + std::to_string(dim_vocabs.size()) + " sizes, expected 2");
  if (dim_vocabs[0] != dim_vocabs[1])
    cfg.fail("dim-vocabs", "differ (" + io::printable(dim_vocabs[0]) + " and " +
                               io::printable(dim_vocabs[1]) +
                               "): the converter needs vocabularies of one size");
  if (npz.contains("Wpos"))
    throw ModelError(npz.path() + ": has Wpos: learned positions are not supported");
  bool tied_src = cfg.flag("tied-embeddings-src");
  bool tied = cfg.flag("tied-embeddings");
  if (cfg.flag("tied-embeddings-all"))
    tied_src = tied = true;
  check_architecture(cfg);
  if (npz.contains("decoder_ff_logit_out_W") || !tied)
    throw ModelError(cfg_what + ": tied-embeddings is false" +
                     (npz.contains("decoder_ff_logit_out_W")
                          ? std::string(" (the npz has decoder_ff_logit_out_W)")
                          : std::string()) +
                     ": an untied output layer is not supported (the converter refuses it)");
  if (npz.contains("Wtype"))
    throw ModelError(npz.path() + ": has Wtype: type embeddings are not supported");

  const int64_t d_model = cfg.integer("dim-emb", 1, 65'536);
  const int64_t enc_depth = cfg.integer("enc-depth", 1, 1'024);
  const int64_t dec_depth = cfg.integer("dec-depth", 1, 1'024);
  const int64_t heads = cfg.integer("transformer-heads", 1, 65'536);
  const int64_t ffn_dim = cfg.integer("transformer-dim-ffn", 1, 16 * 65'536);
  // Copied as is, as the converter does: Marian's "gelu" is x * sigmoid(1.702 x)
  // but the converted model runs transformers' erf GELU, and so does heed.
  const std::string activation = cfg.text("transformer-ffn-activation");
  if (activation != "swish" && activation != "relu" && activation != "gelu")
    cfg.fail("transformer-ffn-activation",
             "is \"" + io::printable(activation) + "\" (supported: swish, relu, gelu)");

  auto tensors = std::make_unique<io::TensorBuffers>(npz.path(), "marian npz", npz.file_bytes());
  std::set<std::string> used = {kConfigKey, kBiasKey, "Wemb", "encoder_Wemb", "decoder_Wemb"};

  // Embeddings: [V, d], not transposed, a zero row appended for <pad>.
  const auto embedding = [&](const std::string &name, int64_t expect_rows) {
    if (!npz.contains(name))
      throw ModelError(npz.path() + ": has no " + name + " (tied-embeddings-src is " +
                       (tied_src ? "true" : "false") + ")");
    // Room for the <pad> row (at most 4 bytes a value): no reallocation.
    io::NpyArray a = npz.read(name, 4 * static_cast<size_t>(d_model));
    const io::DType dtype = weight_dtype(npz, name, a.type);
    if (a.shape.size() != 2 || a.shape[1] != d_model || a.shape[0] < 1 ||
        (expect_rows >= 0 && a.shape[0] != expect_rows))
      throw ModelError(npz.path() + ": " + name + " has shape " +
                       io::TensorEntry{name, dtype, a.shape}.shape_string() + ", expected [" +
                       (expect_rows >= 0 ? std::to_string(expect_rows) : std::string("V")) + ", " +
                       std::to_string(d_model) + "] (dim-emb)");
    const int64_t rows = a.shape[0];
    auto data = with_zeros(std::move(a.data), static_cast<size_t>(d_model) * io::dtype_size(dtype));
    return std::tuple{rows, dtype, std::move(data)};
  };
  int64_t vocab_rows = 0;
  if (tied_src) {
    auto [rows, dtype, data] = embedding("Wemb", -1);
    vocab_rows = rows;
    tensors->add("model.shared.weight", dtype, {rows + 1, d_model}, std::move(data));
  } else {
    auto [rows, dtype, data] = embedding("encoder_Wemb", -1);
    vocab_rows = rows;
    tensors->add("model.encoder.embed_tokens.weight", dtype, {rows + 1, d_model}, std::move(data));
    // The converter assumes the decoder's vocabulary has the encoder's size.
    auto [dec_rows, dec_dtype, dec_data] = embedding("decoder_Wemb", rows);
    tensors->add("model.decoder.embed_tokens.weight", dec_dtype, {dec_rows + 1, d_model},
                 std::move(dec_data));
  }
  const int64_t pad = vocab_rows; // the appended row
  const int64_t vocab_size = pad + 1;
  {
    if (!npz.contains(kBiasKey))
      throw ModelError(npz.path() + ": has no " + kBiasKey + " (the output layer's bias)");
    io::NpyArray b = npz.read(kBiasKey, 4);
    const io::DType dtype = weight_dtype(npz, kBiasKey, b.type);
    if (b.shape != std::vector<int64_t>{1, vocab_rows})
      throw ModelError(npz.path() + ": " + kBiasKey + " has shape " +
                       io::TensorEntry{kBiasKey, dtype, b.shape}.shape_string() +
                       ", expected [1, " + std::to_string(vocab_rows) + "]");
    // final_logits_bias: a zero bias for <pad>.
    tensors->add("final_logits_bias", dtype, {1, vocab_size},
                 with_zeros(std::move(b.data), io::dtype_size(dtype)));
  }

  // Vocabularies: add_special_tokens_to_vocab, then MarianTokenizer.
  Checkpoint c;
  const auto vocab_file = [&](size_t side) -> fs::path {
    if (decoding.has("vocabs")) {
      const auto vocabs = decoding.list("vocabs");
      if (vocabs.size() == 2 && ends_with(vocabs[0], ".yml") && ends_with(vocabs[1], ".yml")) {
        if (tied_src && fs::path(vocabs[0]).filename() != fs::path(vocabs[1]).filename())
          decoding.fail("vocabs", "names two vocabularies but " + cfg_what +
                                      " has tied-embeddings-src (one vocabulary for both sides)");
        return in_directory(dir, vocabs[side], decoder_what + ": vocabs");
      }
    }
    if (tied_src)
      return glob_one(dir, "vocab.yml", "the joint vocabulary");
    return side == 0 ? glob_one(dir, "src.vocab.yml", "the source vocabulary")
                     : glob_one(dir, "trg.vocab.yml", "the target vocabulary");
  };
  const auto load_vocab = [&](const fs::path &path) {
    Vocabulary v = Vocabulary::load_yaml(path.string(), vocab_size);
    if (v.find("<pad>"))
      throw ModelError(path.string() +
                       ": already has <pad> (the converter appends it after the last id, "
                       "and then the sizes no longer match)");
    if (v.append("<pad>", vocab_size) != pad || v.entries() != vocab_size)
      throw ModelError(path.string() + ": has " + std::to_string(v.entries() - 1) +
                       " entries (ids 0 to " + std::to_string(v.size() - 2) + ") but " +
                       npz.path() + " embeds " + std::to_string(vocab_rows) +
                       " tokens: every id from 0 to " + std::to_string(vocab_rows - 1) +
                       " must have its piece");
    return v;
  };
  c.source_vocab = load_vocab(vocab_file(0));
  if (!tied_src)
    c.target_vocab = load_vocab(vocab_file(1));
  const auto eos = c.source_vocab->find("</s>");
  if (!eos)
    throw ModelError(c.source_vocab->path() + ": has no </s> piece");

  // The converter reads encoder_l1_ffn_W1's rows as the hidden size.
  if (!npz.contains("encoder_l1_ffn_W1"))
    throw ModelError(npz.path() + ": has no encoder_l1_ffn_W1");

  // Layers: Marian's l1.. are Hugging Face's 0..; every tensor transposed
  // and squeezed. Each is read into one scratch array (allocated once, at the
  // largest size) and transposed into its own buffer: a fresh buffer per read
  // would cost a round of page faults per matrix.
  io::NpyArray scratch;
  for (const auto &[side, depth, keys] :
       {std::tuple{std::string("encoder"), enc_depth, kEncoderLayerKeys},
        std::tuple{std::string("decoder"), dec_depth, std::size(kLayerNames)}}) {
    for (int64_t i = 0; i < depth; ++i) {
      const std::string prefix = side + "_l" + std::to_string(i + 1) + "_";
      for (size_t k = 0; k < keys; ++k) {
        const std::string name = prefix + kLayerNames[k].first;
        if (!npz.contains(name))
          throw ModelError(npz.path() + ": has no " + name + " (" + side + " layer " +
                           std::to_string(i + 1) + " of " + std::to_string(depth) + ")");
        io::NpyArray &a = scratch;
        npz.read(name, a);
        const io::DType dtype = weight_dtype(npz, name, a.type);
        if (name == "encoder_l1_ffn_W1" && (a.shape.size() != 2 || a.shape[0] != d_model))
          throw ModelError(
              npz.path() + ": encoder_l1_ffn_W1 has " +
              (a.shape.empty() ? std::string("no rows") : std::to_string(a.shape[0]) + " rows") +
              " but dim-emb is " + std::to_string(d_model));
        auto [shape, data] = transpose_squeeze(a, npz.path() + ": " + name);
        tensors->add("model." + side + ".layers." + std::to_string(i) + "." + kLayerNames[k].second,
                     dtype, std::move(shape), std::move(data));
        used.insert(name);
      }
    }
  }
  // extra_keys: the converter refuses any other tensor. It ignores layer
  // tensors it does not look for (layers beyond the depth); heed refuses
  // those as well, since model.yml and the weights then disagree.
  std::vector<std::string> extra;
  for (const auto &name : npz.names())
    if (!used.count(name))
      extra.push_back(name);
  if (!extra.empty()) {
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 5; ++i)
      list += (i ? ", " : "") + io::printable(extra[i]);
    if (extra.size() > 5)
      list += ", ...";
    throw ModelError(npz.path() + ": has " + std::to_string(extra.size()) +
                     " tensor(s) the converter does not convert: " + list);
  }

  // The config.json the converter writes (MarianConfig(...) in OpusState),
  // the fields it sets.
  nlohmann::json j = nlohmann::json::object();
  j["activation_function"] = activation;
  j["bad_words_ids"] = nlohmann::json::array({nlohmann::json::array({pad})});
  j["bos_token_id"] = 0;
  j["d_model"] = d_model;
  j["decoder_attention_heads"] = heads;
  j["decoder_ffn_dim"] = ffn_dim;
  j["decoder_layers"] = dec_depth;
  j["decoder_start_token_id"] = pad;
  j["decoder_vocab_size"] = vocab_size;
  j["dropout"] = 0.1;
  j["encoder_attention_heads"] = heads;
  j["encoder_ffn_dim"] = ffn_dim;
  j["encoder_layers"] = enc_depth;
  j["eos_token_id"] = *eos;
  j["forced_eos_token_id"] = *eos;
  j["max_length"] = 512;
  // Not a length setting of Marian's: the converter sizes the position table
  // by dim-emb.
  j["max_position_embeddings"] = d_model;
  j["model_type"] = "marian";
  j["normalize_embedding"] = false; // "n" in transformer-preprocess, which must be ""
  j["num_beams"] = beam_size;
  j["pad_token_id"] = pad;
  j["scale_embedding"] = true; // Marian scales embeddings by sqrt(dim-emb)
  j["share_encoder_decoder_embeddings"] = tied_src;
  // Computed sinusoids in transformers' layout (sin | cos halves, its
  // frequencies), as the converted model has them, not Marian's own.
  j["static_position_embeddings"] = true;
  j["tie_word_embeddings"] = tied;
  j["vocab_size"] = vocab_size;

  nlohmann::json gen = nlohmann::json::object();
  for (const char *key : {"bad_words_ids", "bos_token_id", "decoder_start_token_id", "eos_token_id",
                          "forced_eos_token_id", "max_length", "num_beams", "pad_token_id"})
    gen[key] = j[key];

  c.directory = dir.string();
  c.format = CheckpointFormat::marian_npz;
  c.config = MarianConfig::from_json(j, cfg_what + " (as converted)");
  c.generation = GenerationConfig::from_json(gen, decoder_what);
  c.config_json = std::move(j);
  c.tensors = std::move(tensors);

  // Marian returns alignments from one head of this decoder layer's
  // cross-attention ("last" or 1-based); the training option guided-alignment
  // is not saved in model.yml by Marian, but when it is there and "none", the
  // model was not trained to align.
  const bool guided = !cfg.has("guided-alignment") || cfg.text("guided-alignment") != "none";
  if (guided && cfg.has("transformer-guided-alignment-layer")) {
    const std::string layer = cfg.text("transformer-guided-alignment-layer");
    if (layer == "last")
      c.alignment_layer = dec_depth - 1;
    else
      c.alignment_layer = cfg.integer("transformer-guided-alignment-layer", 1, dec_depth) - 1;
  }
  return c;
}

} // namespace heed
