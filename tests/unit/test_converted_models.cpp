// Converted models end to end: heed convert --quantize int8|bfloat16 writes a
// model heed loads directly, with the same results as quantizing at load; a
// bfloat16 one loads as its exact rounded weights, and --compute-type bfloat16
// runs only where oneDNN has bfloat16 kernels (exit 2 elsewhere).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/model/marian_model.h"
#include "heed/ops/cpu_isa.h"
#include "heed/ops/packed_weights.h"
#include "test_support.h"

namespace fs = std::filesystem;
using heed::test::run_heed;

namespace {

const std::string kFixture = std::string(HEED_TEST_DATA) + "/tiny-joint";
const std::string kSentences =
    "'Two dogs play in the snow.' 'Hello world' 'A man in a blue shirt is standing on a ladder.'";

// kFixture converted to `type` (int8 or bfloat16) in a fresh directory.
fs::path converted(const std::string &name, const std::string &type = "int8") {
  const fs::path out = heed::test::temp_dir() / name;
  fs::remove_all(out);
  const auto r =
      run_heed("convert -m '" + kFixture + "' --quantize " + type + " -o '" + out.string() + "'");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find((type == "int8" ? "quantized to " : "converted to ") + type) !=
        std::string::npos);
  return out;
}

// What convert turns into BF16: the weight matrices (not final_logits_bias
// [1, V], nor the position tables).
bool is_weight_matrix(const std::string &name, const nlohmann::json &entry) {
  return entry["shape"].size() == 2 && name.size() > 7 &&
         name.compare(name.size() - 7, 7, ".weight") == 0 &&
         name.find("embed_positions") == std::string::npos;
}

float f32_at(const heed::test::SafetensorsParts &parts, const std::string &name, size_t i) {
  const size_t begin = parts.header[name]["data_offsets"][0].get<size_t>();
  float v;
  std::memcpy(&v, parts.data.data() + begin + 4 * i, 4);
  return v;
}

uint16_t bf16_at(const heed::test::SafetensorsParts &parts, const std::string &name, size_t i) {
  const size_t begin = parts.header[name]["data_offsets"][0].get<size_t>();
  uint16_t v;
  std::memcpy(&v, parts.data.data() + begin + 2 * i, 2);
  return v;
}

// At --compute-type float32, `converted` translates exactly as `by_hand` (the
// original with the conversion's rounding done here, stored as F32), and not
// as the original: the conversion is visible, scores move.
void check_float32_translations_equal(const fs::path &converted, const fs::path &by_hand) {
  const std::string args = " --compute-type float32 --format jsonl " + kSentences;
  const auto from_converted = run_heed("translate -m '" + converted.string() + "'" + args);
  const auto from_by_hand = run_heed("translate -m '" + by_hand.string() + "'" + args);
  const auto from_original = run_heed("translate -m '" + kFixture + "'" + args);
  REQUIRE(from_converted.exit_code == 0);
  REQUIRE(from_by_hand.exit_code == 0);
  REQUIRE(from_original.exit_code == 0);
  CHECK(from_converted.out == from_by_hand.out);
  CHECK(from_converted.out != from_original.out);
}

// ONEDNN_MAX_CPU_ISA=AVX2 takes bfloat16 kernels away on every processor.
const std::string kAvx2 = "export ONEDNN_MAX_CPU_ISA=AVX2;";

} // namespace

