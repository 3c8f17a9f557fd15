// A description of a loaded model for `heed info`.
#pragma once

#include <nlohmann/json.hpp>

#include "heed/model/marian_model.h"

namespace heed {

nlohmann::json model_info(const MarianModel &model);
// Human-readable "key: value" lines.
std::string format_model_info(const nlohmann::json &info);

} // namespace heed
