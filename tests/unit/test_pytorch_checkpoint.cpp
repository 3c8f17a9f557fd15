// pytorch_model.bin in both PyTorch serialisations (zip and legacy), read
// through the restricted unpickler: the fixtures of tests/data/pickle/ are made
// by tests/reference/make_pickle_fixtures.py with Debian's python3-torch.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/io/pickle.h"
#include "heed/io/pytorch_checkpoint.h"
#include "heed/io/safetensors.h"
#include "heed/model/checkpoint.h"
#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;

namespace {

const fs::path kPickleData = fs::path(HEED_TEST_DATA) / "pickle";

std::vector<float> values(const io::TensorEntry &t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  io::TensorArchive::to_float(t, out.data());
  return out;
}

std::string read_error(const fs::path &path) {
  try {
    io::read_pytorch_checkpoint(path.string());
  } catch (const ModelError &e) {
    return e.what();
  }
  return "(read without error)";
}

// A copy of tiny-joint whose weights are `weights` as pytorch_model.bin.
fs::path model_with(const fs::path &weights, const std::string &name) {
  const fs::path dir = test::copy_fixture("tiny-joint", name);
  fs::remove(dir / "model.safetensors");
  fs::copy_file(weights, dir / "pytorch_model.bin");
  return dir;
}

} // namespace

TEST_CASE("a small state dict reads the same from both serialisations", "[pytorch]") {
  const auto expected = io::read_json_file((kPickleData / "small.json").string());
  for (const char *file : {"small-zip.bin", "small-legacy.bin"}) {
    INFO(file);
    const auto archive = io::read_pytorch_checkpoint((kPickleData / file).string());
    CHECK(archive->format() ==
          (std::string(file) == "small-zip.bin" ? "pytorch zip" : "pytorch legacy"));
    CHECK(archive->tensors().size() == expected.size());
    for (const auto &[name, want] : expected.items()) {
      INFO(name);
      REQUIRE(archive->contains(name));
      const auto &t = archive->get(name);
      CHECK(io::dtype_name(t.dtype) == want["dtype"].get<std::string>());
      CHECK(t.shape == want["shape"].get<std::vector<int64_t>>());
      CHECK(values(t) == want["values"].get<std::vector<float>>());
    }
    // Tied tensors share one buffer; views and a row of the shared storage are
    // copies of their own.
    const auto &shared = archive->get("model.shared.weight");
    CHECK(archive->get("lm_head.weight").data == shared.data);
    CHECK(archive->get("model.encoder.embed_tokens.weight").data == shared.data);
    CHECK(archive->get("view").data != shared.data);
    CHECK(archive->get("row").data != shared.data);
  }
}

