// Helpers shared by tests: temporary copies of fixture models and running the
// heed binary.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "heed/ops/activation.h"

namespace heed::test {

// True when built with AddressSanitizer (scripts/test-sanitizers). Its
// allocator keeps freed memory in a quarantine, so peak RSS says nothing about
// heed's own memory use there, and `ulimit -v` breaks its shadow memory.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// The directories of tests/data/ that hold `file` (a golden file such as
// "golden.json"), sorted.
std::vector<std::string> fixture_models_with(const std::string &file);

// A fresh copy of tests/data/NAME in a temporary directory.
std::filesystem::path copy_fixture(const std::string &name, const std::string &copy_name);

// The bytes of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path &path);

// The lines of `text`, without their "\n".
std::vector<std::string> split_lines(const std::string &text);

// `count` generated English-like sentences, one per line (deterministic by seed).
std::string make_corpus(int count, unsigned seed);

// DIR/corpus.txt in a fresh temporary directory DIR named `name`: two blank
// lines, a line longer than the tiny models take (30 sentences: translated in
// parts), then make_corpus(count, seed). Returns DIR.
std::filesystem::path write_mixed_corpus(const std::string &name, int count, unsigned seed);

// Replaces the first occurrence of `from` with `to` in a text file.
void replace_in_file(const std::filesystem::path &path, const std::string &from,
                     const std::string &to);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `heed ARGS` through the shell with `stdin_text` on standard input;
// `shell_prefix` runs first in the same shell (e.g. "ulimit -v N;").
CommandResult run_heed(const std::string &args, const std::string &stdin_text = "",
                       const std::string &shell_prefix = "");

// The same for another executable (e.g. a copy of heed in an install layout).
CommandResult run_program(const std::string &program, const std::string &args,
                          const std::string &stdin_text = "", const std::string &shell_prefix = "");

// Starts `heed ARGS` (stderr discarded) and kills it with SIGKILL as soon as
// `output` is a non-empty file (or after 30 s): what a crash in the middle of
// a run leaves, for --resume to finish.
void run_heed_killed_after_first_write(const std::string &args,
                                       const std::filesystem::path &output);

// Which of heed's standard streams are a terminal (one pseudo-terminal for all
// of them); the others are files.
struct TerminalStreams {
  bool in = false, out = false, err = false;
};

struct TerminalResult {
  int exit_code = -1;
  std::string screen; // what the terminal received: echoed input, output, bar...
  std::string out;    // standard output when it is no terminal
  std::string err;    // standard error when it is no terminal
};

// Runs heed with `args` (not through a shell) and the streams `on` names
// on a pseudo-terminal. `input` is typed at the terminal, followed by Ctrl-D
// (end of input), when stdin is on it; else it is stdin's content.
TerminalResult run_heed_on_terminal(const std::vector<std::string> &args, TerminalStreams on,
                                    const std::string &input = "");

// What a terminal shows after `screen`: its lines, each with carriage returns
// and "clear to end of line" (ESC [ K) applied, as a person sees them.
std::vector<std::string> visible_lines(const std::string &screen);

// Writes a safetensors file: the 8-byte little-endian header length
// (`claimed_length` when not negative, else the header's), the header, `data`.
void write_safetensors(const std::filesystem::path &path, const std::string &header,
                       const std::vector<uint8_t> &data, int64_t claimed_length = -1);

// A safetensors file split into its parsed header and its data section, to be
// altered and written back with write_safetensors(path, header.dump(), data).
struct SafetensorsParts {
  nlohmann::json header;
  std::vector<uint8_t> data;
};
SafetensorsParts read_safetensors(const std::filesystem::path &path);

std::filesystem::path temp_dir();

// Where the Multi30k data is (it is never committed): $HEED_MULTI30K_DIR when
// set (the test "tests that need Multi30k skip cleanly without it" points it
// at an empty directory), else ../shared/data/multi30k beside the checkout.
// Tests that need it skip with a WARN naming this path when a file is absent.
std::filesystem::path multi30k_dir();

// Python's line[begin:end] for UTF-8 `text`: code points [begin, end), as bytes.
std::string slice_code_points(const std::string &text, int64_t begin, int64_t end);

// Normal random numbers (mean 0, standard deviation `scale`), reproducible by seed.
std::vector<float> random_vector(size_t n, unsigned seed, float scale = 1.f);

// heed's activations written out naively, to check the fused post-ops.
float activate(ops::Activation act, float x);

// One way to call ops::linear: every activation, with and without bias, and
// the residual form (accumulate), which ops::linear takes only without an
// activation.
struct LinearVariant {
  ops::Activation act;
  bool accumulate;
  bool with_bias;
};
std::vector<LinearVariant> linear_variants();

} // namespace heed::test
