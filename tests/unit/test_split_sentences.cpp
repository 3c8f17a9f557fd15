// Lines translated sentence by sentence (decoding/line_inputs.h): a split line
// is its sentences translated as independent inputs, joined back; single
// sentences translate exactly as without splitting; over-long lines are split
// and over-long sentences cut, with a warning, never cropped; alignments and
// attention maps are placed on the whole line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "heed/decoding/line_inputs.h"
#include "heed/decoding/translator.h"
#include "heed/model/marian_model.h"
#include "heed/model/source_language.h"
#include "heed/outputs/attention_writer.h"
#include "heed/outputs/translation_alignment.h"
#include "heed/outputs/translation_attention.h"
#include "heed/text/sentence_splitter.h"
#include "heed/text/words.h"
#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;

namespace {

// The shipped ensemble's first member: one model (sentence splitting does not depend on it).
const std::string kShipped = std::string(HEED_TEST_DATA) + "/../../models/multi30k-en-de/a";
const std::string kTiny = std::string(HEED_TEST_DATA) + "/tiny-joint";

std::shared_ptr<const MarianModel> shipped() {
  static auto model = MarianModel::load(kShipped);
  return model;
}

std::shared_ptr<const MarianModel> tiny() {
  static auto model = MarianModel::load(kTiny);
  return model;
}

std::string join(const std::vector<std::string> &parts) {
  std::string out;
  for (const auto &p : parts)
    if (!p.empty())
      out += (out.empty() ? "" : " ") + p;
  return out;
}

// All combinations of one index per list, sorted by summed score (best first),
// then lexicographically: what best_combinations must return a prefix of.
std::vector<std::vector<int64_t>> all_combinations(const std::vector<std::vector<float>> &scores) {
  std::vector<std::vector<int64_t>> all{{}};
  for (const auto &list : scores) {
    std::vector<std::vector<int64_t>> next;
    for (const auto &c : all)
      for (size_t i = 0; i < list.size(); ++i) {
        next.push_back(c);
        next.back().push_back(static_cast<int64_t>(i));
      }
    all = std::move(next);
  }
  const auto sum = [&](const std::vector<int64_t> &c) {
    double s = 0;
    for (size_t i = 0; i < c.size(); ++i)
      s += scores[i][static_cast<size_t>(c[i])];
    return s;
  };
  std::stable_sort(all.begin(), all.end(), [&](const auto &a, const auto &b) {
    const double sa = sum(a), sb = sum(b);
    return sa != sb ? sa > sb : a < b;
  });
  return all;
}

} // namespace

TEST_CASE("best_combinations gives the exact k best sums, ties in order", "[sentences]") {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::vector<float>> scores(1 + gen() % 4);
    for (auto &list : scores) {
      list.resize(1 + gen() % 4);
      for (auto &x : list)
        x = -static_cast<float>(gen() % 6) * 0.5f; // few values: many ties
      std::sort(list.rbegin(), list.rend());
    }
    const auto all = all_combinations(scores);
    const size_t k = 1 + gen() % 8;
    const auto best = best_combinations(scores, k);
    REQUIRE(best.size() == std::min(k, all.size()));
    CHECK(std::equal(best.begin(), best.end(), all.begin()));
  }
  CHECK(best_combinations({}, 3).empty());
  CHECK(best_combinations({{-1.f}, {}}, 3).empty());
}

