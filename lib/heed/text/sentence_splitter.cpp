#include "heed/text/sentence_splitter.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <climits>
#include <map>

#include "heed/core/error.h"

namespace heed {

struct SentenceSplitter::Iterators {
  std::unique_ptr<icu::BreakIterator> sentence, line, character;
};

namespace {

// A UTF-8 UText over `text` for as long as the object lives; ICU's native
// indices into it are byte offsets.
class Utf8Text {
public:
  explicit Utf8Text(std::string_view text) {
    if (text.size() > static_cast<size_t>(INT32_MAX))
      throw Error("text of " + std::to_string(text.size()) +
                  " bytes is too long for sentence segmentation (ICU takes at most 2 GiB)");
    UErrorCode status = U_ZERO_ERROR;
    utext_openUTF8(&text_, text.data(), static_cast<int64_t>(text.size()), &status);
    if (U_FAILURE(status))
      throw Error(std::string("ICU cannot open the text: ") + u_errorName(status));
  }
  ~Utf8Text() { utext_close(&text_); }
  Utf8Text(const Utf8Text &) = delete;
  Utf8Text &operator=(const Utf8Text &) = delete;

  // Points `it` at the text (ICU keeps a shallow clone: the bytes must outlive its use).
  void attach(icu::BreakIterator &it) {
    UErrorCode status = U_ZERO_ERROR;
    it.setText(&text_, status);
    if (U_FAILURE(status))
      throw Error(std::string("ICU cannot segment the text: ") + u_errorName(status));
  }

private:
  UText text_ = UTEXT_INITIALIZER;
};

// A language tag such as "en", "pt-BR", "zh_Hant": letters, digits, '-' and
// '_', beginning with 2-8 letters.
bool looks_like_language_tag(const std::string &tag) {
  size_t letters = 0;
  while (letters < tag.size() && std::isalpha(static_cast<unsigned char>(tag[letters])))
    ++letters;
  if (letters < 2 || letters > 8)
    return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

icu::Locale locale_for(const std::string &language) {
  if (language.empty())
    return icu::Locale::getRoot();
  const auto not_a_tag = [&] {
    return OptionError("source_language",
                       "'" + language + "' is not a language tag such as en, de or pt-BR");
  };
  if (!looks_like_language_tag(language))
    throw not_a_tag();
  std::string tag = language;
  std::replace(tag.begin(), tag.end(), '_', '-');
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale locale = icu::Locale::forLanguageTag(tag, status);
  if (U_FAILURE(status) || locale.isBogus())
    throw not_a_tag();
  // CLDR's abbreviations after which a sentence does not end ("Mr.", "Prof."
  // in English): ICU applies them only when asked.
  status = U_ZERO_ERROR;
  locale.setKeywordValue("ss", "standard", status);
  if (U_FAILURE(status))
    throw Error(std::string("ICU: cannot select sentence-break suppressions: ") +
                u_errorName(status));
  return locale;
}

std::unique_ptr<icu::BreakIterator> checked(icu::BreakIterator *(*create)(const icu::Locale &,
                                                                          UErrorCode &),
                                            const icu::Locale &locale, const char *what) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> it(create(locale, status));
  if (U_FAILURE(status) || !it)
    throw Error(std::string("ICU cannot create a ") + what +
                " break iterator (is its data installed?): " + u_errorName(status));
  return it;
}

// The code point at byte `i` (and its end in `next`); negative for an
// invalid sequence, which then spans one byte or more as ICU decodes it.
UChar32 code_point_at(std::string_view text, size_t i, size_t end, size_t &next) {
  const auto *s = reinterpret_cast<const uint8_t *>(text.data());
  int32_t at = static_cast<int32_t>(i);
  UChar32 c = 0;
  U8_NEXT(s, at, static_cast<int32_t>(end), c);
  next = static_cast<size_t>(at);
  return c;
}

// The code point ending at byte `i` (and its start in `previous`).
UChar32 code_point_before(std::string_view text, size_t begin, size_t i, size_t &previous) {
  const auto *s = reinterpret_cast<const uint8_t *>(text.data());
  int32_t at = static_cast<int32_t>(i);
  UChar32 c = 0;
  U8_PREV(s, static_cast<int32_t>(begin), at, c);
  previous = static_cast<size_t>(at);
  return c;
}

bool is_space(UChar32 c) { return c >= 0 && u_isUWhiteSpace(c); }

// Whether a piece ending at byte `at` ends a clause: the last code point
// before it (white space skipped) is a comma, semicolon or colon (also their
// full-width, ideographic and Arabic forms), an en or em dash, or a hyphen
// standing between spaces.
bool ends_clause(std::string_view text, size_t begin, size_t at) {
  size_t i = at, previous = at;
  UChar32 c = 0;
  while (i > begin) {
    c = code_point_before(text, begin, i, previous);
    if (!is_space(c))
      break;
    i = previous;
  }
  if (i == begin)
    return false;
  switch (c) {
  case U',':
  case U';':
  case U':':
  case U'\u2013': // en dash
  case U'\u2014': // em dash
  case U'\uFF0C': // full-width comma
  case U'\uFF1B': // full-width semicolon
  case U'\uFF1A': // full-width colon
  case U'\u3001': // ideographic comma
  case U'\u060C': // Arabic comma
  case U'\u061B': // Arabic semicolon
    return true;
  case U'-': {
    if (i == at || previous == begin)
      return false; // no space after it, or nothing before it
    size_t before = previous;
    return is_space(code_point_before(text, begin, previous, before));
  }
  default:
    return false;
  }
}

// The boundaries of a break iterator in a window of the text, offsets in the
// text's bytes. ICU is shown only the window (with a little context on both
// sides, for rules that look around): finding boundaries in a piece then
// costs what the piece is long, not what lies before or after it (ICU backs up
// to a safe point before a position, which in a long word is its start).
class WindowBoundaries {
public:
  static constexpr size_t kContext = 64; // bytes shown beyond the window on each side

