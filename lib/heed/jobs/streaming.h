// Translating a stream of lines: read a window of lines (Marian's maxi-batch),
// translate it in length-sorted batches, hand the results to the sink in input
// order, repeat. Memory is bounded by the window, whatever the length of the
// stream: at most `window` lines and their translations are held at once. When
// the input has no further line ready (a person or a program feeding one line
// at a time), the lines read so far are translated at once instead of waiting.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "heed/decoding/translator.h"
#include "heed/io/shards.h"
#include "heed/jobs/line_source.h"
#include "heed/outputs/progress.h"
#include "heed/outputs/translation_sink.h"
#include "heed/text/input_line.h"

namespace heed {

struct StreamOptions {
  int64_t window = 512;         // lines read ahead and sorted together
  InputLinePolicy input;        // repair or reject malformed lines
  io::Shard shard;              // which input lines to translate
  int64_t already_written = 0;  // resume: outputs of this shard already in the output
  Progress *progress = nullptr; // receives counts after each batch
  // When it holds a non-zero value, the loop stops after the batch in
  // progress; the window being translated is not written.
  const std::atomic<int> *stop = nullptr;
  // One target prefix per input line, read in step with the input (every
  // line, whatever the shard); "" = none. IoError naming `prefixes_name` and
  // the line when it has fewer or more lines than the input, or a line that
  // is not UTF-8 text.
  LineSource *prefixes = nullptr;
  std::string prefixes_name;
};

struct StreamStats {
  int64_t lines = 0;         // inputs of this shard translated (or skipped on resume)
  int64_t written = 0;       // outputs handed to the sink by this run
  int64_t target_tokens = 0; // generated tokens of the best hypotheses
  bool stopped = false;      // `stop` ended the run early
};

// Translates the selected lines of `in` and hands each result to `sink` in
// input order, flushing it after each window. Windows are aligned on the
// shard's lines from the start of the input, so that a resumed run batches
// exactly as an uninterrupted one did and its output is byte-identical.
StreamStats translate_stream(Translator &translator, LineSource &in, TranslationSink &sink,
                             const StreamOptions &options);

} // namespace heed
