// Translating a stream of lines: read a window of lines (Marian's maxi-batch),
// translate it in length-sorted batches, write the results in input order,
// repeat. Memory is bounded by the window, whatever the length of the stream:
// at most `window` lines and their translations are held at once. When the
// input has no further line ready (a person or a program feeding one line at a
// time), the lines read so far are translated at once instead of waiting.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "heed/decoding/translator.h"
#include "heed/io/line_reader.h"
#include "heed/io/shards.h"
#include "heed/outputs/progress.h"
#include "heed/outputs/writers.h"

namespace heed {

struct StreamOptions {
  int64_t window = 512;         // lines read ahead and sorted together
  bool strict_utf8 = false;     // reject invalid UTF-8 instead of repairing it
  io::Shard shard;              // which input lines to translate
  int64_t already_written = 0;  // resume: outputs of this shard already in the output
  Progress *progress = nullptr; // receives counts after each batch
  std::function<void(const std::string &)> warn;
  // Receives each translation with its 0-based input line (attention dumps).
  std::function<void(int64_t line, const std::string &source, const Translation &)> on_translation;
  // Called after each window's outputs are written: sends them to their files
  // (an IoError naming the file stops the run with complete outputs so far).
  std::function<void()> flush;
};

struct StreamStats {
  int64_t lines = 0;         // inputs of this shard translated (or skipped on resume)
  int64_t target_tokens = 0; // generated tokens of the best hypotheses
};

// Translates the selected lines of `in` and hands each result to `writer` in
// input order, calling options.flush after each window. Windows are aligned on
// the shard's lines from the start of the input, so that a resumed run batches
// exactly as an uninterrupted one did and its output is byte-identical.
StreamStats translate_stream(Translator &translator, io::LineReader &in, TranslationWriter &writer,
                             const StreamOptions &options);

} // namespace heed

namespace heed {

// All lines of a file (or "-" for standard input), repaired like translated
// input (CRLF, invalid UTF-8, NUL); warnings name the file and line.
std::vector<std::string> read_text_lines(const std::string &path,
                                         const std::function<void(const std::string &)> &warn);

} // namespace heed
