// LineReader over a pipe (or, for inputs larger than a pipe holds, a memory
// file): the lines it returns must be exactly the input split at "\n", with
// every line longer than the maximum cropped at a character boundary and
// flagged, still one line each; bytes_read() must account for every byte.
//
// Input: byte 0 picks the maximum line length (small values exercise the
// cropping), byte 1 says before which lines to call ready(), the rest is the
// text.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "heed/io/line_reader.h"
#include "heed/io/printable.h"

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, newline - start));
    start = newline + 1;
  }
  return lines;
}

// A descriptor from which `text` can be read to its end.
int input_fd(std::string_view text) {
  int fds[2];
  if (text.size() <= 60'000 && ::pipe(fds) == 0) {
    FUZZ_CHECK(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    return fds[0];
  }
  const int fd = ::memfd_create("fuzz-input", 0);
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  FUZZ_CHECK(::lseek(fd, 0, SEEK_SET) == 0);
  return fd;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  const size_t max_line = data[0] < 128 ? 1 + data[0] : size_t{1} << (8 + data[0] % 16);
  const uint8_t ready_pattern = data[1];
  const std::string_view text(reinterpret_cast<const char *>(data + 2), size - 2);
  const auto expected = split_lines(text);

  const int fd = input_fd(text);
  heed::io::LineReader reader(fd, "fuzz input", max_line);
  std::string line;
  size_t count = 0;
  for (;; ++count) {
    if ((ready_pattern >> (count % 8)) & 1)
      FUZZ_CHECK(reader.ready()); // all input is there: nothing to wait for
    if (!reader.next(line))
      break;
    FUZZ_CHECK(count < expected.size());
    const std::string_view want = expected[count];
    if (want.size() > max_line) {
      FUZZ_CHECK(reader.cropped());
      FUZZ_CHECK(line.size() == heed::io::utf8_prefix_length(want, max_line));
      FUZZ_CHECK(want.substr(0, line.size()) == line);
    } else {
      FUZZ_CHECK(!reader.cropped());
      FUZZ_CHECK(line == want);
    }
  }
  FUZZ_CHECK(count == expected.size());
  FUZZ_CHECK(reader.bytes_read() == static_cast<int64_t>(text.size()));
  FUZZ_CHECK(!reader.next(line)); // stays at the end
  ::close(fd);
  return 0;
}
