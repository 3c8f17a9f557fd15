#include "heed/outputs/translation_attention.h"

#include "heed/text/sentence_splitter.h"

namespace heed {

namespace {

// The SentenceAttention of hypothesis `rank` of one encoder input.
SentenceAttention attention_of(int64_t index, const std::string &source,
                               const std::vector<std::string> &source_pieces, size_t rank,
                               const TranslationHypothesis &h, const Tokenizer &tokenizer,
                               int64_t decoder_start_token_id) {
  // One decoder input per generated token: the start token, then all but the last.
  std::vector<int64_t> decoder_inputs;
  if (!h.tokens.empty()) {
    decoder_inputs.push_back(decoder_start_token_id);
    decoder_inputs.insert(decoder_inputs.end(), h.tokens.begin(), h.tokens.end() - 1);
  }
  SentenceAttention s;
  s.index = index;
  s.hypothesis = static_cast<int64_t>(rank);
  s.source = source;
  s.translation = h.text;
  s.source_pieces = source_pieces;
  s.target_pieces = tokenizer.target_pieces(h.tokens);
  s.decoder_input_pieces = tokenizer.target_pieces(decoder_inputs);
  s.maps = h.attention ? &*h.attention : nullptr;
  return s;
}

} // namespace

std::vector<SentenceAttention> sentence_attentions(int64_t index, const std::string &source,
                                                   const Translation &translation,
                                                   const Tokenizer &tokenizer,
                                                   int64_t decoder_start_token_id) {
  std::vector<SentenceAttention> result;
  if (translation.sentences.empty()) {
    const std::vector<std::string> pieces = tokenizer.source_pieces(translation.source_ids);
    for (size_t rank = 0; rank < translation.hypotheses.size(); ++rank) {
      result.push_back(attention_of(index, source, pieces, rank, translation.hypotheses[rank],
                                    tokenizer, decoder_start_token_id));
      result.back().line = source;
    }
    return result;
  }
  for (size_t k = 0; k < translation.sentences.size(); ++k) {
    const SentenceTranslation &sentence = translation.sentences[k];
    const std::string text(sentence.span.of(source));
    const std::vector<std::string> pieces = tokenizer.source_pieces(sentence.source_ids);
    const int64_t begin = code_points(std::string_view(source).substr(0, sentence.span.begin));
    for (size_t rank = 0; rank < sentence.hypotheses.size(); ++rank) {
      SentenceAttention s = attention_of(index, text, pieces, rank, sentence.hypotheses[rank],
                                         tokenizer, decoder_start_token_id);
      s.sentence = static_cast<int64_t>(k);
      s.span_begin = begin;
      s.span_end = begin + code_points(text);
      s.line = source;
      result.push_back(std::move(s));
    }
  }
  return result;
}

} // namespace heed
