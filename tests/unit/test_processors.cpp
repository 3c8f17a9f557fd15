// The repetition and length processors and the sampling warpers: hand-made
// cases of transformers' semantics, golden searches of the PyTorch reference
// (tests/data/*/golden_processors.json, tests/reference/make_processor_fixtures.py),
// and the distribution of sampled tokens against the reference's
// probabilities (a chi-square test at fixed seeds, so deterministic).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "heed/decoding/logits_processor.h"
#include "heed/decoding/token_sampler.h"
#include "heed/decoding/translator.h"
#include "heed/io/json_fields.h"
#include "heed/model/marian_model.h"

#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr double kScoreTolerance = 1e-4;

std::vector<std::string> processor_golden_models() {
  return test::fixture_models_with("golden_processors.json");
}

SearchOptions plain_options() {
  SearchOptions o;
  o.pad_token_id = 99; // outside the small test vocabularies: nothing banned
  o.eos_token_id = 0;
  o.max_length = 100;
  return o;
}

// Upper critical value of the chi-square distribution with `df` degrees of
// freedom at p = 0.001 (Wilson-Hilferty: accurate to a few percent from df 3).
double chi_square_critical(int df) {
  const double z = 3.090, k = df;
  const double t = 1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k));
  return k * t * t * t;
}

} // namespace

TEST_CASE("repetition penalty divides positive and multiplies negative scores, once per token",
          "[processors]") {
  SearchOptions o = plain_options();
  o.repetition_penalty = 2.0;
  const LogitsProcessor processor(o, 6);
  std::vector<float> scores{1.0f, -1.0f, 4.0f, -3.0f, 0.5f, 2.0f};
  // Token 2 twice, token 3 once, token 1 once: each penalised once.
  processor.apply(scores.data(), {2, 3, 2, 1}, o.max_length, nullptr);
  CHECK(scores == std::vector<float>{1.0f, -2.0f, 2.0f, -6.0f, 0.5f, 2.0f});
  // Below 1 it rewards repetition.
  o.repetition_penalty = 0.5;
  std::vector<float> again{1.0f, -1.0f, 4.0f, -3.0f, 0.5f, 2.0f};
  processor.penalize_repetitions(again.data(), {4});
  CHECK(again[4] == 1.0f);
  CHECK(processor.penalizes_repetitions());
}

TEST_CASE("no-repeat n-gram bans the tokens that would repeat an n-gram", "[processors]") {
  SearchOptions o = plain_options();
  const auto banned = [&](int64_t n, const std::vector<int64_t> &history) {
    o.no_repeat_ngram_size = n;
    const LogitsProcessor processor(o, 8);
    std::vector<float> scores(8, 0.f);
    processor.apply(scores.data(), history, o.max_length, nullptr);
    std::set<int64_t> out;
    for (int64_t t = 0; t < 8; ++t)
      if (scores[t] == kNegInf)
        out.insert(t);
    return out;
  };
  // Bigrams: the history ends in 3; 3 was followed by 4 and by 5 before.
  CHECK(banned(2, {7, 3, 4, 1, 3, 5, 3}) == std::set<int64_t>{4, 5});
  // Trigrams: the history ends in (3, 4); it was followed by 1 once.
  CHECK(banned(3, {7, 3, 4, 1, 3, 5, 3, 4}) == std::set<int64_t>{1});
  // Unigrams: every token seen.
  CHECK(banned(1, {7, 3, 4}) == std::set<int64_t>{3, 4, 7});
  // Too short a history for the n-gram: nothing (transformers: cur_len + 1 < n).
  CHECK(banned(4, {7, 3}).empty());
  CHECK(banned(3, {7, 3}).empty()); // (7, 3) has no earlier occurrence
}

TEST_CASE("min_new_tokens bans EOS until that many tokens are generated", "[processors]") {
  SearchOptions o = plain_options();
  o.min_length = 3 + 1; // resolve_search_options: min_new_tokens 3 -> min_length 4
  const LogitsProcessor processor(o, 4);
  for (size_t generated = 0; generated <= 4; ++generated) {
    std::vector<int64_t> history(1 + generated, 2);
    std::vector<float> scores(4, 0.f);
    processor.apply(scores.data(), history, o.max_length, nullptr);
    CHECK((scores[0] == kNegInf) == (generated < 3));
  }
}

