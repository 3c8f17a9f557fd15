#include "heed/decoding/translator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "heed/core/error.h"
#include "heed/decoding/batch_memory.h"
#include "heed/decoding/batch_workers.h"
#include "heed/decoding/batching.h"
#include "heed/decoding/line_inputs.h"
#include "heed/decoding/search.h"
#include "heed/io/printable.h"
#include "heed/ops/context.h"
#include "heed/text/blank_text.h"

namespace heed {
namespace {

constexpr const char *kNonFiniteScores = "the model produced non-finite scores (NaN or infinity)";
constexpr const char *kNoHypothesis =
    "no hypothesis could be completed (every continuation is banned)";

// bad_words_ids ids must index the logits (transformers' SequenceBiasLogitsProcessor
// raises for ids past the vocabulary), and must leave something to generate: a
// configuration that bans every token (pad is always banned) could only produce
// empty translations with meaningless scores.
void check_bad_words(const GenerationConfig &g, const SearchOptions &s, int64_t vocab) {
  for (size_t i = 0; i < s.bad_words_ids.size(); ++i)
    for (int64_t id : s.bad_words_ids[i])
      if (id >= vocab)
        throw ModelError(g.source + ": field 'bad_words_ids' has the token id " +
                         std::to_string(id) + " in sequence " + std::to_string(i) +
                         ", outside the target vocabulary of " + std::to_string(vocab));
  std::vector<bool> banned(static_cast<size_t>(vocab), false);
  banned[s.pad_token_id] = true;
  for (const auto &words : s.bad_words_ids)
    if (words.size() == 1)
      banned[words[0]] = true;
  if (std::find(banned.begin(), banned.end(), false) == banned.end())
    throw ModelError(g.source + ": field 'bad_words_ids' bans every one of the " +
                     std::to_string(vocab) + " target tokens (with pad_token_id " +
                     std::to_string(s.pad_token_id) + "): nothing could be generated");
}

// --target-language must name a code the model knows: a code outside the
// vocabulary would be one <unk> token, and the model would pick a language.
void check_target_language(const Tokenizer &tokenizer, const std::string &code) {
  if (code.empty())
    return;
  const std::vector<std::string> codes = tokenizer.target_languages();
  if (std::find(codes.begin(), codes.end(), code) != codes.end())
    return;
  if (codes.empty())
    throw OptionError("target_language",
                      "'" + io::printable(code) +
                          "': the model has one target language (its vocabulary has no "
                          ">>CODE<< entries)");
  std::string list;
  for (const auto &c : codes)
    list += (list.empty() ? "" : ", ") + c;
  throw OptionError("target_language", "'" + io::printable(code) +
                                           "' is not one of the model's target languages: " + list);
}

// An ensemble member must read the sources and write the targets as the first
// does: one vocabulary on each side, id for id, and at least its positions.
void check_ensemble_member(const MarianModel &first, const MarianModel &other) {
  const auto differs = [&](const std::string &what) {
    throw ModelError("ensemble: " + other.directory + " cannot join " + first.directory + ": " +
                     what);
  };
  const auto compare = [&](const Vocabulary &a, const Vocabulary &b, const char *side) {
    if (a.size() != b.size())
      differs(std::string("its ") + side + " vocabulary has " + std::to_string(b.size()) +
              " entries, the first model's " + std::to_string(a.size()) +
              " (ensemble members must share the source and target vocabularies)");
    for (int64_t id = 0; id < a.size(); ++id)
      if (a.piece(id) != b.piece(id))
        differs(std::string("its ") + side + " vocabulary has '" + io::printable(b.piece(id)) +
                "' at id " + std::to_string(id) + " where the first model has '" +
                io::printable(a.piece(id)) +
                "' (ensemble members must share the source and target vocabularies)");
  };
  compare(first.tokenizer->source_vocab(), other.tokenizer->source_vocab(), "source");
  compare(first.tokenizer->target_vocab(), other.tokenizer->target_vocab(), "target");
  if (other.decoder.vocab_size() != first.decoder.vocab_size())
    differs("its output layer scores " + std::to_string(other.decoder.vocab_size()) +
            " target tokens, the first model's " + std::to_string(first.decoder.vocab_size()));
  if (other.config.max_position_embeddings < first.config.max_position_embeddings)
    differs("it has " + std::to_string(other.config.max_position_embeddings) +
            " positions, fewer than the first model's " +
            std::to_string(first.config.max_position_embeddings) +
            " (the first model's length limits apply to every member; put the model with the "
            "fewest positions first)");
}

const std::shared_ptr<const MarianModel> &
first_model(const std::vector<std::shared_ptr<const MarianModel>> &models) {
  if (models.empty() || !models.front())
    throw std::invalid_argument("Translator: no model");
  return models.front();
}

} // namespace

struct Translator::Replica {
  Workspace ws;
  // What each ensemble member computes in (one entry for a single model).
  struct Member {
    Tensor encoder_out, mask;
    DecoderState state;
  };
  std::vector<Member> members;
  std::vector<int64_t> padded_ids, lengths;
  std::unique_ptr<AttentionRecorder> recorder; // only when attention is requested
};

SearchOptions resolve_search_options(const MarianModel &model, const TranslationOptions &o) {
  const GenerationConfig &g = model.generation;
  const MarianConfig &c = model.config;
  check_ranges(o);
  SearchOptions s;
  // Sampling runs one beam (transformers' _sample): without a beam size it
  // uses 1 whatever the generation config's num_beams.
  s.do_sample = o.sampling.value_or(g.do_sample);
  if (s.do_sample && o.beam_size && *o.beam_size > 1)
    throw OptionError("beam_size", "is " + std::to_string(*o.beam_size) +
                                       " with sampling: beam sampling is not implemented "
                                       "(sample with beam size 1, or search without sampling)");
  s.num_beams = o.beam_size.value_or(s.do_sample ? 1 : g.num_beams);
  if (!s.do_sample)
    for (auto [name, set] :
         {std::pair{"temperature", o.temperature.has_value()},
          std::pair{"top_k", o.top_k.has_value()}, std::pair{"top_p", o.top_p.has_value()},
          std::pair{"seed", o.seed.has_value()}})
      if (set)
        throw OptionError(name, "changes only sampling, which is off (turn sampling on)");
  s.temperature = o.temperature.value_or(g.temperature);
  s.top_k = o.top_k.value_or(g.top_k);
  s.top_p = o.top_p.value_or(g.top_p);
  s.seed = o.seed.value_or(0);
  s.repetition_penalty = o.repetition_penalty.value_or(g.repetition_penalty);
  s.no_repeat_ngram_size = o.no_repeat_ngram_size.value_or(g.no_repeat_ngram_size);
  s.n_best = o.n_best;
  if (s.n_best > s.num_beams)
    throw OptionError("n_best (" + std::to_string(s.n_best) + ") cannot exceed the beam size (" +
                      std::to_string(s.num_beams) + ")");
  s.length_penalty = o.length_penalty.value_or(g.length_penalty);
  s.early_stopping = o.early_stopping.value_or(g.early_stopping);
  if (o.max_new_tokens)
    s.max_length = *o.max_new_tokens + 1;
  else if (o.max_length)
    s.max_length = *o.max_length;
  else
    s.max_length = g.effective_max_length();
  if (s.max_length < 2)
    throw OptionError("the length limit must allow at least one generated token (max_length >= 2, "
                      "max_new_tokens >= 1)");
  // Positions 0 .. max_length-2 are fed to the decoder.
  s.max_length = std::min(s.max_length, c.max_position_embeddings + 1);
  // min_new_tokens wins over min_length, as transformers'
  // _prepare_generated_length makes min_length = min_new_tokens + 1 (the
  // decoder start token).
  if (o.min_new_tokens)
    s.min_length = *o.min_new_tokens + 1;
  else if (o.min_length)
    s.min_length = *o.min_length;
  else
    s.min_length = g.min_new_tokens ? *g.min_new_tokens + 1 : g.min_length;
  s.decoder_start_token_id = g.decoder_start_token_id.value_or(c.decoder_start_token_id);
  s.eos_token_id = g.eos_token_id.value_or(c.eos_token_id);
  s.pad_token_id = g.pad_token_id.value_or(c.pad_token_id);
  for (auto [name, id] :
       {std::pair{"decoder_start_token_id", s.decoder_start_token_id},
        std::pair{"eos_token_id", s.eos_token_id}, std::pair{"pad_token_id", s.pad_token_id}})
    if (id >= c.decoder_vocab_size)
      throw ModelError(g.source + ": field '" + name + "' (" + std::to_string(id) +
                       ") is outside the target vocabulary of " +
                       std::to_string(c.decoder_vocab_size));
  s.forced_eos_token_id = g.forced_eos_token_id;
  if (s.forced_eos_token_id && *s.forced_eos_token_id >= c.decoder_vocab_size)
    throw ModelError(g.source + ": field 'forced_eos_token_id' (" +
                     std::to_string(*s.forced_eos_token_id) + ") is outside the target vocabulary");
  s.bad_words_ids = g.bad_words_ids;
  check_bad_words(g, s, c.decoder_vocab_size);
  s.renormalize_logits = g.renormalize_logits;
  return s;
}

Translator::Translator(std::shared_ptr<const MarianModel> model, TranslationOptions options)
    : Translator(std::vector<std::shared_ptr<const MarianModel>>{std::move(model)},
                 std::move(options)) {}

Translator::Translator(std::vector<std::shared_ptr<const MarianModel>> models,
                       TranslationOptions options)
    : models_(std::move(models)), model_(first_model(models_)), options_(std::move(options)),
      splitter_(!options_.source_language.empty() ? options_.source_language
                : model_->source_language         ? model_->source_language->code
                                                  : std::string()) {
  search_ = resolve_search_options(*model_, options_);
  for (size_t i = 1; i < models_.size(); ++i) {
    if (!models_[i])
      throw std::invalid_argument("Translator: no model");
    check_ensemble_member(*model_, *models_[i]);
  }
  if (!options_.ensemble_weights.empty() && options_.ensemble_weights.size() != models_.size())
    throw OptionError("ensemble_weights",
                      "has " + std::to_string(options_.ensemble_weights.size()) + " weight" +
                          (options_.ensemble_weights.size() == 1 ? "" : "s") + " for " +
                          std::to_string(models_.size()) + " model" +
                          (models_.size() == 1 ? "" : "s") + ": give one per model");
  for (size_t i = 0; i < models_.size(); ++i) {
    weights_.push_back(
        options_.ensemble_weights.empty() ? 1.f : static_cast<float>(options_.ensemble_weights[i]));
    configs_.push_back(&models_[i]->config);
  }
  check_target_language(*model_->tokenizer, options_.target_language);
  // A limit the model's position table lowers is said once, not applied
  // silently.
  const int64_t requested = options_.max_new_tokens ? *options_.max_new_tokens + 1
                            : options_.max_length   ? *options_.max_length
                                                    : model_->generation.effective_max_length();
  position_limited_ = requested > search_.max_length;
  if (position_limited_ && options_.warn) {
    const std::string field = options_.max_new_tokens ? "max_new_tokens"
                              : options_.max_length   ? "max_length"
                                                      : model_->generation.source + ": max_length";
    const int64_t asked = options_.max_new_tokens ? *options_.max_new_tokens : requested;
    options_.warn(field + " (" + std::to_string(asked) +
                  ") is more than the model can generate: " + "its " +
                  std::to_string(model_->config.max_position_embeddings) + " positions allow " +
                  std::to_string(search_.max_length - 1) + " tokens, the limit used");
  }
  // The smallest batch these options can run (one sentence of one token)
  // must fit at all; each batch is checked again before it is allocated.
  check_batch_memory(configs_, 1, 1, search_.num_beams, search_.max_length - 1);
  const int workers = static_cast<int>(options_.workers);
  for (int i = 0; i < workers; ++i) {
    replicas_.push_back(std::make_unique<Replica>());
    replicas_.back()->members.resize(models_.size());
    if (options_.attention.any())
      replicas_.back()->recorder =
          std::make_unique<AttentionRecorder>(options_.attention, model_->config);
  }
  if (workers > 1)
    workers_ = std::make_unique<BatchWorkers>(workers, ops::num_threads());
}

Translator::~Translator() = default;
Translator::Translator(Translator &&) noexcept = default;

int64_t Translator::sentence_max_length(int64_t source_length) const {
  if (options_.max_length_ratio <= 0)
    return search_.max_length;
  // Truncating, at least one generated token; +1 for the start token.
  const double cap = std::max(1.0, std::floor(options_.max_length_ratio * source_length));
  return std::min<int64_t>(search_.max_length, static_cast<int64_t>(std::min(cap, 1e9)) + 1);
}

std::vector<int64_t> Translator::encode_source(const std::string &text, int64_t line_number) {
  std::vector<int64_t> ids = model_->tokenizer->encode_source(text);
  const int64_t limit = model_->config.max_position_embeddings;
  if (static_cast<int64_t>(ids.size()) > limit) {
    if (options_.warn)
      options_.warn("line " + std::to_string(line_number) + ": input has " +
                    std::to_string(ids.size()) + " tokens; cropped to the model's maximum of " +
                    std::to_string(limit));
    ids.resize(limit);
    ids.back() = model_->config.eos_token_id;
  }
  return ids;
}

int64_t Translator::encode_batch(Replica &r, const std::vector<std::vector<int64_t>> &ids,
                                 const std::vector<size_t> &indices) {
  std::vector<const std::vector<int64_t> *> batch;
  batch.reserve(indices.size());
  for (size_t i : indices)
    batch.push_back(&ids[i]);
  const int64_t n = static_cast<int64_t>(batch.size());
  const int64_t length = pad_batch(batch, model_->config.pad_token_id, r.padded_ids, r.lengths);
  std::function<AttentionObserver *(size_t)> observer;
  if (r.recorder) {
    r.recorder->start_batch();
    observer = [&r](size_t layer) { return r.recorder->encoder_layer(layer); };
  }
  // Every member encodes the same ids (they share the source vocabulary); the
  // attention recorded is the first member's.
  for (size_t m = 0; m < models_.size(); ++m)
    models_[m]->encoder.forward(r.padded_ids.data(), r.lengths.data(), n, length,
                                r.members[m].encoder_out, r.members[m].mask, r.ws,
                                m == 0 ? observer : std::function<AttentionObserver *(size_t)>());
  // make_batches puts the longest sentence first.
  return static_cast<int64_t>(batch.front()->size());
}

StepScorer Translator::scorer(Replica &r) const {
  if (models_.size() == 1 && weights_.front() == 1.f)
    return StepScorer(model_->decoder, r.members.front().state);
  std::vector<ScorerMember> members;
  for (size_t m = 0; m < models_.size(); ++m)
    members.push_back({&models_[m]->decoder, &r.members[m].state, weights_[m]});
  return StepScorer(std::move(members));
}

namespace {

std::vector<std::vector<size_t>> batches_of(const std::vector<std::vector<int64_t>> &ids,
                                            const TranslationOptions &options) {
  std::vector<int64_t> lengths(ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    lengths[i] = static_cast<int64_t>(ids[i].size());
  return make_batches(lengths, options.batch_type, options.batch_size);
}

} // namespace

std::vector<Translation> Translator::translate(const std::vector<std::string> &sources,
                                               const std::vector<int64_t> *line_numbers,
                                               const BatchDone &on_batch,
                                               const std::vector<std::string> *prefixes) {
  std::vector<Translation> results(sources.size());
  // Every model input: a whole line (sentence -1) or one of its sentences.
  struct Input {
    size_t line;
    int64_t sentence;
  };
  std::vector<Input> inputs;
  std::vector<std::vector<int64_t>> ids;
  // Each input's target prefix ids (empty: none), when any line has one.
  std::vector<std::vector<int64_t>> prefix_ids;
  const bool any_prefix =
      !options_.target_prefix.empty() ||
      (prefixes && std::any_of(prefixes->begin(), prefixes->end(),
                               [](const std::string &p) { return !p.empty(); }));
  std::vector<int64_t> pending(sources.size(), 0); // inputs of each line not yet translated
  const auto line_number = [&](size_t i) {
    return line_numbers ? (*line_numbers)[i] : static_cast<int64_t>(i) + 1;
  };
  LineInputOptions cutting;
  cutting.split_sentences = options_.split_sentences;
  cutting.max_tokens = model_->config.max_position_embeddings;
  cutting.warn = options_.warn;
  int64_t blank = 0;
  for (size_t i = 0; i < sources.size(); ++i) {
    // Blank: invisible characters only (text/blank_text.h), or nothing left
    // once SentencePiece has normalised the text (just EOS).
    LineInputs line;
    if (!is_blank_text(sources[i])) {
      // Spans are of the source as given: a code put in front is taken off.
      const std::string text = with_language_code(sources[i], options_.target_language);
      const size_t shift = text.size() - sources[i].size();
      line = line_inputs(text, line_number(i), *model_->tokenizer, splitter_, cutting);
      for (ModelInput &in : line.inputs)
        in.span = {in.span.begin > shift ? in.span.begin - shift : 0,
                   in.span.end > shift ? in.span.end - shift : 0};
      // A sentence normalised to nothing has nothing to translate either.
      std::erase_if(line.inputs, [](const ModelInput &in) { return in.ids.size() <= 1; });
    }
    if (line.inputs.empty()) {
      results[i].hypotheses.assign(search_.n_best, TranslationHypothesis{});
      ++blank;
      continue;
    }
    Translation &t = results[i];
    std::vector<int64_t> prefix;
    if (any_prefix) {
      const std::string &text = prefixes ? (*prefixes)[i] : options_.target_prefix;
      if (!is_blank_text(text))
        prefix = model_->tokenizer->encode_target_prefix(text);
    }
    for (size_t k = 0; k < line.inputs.size(); ++k) {
      ids.push_back(line.inputs[k].ids);
      inputs.push_back({i, line.by_sentences ? static_cast<int64_t>(k) : -1});
      if (any_prefix)
        prefix_ids.push_back(k == 0 ? prefix : std::vector<int64_t>());
      if (line.by_sentences)
        t.sentences.push_back({line.inputs[k].span, std::move(line.inputs[k].ids), {}});
      else
        t.source_ids = std::move(line.inputs[k].ids);
    }
    pending[i] = static_cast<int64_t>(line.inputs.size());
  }
  if (on_batch && blank > 0)
    on_batch(blank, 0);

  const int64_t group = search_.num_beams;
  const auto batches = batches_of(ids, options_);
  // Each batch's hypotheses, one list per row, from the worker that ran it
  // until they are handed on in batch order (texts are decoded then).
  std::vector<std::vector<std::vector<TranslationHypothesis>>> decoded(batches.size());
  const auto work = [&](int worker, size_t k) {
    Replica &r = *replicas_[static_cast<size_t>(worker)];
    const std::vector<size_t> &indices = batches[k];
    const int64_t longest_source = encode_batch(r, ids, indices);
    SearchOptions search = search_;
    // Each sentence's limit from its own length: its translation does not
    // depend on the sentences it is batched with.
    // search.max_length stays the batch's largest: the decoder caches' capacity.
    if (options_.max_length_ratio > 0) {
      for (size_t i : indices)
        search.sentence_max_length.push_back(
            sentence_max_length(static_cast<int64_t>(ids[i].size())));
      search.max_length =
          *std::max_element(search.sentence_max_length.begin(), search.sentence_max_length.end());
    }
    if (any_prefix)
      for (size_t i : indices)
        search.sentence_prefix.push_back(prefix_ids[i]);
    const int64_t n = static_cast<int64_t>(indices.size());
    check_batch_memory(configs_, n, longest_source, group, search.max_length - 1);
    for (size_t m = 0; m < models_.size(); ++m) {
      Replica::Member &member = r.members[m];
      models_[m]->decoder.start(member.state, member.encoder_out, member.mask, n,
                                member.encoder_out.dim(0) / n, group, search.max_length - 1);
    }
    // The encoder's scratch (its feed-forward and score buffers, the largest)
    // is dead once the decoder has projected the encoder's output: freed
    // here, it does not sit beside the decoder's caches at their fullest.
    r.ws = Workspace();
    StepScorer step_scorer = scorer(r);
    std::vector<SentenceGenerator> generators;
    if (search.do_sample)
      for (size_t i : indices)
        generators.emplace_back(sentence_seed(search.seed, line_number(inputs[i].line),
                                              std::max<int64_t>(inputs[i].sentence, 0)));
    auto hypotheses = group == 1
                          ? greedy_search(step_scorer, search, r.ws, r.recorder.get(), &generators)
                          : beam_search(step_scorer, search, r.ws, r.recorder.get());
    // The caches are dead too once the search is done: freed, they do not
    // sit beside the next batch's encoder. (Refilling them costs page faults,
    // about 1% of a tc-big batch of 32 at beam 4.)
    for (Replica::Member &member : r.members)
      member.state = DecoderState();
    auto &rows = decoded[k];
    rows.resize(static_cast<size_t>(n));
    for (int64_t b = 0; b < n; ++b)
      for (auto &h : hypotheses[b]) {
        TranslationHypothesis hypothesis;
        if (!h.valid) {
          hypothesis.error = h.non_finite ? kNonFiniteScores : kNoHypothesis;
          hypothesis.score = -std::numeric_limits<float>::infinity();
          hypothesis.log_prob = hypothesis.score;
        } else {
          hypothesis.tokens = std::move(h.tokens);
          hypothesis.token_scores = std::move(h.token_scores);
          hypothesis.score = h.score;
          hypothesis.log_prob = h.log_prob;
          hypothesis.truncated = h.truncated;
          if (h.truncated) {
            const int64_t limit = search.max_length_of(b);
            hypothesis.length_limit = limit - 1;
            hypothesis.limited_by = limit < search_.max_length ? "max_length_ratio"
                                    : position_limited_        ? "max_position_embeddings"
                                    : options_.max_new_tokens  ? "max_new_tokens"
                                                               : "max_length";
          }
          if (r.recorder)
            hypothesis.attention = r.recorder->extract(b, r.lengths[b], h.rows);
        }
        rows[static_cast<size_t>(b)].push_back(std::move(hypothesis));
      }
  };
  const auto finished = [&](size_t k) {
    const std::vector<size_t> &indices = batches[k];
    const int64_t n = static_cast<int64_t>(indices.size());
    int64_t lines_done = 0, tokens = 0;
    for (int64_t b = 0; b < n; ++b) {
      const Input &input = inputs[indices[b]];
      Translation &t = results[input.line];
      auto &out = input.sentence < 0 ? t.hypotheses : t.sentences[input.sentence].hypotheses;
      for (auto &hypothesis : decoded[k][static_cast<size_t>(b)]) {
        if (hypothesis.valid())
          hypothesis.text = model_->tokenizer->decode(hypothesis.tokens);
        out.push_back(std::move(hypothesis));
      }
      if (--pending[input.line] > 0)
        continue;
      if (!t.sentences.empty())
        t.hypotheses = join_sentences(t.sentences, search_.n_best);
      ++lines_done;
      const auto &best = t.hypotheses.front();
      truncated_lines_ += best.truncated ? 1 : 0;
      if (best.truncated && options_.warn_each_truncation && options_.warn)
        options_.warn("line " + std::to_string(line_number(input.line)) +
                      ": the translation reached the length limit and may be cut");
      if (!best.valid() && options_.warn)
        options_.warn("line " + std::to_string(line_number(input.line)) + ": " + best.error +
                      "; its translation is left empty");
      tokens += static_cast<int64_t>(best.tokens.size());
    }
    decoded[k] = {};
    if (on_batch)
      on_batch(lines_done, tokens);
  };
  if (workers_)
    workers_->run(batches.size(), work, finished);
  else
    for (size_t k = 0; k < batches.size(); ++k) {
      work(0, k);
      finished(k);
    }
  return results;
}

std::vector<ScoredPair> Translator::score(const std::vector<std::string> &sources,
                                          const std::vector<std::string> &targets) {
  if (sources.size() != targets.size())
    throw IoError("score: " + std::to_string(sources.size()) + " source lines but " +
                  std::to_string(targets.size()) + " target lines");
  const int64_t limit = model_->config.max_position_embeddings;
  std::vector<std::vector<int64_t>> ids(sources.size());
  std::vector<ScoredPair> results(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    ids[i] =
        model_->tokenizer->encode_source(with_language_code(sources[i], options_.target_language));
    if (static_cast<int64_t>(ids[i].size()) > limit)
      throw IoError("source line " + std::to_string(i + 1) + " has " +
                    std::to_string(ids[i].size()) + " tokens, more than the model's maximum of " +
                    std::to_string(limit));
    results[i].target_ids = model_->tokenizer->encode_target(targets[i]);
    if (static_cast<int64_t>(results[i].target_ids.size()) > limit)
      throw IoError("target line " + std::to_string(i + 1) + " has " +
                    std::to_string(results[i].target_ids.size()) +
                    " tokens, more than the model's maximum of " + std::to_string(limit));
  }
  std::vector<std::vector<int64_t>> targets_batch;
  Replica &r = *replicas_.front(); // scores are computed on the calling thread
  for (const auto &indices : batches_of(ids, options_)) {
    encode_batch(r, ids, indices);
    targets_batch.clear();
    int64_t capacity = 1;
    for (size_t i : indices) {
      targets_batch.push_back(results[i].target_ids);
      capacity = std::max<int64_t>(capacity, targets_batch.back().size());
    }
    const int64_t n = static_cast<int64_t>(indices.size());
    for (size_t m = 0; m < models_.size(); ++m) {
      Replica::Member &member = r.members[m];
      models_[m]->decoder.start(member.state, member.encoder_out, member.mask, n,
                                member.encoder_out.dim(0) / n, 1, capacity);
    }
    StepScorer step_scorer = scorer(r);
    auto scores = score_targets(step_scorer, targets_batch, search_.decoder_start_token_id, r.ws);
    for (int64_t b = 0; b < n; ++b) {
      ScoredPair &pair = results[indices[b]];
      pair.score = std::move(scores[b]);
      if (std::isnan(pair.score.total)) {
        pair.error = kNonFiniteScores;
        if (options_.warn)
          options_.warn("line " + std::to_string(indices[b] + 1) + ": " + pair.error +
                        "; no score");
      }
    }
  }
  return results;
}

} // namespace heed
