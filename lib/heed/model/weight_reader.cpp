#include "heed/model/weight_reader.h"

#include "heed/core/error.h"

namespace heed {
namespace {

std::string shape_string(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

} // namespace

const io::TensorEntry &WeightReader::check(const std::string &name,
                                           const std::vector<int64_t> &shape) {
  const io::TensorEntry &entry = file_.get(name);
  if (entry.shape != shape)
    throw ModelError(file_.path() + ": tensor '" + name + "' has shape " + entry.shape_string() +
                     " but config.json implies " + shape_string(shape));
  used_.insert(name);
  return entry;
}

Tensor WeightReader::read(const std::string &name, const std::vector<int64_t> &shape) {
  const io::TensorEntry &entry = check(name, shape);
  Tensor t(shape);
  io::SafetensorsFile::to_float(entry, t.data());
  file_.release(entry);
  if (entry.dtype == io::DType::i8) {
    if (shape.size() != 2)
      throw ModelError(file_.path() + ": tensor '" + name +
                       "' is I8 but only weight matrices can be quantized");
    const std::string scale_name = name + kScaleSuffix;
    if (!file_.contains(scale_name))
      throw ModelError(file_.path() + ": tensor '" + name + "' is I8 but its scales '" +
                       scale_name + "' are missing");
    const io::TensorEntry &scale_entry = check(scale_name, {shape[0]});
    if (scale_entry.dtype == io::DType::i8)
      throw ModelError(file_.path() + ": scales '" + scale_name + "' must be floating point");
    Tensor scales({shape[0]});
    io::SafetensorsFile::to_float(scale_entry, scales.data());
    for (int64_t r = 0; r < shape[0]; ++r)
      for (int64_t c = 0; c < shape[1]; ++c)
        t[r * shape[1] + c] *= scales[r];
  }
  return t;
}

void WeightReader::skip(const std::string &name, const std::vector<int64_t> &shape) {
  if (check(name, shape).dtype == io::DType::i8 && file_.contains(name + kScaleSuffix))
    used_.insert(name + kScaleSuffix);
}

void WeightReader::check_all_used() const {
  std::string unexpected;
  int count = 0;
  for (const auto &[name, entry] : file_.tensors()) {
    if (used_.count(name))
      continue;
    if (count < 5)
      unexpected += (count ? ", '" : "'") + name + "'";
    ++count;
  }
  if (count > 0)
    throw ModelError(file_.path() + ": " + std::to_string(count) +
                     " unexpected tensor(s) for this config.json: " + unexpected +
                     (count > 5 ? ", ..." : ""));
}

} // namespace heed
