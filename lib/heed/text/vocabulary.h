// A Marian vocabulary (vocab.json): SentencePiece piece <-> model token id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace heed {

class Vocabulary {
public:
  // Reads a JSON object {piece: id}; ids must be distinct non-negative integers
  // below `max_size` (the embedding rows). Throws ModelError naming the file.
  static Vocabulary load(const std::string &path, int64_t max_size);
  // The same from parsed JSON; `path` names the file in errors.
  static Vocabulary from_json(const nlohmann::json &json, const std::string &path,
                              int64_t max_size);

  // {piece: id} in id order, as vocab.json holds it.
  nlohmann::ordered_json to_json() const;

  // One past the largest id.
  int64_t size() const { return static_cast<int64_t>(pieces_.size()); }
  int64_t entries() const { return static_cast<int64_t>(ids_.size()); }
  std::optional<int64_t> find(std::string_view piece) const;
  // Id of `piece` or of <unk> when the piece is unknown.
  int64_t id_or_unk(std::string_view piece) const;
  // Piece of `id` (empty for an id without a piece).
  const std::string &piece(int64_t id) const;
  const std::string &path() const { return path_; }

  int64_t unk_id() const { return unk_id_; }

  // Checks that a special piece exists and has the id config.json gives it.
  void require(std::string_view piece, int64_t expected_id, const std::string &field) const;

private:
  std::string path_;
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<std::string> pieces_;
  int64_t unk_id_ = 1;
};

} // namespace heed
