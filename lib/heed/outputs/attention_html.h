// A self-contained HTML page for looking at attention maps: no network, no
// external scripts or fonts, so it opens from disk in any browser. The maps
// travel as JSON inside the page and an embedded script draws them: a heatmap
// per layer and head (source tokens across, target tokens down), the mean
// over all layers and heads, all heads of a layer or all layers and heads as
// a grid, pieces or words, and each weight with its two tokens on hover.
#pragma once

#include <string>
#include <vector>

#include "heed/outputs/sentence_attention.h"

namespace heed {

// The page for `sentences` (a sentence selector appears when there are several).
// Weights are rounded to 4 decimals to keep the page small. Error when a map
// does not match its pieces (see recorded_maps).
std::string attention_html(const std::vector<SentenceAttention> &sentences);

// The JSON the page embeds (in <script type="application/json"
// id="heed-data">): {"sentences": [describe_sentence + "maps": {KIND:
// {"layers", "heads", "queries", "keys", "shape", "weights": flat array}}]}.
std::string attention_page_data(const std::vector<SentenceAttention> &sentences);

// attention_html written to `path`; IoError naming the file when it cannot.
void write_attention_html(const std::string &path, const std::vector<SentenceAttention> &sentences);

} // namespace heed
