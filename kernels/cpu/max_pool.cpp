#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/max_pool.hpp"

namespace dlfs::kernels::cpu {

namespace {
// Offset (h * W + w) of the maximum of the window whose top-left corner is (h0, w0), padding
// included. Padding is -inf, so only real pixels compete; there is always at least one.
template <typename T>
std::int64_t window_argmax(const T* plane, std::int64_t h0, std::int64_t w0,
                           const Pool2dGeometry& g) {
  const std::int64_t h_end = std::min<std::int64_t>(h0 + g.window.kernel_h, g.in_h);
  const std::int64_t w_end = std::min<std::int64_t>(w0 + g.window.kernel_w, g.in_w);
  std::int64_t best_at = -1;
  T best = -INFINITY;
  for (std::int64_t h = std::max<std::int64_t>(h0, 0); h < h_end; ++h)
    for (std::int64_t w = std::max<std::int64_t>(w0, 0); w < w_end; ++w) {
      const T v = plane[h * g.in_w + w];
      if (best_at < 0 || v > best || std::isnan(v)) {
        best = v;
        best_at = h * g.in_w + w;
      }
    }
  return best_at;
}
}  // namespace

template <typename T>
void max_pool_forward(const T* x, T* y, std::int32_t* argmax, const Pool2dGeometry& g) {
  const PoolWindow& w = g.window;
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
#pragma omp parallel for if (g.output_numel() > 65536)
  for (std::int64_t p = 0; p < g.planes(); ++p) {
    const T* xp = x + p * in_plane;
    for (std::int64_t oh = 0; oh < g.out_h; ++oh)
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        const std::int64_t at =
            window_argmax(xp, oh * w.stride_h - w.pad_h, ow * w.stride_w - w.pad_w, g);
        const std::int64_t o = p * out_plane + oh * g.out_w + ow;
        y[o] = xp[at];
        argmax[o] = static_cast<std::int32_t>(at);
      }
  }
}

template <typename T>
void max_pool_backward(const T* dy, const std::int32_t* argmax, T* dx, const Pool2dGeometry& g) {
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  // Scatter plane by plane in output order: each input pixel sums its gradients in ascending
  // output order, the order the CUDA gather uses too.
#pragma omp parallel for if (g.input_numel() > 65536)
  for (std::int64_t p = 0; p < g.planes(); ++p) {
    T* dxp = dx + p * in_plane;
    std::memset(dxp, 0, sizeof(T) * static_cast<std::size_t>(in_plane));
    const T* dyp = dy + p * out_plane;
    const std::int32_t* ap = argmax + p * out_plane;
    for (std::int64_t o = 0; o < out_plane; ++o) dxp[ap[o]] += dyp[o];
  }
}

template void max_pool_forward<float>(const float*, float*, std::int32_t*, const Pool2dGeometry&);
template void max_pool_forward<double>(const double*, double*, std::int32_t*,
                                       const Pool2dGeometry&);
template void max_pool_backward<float>(const float*, const std::int32_t*, float*,
                                       const Pool2dGeometry&);
template void max_pool_backward<double>(const double*, const std::int32_t*, double*,
                                        const Pool2dGeometry&);

}  // namespace dlfs::kernels::cpu