TEST_CASE("a joined hypothesis with an invalid sentence hypothesis is invalid, naming it",
          "[sentences]") {
  const auto hypothesis = [](std::string text, std::vector<int64_t> tokens, float score) {
    TranslationHypothesis h;
    h.text = std::move(text);
    h.tokens = std::move(tokens);
    h.score = score;
    return h;
  };
  TranslationHypothesis invalid;
  invalid.error = "the model produced non-finite scores (NaN or infinity)";
  invalid.score = -std::numeric_limits<float>::infinity();
  std::vector<SentenceTranslation> sentences(3);
  sentences[0].hypotheses = {hypothesis("Eins.", {5, 0}, -1.f), hypothesis("Ein.", {6, 0}, -2.f)};
  sentences[1].hypotheses = {invalid, invalid};
  sentences[2].hypotheses = {hypothesis("Drei.", {7, 0}, -0.5f)};
  const auto joined = join_sentences(sentences, 2);
  REQUIRE(joined.size() == 2);
  for (const auto &h : joined) {
    CHECK_FALSE(h.valid());
    CHECK(h.error == "sentence 2 of 3: " + invalid.error);
    CHECK(h.text.empty());
    CHECK(h.tokens.empty());
    CHECK(h.score == -std::numeric_limits<float>::infinity());
  }
  CHECK(joined[0].sentence_ranks == std::vector<int64_t>{0, 0, 0});
  // Every sentence valid: the texts joined, tokens concatenated, scores summed.
  sentences[1].hypotheses = {hypothesis("", {0}, -0.25f)};
  const auto valid = join_sentences(sentences, 1);
  REQUIRE(valid.size() == 1);
  CHECK(valid[0].valid());
  CHECK(valid[0].text == "Eins. Drei.");
  CHECK(valid[0].tokens == std::vector<int64_t>{5, 0, 0, 7, 0});
  CHECK(valid[0].score == Approx(-1.75f));
}

TEST_CASE("a split line is its sentences translated one by one, joined", "[sentences]") {
  const std::string line = "Two dogs play in the snow. A man rides a bike! Dr. Smith arrived at 5 "
                           "p.m. and said: 'Hello.' Where is the cat?";
  TranslationOptions o;
  o.beam_size = 3;
  o.n_best = 3;
  o.split_sentences = true;
  Translator split(shipped(), o);
  const Translation t = split.translate({line})[0];

  const auto spans = SentenceSplitter("en").split(line);
  REQUIRE(spans.size() >= 4);
  REQUIRE(t.sentences.size() == spans.size());
  std::vector<std::string> sentences;
  for (size_t k = 0; k < spans.size(); ++k) {
    CHECK(t.sentences[k].span == spans[k]);
    sentences.emplace_back(spans[k].of(line));
  }

  o.split_sentences = false;
  Translator whole(shipped(), o);
  const auto one_by_one = whole.translate(sentences);
  std::vector<std::string> best_texts;
  double best_score = 0;
  std::vector<std::vector<float>> scores;
  for (size_t k = 0; k < sentences.size(); ++k) {
    const auto &expected = one_by_one[k].hypotheses;
    const auto &got = t.sentences[k].hypotheses;
    CHECK(t.sentences[k].source_ids == one_by_one[k].source_ids);
    REQUIRE(got.size() == expected.size());
    scores.emplace_back();
    for (size_t r = 0; r < got.size(); ++r) {
      CHECK(got[r].text == expected[r].text);
      CHECK(got[r].tokens == expected[r].tokens);
      CHECK(got[r].score == expected[r].score);
      scores.back().push_back(expected[r].score);
    }
    best_texts.push_back(expected[0].text);
    best_score += expected[0].score;
  }
  REQUIRE(t.hypotheses.size() == 3);
  CHECK(t.hypotheses[0].text == join(best_texts));
  CHECK(t.hypotheses[0].score == Approx(best_score).margin(1e-4));
  CHECK(t.hypotheses[0].sentence_ranks == std::vector<int64_t>(sentences.size(), 0));
  // The n-best list of the line: the best combinations by summed score.
  const auto all = all_combinations(scores);
  for (size_t r = 0; r < t.hypotheses.size(); ++r) {
    CHECK(t.hypotheses[r].sentence_ranks == all[r]);
    std::vector<std::string> texts;
    std::vector<int64_t> tokens;
    for (size_t k = 0; k < sentences.size(); ++k) {
      const auto &part = one_by_one[k].hypotheses[static_cast<size_t>(all[r][k])];
      texts.push_back(part.text);
      tokens.insert(tokens.end(), part.tokens.begin(), part.tokens.end());
    }
    CHECK(t.hypotheses[r].text == join(texts));
    CHECK(t.hypotheses[r].tokens == tokens);
    if (r > 0)
      CHECK(t.hypotheses[r].score <= t.hypotheses[r - 1].score);
  }
}

