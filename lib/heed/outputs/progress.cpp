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
// Back to the start of the line, then clear to its end.
constexpr const char *kEraseLine = "\r\033[K";
} // namespace

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, std::round(seconds)));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buffer;
}

Progress::Progress(std::ostream &err, ProgressOptions options)
    : err_(err), options_(std::move(options)), start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(int64_t lines, int64_t target_tokens, int64_t bytes_read) {
  translated_ += lines;
  tokens_ += target_tokens;
  skip(lines, bytes_read);
}

void Progress::skip(int64_t lines, int64_t bytes_read) {
  lines_ += lines;
  bytes_ = std::max(bytes_, bytes_read);
  if (!options_.bar)
    return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && std::chrono::duration<double>(now - last_draw_).count() < kRedrawSeconds)
    return;
  last_draw_ = now;
  draw();
}

void Progress::before_output() {
  if (options_.output_on_terminal)
    erase();
}

void Progress::erase() {
  if (!drawn_)
    return;
  err_ << kEraseLine << std::flush;
  drawn_ = false; // the next advance() redraws at once
}

void Progress::draw() {
  const double elapsed = std::max(seconds(), 1e-9);
  double fraction = -1;
  std::string counts = std::to_string(lines_);
  if (options_.total_lines && *options_.total_lines > 0) {
    fraction =
        std::min(1.0, static_cast<double>(lines_) / static_cast<double>(*options_.total_lines));
    counts += "/" + std::to_string(*options_.total_lines);
  } else if (options_.total_bytes && *options_.total_bytes > 0) {
    fraction =
        std::min(1.0, static_cast<double>(bytes_) / static_cast<double>(*options_.total_bytes));
    counts += "/~" + std::to_string(fraction > 0 ? static_cast<int64_t>(lines_ / fraction) : 0);
  }
  std::string bar;
  if (fraction >= 0) {
    const int filled = static_cast<int>(fraction * kBarWidth);
    bar = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
  }
  // The time left, at the pace of the lines translated so far (lines passed
  // over on resume took no time).
  std::string eta;
  const int64_t to_do = options_.total_lines ? *options_.total_lines - lines_ : -1;
  if (fraction > 0 && translated_ > 0 && to_do >= 0)
    eta = "  ETA " +
          format_duration(elapsed / static_cast<double>(translated_) * static_cast<double>(to_do));
  else if (fraction > 0 && translated_ > 0)
    eta = "  ETA " + format_duration(elapsed / fraction - elapsed);
  char rates[96];
  std::snprintf(rates, sizeof rates, "  %.1f sent/s  %.0f tok/s", translated_ / elapsed,
                tokens_ / elapsed);
  // \r returns to the line start; \033[K clears what a longer line left.
  err_ << '\r' << bar << counts << " lines" << rates << eta << "\033[K" << std::flush;
  drawn_ = true;
}

void Progress::finish() {
  if (options_.bar) {
    draw();
    err_ << '\n';
    drawn_ = false;
  }
  if (options_.summary) {
    const double elapsed = std::max(seconds(), 1e-9);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage); // ru_maxrss is in KiB on Linux; MB are 10^6 bytes
    const int64_t written = lines_ - options_.kept;
    const std::string kept = options_.kept > 0 ? " translated (" + std::to_string(options_.kept) +
                                                     " complete ones kept from the earlier run)"
                                               : "";
    char line[300];
    std::snprintf(line, sizeof line,
                  "heed: %lld lines%s, %lld target tokens in %.2f s (%.1f lines/s, %.0f "
                  "tokens/s), peak RSS %.0f MB\n",
                  static_cast<long long>(written), kept.c_str(), static_cast<long long>(tokens_),
                  elapsed, written / elapsed, tokens_ / elapsed, usage.ru_maxrss * 1024.0 / 1e6);
    err_ << line << std::flush;
  }
}

void Progress::abandon() { erase(); }

} // namespace heed
