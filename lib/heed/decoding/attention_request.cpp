#include "heed/decoding/attention_request.h"

#include <sstream>

#include "heed/core/error.h"
#include "heed/core/parse_number.h"

namespace heed {

IndexSelection IndexSelection::parse(const std::string &text, const std::string &what) {
  IndexSelection s;
  if (text == "all" || text.empty())
    return s;
  if (text == "mean" || text == "max") {
    s.reduction = text == "mean" ? Reduction::mean : Reduction::max;
    return s;
  }
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto value = parse_int64(item);
    if (!value)
      throw OptionError(what +
                        " must be all, mean, max or a comma-separated list of indices, "
                        "got '" +
                        text + "'");
    s.indices.push_back(*value);
  }
  return s;
}

std::vector<int64_t> IndexSelection::resolve(int64_t count, const std::string &what) const {
  std::vector<int64_t> out;
  if (reduction != Reduction::none)
    return out;
  if (indices.empty()) {
    for (int64_t i = 0; i < count; ++i)
      out.push_back(i);
    return out;
  }
  for (int64_t i : indices) {
    const int64_t resolved = i < 0 ? count + i : i;
    if (resolved < 0 || resolved >= count)
      throw OptionError(what + " index " + std::to_string(i) + " is out of range: the model has " +
                        std::to_string(count));
    out.push_back(resolved);
  }
  return out;
}

void AttentionRequest::set_kinds(const std::string &text, const std::string &what) {
  cross = encoder = decoder = false;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "cross")
      cross = true;
    else if (item == "encoder")
      encoder = true;
    else if (item == "decoder")
      decoder = true;
    else if (item == "all")
      cross = encoder = decoder = true;
    else
      throw OptionError(what + " must be cross, encoder, decoder or all, got '" + item + "'");
  }
}

} // namespace heed
