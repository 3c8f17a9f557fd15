// int8 dense layers: the exact arithmetic of symmetric quantization, and
// oneDNN's fast kernels rather than its reference fallbacks for both compute
// types. (Packed float32 is checked against naive loops in test_ops.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "heed/core/bfloat16.h"
#include "heed/ops/cpu_isa.h"
#include "heed/ops/packed_weights.h"
#include "heed/ops/quantize.h"
#include "test_support.h"

using namespace heed;
using heed::test::activate;
using heed::test::random_vector;

TEST_CASE("quantize_rows: symmetric, one scale per row, error at most half a step", "[int8]") {
  const int64_t rows = 5, cols = 37;
  auto w = random_vector(rows * cols, 11);
  for (int64_t c = 0; c < cols; ++c)
    w[2 * cols + c] = 0.f; // an all-zero row
  for (int levels : {127, 63}) {
    INFO("levels " << levels);
    std::vector<int8_t> q(rows * cols);
    std::vector<float> scales(rows);
    ops::quantize_rows(w.data(), rows, cols, cols, q.data(), scales.data(), levels);
    for (int64_t r = 0; r < rows; ++r) {
      int max_q = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const int v = q[r * cols + c];
        CHECK(v >= -levels);
        CHECK(v <= levels);
        max_q = std::max(max_q, std::abs(v));
        CHECK(std::fabs(v * scales[r] - w[r * cols + c]) <= 0.5f * scales[r] * 1.0001f);
      }
      CHECK(max_q == (r == 2 ? 0 : levels));
    }
    CHECK(scales[2] == 1.f);
  }
}

TEST_CASE("quantize_rows rounds halves away from zero, exactly", "[int8]") {
  // A row whose maximum is 127 has scale 1, so these values reach the rounding
  // unscaled: halves, a value just below a half (which trunc(v + 0.5) would
  // round up), negative zero, and clamping is never needed.
  const std::vector<float> row = {127.f,        0.5f, -0.5f,       1.5f,   -2.5f,   0.49999997f,
                                  -0.49999997f, -0.f, 2.49999976f, 126.5f, -126.5f, 3.f,
                                  -3.f,         0.f,  64.5f,       -64.5f, 1.25f,   -1.75f};
  const std::vector<int> expected = {127, 1,    -1, 2,  -3, 0,  0,   0, 2,
                                     127, -127, 3,  -3, 0,  65, -65, 1, -2};
  std::vector<int8_t> q(row.size());
  float scale = 0.f;
  ops::quantize_rows(row.data(), 1, static_cast<int64_t>(row.size()), 0, q.data(), &scale);
  CHECK(scale == 1.f);
  for (size_t i = 0; i < row.size(); ++i) {
    INFO("value " << row[i]);
    CHECK(static_cast<int>(q[i]) == expected[i]);
  }
}

TEST_CASE("quantize_rows: the CPU-specific kernels equal the portable loops bit for bit",
          "[int8]") {
  // Every tail length of the 16-wide kernels, strided rows, and large values.
  for (int64_t cols : {1, 7, 15, 16, 17, 31, 32, 33, 512, 2048 + 5}) {
    const int64_t rows = 9, ld = cols + 3;
    auto x = random_vector(rows * ld, static_cast<unsigned>(cols));
    for (auto &v : x)
      v *= 1000.f;
    for (int levels : {127, 63}) {
      std::vector<int8_t> fast(rows * cols), portable(rows * cols);
      std::vector<float> fast_scales(rows), portable_scales(rows);
      ops::quantize_rows(x.data(), rows, cols, ld, fast.data(), fast_scales.data(), levels);
      ops::quantize_rows_portable(x.data(), rows, cols, ld, portable.data(), portable_scales.data(),
                                  levels);
      INFO(cols << " columns, levels " << levels);
      CHECK(fast == portable);
      CHECK(fast_scales == portable_scales);
    }
  }
}

