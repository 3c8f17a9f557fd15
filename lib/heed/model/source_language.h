// The source language of a model, for the text rules that depend on it
// (sentence boundaries). Marian/OPUS-MT models say it in two places:
// tokenizer_config.json's "source_lang" (written by transformers' Marian
// converter, which takes it from the release's name: "en", or "opus-mt-en" for
// opus-mt-en-de) and the release's name itself, kept in the directory name
// (opus-mt-en-de, opus-mt-tc-big-en-de, or a Hugging Face cache directory
// models--Helsinki-NLP--opus-mt-en-de/snapshots/...) and in config.json's
// "_name_or_path". Models of several source languages (en+fr, or a group code
// such as "mul" or "roa") have no single language; "mul"-like codes are
// returned as they are and get ICU's root rules.
#pragma once

#include <optional>
#include <string>

namespace heed {

struct ModelLanguage {
  std::string code;   // a language tag such as "en", "eng" or "zho_Hans"
  std::string origin; // where it was found, for people: "tokenizer_config.json source_lang"
};

// The first of: tokenizer_config.json "source_lang", the model directory's
// name (or that of a directory above it), config.json "_name_or_path"; none
// when no such name says. ModelError naming the file when tokenizer_config.json
// is present but not a JSON object, or its "source_lang" not a string.
std::optional<ModelLanguage> model_source_language(const std::string &model_dir);

// The source language named by a Marian release name or converter value:
// "en" -> en; "opus-mt-en" -> en; "opus-mt-en-de", "opus-mt-tc-big-en-de",
// "Helsinki-NLP/opus-mt-en-de" -> en; "en+fr", "opus-mt-en+fr-de", "" -> none.
// `pair` says whether `name` names a language pair (a directory name, whose
// last part is the target language) or only the source.
std::optional<std::string> language_from_release_name(const std::string &name, bool pair);

} // namespace heed