TEST_CASE("heed convert writes I8 matrices with scales, and a marked config", "[int8][cli]") {
  const fs::path out = converted("q8");
  for (const char *file : {"config.json", "generation_config.json", "model.safetensors",
                           "source.spm", "target.spm", "vocab.json"})
    CHECK(fs::exists(out / file));
  const auto config = nlohmann::json::parse(std::ifstream(out / "config.json"));
  CHECK(config["heed_quantization"]["weights"] == "int8");
  const auto parts = heed::test::read_safetensors(out / "model.safetensors");
  const auto &h = parts.header;
  const std::string fc1 = "model.encoder.layers.0.fc1.weight";
  CHECK(h[fc1]["dtype"] == "I8");
  CHECK(h[fc1 + "_scale"]["dtype"] == "F32");
  CHECK(h[fc1 + "_scale"]["shape"] == nlohmann::json::array({h[fc1]["shape"][0]}));
  CHECK(h["model.encoder.layers.0.fc1.bias"]["dtype"] == "F32");
  CHECK(h["model.shared.weight"]["dtype"] == "I8");
  // Float32 matrices are 4 bytes a value, int8 1 (+ a scale per row).
  CHECK(fs::file_size(out / "model.safetensors") <
        0.45 * fs::file_size(fs::path(kFixture) / "model.safetensors"));

  auto model = heed::MarianModel::load(out.string());
  CHECK(model->compute_type == heed::ops::ComputeType::int8);
  auto as_float = heed::MarianModel::load(out.string(), {heed::ops::ComputeType::float32});
  CHECK(as_float->compute_type == heed::ops::ComputeType::float32);
}

TEST_CASE("a converted model translates as quantizing at load does", "[int8][cli]") {
  const fs::path out = converted("q8-same");
  const auto at_load =
      run_heed("translate -m '" + kFixture + "' --compute-type int8 --format jsonl " + kSentences);
  const auto loaded = run_heed("translate -m '" + out.string() + "' --format jsonl " + kSentences);
  REQUIRE(at_load.exit_code == 0);
  REQUIRE(loaded.exit_code == 0);
  CHECK(loaded.out == at_load.out);

  // Scores of the same translations: int8 stays close to float32.
  const auto dir = heed::test::temp_dir();
  std::ofstream(dir / "src.txt") << "Two dogs play in the snow.\nHello world\n";
  std::ofstream(dir / "tgt.txt") << "Zwei Hunde spielen im Schnee.\nHallo Welt\n";
  const std::string files = " --source '" + (dir / "src.txt").string() + "' --target '" +
                            (dir / "tgt.txt").string() + "'";
  const auto f32 = run_heed("score -m '" + kFixture + "'" + files);
  const auto i8 = run_heed("score -m '" + out.string() + "'" + files);
  REQUIRE(f32.exit_code == 0);
  REQUIRE(i8.exit_code == 0);
  std::istringstream a(f32.out), b(i8.out);
  double x = 0, y = 0;
  int lines = 0;
  while (a >> x && b >> y) {
    CHECK(std::fabs(x - y) < 0.02 * std::fabs(x));
    std::string rest;
    std::getline(a, rest);
    std::getline(b, rest);
    ++lines;
  }
  CHECK(lines == 2);
}

TEST_CASE("convert refuses what it cannot do", "[int8][cli]") {
  const fs::path out = converted("q8-again");
  auto again = run_heed("convert -m '" + out.string() + "' --quantize int8 -o '" +
                        (heed::test::temp_dir() / "q8-twice").string() + "'");
  CHECK(again.exit_code == 3);
  CHECK(again.err.find("already converted to int8 (config.json heed_quantization)") !=
        std::string::npos);

  auto busy = run_heed("convert -m '" + kFixture + "' --quantize int8 -o '" + out.string() + "'");
  CHECK(busy.exit_code == 4);
  CHECK(busy.err ==
        "heed: error: " + out.string() + ": exists and is not empty; choose a new directory\n");

  auto bad_type = run_heed("convert -m '" + kFixture + "' --quantize int4 -o /tmp/x");
  CHECK(bad_type.exit_code == 2);

  // An I8 matrix whose scales are missing is a model error, not garbage output.
  const fs::path broken = heed::test::temp_dir() / "q8-broken";
  fs::remove_all(broken);
  fs::copy(out, broken);
  auto parts = heed::test::read_safetensors(broken / "model.safetensors");
  parts.header.erase("model.encoder.layers.0.fc1.weight_scale");
  heed::test::write_safetensors(broken / "model.safetensors", parts.header.dump(), parts.data);
  auto missing = run_heed("translate -m '" + broken.string() + "' 'Hello'");
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.find("tensor 'model.encoder.layers.0.fc1.weight' is I8 but its scales "
                         "'model.encoder.layers.0.fc1.weight_scale' are missing") !=
        std::string::npos);
  // The same when the int8 weights are dequantized for float32 compute.
  auto missing_f32 =
      run_heed("translate -m '" + broken.string() + "' --compute-type float32 'Hello'");
  CHECK(missing_f32.exit_code == 3);
  CHECK(missing_f32.err.find("is I8 but its scales 'model.encoder.layers.0.fc1.weight_scale' "
                             "are missing") != std::string::npos);

  // A non-finite scale is refused whether the int8 values are taken as they
  // are (int8 compute) or dequantized (float32).
  fs::remove_all(broken);
  fs::copy(out, broken);
  parts = heed::test::read_safetensors(broken / "model.safetensors");
  const std::string scale = "model.decoder.layers.0.self_attn.k_proj.weight_scale";
  const float nan = std::nanf("");
  std::memcpy(parts.data.data() + parts.header[scale]["data_offsets"][0].get<size_t>() + 4 * 3,
              &nan, 4);
  heed::test::write_safetensors(broken / "model.safetensors", parts.header.dump(), parts.data);
  auto nan_int8 = run_heed("translate -m '" + broken.string() + "' 'Hello'");
  CHECK(nan_int8.exit_code == 3);
  CHECK(nan_int8.err.find("tensor '" + scale + "' holds 1 non-finite value(s) (the first, nan, " +
                          "at flat index 3") != std::string::npos);
  auto nan_f32 = run_heed("translate -m '" + broken.string() + "' --compute-type float32 'Hello'");
  CHECK(nan_f32.exit_code == 3);
  CHECK(nan_f32.err.find("tensor 'model.decoder.layers.0.self_attn.k_proj.weight' holds") !=
        std::string::npos);
}

