// What heed does with hostile model directories, poisoned weights, absurd
// option values and failing disks (issue 14): every fault is a one-line error
// naming the file, tensor, field or flag with a documented exit code, or a
// warning and a defined result; never a hang, a crash, unbounded memory or a
// silently wrong output. Commands run under `timeout`, so that a regression to
// a hang fails the test instead of stalling the suite.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace fs = std::filesystem;
using heed::test::copy_fixture;
using heed::test::run_heed;

namespace {

const std::string kTimeout = "timeout -s KILL 60";

std::string quoted(const fs::path &p) { return "'" + p.string() + "'"; }

std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int count_lines(const std::string &s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// `heed ARGS` must fail with `exit_code` and one line on stderr containing
// every one of `parts`.
void check_fails(const std::string &args, int exit_code, std::vector<std::string> parts,
                 const std::string &stdin_text = "", const std::string &prefix = "") {
  const auto r = run_heed(args, stdin_text, prefix + " " + kTimeout);
  INFO(args << "\n" << r.err);
  CHECK(r.exit_code == exit_code);
  CHECK(count_lines(r.err) == 1);
  for (const auto &part : parts)
    CHECK_THAT(r.err, Catch::Contains(part));
}

void check_model_refused(const fs::path &dir, std::vector<std::string> parts) {
  check_fails("info -m " + quoted(dir), 3, std::move(parts));
}

// Sets element `index` of tensor `name` (F32) of dir/model.safetensors.
void poison(const fs::path &dir, const std::string &name, int64_t index, float value) {
  const fs::path path = dir / "model.safetensors";
  auto parts = heed::test::read_safetensors(path);
  const auto begin = parts.header.at(name).at("data_offsets")[0].get<size_t>();
  std::memcpy(parts.data.data() + begin + 4 * index, &value, sizeof value);
  heed::test::write_safetensors(path, parts.header.dump(), parts.data);
}

// Sets every element of F32 tensor `name`.
void fill_tensor(const fs::path &dir, const std::string &name, float value) {
  const fs::path path = dir / "model.safetensors";
  auto parts = heed::test::read_safetensors(path);
  const auto &offsets = parts.header.at(name).at("data_offsets");
  for (size_t at = offsets[0].get<size_t>(); at < offsets[1].get<size_t>(); at += 4)
    std::memcpy(parts.data.data() + at, &value, sizeof value);
  heed::test::write_safetensors(path, parts.header.dump(), parts.data);
}

const std::string kModel = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";

} // namespace

TEST_CASE("special files among the model files are refused, never read", "[data-safety]") {
  const char *files[] = {"config.json",       "generation_config.json",
                         "model.safetensors", "source.spm",
                         "target.spm",        "vocab.json"};
  for (const std::string file : files) {
    const fs::path dir = copy_fixture("tiny-joint", "fifo-" + file);
    fs::remove(dir / file);
    REQUIRE(::mkfifo((dir / file).c_str(), 0644) == 0);
    check_model_refused(dir, {(dir / file).string() + ": not a regular file (a FIFO)"});

    fs::remove(dir / file);
    fs::create_symlink("/dev/zero", dir / file);
    check_model_refused(dir, {(dir / file).string() + ": not a regular file (a character device)"});
  }
  // target_vocab.json of a model with separate vocabularies.
  const fs::path separate = copy_fixture("tiny-separate", "fifo-target-vocab");
  fs::remove(separate / "target_vocab.json");
  fs::create_symlink("/dev/zero", separate / "target_vocab.json");
  check_model_refused(separate, {"target_vocab.json: not a regular file (a character device)"});
}

TEST_CASE("model files larger than their kind can be are refused before reading", "[data-safety]") {
  struct Case {
    std::string file;
    size_t bytes;
    std::string limit;
  };
  const Case cases[] = {{"config.json", (size_t{4} << 20) + 1, "4 MiB"},
                        {"generation_config.json", (size_t{4} << 20) + 1, "4 MiB"},
                        {"vocab.json", (size_t{64} << 20) + 1, "64 MiB"},
                        {"source.spm", (size_t{64} << 20) + 1, "64 MiB"}};
  for (const auto &c : cases) {
    const fs::path dir = copy_fixture("tiny-joint", "huge-" + c.file);
    fs::resize_file(dir / c.file, c.bytes); // a sparse file: no disk used
    check_model_refused(dir, {(dir / c.file).string() + ": is " + std::to_string(c.bytes) +
                              " bytes, more than the " + c.limit});
  }
}

TEST_CASE("filesystem faults of the model directory are model errors naming the path",
          "[data-safety]") {
  const fs::path root = heed::test::temp_dir() / "fs-faults";
  fs::remove_all(root);
  fs::create_directories(root);
  // The model directory itself is a symlink loop.
  fs::create_symlink(root / "loop", root / "loop");
  check_model_refused(root / "loop",
                      {(root / "loop").string() + ": cannot access: Too many levels of symbolic"});
  // A model file is a directory, or a symlink loop.
  for (const std::string file :
       {"source.spm", "target.spm", "vocab.json", "config.json", "model.safetensors"}) {
    const fs::path dir = copy_fixture("tiny-joint", "dir-" + file);
    fs::remove(dir / file);
    fs::create_directory(dir / file);
    check_model_refused(dir, {(dir / file).string() + ": not a regular file (a directory)"});
    fs::remove(dir / file);
    fs::create_symlink(dir / file, dir / file);
    check_model_refused(dir, {(dir / file).string(), "Too many levels of symbolic links"});
  }
  // generation_config.json is optional, but a loop is not its absence.
  const fs::path dir = copy_fixture("tiny-joint", "loop-generation");
  fs::remove(dir / "generation_config.json");
  fs::create_symlink(dir / "generation_config.json", dir / "generation_config.json");
  check_model_refused(dir, {"generation_config.json: cannot access: Too many levels"});
  // An unreadable file (when the tests do not run as root, who reads anything).
  if (::geteuid() != 0) {
    const fs::path locked = copy_fixture("tiny-joint", "unreadable");
    fs::permissions(locked / "vocab.json", fs::perms::none);
    check_model_refused(locked, {"vocab.json: cannot open: Permission denied"});
  }
}

TEST_CASE("non-finite weights are refused at load, naming the tensor", "[data-safety]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    std::string tensor;
    int64_t index;
    float value;
    std::string what;
  };
  const Case cases[] = {
      {"model.shared.weight", 1234, nan, "nan"},
      {"model.shared.weight", 7, -inf, "-inf"},
      {"final_logits_bias", 5, inf, "inf"},
      {"model.decoder.layers.1.final_layer_norm.weight", 3, nan, "nan"},
      {"model.encoder.layers.0.self_attn.q_proj.weight", 100, nan, "nan"},
      {"model.encoder.embed_positions.weight", 40, nan, "nan"},
  };
  int i = 0;
  for (const auto &c : cases) {
    const fs::path dir = copy_fixture("tiny-joint", "poisoned-" + std::to_string(i++));
    poison(dir, c.tensor, c.index, c.value);
    check_model_refused(dir,
                        {"model.safetensors: tensor '" + c.tensor + "' holds 1 non-finite",
                         "the first, " + c.what + ", at flat index " + std::to_string(c.index)});
    // Translating refuses it the same way (exit 3), before any output.
    const auto r = run_heed("translate -m " + quoted(dir) + " 'Hello'");
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
  }
}

