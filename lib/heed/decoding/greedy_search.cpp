#include "heed/decoding/logits_processor.h"
#include "heed/decoding/search.h"
#include "heed/ops/softmax.h"

#include <algorithm>
#include <cmath>

namespace heed {

std::vector<std::vector<Hypothesis>> greedy_search(const Decoder &decoder, DecoderState &state,
                                                   const SearchOptions &options, Workspace &ws,
                                                   DecoderObserver *observer) {
  const int64_t sentences = state.sentences, vocab = decoder.vocab_size();
  const LogitsProcessor processor(options, vocab);
  std::vector<std::vector<Hypothesis>> results(sentences, std::vector<Hypothesis>(1));
  std::vector<std::vector<int64_t>> history(sentences, {options.decoder_start_token_id});
  std::vector<int64_t> active(sentences); // active[i]: sentence of state row i
  for (int64_t i = 0; i < sentences; ++i)
    active[i] = i;
  std::vector<int64_t> tokens(sentences, options.decoder_start_token_id);
  Tensor logits;
  logits.reserve(sentences * vocab);

  int64_t cur_len = 1;
  while (!active.empty()) {
    const int64_t rows = static_cast<int64_t>(active.size());
    decoder.step(state, tokens.data(), logits.data(), ws, observer);
    ops::log_softmax(logits.data(), rows, vocab);
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
      processor.apply(row, history[s]);
      const int64_t token = std::max_element(row, row + vocab) - row;
      h.tokens.push_back(token);
      h.rows.push_back(i);
      h.score += row[token];
      h.log_prob = h.score;
      history[s].push_back(token);
      const bool finished = token == options.eos_token_id || cur_len + 1 >= options.max_length;
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
      state.select(keep, keep);
      active = std::move(next_active);
    }
    tokens.resize(active.size());
  }
  for (auto &r : results)
    r[0].valid = r[0].valid && std::isfinite(r[0].score); // -inf: only banned tokens were left
  return results;
}

} // namespace heed
