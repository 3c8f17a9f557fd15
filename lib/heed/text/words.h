// Words from SentencePiece pieces, so that subword attention can be read (and
// aligned) at the level of the words a person sees. A piece starting with "▁"
// (U+2581) starts a new word and other pieces continue the current one, which
// makes the words those of the text split on whitespace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed {

struct PieceWords {
  // The words, "▁" removed: {"Two", "dogs", "snow."}.
  std::vector<std::string> words;
  // For each piece, the index of its word, or -1 for a special piece (</s>,
  // <pad>, <s>) that belongs to no word.
  std::vector<int64_t> piece_word;
};

// Groups `pieces` into words:
// - a piece starting with "▁" starts a new word; other pieces continue the
//   current word (or start one when there is none, e.g. first piece);
// - a lone "▁" belongs to the word of the piece after it (SentencePiece emits
//   it before pieces it cannot attach the space to); a lone "▁" with no word
//   piece after it joins the previous word (or none);
// - special pieces "</s>", "<pad>", "<s>" belong to no word and end the
//   current one;
// - a language code ">>xx<<" is a word of its own;
// - "<unk>" is an ordinary piece: it stands for text the vocabulary lacks.
PieceWords words_from_pieces(const std::vector<std::string> &pieces);

// Whether `piece` is one of the special pieces that belong to no word.
bool is_special_piece(const std::string &piece);

} // namespace heed
