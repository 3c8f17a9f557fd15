#include "heed/outputs/attention_html.h"

#include "heed/core/error.h"
#include "heed/io/output_file.h"
#include "heed/outputs/attention_page_template.h"
#include "heed/outputs/float_json.h"
#include "heed/outputs/writers.h"

namespace heed {

namespace {

// Four decimals are below what a colour can show and what a tooltip needs.
constexpr int kPageDecimals = 4;

const std::string kDataSlot = "@HEED_DATA@";

} // namespace

std::string attention_page_data(const std::vector<SentenceAttention> &sentences) {
  std::string text = "{\"sentences\":[";
  for (size_t i = 0; i < sentences.size(); ++i) {
    const SentenceAttention &s = sentences[i];
    const auto maps = recorded_maps(s);
    std::string entry_text = json_dump(describe_sentence(s));
    // The weights are appended as text after the entry's other keys
    // (nlohmann::json would print every float widened to double).
    entry_text.pop_back(); // the entry's closing '}'
    entry_text += ",\"maps\":{";
    for (size_t m = 0; m < maps.size(); ++m) {
      const AttentionMap &map = *maps[m].map;
      const nlohmann::json about = {{"layers", map.layers},
                                    {"heads", map.heads},
                                    {"queries", maps[m].queries},
                                    {"keys", maps[m].keys},
                                    {"shape", map.weights.shape()}};
      std::string about_text = json_dump(about);
      about_text.pop_back(); // its closing '}'
      entry_text += (m ? ",\"" : "\"") + maps[m].kind + "\":" + about_text + ",\"weights\":";
      append_nested_array_json(entry_text, map.weights.data(), {map.weights.size()}, kPageDecimals);
      entry_text += '}';
    }
    entry_text += "}}";
    text += (i ? "," : "") + entry_text;
  }
  text += "]}";
  return text;
}

std::string attention_html(const std::vector<SentenceAttention> &sentences) {
  std::string data = attention_page_data(sentences);
  // Inside <script>, "</script>" in a token would end the element early; "<"
  // only occurs inside JSON strings, where \u003c means the same.
  std::string escaped;
  escaped.reserve(data.size());
  for (char c : data) {
    if (c == '<')
      escaped += "\\u003c";
    else
      escaped += c;
  }

  std::string page = kAttentionPageTemplate;
  const size_t at = page.find(kDataSlot);
  page.replace(at, kDataSlot.size(), escaped);
  return page;
}

void write_attention_html(const std::string &path,
                          const std::vector<SentenceAttention> &sentences) {
  const std::string page = attention_html(sentences);
  io::OutputFile out(path, io::OutputFile::Mode::truncate);
  out.write(page);
  out.close();
}

} // namespace heed