TEST_CASE("a converted model packs exactly the int8 weights quantizing at load packs", "[int8]") {
  // Loading takes an I8 model's values and scales as they are (no float32
  // round trip) and quantizes a float model row by row with the same
  // quantize_rows: every scale and token-table entry is the same bit for bit.
  const fs::path out = converted("q8-packed");
  const auto at_load = heed::MarianModel::load(kFixture, {heed::ops::ComputeType::int8});
  const auto loaded = heed::MarianModel::load(out.string());
  REQUIRE(loaded->compute_type == heed::ops::ComputeType::int8);
  CHECK(loaded->packed_weight_bytes == at_load->packed_weight_bytes);
  const auto same_scales = [](const heed::Linear &a, const heed::Linear &b) {
    REQUIRE(a.packed.scales().size() == b.packed.scales().size());
    CHECK(std::memcmp(a.packed.scales().data(), b.packed.scales().data(),
                      a.packed.scales().size() * sizeof(float)) == 0);
  };
  // Encoder and decoder layers alike: self-attention and feed-forward.
  const auto same_common = [&](const auto &a, const auto &b) {
    same_scales(a.self_attn.qkv, b.self_attn.qkv);
    same_scales(a.self_attn.out, b.self_attn.out);
    same_scales(a.ffn.fc1, b.ffn.fc1);
    same_scales(a.ffn.fc2, b.ffn.fc2);
  };
  for (size_t i = 0; i < at_load->encoder.layers.size(); ++i)
    same_common(at_load->encoder.layers[i], loaded->encoder.layers[i]);
  for (size_t i = 0; i < at_load->decoder.layers.size(); ++i) {
    const auto &a = at_load->decoder.layers[i], &b = loaded->decoder.layers[i];
    same_common(a, b);
    same_scales(a.cross_attn.q, b.cross_attn.q);
    same_scales(a.cross_attn.kv, b.cross_attn.kv);
    same_scales(a.cross_attn.out, b.cross_attn.out);
  }
  same_scales(at_load->decoder.output_projection, loaded->decoder.output_projection);
  // The fixture's token table is shared and tied: with VNNI it is read from
  // the packed output projection (8-bit there), else kept in int8 beside it
  // (7-bit weights there). No float32 copy is kept either way (nor made:
  // read_int8 quantizes it block by block).
  const bool from_projection = heed::ops::int8_kernels().vnni;
  for (const auto *model : {at_load.get(), loaded.get()})
    for (const auto *e : {&model->encoder.embeddings, &model->decoder.embeddings}) {
      CHECK(e->tokens == nullptr);
      CHECK(e->packed_tokens.empty() == !from_projection);
      CHECK((e->quantized_tokens == nullptr) == from_projection);
    }
  const auto rows = [](const heed::Embeddings &e) {
    std::vector<float> all, row(static_cast<size_t>(e.d_model()));
    for (int64_t id = 0; id < 200; ++id) {
      heed::Embeddings unscaled = e;
      unscaled.scale = 1.f;
      unscaled.positions.fill(0.f);
      unscaled.embed_step(&id, 1, 0, row.data());
      all.insert(all.end(), row.begin(), row.end());
    }
    return all;
  };
  const auto table_a = rows(at_load->decoder.embeddings);
  const auto table_b = rows(loaded->decoder.embeddings);
  CHECK(std::memcmp(table_a.data(), table_b.data(), table_a.size() * sizeof(float)) == 0);
}

