// Malformed model directories are refused with a message naming the file and
// the field or tensor at fault, and the CLI prints that message as one line and
// exits with code 3.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "heed/core/error.h"
#include "heed/model/marian_model.h"
#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;
using test::copy_fixture;
using test::replace_in_file;

namespace {

std::string load_error(const fs::path &dir) {
  try {
    MarianModel::load(dir.string());
  } catch (const ModelError &e) {
    return e.what();
  }
  return "(loaded without error)";
}

// The library refuses `dir` with a message containing `expected`, and
// `heed info` prints exactly that message on one line and exits with 3.
void check_refused(const fs::path &dir, const std::string &expected) {
  const std::string error = load_error(dir);
  INFO(error);
  CHECK_THAT(error, Catch::Contains(expected));
  const auto cli = test::run_heed("info -m '" + dir.string() + "'");
  CHECK(cli.exit_code == 3);
  CHECK(cli.err == "heed: model error: " + error + "\n");
}

// Edits model.safetensors of `dir` through its parsed header and data bytes.
template <typename Edit> void edit_weights(const fs::path &dir, Edit edit) {
  const fs::path path = dir / "model.safetensors";
  auto parts = test::read_safetensors(path);
  edit(parts.header, parts.data);
  test::write_safetensors(path, parts.header.dump(), parts.data);
}

} // namespace

TEST_CASE("a directory that is not a model", "[model-errors]") {
  const fs::path dir = test::temp_dir() / "not-a-model";
  fs::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "not a model\n";
  check_refused(dir, dir.string() + ": not a Marian model directory: config.json is missing");
  check_refused(dir / "missing", "no such model directory");
  check_refused(dir / "notes.txt", "notes.txt: not a directory");
}

TEST_CASE("missing files are named", "[model-errors]") {
  for (const std::string file : {"model.safetensors", "source.spm", "target.spm", "vocab.json"}) {
    const fs::path dir = copy_fixture("tiny-joint", "missing-" + file);
    fs::remove(dir / file);
    check_refused(dir, (dir / file).string() + ": missing");
  }
}

TEST_CASE("config.json fields of the wrong type or out of range are named", "[model-errors]") {
  struct Case {
    std::string from, to, expected;
  };
  const Case cases[] = {
      {"\"d_model\": 32", "\"d_model\": \"32\"", "field 'd_model' must be an integer"},
      {"\"d_model\": 32", "\"d_model\": -32", "field 'd_model' must be in [1, 65536], got -32"},
      {"\"encoder_attention_heads\": 4", "\"encoder_attention_heads\": 0",
       "field 'encoder_attention_heads' must be in [1"},
      {"\"decoder_attention_heads\": 4", "\"decoder_attention_heads\": 0",
       "field 'decoder_attention_heads' must be in [1"},
      {"\"encoder_attention_heads\": 4", "\"encoder_attention_heads\": 3",
       "field 'encoder_attention_heads' (3) does not divide d_model (32)"},
      {"\"decoder_attention_heads\": 4", "\"decoder_attention_heads\": 5",
       "field 'decoder_attention_heads' (5) does not divide d_model (32)"},
      {"\"encoder_layers\": 2", "\"encoder_layers\": -1",
       "field 'encoder_layers' must be in [1, 1024], got -1"},
      {"\"decoder_ffn_dim\": 64", "\"decoder_ffn_dim\": -64",
       "field 'decoder_ffn_dim' must be in [1, 1048576], got -64"},
      {"\"vocab_size\": 601", "\"vocab_size\": -601",
       "field 'vocab_size' must be in [1, 10000000], got -601"},
      {"\"max_position_embeddings\": 128", "\"max_position_embeddings\": -5",
       "field 'max_position_embeddings' must be in [1, 65536], got -5"},
      {"\"activation_function\": \"swish\"", "\"activation_function\": \"tanhsin\"",
       "field 'activation_function' has unsupported value"},
      {"\"scale_embedding\": true", "\"scale_embedding\": 1",
       "field 'scale_embedding' must be true or false"},
      {"\"vocab_size\": ", "\"vocab_size\": 99999999999, \"x\": ", "field 'vocab_size'"},
  };
  int i = 0;
  for (const auto &c : cases) {
    const fs::path dir = copy_fixture("tiny-joint", "config-" + std::to_string(i++));
    replace_in_file(dir / "config.json", c.from, c.to);
    check_refused(dir, (dir / "config.json").string() + ": " + c.expected);
  }
}

