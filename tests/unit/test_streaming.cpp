// Corpus processing as users run it: exact line accounting on hostile input,
// token batching, crash-safe resume, sharding, progress only on terminals,
// answers as soon as a line arrives through a pipe.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "heed/decoding/batching.h"
#include "heed/io/line_reader.h"
#include "heed/io/output_resume.h"
#include "heed/io/shards.h"
#include "heed/text/input_line.h"
#include "test_support.h"

using namespace heed;
using test::make_corpus;
using test::read_file;
using test::run_heed;
using test::split_lines;
namespace fs = std::filesystem;

namespace {

const std::string kModel = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";

// Lines that break naive readers, then `count` ordinary sentences, written to
// `path`; returns the number of inputs.
int write_hostile_corpus(const fs::path &path, int count, unsigned seed) {
  std::string corpus;
  corpus += "\n";                                        // empty
  corpus += "   \t  \n";                                 // whitespace only
  corpus += "Two dogs play in the snow.\r\n";            // CRLF
  corpus += "bad \xff\xfe utf8 \xc3\x28 here\n";         // invalid UTF-8
  corpus += std::string("nul \0 inside the line\n", 22); // NUL byte
  // A line over the reader's 1 MiB limit, cropped in bytes: spaces, so that
  // what remains is cheap to translate (a 1 MiB line of words is ~8000 model
  // inputs, translated in parts: see test_split_sentences*.cpp).
  corpus += "A dog runs." + std::string(1 << 20, ' ') + " long\n";
  // A line longer than the model's 128 positions: translated in parts, at
  // sentence boundaries, on one output line.
  for (int i = 0; i < 30; ++i)
    corpus += "The cat sat on the mat number " + std::to_string(i) + ". ";
  corpus += "\n";
  corpus += make_corpus(count, seed);
  corpus += "last line without newline";
  std::ofstream(path, std::ios::binary) << corpus;
  return count + 8;
}

// The corpus translated in batches (the default): the reference the other
// ways of batching are compared with.
std::vector<std::string> translate_batched(const fs::path &path, int inputs) {
  const auto batched =
      run_heed("translate " + kModel + " --beam-size 2 -q -i '" + path.string() + "'");
  REQUIRE(batched.exit_code == 0);
  const auto out = split_lines(batched.out);
  REQUIRE(out.size() == static_cast<size_t>(inputs));
  return out;
}

// A hostile corpus of 500 sentences translated one at a time (batch size 1,
// window 1) gives the lines of the batched run.
void check_one_by_one(const std::string &name, unsigned seed) {
  const fs::path path = test::temp_dir() / name;
  const int inputs = write_hostile_corpus(path, 500, seed);
  const auto out = translate_batched(path, inputs);
  const auto single =
      run_heed("translate " + kModel + " --beam-size 2 --batch-size 1 --window 1 -q -i '" +
               path.string() + "'");
  REQUIRE(single.exit_code == 0);
  CHECK(split_lines(single.out) == out);
}

} // namespace

// The hostile corpus is checked in independent parts so that ctest runs them
// in parallel: warnings and line accounting, then the same lines from other
// batchings (one by one in two halves, token batches).

TEST_CASE("hostile corpus: one output line per input line, warnings naming the lines",
          "[streaming]") {
  const fs::path path = test::temp_dir() / "hostile.txt";
  const int inputs = write_hostile_corpus(path, 1000, 7);
  const fs::path out_path = test::temp_dir() / "hostile.out";
  const auto batched = run_heed("translate " + kModel + " --beam-size 2 -i '" + path.string() +
                                "' -o '" + out_path.string() + "'");
  REQUIRE(batched.exit_code == 0);
  const auto out = split_lines(read_file(out_path));
  REQUIRE(out.size() == static_cast<size_t>(inputs));
  CHECK(out[0].empty());
  CHECK(out[1].empty());
  CHECK(batched.err.find("line 4: 3 invalid UTF-8 byte(s) replaced by U+FFFD") !=
        std::string::npos);
  CHECK(batched.err.find("line 5: 1 NUL byte(s) replaced") != std::string::npos);
  CHECK(batched.err.find("line 6: longer than 1048576 bytes; cropped") != std::string::npos);
  CHECK(batched.err.find("line 7: ") != std::string::npos);
  CHECK(batched.err.find("more than the model's maximum of 128; translated as 30 parts split at "
                         "sentence boundaries") != std::string::npos);
  CHECK(!out[6].empty());

  // --strict refuses the invalid line, naming it.
  const auto strict = run_heed("translate " + kModel + " --strict -q -i '" + path.string() + "'");
  CHECK(strict.exit_code == 4);
  CHECK(strict.err == "heed: error: line 4: invalid UTF-8 or NUL byte (strict)\n");
}

