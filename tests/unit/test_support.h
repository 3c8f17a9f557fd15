// Helpers shared by tests: temporary copies of fixture models and running the
// heed binary.
#pragma once

#include <filesystem>
#include <string>

namespace heed::test {

// A fresh copy of tests/data/NAME in a temporary directory.
std::filesystem::path copy_fixture(const std::string &name, const std::string &copy_name);

// Replaces the first occurrence of `from` with `to` in a text file.
void replace_in_file(const std::filesystem::path &path, const std::string &from,
                     const std::string &to);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `heed ARGS` through the shell with `stdin_text` on standard input.
CommandResult run_heed(const std::string &args, const std::string &stdin_text = "");

std::filesystem::path temp_dir();

} // namespace heed::test
