// Sentence segmentation of input lines with ICU's sentence BreakIterator
// (Unicode UAX #29 sentence boundaries, with CLDR's per-language lists of
// abbreviations after which no sentence ends: ICU's "ss=standard" keyword),
// and the cuts for text still too long for a model: at the last clause
// boundary, else the last line-break opportunity (UAX #14: after spaces,
// between ideographs), else the last character boundary that fits.
//
// Offsets are byte offsets into the UTF-8 text (ICU reads it through a UTF-8
// UText, whose native indices are bytes); code_points() converts them to the
// Unicode code point offsets that outputs report.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heed/text/text_span.h"

namespace heed {

class SentenceSplitter {
public:
  // `language`: a BCP 47 language tag or ICU locale name ("en", "de", "pt-BR",
  // "zh_Hant", "eng"); "" for ICU's root rules. A language ICU has no data for
  // gets the root rules (ICU's fallback). OptionError (field source_language)
  // when `language` is not a tag at all (check_language).
  explicit SentenceSplitter(const std::string &language = "");
  ~SentenceSplitter();
  SentenceSplitter(SentenceSplitter &&) noexcept;
  SentenceSplitter &operator=(SentenceSplitter &&) noexcept;

  // The sentences of `text` where ICU's sentence BreakIterator puts boundaries,
  // each without the Unicode white space around it, in order; segments that
  // are only white space are left out (so blank text has none). Every
  // non-space character of `text` lies in exactly one span.
  std::vector<TextSpan> split(std::string_view text) const;

  // Cuts `span` of `text` into consecutive pieces, each accepted by `fits` and
  // as long as it can be, trimmed of white space:
  //  - at the last clause boundary (after , ; : and their full-width forms, or
  //    a dash between spaces) when that keeps at least half of the longest
  //    prefix that fits;
  //  - else at the last line-break opportunity that fits;
  //  - else (one "word" too long, e.g. text without spaces) at the last
  //    character (grapheme cluster) boundary that fits;
  //  - else after one character: a single character that does not fit is
  //    returned as it is, for the caller to deal with.
  // A span that fits is returned whole (trimmed). `fits` is assumed monotone
  // (a prefix of something that fits fits too), as token counts are, and is
  // called O(log n) times per piece.
  std::vector<TextSpan> cut_to_fit(std::string_view text, TextSpan span,
                                   const std::function<bool(std::string_view)> &fits) const;

  // The language whose rules are used: ICU's name for it ("en", "pt_BR"), or
  // "root" for the root rules.
  const std::string &language() const { return language_; }

private:
  struct Iterators;
  std::unique_ptr<Iterators> iterators_; // not thread-safe: one splitter per thread
  std::string language_;
};

// OptionError (field source_language) unless `language` is "" or a language
// tag SentenceSplitter takes: only letters, digits, '-' and '_', starting with
// 2-8 letters, and accepted by ICU's BCP 47 parser.
void check_language(const std::string &language);

// The words of `text` separated by Unicode white space (Python's str.split()).
std::vector<TextSpan> white_space_words(std::string_view text);

// `span` trimmed of Unicode white space at both ends.
TextSpan trim_white_space(std::string_view text, TextSpan span);

// Number of Unicode code points in `text`, which must be valid UTF-8 (heed
// repairs input lines before translating them): the bytes that are not
// continuation bytes.
int64_t code_points(std::string_view text);

} // namespace heed
