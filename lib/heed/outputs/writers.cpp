#include "heed/outputs/writers.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "heed/core/error.h"

namespace heed {

OutputFormat parse_output_format(const std::string &name) {
  if (name == "text")
    return OutputFormat::text;
  if (name == "jsonl")
    return OutputFormat::jsonl;
  throw OptionError("--format must be text or jsonl, got '" + name + "'");
}

std::string json_dump(const nlohmann::json &value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// Shortest decimal that reads back as the same float.
std::string format_score(float score) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(score));
  return buffer;
}

class TextWriter : public TranslationWriter {
public:
  TextWriter(std::ostream &out, int64_t n_best) : out_(out), n_best_(n_best) {}
  void write(int64_t index, const std::string &, const Translation &t) override {
    if (n_best_ == 1) {
      out_ << (t.hypotheses.empty() ? std::string() : t.hypotheses[0].text) << '\n';
      return;
    }
    for (const auto &h : t.hypotheses)
      out_ << index << " ||| " << h.text << " ||| " << format_score(h.score) << '\n';
  }

private:
  std::ostream &out_;
  int64_t n_best_;
};

class JsonLinesWriter : public TranslationWriter {
public:
  JsonLinesWriter(std::ostream &out, int64_t n_best) : out_(out), n_best_(n_best) {}
  void write(int64_t index, const std::string &source, const Translation &t) override {
    nlohmann::json j;
    j["index"] = index;
    j["source"] = source;
    const TranslationHypothesis empty;
    const auto &best = t.hypotheses.empty() ? empty : t.hypotheses[0];
    j["translation"] = best.text;
    j["score"] = best.score;
    j["tokens"] = best.tokens;
    if (n_best_ > 1) {
      auto list = nlohmann::json::array();
      for (const auto &h : t.hypotheses)
        list.push_back({{"translation", h.text}, {"score", h.score}, {"tokens", h.tokens}});
      j["n_best"] = std::move(list);
    }
    out_ << json_dump(j) << '\n';
  }

private:
  std::ostream &out_;
  int64_t n_best_;
};

} // namespace

std::unique_ptr<TranslationWriter> make_translation_writer(OutputFormat format, std::ostream &out,
                                                           int64_t n_best) {
  if (format == OutputFormat::jsonl)
    return std::make_unique<JsonLinesWriter>(out, n_best);
  return std::make_unique<TextWriter>(out, n_best);
}

void write_score(OutputFormat format, std::ostream &out, int64_t index, const std::string &source,
                 const std::string &target, const ScoredPair &scored) {
  if (format == OutputFormat::text) {
    out << format_score(scored.score.total) << '\n';
    return;
  }
  nlohmann::json j;
  j["index"] = index;
  j["source"] = source;
  j["target"] = target;
  j["score"] = scored.score.total;
  j["tokens"] = scored.target_ids;
  j["token_scores"] = scored.score.token_log_probs;
  out << json_dump(j) << '\n';
}

} // namespace heed
