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

// An option value is out of range or options contradict each other.
class OptionError : public Error {
public:
  using Error::Error;
};

} // namespace heed