TEST_CASE("hostile corpus: one by one gives the batched lines (first half)", "[streaming]") {
  check_one_by_one("hostile-a.txt", 7);
}

TEST_CASE("hostile corpus: one by one gives the batched lines (second half)", "[streaming]") {
  check_one_by_one("hostile-b.txt", 8);
}

TEST_CASE("hostile corpus: token batches give the batched lines", "[streaming]") {
  const fs::path path = test::temp_dir() / "hostile-tokens.txt";
  const int inputs = write_hostile_corpus(path, 1000, 7);
  const auto out = translate_batched(path, inputs);
  const auto tokens =
      run_heed("translate " + kModel +
               " --beam-size 2 --batch-type tokens --batch-size 300 -q -i '" + path.string() + "'");
  REQUIRE(tokens.exit_code == 0);
  CHECK(split_lines(tokens.out) == out);
}

TEST_CASE("token batches never exceed the budget and a long sentence stands alone", "[streaming]") {
  const std::vector<int64_t> lengths = {5, 0, 40, 7, 7, 3, 12, 100, 9};
  const auto batches = make_batches(lengths, BatchType::tokens, 30);
  size_t total = 0;
  for (const auto &b : batches) {
    int64_t longest = 0;
    for (size_t i : b)
      longest = std::max(longest, lengths[i]);
    if (b.size() > 1)
      CHECK(static_cast<int64_t>(b.size()) * longest <= 30);
    total += b.size();
  }
  CHECK(total == lengths.size() - 1); // the empty sentence is not batched
  CHECK(batches[0] == std::vector<size_t>{7});
  CHECK(batches[1] == std::vector<size_t>{2});
  const auto by_count = make_batches(lengths, BatchType::sentences, 3);
  CHECK(by_count.size() == 3);
}

TEST_CASE("line repair: CRLF, invalid UTF-8, NUL", "[streaming]") {
  std::string s = "abc\r";
  CHECK(!repair_line(s).any());
  CHECK(s == "abc");
  s = std::string("a\0b", 3);
  CHECK(repair_line(s).nul_bytes == 1);
  CHECK(s == "a\xEF\xBF\xBD"
             "b");
  s = "\xe2\x82\xac ok \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf";
  const auto r = repair_line(s);
  CHECK(r.invalid_sequences == 9); // surrogate (3), > U+10FFFF (4), overlong (2)
  CHECK(is_valid_utf8(s));
  CHECK(s.rfind("\xe2\x82\xac ok ", 0) == 0);
}

namespace {

// Kills a run twice at random moments (each resuming the last), then
// lets one finish: the output must be byte-identical to an uninterrupted run.
// Split in two independent cases (different corpora and kill times) so that
// ctest runs them in parallel.
void check_resume_after_kills(const std::string &name, unsigned seed) {
  const fs::path dir = test::temp_dir() / name;
  fs::create_directories(dir);
  std::ofstream(dir / "corpus.txt") << make_corpus(1500, seed);
  const std::string args = "translate " + kModel +
                           " --beam-size 2 --format jsonl -q --window 64 "
                           "-i '" +
                           (dir / "corpus.txt").string() + "' -o ";
  REQUIRE(run_heed(args + "'" + (dir / "full.jsonl").string() + "'").exit_code == 0);
  const std::string full = read_file(dir / "full.jsonl");

  const fs::path partial = dir / "partial.jsonl";
  fs::remove(partial);
  std::mt19937 gen(seed);
  for (int kill_round = 0; kill_round < 2; ++kill_round) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string command = std::string("exec '") + HEED_BINARY + "' " + args + "'" +
                                  partial.string() + "' --resume 2>/dev/null";
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + gen() % 400));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  const auto finished = run_heed(args + "'" + partial.string() + "' --resume");
  REQUIRE(finished.exit_code == 0);
  CHECK(read_file(partial) == full);
}

} // namespace