TEST_CASE("tiny-joint from pytorch_model.bin has the safetensors tensors", "[pytorch]") {
  const io::SafetensorsFile original(
      (fs::path(HEED_TEST_DATA) / "tiny-joint" / "model.safetensors").string());
  for (const char *file : {"tiny-joint-zip.bin", "tiny-joint-legacy-views.bin"}) {
    INFO(file);
    const auto archive = io::read_pytorch_checkpoint((kPickleData / file).string());
    CHECK(archive->tensors().size() == original.tensors().size());
    for (const auto &[name, t] : original.tensors()) {
      INFO(name);
      REQUIRE(archive->contains(name));
      CHECK(archive->get(name).shape == t.shape);
      CHECK(values(archive->get(name)) == values(t));
    }
  }
  // tiny-joint's safetensors holds the tied embedding once (model.shared.weight);
  // the fixture script saves it under the tied names too when present.
  const auto archive = io::read_pytorch_checkpoint((kPickleData / "tiny-joint-zip.bin").string());
  for (const char *tied :
       {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"})
    if (archive->contains(tied))
      CHECK(archive->get(tied).data == archive->get("model.shared.weight").data);
}

TEST_CASE("a model directory with pytorch_model.bin translates as its safetensors original",
          "[pytorch]") {
  const std::string original = (fs::path(HEED_TEST_DATA) / "tiny-joint").string();
  const std::string input = "Hello world.\nThe cat sat on the mat.\n";
  for (const char *file : {"tiny-joint-zip.bin", "tiny-joint-legacy-views.bin"}) {
    INFO(file);
    const fs::path dir = model_with(kPickleData / file, std::string("pytorch-") + file);
    const Checkpoint c = open_checkpoint(dir.string());
    CHECK(c.format == (std::string(file) == "tiny-joint-zip.bin"
                           ? CheckpointFormat::pytorch_zip
                           : CheckpointFormat::pytorch_legacy));
    for (const std::string options : {"-b 1", "-b 4 --format jsonl"}) {
      INFO(options);
      const auto want = test::run_heed("translate -m '" + original + "' " + options, input);
      const auto got = test::run_heed("translate -m '" + dir.string() + "' " + options, input);
      REQUIRE(want.exit_code == 0);
      CHECK(got.exit_code == 0);
      CHECK(got.out == want.out);
    }
  }
}

// tests/data/formats/MODEL/pytorch-* (tests/reference/write_formats.py) hold
// the weights of tests/data/MODEL: each translates byte-identically, greedy and
// beam, scores included. A layout with expected.safetensors (pytorch-views:
// some weights rounded to float16 / bfloat16) holds exactly those tensors.
TEST_CASE("the pytorch layouts of tests/data/formats translate as their originals", "[pytorch]") {
  const fs::path formats = fs::path(HEED_TEST_DATA) / "formats";
  if (!fs::is_directory(formats))
    return;
  const std::string input = "Hello world.\nThe cat sat on the mat.\nA longer sentence, with "
                            "punctuation; and more words.\n";
  for (const auto &model : fs::directory_iterator(formats)) {
    const fs::path original = fs::path(HEED_TEST_DATA) / model.path().filename();
    for (const auto &layout : fs::directory_iterator(model.path())) {
      if (layout.path().filename().string().rfind("pytorch-", 0) != 0)
        continue;
      INFO(layout.path().string());
      const fs::path expected = layout.path() / "expected.safetensors";
      if (fs::exists(expected)) {
        const io::SafetensorsFile want(expected.string());
        const auto got =
            io::read_pytorch_checkpoint((layout.path() / "pytorch_model.bin").string());
        for (const auto &[name, t] : want.tensors()) {
          INFO(name);
          REQUIRE(got->contains(name));
          CHECK(got->get(name).shape == t.shape);
          CHECK(values(got->get(name)) == values(t));
        }
        continue;
      }
      if (!fs::exists(original / "model.safetensors"))
        continue;
      for (const std::string options : {"-b 1 --format jsonl", "-b 4 --format jsonl"}) {
        INFO(options);
        const auto want =
            test::run_heed("translate -m '" + original.string() + "' " + options, input);
        const auto got =
            test::run_heed("translate -m '" + layout.path().string() + "' " + options, input);
        REQUIRE(want.exit_code == 0);
        CHECK(got.exit_code == 0);
        CHECK(got.out == want.out);
      }
    }
  }
}

TEST_CASE("hostile and broken pytorch_model.bin files are refused with a precise message",
          "[pytorch]") {
  struct Case {
    const char *file;
    std::string expected;
  };
  const Case cases[] = {
      {"os-system.bin", "archive/data.pkl byte 2: global 'os.system' is not allowed"},
      {"builtins-eval.bin", "legacy pickle 4 (state dict) byte 139: global 'builtins.eval' is not "
                            "allowed"},
      {"posix-system.bin", "global 'posix.system' is not allowed"},
      {"reduce-storage.bin", "REDUCE calls 'torch FloatStorage', which heed does not allow"},
      {"memo-out-of-range.bin", "byte 5: memo index 7 out of range (1 values memoised)"},
      {"stack-underflow.bin", "byte 3: TUPLE1/2/3 on an empty stack (stack underflow)"},
      {"unknown-opcode.bin", "byte 3: pickle opcode 0x69 'i' is not supported"},
      {"long-string.bin", "byte 2: truncated: the opcode needs 2147483647 more bytes"},
      {"storage-beyond-file.bin", "truncated: storage '0' of 4398046511104 bytes at byte 351 "
                                  "runs past the end of the file (375 bytes)"},
      {"zip-storage-size.bin",
       "zip member 'archive/data/0' holds 24 bytes, but its storage is 600 elements of F32"},
      {"view-out-of-bounds.bin", "tensor 'w' of size 6 elements at offset 1 with its strides "
                                 "reaches past its storage of 6 elements"},
      {"view-overflow.bin", "tensor 'w' of size 4 elements at offset 0 with its strides reaches "
                            "past its storage"},
      {"truncated-zip.bin", "not a valid zip archive"},
      {"truncated-legacy.bin", "truncated: storage '0' of 24 bytes"},
      {"bad-crc.bin", "zip member 'archive/data/0': CRC error"},
      {"path-traversal.bin", "zip member name '../x' is empty, absolute or leaves the archive"},
      {"big-endian.bin", "a big-endian checkpoint"},
      {"float64.bin", "tensor 'w' has storage type DoubleStorage (heed reads float32, float16 "
                      "and bfloat16 tensors)"},
      {"nested.bin", "state dict entry 'state_dict' is a dict, not a tensor"},
      {"missing-storage.bin", "storage '0' has no zip member 'archive/data/0'"},
      {"not-a-checkpoint.bin", "not a PyTorch checkpoint: neither a zip archive nor a legacy "
                               "pickle (first byte 0x68)"},
  };
  for (const auto &c : cases) {
    const fs::path path = kPickleData / "bad" / c.file;
    const std::string error = read_error(path);
    INFO(error);
    CHECK_THAT(error, Catch::StartsWith(path.string() + ": "));
    CHECK_THAT(error, Catch::Contains(c.expected));
  }
  CHECK(!fs::exists("/tmp/heed-pickle-pwned"));
}

TEST_CASE("the CLI refuses a hostile pytorch_model.bin with exit code 3", "[pytorch]") {
  for (const char *file : {"os-system.bin", "builtins-eval.bin", "bad-crc.bin"}) {
    const fs::path dir = model_with(kPickleData / "bad" / file, std::string("bad-") + file);
    const auto cli = test::run_heed("info -m '" + dir.string() + "'");
    INFO(cli.err);
    CHECK(cli.exit_code == 3);
    CHECK_THAT(cli.err, Catch::StartsWith(
                            "heed: model error: " + (dir / "pytorch_model.bin").string() + ": "));
  }
}

TEST_CASE("the unpickler bounds what a tiny input can make", "[pytorch]") {
  const io::pickle::Source source{"x.pkl", "data.pkl", 0, true};
  auto error = [&](const std::string &bytes) {
    try {
      io::pickle::unpickle(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), source);
    } catch (const ModelError &e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  using namespace std::string_literals;
  // A list appended to itself a thousand times: shared, never copied, and
  // nothing leaks (values live in one arena).
  std::string self = "\x80\x02]q\x00"s;
  for (int i = 0; i < 1000; ++i)
    self += "h\x00"
            "a"s;
  CHECK(error(self + ".") == "(accepted)");
  self += ".";
  const auto parsed =
      io::pickle::unpickle(reinterpret_cast<const uint8_t *>(self.data()), self.size(), source);
  CHECK(parsed->root->items.size() == 1000);
  CHECK(parsed->root->items[999] == parsed->root);
  CHECK(parsed->values.size() == 1);
  // Values past the limit are refused, not allocated.
  std::string many = "\x80\x02("s;
  for (size_t i = 0; i <= io::pickle::kMaxValues; ++i)
    many += "N";
  CHECK_THAT(error(many), Catch::Contains("more than 1048576 values"));
  CHECK_THAT(error(std::string(100, '(')), Catch::Contains("MARKs nested more than 64 deep"));
  CHECK_THAT(error("\x80\x02\x95\xff\xff\xff\xff\xff\xff\xff\x7f"s),
             Catch::Contains("FRAME of 9223372036854775807 bytes"));
  CHECK_THAT(error("\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff"s),
             Catch::Contains("truncated: the opcode needs 18446744073709551615 more bytes"));
  CHECK_THAT(error(std::string("\x80\x02}NNs.", 7)), Catch::Contains("(accepted)"));
  CHECK_THAT(error(std::string("\x80\x02}]Ns.", 7)), Catch::Contains("a dict key is a list"));
  CHECK_THAT(error(std::string("\x80\x02N}b.", 6)), Catch::Contains("BUILD on a None"));
  CHECK_THAT(error(std::string("\x80\x02}}b.", 6)),
             Catch::Contains("BUILD on a dict (heed allows it only on an OrderedDict)"));
  CHECK_THAT(error(std::string("\x80\x06N.", 4)), Catch::Contains("pickle protocol 6"));
  CHECK_THAT(error(std::string("\x80\x02N", 3)), Catch::Contains("ends without STOP"));
}
