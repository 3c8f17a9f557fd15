// The safetensors reader accepts well-formed files and names the file and the
// tensor in every rejection.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "heed/core/error.h"
#include "heed/io/safetensors.h"
#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string &name) { return (test::temp_dir() / name).string(); }

std::string write_file(const std::string &name, const std::string &header,
                       const std::vector<uint8_t> &data, int64_t claimed_length = -1) {
  const std::string path = temp_path(name);
  test::write_safetensors(path, header, data, claimed_length);
  return path;
}

std::vector<uint8_t> floats(const std::vector<float> &values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::string error_of(const std::string &path) {
  try {
    io::SafetensorsFile file(path);
  } catch (const ModelError &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("safetensors: reads F32, F16 and BF16 tensors", "[safetensors]") {
  std::vector<uint8_t> data = floats({1.f, -2.f, 0.5f, 3.f});
  // F16 1.0 = 0x3c00, -2.0 = 0xc000; BF16 1.5 = 0x3fc0.
  for (uint16_t h : {0x3c00, 0xc000, 0x3fc0}) {
    data.push_back(h & 0xff);
    data.push_back(h >> 8);
  }
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},)"
      R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]}})";
  io::SafetensorsFile file(write_file("ok.safetensors", header, data));
  REQUIRE(file.metadata().at("format") == "pt");
  float out[4];
  io::SafetensorsFile::to_float(file.get("a"), out);
  CHECK(out[1] == -2.f);
  CHECK(out[3] == 3.f);
  io::SafetensorsFile::to_float(file.get("h"), out);
  CHECK(out[0] == 1.f);
  CHECK(out[1] == -2.f);
  io::SafetensorsFile::to_float(file.get("b"), out);
  CHECK(out[0] == 1.5f);
  CHECK_THROWS_WITH(file.get("missing"), Catch::Contains("missing tensor 'missing'"));
}

TEST_CASE("safetensors: half precision conversion covers subnormals and infinities",
          "[safetensors]") {
  CHECK(io::half_to_float(0x0001) == Approx(5.960464477539063e-08));
  CHECK(io::half_to_float(0x7bff) == 65504.f);
  CHECK(std::isinf(io::half_to_float(0xfc00)));
  CHECK(io::half_to_float(0x8000) == 0.f);
}