TEST_CASE("tensor shapes inconsistent with config.json are named", "[model-errors]") {
  const fs::path dir = copy_fixture("tiny-joint", "shape-mismatch");
  replace_in_file(dir / "config.json", "\"encoder_ffn_dim\": 64", "\"encoder_ffn_dim\": 65");
  check_refused(dir, "model.safetensors: tensor 'model.encoder.layers.0.fc1.weight' has "
                     "shape [64, 32] but config.json implies [65, 32]");
}

TEST_CASE("absurd sizes in config.json fail on the shapes before any allocation",
          "[model-errors]") {
  {
    // 9999999 x 65536 floats would be 2.6 TB: the embedding's shape check
    // must come first.
    const fs::path dir = copy_fixture("tiny-joint", "absurd-vocab");
    replace_in_file(dir / "config.json", "\"vocab_size\": 601", "\"vocab_size\": 9999999");
    replace_in_file(dir / "config.json", "\"decoder_vocab_size\": 601",
                    "\"decoder_vocab_size\": 9999999");
    replace_in_file(dir / "config.json", "\"d_model\": 32", "\"d_model\": 65536");
    check_refused(dir, "model.safetensors: tensor 'model.shared.weight' has shape [601, 32] but "
                       "config.json implies [9999999, 65536]");
  }
  {
    // A file whose embedding agrees with a huge d_model, and no position
    // tables: building them from config.json (2 x 65536 x 65536 floats, 32 GB)
    // must wait until the layers' shapes were checked, and fail there. The
    // memory limit makes a regression fail fast instead of swapping.
    const fs::path dir = copy_fixture("tiny-gelu", "absurd-positions");
    std::ofstream(dir / "config.json", std::ios::trunc)
        << R"({"vocab_size": 1, "d_model": 65536, "max_position_embeddings": 65536,
               "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 1,
               "decoder_attention_heads": 1, "pad_token_id": 0, "eos_token_id": 0,
               "decoder_start_token_id": 0})";
    test::write_safetensors(dir / "model.safetensors",
                            R"({"model.shared.weight":{"dtype":"F16","shape":[1,65536],)"
                            R"("data_offsets":[0,131072]}})",
                            std::vector<uint8_t>(131072, 0));
    // Only through the CLI, under a memory limit: a regression must not make
    // the test process itself allocate 32 GB.
    const std::string limit = test::kAddressSanitizer
                                  ? "ASAN_OPTIONS=\"$ASAN_OPTIONS:allocator_may_return_null=1:"
                                    "max_allocation_size_mb=4096\""
                                  : "ulimit -v 6000000;";
    const auto cli = test::run_heed("info -m '" + dir.string() + "'", "", limit);
    CHECK(cli.exit_code == 3);
    CHECK(cli.err == "heed: model error: " + (dir / "model.safetensors").string() +
                         ": missing tensor 'model.encoder.layers.0.self_attn.q_proj.weight'\n");
  }
}

TEST_CASE("truncated weights are detected", "[model-errors]") {
  const fs::path dir = copy_fixture("tiny-joint", "truncated");
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
  check_refused(dir, "outside the data section");
  fs::resize_file(dir / "model.safetensors", 100);
  check_refused(dir, "larger than the file");
}

