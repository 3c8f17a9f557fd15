#include "app/options.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "app/default_model.h"
#include "heed/core/error.h"
#include "heed/core/parse_number.h"
#include "heed/model/ensemble_manifest.h"
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

namespace {

// A real number, or nothing at all (a flag whose value is optional).
CLI::Validator optional_number() {
  return CLI::Validator(
      [](std::string &value) -> std::string {
        if (!value.empty() && !parse_real(value))
          return "must be a number, got '" + value + "'";
        return "";
      },
      "[NUMBER]");
}

} // namespace

void add_model_option(CLI::App *cmd, std::string &model_dir) {
  cmd->add_option("-m,--model", model_dir,
                  "Hugging Face MarianMT model directory (default: $HEED_MODEL, else the shipped "
                  "multi30k-en-de model next to the heed binary)");
}

void add_ensemble_options(CLI::App *cmd, EnsembleFlags &flags) {
  // One directory per -m: a list after one -m would swallow the sentences
  // given as arguments.
  cmd->add_option("-m,--model", flags.models,
                  "Model directory (default: $HEED_MODEL, else the shipped multi30k-en-de model "
                  "next to the heed binary), or an ensemble directory (ensemble.yml listing its "
                  "members and weights); repeat -m for an ensemble: the "
                  "models decode side by side on the weighted sum of their log-probabilities, as "
                  "Marian's ensembles (all must share the source and target vocabularies; the "
                  "first model's tokenizer, length limits and generation config apply, and "
                  "attention and alignments are the first model's)")
      ->allow_extra_args(false);
  cmd->add_option("--ensemble-weights", flags.weights,
                  "Weights of the -m models in the ensemble's sum of log-probabilities, one "
                  "positive number per -m, comma-separated, e.g. 0.6,0.4 (Marian's --weights; "
                  "default: 1 each, not 1/N, as Marian)");
}

void apply_ensemble_flags(const EnsembleFlags &flags, std::string &model_dir,
                          std::vector<std::string> &ensemble_dirs, TranslationOptions &o) {
  // Each -m (or the default model) is one model, or an ensemble directory
  // whose members, with its weights, take its place (model/ensemble_manifest.h).
  std::vector<std::string> given = flags.models;
  if (given.empty())
    given.push_back(resolve_model_dir(""));
  std::vector<std::string> members;
  std::vector<double> manifest_weights;
  bool manifest = false;
  for (const auto &path : given) {
    if (is_ensemble_manifest(path)) {
      const EnsembleManifest m = read_ensemble_manifest(path);
      // The first -m's decoding defaults stand in for its first member's
      // generation config, unless the flags give their own.
      if (members.empty()) {
        if (m.beam_size && !o.beam_size)
          o.beam_size = m.beam_size;
        if (m.length_penalty && !o.length_penalty)
          o.length_penalty = m.length_penalty;
      }
      members.insert(members.end(), m.models.begin(), m.models.end());
      manifest_weights.insert(manifest_weights.end(), m.weights.begin(), m.weights.end());
      manifest = true;
    } else {
      members.push_back(path);
      manifest_weights.push_back(1.0);
    }
  }
  model_dir = members.front();
  ensemble_dirs.assign(members.begin() + 1, members.end());
  o.ensemble_weights.clear();
  if (!flags.weights) {
    if (manifest)
      o.ensemble_weights = manifest_weights;
    return;
  }
  const size_t models = members.size();
  std::string_view rest = *flags.weights;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string item(rest.substr(0, comma));
    const auto w = parse_real(item);
    if (!w)
      throw OptionError("--ensemble-weights: '" + item +
                        "' is not a number (give one positive number per -m, comma-separated)");
    if (!(*w > 0) || !std::isfinite(*w))
      throw OptionError("--ensemble-weights: " + item + " is not a positive finite number");
    o.ensemble_weights.push_back(*w);
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  if (o.ensemble_weights.size() != models)
    throw OptionError("--ensemble-weights: " + std::to_string(o.ensemble_weights.size()) +
                      " weight" + (o.ensemble_weights.size() == 1 ? "" : "s") + " for " +
                      std::to_string(models) + " model" + (models == 1 ? "" : "s") +
                      (manifest ? ": give one per model (an ensemble directory counts each "
                                  "of its members)"
                                : ": give one per -m"));
}

