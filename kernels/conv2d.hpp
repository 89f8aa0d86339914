#pragma once
// 2-D convolution as an op: y = x (*) weight over NCHW batches, and its two gradients. No bias
// (kernels/bias.hpp adds it). The weight is OIHW, [O, C, kh, kw], as PyTorch's Conv2d.
//
// Six paths compute it (docs/convolution.md has the measurements behind the rule):
//   BatchedColumns  im2col of the whole batch into [C*kh*kw, N*OH*OW] (im2col.hpp), ONE GEMM per
//                   pass, a batch/channel swap to NCHW. CPU and GPU. Keeps the columns.
//   PerImage        CPU only: one image's columns at a time in a per-thread buffer that stays in
//                   cache, images in parallel in fixed chunks (kernels/cpu/conv2d.cpp). Keeps x.
//   Direct          CPU only, float32, one input channel, stride 1, no dilation: PerImage's
//                   chunks, with y and dW summed straight from the padded image
//                   (kernels/cpu/direct_conv2d.hpp) instead of im2col + GEMM. Keeps x.
//   Onednn          CPU only: oneDNN's JIT kernels (kernels/cpu/onednn_conv2d.hpp). Keeps x.
//   OnednnWinograd  Onednn with oneDNN's Winograd F(4x4, 3x3) kernels (3x3, stride 1; AVX-512
//                   machines), its direct kernels where it has none. Fewer multiplies, rounding
//                   different from direct summation (relative errors near 1e-6 instead of 1e-7).
//   Cudnn           cuDNN (kernels/cuda/cudnn_conv2d.hpp). Keeps x.
//
// choose_conv2d_path's rule, from the layer's ConvAlgorithm (conv_algorithm.hpp):
//   1. On a GPU: Cudnn when the layer asks for it and it can run (float32, a build with cuDNN);
//      BatchedColumns otherwise.
//   2. On the CPU, unless the layer asks for Im2col, where oneDNN can run it (float32, a build
//      with oneDNN; onednn::supports): OnednnWinograd for a 3x3 stride-1 layer (winograd_shape)
//      that asks for Winograd, or asks for Auto and passes winograd_pays (an output map of at
//      least kWinogradMinPixels, at least kWinogradMinChannels input and output channels, and
//      the fewer of the two times the map at least kWinogradMinChannelPixels); else Onednn when
//      the layer asks for oneDNN or Winograd, or has at least kOnednnMinChannels input channels
//      and a kernel larger than 1x1. Else Direct for a float32 layer with one input channel,
//      stride 1 and no dilation.
//   3. Otherwise, on the CPU: PerImage when an output map has at least kPerImageMinPixels pixels,
//      or when the convolution does fewer than kPerImageSmallMacs multiply-adds per image;
//      BatchedColumns otherwise (large layers on tiny maps, whose per-image GEMMs are too narrow
//      to run fast).
// dlfs's own paths sum in an order fixed by the shapes, so their results do not depend on the
// thread count; oneDNN's weight gradient does (in its last bits), and is the same from run to run
// at one thread count.
#include <cstdint>
#include <memory>

#include "dlfs/kernels/channel_epilogue.hpp"
#include "dlfs/kernels/conv_algorithm.hpp"
#include "dlfs/kernels/im2col.hpp"
#include "dlfs/kernels/pooling.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

enum class Conv2dPath { BatchedColumns, PerImage, Direct, Onednn, OnednnWinograd, Cudnn };

// "batched-columns", "per-image", "direct", "onednn", "onednn-winograd" or "cudnn".
const char* conv2d_path_name(Conv2dPath path);

constexpr std::int64_t kPerImageMinPixels = 32;
constexpr std::int64_t kPerImageSmallMacs = std::int64_t{1} << 20;
constexpr std::int64_t kOnednnMinChannels = 4;

constexpr std::int64_t kWinogradMinPixels = 14 * 14;
constexpr std::int64_t kWinogradMinChannels = 32;
constexpr std::int64_t kWinogradMinChannelPixels = 64 * 14 * 14;

// True for a convolution oneDNN's Winograd kernels can take: 3x3, stride 1, no dilation.
bool winograd_shape(const ConvGeometry& g);
// Auto's rule for taking them (see above and docs/convolution.md).
bool winograd_pays(const ConvGeometry& g, std::int64_t out_channels);

// The path a convolution of `g` with `out_channels` outputs takes for input `x` (see above).
Conv2dPath choose_conv2d_path(ConvAlgorithm requested, const ConvGeometry& g,
                              std::int64_t out_channels, const Tensor& x);

namespace cudnn {
class ConvolutionPlan;  // descriptors and chosen algorithms for one shape (cuda/cudnn_conv2d.hpp)
}
namespace onednn {
class ConvolutionPlan;  // primitives and reorders for one shape (cpu/onednn_conv2d.hpp)
}

// What one convolution keeps from call to call: the cuDNN or oneDNN plan for the last shape it
// ran (shared_ptrs because the types are complete only in their own sources).
struct Conv2dCache {
  std::shared_ptr<cudnn::ConvolutionPlan> cudnn_plan;
  std::shared_ptr<onednn::ConvolutionPlan> onednn_plan;
};

