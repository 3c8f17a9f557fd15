// The bridge from a translation run to the attention outputs: the recorded
// maps of each hypothesis with the pieces along their axes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "heed/decoding/translator.h"
#include "heed/outputs/attention_writer.h"
#include "heed/outputs/sentence_attention.h"
#include "heed/outputs/translation_sink.h"
#include "heed/text/tokenizer.h"

namespace heed {

// One SentenceAttention per hypothesis of `translation` (n-best rank order):
// source pieces from its source ids, target pieces from its tokens, decoder
// inputs the start token then the tokens but the last, and its maps (null for
// a hypothesis without any, such as those of a blank input line, which the
// writers list in the index without maps). A line translated sentence by
// sentence gives one per hypothesis of each of its sentences, in order, with
// `sentence` and its span in the line set (its joined hypotheses have no maps
// of their own). The results point into `translation`, which must outlive them.
std::vector<SentenceAttention> sentence_attentions(int64_t index, const std::string &source,
                                                   const Translation &translation,
                                                   const Tokenizer &tokenizer,
                                                   int64_t decoder_start_token_id);

// The attention dump as a translation sink: each translation's maps go to an
// AttentionWriter (a directory, .npz or .json), written at close().
class AttentionSink : public TranslationSink {
public:
  // `tokenizer` must outlive the sink.
  AttentionSink(std::unique_ptr<AttentionWriter> writer, const Tokenizer &tokenizer,
                int64_t decoder_start_token_id)
      : writer_(std::move(writer)), tokenizer_(tokenizer),
        decoder_start_token_id_(decoder_start_token_id) {}
  void write(int64_t index, const std::string &source, const Translation &t) override {
    for (const auto &s : sentence_attentions(index, source, t, tokenizer_, decoder_start_token_id_))
      writer_->write(s);
  }
  void flush() override { writer_->flush(); }
  void close() override { writer_->close(); }

private:
  std::unique_ptr<AttentionWriter> writer_;
  const Tokenizer &tokenizer_;
  int64_t decoder_start_token_id_;
};

} // namespace heed
