// Every op against a naive loop implementation.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "heed/ops/batched_matmul.h"
#include "heed/ops/context.h"
#include "heed/ops/layer_norm.h"
#include "heed/ops/packed_weights.h"
#include "heed/ops/primitive_cache.h"
#include "heed/ops/softmax.h"
#include "test_support.h"

using namespace heed;
using heed::test::activate;
using heed::test::random_vector;

TEST_CASE("packed float32 linear matches a naive loop: activations, strides, bias, residual",
          "[ops][packed]") {
  const int64_t K = 48, N = 72, ldx = 53, ldy = 75;
  auto w = random_vector(N * K, 2, 0.3f);
  auto b = random_vector(N, 3);
  const ops::PackedWeights packed(w.data(), N, K, ops::ComputeType::float32);
  CHECK(packed.outputs() == N);
  CHECK(packed.inputs() == K);
  for (int64_t M : {1, 7, 32, 77}) {
    auto x = random_vector(M * ldx, 1 + static_cast<unsigned>(M));
    for (const auto [act, accumulate, with_bias] : test::linear_variants()) {
      auto y = random_vector(M * ldy, 4);
      auto expected = y;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double acc = with_bias ? b[j] : 0.0;
          for (int64_t k = 0; k < K; ++k)
            acc += static_cast<double>(x[i * ldx + k]) * w[j * K + k];
          const float v = activate(act, static_cast<float>(acc));
          expected[i * ldy + j] = accumulate ? expected[i * ldy + j] + v : v;
        }
      ops::linear(x.data(), ldx, packed, with_bias ? b.data() : nullptr, y.data(), ldy, M, act,
                  accumulate);
      INFO("M " << M << ", activation " << static_cast<int>(act) << ", accumulate " << accumulate
                << ", bias " << with_bias);
      // Columns past N (the row stride's padding) must stay untouched.
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < ldy; ++j)
          REQUIRE(y[i * ldy + j] == Approx(expected[i * ldy + j]).margin(1e-4));
    }
  }
}

// The ops run small work on the calling thread alone and larger work on every
// thread (ops::SerialScope); each test covers shapes on both sides, on two
// threads.
struct TwoThreads {
  const int before = ops::num_threads();
  TwoThreads() { ops::set_num_threads(2); }
  ~TwoThreads() { ops::set_num_threads(before); }
};

TEST_CASE("batched_matmul on strided head views with a broadcast mask", "[ops]") {
  const TwoThreads threads;
  // 480 and 3.3 M multiply-adds: below and above the one-thread threshold.
  const auto [B, H, T, dh] =
      GENERATE(std::array<int64_t, 4>{2, 3, 4, 5}, std::array<int64_t, 4>{4, 8, 40, 64});
  // Q and K^T as views into a fused [B*T, 3d] projection buffer, as attention uses them.
  const int64_t d = H * dh;
  auto proj = random_vector(B * T * 3 * d, 7);
  std::vector<float> mask(B * T, 0.f);
  mask[0 * T + 3] = -1e30f; // last key of sentence 0 is padding
  const ops::View4 q_view{{B, H, T, dh}, {T * 3 * d, dh, 3 * d, 1}};
  const ops::View4 k_view{{B, H, dh, T}, {T * 3 * d, dh, 1, 3 * d}};
  const ops::View4 c_view{{B, H, T, T}, {H * T * T, T * T, T, 1}};
  std::vector<float> scores(B * H * T * T);
  ops::batched_matmul(proj.data(), q_view, proj.data() + d, k_view, scores.data(), c_view,
                      mask.data());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < T; ++j) {
          double acc = 0;
          for (int64_t k = 0; k < dh; ++k)
            acc += static_cast<double>(proj[(b * T + i) * 3 * d + h * dh + k]) *
                   proj[(b * T + j) * 3 * d + d + h * dh + k];
          acc += mask[b * T + j];
          const float got = scores[((b * H + h) * T + i) * T + j];
          if (mask[b * T + j] < -1e29f)
            REQUIRE(got < -1e29f);
          else
            REQUIRE(got == Approx(acc).margin(1e-4));
        }
}

