#include "heed/tools/benchmark.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>

#include "heed/core/error.h"
#include "heed/core/parse_number.h"
#include "heed/decoding/batching.h"
#include "heed/decoding/translator.h"
#include "heed/model/marian_model.h"
#include "heed/ops/context.h"
#include "heed/tools/memory_bandwidth.h"

namespace heed {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Summary {
  double median = 0, min = 0, max = 0;
};

Summary summarise(std::vector<double> values) {
  if (values.empty())
    return {};
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

// Source ids for the encoder and decoder-step measurements: lines longer than
// the model takes cropped to its maximum (EOS last), as the encoder can take
// no more (translation splits such lines instead: decoding/line_inputs.h).
std::vector<std::vector<int64_t>> tokenize(const std::shared_ptr<const MarianModel> &model,
                                           const std::vector<std::string> &lines) {
  Translator translator(model, TranslationOptions{});
  std::vector<std::vector<int64_t>> ids;
  for (size_t i = 0; i < lines.size(); ++i)
    ids.push_back(translator.encode_source(lines[i], static_cast<int64_t>(i) + 1));
  return ids;
}

// Weights read by one decoder step: everything but the cross-attention keys and
// values, which are projected once per sentence.
int64_t step_weight_bytes(const MarianModel &model) {
  int64_t bytes = static_cast<int64_t>(model.decoder.output_projection.packed.bytes());
  for (const auto &layer : model.decoder.layers)
    for (const Linear *l : {&layer.self_attn.qkv, &layer.self_attn.out, &layer.cross_attn.q,
                            &layer.cross_attn.out, &layer.ffn.fc1, &layer.ffn.fc2})
      bytes += static_cast<int64_t>(l->packed.bytes());
  return bytes;
}

// Source tokens per second through the encoder alone, batches of 32 lines.
double encoder_tokens_per_second(const MarianModel &model,
                                 const std::vector<std::vector<int64_t>> &ids) {
  Workspace ws;
  Tensor out, mask;
  std::vector<int64_t> padded, lengths;
  std::vector<const std::vector<int64_t> *> batch;
  int64_t tokens = 0;
  const auto started = Clock::now();
  for (size_t begin = 0; begin < ids.size(); begin += 32) {
    batch.clear();
    for (size_t i = begin; i < std::min(ids.size(), begin + 32); ++i) {
      batch.push_back(&ids[i]);
      tokens += static_cast<int64_t>(ids[i].size());
    }
    const int64_t length = pad_batch(batch, model.config.pad_token_id, padded, lengths);
    model.encoder.forward(padded.data(), lengths.data(), static_cast<int64_t>(batch.size()), length,
                          out, mask, ws);
  }
  return static_cast<double>(tokens) / seconds_since(started);
}

// Mean time of a batch-1 decoder step over `steps` steps after one sentence's
// encoding (what greedy decoding of one sentence does, without the search).
double batch1_step_seconds(const MarianModel &model, const std::vector<int64_t> &source,
                           int64_t steps) {
  Workspace ws;
  Tensor out, mask;
  const int64_t length = static_cast<int64_t>(source.size());
  const int64_t one = length;
  model.encoder.forward(source.data(), &one, 1, length, out, mask, ws);
  steps = std::min<int64_t>(steps, model.config.max_position_embeddings);
  DecoderState state;
  model.decoder.start(state, out, mask, 1, length, 1, steps);
  Tensor logits({model.decoder.vocab_size()});
  int64_t token = model.config.decoder_start_token_id;
  const auto started = Clock::now();
  for (int64_t s = 0; s < steps; ++s) {
    model.decoder.step(state, &token, logits.data(), ws);
    token = static_cast<int64_t>(s % 100 + 5) % model.decoder.vocab_size();
  }
  return seconds_since(started) / static_cast<double>(steps);
}

std::string describe_shape(const MarianModel &model) {
  const MarianConfig &c = model.config;
  char line[320];
  std::snprintf(
      line, sizeof line,
      "d_model %lld, %lld+%lld layers, %lld heads, ffn %lld, %s, vocabulary %lld%s, "
      "weights %s",
      static_cast<long long>(c.d_model), static_cast<long long>(c.encoder_layers),
      static_cast<long long>(c.decoder_layers), static_cast<long long>(c.encoder_attention_heads),
      static_cast<long long>(c.encoder_ffn_dim), c.activation_function.c_str(),
      static_cast<long long>(c.decoder_vocab_size),
      c.share_encoder_decoder_embeddings ? " (joint)" : " (target)", model.weights_dtype.c_str());
  return line;
}

BenchmarkRun translate_once(const std::shared_ptr<const MarianModel> &model,
                            const std::vector<std::string> &lines, const TranslationOptions &o) {
  BenchmarkRun run;
  const auto started = Clock::now();
  Translator translator(model, o);
  const std::vector<Translation> translations = translator.translate(lines);
  run.seconds = seconds_since(started);
  run.sentences = static_cast<int64_t>(lines.size());
  for (const auto &t : translations)
    if (!t.hypotheses.empty())
      run.target_tokens += static_cast<int64_t>(t.hypotheses[0].tokens.size());
  return run;
}

} // namespace

BenchmarkSetting BenchmarkSetting::parse(const std::string &text, const std::string &what) {
  BenchmarkSetting s;
  std::string rest = text;
  static const std::string kSplit = "+split";
  if (rest.size() > kSplit.size() && rest.substr(rest.size() - kSplit.size()) == kSplit) {
    s.split_sentences = true;
    rest.resize(rest.size() - kSplit.size());
  }
  for (auto [prefix, type] :
       {std::pair{"tokens:", BatchType::tokens}, std::pair{"sentences:", BatchType::sentences}})
    if (rest.rfind(prefix, 0) == 0) {
      s.batch_type = type;
      rest = rest.substr(std::string(prefix).size());
    }
  const auto x = rest.find('x');
  const auto batch = x == std::string::npos ? std::nullopt : parse_int64(rest.substr(0, x));
  const auto beam = x == std::string::npos ? std::nullopt : parse_int64(rest.substr(x + 1));
  if (!batch || !beam)
    throw OptionError(what + ": '" + text +
                      "' is not BATCHxBEAM (e.g. 32x4, or tokens:2048x4 for token batches, "
                      "32x4+split to split lines into sentences)");
  s.batch_size = *batch;
  s.beam_size = *beam;
  if (s.batch_size < 1 || s.beam_size < 1)
    throw OptionError(what + ": '" + text + "': batch and beam sizes must be at least 1");
  return s;
}

std::string BenchmarkSetting::name() const {
  std::string n = batch_type == BatchType::tokens ? "tokens " : "batch ";
  n += std::to_string(batch_size) + " ";
  n += beam_size == 1 ? "greedy" : "beam " + std::to_string(beam_size);
  if (split_sentences)
    n += " +split";
  return n;
}

namespace {

TranslationOptions translation_options(const BenchmarkSetting &setting,
                                       const BenchmarkOptions &options) {
  TranslationOptions o;
  o.batch_size = setting.batch_size;
  o.batch_type = setting.batch_type;
  o.beam_size = setting.beam_size;
  o.split_sentences = setting.split_sentences;
  o.max_new_tokens = options.max_new_tokens;
  o.max_length_ratio = options.max_length_ratio;
  return o;
}

} // namespace

BenchmarkReport run_benchmark(const std::string &model_dir, const std::vector<std::string> &lines,
                              const BenchmarkOptions &options) {
  BenchmarkReport report;
  report.model_dir = model_dir;
  report.lines = static_cast<int64_t>(lines.size());
  std::vector<int> thread_counts = options.threads;
  if (thread_counts.empty()) {
    thread_counts = {1};
    if (ops::physical_cores() > 1)
      thread_counts.push_back(ops::physical_cores());
  }
  // Every setting is checked before the first model is loaded.
  for (int threads : thread_counts)
    ops::check_num_threads(threads);
  for (const auto &setting : options.settings)
    check_ranges(translation_options(setting, options));
  auto note = [&](const std::string &line) {
    if (options.progress)
      options.progress(line);
  };
  // Each setting's peak is measured from a restarted peak; the process's is
  // the largest of every stretch's.
  int64_t process_peak = 0;
  auto restart_peak = [&] {
    process_peak = std::max(process_peak, peak_rss_bytes());
    return restart_peak_rss();
  };
  for (auto type : options.compute_types) {
    LoadOptions load;
    load.compute_type = type;
    // Load `runs` times for the load time's spread; each model is released
    // before the next load, and the last one is measured.
    std::vector<double> load_seconds;
    std::shared_ptr<const MarianModel> model;
    for (int r = 0; r < options.runs; ++r) {
      model.reset();
      model = MarianModel::load(model_dir, load);
      load_seconds.push_back(model->load_seconds);
    }
    // Right after the load, before anything of this compute type has run.
    const int64_t rss_after_load = current_rss_bytes();
    report.shape = describe_shape(*model);
    const auto ids = tokenize(model, lines);
    report.parameters = model->parameter_count;
    // The input's own size: over-long lines counted whole, not cropped.
    report.source_tokens = 0;
    for (const auto &line : lines)
      report.source_tokens += static_cast<int64_t>(model->tokenizer->encode_source(line).size());
    for (int threads : thread_counts) {
      ops::set_num_threads(threads);
      BenchmarkFigures f;
      f.compute_type = type;
      f.threads = threads;
      f.load_seconds = load_seconds;
      f.packed_weight_bytes = model->packed_weight_bytes;
      f.rss_after_load = rss_after_load;
      f.read_bandwidth = measure_read_bandwidth();
      f.step_weight_bytes = step_weight_bytes(*model);
      const std::string label =
          std::string(ops::compute_type_name(type)) + ", " + std::to_string(threads) + " thread(s)";
      for (int r = 0; r < options.runs; ++r) {
        f.encoder_tokens_s.push_back(encoder_tokens_per_second(*model, ids));
        f.step_seconds.push_back(batch1_step_seconds(*model, ids.front(), 64));
      }
      note(label + ": encoder and decoder step measured");
      for (const auto &setting : options.settings) {
        const TranslationOptions o = translation_options(setting, options);
        BenchmarkResult result;
        result.setting = setting;
        const bool own_peak = restart_peak();
        // Warm-up on a few lines: primitives and buffers for the common shapes.
        const size_t warm = std::min<size_t>(lines.size(), 64);
        translate_once(model, std::vector<std::string>(lines.begin(), lines.begin() + warm), o);
        for (int r = 0; r < options.runs; ++r)
          result.runs.push_back(translate_once(model, lines, o));
        if (own_peak)
          result.peak_rss = peak_rss_bytes();
        f.end_to_end.push_back(std::move(result));
        note(label + ": " + setting.name() + " measured");
      }
      report.figures.push_back(std::move(f));
    }
  }
  report.peak_rss = std::max(process_peak, peak_rss_bytes());
  return report;
}

std::string format_benchmark(const BenchmarkReport &r) {
  std::ostringstream out;
  char line[320];
  std::snprintf(line, sizeof line,
                "model: %s (%lld parameters)\nshape: %s\ninput: %lld lines, %lld source tokens\n",
                r.model_dir.c_str(), static_cast<long long>(r.parameters), r.shape.c_str(),
                static_cast<long long>(r.lines), static_cast<long long>(r.source_tokens));
  out << line << "medians of the runs, [min, max] in brackets\n\n";

  std::snprintf(line, sizeof line, "%-8s %3s %19s %9s %8s %9s %19s %17s %10s %7s\n", "compute",
                "thr", "load s", "packed MB", "RSS MB", "read GB/s", "encoder tok/s",
                "dec step b1 ms", "bound ms", "ratio");
  out << line;
  for (const auto &f : r.figures) {
    const Summary enc = summarise(f.encoder_tokens_s), step = summarise(f.step_seconds);
    const Summary load = summarise(f.load_seconds);
    const double bound = static_cast<double>(f.step_weight_bytes) / f.read_bandwidth;
    std::snprintf(line, sizeof line,
                  "%-8s %3d %5.2f [%4.2f,%4.2f] %9.1f %8.0f %9.1f %8.0f [%4.0f,%4.0f] %6.2f "
                  "[%4.2f,%4.2f] %10.2f %7.2f\n",
                  ops::compute_type_name(f.compute_type), f.threads, load.median, load.min,
                  load.max, f.packed_weight_bytes / 1e6, f.rss_after_load / 1e6,
                  f.read_bandwidth / 1e9, enc.median, enc.min, enc.max, step.median * 1e3,
                  step.min * 1e3, step.max * 1e3, bound * 1e3, step.median / bound);
    out << line;
  }
  out << "(RSS MB: the process right after loading the model of that compute type; after the "
      << "first type it includes what earlier measurements left allocated. bound: the decoder "
      << "weights one step multiplies by, divided by the read bandwidth; "
      << "ratio: measured step / bound; decoder steps/s = 1000 / step ms)\n\n";

  std::snprintf(line, sizeof line, "%-8s %3s %-26s %28s %30s %12s\n", "compute", "thr", "setting",
                "sentences/s", "target tokens/s", "peak RSS MB");
  out << line;
  for (const auto &f : r.figures)
    for (const auto &result : f.end_to_end) {
      std::vector<double> sps, tps;
      for (const auto &run : result.runs) {
        sps.push_back(run.sentences / run.seconds);
        tps.push_back(run.target_tokens / run.seconds);
      }
      const Summary s = summarise(sps), t = summarise(tps);
      char peak[32] = "-";
      if (result.peak_rss >= 0)
        std::snprintf(peak, sizeof peak, "%.0f", result.peak_rss / 1e6);
      std::snprintf(
          line, sizeof line, "%-8s %3d %-26s %9.2f [%7.2f,%7.2f] %10.1f [%7.1f,%7.1f] %12s\n",
          ops::compute_type_name(f.compute_type), f.threads, result.setting.name().c_str(),
          s.median, s.min, s.max, t.median, t.min, t.max, peak);
      out << line;
    }
  out << "(peak RSS MB: the process's peak while that setting ran, its warm-up included: the "
      << "model and its buffers; - where the kernel would not restart the peak)\n";
  std::snprintf(
      line, sizeof line,
      "\npeak RSS of the benchmark process: %.0f MB (its 512 MB bandwidth buffer included)\n",
      r.peak_rss / 1e6);
  out << line;
  return out.str();
}

} // namespace heed
