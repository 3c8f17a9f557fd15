// Attention weights recorded during search: rows are distributions, and with
// beam search they are those of the output hypothesis, followed through beam
// reorders (they equal a teacher-forced replay of that hypothesis).
#include <catch2/catch.hpp>

#include "heed/decoding/attention_recorder.h"
#include "heed/decoding/translator.h"
#include "heed/model/marian_model.h"

using namespace heed;

namespace {

const std::string kModel = std::string(HEED_TEST_DATA) + "/tiny-joint";

// Cross and decoder maps of `tokens` replayed with teacher forcing, one sentence.
AttentionMaps replay(const MarianModel &model, const AttentionRequest &request,
                     const std::vector<int64_t> &source, const std::vector<int64_t> &tokens) {
  AttentionRecorder recorder(request, model.config);
  Workspace ws;
  Tensor encoded, mask;
  const int64_t length = static_cast<int64_t>(source.size());
  recorder.start_batch();
  model.encoder.forward(source.data(), &length, 1, length, encoded, mask, ws,
                        [&](size_t l) { return recorder.encoder_layer(l); });
  DecoderState state;
  model.decoder.start(state, encoded, mask, 1, length, 1, static_cast<int64_t>(tokens.size()));
  std::vector<float> logits(model.decoder.vocab_size());
  int64_t token = model.config.decoder_start_token_id;
  for (size_t t = 0; t < tokens.size(); ++t) {
    model.decoder.step(state, &token, logits.data(), ws, &recorder);
    token = tokens[t];
  }
  return recorder.extract(0, length, std::vector<int64_t>(tokens.size(), 0));
}

void require_rows_sum_to_one(const AttentionMap &map, bool causal) {
  for (int64_t l = 0; l < map.weights.dim(0); ++l)
    for (int64_t h = 0; h < map.weights.dim(1); ++h)
      for (int64_t q = 0; q < map.queries(); ++q) {
        double sum = 0;
        const float *row = map.row(l, h, q);
        for (int64_t k = 0; k < map.keys(); ++k) {
          sum += row[k];
          if (causal && k > q)
            REQUIRE(row[k] == 0.f);
        }
        REQUIRE(sum == Approx(1.0).margin(1e-5));
      }
}

void require_same(const AttentionMap &a, const AttentionMap &b) {
  REQUIRE(a.weights.shape() == b.weights.shape());
  for (int64_t i = 0; i < a.weights.size(); ++i)
    REQUIRE(a.weights[i] == Approx(b.weights[i]).margin(1e-5));
}

} // namespace

TEST_CASE("recorded attention follows the output hypothesis through beam reorders", "[attention]") {
  auto model = MarianModel::load(kModel);
  const std::vector<std::string> sources = {
      "Two dogs play in the snow.", "A little girl climbing into a wooden playhouse.", "Hello",
      "A man in an orange hat starring at something."};
  for (int64_t beams : {int64_t{1}, int64_t{4}}) {
    INFO("beam size " << beams);
    TranslationOptions o;
    o.beam_size = beams;
    o.n_best = beams;
    o.attention.set_kinds("all");
    Translator translator(model, o);
    const auto translations = translator.translate(sources);
    for (size_t i = 0; i < sources.size(); ++i) {
      const auto &t = translations[i];
      for (const auto &h : t.hypotheses) {
        REQUIRE(h.attention);
        const auto &maps = *h.attention;
        REQUIRE(maps.cross->weights.shape() ==
                std::vector<int64_t>{2, 4, static_cast<int64_t>(h.tokens.size()),
                                     static_cast<int64_t>(t.source_ids.size())});
        require_rows_sum_to_one(*maps.cross, false);
        require_rows_sum_to_one(*maps.decoder, true);
        require_rows_sum_to_one(*maps.encoder, false);
        const auto replayed = replay(*model, o.attention, t.source_ids, h.tokens);
        require_same(*maps.cross, *replayed.cross);
        require_same(*maps.decoder, *replayed.decoder);
        require_same(*maps.encoder, *replayed.encoder);
      }
    }
  }
}

TEST_CASE("layer and head selections and reductions", "[attention]") {
  auto model = MarianModel::load(kModel);
  TranslationOptions all;
  all.attention.cross = true;
  Translator full(model, all);
  const auto reference = full.translate({"Two dogs play in the snow."})[0].hypotheses[0];
  const AttentionMap &f = *reference.attention->cross;

  TranslationOptions o = all;
  o.attention.layers = IndexSelection::parse("-1", "--attention-layers");
  o.attention.heads = IndexSelection::parse("mean", "--attention-heads");
  const auto reduced = Translator(model, o).translate({"Two dogs play in the snow."})[0];
  const AttentionMap &r = *reduced.hypotheses[0].attention->cross;
  REQUIRE(r.layers == std::vector<std::string>{"1"});
  REQUIRE(r.heads == std::vector<std::string>{"mean"});
  for (int64_t q = 0; q < r.queries(); ++q)
    for (int64_t k = 0; k < r.keys(); ++k) {
      double mean = 0;
      for (int64_t h = 0; h < 4; ++h)
        mean += f.row(1, h, q)[k] / 4.0;
      REQUIRE(r.row(0, 0, q)[k] == Approx(mean).margin(1e-6));
    }

  o.attention.layers = IndexSelection::parse("max", "--attention-layers");
  o.attention.heads = IndexSelection::parse("2,0", "--attention-heads");
  const auto maxed = Translator(model, o).translate({"Two dogs play in the snow."})[0];
  const AttentionMap &m = *maxed.hypotheses[0].attention->cross;
  REQUIRE(m.layers == std::vector<std::string>{"max"});
  REQUIRE(m.heads == std::vector<std::string>{"2", "0"});
  for (int64_t q = 0; q < m.queries(); ++q)
    for (int64_t k = 0; k < m.keys(); ++k)
      REQUIRE(m.row(0, 0, q)[k] == std::max(f.row(0, 2, q)[k], f.row(1, 2, q)[k]));

  o.attention.layers = IndexSelection::parse("7", "--attention-layers");
  REQUIRE_THROWS_WITH(Translator(model, o),
                      Catch::Contains("decoder layer index 7 is out of range"));
  REQUIRE_THROWS_WITH(IndexSelection::parse("1,x", "--attention-heads"),
                      Catch::Contains("--attention-heads must be"));
}
