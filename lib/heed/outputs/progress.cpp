#include "heed/outputs/progress.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace heed {

namespace {
constexpr double kRedrawSeconds = 0.25;
constexpr int kBarWidth = 30;
} // namespace

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, std::round(seconds)));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buffer;
}

Progress::Progress(std::ostream &err, bool bar, bool summary, std::optional<int64_t> total_lines,
                   std::optional<int64_t> total_bytes)
    : err_(err), bar_(bar), summary_(summary), total_lines_(total_lines), total_bytes_(total_bytes),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(int64_t lines, int64_t target_tokens, int64_t bytes_read) {
  lines_ += lines;
  tokens_ += target_tokens;
  bytes_ = std::max(bytes_, bytes_read);
  if (!bar_)
    return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && std::chrono::duration<double>(now - last_draw_).count() < kRedrawSeconds)
    return;
  last_draw_ = now;
  draw();
}

void Progress::draw() {
  const double elapsed = std::max(seconds(), 1e-9);
  double fraction = -1;
  std::string counts = std::to_string(lines_);
  if (total_lines_ && *total_lines_ > 0) {
    fraction = std::min(1.0, static_cast<double>(lines_) / static_cast<double>(*total_lines_));
    counts += "/" + std::to_string(*total_lines_);
  } else if (total_bytes_ && *total_bytes_ > 0) {
    fraction = std::min(1.0, static_cast<double>(bytes_) / static_cast<double>(*total_bytes_));
    counts += "/~" + std::to_string(fraction > 0 ? static_cast<int64_t>(lines_ / fraction) : 0);
  }
  std::string bar;
  if (fraction >= 0) {
    const int filled = static_cast<int>(fraction * kBarWidth);
    bar = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
  }
  std::string eta;
  if (fraction > 0)
    eta = "  ETA " + format_duration(elapsed / fraction - elapsed);
  char rates[96];
  std::snprintf(rates, sizeof rates, "  %.1f sent/s  %.0f tok/s", lines_ / elapsed,
                tokens_ / elapsed);
  // \r returns to the line start; \033[K clears what a longer line left.
  err_ << '\r' << bar << counts << " lines" << rates << eta << "\033[K" << std::flush;
  drawn_ = true;
}

void Progress::finish() {
  if (bar_) {
    draw();
    err_ << '\n';
  }
  if (summary_) {
    const double elapsed = std::max(seconds(), 1e-9);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage); // ru_maxrss is in KiB on Linux
    char line[200];
    std::snprintf(line, sizeof line,
                  "heed: %lld lines, %lld target tokens in %.2f s (%.1f lines/s, %.0f tokens/s), "
                  "peak RSS %.0f MB\n",
                  static_cast<long long>(lines_), static_cast<long long>(tokens_), elapsed,
                  lines_ / elapsed, tokens_ / elapsed, usage.ru_maxrss / 1024.0);
    err_ << line << std::flush;
  }
}

} // namespace heed
