// Sentence segmentation: heed's spans must be exactly the sentences ICU's own
// sentence iterator finds (computed here independently, over UTF-16), with the
// language's abbreviation rules; and the cuts of over-long text must cover it,
// fit, and fall at the boundaries the header promises.
#include <catch2/catch.hpp>

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <memory>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/decoding/translation_options.h"
#include "heed/text/sentence_splitter.h"

using heed::SentenceSplitter;
using heed::TextSpan;

namespace {

// The sentences of `text` according to ICU itself: the segments of a sentence
// iterator for `language` (with CLDR's abbreviation suppressions, as heed asks
// for them), trimmed of white space, empty ones left out.
std::vector<std::string> icu_sentences(const std::string &text, const std::string &language) {
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale locale =
      language.empty() ? icu::Locale::getRoot() : icu::Locale::forLanguageTag(language, status);
  if (!language.empty())
    locale.setKeywordValue("ss", "standard", status);
  std::unique_ptr<icu::BreakIterator> it(
      icu::BreakIterator::createSentenceInstance(locale, status));
  REQUIRE(U_SUCCESS(status));
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
  it->setText(u);
  std::vector<std::string> sentences;
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    int32_t b = start, e = end;
    while (b < e && u_isUWhiteSpace(u.char32At(b)))
      b = u.moveIndex32(b, 1);
    while (e > b && u_isUWhiteSpace(u.char32At(u.moveIndex32(e, -1))))
      e = u.moveIndex32(e, -1);
    if (e > b) {
      std::string s;
      u.tempSubStringBetween(b, e).toUTF8String(s);
      sentences.push_back(s);
    }
  }
  return sentences;
}

std::vector<std::string> texts_of(const std::string &text, const std::vector<TextSpan> &spans) {
  std::vector<std::string> out;
  for (const auto &s : spans)
    out.emplace_back(s.of(text));
  return out;
}

// Every non-space byte of `text` lies in exactly one span; spans are in order.
void check_cover(const std::string &text, const std::vector<TextSpan> &spans) {
  size_t at = 0;
  for (const auto &s : spans) {
    REQUIRE(s.begin >= at);
    REQUIRE(s.end > s.begin);
    REQUIRE(s.end <= text.size());
    CHECK(heed::trim_white_space(text, {at, s.begin}).size() == 0);
    at = s.end;
  }
  CHECK(heed::trim_white_space(text, {at, text.size()}).size() == 0);
}

// The cases the issue lists, and their siblings.
const std::vector<std::string> kCases = {
    "The cat, which was black, sat on the mat. Then it slept! Dr. Smith arrived at 5 p.m. and "
    "said: 'Hello.'",
    "I met Mr. Brown and Prof. Green at 10 a.m. They talked.",
    "Bring fruit, e.g. apples. Or pears, i.e. something sweet.",
    "It costs 3.5 dollars. The rate rose by 0.25 points.",
    "Wait... what? Are you sure?! Yes!!! Fine.",
    "He said \"Stop.\" Then he left. 'Really?' she asked.",
    "(This is quoted.) And this is not.",
    "No space after a period.Like this. Yes!No. Why?Because.",
    "我来了。你好！你是谁？好的",
    "今日は晴れです。明日は雨でしょう。",
    "Just one sentence without a final stop",
    "A single sentence.",
    "...",
    "?!",
    "  Leading and trailing spaces.   Two sentences.  ",
    "Ünïcödé wörds. Émile est là. Ça va? Oui.",
    "Emoji 👍 are fine. So are flags 🇩🇪 here.",
    "Line\twith tabs.\tAnd more.",
    "Version 2.0 is out. See http://example.com/a.b for more.",
};

} // namespace

