#include "heed/outputs/translation_attention.h"

namespace heed {

std::vector<SentenceAttention> sentence_attentions(int64_t index, const std::string &source,
                                                   const Translation &translation,
                                                   const Tokenizer &tokenizer,
                                                   int64_t decoder_start_token_id) {
  std::vector<SentenceAttention> result;
  const std::vector<std::string> source_pieces = tokenizer.source_pieces(translation.source_ids);
  for (size_t rank = 0; rank < translation.hypotheses.size(); ++rank) {
    const TranslationHypothesis &h = translation.hypotheses[rank];
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
    result.push_back(std::move(s));
  }
  return result;
}

} // namespace heed
