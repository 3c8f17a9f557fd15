// The safetensors header and tensor table. Whatever the bytes, the parser must
// either refuse them with a ModelError or hand out tensors whose every byte lies
// inside the input: each accepted tensor is converted to float in full, so that
// AddressSanitizer sees any read past the data.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    const heed::io::SafetensorsFile file(data, size, "fuzz.safetensors");
    std::vector<float> values;
    for (const auto &[name, tensor] : file.tensors()) {
      FUZZ_CHECK(name == tensor.name);
      FUZZ_CHECK(tensor.begin <= tensor.end);
      FUZZ_CHECK(tensor.data >= data + 8);
      FUZZ_CHECK(tensor.data + (tensor.end - tensor.begin) <= data + size);
      FUZZ_CHECK(static_cast<uint64_t>(tensor.numel()) * heed::io::dtype_size(tensor.dtype) ==
                 tensor.end - tensor.begin);
      FUZZ_CHECK(&file.get(name) == &tensor);
      values.resize(static_cast<size_t>(tensor.numel()));
      heed::io::SafetensorsFile::to_float(tensor, values.data());
    }
  } catch (const heed::ModelError &) {
    // A refusal with a message is the expected outcome for most inputs.
  }
  return 0;
}