// What a training forward keeps for its backward.
struct Conv2dSaved {
  Conv2dPath path = Conv2dPath::BatchedColumns;
  ConvGeometry geometry;
  Tensor columns;  // BatchedColumns: the batch's im2col columns
  Tensor input;    // PerImage, Onednn and Cudnn: the input x
  bool defined() const { return columns.defined() || input.defined(); }
};

// y [N, O, OH, OW] from x [N, C, H, W] and weight [O, C, kh, kw], by `path` (x and weight on one
// device, one dtype; the caller has checked the shapes: g = conv_geometry of x). With `saved`,
// fills it for conv2d_backward. With `bias` [O], adds it per output channel: inside the Direct
// path's sums (each starts from it), by kernels::bias_add_ after the other paths.
Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const ConvGeometry& g, Conv2dPath path,
                      Conv2dCache& cache, Conv2dSaved* saved, const Tensor* bias = nullptr);
// Inference: conv2d_forward (no saved state), then `epilogue` on its output (a BatchNorm with
// running statistics, a ReLU: kernels/channel_epilogue.hpp), then max_pool_forward's maxima for
// `pool`; the same bits. Either may be null. The per-image paths (PerImage, Direct) finish each
// image, the oneDNN path each chunk of images, while it is in cache, and with a pool never write
// the full-size map; the other paths run the steps one after the other. An epilogue needs a CPU
// tensor. Training (no epilogue) passes `saved`, filled for conv2d_backward as conv2d_forward
// fills it, and with a pool `argmax`, which gets the pool's (max_pool_forward's) argmax.
Tensor conv2d_forward_fused(const Tensor& x, const Tensor& weight, const ConvGeometry& g,
                            Conv2dPath path, Conv2dCache& cache, const Tensor* bias,
                            const ChannelEpilogue* epilogue, const PoolWindow* pool,
                            Conv2dSaved* saved = nullptr, Tensor* argmax = nullptr);

struct Conv2dGradients {
  Tensor input;   // dx [N, C, H, W]
  Tensor weight;  // dW [O, C, kh, kw]
};

// The gradients for dy [N, O, OH, OW], by the path and from what the forward saved. Without
// `input_gradient`, dx is left undefined and its pass skipped (a first layer's input is data).
Conv2dGradients conv2d_backward(const Tensor& dy, const Tensor& weight, const Conv2dSaved& saved,
                                Conv2dCache& cache, bool input_gradient = true);

namespace cpu {

// The PerImage path's fixed plan for one shape: sizes, the chunks of images that run in parallel,
// and the scratch the caller provides.
struct PerImageConv2d {
  // `direct`: y and dW by the direct kernels of kernels/cpu/direct_conv2d.hpp (float32, one input
  // channel, stride 1, no dilation: the caller checks) instead of im2col + GEMM.
  PerImageConv2d(const ConvGeometry& g, std::int64_t out_channels, std::size_t element_size,
                 bool direct = false);

  ConvGeometry one_image;  // g with batch 1: im2col/col2im of a single image
  std::int64_t batch;
  bool direct;
  bool pointwise;                    // 1x1, stride 1, no padding: x[n] is its own columns
  std::int64_t o, k, p;              // out channels, C*kh*kw, OH*OW
  std::int64_t image_in, image_out;  // elements of one input image, of one output image
  std::int64_t chunks;               // image chunks; each sums its own dW partial

  // Scratch sizes in elements: the per-thread columns (0 when pointwise) and the dW partial sums
  // of chunks 1, 2, ... (chunk 0 sums into dW itself; 0 with one chunk).
  std::int64_t column_elements() const;
  std::int64_t column_elements_per_thread() const;
  std::int64_t partial_weight_grad_elements() const;
};

// Scratch for conv2d_forward_fused_per_image: per thread, one image's columns (none when
// pointwise) and, when it pools, the image's full-size output.
std::int64_t fused_scratch_elements(const PerImageConv2d& plan, bool pooled);
// Image by image while each output is in cache: W * im2col(x[n]), plus bias, then `epilogue`,
// then max-pooled by `pool`; bias, epilogue and pool may each be null. `pool` is the geometry of
// one image's pooling (batch 1); y is the pooled batch with it, else the full-size output.
// `argmax` (may be null) gets the pool's argmax, as max_pool_forward writes it.
template <typename T>
void conv2d_forward_fused_per_image(const PerImageConv2d& plan, const T* x, const T* weight,
                                    const T* bias, const ChannelEpilogue* epilogue,
                                    const Pool2dGeometry* pool, T* y, std::int32_t* argmax,
                                    T* scratch);
// y[n] = W * im2col(x[n]) for every image; with plan.direct, the direct kernels, plus
// direct_bias per output channel unless it is null (ignored without plan.direct).
template <typename T>
void conv2d_forward_per_image(const PerImageConv2d& plan, const T* x, const T* weight, T* y,
                              T* columns, const T* direct_bias = nullptr);
// dW = sum_n dY[n] * im2col(x[n])^T (chunk partial sums added in chunk order) and, unless dx is
// null, dx[n] = col2im(W^T * dY[n]).
template <typename T>
void conv2d_backward_per_image(const PerImageConv2d& plan, const T* x, const T* weight, const T* dy,
                               T* dx, T* dweight, T* columns, T* partial_dweight);

}  // namespace cpu

}  // namespace dlfs::kernels
