// bfloat16: the rounding of weights and activations, the dense layer on
// processors that have AVX512-BF16 or AMX, and its refusal everywhere else.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/layers/attention.h"
#include "heed/ops/bfloat16.h"
#include "heed/ops/cpu_isa.h"
#include "heed/ops/packed_weights.h"
#include "test_support.h"

using namespace heed;
using heed::test::random_vector;

namespace {

float from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint32_t bits_of(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// Round to nearest, ties to even, restated: of the two bfloat16 values around
// x (its upper 16 bits, and the next one away from zero), the nearer in double
// arithmetic; on a tie the one with an even last bit. Past the largest
// bfloat16 the next one is infinity, which IEEE rounding treats as 2^128.
uint16_t nearest_even(float x) {
  const uint32_t down = bits_of(x) & 0xffff0000u;
  const uint32_t up = down + 0x10000u;
  const double up_value = (up & 0x7fffffffu) == 0x7f800000u ? std::copysign(std::ldexp(1.0, 128), x)
                                                            : static_cast<double>(from_bits(up));
  const double a = std::fabs(static_cast<double>(x) - from_bits(down));
  const double b = std::fabs(up_value - x);
  if (a < b || (a == b && ((down >> 16) & 1u) == 0))
    return static_cast<uint16_t>(down >> 16);
  return static_cast<uint16_t>(up >> 16);
}

// Whether bfloat16 matmuls run here; if not, the test says it is skipped.
bool bfloat16_runs() {
  if (ops::has_bfloat16_kernels())
    return true;
  WARN("skipped: oneDNN reports " << ops::cpu_isa_name()
                                  << " here; bfloat16 matmuls need AVX512-BF16 or AMX");
  return false;
}

} // namespace

TEST_CASE("to_bfloat16 rounds to nearest, ties to even", "[bf16]") {
  CHECK(to_bfloat16(1.f) == 0x3f80);
  CHECK(to_bfloat16(-2.f) == 0xc000);
  CHECK(to_bfloat16(0.f) == 0x0000);
  CHECK(to_bfloat16(-0.f) == 0x8000);
  CHECK(to_bfloat16(from_bits(0x3f808000u)) == 0x3f80);            // tie, even below
  CHECK(to_bfloat16(from_bits(0x3f818000u)) == 0x3f82);            // tie, even above
  CHECK(to_bfloat16(from_bits(0x3f808001u)) == 0x3f81);            // just above the tie
  CHECK(to_bfloat16(from_bits(0x3f807fffu)) == 0x3f80);            // just below it
  CHECK(to_bfloat16(from_bits(0x3fffffffu)) == 0x4000);            // carries into the exponent
  CHECK(to_bfloat16(std::numeric_limits<float>::max()) == 0x7f80); // rounds to infinity
  CHECK(to_bfloat16(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(to_bfloat16(-std::numeric_limits<float>::infinity()) == 0xff80);
  for (uint32_t nan : {0x7fc00000u, 0x7f800001u, 0xffffffffu, 0x7f80ffffu}) {
    INFO("NaN bits " << std::hex << nan);
    CHECK(std::isnan(from_bfloat16(to_bfloat16(from_bits(nan)))));
  }
  // Random finite floats of every magnitude, subnormals included.
  std::mt19937 rng(7);
  int checked = 0;
  while (checked < 200000) {
    const uint32_t bits = static_cast<uint32_t>(rng());
    if ((bits & 0x7f800000u) == 0x7f800000u)
      continue; // infinities and NaNs are checked above
    const float x = from_bits(bits);
    if (to_bfloat16(x) != nearest_even(x)) {
      FAIL_CHECK("bits " << std::hex << bits << ": " << to_bfloat16(x) << " vs "
                         << nearest_even(x));
      break;
    }
    ++checked;
  }
  for (uint16_t b : {0x0000, 0x3f80, 0xc2f7, 0x0001, 0x7f7f})
    CHECK(to_bfloat16(from_bfloat16(b)) == b); // bfloat16 values are kept as they are
}

TEST_CASE("to_bfloat16_rows converts strided rows into a dense copy", "[bf16]") {
  const int64_t rows = 300, cols = 250, ld = 257; // past the parallel threshold
  const auto x = random_vector(rows * ld, 3, 10.f);
  std::vector<uint16_t> out(rows * cols);
  ops::to_bfloat16_rows(x.data(), rows, cols, ld, out.data());
  int64_t wrong = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      wrong += out[r * cols + c] != to_bfloat16(x[r * ld + c]);
  CHECK(wrong == 0);
}

TEST_CASE("bfloat16 dense layers are refused without AVX512-BF16 or AMX", "[bf16]") {
  const std::string reason = ops::bfloat16_unavailable_reason();
  CHECK(reason.empty() == ops::has_bfloat16_kernels());
  const auto w = random_vector(64 * 32, 1);
  if (ops::has_bfloat16_kernels()) {
    CHECK_NOTHROW(ops::PackedWeights(w.data(), 64, 32, ops::ComputeType::bfloat16));
    return;
  }
  CHECK(reason.find("AVX512-BF16 or AMX") != std::string::npos);
  CHECK(reason.find(ops::cpu_isa_name()) != std::string::npos);
  // Not even a reference kernel runs: packing itself refuses.
  CHECK_THROWS_AS(ops::PackedWeights(w.data(), 64, 32, ops::ComputeType::bfloat16), OptionError);
}

TEST_CASE("bfloat16 linear multiplies the rounded operands, accumulating in float32",
          "[bf16][ops]") {
  if (!bfloat16_runs())
    return;
  const int64_t K = 96, N = 80, ldx = 100;
  const auto w = random_vector(N * K, 5, 0.2f);
  const auto b = random_vector(N, 6);
  const ops::PackedWeights packed(w.data(), N, K, ops::ComputeType::bfloat16);
  CHECK(packed.bytes() >= static_cast<size_t>(2 * N * K));
  CHECK(packed.bytes() < static_cast<size_t>(4 * N * K));
  for (int64_t M : {1, 4, 32, 45}) {
    const auto x = random_vector(M * ldx, 7 + static_cast<unsigned>(M), 2.f);
    for (const auto [act, accumulate, with_bias] : test::linear_variants()) {
      auto y = random_vector(M * N, 8);
      const auto before = y;
      const float *bias = with_bias ? b.data() : nullptr;
      ops::linear(x.data(), ldx, packed, bias, y.data(), N, M, act, accumulate);
      double worst = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double dot = 0, magnitude = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double p = static_cast<double>(from_bfloat16(to_bfloat16(x[i * ldx + k]))) *
                             from_bfloat16(to_bfloat16(w[j * K + k]));
            dot += p;
            magnitude += std::fabs(p);
          }
          double expected = dot + (with_bias ? b[j] : 0.0);
          expected = accumulate ? expected + before[i * N + j] : test::activate(act, expected);
          // float32 accumulation of exact products: a few float32 ulps of the
          // sum of magnitudes.
          worst = std::max(worst, std::fabs(y[i * N + j] - expected) / (1.0 + magnitude));
        }
      INFO("M=" << M << " accumulate " << accumulate << " bias " << with_bias);
      CHECK(worst < 1e-5);
    }
  }
}

TEST_CASE("bfloat16 linear runs oneDNN's optimized kernels", "[bf16][ops]") {
  if (!bfloat16_runs())
    return;
  const struct { int64_t N, K; } shapes[] = {{1536, 512}, {2048, 512}, {512, 2048}, {58101, 512}};
  for (const auto &shape : shapes) {
    const auto w = random_vector(shape.N * shape.K, 9, 0.05f);
    const ops::PackedWeights packed(w.data(), shape.N, shape.K, ops::ComputeType::bfloat16);
    for (int64_t M : {1, 4, 32, 128, 480})
      for (bool accumulate : {false, true}) {
        const auto act = accumulate ? ops::Activation::none : ops::Activation::swish;
        const std::string impl = ops::linear_implementation(packed, M, true, act, accumulate);
        INFO("N=" << shape.N << " K=" << shape.K << " M=" << M << ": " << impl);
        CHECK(impl.rfind("ref", 0) != 0);
      }
  }
}

TEST_CASE("bfloat16 attention multiplies rounded queries and probabilities by bfloat16 caches",
          "[bf16][attention]") {
  if (!bfloat16_runs())
    return;
  // A decoder step's layout: entries with one query each against a cache of
  // `capacity` positions of which `keys` are filled, the queries strided in a
  // fused projection buffer, a padding mask on sentence 1's last key.
  const int64_t entries = 3, heads = 2, dh = 8, d = heads * dh, capacity = 6, keys = 5;
  const auto proj = random_vector(entries * 3 * d, 11, 1.f);
  const auto k32 = random_vector(entries * capacity * d, 12, 1.f);
  const auto v32 = random_vector(entries * capacity * d, 13, 1.f);
  std::vector<uint16_t> k16(k32.size()), v16(v32.size());
  for (size_t i = 0; i < k32.size(); ++i) {
    k16[i] = to_bfloat16(k32[i]);
    v16[i] = to_bfloat16(v32[i]);
  }
  std::vector<float> mask(entries * keys, 0.f);
  mask[1 * keys + keys - 1] = -1e30f;
  const ops::View4 q_view{{entries, heads, 1, dh}, {3 * d, dh, 3 * d, 1}};
  const ops::View4 k_view{
      {entries, heads, dh, keys}, {capacity * d, dh, 1, d}, ElementType::bfloat16};
  const ops::View4 v_view{
      {entries, heads, keys, dh}, {capacity * d, dh, d, 1}, ElementType::bfloat16};
  const ops::View4 out_view{{entries, heads, 1, dh}, {d, dh, d, 1}};
  std::vector<float> out(entries * d), scores(entries * heads * keys);
  std::vector<uint16_t> rounded(rounded_elements(q_view, keys));
  attend(proj.data(), q_view, k16.data(), k_view, v16.data(), v_view, out.data(), out_view,
         mask.data(), scores.data(), rounded.data());

  auto round = [](float x) { return static_cast<double>(from_bfloat16(to_bfloat16(x))); };
  for (int64_t e = 0; e < entries; ++e)
    for (int64_t h = 0; h < heads; ++h) {
      std::vector<double> p(keys);
      double top = -1e300, sum = 0;
      for (int64_t j = 0; j < keys; ++j) {
        double dot = 0;
        for (int64_t k = 0; k < dh; ++k)
          dot +=
              round(proj[e * 3 * d + h * dh + k]) * round(k32[(e * capacity + j) * d + h * dh + k]);
        p[j] = dot + mask[e * keys + j];
        top = std::max(top, p[j]);
      }
      for (double &x : p)
        sum += x = std::exp(x - top);
      for (int64_t j = 0; j < keys; ++j) {
        p[j] /= sum;
        INFO("entry " << e << " head " << h << " key " << j);
        CHECK(scores[(e * heads + h) * keys + j] == Approx(p[j]).margin(1e-5));
      }
      CHECK(scores[(1 * heads + h) * keys + keys - 1] == 0.f); // masked
      for (int64_t k = 0; k < dh; ++k) {
        // The product takes the float32 probabilities rounded to bfloat16.
        double expected = 0;
        for (int64_t j = 0; j < keys; ++j)
          expected += round(scores[(e * heads + h) * keys + j]) *
                      round(v32[(e * capacity + j) * d + h * dh + k]);
        CHECK(out[e * d + h * dh + k] == Approx(expected).margin(1e-5));
      }
    }
}
