// --target-language on a multilingual model (tests/data/tiny-multi: ">>deu<<",
// ">>fra<<", ">>spa<<" in its vocabulary, as opus-mt-en-ROMANCE): the code put
// in front of a source without one translates exactly as the code typed (the
// goldens of the reference are for typed codes); a typed code is left alone;
// an unknown code, or any code for a model of one target language, is refused
// listing the valid ones; spans and alignments refer to the line as given.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>

#include "heed/core/error.h"
#include "heed/decoding/translator.h"
#include "heed/io/json_fields.h"
#include "heed/model/marian_model.h"
#include "test_support.h"

using namespace heed;
using nlohmann::json;
using test::run_heed;

namespace {

const std::string kMulti = std::string(HEED_TEST_DATA) + "/tiny-multi";

std::vector<Translation> translate(const std::vector<std::string> &sources, const std::string &code,
                                   int64_t beam) {
  static const auto model = MarianModel::load(kMulti);
  TranslationOptions o;
  o.target_language = code;
  o.beam_size = beam;
  o.n_best = beam;
  return Translator(model, o).translate(sources);
}

} // namespace

TEST_CASE("target language: the code put in front translates as the code typed", "[language]") {
  const json golden = io::read_json_file(kMulti + "/golden.json");
  REQUIRE(golden["cases"].size() >= 4);
  for (int64_t beam : {1, 4}) {
    for (const auto &c : golden["cases"]) {
      const std::string typed = c["source"].get<std::string>();
      const auto [code, rest] = split_language_code(typed);
      REQUIRE(!code.empty());
      const std::string bare(rest.substr(rest.find_first_not_of(' ')));
      // ">>deu<< >>de<< text": without its code the text starts with one.
      if (!split_language_code(bare).first.empty())
        continue;
      INFO(typed << ", beam " << beam);
      const auto given = translate({bare}, code.substr(2, code.size() - 4), beam);
      const auto expected = translate({typed}, "", beam);
      REQUIRE(given[0].hypotheses.size() == expected[0].hypotheses.size());
      for (size_t k = 0; k < given[0].hypotheses.size(); ++k) {
        CHECK(given[0].hypotheses[k].tokens == expected[0].hypotheses[k].tokens);
        CHECK(given[0].hypotheses[k].score == expected[0].hypotheses[k].score);
      }
      if (beam == 1)
        CHECK(given[0].hypotheses[0].tokens == c["greedy"]["tokens"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("target language: a code already in the text is left alone", "[language]") {
  const auto typed = translate({">>fra<< A dog runs."}, "", 1);
  const auto overridden = translate({">>fra<< A dog runs."}, "deu", 1);
  CHECK(overridden[0].hypotheses[0].tokens == typed[0].hypotheses[0].tokens);
  const auto deu = translate({">>deu<< A dog runs."}, "", 1);
  CHECK(deu[0].hypotheses[0].tokens != typed[0].hypotheses[0].tokens);
}

TEST_CASE("target language: unknown codes are refused, naming the valid ones", "[language]") {
  const auto model = MarianModel::load(kMulti);
  CHECK(model->tokenizer->target_languages() == std::vector<std::string>{"deu", "fra", "spa"});
  TranslationOptions o;
  o.target_language = "xx";
  try {
    Translator t(model, o);
    FAIL("no error");
  } catch (const OptionError &e) {
    CHECK(e.field() == "target_language");
    CHECK(e.problem() == "'xx' is not one of the model's target languages: deu, fra, spa");
  }
  const auto single = MarianModel::load(std::string(HEED_TEST_DATA) + "/tiny-joint");
  CHECK(single->tokenizer->target_languages().empty());
  o.target_language = "deu";
  CHECK_THROWS_WITH(Translator(single, o), Catch::Contains("the model has one target language"));
}

TEST_CASE("target language: the command line", "[language][cli]") {
  const std::string m = "translate -q -m '" + kMulti + "' ";
  auto r = run_heed(m + "--target-language klingon 'A dog.'");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "heed: error: --target-language: 'klingon' is not one of the model's target "
                 "languages: deu, fra, spa\n");
  CHECK(r.out.empty());

  // Spans and alignments refer to the line as given; the code is word 0.
  const std::string line = "A dog runs. A cat sleeps.";
  r = run_heed(m + "--target-language deu --format jsonl --split-sentences --alignment hard '" +
               line + "'");
  REQUIRE(r.exit_code == 0);
  const json given = json::parse(r.out);
  r = run_heed(m + "--format jsonl --split-sentences --alignment hard '>>deu<< " + line + "'");
  REQUIRE(r.exit_code == 0);
  const json typed = json::parse(r.out);
  CHECK(given["translation"] == typed["translation"]);
  CHECK(given["alignment"] == typed["alignment"]);
  CHECK(given["source"] == line);
  CHECK(given["sentences"][0]["span"] == json::array({0, 11}));
  CHECK(given["sentences"][1]["span"] == json::array({12, 25}));
  CHECK(typed["sentences"][0]["span"] == json::array({8, 19}));

  // score: the code goes in front of the source side.
  const auto dir = test::temp_dir() / "target-language-score";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "src") << "A dog runs.\n";
  std::ofstream(dir / "typed") << ">>spa<< A dog runs.\n";
  std::ofstream(dir / "tgt") << "fahren\n";
  const auto scored =
      run_heed("score -q -m '" + kMulti + "' --target-language spa --source '" +
               (dir / "src").string() + "' --target '" + (dir / "tgt").string() + "'");
  const auto typed_score =
      run_heed("score -q -m '" + kMulti + "' --source '" + (dir / "typed").string() +
               "' --target '" + (dir / "tgt").string() + "'");
  REQUIRE(scored.exit_code == 0);
  CHECK(scored.out == typed_score.out);

  // heed info lists the codes.
  r = run_heed("info -m '" + kMulti + "' --json");
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["target_languages"] == json::array({"deu", "fra", "spa"}));
}
