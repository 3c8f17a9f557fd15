#include <algorithm>
#include <cmath>
#include <numeric>

#include "heed/decoding/logits_processor.h"
#include "heed/decoding/search.h"

namespace heed {
namespace {

// HF marks impossible beams and blocked candidates with this additive penalty.
constexpr float kPenalty = -1.0e9f;

struct Candidate {
  float score;       // accumulated log-prob
  float token_score; // this token's log-prob
  int64_t beam;      // running beam it extends
  int64_t token;
  int64_t index; // flat index beam * vocab + token, for tie-breaking like topk
};

struct Slot {
  std::vector<int64_t> tokens;
  std::vector<int64_t> rows;
  std::vector<float> token_scores;
  float score = kPenalty;
  float log_prob = kPenalty; // the score before length normalisation
  bool finished = false;
};

// The running beams and the finished slots of one sentence. Each step builds
// the next beams and slots into the `next_` buffers and swaps them in, so the
// vectors keep their capacity from step to step: after the first steps, a
// step allocates nothing (the histories grow by one entry per step).
struct SentenceBeams {
  std::vector<float> running_scores;
  std::vector<std::vector<int64_t>> running;    // decoder inputs, start token included
  std::vector<std::vector<int64_t>> rows;       // state row of each step of each running beam
  std::vector<std::vector<float>> token_scores; // each token's log-prob, per running beam
  std::vector<Slot> slots;                      // num_beams best finished hypotheses
  std::vector<std::vector<int64_t>> next_running, next_rows;
  std::vector<std::vector<float>> next_token_scores;
  std::vector<Slot> next_slots;
  bool improvable = true;  // HF: is_early_stop_heuristic_unsatisfied
  bool non_finite = false; // the model gave non-finite log-probabilities: stopped, no result
};

// `out` = `history` followed by `last`, in out's own storage.
template <typename T> void extend_into(std::vector<T> &out, const std::vector<T> &history, T last) {
  out.assign(history.begin(), history.end());
  out.push_back(last);
}

// Order of torch.topk on equal scores: the earlier index first.
bool better(float a_score, int64_t a_index, float b_score, int64_t b_index) {
  return a_score > b_score || (a_score == b_score && a_index < b_index);
}

// The `k` best candidates of a sentence over all beams and tokens, best first:
// token log-probs plus their beam's running score.
void top_k(const float *log_probs, const float *running_scores, int64_t beams, int64_t vocab,
           int64_t k, std::vector<Candidate> &out) {
  out.clear();
  auto worse_first = [](const Candidate &a, const Candidate &b) {
    return better(a.score, a.index, b.score, b.index);
  };
  // Once k candidates are held, most of a row cannot enter: a block of 16
  // tokens whose best score is below the k-th best is skipped after one
  // vectorisable max (rounding is monotonic, so fl(max + running) is the
  // block's best fl(token + running): the skip is exact, ties included). With
  // a 58k-entry vocabulary at batch 32 beam 4 this serial scan took 6.4% of the
  // run's CPU samples, 1.7% with the skip.
  constexpr int64_t kBlock = 16;
  for (int64_t b = 0; b < beams; ++b) {
    const float *row = log_probs + b * vocab;
    const float running = running_scores[b];
    for (int64_t t = 0; t < vocab; ++t) {
      if (t % kBlock == 0 && t + kBlock <= vocab && static_cast<int64_t>(out.size()) == k) {
        float best = row[t];
        for (int64_t i = 1; i < kBlock; ++i)
          best = std::max(best, row[t + i]);
        if (best + running < out.front().score) {
          t += kBlock - 1;
          continue;
        }
      }
      const float score = row[t] + running;
      const int64_t index = b * vocab + t;
      if (static_cast<int64_t>(out.size()) == k &&
          !better(score, index, out.front().score, out.front().index))
        continue;
      out.push_back({score, row[t], b, t, index});
      std::push_heap(out.begin(), out.end(), worse_first);
      if (static_cast<int64_t>(out.size()) > k) {
        std::pop_heap(out.begin(), out.end(), worse_first);
        out.pop_back();
      }
    }
  }
  std::sort_heap(out.begin(), out.end(), worse_first);
}

float length_normaliser(int64_t length, double penalty) {
  // Python computes length ** penalty in double; torch then divides in float32.
  return static_cast<float>(std::pow(static_cast<double>(length), penalty));
}

} // namespace

std::vector<std::vector<Hypothesis>> beam_search(const Decoder &decoder, DecoderState &state,
                                                 const SearchOptions &options, Workspace &ws,
                                                 DecoderObserver *observer) {
  StepScorer scorer(decoder, state);
  return beam_search(scorer, options, ws, observer);
}

std::vector<std::vector<Hypothesis>> beam_search(StepScorer &scorer, const SearchOptions &options,
                                                 Workspace &ws, DecoderObserver *observer) {
  const int64_t sentences = scorer.sentences(), vocab = scorer.vocab_size();
  const int64_t beams = options.num_beams, keep_k = 2 * beams;
  const LogitsProcessor processor(options, vocab);

  std::vector<SentenceBeams> all(sentences);
  for (auto &s : all) {
    s.running_scores.assign(beams, kPenalty);
    s.running_scores[0] = 0.f; // only the first beam is live at the start
    s.running.assign(beams, {options.decoder_start_token_id});
    s.rows.assign(beams, {});
    s.token_scores.assign(beams, {});
    s.slots.assign(beams, Slot{});
    s.next_running.assign(beams, {});
    s.next_rows.assign(beams, {});
    s.next_token_scores.assign(beams, {});
    s.next_slots.assign(beams, Slot{});
  }
  std::vector<int64_t> active(sentences);
  std::iota(active.begin(), active.end(), 0);
  std::vector<int64_t> tokens(sentences * beams, options.decoder_start_token_id);
  Tensor logits;
  logits.reserve(sentences * beams * vocab);
  std::vector<Candidate> candidates;
  std::vector<bool> hits(keep_k);
  std::vector<int64_t> order(keep_k), merged(beams + keep_k);
  // Each pool entry's score: the slots', then the candidates' (pool index >= beams).
  std::vector<float> pool_scores(beams + keep_k);
  std::vector<int64_t> kept_sentences, entry_source, next_tokens, next_active;

  int64_t cur_len = 1; // decoder length so far, start token included
  while (!active.empty()) {
    scorer.step(tokens.data(), logits.data(), ws, observer);

    kept_sentences.clear();
    entry_source.clear();
    next_tokens.clear();
    for (int64_t a = 0; a < static_cast<int64_t>(active.size()); ++a) {
      SentenceBeams &s = all[active[a]];
      const int64_t max_length = options.max_length_of(active[a]);
      const bool at_limit = cur_len + 1 >= max_length;
      float *block = logits.data() + a * beams * vocab;
      if (!all_finite(block, beams * vocab)) {
        s.non_finite = true; // stops here; its hypotheses are marked invalid below
        continue;
      }
      for (int64_t b = 0; b < beams; ++b)
        processor.apply(block + b * vocab, s.running[b], max_length, options.prefix_of(active[a]));
      top_k(block, s.running_scores.data(), beams, vocab, keep_k, candidates);
      for (int64_t c = 0; c < keep_k; ++c)
        hits[c] = candidates[c].token == options.eos_token_id || at_limit;

      // Finished hypotheses: only the first num_beams candidates may enter, and
      // none once the sentence is full (early_stopping=True) or cannot improve.
      bool all_finished = true;
      for (const Slot &slot : s.slots)
        all_finished = all_finished && slot.finished;
      const float full_penalty =
          (options.early_stopping == EarlyStopping::always && all_finished) ? kPenalty : 0.f;
      const float blocked_penalty = s.improvable ? 0.f : kPenalty;
      const float normaliser = length_normaliser(cur_len, options.length_penalty);
      // The pool is the slots followed by one entry per candidate, ordered by
      // score (stable: slots first, then candidates in order); its first
      // num_beams become the new slots.
      for (int64_t j = 0; j < beams; ++j)
        pool_scores[j] = s.slots[j].score;
      for (int64_t c = 0; c < keep_k; ++c) {
        const bool just_finished = hits[c] && c < beams;
        float score = candidates[c].score / normaliser;
        score += full_penalty;
        score += blocked_penalty;
        score += just_finished ? 0.f : kPenalty;
        pool_scores[beams + c] = score;
      }
      std::iota(merged.begin(), merged.end(), 0);
      std::stable_sort(merged.begin(), merged.end(),
                       [&](int64_t x, int64_t y) { return pool_scores[x] > pool_scores[y]; });
      for (int64_t j = 0; j < beams; ++j) {
        Slot &slot = s.next_slots[j];
        const int64_t m = merged[j];
        if (m < beams) { // a slot kept (each at most once: its storage moves)
          std::swap(slot, s.slots[m]);
          continue;
        }
        const int64_t c = m - beams;
        slot.score = pool_scores[m];
        slot.log_prob = candidates[c].score; // not yet penalised: that comes after the merge
        slot.finished = hits[c] && c < beams;
        if (slot.finished || slot.score > kPenalty * 2) {
          const Candidate &cand = candidates[c];
          extend_into(slot.tokens, s.running[cand.beam], cand.token);
          extend_into(slot.rows, s.rows[cand.beam], a * beams + cand.beam);
          extend_into(slot.token_scores, s.token_scores[cand.beam], cand.token_score);
        } else {
          slot.tokens.clear();
          slot.rows.clear();
          slot.token_scores.clear();
        }
      }
      std::swap(s.slots, s.next_slots);

      // Running beams for the next step: the best candidates that did not stop.
      for (int64_t c = 0; c < keep_k; ++c)
        candidates[c].score += hits[c] ? kPenalty : 0.f;
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
        return candidates[x].score > candidates[y].score;
      });
      for (int64_t j = 0; j < beams; ++j) {
        const Candidate &c = candidates[order[j]];
        s.running_scores[j] = c.score;
        extend_into(s.next_running[j], s.running[c.beam], c.token);
        extend_into(s.next_rows[j], s.rows[c.beam], a * beams + c.beam);
        extend_into(s.next_token_scores[j], s.token_scores[c.beam], c.token_score);
      }
      std::swap(s.running, s.next_running);
      std::swap(s.rows, s.next_rows);
      std::swap(s.token_scores, s.next_token_scores);

      // Early-stopping heuristic, evaluated with the length after this step.
      const int64_t best_length =
          (options.early_stopping == EarlyStopping::never && options.length_penalty > 0)
              ? max_length - 1
              : cur_len; // (cur_len + 1) - 1
      const float best_possible =
          s.running_scores[0] / length_normaliser(best_length, options.length_penalty);
      float worst_finished = s.slots[0].score;
      for (const Slot &slot : s.slots)
        worst_finished = std::min(worst_finished, slot.score);
      bool improvement = false;
      for (const Slot &slot : s.slots)
        improvement = improvement || best_possible > (slot.finished ? worst_finished : kPenalty);
      s.improvable = s.improvable && improvement;

      all_finished = true;
      for (const Slot &slot : s.slots)
        all_finished = all_finished && slot.finished;
      const bool done = at_limit || !s.improvable ||
                        (options.early_stopping == EarlyStopping::always && all_finished);
      if (!done) {
        kept_sentences.push_back(a);
        for (int64_t j = 0; j < beams; ++j) {
          entry_source.push_back(a * beams + candidates[order[j]].beam);
          next_tokens.push_back(s.running[j].back());
        }
      }
    }
    ++cur_len;
    next_active.clear();
    for (int64_t a : kept_sentences)
      next_active.push_back(active[a]);
    if (!next_active.empty())
      scorer.select(kept_sentences, entry_source);
    std::swap(active, next_active);
    std::swap(tokens, next_tokens);
  }

  std::vector<std::vector<Hypothesis>> results(sentences);
  for (int64_t i = 0; i < sentences; ++i)
    for (int64_t j = 0; j < options.n_best; ++j) {
      const Slot &slot = all[i].slots[j];
      Hypothesis h;
      h.tokens.assign(slot.tokens.begin() + (slot.tokens.empty() ? 0 : 1), slot.tokens.end());
      h.rows = slot.rows;
      h.token_scores = slot.token_scores;
      h.score = slot.score;
      h.log_prob = slot.log_prob;
      // A slot still holding its initial penalty (or a -inf score) was never
      // filled by a completed hypothesis.
      h.non_finite = all[i].non_finite;
      h.valid = !h.non_finite && slot.finished && std::isfinite(slot.score);
      h.truncated = static_cast<int64_t>(h.tokens.size()) >= options.max_length_of(i) - 1;
      results[i].push_back(std::move(h));
    }
  return results;
}

} // namespace heed
