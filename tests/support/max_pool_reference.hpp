#pragma once
// The definition of max pooling, written independently of kernels/cpu/max_pool.cpp: each plane is
// copied into an explicitly padded one (padding marked as "no pixel"), each window is scanned in
// row-major order, and a pixel is taken when it is the first real one, larger than the best so
// far, or NaN. So ties go to the first maximum in row-major window order and a NaN wins (a later
// NaN over an earlier one). Backward zero-fills and then scatters each output gradient to its
// argmax in output order. One reference for every path: the 2x2 fast path, the general path,
// their OpenMP variants and the GPU kernel.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dlfs/kernels/pooling.hpp"
#include "dlfs/runtime/generator.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::testing {

template <typename T>
struct MaxPoolReference {
  std::vector<T> y;
  std::vector<std::int32_t> argmax;  // offsets h * W + w into the unpadded input plane
};

template <typename T>
MaxPoolReference<T> max_pool_reference(const std::vector<T>& x, const kernels::Pool2dGeometry& g) {
  const kernels::PoolWindow& w = g.window;
  const std::int64_t H = g.in_h, W = g.in_w;
  const std::int64_t PH = H + 2 * w.pad_h, PW = W + 2 * w.pad_w;
  MaxPoolReference<T> r;
  for (std::int64_t p = 0; p < g.planes(); ++p) {
    std::vector<T> padded(static_cast<std::size_t>(PH * PW), T(0));
    std::vector<std::int32_t> origin(static_cast<std::size_t>(PH * PW), -1);
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t c = 0; c < W; ++c) {
        const auto at = static_cast<std::size_t>((h + w.pad_h) * PW + c + w.pad_w);
        padded[at] = x[static_cast<std::size_t>(p * H * W + h * W + c)];
        origin[at] = static_cast<std::int32_t>(h * W + c);
      }
    for (std::int64_t oh = 0; oh < g.out_h; ++oh)
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        T best = T(0);
        std::int32_t best_at = -1;
        for (std::int64_t i = 0; i < w.kernel_h; ++i)
          for (std::int64_t j = 0; j < w.kernel_w; ++j) {
            const auto at =
                static_cast<std::size_t>((oh * w.stride_h + i) * PW + ow * w.stride_w + j);
            if (at >= padded.size() || origin[at] < 0) continue;  // padding: no pixel
            const T v = padded[at];
            if (best_at < 0 || v > best || std::isnan(v)) {
              best = v;
              best_at = origin[at];
            }
          }
        r.y.push_back(best);
        r.argmax.push_back(best_at);
      }
  }
  return r;
}

template <typename T>
std::vector<T> max_pool_backward_reference(const std::vector<T>& dy,
                                           const std::vector<std::int32_t>& argmax,
                                           const kernels::Pool2dGeometry& g) {
  std::vector<T> dx(static_cast<std::size_t>(g.input_numel()), T(0));
  const std::int64_t out_plane = g.out_h * g.out_w, in_plane = g.in_h * g.in_w;
  for (std::int64_t p = 0; p < g.planes(); ++p)
    for (std::int64_t o = 0; o < out_plane; ++o) {
      const auto i = static_cast<std::size_t>(p * out_plane + o);
      dx[static_cast<std::size_t>(p * in_plane + argmax[i])] += dy[i];
    }
  return dx;
}

// Values from a small set so that ties are common in every window, plus NaN, -0 and +-inf
// sprinkled in (one in 40 each).
template <typename T>
std::vector<T> max_pool_tricky_values(std::int64_t count, std::uint64_t seed) {
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

}  // namespace dlfs::testing
