// The PerImage path of kernels/conv2d.hpp: one GEMM per image, images in parallel.
//
// The batched lowering (im2col.hpp) writes a [C*kh*kw, N*P] column matrix (P = OH*OW): 6-8 MB
// for LeNet, 58 MB for a ResNet 3x3 layer at batch 8. It goes to memory and comes back four
// times per step (im2col, forward GEMM, dW GEMM, and dcol then col2im), and the GEMM's [O, N*P]
// result needs a batch/channel swap to become NCHW (and dY one back). This path instead lowers
// ONE image at a time into a buffer that stays in cache:
//   forward          col_n = im2col(x[n]);  Y[n] = W * col_n             [O, P], NCHW directly
//   backward         col_n = im2col(x[n]) again (cheaper than keeping the batch's columns);
//                    dW_k += dY[n] * col_n^T  over the images n of chunk k, in order;
//                    dcol_n = W^T * dY[n];  dx[n] = col2im(dcol_n)
//                    dW = dW_0 + dW_1 + ...  (chunks in order)
// A pointwise convolution (1x1, stride 1, no padding) needs no im2col or col2im at all: col_n is
// x[n] itself and dcol_n is dx[n]. Images are cut into at most kImageChunks fixed chunks (bounds
// depend on the shapes only) that run in parallel, one thread each with single-threaded GEMMs:
// OpenBLAS threading one image's GEMM (K is only 64 in ResNet's first stage) paid more in
// barriers than it gained. A batch of one is one chunk, and its GEMMs run on every thread. The
// sums are in a fixed order either way: the result does not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <type_traits>

#include "dlfs/kernels/bias.hpp"
#include "dlfs/kernels/conv2d.hpp"
#include "dlfs/kernels/cpu/chunk_partial_sums.hpp"
#include "dlfs/kernels/cpu/direct_conv2d.hpp"
#include "dlfs/kernels/gemm.hpp"
#include "dlfs/kernels/max_pool.hpp"

