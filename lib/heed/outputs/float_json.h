// Float arrays as JSON text, written directly rather than through
// nlohmann::json: it would widen each float to double and print
// 0.1f as 0.10000000149011612, and build a node per number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed {

// Appends `value` as the shortest decimal that reads back as the same float
// (or, with decimals >= 0, rounded to that many decimals, trailing zeros
// dropped: compact enough for an HTML page). Non-finite values become null.
void append_float_json(std::string &out, float value, int decimals = -1);

// Appends the row-major array at `data` of `shape` as nested JSON arrays.
void append_nested_array_json(std::string &out, const float *data,
                              const std::vector<int64_t> &shape, int decimals = -1);

} // namespace heed
