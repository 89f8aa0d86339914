#pragma once
// The Onednn path of kernels/conv2d.hpp: float32 NCHW convolutions on the CPU through oneDNN
// (Debian's libdnnl-dev 2.6, the library PyTorch's CPU convolutions use). Builds without oneDNN
// define these functions too: available() is false there and the others throw dlfs::Error.
// This header includes no oneDNN header.
//
// oneDNN picks its own blocked memory layouts (nChw8c with AVX2, nChw16c with AVX-512) and a
// JIT kernel for the machine it runs on. dlfs's tensors stay NCHW/OIHW: each pass reorders its
// operands into the primitive's layout, runs, and reorders the result back. The blocked copies
// come from the CPU memory pool and live for one call only, so a training step keeps no more
// than the im2col paths do (the input x, as PerImage keeps it).
//
// A batch runs as at most 8 chunks fixed by its size (4 or 2 for layers whose 8 dW partials would
// pass 32 MB), each on one thread, taken by the threads as they come free; dW is summed from
// per-chunk partials in chunk order. So results are the same
// bit for bit at any thread count up to the chunk count, and a core shared with another process
// holds back only the chunks it runs. With more threads than chunks the batch runs whole on
// oneDNN's own threads, and dW then changes in its last bits with the thread count.
//
// A plan holds the primitives of one convolution shape for any batch: per chunk size, forward,
// and after the first backward the backward-data and backward-weights primitives, each with its
// reorders.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "dlfs/kernels/im2col.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels::onednn {

// True in builds linked against oneDNN.
bool available();

// True when oneDNN can run this convolution: float32 on the CPU, sizes within int.
bool supports(const ConvGeometry& geometry, std::int64_t out_channels, const Tensor& x);

class ConvolutionPlan;

// With `winograd`, each primitive takes oneDNN's Winograd algorithm where oneDNN has a kernel
// for it (3x3, stride 1 on AVX-512 machines), its direct algorithm otherwise.
std::shared_ptr<ConvolutionPlan> make_convolution_plan(const ConvGeometry& geometry,
                                                       std::int64_t out_channels, bool winograd);
// True when the plan serves this geometry (any batch), output channel count and algorithm.
bool plan_matches(const ConvolutionPlan& plan, const ConvGeometry& geometry,
                  std::int64_t out_channels, bool winograd);
// The kernels oneDNN chose and the last call's chunks, e.g. "forward jit:avx2, backward data
// jit:avx2, backward weights jit:avx2; 8 chunks of 8 images, one thread each" (the backward ones
// once a backward has run).
std::string describe(const ConvolutionPlan& plan);

// Work on the output of one chunk of images (y_chunk: images first_image to first_image + images
// - 1, each [O, OH, OW], NCHW), run by the thread that made it right after, while it is still in
// that core's cache.
using ChunkEpilogue =
    std::function<void(float* y_chunk, std::int64_t first_image, std::int64_t images)>;

// y [N, O, OH, OW] = x (*) weight, without bias; then `after` on each chunk, if given. Without
// `write_output`, each chunk goes to a buffer of its thread's for `after` alone, and the returned
// tensor is undefined (`after` keeps what it needs: a pooled map).
Tensor convolution_forward(ConvolutionPlan& plan, const Tensor& x, const Tensor& weight,
                           const ChunkEpilogue& after = {}, bool write_output = true);
// dweight [O, C, kh, kw] and, unless dx is null, dx [N, C, H, W] from the input x and
// dy [N, O, OH, OW].
void convolution_backward(ConvolutionPlan& plan, const Tensor& x, const Tensor& dy,
                          const Tensor& weight, Tensor* dx, Tensor& dweight);

}  // namespace dlfs::kernels::onednn
