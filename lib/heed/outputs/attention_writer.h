// Writes recorded attention maps to disk, one sentence at a time so memory
// stays bounded on a corpus. The format follows the path:
//
// - a directory (a path ending in "/", an existing directory, or a path with
//   no extension; created if missing, in an existing parent): one NumPy .npy
//   file per sentence and kind of attention, named
//       000000.cross.npy    000000.encoder.npy    000000.decoder.npy
//   (input line, 6 digits or more; "000000-1.cross.npy" for n-best rank 1;
//   "000000_2.cross.npy" for sentence 2 of a line translated sentence by
//   sentence, "000000_2-1.cross.npy" for its rank 1), plus index.json,
//   written at close();
// - "*.npz": the same .npy members in one uncompressed zip, as numpy.savez
//   writes it (np.load(path)["000000.cross"]), plus an "index.json" member
//   (np.load(path)["index.json"] gives its bytes);
// - "*.json": one JSON document with the weights inline, for small jobs.
//
// Every array is float32 [layers, heads, queries, keys] in C order, each row a
// probability distribution over keys:
//   cross    queries = target pieces, keys = source pieces
//   encoder  queries = keys = source pieces
//   decoder  queries = target pieces, keys = decoder input pieces
//
// index.json (and the .json document) is
//   {"format": "heed-attention", "version": 1, "layout": "...",
//    "sentences": [{"index", ["sentence", "span",] "hypothesis", "source", "translation",
//                   "tokens": {"source" | "target" | "decoder_input":
//                              {"pieces", "words", "piece_word"}},
//                   "maps": {"cross" | "encoder" | "decoder":
//                            {"file" (not in .json), "shape", "layers", "heads",
//                             "queries", "keys"[, "stored_with_hypothesis": 0]}},
//                   "weights": {KIND: nested arrays} (.json only)}, ...]}
// where "sentence" and "span" (code points [begin, end) of the line) come
// with the sentences of a line translated sentence by sentence, "layers"/"heads"
// label each stored layer and head ("0", "5", "mean"), "queries"/"keys" name the
// token lists along the axes, and piece_word maps each piece to its word (-1 for
// </s> and other special pieces). The encoder map is the same for every
// hypothesis of an n-best list: it is stored once, with hypothesis 0, and the
// other hypotheses' entries say "stored_with_hypothesis": 0 and name that file
// (in .json, only hypothesis 0 has its weights).
#pragma once

#include <memory>
#include <string>

#include "heed/outputs/sentence_attention.h"

namespace heed {

enum class AttentionFileFormat { directory, npz, json };

// The format `path` asks for; OptionError naming `what` (the flag, for the
// command line) and the path when it has another extension (and is no existing
// directory).
AttentionFileFormat attention_file_format(const std::string &path,
                                          const std::string &what = "attention output");

// "000000.cross.npy", "000123-2.decoder.npy", "000007_1.cross.npy" (sentence
// 1 of line 7; `sentence` -1 for a line translated whole): the file or member
// of a map.
std::string attention_file_name(int64_t index, int64_t hypothesis, const std::string &kind,
                                int64_t sentence = -1);

// Continuing the maps of an interrupted run into a directory (the text
// output's --resume): the maps of every input line before `first_new_index`
// are kept, and there must be `kept_lines` such lines in the index the run
// left; the maps of later lines are written anew.
struct AttentionResume {
  int64_t first_new_index = 0;
  int64_t kept_lines = 0;
};

// Nothing that looks complete appears before a run has succeeded: index.json,
// x.npz and x.json get their names only at close(). Until then they are
// "index.json.partial", "x.npz.partial" and "x.json.partial" (a directory's
// index, flushed with every window, is what a resumed run continues); a
// directory's stale index.json from an earlier run is removed when the writer
// opens it. Files inside a directory are created without following symlinks
// planted there (io::OutputFile::Mode::replace).
class AttentionWriter {
public:
  // Opens `path` in the format attention_file_format chooses. IoError naming
  // the path when it cannot be created, or, with `resume`, when its index
  // lacks kept lines. `resume` applies to directories only (OptionError
  // otherwise).
  static std::unique_ptr<AttentionWriter> open(const std::string &path,
                                               const AttentionResume *resume = nullptr);

  // Leaves an unclosed output under its partial name.
  virtual ~AttentionWriter() = default;

  // Writes the maps of one hypothesis; sentences without maps (empty input
  // lines) are listed in the index with no maps. Error when the maps do not
  // match the pieces, IoError when writing fails.
  virtual void write(const SentenceAttention &sentence) = 0;

  // Sends what is buffered to the partial files: called with each window of
  // the text output, before that output is flushed, so that an interrupted
  // directory index covers every line the text output holds.
  virtual void flush() {}

  // Writes what is left (index.json, the zip directory, closing brackets) and
  // gives the output its final name: after a successful run only.
  virtual void close() = 0;
};

} // namespace heed
