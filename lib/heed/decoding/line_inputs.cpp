#include "heed/decoding/line_inputs.h"

#include <limits>
#include <queue>
#include <set>

namespace heed {

namespace {

// A plural noun for warnings: "1 sentence", "3 sentences".
std::string count(int64_t n, const std::string &noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

} // namespace

LineInputs line_inputs(const std::string &line, int64_t line_number, const Tokenizer &tokenizer,
                       const SentenceSplitter &splitter, const LineInputOptions &options) {
  LineInputs result;
  const auto fits = [&](const std::vector<int64_t> &ids) {
    return static_cast<int64_t>(ids.size()) <= options.max_tokens;
  };
  const TextSpan whole_line{0, line.size()};
  int64_t line_tokens = 0;
  if (!options.split_sentences) {
    std::vector<int64_t> ids = tokenizer.encode_source(line);
    if (fits(ids)) {
      result.inputs.push_back({whole_line, std::move(ids)});
      return result;
    }
    line_tokens = static_cast<int64_t>(ids.size());
  }
  result.by_sentences = true;

  // A target-language code (">>deu<<") goes with every sentence.
  const std::string code = split_language_code(line).first;
  std::vector<TextSpan> sentences = splitter.split(std::string_view(line).substr(code.size()));
  for (TextSpan &s : sentences)
    s = {s.begin + code.size(), s.end + code.size()};
  if (sentences.size() <= 1) {
    // One sentence (or only a language code): the line as it is, so that it
    // translates exactly as without splitting.
    const TextSpan span =
        sentences.empty() ? trim_white_space(line, {code.size(), line.size()}) : sentences[0];
    std::vector<int64_t> ids = tokenizer.encode_source(line);
    if (fits(ids)) {
      result.inputs.push_back({span, std::move(ids)});
      return result;
    }
    line_tokens = static_cast<int64_t>(ids.size());
    sentences = {span};
  }

  const auto encode = [&](std::string_view text) {
    return tokenizer.encode_source(code.empty() ? std::string(text)
                                                : code + " " + std::string(text));
  };
  int64_t cut = 0, cropped = 0;
  for (const TextSpan &sentence : sentences) {
    std::vector<int64_t> ids = encode(sentence.of(line));
    if (fits(ids)) {
      result.inputs.push_back({sentence, std::move(ids)});
      continue;
    }
    ++cut;
    const auto pieces = splitter.cut_to_fit(
        line, sentence, [&](std::string_view piece) { return fits(encode(piece)); });
    for (const TextSpan &piece : pieces) {
      std::vector<int64_t> piece_ids = encode(piece.of(line));
      if (!fits(piece_ids)) {
        // A single character of more tokens than the model takes (cut_to_fit
        // goes no finer): keep what fits, EOS last.
        const int64_t eos = piece_ids.back();
        piece_ids.resize(static_cast<size_t>(options.max_tokens));
        piece_ids.back() = eos;
        ++cropped;
      }
      result.inputs.push_back({piece, std::move(piece_ids)});
    }
  }

  if (!options.warn || (line_tokens == 0 && cut == 0))
    return result;
  const std::string limit = std::to_string(options.max_tokens);
  std::string message = "line " + std::to_string(line_number) + ": ";
  if (line_tokens > 0)
    message += std::to_string(line_tokens) + " tokens, more than the model's maximum of " + limit +
               "; translated as " + count(static_cast<int64_t>(result.inputs.size()), "part") +
               " split at sentence boundaries";
  else
    message += "translated as " + count(static_cast<int64_t>(result.inputs.size()), "part");
  if (cut > 0)
    message += std::string(line_tokens > 0 ? ", " : "; ") + count(cut, "sentence") +
               " longer than the model's maximum of " + limit +
               " tokens cut at clause or word boundaries";
  if (cropped > 0)
    message +=
        "; " + count(cropped, "single character") + " of more than " + limit + " tokens cropped";
  options.warn(message);
  return result;
}

std::vector<std::vector<int64_t>> best_combinations(const std::vector<std::vector<float>> &scores,
                                                    size_t k) {
  std::vector<std::vector<int64_t>> best;
  if (scores.empty() || k == 0)
    return best;
  for (const auto &list : scores)
    if (list.empty())
      return best;
  struct Node {
    double sum;
    std::vector<int64_t> indices;
  };
  const auto sum_of = [&](const std::vector<int64_t> &indices) {
    double sum = 0; // from scratch: equal combinations get equal sums
    for (size_t i = 0; i < indices.size(); ++i)
      sum += scores[i][static_cast<size_t>(indices[i])];
    return sum;
  };
  // The heap's top is the largest sum, then the lexicographically smallest.
  const auto after = [](const Node &a, const Node &b) {
    return a.sum != b.sum ? a.sum < b.sum : a.indices > b.indices;
  };
  std::priority_queue<Node, std::vector<Node>, decltype(after)> frontier(after);
  std::set<std::vector<int64_t>> seen;
  std::vector<int64_t> first(scores.size(), 0);
  seen.insert(first);
  frontier.push({sum_of(first), first});
  // Each list is sorted best first, so a combination's successors (one index
  // one further) never sum more than it: popping in order is exact.
  while (!frontier.empty() && best.size() < k) {
    Node node = frontier.top();
    frontier.pop();
    for (size_t i = 0; i < scores.size(); ++i) {
      if (static_cast<size_t>(node.indices[i]) + 1 >= scores[i].size())
        continue;
      std::vector<int64_t> next = node.indices;
      ++next[i];
      if (seen.insert(next).second)
        frontier.push({sum_of(next), std::move(next)});
    }
    best.push_back(std::move(node.indices));
  }
  return best;
}

std::vector<TranslationHypothesis> join_sentences(const std::vector<SentenceTranslation> &sentences,
                                                  int64_t n_best) {
  std::vector<std::vector<float>> scores;
  for (const auto &s : sentences) {
    scores.emplace_back();
    for (const auto &h : s.hypotheses)
      scores.back().push_back(h.score);
  }
  std::vector<TranslationHypothesis> joined;
  for (auto &ranks : best_combinations(scores, static_cast<size_t>(n_best))) {
    TranslationHypothesis h;
    double score = 0, log_prob = 0;
    for (size_t k = 0; k < sentences.size(); ++k) {
      const TranslationHypothesis &part = sentences[k].hypotheses[static_cast<size_t>(ranks[k])];
      if (!part.valid() && h.valid())
        h.error = "sentence " + std::to_string(k + 1) + " of " + std::to_string(sentences.size()) +
                  ": " + part.error;
      if (!part.text.empty())
        h.text += (h.text.empty() ? "" : " ") + part.text;
      h.tokens.insert(h.tokens.end(), part.tokens.begin(), part.tokens.end());
      h.token_scores.insert(h.token_scores.end(), part.token_scores.begin(),
                            part.token_scores.end());
      score += part.score;
      log_prob += part.log_prob;
      if (part.truncated && !h.truncated) {
        h.length_limit = part.length_limit;
        h.limited_by = part.limited_by;
      }
      h.truncated = h.truncated || part.truncated;
    }
    h.score = static_cast<float>(score);
    h.log_prob = static_cast<float>(log_prob);
    if (!h.valid()) {
      // As for an invalid hypothesis of a whole line (decoding/translation.h):
      // no text, no tokens, score -inf; the sentences keep theirs.
      h.text.clear();
      h.tokens.clear();
      h.token_scores.clear();
      h.score = -std::numeric_limits<float>::infinity();
      h.log_prob = h.score;
    }
    h.sentence_ranks = std::move(ranks);
    joined.push_back(std::move(h));
  }
  return joined;
}

} // namespace heed
