// Which model directory heed uses when the command line names none.
//
// heed ships a model (models/multi30k-en-de) so that it translates out of the
// box. The lookup is relative to the heed executable, never to the working
// directory, so `heed translate "..."` works wherever it is run from:
//   1. the -m/--model flag;
//   2. the HEED_MODEL environment variable;
//   3. <exe dir>/../models/multi30k-en-de        (the build tree: build/heed)
//      <exe dir>/../share/heed/models/multi30k-en-de (an install: PREFIX/bin/heed)
//      <exe dir>/models/multi30k-en-de           (a binary unpacked beside models/)
//   4. the source tree's models/multi30k-en-de, recorded when the build was
//      configured (HEED_SOURCE_MODELS_DIR): a build directory anywhere, such as
//      `cmake -S . -B /tmp/anywhere`, finds the model it was built beside.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace heed::app {

inline constexpr const char *kDefaultModelName = "multi30k-en-de";
inline constexpr const char *kModelEnvironmentVariable = "HEED_MODEL";

// The directories searched for the shipped model, in order, for an executable
// at `executable`: three relative to it, then the source tree's.
std::vector<std::filesystem::path>
default_model_candidates(const std::filesystem::path &executable);

// The first of `candidates` holding a config.json or an ensemble.yml. Throws ModelError listing
// them all when none does.
std::string first_model_dir(const std::vector<std::filesystem::path> &candidates);

// The running executable (/proc/self/exe), or an empty path when unknown.
std::filesystem::path current_executable();

// The model directory to load: `flag_value` when given, else $HEED_MODEL when
// set and non-empty, else the first candidate holding a config.json (or an
// ensemble.yml: the caller expands it, options.h). Throws
// ModelError when HEED_MODEL names no directory (as loading `-m` with no such
// directory does: the same mistake, the same exit code), and ModelError
// listing the places searched when there is no default model.
std::string resolve_model_dir(const std::string &flag_value);

} // namespace heed::app
