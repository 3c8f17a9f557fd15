#include "heed/jobs/convert_job.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/io/distinct_files.h"
#include "heed/io/json_fields.h"
#include "heed/io/output_file.h"
#include "heed/io/output_path.h"
#include "heed/io/safetensors.h"
#include "heed/io/safetensors_writer.h"
#include "heed/model/marian_model.h"
#include "heed/model/weight_reader.h"
#include "heed/ops/quantize.h"

namespace fs = std::filesystem;

namespace heed {
namespace {

bool is_quantized(const io::TensorEntry &t) { return is_weight_matrix(t.name, t.shape); }

// The files copied as they are: how to tokenize and generate (JSON settings
// and vocabularies, SentencePiece models), and the license terms, which travel
// with the weights. Everything else describes the float model and would be
// wrong about the copy, or is no part of it: the model card (README.md, with
// its scores and sizes), training logs, weight files of other frameworks
// (still float). config.json is rewritten.
bool is_copied(const fs::path &name) {
  const std::string n = name.string(), extension = name.extension().string();
  if (n == "config.json" || n == "README.md" || n.find(".index.json") != std::string::npos)
    return false;
  if (extension == ".json" || extension == ".spm" || extension == ".model")
    return true;
  for (const char *prefix : {"LICENSE", "LICENCE", "COPYING", "NOTICE"})
    if (n.rfind(prefix, 0) == 0)
      return true;
  return false;
}

// The converted model's README.md: the original card's YAML front matter
// (license, languages, tags: facts that hold for the copy too), then what the
// copy is and why the original card is not there.
std::string converted_model_card(const fs::path &in, ops::ComputeType quantize) {
  std::string front_matter;
  std::ifstream card(in / "README.md");
  std::string line;
  if (card && std::getline(card, line) && line == "---") {
    std::string block = line + "\n";
    while (std::getline(card, line)) {
      block += line + "\n";
      if (line == "---") {
        front_matter = block + "\n";
        break;
      }
    }
  }
  const std::string source = fs::absolute(in).lexically_normal().string();
  const bool int8 = quantize == ops::ComputeType::int8;
  const std::string type = ops::compute_type_name(quantize);
  return front_matter + "# " + type + " copy of " +
         fs::absolute(in).lexically_normal().filename().string() +
         "\n\n"
         "Written by `heed convert --quantize " +
         type + "` from `" + source + "`: " +
         (int8 ? "every weight matrix is stored as int8 (I8) with one float32 scale per output "
                 "row (`NAME_scale`)"
               : "every weight matrix is stored as bfloat16 (BF16), rounded to nearest even") +
         "; the other tensors, the vocabularies, the SentencePiece models and the generation "
         "settings are the original's. `config.json` records the conversion as "
         "`heed_quantization`, and heed computes this model in " +
         type +
         ".\n\n"
         "The original model card and training files were not copied: their figures (scores, "
         "speed, sizes) were measured with the float weights, not with this copy. Measure the "
         "copy before relying on it; the original card is `" +
         source + "/README.md`.\n";
}

template <typename T> std::vector<uint8_t> as_bytes(const std::vector<T> &values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

void prepare_output_directory(const fs::path &in, const fs::path &out) {
  std::error_code error;
  if (fs::exists(out, error)) {
    if (!fs::is_directory(out, error))
      throw IoError(out.string() + ": exists and is not a directory");
    if (fs::equivalent(in, out, error))
      throw IoError(out.string() + ": is the input model; choose another output directory");
    if (!fs::is_empty(out, error))
      throw IoError(out.string() + ": exists and is not empty; choose a new directory");
  }
  // The directory itself, not its parents (io/output_path.h).
  fs::create_directory(out, error);
  if (error)
    throw IoError(out.string() + ": cannot create: " + error.message());
}

// A matrix in the target type: I8 with a F32 scale per row, or BF16.
void convert_matrix(const io::TensorEntry &entry, ops::ComputeType type,
                    std::vector<io::TensorToWrite> &tensors) {
  const int64_t rows = entry.shape[0], cols = entry.shape[1];
  std::vector<float> values(static_cast<size_t>(rows * cols));
  io::SafetensorsFile::to_float(entry, values.data());
  if (type == ops::ComputeType::bfloat16) {
    std::vector<uint16_t> rounded(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      rounded[i] = to_bfloat16(values[i]);
    tensors.push_back({entry.name, io::DType::bf16, entry.shape, as_bytes(rounded)});
    return;
  }
  std::vector<int8_t> quantized(values.size());
  std::vector<float> scales(static_cast<size_t>(rows));
  ops::quantize_rows(values.data(), rows, cols, cols, quantized.data(), scales.data());
  tensors.push_back({entry.name, io::DType::i8, entry.shape, as_bytes(quantized)});
  tensors.push_back({entry.name + kScaleSuffix, io::DType::f32, {rows}, as_bytes(scales)});
}

} // namespace

ConvertReport run_convert(const ConvertJob &job) {
  if (job.quantize == ops::ComputeType::float32)
    throw OptionError("convert: the weights can be converted to int8 or bfloat16, not float32");
  const std::string target = ops::compute_type_name(job.quantize);
  ConvertReport report;
  io::check_distinct_files({{"model", job.model_dir}}, {{"output directory", job.output_dir}});
  io::check_output_directory(job.output_dir); // before the work of loading
  // Loading checks the whole model (shapes, vocabularies) before anything is written.
  LoadOptions float32;
  float32.compute_type = ops::ComputeType::float32;
  const auto model = MarianModel::load(job.model_dir, float32);
  if (!model->config.quantized_weights.empty())
    throw ModelError(job.model_dir + ": already converted to " + model->config.quantized_weights +
                     " (config.json heed_quantization); convert the original model");

  const fs::path in(job.model_dir), out(job.output_dir);
  prepare_output_directory(in, out);
  // A conversion that fails leaves no directory that looks like a model (it
  // was new or empty: prepare_output_directory).
  struct RemoveOnFailure {
    const fs::path &dir;
    bool succeeded = false;
    ~RemoveOnFailure() {
      std::error_code ignored;
      if (!succeeded)
        fs::remove_all(dir, ignored);
    }
  } cleanup{out};

  const io::SafetensorsFile weights((in / "model.safetensors").string());
  std::vector<io::TensorToWrite> tensors;
  for (const auto &[name, entry] : weights.tensors()) {
    if (!is_quantized(entry)) {
      tensors.push_back({name, entry.dtype, entry.shape,
                         std::vector<uint8_t>(entry.data, entry.data + (entry.end - entry.begin))});
      ++report.kept_tensors;
      continue;
    }
    convert_matrix(entry, job.quantize, tensors);
    ++report.quantized_tensors;
  }
  io::write_safetensors((out / "model.safetensors").string(), tensors,
                        {{"format", "pt"}, {"heed_quantization", target}});

  nlohmann::json config = io::read_json_file((in / "config.json").string());
  config["heed_quantization"] = {
      {"weights", target},
      {"scheme", job.quantize == ops::ComputeType::int8
                     ? "symmetric, one scale per output row (NAME_scale, F32)"
                     : "weight matrices rounded to nearest even (BF16); vectors kept"},
      {"quantized_by", "heed convert --quantize " + target}};
  {
    io::OutputFile config_out((out / "config.json").string(), io::OutputFile::Mode::truncate);
    config_out.write(config.dump(2) + '\n');
    config_out.close();
  }

  for (const auto &file : fs::directory_iterator(in)) {
    const fs::path name = file.path().filename();
    if (!file.is_regular_file() || name == "config.json" || name == "model.safetensors")
      continue;
    if (!is_copied(name)) {
      if (name != "README.md") // replaced below, not dropped
        report.dropped.push_back(name.string());
      continue;
    }
    std::error_code error;
    fs::copy_file(file.path(), out / name, fs::copy_options::overwrite_existing, error);
    if (error)
      throw IoError((out / name).string() + ": cannot copy: " + error.message());
  }
  {
    const fs::path card_path = out / "README.md";
    io::OutputFile card(card_path.string(), io::OutputFile::Mode::truncate);
    card.write(converted_model_card(in, job.quantize));
    card.close();
  }
  std::sort(report.dropped.begin(), report.dropped.end());
  report.input_bytes = static_cast<int64_t>(fs::file_size(in / "model.safetensors"));
  report.output_bytes = static_cast<int64_t>(fs::file_size(out / "model.safetensors"));
  cleanup.succeeded = true;
  return report;
}

std::string format_convert_report(const ConvertJob &job, const ConvertReport &report) {
  char line[512];
  std::snprintf(line, sizeof line,
                "wrote %s: %lld weight matrices %s %s, %lld tensors kept; "
                "model.safetensors %.1f MB -> %.1f MB (%.2fx smaller)",
                job.output_dir.c_str(), static_cast<long long>(report.quantized_tensors),
                job.quantize == ops::ComputeType::int8 ? "quantized to" : "converted to",
                ops::compute_type_name(job.quantize), static_cast<long long>(report.kept_tensors),
                report.input_bytes / 1e6, report.output_bytes / 1e6,
                report.output_bytes > 0 ? static_cast<double>(report.input_bytes) /
                                              static_cast<double>(report.output_bytes)
                                        : 0.0);
  std::string text = line;
  if (!report.dropped.empty()) {
    text += "; not copied (they describe the float model; see README.md there):";
    for (const auto &name : report.dropped)
      text += " " + name;
  }
  return text + "\n";
}

} // namespace heed
