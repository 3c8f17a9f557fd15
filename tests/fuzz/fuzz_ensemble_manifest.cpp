// An ensemble.yml: any text either gives a manifest of 1 to 64 member paths
// with one positive finite weight each (and a beam size from 1 to 1024 and a
// finite length penalty when given), or a ModelError naming the file; never a
// crash or a deep recursion.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/model/ensemble_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  try {
    const auto m = heed::parse_ensemble_manifest(text, "/nonexistent/ensemble.yml");
    FUZZ_CHECK(!m.models.empty() && m.models.size() <= 64);
    FUZZ_CHECK(m.weights.size() == m.models.size());
    for (double w : m.weights)
      FUZZ_CHECK(w > 0 && std::isfinite(w));
    for (const auto &model : m.models)
      FUZZ_CHECK(!model.empty());
    FUZZ_CHECK(!m.beam_size || (*m.beam_size >= 1 && *m.beam_size <= 1024));
    FUZZ_CHECK(!m.length_penalty || std::isfinite(*m.length_penalty));
  } catch (const heed::ModelError &e) {
    FUZZ_CHECK(std::string(e.what()).rfind("/nonexistent/ensemble.yml", 0) == 0);
  }
  return 0;
}
