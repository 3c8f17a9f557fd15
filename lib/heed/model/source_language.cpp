#include "heed/model/source_language.h"

#include <cctype>
#include <filesystem>

#include "heed/core/error.h"
#include "heed/io/json_fields.h"

namespace heed {
namespace fs = std::filesystem;

namespace {

// "en", "eng", "zho_Hans", "pt_BR": a language code of 2-3 lower-case
// letters, optionally with a script or region after '_'.
bool is_language_code(const std::string &code) {
  size_t i = 0;
  while (i < code.size() && std::islower(static_cast<unsigned char>(code[i])))
    ++i;
  if (i < 2 || i > 3)
    return false;
  if (i == code.size())
    return true;
  if (code[i] != '_')
    return false;
  const size_t rest = code.size() - i - 1;
  if (rest < 2 || rest > 4)
    return false;
  for (size_t k = i + 1; k < code.size(); ++k)
    if (!std::isalnum(static_cast<unsigned char>(code[k])))
      return false;
  return true;
}

} // namespace

std::optional<std::string> language_from_release_name(const std::string &name, bool pair) {
  static const std::string kPrefix = "opus-mt-";
  std::string rest = name;
  const size_t at = name.rfind(kPrefix);
  if (at != std::string::npos)
    rest = name.substr(at + kPrefix.size());
  else if (pair)
    return std::nullopt; // only OPUS-MT release names are read as language pairs
  // Tatoeba-Challenge releases: opus-mt-tc-big-en-de, opus-mt-tc-base-...
  for (const std::string tc : {"tc-big-", "tc-base-", "tc-"})
    if (rest.rfind(tc, 0) == 0) {
      rest = rest.substr(tc.size());
      break;
    }
  if (pair) {
    const size_t dash = rest.find('-');
    if (dash == std::string::npos)
      return std::nullopt;
    rest = rest.substr(0, dash);
  }
  if (!is_language_code(rest))
    return std::nullopt; // "en+fr", "ROMANCE", anything else
  return rest;
}

std::optional<ModelLanguage> model_source_language(const std::string &model_dir) {
  const fs::path dir(model_dir);
  const fs::path tokenizer_config = dir / "tokenizer_config.json";
  if (fs::exists(tokenizer_config)) {
    const nlohmann::json j = io::read_json_file(tokenizer_config.string());
    if (!j.is_object())
      throw ModelError(tokenizer_config.string() + ": expected a JSON object");
    const io::JsonFields fields(j, tokenizer_config.string());
    if (const std::string value = fields.string("source_lang", ""); !value.empty())
      if (auto code = language_from_release_name(value, false))
        return ModelLanguage{*code, "tokenizer_config.json source_lang \"" + value + "\""};
  }
  std::error_code error;
  const fs::path absolute = fs::absolute(dir, error).lexically_normal();
  for (fs::path p = error ? dir : absolute; !p.empty() && p.has_filename(); p = p.parent_path()) {
    if (auto code = language_from_release_name(p.filename().string(), true))
      return ModelLanguage{*code, "model directory name " + p.filename().string()};
  }
  const fs::path config = dir / "config.json";
  if (fs::exists(config)) {
    const nlohmann::json j = io::read_json_file(config.string());
    if (j.is_object() && j.contains("_name_or_path") && j["_name_or_path"].is_string()) {
      const std::string name = j["_name_or_path"].get<std::string>();
      if (auto code = language_from_release_name(fs::path(name).filename().string(), true))
        return ModelLanguage{*code, "config.json _name_or_path \"" + name + "\""};
    }
  }
  return std::nullopt;
}

} // namespace heed
