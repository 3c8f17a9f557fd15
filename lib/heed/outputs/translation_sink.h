// Where finished translations go: the one interface the translate loop
// (jobs/streaming.h) feeds, in input order. The text and JSON-lines writers
// (writers.h) and the attention dump (translation_attention.h) are sinks; the
// loop keeps the order, the sinks only format and write, as Marian splits its
// OutputPrinter from its OutputCollector.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "heed/decoding/translator.h"

namespace heed {

class TranslationSink {
public:
  virtual ~TranslationSink() = default;
  // One finished translation; `index` is its 0-based input line. Called in
  // input order.
  virtual void write(int64_t index, const std::string &source, const Translation &t) = 0;
  // End of a window of lines: pushes what was written to its destination, so a
  // reader of the output sees it now. IoError naming the output on failure.
  virtual void flush() {}
  // End of the run: writes what is left (an index, an archive's directory).
  // IoError naming the output on failure.
  virtual void close() { flush(); }
};

// Hands each call on to `sinks`, in their order. The sinks are not owned.
class SinkList : public TranslationSink {
public:
  explicit SinkList(std::vector<TranslationSink *> sinks) : sinks_(std::move(sinks)) {}
  void write(int64_t index, const std::string &source, const Translation &t) override {
    for (auto *sink : sinks_)
      sink->write(index, source, t);
  }
  void flush() override {
    for (auto *sink : sinks_)
      sink->flush();
  }
  void close() override {
    for (auto *sink : sinks_)
      sink->close();
  }

private:
  std::vector<TranslationSink *> sinks_;
};

} // namespace heed