std::string single_model_dir(const std::string &flag_value, const std::string &command) {
  const std::string dir = resolve_model_dir(flag_value);
  if (is_ensemble_manifest(dir)) {
    const EnsembleManifest m = read_ensemble_manifest(dir);
    std::string members;
    for (const auto &member : m.models)
      members += (members.empty() ? "" : ", ") + member;
    throw OptionError("-m: " + dir + " is an ensemble (" + m.path + "); heed " + command +
                      " works on one model: pass -m with one of its members (" + members + ")");
  }
  return dir;
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
                  "Beam size; 1 = greedy (default: num_beams of the model's generation config, "
                  "else 1)")
      ->check(at_least(1));
  cmd->add_option("--n-best,--num-hypotheses", o.n_best,
                  "Hypotheses per sentence, at most the beam size (default 1). Unlike Marian's "
                  "--n-best switch, it takes the count")
      ->check(at_least(1));
  auto *penalty = cmd->add_option(
      "--length-penalty", o.length_penalty,
      "Exponent of the beam score length normalisation: score = sum of log-probs / length^X "
      "(default: length_penalty of the model's generation config, else 1)");
  auto *normalize =
      cmd->add_option("--normalize", flags.normalize,
                      "Marian's spelling of --length-penalty; without a value, 1 as in Marian "
                      "(default: --length-penalty's)")
          ->expected(0, 1)
          ->check(optional_number());
  penalty->excludes(normalize);
  cmd->add_option("--early-stopping", flags.early_stopping,
                  "Beam stopping rule as in transformers: false (heuristic), true, never "
                  "(default: early_stopping of the model's generation config, else false)")
      ->check(CLI::IsMember({"false", "true", "never"}));
  auto *max_length = cmd->add_option("--max-length", o.max_length,
                                     "Decoder length limit, start token included, as "
                                     "transformers' max_length (default: the model's; not "
                                     "Marian's --max-length, which limits the source)")
                         ->check(at_least(1));
  auto *max_new =
      cmd->add_option("--max-new-tokens,--max-decoding-length", o.max_new_tokens,
                      "Limit on generated tokens, EOS included, instead of --max-length "
                      "(default: none; CTranslate2's --max-decoding-length)")
          ->check(at_least(1));
  max_new->excludes(max_length);
  cmd->add_option("--max-length-ratio,--max-length-factor", o.max_length_ratio,
                  "Also cap each sentence's generated tokens at RATIO x its source, in "
                  "tokens, as Marian's --max-length-factor (default 0: off)")
      ->check(non_negative_number());
  auto *min_length = cmd->add_option("--min-length", o.min_length,
                                     "Decoder length, start token included, before which EOS "
                                     "is banned, as transformers' min_length (default: the "
                                     "model's generation config, else 0)")
                         ->check(at_least(0));
  cmd->add_option("--min-new-tokens", o.min_new_tokens,
                  "Generated tokens, EOS excluded, before which EOS is banned, instead of "
                  "--min-length (default: the model's generation config, else none)")
      ->check(at_least(0))
      ->excludes(min_length);
  cmd->add_option("--repetition-penalty", o.repetition_penalty,
                  "Penalise tokens already generated: a positive score is divided by X, a "
                  "negative one multiplied, as transformers' repetition_penalty; 1 = off, "
                  "1.2 is common (default: the model's generation config, else 1)");
  cmd->add_option("--no-repeat-ngram-size", o.no_repeat_ngram_size,
                  "Never generate an n-gram of N tokens twice, as transformers' "
                  "no_repeat_ngram_size; 0 = off (default: the model's generation config, "
                  "else 0)")
      ->check(at_least(0));
  cmd->add_flag("--sampling", flags.sampling,
                "Sample each token instead of searching (transformers' do_sample), one beam; "
                "reproducible: each line draws from its own generator, seeded by --seed and "
                "its line number (default: the model's generation config's do_sample, else "
                "off)");
  cmd->add_flag("--no-sampling", flags.no_sampling,
                "Search even when the model's generation config sets do_sample (default: "
                "off)");
  cmd->add_option("--temperature", o.temperature,
                  "Sampling: divide the scores by X before drawing; below 1 sharper, above 1 "
                  "flatter (default: the model's generation config, else 1)");
  cmd->add_option("--top-k", o.top_k,
                  "Sampling: draw among the K most likely tokens only; 0 = all (default: the "
                  "model's generation config, else 50, as transformers)")
      ->check(at_least(0));
  cmd->add_option("--top-p", o.top_p,
                  "Sampling (nucleus): draw among the fewest most likely tokens whose "
                  "probabilities sum to at least P, in (0, 1]; 1 = all (default: the model's "
                  "generation config, else 1)");
  cmd->add_option("--seed", o.seed,
                  "Sampling: the seed; the same seed gives the same output whatever the "
                  "batching, threads, shards or resume point (default 0)")
      ->check(at_least(0));
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
  if (flags.sampling && flags.no_sampling)
    throw OptionError("--sampling and --no-sampling contradict each other");
  if (flags.sampling || flags.no_sampling)
    o.sampling = flags.sampling;
  if (flags.normalize)
    o.length_penalty = flags.normalize->empty() ? 1.0 : *parse_real(*flags.normalize);
}