  WindowBoundaries(icu::BreakIterator &it, std::string_view text, size_t begin, size_t end)
      : it_(it), origin_(code_point_start(text, begin > kContext ? begin - kContext : 0)),
        utext_(text.substr(origin_, code_point_end(text, end + kContext) - origin_)) {
    utext_.attach(it_);
  }

  // The first boundary after `p`; npos at the end of the window.
  size_t following(size_t p) { return to_text(it_.following(from_text(p))); }
  // The last boundary before `p`; npos at the start of the window.
  size_t preceding(size_t p) { return to_text(it_.preceding(from_text(p))); }
  bool is_boundary(size_t p) { return it_.isBoundary(from_text(p)); }

private:
  static size_t code_point_start(std::string_view text, size_t i) {
    while (i > 0 && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80)
      --i;
    return i;
  }
  static size_t code_point_end(std::string_view text, size_t i) {
    i = std::min(i, text.size());
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80)
      ++i;
    return i;
  }
  int32_t from_text(size_t p) const { return static_cast<int32_t>(p - origin_); }
  size_t to_text(int32_t p) const {
    return p == icu::BreakIterator::DONE ? std::string_view::npos
                                         : origin_ + static_cast<size_t>(p);
  }

  icu::BreakIterator &it_;
  size_t origin_;
  Utf8Text utext_;
};

// The largest boundary p in (begin, end] for which fits(p) holds, or 0 when
// there is none; `end` counts as a boundary. fits is monotone: true up to
// some p, false after. The search starts at begin + hint (a guess: the length
// of the piece before) and widens its step geometrically until it brackets
// the answer, then bisects: O(log n) calls of fits, few when the guess is good.
size_t last_fitting_boundary(std::string_view text, WindowBoundaries &b, size_t begin, size_t end,
                             size_t hint, const std::function<bool(size_t)> &fits) {
  // The largest boundary in (begin, x], x < end, or 0 when there is none.
  const auto snap = [&](size_t x) -> size_t {
    // ICU moves an offset inside a UTF-8 sequence to the sequence's start
    // before looking: do so first, so that x itself is judged.
    while (x > begin && (static_cast<unsigned char>(text[x]) & 0xC0) == 0x80)
      --x;
    const size_t p = b.is_boundary(x) ? x : b.preceding(x);
    return p == std::string_view::npos || p <= begin ? 0 : p;
  };
  const auto fits_before = [&](size_t x) { return x >= end ? fits(end) : fits(snap(x)); };
  const size_t first = std::min(end, b.following(begin)); // npos: past the window
  if (!fits(first))
    return 0;
  if (first == end)
    return end;
  // good: a position whose snapped boundary fits; bad: one whose does not.
  size_t good = first, bad = end;
  const size_t guess = begin + hint;
  size_t step = std::max<size_t>(hint / 16, 4);
  if (hint > 0 && guess > first && guess < end && !fits_before(guess)) {
    for (bad = guess;; step *= 2) { // downwards
      if (bad - first <= step)
        break;
      if (fits_before(bad - step)) {
        good = bad - step;
        break;
      }
      bad -= step;
    }
  } else {
    if (hint > 0 && guess > first && guess < end)
      good = guess;
    else
      step = std::max<size_t>(2 * (first - begin), 64);
    for (;; step *= 2) { // upwards
      if (good + step >= end) {
        if (fits(end))
          return end;
        break;
      }
      if (!fits_before(good + step)) {
        bad = good + step;
        break;
      }
      good += step;
    }
  }
  while (bad - good > 1) {
    const size_t mid = good + (bad - good) / 2;
    (fits_before(mid) ? good : bad) = mid;
  }
  return snap(good);
}

} // namespace

