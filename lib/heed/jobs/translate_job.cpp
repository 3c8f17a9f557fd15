#include "heed/jobs/translate_job.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "heed/core/error.h"
#include "heed/decoding/translator.h"
#include "heed/io/deferred_output_file.h"
#include "heed/io/distinct_files.h"
#include "heed/io/input_file.h"
#include "heed/io/os_error.h"
#include "heed/io/output_file.h"
#include "heed/io/output_lock.h"
#include "heed/io/output_path.h"
#include "heed/io/output_resume.h"
#include "heed/jobs/line_source.h"
#include "heed/jobs/resume_record.h"
#include "heed/jobs/streaming.h"
#include "heed/model/marian_model.h"
#include "heed/outputs/attention_html.h"
#include "heed/outputs/attention_writer.h"
#include "heed/outputs/progress.h"
#include "heed/outputs/translation_alignment.h"
#include "heed/outputs/translation_attention.h"

namespace heed {
namespace {

bool is_standard(const std::string &path) { return io::is_standard_stream(path); }

// Where the text or JSON lines go: standard output, or a file opened only
// when its first window is flushed (io/deferred_output_file.h), so that a run
// that fails before it has anything to write leaves an existing file as it
// was. First of the sinks: its flush sends the writers' bytes, and a failure
// names the file and the system's reason.
class OutputSink : public TranslationSink {
public:
  OutputSink(const std::string &path, bool append) {
    if (is_standard(path)) {
      standard_ = std::make_unique<io::OutputFile>(path, io::OutputFile::Mode::append);
      out_ = &standard_->stream();
      name_ = standard_->name();
    } else {
      file_ = std::make_unique<io::DeferredOutputFile>(path, append);
      stream_ = std::make_unique<std::ostream>(file_.get());
      out_ = stream_.get();
      name_ = path;
    }
  }
  std::ostream &stream() { return *out_; }
  const std::string &name() const { return name_; }
  void write(int64_t, const std::string &, const Translation &) override {}
  void flush() override {
    if (standard_) {
      standard_->flush();
      return;
    }
    out_->flush();
    if (file_->error() != 0)
      throw IoError(io::os_error(name_, "write error", file_->error()));
  }
  void close() override {
    flush();
    if (standard_)
      standard_->close();
    else
      file_->close();
  }

private:
  std::unique_ptr<io::OutputFile> standard_;
  std::unique_ptr<io::DeferredOutputFile> file_;
  std::unique_ptr<std::ostream> stream_;
  std::ostream *out_ = nullptr;
  std::string name_;
};

// Lines (or bytes, for huge files) of a regular file, for the progress bar.
void measure_input(int fd, std::optional<int64_t> &lines, std::optional<int64_t> &bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return;
  bytes = static_cast<int64_t>(st.st_size);
  if (st.st_size > (int64_t{1} << 31))
    return; // counting would delay the start: estimate from bytes instead
  std::vector<char> buffer(1 << 20);
  int64_t count = 0;
  char last = '\n';
  for (off_t offset = 0;;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), offset);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; ++i)
      count += buffer[i] == '\n';
    last = buffer[n - 1];
    offset += n;
  }
  lines = count + (st.st_size > 0 && last != '\n');
}

// Alignments need cross-attention: when only --alignment asks for it, record
// the last decoder layer with its heads averaged (the best of all choices on
// hand-aligned sentences of the shipped model: tests/reference/alignment_aer.py),
// or, for a native Marian model, the first head of its guided-alignment layer
// (model.yml transformer-guided-alignment-layer), which is what Marian's own
// --alignment reads and what guided-alignment training teaches to align;
// explicit --attention-* choices are used as they are.
TranslationOptions with_recording(const TranslateJob &job, const MarianModel &model) {
  TranslationOptions o = job.options;
  if (!job.attention_path.empty() && !o.attention.any())
    o.attention.cross = true;
  if (job.alignment && !o.attention.cross) {
    o.attention.cross = true;
    if (job.attention_path.empty() && o.attention.layers.indices.empty() &&
        o.attention.layers.reduction == Reduction::none) {
      if (model.alignment_layer) {
        o.attention.layers.indices = {*model.alignment_layer};
        if (o.attention.heads.indices.empty() && o.attention.heads.reduction == Reduction::none)
          o.attention.heads.indices = {0};
      } else {
        o.attention.layers.indices = {-1};
        if (o.attention.heads.indices.empty())
          o.attention.heads.reduction = Reduction::mean;
      }
    }
  }
  return o;
}