TEST_CASE("non-finite scores at run time give a warning and a defined result", "[data-safety]") {
  // Finite weights whose products overflow: the last decoder layer norm scales
  // every hidden value to ~1e38, so the logits are +-inf and NaN.
  const fs::path dir = copy_fixture("tiny-joint", "overflowing");
  fill_tensor(dir, "model.decoder.layers.1.final_layer_norm.weight", 3e38f);
  const std::string model = "-m " + quoted(dir);

  const auto text = run_heed("translate " + model + " --beam-size 1", "Hello\n\nTwo dogs.\n");
  REQUIRE(text.exit_code == 0);
  CHECK(text.out == "\n\n\n"); // one line per input, empty
  CHECK_THAT(text.err, Catch::Contains("line 1: the model produced non-finite scores (NaN or "
                                       "infinity); its translation is left empty"));
  CHECK_THAT(text.err, Catch::Contains("line 3: the model produced non-finite scores"));

  for (const std::string beam : {"1", "3"}) {
    const auto jsonl = run_heed("translate " + model + " -q --format jsonl --beam-size " + beam +
                                    (beam == "3" ? " --n-best 2" : ""),
                                "Hello\n");
    REQUIRE(jsonl.exit_code == 0);
    const auto j = nlohmann::json::parse(jsonl.out);
    CHECK(j["score"].is_null()); // no number, and never the -1e9 placeholder
    CHECK(j["translation"] == "");
    CHECK(j["tokens"].empty());
    CHECK(j["error"] == "the model produced non-finite scores (NaN or infinity)");
    CHECK(jsonl.out.find("e+09") == std::string::npos);
    if (beam == "3")
      for (const auto &h : j["n_best"])
        CHECK(h["score"].is_null());
  }
  const auto nbest = run_heed("translate " + model + " -q --beam-size 3 --n-best 2", "Hello\n");
  REQUIRE(nbest.exit_code == 0);
  CHECK(nbest.out == "0 |||  ||| F0= -inf ||| -inf\n0 |||  ||| F0= -inf ||| -inf\n");

  const fs::path data = heed::test::temp_dir();
  std::ofstream(data / "src.txt") << "Hello\nTwo dogs.\n";
  std::ofstream(data / "tgt.txt") << "Hallo\nZwei Hunde.\n";
  const std::string pair =
      " --source " + quoted(data / "src.txt") + " --target " + quoted(data / "tgt.txt");
  const auto score = run_heed("score " + model + pair);
  REQUIRE(score.exit_code == 0);
  CHECK(score.out == "nan\nnan\n"); // never "-nan"
  CHECK_THAT(score.err, Catch::Contains("line 2: the model produced non-finite scores"));
  const auto score_json = run_heed("score " + model + " --format jsonl" + pair);
  REQUIRE(score_json.exit_code == 0);
  const auto first = nlohmann::json::parse(score_json.out.substr(0, score_json.out.find('\n')));
  CHECK(first["score"].is_null());
  CHECK(first["error"] == "the model produced non-finite scores (NaN or infinity)");
}

