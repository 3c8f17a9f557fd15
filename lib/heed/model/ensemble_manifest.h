// An ensemble directory: a small YAML manifest that lists member models, so
// that an ensemble can be named by one path (`-m DIR`, $HEED_MODEL, the
// shipped default) instead of one -m per member.
//
//   DIR/ensemble.yml
//     # the members decode side by side on the weighted sum of their
//     # log-probabilities (decoding/step_scorer.h)
//     models:            # paths relative to DIR, or absolute; at least one
//       - member-a
//       - member-b
//     weights: [1, 1]    # optional: one positive number per model (default 1 each)
//     beam-size: 4       # optional: the ensemble's num_beams
//     normalize: 1.4     # optional: the ensemble's length penalty
//
// The keys are those of Marian's decoder.yml for an ensemble (`models`,
// `weights`: marian-decoder --models A B --weights 0.5 0.5; `beam-size`,
// `normalize`: its --beam-size and --normalize). An ensemble decodes with its
// first member's generation config; `beam-size` and `normalize` take the place
// of that config's num_beams and length_penalty (flags still override them),
// so that the members keep their own defaults when used alone. A member is
// anything heed loads as one model (model/checkpoint.h), never another
// ensemble. Unknown keys are refused, so that a misspelt `weight:` is not
// silently ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heed {

inline constexpr const char *kEnsembleManifestName = "ensemble.yml";

struct EnsembleManifest {
  std::string path;                     // the ensemble.yml read
  std::vector<std::string> models;      // member paths, resolved against the manifest's directory
  std::vector<double> weights;          // one per model (1 each when the manifest gives none)
  std::optional<int64_t> beam_size;     // beam-size: 1 to 1024
  std::optional<double> length_penalty; // normalize: a finite number
};

// True when `path` names an ensemble: a file called ensemble.yml, or a
// directory holding one and no config.json (a model directory is a model).
bool is_ensemble_manifest(const std::string &path);

// Reads the manifest at `path` (the directory or the file). ModelError naming
// the file, line and field: not YAML, not a mapping, an unknown key, no
// models, a model entry that is not a path or names another ensemble, a
// weight that is not a positive finite number, weights not one per model, a
// beam-size that is not a whole number from 1 to 1024, a normalize that is not
// a finite number.
// Members are not loaded here: a missing member fails when it is loaded,
// naming its path.
EnsembleManifest read_ensemble_manifest(const std::string &path);

// The same for the manifest text `text` of the file `path` (which names it in
// errors and against whose directory members are resolved); at most 64 KiB
// of text is read from a file, 64 members.
EnsembleManifest parse_ensemble_manifest(const std::string &text, const std::string &path);

} // namespace heed
