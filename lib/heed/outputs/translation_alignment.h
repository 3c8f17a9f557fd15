// Word alignments of translated lines, the text --alignment prints after
// " ||| ". A line translated whole is aligned from its cross-attention
// (alignment.h). A line translated sentence by sentence gets each sentence's
// alignment placed in one for the whole line, so that Pharaoh pairs index the
// line's words: a sentence's source words go to their places among the line's
// words (the line split at white space, a leading language code one word), its
// target words to theirs in the joined translation (sentences joined in
// order). A sentence boundary inside a white-space word ("Yes!No.") puts the
// parts of both sentences on that one word; a sentence whose pieces form more
// words than its text has (rare SentencePiece normalisations) extends the
// line's source words, as a line translated whole would.
#pragma once

#include <optional>
#include <string>

#include "heed/decoding/translator.h"
#include "heed/outputs/alignment.h"
#include "heed/text/tokenizer.h"

namespace heed {

// The word alignment of hypothesis `rank` of `t`, the translation of `line`
// given `target_language` (TranslationOptions: the code put in front of a line
// without one, then its first word); none when cross-attention was not
// recorded or nothing was generated.
std::optional<WordAlignment> translation_alignment(const std::string &line,
                                                   const std::string &target_language,
                                                   const Translation &t, size_t rank,
                                                   const Tokenizer &tokenizer);

} // namespace heed
