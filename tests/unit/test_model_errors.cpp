// Malformed model directories are refused with a message naming the file and
// the field or tensor at fault.
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

} // namespace

TEST_CASE("a directory that is not a model", "[model-errors]") {
  const fs::path dir = test::temp_dir() / "not-a-model";
  fs::create_directories(dir);
  CHECK(load_error(dir) == dir.string() + ": not a Marian model directory: config.json is missing");
  CHECK_THAT(load_error(dir / "missing"), Catch::EndsWith("no such model directory"));
}

TEST_CASE("missing files are named", "[model-errors]") {
  for (const std::string file : {"model.safetensors", "source.spm", "target.spm", "vocab.json"}) {
    const fs::path dir = copy_fixture("tiny-joint", "missing-" + file);
    fs::remove(dir / file);
    CHECK_THAT(load_error(dir),
               Catch::Contains((dir / file).string()) && Catch::Contains("missing"));
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
      {"\"encoder_attention_heads\": 4", "\"encoder_attention_heads\": 3",
       "field 'encoder_attention_heads' (3) does not divide d_model (32)"},
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
    const std::string error = load_error(dir);
    INFO(error);
    CHECK_THAT(error,
               Catch::StartsWith((dir / "config.json").string()) && Catch::Contains(c.expected));
  }
}

TEST_CASE("tensor shapes inconsistent with config.json are named", "[model-errors]") {
  const fs::path dir = copy_fixture("tiny-joint", "shape-mismatch");
  replace_in_file(dir / "config.json", "\"encoder_ffn_dim\": 64", "\"encoder_ffn_dim\": 65");
  CHECK_THAT(load_error(dir),
             Catch::Contains("model.safetensors: tensor 'model.encoder.layers.0.fc1.weight' has "
                             "shape [64, 32] but config.json implies [65, 32]"));
}

TEST_CASE("truncated weights are detected", "[model-errors]") {
  const fs::path dir = copy_fixture("tiny-joint", "truncated");
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
  CHECK_THAT(load_error(dir),
             Catch::Contains("model.safetensors") && Catch::Contains("outside the data section"));
  fs::resize_file(dir / "model.safetensors", 100);
  CHECK_THAT(load_error(dir), Catch::Contains("larger than the file"));
}

TEST_CASE("vocab.json inconsistent with the model is named", "[model-errors]") {
  {
    const fs::path dir = copy_fixture("tiny-joint", "vocab-eos");
    replace_in_file(dir / "vocab.json", "\"</s>\"", "\"</S>\"");
    CHECK_THAT(load_error(dir), Catch::Contains("vocab.json: has no \"</s>\" piece"));
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "vocab-range");
    replace_in_file(dir / "vocab.json", "\"</s>\": 0", "\"</s>\": 0, \"extra\": 123456");
    CHECK_THAT(load_error(dir), Catch::Contains("vocab.json: piece \"extra\" has id 123456, "
                                                "outside the model's embedding"));
  }
  {
    const fs::path dir = copy_fixture("tiny-joint", "spm-garbage");
    std::ofstream(dir / "source.spm", std::ios::trunc) << "not a model";
    CHECK_THAT(load_error(dir), Catch::Contains("source.spm: not a SentencePiece model"));
  }
}