// Settings that would change nothing, said once each so that none seems to
// have been applied: what the model's generation config asks for and heed
// does not implement (GenerationConfig::unsupported), and settings greedy
// search has no use for given explicitly, such as a length penalty with beam
// size 1 (transformers warns alike).
void warn_ignored_settings(const MarianModel &model, const TranslationOptions &o,
                           const SearchOptions &search) {
  if (!o.warn)
    return;
  for (const auto &field : model.generation.unsupported)
    o.warn(model.generation.source + ": " + field +
           " is not implemented by heed and is ignored: translations may differ from "
           "transformers' generate()");
  const GenerationConfig &g = model.generation;
  if (search.do_sample && g.do_sample && g.num_beams > 1 && !o.beam_size)
    o.warn(g.source + ": do_sample (true) with num_beams " + std::to_string(g.num_beams) +
           " asks for beam sampling, which heed does not implement: it samples with one beam");
  if (search.num_beams != 1)
    return;
  if (o.length_penalty)
    o.warn("length_penalty has no effect with greedy search (beam size 1)");
  if (o.early_stopping)
    o.warn("early_stopping has no effect with greedy search (beam size 1)");
}

std::string setting(const std::optional<int64_t> &value) {
  return value ? std::to_string(*value) : "default";
}

std::string setting(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

std::string setting(const std::optional<double> &value) {
  return value ? setting(*value) : "default";
}

std::string setting(const IndexSelection &selection) {
  switch (selection.reduction) {
  case Reduction::mean:
    return "mean";
  case Reduction::max:
    return "max";
  case Reduction::none:
    break;
  }
  if (selection.indices.empty())
    return "all";
  std::string text;
  for (int64_t i : selection.indices)
    text += (text.empty() ? "" : ",") + std::to_string(i);
  return text;
}

std::string setting(const AlignmentFormat &format) {
  switch (format.kind) {
  case AlignmentKind::hard:
    return "hard";
  case AlignmentKind::soft:
    return "soft";
  case AlignmentKind::threshold:
    return setting(static_cast<double>(format.threshold));
  }
  return "";
}

// The record a resumed run must agree with: every setting that shapes the
// output, by field name. Threads, batch sizes and the window change speed,
// not the output, and may differ between the runs.
ResumeRecord resume_record_of(const TranslateJob &job, const TranslationOptions &o) {
  ResumeRecord record;
  record_input(job.input, record);
  auto &s = record.settings;
  std::error_code error;
  s["model"] = std::filesystem::weakly_canonical(job.model_dir, error).string();
  // Only ensembles record these: records of single-model runs stay as they were.
  if (!job.ensemble_dirs.empty() || !o.ensemble_weights.empty()) {
    std::string members, weights;
    for (const auto &dir : job.ensemble_dirs)
      members +=
          (members.empty() ? "" : " ") + std::filesystem::weakly_canonical(dir, error).string();
    for (double w : o.ensemble_weights)
      weights += (weights.empty() ? "" : ",") + setting(w);
    s["ensemble"] = members;
    s["ensemble_weights"] = weights.empty() ? "default" : weights;
  }
  s["compute_type"] =
      job.load.compute_type ? ops::compute_type_name(*job.load.compute_type) : "default";
  s["format"] = job.format == OutputFormat::jsonl ? "jsonl" : "text";
  s["beam_size"] = setting(o.beam_size);
  s["n_best"] = std::to_string(o.n_best);
  s["length_penalty"] = setting(o.length_penalty);
  s["early_stopping"] = o.early_stopping ? early_stopping_name(*o.early_stopping) : "default";
  s["max_length"] = setting(o.max_length);
  s["max_new_tokens"] = setting(o.max_new_tokens);
  s["max_length_ratio"] = setting(o.max_length_ratio);
  s["min_length"] = setting(o.min_length);
  s["min_new_tokens"] = setting(o.min_new_tokens);
  s["repetition_penalty"] = setting(o.repetition_penalty);
  s["no_repeat_ngram_size"] = setting(o.no_repeat_ngram_size);
  s["sampling"] = o.sampling ? (*o.sampling ? "true" : "false") : "default";
  s["temperature"] = setting(o.temperature);
  s["top_k"] = setting(o.top_k);
  s["top_p"] = setting(o.top_p);
  s["seed"] = o.seed ? std::to_string(*o.seed) : "default";
  s["split_sentences"] = o.split_sentences ? "true" : "false";
  s["source_language"] = o.source_language.empty() ? "default" : o.source_language;
  s["shard"] = std::to_string(job.shard.index) + "/" + std::to_string(job.shard.count);
  s["strict"] = job.strict ? "true" : "false";
  s["alignment"] = job.alignment ? setting(*job.alignment) : "none";
  s["word_scores"] = job.word_scores ? "true" : "false";
  s["target_prefix"] = o.target_prefix;
  s["target_prefix_file"] =
      job.target_prefix_file.empty()
          ? "none"
          : std::filesystem::weakly_canonical(job.target_prefix_file, error).string();
  s["attention"] = job.attention_path.empty() ? "none" : job.attention_path;
  if (!job.attention_path.empty() || job.alignment) {
    s["attention_kinds"] = std::string(o.attention.cross ? "cross " : "") +
                           (o.attention.encoder ? "encoder " : "") +
                           (o.attention.decoder ? "decoder" : "");
    s["attention_layers"] = setting(o.attention.layers);
    s["attention_heads"] = setting(o.attention.heads);
  }
  return record;
}

// Before a resumed run touches its output: the output must be what an
// interrupted run with the same input and settings left (its record agrees),
// or, with no record, complete already (a rerun of a finished job: nothing
// to do). Anything else would append translations to a file that is not
// their beginning.
void check_resumable(const TranslateJob &job, const ResumeRecord &now, int64_t lines_per_input,
                     const std::optional<int64_t> &input_outputs) {
  const std::string record_path = resume_record_path(job.output);
  if (const auto then = read_resume_record(record_path)) {
    const auto differences = resume_differences(*then, now);
    if (differences.empty())
      return;
    std::string list;
    for (const auto &d : differences)
      list += (list.empty() ? "" : "; ") + d;
    throw OptionError("resume: " + job.output + " was written by a run with other settings or " +
                      "another input (" + list + "): run it as it was, or without resume to " +
                      "start over");
  }
  const int64_t done = io::count_complete_outputs(job.output, lines_per_input).inputs;
  if (done == 0 || (input_outputs && done == *input_outputs))
    return;
  throw IoError(job.output + ": holds " + std::to_string(done) +
                " complete outputs but no record of an interrupted heed run (" + record_path +
                "): heed resumes only what it left unfinished; remove the file or run without "
                "resume to replace it");
}

// Checks where attention maps are to go, before any work.
void check_attention_path(const std::string &path) {
  if (attention_file_format(path) == AttentionFileFormat::directory)
    io::check_output_directory(path);
  else
    io::check_output_file(path);
}

} // namespace

