#include "test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

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

fs::path multi30k_dir() {
  if (const char *dir = std::getenv("HEED_MULTI30K_DIR"))
    return dir;
  return fs::path(HEED_TEST_DATA) / ".." / ".." / ".." / "shared" / "data" / "multi30k";
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

std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

std::string make_corpus(int count, unsigned seed) {
  const char *words[] = {"a",   "dog",  "cat",  "man", "woman", "runs", "plays", "in",
                         "the", "snow", "park", "red", "ball",  "with", "two",   "girls"};
  std::mt19937 gen(seed);
  std::string text;
  for (int i = 0; i < count; ++i) {
    const int n = 3 + static_cast<int>(gen() % 10);
    for (int w = 0; w < n; ++w)
      text += std::string(w ? " " : "") + words[gen() % 16];
    text += '\n';
  }
  return text;
}

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

std::vector<std::string> fixture_models_with(const std::string &file) {
  std::vector<std::string> dirs;
  for (const auto &entry : std::filesystem::directory_iterator(HEED_TEST_DATA))
    if (std::filesystem::exists(entry.path() / file))
      dirs.push_back(entry.path().string());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::filesystem::path write_mixed_corpus(const std::string &name, int count, unsigned seed) {
  const std::filesystem::path dir = temp_dir() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string corpus = "\n   \n";
  for (int i = 0; i < 30; ++i)
    corpus += "The cat sat on the mat number " + std::to_string(i) + ". ";
  corpus += "\n" + make_corpus(count, seed);
  std::ofstream(dir / "corpus.txt") << corpus;
  return dir;
}

void run_heed_killed_after_first_write(const std::string &args,
                                       const std::filesystem::path &output) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string command = std::string("exec '") + HEED_BINARY + "' " + args + " 2>/dev/null";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::error_code ec;
  while (std::chrono::steady_clock::now() < deadline &&
         !(std::filesystem::exists(output, ec) && std::filesystem::file_size(output, ec) > 0))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
}

TerminalResult run_heed_on_terminal(const std::vector<std::string> &args, TerminalStreams on,
                                    const std::string &input) {
  const fs::path dir = temp_dir();
  const fs::path in = dir / "tty-stdin.txt", out = dir / "tty-stdout.txt",
                 err = dir / "tty-stderr.txt";
  std::ofstream(in, std::ios::binary | std::ios::trunc) << (on.in ? "" : input);
  int master = -1, slave = -1;
  if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
    throw std::runtime_error("openpty failed");
  std::vector<std::string> argv_text = {HEED_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char *> argv;
  for (auto &a : argv_text)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();
    ioctl(slave, TIOCSCTTY, 0);
    auto attach = [&](bool tty, int fd, const fs::path &file, int flags) {
      const int source = tty ? slave : ::open(file.c_str(), flags, 0644);
      dup2(source, fd);
    };
    attach(on.in, 0, in, O_RDONLY);
    attach(on.out, 1, out, O_WRONLY | O_CREAT | O_TRUNC);
    attach(on.err, 2, err, O_WRONLY | O_CREAT | O_TRUNC);
    close(master);
    close(slave);
    execv(HEED_BINARY, argv.data());
    _exit(127);
  }
  close(slave);
  if (on.in) {
    // Canonical mode: lines reach heed as they are "typed"; Ctrl-D at the
    // start of a line ends the input.
    std::string typed = input;
    if (!typed.empty() && typed.back() != '\n')
      typed += '\n';
    typed += '\x04';
    (void)!write(master, typed.data(), typed.size());
  }
  TerminalResult r;
  char buffer[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 120'000) <= 0)
      break; // no output for two minutes: give up, the checks will fail
    const ssize_t n = read(master, buffer, sizeof buffer);
    if (n <= 0)
      break; // EIO once heed (every holder of the terminal) has exited
    r.screen.append(buffer, static_cast<size_t>(n));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

std::vector<std::string> visible_lines(const std::string &screen) {
  std::vector<std::string> lines;
  std::string line;
  size_t column = 0;
  for (size_t i = 0; i < screen.size(); ++i) {
    const char c = screen[i];
    if (c == '\r') {
      column = 0;
    } else if (c == '\n') {
      lines.push_back(line);
      line.clear();
      column = 0;
    } else if (c == '\033' && screen.compare(i, 3, "\033[K") == 0) {
      line.resize(std::min(line.size(), column));
      i += 2;
    } else {
      if (column < line.size())
        line[column] = c;
      else
        line.push_back(c);
      ++column;
    }
  }
  if (!line.empty())
    lines.push_back(line);
  return lines;
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
