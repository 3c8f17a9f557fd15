// How an input line becomes the inputs the model translates, and how their
// translations become the line's. Marian/OPUS-MT models are trained on single
// sentences and take at most max_position_embeddings tokens, so a paragraph is
// best translated sentence by sentence (--split-sentences), and a line longer
// than the model takes must be (never cropped, never dropped):
//  - a line is one input when it fits and sentences are not asked for, or when
//    it is a single sentence (so single sentences translate exactly as without
//    splitting);
//  - else its sentences (text/sentence_splitter.h: ICU) are the inputs, each
//    sentence still too long cut at clause or word boundaries (cut_to_fit);
//  - the line's hypotheses join its sentences' (join_sentences).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "heed/decoding/translation.h"
#include "heed/text/sentence_splitter.h"
#include "heed/text/tokenizer.h"

namespace heed {

struct ModelInput {
  TextSpan span;            // the part of the line it translates, bytes
  std::vector<int64_t> ids; // encoder input, EOS included; at most max_tokens
};

struct LineInputs {
  std::vector<ModelInput> inputs;
  // Translated sentence by sentence: results go to Translation::sentences
  // (always with split_sentences, even for one sentence; without it only for
  // lines too long for the model).
  bool by_sentences = false;
};

struct LineInputOptions {
  bool split_sentences = false;
  int64_t max_tokens = 0; // the model's max_position_embeddings, EOS included
  // Receives one warning per line translated otherwise than asked: split for
  // being too long, or with a sentence cut, or (a single character of more
  // tokens than the model takes) cropped.
  std::function<void(const std::string &)> warn;
};

// The model inputs of a non-blank `line` (1-based `line_number` for
// warnings). A leading target-language code (">>deu<<") is kept on every
// sentence, and spans exclude it.
LineInputs line_inputs(const std::string &line, int64_t line_number, const Tokenizer &tokenizer,
                       const SentenceSplitter &splitter, const LineInputOptions &options);

// The `k` combinations of one entry per list (indices) with the largest sums
// of `scores`, best first; each list sorted best first. Ties go to the
// lexicographically smaller combination. Exact: a lazy best-first search over
// the lattice of combinations, O(k * lists * log) time.
std::vector<std::vector<int64_t>> best_combinations(const std::vector<std::vector<float>> &scores,
                                                    size_t k);

// The hypotheses of a line from those of its sentences: the `n_best`
// combinations of one hypothesis per sentence with the largest summed scores
// (best_combinations; the best is every sentence's best), each with the
// texts joined by one space (empty ones left out), the tokens concatenated
// (each sentence's EOS included), the scores summed, and `sentence_ranks`
// saying which hypothesis of each sentence it joins. A combination with an
// invalid hypothesis (error set) is invalid: error "sentence K of N: ...",
// no text or tokens, score -inf.
std::vector<TranslationHypothesis> join_sentences(const std::vector<SentenceTranslation> &sentences,
                                                  int64_t n_best);

} // namespace heed
