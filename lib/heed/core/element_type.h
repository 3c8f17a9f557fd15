// The element type of activations kept between steps at a precision chosen at
// run time: the decoder's key/value caches and projected encoder memory are
// float32, or bfloat16 under bfloat16 compute and under int8 on processors
// with bfloat16 kernels (see Decoder::cache_type in model/decoder.h).
#pragma once

#include <cstddef>

namespace heed {

enum class ElementType { float32, bfloat16 };

inline size_t element_bytes(ElementType type) { return type == ElementType::bfloat16 ? 2 : 4; }

} // namespace heed