TEST_CASE("malformed safetensors tables are named", "[model-errors]") {
  const std::string fc1_bias = "model.encoder.layers.0.fc1.bias";
  const std::string fc2_bias = "model.encoder.layers.0.fc2.bias";
  {
    const fs::path dir = copy_fixture("tiny-joint", "header-too-long");
    const fs::path path = dir / "model.safetensors";
    auto parts = test::read_safetensors(path);
    const std::string header = parts.header.dump();
    test::write_safetensors(path, header, parts.data, 8 * (header.size() + parts.data.size()));
    check_refused(dir, "model.safetensors: header length " +
                           std::to_string(8 * (header.size() + parts.data.size())) +
                           " is larger than the file");
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "offsets-outside");
    edit_weights(dir, [&](nlohmann::json &header, std::vector<uint8_t> &data) {
      header[fc1_bias]["data_offsets"] = {data.size() + 64, data.size() + 64 + 4 * 64};
    });
    check_refused(dir, "model.safetensors: tensor '" + fc1_bias + "': data_offsets end");
    check_refused(dir, "lies outside the data section");
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "offsets-overlap");
    edit_weights(dir, [&](nlohmann::json &header, std::vector<uint8_t> &) {
      header[fc2_bias]["data_offsets"] =
          header["model.encoder.layers.0.final_layer_norm.bias"]["data_offsets"]; // both [32]
    });
    check_refused(dir, "overlap in the data section");
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "unknown-dtype");
    edit_weights(dir, [&](nlohmann::json &header, std::vector<uint8_t> &) {
      header[fc1_bias]["dtype"] = "I16";
    });
    check_refused(dir, "tensor '" + fc1_bias +
                           "' has unsupported dtype 'I16' (supported: F32, F16, BF16, I8)");
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "missing-tensor");
    edit_weights(dir,
                 [&](nlohmann::json &header, std::vector<uint8_t> &) { header.erase(fc1_bias); });
    check_refused(dir, "model.safetensors: missing tensor '" + fc1_bias + "'");
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "extra-tensor");
    edit_weights(dir, [&](nlohmann::json &header, std::vector<uint8_t> &data) {
      header["model.encoder.layers.7.fc1.bias"] = {
          {"dtype", "F32"}, {"shape", {64}}, {"data_offsets", {data.size(), data.size() + 256}}};
      data.resize(data.size() + 256);
    });
    check_refused(dir, "model.safetensors: 1 unexpected tensor(s) for this config.json: "
                       "'model.encoder.layers.7.fc1.bias'");
  }
}

TEST_CASE("vocab.json inconsistent with the model is named", "[model-errors]") {
  {
    const fs::path dir = copy_fixture("tiny-joint", "vocab-eos");
    replace_in_file(dir / "vocab.json", "\"</s>\"", "\"</S>\"");
    check_refused(dir, "vocab.json: has no \"</s>\" piece");
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "vocab-range");
    replace_in_file(dir / "vocab.json", "\"<unk>\": ", "\"extra\": 123456, \"<unk>\": ");
    check_refused(dir, "vocab.json: piece \"extra\" has id 123456, outside the model's "
                       "embedding of 601 rows (config.json)");
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "spm-garbage");
    std::ofstream(dir / "source.spm", std::ios::trunc) << "not a model";
    check_refused(dir, "source.spm: not a SentencePiece model");
  }
}

TEST_CASE("a vocab.json that does not belong to the SentencePiece models is refused",
          "[model-errors]") {
  // Another model's vocabulary: the same ids, none of the pieces.
  const fs::path dir = copy_fixture("tiny-joint", "vocab-foreign");
  auto vocab = nlohmann::json::parse(std::ifstream(dir / "vocab.json"));
  nlohmann::json foreign = nlohmann::json::object();
  for (auto &[piece, id] : vocab.items())
    foreign[piece.front() == '<' ? piece : "x" + piece] = id;
  std::ofstream(dir / "vocab.json", std::ios::trunc) << foreign.dump();
  check_refused(dir, (dir / "vocab.json").string() + ": has only 0 of the ");
  check_refused(dir, "pieces of " + (dir / "source.spm").string() +
                         ": not the vocabulary of this SentencePiece model");

  // A few pieces missing is what HF tolerates (they become <unk>): accepted.
  const fs::path few = copy_fixture("tiny-joint", "vocab-few-missing");
  auto most = nlohmann::json::parse(std::ifstream(few / "vocab.json"));
  int dropped = 0;
  for (auto it = most.begin(); it != most.end() && dropped < 10;)
    if (it.key().front() != '<' && it.key() != ">>deu<<") {
      it = most.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  std::ofstream(few / "vocab.json", std::ios::trunc) << most.dump();
  CHECK(load_error(few) == "(loaded without error)");
}
