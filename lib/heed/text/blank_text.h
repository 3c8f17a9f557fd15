// Whether a line of input text is blank: it holds nothing a translation could
// render, so that heed writes an empty output line for it instead of letting
// the model invent a sentence ("Ein.") for an invisible one. Blank means made
// only of Unicode White_Space characters (space, tab, NBSP, U+3000, the
// U+2000..200A spaces, the U+2028/2029 separators, NEL, ...), control
// characters (general category Cc) and format characters (Cf: ZWSP, ZWJ,
// LRM/RLM and the other bidirectional marks, the BOM, soft hyphen, ...).
// Sources: Unicode 15.0 PropList.txt (White_Space) and
// DerivedGeneralCategory.txt (Cc, Cf).
//
// The translator also treats as blank a line that the model's SentencePiece
// normaliser reduces to nothing (decoding/translator.cpp): the two agree on
// every character above for NFKC-based normalisers, and this test still
// holds for models whose normaliser keeps such characters.
#pragma once

#include <string_view>

namespace heed {

// True for empty text and text of White_Space, Cc and Cf characters only;
// malformed UTF-8 is never blank (it is repaired or refused before).
bool is_blank_text(std::string_view text);

} // namespace heed
