// Ensemble decoding (Translator with several models, decoding/step_scorer.h):
// Marian's weighted sum of the members' log-softmax, checked against the
// single model and against a hand computation from each member's own logits;
// the refusals of members that cannot be combined and of bad weights.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/decoding/step_scorer.h"
#include "heed/decoding/translator.h"
#include "heed/model/marian_model.h"

#include "test_support.h"

using namespace heed;

namespace {

const std::string kJoint = std::string(HEED_TEST_DATA) + "/tiny-joint";
const std::string kSeparate = std::string(HEED_TEST_DATA) + "/tiny-separate";

const std::vector<std::string> kSources = {
    "Two dogs play in the snow.", "A little girl climbing into a wooden playhouse.", "Hello",
    "A man in an orange hat starring at something."};
const std::vector<std::string> kTargets = {"Zwei Hunde spielen im Schnee.",
                                           "Ein kleines Mädchen klettert in ein Spielhaus.",
                                           "Hallo", "Ein Mann mit einem orangefarbenen Hut."};

using Models = std::vector<std::shared_ptr<const MarianModel>>;

std::shared_ptr<const MarianModel> joint() {
  static const auto model = MarianModel::load(kJoint);
  return model;
}

// The same vocabulary and shapes, other logits: tiny-joint quantized to int8.
std::shared_ptr<const MarianModel> joint_int8() {
  static const auto model = [] {
    LoadOptions o;
    o.compute_type = ops::ComputeType::int8;
    return MarianModel::load(kJoint, o);
  }();
  return model;
}

TranslationOptions search(int64_t beams, int64_t n_best) {
  TranslationOptions o;
  o.beam_size = beams;
  o.n_best = n_best;
  return o;
}

// Tokens equal and scores equal up to `factor` (exactly: the weights used are
// powers of two, so the combination is exact).
void require_same(const std::vector<Translation> &got, const std::vector<Translation> &single,
                  float factor = 1.f) {
  REQUIRE(got.size() == single.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("source " << i);
    REQUIRE(got[i].hypotheses.size() == single[i].hypotheses.size());
    for (size_t k = 0; k < got[i].hypotheses.size(); ++k) {
      INFO("hypothesis " << k);
      const auto &a = got[i].hypotheses[k], &b = single[i].hypotheses[k];
      CHECK(a.tokens == b.tokens);
      CHECK(a.text == b.text);
      CHECK(a.score == factor * b.score);
      CHECK(a.log_prob == factor * b.log_prob);
      REQUIRE(a.token_scores.size() == b.token_scores.size());
      for (size_t t = 0; t < a.token_scores.size(); ++t)
        CHECK(a.token_scores[t] == factor * b.token_scores[t]);
    }
  }
}

void log_softmax(std::vector<float> &x) {
  const float top = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (float v : x)
    sum += std::exp(static_cast<double>(v - top));
  const float log_sum = top + static_cast<float>(std::log(sum));
  for (float &v : x)
    v -= log_sum;
}

// The first decoder step's raw logits of `model` for `source`.
std::vector<float> first_logits(const MarianModel &model, const std::vector<int64_t> &source) {
  Workspace ws;
  Tensor encoded, mask;
  std::vector<int64_t> length{static_cast<int64_t>(source.size())};
  model.encoder.forward(source.data(), length.data(), 1, length[0], encoded, mask, ws);
  DecoderState state;
  model.decoder.start(state, encoded, mask, 1, length[0], 1, 1);
  int64_t token = model.config.decoder_start_token_id;
  std::vector<float> logits(static_cast<size_t>(model.decoder.vocab_size()));
  model.decoder.step(state, &token, logits.data(), ws);
  return logits;
}

} // namespace

