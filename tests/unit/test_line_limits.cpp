// No input makes heed allocate without bound: a line longer than the reader's
// maximum is cropped with a warning naming it, and still gives exactly one
// output line.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>

#include "heed/io/line_reader.h"
#include "test_support.h"

using heed::io::LineReader;

namespace {

// Lines read from a pipe fed by a thread, with their cropped() flags.
std::vector<std::pair<std::string, bool>> read_through_pipe(const std::string &input,
                                                            size_t max_line) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::thread writer([&] {
    for (size_t done = 0; done < input.size();) {
      const ssize_t n =
          ::write(fds[1], input.data() + done, std::min<size_t>(4096, input.size() - done));
      if (n <= 0)
        break;
      done += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  LineReader reader(fds[0], "pipe", max_line);
  std::vector<std::pair<std::string, bool>> lines;
  std::string line;
  while (reader.next(line))
    lines.emplace_back(line, reader.cropped());
  writer.join();
  CHECK(reader.bytes_read() == static_cast<int64_t>(input.size()));
  ::close(fds[0]);
  return lines;
}

} // namespace

TEST_CASE("LineReader crops lines past its maximum and keeps counting lines", "[limits]") {
  const std::string long_line(100'000, 'x');
  const auto lines = read_through_pipe("short\n" + long_line + "\nafter\n" + long_line, 1000);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == std::pair<std::string, bool>{"short", false});
  CHECK(lines[1] == std::pair<std::string, bool>{std::string(1000, 'x'), true});
  CHECK(lines[2] == std::pair<std::string, bool>{"after", false});
  CHECK(lines[3] == std::pair<std::string, bool>{std::string(1000, 'x'), true});

  // A line of exactly the maximum is kept whole; a crop never splits a character.
  const auto exact = read_through_pipe(std::string(1000, 'y') + "\n", 1000);
  CHECK(exact.at(0) == std::pair<std::string, bool>{std::string(1000, 'y'), false});
  const auto utf8 = read_through_pipe("ab\xc3\xa9\xc3\xa9\n", 5); // "abéé": 6 bytes
  CHECK(utf8.at(0) == std::pair<std::string, bool>{"ab\xc3\xa9", true});
}

TEST_CASE("a line longer than the limit gives one cropped translation line", "[limits]") {
  const auto dir = heed::test::temp_dir();
  // Words, then spaces past the limit: the crop leaves a line cheap to
  // translate (1 MiB of words is thousands of model inputs).
  const std::string huge = "Two dogs play." + std::string(LineReader::kDefaultMaxLineBytes, ' ');
  std::ofstream(dir / "huge-line.txt", std::ios::binary) << "Hello\n" << huge << " dogs\nBye";
  const std::string model = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";
  const auto r =
      heed::test::run_heed("translate " + model + " -i '" + (dir / "huge-line.txt").string() + "'");
  REQUIRE(r.exit_code == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 3);
  CHECK_THAT(r.err, Catch::Contains("heed: warning: line 2: longer than " +
                                    std::to_string(LineReader::kDefaultMaxLineBytes) +
                                    " bytes; cropped\n"));
}
