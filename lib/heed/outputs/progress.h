// Progress on a terminal while a corpus is translated: a bar with lines done /
// total, sentences/s, target tokens/s and the time left, redrawn a few times a
// second on stderr; and a one-line summary at the end.
//
// The bar shares the terminal with whatever else is printed there: it is
// erased before a warning (erase()) and, when the translations go to the same
// terminal, before each window of them (before_output()), so that no line
// ever holds both; the next redraw puts it back below.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>

namespace heed {

struct ProgressOptions {
  bool bar = false;     // draw the bar
  bool summary = false; // print the summary line at finish()
  // The translations are written to the terminal the bar is drawn on.
  bool output_on_terminal = false;
  // Lines of the input (a regular file), else progress is estimated from its bytes.
  std::optional<int64_t> total_lines, total_bytes;
  // Outputs an earlier run left complete (resume): passed over, not translated.
  int64_t kept = 0;
};

class Progress {
public:
  Progress(std::ostream &err, ProgressOptions options);

  // Lines translated since the last call, their target tokens, and the input
  // position in bytes.
  void advance(int64_t lines, int64_t target_tokens, int64_t bytes_read);
  // Lines passed over untranslated (their outputs are kept from an earlier run).
  void skip(int64_t lines, int64_t bytes_read);
  // Erases the bar if the translations about to be written share its terminal.
  void before_output();
  // Erases the bar (before another line goes to stderr).
  void erase();
  // Leaves the final bar on its line and prints the summary: lines written by
  // this run (and those kept from an earlier one), target tokens, seconds,
  // throughput, peak RSS.
  void finish();
  // Erases the bar and prints no summary (the run stopped early).
  void abandon();

  double seconds() const;

private:
  void draw();

  std::ostream &err_;
  ProgressOptions options_;
  int64_t lines_ = 0;      // input position: lines translated or passed over
  int64_t translated_ = 0; // lines translated (the work the rates measure)
  int64_t tokens_ = 0, bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

// Formats seconds as H:MM:SS.
std::string format_duration(double seconds);

} // namespace heed
