#include "heed/jobs/convert_job.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/io/distinct_files.h"
#include "heed/io/json_fields.h"
#include "heed/io/output_file.h"
#include "heed/io/output_path.h"
#include "heed/io/safetensors.h"
#include "heed/io/safetensors_writer.h"
#include "heed/model/checkpoint.h"
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
std::string converted_model_card(const fs::path &in, const Checkpoint &checkpoint,
                                 std::optional<ops::ComputeType> quantize) {
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
  const std::string name = fs::absolute(in).lexically_normal().filename().string();
  const std::string format = checkpoint_format_name(checkpoint.format);
  if (!quantize)
    return front_matter + "# safetensors copy of " + name +
           "\n\n"
           "Written by `heed convert` from `" +
           source + "` (" + format +
           "): the same tensors in the Hugging Face safetensors layout, each stored once, in "
           "its own dtype" +
           (checkpoint.format == CheckpointFormat::marian_npz
                ? ", converted from Marian's names and layout as transformers' "
                  "convert_marian_to_pytorch.py converts them (config.json and the vocabularies "
                  "too)"
                : "") +
           ". It translates exactly as the original.\n\n"
           "The original model card and training files were not copied; the original card is `" +
           source + "/README.md`.\n";
  const bool int8 = *quantize == ops::ComputeType::int8;
  const std::string type = ops::compute_type_name(*quantize);
  return front_matter + "# " + type + " copy of " + name +
         "\n\n"
         "Written by `heed convert --quantize " +
         type + "` from `" + source + "` (" + format + "): " +
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

// Of the names a tied tensor is stored under, the one the copy keeps: the
// first a loader looks for (model/marian_model.cpp reads the shared table
// first, then the encoder's, then the decoder's; lm_head only when untied).
int tied_name_rank(const std::string &name) {
  static const char *const kOrder[] = {"model.shared.weight", "model.encoder.embed_tokens.weight",
                                       "model.decoder.embed_tokens.weight", "lm_head.weight"};
  for (int i = 0; i < 4; ++i)
    if (name == kOrder[i])
      return i;
  return 4;
}

// The tensors to write: each stored once (pytorch_model.bin stores tied
// weights under every name, sharing one storage), under its best name.
std::vector<const io::TensorEntry *> distinct_tensors(const io::TensorArchive &archive) {
  std::map<const uint8_t *, const io::TensorEntry *> kept;
  std::vector<const io::TensorEntry *> order;
  for (const auto &[name, entry] : archive.tensors()) {
    if (entry.bytes() == 0 || entry.data == nullptr) {
      order.push_back(&entry);
      continue;
    }
    auto [it, inserted] = kept.emplace(entry.data, &entry);
    if (inserted) {
      order.push_back(&entry);
    } else if (it->second->shape == entry.shape && it->second->dtype == entry.dtype) {
      if (tied_name_rank(name) < tied_name_rank(it->second->name)) {
        std::replace(order.begin(), order.end(), it->second, &entry);
        it->second = &entry;
      }
    } else {
      order.push_back(&entry); // same bytes, other shape: not a tie, keep both
    }
  }
  // By name, as the archive lists them: the same tensors give the same file
  // whichever name a tie kept.
  std::sort(order.begin(), order.end(),
            [](const io::TensorEntry *a, const io::TensorEntry *b) { return a->name < b->name; });
  return order;
}

// A native Marian model's copy gets the tokenizer files transformers'
// converter writes: vocab.json (and target_vocab.json), tokenizer_config.json,
// special_tokens_map.json.
void write_tokenizer_files(const Checkpoint &c, const fs::path &out) {
  auto write = [&](const char *name, const std::string &text) {
    io::OutputFile file((out / name).string(), io::OutputFile::Mode::truncate);
    file.write(text + '\n');
    file.close();
  };
  write("vocab.json", c.source_vocab->to_json().dump(2));
  if (c.target_vocab)
    write("target_vocab.json", c.target_vocab->to_json().dump(2));
  const nlohmann::json tokenizer = {{"separate_vocabs", c.target_vocab.has_value()},
                                    {"model_max_length", c.config.max_position_embeddings},
                                    {"eos_token", "</s>"},
                                    {"unk_token", "<unk>"},
                                    {"pad_token", "<pad>"}};
  write("tokenizer_config.json", tokenizer.dump(2));
  const nlohmann::json special = {
      {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"}};
  write("special_tokens_map.json", special.dump(2));
}

} // namespace

ConvertReport run_convert(const ConvertJob &job) {
  if (job.quantize && *job.quantize == ops::ComputeType::float32)
    throw OptionError("convert: the weights can be converted to int8 or bfloat16, not float32");
  ConvertReport report;
  io::check_distinct_files({{"model", job.model_dir}}, {{"output directory", job.output_dir}});
  io::check_output_directory(job.output_dir); // before the work of loading
  // Loading checks the whole model (shapes, vocabularies) before anything is written.
  LoadOptions float32;
  float32.compute_type = ops::ComputeType::float32;
  const auto model = MarianModel::load(job.model_dir, float32);
  if (job.quantize && !model->config.quantized_weights.empty())
    throw ModelError(job.model_dir + ": already converted to " + model->config.quantized_weights +
                     " (config.json heed_quantization); convert the original model");
  const Checkpoint checkpoint = open_checkpoint(job.model_dir);
  if (!job.quantize && checkpoint.format == CheckpointFormat::safetensors)
    throw OptionError("quantize", "int8 or bfloat16 is needed: " + job.model_dir +
                                      " is a safetensors model already, there is nothing else "
                                      "to convert");

  const fs::path in(checkpoint.directory), out(job.output_dir);
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

  std::vector<io::TensorToWrite> tensors;
  for (const io::TensorEntry *entry : distinct_tensors(*checkpoint.tensors)) {
    if (!job.quantize || !is_quantized(*entry)) {
      tensors.push_back({entry->name, entry->dtype, entry->shape,
                         std::vector<uint8_t>(entry->data, entry->data + entry->bytes())});
      ++report.kept_tensors;
      continue;
    }
    convert_matrix(*entry, *job.quantize, tensors);
    ++report.quantized_tensors;
  }
  std::map<std::string, std::string> metadata{{"format", "pt"}};
  if (job.quantize)
    metadata["heed_quantization"] = ops::compute_type_name(*job.quantize);
  io::write_safetensors((out / "model.safetensors").string(), tensors, metadata);

  nlohmann::json config = checkpoint.config_json;
  if (job.quantize) {
    const std::string target = ops::compute_type_name(*job.quantize);
    config["heed_quantization"] = {
        {"weights", target},
        {"scheme", *job.quantize == ops::ComputeType::int8
                       ? "symmetric, one scale per output row (NAME_scale, F32)"
                       : "weight matrices rounded to nearest even (BF16); vectors kept"},
        {"quantized_by", "heed convert --quantize " + target}};
  }
  {
    io::OutputFile config_out((out / "config.json").string(), io::OutputFile::Mode::truncate);
    config_out.write(config.dump(2) + '\n');
    config_out.close();
  }
  if (checkpoint.source_vocab)
    write_tokenizer_files(checkpoint, out);

  const fs::path weights_file = fs::path(checkpoint.tensors->path()).filename();
  for (const auto &file : fs::directory_iterator(in)) {
    const fs::path name = file.path().filename();
    if (!file.is_regular_file() || name == "config.json" || name == weights_file ||
        fs::exists(out / name))
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
    card.write(converted_model_card(in, checkpoint, job.quantize));
    card.close();
  }
  std::sort(report.dropped.begin(), report.dropped.end());
  report.input_format = checkpoint_format_name(checkpoint.format);
  report.input_bytes = static_cast<int64_t>(checkpoint.tensors->file_bytes());
  report.output_bytes = static_cast<int64_t>(fs::file_size(out / "model.safetensors"));
  cleanup.succeeded = true;
  return report;
}

std::string format_convert_report(const ConvertJob &job, const ConvertReport &report) {
  char line[512];
  if (!job.quantize)
    std::snprintf(line, sizeof line,
                  "wrote %s: %lld tensors from %s to model.safetensors; %.1f MB -> %.1f MB",
                  job.output_dir.c_str(), static_cast<long long>(report.kept_tensors),
                  report.input_format.c_str(), report.input_bytes / 1e6, report.output_bytes / 1e6);
  else
    std::snprintf(line, sizeof line,
                  "wrote %s: %lld weight matrices %s %s, %lld tensors kept; "
                  "model.safetensors %.1f MB -> %.1f MB (%.2fx smaller)",
                  job.output_dir.c_str(), static_cast<long long>(report.quantized_tensors),
                  *job.quantize == ops::ComputeType::int8 ? "quantized to" : "converted to",
                  ops::compute_type_name(*job.quantize),
                  static_cast<long long>(report.kept_tensors), report.input_bytes / 1e6,
                  report.output_bytes / 1e6,
                  report.output_bytes > 0 ? static_cast<double>(report.input_bytes) /
                                                static_cast<double>(report.output_bytes)
                                          : 0.0);
  std::string text = line;
  if (!report.dropped.empty()) {
    text += job.quantize ? "; not copied (they describe the float model; see README.md there):"
                         : "; not copied (files of the original layout, or its description):";
    for (const auto &name : report.dropped)
      text += " " + name;
  }
  return text + "\n";
}

} // namespace heed
