// The flag groups several subcommands share, and the validators of flag
// values. The command line checks each value once, here, naming the flag;
// the library's own checks name the field (heed/decoding/translation_options.h).
// Every option's help states its default. Where Marian or CTranslate2 spell
// an option differently and mean the same, their spelling is an alias (README
// "Usage" lists them with the differences).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/warnings.h"
#include "heed/decoding/translation_options.h"
#include "heed/model/marian_model.h"

namespace heed::app {

// Whole numbers of at least `min` (core/parse_number.h). CLI11's own range
// checks report "not in range 0.000000 to 1.797...e308", which names neither
// the limit nor the type.
CLI::Validator at_least(int64_t min);
// Non-negative real numbers, with a message to match at_least().
CLI::Validator non_negative_number();

// -m is optional everywhere: heed falls back to $HEED_MODEL, then to the model
// shipped beside the binary (default_model.h).
void add_model_option(CLI::App *cmd, std::string &model_dir);

// translate and score: -m repeated for an ensemble (Marian's -m A B, here
// -m A -m B), and --ensemble-weights W1,W2,... (Marian's --weights).
struct EnsembleFlags {
  std::vector<std::string> models; // as typed; empty: the default model
  std::optional<std::string> weights;
};
void add_ensemble_options(CLI::App *cmd, EnsembleFlags &flags);
// The models of the -m flags into `model_dir` (the first) and
// `ensemble_dirs` (the others), and their weights into o.ensemble_weights:
// each -m, or the default model (resolve_model_dir) when none is given, is one
// model or an ensemble directory (model/ensemble_manifest.h) whose members
// take its place with the manifest's weights (and, for the first -m, its
// beam-size and normalize where o has no beam size or length penalty from the
// flags). --ensemble-weights, when given,
// replaces those: OptionError naming it unless it is one positive number per
// model after that expansion. ModelError from a malformed manifest.
void apply_ensemble_flags(const EnsembleFlags &flags, std::string &model_dir,
                          std::vector<std::string> &ensemble_dirs, TranslationOptions &o);
// The model directory of a command that works on one model (resolve_model_dir);
// OptionError naming -m, the manifest and its members when it is an ensemble.
std::string single_model_dir(const std::string &flag_value, const std::string &command);

// --compute-type: float32, int8, bfloat16 or auto.
void add_compute_type_option(CLI::App *cmd, std::string &value);
// The load options for a --compute-type value.
LoadOptions load_options(const std::string &compute_type);

// Search flags: --beam-size, --n-best, --length-penalty (Marian: --normalize),
// --early-stopping, --max-length, --max-new-tokens (CTranslate2:
// --max-decoding-length), --max-length-ratio (Marian: --max-length-factor),
// the logits processors (--min-length, --min-new-tokens, --repetition-penalty,
// --no-repeat-ngram-size) and sampling (--sampling, --temperature, --top-k,
// --top-p, --seed).
struct DecodingFlags {
  std::optional<std::string> early_stopping;
  // Marian's --normalize [X]: the length penalty, 1 when given without a value.
  std::optional<std::string> normalize;
  bool sampling = false, no_sampling = false;
};
void add_decoding_options(CLI::App *cmd, TranslationOptions &o, DecodingFlags &flags);
// Checks what the flags say together (--n-best within --beam-size, one length
// limit, one length penalty) and maps them onto `o`.
void apply_decoding_flags(const DecodingFlags &flags, TranslationOptions &o);

// Batching and compute flags: --batch-size (Marian: --mini-batch),
// --batch-type, --threads (Marian: --cpu-threads).
struct ComputeFlags {
  std::string batch_type = "sentences";
  std::optional<int64_t> batch_size; // default: kSentenceBatch or kTokenBatch
  int threads = 0;                   // 0 = physical cores
};
// The default batch sizes: 32 sentences, or 4096 padded source tokens (about
// 32 sentences of 128 tokens: heed's sentence default on long lines, more
// sentences on short ones).
constexpr int64_t kSentenceBatch = 32;
constexpr int64_t kTokenBatch = 4096;
void add_compute_options(CLI::App *cmd, TranslationOptions &o, ComputeFlags &flags);
// Maps the flags onto `o` and sets the process's compute threads.
void apply_compute_flags(const ComputeFlags &flags, TranslationOptions &o);

// --attention-kind, --attention-layers, --attention-heads.
struct AttentionFlags {
  std::string kinds, layers, heads;
  // The first of these flags given ("--attention-layers"), or "" when none is.
  std::string first_given() const;
};
// `default_kinds` is what is recorded without --attention-kind, for the help;
// `alignment`: the command has --alignment, which has defaults of its own.
void add_attention_options(CLI::App *cmd, AttentionFlags &flags, const std::string &default_kinds,
                           bool alignment);
void apply_attention_flags(const AttentionFlags &flags, AttentionRequest &request);

// Sentence splitting (heed/decoding/line_inputs.h): --split-sentences,
// --source-language.
void add_sentence_options(CLI::App *cmd, TranslationOptions &o);

// --format: text or jsonl.
// --target-language CODE (translate, score, attention).
void add_target_language_option(CLI::App *cmd, TranslationOptions &o);
void add_format_option(CLI::App *cmd, std::string &format);

// -q/--quiet (Marian: --quiet-translation): only errors on stderr.
void add_quiet_option(CLI::App *cmd, bool &quiet);

} // namespace heed::app