void add_compute_options(CLI::App *cmd, TranslationOptions &o, ComputeFlags &flags) {
  cmd->add_option("--batch-size,--mini-batch", flags.batch_size,
                  "Sentences per batch, or padded source tokens with --batch-type tokens "
                  "(default: " +
                      std::to_string(kSentenceBatch) + " sentences, " +
                      std::to_string(kTokenBatch) + " tokens; Marian: --mini-batch)")
      ->check(at_least(1));
  cmd->add_option("--batch-type", flags.batch_type,
                  "Batch by sentences or by tokens (default: sentences)")
      ->check(CLI::IsMember({"sentences", "tokens"}));
  cmd->add_option("--threads,--cpu-threads", flags.threads,
                  "Compute threads; 0 = one per physical core, at most 4 x the CPUs available "
                  "(default 0; Marian: --cpu-threads)")
      ->check(at_least(0));
}

void apply_compute_flags(const ComputeFlags &flags, TranslationOptions &o) {
  o.batch_type = parse_batch_type(flags.batch_type, "--batch-type");
  o.batch_size =
      flags.batch_size.value_or(o.batch_type == BatchType::tokens ? kTokenBatch : kSentenceBatch);
  ops::set_num_threads(flags.threads);
}

std::string AttentionFlags::first_given() const {
  if (!kinds.empty())
    return "--attention-kind";
  if (!layers.empty())
    return "--attention-layers";
  if (!heads.empty())
    return "--attention-heads";
  return "";
}

void add_attention_options(CLI::App *cmd, AttentionFlags &flags, const std::string &default_kinds,
                           bool alignment) {
  const std::string for_alignment = alignment ? "; with --alignment alone: " : "";
  cmd->add_option("--attention-kind", flags.kinds,
                  "Attention to record: cross, encoder, decoder or all; comma lists allowed "
                  "(default: " +
                      default_kinds + ")");
  cmd->add_option("--attention-layers", flags.layers,
                  "Layers to keep: all, mean, max or indices like 0,-1 (default: all" +
                      (alignment ? for_alignment + "-1, the last" : "") + ")");
  cmd->add_option("--attention-heads", flags.heads,
                  "Heads to keep: all, mean, max or indices like 0,3 (default: all" +
                      (alignment ? for_alignment + "mean" : "") + ")");
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

void add_target_language_option(CLI::App *cmd, TranslationOptions &o) {
  cmd->add_option(
      "--target-language", o.target_language,
      "Multilingual models (opus-mt-en-ROMANCE, opus-mt-en-mul): the language to "
      "translate into, as the model's code, e.g. spa; puts >>spa<< in front of each "
      "source that has no code (heed info lists the codes; default: none, the sources as "
      "given)");
}

void add_format_option(CLI::App *cmd, std::string &format) {
  cmd->add_option("--format", format, "Output format: text or jsonl (default: text)")
      ->check(CLI::IsMember({"text", "jsonl"}));
}

void add_quiet_option(CLI::App *cmd, bool &quiet) {
  cmd->add_flag("-q,--quiet,--quiet-translation", quiet,
                "Only errors on stderr: no progress bar, summary or warnings "
                "(Marian: --quiet-translation)");
}

} // namespace heed::app
