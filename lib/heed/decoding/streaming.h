// Translating a stream of lines: read a window of lines, translate it in
// length-sorted batches, write the results in input order, repeat. Memory is
// bounded by the window whatever the length of the stream.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "heed/decoding/translator.h"
#include "heed/outputs/writers.h"

namespace heed {

// Reads one line without its terminator ("\n" or "\r\n"); false at the end.
bool read_line(std::istream &in, std::string &line);

struct StreamStats {
  int64_t lines = 0;
  int64_t target_tokens = 0;
  double seconds = 0;
};

// Translates every line of `in` and hands each result to `writer`, in order.
// `window` lines are read before translating (at least one batch); the output
// stream is flushed after each window so interactive use sees results.
StreamStats translate_stream(Translator &translator, std::istream &in, TranslationWriter &writer,
                             std::ostream &out, int64_t window);

} // namespace heed
