#include "app/options.h"

#include <iostream>

#include "heed/core/error.h"
#include "heed/core/parse_number.h"
#include "heed/io/printable.h"
#include "heed/ops/context.h"
#include "heed/ops/cpu_isa.h"

namespace heed::app {

CLI::Validator at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string &value) -> std::string {
        const ParsedInteger n = parse_integer(value);
        if (n.out_of_range)
          return "is out of range: " + value;
        if (!n.value)
          return "must be a whole number, got '" + value + "'";
        if (*n.value < min)
          return "must be at least " + std::to_string(min) + ", got " + value;
        return "";
      },
      min > 0 ? "POSITIVE" : "NONNEGATIVE");
}

CLI::Validator non_negative_number() {
  return CLI::Validator(
      [](std::string &value) -> std::string {
        const auto x = parse_real(value);
        if (!x)
          return "must be a number, got '" + value + "'";
        if (!(*x >= 0))
          return "must be at least 0, got " + value;
        return "";
      },
      "NONNEGATIVE");
}

void warn(const std::string &message) {
  std::cerr << "heed: warning: " << io::printable(message, 4096) << '\n';
}

void add_model_option(CLI::App *cmd, std::string &model_dir) {
  cmd->add_option("-m,--model", model_dir,
                  "Hugging Face MarianMT model directory (default: $HEED_MODEL, else the shipped "
                  "multi30k-en-de model next to the heed binary)");
}

void add_compute_type_option(CLI::App *cmd, std::string &value) {
  cmd->add_option("--compute-type", value,
                  "Dense-layer arithmetic: float32, int8 (per-channel int8 weights), bfloat16 "
                  "(AVX512-BF16 or AMX only) or auto (default: the model's own, int8 or "
                  "bfloat16 for models written by heed convert --quantize, else float32)")
      ->check(CLI::IsMember({"float32", "int8", "bfloat16", "auto"}));
}

LoadOptions load_options(const std::string &compute_type) {
  LoadOptions o;
  if (compute_type == "float32")
    o.compute_type = ops::ComputeType::float32;
  else if (compute_type == "int8")
    o.compute_type = ops::ComputeType::int8;
  else if (compute_type == "bfloat16") {
    if (!ops::has_bfloat16_kernels())
      throw OptionError("--compute-type bfloat16: " + ops::bfloat16_unavailable_reason());
    o.compute_type = ops::ComputeType::bfloat16;
  }
  return o;
}

void add_decoding_options(CLI::App *cmd, TranslationOptions &o, DecodingFlags &flags) {
  cmd->add_option("--beam-size,-b", o.beam_size,
                  "Beam size; 1 = greedy (default: num_beams of the model's generation config)")
      ->check(at_least(1));
  cmd->add_option("--n-best", o.n_best, "Hypotheses per sentence (at most the beam size)")
      ->check(at_least(1));
  cmd->add_option("--length-penalty", o.length_penalty,
                  "Exponent of the beam score length normalisation (default: the model's)");
  cmd->add_option("--early-stopping", flags.early_stopping,
                  "Beam stopping rule as in transformers: false (heuristic), true, never")
      ->check(CLI::IsMember({"false", "true", "never"}));
  cmd->add_option("--max-length", o.max_length,
                  "Decoder length limit, start token included (default: the model's)")
      ->check(at_least(1));
  cmd->add_option("--max-new-tokens", o.max_new_tokens,
                  "Limit on generated tokens, EOS included; overrides --max-length")
      ->check(at_least(1));
  cmd->add_option("--max-length-ratio", o.max_length_ratio,
                  "Also cap each batch's generated tokens at RATIO x its longest source, in "
                  "tokens (default 0: off)")
      ->check(non_negative_number());
}

void apply_decoding_flags(const DecodingFlags &flags, TranslationOptions &o) {
  // Without --beam-size the beam comes from the model: the library checks
  // n_best against it once the model is loaded.
  if (o.beam_size && o.n_best > *o.beam_size)
    throw OptionError("--n-best (" + std::to_string(o.n_best) + ") cannot exceed the beam size (" +
                      std::to_string(*o.beam_size) + ")");
  if (flags.early_stopping)
    o.early_stopping = *flags.early_stopping == "true"    ? EarlyStopping::always
                       : *flags.early_stopping == "never" ? EarlyStopping::never
                                                          : EarlyStopping::heuristic;
}

void add_compute_options(CLI::App *cmd, TranslationOptions &o, ComputeFlags &flags) {
  cmd->add_option("--batch-size", o.batch_size,
                  "Sentences per batch, or padded source tokens with --batch-type tokens "
                  "(default 32)")
      ->check(at_least(1));
  cmd->add_option("--batch-type", flags.batch_type, "Batch by sentences or by tokens")
      ->check(CLI::IsMember({"sentences", "tokens"}));
  cmd->add_option("--threads", flags.threads,
                  "Compute threads, at most 4 x the CPUs available (default: physical cores)")
      ->check(at_least(0));
}

void apply_compute_flags(const ComputeFlags &flags, TranslationOptions &o) {
  o.batch_type = parse_batch_type(flags.batch_type, "--batch-type");
  ops::set_num_threads(flags.threads);
}

void add_attention_options(CLI::App *cmd, AttentionFlags &flags) {
  cmd->add_option("--attention-kind", flags.kinds,
                  "Attention to record: cross (default), encoder, decoder or all; "
                  "comma lists allowed");
  cmd->add_option("--attention-layers", flags.layers,
                  "Layers to keep: all (default), mean, max or indices like 0,-1");
  cmd->add_option("--attention-heads", flags.heads,
                  "Heads to keep: all (default), mean, max or indices like 0,3");
}

void apply_attention_flags(const AttentionFlags &flags, AttentionRequest &request) {
  if (!flags.kinds.empty())
    request.set_kinds(flags.kinds, "--attention-kind");
  if (!flags.layers.empty())
    request.layers = IndexSelection::parse(flags.layers, "--attention-layers");
  if (!flags.heads.empty())
    request.heads = IndexSelection::parse(flags.heads, "--attention-heads");
}

void add_sentence_options(CLI::App *cmd, TranslationOptions &o) {
  cmd->add_flag("--split-sentences", o.split_sentences,
                "Translate each line sentence by sentence (ICU sentence boundaries) and join "
                "the translations with one space: one output line per input line");
  cmd->add_option("--source-language", o.source_language,
                  "Language whose sentence rules apply, e.g. en or pt-BR (default: the "
                  "model's source language when it says, else ICU's root rules)");
}

void add_format_option(CLI::App *cmd, std::string &format) {
  cmd->add_option("--format", format, "Output format: text or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}));
}

} // namespace heed::app
