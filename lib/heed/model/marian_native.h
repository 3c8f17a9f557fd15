// A native Marian release (OPUS-MT, Tatoeba-MT) read as the Hugging Face model
// that transformers' src/transformers/models/marian/convert_marian_to_pytorch.py
// (OpusState, load_marian_model, convert) makes of it, converted in memory:
// the same config.json fields, generation defaults, tensors (Hugging Face
// names and [out, in] layout) and vocabularies, so heed translates a release
// exactly as it translates its conversion.
//
// The directory holds:
//   *.npz          the weights (numpy arrays, Marian names, matrices [in, out])
//                  and `special:model.yml`, Marian's model config as bytes
//                  (one NUL after the text, or NULs up to a multiple of 256)
//   decoder.yml    decoding defaults: `beam-size` (required, as the converter
//                  reads it), `models` and `vocabs` (used to find the files;
//                  else the converter's globs *.npz, *vocab.yml,
//                  *src.vocab.yml / *trg.vocab.yml, each of which must match
//                  exactly one file)
//   *.vocab.yml    `piece: id` (Vocabulary::load_yaml), joint or src/trg
//   source.spm, target.spm
//
// What the converter refuses is refused too (ModelError naming the file, the
// model.yml key or the tensor), and so is what it would silently convert
// into a different model: see marian_native.cpp, check_architecture().
#pragma once

#include <string>

#include "heed/model/checkpoint.h"

namespace heed {

// True when `dir` has a decoder.yml or a *.npz (and is therefore read as a
// native Marian directory when it has no Hugging Face weights).
bool looks_like_marian_native(const std::string &dir);

// True when `file` names a native Marian entry point: a *.npz or a *.yml
// (decoder.yml).
bool is_marian_native_file(const std::string &file);

// Reads the Marian directory `dir`; `named` is the .npz or decoder.yml that
// `-m` named inside it (empty: found as described above). ModelError naming
// the file and key or tensor at fault.
Checkpoint open_marian_native(const std::string &dir, const std::string &named = "");

} // namespace heed
