#include "dlfs/kernels/cpu/direct_conv2d.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

// On CPUs with AVX-512 the kernels below also run two output channels per 16-float register:
// lanes 0-7 one channel's 8 columns, lanes 8-15 the next channel's same 8 columns. Each lane
// then does exactly what a lane of the 8-float kernels does for its channel and column, the same
// multiplies and adds in the same order (this file is compiled without contraction, so neither
// width fuses them), so the results are the same bits, in half the instructions.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define DLFS_DIRECT_WIDE 1
#define DLFS_AVX512 __attribute__((target("avx512f")))
typedef float Float16 __attribute__((vector_size(64)));
constexpr std::int64_t kPairLanes = 2 * kLanes;

// [x[0..8) | x[0..8)]: one row's 8 columns for both channels of a pair, in one load (a
// broadcast of four doubles' bits; a shuffle after an 8-float load costs one more instruction).
DLFS_AVX512 DLFS_INLINE Float16 load_8_twice(const float* x) {
  // The zero-masking form: GCC 12's plain one warns of an uninitialised operand it never reads.
  return reinterpret_cast<Float16>(
      _mm512_maskz_broadcast_f64x4(0xFF, _mm256_loadu_pd(reinterpret_cast<const double*>(x))));
}

// v, held in a register from here on: the compiler otherwise reloads a value used several times
// from memory at each use, and loads, not arithmetic, then limit the tiles.
DLFS_AVX512 DLFS_INLINE Float16 in_register(Float16 v) {
  asm("" : "+v"(v));
  return v;
}

DLFS_AVX512 DLFS_INLINE Float16 load_16(const float* x) {
  Float16 v;
  std::memcpy(&v, x, sizeof v);
  return v;
}

// The first n <= 8 lanes of v to `to`.
DLFS_AVX512 DLFS_INLINE void store_up_to_8(float* to, Float8 v, std::int64_t n) {
  if (n == kLanes) {
    std::memcpy(to, &v, sizeof v);
    return;
  }
#pragma GCC unroll 8
  for (int lane = 0; lane < kLanes; ++lane)
    if (lane < n) to[lane] = v[lane];
}

// [a x 8 | b x 8].
DLFS_AVX512 DLFS_INLINE Float16 pair_of(float a, float b) {
  Float16 v;
#pragma GCC unroll 8
  for (int lane = 0; lane < kLanes; ++lane) {
    v[lane] = a;
    v[lane + kLanes] = b;
  }
  return v;
}
#else
#define DLFS_DIRECT_WIDE 0
#endif

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

#if DLFS_DIRECT_WIDE
// The pair tiles' taps, [pair][tap] -> [w[2 pair, tap] x 8 | w[2 pair + 1, tap] x 8]: one load
// per tap and pair in the tiles' inner loop.
DLFS_AVX512 void fill_pair_taps(const ForwardLayer& layer, float* table) {
  const std::int64_t taps = layer.kernel_h * layer.kernel_w;
  for (std::int64_t pair = 0; pair < layer.out_channels / 2; ++pair)
    for (std::int64_t t = 0; t < taps; ++t) {
      const Float16 v =
          pair_of(layer.weight[2 * pair * taps + t], layer.weight[(2 * pair + 1) * taps + t]);
      std::memcpy(table + (pair * taps + t) * kPairLanes, &v, sizeof v);
    }
}

// forward_tile for the P channel pairs [pair, pair + P): channels 2 pair to 2 (pair + P) - 1.
template <int V, int P>
DLFS_AVX512 DLFS_INLINE void forward_pair_tile(const ForwardLayer& layer, const float* pair_taps,
                                               const float* padded, std::int64_t pair, float* out,
                                               std::int64_t count) {
  const std::int64_t taps = layer.kernel_h * layer.kernel_w;
  const float* table = pair_taps + pair * taps * kPairLanes;
  Float16 acc[P][V];
#pragma GCC unroll 32
  for (int q = 0; q < P; ++q) {
    const std::int64_t o = 2 * (pair + q);
    const Float16 start = layer.bias ? pair_of(layer.bias[o], layer.bias[o + 1]) : Float16{};
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[q][v] = Float16{} + start;
  }
  for (std::int64_t ky = 0; ky < layer.kernel_h; ++ky) {
    const float* row = padded + ky * layer.stride;
    for (std::int64_t kx = 0; kx < layer.kernel_w; ++kx) {
      Float16 in[V];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) in[v] = load_8_twice(row + kx + v * kLanes);
      const float* tap = table + (ky * layer.kernel_w + kx) * kPairLanes;
#pragma GCC unroll 32
      for (int q = 0; q < P; ++q) {
        const Float16 w = in_register(load_16(tap + q * taps * kPairLanes));
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[q][v] += w * in[v];
      }
    }
  }
