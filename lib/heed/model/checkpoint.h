// A model as it is published, in any layout heed reads, before anything is
// packed for computing: its configuration, decoding defaults and tensors under
// the Hugging Face names (model.encoder.layers.0.self_attn.q_proj.weight ...).
//
// Layouts, tried in this order for a directory:
//   safetensors     Hugging Face MarianMT directory with model.safetensors
//   pytorch zip     the same with pytorch_model.bin written by torch >= 1.6
//   pytorch legacy  the same with pytorch_model.bin in the older pickle format
//   marian npz      a native Marian release: *.npz, decoder.yml, *.vocab.yml,
//                   source.spm, target.spm, converted on the fly exactly as
//                   transformers' convert_marian_to_pytorch.py converts it
// `path` may also name the weights file itself (model.safetensors,
// pytorch_model.bin, a .npz or decoder.yml); its directory holds the rest.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "heed/io/tensor_archive.h"
#include "heed/model/config.h"
#include "heed/model/generation_config.h"
#include "heed/text/vocabulary.h"

namespace heed {

enum class CheckpointFormat { safetensors, pytorch_zip, pytorch_legacy, marian_npz };

// "safetensors", "pytorch_model.bin (zip)", "pytorch_model.bin (legacy)",
// "Marian npz".
const char *checkpoint_format_name(CheckpointFormat format);

struct Checkpoint {
  std::string directory; // holds source.spm and target.spm
  CheckpointFormat format = CheckpointFormat::safetensors;
  // config.json as transformers has it (for a Marian model: as its converter
  // would write it), so that `heed convert` can write it out.
  nlohmann::json config_json;
  MarianConfig config;
  GenerationConfig generation;
  std::unique_ptr<io::TensorArchive> tensors; // Hugging Face names
  // Set for Marian models, whose vocabularies are YAML files (with the <pad>
  // entry the converter appends); unset: the tokenizer reads vocab.json (and
  // target_vocab.json) from `directory`.
  std::optional<Vocabulary> source_vocab, target_vocab;
  // Marian models trained with guided alignment name the decoder layer
  // (0-based) whose first cross-attention head was trained to align.
  std::optional<int64_t> alignment_layer;
};

// Finds the layout at `path` and reads it; ModelError naming the file and
// field or tensor at fault.
Checkpoint open_checkpoint(const std::string &path);

} // namespace heed
