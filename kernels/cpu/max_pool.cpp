#include <algorithm>
#include <cmath>
#include <cstring>

#include "dlfs/kernels/cpu/select.hpp"
#include "dlfs/kernels/max_pool.hpp"

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

// 2x2 windows with stride 2 and no padding (LeNet, VGG): the windows tile the input, and every
// window lies inside it, so the bounds tests and the per-window loops go away.
bool is_2x2_stride_2(const Pool2dGeometry& g) {
  const PoolWindow& w = g.window;
  return w.kernel_h == 2 && w.kernel_w == 2 && w.stride_h == 2 && w.stride_w == 2 && w.pad_h == 0 &&
         w.pad_w == 0 && 2 * g.out_h <= g.in_h && 2 * g.out_w <= g.in_w;
}

// The 2x2 fast path of max_pool_forward. The four candidates are taken in window_argmax's order,
// (0,0) (0,1) (1,0) (1,1), each replacing the best when larger or NaN, so the results (value and
// index) are those of the general path, with selects instead of branches.
template <typename T>
void max_pool_2x2_plane(const T* xp, T* yp, std::int32_t* ap, const Pool2dGeometry& g) {
  const std::int64_t in_w = g.in_w, out_w = g.out_w;
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    const T* top = xp + 2 * oh * in_w;
    const T* bottom = top + in_w;
    T* y = yp + oh * out_w;
    std::int32_t* at = ap + oh * out_w;
    const auto row_start = static_cast<std::int32_t>(2 * oh * in_w);
    const auto next_row = static_cast<std::int32_t>(in_w);
#pragma omp simd
    for (std::int64_t ow = 0; ow < out_w; ++ow) {
      const T a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
      const std::int32_t base = row_start + 2 * static_cast<std::int32_t>(ow);
      T best = a;
      std::int32_t best_at = base;
      bool take = b > best || b != b;
      best = select(take, b, best);
      best_at = select(take, base + 1, best_at);
      take = c > best || c != c;
      best = select(take, c, best);
      best_at = select(take, base + next_row, best_at);
      take = d > best || d != d;
      best = select(take, d, best);
      best_at = select(take, base + next_row + 1, best_at);
      y[ow] = best;
      at[ow] = best_at;
    }
  }
}

// max_pool_2x2_plane without the argmax (inference): the same selects, so the same values, NaN
// included.
template <typename T>
void max_pool_2x2_values_plane(const T* xp, T* yp, const Pool2dGeometry& g) {
  const std::int64_t in_w = g.in_w, out_w = g.out_w;
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    const T* top = xp + 2 * oh * in_w;
    const T* bottom = top + in_w;
    T* y = yp + oh * out_w;
#pragma omp simd
    for (std::int64_t ow = 0; ow < out_w; ++ow) {
      const T a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
      T best = a;
      best = select(b > best || b != b, b, best);
      best = select(c > best || c != c, c, best);
      best = select(d > best || d != d, d, best);
      y[ow] = best;
    }
  }
}

// The 2x2 fast path of max_pool_backward: each input pixel is in at most one window, so it is
// written once (its window's gradient where it held the max, else 0) instead of zero-filled and
// then scattered into. "+ T(0)" keeps the scatter's result bit for bit: 0 + (-0) is +0.
template <typename T>
void max_pool_2x2_backward_plane(const T* dyp, const std::int32_t* ap, T* dxp,
                                 const Pool2dGeometry& g) {
  const std::int64_t in_w = g.in_w, out_w = g.out_w;
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    T* top = dxp + 2 * oh * in_w;
    T* bottom = top + in_w;
    const T* dy = dyp + oh * out_w;
    const std::int32_t* at = ap + oh * out_w;
    const auto row_start = static_cast<std::int32_t>(2 * oh * in_w);
    const auto next_row = static_cast<std::int32_t>(in_w);
#pragma omp simd
    for (std::int64_t ow = 0; ow < out_w; ++ow) {
      const std::int32_t base = row_start + 2 * static_cast<std::int32_t>(ow);
      const T grad = dy[ow];
      top[2 * ow] = select(at[ow] == base, grad, T(0)) + T(0);
      top[2 * ow + 1] = select(at[ow] == base + 1, grad, T(0)) + T(0);
      bottom[2 * ow] = select(at[ow] == base + next_row, grad, T(0)) + T(0);
      bottom[2 * ow + 1] = select(at[ow] == base + next_row + 1, grad, T(0)) + T(0);
    }
    // An odd width leaves a last column no window covers.
    for (std::int64_t w = 2 * out_w; w < in_w; ++w) top[w] = bottom[w] = T(0);
  }
  // An odd height leaves a last row no window covers.
  for (std::int64_t h = 2 * g.out_h; h < g.in_h; ++h)
    std::memset(dxp + h * in_w, 0, sizeof(T) * static_cast<std::size_t>(in_w));
}
}  // namespace

template <typename T>
void max_pool_forward(const T* x, T* y, std::int32_t* argmax, const Pool2dGeometry& g) {
  const PoolWindow& w = g.window;
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const bool fast = is_2x2_stride_2(g);
#pragma omp parallel for if (g.output_numel() > 65536)
  for (std::int64_t p = 0; p < g.planes(); ++p) {
    const T* xp = x + p * in_plane;
    if (fast) {
      if (argmax)
        max_pool_2x2_plane(xp, y + p * out_plane, argmax + p * out_plane, g);
      else
        max_pool_2x2_values_plane(xp, y + p * out_plane, g);
      continue;
    }
    for (std::int64_t oh = 0; oh < g.out_h; ++oh)
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        const std::int64_t at =
            window_argmax(xp, oh * w.stride_h - w.pad_h, ow * w.stride_w - w.pad_w, g);
        const std::int64_t o = p * out_plane + oh * g.out_w + ow;
        y[o] = xp[at];
        if (argmax) argmax[o] = static_cast<std::int32_t>(at);
      }
  }
}

template <typename T>
void max_pool_backward(const T* dy, const std::int32_t* argmax, T* dx, const Pool2dGeometry& g) {
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  // Scatter plane by plane in output order: each input pixel sums its gradients in ascending
  // output order, the order the CUDA gather uses too.
  const bool fast = is_2x2_stride_2(g);
#pragma omp parallel for if (g.input_numel() > 65536)
  for (std::int64_t p = 0; p < g.planes(); ++p) {
    T* dxp = dx + p * in_plane;
    if (fast) {
      max_pool_2x2_backward_plane(dy + p * out_plane, argmax + p * out_plane, dxp, g);
      continue;
    }
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
