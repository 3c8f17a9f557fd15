// model/weight_reader.h: a matrix read in blocks of rows gives exactly what
// reading it whole gives, in every stored type, rounded or not.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/io/safetensors.h"
#include "heed/model/weight_reader.h"
#include "test_support.h"

using namespace heed;

namespace {

constexpr int64_t kRows = 50, kCols = 12;

// One F32, one F16, one BF16 and one I8 (with its F32 scales) [50, 12] matrix.
std::string write_matrices(const std::string &name, float poison_at_f32 = -1) {
  std::vector<float> values(kRows * kCols);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = std::sin(0.37f * static_cast<float>(i)) * 3.1f;
  if (poison_at_f32 >= 0)
    values[static_cast<size_t>(poison_at_f32)] = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> data;
  const auto append = [&](const void *bytes, size_t size) {
    const size_t at = data.size();
    data.resize(at + size);
    std::memcpy(data.data() + at, bytes, size);
    return std::to_string(at) + ", " + std::to_string(at + size);
  };
  std::vector<uint16_t> halves, brains;
  for (size_t i = 0; i < values.size(); ++i) {
    // Finite halves of every exponent, either sign.
    const auto bits = static_cast<uint32_t>(i * 2654435761u);
    halves.push_back(static_cast<uint16_t>(((bits >> 7) & 0x7BFFu) | ((bits >> 16) & 0x8000u)));
    brains.push_back(to_bfloat16(values[i]));
  }
  std::vector<int8_t> q;
  std::vector<float> scales;
  for (int64_t r = 0; r < kRows; ++r)
    scales.push_back(0.01f * static_cast<float>(r + 1));
  for (size_t i = 0; i < values.size(); ++i)
    q.push_back(static_cast<int8_t>(static_cast<int>(i % 255) - 127));
  const std::string shape = "\"shape\": [50, 12]";
  std::string header = "{";
  header += "\"f32.weight\": {\"dtype\": \"F32\", " + shape + ", \"data_offsets\": [" +
            append(values.data(), values.size() * 4) + "]}, ";
  header += "\"f16.weight\": {\"dtype\": \"F16\", " + shape + ", \"data_offsets\": [" +
            append(halves.data(), halves.size() * 2) + "]}, ";
  header += "\"bf16.weight\": {\"dtype\": \"BF16\", " + shape + ", \"data_offsets\": [" +
            append(brains.data(), brains.size() * 2) + "]}, ";
  header += "\"i8.weight\": {\"dtype\": \"I8\", " + shape + ", \"data_offsets\": [" +
            append(q.data(), q.size()) + "]}, ";
  header += "\"i8.weight_scale\": {\"dtype\": \"F32\", \"shape\": [50], \"data_offsets\": [" +
            append(scales.data(), scales.size() * 4) + "]}}";
  const std::string path = (test::temp_dir() / name).string();
  test::write_safetensors(path, header, data);
  return path;
}

} // namespace

TEST_CASE("a matrix read in blocks of rows equals the matrix read whole", "[model]") {
  const io::SafetensorsFile file(write_matrices("blocks.safetensors"));
  for (const bool round : {false, true})
    for (const std::string name : {"f32.weight", "f16.weight", "bf16.weight", "i8.weight"})
      for (const int64_t block_rows : {int64_t{1}, int64_t{7}, int64_t{50}, int64_t{64}}) {
        INFO(name << (round ? " rounded to bfloat16" : "") << ", blocks of " << block_rows);
        WeightReader whole(file), blocks(file);
        whole.round_matrices_to_bfloat16(round);
        blocks.round_matrices_to_bfloat16(round);
        const Tensor expected = whole.read(name, {kRows, kCols});
        std::vector<float> got;
        int64_t next = 0;
        blocks.read_row_blocks(name, {kRows, kCols}, block_rows,
                               [&](int64_t first, int64_t rows, const float *w) {
                                 CHECK(first == next);
                                 CHECK(rows == std::min(block_rows, kRows - first));
                                 got.insert(got.end(), w, w + rows * kCols);
                                 next = first + rows;
                               });
        CHECK(next == kRows);
        REQUIRE(got.size() == static_cast<size_t>(expected.size()));
        int64_t differ = 0;
        for (int64_t i = 0; i < expected.size(); ++i)
          differ +=
              std::memcmp(&got[static_cast<size_t>(i)], expected.data() + i, sizeof(float)) != 0;
        CHECK(differ == 0);
        // The tensor counts as read: a second read is refused.
        CHECK_THROWS_AS(blocks.read(name, {kRows, kCols}), ModelError);
      }
}

TEST_CASE("a matrix read in blocks is refused for its shape and its non-finite values as a whole "
          "one is",
          "[model]") {
  const io::SafetensorsFile file(write_matrices("blocks-nan.safetensors", 100));
  const auto never = [](int64_t, int64_t, const float *) { FAIL("no block expected"); };
  WeightReader r(file);
  // The wrong shape, before any block.
  CHECK_THROWS_WITH(r.read_row_blocks("f16.weight", {kCols, kRows}, 7, never),
                    Catch::Contains("tensor 'f16.weight' has shape [50, 12]"));
  // A NaN in the third block of 4 rows (flat index 100: row 8) is described
  // with its index in the whole matrix; the blocks before it were handed on.
  int64_t handed = 0;
  CHECK_THROWS_WITH(
      r.read_row_blocks("f32.weight", {kRows, kCols}, 4,
                        [&](int64_t, int64_t rows, const float *) { handed += rows; }),
      Catch::Contains("tensor 'f32.weight' holds 1 non-finite value(s) (the first, "
                      "nan, at flat index 100 of shape [50, 12])"));
  CHECK(handed == 8);
}
