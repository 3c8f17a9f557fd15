#include "heed/text/words.h"

#include <string_view>

namespace heed {

namespace {

constexpr std::string_view kWordStart = "\xe2\x96\x81"; // U+2581, SentencePiece's space

bool starts_word(std::string_view piece) {
  return piece.substr(0, kWordStart.size()) == kWordStart;
}

bool is_language_code(std::string_view piece) {
  return piece.size() > 4 && piece.substr(0, 2) == ">>" && piece.substr(piece.size() - 2) == "<<";
}

} // namespace

bool is_special_piece(const std::string &piece) {
  return piece == "</s>" || piece == "<pad>" || piece == "<s>";
}

PieceWords words_from_pieces(const std::vector<std::string> &pieces) {
  PieceWords result;
  result.piece_word.assign(pieces.size(), -1);
  // Lone "▁" pieces waiting for the word of the next piece.
  std::vector<size_t> pending_spaces;
  // Whether the next ordinary piece continues the last word.
  bool in_word = false;

  auto start_word = [&](std::string text) {
    result.words.push_back(std::move(text));
    in_word = true;
    for (size_t p : pending_spaces)
      result.piece_word[p] = static_cast<int64_t>(result.words.size()) - 1;
    pending_spaces.clear();
  };
  // Lone spaces with nothing to attach to on their right stay with the word on
  // their left, so no attention mass is dropped needlessly.
  auto settle_pending_spaces = [&] {
    for (size_t p : pending_spaces)
      result.piece_word[p] = static_cast<int64_t>(result.words.size()) - 1;
    pending_spaces.clear();
  };

  for (size_t p = 0; p < pieces.size(); ++p) {
    const std::string &piece = pieces[p];
    if (is_special_piece(piece)) {
      settle_pending_spaces();
      in_word = false;
      continue;
    }
    if (piece == kWordStart) {
      pending_spaces.push_back(p);
      in_word = false;
      continue;
    }
    if (is_language_code(piece)) {
      start_word(piece);
      in_word = false; // the next piece starts a word even without "▁"
    } else if (starts_word(piece)) {
      start_word(piece.substr(kWordStart.size()));
    } else if (!in_word) {
      start_word(piece);
    } else {
      result.words.back() += piece;
    }
    result.piece_word[p] = static_cast<int64_t>(result.words.size()) - 1;
  }
  settle_pending_spaces();
  return result;
}

} // namespace heed
