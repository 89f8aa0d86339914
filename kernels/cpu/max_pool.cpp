#include <algorithm>
#include <cmath>
#include <cstring>

#include "dlfs/kernels/cpu/select.hpp"
#include "dlfs/kernels/cpu/simd_clones.hpp"
#include "dlfs/kernels/max_pool.hpp"

namespace dlfs::kernels::cpu {

namespace {

#define DLFS_INLINE inline __attribute__((always_inline))

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

// Of two candidates taken in window_argmax's order, the one it keeps: the later when it is larger
// or NaN. Applied as a tree, (a, b) and (c, d) and then the two winners, this keeps what the
// sequential scan a, b, c, d keeps, value and index: the first of equal maxima (the second pair's
// winner replaces the first's only when strictly larger) and the last NaN (a NaN in the second
// pair wins, else one in the first stays). The tree's two independent halves vectorise better.
template <typename T>
DLFS_INLINE bool later_wins(T earlier, T later) {
  return later > earlier || later != later;
}

// The 2x2 fast path of max_pool_forward, with selects instead of branches.
template <typename T>
DLFS_INLINE void max_pool_2x2_plane(const T* xp, T* yp, std::int32_t* ap, const Pool2dGeometry& g) {
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
      const bool b_wins = later_wins(a, b), d_wins = later_wins(c, d);
      const T upper = select(b_wins, b, a), lower = select(d_wins, d, c);
      const std::int32_t upper_at = base + b_wins, lower_at = base + next_row + d_wins;
      const bool lower_wins = later_wins(upper, lower);
      y[ow] = select(lower_wins, lower, upper);
      at[ow] = select(lower_wins, lower_at, upper_at);
    }
  }
}

// max_pool_2x2_plane without the argmax (inference): the same selects, so the same values, NaN
// included.
template <typename T>
DLFS_INLINE void max_pool_2x2_values_plane(const T* xp, T* yp, const Pool2dGeometry& g) {
  const std::int64_t in_w = g.in_w, out_w = g.out_w;
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    const T* top = xp + 2 * oh * in_w;
    const T* bottom = top + in_w;
    T* y = yp + oh * out_w;
#pragma omp simd
    for (std::int64_t ow = 0; ow < out_w; ++ow) {
      const T a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
      const T upper = select(later_wins(a, b), b, a), lower = select(later_wins(c, d), d, c);
      y[ow] = select(later_wins(upper, lower), lower, upper);
    }
  }
}