TEST_CASE("safetensors: malformed files are rejected with the file and tensor named",
          "[safetensors]") {
  const auto data = floats({1.f, 2.f});
  CHECK_THAT(error_of(write_file("short.safetensors", "", {}, 0).substr(0) + "x"),
             Catch::Contains("cannot open"));
  {
    const std::string path = temp_path("tiny.safetensors");
    std::ofstream(path) << "abc";
    CHECK_THAT(error_of(path), Catch::Contains("tiny.safetensors") && Catch::Contains("truncated"));
  }
  CHECK_THAT(error_of(write_file("long.safetensors", "{}", {}, 1000)),
             Catch::Contains("larger than the file"));
  CHECK_THAT(error_of(write_file("json.safetensors", "{not json", {})),
             Catch::Contains("not valid JSON"));
  CHECK_THAT(
      error_of(write_file("dtype.safetensors",
                          R"({"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", data)),
      Catch::Contains("tensor 'w'") && Catch::Contains("unsupported dtype 'I64'"));
  CHECK_THAT(
      error_of(write_file("outside.safetensors",
                          R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data)),
      Catch::Contains("tensor 'w'") && Catch::Contains("outside the data section"));
  CHECK_THAT(
      error_of(write_file("shape.safetensors",
                          R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data)),
      Catch::Contains("does not match shape [3]"));
  CHECK_THAT(
      error_of(write_file(
          "overlap.safetensors",
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
          data)),
      Catch::Contains("overlap"));
  CHECK_THAT(
      error_of(write_file("negative.safetensors",
                          R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", data)),
      Catch::Contains("non-negative"));
  CHECK_THAT(
      error_of(write_file("reversed.safetensors",
                          R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data)),
      Catch::Contains("reversed"));
}

TEST_CASE("safetensors: an image in memory is read like the same file", "[safetensors]") {
  const auto data = floats({1.f, 2.f});
  const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string path = write_file("memory.safetensors", header, data);
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  const io::SafetensorsFile from_memory(bytes.data(), bytes.size(), "in-memory");
  const io::SafetensorsFile from_file(path);
  CHECK(from_memory.path() == "in-memory");
  CHECK(from_memory.get("w").shape == from_file.get("w").shape);
  float a[2], b[2];
  io::SafetensorsFile::to_float(from_memory.get("w"), a);
  io::SafetensorsFile::to_float(from_file.get("w"), b);
  CHECK(std::memcmp(a, b, sizeof a) == 0);
  const std::string broken("\x05\0\0\0\0\0\0\0{", 9); // claims 5 header bytes, has 1
  CHECK_THROWS_WITH(io::SafetensorsFile(reinterpret_cast<const uint8_t *>(broken.data()),
                                        broken.size(), "in-memory"),
                    Catch::StartsWith("in-memory: header length 5 is larger than the file"));
}

TEST_CASE("safetensors: names from the file are quoted on one line, cropped", "[safetensors]") {
  const std::string header = R"({"bad\nname":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})";
  CHECK_THAT(error_of(write_file("newline.safetensors", header, floats({1.f, 2.f}))),
             Catch::Contains("tensor 'bad\\nname' has unsupported dtype 'I64'"));
  const std::string long_name(5000, 'n');
  const std::string error = error_of(
      write_file("long-name.safetensors",
                 R"({")" + long_name + R"(":{"dtype":"F32","shape":[9],"data_offsets":[0,8]}})",
                 floats({1.f, 2.f})));
  CHECK_THAT(error, Catch::Contains("tensor 'nnnn") && Catch::Contains("...'"));
  CHECK(error.size() < 400);
}

TEST_CASE("safetensors: empty tensors share no bytes with their neighbours", "[safetensors]") {
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})";
  const io::SafetensorsFile file(write_file("empty-inside.safetensors", header, floats({1, 2})));
  CHECK(file.get("e").numel() == 0);
}

TEST_CASE("safetensors: every IEEE half converts exactly", "[safetensors]") {
  // The reference is the definition: (-1)^s x m x 2^(e-25) with the implicit
  // bit for normal numbers, m x 2^-24 for subnormals.
  for (uint32_t h = 0; h <= 0xffffu; ++h) {
    const bool negative = (h & 0x8000u) != 0;
    const int exponent = static_cast<int>((h >> 10) & 0x1fu);
    const int mantissa = static_cast<int>(h & 0x3ffu);
    const float got = io::half_to_float(static_cast<uint16_t>(h));
    INFO("half 0x" << std::hex << h);
    if (exponent == 0x1f) {
      if (mantissa == 0)
        CHECK(got == (negative ? -INFINITY : INFINITY));
      else
        CHECK(std::isnan(got));
      continue;
    }
    const double magnitude =
        exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    const float expected = static_cast<float>(negative ? -magnitude : magnitude);
    CHECK(got == expected);
    CHECK(std::signbit(got) == negative);
  }
}

TEST_CASE("safetensors: F16 tensors convert as half_to_float does, in any part", "[safetensors]") {
  // to_float converts eight halves per instruction where the processor has
  // F16C, the rest one by one: every half, from starts and ends that are not
  // multiples of eight, must come out as the definition above says.
  std::vector<uint8_t> data(2 * 65536);
  for (uint32_t h = 0; h <= 0xffffu; ++h) {
    data[2 * h] = static_cast<uint8_t>(h & 0xff);
    data[2 * h + 1] = static_cast<uint8_t>(h >> 8);
  }
  const io::SafetensorsFile file(
      write_file("all-halves.safetensors",
                 R"({"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}})", data));
  const io::TensorEntry &entry = file.get("h");
  for (const auto &[begin, end] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 65536}, {3, 65533}, {1, 8}, {65529, 65536}, {40000, 40000}}) {
    std::vector<float> out(static_cast<size_t>(end - begin) + 1, 7.f);
    io::TensorArchive::to_float(entry, out.data(), begin, end);
    INFO("elements [" << begin << ", " << end << ")");
    for (int64_t i = begin; i < end; ++i) {
      const float expected = io::half_to_float(static_cast<uint16_t>(i));
      const float got = out[static_cast<size_t>(i - begin)];
      INFO("half 0x" << std::hex << i);
      if (std::isnan(expected)) {
        CHECK(std::isnan(got));
      } else {
        uint32_t a, b;
        std::memcpy(&a, &expected, 4);
        std::memcpy(&b, &got, 4);
        CHECK(a == b);
      }
    }
    CHECK(out.back() == 7.f); // nothing written past `end`
  }
}
