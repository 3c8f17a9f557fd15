// A Marian vocabulary (vocab.json, or a native Marian model's *.vocab.yml):
// SentencePiece piece <-> model token id.
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

  // A native Marian vocabulary (*.vocab.yml, as marian-vocab or PyYAML write
  // it): one YAML mapping of `piece: id`, read with the semantics of PyYAML's
  // BaseLoader that transformers' convert_marian_to_pytorch.py uses (load_yaml,
  // then int(id)): keys are strings after YAML unquoting and unescaping, plain
  // keys are never resolved to other types (yes, 1, ~ and null are the pieces
  // they spell), ids are decimal integers (plain or quoted). The file is at
  // most io::kMaxVocabularyFileBytes. ModelError naming the file (and line)
  // for: a YAML syntax error, anything but one flat mapping (nested
  // collections, sequences, several documents; yaml-cpp stops nesting deeper
  // than its depth guard), an alias or explicit tag, a piece given twice, a
  // non-integer id, and what load() refuses (duplicate ids, ids of max_size or
  // more, no <unk>). Aliases are refused, so no expansion happens.
  static Vocabulary load_yaml(const std::string &path, int64_t max_size);
  // The same from the file's text; `path` names the file in errors.
  static Vocabulary from_yaml(std::string_view text, const std::string &path, int64_t max_size);

  // Adds `piece` with the id one past the largest (size()), as the converter's
  // add_to_vocab_ does for <pad>; returns the id. ModelError naming the file
  // when the piece is already present or the id would be max_size or more.
  int64_t append(const std::string &piece, int64_t max_size);

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
