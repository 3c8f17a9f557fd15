// Every layout heed reads (model/checkpoint.h) gives the same model: the
// tests/data/formats copies of a tiny model (pytorch_model.bin zip, legacy and
// with views, a native Marian directory; tests/reference/write_formats.py)
// translate with the same tokens, scores and attention as the safetensors
// original, greedy and beam; `heed convert` from each layout writes a
// safetensors directory that translates identically again, and says which
// layout it read.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "test_support.h"

using namespace heed;
using test::read_file;
using test::run_heed;
namespace fs = std::filesystem;

namespace {

const fs::path kData = HEED_TEST_DATA;

// What a user compares: jsonl with scores, n-best and the cross-attention of
// each hypothesis (written to `attention`), for greedy or beam search.
std::string outputs(const fs::path &model, const std::string &options, const std::string &name) {
  const fs::path attention = test::temp_dir() / ("formats-" + name + ".json");
  fs::remove(attention);
  const auto r = run_heed("translate -q -m '" + model.string() + "' " + options +
                          " --format jsonl --attention '" + attention.string() +
                          "' 'Two dogs play in the snow.' 'A man in a blue shirt is "
                          "standing on a ladder.' 'A girl.'");
  INFO(model << " " << options << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out + read_file(attention);
}

struct Layout {
  fs::path copy;     // a layout of tests/data/formats
  fs::path original; // the safetensors model it must equal
  std::string options;
};

std::vector<Layout> layouts() {
  return {{kData / "formats/tiny-joint/pytorch-zip", kData / "tiny-joint", ""},
          {kData / "formats/tiny-joint/pytorch-legacy", kData / "tiny-joint", ""},
          {kData / "formats/tiny-separate/pytorch-zip", kData / "tiny-separate", ""},
          {kData / "formats/tiny-gelu/pytorch-legacy", kData / "tiny-gelu", ""},
          {kData / "formats/tiny-multi/marian", kData / "tiny-multi", "--target-language spa"}};
}

} // namespace

TEST_CASE("formats: each layout translates, scores and attends as the safetensors original",
          "[formats]") {
  for (const Layout &l : layouts()) {
    for (const std::string search : {"-b 1", "-b 4 --n-best 2"}) {
      INFO(l.copy << " " << search);
      CHECK(outputs(l.copy, l.options + " " + search, "copy") ==
            outputs(l.original, l.options + " " + search, "original"));
    }
  }
}

TEST_CASE("formats: heed convert writes any layout as safetensors that translates the same",
          "[formats][convert]") {
  const std::vector<std::pair<fs::path, std::string>> inputs = {
      {kData / "formats/tiny-joint/pytorch-zip", "pytorch_model.bin (zip)"},
      {kData / "formats/tiny-joint/pytorch-legacy", "pytorch_model.bin (legacy)"},
      {kData / "formats/tiny-joint/pytorch-views", "pytorch_model.bin (zip)"},
      {kData / "formats/tiny-joint/marian", "Marian npz"},
      {kData / "formats/tiny-multi/marian", "Marian npz"}};
  for (const auto &[input, format] : inputs) {
    INFO(input);
    const fs::path out =
        test::temp_dir() /
        ("converted-" + input.parent_path().filename().string() + "-" + input.filename().string());
    fs::remove_all(out);
    const auto r = run_heed("convert -m '" + input.string() + "' -o '" + out.string() + "'");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("from " + format + " to model.safetensors") != std::string::npos);
    CHECK(fs::exists(out / "model.safetensors"));
    CHECK(!fs::exists(out / "pytorch_model.bin"));
    CHECK(!fs::exists(out / "model.npz"));
    const auto info = run_heed("info -m '" + out.string() + "'");
    CHECK(info.out.find("format: safetensors\n") != std::string::npos);
    const std::string options =
        input.parent_path().filename() == "tiny-multi" ? "--target-language deu " : "";
    for (const std::string search : {"-b 1", "-b 3 --n-best 3"})
      CHECK(outputs(out, options + search, "converted") == outputs(input, options + search, "in"));
    // int8 from a Marian or pytorch layout directly, as from safetensors.
    const fs::path int8 = out.string() + "-int8";
    fs::remove_all(int8);
    REQUIRE(
        run_heed("convert -m '" + input.string() + "' --quantize int8 -o '" + int8.string() + "'")
            .exit_code == 0);
    const auto from_copy = fs::path(out.string() + "-int8-again");
    fs::remove_all(from_copy);
    REQUIRE(run_heed("convert -m '" + out.string() + "' --quantize int8 -o '" + from_copy.string() +
                     "'")
                .exit_code == 0);
    CHECK(read_file(int8 / "model.safetensors") == read_file(from_copy / "model.safetensors"));
  }
  // Tied weights (one storage under four names in pytorch_model.bin) are written once.
  const fs::path tied = test::temp_dir() / "converted-tiny-joint-pytorch-zip";
  const std::string header = read_file(tied / "model.safetensors").substr(0, 20000);
  CHECK(header.find("model.shared.weight") != std::string::npos);
  CHECK(header.find("lm_head.weight") == std::string::npos);
  CHECK(header.find("embed_tokens") == std::string::npos);
}

TEST_CASE("formats: converting a safetensors model needs --quantize", "[formats][convert]") {
  const fs::path out = test::temp_dir() / "converted-nothing";
  fs::remove_all(out);
  const auto r =
      run_heed("convert -m '" + (kData / "tiny-joint").string() + "' -o '" + out.string() + "'");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--quantize: int8 or bfloat16 is needed") != std::string::npos);
  CHECK(!fs::exists(out));
}

TEST_CASE("formats: a Marian model's --alignment reads its guided-alignment head",
          "[formats][alignment]") {
  // tiny-multi's model.yml: transformer-guided-alignment-layer: 2 (1-based),
  // so --alignment alone reads decoder layer 1, head 0, as Marian does; the
  // same model from Hugging Face (which cannot know) averages the last layer's
  // heads. Explicit choices win on both.
  const std::string text = "'A dog runs in the park.' 'Two men sit.'";
  const auto run = [&](const fs::path &model, const std::string &options) {
    const auto r = run_heed("translate -q -m '" + model.string() +
                            "' --target-language deu --alignment hard " + options + " " + text);
    INFO(model << " " << options << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const fs::path marian = kData / "formats/tiny-multi/marian", hf = kData / "tiny-multi";
  const std::string guided = run(marian, "");
  CHECK(guided == run(hf, "--attention-layers 1 --attention-heads 0"));
  CHECK(guided != run(hf, ""));
  CHECK(run(marian, "--attention-heads mean") ==
        run(hf, "--attention-layers -1 --attention-heads mean"));
  const auto info = run_heed("info -m '" + marian.string() + "'");
  CHECK(info.out.find("guided_alignment_layer: 1\n") != std::string::npos);
}