#pragma GCC unroll 32
  for (int q = 0; q < P; ++q) {
    const std::int64_t o = 2 * (pair + q);
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const std::int64_t first = v * kLanes;
      if (first >= count) break;
      // Halves by shuffles, not a copy through memory: an accumulator whose address is taken
      // keeps the whole array on the stack, spilled in the inner loop.
      const Float16 sums = acc[q][v];
      const Float8 low = __builtin_shufflevector(sums, sums, 0, 1, 2, 3, 4, 5, 6, 7);
      const Float8 high = __builtin_shufflevector(sums, sums, 8, 9, 10, 11, 12, 13, 14, 15);
      const std::int64_t n = std::min(kLanes, count - first);
      store_up_to_8(out + o * layer.map + first, low, n);
      store_up_to_8(out + (o + 1) * layer.map + first, high, n);
    }
  }
}

// Pairs per tile: P*V accumulators, V inputs and the P taps within AVX-512's 32 registers, so
// that each tap is loaded once per step, not once per use.
template <int V>
constexpr int kPairsPerTile = (30 - V) / (V + 1);

// The last `left` (< kPairsPerTile) pairs in one tile of their own.
template <int V, int P>
DLFS_AVX512 DLFS_INLINE void forward_pairs_left(const ForwardLayer& layer, const float* pair_taps,
                                                const float* padded, std::int64_t pair,
                                                std::int64_t left, float* out, std::int64_t count) {
  if constexpr (P > 0) {
    if (left == P)
      forward_pair_tile<V, P>(layer, pair_taps, padded, pair, out, count);
    else
      forward_pairs_left<V, P - 1>(layer, pair_taps, padded, pair, left, out, count);
  }
}

// forward_block for every channel: pairs of channels, then an odd last one on 8 lanes.
template <int V>
DLFS_AVX512 DLFS_INLINE void forward_block_wide(const ForwardLayer& layer, const float* pair_taps,
                                                const float* padded, float* out,
                                                std::int64_t count) {
  constexpr int kTile = kPairsPerTile<V>;
  const std::int64_t pairs = layer.out_channels / 2;
  std::int64_t pair = 0;
  for (; pair + kTile <= pairs; pair += kTile)
    forward_pair_tile<V, kTile>(layer, pair_taps, padded, pair, out, count);
  forward_pairs_left<V, kTile - 1>(layer, pair_taps, padded, pair, pairs - pair, out, count);
  if (layer.out_channels % 2) forward_tile<V, 1>(layer, padded, layer.out_channels - 1, out, count);
}
#endif

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

#if DLFS_DIRECT_WIDE
// weight_grad_taps for the channels o and o + 1 at once: lanes 0-7 of each accumulator sum what
// the 8-lane kernel's lanes sum for channel o, lanes 8-15 for o + 1, in the same order. dy_pairs
// holds both maps, [row][vector] -> [o's 8 columns | o + 1's 8 columns].
template <int G>
DLFS_AVX512 DLFS_INLINE void weight_grad_pair_taps(const float* dy_pairs, std::int64_t vectors,
                                                   const float* padded, std::int64_t stride,
                                                   std::int64_t out_h, float* out_a, float* out_b,
                                                   bool accumulate) {
  Float16 acc[G];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) acc[g] = Float16{};
  for (std::int64_t v = 0; v < vectors; ++v) {
    for (std::int64_t i = 0; i < out_h; ++i) {
      const Float16 d = in_register(load_16(dy_pairs + (i * vectors + v) * kPairLanes));
      const float* x = padded + i * stride + v * kLanes;
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) acc[g] += d * load_8_twice(x + g);
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    float total_a = 0.0f, total_b = 0.0f;
    for (int lane = 0; lane < kLanes; ++lane) {
      total_a += acc[g][lane];
      total_b += acc[g][lane + kLanes];
    }
    out_a[g] = accumulate ? out_a[g] + total_a : total_a;
    out_b[g] = accumulate ? out_b[g] + total_b : total_b;
  }
}
#endif