TEST_CASE("resume after SIGKILL gives a byte-identical output (corpus A)", "[streaming]") {
  check_resume_after_kills("resume-a", 11);
}

TEST_CASE("resume after SIGKILL gives a byte-identical output (corpus B)", "[streaming]") {
  check_resume_after_kills("resume-b", 3);
}

TEST_CASE("truncate_to_complete_outputs cuts a partial last line", "[streaming]") {
  const fs::path path = test::temp_dir() / "resume.txt";
  std::ofstream(path, std::ios::trunc) << "a\nb\nc\npartial";
  CHECK(io::truncate_to_complete_outputs(path.string(), 1) == 3);
  CHECK(read_file(path) == "a\nb\nc\n");
  CHECK(io::truncate_to_complete_outputs(path.string(), 2) == 1);
  CHECK(read_file(path) == "a\nb\n");
  CHECK(io::truncate_to_complete_outputs((test::temp_dir() / "absent").string(), 1) == 0);
}

TEST_CASE("shards merged equal the single run", "[streaming]") {
  const fs::path dir = test::temp_dir();
  std::ofstream(dir / "corpus.txt") << "\n" << make_corpus(301, 5);
  const auto single =
      run_heed("translate " + kModel + " -q -i '" + (dir / "corpus.txt").string() + "'");
  REQUIRE(single.exit_code == 0);
  std::string parts;
  for (int k = 0; k < 4; ++k) {
    const fs::path part = dir / ("part" + std::to_string(k));
    const auto r = run_heed("translate " + kModel + " -q --shard " + std::to_string(k) + "/4 -o '" +
                                part.string() + "'",
                            read_file(dir / "corpus.txt"));
    REQUIRE(r.exit_code == 0);
    parts += " '" + part.string() + "'";
  }
  const auto merged = run_heed("merge-shards" + parts);
  REQUIRE(merged.exit_code == 0);
  CHECK(merged.out == single.out);

  CHECK(run_heed("translate " + kModel + " --shard 9/8 'x'").exit_code == 2);
  const auto wrong_order = run_heed("merge-shards '" + (dir / "part3").string() + "' '" +
                                    (dir / "part0").string() + "'");
  CHECK(wrong_order.exit_code == 4);
}

TEST_CASE("GNU parallel recipe from the README", "[streaming]") {
  // Never skipped: parallel is a test dependency that scripts/install-packages
  // installs, and a skip would hide a gap in that list.
  INFO("GNU parallel not found: scripts/install-packages installs it (Debian package parallel)");
  REQUIRE(std::system("command -v parallel > /dev/null 2>&1") == 0);
  const fs::path dir = test::temp_dir();
  std::ofstream(dir / "corpus.en") << make_corpus(200, 9);
  const std::string heed = HEED_BINARY;
  const std::string model = std::string(HEED_TEST_DATA) + "/tiny-joint";
  const std::string recipe =
      "cd '" + dir.string() + "' && seq 0 3 | parallel -j 2 \"'" + heed + "' translate -m '" +
      model + "' -q --shard {}/4 < corpus.en > part{}.de\" && '" + heed +
      "' merge-shards part0.de part1.de part2.de part3.de > corpus.de && '" + heed +
      "' translate -m '" + model + "' -q < corpus.en > single.de && cmp corpus.de single.de";
  CHECK(std::system(recipe.c_str()) == 0);
}