TEST_CASE("ensemble: one model is the single model (greedy, beam, n-best, scores)", "[ensemble]") {
  for (auto [beams, n_best] : {std::pair<int64_t, int64_t>{1, 1}, {4, 1}, {4, 3}}) {
    INFO("beam " << beams << ", n-best " << n_best);
    const auto single = Translator(joint(), search(beams, n_best)).translate(kSources);
    require_same(Translator(Models{joint()}, search(beams, n_best)).translate(kSources), single);
    TranslationOptions weighted = search(beams, n_best);
    weighted.ensemble_weights = {1.0};
    require_same(Translator(Models{joint()}, weighted).translate(kSources), single);
  }
  const auto single = Translator(joint(), {}).score(kSources, kTargets);
  const auto one = Translator(Models{joint()}, {}).score(kSources, kTargets);
  for (size_t i = 0; i < single.size(); ++i) {
    CHECK(one[i].target_ids == single[i].target_ids);
    CHECK(one[i].score.total == single[i].score.total);
    CHECK(one[i].score.token_log_probs == single[i].score.token_log_probs);
  }
}

TEST_CASE("ensemble: a model with itself at 0.5, 0.5 is the model; at 1, 1 its scores double",
          "[ensemble]") {
  for (auto [beams, n_best] : {std::pair<int64_t, int64_t>{1, 1}, {4, 1}, {4, 3}}) {
    INFO("beam " << beams << ", n-best " << n_best);
    const auto single = Translator(joint(), search(beams, n_best)).translate(kSources);
    TranslationOptions halves = search(beams, n_best);
    halves.ensemble_weights = {0.5, 0.5};
    require_same(Translator(Models{joint(), joint()}, halves).translate(kSources), single);
    // Marian's default weights are 1 each, not 1/N: the sum of two equal
    // log-probabilities. Every score doubles; the ranking, and so the
    // tokens, stay.
    require_same(Translator(Models{joint(), joint()}, search(beams, n_best)).translate(kSources),
                 single, 2.f);
  }
  const auto single = Translator(joint(), {}).score(kSources, kTargets);
  const auto doubled = Translator(Models{joint(), joint()}, {}).score(kSources, kTargets);
  for (size_t i = 0; i < single.size(); ++i)
    CHECK(doubled[i].score.total == 2 * single[i].score.total);
}

TEST_CASE("ensemble: the logits processors and sampling act on the combined scores as on a "
          "model's",
          "[ensemble]") {
  // A model with itself at 0.5, 0.5 combines to exactly the model's
  // log-probabilities: with the processors (the repetition penalty on each
  // member's raw logits in greedy search and sampling, on the combined
  // log-probabilities in beam search) and sampling, the outputs are the model's.
  for (int64_t beams : {int64_t{1}, int64_t{4}})
    for (bool sampling : {false, true}) {
      if (sampling && beams > 1)
        continue;
      INFO("beam " << beams << (sampling ? ", sampling" : ""));
      TranslationOptions o = search(beams, 1);
      o.repetition_penalty = 1.3;
      o.no_repeat_ngram_size = 2;
      o.min_new_tokens = 3;
      if (sampling) {
        o.sampling = true;
        o.seed = 11;
        o.top_k = 20;
      }
      const auto single = Translator(joint(), o).translate(kSources);
      o.ensemble_weights = {0.5, 0.5};
      require_same(Translator(Models{joint(), joint()}, o).translate(kSources), single);
    }
}

TEST_CASE("ensemble: recorded attention is the first member's", "[ensemble][attention]") {
  TranslationOptions o = search(4, 2);
  o.attention.cross = true;
  const auto single = Translator(joint(), o).translate(kSources);
  o.ensemble_weights = {0.5, 0.5};
  const auto both = Translator(Models{joint(), joint_int8()}, o).translate(kSources);
  // The int8 member changes the search, not whose attention is recorded: a
  // hypothesis with the single model's tokens has its attention.
  o.ensemble_weights = {0.5, 0.5};
  const auto same = Translator(Models{joint(), joint()}, o).translate(kSources);
  for (size_t i = 0; i < kSources.size(); ++i)
    for (size_t k = 0; k < single[i].hypotheses.size(); ++k) {
      const auto &a = same[i].hypotheses[k].attention, &b = single[i].hypotheses[k].attention;
      REQUIRE(a);
      REQUIRE(b);
      const Tensor &x = a->cross->weights, &y = b->cross->weights;
      REQUIRE(x.shape() == y.shape());
      CHECK(std::equal(x.data(), x.data() + x.size(), y.data()));
      // Each of the ensemble's hypotheses has one row of attention per token.
      const auto &h = both[i].hypotheses[k];
      REQUIRE(h.attention);
      CHECK(h.attention->cross->queries() == static_cast<int64_t>(h.tokens.size()));
    }
}

