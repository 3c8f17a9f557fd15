#include "heed/model/ensemble_manifest.h"

#include <cmath>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "heed/core/error.h"
#include "heed/core/parse_number.h"
#include "heed/io/printable.h"
#include "heed/io/regular_file.h"

namespace fs = std::filesystem;

namespace heed {
namespace {

// A manifest lists a few paths: anything larger is not one.
constexpr uint64_t kMaxManifestBytes = 64 * 1024;
constexpr size_t kMaxMembers = 64;

fs::path manifest_file(const std::string &path) {
  return io::model_path_kind(path) == io::PathKind::directory
             ? fs::path(path) / kEnsembleManifestName
             : fs::path(path);
}

// "FILE:LINE: " for a node (1-based line), or "FILE: " without a mark.
std::string where(const std::string &file, const YAML::Node &node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? file + ": " : file + ":" + std::to_string(mark.line + 1) + ": ";
}

} // namespace

bool is_ensemble_manifest(const std::string &path) {
  switch (io::model_path_kind(path)) {
  case io::PathKind::regular:
    return fs::path(path).filename() == kEnsembleManifestName;
  case io::PathKind::directory:
    return io::model_path_kind((fs::path(path) / kEnsembleManifestName).string()) !=
               io::PathKind::missing &&
           io::model_path_kind((fs::path(path) / "config.json").string()) == io::PathKind::missing;
  default:
    return false;
  }
}

EnsembleManifest read_ensemble_manifest(const std::string &path) {
  const fs::path file = manifest_file(path);
  return parse_ensemble_manifest(io::read_regular_file(file.string(), kMaxManifestBytes),
                                 file.string());
}

EnsembleManifest parse_ensemble_manifest(const std::string &text, const std::string &path) {
  const fs::path file(path);
  const std::string &name = path;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &e) {
    throw ModelError(name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML (" +
                     io::printable(e.msg) + ")");
  }
  if (!root.IsMap())
    throw ModelError(name + ": expected a YAML mapping with `models:` (a list of model paths)");

  // (A default-constructed YAML::Node is a defined null: presence is kept apart.)
  YAML::Node models, weights, beam_size, normalize;
  bool has_models = false, has_weights = false;
  for (const auto &entry : root) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    if (key == "models") {
      models = entry.second;
      has_models = true;
    } else if (key == "weights") {
      weights = entry.second;
      has_weights = true;
    } else if (key == "beam-size") {
      beam_size = entry.second;
    } else if (key == "normalize") {
      normalize = entry.second;
    } else
      throw ModelError(where(name, entry.first) + "unknown key '" + io::printable(key) +
                       "' (an ensemble manifest has `models:` and optionally `weights:`, "
                       "`beam-size:` and `normalize:`)");
  }
  if (!has_models || !models.IsSequence() || models.size() == 0)
    throw ModelError(where(name, has_models ? models : root) +
                     "models: expected a list of at least one model path");
  if (models.size() > kMaxMembers)
    throw ModelError(where(name, models) + "models: lists " + std::to_string(models.size()) +
                     " models, more than " + std::to_string(kMaxMembers));

  EnsembleManifest manifest;
  manifest.path = name;
  const fs::path base = file.has_parent_path() ? file.parent_path() : fs::path(".");
  for (const auto &model : models) {
    if (!model.IsScalar() || model.Scalar().empty())
      throw ModelError(where(name, model) + "models: each entry must be a model path");
    const fs::path member(model.Scalar());
    const std::string resolved = (member.is_absolute() ? member : base / member).string();
    // A member the system cannot examine (a name too long, a directory
    // without permission) is this file's error, at this entry.
    bool nested = false;
    try {
      nested = is_ensemble_manifest(resolved);
    } catch (const ModelError &e) {
      throw ModelError(where(name, model) + "models: " + e.what());
    }
    if (nested)
      throw ModelError(where(name, model) + "models: " + io::printable(model.Scalar()) +
                       " is an ensemble itself; list its members instead");
    manifest.models.push_back(resolved);
  }

  if (beam_size.IsDefined() && !beam_size.IsNull()) {
    const ParsedInteger n =
        beam_size.IsScalar() ? parse_integer(beam_size.Scalar()) : ParsedInteger{};
    if (!n.value || *n.value < 1 || *n.value > 1024)
      throw ModelError(where(name, beam_size) +
                       "beam-size: expected a whole number from 1 to 1024");
    manifest.beam_size = *n.value;
  }
  if (normalize.IsDefined() && !normalize.IsNull()) {
    const auto x = normalize.IsScalar() ? parse_real(normalize.Scalar()) : std::nullopt;
    if (!x || !std::isfinite(*x))
      throw ModelError(where(name, normalize) + "normalize: expected a finite number");
    manifest.length_penalty = *x;
  }

  if (!has_weights) {
    manifest.weights.assign(manifest.models.size(), 1.0);
    return manifest;
  }
  if (!weights.IsSequence() || weights.size() != models.size())
    throw ModelError(where(name, weights) + "weights: expected a list of " +
                     std::to_string(models.size()) + " positive numbers, one per model");
  for (const auto &weight : weights) {
    const auto w = weight.IsScalar() ? parse_real(weight.Scalar()) : std::nullopt;
    if (!w || !(*w > 0) || !std::isfinite(*w))
      throw ModelError(where(name, weight) + "weights: " +
                       (weight.IsScalar() ? "'" + io::printable(weight.Scalar()) + "'"
                                          : std::string("an entry")) +
                       " is not a positive finite number");
    manifest.weights.push_back(*w);
  }
  return manifest;
}

} // namespace heed