TEST_CASE("single sentences translate exactly as without splitting", "[sentences]") {
  const std::vector<std::string> lines = {
      "A little girl climbing into a wooden playhouse.",
      "  Two dogs play in the snow  ",
      "A man in a blue shirt is standing on a ladder cleaning windows.",
      "...",
      "",
      "Mr. Smith",
  };
  TranslationOptions o;
  o.beam_size = 2;
  const auto plain = Translator(shipped(), o).translate(lines);
  o.split_sentences = true;
  const auto split = Translator(shipped(), o).translate(lines);
  REQUIRE(split.size() == lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(split[i].hypotheses[0].text == plain[i].hypotheses[0].text);
    CHECK(split[i].hypotheses[0].tokens == plain[i].hypotheses[0].tokens);
    CHECK(split[i].hypotheses[0].score == plain[i].hypotheses[0].score);
    if (lines[i].find_first_not_of(' ') == std::string::npos) {
      CHECK(split[i].sentences.empty());
      continue;
    }
    REQUIRE(split[i].sentences.size() == 1);
    CHECK(split[i].sentences[0].source_ids == plain[i].source_ids);
    CHECK(split[i].sentences[0].span == trim_white_space(lines[i], {0, lines[i].size()}));
  }
}

namespace {

struct Warnings {
  std::vector<std::string> lines;
  std::function<void(const std::string &)> sink() {
    return [this](const std::string &w) { lines.push_back(w); };
  }
};

// Every whitespace word of `line` is in exactly one input's span, in order.
void check_words_kept(const std::string &line, const Translation &t) {
  std::vector<std::string> words, kept;
  for (const auto &w : white_space_words(line))
    words.emplace_back(w.of(line));
  for (const auto &s : t.sentences)
    for (const auto &w : white_space_words(s.span.of(line)))
      kept.emplace_back(w.of(s.span.of(line)));
  CHECK(kept == words);
}

} // namespace

TEST_CASE("over-long lines are split at sentences, over-long sentences cut, with a warning",
          "[sentences]") {
  const int64_t limit = tiny()->config.max_position_embeddings;
  REQUIRE(limit == 128);
  TranslationOptions o;
  o.beam_size = 1;
  o.max_new_tokens = 4; // random weights: keep the search short
  Warnings warnings;
  o.warn = warnings.sink();
  Translator translator(tiny(), o);

  // Many sentences: more tokens than the model takes in all.
  std::string many;
  for (int i = 0; i < 40; ++i)
    many += "The cat sat on the mat number " + std::to_string(i) + ". ";
  // One sentence without any punctuation: cut at word boundaries.
  std::string single;
  for (int i = 0; i < 300; ++i)
    single += "word" + std::to_string(i) + " ";
  // One word longer than the model takes: cut between characters.
  const std::string word(3000, 'x');
  const std::string fits = "the cat sat on the mat.";
  const std::vector<int64_t> numbers = {11, 12, 13, 14};
  const auto results = translator.translate({many, single, word, fits}, &numbers);
  REQUIRE(results.size() == 4);

  for (size_t i = 0; i < 3; ++i) {
    const Translation &t = results[i];
    REQUIRE(t.sentences.size() > 1);
    CHECK(t.source_ids.empty());
    for (const auto &s : t.sentences) {
      CHECK(static_cast<int64_t>(s.source_ids.size()) <= limit);
      CHECK(s.source_ids.back() == tiny()->config.eos_token_id);
    }
    REQUIRE(!t.hypotheses.empty());
  }
  check_words_kept(many, results[0]);
  check_words_kept(single, results[1]);
  std::string rejoined;
  for (const auto &s : results[2].sentences)
    rejoined += std::string(s.span.of(word));
  CHECK(rejoined == word);
  // The many sentences are ICU's sentences.
  const auto spans = translator.sentence_splitter().split(many);
  REQUIRE(results[0].sentences.size() == spans.size());
  for (size_t k = 0; k < spans.size(); ++k)
    CHECK(results[0].sentences[k].span == spans[k]);
  // A line that fits is one input, as always.
  CHECK(results[3].sentences.empty());
  CHECK(results[3].source_ids == tiny()->tokenizer->encode_source(fits));

  REQUIRE(warnings.lines.size() == 3);
  CHECK(warnings.lines[0].rfind("line 11: ", 0) == 0);
  CHECK(warnings.lines[0].find("more than the model's maximum of 128; translated as 40 parts "
                               "split at sentence boundaries") != std::string::npos);
  CHECK(warnings.lines[1].rfind("line 12: ", 0) == 0);
  CHECK(warnings.lines[1].find("1 sentence longer than the model's maximum of 128 tokens cut at "
                               "clause or word boundaries") != std::string::npos);
  CHECK(warnings.lines[2].rfind("line 13: ", 0) == 0);
}