namespace dlfs::kernels::cpu {

namespace {

constexpr std::int64_t kImageChunks = 16;

bool is_pointwise(const ConvWindow& w) {
  return w.kernel_h == 1 && w.kernel_w == 1 && w.stride_h == 1 && w.stride_w == 1 && w.pad_h == 0 &&
         w.pad_w == 0;
}

}  // namespace

PerImageConv2d::PerImageConv2d(const ConvGeometry& g, std::int64_t out_channels,
                               std::size_t element_size, bool direct_kernels)
    : one_image(g),
      batch(g.batch),
      direct(direct_kernels),
      pointwise(!direct_kernels && is_pointwise(g.window)),
      o(out_channels),
      k(g.col_rows()),
      p(g.out_h * g.out_w),
      image_in(g.channels * g.height * g.width),
      image_out(out_channels * g.out_h * g.out_w) {
  one_image.batch = 1;
  // The count depends on the shapes only, so results do not depend on the thread count.
  const std::int64_t dw_bytes = o * k * static_cast<std::int64_t>(element_size);
  chunks = chunks_within_partial_cap(std::min(g.batch, kImageChunks), 1, dw_bytes);
}

// One columns buffer per thread of the team (indexed by omp_get_thread_num(); whichever threads
// the schedule gives the chunks to). A single chunk runs in a team of one: thread 0.
// The Direct path's scratch (padded image, padded dY map) serves also as dx's columns.
std::int64_t PerImageConv2d::column_elements() const {
  if (pointwise) return 0;
  return (chunks > 1 ? omp_get_max_threads() : 1) * column_elements_per_thread();
}

std::int64_t PerImageConv2d::column_elements_per_thread() const {
  return direct ? std::max(k * p, direct_conv2d_scratch_elements(one_image, o)) : k * p;
}

std::int64_t PerImageConv2d::partial_weight_grad_elements() const {
  return (chunks - 1) * o * k;
}

namespace {
std::int64_t first_image(const PerImageConv2d& plan, std::int64_t chunk) {
  return plan.batch * chunk / plan.chunks;
}
}  // namespace

namespace {
// y = the convolution of one image: the direct kernels (plus direct_bias) or im2col + GEMM.
template <typename T>
void forward_one_image(const PerImageConv2d& plan, const T* image, const T* w,
                       [[maybe_unused]] const T* direct_bias, T* y, T* columns) {
  if constexpr (std::is_same_v<T, float>) {
    if (plan.direct) {
      direct_conv2d_forward_image(plan.one_image, plan.o, image, w, direct_bias, y, columns);
      return;
    }
  }
  const T* col = image;
  if (!plan.pointwise) {
    im2col(image, columns, plan.one_image);
    col = columns;
  }
  gemm<T>(false, false, plan.o, plan.p, plan.k, 1, w, plan.k, col, plan.p, 0, y, plan.p);
}
}  // namespace

template <typename T>
void conv2d_forward_per_image(const PerImageConv2d& plan, const T* x, const T* w, T* y, T* columns,
                              const T* direct_bias) {
#pragma omp parallel for if (plan.chunks > 1)
  for (std::int64_t chunk = 0; chunk < plan.chunks; ++chunk) {
    T* buffer = columns + omp_get_thread_num() * plan.column_elements_per_thread();
    for (std::int64_t n = first_image(plan, chunk); n < first_image(plan, chunk + 1); ++n)
      forward_one_image(plan, x + n * plan.image_in, w, direct_bias, y + n * plan.image_out,
                        buffer);
  }
}

std::int64_t fused_scratch_elements_per_thread(const PerImageConv2d& plan, bool pooled) {
  return (plan.pointwise ? 0 : plan.column_elements_per_thread()) + (pooled ? plan.image_out : 0);
}

std::int64_t fused_scratch_elements(const PerImageConv2d& plan, bool pooled) {
  return (plan.chunks > 1 ? omp_get_max_threads() : 1) *
         fused_scratch_elements_per_thread(plan, pooled);
}

template <typename T>
void conv2d_forward_fused_per_image(const PerImageConv2d& plan, const T* x, const T* w,
                                    const T* bias, const ChannelEpilogue* epilogue,
                                    const Pool2dGeometry* pool, T* y, std::int32_t* argmax,
                                    T* scratch) {
  const std::int64_t per_thread = fused_scratch_elements_per_thread(plan, pool != nullptr);
  const std::int64_t pooled = pool ? pool->output_numel() : 0;
#pragma omp parallel for if (plan.chunks > 1)
  for (std::int64_t chunk = 0; chunk < plan.chunks; ++chunk) {
    T* columns = scratch + omp_get_thread_num() * per_thread;
    T* full_size = columns + (plan.pointwise ? 0 : plan.column_elements_per_thread());
    for (std::int64_t n = first_image(plan, chunk); n < first_image(plan, chunk + 1); ++n) {
      T* image_y = pool ? full_size : y + n * plan.image_out;
      forward_one_image(plan, x + n * plan.image_in, w, plan.direct ? bias : nullptr, image_y,
                        columns);
      const T* bias_left = plan.direct ? nullptr : bias;  // the Direct path adds it as it sums
      if (epilogue)
        apply_channel_epilogue(image_y, image_y, 1, plan.o, plan.p, *epilogue, bias_left);
      else if (bias_left)
        bias_add(image_y, bias_left, 1, plan.o, plan.p);
      if (pool)
        max_pool_forward<T>(image_y, y + n * pooled, argmax ? argmax + n * pooled : nullptr, *pool);
    }
  }
}

template <typename T>
void conv2d_backward_per_image(const PerImageConv2d& plan, const T* x, const T* w, const T* dy,
                               T* dx, T* dw, T* columns, T* partial_dw) {
#pragma omp parallel for if (plan.chunks > 1)
  for (std::int64_t chunk = 0; chunk < plan.chunks; ++chunk) {
    T* chunk_dw = chunk == 0 ? dw : partial_dw + (chunk - 1) * plan.o * plan.k;
    T* buffer = plan.pointwise ? nullptr
                               : columns + omp_get_thread_num() * plan.column_elements_per_thread();
    const std::int64_t first = first_image(plan, chunk);
    for (std::int64_t n = first; n < first_image(plan, chunk + 1); ++n) {
      const T* col = x + n * plan.image_in;
      const T* dyn = dy + n * plan.image_out;
      bool dw_done = false;
      if constexpr (std::is_same_v<T, float>) {
        if (plan.direct) {
          direct_conv2d_weight_grad_image(plan.one_image, plan.o, col, dyn, chunk_dw, n != first,
                                          buffer);
          dw_done = true;
        }
      }
      if (!dw_done) {
        if (!plan.pointwise) {
          im2col(col, buffer, plan.one_image);
          col = buffer;
        }
        gemm<T>(false, true, plan.o, plan.k, plan.p, 1, dyn, plan.p, col, plan.p,
                n == first ? 0 : 1, chunk_dw, plan.k);
      }
      if (!dx) continue;
      T* dcol = plan.pointwise ? dx + n * plan.image_in : buffer;
      gemm<T>(true, false, plan.k, plan.p, plan.o, 1, w, plan.k, dyn, plan.p, 0, dcol, plan.p);
      if (!plan.pointwise) col2im(buffer, dx + n * plan.image_in, plan.one_image);
    }
  }
  add_partials_in_chunk_order(dw, partial_dw, plan.chunks - 1, plan.o * plan.k);
}

template void conv2d_forward_per_image<float>(const PerImageConv2d&, const float*, const float*,
                                              float*, float*, const float*);
template void conv2d_forward_per_image<double>(const PerImageConv2d&, const double*, const double*,
                                               double*, double*, const double*);
template void conv2d_forward_fused_per_image<float>(const PerImageConv2d&, const float*,
                                                    const float*, const float*,
                                                    const ChannelEpilogue*, const Pool2dGeometry*,
                                                    float*, std::int32_t*, float*);
template void conv2d_forward_fused_per_image<double>(const PerImageConv2d&, const double*,
                                                     const double*, const double*,
                                                     const ChannelEpilogue*, const Pool2dGeometry*,
                                                     double*, std::int32_t*, double*);
template void conv2d_backward_per_image<float>(const PerImageConv2d&, const float*, const float*,
                                               const float*, float*, float*, float*, float*);
template void conv2d_backward_per_image<double>(const PerImageConv2d&, const double*, const double*,
                                                const double*, double*, double*, double*, double*);

}  // namespace dlfs::kernels::cpu
