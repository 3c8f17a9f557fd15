#include "heed/decoding/attention_recorder.h"

#include <algorithm>
#include <cstring>

namespace heed {

void AttentionRecorder::Kind::configure(bool on, const AttentionRequest &request, int64_t layers,
                                        int64_t head_count, const std::string &what) {
  enabled = on;
  if (!on)
    return;
  layer_reduction = request.layers.reduction;
  layer_slot.assign(layers, -1);
  layer_labels.clear();
  if (layer_reduction != Reduction::none) {
    std::fill(layer_slot.begin(), layer_slot.end(), 0);
    layer_labels.push_back(layer_reduction == Reduction::mean ? "mean" : "max");
  } else {
    const auto selected = request.layers.resolve(layers, what + " layer");
    for (size_t i = 0; i < selected.size(); ++i) {
      layer_slot[selected[i]] = static_cast<int64_t>(i);
      layer_labels.push_back(std::to_string(selected[i]));
    }
  }
  head_reduction = request.heads.reduction;
  heads.clear();
  head_labels.clear();
  if (head_reduction != Reduction::none) {
    for (int64_t h = 0; h < head_count; ++h)
      heads.push_back(h);
    head_labels.push_back(head_reduction == Reduction::mean ? "mean" : "max");
  } else {
    heads = request.heads.resolve(head_count, what + " head");
    for (int64_t h : heads)
      head_labels.push_back(std::to_string(h));
  }
}

void AttentionRecorder::Kind::begin() {
  if (used_steps == steps.size()) {
    steps.emplace_back();
    dims.emplace_back();
  }
  ++used_steps;
  layers_seen = 0;
}

void AttentionRecorder::Kind::end() {
  if (layer_reduction != Reduction::mean || layers_seen <= 1)
    return;
  Tensor &t = steps[used_steps - 1];
  const float scale = 1.f / static_cast<float>(layers_seen);
  for (int64_t i = 0; i < t.size(); ++i)
    t[i] *= scale;
}

AttentionObserver *AttentionRecorder::Kind::layer(size_t l) {
  if (!enabled || layer_slot[l] < 0)
    return nullptr;
  current_layer = static_cast<int64_t>(l);
  return this;
}

void AttentionRecorder::Kind::observe(const float *p, const ops::View4 &view) {
  const int64_t batch = view.dims[0], model_heads = view.dims[1], queries = view.dims[2],
                keys = view.dims[3];
  const int64_t layers = static_cast<int64_t>(layer_labels.size());
  const int64_t kept_heads = static_cast<int64_t>(head_labels.size());
  const int64_t slot = layer_slot[current_layer];
  Tensor &t = steps[used_steps - 1];
  const bool first = layers_seen == 0;
  if (first) {
    t.resize({batch, layers, kept_heads, queries, keys});
    dims[used_steps - 1] = {batch, queries, keys};
  }
  std::vector<float> row(keys);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t q = 0; q < queries; ++q)
      for (int64_t hs = 0; hs < kept_heads; ++hs) {
        // Reduce the selected heads into one row (or take the one head).
        auto source = [&](int64_t h) { return p + ((b * model_heads + h) * queries + q) * keys; };
        if (head_reduction == Reduction::none) {
          std::memcpy(row.data(), source(heads[hs]), sizeof(float) * keys);
        } else {
          std::memcpy(row.data(), source(heads[0]), sizeof(float) * keys);
          for (size_t h = 1; h < heads.size(); ++h) {
            const float *r = source(heads[h]);
            for (int64_t k = 0; k < keys; ++k)
              row[k] = head_reduction == Reduction::mean ? row[k] + r[k] : std::max(row[k], r[k]);
          }
          if (head_reduction == Reduction::mean)
            for (auto &v : row)
              v /= static_cast<float>(heads.size());
        }
        float *dst = t.data() + (((b * layers + slot) * kept_heads + hs) * queries + q) * keys;
        if (layer_reduction == Reduction::none || first)
          std::memcpy(dst, row.data(), sizeof(float) * keys);
        else if (layer_reduction == Reduction::mean)
          for (int64_t k = 0; k < keys; ++k)
            dst[k] += row[k];
        else
          for (int64_t k = 0; k < keys; ++k)
            dst[k] = std::max(dst[k], row[k]);
      }
  ++layers_seen;
}

