#include "heed/outputs/writers.h"

#include <nlohmann/json.hpp>

#include "heed/core/error.h"
#include "heed/outputs/nbest_line.h"
#include "heed/text/sentence_splitter.h"

namespace heed {

OutputFormat parse_output_format(const std::string &name, const std::string &what) {
  if (name == "text")
    return OutputFormat::text;
  if (name == "jsonl")
    return OutputFormat::jsonl;
  throw OptionError(what + " must be text or jsonl, got '" + name + "'");
}

std::string json_dump(const nlohmann::json &value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// A score in JSON: null for a hypothesis that has none (its "error" says
// why), never a placeholder number.
nlohmann::json score_json(const TranslationHypothesis &h) {
  return h.valid() ? nlohmann::json(h.score) : nlohmann::json(nullptr);
}

// A translation never spans lines: one output line per input line, always.
std::string one_line(std::string text) {
  for (char &c : text)
    if (c == '\n' || c == '\r')
      c = ' ';
  return text;
}

// What both formats share: the stream, its name for errors, the settings.
class StreamWriter : public TranslationSink {
public:
  StreamWriter(std::ostream &out, std::string name, int64_t n_best, AlignmentText alignment,
               PieceOf piece_of)
      : out_(out), name_(std::move(name)), n_best_(n_best), alignment_(std::move(alignment)),
        piece_of_(std::move(piece_of)) {}
  void flush() override {
    out_.flush();
    if (!out_)
      throw IoError(name_ + ": write error");
  }

protected:
  std::ostream &out_;
  std::string name_;
  int64_t n_best_;
  AlignmentText alignment_;
  PieceOf piece_of_; // set: word scores are written
};

class TextWriter : public StreamWriter {
public:
  using StreamWriter::StreamWriter;
  void write(int64_t index, const std::string &source, const Translation &t) override {
    if (n_best_ == 1) {
      out_ << one_line(t.hypotheses.empty() ? std::string() : t.hypotheses[0].text);
      if (alignment_)
        out_ << " ||| " << alignment_(source, t, 0);
      if (piece_of_)
        out_ << " ||| "
             << word_scores_field(t.hypotheses.empty() ? std::vector<float>()
                                                       : t.hypotheses[0].token_scores);
      out_ << '\n';
      return;
    }
    // An invalid hypothesis (Translation::error) keeps its line, empty, with
    // the score of an impossible one: -inf.
    for (size_t r = 0; r < t.hypotheses.size(); ++r) {
      const auto &h = t.hypotheses[r];
      const std::string alignment = alignment_ ? alignment_(source, t, r) : std::string();
      const std::string word_scores = piece_of_ ? word_scores_field(h.token_scores) : "";
      out_ << format_nbest_line(index, one_line(h.text), alignment_ ? &alignment : nullptr,
                                h.log_prob, h.score, piece_of_ ? &word_scores : nullptr)
           << '\n';
    }
  }
};

// What a hypothesis's fields cannot say themselves: why there is no result
// ("error"), and that it reached its length limit and may be cut ("truncated").
void mark_problems(nlohmann::json &entry, const TranslationHypothesis &h) {
  if (!h.valid())
    entry["error"] = h.error;
  if (h.truncated) {
    entry["truncated"] = true;
    entry["length_limit"] = h.length_limit;
    entry["limited_by"] = h.limited_by;
  }
}

class JsonLinesWriter : public StreamWriter {
public:
  using StreamWriter::StreamWriter;
  void write(int64_t index, const std::string &source, const Translation &t) override {
    nlohmann::json j;
    j["index"] = index;
    j["source"] = source;
    const TranslationHypothesis empty;
    const auto &best = t.hypotheses.empty() ? empty : t.hypotheses[0];
    j["translation"] = best.text;
    j["score"] = score_json(best);
    j["tokens"] = best.tokens;
    mark_problems(j, best);
    add_word_scores(j, best);
    if (alignment_)
      j["alignment"] = t.hypotheses.empty() ? std::string() : alignment_(source, t, 0);
    if (n_best_ > 1) {
      auto list = nlohmann::json::array();
      for (size_t r = 0; r < t.hypotheses.size(); ++r) {
        const auto &h = t.hypotheses[r];
        nlohmann::json entry{
            {"translation", h.text}, {"score", score_json(h)}, {"tokens", h.tokens}};
        mark_problems(entry, h);
        add_word_scores(entry, h);
        if (alignment_)
          entry["alignment"] = alignment_(source, t, r);
        list.push_back(std::move(entry));
      }
      j["n_best"] = std::move(list);
    }
    if (!t.sentences.empty())
      j["sentences"] = sentences(source, t);
    out_ << json_dump(j) << '\n';
  }

private:
  // "token_scores" and "pieces", aligned with "tokens", with word scores.
  void add_word_scores(nlohmann::json &entry, const TranslationHypothesis &h) const {
    if (!piece_of_)
      return;
    entry["token_scores"] = h.token_scores;
    auto pieces = nlohmann::json::array();
    for (int64_t id : h.tokens)
      pieces.push_back(piece_of_(id));
    entry["pieces"] = std::move(pieces);
  }

  // The "sentences" list of a line translated sentence by sentence.
  nlohmann::json sentences(const std::string &source, const Translation &t) const {
    auto list = nlohmann::json::array();
    for (size_t k = 0; k < t.sentences.size(); ++k) {
      const SentenceTranslation &s = t.sentences[k];
      const std::string_view text = s.span.of(source);
      const int64_t begin = code_points(std::string_view(source).substr(0, s.span.begin));
      const auto rank = static_cast<size_t>(t.hypotheses[0].sentence_ranks[k]);
      const TranslationHypothesis &part = s.hypotheses[rank];
      nlohmann::json entry{{"source", text},
                           {"span", {begin, begin + code_points(text)}},
                           {"translation", part.text},
                           {"score", score_json(part)},
                           {"tokens", part.tokens}};
      mark_problems(entry, part);
      add_word_scores(entry, part);
      if (n_best_ > 1) {
        auto n_best = nlohmann::json::array();
        for (const auto &h : s.hypotheses) {
          nlohmann::json item{
              {"translation", h.text}, {"score", score_json(h)}, {"tokens", h.tokens}};
          mark_problems(item, h);
          add_word_scores(item, h);
          n_best.push_back(std::move(item));
        }
        entry["n_best"] = std::move(n_best);
      }
      list.push_back(std::move(entry));
    }
    return list;
  }
};

} // namespace

std::unique_ptr<TranslationSink> make_translation_writer(OutputFormat format, std::ostream &out,
                                                         const std::string &name, int64_t n_best,
                                                         AlignmentText alignment,
                                                         PieceOf piece_of) {
  if (format == OutputFormat::jsonl)
    return std::make_unique<JsonLinesWriter>(out, name, n_best, std::move(alignment),
                                             std::move(piece_of));
  return std::make_unique<TextWriter>(out, name, n_best, std::move(alignment), std::move(piece_of));
}

void write_score(OutputFormat format, std::ostream &out, int64_t index, const std::string &source,
                 const std::string &target, const ScoredPair &scored) {
  // Without a score (ScoredPair::error), text says "nan" (never a sign-bit
  // "-nan") and JSON null with the error.
  if (format == OutputFormat::text) {
    out << (scored.error.empty() ? format_score(scored.score.total) : "nan") << '\n';
    return;
  }
  nlohmann::json j;
  j["index"] = index;
  j["source"] = source;
  j["target"] = target;
  j["tokens"] = scored.target_ids;
  if (scored.error.empty()) {
    j["score"] = scored.score.total;
    j["token_scores"] = scored.score.token_log_probs;
  } else {
    j["score"] = nullptr;
    j["token_scores"] = nullptr;
    j["error"] = scored.error;
  }
  out << json_dump(j) << '\n';
}

} // namespace heed