TranslateResult run_translate(const TranslateJob &job) {
  check_ranges(job.options); // before the model is loaded
  // Before anything is opened for writing: no output may be an input.
  {
    std::vector<io::NamedPath> inputs, outputs;
    if (job.texts.empty())
      inputs.push_back({"input", job.input});
    if (!job.target_prefix_file.empty())
      inputs.push_back({"target prefix file", job.target_prefix_file});
    outputs.push_back({"output", job.output});
    if (!job.attention_path.empty())
      outputs.push_back({"attention output", job.attention_path});
    io::check_distinct_files(inputs, outputs);
  }
  if (job.window < 0 || job.window > kMaxWindow)
    throw OptionError("window", "must be in [1, " + std::to_string(kMaxWindow) + "], got " +
                                    std::to_string(job.window));
  if (!job.attention_path.empty())
    check_attention_path(job.attention_path);
  if (!job.texts.empty() && !is_standard(job.input))
    throw OptionError("give texts or an input file, not both");
  if (job.resume && is_standard(job.output))
    throw OptionError("resume needs an output file");
  if (job.resume && !job.texts.empty())
    throw OptionError("resume applies to an input file or standard input, not to texts");
  if (!is_standard(job.output))
    io::check_output_file(job.output);
  // A file heed creates or replaces is locked, recorded and resumable; a
  // device or a FIFO (-o /dev/null) is written as it is, like standard output.
  const bool file_output = !is_standard(job.output) && io::is_file_or_absent(job.output);
  if (job.resume && !file_output)
    throw OptionError("resume needs a regular output file, not " + job.output);
  if (job.resume && !job.attention_path.empty() &&
      attention_file_format(job.attention_path) != AttentionFileFormat::directory)
    throw OptionError("resume continues attention maps written to a directory; a .npz or .json "
                      "file is written whole at the end: write the maps to a directory");
  // Held for the whole run: a second run on the same output fails at once.
  std::optional<io::OutputLock> output_lock, attention_lock;
  if (file_output)
    output_lock.emplace(job.output);
  if (!job.attention_path.empty())
    attention_lock.emplace(job.attention_path);
  // The input is opened before the model is loaded: a missing file fails at once.
  std::unique_ptr<LineSource> source;
  TextLineReader *file = nullptr;
  if (!job.texts.empty()) {
    source = std::make_unique<VectorLineReader>(job.texts);
  } else {
    auto reader = std::make_unique<TextLineReader>(job.input);
    reader->stop_on(job.interrupted);
    file = reader.get();
    source = std::move(reader);
  }
  if (!job.target_prefix_file.empty() && !job.options.target_prefix.empty())
    throw OptionError("give one target prefix for every line or a file of them, not both");
  std::unique_ptr<TextLineReader> prefixes;
  if (!job.target_prefix_file.empty()) {
    if (is_standard(job.target_prefix_file))
      throw OptionError("target prefix file: standard input cannot hold the prefixes; give a "
                        "file");
    prefixes = std::make_unique<TextLineReader>(job.target_prefix_file);
  }

  // Warnings erase the progress bar first, so that they never share its line.
  Progress *bar = nullptr;
  auto model = MarianModel::load(job.model_dir, job.load);
  std::vector<std::shared_ptr<const MarianModel>> models{model};
  for (const auto &dir : job.ensemble_dirs)
    models.push_back(MarianModel::load(dir, job.load));
  TranslationOptions options = with_recording(job, *model);
  if (job.options.warn)
    options.warn = [&bar, warn = job.options.warn](const std::string &message) {
      if (bar != nullptr)
        bar->erase();
      warn(message);
    };
  Translator translator(models, options);
  const SearchOptions &search = translator.search_options();
  warn_ignored_settings(*model, job.options, search);
  // Text n-best lists write n_best lines per input; everything else one.
  const int64_t lines_per_input = job.format == OutputFormat::text ? search.n_best : 1;
  // A run into a file records what it is (jobs/resume_record.h) before it
  // touches the file, so that it can be resumed, and only by the same run.
  std::optional<ResumeRecord> record;
  if (file_output) {
    record = resume_record_of(job, job.options);
    if (job.resume) {
      std::optional<int64_t> input_lines, input_bytes;
      if (file != nullptr)
        measure_input(file->fd(), input_lines, input_bytes);
      std::optional<int64_t> input_outputs;
      if (input_lines)
        input_outputs = (*input_lines - job.shard.index + job.shard.count - 1) / job.shard.count;
      check_resumable(job, *record, lines_per_input, input_outputs);
    }
    write_resume_record(resume_record_path(job.output), *record);
  }
  const int64_t done =
      job.resume ? io::truncate_to_complete_outputs(job.output, lines_per_input) : 0;
  OutputSink output(job.output, job.resume);
  std::ostream &out = output.stream();
  AlignmentText alignment;
  if (job.alignment)
    alignment = [&tokenizer = *model->tokenizer, format = *job.alignment,
                 &code = job.options.target_language](const std::string &source,
                                                      const Translation &t, size_t rank) {
      const auto a = translation_alignment(source, code, t, rank, tokenizer);
      return a ? format_alignment(*a, format) : std::string();
    };
  PieceOf piece_of;
  if (job.word_scores)
    piece_of = [&vocabulary = model->tokenizer->target_vocab()](int64_t id) {
      return vocabulary.piece(id);
    };
  auto writer =
      make_translation_writer(job.format, out, output.name(), search.n_best, alignment, piece_of);
  // The attention maps first: flushed before the text output, a directory's
  // partial index covers every line the output holds when a run is killed
  // (what resuming it needs). Then the output: its flush sends the writers'
  // bytes with a precise error.
  std::vector<TranslationSink *> sinks;
  std::unique_ptr<AttentionSink> attention;
  if (!job.attention_path.empty()) {
    const AttentionResume kept{job.shard.index + done * job.shard.count, done};
    attention = std::make_unique<AttentionSink>(
        AttentionWriter::open(job.attention_path, job.resume ? &kept : nullptr), *model->tokenizer,
        search.decoder_start_token_id);
    sinks.push_back(attention.get());
  }
  sinks.push_back(&output);
  sinks.push_back(writer.get());
  SinkList sink(std::move(sinks));

  // Sentences given as arguments go through the same loop as a file, without
  // the summary of a corpus run, and without the bar unless asked for. A
  // person typing lines on a terminal gets no bar either: it would sit on
  // the line being typed.
  ProgressOptions shown;
  const bool typed = file != nullptr && isatty(file->fd()) != 0;
  shown.bar =
      job.progress.value_or(file != nullptr && !typed && !job.quiet && isatty(STDERR_FILENO) != 0);
  shown.summary = file != nullptr && !job.quiet;
  shown.output_on_terminal = is_standard(job.output) && isatty(STDOUT_FILENO) != 0;
  shown.kept = done;
  if (shown.bar && file != nullptr)
    measure_input(file->fd(), shown.total_lines, shown.total_bytes);
  if (shown.total_lines && job.shard.count > 1)
    shown.total_lines =
        (*shown.total_lines - job.shard.index + job.shard.count - 1) / job.shard.count;
  Progress progress(std::cerr, shown);
  bar = &progress;

  StreamOptions stream;
  stream.window = job.window > 0 ? job.window
                  : job.options.batch_type == BatchType::tokens
                      ? 1024
                      : std::max<int64_t>(256, 8 * job.options.batch_size);
  stream.input.strict = job.strict;
  stream.input.warn = options.warn;
  stream.shard = job.shard;
  stream.already_written = done;
  stream.progress = &progress;
  stream.stop = job.interrupted;
  stream.prefixes = prefixes.get();
  stream.prefixes_name = job.target_prefix_file;
  if (done > 0 && stream.input.warn)
    stream.input.warn(job.output + ": resuming after " + std::to_string(done) + " complete inputs");
  const StreamStats stats = translate_stream(translator, *source, sink, stream);
  if (!stats.stopped && stats.lines < done)
    throw IoError(job.output + ": holds " + std::to_string(done) + " complete outputs but the " +
                  (job.shard.count > 1 ? "shard of the input" : "input") + " has only " +
                  std::to_string(stats.lines) + " lines: it is not this input's output");
  if (stats.stopped) {
    // Everything written so far stays, under partial names where the output
    // is not complete (outputs/attention_writer.h), for --resume.
    sink.flush();
    output.close();
    progress.abandon();
  } else {
    sink.close();
    if (translator.truncated_lines() > 0 && options.warn) {
      const int64_t n = translator.truncated_lines();
      std::string limit =
          "max_length " + std::to_string(search.max_length) + ", start token included";
      if (job.options.max_length_ratio > 0) {
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, "%g", job.options.max_length_ratio);
        limit += std::string(", or max_length_ratio ") + ratio + " x the source's tokens";
      }
      options.warn(std::to_string(n) + (n == 1 ? " line" : " lines") +
                   " reached the length limit and may be cut (" + limit +
                   "); jsonl output marks them \"truncated\"");
    }
    // Complete: nothing is left to resume.
    if (record)
      std::remove(resume_record_path(job.output).c_str());
    progress.finish();
  }
  TranslateResult result;
  result.interrupted = stats.stopped;
  result.kept = done;
  result.complete = done + stats.written;
  return result;
}

