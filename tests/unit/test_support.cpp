#include "test_support.h"

#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace heed::test {

std::string slice_code_points(const std::string &text, int64_t begin, int64_t end) {
  std::string out;
  int64_t index = 0;
  for (size_t i = 0; i < text.size();) {
    size_t n = 1; // the code point's bytes: its lead byte and continuation bytes
    while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80)
      ++n;
    if (index >= begin && index < end)
      out.append(text, i, n);
    ++index;
    i += n;
  }
  return out;
}

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("heed-tests-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

fs::path copy_fixture(const std::string &name, const std::string &copy_name) {
  const fs::path target = temp_dir() / copy_name;
  fs::remove_all(target);
  fs::copy(fs::path(HEED_TEST_DATA) / name, target, fs::copy_options::recursive);
  return target;
}

namespace {
std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
} // namespace

void replace_in_file(const fs::path &path, const std::string &from, const std::string &to) {
  std::string text = read_file(path);
  const auto pos = text.find(from);
  if (pos == std::string::npos)
    throw std::runtime_error("replace_in_file: '" + from + "' not in " + path.string());
  text.replace(pos, from.size(), to);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

CommandResult run_heed(const std::string &args, const std::string &stdin_text,
                       const std::string &shell_prefix) {
  return run_program(HEED_BINARY, args, stdin_text, shell_prefix);
}

CommandResult run_program(const std::string &program, const std::string &args,
                          const std::string &stdin_text, const std::string &shell_prefix) {
  const fs::path dir = temp_dir();
  const fs::path in = dir / "stdin.txt", out = dir / "stdout.txt", err = dir / "stderr.txt";
  std::ofstream(in, std::ios::binary | std::ios::trunc) << stdin_text;
  const std::string command = shell_prefix + " '" + program + "' " + args + " < '" + in.string() +
                              "' > '" + out.string() + "' 2> '" + err.string() + "'";
  const int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

void write_safetensors(const fs::path &path, const std::string &header,
                       const std::vector<uint8_t> &data, int64_t claimed_length) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint64_t length =
      claimed_length < 0 ? header.size() : static_cast<uint64_t>(claimed_length);
  for (int i = 0; i < 8; ++i)
    out.put(static_cast<char>((length >> (8 * i)) & 0xff));
  out << header;
  out.write(reinterpret_cast<const char *>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out)
    throw std::runtime_error("write_safetensors: cannot write " + path.string());
}

SafetensorsParts read_safetensors(const fs::path &path) {
  const std::string bytes = read_file(path);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | static_cast<uint8_t>(bytes.at(i));
  SafetensorsParts parts;
  parts.header = nlohmann::json::parse(bytes.substr(8, length));
  parts.data.assign(bytes.begin() + 8 + static_cast<std::ptrdiff_t>(length), bytes.end());
  return parts;
}

std::vector<float> random_vector(size_t n, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(n);
  for (auto &x : v)
    x = dist(gen);
  return v;
}

float activate(ops::Activation act, float x) {
  switch (act) {
  case ops::Activation::relu:
    return x > 0 ? x : 0;
  case ops::Activation::swish:
    return x / (1 + std::exp(-x));
  case ops::Activation::gelu_erf:
    return 0.5f * x * (1 + std::erf(x / std::sqrt(2.f)));
  case ops::Activation::gelu_tanh:
    return 0.5f * x *
           (1 + std::tanh(std::sqrt(2.f / static_cast<float>(M_PI)) * (x + 0.044715f * x * x * x)));
  case ops::Activation::none:
    break;
  }
  return x;
}

std::vector<LinearVariant> linear_variants() {
  std::vector<LinearVariant> variants;
  for (auto act : {ops::Activation::none, ops::Activation::relu, ops::Activation::swish,
                   ops::Activation::gelu_erf, ops::Activation::gelu_tanh})
    for (bool accumulate : {false, true})
      for (bool with_bias : {false, true})
        if (!accumulate || act == ops::Activation::none)
          variants.push_back({act, accumulate, with_bias});
  return variants;
}

} // namespace heed::test