TEST_CASE("a language code goes with every sentence and spans leave it out", "[sentences]") {
  const std::string line = ">>deu<< Two dogs play. A man rides a bike.";
  LineInputOptions options;
  options.split_sentences = true;
  options.max_tokens = 512;
  const SentenceSplitter splitter("en");
  const Tokenizer &tokenizer = *shipped()->tokenizer;
  const LineInputs inputs = line_inputs(line, 1, tokenizer, splitter, options);
  REQUIRE(inputs.by_sentences);
  REQUIRE(inputs.inputs.size() == 2);
  CHECK(inputs.inputs[0].span.of(line) == "Two dogs play.");
  CHECK(inputs.inputs[1].span.of(line) == "A man rides a bike.");
  CHECK(inputs.inputs[1].ids == tokenizer.encode_source(">>deu<< A man rides a bike."));
}

TEST_CASE("alignment of a split line: whole-line indices, each sentence on its own words",
          "[sentences][alignment]") {
  const std::string line = "Two dogs play in the snow. A man in a red shirt rides a bike.";
  TranslationOptions o;
  o.attention.cross = true;
  o.attention.layers.indices = {-1};
  o.attention.heads.reduction = Reduction::mean;
  o.split_sentences = true;
  Translator split(shipped(), o);
  const Translation t = split.translate({line})[0];
  REQUIRE(t.sentences.size() == 2);
  const auto a = translation_alignment(line, "", t, 0, *shipped()->tokenizer);
  REQUIRE(a);
  CHECK(a->source_words == 15);
  const auto target_words = static_cast<int64_t>(white_space_words(t.hypotheses[0].text).size());
  CHECK(a->target_words == target_words);

  // Each sentence's block is its own alignment, translated alone, moved by its offsets.
  o.split_sentences = false;
  Translator whole(shipped(), o);
  int64_t target_offset = 0;
  const int64_t source_offsets[] = {0, 6};
  // Both sentences in one call: the same batch as the split line's, so the same numbers.
  const std::vector<std::string> sentences = {std::string(t.sentences[0].span.of(line)),
                                              std::string(t.sentences[1].span.of(line))};
  const auto alone = whole.translate(sentences);
  for (size_t k = 0; k < 2; ++k) {
    const auto own = translation_alignment(sentences[k], "", alone[k], 0, *shipped()->tokenizer);
    REQUIRE(own);
    for (int64_t tw = 0; tw < own->target_words; ++tw)
      for (int64_t sw = 0; sw < a->source_words; ++sw) {
        const int64_t local = sw - source_offsets[k];
        const float expected = local >= 0 && local < own->source_words ? own->at(tw, local) : 0.f;
        CHECK(a->at(target_offset + tw, sw) == Approx(expected).margin(1e-6));
      }
    target_offset += own->target_words;
  }
  CHECK(target_offset == a->target_words);
  // Hard pairs index words of the whole line.
  for (int64_t tw = 0; tw < a->target_words; ++tw) {
    double sum = 0;
    for (int64_t sw = 0; sw < a->source_words; ++sw)
      sum += a->at(tw, sw);
    CHECK(sum == Approx(1.0).margin(1e-5));
  }
}

