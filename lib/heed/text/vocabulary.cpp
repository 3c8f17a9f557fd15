#include "heed/text/vocabulary.h"

#include <sstream>
#include <unordered_set>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/io/printable.h"
#include "heed/io/regular_file.h"

namespace heed {
namespace {

// Reads the events of a vocab.yml: one document holding one flat mapping of
// scalar keys to scalar ids. Anything else throws at its first event, before
// yaml-cpp parses what lies inside it.
class VocabularyEvents : public YAML::EventHandler {
public:
  VocabularyEvents(std::string_view text, const std::string &path) : text_(text), path_(path) {}

  nlohmann::json entries = nlohmann::json::object();
  bool saw_map = false;

  void OnDocumentStart(const YAML::Mark &mark) override {
    if (documents_++ > 0)
      fail(mark, "holds more than one YAML document");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark &mark, YAML::anchor_t) override {
    if (!in_map_)
      fail(mark, "expected a mapping of pieces to ids");
    if (key_) // an empty id
      fail(mark, "piece \"" + io::printable(*key_) + "\" has no id");
    // A plain key that YAML would resolve to null: BaseLoader keeps its text.
    const std::string_view rest = text_.substr(std::min<size_t>(mark.pos, text_.size()));
    for (std::string_view spelling : {"~", "null", "Null", "NULL"})
      if (rest.substr(0, spelling.size()) == spelling) {
        key_ = std::string(spelling);
        return;
      }
    fail(mark, "has an empty piece");
  }
  void OnAlias(const YAML::Mark &mark, YAML::anchor_t) override {
    fail(mark, "uses a YAML alias (a vocabulary maps pieces to ids, nothing more)");
  }
  void OnScalar(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t,
                const std::string &value) override {
    if (!in_map_)
      fail(mark, "expected a mapping of pieces to ids");
    // "?": plain, "!": quoted or block scalar; anything else is an explicit tag.
    if (tag != "?" && tag != "!")
      fail(mark, "has an explicit YAML tag '" + io::printable(tag) + "'");
    if (!key_) {
      key_ = value;
      return;
    }
    add(mark, *key_, value);
    key_.reset();
  }
  void OnSequenceStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    fail(mark, "holds a sequence (expected a flat mapping of pieces to ids)");
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    if (saw_map)
      fail(mark, "holds a nested mapping (expected a flat mapping of pieces to ids)");
    saw_map = in_map_ = true;
  }
  void OnMapEnd() override { in_map_ = false; }

private:
  [[noreturn]] void fail(const YAML::Mark &mark, const std::string &problem) const {
    throw ModelError(path_ + ":" + std::to_string(mark.line + 1) + ": " + problem);
  }
  void add(const YAML::Mark &mark, const std::string &piece, const std::string &id) {
    // int(id) as the converter does, for the ids real files hold: decimal
    // digits, optionally signed (a negative id is refused as such later).
    size_t i = (!id.empty() && (id[0] == '+' || id[0] == '-')) ? 1 : 0;
    bool digits = i < id.size() && id.size() - i <= 18;
    for (size_t j = i; j < id.size() && digits; ++j)
      digits = id[j] >= '0' && id[j] <= '9';
    if (!digits)
      fail(mark, "piece \"" + io::printable(piece) + "\" has id \"" + io::printable(id) +
                     "\", not an integer");
    int64_t value = std::stoll(id.substr(i));
    if (id[0] == '-')
      value = -value;
    if (entries.contains(piece))
      fail(mark, "piece \"" + io::printable(piece) + "\" appears twice");
    entries[piece] = value;
  }

  std::string_view text_;
  const std::string &path_;
  bool in_map_ = false;
  int documents_ = 0;
  std::optional<std::string> key_;
};

} // namespace

nlohmann::ordered_json Vocabulary::to_json() const {
  nlohmann::ordered_json ordered = nlohmann::ordered_json::object();
  for (int64_t id = 0; id < size(); ++id)
    if (!pieces_[static_cast<size_t>(id)].empty())
      ordered[pieces_[static_cast<size_t>(id)]] = id;
  return ordered;
}