TEST_CASE("sentences are where ICU's sentence iterator puts them", "[sentences]") {
  for (const std::string language : {"", "en", "de", "fr", "ja", "zh"}) {
    const SentenceSplitter splitter(language);
    for (const auto &text : kCases) {
      INFO("language '" << language << "': " << text);
      const auto spans = splitter.split(text);
      CHECK(texts_of(text, spans) == icu_sentences(text, language));
      check_cover(text, spans);
    }
  }
}

TEST_CASE("sentence boundaries: the expected cases, by hand", "[sentences]") {
  const SentenceSplitter en("en"), root("");
  using V = std::vector<std::string>;
  const auto split = [](const SentenceSplitter &s, const std::string &text) {
    return texts_of(text, s.split(text));
  };
  // English abbreviations suppress a boundary only with the English rules.
  CHECK(split(en, "I met Mr. Brown. He smiled.") == V{"I met Mr. Brown.", "He smiled."});
  CHECK(split(root, "I met Mr. Brown. He smiled.") == V{"I met Mr.", "Brown.", "He smiled."});
  // UAX #29: no boundary before a lower-case word, a number or a decimal point.
  CHECK(split(en, "At 5 p.m. and later.") == V{"At 5 p.m. and later."});
  CHECK(split(en, "It costs 3.5 dollars.") == V{"It costs 3.5 dollars."});
  CHECK(split(en, "Wait... what? Yes! Fine.") == V{"Wait... what?", "Yes!", "Fine."});
  CHECK(split(en, "He said \"Stop.\" Then he left.") == V{"He said \"Stop.\"", "Then he left."});
  CHECK(split(en, "Yes!No.") == V{"Yes!", "No."});
  CHECK(split(en, "我来了。你好！") == V{"我来了。", "你好！"});
  CHECK(split(en, "One sentence") == V{"One sentence"});
  CHECK(split(en, "...") == V{"..."});
  CHECK(split(en, "").empty());
  CHECK(split(en, " \t  ").empty());
}

TEST_CASE("language tags: forms ICU reads, root rules, refusals", "[sentences]") {
  CHECK(SentenceSplitter("").language() == "root");
  CHECK(SentenceSplitter("en").language() == "en");
  CHECK(SentenceSplitter("pt-BR").language() == "pt_BR");
  CHECK(SentenceSplitter("pt_BR").language() == "pt_BR");
  // A language ICU has no rules for is segmented by the root rules.
  const std::string text = "I met Mr. Brown. He smiled.";
  CHECK(texts_of(text, SentenceSplitter("mul").split(text)) == icu_sentences(text, ""));
  for (const std::string bad : {"e", "en us", "../x", "x!", "123", "toolonglanguage"}) {
    CHECK_THROWS_AS(SentenceSplitter(bad), heed::OptionError);
    // The same check, before any model is loaded: check_ranges names the field.
    heed::TranslationOptions options;
    options.source_language = bad;
    try {
      heed::check_ranges(options);
      FAIL("check_ranges took source_language '" << bad << "'");
    } catch (const heed::OptionError &e) {
      CHECK(e.field() == "source_language");
      CHECK(e.problem() == "'" + bad + "' is not a language tag such as en, de or pt-BR");
    }
  }
  for (const std::string good : {"", "en", "pt-BR", "zh_Hant", "mul"}) {
    heed::TranslationOptions options;
    options.source_language = good;
    CHECK_NOTHROW(heed::check_ranges(options));
  }
}

TEST_CASE("offsets are bytes of the UTF-8 text and code_points converts them", "[sentences]") {
  const std::string text = "Ça va? Ünïcödé. 我来了。";
  const auto spans = SentenceSplitter("fr").split(text);
  REQUIRE(spans.size() == 3);
  CHECK(spans[0] == TextSpan{0, 7}); // "Ça va?": Ç is two bytes
  CHECK(spans[1].of(text) == "Ünïcödé.");
  CHECK(heed::code_points(std::string_view(text).substr(0, spans[1].begin)) == 7);
  CHECK(heed::code_points(spans[1].of(text)) == 8);
  CHECK(heed::code_points(spans[2].of(text)) == 4);
}

