#include "heed/outputs/alignment.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "heed/core/error.h"
#include "heed/core/parse_number.h"

namespace heed {

WordAlignment align_words(const float *weights, int64_t queries, int64_t keys,
                          const PieceWords &target, const PieceWords &source) {
  if (queries != static_cast<int64_t>(target.piece_word.size()) ||
      keys != static_cast<int64_t>(source.piece_word.size()))
    throw Error("attention of " + std::to_string(queries) + " x " + std::to_string(keys) +
                " pieces does not match " + std::to_string(target.piece_word.size()) +
                " target and " + std::to_string(source.piece_word.size()) + " source pieces");

  WordAlignment a;
  a.target_words = static_cast<int64_t>(target.words.size());
  a.source_words = static_cast<int64_t>(source.words.size());
  a.probabilities.assign(static_cast<size_t>(a.target_words * a.source_words), 0.f);
  if (a.source_words == 0)
    return a;

  std::vector<int64_t> pieces_per_target_word(static_cast<size_t>(a.target_words), 0);
  std::vector<double> mass(static_cast<size_t>(a.source_words));
  for (int64_t q = 0; q < queries; ++q) {
    const int64_t t = target.piece_word[static_cast<size_t>(q)];
    if (t < 0)
      continue; // target EOS and other special pieces align to nothing
    std::fill(mass.begin(), mass.end(), 0.0);
    double total = 0;
    for (int64_t k = 0; k < keys; ++k) {
      const int64_t s = source.piece_word[static_cast<size_t>(k)];
      if (s < 0)
        continue; // mass on the source EOS says nothing about words
      mass[static_cast<size_t>(s)] += weights[q * keys + k];
      total += weights[q * keys + k];
    }
    float *row = a.probabilities.data() + t * a.source_words;
    for (int64_t s = 0; s < a.source_words; ++s)
      row[s] += static_cast<float>(total > 0 ? mass[static_cast<size_t>(s)] / total
                                             : 1.0 / static_cast<double>(a.source_words));
    ++pieces_per_target_word[static_cast<size_t>(t)];
  }
  for (int64_t t = 0; t < a.target_words; ++t) {
    float *row = a.probabilities.data() + t * a.source_words;
    const int64_t n = pieces_per_target_word[static_cast<size_t>(t)];
    for (int64_t s = 0; s < a.source_words; ++s)
      row[s] = n > 0 ? row[s] / static_cast<float>(n) : 1.f / static_cast<float>(a.source_words);
  }
  return a;
}

std::vector<float> mean_over_layers_and_heads(const AttentionMap &map) {
  const int64_t maps = map.weights.dim(0) * map.weights.dim(1);
  const int64_t cells = map.queries() * map.keys();
  std::vector<double> sum(static_cast<size_t>(cells), 0.0);
  for (int64_t m = 0; m < maps; ++m)
    for (int64_t i = 0; i < cells; ++i)
      sum[static_cast<size_t>(i)] += map.weights.data()[m * cells + i];
  std::vector<float> mean(static_cast<size_t>(cells));
  for (int64_t i = 0; i < cells; ++i)
    mean[static_cast<size_t>(i)] =
        maps > 0 ? static_cast<float>(sum[static_cast<size_t>(i)] / static_cast<double>(maps))
                 : 0.f;
  return mean;
}

WordAlignment align_words(const AttentionMap &cross, const std::vector<std::string> &target_pieces,
                          const std::vector<std::string> &source_pieces) {
  const std::vector<float> mean = mean_over_layers_and_heads(cross);
  return align_words(mean.data(), cross.queries(), cross.keys(), words_from_pieces(target_pieces),
                     words_from_pieces(source_pieces));
}

AlignmentFormat AlignmentFormat::parse(const std::string &text, const std::string &what) {
  if (text == "hard")
    return {AlignmentKind::hard, 1.f};
  if (text == "soft")
    return {AlignmentKind::soft, 1.f};
  const auto value = parse_real(text);
  const float threshold = value ? static_cast<float>(*value) : 0.f;
  if (!(threshold > 0.f && threshold <= 1.f))
    throw OptionError(what + " must be hard, soft or a threshold in (0, 1], got '" + text + "'");
  return {AlignmentKind::threshold, threshold};
}

namespace {

std::string pharaoh(std::vector<std::pair<int64_t, int64_t>> pairs) {
  std::sort(pairs.begin(), pairs.end());
  std::string text;
  for (const auto &[s, t] : pairs) {
    if (!text.empty())
      text += ' ';
    text += std::to_string(s) + '-' + std::to_string(t);
  }
  return text;
}

} // namespace

std::string hard_alignment(const WordAlignment &a) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  if (a.source_words == 0)
    return "";
  for (int64_t t = 0; t < a.target_words; ++t) {
    int64_t best = 0;
    for (int64_t s = 1; s < a.source_words; ++s)
      if (a.at(t, s) > a.at(t, best))
        best = s;
    pairs.emplace_back(best, t);
  }
  return pharaoh(std::move(pairs));
}

std::string threshold_alignment(const WordAlignment &a, float threshold) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t t = 0; t < a.target_words; ++t)
    for (int64_t s = 0; s < a.source_words; ++s)
      if (a.at(t, s) >= threshold)
        pairs.emplace_back(s, t);
  return pharaoh(std::move(pairs));
}

std::string soft_alignment(const WordAlignment &a) {
  std::string text;
  char number[32];
  for (int64_t t = 0; t < a.target_words; ++t) {
    if (t > 0)
      text += ' ';
    for (int64_t s = 0; s < a.source_words; ++s) {
      // %g: six significant digits, as Marian's default stream formatting.
      std::snprintf(number, sizeof number, "%g", static_cast<double>(a.at(t, s)));
      if (s > 0)
        text += ',';
      text += number;
    }
  }
  return text;
}

std::string format_alignment(const WordAlignment &a, const AlignmentFormat &format) {
  switch (format.kind) {
  case AlignmentKind::hard:
    return hard_alignment(a);
  case AlignmentKind::soft:
    return soft_alignment(a);
  case AlignmentKind::threshold:
    return threshold_alignment(a, format.threshold);
  }
  return "";
}

} // namespace heed
