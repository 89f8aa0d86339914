#include "dlfs/kernels/cpu/direct_conv2d.hpp"

#include <algorithm>
#include <cstring>

#include "dlfs/kernels/cpu/simd_clones.hpp"

namespace dlfs::kernels::cpu {

namespace {

// Eight floats as one value (GCC's and clang's vector extension): each clone of
// DLFS_SIMD_CLONES compiles it to the widest registers its ISA has for that width.
typedef float Float8 __attribute__((vector_size(32)));
constexpr std::int64_t kLanes = 8;
constexpr int kBlockVectors = 4;  // a row is done 32 columns at a time, 4 accumulators
constexpr std::int64_t kBlock = kLanes * kBlockVectors;

#define DLFS_INLINE inline __attribute__((always_inline))

// Copies n <= 8 floats. A memcpy of a size known only at run time is a call into libc, which
// per row and channel cost more than the row's arithmetic; this stays inline.
DLFS_INLINE void copy_up_to_8(float* to, const float* from, std::int64_t n) {
  if (n == kLanes) {
    std::memcpy(to, from, sizeof(float) * kLanes);
    return;
  }
#pragma GCC unroll 8
  for (int lane = 0; lane < kLanes; ++lane)
    if (lane < n) to[lane] = from[lane];
}

// The zero-padded image in scratch: `rows` rows (OH + kh - 1, padding included) of `stride`
// floats, wide enough that every 32-column block of every output row reads inside it.
struct PaddedImage {
  std::int64_t rows, stride, blocks;
};

PaddedImage padded_layout(const ConvGeometry& g) {
  PaddedImage p;
  p.blocks = (g.out_w + kBlock - 1) / kBlock;
  p.rows = g.out_h + g.window.kernel_h - 1;
  const std::int64_t width = p.blocks * kBlock + g.window.kernel_w - 1;
  p.stride = (width + kLanes - 1) / kLanes * kLanes;
  return p;
}

// Columns of the last block of a row, 1 to 32.
std::int64_t last_block_columns(const ConvGeometry& g, const PaddedImage& p) {
  return g.out_w - (p.blocks - 1) * kBlock;
}

// With stride 1 the padded image is exactly H + 2 ph rows of W + 2 pw columns (then zeros to
// the stride), so x lands whole inside it.
void pad_image(const ConvGeometry& g, const PaddedImage& p, const float* x, float* padded) {
  std::fill(padded, padded + p.rows * p.stride, 0.0f);
  for (std::int64_t r = 0; r < g.height; ++r)
    std::memcpy(padded + (r + g.window.pad_h) * p.stride + g.window.pad_w, x + r * g.width,
                sizeof(float) * static_cast<std::size_t>(g.width));
}

// What every tile of one image's forward shares.
struct ForwardLayer {
  const float* weight;  // [O, 1, kh, kw]
  const float* bias;    // [O], or null
  std::int64_t out_channels, kernel_h, kernel_w;
  std::int64_t stride;  // of the padded image's rows
  std::int64_t map;     // OH * OW: from one output channel to the next
};

// Output columns [0, count) of one 8*V-column block of one output row, for G output channels
// [o, o + G) at once (their G*V sums are independent, so the adds overlap instead of waiting on
// each other, and each input vector loaded serves G channels). Each sum starts from the
// channel's bias (or 0) and adds the taps in row-major order.
template <int V, int G>
DLFS_INLINE void forward_tile(const ForwardLayer& layer, const float* padded, std::int64_t o,
                              float* out, std::int64_t count) {
  const std::int64_t taps = layer.kernel_h * layer.kernel_w;
  const float* w = layer.weight + o * taps;
  // Fully unrolled loops over g and v keep the accumulators in registers (GCC leaves arrays it
  // cannot scalarise on the stack).
  Float8 acc[G][V];
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) {
    const float start = layer.bias ? layer.bias[o + g] : 0.0f;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[g][v] = Float8{} + start;
  }
  for (std::int64_t ky = 0; ky < layer.kernel_h; ++ky) {
    const float* row = padded + ky * layer.stride;
    for (std::int64_t kx = 0; kx < layer.kernel_w; ++kx) {
      Float8 in[V];  // unaligned loads
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) std::memcpy(&in[v], row + kx + v * kLanes, sizeof in[v]);
#pragma GCC unroll 16
      for (int g = 0; g < G; ++g) {
        const float tap = w[g * taps + ky * layer.kernel_w + kx];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[g][v] += tap * in[v];
      }
    }
  }
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const std::int64_t first = v * kLanes;
      if (first >= count) break;
      float sums[kLanes];
      std::memcpy(sums, &acc[g][v], sizeof sums);
      copy_up_to_8(out + (o + g) * layer.map + first, sums, std::min(kLanes, count - first));
    }
  }
}

// Channels per tile: as many as keep G*V accumulators, V inputs, the broadcast tap and a product
// within AVX2's 16 vector registers (one more, and GCC spills an accumulator to the stack).
template <int V>
constexpr int kChannelsPerTile = 11 / V;

// One block of one output row for every output channel: whole tiles, then single channels.
template <int V>
DLFS_INLINE void forward_block(const ForwardLayer& layer, const float* padded, float* out,
                               std::int64_t count) {
  constexpr int kTile = kChannelsPerTile<V>;
  std::int64_t o = 0;
  for (; o + kTile <= layer.out_channels; o += kTile)
    forward_tile<V, kTile>(layer, padded, o, out, count);
  for (; o < layer.out_channels; ++o) forward_tile<V, 1>(layer, padded, o, out, count);
}