TEST_CASE("top-p keeps exactly the smallest set of most likely tokens reaching p",
          "[processors][sampling]") {
  SearchOptions o = plain_options();
  o.top_k = 0;
  const std::vector<double> probabilities{0.05, 0.5, 0.15, 0.3};
  const auto kept = [&](double p) {
    o.top_p = p;
    TokenSampler sampler(o, 4);
    std::vector<float> scores;
    for (double q : probabilities)
      scores.push_back(static_cast<float>(std::log(q)));
    sampler.warp(scores.data());
    std::set<int64_t> out;
    for (int64_t t = 0; t < 4; ++t)
      if (scores[t] != kNegInf)
        out.insert(t);
    return out;
  };
  CHECK(kept(0.4) == std::set<int64_t>{1});
  CHECK(kept(0.75) == std::set<int64_t>{1, 3});
  CHECK(kept(0.85) == std::set<int64_t>{1, 2, 3});
  CHECK(kept(0.99) == std::set<int64_t>{0, 1, 2, 3});
  CHECK(kept(1.0) == std::set<int64_t>{0, 1, 2, 3});
  CHECK(kept(1e-9) == std::set<int64_t>{1}); // the most likely always stays
}

TEST_CASE("top-k keeps the k best and their ties; temperature scales", "[processors][sampling]") {
  SearchOptions o = plain_options();
  o.top_k = 2;
  o.temperature = 0.5;
  TokenSampler sampler(o, 5);
  std::vector<float> scores{-1.f, -3.f, -2.f, -2.f, -5.f};
  sampler.warp(scores.data());
  // After the temperature: -2, -6, -4, -4, -10; the second best (-4) is tied.
  CHECK(scores == std::vector<float>{-2.f, kNegInf, -4.f, -4.f, kNegInf});
}

TEST_CASE("top-k 1 sampling draws the argmax; draws follow the generator", "[sampling]") {
  SearchOptions o = plain_options();
  o.top_k = 1;
  TokenSampler sampler(o, 4);
  SentenceGenerator generator(sentence_seed(7, 1, 0));
  for (int i = 0; i < 50; ++i) {
    std::vector<float> scores{-2.f, -0.5f, -1.f, -3.f};
    CHECK(sampler.sample(scores.data(), generator) == 1);
  }
  // Distinct lines, sentences and seeds get distinct generators.
  std::set<uint64_t> seeds;
  for (uint64_t seed : {0u, 1u, 7u})
    for (int64_t line = 1; line <= 100; ++line)
      for (int64_t sentence = 0; sentence < 3; ++sentence)
        seeds.insert(sentence_seed(seed, line, sentence));
  CHECK(seeds.size() == 3u * 100u * 3u);
}

TEST_CASE("searches with repetition and length processors match the reference",
          "[processors][golden]") {
  const auto dirs = processor_golden_models();
  REQUIRE(!dirs.empty());
  for (const auto &dir : dirs) {
    INFO("model: " << dir);
    const json golden = io::read_json_file(dir + "/golden_processors.json");
    auto model = MarianModel::load(dir);
    for (const auto &setting : golden["searches"]) {
      INFO("setting: " << setting.dump().substr(0, 120));
      TranslationOptions o;
      if (setting.contains("repetition_penalty"))
        o.repetition_penalty = setting["repetition_penalty"].get<double>();
      if (setting.contains("no_repeat_ngram_size"))
        o.no_repeat_ngram_size = setting["no_repeat_ngram_size"].get<int64_t>();
      if (setting.contains("min_new_tokens"))
        o.min_new_tokens = setting["min_new_tokens"].get<int64_t>();
      if (setting.contains("min_length"))
        o.min_length = setting["min_length"].get<int64_t>();
      for (const std::string kind : {"greedy", "beam"}) {
        INFO(kind);
        o.beam_size = kind == "greedy" ? 1 : golden["beams"].get<int64_t>();
        std::vector<std::string> sources;
        for (const auto &r : setting[kind])
          sources.push_back(r["source"]);
        for (int64_t batch_size : {int64_t{1}, int64_t{16}}) {
          o.batch_size = batch_size;
          Translator translator(model, o);
          const auto got = translator.translate(sources);
          size_t stable = 0;
          for (size_t i = 0; i < sources.size(); ++i) {
            const json &want = setting[kind][i];
            if (!want["stable"].get<bool>())
              continue; // a near tie in the reference: either branch is right
            ++stable;
            INFO("source: " << sources[i]);
            const auto &h = got[i].hypotheses.front();
            CHECK(h.tokens == want["tokens"].get<std::vector<int64_t>>());
            CHECK(h.score == Approx(want["score"].get<double>()).margin(kScoreTolerance));
          }
          CHECK(stable * 2 >= sources.size()); // most cases decide clearly
        }
      }
    }
  }
}

