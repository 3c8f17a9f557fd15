// Typed access to fields of a JSON configuration file, with errors that name
// the file and the field.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heed/io/regular_file.h"

namespace heed::io {

// Reads and parses a JSON file of a model directory: a regular file of at most
// `max_bytes` (io/regular_file.h); ModelError naming the path on failure.
nlohmann::json read_json_file(const std::string &path, uint64_t max_bytes = kMaxConfigFileBytes);
// Parses JSON text that came from `path` (the name used in errors).
nlohmann::json parse_json(std::string_view text, const std::string &path);

// A short, one-line rendering of a JSON value for error messages. Deep or long
// values are cut: a hostile file must neither flood the message nor overflow
// the stack through the recursion of nlohmann's dump().
std::string brief(const nlohmann::json &value);

class JsonFields {
public:
  JsonFields(const nlohmann::json &object, std::string path);

  bool has(const std::string &key) const;
  // Integers: absent or null yields the fallback; a value outside [min, max] or
  // of another type is an error.
  int64_t integer(const std::string &key, int64_t fallback, int64_t min, int64_t max) const;
  std::optional<int64_t> optional_integer(const std::string &key, int64_t min, int64_t max) const;
  double number(const std::string &key, double fallback) const;
  bool boolean(const std::string &key, bool fallback) const;
  std::string string(const std::string &key, const std::string &fallback) const;
  // A list of lists of integers, such as bad_words_ids.
  std::vector<std::vector<int64_t>> integer_lists(const std::string &key) const;
  const nlohmann::json &raw(const std::string &key) const;

  [[noreturn]] void fail(const std::string &key, const std::string &what) const;
  const std::string &path() const { return path_; }

private:
  const nlohmann::json &object_;
  std::string path_;
};

} // namespace heed::io
