// End-to-end comparison with golden outputs of the PyTorch reference
// (tests/reference/) for the tiny random models in tests/data/: tokenization,
// logits, greedy and beam search (n-best with scores), forced-decoding scores,
// and equality of batched and one-by-one translation.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/decoding/translator.h"
#include "heed/io/json_fields.h"
#include "heed/model/marian_model.h"

#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kLogitTolerance = 1e-4;
constexpr double kScoreTolerance = 1e-4;

std::vector<std::string> golden_models() { return test::fixture_models_with("golden.json"); }

json load_golden(const std::string &dir) { return io::read_json_file(dir + "/golden.json"); }

// Raw logits of the first `steps` decoder steps, feeding `tokens` (teacher forcing).
std::vector<std::vector<float>> step_logits(const MarianModel &model,
                                            const std::vector<int64_t> &source,
                                            const std::vector<int64_t> &tokens, size_t steps) {
  Workspace ws;
  Tensor encoded, mask;
  std::vector<int64_t> length{static_cast<int64_t>(source.size())};
  model.encoder.forward(source.data(), length.data(), 1, length[0], encoded, mask, ws);
  DecoderState state;
  model.decoder.start(state, encoded, mask, 1, length[0], 1, static_cast<int64_t>(steps));
  std::vector<std::vector<float>> out;
  int64_t token = model.config.decoder_start_token_id;
  const int64_t vocab = model.decoder.vocab_size();
  std::vector<float> logits(vocab);
  for (size_t s = 0; s < steps; ++s) {
    model.decoder.step(state, &token, logits.data(), ws);
    out.push_back(logits);
    if (s < tokens.size())
      token = tokens[s];
  }
  return out;
}

void require_close(const std::vector<float> &got, const json &expected, double tolerance) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    REQUIRE(got[i] == Approx(expected[i].get<double>()).margin(tolerance));
}

EarlyStopping parse_early_stopping(const json &j) {
  if (j.is_string())
    return EarlyStopping::never;
  return j.get<bool>() ? EarlyStopping::always : EarlyStopping::heuristic;
}

std::vector<std::string> sources_of(const json &golden) {
  std::vector<std::string> sources;
  for (const auto &c : golden["cases"])
    sources.push_back(c["source"]);
  return sources;
}

void check_translations(const json &golden, const std::vector<Translation> &got,
                        const std::function<const json &(const json &)> &select) {
  const auto &cases = golden["cases"];
  REQUIRE(got.size() == cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const json &expected = select(cases[i]);
    const json &hyps =
        expected.contains("hypotheses") ? expected["hypotheses"] : json::array({expected});
    INFO("source: " << cases[i]["source"].get<std::string>());
    REQUIRE(got[i].hypotheses.size() == hyps.size());
    for (size_t h = 0; h < hyps.size(); ++h) {
      INFO("hypothesis " << h);
      CHECK(got[i].hypotheses[h].tokens == hyps[h]["tokens"].get<std::vector<int64_t>>());
      CHECK(got[i].hypotheses[h].score ==
            Approx(hyps[h]["score"].get<double>()).margin(kScoreTolerance));
      CHECK(got[i].hypotheses[h].text == hyps[h]["text"].get<std::string>());
    }
  }
}

} // namespace

TEST_CASE("golden fixtures are present", "[golden]") {
  const auto models = golden_models();
  REQUIRE(models.size() >= 2);
}

TEST_CASE("tokenization and logits match the reference", "[golden]") {
  for (const auto &dir : golden_models()) {
    INFO("model: " << dir);
    const json golden = load_golden(dir);
    auto model = MarianModel::load(dir);
    for (const auto &c : golden["cases"]) {
      INFO("source: " << c["source"].get<std::string>());
      const auto ids = model->tokenizer->encode_source(c["source"].get<std::string>());
      REQUIRE(ids == c["input_ids"].get<std::vector<int64_t>>());
      const auto greedy_tokens = c["greedy"]["tokens"].get<std::vector<int64_t>>();
      const auto &expected_steps = c["greedy"]["step_logits"];
      const auto logits = step_logits(*model, ids, greedy_tokens, expected_steps.size());
      require_close(logits[0], c["first_step_logits"], kLogitTolerance);
      for (size_t s = 0; s < expected_steps.size(); ++s) {
        INFO("step " << s);
        require_close(logits[s], expected_steps[s], kLogitTolerance);
      }
    }
  }
}