SentenceSplitter::SentenceSplitter(const std::string &language)
    : iterators_(std::make_unique<Iterators>()) {
  const icu::Locale locale = locale_for(language);
  iterators_->sentence = checked(&icu::BreakIterator::createSentenceInstance, locale, "sentence");
  iterators_->line = checked(&icu::BreakIterator::createLineInstance, locale, "line");
  iterators_->character =
      checked(&icu::BreakIterator::createCharacterInstance, locale, "character");
  language_ = language.empty() ? "root" : locale.getBaseName();
}

void check_language(const std::string &language) { locale_for(language); }

SentenceSplitter::~SentenceSplitter() = default;
SentenceSplitter::SentenceSplitter(SentenceSplitter &&) noexcept = default;
SentenceSplitter &SentenceSplitter::operator=(SentenceSplitter &&) noexcept = default;

std::vector<TextSpan> SentenceSplitter::split(std::string_view text) const {
  std::vector<TextSpan> spans;
  if (text.empty())
    return spans;
  Utf8Text utext(text);
  icu::BreakIterator &it = *iterators_->sentence;
  utext.attach(it);
  int32_t start = it.first();
  for (int32_t end = it.next(); end != icu::BreakIterator::DONE; start = end, end = it.next()) {
    const TextSpan s =
        trim_white_space(text, {static_cast<size_t>(start), static_cast<size_t>(end)});
    if (s.size() > 0)
      spans.push_back(s);
  }
  return spans;
}

std::vector<TextSpan>
SentenceSplitter::cut_to_fit(std::string_view text, TextSpan span,
                             const std::function<bool(std::string_view)> &fits) const {
  std::vector<TextSpan> pieces;
  icu::BreakIterator &line = *iterators_->line;
  icu::BreakIterator &character = *iterators_->character;
  TextSpan rest = trim_white_space(text, span);
  size_t hint = 0; // the length of the piece before: a guess at the next one's
  while (rest.size() > 0) {
    const size_t begin = rest.begin;
    std::map<size_t, bool> seen;
    const auto prefix_fits = [&](size_t p) {
      auto [entry, inserted] = seen.try_emplace(p, false);
      if (inserted) {
        const TextSpan piece = trim_white_space(text, {begin, p});
        entry->second = piece.size() > 0 && fits(piece.of(text));
      }
      return entry->second;
    };
    // Bound the search by the first raw prefix, in doubling lengths, that does
    // not fit: no boundary past it fits, so ICU need not look further (else
    // each piece of a long word would rescan all the rest of it).
    size_t limit = rest.end;
    for (size_t step = std::max<size_t>(256, 2 * hint); begin + step < rest.end; step *= 2) {
      size_t x = begin + step;
      while (x > begin && (static_cast<unsigned char>(text[x]) & 0xC0) == 0x80)
        --x; // a code point's start
      if (!prefix_fits(x)) {
        limit = x;
        break;
      }
    }
    WindowBoundaries words(line, text, begin, limit);
    size_t cut = last_fitting_boundary(text, words, begin, limit, hint, prefix_fits);
    if (cut == rest.end) {
      pieces.push_back(rest);
      break;
    }
    if (cut > 0) {
      // Prefer the end of a clause, unless it gives up more than half.
      const size_t half = begin + (cut - begin + 1) / 2;
      for (size_t p = cut; p != std::string_view::npos && p >= half; p = words.preceding(p))
        if (ends_clause(text, begin, p)) {
          cut = p;
          break;
        }
    } else {
      // Not even the first word fits: cut it between characters.
      WindowBoundaries characters(character, text, begin, limit);
      cut = last_fitting_boundary(text, characters, begin, limit, hint, prefix_fits);
      if (cut == 0)
        cut = std::min(rest.end, characters.following(begin));
    }
    const TextSpan piece = trim_white_space(text, {begin, cut});
    if (piece.size() > 0)
      pieces.push_back(piece);
    hint = cut - begin;
    rest = trim_white_space(text, {cut, rest.end});
  }
  return pieces;
}

TextSpan trim_white_space(std::string_view text, TextSpan span) {
  size_t begin = span.begin, end = span.end, next = 0, previous = 0;
  while (begin < end && is_space(code_point_at(text, begin, end, next)))
    begin = next;
  while (end > begin && is_space(code_point_before(text, begin, end, previous)))
    end = previous;
  return {begin, end};
}

std::vector<TextSpan> white_space_words(std::string_view text) {
  std::vector<TextSpan> words;
  size_t begin = 0, next = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); i = next) {
    const bool space = is_space(code_point_at(text, i, text.size(), next));
    if (!space && !in_word)
      begin = i;
    else if (space && in_word)
      words.push_back({begin, i});
    in_word = !space;
  }
  if (in_word)
    words.push_back({begin, text.size()});
  return words;
}

int64_t code_points(std::string_view text) {
  int64_t n = 0;
  for (char c : text)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

} // namespace heed
