// Marian's model.npz: a zip of .npy arrays. The first input byte chooses what
// the rest is: 0, one .npy (io::parse_npy: an accepted header must describe
// exactly the bytes that follow it); else a whole .npz, opened through
// libzip from a file and every array read (the values must be exactly
// numel * item size bytes). Anything else must be a ModelError.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/io/npz_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const std::string_view rest(reinterpret_cast<const char *>(data + 1), size - 1);
  try {
    if (data[0] == 0) {
      const auto layout = heed::io::parse_npy(rest, "fuzz.npy");
      FUZZ_CHECK(layout.data_offset <= rest.size());
      FUZZ_CHECK(layout.numel * heed::io::npy_type_size(layout.type) ==
                 rest.size() - layout.data_offset);
      uint64_t numel = 1;
      for (int64_t d : layout.shape) {
        FUZZ_CHECK(d >= 0);
        numel *= static_cast<uint64_t>(d);
      }
      FUZZ_CHECK(numel == layout.numel);
      return 0;
    }
    static const std::string path = "/tmp/heed-fuzz-npz-" + std::to_string(getpid()) + ".npz";
    FILE *f = std::fopen(path.c_str(), "wb");
    FUZZ_CHECK(f != nullptr);
    FUZZ_CHECK(std::fwrite(rest.data(), 1, rest.size(), f) == rest.size());
    std::fclose(f);
    const heed::io::NpzArchive npz(path);
    for (const auto &name : npz.names()) {
      try {
        const auto array = npz.read(name);
        FUZZ_CHECK(array.data.size() == array.numel() * heed::io::npy_type_size(array.type));
      } catch (const heed::ModelError &) {
      }
    }
  } catch (const heed::ModelError &) {
  }
  return 0;
}
