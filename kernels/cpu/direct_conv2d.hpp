#pragma once
// The Direct path of kernels/conv2d.hpp: a float32 convolution of ONE input channel, stride 1,
// no dilation (the first layer of every Fashion-MNIST net in the catalog: LeNet-5's 5x5 to 6
// maps, SimpleConvNet's 5x5 to 30, DeepConvNet's 3x3 to 16), computed straight from the padded
// image instead of through im2col and a GEMM.
//
// Why: with one input channel the GEMM's inner dimension is only kh*kw (25 or 9), so most of the
// im2col + GEMM path's time went into writing and packing the columns (im2col, OpenBLAS's copies
// and its separate pass that zeroes C) rather than multiply-adds; on LeNet-5 im2col alone was
// 12% of a training step (docs/results.md). Here each output row is a few vector registers
// summed over the taps, reading a zero-padded copy of the image that stays in L1.
//
// Sums run in an order fixed by the shapes: y[o, i, j] = bias[o] (or 0), then plus, over (ky, kx)
// in row-major order, w[o, ky, kx] * x_padded[i + ky, j + kx];
// for dW[o, ky, kx], lane l of an 8-wide accumulator sums columns l, l + 8, ... (vectors in order,
// rows in order within each), then the 8 lanes are added in order. Results do not depend on the
// thread count (the per-image chunks of kernels/cpu/conv2d.cpp run these) nor on the CPU's
// vector width: the file is compiled without contraction, so no width fuses the multiply-add.
#include <cstdint>

#include "dlfs/kernels/im2col.hpp"

namespace dlfs::kernels::cpu {

// True when the direct kernels compute a convolution of geometry `g` (the caller checks the
// dtype is float32).
inline bool direct_conv2d_applies(const ConvGeometry& g) {
  const ConvWindow& w = g.window;
  return g.channels == 1 && w.stride_h == 1 && w.stride_w == 1 && w.dilation_h == 1 &&
         w.dilation_w == 1;
}

// Which kernels run: Widest takes, on CPUs with AVX-512, the ones that put two output channels
// in each 16-float register (the same bits as the 8-float ones, in half the instructions);
// EightLanes the 8-float kernels everywhere (tests compare the two).
enum class DirectWidth { Widest, EightLanes };

// True when this CPU runs the 16-float kernels (AVX-512) and this build has them.
bool direct_conv2d_has_wide_kernels();

// Floats of scratch one image needs (the padded image; for the forward the weights paired for
// the 16-float kernels, for the weight gradient one or two output maps padded to whole vectors).
std::int64_t direct_conv2d_scratch_elements(const ConvGeometry& g, std::int64_t out_channels);

// y [O, OH, OW] = the convolution of one image x [1, H, W] with w [O, 1, kh, kw], plus bias [O]
// unless it is null: each sum starts from its channel's bias, which saves the separate pass of
// kernels/bias.hpp over y.
void direct_conv2d_forward_image(const ConvGeometry& g, std::int64_t out_channels, const float* x,
                                 const float* w, const float* bias, float* y, float* scratch,
                                 DirectWidth width = DirectWidth::Widest);

// dw [O, 1, kh, kw] (+)= the weight gradient of one image x for its output gradient dy
// [O, OH, OW]: added to dw when `accumulate`, written over it otherwise.
void direct_conv2d_weight_grad_image(const ConvGeometry& g, std::int64_t out_channels,
                                     const float* x, const float* dy, float* dw, bool accumulate,
                                     float* scratch, DirectWidth width = DirectWidth::Widest);

}  // namespace dlfs::kernels::cpu
