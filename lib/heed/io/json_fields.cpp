#include "heed/io/json_fields.h"

#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io {

nlohmann::json read_json_file(const std::string &path, uint64_t max_bytes) {
  return parse_json(read_regular_file(path, max_bytes), path);
}

nlohmann::json parse_json(std::string_view text, const std::string &path) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw ModelError(path + ": not valid JSON: " + e.what());
  }
}

namespace {

constexpr size_t kBriefBytes = 80;

void render(const nlohmann::json &value, int depth, std::string &out) {
  if (!value.is_structured()) {
    out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  const bool array = value.is_array();
  if (depth == 0) {
    out += array ? "[...]" : "{...}";
    return;
  }
  out += array ? '[' : '{';
  bool first = true;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (out.size() > kBriefBytes) {
      out += ", ...";
      break;
    }
    if (!first)
      out += ", ";
    first = false;
    if (!array)
      out +=
          nlohmann::json(it.key()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
          ": ";
    render(*it, depth - 1, out);
  }
  out += array ? ']' : '}';
}

} // namespace

std::string brief(const nlohmann::json &value) {
  std::string out;
  render(value, 3, out);
  return printable(out, kBriefBytes);
}

JsonFields::JsonFields(const nlohmann::json &object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object())
    throw ModelError(path_ + ": expected a JSON object at the top level");
}

void JsonFields::fail(const std::string &key, const std::string &what) const {
  throw ModelError(path_ + ": field '" + key + "' " + what);
}

bool JsonFields::has(const std::string &key) const {
  return object_.contains(key) && !object_.at(key).is_null();
}

const nlohmann::json &JsonFields::raw(const std::string &key) const { return object_.at(key); }

std::optional<int64_t> JsonFields::optional_integer(const std::string &key, int64_t min,
                                                    int64_t max) const {
  if (!has(key))
    return std::nullopt;
  const auto &v = object_.at(key);
  if (!v.is_number_integer())
    fail(key, "must be an integer, got " + brief(v));
  int64_t value = v.get<int64_t>();
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    fail(key, "is out of range: " + brief(v));
  if (value < min || value > max)
    fail(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                  std::to_string(value));
  return value;
}

int64_t JsonFields::integer(const std::string &key, int64_t fallback, int64_t min,
                            int64_t max) const {
  return optional_integer(key, min, max).value_or(fallback);
}

double JsonFields::number(const std::string &key, double fallback) const {
  if (!has(key))
    return fallback;
  const auto &v = object_.at(key);
  if (!v.is_number())
    fail(key, "must be a number, got " + brief(v));
  return v.get<double>();
}

bool JsonFields::boolean(const std::string &key, bool fallback) const {
  if (!has(key))
    return fallback;
  const auto &v = object_.at(key);
  if (!v.is_boolean())
    fail(key, "must be true or false, got " + brief(v));
  return v.get<bool>();
}

std::string JsonFields::string(const std::string &key, const std::string &fallback) const {
  if (!has(key))
    return fallback;
  const auto &v = object_.at(key);
  if (!v.is_string())
    fail(key, "must be a string, got " + brief(v));
  return v.get<std::string>();
}

std::vector<std::vector<int64_t>> JsonFields::integer_lists(const std::string &key) const {
  std::vector<std::vector<int64_t>> out;
  if (!has(key))
    return out;
  const auto &v = object_.at(key);
  if (!v.is_array())
    fail(key, "must be a list of lists of token ids, got " + brief(v));
  for (const auto &inner : v) {
    if (!inner.is_array())
      fail(key, "must be a list of lists of token ids, got " + brief(v));
    std::vector<int64_t> ids;
    for (const auto &id : inner) {
      if (!id.is_number_integer())
        fail(key, "must contain integer token ids, got " + brief(id));
      ids.push_back(id.get<int64_t>());
    }
    out.push_back(std::move(ids));
  }
  return out;
}

} // namespace heed::io
