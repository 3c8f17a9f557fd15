// Word alignments from cross-attention, printed after " ||| " the way Marian
// prints them. Attention is recorded between subword pieces; a person (and
// every alignment tool) wants words, so the piece matrix is aggregated first:
// a source word gets the summed attention mass of its pieces (the source EOS
// is dropped and each row renormalised over the words), a target word the
// mean of its pieces' rows (the target EOS is dropped).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "heed/decoding/attention_maps.h"
#include "heed/text/words.h"

namespace heed {

// For each target word, a probability distribution over the source words.
struct WordAlignment {
  int64_t target_words = 0;
  int64_t source_words = 0;
  std::vector<float> probabilities; // [target_words, source_words], row-major

  float at(int64_t target, int64_t source) const {
    return probabilities[static_cast<size_t>(target * source_words + source)];
  }
};

// Aggregates `weights`, a [queries, keys] matrix of target pieces (queries)
// attending to source pieces (keys), to words. queries must equal
// target.piece_word.size() and keys source.piece_word.size(). A target piece
// whose attention falls only on pieces of no word spreads evenly over the words.
WordAlignment align_words(const float *weights, int64_t queries, int64_t keys,
                          const PieceWords &target, const PieceWords &source);

// The [queries, keys] mean over every layer and head stored in `map`; the
// recording decides which layers and heads those are (and may have reduced
// them already, in which case this is the identity).
std::vector<float> mean_over_layers_and_heads(const AttentionMap &map);

// align_words on the mean of a cross-attention map, with words formed from
// the pieces: the usual way to get a sentence's alignment.
WordAlignment align_words(const AttentionMap &cross, const std::vector<std::string> &target_pieces,
                          const std::vector<std::string> &source_pieces);

enum class AlignmentKind { hard, soft, threshold };

// A word alignment format (the --alignment option): "hard", "soft" or a threshold in (0, 1].
struct AlignmentFormat {
  AlignmentKind kind = AlignmentKind::hard;
  float threshold = 1; // for AlignmentKind::threshold

  // OptionError naming `what` (the flag, for the command line) for anything
  // else.
  static AlignmentFormat parse(const std::string &text, const std::string &what = "alignment");
};

// Pharaoh pairs "s-t" (0-based source word, target word) separated by spaces,
// sorted by source then target word as Marian sorts them.
// hard: each target word with its most attended source word (the first on ties).
std::string hard_alignment(const WordAlignment &alignment);
// threshold: every pair whose probability is at least `threshold`.
std::string threshold_alignment(const WordAlignment &alignment, float threshold);
// soft: one row per target word, its source-word probabilities separated by
// commas; rows separated by spaces (Marian's soft alignment, at word level).
std::string soft_alignment(const WordAlignment &alignment);

// The text that follows " ||| " for `format`.
std::string format_alignment(const WordAlignment &alignment, const AlignmentFormat &format);

} // namespace heed
