#include "heed/outputs/sentence_attention.h"

#include "heed/core/error.h"
#include "heed/text/words.h"

namespace heed {

namespace {

const std::vector<std::string> &pieces_named(const SentenceAttention &s, const std::string &name) {
  if (name == "source")
    return s.source_pieces;
  if (name == "target")
    return s.target_pieces;
  return s.decoder_input_pieces;
}

std::string sentence_name(const SentenceAttention &s) {
  return (s.sentence >= 0
              ? "line " + std::to_string(s.index) + " sentence " + std::to_string(s.sentence)
              : "sentence " + std::to_string(s.index)) +
         (s.hypothesis > 0 ? " (hypothesis " + std::to_string(s.hypothesis) + ")" : "");
}

void check_map(const SentenceAttention &s, const NamedAttentionMap &m) {
  const Tensor &w = m.map->weights;
  const std::string what = sentence_name(s) + ": " + m.kind + " attention";
  if (w.rank() != 4)
    throw Error(what + " has rank " + std::to_string(w.rank()) +
                ", expected [layers, heads, queries, keys]");
  if (static_cast<int64_t>(m.map->layers.size()) != w.dim(0) ||
      static_cast<int64_t>(m.map->heads.size()) != w.dim(1))
    throw Error(what + " has " + std::to_string(m.map->layers.size()) + " layer and " +
                std::to_string(m.map->heads.size()) + " head labels for " +
                std::to_string(w.dim(0)) + " layers and " + std::to_string(w.dim(1)) + " heads");
  const auto queries = static_cast<int64_t>(pieces_named(s, m.queries).size());
  const auto keys = static_cast<int64_t>(pieces_named(s, m.keys).size());
  if (w.dim(2) != queries || w.dim(3) != keys)
    throw Error(what + " is " + std::to_string(w.dim(2)) + " x " + std::to_string(w.dim(3)) +
                " but there are " + std::to_string(queries) + " " + m.queries + " and " +
                std::to_string(keys) + " " + m.keys + " pieces");
}

nlohmann::json describe_tokens(const std::vector<std::string> &pieces) {
  const PieceWords words = words_from_pieces(pieces);
  return {{"pieces", pieces}, {"words", words.words}, {"piece_word", words.piece_word}};
}

} // namespace

std::vector<NamedAttentionMap> recorded_maps(const SentenceAttention &s) {
  std::vector<NamedAttentionMap> maps;
  if (s.maps == nullptr)
    return maps;
  if (s.maps->cross)
    maps.push_back({"cross", "target", "source", &*s.maps->cross});
  if (s.maps->encoder)
    maps.push_back({"encoder", "source", "source", &*s.maps->encoder});
  if (s.maps->decoder)
    maps.push_back({"decoder", "target", "decoder_input", &*s.maps->decoder});
  for (const auto &m : maps)
    check_map(s, m);
  return maps;
}

nlohmann::json describe_sentence(const SentenceAttention &s) {
  nlohmann::json j;
  j["index"] = s.index;
  if (s.sentence >= 0) {
    j["sentence"] = s.sentence;
    j["span"] = {s.span_begin, s.span_end};
  }
  j["hypothesis"] = s.hypothesis;
  j["source"] = s.source;
  j["translation"] = s.translation;
  j["tokens"] = {{"source", describe_tokens(s.source_pieces)},
                 {"target", describe_tokens(s.target_pieces)},
                 {"decoder_input", describe_tokens(s.decoder_input_pieces)}};
  return j;
}

} // namespace heed
