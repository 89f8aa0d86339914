#include <algorithm>
#include <cstring>

#include "dlfs/kernels/avg_pool.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void avg_pool_forward(const T* x, T* y, const Pool2dGeometry& g) {
  const PoolWindow& w = g.window;
  const T area = static_cast<T>(w.kernel_h * w.kernel_w);  // padding included
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
#pragma omp parallel for if (g.output_numel() > 65536)
  for (std::int64_t p = 0; p < g.planes(); ++p) {
    const T* xp = x + p * in_plane;
    for (std::int64_t oh = 0; oh < g.out_h; ++oh)
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        const std::int64_t h0 = oh * w.stride_h - w.pad_h, w0 = ow * w.stride_w - w.pad_w;
        const std::int64_t h_end = std::min<std::int64_t>(h0 + w.kernel_h, g.in_h);
        const std::int64_t w_end = std::min<std::int64_t>(w0 + w.kernel_w, g.in_w);
        T sum = 0;
        for (std::int64_t h = std::max<std::int64_t>(h0, 0); h < h_end; ++h)
          for (std::int64_t c = std::max<std::int64_t>(w0, 0); c < w_end; ++c)
            sum += xp[h * g.in_w + c];
        y[p * out_plane + oh * g.out_w + ow] = sum / area;
      }
  }
}

template <typename T>
void avg_pool_backward(const T* dy, T* dx, const Pool2dGeometry& g) {
  const PoolWindow& w = g.window;
  const T area = static_cast<T>(w.kernel_h * w.kernel_w);
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  // Scatter each window's dy plane by plane in output order, then divide once: each pixel sums
  // in ascending output order and divides by the area, exactly as the CUDA gather does.
#pragma omp parallel for if (g.input_numel() > 65536)
  for (std::int64_t p = 0; p < g.planes(); ++p) {
    T* dxp = dx + p * in_plane;
    std::memset(dxp, 0, sizeof(T) * static_cast<std::size_t>(in_plane));
    const T* dyp = dy + p * out_plane;
    for (std::int64_t oh = 0; oh < g.out_h; ++oh)
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        const std::int64_t h0 = oh * w.stride_h - w.pad_h, w0 = ow * w.stride_w - w.pad_w;
        const std::int64_t h_end = std::min<std::int64_t>(h0 + w.kernel_h, g.in_h);
        const std::int64_t w_end = std::min<std::int64_t>(w0 + w.kernel_w, g.in_w);
        const T grad = dyp[oh * g.out_w + ow];
        for (std::int64_t h = std::max<std::int64_t>(h0, 0); h < h_end; ++h)
          for (std::int64_t c = std::max<std::int64_t>(w0, 0); c < w_end; ++c)
            dxp[h * g.in_w + c] += grad;
      }
    for (std::int64_t i = 0; i < in_plane; ++i) dxp[i] /= area;
  }
}

template void avg_pool_forward<float>(const float*, float*, const Pool2dGeometry&);
template void avg_pool_forward<double>(const double*, double*, const Pool2dGeometry&);
template void avg_pool_backward<float>(const float*, float*, const Pool2dGeometry&);
template void avg_pool_backward<double>(const double*, double*, const Pool2dGeometry&);

}  // namespace dlfs::kernels::cpu
