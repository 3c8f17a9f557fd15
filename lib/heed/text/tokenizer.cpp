#include "heed/text/tokenizer.h"

#include <algorithm>

#include <optional>

#include <sentencepiece_processor.h>

#include <filesystem>

#include "heed/core/error.h"
#include "heed/io/regular_file.h"

namespace heed {
namespace fs = std::filesystem;

namespace {

std::unique_ptr<sentencepiece::SentencePieceProcessor> load_spm(const fs::path &path) {
  if (io::model_path_kind(path.string()) == io::PathKind::missing)
    throw ModelError(path.string() + ": missing (a Marian model directory has source.spm and "
                                     "target.spm)");
  // Read through the checks of io/regular_file.h (SentencePiece's own loader
  // would block on a FIFO and read /dev/zero until memory runs out).
  const std::string bytes = io::read_regular_file(path.string(), io::kMaxSentencePieceFileBytes);
  auto spm = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = spm->LoadFromSerializedProto(bytes);
  if (!status.ok())
    throw ModelError(path.string() + ": not a SentencePiece model: " + status.ToString());
  return spm;
}

// HF's MarianTokenizer maps a SentencePiece piece missing from vocab.json to
// <unk> without a word; a few missing pieces are harmless, but a vocabulary
// that lacks most of them belongs to another model and would turn every
// sentence into <unk>s: refuse it.
void check_coverage(const sentencepiece::SentencePieceProcessor &spm, const fs::path &spm_path,
                    const Vocabulary &vocab) {
  int64_t pieces = 0, covered = 0;
  for (int i = 0; i < spm.GetPieceSize(); ++i) {
    if (spm.IsControl(i) || spm.IsUnknown(i) || spm.IsUnused(i))
      continue;
    ++pieces;
    covered += vocab.find(spm.IdToPiece(i)).has_value();
  }
  if (2 * covered < pieces)
    throw ModelError(vocab.path() + ": has only " + std::to_string(covered) + " of the " +
                     std::to_string(pieces) + " pieces of " + spm_path.string() +
                     ": not the vocabulary of this SentencePiece model");
}

} // namespace

std::pair<std::string, std::string> split_language_code(std::string_view text) {
  // As transformers' current MarianTokenizer: only a code at the very start,
  // up to the first "<<", is split off.
  if (text.substr(0, 2) == ">>") {
    const size_t end = text.find("<<");
    if (end != std::string_view::npos)
      return {std::string(text.substr(0, end + 2)), std::string(text.substr(end + 2))};
  }
  return {"", std::string(text)};
}

std::string with_language_code(const std::string &text, const std::string &code) {
  if (code.empty() || !split_language_code(text).first.empty())
    return text;
  return ">>" + code + "<< " + text;
}

std::vector<std::string> Tokenizer::target_languages() const {
  std::vector<std::string> codes;
  for (int64_t id = 0; id < source_vocab_.size(); ++id) {
    const std::string &piece = source_vocab_.piece(id);
    if (piece.size() > 4 && piece.compare(0, 2, ">>") == 0 &&
        piece.compare(piece.size() - 2, 2, "<<") == 0)
      codes.push_back(piece.substr(2, piece.size() - 4));
  }
  std::sort(codes.begin(), codes.end());
  return codes;
}

Tokenizer::Tokenizer(const std::string &model_dir, const TokenizerSpec &spec)
    : eos_id_(spec.eos_token_id), pad_id_(spec.pad_token_id) {
  const fs::path dir(model_dir);
  const fs::path vocab_path = dir / "vocab.json";
  if (io::model_path_kind(vocab_path.string()) == io::PathKind::missing)
    throw ModelError(vocab_path.string() + ": missing");
  source_vocab_ = Vocabulary::load(vocab_path.string(), spec.vocab_size);
  const fs::path target_path = dir / "target_vocab.json";
  if (!spec.shared_vocab && io::model_path_kind(target_path.string()) != io::PathKind::missing)
    separate_target_vocab_ = std::make_unique<Vocabulary>(
        Vocabulary::load(target_path.string(), spec.decoder_vocab_size));
  finish(model_dir, spec);
}

Tokenizer::Tokenizer(const std::string &model_dir, const TokenizerSpec &spec, Vocabulary source,
                     std::optional<Vocabulary> target)
    : source_vocab_(std::move(source)), eos_id_(spec.eos_token_id), pad_id_(spec.pad_token_id) {
  if (target)
    separate_target_vocab_ = std::make_unique<Vocabulary>(std::move(*target));
  finish(model_dir, spec);
}

void Tokenizer::finish(const std::string &model_dir, const TokenizerSpec &spec) {
  const fs::path dir(model_dir);
  source_spm_ = load_spm(dir / "source.spm");
  target_spm_ = load_spm(dir / "target.spm");
  if (source_vocab_.size() > spec.vocab_size)
    throw ModelError(source_vocab_.path() + ": has ids up to " +
                     std::to_string(source_vocab_.size() - 1) +
                     " but the encoder vocabulary (config.json vocab_size) has " +
                     std::to_string(spec.vocab_size) + " entries");
  if (separate_target_vocab_) {
    if (separate_target_vocab_->size() > spec.decoder_vocab_size)
      throw ModelError(separate_target_vocab_->path() + ": has ids up to " +
                       std::to_string(separate_target_vocab_->size() - 1) +
                       " but the decoder vocabulary (config.json decoder_vocab_size) has " +
                       std::to_string(spec.decoder_vocab_size) + " entries");
    target_vocab_ = separate_target_vocab_.get();
  } else {
    if (source_vocab_.size() > spec.decoder_vocab_size)
      throw ModelError(source_vocab_.path() + ": has ids up to " +
                       std::to_string(source_vocab_.size() - 1) +
                       " but the decoder vocabulary (config.json decoder_vocab_size) has " +
                       std::to_string(spec.decoder_vocab_size) + " entries");
    target_vocab_ = &source_vocab_;
  }
  check_coverage(*source_spm_, dir / "source.spm", source_vocab_);
  check_coverage(*target_spm_, dir / "target.spm", *target_vocab_);
  source_vocab_.require("</s>", spec.eos_token_id, "eos_token_id");
  target_vocab_->require("</s>", spec.eos_token_id, "eos_token_id");
  target_vocab_->require("<pad>", spec.pad_token_id, "pad_token_id");
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;

namespace {

// MarianTokenizer's special tokens. transformers' PreTrainedTokenizer.tokenize
// cuts them out of the text before anything else (its added-token trie) and
// maps each to its id; they are AddedTokens without lstrip/rstrip, so the
// text around them keeps its spaces.
constexpr std::string_view kSpecialTokens[] = {"</s>", "<unk>", "<pad>"};

} // namespace

void Tokenizer::encode_chunk(std::string_view text,
                             const sentencepiece::SentencePieceProcessor &spm,
                             const Vocabulary &vocab, std::vector<int64_t> &ids) const {
  if (text.empty())
    return;
  // MarianTokenizer._tokenize, run on each piece of text between special
  // tokens: a language code at its start, then SentencePiece.
  auto [code, rest] = split_language_code(text);
  if (!code.empty())
    ids.push_back(vocab.id_or_unk(code));
  std::vector<std::string> pieces;
  const auto status = spm.Encode(rest, &pieces);
  if (!status.ok())
    throw Error("SentencePiece could not encode the text: " + status.ToString());
  for (const auto &piece : pieces)
    ids.push_back(vocab.id_or_unk(piece));
}

std::vector<int64_t> Tokenizer::encode(std::string_view text,
                                       const sentencepiece::SentencePieceProcessor &spm,
                                       const Vocabulary &vocab) const {
  std::vector<int64_t> ids;
  size_t start = 0;
  for (size_t at = text.find('<'); at != std::string_view::npos; at = text.find('<', at)) {
    std::optional<int64_t> special;
    size_t length = 0;
    for (std::string_view token : kSpecialTokens)
      if (text.substr(at, token.size()) == token) {
        special = vocab.find(token);
        length = token.size();
        break;
      }
    if (!special) {
      ++at;
      continue;
    }
    encode_chunk(text.substr(start, at - start), spm, vocab, ids);
    ids.push_back(*special);
    at += length;
    start = at;
  }
  encode_chunk(text.substr(start), spm, vocab, ids);
  ids.push_back(eos_id_);
  return ids;
}

std::vector<int64_t> Tokenizer::encode_source(std::string_view text) const {
  return encode(text, *source_spm_, source_vocab_);
}

std::vector<int64_t> Tokenizer::encode_target(std::string_view text) const {
  return encode(text, *target_spm_, *target_vocab_);
}

std::vector<int64_t> Tokenizer::encode_target_prefix(std::string_view text) const {
  std::vector<int64_t> ids = encode(text, *target_spm_, *target_vocab_);
  ids.pop_back(); // the </s> encode appends
  return ids;
}

std::vector<std::string> Tokenizer::source_pieces(const std::vector<int64_t> &ids) const {
  std::vector<std::string> out;
  for (int64_t id : ids)
    out.push_back(source_vocab_.piece(id));
  return out;
}

std::vector<std::string> Tokenizer::target_pieces(const std::vector<int64_t> &ids) const {
  std::vector<std::string> out;
  for (int64_t id : ids)
    out.push_back(target_vocab_->piece(id));
  return out;
}

std::string Tokenizer::decode(const std::vector<int64_t> &ids) const {
  std::vector<std::string> pieces;
  for (int64_t id : ids) {
    if (id == eos_id_ || id == pad_id_ || id == target_vocab_->unk_id())
      continue;
    pieces.push_back(target_vocab_->piece(id));
  }
  std::string text;
  const auto status = target_spm_->Decode(pieces, &text);
  if (!status.ok())
    throw Error("SentencePiece could not decode the pieces: " + status.ToString());
  // MarianTokenizer replaces any remaining word-boundary mark and strips.
  const std::string underline = "\xe2\x96\x81";
  for (size_t pos; (pos = text.find(underline)) != std::string::npos;)
    text.replace(pos, underline.size(), " ");
  const char *whitespace = " \t\n\r\f\v";
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string::npos)
    return "";
  return text.substr(first, text.find_last_not_of(whitespace) - first + 1);
}

} // namespace heed
