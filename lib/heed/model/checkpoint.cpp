#include "heed/model/checkpoint.h"

#include <filesystem>

#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/io/pytorch_checkpoint.h"
#include "heed/io/regular_file.h"
#include "heed/io/safetensors.h"
#include "heed/io/zip_archive.h"
#include "heed/model/marian_native.h"

namespace heed {
namespace fs = std::filesystem;

const char *checkpoint_format_name(CheckpointFormat format) {
  switch (format) {
  case CheckpointFormat::safetensors:
    return "safetensors";
  case CheckpointFormat::pytorch_zip:
    return "pytorch_model.bin (zip)";
  case CheckpointFormat::pytorch_legacy:
    return "pytorch_model.bin (legacy)";
  case CheckpointFormat::marian_npz:
    return "Marian npz";
  }
  return "?";
}

namespace {

bool present(const fs::path &path) {
  return io::model_path_kind(path.string()) != io::PathKind::missing;
}

// A Hugging Face directory: config.json, generation_config.json and the
// weights file `weights` (model.safetensors or pytorch_model.bin).
Checkpoint open_hugging_face(const fs::path &dir, const fs::path &weights) {
  Checkpoint c;
  c.directory = dir.string();
  const fs::path config = dir / "config.json";
  if (!present(config))
    throw ModelError(dir.string() + ": not a Marian model directory: config.json is missing");
  c.config_json = io::read_json_file(config.string());
  c.config = MarianConfig::from_json(c.config_json, config.string());
  c.generation = GenerationConfig::load(dir.string());
  if (weights.filename() == "model.safetensors" || weights.extension() == ".safetensors") {
    c.format = CheckpointFormat::safetensors;
    c.tensors = std::make_unique<io::SafetensorsFile>(weights.string());
  } else {
    // pytorch_model.bin (or another name given as the weights file): torch.save's
    // zip archive or its legacy pickle stream.
    c.format = io::ZipArchive::has_zip_magic(weights.string()) ? CheckpointFormat::pytorch_zip
                                                               : CheckpointFormat::pytorch_legacy;
    c.tensors = c.format == CheckpointFormat::pytorch_zip
                    ? io::read_pytorch_zip(weights.string())
                    : io::read_pytorch_legacy(weights.string());
  }
  return c;
}

} // namespace

Checkpoint open_checkpoint(const std::string &path) {
  // Every filesystem fault (a symlink loop, a file where a directory should
  // be, a FIFO or a device among the files) is a model error naming the path.
  switch (io::model_path_kind(path)) {
  case io::PathKind::missing:
    throw ModelError(path + ": no such model directory");
  case io::PathKind::regular: {
    // The weights file itself: its directory holds the rest.
    const fs::path file(path);
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    if (is_marian_native_file(path))
      return open_marian_native(dir.string(), path);
    const std::string extension = file.extension().string();
    if (extension == ".safetensors" || extension == ".bin")
      return open_hugging_face(dir, file);
    throw ModelError(path + ": not a directory (expected a model directory, or its "
                            "model.safetensors, pytorch_model.bin, .npz or decoder.yml)");
  }
  case io::PathKind::directory:
    break;
  default:
    throw ModelError(path + ": not a directory (expected a model directory, or its "
                            "model.safetensors, pytorch_model.bin, .npz or decoder.yml)");
  }
  const fs::path dir(path);
  if (present(dir / "model.safetensors"))
    return open_hugging_face(dir, dir / "model.safetensors");
  if (present(dir / "pytorch_model.bin"))
    return open_hugging_face(dir, dir / "pytorch_model.bin");
  if (!present(dir / "config.json") && looks_like_marian_native(path))
    return open_marian_native(path);
  if (!present(dir / "config.json"))
    throw ModelError(path + ": not a Marian model directory: config.json is missing");
  throw ModelError((dir / "model.safetensors").string() +
                   ": missing, and there is no pytorch_model.bin either (the weights)");
}

} // namespace heed
