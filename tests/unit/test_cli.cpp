// The heed command line as a user runs it: outputs, line accounting, exit codes
// and one-line errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_support.h"

using heed::test::run_heed;

namespace {

const std::string kModel = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";

int count_lines(const std::string &s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

} // namespace

TEST_CASE("translate: arguments, stdin and files give the same translations", "[cli]") {
  const auto args = run_heed("translate " + kModel + " 'Two dogs play in the snow.' 'Hello'");
  REQUIRE(args.exit_code == 0);
  REQUIRE(count_lines(args.out) == 2);

  const auto piped = run_heed("translate " + kModel, "Two dogs play in the snow.\r\n\nHello\n");
  REQUIRE(piped.exit_code == 0);
  REQUIRE(count_lines(piped.out) == 3); // the empty line stays an empty line
  const auto first = args.out.substr(0, args.out.find('\n'));
  CHECK(piped.out.rfind(first + "\n\n", 0) == 0);

  const auto dir = heed::test::temp_dir();
  std::ofstream(dir / "in.txt") << "Two dogs play in the snow.\nHello\n";
  const auto file = run_heed("translate " + kModel + " -i '" + (dir / "in.txt").string() +
                             "' -o '" + (dir / "out.txt").string() + "'");
  REQUIRE(file.exit_code == 0);
  std::ifstream out(dir / "out.txt");
  std::string content((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  CHECK(content == args.out);
}

TEST_CASE("translate: n-best text and JSON lines", "[cli]") {
  const auto text = run_heed("translate " + kModel + " --beam-size 4 --n-best 3 'Hello'");
  REQUIRE(text.exit_code == 0);
  CHECK(count_lines(text.out) == 3);
  CHECK(text.out.rfind("0 ||| ", 0) == 0);
  const auto jsonl =
      run_heed("translate " + kModel + " --beam-size 4 --n-best 2 --format jsonl 'Hello' 'Bye'");
  REQUIRE(jsonl.exit_code == 0);
  CHECK(count_lines(jsonl.out) == 2);
  CHECK(jsonl.out.find("\"n_best\"") != std::string::npos);
  CHECK(jsonl.out.find("\"score\"") != std::string::npos);
}

TEST_CASE("score and info run", "[cli]") {
  const auto dir = heed::test::temp_dir();
  std::ofstream(dir / "src.txt") << "Hello\nTwo dogs.\n";
  std::ofstream(dir / "tgt.txt") << "Hallo\nZwei Hunde.\n";
  const auto score = run_heed("score " + kModel + " --source '" + (dir / "src.txt").string() +
                              "' --target '" + (dir / "tgt.txt").string() + "'");
  REQUIRE(score.exit_code == 0);
  CHECK(count_lines(score.out) == 2);
  CHECK(score.out[0] == '-');

  const auto info = run_heed("info " + kModel);
  REQUIRE(info.exit_code == 0);
  CHECK(info.out.find("architecture.d_model: 32") != std::string::npos);
  CHECK(info.out.find("parameters: ") != std::string::npos);
}

TEST_CASE("bad options, models and files give one clear line and distinct exit codes", "[cli]") {
  auto usage = run_heed("translate " + kModel + " --beam-size 0 'Hello'");
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("--beam-size") != std::string::npos);

  usage = run_heed("translate " + kModel + " --beam-size 2 --n-best 3 'Hello'");
  CHECK(usage.exit_code == 2);
  CHECK(usage.err == "heed: error: --n-best (3) cannot exceed the beam size (2)\n");

  usage = run_heed("translate " + kModel + " --no-such-flag");
  CHECK(usage.exit_code == 2);

  const auto model = run_heed("translate -m /nonexistent/model 'Hello'");
  CHECK(model.exit_code == 3);
  CHECK(model.err == "heed: model error: /nonexistent/model: no such model directory\n");

  const auto io = run_heed("translate " + kModel + " -i /nonexistent/input.txt");
  CHECK(io.exit_code == 4);
  CHECK(io.err == "heed: error: /nonexistent/input.txt: cannot open for reading: No such file or "
                  "directory\n");

  const auto dir = heed::test::temp_dir();
  std::ofstream(dir / "two.txt") << "a\nb\n";
  std::ofstream(dir / "one.txt") << "a\n";
  const auto mismatch = run_heed("score " + kModel + " --source '" + (dir / "two.txt").string() +
                                 "' --target '" + (dir / "one.txt").string() + "'");
  CHECK(mismatch.exit_code == 4);
  CHECK(mismatch.err.find("has 2 lines but") != std::string::npos);
}

TEST_CASE("every usage and input/output error is one line with its exit code", "[cli]") {
  const auto dir = heed::test::temp_dir();
  std::ofstream(dir / "in.txt") << "Hello\n";
  struct Case {
    std::string args;
    int exit_code;
    std::string err;
  };
  const Case cases[] = {
      {"translate " + kModel + " --no-such-flag 'Hello'", 2,
       "heed: error: The following argument was not expected: --no-such-flag (see heed "
       "translate --help)\n"},
      {"--no-such-flag", 2,
       "heed: error: The following argument was not expected: --no-such-flag (see heed --help)\n"},
      {"translate -m", 2,
       "heed: error: --model: 1 required TEXT missing (see heed translate --help)\n"},
      {"translate " + kModel + " --beam-size 0 'Hello'", 2,
       "heed: error: --beam-size: must be at least 1, got 0 (see heed translate --help)\n"},
      {"translate " + kModel + " --beam-size four 'Hello'", 2,
       "heed: error: --beam-size: must be a whole number, got 'four' (see heed translate "
       "--help)\n"},
      {"translate " + kModel + " --threads -1 'Hello'", 2,
       "heed: error: --threads: must be at least 0, got -1 (see heed translate --help)\n"},
      {"translate " + kModel + " --format xml 'Hello'", 2, ""},
      {"translate " + kModel + " --shard 9/8 'Hello'", 2,
       "heed: error: --shard must be K/N with 0 <= K < N, got '9/8'\n"},
      {"translate " + kModel + " -i '" + dir.string() + "'", 4,
       "heed: error: " + dir.string() + ": is a directory, not a text file\n"},
      {"translate " + kModel + " -i /nonexistent/input.txt", 4,
       "heed: error: /nonexistent/input.txt: cannot open for reading: No such file or "
       "directory\n"},
      {"translate " + kModel + " -i '" + (dir / "in.txt").string() +
           "' -o /nonexistent/dir/out.txt",
       4,
       "heed: error: /nonexistent/dir/out.txt: cannot create: the directory /nonexistent/dir "
       "does not exist (heed creates no parent directories)\n"},
      {"translate " + kModel + " 'Hello' -o /nonexistent/dir/out.txt", 4,
       "heed: error: /nonexistent/dir/out.txt: cannot create: the directory /nonexistent/dir "
       "does not exist (heed creates no parent directories)\n"},
      {"translate " + kModel + " 'Hello' -o '" + dir.string() + "'", 4,
       "heed: error: " + dir.string() + ": is a directory, not a file\n"},
  };
  for (const auto &c : cases) {
    const auto r = run_heed(c.args);
    INFO(c.args << "\n" << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.out.empty());
    if (!c.err.empty())
      CHECK(r.err == c.err);
  }
}

TEST_CASE("heed --help documents the exit codes", "[cli]") {
  const auto help = run_heed("--help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Exit codes: 0 success, 1 internal error, 2 usage error, "
                                       "3 model error, 4 input/output error, 130 interrupted "
                                       "(Ctrl-C)."));
}

TEST_CASE("heed sets a short OpenMP spin unless the user chose a wait policy", "[cli][threads]") {
  auto runtime = [](const std::string &prefix) {
    const auto r = run_heed("info " + kModel + " --json", "", prefix);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out)["runtime"];
  };
  const auto chosen_by_heed = runtime("unset GOMP_SPINCOUNT OMP_WAIT_POLICY;");
  CHECK(chosen_by_heed["GOMP_SPINCOUNT"] == "10000");
  CHECK(chosen_by_heed["OMP_WAIT_POLICY"].is_null());
  CHECK(runtime("unset OMP_WAIT_POLICY; export GOMP_SPINCOUNT=123;")["GOMP_SPINCOUNT"] == "123");
  const auto passive = runtime("unset GOMP_SPINCOUNT; export OMP_WAIT_POLICY=passive;");
  CHECK(passive["GOMP_SPINCOUNT"].is_null());
  CHECK(passive["OMP_WAIT_POLICY"] == "passive");
}