TEST_CASE("progress bar on a terminal, none in a pipe, summary unless quiet", "[streaming]") {
  const fs::path dir = test::temp_dir();
  std::ofstream(dir / "corpus.txt") << make_corpus(50, 3);
  const std::string input = "-i '" + (dir / "corpus.txt").string() + "'";
  const auto piped = run_heed("translate " + kModel + " " + input);
  REQUIRE(piped.exit_code == 0);
  CHECK(piped.err.find("lines/s") != std::string::npos); // the summary line
  CHECK(piped.err.find('\r') == std::string::npos);      // no bar
  CHECK(run_heed("translate " + kModel + " -q " + input).err.empty());
  CHECK(run_heed("translate " + kModel + " --progress " + input).err.find("50/50 lines") !=
        std::string::npos);

  // `script` (util-linux's, in the essential package bsdutils) runs heed on a
  // pseudo-terminal: the bar appears.
  INFO("script not found: Debian's essential package bsdutils has it");
  REQUIRE(std::system("command -v script > /dev/null 2>&1") == 0);
  const fs::path log = dir / "tty.log";
  const std::string command = "script -qec \"'" + std::string(HEED_BINARY) + "' translate " +
                              kModel + " " + input + " -o /dev/null\" '" + log.string() +
                              "' > /dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  const std::string screen = read_file(log);
  CHECK(screen.find("50/50 lines") != std::string::npos);
  CHECK(screen.find("[##############################]") != std::string::npos);
}

TEST_CASE("a line fed through a pipe is answered before the next arrives", "[streaming]") {
  int to_heed[2], from_heed[2];
  REQUIRE(pipe(to_heed) == 0);
  REQUIRE(pipe(from_heed) == 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(to_heed[0], 0);
    dup2(from_heed[1], 1);
    close(to_heed[1]);
    close(from_heed[0]);
    execl(HEED_BINARY, "heed", "translate", "-m",
          (std::string(HEED_TEST_DATA) + "/tiny-joint").c_str(), "-q",
          static_cast<char *>(nullptr));
    _exit(127);
  }
  close(to_heed[0]);
  close(from_heed[1]);
  auto read_line_with_timeout = [&](int seconds) {
    std::string line;
    char c;
    pollfd p{from_heed[0], POLLIN, 0};
    while (poll(&p, 1, seconds * 1000) > 0 && read(from_heed[0], &c, 1) == 1) {
      if (c == '\n')
        return line + "\n";
      line += c;
    }
    return line;
  };
  for (int i = 0; i < 3; ++i) {
    const std::string sentence = "Two dogs play in the snow number " + std::to_string(i) + ".\n";
    REQUIRE(write(to_heed[1], sentence.data(), sentence.size()) ==
            static_cast<ssize_t>(sentence.size()));
    const std::string answer = read_line_with_timeout(30);
    CHECK(!answer.empty());
    CHECK(answer.back() == '\n');
  }
  close(to_heed[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  close(from_heed[0]);
}

TEST_CASE("memory stays flat from 100k to 1M input lines", "[streaming]") {
  // Mostly blank lines (which skip the model) with a real sentence every 1000:
  // the reading, windowing and writing machinery sees every line.
  const fs::path dir = test::temp_dir();
  auto write_corpus = [&](const fs::path &path, int lines) {
    std::ofstream out(path);
    for (int i = 0; i < lines; ++i)
      out << (i % 1000 == 0 ? "Two dogs play in the snow." : "") << '\n';
  };
  auto peak_mb = [&](const fs::path &path) {
    const auto r =
        run_heed("translate " + kModel + " --beam-size 1 -i '" + path.string() + "' -o /dev/null");
    REQUIRE(r.exit_code == 0);
    const auto pos = r.err.find("peak RSS ");
    REQUIRE(pos != std::string::npos);
    return std::stod(r.err.substr(pos + 9));
  };
  write_corpus(dir / "100k.txt", 100'000);
  write_corpus(dir / "1m.txt", 1'000'000);
  const double small = peak_mb(dir / "100k.txt");
  const double large = peak_mb(dir / "1m.txt");
  INFO("peak RSS: 100k lines " << small << " MB, 1M lines " << large << " MB");
  if (!test::kAddressSanitizer)
    CHECK(large < small + 8);
}
