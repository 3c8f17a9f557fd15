// Inputs that broke a loader, found by the fuzz targets of tests/fuzz or while
// writing them, kept as regression tests: each is refused cleanly now.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/io/printable.h"
#include "heed/io/safetensors.h"
#include "heed/model/config.h"
#include "heed/model/generation_config.h"
#include "heed/text/vocabulary.h"
#include "test_support.h"

using namespace heed;

namespace {

std::string generation_error(const std::string &text) {
  try {
    GenerationConfig::from_json(io::parse_json(text, "generation_config.json"),
                                "generation_config.json");
  } catch (const ModelError &e) {
    return e.what();
  }
  return "(accepted)";
}

} // namespace

TEST_CASE("fuzz_safetensors: an empty tensor converts without touching memory", "[fuzz]") {
  // Found by fuzz_safetensors (UBSan): to_float() passed the null data() of an
  // empty output vector to memcpy.
  const std::string image("\x70\0\0\0\0\0\0\0"
                          R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                          R"("e":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]}}    )"
                          "\0\0\x80\x3f",
                          124);
  const io::SafetensorsFile file(reinterpret_cast<const uint8_t *>(image.data()), image.size(),
                                 "crash.safetensors");
  std::vector<float> none;
  io::SafetensorsFile::to_float(file.get("e"), none.data());
  float one = 0;
  io::SafetensorsFile::to_float(file.get("s"), &one);
  CHECK(one == 1.f);
}

TEST_CASE("fuzz_generation_config: a listed EOS id gets the range check of a plain one", "[fuzz]") {
  // Found by fuzz_generation_config's invariants: [-5] was taken as EOS id -5,
  // which the logits processor would have used as an index.
  CHECK(generation_error(R"({"eos_token_id": [-5]})") ==
        "generation_config.json: field 'eos_token_id' must be in [0, 10000000], got -5");
  CHECK(generation_error(R"({"eos_token_id": [1.5]})") ==
        "generation_config.json: field 'eos_token_id' must be an integer, got 1.5");
  CHECK(generation_error(R"({"eos_token_id": []})") ==
        "generation_config.json: field 'eos_token_id' is an empty list");
  CHECK(generation_error(R"({"eos_token_id": [1, 2]})") ==
        "generation_config.json: field 'eos_token_id' lists several EOS tokens; heed supports one");
  CHECK(generation_error(R"({"eos_token_id": [7]})") == "(accepted)");
}

TEST_CASE("deeply nested JSON values are reported without recursion", "[fuzz]") {
  // nlohmann's dump() recurses once per level: quoting a 200000-deep value in
  // an error message overflowed the stack (a segfault, not an error).
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const auto dir = test::copy_fixture("tiny-joint", "deep-config");
  test::replace_in_file(dir / "config.json", "\"d_model\": 32", "\"d_model\": " + deep);
  CHECK_THROWS_WITH(MarianConfig::load((dir / "config.json").string()),
                    (dir / "config.json").string() +
                        ": field 'd_model' must be an integer, got [[[[...]]]]");
  const auto cli = test::run_heed("info -m '" + dir.string() + "'");
  CHECK(cli.exit_code == 3);

  CHECK_THROWS_WITH(
      Vocabulary::from_json(io::parse_json(R"({"<unk>": )" + deep + "}", "vocab.json"),
                            "vocab.json", 10),
      "vocab.json: piece \"<unk>\" has id [[[[...]]]], not a non-negative integer");
}

TEST_CASE("brief JSON renderings stay short and on one line", "[fuzz]") {
  CHECK(io::brief(nlohmann::json::parse(R"([[1, 2], {"a": "x\ny"}])")) ==
        R"([[1, 2], {"a": "x\ny"}])");
  const auto long_list = nlohmann::json(std::vector<int>(1000, 7));
  const std::string shown = io::brief(long_list);
  CHECK(shown.size() < 100);
  CHECK(shown.find('\n') == std::string::npos);
}

TEST_CASE("printable escapes control characters and crops at a character boundary", "[fuzz]") {
  CHECK(io::printable("a\nb\tc\x01") == "a\\nb\\tc\\x01");
  CHECK(io::printable("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9...");
  CHECK(io::printable("abc", 3) == "abc");
  // Bytes that are not well-formed UTF-8 are escaped, well-formed sequences kept.
  CHECK(io::printable("a\xff\xc3\xa9\xe2\x82") == "a\\xFF\xc3\xa9\\xE2\\x82");
  CHECK(io::printable("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80") ==
        "\\xC0\\xAF\\xED\\xA0\\x80\\xF4\\x90\\x80\\x80");
  CHECK(io::printable("\xf0\x9f\x98\x80!") == "\xf0\x9f\x98\x80!");
  CHECK(io::utf8_prefix_length("\xf0\x9f\x90\x95x", 3) == 0);
}

TEST_CASE("a vocabulary giving one id to the empty piece and another is refused", "[fuzz]") {
  // The duplicate check looked for a non-empty piece in the slot, so an empty
  // piece let a second piece take its id unnoticed.
  CHECK_THROWS_WITH(
      Vocabulary::from_json(io::parse_json(R"({"": 0, "a": 0, "<unk>": 1})", "v"), "v", 10),
      Catch::StartsWith("v: id 0 is given to both"));
}