// The 2x2 fast path of max_pool_backward: each input pixel is in at most one window, so it is
// written once (its window's gradient where it held the max, else 0) instead of zero-filled and
// then scattered into. "+ T(0)" keeps the scatter's result bit for bit: 0 + (-0) is +0.
template <typename T>
DLFS_INLINE void max_pool_2x2_backward_plane(const T* dyp, const std::int32_t* ap, T* dxp,
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

// The float rows four outputs at a time in GCC's and clang's vector extension (as
// direct_conv2d.cpp does), with no scalar remainder: a row's last four outputs are done as one
// block that overlaps the one before, writing the same values again. LeNet's rows are 14 and 5
// outputs wide, and a compiler's remainder loop (a branch per candidate, for the NaN test) took
// most of the time. Rows under four outputs take the generic loops above. The same compares and
// selects: the same bits.
typedef float Float4 __attribute__((vector_size(16)));
typedef std::int32_t Int4 __attribute__((vector_size(16)));

DLFS_INLINE Float4 load4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
DLFS_INLINE Int4 load4(const std::int32_t* p) {
  Int4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V, typename T>
DLFS_INLINE void store4(T* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

#if defined(__clang__)
#define DLFS_SHUFFLE(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
#define DLFS_SHUFFLE(a, b, i, j, k, l) __builtin_shuffle(a, b, Int4{i, j, k, l})
#endif

// The even and the odd of eight consecutive floats: the left and right pixels of four windows.
DLFS_INLINE void deinterleave(const float* p, Float4& even, Float4& odd) {
  const Float4 low = load4(p), high = load4(p + 4);
  even = DLFS_SHUFFLE(low, high, 0, 2, 4, 6);
  odd = DLFS_SHUFFLE(low, high, 1, 3, 5, 7);
}

// deinterleave's inverse: left, right, left, right ... to eight consecutive floats.
DLFS_INLINE void interleave(float* p, Float4 left, Float4 right) {
  store4(p, DLFS_SHUFFLE(left, right, 0, 4, 1, 5));
  store4(p + 4, DLFS_SHUFFLE(left, right, 2, 6, 3, 7));
}

// later_wins lane by lane, as a mask: all ones where the later candidate wins.
DLFS_INLINE Int4 later_wins4(Float4 earlier, Float4 later) {
  return (later > earlier) | (later != later);
}

DLFS_INLINE Float4 select4(Int4 mask, Float4 a, Float4 b) {
  return select_bits(mask, a, b);
}

// Outputs [ow, ow + 4) of one row of max_pool_2x2_plane; `at` may be null (inference).
DLFS_INLINE void pool_2x2_block(const float* top, const float* bottom, float* y, std::int32_t* at,
                                std::int64_t ow, std::int32_t row_start, std::int32_t next_row) {
  Float4 a, b, c, d;
  deinterleave(top + 2 * ow, a, b);
  deinterleave(bottom + 2 * ow, c, d);
  const Int4 b_wins = later_wins4(a, b), d_wins = later_wins4(c, d);
  const Float4 upper = select4(b_wins, b, a), lower = select4(d_wins, d, c);
  const Int4 lower_wins = later_wins4(upper, lower);
  store4(y + ow, select4(lower_wins, lower, upper));
  if (!at) return;
  const std::int32_t first = row_start + 2 * static_cast<std::int32_t>(ow);
  const Int4 base = Int4{first, first + 2, first + 4, first + 6};
  // A mask is -1 where it holds: subtracting it adds one.
  const Int4 upper_at = base - b_wins, lower_at = base + next_row - d_wins;
  store4(at + ow, (lower_at & lower_wins) | (upper_at & ~lower_wins));
}

// Outputs [ow, ow + 4) of one row of max_pool_2x2_backward_plane.
DLFS_INLINE void pool_2x2_backward_block(const float* dy, const std::int32_t* at, float* top,
                                         float* bottom, std::int64_t ow, std::int32_t row_start,
                                         std::int32_t next_row) {
  const Float4 grad = load4(dy + ow), zero = {};
  const Int4 where = load4(at + ow);
  const std::int32_t first = row_start + 2 * static_cast<std::int32_t>(ow);
  const Int4 base = Int4{first, first + 2, first + 4, first + 6};
  interleave(top + 2 * ow, select4(where == base, grad, zero) + zero,
             select4(where == base + 1, grad, zero) + zero);
  interleave(bottom + 2 * ow, select4(where == base + next_row, grad, zero) + zero,
             select4(where == base + next_row + 1, grad, zero) + zero);
}

// Calls block(ow) for ow = 0, 4, 8 ... and once more for the last four outputs of the row when
// its width is not a multiple of four. Needs out_w >= 4.
template <typename Block>
DLFS_INLINE void over_row_in_fours(std::int64_t out_w, Block&& block) {
  std::int64_t ow = 0;
  for (; ow + 4 <= out_w; ow += 4) block(ow);
  if (ow < out_w) block(out_w - 4);
}

DLFS_INLINE void max_pool_2x2_plane_float(const float* xp, float* yp, std::int32_t* ap,
                                          const Pool2dGeometry& g) {
  const std::int64_t in_w = g.in_w, out_w = g.out_w;
  if (out_w < 4) {
    if (ap)
      max_pool_2x2_plane(xp, yp, ap, g);
    else
      max_pool_2x2_values_plane(xp, yp, g);
    return;
  }
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    const float* top = xp + 2 * oh * in_w;
    const auto row_start = static_cast<std::int32_t>(2 * oh * in_w);
    std::int32_t* at = ap ? ap + oh * out_w : nullptr;
    over_row_in_fours(out_w, [&](std::int64_t ow) {
      pool_2x2_block(top, top + in_w, yp + oh * out_w, at, ow, row_start,
                     static_cast<std::int32_t>(in_w));
    });
  }
}

DLFS_INLINE void max_pool_2x2_backward_plane_float(const float* dyp, const std::int32_t* ap,
                                                   float* dxp, const Pool2dGeometry& g) {
  const std::int64_t in_w = g.in_w, out_w = g.out_w;
  if (out_w < 4) {
    max_pool_2x2_backward_plane(dyp, ap, dxp, g);
    return;
  }
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    float* top = dxp + 2 * oh * in_w;
    const auto row_start = static_cast<std::int32_t>(2 * oh * in_w);
    over_row_in_fours(out_w, [&](std::int64_t ow) {
      pool_2x2_backward_block(dyp + oh * out_w, ap + oh * out_w, top, top + in_w, ow, row_start,
                              static_cast<std::int32_t>(in_w));
    });
    for (std::int64_t w = 2 * out_w; w < in_w; ++w) top[w] = top[in_w + w] = 0.0f;
  }
  for (std::int64_t h = 2 * g.out_h; h < g.in_h; ++h)
    std::memset(dxp + h * in_w, 0, sizeof(float) * static_cast<std::size_t>(in_w));
}

// Planes [first, last) of the 2x2 fast path; argmax may be null (inference).
template <typename T>
DLFS_INLINE void max_pool_2x2_planes(const T* x, T* y, std::int32_t* argmax,
                                     const Pool2dGeometry& g, std::int64_t first,
                                     std::int64_t last) {
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for (std::int64_t p = first; p < last; ++p) {
    if (argmax)
      max_pool_2x2_plane(x + p * in_plane, y + p * out_plane, argmax + p * out_plane, g);
    else
      max_pool_2x2_values_plane(x + p * in_plane, y + p * out_plane, g);
  }
}

template <typename T>
DLFS_INLINE void max_pool_2x2_backward_planes(const T* dy, const std::int32_t* argmax, T* dx,
                                              const Pool2dGeometry& g, std::int64_t first,
                                              std::int64_t last) {
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for (std::int64_t p = first; p < last; ++p)
    max_pool_2x2_backward_plane(dy + p * out_plane, argmax + p * out_plane, dx + p * in_plane, g);
}

// The float planes, compiled for AVX-512, AVX2 and SSE2 (simd_clones.hpp): compares and selects
// only, so every clone gives the same bits. The vectors stay four wide, but the AVX encodings
// (three operands, no copies between registers) took 10-25% off LeNet's pools in a standalone
// loop against the SSE2 build.
DLFS_SIMD_CLONES void planes_2x2(const float* x, float* y, std::int32_t* argmax,
                                 const Pool2dGeometry& g, std::int64_t first, std::int64_t last) {
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for (std::int64_t p = first; p < last; ++p)
    max_pool_2x2_plane_float(x + p * in_plane, y + p * out_plane,
                             argmax ? argmax + p * out_plane : nullptr, g);
}
DLFS_SIMD_CLONES void backward_planes_2x2(const float* dy, const std::int32_t* argmax, float* dx,
                                          const Pool2dGeometry& g, std::int64_t first,
                                          std::int64_t last) {
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for (std::int64_t p = first; p < last; ++p)
    max_pool_2x2_backward_plane_float(dy + p * out_plane, argmax + p * out_plane, dx + p * in_plane,
                                      g);
}
void planes_2x2(const double* x, double* y, std::int32_t* argmax, const Pool2dGeometry& g,
                std::int64_t first, std::int64_t last) {
  max_pool_2x2_planes(x, y, argmax, g, first, last);
}
void backward_planes_2x2(const double* dy, const std::int32_t* argmax, double* dx,
                         const Pool2dGeometry& g, std::int64_t first, std::int64_t last) {
  max_pool_2x2_backward_planes(dy, argmax, dx, g, first, last);
}

// fn(first, last) over every plane: one call on this thread for small tensors (a convolution
// pools image by image, and even a one-thread OpenMP region costs as much as pooling a LeNet
// image), else one call per plane on the OpenMP threads.
template <typename Fn>
void over_planes(std::int64_t planes, bool parallel, Fn&& fn) {
  if (!parallel) {
    fn(std::int64_t{0}, planes);
    return;
  }
#pragma omp parallel for
  for (std::int64_t p = 0; p < planes; ++p) fn(p, p + 1);
}
}  // namespace