TEST_CASE("ensemble: a step combines the members' log-softmax as Marian, by hand", "[ensemble]") {
  const MarianModel &a = *joint(), &b = *joint_int8();
  const double wa = 0.7, wb = 0.3;
  for (const std::string &source : kSources) {
    INFO(source);
    const std::vector<int64_t> ids = a.tokenizer->encode_source(source);
    std::vector<float> la = first_logits(a, ids), lb = first_logits(b, ids);
    REQUIRE(la != lb); // the members differ
    log_softmax(la);
    log_softmax(lb);
    std::vector<float> expected(la.size());
    for (size_t t = 0; t < la.size(); ++t)
      expected[t] = static_cast<float>(wa * la[t] + wb * lb[t]);

    // The scorer's combined row.
    Workspace ws;
    std::vector<int64_t> length{static_cast<int64_t>(ids.size())};
    Tensor ea, ma, eb, mb;
    a.encoder.forward(ids.data(), length.data(), 1, length[0], ea, ma, ws);
    b.encoder.forward(ids.data(), length.data(), 1, length[0], eb, mb, ws);
    DecoderState sa, sb;
    a.decoder.start(sa, ea, ma, 1, length[0], 1, 1);
    b.decoder.start(sb, eb, mb, 1, length[0], 1, 1);
    StepScorer scorer(
        {{&a.decoder, &sa, static_cast<float>(wa)}, {&b.decoder, &sb, static_cast<float>(wb)}});
    std::vector<float> combined(expected.size());
    int64_t start = a.config.decoder_start_token_id;
    scorer.step(&start, combined.data(), ws);
    for (size_t t = 0; t < expected.size(); ++t)
      REQUIRE(combined[t] == Approx(expected[t]).margin(1e-4));

    // The ensemble's greedy translation starts with the combined argmax, and
    // that token's score is its combined log-probability.
    TranslationOptions o = search(1, 1);
    o.max_new_tokens = 2; // (the last token is EOS, forced at the limit)
    o.ensemble_weights = {wa, wb};
    const auto h =
        Translator(Models{joint(), joint_int8()}, o).translate({source})[0].hypotheses[0];
    const auto best = std::max_element(expected.begin(), expected.end()) - expected.begin();
    REQUIRE(!h.tokens.empty());
    CHECK(h.tokens[0] == best);
    CHECK(h.token_scores[0] == Approx(expected[best]).margin(1e-4));
  }
}

TEST_CASE("ensemble: scores are the weighted sums of the members' scores", "[ensemble]") {
  const auto sa = Translator(joint(), {}).score(kSources, kTargets);
  const auto sb = Translator(joint_int8(), {}).score(kSources, kTargets);
  TranslationOptions o;
  o.ensemble_weights = {0.25, 2.0};
  const auto both = Translator(Models{joint(), joint_int8()}, o).score(kSources, kTargets);
  for (size_t i = 0; i < kSources.size(); ++i) {
    INFO("pair " << i);
    CHECK(sa[i].score.total != sb[i].score.total);
    CHECK(both[i].score.total ==
          Approx(0.25 * sa[i].score.total + 2.0 * sb[i].score.total).margin(1e-3));
    REQUIRE(both[i].score.token_log_probs.size() == sa[i].score.token_log_probs.size());
    for (size_t t = 0; t < sa[i].score.token_log_probs.size(); ++t)
      CHECK(both[i].score.token_log_probs[t] ==
            Approx(0.25 * sa[i].score.token_log_probs[t] + 2.0 * sb[i].score.token_log_probs[t])
                .margin(1e-4));
  }
}

