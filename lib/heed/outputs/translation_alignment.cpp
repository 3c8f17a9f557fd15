#include "heed/outputs/translation_alignment.h"

#include <algorithm>

#include "heed/text/sentence_splitter.h"

namespace heed {

std::optional<WordAlignment> translation_alignment(const std::string &source,
                                                   const std::string &target_language,
                                                   const Translation &t, size_t rank,
                                                   const Tokenizer &tokenizer) {
  // The line as the model saw it; sentence spans are the source's, `shift`
  // bytes before their place in `line`.
  const std::string line = with_language_code(source, target_language);
  const size_t shift = line.size() - source.size();
  const TranslationHypothesis &h = t.hypotheses[rank];
  if (t.sentences.empty()) {
    if (!h.attention || !h.attention->cross || h.tokens.empty())
      return std::nullopt;
    return align_words(*h.attention->cross, tokenizer.target_pieces(h.tokens),
                       tokenizer.source_pieces(t.source_ids));
  }

  // Each sentence's own alignment, with the line's word of each of its source words.
  struct Part {
    WordAlignment alignment;
    std::vector<int64_t> source_word; // line word of each sentence source word
  };
  const std::vector<TextSpan> line_words = white_space_words(line);
  const bool has_code = !split_language_code(line).first.empty();
  std::vector<Part> parts;
  int64_t target_words = 0;
  int64_t source_words = static_cast<int64_t>(line_words.size());
  for (size_t k = 0; k < t.sentences.size(); ++k) {
    const SentenceTranslation &s = t.sentences[k];
    const TranslationHypothesis &sh = s.hypotheses[static_cast<size_t>(h.sentence_ranks[k])];
    if (!sh.attention || !sh.attention->cross)
      return std::nullopt;
    Part part;
    part.alignment = align_words(*sh.attention->cross, tokenizer.target_pieces(sh.tokens),
                                 tokenizer.source_pieces(s.source_ids));
    // The line word the sentence starts in: the number of words ending before it.
    const auto start = static_cast<int64_t>(
        std::count_if(line_words.begin(), line_words.end(),
                      [&](const TextSpan &w) { return w.end <= s.span.begin + shift; }));
    for (int64_t w = 0; w < part.alignment.source_words; ++w) {
      // The language code each sentence was given is the line's first word.
      const int64_t word = !has_code ? start + w : w == 0 ? 0 : start + w - 1;
      part.source_word.push_back(word);
      source_words = std::max(source_words, word + 1);
    }
    target_words += part.alignment.target_words;
    parts.push_back(std::move(part));
  }
  if (target_words == 0)
    return std::nullopt;

  WordAlignment joined;
  joined.target_words = target_words;
  joined.source_words = source_words;
  joined.probabilities.assign(static_cast<size_t>(target_words * source_words), 0.f);
  int64_t row = 0;
  for (const Part &part : parts) {
    const WordAlignment &a = part.alignment;
    for (int64_t t = 0; t < a.target_words; ++t, ++row)
      for (int64_t w = 0; w < a.source_words; ++w)
        joined.probabilities[static_cast<size_t>(
            row * source_words + part.source_word[static_cast<size_t>(w)])] += a.at(t, w);
  }
  return joined;
}

} // namespace heed