Vocabulary Vocabulary::load(const std::string &path, int64_t max_size) {
  return from_json(io::read_json_file(path, io::kMaxVocabularyFileBytes), path, max_size);
}

Vocabulary Vocabulary::load_yaml(const std::string &path, int64_t max_size) {
  return from_yaml(io::read_regular_file(path, io::kMaxVocabularyFileBytes), path, max_size);
}

Vocabulary Vocabulary::from_yaml(std::string_view text, const std::string &path, int64_t max_size) {
  VocabularyEvents events(text, path);
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(events)) {
    }
  } catch (const YAML::Exception &e) {
    throw ModelError(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML (" +
                     io::printable(e.msg) + ")");
  }
  if (!events.saw_map)
    throw ModelError(path + ": expected a YAML mapping of pieces to ids");
  return from_json(events.entries, path, max_size);
}

int64_t Vocabulary::append(const std::string &piece, int64_t max_size) {
  if (ids_.count(piece))
    throw ModelError(path_ + ": already has a \"" + io::printable(piece) + "\" piece");
  const int64_t id = size();
  if (id >= max_size)
    throw ModelError(path_ + ": \"" + io::printable(piece) + "\" would get id " +
                     std::to_string(id) + ", outside the model's embedding of " +
                     std::to_string(max_size) + " rows");
  ids_.emplace(piece, id);
  pieces_.push_back(piece);
  return id;
}

Vocabulary Vocabulary::from_json(const nlohmann::json &json, const std::string &path,
                                 int64_t max_size) {
  if (!json.is_object())
    throw ModelError(path + ": expected a JSON object mapping pieces to ids");
  Vocabulary v;
  v.path_ = path;
  int64_t largest = -1;
  for (auto &[piece, id] : json.items()) {
    // An unsigned value past INT64_MAX reads as negative: refused here too.
    if (!id.is_number_integer() || id.get<int64_t>() < 0)
      throw ModelError(path + ": piece \"" + io::printable(piece) + "\" has id " + io::brief(id) +
                       ", not a non-negative integer");
    const int64_t value = id.get<int64_t>();
    if (value >= max_size)
      throw ModelError(path + ": piece \"" + io::printable(piece) + "\" has id " +
                       std::to_string(value) + ", outside the model's embedding of " +
                       std::to_string(max_size) + " rows (config.json)");
    largest = std::max(largest, value);
    v.ids_.emplace(piece, value);
  }
  v.pieces_.assign(static_cast<size_t>(largest + 1), std::string());
  // Tracked apart from the pieces: the empty string is a valid (if odd) piece.
  std::vector<bool> taken(v.pieces_.size(), false);
  for (auto &[piece, id] : v.ids_) {
    if (taken[id])
      throw ModelError(path + ": id " + std::to_string(id) + " is given to both \"" +
                       io::printable(v.pieces_[id]) + "\" and \"" + io::printable(piece) + "\"");
    taken[id] = true;
    v.pieces_[id] = piece;
  }
  auto unk = v.find("<unk>");
  if (!unk)
    throw ModelError(path + ": has no \"<unk>\" piece");
  v.unk_id_ = *unk;
  return v;
}

std::optional<int64_t> Vocabulary::find(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  if (it == ids_.end())
    return std::nullopt;
  return it->second;
}

int64_t Vocabulary::id_or_unk(std::string_view piece) const {
  return find(piece).value_or(unk_id_);
}

const std::string &Vocabulary::piece(int64_t id) const {
  static const std::string none;
  if (id < 0 || id >= size())
    return none;
  return pieces_[id];
}

void Vocabulary::require(std::string_view piece, int64_t expected_id,
                         const std::string &field) const {
  auto id = find(piece);
  if (!id)
    throw ModelError(path_ + ": has no \"" + std::string(piece) + "\" piece (" + field + " is " +
                     std::to_string(expected_id) + " in config.json)");
  if (*id != expected_id)
    throw ModelError(path_ + ": \"" + std::string(piece) + "\" has id " + std::to_string(*id) +
                     " but config.json gives " + field + " = " + std::to_string(expected_id));
}

} // namespace heed