TEST_CASE("int8 linear computes exactly the quantized product", "[ops][int8]") {
  // Whatever oneDNN dispatches here (ONEDNN_MAX_CPU_ISA included): the weights
  // are those of the kernel path heed picked, and the product is exact.
  const auto &path = ops::int8_kernels();
  INFO("int8 kernels: " << path.description);
  const int64_t K = 64, N = 80, ldx = 70;
  auto w = random_vector(N * K, 5, 0.2f);
  auto b = random_vector(N, 6);
  const ops::PackedWeights packed(w.data(), N, K, ops::ComputeType::int8);
  REQUIRE(packed.scales().size() == static_cast<size_t>(N));
  CHECK(packed.weight_levels() == path.weight_levels);
  std::vector<int8_t> wq(N * K);
  std::vector<float> w_scales(N);
  ops::quantize_int8_weights(w.data(), N, K, path.weight_levels, wq.data(), w_scales.data());
  int largest_weight = 0;
  for (int8_t q : wq)
    largest_weight = std::max(largest_weight, std::abs(static_cast<int>(q)));
  CHECK(largest_weight == path.weight_levels);
  for (int64_t M : {1, 4, 32, 45}) {
    auto x = random_vector(M * ldx, 7 + M, 2.f);
    std::vector<int8_t> xq(M * K);
    std::vector<float> x_scales(M);
    ops::quantize_rows(x.data(), M, K, ldx, xq.data(), x_scales.data());
    for (const auto [act, accumulate, with_bias] : test::linear_variants()) {
      // Dense outputs without a residual are finished in place, the others
      // from a scratch product: both paths, with and without bias.
      auto y = random_vector(M * N, 8);
      auto before = y;
      const float *bias = with_bias ? b.data() : nullptr;
      ops::linear(x.data(), ldx, packed, bias, y.data(), N, M, act, accumulate);
      double worst_error = 0, worst_vs_float = 0, largest = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          int64_t dot = 0;
          double exact = 0;
          for (int64_t k = 0; k < K; ++k) {
            dot += static_cast<int64_t>(xq[i * K + k]) * wq[j * K + k];
            exact += static_cast<double>(x[i * ldx + k]) * w[j * K + k];
          }
          const double bj = with_bias ? b[j] : 0.0;
          double expected = static_cast<double>(dot) * x_scales[i] * w_scales[j] + bj;
          exact += bj;
          expected = accumulate ? expected + before[i * N + j] : activate(act, expected);
          exact = accumulate ? exact + before[i * N + j] : activate(act, exact);
          worst_error = std::max(worst_error,
                                 std::fabs(y[i * N + j] - expected) / (1.0 + std::fabs(expected)));
          worst_vs_float = std::max(worst_vs_float, std::fabs(y[i * N + j] - exact));
          largest = std::max(largest, std::fabs(exact));
        }
      INFO("M=" << M << " act " << static_cast<int>(act) << " accumulate " << accumulate << " bias "
                << with_bias);
      // The quantized arithmetic itself is exact up to float32 rounding...
      CHECK(worst_error < 1e-5);
      // ...and it stays close to the float32 product.
      // (The weight step, hence the bound, doubles with 7-bit weights.)
      CHECK(worst_vs_float < 0.02 * (127.0 / path.weight_levels) * largest);
    }
  }
}

TEST_CASE("int8 linear stays exact where 16-bit pair sums would saturate", "[ops][int8]") {
  // Activations and weights of magnitude 1 quantize exactly (to +-127 and to
  // +-levels, with scales 1/127 and 1/levels), so y = x . W exactly. Equal
  // signs make every u8 x s8 pair as large as it gets: without VNNI, 8-bit
  // weights would clip those pairs at 32767 and miss by far more than rounding.
  const auto &path = ops::int8_kernels();
  INFO("int8 kernels: " << path.description);
  for (int64_t K : {4, 64, 512, 2048 + 4}) {
    const int64_t N = 48;
    auto signs = [](int64_t n, unsigned seed, bool all_positive) {
      auto v = random_vector(n, seed);
      for (auto &x : v)
        x = all_positive || x >= 0 ? 1.f : -1.f;
      return v;
    };
    for (bool all_positive : {true, false}) {
      const auto w = signs(N * K, 21, all_positive);
      const ops::PackedWeights packed(w.data(), N, K, ops::ComputeType::int8);
      for (int64_t M : {1, 32}) {
        const auto x = signs(M * K, 22 + static_cast<unsigned>(M), all_positive);
        std::vector<float> y(M * N);
        ops::linear(x.data(), K, packed, nullptr, y.data(), N, M);
        int64_t wrong = 0;
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double dot = 0;
            for (int64_t k = 0; k < K; ++k)
              dot += x[i * K + k] * w[j * K + k];
            wrong += std::fabs(y[i * N + j] - dot) > 1e-5 * (1.0 + std::fabs(dot));
          }
        INFO("K=" << K << " M=" << M << (all_positive ? " all positive" : " random signs"));
        CHECK(wrong == 0);
      }
    }
  }
}

