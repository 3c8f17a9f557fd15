// One translation hypothesis with its recorded attention, in the form every
// attention output (files, archives, the HTML page) takes: the maps plus the
// tokens along their axes, so a reader can tell what each row and column is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "heed/decoding/attention_maps.h"

namespace heed {

struct SentenceAttention {
  int64_t index = 0;      // 0-based input line
  int64_t hypothesis = 0; // n-best rank, 0 = best
  // The texts, for people reading the outputs (optional: may stay empty).
  std::string source;
  std::string translation;
  // SentencePiece pieces along the axes, special tokens included:
  // source: encoder input, EOS included (keys of cross, both axes of encoder);
  std::vector<std::string> source_pieces;
  // target: generated tokens, EOS included when produced (queries of cross and decoder);
  std::vector<std::string> target_pieces;
  // decoder inputs: start token, then the target tokens but the last (keys of decoder).
  std::vector<std::string> decoder_input_pieces;
  // Not owned; must outlive the write() / attention_html() call it is passed to.
  const AttentionMaps *maps = nullptr;
  // Of a line translated sentence by sentence: which sentence of the line
  // this is (0-based), and where it lies in the line, [span_begin, span_end)
  // in Unicode code points (Python's line[span_begin:span_end]); `source` is
  // then that sentence. -1 for a line translated whole.
  int64_t sentence = -1;
  int64_t span_begin = 0;
  int64_t span_end = 0;
  // The whole input line (shown by the page; indexes leave it out).
  std::string line;
};

// One recorded map of a sentence, with the names of the token lists along its axes.
struct NamedAttentionMap {
  std::string kind;    // "cross", "encoder" or "decoder"
  std::string queries; // "target" or "source"
  std::string keys;    // "source" or "decoder_input"
  const AttentionMap *map = nullptr;
};

// The maps `s` holds, in the order cross, encoder, decoder. Error naming the
// sentence when a map is not [layers, heads, queries, keys] with as many
// queries and keys as there are pieces on those axes, or when its layer and
// head labels do not match its shape.
std::vector<NamedAttentionMap> recorded_maps(const SentenceAttention &s);

// What outputs say about a sentence besides the weights: index, hypothesis,
// texts and, for each token list, {"pieces", "words", "piece_word"}; for a
// sentence of a line translated sentence by sentence also "sentence" and
// "span" ([begin, end) in code points of the line).
nlohmann::json describe_sentence(const SentenceAttention &s);

} // namespace heed
