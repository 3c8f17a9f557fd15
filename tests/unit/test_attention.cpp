// Attention against a case computed by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "heed/layers/attention.h"
#include "heed/layers/embeddings.h"

using namespace heed;

TEST_CASE("attend computes softmax(q k^T + mask) v on a hand-computed case", "[attention]") {
  // One sentence, one head, two queries, two keys, head_dim 1.
  const std::vector<float> q = {1.f, 0.f};
  const std::vector<float> k = {1.f, 2.f}; // k^T: [1 x 2]
  const std::vector<float> v = {10.f, 20.f};
  const ops::View4 q_view{{1, 1, 2, 1}, {2, 2, 1, 1}};
  const ops::View4 k_view{{1, 1, 1, 2}, {2, 2, 2, 1}};
  const ops::View4 v_view{{1, 1, 2, 1}, {2, 2, 1, 1}};
  const ops::View4 out_view{{1, 1, 2, 1}, {2, 2, 1, 1}};
  std::vector<float> out(2), scores(4);

  attend(q.data(), q_view, k.data(), k_view, v.data(), v_view, out.data(), out_view, nullptr,
         scores.data(), nullptr);
  // Query 0: scores [1, 2] -> weights [1/(1+e), e/(1+e)].
  const double w1 = std::exp(1.0) / (1 + std::exp(1.0));
  CHECK(scores[0] == Approx(1 - w1).margin(1e-6));
  CHECK(scores[1] == Approx(w1).margin(1e-6));
  CHECK(out[0] == Approx(10 * (1 - w1) + 20 * w1).margin(1e-5));
  // Query 1: scores [0, 0] -> uniform -> 15.
  CHECK(scores[2] == Approx(0.5).margin(1e-6));
  CHECK(out[1] == Approx(15.0).margin(1e-5));

  // Masking the second key leaves all weight on the first.
  const std::vector<float> mask = {0.f, -3.4e38f};
  attend(q.data(), q_view, k.data(), k_view, v.data(), v_view, out.data(), out_view, mask.data(),
         scores.data(), nullptr);
  CHECK(scores[0] == Approx(1.0).margin(1e-7));
  CHECK(scores[1] == Approx(0.0).margin(1e-7));
  CHECK(out[0] == Approx(10.0).margin(1e-5));
  CHECK(out[1] == Approx(10.0).margin(1e-5));
}

TEST_CASE("sinusoidal positions put sines in the first half and cosines in the second",
          "[embeddings]") {
  const int64_t d = 6;
  Tensor table = sinusoidal_positions(4, d);
  for (int64_t pos = 0; pos < 4; ++pos)
    for (int64_t j = 0; j < d / 2; ++j) {
      const double angle = pos / std::pow(10000.0, 2.0 * j / d);
      CHECK(table[pos * d + j] == Approx(std::sin(angle)).margin(1e-7));
      CHECK(table[pos * d + d / 2 + j] == Approx(std::cos(angle)).margin(1e-7));
    }
}

#include "heed/text/tokenizer.h"

TEST_CASE("language codes are split off only at the very start", "[tokenizer]") {
  using heed::split_language_code;
  CHECK(split_language_code(">>deu<< Hello") ==
        std::pair<std::string, std::string>{">>deu<<", " Hello"});
  CHECK(split_language_code(">>a<< b >>c<<") ==
        std::pair<std::string, std::string>{">>a<<", " b >>c<<"});
  CHECK(split_language_code("x >>deu<<") == std::pair<std::string, std::string>{"", "x >>deu<<"});
  CHECK(split_language_code(">>open") == std::pair<std::string, std::string>{"", ">>open"});
}
