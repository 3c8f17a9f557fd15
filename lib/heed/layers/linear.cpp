#include "heed/layers/linear.h"

#include <cstring>
#include <stdexcept>

namespace heed {

Linear concatenate_outputs(const Linear *const *parts, size_t count) {
  int64_t out = 0;
  const int64_t in = parts[0]->in_features();
  for (size_t i = 0; i < count; ++i) {
    if (parts[i]->in_features() != in)
      throw std::logic_error("concatenate_outputs: input sizes differ");
    out += parts[i]->out_features();
  }
  Linear fused;
  fused.weight.resize({out, in});
  fused.bias.resize({out});
  int64_t row = 0;
  for (size_t i = 0; i < count; ++i) {
    const Linear &p = *parts[i];
    std::memcpy(fused.weight.data() + row * in, p.weight.data(), sizeof(float) * p.weight.size());
    if (p.bias.empty())
      std::memset(fused.bias.data() + row, 0, sizeof(float) * p.out_features());
    else
      std::memcpy(fused.bias.data() + row, p.bias.data(), sizeof(float) * p.out_features());
    row += p.out_features();
  }
  return fused;
}

} // namespace heed
