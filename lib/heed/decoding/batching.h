// Grouping sentences into batches: longest first, so that sentences of similar
// length share a batch and padding stays small. A batch holds at most `size`
// sentences, or with BatchType::tokens at most `size` padded source tokens
// (rows x longest length); a sentence longer than the budget forms its own batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed {

enum class BatchType { sentences, tokens };

// "sentences" or "tokens"; OptionError naming `what` otherwise.
BatchType parse_batch_type(const std::string &name, const std::string &what = "batch_type");

// Right-pads a batch of token sequences with `pad` into ids [rows, longest]
// and their lengths, as the encoder takes them; returns the padded length.
int64_t pad_batch(const std::vector<const std::vector<int64_t> *> &batch, int64_t pad,
                  std::vector<int64_t> &ids, std::vector<int64_t> &lengths);

// Batches of indices into `lengths`; sentences of length 0 are left out.
std::vector<std::vector<size_t>> make_batches(const std::vector<int64_t> &lengths, BatchType type,
                                              int64_t size);

} // namespace heed