TEST_CASE("a tied token table is stored once, in the packed output projection", "[packed]") {
  // 58,101 x 512 float32 values in OPUS-MT en-de (119 MB) were held twice: as
  // the table the embeddings read and as the packed projection. Each compute
  // type must read the table from the projection and embed exactly what the
  // products multiply by.
  std::vector<heed::ops::ComputeType> types = {heed::ops::ComputeType::float32};
  if (heed::ops::int8_kernels().vnni)
    types.push_back(heed::ops::ComputeType::int8);
  if (heed::ops::has_bfloat16_kernels())
    types.push_back(heed::ops::ComputeType::bfloat16);
  for (auto type : types) {
    INFO(heed::ops::compute_type_name(type));
    const auto model = heed::MarianModel::load(kFixture, {type});
    REQUIRE(model->config.tie_word_embeddings);
    REQUIRE(model->config.share_encoder_decoder_embeddings);
    const heed::Embeddings &enc = model->encoder.embeddings, &dec = model->decoder.embeddings;
    CHECK(dec.tokens == nullptr);
    CHECK(dec.quantized_tokens == nullptr);
    CHECK(dec.bfloat16_tokens == nullptr);
    CHECK(enc.tokens == nullptr);
    CHECK(enc.quantized_tokens == nullptr);
    CHECK(enc.bfloat16_tokens == nullptr);
    REQUIRE_FALSE(dec.packed_tokens.empty());
    CHECK(&dec.packed_tokens.impl() == &model->decoder.output_projection.packed.impl());
    CHECK(&enc.packed_tokens.impl() == &model->decoder.output_projection.packed.impl());
    // The embedding of token 5 at position 3 from the file's float32 table,
    // rounded as the compute type rounds weights.
    const auto parts = heed::test::read_safetensors(fs::path(kFixture) / "model.safetensors");
    const auto &entry = parts.header["model.shared.weight"];
    REQUIRE(entry["dtype"] == "F32");
    const int64_t d = dec.d_model(), id = 5, position = 3;
    std::vector<float> row(static_cast<size_t>(d)), expected(static_cast<size_t>(d));
    std::vector<float> token(static_cast<size_t>(d));
    std::memcpy(token.data(),
                parts.data.data() + entry["data_offsets"][0].get<size_t>() + id * d * sizeof(float),
                d * sizeof(float));
    std::vector<int8_t> q(static_cast<size_t>(d));
    float q_scale = 0.f;
    if (type == heed::ops::ComputeType::int8)
      heed::ops::quantize_int8_weights(token.data(), 1, d, 127, q.data(), &q_scale);
    for (int64_t k = 0; k < d; ++k) {
      float v = token[static_cast<size_t>(k)];
      if (type == heed::ops::ComputeType::bfloat16)
        v = heed::from_bfloat16(heed::to_bfloat16(v));
      else if (type == heed::ops::ComputeType::int8)
        v = static_cast<float>(q[static_cast<size_t>(k)]) * q_scale;
      expected[static_cast<size_t>(k)] = v * dec.scale + dec.positions.data()[position * d + k];
    }
    dec.embed_step(&id, 1, position, row.data());
    CHECK(row == expected);
  }
}

