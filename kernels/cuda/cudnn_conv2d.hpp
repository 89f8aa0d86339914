#pragma once
// The Cudnn path of kernels/conv2d.hpp (cuDNN 9, legacy cudnn.h API), float32 NCHW on one GPU.
// Only CUDA builds with cuDNN define these functions (kernels/cuda/cudnn_conv2d.cpp);
// include this header behind #if DLFS_HAVE_CUDNN. It includes no cuDNN header itself.
//
// A plan holds the descriptors of one shape and the algorithm chosen for each pass: cuDNN's
// heuristics (cudnnGetConvolution*Algorithm_v7) rank the algorithms, and the plan takes the
// first one that runs in plain FP32 (FMA math, never TF32 tensor cores), needs a workspace of
// at most kMaxWorkspaceBytes and is deterministic; only when no deterministic one qualifies
// does it take the best non-deterministic one. Workspaces come from the device's pool.
#include <cstddef>
#include <memory>
#include <string>

#include "dlfs/kernels/im2col.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels::cudnn {

constexpr std::size_t kMaxWorkspaceBytes = std::size_t{2} << 30;

class ConvolutionPlan;

// Throws dlfs::Error when cuDNN accepts no algorithm for the shape (sizes must fit in int).
std::shared_ptr<ConvolutionPlan> make_convolution_plan(const kernels::ConvGeometry& geometry,
                                                       std::int64_t out_channels,
                                                       const Device& device);
// True when the plan was made for this geometry, output channel count and device.
bool plan_matches(const ConvolutionPlan& plan, const kernels::ConvGeometry& geometry,
                  std::int64_t out_channels, const Device& device);
// "forward IMPLICIT_PRECOMP_GEMM, backward data ALGO_1, backward filter ALGO_1" (+ workspaces).
std::string describe(const ConvolutionPlan& plan);

// y [N, O, OH, OW] = x (*) weight, without bias.
Tensor convolution_forward(const ConvolutionPlan& plan, const Tensor& x, const Tensor& weight);
// dx [N, C, H, W] from dy [N, O, OH, OW].
Tensor convolution_backward_data(const ConvolutionPlan& plan, const Tensor& dy,
                                 const Tensor& weight);
// dweight [O, C, kh, kw] from the input x and dy.
Tensor convolution_backward_filter(const ConvolutionPlan& plan, const Tensor& x, const Tensor& dy);

}  // namespace dlfs::kernels::cudnn
