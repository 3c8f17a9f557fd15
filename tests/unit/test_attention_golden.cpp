// Recorded cross-attention against the PyTorch reference's weights
// (tests/data/*/golden_attention.json), for greedy and beam search, including
// hypotheses that moved between beams during the search.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "heed/decoding/attention_recorder.h"
#include "heed/decoding/search.h"
#include "heed/decoding/translator.h"
#include "heed/io/json_fields.h"
#include "heed/model/marian_model.h"

using namespace heed;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kTolerance = 1e-4;

void require_matches(const AttentionMap &map, const json &expected) {
  REQUIRE(static_cast<size_t>(map.weights.dim(0)) == expected.size());
  for (int64_t l = 0; l < map.weights.dim(0); ++l) {
    REQUIRE(static_cast<size_t>(map.weights.dim(1)) == expected[l].size());
    for (int64_t h = 0; h < map.weights.dim(1); ++h) {
      REQUIRE(static_cast<size_t>(map.queries()) == expected[l][h].size());
      for (int64_t q = 0; q < map.queries(); ++q) {
        const auto &row = expected[l][h][q];
        REQUIRE(static_cast<size_t>(map.keys()) == row.size());
        double sum = 0;
        for (int64_t k = 0; k < map.keys(); ++k) {
          REQUIRE(map.row(l, h, q)[k] == Approx(row[k].get<double>()).margin(kTolerance));
          sum += map.row(l, h, q)[k];
        }
        REQUIRE(sum == Approx(1.0).margin(1e-5));
      }
    }
  }
}

} // namespace

TEST_CASE("cross-attention matches the reference for greedy and beam search", "[attention]") {
  int models = 0, moved = 0;
  for (const auto &entry : fs::directory_iterator(HEED_TEST_DATA)) {
    const fs::path attention_path = entry.path() / "golden_attention.json";
    if (!fs::exists(attention_path))
      continue;
    ++models;
    INFO("model: " << entry.path().string());
    const json golden = io::read_json_file((entry.path() / "golden.json").string());
    const json expected = io::read_json_file(attention_path.string());
    auto model = MarianModel::load(entry.path().string());
    AttentionRequest request;
    request.cross = true;

    for (size_t c = 0; c < golden["cases"].size(); ++c) {
      const json &gcase = golden["cases"][c];
      const json &ecase = expected["cases"][c];
      INFO("source: " << gcase["source"].get<std::string>());

      TranslationOptions greedy;
      greedy.beam_size = 1;
      greedy.max_length = gcase["greedy"]["max_length"].get<int64_t>();
      greedy.attention = request;
      const auto g = Translator(model, greedy).translate({gcase["source"]})[0].hypotheses[0];
      REQUIRE(g.tokens == gcase["greedy"]["tokens"].get<std::vector<int64_t>>());
      require_matches(*g.attention->cross, ecase["greedy"]);

      // Beam search through the search API, to see the rows each token came from.
      const json &variant = gcase["beam"][0];
      TranslationOptions o;
      o.beam_size = variant["num_beams"].get<int64_t>();
      o.n_best = *o.beam_size;
      o.length_penalty = variant["length_penalty"].get<double>();
      o.max_length = variant["max_length"].get<int64_t>();
      REQUIRE(variant["early_stopping"] == false);
      const SearchOptions search = resolve_search_options(*model, o);
      const auto ids = model->tokenizer->encode_source(gcase["source"].get<std::string>());
      const int64_t length = static_cast<int64_t>(ids.size());
      AttentionRecorder recorder(request, model->config);
      Workspace ws;
      Tensor encoded, mask;
      recorder.start_batch();
      model->encoder.forward(ids.data(), &length, 1, length, encoded, mask, ws);
      DecoderState state;
      model->decoder.start(state, encoded, mask, 1, length, search.num_beams,
                           search.max_length - 1);
      const auto hypotheses = beam_search(model->decoder, state, search, ws, &recorder)[0];
      REQUIRE(hypotheses.size() == variant["hypotheses"].size());
      for (size_t r = 0; r < hypotheses.size(); ++r) {
        INFO("hypothesis " << r);
        REQUIRE(hypotheses[r].tokens ==
                variant["hypotheses"][r]["tokens"].get<std::vector<int64_t>>());
        std::set<int64_t> beams;
        for (int64_t row : hypotheses[r].rows)
          beams.insert(row % search.num_beams);
        moved += beams.size() > 1;
        const AttentionMaps maps = recorder.extract(0, length, hypotheses[r].rows);
        require_matches(*maps.cross, ecase["beam"][r]);
      }
    }
  }
  REQUIRE(models >= 2);
  // The comparison covers hypotheses that changed beams during the search.
  CHECK(moved > 0);
  INFO("hypotheses that moved between beams: " << moved);
}
