#include "heed/text/vocabulary.h"

#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/io/printable.h"

namespace heed {

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