TEST_CASE("the decoder keeps its caches and encoder memory in the compute type's precision",
          "[packed][bf16]") {
  // bfloat16 compute holds the self-attention caches and the projected encoder
  // memory in bfloat16 (half the largest buffers of a beam search), and so
  // does int8 where the processor has bfloat16 kernels; float32 keeps
  // float32, the reference's arithmetic, and so does int8 elsewhere (the
  // suite runs again under ONEDNN_MAX_CPU_ISA=AVX2, which takes that branch).
  std::vector<heed::ops::ComputeType> types = {heed::ops::ComputeType::float32,
                                               heed::ops::ComputeType::int8};
  if (heed::ops::has_bfloat16_kernels())
    types.push_back(heed::ops::ComputeType::bfloat16);
  for (auto type : types) {
    INFO(heed::ops::compute_type_name(type) << " on " << heed::ops::cpu_isa_name());
    const auto model = heed::MarianModel::load(kFixture, {type});
    const bool low = type == heed::ops::ComputeType::bfloat16 ||
                     (type == heed::ops::ComputeType::int8 && heed::ops::has_bfloat16_kernels());
    const heed::ElementType expected =
        low ? heed::ElementType::bfloat16 : heed::ElementType::float32;
    CHECK(model->decoder.cache_type() == expected);
    const std::vector<int64_t> source = {5, 6, 7, 8, model->config.eos_token_id};
    const int64_t length = static_cast<int64_t>(source.size()), group = 3, capacity = 4;
    heed::Workspace ws;
    heed::Tensor out, mask;
    model->encoder.forward(source.data(), &length, 1, length, out, mask, ws);
    heed::DecoderState state;
    model->decoder.start(state, out, mask, 1, length, group, capacity);
    CHECK(state.cache_type == expected);
    const int64_t d = model->config.d_model;
    const size_t bytes = heed::element_bytes(expected);
    CHECK(state.cache_row_bytes() == static_cast<size_t>(capacity * d) * bytes);
    CHECK(state.keys.front().capacity() == group * state.cache_row_bytes());
    CHECK(state.memory.front().capacity() == static_cast<size_t>(length * 2 * d) * bytes);
    // The memory is the float32 projection of the encoder output, rounded.
    heed::Tensor projected({length, 2 * d});
    model->decoder.layers.front().cross_attn.project_memory(out.data(), length, projected.data(),
                                                            heed::ElementType::float32, nullptr);
    int64_t differ = 0;
    for (int64_t i = 0; i < length * 2 * d; ++i) {
      const float want = projected[i];
      const float got = low ? heed::from_bfloat16(state.memory.front().as<uint16_t>()[i])
                            : state.memory.front().as<float>()[i];
      differ += got != (low ? heed::from_bfloat16(heed::to_bfloat16(want)) : want);
    }
    CHECK(differ == 0);
    // Steps run and give finite logits; the caches fill one position each.
    std::vector<int64_t> tokens(group, model->config.decoder_start_token_id);
    heed::Tensor logits({group, model->decoder.vocab_size()});
    for (int64_t step = 0; step < capacity; ++step) {
      model->decoder.step(state, tokens.data(), logits.data(), ws);
      for (int64_t i = 0; i < logits.size(); ++i)
        REQUIRE(std::isfinite(logits[i]));
      tokens.assign(group, 5 + step);
    }
    CHECK(state.position == capacity);
  }
}