TEST_CASE("sampled first tokens follow the reference's warped probabilities (chi-square)",
          "[processors][sampling][golden]") {
  const auto dirs = processor_golden_models();
  REQUIRE(!dirs.empty());
  constexpr int kDraws = 2000;
  for (const auto &dir : dirs) {
    INFO("model: " << dir);
    const json golden = io::read_json_file(dir + "/golden_processors.json");
    auto model = MarianModel::load(dir);
    for (const auto &setting : golden["sampling"]) {
      INFO("setting: temperature " << setting["temperature"] << " top_k " << setting["top_k"]
                                   << " top_p " << setting["top_p"]);
      TranslationOptions o;
      o.sampling = true;
      o.temperature = setting["temperature"].get<double>();
      o.top_k = setting["top_k"].get<int64_t>();
      o.top_p = setting["top_p"].get<double>();
      o.seed = 11;
      o.max_new_tokens = 2; // the first token is drawn freely (forced EOS comes later)
      o.batch_size = 250;
      Translator translator(model, o);
      // Each line draws from its own generator (seed, line number).
      const std::vector<std::string> sources(kDraws, setting["source"].get<std::string>());
      const auto got = translator.translate(sources);
      std::map<int64_t, int> counts;
      for (const auto &t : got) {
        REQUIRE(!t.hypotheses.front().tokens.empty());
        ++counts[t.hypotheses.front().tokens.front()];
      }
      std::map<int64_t, double> expected;
      for (const auto &entry : setting["probabilities"])
        expected[entry[0].get<int64_t>()] = entry[1].get<double>() * kDraws;
      // Never a token the warpers removed.
      for (const auto &[token, count] : counts) {
        INFO("token " << token << " drawn " << count << " times");
        CHECK(expected.count(token) == 1);
      }
      // Bins of expected count >= 5, the rest pooled.
      double chi2 = 0, pooled_expected = 0;
      int pooled_count = 0, bins = 0;
      for (const auto &[token, e] : expected) {
        const int c = counts.count(token) ? counts[token] : 0;
        if (e >= 5) {
          chi2 += (c - e) * (c - e) / e;
          ++bins;
        } else {
          pooled_expected += e;
          pooled_count += c;
        }
      }
      if (pooled_expected >= 5) {
        chi2 +=
            (pooled_count - pooled_expected) * (pooled_count - pooled_expected) / pooled_expected;
        ++bins;
      }
      INFO("chi-square " << chi2 << " over " << bins << " bins");
      REQUIRE(bins >= 2);
      CHECK(chi2 < chi_square_critical(std::max(bins - 1, 3)));
    }
  }
}

TEST_CASE("word scores: one per token, summing to the score, equal to forced decoding's",
          "[processors][word_scores]") {
  const std::string dir = std::string(HEED_TEST_DATA) + "/tiny-separate";
  auto model = MarianModel::load(dir);
  const std::vector<std::string> sources{"A dog runs across the green field.",
                                         "Where is the train station?", "Hello"};
  for (int64_t beams : {int64_t{1}, int64_t{4}}) {
    INFO("beam size " << beams);
    TranslationOptions o;
    o.beam_size = beams;
    o.n_best = beams;
    Translator translator(model, o);
    const auto got = translator.translate(sources);
    for (size_t i = 0; i < sources.size(); ++i) {
      INFO("source " << sources[i]);
      // Teacher-forced log-probabilities of each hypothesis (no processors).
      const auto &hypotheses = got[i].hypotheses;
      for (const auto &h : hypotheses) {
        REQUIRE(h.token_scores.size() == h.tokens.size());
        double sum = 0;
        for (float x : h.token_scores)
          sum += x;
        CHECK(sum == Approx(h.log_prob).margin(1e-4));
        Workspace ws;
        Tensor encoded, mask;
        const auto ids = model->tokenizer->encode_source(sources[i]);
        std::vector<int64_t> length{static_cast<int64_t>(ids.size())};
        model->encoder.forward(ids.data(), length.data(), 1, length[0], encoded, mask, ws);
        DecoderState state;
        model->decoder.start(state, encoded, mask, 1, length[0], 1,
                             static_cast<int64_t>(h.tokens.size()));
        const auto forced = score_targets(model->decoder, state, {h.tokens},
                                          translator.search_options().decoder_start_token_id, ws);
        const bool cut = h.truncated && translator.search_options().forced_eos_token_id;
        // (Forced decoding runs the decoder over whole batches of steps in
        // other kernels: the sharp tiny models differ by up to 2e-4 there.)
        for (size_t t = 0; t + (cut ? 1 : 0) < h.tokens.size(); ++t)
          CHECK(h.token_scores[t] == Approx(forced[0].token_log_probs[t]).margin(1e-3));
      }
    }
  }
}