template <typename T>
void max_pool_forward(const T* x, T* y, std::int32_t* argmax, const Pool2dGeometry& g) {
  const PoolWindow& w = g.window;
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const bool fast = is_2x2_stride_2(g);
  over_planes(g.planes(), g.output_numel() > 65536, [&](std::int64_t first, std::int64_t last) {
    if (fast) {
      planes_2x2(x, y, argmax, g, first, last);
      return;
    }
    for (std::int64_t p = first; p < last; ++p) {
      const T* xp = x + p * in_plane;
      for (std::int64_t oh = 0; oh < g.out_h; ++oh)
        for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
          const std::int64_t at =
              window_argmax(xp, oh * w.stride_h - w.pad_h, ow * w.stride_w - w.pad_w, g);
          const std::int64_t o = p * out_plane + oh * g.out_w + ow;
          y[o] = xp[at];
          if (argmax) argmax[o] = static_cast<std::int32_t>(at);
        }
    }
  });
}

template <typename T>
void max_pool_backward(const T* dy, const std::int32_t* argmax, T* dx, const Pool2dGeometry& g) {
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  // Scatter plane by plane in output order: each input pixel sums its gradients in ascending
  // output order, the order the CUDA gather uses too.
  const bool fast = is_2x2_stride_2(g);
  over_planes(g.planes(), g.input_numel() > 65536, [&](std::int64_t first, std::int64_t last) {
    if (fast) {
      backward_planes_2x2(dy, argmax, dx, g, first, last);
      return;
    }
    for (std::int64_t p = first; p < last; ++p) {
      T* dxp = dx + p * in_plane;
      std::memset(dxp, 0, sizeof(T) * static_cast<std::size_t>(in_plane));
      const T* dyp = dy + p * out_plane;
      const std::int32_t* ap = argmax + p * out_plane;
      for (std::int64_t o = 0; o < out_plane; ++o) dxp[ap[o]] += dyp[o];
    }
  });
}

template void max_pool_forward<float>(const float*, float*, std::int32_t*, const Pool2dGeometry&);
template void max_pool_forward<double>(const double*, double*, std::int32_t*,
                                       const Pool2dGeometry&);
template void max_pool_backward<float>(const float*, const std::int32_t*, float*,
                                       const Pool2dGeometry&);
template void max_pool_backward<double>(const double*, const std::int32_t*, double*,
                                        const Pool2dGeometry&);

}  // namespace dlfs::kernels::cpu
