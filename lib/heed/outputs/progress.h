// Progress on a terminal while a corpus is translated: a bar with lines done /
// total, sentences/s, target tokens/s and the time left, redrawn a few times a
// second on stderr; and a one-line summary at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>

namespace heed {

class Progress {
public:
  // `bar`: draw the bar; `summary`: print the summary at finish(). `total_lines`
  // when known (a regular file), else progress is estimated from `total_bytes`.
  Progress(std::ostream &err, bool bar, bool summary, std::optional<int64_t> total_lines,
           std::optional<int64_t> total_bytes);

  // Work done since the last call; `bytes_read` is the input position.
  void advance(int64_t lines, int64_t target_tokens, int64_t bytes_read);
  // Clears the bar and prints the summary line.
  void finish();

  int64_t lines() const { return lines_; }
  int64_t target_tokens() const { return tokens_; }
  double seconds() const;

private:
  void draw();

  std::ostream &err_;
  bool bar_, summary_;
  std::optional<int64_t> total_lines_, total_bytes_;
  int64_t lines_ = 0, tokens_ = 0, bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

// Formats seconds as H:MM:SS.
std::string format_duration(double seconds);

} // namespace heed