TEST_CASE("literal special tokens in the text map to their ids, as transformers' tokenizer does",
          "[processors][golden][tokenizer]") {
  const auto dirs = processor_golden_models();
  REQUIRE(!dirs.empty());
  for (const auto &dir : dirs) {
    INFO("model: " << dir);
    const json golden = io::read_json_file(dir + "/golden_processors.json");
    REQUIRE(golden["special_tokens"].size() >= 5);
    auto model = MarianModel::load(dir);
    TranslationOptions o;
    o.beam_size = 1;
    Translator translator(model, o);
    std::vector<std::string> texts;
    for (const auto &c : golden["special_tokens"]) {
      const std::string text = c["text"];
      INFO("text: " << text);
      CHECK(model->tokenizer->encode_source(text) == c["source_ids"].get<std::vector<int64_t>>());
      CHECK(model->tokenizer->encode_target(text) == c["target_ids"].get<std::vector<int64_t>>());
      texts.push_back(text);
    }
    const auto got = translator.translate(texts);
    for (size_t i = 0; i < texts.size(); ++i) {
      const json &c = golden["special_tokens"][i];
      INFO("text: " << texts[i]);
      if (c["stable"].get<bool>())
        CHECK(got[i].hypotheses.front().tokens == c["greedy"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("a target prefix is forced, scored and continued as the reference does",
          "[processors][golden][prefix]") {
  const auto dirs = processor_golden_models();
  REQUIRE(!dirs.empty());
  for (const auto &dir : dirs) {
    INFO("model: " << dir);
    const json golden = io::read_json_file(dir + "/golden_processors.json");
    REQUIRE(golden["prefixes"].size() >= 3);
    auto model = MarianModel::load(dir);
    for (const auto &c : golden["prefixes"]) {
      const std::string prefix = c["prefix"];
      INFO("prefix: " << prefix);
      CHECK(model->tokenizer->encode_target_prefix(prefix) ==
            c["prefix_ids"].get<std::vector<int64_t>>());
      for (const std::string kind : {"greedy", "beam"}) {
        INFO(kind);
        const json &want = c[kind];
        if (!want["stable"].get<bool>())
          continue;
        TranslationOptions o;
        o.beam_size = kind == "greedy" ? 1 : golden["beams"].get<int64_t>();
        o.target_prefix = prefix;
        Translator translator(model, o);
        // Batched with other sentences that have no prefix (per line).
        const std::vector<std::string> sources{"Hello", c["source"], "Where is the train station?"};
        const std::vector<std::string> prefixes{"", prefix, ""};
        const auto alone = translator.translate({c["source"].get<std::string>()});
        const auto batched = translator.translate(sources, nullptr, {}, &prefixes);
        for (const auto *got : {&alone[0], &batched[1]}) {
          const auto &h = got->hypotheses.front();
          CHECK(h.tokens == want["tokens"].get<std::vector<int64_t>>());
          CHECK(h.score == Approx(want["score"].get<double>()).margin(kScoreTolerance));
        }
        // The others are translated as without prefixes.
        o.target_prefix.clear();
        const auto plain = Translator(model, o).translate({"Hello"});
        CHECK(batched[0].hypotheses.front().tokens == plain[0].hypotheses.front().tokens);
      }
    }
  }
}
