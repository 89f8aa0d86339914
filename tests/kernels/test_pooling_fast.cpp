// The 2x2 stride-2 max-pool fast path (kernels/cpu/max_pool.cpp) against the definition: the
// same maxima (also without an argmax, as inference runs it) AND the same argmax (ties to the first
// pixel in row-major order, NaN wins, later NaN over earlier), on odd shapes whose last row/column
// no window covers, and a backward that equals a zero-fill-then-scatter bit for bit (including +0
// where dy is -0).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dlfs/kernels/max_pool.hpp"
#include "dlfs/runtime/generator.hpp"
#include "support/max_pool_reference.hpp"

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

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <typename T>
void check_shape(std::int64_t planes, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  SCOPED_TRACE(std::to_string(planes) + " planes of " + std::to_string(h) + "x" +
               std::to_string(w));
  const Pool2dGeometry g = two_by_two(planes, h, w);
  const std::vector<T> x = testing::max_pool_tricky_values<T>(g.input_numel(), seed);
  const testing::MaxPoolReference<T> expected = testing::max_pool_reference(x, g);
  const std::vector<T>& expected_y = expected.y;
  const std::vector<std::int32_t>& expected_argmax = expected.argmax;
  std::vector<T> y(expected_y.size(), T(7));
  std::vector<std::int32_t> argmax(expected_y.size(), -7);
  cpu::max_pool_forward(x.data(), y.data(), argmax.data(), g);
  EXPECT_TRUE(bitwise_equal(y, expected_y));
  EXPECT_EQ(argmax, expected_argmax);
  // Inference: no argmax, the same values bit for bit.
  std::vector<T> values_only(expected_y.size(), T(7));
  cpu::max_pool_forward(x.data(), values_only.data(), static_cast<std::int32_t*>(nullptr), g);
  EXPECT_TRUE(bitwise_equal(values_only, expected_y));

  // dy with -0 entries: the scatter gives 0 + -0 = +0 at the max.
  std::vector<T> dy = testing::max_pool_tricky_values<T>(g.output_numel(), seed + 1);
  for (T& v : dy)
    if (std::isnan(v) || std::isinf(v)) v = T(0.5);
  const std::vector<T> expected_dx = testing::max_pool_backward_reference(dy, expected_argmax, g);
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
