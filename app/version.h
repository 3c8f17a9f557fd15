// What `heed --version` prints: heed's version and build type, and the oneDNN
// library and instruction set the process computes with, the facts a bug
// report or a speed comparison needs.
#pragma once

#include <string>

namespace heed::app {

// Several lines, each "name: value", ending with a newline.
std::string version_text();

} // namespace heed::app