// Copies the rows of one output map (dy + o's map) into `rows` of `row_floats` floats each,
// zero-padded past OW, `pitch` floats apart (8 from one 8-float vector to the next within a row
// of one map; 16 where two maps' vectors alternate).
DLFS_INLINE void copy_map_rows(const ConvGeometry& g, const float* map, float* rows,
                               std::int64_t row_floats, std::int64_t pitch) {
  for (std::int64_t i = 0; i < g.out_h; ++i) {
    float* row = rows + i * row_floats;
    const float* from = map + i * g.out_w;
    for (std::int64_t vector = 0; vector < row_floats / pitch; ++vector) {
      float* to = row + vector * pitch;
      const std::int64_t first = vector * kLanes;  // its first column
      std::memset(to, 0, sizeof(float) * kLanes);
      if (first < g.out_w) copy_up_to_8(to, from + first, std::min(kLanes, g.out_w - first));
    }
  }
}

// The weight gradient of one output channel o on 8 lanes: its map's rows padded with zeros to
// whole blocks (the columns past OW add nothing), then every tap.
DLFS_INLINE void weight_grad_channel(const ConvGeometry& g, const PaddedImage& p,
                                     const float* padded, const float* dy, std::int64_t o,
                                     float* dw, bool accumulate, float* dy_rows) {
  const std::int64_t dy_stride = p.blocks * kBlock;
  const std::int64_t vectors = (g.out_w + kLanes - 1) / kLanes;
  const std::int64_t kh = g.window.kernel_h, kw = g.window.kernel_w;
  copy_map_rows(g, dy + o * g.out_h * g.out_w, dy_rows, dy_stride, kLanes);
  for (std::int64_t ky = 0; ky < kh; ++ky) {
    const float* in = padded + ky * p.stride;
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

// One image's forward: every row's 32-column blocks, the last one partial, each by
// `blocks.run<V>` for its V vectors.
template <typename Blocks>
DLFS_INLINE void forward_rows(const ConvGeometry& g, const PaddedImage& p, const float* padded,
                              float* y, const Blocks& blocks) {
  const std::int64_t last = last_block_columns(g, p);
  const std::int64_t last_vectors = (last + kLanes - 1) / kLanes;
  for (std::int64_t i = 0; i < g.out_h; ++i) {
    const float* rows = padded + i * p.stride;
    float* out = y + i * g.out_w;
    for (std::int64_t b = 0; b + 1 < p.blocks; ++b)
      blocks.template run<kBlockVectors>(rows + b * kBlock, out + b * kBlock, kBlock);
    const std::int64_t b = p.blocks - 1;
    const float* in = rows + b * kBlock;
    switch (last_vectors) {
      case 1:
        blocks.template run<1>(in, out + b * kBlock, last);
        break;
      case 2:
        blocks.template run<2>(in, out + b * kBlock, last);
        break;
      case 3:
        blocks.template run<3>(in, out + b * kBlock, last);
        break;
      default:
        blocks.template run<4>(in, out + b * kBlock, last);
        break;
    }
  }
}

struct EightLaneBlocks {
  const ForwardLayer& layer;
  template <int V>
  DLFS_INLINE void run(const float* in, float* out, std::int64_t count) const {
    forward_block<V>(layer, in, out, count);
  }
};

DLFS_SIMD_CLONES void forward_image_8_lanes(const ConvGeometry& g, std::int64_t out_channels,
                                            const float* x, const float* w, const float* bias,
                                            float* y, float* scratch) {
  const PaddedImage p = padded_layout(g);
  pad_image(g, p, x, scratch);
  const ForwardLayer layer{
      w, bias, out_channels, g.window.kernel_h, g.window.kernel_w, p.stride, g.out_h * g.out_w};
  forward_rows(g, p, scratch, y, EightLaneBlocks{layer});
}

DLFS_SIMD_CLONES void weight_grad_image_8_lanes(const ConvGeometry& g, std::int64_t out_channels,
                                                const float* x, const float* dy, float* dw,
                                                bool accumulate, float* scratch) {
  const PaddedImage p = padded_layout(g);
  pad_image(g, p, x, scratch);
  for (std::int64_t o = 0; o < out_channels; ++o)
    weight_grad_channel(g, p, scratch, dy, o, dw, accumulate, scratch + p.rows * p.stride);
}

#if DLFS_DIRECT_WIDE
// Its run is an AVX-512 function that forward_rows, compiled for any CPU, calls (and the compiler
// may inline it once forward_rows is inside forward_image_wide).
struct WideBlocks {
  const ForwardLayer& layer;
  const float* pair_taps;
  template <int V>
  DLFS_AVX512 void run(const float* in, float* out, std::int64_t count) const {
    forward_block_wide<V>(layer, pair_taps, in, out, count);
  }
};

DLFS_AVX512 void forward_image_wide(const ConvGeometry& g, std::int64_t out_channels,
                                    const float* x, const float* w, const float* bias, float* y,
                                    float* scratch) {
  const PaddedImage p = padded_layout(g);
  pad_image(g, p, x, scratch);
  const ForwardLayer layer{
      w, bias, out_channels, g.window.kernel_h, g.window.kernel_w, p.stride, g.out_h * g.out_w};
  float* pair_taps = scratch + p.rows * p.stride;
  fill_pair_taps(layer, pair_taps);
  forward_rows(g, p, scratch, y, WideBlocks{layer, pair_taps});
}

DLFS_AVX512 void weight_grad_image_wide(const ConvGeometry& g, std::int64_t out_channels,
                                        const float* x, const float* dy, float* dw, bool accumulate,
                                        float* scratch) {
  const PaddedImage p = padded_layout(g);
  pad_image(g, p, x, scratch);
  float* dy_pairs = scratch + p.rows * p.stride;
  const std::int64_t vectors = (g.out_w + kLanes - 1) / kLanes;
  const std::int64_t row_floats = vectors * kPairLanes;
  const std::int64_t kh = g.window.kernel_h, kw = g.window.kernel_w, map = g.out_h * g.out_w;
  for (std::int64_t o = 0; o + 1 < out_channels; o += 2) {
    copy_map_rows(g, dy + o * map, dy_pairs, row_floats, kPairLanes);
    copy_map_rows(g, dy + (o + 1) * map, dy_pairs + kLanes, row_floats, kPairLanes);
    for (std::int64_t ky = 0; ky < kh; ++ky) {
      const float* in = scratch + ky * p.stride;
      float* out_a = dw + (o * kh + ky) * kw;
      float* out_b = dw + ((o + 1) * kh + ky) * kw;
      std::int64_t kx = 0;
      for (; kx + 5 <= kw; kx += 5)
        weight_grad_pair_taps<5>(dy_pairs, vectors, in + kx, p.stride, g.out_h, out_a + kx,
                                 out_b + kx, accumulate);
      for (; kx + 3 <= kw; kx += 3)
        weight_grad_pair_taps<3>(dy_pairs, vectors, in + kx, p.stride, g.out_h, out_a + kx,
                                 out_b + kx, accumulate);
      for (; kx < kw; ++kx)
        weight_grad_pair_taps<1>(dy_pairs, vectors, in + kx, p.stride, g.out_h, out_a + kx,
                                 out_b + kx, accumulate);
    }
  }
  if (out_channels % 2)
    weight_grad_channel(g, p, scratch, dy, out_channels - 1, dw, accumulate, dy_pairs);
}
#endif

bool use_wide(DirectWidth width, std::int64_t out_channels) {
  return width == DirectWidth::Widest && out_channels >= 2 && direct_conv2d_has_wide_kernels();
}

}  // namespace

bool direct_conv2d_has_wide_kernels() {
#if DLFS_DIRECT_WIDE
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512;
#else
  return false;
#endif
}

std::int64_t direct_conv2d_scratch_elements(const ConvGeometry& g, std::int64_t out_channels) {
  const PaddedImage p = padded_layout(g);
  const std::int64_t one_map = g.out_h * p.blocks * kBlock;
  const std::int64_t pair_taps =
      out_channels / 2 * g.window.kernel_h * g.window.kernel_w * (2 * kLanes);
  const std::int64_t pair_maps = g.out_h * ((g.out_w + kLanes - 1) / kLanes) * (2 * kLanes);
  return p.rows * p.stride + std::max({one_map, pair_taps, pair_maps});
}

void direct_conv2d_forward_image(const ConvGeometry& g, std::int64_t out_channels, const float* x,
                                 const float* w, const float* bias, float* y, float* scratch,
                                 DirectWidth width) {
#if DLFS_DIRECT_WIDE
  if (use_wide(width, out_channels))
    return forward_image_wide(g, out_channels, x, w, bias, y, scratch);
#endif
  forward_image_8_lanes(g, out_channels, x, w, bias, y, scratch);
}

void direct_conv2d_weight_grad_image(const ConvGeometry& g, std::int64_t out_channels,
                                     const float* x, const float* dy, float* dw, bool accumulate,
                                     float* scratch, DirectWidth width) {
#if DLFS_DIRECT_WIDE
  if (use_wide(width, out_channels))
    return weight_grad_image_wide(g, out_channels, x, dy, dw, accumulate, scratch);
#endif
  weight_grad_image_8_lanes(g, out_channels, x, dy, dw, accumulate, scratch);
}

}  // namespace dlfs::kernels::cpu