TEST_CASE("int8 weights are 7-bit exactly when oneDNN has no VNNI kernels", "[ops][int8]") {
  const auto &path = ops::int8_kernels();
  INFO("oneDNN instruction set " << ops::cpu_isa_name() << "; " << path.description);
  const std::string isa = ops::cpu_isa_name();
  const bool vnni = isa.find("vnni") != std::string::npos || isa == "avx512_core_bf16" ||
                    isa == "avx512_core_amx";
  CHECK(path.vnni == vnni);
  CHECK(path.weight_levels == (vnni ? 127 : 63));
  // Narrowing goes through the 8-bit weights, as loading a converted model
  // does: the same weights either way.
  const int64_t N = 7, K = 33;
  auto w = random_vector(N * K, 31);
  std::vector<int8_t> q8(N * K), q7(N * K), requantized(N * K);
  std::vector<float> s8(N), s7(N), rs(N);
  ops::quantize_int8_weights(w.data(), N, K, 127, q8.data(), s8.data());
  ops::quantize_int8_weights(w.data(), N, K, 63, q7.data(), s7.data());
  std::vector<float> dequantized(N * K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      dequantized[n * K + k] = static_cast<float>(q8[n * K + k]) * s8[n];
  ops::quantize_rows(dequantized.data(), N, K, K, requantized.data(), rs.data(), 63);
  CHECK(q7 == requantized);
  CHECK(s7 == rs);
}

TEST_CASE("packed linear runs oneDNN's optimized kernels, not reference ones", "[ops][packed]") {
  // Shapes of a base Marian model: d 512, ffn 2048, a 15k vocabulary.
  const struct { int64_t N, K; } shapes[] = {{1536, 512}, {2048, 512}, {512, 2048}, {15000, 512}};
  for (auto type : {ops::ComputeType::float32, ops::ComputeType::int8})
    for (const auto &shape : shapes) {
      auto w = random_vector(shape.N * shape.K, 9, 0.05f);
      const ops::PackedWeights packed(w.data(), shape.N, shape.K, type);
      // Packing too: int8 weights beside an s8 source went through oneDNN's
      // reference reorder (simple:any, with its compensation), most of a large
      // int8 model's load.
      INFO(ops::compute_type_name(type) << " N=" << shape.N << " K=" << shape.K << " packed by "
                                        << ops::packing_implementation(packed));
      CHECK(ops::packing_implementation(packed).rfind("jit", 0) == 0);
      for (int64_t M : {1, 4, 32, 128, 480})
        for (bool accumulate : {false, true}) {
          const auto act = accumulate ? ops::Activation::none : ops::Activation::swish;
          const std::string impl = ops::linear_implementation(packed, M, true, act, accumulate);
          INFO(ops::compute_type_name(type)
               << " N=" << shape.N << " K=" << shape.K << " M=" << M << ": " << impl);
          CHECK(impl.rfind("ref", 0) != 0);
        }
    }
}

TEST_CASE("a packed weight's rows read back as the values its products use", "[ops][packed]") {
  // Shapes that leave partial blocks in both dimensions (oneDNN pads N to 16
  // or 64 and blocks K by 4 for int8), a tied table's and tc-big's.
  const struct { int64_t N, K; } shapes[] = {{37, 33}, {1000, 64}, {15001, 512}, {70, 1024}};
  std::vector<ops::ComputeType> types = {ops::ComputeType::float32, ops::ComputeType::int8};
  if (ops::has_bfloat16_kernels())
    types.push_back(ops::ComputeType::bfloat16);
  for (auto type : types)
    for (const auto &shape : shapes) {
      const int64_t N = shape.N, K = shape.K;
      INFO(ops::compute_type_name(type) << " N=" << N << " K=" << K);
      auto w = random_vector(N * K, 17, 0.5f);
      const ops::PackedWeights packed(w.data(), N, K, type);
      // What the products multiply by, row by row.
      std::vector<float> expected(w);
      if (type == ops::ComputeType::bfloat16) {
        for (auto &v : expected)
          v = from_bfloat16(to_bfloat16(v));
      } else if (type == ops::ComputeType::int8) {
        std::vector<int8_t> q(N * K);
        std::vector<float> scales(N);
        ops::quantize_int8_weights(w.data(), N, K, 127, q.data(), scales.data());
        for (int64_t n = 0; n < N; ++n)
          for (int64_t k = 0; k < K; ++k)
            expected[n * K + k] = static_cast<float>(q[n * K + k]) * scales[n];
      }
      // int8 weights narrowed to 7 bits (no VNNI) are no longer the 8-bit
      // table: they must say so rather than be read.
      const bool readable = type != ops::ComputeType::int8 || ops::int8_kernels().vnni;
      REQUIRE(packed.rows_readable() == readable);
      std::vector<float> row(K);
      if (!readable) {
        CHECK_THROWS_AS(packed.read_row(0, row.data()), std::logic_error);
        continue;
      }
      int64_t wrong = 0;
      for (int64_t n = 0; n < N; ++n) {
        packed.read_row(n, row.data());
        for (int64_t k = 0; k < K; ++k)
          wrong += row[k] != expected[n * K + k];
      }
      CHECK(wrong == 0);
      CHECK_THROWS_AS(packed.read_row(N, row.data()), std::logic_error);
    }
}

TEST_CASE("weights packed block by block equal weights packed whole", "[ops][packed][bf16]") {
  // Two blocks with a short last one (about 2^21 values per block, in whole
  // blocks of the layout), and one block for a small matrix.
  const struct { int64_t N, K; } shapes[] = {{1000, 4096}, {1500, 2048}, {37, 33}};
  std::vector<ops::ComputeType> types = {ops::ComputeType::float32};
  if (ops::has_bfloat16_kernels())
    types.push_back(ops::ComputeType::bfloat16);
  for (auto type : types)
    for (const auto &shape : shapes) {
      const int64_t N = shape.N, K = shape.K, M = 3;
      INFO(ops::compute_type_name(type) << " N=" << N << " K=" << K);
      const auto w = random_vector(N * K, 23, 0.5f);
      const ops::PackedWeights whole(w.data(), N, K, type);
      int64_t blocks = 0;
      const ops::PackedWeights parts = ops::PackedWeights::from_row_blocks(
          N, K, type, [&](int64_t block_rows, const ops::PackedWeights::RowBlockSink &sink) {
            for (int64_t first = 0; first < N; first += block_rows, ++blocks) {
              // Each block from its own buffer, freed after: nothing may keep it.
              std::vector<float> part(w.begin() + first * K,
                                      w.begin() + std::min(N, first + block_rows) * K);
              sink(first, std::min(block_rows, N - first), part.data());
            }
          });
      CHECK(blocks == (K >= 2048 ? 2 : 1)); // 2^21 / K rows, rounded up to the layout's block
      CHECK(parts.bytes() == whole.bytes());
      std::vector<float> a(K), b(K);
      int64_t wrong = 0;
      for (int64_t n = 0; n < N; ++n) {
        whole.read_row(n, a.data());
        parts.read_row(n, b.data());
        wrong += a != b;
      }
      CHECK(wrong == 0);
      // And the products are the same, bit for bit.
      const auto x = random_vector(M * K, 5, 1.f);
      std::vector<float> y1(M * N), y2(M * N);
      ops::linear(x.data(), K, whole, nullptr, y1.data(), N, M);
      ops::linear(x.data(), K, parts, nullptr, y2.data(), N, M);
      CHECK(y1 == y2);
    }
  // Rows given out of order, or not all of them, and int8, are refused.
  const auto w = random_vector(200 * 64, 3, 0.5f);
  const auto skip = [&](int64_t, const ops::PackedWeights::RowBlockSink &sink) {
    sink(1, 199, w.data() + 64);
  };
  CHECK_THROWS_AS(ops::PackedWeights::from_row_blocks(200, 64, ops::ComputeType::float32, skip),
                  std::logic_error);
  const auto half = [&](int64_t, const ops::PackedWeights::RowBlockSink &) {};
  CHECK_THROWS_AS(ops::PackedWeights::from_row_blocks(200, 64, ops::ComputeType::float32, half),
                  std::logic_error);
  CHECK_THROWS_AS(ops::PackedWeights::from_row_blocks(200, 64, ops::ComputeType::int8, half),
                  std::logic_error);
}