TEST_CASE("attention of a split line: one entry per sentence, spans in code points",
          "[sentences][attention]") {
  const std::string line = "Émile rides a bike. Two dogs play in the snow.";
  TranslationOptions o;
  o.attention.set_kinds("all");
  o.split_sentences = true;
  Translator translator(shipped(), o);
  const Translation t = translator.translate({line})[0];
  const auto entries = sentence_attentions(4, line, t, *shipped()->tokenizer,
                                           translator.search_options().decoder_start_token_id);
  REQUIRE(entries.size() == 2);
  for (size_t k = 0; k < 2; ++k) {
    const SentenceAttention &s = entries[k];
    CHECK(s.index == 4);
    CHECK(s.sentence == static_cast<int64_t>(k));
    CHECK(test::slice_code_points(line, s.span_begin, s.span_end) == s.source);
    CHECK(s.source == std::string(t.sentences[k].span.of(line)));
    REQUIRE(s.maps != nullptr);
    REQUIRE(s.maps->cross);
    CHECK(s.maps->cross->keys() == static_cast<int64_t>(t.sentences[k].source_ids.size()));
    CHECK(recorded_maps(s).size() == 3);
    CHECK(describe_sentence(s)["span"] == nlohmann::json{s.span_begin, s.span_end});
  }
  CHECK(entries[0].span_begin == 0);
  CHECK(entries[0].span_end == 19); // "Émile rides a bike." is 19 code points, 20 bytes
  CHECK(attention_file_name(4, 0, "cross", 1) == "000004_1.cross.npy");
  CHECK(attention_file_name(4, 2, "cross", 0) == "000004_0-2.cross.npy");
  CHECK(attention_file_name(4, 2, "cross") == "000004-2.cross.npy");
}

TEST_CASE("the source language comes from the model where it can", "[sentences]") {
  CHECK(language_from_release_name("en", false) == "en");
  CHECK(language_from_release_name("opus-mt-en", false) == "en");
  CHECK(language_from_release_name("zho_Hans", false) == "zho_Hans");
  CHECK(language_from_release_name("en+fr", false) == std::nullopt);
  CHECK(language_from_release_name("opus-mt-en-de", true) == "en");
  CHECK(language_from_release_name("opus-mt-tc-big-fr-en", true) == "fr");
  CHECK(language_from_release_name("models--Helsinki-NLP--opus-mt-de-en", true) == "de");
  CHECK(language_from_release_name("opus-mt-ROMANCE-en", true) == std::nullopt);
  CHECK(language_from_release_name("multi30k-en-de", true) == std::nullopt);

  CHECK(shipped()->source_language->code == "en");
  CHECK(shipped()->source_language->origin == "tokenizer_config.json source_lang \"en\"");

  // Without tokenizer_config.json: the directory's name, also from a cache snapshot below it.
  const fs::path root = test::temp_dir() / "models--Helsinki-NLP--opus-mt-fr-en";
  fs::create_directories(root / "snapshots");
  const fs::path dir = root / "snapshots" / "0123abcd";
  fs::copy(kTiny, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::remove(dir / "tokenizer_config.json");
  auto language = model_source_language(dir.string());
  REQUIRE(language);
  CHECK(language->code == "fr");
  // Neither: no language, ICU's root rules.
  const fs::path plain = test::copy_fixture("tiny-joint", "plain-model");
  fs::remove(plain / "tokenizer_config.json");
  CHECK(!model_source_language(plain.string()));
  // A tokenizer_config.json of the wrong shape is refused, naming it.
  std::ofstream(plain / "tokenizer_config.json") << "[1, 2]";
  CHECK_THROWS_WITH(model_source_language(plain.string()),
                    Catch::Contains("tokenizer_config.json: expected a JSON object"));
  std::ofstream(plain / "tokenizer_config.json") << R"({"source_lang": 5})";
  CHECK_THROWS_WITH(model_source_language(plain.string()), Catch::Contains("source_lang"));
}
