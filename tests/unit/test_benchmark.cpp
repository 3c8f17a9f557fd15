// `heed bench` on a tiny model: what it reports, not how fast (speed is
// measured with the bench itself, never in tests).
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "heed/tools/memory_bandwidth.h"
#include "test_support.h"

using heed::test::run_heed;

TEST_CASE("heed bench names the shape and the compute type of every row", "[bench][cli]") {
  const std::string model = std::string(HEED_TEST_DATA) + "/tiny-joint";
  const auto input = heed::test::temp_dir() / "bench.en";
  std::ofstream(input) << "Two dogs play in the snow.\nHello world\nA man on a ladder.\n";
  const auto r = run_heed("bench -m '" + model + "' -i '" + input.string() +
                          "' --runs 2 --threads 1 --settings 1x1,2x2 --max-new-tokens 4");
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(r.out.find("shape: d_model 32, 2+2 layers, 4 heads, ffn 64, swish, vocabulary 601 "
                   "(joint), weights F32\n") != std::string::npos);
  CHECK(r.out.find("input: 3 lines") != std::string::npos);
  // One figures row per compute type, one end-to-end row per type and setting.
  int figures = 0, end_to_end = 0;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    const bool float32 = line.rfind("float32 ", 0) == 0, int8 = line.rfind("int8 ", 0) == 0;
    if (!float32 && !int8)
      continue;
    if (line.find("batch ") != std::string::npos) {
      ++end_to_end;
      // Each setting's own peak RSS ends its row: at least the tiny model.
      const double peak = std::stod(line.substr(line.find_last_of(' ') + 1));
      CHECK(peak > 1.0);
    } else {
      ++figures;
    }
  }
  CHECK(figures == 2);
  CHECK(end_to_end == 4);
  CHECK(r.out.find("batch 2 beam 2") != std::string::npos);
}

TEST_CASE("the peak RSS restarts from the current RSS", "[bench]") {
  if (heed::test::kAddressSanitizer) {
    WARN("skipped: AddressSanitizer's allocator keeps freed memory, so RSS says nothing here");
    return;
  }
  const int64_t bytes = int64_t{256} << 20;
  {
    auto buffer = std::make_unique<char[]>(static_cast<size_t>(bytes));
    std::memset(buffer.get(), 1, static_cast<size_t>(bytes)); // resident
  }
  const int64_t before = heed::peak_rss_bytes();
  CHECK(before >= bytes);
  REQUIRE(heed::restart_peak_rss());
  // The freed buffer (mapped on its own) no longer counts.
  CHECK(heed::peak_rss_bytes() <= before - bytes / 2);
  CHECK(heed::peak_rss_bytes() >= heed::current_rss_bytes() / 2);
}
