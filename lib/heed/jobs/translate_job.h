// `heed translate`, `heed attention` and `heed score` as library calls:
// everything between parsed options and the engine (files, the translate loop
// of streaming.h, resume, sharding, progress, sinks), so the command line only
// maps flags onto these structs. Errors name the fields of these structs; the
// command line checks its flags before.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "heed/decoding/translation_options.h"
#include "heed/io/shards.h"
#include "heed/model/marian_model.h"
#include "heed/outputs/alignment.h"
#include "heed/outputs/writers.h"

namespace heed {

// The largest --window: each line held can be up to 1 MiB (io::LineReader).
inline constexpr int64_t kMaxWindow = 65'536;

struct TranslateJob {
  std::string model_dir;
  LoadOptions load;
  TranslationOptions options;
  std::vector<std::string> texts; // sentences given as arguments (else input)
  std::string input;              // file, or "" / "-" for standard input
  std::string output;             // file, or "" / "-" for standard output
  OutputFormat format = OutputFormat::text;
  int64_t window = 0;  // lines read ahead and sorted, at most kMaxWindow; 0 = automatic
  bool resume = false; // continue an interrupted run into `output`
  io::Shard shard;
  bool strict = false;                      // reject invalid UTF-8 instead of repairing it
  std::optional<bool> progress;             // bar on stderr; default: when stderr is a terminal
  bool quiet = false;                       // no summary line
  std::string attention_path;               // dump attention maps (directory, .npz or .json)
  std::optional<AlignmentFormat> alignment; // append word alignments to the output
};

// `heed attention`: translate a few sentences and write a page to look at.
struct AttentionPageJob {
  std::string model_dir;
  LoadOptions load;
  TranslationOptions options;
  std::vector<std::string> texts;
  std::string input; // a file of sentences when no texts are given
  std::string html_path;
  std::string attention_path; // optionally also the arrays
};

void run_attention_page(const AttentionPageJob &job);

// Runs the job: sentences given as `texts` and lines of `input` go through the
// same loop (windows, repair, shards). Throws heed errors (OptionError,
// ModelError, IoError). Runs on the process's compute threads (ops/context.h).
void run_translate(const TranslateJob &job);

struct ScoreJob {
  std::string model_dir;
  LoadOptions load;
  TranslationOptions options;
  std::string source, target, output;
  OutputFormat format = OutputFormat::text;
};

void run_score(const ScoreJob &job);

} // namespace heed
