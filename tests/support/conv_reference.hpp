#pragma once
// Direct convolution loops, the reference the im2col kernels and the Convolution layer are
// checked against. They work in double on host copies, straight from the definition
//   y[n][o][oh][ow] = b[o] + sum_{c,i,j} w[o][c][i][j] * x[n][c][oh*sh - ph + i*dh][ow*sw - pw +
//   j*dw]
// (out-of-range x reads as 0), and the backward passes as the same sum read the other way.
#include <algorithm>
#include <cmath>
#include <vector>

#include "dlfs/kernels/im2col.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::testing {

// Host copy of a float32 or float64 tensor, as doubles.
inline std::vector<double> as_doubles(const Tensor& t) {
  if (t.dtype() == DType::Float64) return t.to_vector<double>();
  const std::vector<float> f = t.to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

struct DirectConvolution {
  kernels::ConvGeometry g;
  std::int64_t out_channels;

  DirectConvolution(const Shape& input, std::int64_t out_channels,
                    const kernels::ConvWindow& window)
      : g(kernels::conv_geometry("DirectConvolution", input, window)), out_channels(out_channels) {}

  Shape output_shape() const { return {g.batch, out_channels, g.out_h, g.out_w}; }

  // Calls f(x_index, w_index, y_index) for every product term of the convolution.
  template <typename F>
  void for_each_term(F f) const {
    const kernels::ConvWindow& w = g.window;
    for (std::int64_t n = 0; n < g.batch; ++n)
      for (std::int64_t o = 0; o < out_channels; ++o)
        for (std::int64_t oh = 0; oh < g.out_h; ++oh)
          for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
            const std::int64_t y_index = ((n * out_channels + o) * g.out_h + oh) * g.out_w + ow;
            for (std::int64_t c = 0; c < g.channels; ++c)
              for (std::int64_t i = 0; i < w.kernel_h; ++i)
                for (std::int64_t j = 0; j < w.kernel_w; ++j) {
                  const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
                  const std::int64_t v = ow * w.stride_w - w.pad_w + j * w.dilation_w;
                  if (h < 0 || h >= g.height || v < 0 || v >= g.width) continue;
                  const std::int64_t x_index = ((n * g.channels + c) * g.height + h) * g.width + v;
                  const std::int64_t w_index =
                      ((o * g.channels + c) * w.kernel_h + i) * w.kernel_w + j;
                  f(x_index, w_index, y_index);
                }
          }
  }

  // bias may be undefined.
  std::vector<double> forward(const Tensor& x, const Tensor& weight, const Tensor& bias) const {
    const std::vector<double> xs = as_doubles(x), ws = as_doubles(weight);
    std::vector<double> y(static_cast<std::size_t>(output_shape().numel()), 0.0);
    if (bias.defined()) {
      const std::vector<double> bs = as_doubles(bias);
      const std::int64_t plane = g.out_h * g.out_w;
      for (std::size_t k = 0; k < y.size(); ++k)
        y[k] = bs[static_cast<std::size_t>((static_cast<std::int64_t>(k) / plane) % out_channels)];
    }
    for_each_term([&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
      y[static_cast<std::size_t>(yi)] +=
          xs[static_cast<std::size_t>(xi)] * ws[static_cast<std::size_t>(wi)];
    });
    return y;
  }

  // dL/dx for dL/dy = dy.
  std::vector<double> backward_data(const Tensor& dy, const Tensor& weight) const {
    const std::vector<double> ds = as_doubles(dy), ws = as_doubles(weight);
    std::vector<double> dx(static_cast<std::size_t>(g.batch * g.channels * g.height * g.width),
                           0.0);
    for_each_term([&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
      dx[static_cast<std::size_t>(xi)] +=
          ds[static_cast<std::size_t>(yi)] * ws[static_cast<std::size_t>(wi)];
    });
    return dx;
  }

  // dL/dweight for dL/dy = dy.
  std::vector<double> backward_filter(const Tensor& x, const Tensor& dy) const {
    const std::vector<double> xs = as_doubles(x), ds = as_doubles(dy);
    std::vector<double> dw(static_cast<std::size_t>(out_channels * g.col_rows()), 0.0);
    for_each_term([&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
      dw[static_cast<std::size_t>(wi)] +=
          ds[static_cast<std::size_t>(yi)] * xs[static_cast<std::size_t>(xi)];
    });
    return dw;
  }
};

// max |expected - actual| / max |expected|: the error of a long sum relative to the size of
// its terms. GEMMs that add in another order (OpenBLAS vs cuBLAS vs cuDNN) differ by a few ulps
// of the largest partial sums, so elementwise relative errors near 0 say nothing, while a wrong
// index or a missing term moves the result by a whole term, O(1 / sqrt(K)) of the maximum.
inline double max_normalized_error(const std::vector<double>& expected,
                                   const std::vector<double>& actual) {
  if (expected.size() != actual.size()) return INFINITY;
  double scale = 0.0, worst = 0.0;
  for (double e : expected) scale = std::max(scale, std::abs(e));
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const double d = std::abs(expected[k] - actual[k]);
    if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
  }
  return scale > 0.0 ? worst / scale : worst;
}

inline double max_normalized_error(const Tensor& expected, const Tensor& actual) {
  if (expected.shape() != actual.shape()) return INFINITY;
  return max_normalized_error(as_doubles(expected), as_doubles(actual));
}

// A window in one line, for test parameters and messages.
inline kernels::ConvWindow conv_window(std::int64_t kh, std::int64_t kw, std::int64_t sh = 1,
                                       std::int64_t sw = 1, std::int64_t ph = 0,
                                       std::int64_t pw = 0, std::int64_t dh = 1,
                                       std::int64_t dw = 1) {
  kernels::ConvWindow w;
  w.kernel_h = kh;
  w.kernel_w = kw;
  w.stride_h = sh;
  w.stride_w = sw;
  w.pad_h = ph;
  w.pad_w = pw;
  w.dilation_h = dh;
  w.dilation_w = dw;
  return w;
}

// A convolution problem: input [N, C, H, W], output channels and window.
struct ConvCase {
  Shape input;
  std::int64_t out_channels;
  kernels::ConvWindow window;
};

// Odd geometries with every feature, shared by the im2col kernel and Convolution layer tests:
// padding, strides 2 and 3, stride > kernel (gaps no window covers), non-square kernels and
// strides, dilation, 1x1 kernels, kernels as large as the input and as the padded input.
inline std::vector<ConvCase> odd_conv_cases() {
  return {
      {{2, 3, 7, 9}, 4, conv_window(3, 3, 2, 2, 1, 1)},
      {{1, 1, 5, 5}, 2, conv_window(1, 1)},
      {{3, 2, 6, 5}, 3, conv_window(2, 3, 1, 2, 0, 1)},
      {{2, 2, 8, 7}, 3, conv_window(1, 2, 3, 3, 0, 0)},
      {{2, 3, 8, 7}, 5, conv_window(3, 1, 3, 2, 1, 0)},
      {{2, 3, 9, 8}, 3, conv_window(3, 2, 2, 1, 2, 1, 2, 3)},
      {{1, 2, 4, 3}, 2, conv_window(6, 5, 1, 1, 1, 1)},
      {{3, 1, 5, 6}, 2, conv_window(5, 6)},
  };
}

}  // namespace dlfs::testing
