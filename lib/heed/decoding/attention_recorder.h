// Records attention probabilities while a batch is encoded and decoded, keeping
// only the requested layers and heads (reduced by mean or max when asked), and
// extracts the maps of each output hypothesis by following the state rows that
// produced its tokens. Storage lives for one batch and is reused.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "heed/decoding/attention_maps.h"
#include "heed/decoding/attention_request.h"
#include "heed/model/config.h"
#include "heed/model/decoder.h"

namespace heed {

class AttentionRecorder : public DecoderObserver {
public:
  AttentionRecorder(const AttentionRequest &request, const MarianConfig &config);

  // Clears what the previous batch recorded.
  void start_batch();
  // Observer for encoder layer `layer` (null when encoder attention is not wanted).
  AttentionObserver *encoder_layer(size_t layer);

  void step_begins(int64_t entries, int64_t position) override;
  void step_ends() override;
  AttentionObserver *self_attention(size_t layer) override;
  AttentionObserver *cross_attention(size_t layer) override;

  // Maps of one hypothesis of batch sentence `sentence` (its index in the batch
  // the encoder saw), whose source has `source_length` tokens.
  AttentionMaps extract(int64_t sentence, int64_t source_length,
                        const std::vector<int64_t> &rows) const;

private:
  // Recorded weights of one kind (cross, encoder or decoder self-attention).
  struct Kind : AttentionObserver {
    bool enabled = false;
    std::vector<int64_t> layer_slot; // per model layer: stored slot or -1
    Reduction layer_reduction = Reduction::none;
    std::vector<int64_t> heads; // model heads kept (all, for a reduction)
    Reduction head_reduction = Reduction::none;
    std::vector<std::string> layer_labels, head_labels;
    // One entry per step (one for the encoder): [batch, layers, heads, queries, keys].
    std::vector<Tensor> steps;
    std::vector<std::array<int64_t, 3>> dims; // batch, queries, keys of each step
    size_t used_steps = 0;
    int64_t layers_seen = 0;
    int64_t current_layer = 0;

    void configure(bool on, const AttentionRequest &request, int64_t layers, int64_t heads,
                   const std::string &what);
    void begin();
    void end();
    void observe(const float *probabilities, const ops::View4 &view) override;
    AttentionObserver *layer(size_t l);
    AttentionMap empty_map(int64_t queries, int64_t keys) const;
  };

  Kind cross_, encoder_, decoder_;
};

} // namespace heed
