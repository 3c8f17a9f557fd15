// Text <-> token ids exactly as transformers' MarianTokenizer does it: literal
// special tokens (</s>, <unk>, <pad>) cut out of the text and mapped to their
// ids (PreTrainedTokenizer.tokenize); in each piece of text between them, an
// optional leading ">>xx<<" target-language code kept as one token and
// SentencePiece pieces mapped through vocab.json (unknown pieces to <unk>);
// </s> appended;
// target ids mapped back to pieces, special tokens dropped, pieces detokenized.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heed/text/vocabulary.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace heed {

// What the tokenizer needs to know of the model (config.json's fields of the
// same names): the ids it appends and checks, and the sizes the vocabularies
// must fit in.
struct TokenizerSpec {
  int64_t eos_token_id = 0;
  int64_t pad_token_id = 0;
  int64_t vocab_size = 0;         // source (and shared) vocabulary entries
  int64_t decoder_vocab_size = 0; // target vocabulary entries
  // False when config.json's share_encoder_decoder_embeddings is false: the
  // target side then uses target_vocab.json when the directory has one.
  bool shared_vocab = true;
};

class Tokenizer {
public:
  // Loads source.spm, target.spm, vocab.json and, for models with separate
  // vocabularies, target_vocab.json from `model_dir`; ModelError naming the
  // file when one is missing or does not fit `spec`.
  Tokenizer(const std::string &model_dir, const TokenizerSpec &spec);
  // The same with vocabularies read by the caller (a native Marian model's
  // YAML vocabularies); `target` unset: the source vocabulary serves both
  // sides. source.spm and target.spm still come from `model_dir`.
  Tokenizer(const std::string &model_dir, const TokenizerSpec &spec, Vocabulary source,
            std::optional<Vocabulary> target);
  ~Tokenizer();
  Tokenizer(Tokenizer &&) noexcept;

  // Source text to ids, </s> included.
  std::vector<int64_t> encode_source(std::string_view text) const;
  // Target text to ids (for scoring given translations), </s> included.
  std::vector<int64_t> encode_target(std::string_view text) const;
  // A target prefix to ids: as encode_target, without the </s> (the
  // translation continues it).
  std::vector<int64_t> encode_target_prefix(std::string_view text) const;
  // Pieces of the source / target side for ids (special tokens included).
  std::vector<std::string> source_pieces(const std::vector<int64_t> &ids) const;
  std::vector<std::string> target_pieces(const std::vector<int64_t> &ids) const;
  // Generated target ids to text; eos, pad and unk are skipped as with
  // skip_special_tokens=True.
  std::string decode(const std::vector<int64_t> &ids) const;

  // The target-language codes of a multilingual model: the CODE of every
  // ">>CODE<<" entry of the source vocabulary, sorted; empty for a model of one
  // target language.
  std::vector<std::string> target_languages() const;

  const Vocabulary &source_vocab() const { return source_vocab_; }
  const Vocabulary &target_vocab() const { return *target_vocab_; }
  bool separate_vocabs() const { return separate_target_vocab_ != nullptr; }

private:
  // Loads the spm files and checks the vocabularies (already in place)
  // against them and `spec`.
  void finish(const std::string &model_dir, const TokenizerSpec &spec);
  // Appends the ids of `text`, which holds no special token (language code,
  // then SentencePiece: MarianTokenizer._tokenize).
  void encode_chunk(std::string_view text, const sentencepiece::SentencePieceProcessor &spm,
                    const Vocabulary &vocab, std::vector<int64_t> &ids) const;
  std::vector<int64_t> encode(std::string_view text,
                              const sentencepiece::SentencePieceProcessor &spm,
                              const Vocabulary &vocab) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> source_spm_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> target_spm_;
  Vocabulary source_vocab_;
  std::unique_ptr<Vocabulary> separate_target_vocab_;
  const Vocabulary *target_vocab_ = nullptr;
  int64_t eos_id_ = 0;
  int64_t pad_id_ = 0;
};

// Splits a leading target-language code (">>deu<< text" -> ">>deu<<", " text");
// returns {code or "", remaining text}.
std::pair<std::string, std::string> split_language_code(std::string_view text);

// `text` with ">>`code`<< " in front, unless it starts with a language code
// already or `code` is empty (what --target-language does to each source).
std::string with_language_code(const std::string &text, const std::string &code);

} // namespace heed