TEST_CASE("invalid generation_config.json values are refused, naming the field", "[data-safety]") {
  struct Case {
    std::string bad_words;
    std::string expected;
  };
  std::string every_id = "[";
  for (int id = 0; id < 600; ++id) // 600 is pad, always banned
    every_id += (id ? ",[" : "[") + std::to_string(id) + "]";
  every_id += "]";
  const Case cases[] = {
      {"[[-1]]", "field 'bad_words_ids' has the negative token id -1 in sequence 0"},
      {"[[5], []]", "field 'bad_words_ids' has an empty sequence at position 1"},
      {"[[601]]", "field 'bad_words_ids' has the token id 601 in sequence 0, outside the target "
                  "vocabulary of 601"},
      {"[[3, 99999]]", "field 'bad_words_ids' has the token id 99999 in sequence 0"},
      {every_id, "field 'bad_words_ids' bans every one of the 601 target tokens"},
  };
  int i = 0;
  for (const auto &c : cases) {
    const fs::path dir = copy_fixture("tiny-joint", "bad-words-" + std::to_string(i++));
    std::ofstream(dir / "generation_config.json", std::ios::trunc)
        << R"({"bad_words_ids": )" << c.bad_words
        << R"(, "decoder_start_token_id": 600, "eos_token_id": 0, "max_length": 20,
               "num_beams": 4, "pad_token_id": 600})";
    check_fails("translate -m " + quoted(dir) + " 'Hello'", 3,
                {(dir / "generation_config.json").string() + ": " + c.expected});
  }
  const fs::path dir = copy_fixture("tiny-joint", "length-penalty");
  std::ofstream(dir / "generation_config.json", std::ios::trunc)
      << R"({"length_penalty": 1e300, "num_beams": 4})";
  check_fails("translate -m " + quoted(dir) + " 'Hello'", 3,
              {"field 'length_penalty' must be in [-10, 10], got 1e+300"});
}

TEST_CASE("absurd option values are refused before any work, naming the flag", "[data-safety]") {
  struct Case {
    std::string args;
    std::string expected;
  };
  const Case cases[] = {
      {"--threads 100000", "heed: error: --threads: must be in [0, "},
      {"--beam-size 10000", "heed: error: --beam-size: must be in [1, 1024], got 10000"},
      {"--beam-size 4 --n-best 2000",
       "heed: error: --n-best (2000) cannot exceed the beam size (4)"},
      {"--length-penalty nan", "heed: error: --length-penalty: must be a finite number in "
                               "[-10, 10], got nan"},
      {"--length-penalty inf", "--length-penalty: must be a finite number in [-10, 10], got inf"},
      {"--length-penalty -1e30", "--length-penalty: must be a finite number in [-10, 10], got "
                                 "-1e+30"},
      {"--max-length-ratio inf", "--max-length-ratio: must be a finite number in [0, 1000], got "
                                 "inf"},
      {"--max-new-tokens 9223372036854775807", "--max-new-tokens: must be in [1, 1048576]"},
      {"--max-length 9223372036854775807", "--max-length: must be in [1, 1048576]"},
      {"--batch-size 1000000000000", "--batch-size: must be in [1, 1048576]"},
      {"--window 100000000", "--window: must be in [1, 65536], got 100000000"},
  };
  for (const auto &c : cases)
    check_fails("translate " + kModel + " " + c.args + " 'Hello'", 2, {c.expected});
  check_fails("score " + kModel + " --threads 100000 --source x --target y", 2,
              {"--threads: must be in [0, "});
  check_fails("bench " + kModel + " -i /dev/null --threads 1,100000", 2,
              {"--threads: must be in [0, "});
}

