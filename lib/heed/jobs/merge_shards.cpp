#include "heed/jobs/merge_shards.h"

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "heed/core/error.h"
#include "heed/io/os_error.h"
#include "heed/outputs/nbest_line.h"

namespace heed {
namespace {

enum class Format { unknown, plain, nbest, jsonl };

const char *format_name(Format f) {
  switch (f) {
  case Format::nbest:
    return "an n-best list";
  case Format::jsonl:
    return "JSON lines";
  default:
    return "plain text";
  }
}

// The "index" of a JSON-lines output line, or nothing.
std::optional<int64_t> json_index(const std::string &line) {
  if (line.empty() || line[0] != '{')
    return std::nullopt;
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("index") || !j["index"].is_number_integer())
    return std::nullopt;
  return j["index"].get<int64_t>();
}

Format detect(const std::string &line) {
  if (nbest_line_index(line))
    return Format::nbest;
  if (json_index(line))
    return Format::jsonl;
  return Format::plain;
}

// One shard's file, read a line ahead so that an input's group of n-best
// lines ends where the next index starts.
struct Shard {
  std::string path;
  std::ifstream in;
  std::string next; // the line read ahead
  bool has_next = false;
  int64_t line = 0; // 1-based number of `next`

  void advance() {
    has_next = static_cast<bool>(std::getline(in, next));
    if (has_next)
      ++line;
    else if (in.bad())
      throw IoError(io::os_error(path, "read error"));
  }
};

std::optional<int64_t> index_of(Format format, const std::string &line) {
  return format == Format::nbest ? nbest_line_index(line) : json_index(line);
}

} // namespace

int64_t merge_shards(const std::vector<std::string> &paths, std::ostream &out) {
  const int64_t n = static_cast<int64_t>(paths.size());
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<std::pair<dev_t, ino_t>> ids;
  Format format = Format::unknown;
  size_t format_from = 0;
  for (size_t k = 0; k < paths.size(); ++k) {
    auto s = std::make_unique<Shard>();
    s->path = paths[k];
    s->in.open(paths[k], std::ios::binary);
    if (!s->in)
      throw IoError(io::os_error(paths[k], "cannot open for reading"));
    struct stat st {};
    if (::stat(paths[k].c_str(), &st) == 0) {
      for (size_t j = 0; j < ids.size(); ++j)
        if (ids[j] == std::pair{st.st_dev, st.st_ino})
          throw IoError(paths[k] + ": given twice (as shard " + std::to_string(j) + " and " +
                        std::to_string(k) + ")");
      ids.emplace_back(st.st_dev, st.st_ino);
    }
    s->advance();
    if (s->has_next) {
      const Format f = detect(s->next);
      if (format == Format::unknown) {
        format = f;
        format_from = k;
      } else if (f != format) {
        throw IoError(paths[k] + " is " + format_name(f) + " but " + paths[format_from] + " is " +
                      format_name(format) + ": shard outputs of one run have one format");
      }
    }
    shards.push_back(std::move(s));
  }

  const bool indexed = format == Format::nbest || format == Format::jsonl;
  for (int64_t turn = 0;; ++turn) {
    const int64_t k = turn % n;
    Shard &s = *shards[k];
    if (!s.has_next) {
      // Shard k is exhausted: every other shard must be too (the earlier ones
      // gave this round's line, the later ones have none left).
      for (int64_t j = 0; j < n; ++j)
        if (j != k && shards[j]->has_next)
          throw IoError(shards[j]->path + ": has more lines than a shard of the same run can "
                                          "have (shard outputs out of order, or from different "
                                          "runs?)");
      return turn;
    }
    if (!indexed) {
      out << s.next << '\n';
      s.advance();
      continue;
    }
    // Input `turn` is the next input of shard `k`: every line of its group
    // carries that index.
    const auto index = index_of(format, s.next);
    if (!index)
      throw IoError(s.path + ": line " + std::to_string(s.line) + " is not " + format_name(format) +
                    " like the line before it");
    if (*index != turn) {
      std::string why;
      if (*index % n != k)
        why = "which shard " + std::to_string(*index % n) + " of " + std::to_string(n) +
              " holds: shard outputs given out of order or twice?";
      else
        why = "expected " + std::to_string(turn) +
              ": outputs of another run, or of another shard count?";
      throw IoError(s.path + ": line " + std::to_string(s.line) + " is input " +
                    std::to_string(*index) + " (given as shard " + std::to_string(k) + "), " + why);
    }
    do {
      out << s.next << '\n';
      s.advance();
    } while (format == Format::nbest && s.has_next && index_of(format, s.next) == index);
  }
}

} // namespace heed
