#include "heed/jobs/translate_job.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "heed/core/error.h"
#include "heed/decoding/translator.h"
#include "heed/io/input_file.h"
#include "heed/io/output_file.h"
#include "heed/io/output_resume.h"
#include "heed/jobs/line_source.h"
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

// The output file as the last link of the sinks: the writers format into its
// stream, and this pushes the bytes to the file at each window's end, so that
// a failure names the file and the system's reason (io/output_file.h).
class OutputFileSink : public TranslationSink {
public:
  explicit OutputFileSink(io::OutputFile &file) : file_(file) {}
  void write(int64_t, const std::string &, const Translation &) override {}
  void flush() override { file_.flush(); }
  void close() override { file_.close(); }

private:
  io::OutputFile &file_;
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
// hand-aligned sentences of the shipped model: tests/reference/alignment_aer.py);
// explicit --attention-* choices are used as they are.
TranslationOptions with_recording(const TranslateJob &job) {
  TranslationOptions o = job.options;
  if (!job.attention_path.empty() && !o.attention.any())
    o.attention.cross = true;
  if (job.alignment && !o.attention.cross) {
    o.attention.cross = true;
    if (job.attention_path.empty() && o.attention.layers.indices.empty() &&
        o.attention.layers.reduction == Reduction::none) {
      o.attention.layers.indices = {-1};
      if (o.attention.heads.indices.empty())
        o.attention.heads.reduction = Reduction::mean;
    }
  }
  return o;
}

} // namespace

void run_translate(const TranslateJob &job) {
  check_ranges(job.options); // before the model is loaded
  if (job.window < 0 || job.window > kMaxWindow)
    throw OptionError("window", "must be in [1, " + std::to_string(kMaxWindow) + "], got " +
                                    std::to_string(job.window));
  if (!job.attention_path.empty())
    attention_file_format(job.attention_path); // refuse a bad path before any work
  if (!job.texts.empty() && !is_standard(job.input))
    throw OptionError("give texts or an input file, not both");
  if (job.resume && is_standard(job.output))
    throw OptionError("resume needs an output file");
  if (job.resume && !job.texts.empty())
    throw OptionError("resume applies to an input file or standard input, not to texts");
  auto model = MarianModel::load(job.model_dir, job.load);
  Translator translator(model, with_recording(job));
  const SearchOptions &search = translator.search_options();
  // Text n-best lists write n_best lines per input; everything else one.
  const int64_t lines_per_input = job.format == OutputFormat::text ? search.n_best : 1;
  const int64_t done =
      job.resume ? io::truncate_to_complete_outputs(job.output, lines_per_input) : 0;
  io::OutputFile output(job.output,
                        job.resume ? io::OutputFile::Mode::append : io::OutputFile::Mode::truncate);
  std::ostream &out = output.stream();
  AlignmentText alignment;
  if (job.alignment)
    alignment = [&tokenizer = *model->tokenizer, format = *job.alignment](
                    const std::string &source, const Translation &t, size_t rank) {
      const auto a = translation_alignment(source, t, rank, tokenizer);
      return a ? format_alignment(*a, format) : std::string();
    };
  auto writer = make_translation_writer(job.format, out, output.name(), search.n_best, alignment);
  // The file first: its flush sends the writers' bytes with a precise error.
  OutputFileSink file_sink(output);
  std::vector<TranslationSink *> sinks = {&file_sink, writer.get()};
  std::unique_ptr<AttentionSink> attention;
  if (!job.attention_path.empty()) {
    attention = std::make_unique<AttentionSink>(AttentionWriter::open(job.attention_path),
                                                *model->tokenizer, search.decoder_start_token_id);
    sinks.push_back(attention.get());
  }
  SinkList sink(std::move(sinks));

  // Sentences given as arguments go through the same loop as a file, without
  // the progress bar or summary of a corpus run.
  std::unique_ptr<LineSource> source;
  std::optional<int64_t> total_lines, total_bytes;
  bool bar = false, summary = false;
  if (!job.texts.empty()) {
    source = std::make_unique<VectorLineReader>(job.texts);
  } else {
    auto file = std::make_unique<TextLineReader>(job.input);
    bar = job.progress.value_or(isatty(STDERR_FILENO) != 0);
    summary = !job.quiet;
    if (bar)
      measure_input(file->fd(), total_lines, total_bytes);
    if (total_lines && job.shard.count > 1)
      total_lines = (*total_lines - job.shard.index + job.shard.count - 1) / job.shard.count;
    source = std::move(file);
  }
  Progress progress(std::cerr, bar, summary, total_lines, total_bytes);

  StreamOptions stream;
  stream.window = job.window > 0 ? job.window
                  : job.options.batch_type == BatchType::tokens
                      ? 1024
                      : std::max<int64_t>(256, 8 * job.options.batch_size);
  stream.input.strict = job.strict;
  stream.input.warn = job.options.warn;
  stream.shard = job.shard;
  stream.already_written = done;
  stream.progress = &progress;
  if (done > 0 && job.options.warn)
    job.options.warn(job.output + ": resuming after " + std::to_string(done) + " complete inputs");
  translate_stream(translator, *source, sink, stream);
  sink.close();
  progress.finish();
}

void run_attention_page(const AttentionPageJob &job) {
  check_ranges(job.options);
  std::vector<std::string> texts = job.texts;
  if (texts.empty())
    texts = read_lines(job.input, job.options.warn);
  constexpr size_t kMaxSentences = 200; // a page, not a corpus
  if (texts.size() > kMaxSentences)
    throw OptionError("heed attention makes a page for at most " + std::to_string(kMaxSentences) +
                      " sentences, got " + std::to_string(texts.size()) +
                      "; dump a corpus with `heed translate --attention`");
  auto model = MarianModel::load(job.model_dir, job.load);
  TranslationOptions o = job.options;
  if (!o.attention.any())
    o.attention.set_kinds("all");
  Translator translator(model, o);
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
  check_ranges(job.options);
  const auto sources = read_lines(job.source, job.options.warn);
  const auto targets = read_lines(job.target, job.options.warn);
  if (sources.size() != targets.size())
    throw IoError(job.source + " has " + std::to_string(sources.size()) + " lines but " +
                  job.target + " has " + std::to_string(targets.size()));
  auto model = MarianModel::load(job.model_dir, job.load);
  Translator translator(model, job.options);
  const auto scored = translator.score(sources, targets);
  io::OutputFile output(job.output, io::OutputFile::Mode::truncate);
  for (size_t i = 0; i < scored.size(); ++i)
    write_score(job.format, output.stream(), static_cast<int64_t>(i), sources[i], targets[i],
                scored[i]);
  output.close();
}

} // namespace heed