TEST_CASE("a beam too large for memory is refused before its batch is allocated", "[data-safety]") {
  if (heed::test::kAddressSanitizer)
    return; // ulimit -v breaks AddressSanitizer's shadow memory
  // 32 sentences x 1000 beams x 127 steps of caches: about 8 GB, under a 2 GB
  // address-space limit.
  std::string corpus;
  for (int i = 0; i < 32; ++i)
    corpus += "Two dogs play in the snow number " + std::to_string(i) + ".\n";
  const auto r = run_heed("translate " + kModel + " --beam-size 1000 --max-length 128", corpus,
                          "ulimit -v 2000000; " + kTimeout);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::StartsWith("heed: error: --beam-size: a batch of 32 sentence(s)"));
  CHECK_THAT(r.err, Catch::Contains("of memory available; lower the beam size"));
}

TEST_CASE("lines of invisible Unicode characters are blank", "[data-safety]") {
  const std::vector<std::string> invisible = {
      "\xc2\xa0",                 // NO-BREAK SPACE
      "\xe3\x80\x80",             // IDEOGRAPHIC SPACE
      "\xe2\x80\xa8",             // LINE SEPARATOR
      "\xe2\x80\xa9",             // PARAGRAPH SEPARATOR
      "\xe2\x80\x8b",             // ZERO WIDTH SPACE
      "\xef\xbb\xbf",             // BYTE ORDER MARK
      "\xe2\x80\x8e\xe2\x80\x8f", // LRM RLM
      "\x01\x02\x1b",             // control characters
      "\xc2\x85 \t\xe2\x80\x83",  // NEL, space, tab, EM SPACE
      "\xe2\x81\xa0\xc2\xad",     // WORD JOINER, SOFT HYPHEN
  };
  std::string input;
  for (const auto &line : invisible)
    input += line + "\n";
  input += "Two dogs.\n";
  const auto r = run_heed("translate " + kModel + " -q", input);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::stringstream out(r.out);
  for (std::string line; std::getline(out, line);)
    lines.push_back(line);
  REQUIRE(lines.size() == invisible.size() + 1);
  for (size_t i = 0; i < invisible.size(); ++i) {
    INFO("line " << i + 1);
    CHECK(lines[i].empty());
  }
  CHECK(!lines.back().empty());
}

TEST_CASE("a file with carriage-return line ends is reported", "[data-safety]") {
  // Not -q, which silences warnings.
  const auto r = run_heed("translate " + kModel + " --no-progress", "Two dogs.\rA cat.\rA man.\r");
  REQUIRE(r.exit_code == 0);
  CHECK(count_lines(r.out) == 1);
  CHECK_THAT(r.err, Catch::Contains("line 1: holds a carriage return (\\r) that ends no line"));
  // CRLF files are not reported.
  const auto crlf = run_heed("translate " + kModel + " --no-progress", "Two dogs.\r\nA cat.\r\n");
  REQUIRE(crlf.exit_code == 0);
  CHECK_THAT(crlf.err, !Catch::Contains("carriage return"));
}

TEST_CASE("input/output errors name the file and the system's reason", "[data-safety]") {
  const fs::path dir = heed::test::temp_dir();
  std::ofstream(dir / "in.txt") << "Hello\nTwo dogs.\n";
  check_fails("translate " + kModel + " -i " + quoted(dir / "in.txt") + " -o /dev/full", 4,
              {"heed: error: /dev/full: write error: No space left on device"});
  check_fails("translate " + kModel + " 'Hello' -o /dev/full", 4,
              {"/dev/full: write error: No space left on device"});
  check_fails("score " + kModel + " --source " + quoted(dir / "in.txt") + " --target " +
                  quoted(dir / "in.txt") + " -o /dev/full",
              4, {"/dev/full: write error: No space left on device"});
  check_fails("translate " + kModel + " 'Hello' --attention /nonexistent/maps.json", 4,
              {"/nonexistent/maps.json: cannot create: the directory /nonexistent does not exist"});
  check_fails("translate " + kModel + " -i " + quoted(dir / "missing.txt"), 4,
              {"missing.txt: cannot open for reading: No such file or directory"});
  check_fails("merge-shards " + quoted(dir / "missing.txt"), 4,
              {"missing.txt: cannot open for reading: No such file or directory"});
}