TEST_CASE("greedy search matches the reference, batched and one by one", "[golden]") {
  for (const auto &dir : golden_models()) {
    INFO("model: " << dir);
    const json golden = load_golden(dir);
    auto model = MarianModel::load(dir);
    const auto sources = sources_of(golden);
    for (int64_t batch_size : {int64_t{1}, int64_t{3}, int64_t{64}}) {
      INFO("batch size " << batch_size);
      TranslationOptions o;
      o.beam_size = 1;
      o.batch_size = batch_size;
      o.max_length = golden["cases"][0]["greedy"]["max_length"].get<int64_t>();
      Translator translator(model, o);
      check_translations(golden, translator.translate(sources),
                         [](const json &c) -> const json & { return c["greedy"]; });
    }
  }
}

TEST_CASE("beam search and n-best lists match the reference, batched and one by one", "[golden]") {
  for (const auto &dir : golden_models()) {
    INFO("model: " << dir);
    const json golden = load_golden(dir);
    auto model = MarianModel::load(dir);
    const auto sources = sources_of(golden);
    const size_t variants = golden["cases"][0]["beam"].size();
    REQUIRE(variants > 0);
    for (size_t v = 0; v < variants; ++v) {
      const json &variant = golden["cases"][0]["beam"][v];
      INFO("variant " << variant.dump());
      for (int64_t batch_size : {int64_t{1}, int64_t{64}}) {
        INFO("batch size " << batch_size);
        TranslationOptions o;
        o.beam_size = variant["num_beams"].get<int64_t>();
        o.n_best = *o.beam_size;
        o.length_penalty = variant["length_penalty"].get<double>();
        o.early_stopping = parse_early_stopping(variant["early_stopping"]);
        o.max_length = variant["max_length"].get<int64_t>();
        o.batch_size = batch_size;
        Translator translator(model, o);
        check_translations(golden, translator.translate(sources),
                           [v](const json &c) -> const json & { return c["beam"][v]; });
      }
    }
  }
}

TEST_CASE("forced-decoding scores match the reference", "[golden]") {
  for (const auto &dir : golden_models()) {
    INFO("model: " << dir);
    const json golden = load_golden(dir);
    auto model = MarianModel::load(dir);
    std::vector<std::string> sources, targets;
    for (const auto &c : golden["cases"]) {
      sources.push_back(c["source"]);
      targets.push_back(c["score"]["target"]);
    }
    TranslationOptions o;
    o.batch_size = 4;
    Translator translator(model, o);
    const auto scored = translator.score(sources, targets);
    for (size_t i = 0; i < scored.size(); ++i) {
      const json &expected = golden["cases"][i]["score"];
      INFO("target: " << targets[i]);
      REQUIRE(scored[i].target_ids == expected["target_ids"].get<std::vector<int64_t>>());
      require_close(scored[i].score.token_log_probs, expected["token_logprobs"], kScoreTolerance);
      CHECK(scored[i].score.total ==
            Approx(expected["total"].get<double>()).margin(kScoreTolerance));
    }
  }
}

TEST_CASE("max_length_ratio caps each sentence at ratio x its own source, whatever the batch",
          "[golden]") {
  for (const auto &dir : golden_models()) {
    INFO("model: " << dir);
    auto model = MarianModel::load(dir);
    const auto sources = sources_of(load_golden(dir));
    TranslationOptions o;
    o.beam_size = 1;
    const auto free = Translator(model, o).translate(sources);
    for (auto [ratio, batch] : {std::pair{0.3, 1}, std::pair{0.5, 1}, std::pair{1.0, 1},
                                std::pair{0.3, 64}, std::pair{0.5, 4}, std::pair{1.0, 64}}) {
      INFO("ratio " << ratio << ", batch size " << batch);
      o.max_length_ratio = ratio;
      o.batch_size = batch;
      Translator translator(model, o);
      const auto capped = translator.translate(sources);
      const auto forced_eos = translator.search_options().forced_eos_token_id;
      REQUIRE(capped.size() == free.size());
      for (size_t i = 0; i < free.size(); ++i) {
        const auto cap = std::max<size_t>(
            1, static_cast<size_t>(std::floor(ratio * capped[i].source_ids.size())));
        const auto &all = free[i].hypotheses[0].tokens;
        const auto &got = capped[i].hypotheses[0].tokens;
        // Greedy search under a cap is the uncapped search cut at the cap,
        // except that the last token may be the model's forced EOS.
        const size_t n = std::min(all.size(), cap);
        REQUIRE(got.size() == n);
        CHECK(std::equal(got.begin(), got.end() - 1, all.begin()));
        CHECK((got.back() == all[n - 1] || (forced_eos && got.back() == *forced_eos)));
        // A translation that reached its cap (or the model's max_length) says so.
        const auto limit =
            std::min<size_t>(cap, static_cast<size_t>(translator.search_options().max_length - 1));
        CHECK(capped[i].hypotheses[0].truncated == (got.size() == limit));
      }
    }
    o.max_length_ratio = -1;
    CHECK_THROWS_AS(Translator(model, o), OptionError);
  }
}