TEST_CASE("heed convert --quantize bfloat16 rounds the weight matrices to nearest even",
          "[bf16][cli]") {
  const fs::path out = converted("bf16", "bfloat16");
  const auto config = nlohmann::json::parse(std::ifstream(out / "config.json"));
  CHECK(config["heed_quantization"]["weights"] == "bfloat16");
  const auto original = heed::test::read_safetensors(fs::path(kFixture) / "model.safetensors");
  const auto parts = heed::test::read_safetensors(out / "model.safetensors");
  int64_t matrices = 0, compared = 0, wrong = 0;
  for (const auto &[name, entry] : original.header.items()) {
    if (name == "__metadata__")
      continue;
    const bool matrix = is_weight_matrix(name, entry);
    INFO(name);
    CHECK(parts.header[name]["shape"] == entry["shape"]);
    if (!matrix) {
      CHECK(parts.header[name]["dtype"] == entry["dtype"]); // vectors and positions kept
      continue;
    }
    REQUIRE(parts.header[name]["dtype"] == "BF16");
    REQUIRE(entry["dtype"] == "F32");
    ++matrices;
    const size_t n = entry["shape"][0].get<size_t>() * entry["shape"][1].get<size_t>();
    for (size_t i = 0; i < n; ++i, ++compared)
      wrong += bf16_at(parts, name, i) != heed::to_bfloat16(f32_at(original, name, i));
  }
  CHECK(matrices > 10);
  CHECK(compared > 10000);
  CHECK(wrong == 0);
  CHECK(fs::file_size(out / "model.safetensors") <
        0.6 * fs::file_size(fs::path(kFixture) / "model.safetensors"));

  // Where bfloat16 cannot be computed, `auto` computes the model's bfloat16
  // weights in float32.
  auto model = heed::MarianModel::load(out.string());
  CHECK(model->compute_type == (heed::ops::has_bfloat16_kernels()
                                    ? heed::ops::ComputeType::bfloat16
                                    : heed::ops::ComputeType::float32));
  const auto info = run_heed("info --json -m '" + out.string() + "'", "", kAvx2);
  REQUIRE(info.exit_code == 0);
  CHECK(nlohmann::json::parse(info.out)["weights"]["compute_type"] == "float32");
}

TEST_CASE("an int8 model loaded as float32 computes with its dequantized weights", "[int8][cli]") {
  const fs::path out = converted("q8-as-f32");
  const auto quantized = heed::test::read_safetensors(out / "model.safetensors");
  // The original model with each quantized matrix replaced here by values x
  // row scales, stored as F32: what loading the I8 file for float32 computes.
  const fs::path dequantized = heed::test::copy_fixture("tiny-joint", "q8-dequantized-f32");
  auto parts = heed::test::read_safetensors(dequantized / "model.safetensors");
  int matrices = 0;
  for (const auto &[name, entry] : quantized.header.items()) {
    if (name == "__metadata__" || entry["dtype"] != "I8")
      continue;
    REQUIRE(parts.header[name]["dtype"] == "F32");
    REQUIRE(parts.header[name]["shape"] == entry["shape"]);
    const size_t rows = entry["shape"][0].get<size_t>(), cols = entry["shape"][1].get<size_t>();
    const size_t from = entry["data_offsets"][0].get<size_t>();
    const size_t to = parts.header[name]["data_offsets"][0].get<size_t>();
    for (size_t r = 0; r < rows; ++r) {
      const float scale = f32_at(quantized, name + "_scale", r);
      for (size_t c = 0; c < cols; ++c) {
        const float v =
            static_cast<float>(static_cast<int8_t>(quantized.data[from + r * cols + c])) * scale;
        std::memcpy(parts.data.data() + to + 4 * (r * cols + c), &v, 4);
      }
    }
    ++matrices;
  }
  REQUIRE(matrices > 0);
  heed::test::write_safetensors(dequantized / "model.safetensors", parts.header.dump(), parts.data);

  check_float32_translations_equal(out, dequantized);
}

TEST_CASE("a bfloat16 model loaded as float32 computes with the rounded weights", "[bf16][cli]") {
  const fs::path out = converted("bf16-as-f32", "bfloat16");
  // The same model with the rounding done here, stored as F32.
  const fs::path rounded = heed::test::copy_fixture("tiny-joint", "bf16-rounded-f32");
  auto parts = heed::test::read_safetensors(rounded / "model.safetensors");
  for (const auto &[name, entry] : parts.header.items()) {
    if (name == "__metadata__" || !is_weight_matrix(name, entry))
      continue;
    const size_t begin = entry["data_offsets"][0].get<size_t>();
    const size_t end = entry["data_offsets"][1].get<size_t>();
    for (size_t at = begin; at < end; at += 4) {
      float v;
      std::memcpy(&v, parts.data.data() + at, 4);
      v = heed::from_bfloat16(heed::to_bfloat16(v));
      std::memcpy(parts.data.data() + at, &v, 4);
    }
  }
  heed::test::write_safetensors(rounded / "model.safetensors", parts.header.dump(), parts.data);

  check_float32_translations_equal(out, rounded);
}

