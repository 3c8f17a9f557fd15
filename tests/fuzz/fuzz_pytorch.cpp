// pytorch_model.bin as a whole: a zip archive (written to a temporary file for
// libzip) or the legacy pickle stream (read from memory). Either a ModelError
// or tensors whose every byte is converted to float, so that AddressSanitizer
// sees a read past a buffer, and whose sizes agree with their shapes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/io/pytorch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string path = "/tmp/fuzz_pytorch_" + std::to_string(getpid()) + ".bin";
  try {
    std::unique_ptr<heed::io::TensorBuffers> archive;
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
      FILE *f = std::fopen(path.c_str(), "wb");
      FUZZ_CHECK(f != nullptr);
      FUZZ_CHECK(std::fwrite(data, 1, size, f) == size);
      std::fclose(f);
      archive = heed::io::read_pytorch_zip(path);
    } else {
      archive = heed::io::read_pytorch_legacy(data, size, "fuzz.bin");
    }
    std::vector<float> values;
    for (const auto &[name, tensor] : archive->tensors()) {
      FUZZ_CHECK(name == tensor.name);
      FUZZ_CHECK(static_cast<uint64_t>(tensor.numel()) * heed::io::dtype_size(tensor.dtype) ==
                 tensor.bytes());
      // Nothing is made larger than the file holds (views copy at most that).
      FUZZ_CHECK(tensor.bytes() <= 2 * size);
      values.resize(static_cast<size_t>(tensor.numel()));
      heed::io::TensorArchive::to_float(tensor, values.data());
    }
  } catch (const heed::ModelError &) {
    // A refusal with a message is the expected outcome for most inputs.
  }
  return 0;
}
