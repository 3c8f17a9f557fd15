#include "heed/io/safetensors_writer.h"

#include <nlohmann/json.hpp>

#include "heed/core/error.h"
#include "heed/io/atomic_file.h"
#include "heed/io/output_file.h"

namespace heed::io {

void write_safetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                       const std::map<std::string, std::string> &metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto &t : tensors) {
    int64_t numel = 1;
    for (int64_t d : t.shape)
      numel *= d;
    if (t.bytes.size() != static_cast<size_t>(numel) * dtype_size(t.dtype))
      throw std::logic_error("write_safetensors: " + t.name + " has the wrong byte count");
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  write_file_atomically(path, [&](OutputFile &out) {
    std::string length_bytes;
    for (int i = 0; i < 8; ++i)
      length_bytes += static_cast<char>((text.size() >> (8 * i)) & 0xff);
    out.write(length_bytes);
    out.write(text);
    for (const auto &t : tensors)
      out.write(std::string_view(reinterpret_cast<const char *>(t.bytes.data()), t.bytes.size()));
  });
}

} // namespace heed::io