void run_attention_page(const AttentionPageJob &job) {
  if (!job.texts.empty() && !is_standard(job.input))
    throw OptionError("give texts or an input file, not both");
  {
    std::vector<io::NamedPath> inputs, outputs = {{"page", job.html_path}};
    if (job.texts.empty())
      inputs.push_back({"input", job.input});
    if (!job.attention_path.empty())
      outputs.push_back({"attention output", job.attention_path});
    io::check_distinct_files(inputs, outputs);
  }
  io::check_output_file(job.html_path);
  if (!job.attention_path.empty())
    check_attention_path(job.attention_path);
  constexpr size_t kMaxSentences = 200; // a page, not a corpus
  check_ranges(job.options);
  std::vector<std::string> texts = job.texts;
  if (texts.empty())
    texts = read_lines(job.input, job.options.warn, kMaxSentences + 1);
  if (texts.size() > kMaxSentences)
    throw OptionError("heed attention makes a page for at most " + std::to_string(kMaxSentences) +
                      " sentences, got " +
                      (job.texts.empty() ? std::string("more") : std::to_string(texts.size())) +
                      "; dump a corpus with `heed translate --attention`");
  auto model = MarianModel::load(job.model_dir, job.load);
  std::vector<std::shared_ptr<const MarianModel>> models{model};
  for (const auto &dir : job.ensemble_dirs)
    models.push_back(MarianModel::load(dir, job.load));
  TranslationOptions o = job.options;
  if (!o.attention.any())
    o.attention.set_kinds("all");
  Translator translator(models, o);
  warn_ignored_settings(*model, job.options, translator.search_options());
  const auto translations = translator.translate(texts);
  std::vector<SentenceAttention> sentences;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::cout << (translations[i].hypotheses.empty() ? "" : translations[i].hypotheses[0].text)
              << '\n';
    for (auto &s :
         sentence_attentions(static_cast<int64_t>(i), texts[i], translations[i], *model->tokenizer,
                             translator.search_options().decoder_start_token_id))
      sentences.push_back(std::move(s));
  }
  write_attention_html(job.html_path, sentences);
  if (!job.attention_path.empty()) {
    auto writer = AttentionWriter::open(job.attention_path);
    for (const auto &s : sentences)
      writer->write(s);
    writer->close();
  }
}

void run_score(const ScoreJob &job) {
  io::check_distinct_files({{"source", job.source}, {"target", job.target}},
                           {{"output", job.output}});
  if (!is_standard(job.output))
    io::check_output_file(job.output); // before any work
  check_ranges(job.options);
  const auto sources = read_lines(job.source, job.options.warn);
  const auto targets = read_lines(job.target, job.options.warn);
  if (sources.size() != targets.size())
    throw IoError(job.source + " has " + std::to_string(sources.size()) + " lines but " +
                  job.target + " has " + std::to_string(targets.size()));
  std::vector<std::shared_ptr<const MarianModel>> models{
      MarianModel::load(job.model_dir, job.load)};
  for (const auto &dir : job.ensemble_dirs)
    models.push_back(MarianModel::load(dir, job.load));
  Translator translator(models, job.options);
  const auto scored = translator.score(sources, targets);
  io::OutputFile output(job.output, io::OutputFile::Mode::truncate);
  for (size_t i = 0; i < scored.size(); ++i)
    write_score(job.format, output.stream(), static_cast<int64_t>(i), sources[i], targets[i],
                scored[i]);
  output.close();
}

} // namespace heed