namespace {

std::vector<std::string> cut(const SentenceSplitter &s, const std::string &text,
                             const std::function<bool(std::string_view)> &fits) {
  const auto spans = s.cut_to_fit(text, {0, text.size()}, fits);
  check_cover(text, spans);
  return texts_of(text, spans);
}

// Whitespace-separated words.
size_t words(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\t';
    n += !space && !in_word;
    in_word = !space;
  }
  return n;
}

} // namespace

TEST_CASE("over-long text is cut at the last clause or word boundary that fits", "[sentences]") {
  const SentenceSplitter s("en");
  using V = std::vector<std::string>;
  const auto at_most = [](size_t n) { return [n](std::string_view p) { return words(p) <= n; }; };

  // Text that fits stays whole (trimmed).
  CHECK(cut(s, "  a b c  ", at_most(3)) == V{"a b c"});
  // Word boundaries, as many words as fit.
  CHECK(cut(s, "a b c d e f g", at_most(3)) == V{"a b c", "d e f", "g"});
  // The last clause boundary that keeps at least half of what fits.
  CHECK(cut(s, "one two three, four five six seven", at_most(4)) ==
        V{"one two three,", "four five six seven"});
  CHECK(cut(s, "one two, three four five six seven", at_most(4)) ==
        V{"one two, three four", "five six seven"}); // "one two," would be less than half
  CHECK(cut(s, "one, two three four five six", at_most(4)) == V{"one, two three four", "five six"});
  CHECK(cut(s, "w1 w2 w3; w4 w5 w6 w7 w8", at_most(4)) == V{"w1 w2 w3;", "w4 w5 w6 w7", "w8"});
  CHECK(cut(s, "a b - c d e", at_most(4)) == V{"a b -", "c d e"});
  CHECK(cut(s, "a b-c d e f", at_most(3)) == V{"a b-c d", "e f"}); // "b-c": no clause
  CHECK(cut(s, "中文，很长的句子", [](std::string_view p) { return p.size() <= 12; }) ==
        V{"中文，", "很长的句", "子"});

  // A long sentence of many words: every piece fits, and the next word would not.
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "word" + std::to_string(i) + (i % 37 == 36 ? ", " : " ");
  int calls = 0;
  const auto pieces = cut(s, text, [&](std::string_view p) {
    ++calls;
    return p.size() <= 300;
  });
  for (size_t i = 0; i < pieces.size(); ++i) {
    CHECK(pieces[i].size() <= 300);
    if (i + 1 < pieces.size())
      CHECK(pieces[i].size() + 1 + pieces[i + 1].substr(0, pieces[i + 1].find(' ')).size() > 150);
  }
  CHECK(calls < static_cast<int>(pieces.size()) * 40); // O(log n) probes per piece
}

TEST_CASE("a word too long to fit is cut between characters, never inside one", "[sentences]") {
  const SentenceSplitter s("");
  using V = std::vector<std::string>;
  const auto bytes = [](size_t n) { return [n](std::string_view p) { return p.size() <= n; }; };
  CHECK(cut(s, "abcdefghij", bytes(4)) == V{"abcd", "efgh", "ij"});
  CHECK(cut(s, "x abcdefghij", bytes(4)) == V{"x", "abcd", "efgh", "ij"});
  // "é" as e + combining acute is one character (grapheme cluster).
  CHECK(cut(s,
            "e\xCC\x81"
            "e\xCC\x81"
            "e\xCC\x81",
            bytes(4)) == V{"e\xCC\x81", "e\xCC\x81", "e\xCC\x81"});
  // Nothing fits: one character per piece, left for the caller to crop.
  CHECK(cut(s, "ab c", [](std::string_view) { return false; }) == V{"a", "b", "c"});
  CHECK(cut(s, "", bytes(4)).empty());
}