// dW[o, ky, kx0 .. kx0 + G) (+)= sum over the output map of dy * the input shifted by the tap:
// G sums at once, each input row loaded once for G taps. Each lane sums its column of every
// 8-column vector, vectors in order and rows in order within each; then the lanes in order.
template <int G>
DLFS_INLINE void weight_grad_taps(const float* dy_rows, std::int64_t dy_stride,
                                  std::int64_t vectors, const float* padded, std::int64_t stride,
                                  std::int64_t out_h, float* out, bool accumulate) {
  Float8 acc[G];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) acc[g] = Float8{};
  for (std::int64_t v = 0; v < vectors; ++v) {
    for (std::int64_t i = 0; i < out_h; ++i) {
      Float8 d;
      std::memcpy(&d, dy_rows + i * dy_stride + v * kLanes, sizeof d);
      const float* x = padded + i * stride + v * kLanes;
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        Float8 in;
        std::memcpy(&in, x + g, sizeof in);
        acc[g] += d * in;
      }
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    float total = 0.0f;
    for (int lane = 0; lane < kLanes; ++lane) total += acc[g][lane];
    out[g] = accumulate ? out[g] + total : total;
  }
}

}  // namespace

std::int64_t direct_conv2d_scratch_elements(const ConvGeometry& g) {
  const PaddedImage p = padded_layout(g);
  return p.rows * p.stride + g.out_h * p.blocks * kBlock;
}

DLFS_SIMD_CLONES void direct_conv2d_forward_image(const ConvGeometry& g, std::int64_t out_channels,
                                                  const float* x, const float* w, const float* bias,
                                                  float* y, float* scratch) {
  const PaddedImage p = padded_layout(g);
  pad_image(g, p, x, scratch);
  const ForwardLayer layer{
      w, bias, out_channels, g.window.kernel_h, g.window.kernel_w, p.stride, g.out_h * g.out_w};
  const std::int64_t last = last_block_columns(g, p);
  const std::int64_t last_vectors = (last + kLanes - 1) / kLanes;
  for (std::int64_t i = 0; i < g.out_h; ++i) {
    const float* rows = scratch + i * p.stride;
    float* out = y + i * g.out_w;
    for (std::int64_t b = 0; b + 1 < p.blocks; ++b)
      forward_block<kBlockVectors>(layer, rows + b * kBlock, out + b * kBlock, kBlock);
    const std::int64_t b = p.blocks - 1;
    const float* in = rows + b * kBlock;
    switch (last_vectors) {
      case 1:
        forward_block<1>(layer, in, out + b * kBlock, last);
        break;
      case 2:
        forward_block<2>(layer, in, out + b * kBlock, last);
        break;
      case 3:
        forward_block<3>(layer, in, out + b * kBlock, last);
        break;
      default:
        forward_block<4>(layer, in, out + b * kBlock, last);
        break;
    }
  }
}

DLFS_SIMD_CLONES void direct_conv2d_weight_grad_image(const ConvGeometry& g,
                                                      std::int64_t out_channels, const float* x,
                                                      const float* dy, float* dw, bool accumulate,
                                                      float* scratch) {
  const PaddedImage p = padded_layout(g);
  pad_image(g, p, x, scratch);
  // One output map at a time, its rows padded with zeros to whole blocks, so that the columns
  // past OW add nothing.
  float* dy_rows = scratch + p.rows * p.stride;
  const std::int64_t dy_stride = p.blocks * kBlock;
  const std::int64_t vectors = (g.out_w + kLanes - 1) / kLanes;
  const std::int64_t kh = g.window.kernel_h, kw = g.window.kernel_w;
  for (std::int64_t o = 0; o < out_channels; ++o) {
    for (std::int64_t i = 0; i < g.out_h; ++i) {
      float* row = dy_rows + i * dy_stride;
      const float* from = dy + (o * g.out_h + i) * g.out_w;
      for (std::int64_t first = 0; first < dy_stride; first += kLanes) {
        std::memset(row + first, 0, sizeof(float) * kLanes);
        if (first < g.out_w)
          copy_up_to_8(row + first, from + first, std::min(kLanes, g.out_w - first));
      }
    }
    for (std::int64_t ky = 0; ky < kh; ++ky) {
      const float* in = scratch + ky * p.stride;
      float* out = dw + (o * kh + ky) * kw;
      // Passes of 5 taps, then of 3, then single taps: 3x3 and 5x5 kernels take one pass a row.
      std::int64_t kx = 0;
      for (; kx + 5 <= kw; kx += 5)
        weight_grad_taps<5>(dy_rows, dy_stride, vectors, in + kx, p.stride, g.out_h, out + kx,
                            accumulate);
      for (; kx + 3 <= kw; kx += 3)
        weight_grad_taps<3>(dy_rows, dy_stride, vectors, in + kx, p.stride, g.out_h, out + kx,
                            accumulate);
      for (; kx < kw; ++kx)
        weight_grad_taps<1>(dy_rows, dy_stride, vectors, in + kx, p.stride, g.out_h, out + kx,
                            accumulate);
    }
  }
}

}  // namespace dlfs::kernels::cpu
