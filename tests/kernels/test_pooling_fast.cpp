// The 2x2 stride-2 max-pool fast path (kernels/cpu/max_pool.cpp) against the definition: the
// same maxima AND the same argmax (ties to the first pixel in row-major order, NaN wins, later
// NaN over earlier), on odd shapes whose last row/column no window covers, and a backward that
// equals a zero-fill-then-scatter bit for bit (including +0 where dy is -0).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/max_pool.hpp"
#include "runtime/generator.hpp"

namespace dlfs::kernels {
namespace {

Pool2dGeometry two_by_two(std::int64_t planes, std::int64_t h, std::int64_t w) {
  Pool2dGeometry g;
  g.batch = 1;
  g.channels = planes;
  g.in_h = h;
  g.in_w = w;
  g.out_h = (h - 2) / 2 + 1;
  g.out_w = (w - 2) / 2 + 1;
  g.window = PoolWindow::square(2, 2);
  return g;
}

// The definition: scan the window in row-major order; take a value when it is larger than the
// best so far or NaN (the first pixel always).
template <typename T>
void naive_forward(const std::vector<T>& x, const Pool2dGeometry& g, std::vector<T>* y,
                   std::vector<std::int32_t>* argmax) {
  y->assign(static_cast<std::size_t>(g.output_numel()), T(0));
  argmax->assign(y->size(), -1);
  for (std::int64_t p = 0; p < g.planes(); ++p)
    for (std::int64_t oh = 0; oh < g.out_h; ++oh)
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        std::int64_t best_at = -1;
        T best = 0;
        for (std::int64_t h = 2 * oh; h < 2 * oh + 2; ++h)
          for (std::int64_t w = 2 * ow; w < 2 * ow + 2; ++w) {
            const T v = x[static_cast<std::size_t>(p * g.in_h * g.in_w + h * g.in_w + w)];
            if (best_at < 0 || v > best || std::isnan(v)) {
              best = v;
              best_at = h * g.in_w + w;
            }
          }
        const std::size_t o = static_cast<std::size_t>(p * g.out_h * g.out_w + oh * g.out_w + ow);
        (*y)[o] = best;
        (*argmax)[o] = static_cast<std::int32_t>(best_at);
      }
}

template <typename T>
std::vector<T> naive_backward(const std::vector<T>& dy, const std::vector<std::int32_t>& argmax,
                              const Pool2dGeometry& g) {
  std::vector<T> dx(static_cast<std::size_t>(g.input_numel()), T(0));
  for (std::int64_t p = 0; p < g.planes(); ++p)
    for (std::int64_t o = 0; o < g.out_h * g.out_w; ++o) {
      const std::size_t i = static_cast<std::size_t>(p * g.out_h * g.out_w + o);
      dx[static_cast<std::size_t>(p * g.in_h * g.in_w + argmax[i])] += dy[i];
    }
  return dx;
}

// Values from a small set so that ties are common, plus NaN, +-0 and +-inf sprinkled in.
template <typename T>
std::vector<T> tricky_values(std::int64_t count, std::uint64_t seed) {
  Generator gen(seed);
  const Tensor u = Tensor::empty({count}, DType::Float64).uniform_(gen, 0.0, 1.0);
  const std::vector<double> r = u.to_vector<double>();
  std::vector<T> v(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) {
    const int k = static_cast<int>(r[i] * 40);
    if (k == 0)
      v[i] = std::numeric_limits<T>::quiet_NaN();
    else if (k == 1)
      v[i] = -T(0);
    else if (k == 2)
      v[i] = std::numeric_limits<T>::infinity();
    else if (k == 3)
      v[i] = -std::numeric_limits<T>::infinity();
    else
      v[i] = static_cast<T>(k % 5) - T(2);  // -2..2: many ties
  }
  return v;
}

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <typename T>
void check_shape(std::int64_t planes, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  SCOPED_TRACE(std::to_string(planes) + " planes of " + std::to_string(h) + "x" +
               std::to_string(w));
  const Pool2dGeometry g = two_by_two(planes, h, w);
  const std::vector<T> x = tricky_values<T>(g.input_numel(), seed);
  std::vector<T> expected_y;
  std::vector<std::int32_t> expected_argmax;
  naive_forward(x, g, &expected_y, &expected_argmax);
  std::vector<T> y(expected_y.size(), T(7));
  std::vector<std::int32_t> argmax(expected_y.size(), -7);
  cpu::max_pool_forward(x.data(), y.data(), argmax.data(), g);
  EXPECT_TRUE(bitwise_equal(y, expected_y));
  EXPECT_EQ(argmax, expected_argmax);

  // dy with -0 entries: the scatter gives 0 + -0 = +0 at the max.
  std::vector<T> dy = tricky_values<T>(g.output_numel(), seed + 1);
  for (T& v : dy)
    if (std::isnan(v) || std::isinf(v)) v = T(0.5);
  const std::vector<T> expected_dx = naive_backward(dy, expected_argmax, g);
  std::vector<T> dx(expected_dx.size(), std::numeric_limits<T>::quiet_NaN());
  cpu::max_pool_backward(dy.data(), argmax.data(), dx.data(), g);
  EXPECT_TRUE(bitwise_equal(dx, expected_dx));
}

TEST(MaxPoolFast, TwoByTwoMatchesTheDefinitionOnOddShapes) {
  std::uint64_t seed = 1;
  for (auto [h, w] : std::vector<std::pair<int, int>>{
           {2, 2}, {3, 3}, {4, 5}, {5, 4}, {7, 9}, {28, 28}, {2, 17}, {17, 2}, {3, 2}})
    for (std::int64_t planes : {1, 3}) {
      check_shape<float>(planes, h, w, seed += 2);
      check_shape<double>(planes, h, w, seed += 2);
    }
}

TEST(MaxPoolFast, ParallelPathMatchesTheDefinitionAtAnyThreadCount) {
  const int threads = omp_get_max_threads();
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    check_shape<float>(300, 29, 31, 11);  // > 2^16 outputs: the OpenMP path
  }
  omp_set_num_threads(threads);
}

TEST(MaxPoolFast, HandComputedTwoByTwo) {
  // One 3x5 plane: windows cover rows 0-1 and columns 0-3; row 2 and column 4 get no gradient.
  const std::vector<float> x = {1, 5, 2, 2, 9,  //
                                3, 4, 2, 2, 9,  //
                                9, 9, 9, 9, 9};
  const Pool2dGeometry g = two_by_two(1, 3, 5);
  std::vector<float> y(2);
  std::vector<std::int32_t> argmax(2);
  cpu::max_pool_forward(x.data(), y.data(), argmax.data(), g);
  EXPECT_EQ(y, std::vector<float>({5, 2}));
  EXPECT_EQ(argmax, std::vector<std::int32_t>({1, 2}));  // the tie of 2s goes to the first
  std::vector<float> dx(15, -1.0f);
  const std::vector<float> dy = {10, 20};
  cpu::max_pool_backward(dy.data(), argmax.data(), dx.data(), g);
  EXPECT_EQ(dx, std::vector<float>({0, 10, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace dlfs::kernels