AttentionMap AttentionRecorder::Kind::empty_map(int64_t queries, int64_t keys) const {
  AttentionMap m;
  m.layers = layer_labels;
  m.heads = head_labels;
  m.weights.resize({static_cast<int64_t>(layer_labels.size()),
                    static_cast<int64_t>(head_labels.size()), queries, keys});
  m.weights.fill(0.f);
  return m;
}

AttentionRecorder::AttentionRecorder(const AttentionRequest &request, const MarianConfig &c) {
  cross_.configure(request.cross, request, c.decoder_layers, c.decoder_attention_heads, "decoder");
  decoder_.configure(request.decoder, request, c.decoder_layers, c.decoder_attention_heads,
                     "decoder");
  encoder_.configure(request.encoder, request, c.encoder_layers, c.encoder_attention_heads,
                     "encoder");
}

void AttentionRecorder::start_batch() {
  for (Kind *k : {&cross_, &encoder_, &decoder_})
    k->used_steps = 0;
  if (encoder_.enabled)
    encoder_.begin();
}

AttentionObserver *AttentionRecorder::encoder_layer(size_t layer) { return encoder_.layer(layer); }

void AttentionRecorder::step_begins(int64_t, int64_t) {
  for (Kind *k : {&cross_, &decoder_})
    if (k->enabled)
      k->begin();
}

void AttentionRecorder::step_ends() {
  for (Kind *k : {&cross_, &decoder_})
    if (k->enabled)
      k->end();
}

AttentionObserver *AttentionRecorder::self_attention(size_t layer) { return decoder_.layer(layer); }

AttentionObserver *AttentionRecorder::cross_attention(size_t layer) { return cross_.layer(layer); }

AttentionMaps AttentionRecorder::extract(int64_t sentence, int64_t source_length,
                                         const std::vector<int64_t> &rows) const {
  AttentionMaps maps;
  const int64_t steps = static_cast<int64_t>(rows.size());
  // Copies row `row` of step `step` of a kind into query `query` of `map`,
  // keeping the first `keys` keys.
  auto copy_step = [](const Kind &k, AttentionMap &map, size_t step, int64_t row, int64_t query,
                      int64_t keys) {
    const auto [batch, queries, stored_keys] = k.dims[step];
    const int64_t b = row / queries, q = row % queries;
    const int64_t layers = map.weights.dim(0), heads = map.weights.dim(1);
    const Tensor &t = k.steps[step];
    for (int64_t l = 0; l < layers; ++l)
      for (int64_t h = 0; h < heads; ++h)
        std::memcpy(map.weights.data() +
                        ((l * heads + h) * map.weights.dim(2) + query) * map.weights.dim(3),
                    t.data() + (((b * layers + l) * heads + h) * queries + q) * stored_keys,
                    sizeof(float) * keys);
  };
  if (cross_.enabled) {
    AttentionMap m = cross_.empty_map(steps, source_length);
    for (int64_t s = 0; s < steps; ++s)
      copy_step(cross_, m, s, rows[s], s, source_length);
    maps.cross = std::move(m);
  }
  if (decoder_.enabled) {
    AttentionMap m = decoder_.empty_map(steps, steps);
    for (int64_t s = 0; s < steps; ++s)
      copy_step(decoder_, m, s, rows[s], s, s + 1);
    maps.decoder = std::move(m);
  }
  if (encoder_.enabled) {
    AttentionMap m = encoder_.empty_map(source_length, source_length);
    for (int64_t i = 0; i < source_length; ++i)
      copy_step(encoder_, m, 0, sentence * encoder_.dims[0][1] + i, i, source_length);
    maps.encoder = std::move(m);
  }
  return maps;
}

} // namespace heed