TEST_CASE("heed --compute-type bfloat16 is refused without AVX512-BF16 or AMX", "[bf16][cli]") {
  // Forced on every processor with ONEDNN_MAX_CPU_ISA=AVX2.
  for (const char *command :
       {"translate 'Hello world'", "score --source /dev/null --target /dev/null", "info"}) {
    INFO(command);
    const auto r = run_heed(std::string(command) + " -m '" + kFixture + "' --compute-type bfloat16",
                            "", kAvx2);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "heed: error: --compute-type bfloat16: bfloat16 needs a processor with "
                   "AVX512-BF16 or AMX, and oneDNN reports avx2 here (its bfloat16 fallbacks "
                   "are slow reference kernels)\n");
  }
  const auto bench =
      run_heed("bench -m '" + kFixture + "' -i /dev/null --compute-type bfloat16", "", kAvx2);
  CHECK(bench.exit_code == 2);
  CHECK(bench.err.find("--compute-type bfloat16: bfloat16 needs a processor with AVX512-BF16") !=
        std::string::npos);

  // The library refuses on its own too, before reading any weight.
  if (!heed::ops::has_bfloat16_kernels()) {
    heed::LoadOptions bf16;
    bf16.compute_type = heed::ops::ComputeType::bfloat16;
    CHECK_THROWS_AS(heed::MarianModel::load(kFixture, bf16), heed::OptionError);
  }
}

TEST_CASE("heed --compute-type bfloat16 translates close to float32 where it runs", "[bf16][cli]") {
  if (!heed::ops::has_bfloat16_kernels()) {
    WARN("skipped: oneDNN reports " << heed::ops::cpu_isa_name()
                                    << " here; bfloat16 needs AVX512-BF16 or AMX");
    return;
  }
  const fs::path out = converted("bf16-run", "bfloat16");
  const auto at_load = run_heed("translate -m '" + kFixture +
                                "' --compute-type bfloat16 --format jsonl " + kSentences);
  const auto loaded = run_heed("translate -m '" + out.string() + "' --format jsonl " + kSentences);
  const auto f32 = run_heed("translate -m '" + kFixture + "' --format jsonl " + kSentences);
  REQUIRE(at_load.exit_code == 0);
  REQUIRE(loaded.exit_code == 0);
  // Rounding at load and loading the rounded weights give the same model.
  CHECK(loaded.out == at_load.out);
  std::istringstream a(at_load.out), b(f32.out);
  std::string x, y;
  while (std::getline(a, x) && std::getline(b, y)) {
    const auto jx = nlohmann::json::parse(x), jy = nlohmann::json::parse(y);
    CHECK(std::fabs(jx["score"].get<double>() - jy["score"].get<double>()) <
          0.02 * std::fabs(jy["score"].get<double>()) + 0.02);
  }
}

TEST_CASE("heed info names the int8 kernel path and bfloat16 support", "[int8][bf16][cli]") {
  const auto here = run_heed("info --json -m '" + kFixture + "'");
  REQUIRE(here.exit_code == 0);
  const auto processor = nlohmann::json::parse(here.out)["processor"];
  CHECK(processor["onednn_isa"] == heed::ops::cpu_isa_name());
  CHECK(processor["int8_kernels"] == heed::ops::int8_kernels().description);
  // bfloat16's line says which kernels, and so whether it pays at large batches.
  const std::string bf16 = processor["bfloat16"].get<std::string>();
  if (!heed::ops::has_bfloat16_kernels())
    CHECK(bf16.rfind("unavailable: ", 0) == 0);
  else if (heed::ops::cpu_isa_name() == "avx512_core_amx")
    CHECK(bf16.rfind("available: AMX (avx512_core_amx)", 0) == 0);
  else {
    CHECK(bf16.rfind("available: AVX512-BF16 without AMX (" + heed::ops::cpu_isa_name() +
                         "): half the weight bytes",
                     0) == 0);
    // The products' rate is the vendor's: twice float32's on AMD Zen 4, about
    // half of it on Intel processors without AMX.
    CHECK(bf16.find(__builtin_cpu_is("amd") ? "twice float32's rate" : "half float32's rate") !=
          std::string::npos);
  }
  const auto avx2 = run_heed("info --json -m '" + kFixture + "'", "", kAvx2);
  REQUIRE(avx2.exit_code == 0);
  const auto forced = nlohmann::json::parse(avx2.out)["processor"];
  CHECK(forced["onednn_isa"] == "avx2");
  CHECK(forced["int8_weight_bits"] == 7);
  CHECK(forced["int8_kernels"].get<std::string>().rfind("no VNNI (avx2): 7-bit weights", 0) == 0);
  CHECK(forced["bfloat16"].get<std::string>().rfind("unavailable: ", 0) == 0);
  const auto text = run_heed("info -m '" + kFixture + "'", "", kAvx2);
  CHECK(text.out.find("processor.int8_kernels: no VNNI (avx2)") != std::string::npos);
}

