#include "heed/decoding/logits_processor.h"
#include "heed/decoding/search.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace heed {

std::vector<std::vector<Hypothesis>> greedy_search(const Decoder &decoder, DecoderState &state,
                                                   const SearchOptions &options, Workspace &ws,
                                                   DecoderObserver *observer,
                                                   std::vector<SentenceGenerator> *generators) {
  StepScorer scorer(decoder, state);
  return greedy_search(scorer, options, ws, observer, generators);
}

std::vector<std::vector<Hypothesis>> greedy_search(StepScorer &scorer, const SearchOptions &options,
                                                   Workspace &ws, DecoderObserver *observer,
                                                   std::vector<SentenceGenerator> *generators) {
  const int64_t sentences = scorer.sentences(), vocab = scorer.vocab_size();
  const LogitsProcessor processor(options, vocab);
  if (options.do_sample &&
      (generators == nullptr || generators->size() != static_cast<size_t>(sentences)))
    throw std::logic_error("greedy_search: sampling needs one generator per sentence");
  TokenSampler sampler(options, vocab);
  std::vector<float> warped(options.do_sample ? static_cast<size_t>(vocab) : 0);
  std::vector<std::vector<Hypothesis>> results(sentences, std::vector<Hypothesis>(1));
  std::vector<std::vector<int64_t>> history(sentences, {options.decoder_start_token_id});
  std::vector<int64_t> active(sentences); // active[i]: sentence of state row i
  for (int64_t i = 0; i < sentences; ++i)
    active[i] = i;
  std::vector<int64_t> tokens(sentences, options.decoder_start_token_id);
  Tensor logits;
  logits.reserve(sentences * vocab);

  // transformers applies the repetition penalty to the raw logits (of each
  // member of an ensemble, before its log-softmax).
  StepScorer::RawLogitsHook penalize;
  if (processor.penalizes_repetitions())
    penalize = [&](float *raw, int64_t rows) {
      for (int64_t i = 0; i < rows; ++i)
        processor.penalize_repetitions(raw + i * vocab, history[active[i]]);
    };

  int64_t cur_len = 1;
  while (!active.empty()) {
    const int64_t rows = static_cast<int64_t>(active.size());
    scorer.step(tokens.data(), logits.data(), ws, observer, penalize);
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t s = active[i];
      float *row = logits.data() + i * vocab;
      Hypothesis &h = results[s][0];
      if (!all_finite(row, vocab)) {
        h.valid = false; // the sentence stops here: its scores mean nothing
        h.non_finite = true;
        continue;
      }
      const int64_t max_length = options.max_length_of(s);
      processor.apply(row, history[s], max_length, options.prefix_of(s),
                      /*repetition_penalty=*/false);
      int64_t token = std::max_element(row, row + vocab) - row;
      // (With every token banned the argmax is as good as any: the score is
      // -inf and the hypothesis invalid.)
      if (options.do_sample && std::isfinite(row[token])) {
        // The warpers change a copy: the score stays the processed log-prob.
        std::copy(row, row + vocab, warped.begin());
        token = sampler.sample(warped.data(), (*generators)[s]);
      }
      h.tokens.push_back(token);
      h.rows.push_back(i);
      h.token_scores.push_back(row[token]);
      h.score += row[token];
      h.log_prob = h.score;
      history[s].push_back(token);
      h.truncated = cur_len + 1 >= max_length;
      const bool finished = token == options.eos_token_id || h.truncated;
      if (!finished) {
        tokens[keep.size()] = token;
        keep.push_back(i);
      }
    }
    ++cur_len;
    if (static_cast<int64_t>(keep.size()) != rows) {
      std::vector<int64_t> next_active;
      for (int64_t i : keep)
        next_active.push_back(active[i]);
      scorer.select(keep, keep);
      active = std::move(next_active);
    }
    tokens.resize(active.size());
  }
  for (auto &r : results)
    r[0].valid = r[0].valid && std::isfinite(r[0].score); // -inf: only banned tokens were left
  return results;
}

} // namespace heed