TEST_CASE("a write failure mid-run exits 4 and leaves a resumable output", "[data-safety]") {
  // RLIMIT_FSIZE makes the output file full after 4 KiB (write() fails with
  // EFBIG once SIGXFSZ is ignored), as a full disk would.
  std::string corpus;
  for (int i = 0; i < 400; ++i)
    corpus += "Two dogs play in the snow number " + std::to_string(i) + ".\n";
  const fs::path dir = heed::test::temp_dir();
  std::ofstream(dir / "corpus.txt") << corpus;
  const std::string args = "translate " + kModel + " --beam-size 2 -q --window 32 -i " +
                           quoted(dir / "corpus.txt") + " -o ";
  REQUIRE(run_heed(args + quoted(dir / "full.txt")).exit_code == 0);
  fs::remove(dir / "partial.txt");
  const auto failed =
      run_heed(args + quoted(dir / "partial.txt"), "", "trap '' XFSZ; ulimit -f 4;");
  INFO(failed.err);
  CHECK(failed.exit_code == 4);
  CHECK(failed.err ==
        "heed: error: " + (dir / "partial.txt").string() + ": write error: File too large\n");
  CHECK(fs::file_size(dir / "partial.txt") <= 4096);
  const auto resumed = run_heed(args + quoted(dir / "partial.txt") + " --resume");
  REQUIRE(resumed.exit_code == 0);
  CHECK(read_file(dir / "partial.txt") == read_file(dir / "full.txt"));
}

namespace {

// Resident set size of a running process in KiB (0 once it has gone).
long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

int64_t count_lines(const fs::path &path) {
  std::ifstream in(path);
  return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
}

} // namespace

TEST_CASE("memory of a long run of varied lines levels off", "[data-safety]") {
  // Every batch of varied lines has new shapes (sentence counts, lengths,
  // decoding steps): memory must be bounded by the window and the batch, not
  // by the number of shapes seen. Before the primitive caches were bounded,
  // RSS grew 1.9x between 20% and 90% of such a run. The shipped model, token
  // batches of 2,048, a window of 100 lines so that output arrives throughout,
  // and short translations (the encoder still sees every length).
  if (heed::test::kAddressSanitizer) {
    WARN("skipped: AddressSanitizer's allocator keeps freed memory, so RSS says nothing here");
    return;
  }
  const fs::path dir = heed::test::temp_dir();
  const int kLines = 1500;
  {
    const auto words = heed::test::split_lines(heed::test::make_corpus(400, 11));
    std::string all;
    for (const auto &w : words)
      all += w + " ";
    std::ofstream out(dir / "varied.txt");
    unsigned state = 7;
    for (int i = 0; i < kLines; ++i) {
      state = state * 1103515245u + 12345u;
      const size_t want = 1 + (state >> 8) % 200; // words
      size_t begin = (state >> 4) % (all.size() / 2), end = begin;
      begin = all.find(' ', begin) + 1;
      for (size_t n = 0; n < want && end != std::string::npos; ++n)
        end = all.find(' ', end + 1);
      out << all.substr(begin, end == std::string::npos ? std::string::npos : end - begin) << '\n';
    }
  }
  const fs::path output = dir / "out.txt";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string in = (dir / "varied.txt").string(), out = output.string();
    execl(HEED_BINARY, HEED_BINARY, "translate", "-q", "--beam-size", "1", "--max-new-tokens", "4",
          "--batch-type", "tokens", "--batch-size", "2048", "--window", "100", "-i", in.c_str(),
          "-o", out.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  // The largest RSS seen while the first 35% of the lines were written
  // against the largest seen from 65% on: each batch's encoder scratch and
  // decoder caches are freed when it is done, so RSS rises and falls within
  // a batch by up to a fifth here (the batch with the longest lines sets the
  // top), and single readings would compare phases, not runs.
  long early = 0, late = 0;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    const int64_t done = fs::exists(output) ? count_lines(output) : 0;
    const long rss = resident_kib(pid);
    if (done > 0 && done < kLines * 35 / 100)
      early = std::max(early, rss);
    if (done >= kLines * 65 / 100 && done < kLines)
      late = std::max(late, rss);
    usleep(20'000);
  }
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(count_lines(output) == kLines);
  REQUIRE(early > 0);
  REQUIRE(late > 0);
  INFO("largest RSS up to 35%: " << early / 1024 << " MiB, from 65%: " << late / 1024 << " MiB");
  CHECK(static_cast<double>(late) <= 1.2 * static_cast<double>(early));
}
