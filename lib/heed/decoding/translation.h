// What translating one line gives: its hypotheses, best first, with their
// texts, token ids, scores and, when asked for, attention weights; for a line
// translated sentence by sentence, also each sentence's. Part of heed's public
// interface (heed/heed.h): standard library types only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "heed/decoding/attention_maps.h"
#include "heed/text/text_span.h"

namespace heed {

struct TranslationHypothesis {
  std::string text;
  std::vector<int64_t> tokens; // generated ids, EOS included when produced
  // With beam search, the length-normalised sum of the token log-probabilities
  // (transformers' sequences_scores); with greedy search, the plain sum.
  float score = 0;
  // The plain sum of the tokens' log-probabilities, never length-normalised
  // (Marian's n-best F0= field).
  float log_prob = 0;
  // Each token's log-probability after the logits processors (its term of
  // log_prob; transformers' compute_transition_scores for beam search, and
  // for greedy search and sampling the log-softmax of the processed logits,
  // before sampling's warpers), one per token.
  std::vector<float> token_scores;
  std::optional<AttentionMaps> attention; // when TranslationOptions::attention asks
  // Empty for a result; else why the search has none (the model produced
  // non-finite scores, or every continuation was banned): text and tokens are
  // then empty and score is -inf, and writers show no score (never a
  // placeholder).
  std::string error;
  bool valid() const { return error.empty(); }
  // It reached its length limit (max_length, max_new_tokens, max_length_ratio
  // or the model's positions): it may be cut short, its last token an EOS
  // forced there. Of a joined hypothesis: some sentence's was.
  bool truncated = false;
  // When truncated: the limit it reached, in generated tokens (EOS included),
  // and the setting that set it: "max_length", "max_new_tokens",
  // "max_length_ratio" or "max_position_embeddings" (the model's). Of a joined
  // hypothesis: those of its first cut sentence.
  int64_t length_limit = 0;
  std::string limited_by;
  // Of a line translated sentence by sentence: the hypothesis of each
  // sentence this one joins (ranks into Translation::sentences[k].hypotheses).
  std::vector<int64_t> sentence_ranks;
};

// One sentence of a line translated sentence by sentence, as its own input.
struct SentenceTranslation {
  TextSpan span;                                 // where it lies in the line: bytes [begin, end)
  std::vector<int64_t> source_ids;               // its encoder input
  std::vector<TranslationHypothesis> hypotheses; // n_best, best first
};

// The translation of one input line.
struct Translation {
  // The source's ids as the encoder saw them (EOS included); empty for a
  // blank source and when translated by sentences.
  std::vector<int64_t> source_ids;
  // n_best hypotheses, best first; for a blank source, n_best empty ones.
  std::vector<TranslationHypothesis> hypotheses;
  // Non-empty when the line was translated sentence by sentence
  // (TranslationOptions::split_sentences, or a line too long for the model):
  // then `hypotheses` are joined from these (decoding/line_inputs.h: texts
  // joined by one space, tokens concatenated, scores summed, no attention of
  // their own: the maps are the sentences'). A joined hypothesis with an
  // invalid sentence hypothesis is invalid itself, its error naming the
  // sentence.
  std::vector<SentenceTranslation> sentences;
};

} // namespace heed
