// heed::Engine, the library's public entry point (heed/heed.h): it must
// translate exactly as the CLI does with the same options, and report errors
// with the library's exception types. tests/install/ checks the same interface
// from outside, through the installed package.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "heed/heed.h"
#include "test_support.h"

namespace {

const std::string kFixture = std::string(HEED_TEST_DATA) + "/tiny-joint";
const std::vector<std::string> kSources = {"Two dogs play in the snow.", "", "A girl runs."};

} // namespace

TEST_CASE("Engine translates as the CLI does with the same options", "[engine]") {
  heed::TranslationOptions options;
  options.beam_size = 3;
  options.n_best = 2;
  heed::Engine engine(kFixture, options);
  CHECK(engine.model_directory() == kFixture);
  const std::vector<heed::Translation> got = engine.translate(kSources);
  REQUIRE(got.size() == kSources.size());

  const auto cli = heed::test::run_heed("translate -m '" + kFixture +
                                        "' --beam-size 3 --n-best 2 --format jsonl "
                                        "'Two dogs play in the snow.' '' 'A girl runs.'");
  REQUIRE(cli.exit_code == 0);
  std::istringstream lines(cli.out);
  std::string line;
  for (const heed::Translation &t : got) {
    REQUIRE(std::getline(lines, line));
    const auto expected = nlohmann::json::parse(line)["n_best"];
    REQUIRE(t.hypotheses.size() == 2);
    for (size_t k = 0; k < 2; ++k) {
      CHECK(t.hypotheses[k].text == expected[k]["translation"].get<std::string>());
      CHECK(t.hypotheses[k].tokens == expected[k]["tokens"].get<std::vector<int64_t>>());
      CHECK(t.hypotheses[k].score == Approx(expected[k]["score"].get<double>()).margin(1e-5));
      CHECK_FALSE(t.hypotheses[k].attention);
    }
  }
  CHECK(got[1].source_ids.empty()); // the blank line ran no model
  CHECK(got[1].hypotheses[0].text.empty());
  CHECK_FALSE(got[0].source_ids.empty());

  // A moved Engine keeps its model and options.
  heed::Engine moved = std::move(engine);
  CHECK(moved.translate({kSources[0]})[0].hypotheses[1].text == got[0].hypotheses[1].text);
}

TEST_CASE("Engine records the attention its options ask for", "[engine]") {
  heed::TranslationOptions options;
  options.attention.cross = true;
  heed::Engine engine(kFixture, options);
  const auto got = engine.translate({kSources[0]});
  const heed::TranslationHypothesis &h = got.at(0).hypotheses.at(0);
  REQUIRE(h.attention);
  REQUIRE(h.attention->cross);
  CHECK_FALSE(h.attention->encoder);
  const heed::AttentionMap &cross = *h.attention->cross;
  CHECK(cross.queries() == static_cast<int64_t>(h.tokens.size()));
  CHECK(cross.keys() == static_cast<int64_t>(got[0].source_ids.size()));
  double row_sum = 0;
  for (int64_t key = 0; key < cross.keys(); ++key)
    row_sum += cross.row(0, 0, 0)[key];
  CHECK(row_sum == Approx(1.0).margin(1e-5));
}

TEST_CASE("Engine errors are the library's exception types", "[engine]") {
  CHECK_THROWS_AS(heed::Engine("/nonexistent/model"), heed::ModelError);
  heed::TranslationOptions too_many;
  too_many.beam_size = 2;
  too_many.n_best = 3;
  CHECK_THROWS_AS(heed::Engine(kFixture, too_many), heed::OptionError);
}

TEST_CASE("Engine loads an ensemble directory as the CLI does", "[engine][ensemble]") {
  namespace fs = std::filesystem;
  const fs::path dir = heed::test::temp_dir() / "engine-ensemble";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "ensemble.yml")
      << "models: [" << kFixture << ", " << kFixture << "]\nweights: [0.25, 0.75]\n";
  heed::TranslationOptions options;
  options.beam_size = 3;
  heed::Engine engine(dir.string(), options);
  CHECK(engine.model_directory() == dir.string());
  const auto got = engine.translate(kSources);
  // A model with itself at weights summing to 1 is the model.
  heed::Engine single(kFixture, options);
  const auto expected = single.translate(kSources);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].hypotheses[0].tokens == expected[i].hypotheses[0].tokens);
    CHECK(got[i].hypotheses[0].score == Approx(expected[i].hypotheses[0].score).margin(1e-5));
  }
  const auto cli = heed::test::run_heed("translate -q -b 3 -m '" + dir.string() + "' " +
                                        "'Two dogs play in the snow.' '' 'A girl runs.'");
  REQUIRE(cli.exit_code == 0);
  CHECK(cli.out == got[0].hypotheses[0].text + "\n\n" + got[2].hypotheses[0].text + "\n");
  // The manifest's beam-size is the default, and options.beam_size overrides it.
  std::ofstream(dir / "ensemble.yml", std::ios::app) << "beam-size: 2\n";
  heed::Engine two_beams(dir.string());
  heed::TranslationOptions beam2;
  beam2.beam_size = 2;
  CHECK(two_beams.translate({kSources[0]})[0].hypotheses[0].tokens ==
        heed::Engine(kFixture, beam2).translate({kSources[0]})[0].hypotheses[0].tokens);
  // options.ensemble_weights replaces the manifest's: 1, 1 doubles the scores.
  options.ensemble_weights = {1.0, 1.0};
  heed::Engine doubled(dir.string(), options);
  CHECK(doubled.translate({kSources[0]})[0].hypotheses[0].score ==
        Approx(2 * expected[0].hypotheses[0].score).margin(1e-4));
  fs::remove_all(dir);
}
