// The non-finite check on weights at load and on log-probabilities per step.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <vector>

#include "heed/core/finite.h"

TEST_CASE("all_finite finds one infinity or NaN anywhere in a row", "[decoding]") {
  const float specials[] = {
      std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
      std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
      std::numeric_limits<float>::signaling_NaN()};
  const float ordinary[] = {0.f,
                            -0.f,
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::denorm_min(),
                            -1e30f,
                            -87.3f};
  for (int64_t n : {1, 3, 16, 17, 58101}) {
    std::vector<float> row(n);
    for (int64_t i = 0; i < n; ++i)
      row[i] = ordinary[i % 8];
    CHECK(heed::all_finite(row.data(), n));
    for (int64_t at : {int64_t{0}, n / 2, n - 1})
      for (float special : specials) {
        std::vector<float> bad = row;
        bad[at] = special;
        INFO("n " << n << " at " << at << " value " << special);
        CHECK_FALSE(heed::all_finite(bad.data(), n));
      }
  }
  CHECK(heed::all_finite(nullptr, 0));
}