TEST_CASE("softmax and log_softmax rows match naive loops", "[ops]") {
  const TwoThreads threads;
  // 185 and 21,000 elements: below and above the one-thread threshold.
  const auto [rows, cols, ld] =
      GENERATE(std::array<int64_t, 3>{5, 37, 40}, std::array<int64_t, 3>{300, 70, 72});
  auto x = random_vector(rows * ld, 8, 3.f);
  auto soft = x, logsoft = std::vector<float>(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      logsoft[i * cols + j] = x[i * ld + j];
  ops::softmax(soft.data(), rows, cols, ld);
  ops::log_softmax(logsoft.data(), rows, cols);
  for (int64_t i = 0; i < rows; ++i) {
    double max = -1e30, sum = 0;
    for (int64_t j = 0; j < cols; ++j)
      max = std::max<double>(max, x[i * ld + j]);
    for (int64_t j = 0; j < cols; ++j)
      sum += std::exp(x[i * ld + j] - max);
    double total = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double p = std::exp(x[i * ld + j] - max) / sum;
      REQUIRE(soft[i * ld + j] == Approx(p).margin(1e-6));
      REQUIRE(logsoft[i * cols + j] == Approx(x[i * ld + j] - max - std::log(sum)).margin(1e-5));
      total += soft[i * ld + j];
    }
    REQUIRE(total == Approx(1.0).margin(1e-5));
    for (int64_t j = cols; j < ld; ++j) // padding columns untouched
      REQUIRE(soft[i * ld + j] == x[i * ld + j]);
  }
}

TEST_CASE("layer_norm matches a naive loop", "[ops]") {
  const TwoThreads threads;
  // 144 and 81,920 elements: below and above the one-thread threshold.
  const auto [rows, cols] =
      GENERATE(std::array<int64_t, 2>{6, 24}, std::array<int64_t, 2>{160, 512});
  auto x = random_vector(rows * cols, 9, 2.f);
  auto gamma = random_vector(cols, 10);
  auto beta = random_vector(cols, 11);
  auto y = x;
  ops::layer_norm(y.data(), rows, cols, gamma.data(), beta.data(), 1e-5f);
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j)
      mean += x[i * cols + j];
    mean /= cols;
    for (int64_t j = 0; j < cols; ++j)
      var += (x[i * cols + j] - mean) * (x[i * cols + j] - mean);
    var /= cols;
    for (int64_t j = 0; j < cols; ++j) {
      const double expected = (x[i * cols + j] - mean) / std::sqrt(var + 1e-5) * gamma[j] + beta[j];
      REQUIRE(y[i * cols + j] == Approx(expected).margin(1e-4));
    }
  }
}

TEST_CASE("primitive caches start over when the thread count changes", "[ops]") {
  // oneDNN partitions the work of a primitive for the thread count it was
  // created under; reusing one after set_num_threads() would run it on the old
  // count.
  const int before = ops::num_threads();
  ops::PrimitiveCache<int> cache;
  int made = 0;
  auto make = [&] { return ++made; };
  const ops::PrimitiveKey key{1, 2, 3};
  ops::set_num_threads(1);
  CHECK(cache.get(key, make) == 1);
  CHECK(cache.get(key, make) == 1);
  ops::set_num_threads(2);
  CHECK(cache.get(key, make) == 2);
  CHECK(cache.get(key, make) == 2);
  CHECK(cache.size() == 1);
  ops::set_num_threads(before);
}

TEST_CASE("SerialScope runs oneDNN on the calling thread alone, then restores the count", "[ops]") {
  const TwoThreads threads;
  {
    const ops::SerialScope scope(true);
    CHECK(ops::num_threads() == 1);
    {
      const ops::SerialScope inner(true);
      CHECK(ops::num_threads() == 1);
    }
    CHECK(ops::num_threads() == 1);
  }
  CHECK(ops::num_threads() == 2);
  {
    const ops::SerialScope scope(false);
    CHECK(ops::num_threads() == 2);
  }
  CHECK(ops::num_threads() == 2);
}

TEST_CASE("primitive caches keep the most recently used shapes, at most their capacity", "[ops]") {
  ops::PrimitiveCache<int64_t> cache(3);
  int64_t made = 0;
  auto get = [&](int64_t shape) {
    return cache.get(ops::PrimitiveKey{shape}, [&] {
      ++made;
      return shape;
    });
  };
  for (int64_t shape = 0; shape < 1000; ++shape)
    CHECK(get(shape) == shape);
  CHECK(cache.size() == 3); // bounded by the capacity, not by the shapes seen
  CHECK(made == 1000);
  // 997..999 are cached; using 997 makes 998 the least recently used.
  CHECK(get(997) == 997);
  CHECK(made == 1000);
  CHECK(get(5) == 5); // evicts 998
  CHECK(made == 1001);
  CHECK(get(999) == 999);
  CHECK(get(997) == 997);
  CHECK(made == 1001);
  CHECK(get(998) == 998);
  CHECK(made == 1002);
}