TEST_CASE("convert refuses a converted model and float32", "[bf16][cli]") {
  const fs::path out = converted("bf16-again", "bfloat16");
  for (const char *type : {"int8", "bfloat16"}) {
    auto again = run_heed("convert -m '" + out.string() + "' --quantize " + type + " -o '" +
                          (heed::test::temp_dir() / "bf16-twice").string() + "'");
    CHECK(again.exit_code == 3);
    CHECK(again.err.find("already converted to bfloat16 (config.json heed_quantization); convert "
                         "the original model") != std::string::npos);
  }
  auto to_f32 = run_heed("convert -m '" + kFixture + "' --quantize float32 -o /tmp/x");
  CHECK(to_f32.exit_code == 2);
}

TEST_CASE("a decoder table tied to the projection is read from it and the encoder's stays apart",
          "[packed]") {
  // tiny-separate has its own source and target tables and an lm_head; told
  // that lm_head is the target table (tie_word_embeddings, as transformers
  // ties it), only the decoder's table moves into the packed projection.
  const fs::path dir = heed::test::temp_dir() / "tied-separate";
  fs::create_directories(dir);
  const fs::path separate = fs::path(HEED_TEST_DATA) / "tiny-separate";
  for (const auto &entry : fs::directory_iterator(separate))
    fs::copy_file(entry.path(), dir / entry.path().filename(),
                  fs::copy_options::overwrite_existing);
  auto config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  REQUIRE(config["share_encoder_decoder_embeddings"] == false);
  config["tie_word_embeddings"] = true;
  std::ofstream(dir / "config.json") << config.dump(2);

  const auto untied = heed::MarianModel::load(separate.string(), {heed::ops::ComputeType::float32});
  const auto tied = heed::MarianModel::load(dir.string(), {heed::ops::ComputeType::float32});
  CHECK(tied->encoder.embeddings.tokens != nullptr);
  CHECK(tied->encoder.embeddings.packed_tokens.empty());
  CHECK(tied->decoder.embeddings.tokens == nullptr);
  REQUIRE_FALSE(tied->decoder.embeddings.packed_tokens.empty());
  CHECK(&tied->decoder.embeddings.packed_tokens.impl() ==
        &tied->decoder.output_projection.packed.impl());
  const int64_t d = tied->decoder.d_model();
  std::vector<float> a(static_cast<size_t>(d)), b(static_cast<size_t>(d));
  for (int64_t id : {int64_t{0}, int64_t{7}, int64_t{500}}) {
    INFO("token " << id);
    // Both tables embed as the untied model's own copies do.
    untied->decoder.embeddings.embed_step(&id, 1, 2, a.data());
    tied->decoder.embeddings.embed_step(&id, 1, 2, b.data());
    CHECK(a == b);
    untied->encoder.embeddings.embed_step(&id, 1, 2, a.data());
    tied->encoder.embeddings.embed_step(&id, 1, 2, b.data());
    CHECK(a == b);
    // And the projection is the target table, not lm_head.
    tied->decoder.output_projection.packed.read_row(id, b.data());
    const float *row = untied->decoder.embeddings.tokens->data() + id * d;
    CHECK(std::vector<float>(row, row + d) == b);
  }
}
