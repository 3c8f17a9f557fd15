// int8 end to end: heed convert --quantize int8 writes a model heed loads
// directly, with the same results as quantizing at load.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "heed/model/marian_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using heed::test::run_heed;

namespace {

const std::string kFixture = std::string(HEED_TEST_DATA) + "/tiny-joint";
const std::string kSentences =
    "'Two dogs play in the snow.' 'Hello world' 'A man in a blue shirt is standing on a ladder.'";

fs::path converted(const std::string &name) {
  const fs::path out = heed::test::temp_dir() / name;
  fs::remove_all(out);
  const auto r =
      run_heed("convert -m '" + kFixture + "' --quantize int8 -o '" + out.string() + "'");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("quantized to int8") != std::string::npos);
  return out;
}

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
}
