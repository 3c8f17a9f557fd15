// A user's files are never lost (issue 14, items 1-5 and 13): no output may
// be an input or another output; an output is locked for the whole run; a
// resume continues only the run that left the file, with the same input and
// settings, attention maps included; nothing that looks complete appears
// before a run has succeeded; files inside output directories are created
// without following planted symlinks. Commands run under `timeout`, so that a
// regression to a hang fails instead of stalling the suite.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "heed/io/output_lock.h"
#include "test_support.h"

namespace fs = std::filesystem;
using heed::test::make_corpus;
using heed::test::read_file;
using heed::test::run_heed;
using heed::test::split_lines;

namespace {

const std::string kModel = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";
const std::string kTimeout = "timeout -s KILL 120";

std::string quoted(const fs::path &p) { return "'" + p.string() + "'"; }

fs::path fresh_dir(const std::string &name) {
  const fs::path dir = heed::test::temp_dir() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// `heed ARGS` (shell syntax: redirections allowed) must fail with `code` and
// one line on stderr containing every one of `parts`.
void check_fails(const std::string &args, int code, const std::vector<std::string> &parts,
                 const std::string &prefix = "") {
  const auto r = run_heed(args, "", prefix + " " + kTimeout);
  INFO(args << "\n" << r.err);
  CHECK(r.exit_code == code);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  for (const auto &part : parts)
    CHECK_THAT(r.err, Catch::Contains(part));
}

// The same for a command line with its own redirections of standard input
// or output ("... < FILE", "... >> FILE"), which run_heed would override.
void check_fails_redirected(const std::string &args, int code,
                            const std::vector<std::string> &parts) {
  const fs::path err = heed::test::temp_dir() / "redirected-stderr.txt";
  const std::string command =
      kTimeout + " '" + HEED_BINARY + "' " + args + " 2> '" + err.string() + "'";
  const int status = std::system(command.c_str());
  const std::string text = read_file(err);
  INFO(command << "\n" << text);
  CHECK((WIFEXITED(status) ? WEXITSTATUS(status) : -1) == code);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  for (const auto &part : parts)
    CHECK_THAT(text, Catch::Contains(part));
}

// The entries of a directory, sorted, with the kind of each.
std::vector<std::string> listing(const fs::path &dir) {
  std::vector<std::string> names;
  for (const auto &e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string() + (e.is_symlink() ? "@" : ""));
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

// ---- 1. No output is an input or another output ----

TEST_CASE("an output that is an input is refused before anything is written", "[output-safety]") {
  const fs::path dir = fresh_dir("same-file");
  const std::string text = "Two dogs play in the snow.\nA man runs.\n";
  std::ofstream(dir / "a.txt") << text;
  std::ofstream(dir / "a.json") << text;
  fs::create_symlink(dir / "a.txt", dir / "link.txt");
  fs::create_hard_link(dir / "a.txt", dir / "hard.txt");
  const std::string a = quoted(dir / "a.txt");
  const std::string translate = "translate " + kModel + " -q ";

  check_fails(translate + "-i " + a + " -o " + a, 2,
              {"output '" + (dir / "a.txt").string() + "' is the same file as input '" +
               (dir / "a.txt").string() + "'"});
  check_fails(translate + "-i " + a + " -o " + quoted(dir / "link.txt"), 2,
              {"link.txt' is the same file as input"});
  check_fails(translate + "-i " + a + " -o " + quoted(dir / "hard.txt"), 2,
              {"hard.txt' is the same file as input"});
  check_fails(translate + "-i " + quoted(dir / "." / "a.txt") + " -o " + a, 2,
              {"is the same file as input"});
  check_fails_redirected(translate + "-o " + a + " < " + a, 2,
                         {"is the same file as standard input"});
  check_fails_redirected(translate + "-i " + a + " >> " + a, 2,
                         {"standard output is the same file as input"});
  check_fails(translate + "-i " + quoted(dir / "a.json") + " --attention " + quoted(dir / "a.json"),
              2,
              {"attention output '" + (dir / "a.json").string() + "' is the same file as input"});
  // A path without an extension names a directory of maps: an existing file
  // of that name is still the input.
  std::ofstream(dir / "x") << text;
  check_fails(translate + "-i " + quoted(dir / "x") + " --attention " + quoted(dir / "x"), 2,
              {"attention output '" + (dir / "x").string() + "' is the same file as input"});
  // Two outputs of one run, neither existing yet.
  check_fails(translate + "'Hello.' -o " + quoted(dir / "new.json") + " --attention " +
                  quoted(dir / "new.json"),
              2, {"attention output", "is the same file as output"});
  check_fails("score " + kModel + " --source " + a + " --target " + quoted(dir / "a.json") +
                  " -o " + quoted(dir / "a.json"),
              2, {"is the same file as target"});
  check_fails("attention " + kModel + " -i " + a + " --html " + quoted(dir / "link.txt"), 2,
              {"page '" + (dir / "link.txt").string() + "' is the same file as input"});
  check_fails_redirected("merge-shards " + a + " >> " + quoted(dir / "hard.txt"), 2,
                         {"standard output is the same file as shard"});
  check_fails("convert " + kModel + " --quantize int8 -o " + std::string("'") + HEED_TEST_DATA +
                  "/tiny-joint/'",
              2, {"output directory", "is the same file as model"});

  // Nothing was written or truncated, and no lock or record was left.
  CHECK(read_file(dir / "a.txt") == text);
  CHECK(read_file(dir / "a.json") == text);
  CHECK(read_file(dir / "x") == text);
  CHECK(listing(dir) == std::vector<std::string>{"a.json", "a.txt", "hard.txt", "link.txt@", "x"});
}

// ---- 3. One run per output ----

TEST_CASE("an output locked by another run is refused at once, naming the holder",
          "[output-safety]") {
  const fs::path dir = fresh_dir("locked");
  std::ofstream(dir / "in.txt") << make_corpus(20, 3);
  const std::string args =
      "translate " + kModel + " -q -i " + quoted(dir / "in.txt") + " -o " + quoted(dir / "out.txt");
  {
    // This test process holds the lock, as a running heed would.
    const heed::io::OutputLock held((dir / "out.txt").string());
    check_fails(args + " --resume", 4,
                {(dir / "out.txt").string() + ": in use by another run (pid " +
                     std::to_string(getpid()) + " holds the lock file " +
                     (dir / "out.txt.heed-lock").string(),
                 "wait for it"});
    CHECK_FALSE(fs::exists(dir / "out.txt"));
    // Attention outputs are locked too.
    const heed::io::OutputLock maps((dir / "maps").string());
    check_fails("translate " + kModel + " -q 'Hello.' --attention " + quoted(dir / "maps"), 4,
                {"maps: in use by another run"});
  }
  // A lock file left by a killed run locks nothing.
  std::ofstream(dir / "out.txt.heed-lock") << "12345\n";
  const auto r = run_heed(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(split_lines(read_file(dir / "out.txt")).size() == 20);
  CHECK(listing(dir) == std::vector<std::string>{"in.txt", "out.txt"});
}

TEST_CASE("two concurrent resumed runs on one output never both write it", "[output-safety]") {
  const fs::path dir = fresh_dir("concurrent");
  std::ofstream(dir / "in.txt") << make_corpus(1500, 8);
  const std::string args = "translate " + kModel + " --beam-size 2 -q --window 32 -i " +
                           quoted(dir / "in.txt") + " -o " + quoted(dir / "out.txt") + " --resume";
  REQUIRE(run_heed("translate " + kModel + " --beam-size 2 -q -i " + quoted(dir / "in.txt") +
                   " -o " + quoted(dir / "full.txt"))
              .exit_code == 0);
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string command = std::string("exec '") + HEED_BINARY + "' " + args;
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  // The first run holds its lock from before it loads the model until it ends.
  for (int i = 0; i < 400 && !fs::exists(dir / "out.txt.heed-lock"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto second = run_heed(args);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  if (second.exit_code == 0) // the first one had finished already: nothing was left to do
    SUCCEED("the first run ended before the second started");
  else
    CHECK_THAT(second.err, Catch::Contains("in use by another run (pid"));
  CHECK(read_file(dir / "out.txt") == read_file(dir / "full.txt"));
}

TEST_CASE("devices as outputs get no lock file or record beside them", "[output-safety]") {
  const auto before = listing("/dev");
  const auto r = run_heed("translate " + kModel + " -q 'Two dogs.' -o /dev/null");
  REQUIRE(r.exit_code == 0);
  const auto full = run_heed("translate " + kModel + " -q 'Two dogs.' -o /dev/full");
  CHECK(full.exit_code == 4);
  CHECK(listing("/dev") == before);
  check_fails("translate " + kModel + " -q -o /dev/null --resume < /dev/null", 2,
              {"resume needs a regular output file, not /dev/null"});
}

// ---- 4. Resume continues only the run that left the file ----

TEST_CASE("resume refuses files that are not the unfinished output of the same run",
          "[output-safety]") {
  const fs::path dir = fresh_dir("resume-checks");
  std::ofstream(dir / "in.txt") << make_corpus(60, 4);
  const std::string base = "translate " + kModel + " -q --window 8 -i " + quoted(dir / "in.txt");
  const std::string args = base + " -o " + quoted(dir / "out.txt");
  REQUIRE(run_heed(base + " -o " + quoted(dir / "full.txt")).exit_code == 0);
  const std::string full = read_file(dir / "full.txt");
  // A completed run leaves no record (nor lock).
  CHECK(listing(dir) == std::vector<std::string>{"full.txt", "in.txt"});

  // An unrelated file, shorter than the input: not appended to.
  std::ofstream(dir / "out.txt") << "my own notes\nline two\n";
  check_fails(args + " --resume", 4,
              {"out.txt: holds 2 complete outputs but no record of an interrupted heed run",
               "out.txt.heed-resume"});
  CHECK(read_file(dir / "out.txt") == "my own notes\nline two\n");

  // A finished output (no record, every line there): nothing to do.
  fs::copy_file(dir / "full.txt", dir / "out.txt", fs::copy_options::overwrite_existing);
  const auto again = run_heed(args + " --resume");
  REQUIRE(again.exit_code == 0);
  CHECK(read_file(dir / "out.txt") == full);

  // An interrupted run (a full disk) leaves its record; a resume with other
  // settings or another input is refused, naming what differs.
  const auto failed = run_heed(args, "", "trap '' XFSZ; ulimit -f 2;");
  INFO(failed.err);
  REQUIRE(failed.exit_code == 4);
  REQUIRE(fs::exists(dir / "out.txt.heed-resume"));
  check_fails(args + " --resume --beam-size 3", 2,
              {"resume: " + (dir / "out.txt").string(), "beam_size: default then, 3 now"});
  check_fails(args + " --resume --format jsonl", 2, {"format: text then, jsonl now"});
  std::ofstream(dir / "in.txt", std::ios::app) << "One more line.\n";
  check_fails(args + " --resume", 2, {"the input's size"});
  REQUIRE(run_heed(base + " -o " + quoted(dir / "full.txt")).exit_code == 0);

  // More complete outputs than input lines: not this input's output.
  {
    std::ofstream grown(dir / "out.txt", std::ios::trunc);
    grown << read_file(dir / "full.txt") << "extra 1\nextra 2\n";
  }
  // The record must describe the current input: refresh it with a failing run.
  REQUIRE(run_heed(args, "", "trap '' XFSZ; ulimit -f 2;").exit_code == 4);
  {
    std::ofstream grown(dir / "out.txt", std::ios::trunc);
    grown << read_file(dir / "full.txt") << "extra 1\nextra 2\n";
  }
  check_fails(args + " --resume", 4, {"holds 63 complete outputs but the input has only 61 lines"});

  // The same settings and input: the resume completes the file and removes the record.
  std::ofstream(dir / "out.txt", std::ios::trunc)
      << split_lines(read_file(dir / "full.txt"))[0] << "\n";
  const auto resumed = run_heed(args + " --resume --threads 1 --batch-size 4");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(read_file(dir / "out.txt") == read_file(dir / "full.txt"));
  CHECK_FALSE(fs::exists(dir / "out.txt.heed-resume"));
}

// ---- 2 and 5. Attention maps: resumable in a directory, never complete-looking when partial ----

namespace {

// Every file of an attention directory with its bytes.
std::map<std::string, std::string> contents(const fs::path &dir) {
  std::map<std::string, std::string> files;
  for (const auto &e : fs::directory_iterator(dir))
    files[e.path().filename().string()] = read_file(e.path());
  return files;
}

} // namespace

TEST_CASE("attention maps in a directory resume after SIGKILL byte for byte", "[output-safety]") {
  const fs::path dir = fresh_dir("attention-resume");
  std::ofstream(dir / "in.txt") << make_corpus(400, 12);
  const std::string args = "translate " + kModel + " --beam-size 2 -q --window 16 -i " +
                           quoted(dir / "in.txt") + " --attention-layers -1 ";
  REQUIRE(run_heed(args + "-o " + quoted(dir / "full.txt") + " --attention " +
                   quoted(dir / "full-maps"))
              .exit_code == 0);
  const auto expected = contents(dir / "full-maps");
  REQUIRE(expected.count("index.json") == 1);

  const std::string run =
      args + "-o " + quoted(dir / "out.txt") + " --attention " + quoted(dir / "maps") + " --resume";
  std::mt19937 gen(5);
  for (int round = 0; round < 2; ++round) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string command = std::string("exec '") + HEED_BINARY + "' " + run + " 2>/dev/null";
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + gen() % 500));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    // Whatever the moment, nothing complete-looking is there.
    if (fs::exists(dir / "maps") && fs::exists(dir / "out.txt.heed-resume"))
      CHECK_FALSE(fs::exists(dir / "maps" / "index.json"));
  }
  const auto finished = run_heed(run);
  INFO(finished.err);
  REQUIRE(finished.exit_code == 0);
  CHECK(read_file(dir / "out.txt") == read_file(dir / "full.txt"));
  const auto got = contents(dir / "maps");
  CHECK(got.size() == expected.size());
  for (const auto &[name, bytes] : expected) {
    INFO(name);
    REQUIRE(got.count(name) == 1);
    CHECK((got.at(name) == bytes));
  }
  // Archives are written whole: resuming them is refused up front.
  check_fails(args + "-o " + quoted(dir / "out2.txt") + " --attention " + quoted(dir / "maps.npz") +
                  " --resume",
              2, {"resume continues attention maps written to a directory"});
}

TEST_CASE("a failed run leaves no attention output that looks complete", "[output-safety]") {
  const fs::path dir = fresh_dir("attention-failed");
  // A NUL byte on line 40 stops a --strict run after its first windows.
  std::string corpus = make_corpus(60, 2);
  const auto at = corpus.find('\n', corpus.size() / 2);
  corpus.insert(at, std::string("\0", 1));
  std::ofstream(dir / "in.txt", std::ios::binary) << corpus;
  const std::string args = "translate " + kModel + " --strict -q --window 8 -i " +
                           quoted(dir / "in.txt") + " -o " + quoted(dir / "out.txt") +
                           " --attention ";
  // A stale complete index of an earlier run is removed, not left beside new files.
  fs::create_directories(dir / "maps");
  std::ofstream(dir / "maps" / "index.json") << "{\"stale\": true}\n";
  for (const std::string target : {"maps", "maps.npz", "maps.json"}) {
    INFO(target);
    const auto r = run_heed(args + quoted(dir / target));
    CHECK(r.exit_code == 4);
    CHECK_FALSE(fs::exists(dir / target / "index.json"));
    if (target != "maps") {
      CHECK_FALSE(fs::exists(dir / target));
      CHECK(fs::exists(dir / (target + ".partial")));
    } else {
      CHECK(fs::exists(dir / "maps" / "index.json.partial"));
    }
  }
}

TEST_CASE("a failed conversion leaves no model directory and no partial file", "[output-safety]") {
  const fs::path dir = fresh_dir("convert-failed");
  const auto r = run_heed("convert " + kModel + " --quantize int8 -o " + quoted(dir / "int8"), "",
                          "trap '' XFSZ; ulimit -f 8;");
  INFO(r.err);
  CHECK(r.exit_code == 4);
  CHECK(listing(dir).empty());
}

// ---- 13. Files inside output directories never follow planted symlinks ----

TEST_CASE("symlinks planted in an attention directory are replaced, not followed",
          "[output-safety]") {
  const fs::path dir = fresh_dir("planted");
  std::ofstream(dir / "victim.txt") << "precious\n";
  fs::create_directories(dir / "maps");
  fs::create_symlink(dir / "victim.txt", dir / "maps" / "000000.cross.npy");
  fs::create_symlink(dir / "victim.txt", dir / "maps" / "index.json.partial");
  fs::create_symlink(dir / "victim.txt", dir / "maps" / "index.json");
  const auto r = run_heed("translate " + kModel + " -q 'Two dogs play.' 'A man.' --attention " +
                          quoted(dir / "maps"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(dir / "victim.txt") == "precious\n");
  for (const auto &name : {"000000.cross.npy", "000001.cross.npy", "index.json"}) {
    INFO(name);
    CHECK(fs::is_regular_file(fs::symlink_status(dir / "maps" / name)));
  }
  CHECK_FALSE(fs::exists(fs::symlink_status(dir / "maps" / "index.json.partial")));
  const auto index = nlohmann::json::parse(read_file(dir / "maps" / "index.json"));
  CHECK(index["sentences"].size() == 2);
}
