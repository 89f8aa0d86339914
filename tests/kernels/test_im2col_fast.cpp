// The row-run im2col/col2im (kernels/cpu/im2col.cpp works out, per kernel tap, the run of output
// columns that reads real pixels, and copies or adds it whole) against the definition, element by
// element, on geometries whose runs are empty, partial or whole: padding wider than the kernel,
// strides that skip pixels, dilation, one-pixel images. Copies and tap-ordered sums must match
// the definition bit for bit, with one thread and with several.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <vector>

#include "dlfs/kernels/im2col.hpp"
#include "dlfs/runtime/generator.hpp"
#include "support/conv_reference.hpp"

namespace dlfs::kernels {
namespace {

using testing::conv_window;

struct Case {
  std::int64_t batch, channels, height, width;
  ConvWindow window;
};

std::vector<Case> run_edge_cases() {
  return {
      {2, 3, 7, 9, conv_window(3, 3, 1, 1, 1, 1)},    // VGG-like, padding 1
      {1, 2, 5, 6, conv_window(3, 3, 1, 1, 4, 5)},    // padding wider than the kernel: empty runs
      {2, 1, 28, 28, conv_window(5, 5, 1, 1, 2, 2)},  // LeNet conv1
      {3, 2, 8, 7, conv_window(3, 3, 2, 2, 1, 1)},    // stride 2 with padding, odd width
      {2, 2, 9, 11, conv_window(1, 1, 2, 3, 0, 0)},   // 1x1 strided: gaps no window covers
      {2, 2, 9, 8, conv_window(3, 2, 2, 3, 2, 1, 2, 3)},  // dilation and stride, both axes
      {1, 1, 1, 1, conv_window(3, 3, 1, 1, 1, 1)},        // one pixel, all padding around it
      {1, 3, 4, 3, conv_window(6, 5, 1, 1, 1, 1)},        // kernel as large as the padded input
      {2, 2, 6, 10, conv_window(2, 4, 3, 3, 1, 2)},       // stride > kernel with padding
  };
}

// The input pixel offset (within its image plane) that tap (i, j) sees at output (oh, ow), or -1.
std::int64_t source(const ConvGeometry& g, std::int64_t i, std::int64_t j, std::int64_t oh,
                    std::int64_t ow) {
  const ConvWindow& w = g.window;
  const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
  const std::int64_t v = ow * w.stride_w - w.pad_w + j * w.dilation_w;
  if (h < 0 || h >= g.height || v < 0 || v >= g.width) return -1;
  return h * g.width + v;
}

template <typename T>
std::vector<T> naive_im2col(const std::vector<T>& x, const ConvGeometry& g) {
  const ConvWindow& w = g.window;
  std::vector<T> col(static_cast<std::size_t>(g.col_rows() * g.col_cols()));
  for (std::int64_t c = 0; c < g.channels; ++c)
    for (std::int64_t i = 0; i < w.kernel_h; ++i)
      for (std::int64_t j = 0; j < w.kernel_w; ++j)
        for (std::int64_t n = 0; n < g.batch; ++n)
          for (std::int64_t oh = 0; oh < g.out_h; ++oh)
            for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
              const std::int64_t row = (c * w.kernel_h + i) * w.kernel_w + j;
              const std::int64_t column = (n * g.out_h + oh) * g.out_w + ow;
              const std::int64_t at = source(g, i, j, oh, ow);
              col[row * g.col_cols() + column] =
                  at < 0 ? T(0) : x[(n * g.channels + c) * g.height * g.width + at];
            }
  return col;
}

// Each pixel sums its contributions in tap order (i, j), as col2im promises.
template <typename T>
std::vector<T> naive_col2im(const std::vector<T>& col, const ConvGeometry& g) {
  const ConvWindow& w = g.window;
  std::vector<T> x(static_cast<std::size_t>(g.batch * g.channels * g.height * g.width), T(0));
  for (std::int64_t n = 0; n < g.batch; ++n)
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t i = 0; i < w.kernel_h; ++i)
        for (std::int64_t j = 0; j < w.kernel_w; ++j)
          for (std::int64_t oh = 0; oh < g.out_h; ++oh)
            for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
              const std::int64_t at = source(g, i, j, oh, ow);
              if (at < 0) continue;
              const std::int64_t row = (c * w.kernel_h + i) * w.kernel_w + j;
              const std::int64_t column = (n * g.out_h + oh) * g.out_w + ow;
              x[(n * g.channels + c) * g.height * g.width + at] += col[row * g.col_cols() + column];
            }
  return x;
}

template <typename T>
std::vector<T> random_values(std::int64_t count, std::uint64_t seed) {
  Generator gen(seed);
  const Tensor t =
      Tensor::empty({count}, std::is_same_v<T, float> ? DType::Float32 : DType::Float64)
          .uniform_(gen, -1.0, 1.0);
  return t.to_vector<T>();
}

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <typename T>
void check_case(const Case& c, std::uint64_t seed) {
  const ConvGeometry g = conv_geometry("test", c.batch, c.channels, c.height, c.width, c.window);
  SCOPED_TRACE(describe(c.window) + " on " + std::to_string(c.height) + "x" +
               std::to_string(c.width));
  const std::vector<T> x = random_values<T>(c.batch * c.channels * c.height * c.width, seed);
  const std::vector<T> expected_col = naive_im2col(x, g);
  // NaN-filled outputs: an element the kernel forgets to write shows up.
  std::vector<T> col(expected_col.size(), std::numeric_limits<T>::quiet_NaN());
  cpu::im2col(x.data(), col.data(), g);
  EXPECT_TRUE(bitwise_equal(col, expected_col));

  const std::vector<T> dcol = random_values<T>(g.col_rows() * g.col_cols(), seed + 1);
  const std::vector<T> expected_x = naive_col2im(dcol, g);
  std::vector<T> dx(expected_x.size(), std::numeric_limits<T>::quiet_NaN());
  cpu::col2im(dcol.data(), dx.data(), g);
  EXPECT_TRUE(bitwise_equal(dx, expected_x));
}

TEST(Im2colFast, RunsMatchTheDefinitionBitForBitFloat) {
  std::uint64_t seed = 1;
  for (const Case& c : run_edge_cases()) check_case<float>(c, seed += 2);
}

TEST(Im2colFast, RunsMatchTheDefinitionBitForBitDouble) {
  std::uint64_t seed = 100;
  for (const Case& c : run_edge_cases()) check_case<double>(c, seed += 2);
}

TEST(Im2colFast, ParallelPathMatchesTheDefinitionAtAnyThreadCount) {
  // Large enough (col > 2^16 elements) for the OpenMP path: 4x8 (image, channel) pairs.
  const Case big{4, 8, 30, 29, conv_window(3, 3, 1, 1, 1, 1)};
  const Case strided{4, 8, 31, 30, conv_window(3, 3, 2, 2, 1, 1)};
  const int threads = omp_get_max_threads();
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    check_case<float>(big, 7);
    check_case<float>(strided, 9);
  }
  omp_set_num_threads(threads);
}

}  // namespace
}  // namespace dlfs::kernels
