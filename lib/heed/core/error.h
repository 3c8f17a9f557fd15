// Exception types of the engine. The library never prints or exits: it throws one
// of these with a message naming the file, field, tensor or line at fault, and the
// CLI turns it into one line on stderr and the exit code of its category.
#pragma once

#include <stdexcept>
#include <string>

namespace heed {

// Base of every error heed raises on purpose.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A model directory or one of its files is missing, malformed or inconsistent.
class ModelError : public Error {
public:
  using Error::Error;
};

// Input text or an input/output file cannot be read or written.
class IoError : public Error {
public:
  using Error::Error;
};

// An option value is out of range or options contradict each other. When the
// fault is one option's value, `field` names it as the option structs spell it
// ("beam_size", "threads") and `problem` says what is wrong ("must be at most
// 1024, got 10000"); what() is "field: problem". A front end can name the
// option its own way (the CLI prints --beam-size).
class OptionError : public Error {
public:
  explicit OptionError(const std::string &message) : Error(message) {}
  OptionError(std::string field, std::string problem)
      : Error(field + ": " + problem), field_(std::move(field)), problem_(std::move(problem)) {}

  const std::string &field() const { return field_; }
  const std::string &problem() const { return problem_; }

private:
  std::string field_, problem_;
};

} // namespace heed