TEST_CASE("ensemble: members that cannot be combined and bad weights are refused", "[ensemble]") {
  const auto separate = MarianModel::load(kSeparate);
  try {
    Translator(Models{joint(), separate}, {});
    FAIL("no error");
  } catch (const ModelError &e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("tiny-joint") && Catch::Contains("tiny-separate") &&
                         Catch::Contains("vocabular"));
  }
  TranslationOptions o;
  o.ensemble_weights = {1.0};
  CHECK_THROWS_WITH(Translator(Models{joint(), joint()}, o),
                    Catch::Contains("1 weight for 2 models"));
  o.ensemble_weights = {1.0, 1.0, 1.0};
  CHECK_THROWS_AS(Translator(Models{joint(), joint()}, o), OptionError);
  for (double bad : std::vector<double>{0.0, -0.5, std::nan(""), HUGE_VAL}) {
    o.ensemble_weights = {1.0, bad};
    CHECK_THROWS_AS(Translator(Models{joint(), joint()}, o), OptionError);
  }
}

TEST_CASE("ensemble: heed translate and score take -m more than once", "[ensemble][cli]") {
  using test::run_heed;
  const auto dir = std::filesystem::temp_directory_path() / "heed-ensemble-cli";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto int8 = dir / "int8";
  const auto convert =
      run_heed("convert -m '" + kJoint + "' --quantize int8 -o '" + int8.string() + "'");
  REQUIRE(convert.exit_code == 0);
  const std::string pair = "-m '" + kJoint + "' -m '" + int8.string() + "'";

  // The sentence argument after -m stays a sentence.
  const auto single = run_heed("translate -q -m '" + kJoint + "' 'Hello' 'Two dogs'");
  const auto halves = run_heed("translate -q -m '" + kJoint + "' -m '" + kJoint +
                               "' --ensemble-weights 0.5,0.5 'Hello' 'Two dogs'");
  REQUIRE(single.exit_code == 0);
  REQUIRE(halves.exit_code == 0);
  CHECK(halves.out == single.out);
  const auto both = run_heed("translate -q " + pair +
                             " --ensemble-weights 0.6,0.4 -b 3 --n-best 2 "
                             "'Hello' 'Two dogs'");
  REQUIRE(both.exit_code == 0);
  CHECK(test::split_lines(both.out).size() == 4);

  for (const char *weights : {"1", "1,1,1", "0,1", "1,-2", "1,x", "1,,1", "inf,1"}) {
    INFO(weights);
    const auto r = run_heed("translate -q " + pair + " --ensemble-weights '" + weights + "' Hello");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--ensemble-weights"));
  }
  const auto mixed = run_heed("translate -q -m '" + kJoint + "' -m '" + kSeparate + "' Hello");
  CHECK(mixed.exit_code != 0);
  CHECK_THAT(mixed.err, Catch::Contains("cannot join"));

  // heed score: the weighted sum of the members' scores.
  {
    std::ofstream(dir / "src.txt") << "Two dogs play in the snow.\nHello\n";
    std::ofstream(dir / "tgt.txt") << "Zwei Hunde spielen im Schnee.\nHallo\n";
  }
  const std::string files = " --source '" + (dir / "src.txt").string() + "' --target '" +
                            (dir / "tgt.txt").string() + "'";
  const auto one = run_heed("score -q -m '" + kJoint + "'" + files);
  const auto doubled = run_heed("score -q -m '" + kJoint + "' -m '" + kJoint + "'" + files);
  REQUIRE(one.exit_code == 0);
  REQUIRE(doubled.exit_code == 0);
  const auto a = test::split_lines(one.out), b = test::split_lines(doubled.out);
  REQUIRE(a.size() == 2);
  REQUIRE(b.size() == 2);
  for (size_t i = 0; i < 2; ++i)
    CHECK(std::stod(b[i]) == Approx(2 * std::stod(a[i])).epsilon(1e-5));
  std::filesystem::remove_all(dir);
}
