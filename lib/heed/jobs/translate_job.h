// `heed translate`, `heed attention` and `heed score` as library calls:
// everything between parsed options and the engine (files, the translate loop
// of streaming.h, resume, sharding, progress, sinks), so the command line only
// maps flags onto these structs. Errors name the fields of these structs; the
// command line checks its flags before.
#pragma once

#include <atomic>
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
  // Further models translating with model_dir as an ensemble (Translator:
  // the weighted sum of their log-probabilities, weights in
  // options.ensemble_weights), in order after it; empty for one model.
  std::vector<std::string> ensemble_dirs;
  LoadOptions load;
  TranslationOptions options;
  std::vector<std::string> texts; // sentences given as arguments (else input)
  std::string input;              // file, or "" / "-" for standard input
  std::string output;             // file, or "" / "-" for standard output
  OutputFormat format = OutputFormat::text;
  int64_t window = 0;  // lines read ahead and sorted, at most kMaxWindow; 0 = automatic
  bool resume = false; // continue an interrupted run into `output`
  io::Shard shard;
  bool strict = false; // reject invalid UTF-8 instead of repairing it
  // The bar on stderr. Default: when stderr is a terminal and the input is not
  // one (a person typing lines sees no bar) and lines come from `input`.
  std::optional<bool> progress;
  bool quiet = false;                       // no bar and no summary line
  std::string attention_path;               // dump attention maps (directory, .npz or .json)
  std::optional<AlignmentFormat> alignment; // append word alignments to the output
  // Append each token's log-probability (outputs/writers.h: Marian's
  // WordScores= field in text, "token_scores" and "pieces" in JSONL).
  bool word_scores = false;
  // A file of target prefixes, one per input line ("" for none; empty lines:
  // none), instead of options.target_prefix (jobs/streaming.h).
  std::string target_prefix_file;
  // When it holds a non-zero value (a signal's number), the run stops after the
  // batch in progress, closes its outputs and returns.
  const std::atomic<int> *interrupted = nullptr;
};

struct TranslateResult {
  bool interrupted = false; // stopped early by `TranslateJob::interrupted`
  // Inputs (of the shard) whose outputs are complete in the output: kept from
  // an earlier run plus written by this one.
  int64_t complete = 0;
  int64_t kept = 0; // of which kept from an earlier run (resume)
};

// `heed attention`: translate a few sentences and write a page to look at.
struct AttentionPageJob {
  std::string model_dir;
  std::vector<std::string> ensemble_dirs; // as TranslateJob's: the maps are the first model's
  LoadOptions load;
  TranslationOptions options;
  std::vector<std::string> texts;
  std::string input; // a file of sentences when no texts are given
  std::string html_path;
  std::string attention_path; // optionally also the arrays
};

void run_attention_page(const AttentionPageJob &job);

// Runs the job: sentences given as `texts` and lines of `input` go through the
// same loop (windows, repair, shards). The output and attention paths are
// checked before the model is loaded; an existing output file is replaced only
// once the first window of translations is ready (io/deferred_output_file.h).
// Throws heed errors (OptionError, ModelError, IoError). Runs on the process's
// compute threads (ops/context.h).
TranslateResult run_translate(const TranslateJob &job);

struct ScoreJob {
  std::string model_dir;
  std::vector<std::string> ensemble_dirs; // as TranslateJob's: the score of the ensemble
  LoadOptions load;
  TranslationOptions options;
  std::string source, target, output;
  OutputFormat format = OutputFormat::text;
};

void run_score(const ScoreJob &job);

} // namespace heed
