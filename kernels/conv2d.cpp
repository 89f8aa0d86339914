#include "dlfs/kernels/conv2d.hpp"

#include <algorithm>
#include <optional>

#include "dlfs/kernels/bias.hpp"
#include "dlfs/kernels/cpu/direct_conv2d.hpp"
#include "dlfs/kernels/cpu/onednn_conv2d.hpp"
#include "dlfs/kernels/dispatch.hpp"
#include "dlfs/kernels/gemm.hpp"
#include "dlfs/kernels/max_pool.hpp"
#include "dlfs/kernels/swap_axes.hpp"
#if DLFS_HAVE_CUDNN
#include "dlfs/kernels/cuda/cudnn_conv2d.hpp"
#endif

namespace dlfs::kernels {

const char* conv2d_path_name(Conv2dPath path) {
  switch (path) {
    case Conv2dPath::BatchedColumns:
      return "batched-columns";
    case Conv2dPath::PerImage:
      return "per-image";
    case Conv2dPath::Direct:
      return "direct";
    case Conv2dPath::Onednn:
      return "onednn";
    case Conv2dPath::OnednnWinograd:
      return "onednn-winograd";
    case Conv2dPath::Cudnn:
      return "cudnn";
  }
  return "?";
}

Conv2dPath choose_conv2d_path(ConvAlgorithm requested, const ConvGeometry& g,
                              std::int64_t out_channels, const Tensor& x) {
  if (x.device().is_cuda()) {
    const bool cudnn_runs = DLFS_HAVE_CUDNN && x.dtype() == DType::Float32;
    return requested == ConvAlgorithm::Cudnn && cudnn_runs ? Conv2dPath::Cudnn
                                                           : Conv2dPath::BatchedColumns;
  }
  if (requested != ConvAlgorithm::Im2col && onednn::supports(g, out_channels, x)) {
    if (winograd_shape(g) && (requested == ConvAlgorithm::Winograd ||
                              (requested == ConvAlgorithm::Auto && winograd_pays(g, out_channels))))
      return Conv2dPath::OnednnWinograd;
    // Measured per layer (docs/convolution.md): oneDNN's JIT kernels beat dlfs's own paths by
    // 15-40% on 3x3 and 5x5 layers from 6 input channels up, but lost 2-3x on 1-channel first
    // layers (its layouts block channels by 8) and 1.1-2x on 1x1 layers, which are one plain
    // GEMM per image on the PerImage path. Auto keeps those on dlfs's paths.
    const bool pointwise = g.window.kernel_h == 1 && g.window.kernel_w == 1;
    if (requested == ConvAlgorithm::Onednn || requested == ConvAlgorithm::Winograd ||
        (g.channels >= kOnednnMinChannels && !pointwise))
      return Conv2dPath::Onednn;
  }
  // One input channel: the GEMM's inner size would be only kh*kw, and writing and packing the
  // columns cost more than the multiply-adds (docs/convolution.md).
  if (requested != ConvAlgorithm::Im2col && x.dtype() == DType::Float32 &&
      cpu::direct_conv2d_applies(g))
    return Conv2dPath::Direct;
  // Per image, a layer's GEMMs have only OH*OW columns: where that is tiny (the 3x3 maps at the
  // end of the 28x28 VGGs) they run far below OpenBLAS's rate, and the batched GEMM with N*OH*OW
  // columns wins despite its extra passes. From 7x7 up the two were within noise of each other,
  // and per image needs less memory. Small layers (LeNet's) go per image whatever their size, as
  // the batched columns cost more than their GEMMs there.
  const std::int64_t pixels = g.out_h * g.out_w;
  const bool per_image =
      pixels >= kPerImageMinPixels || out_channels * g.col_rows() * pixels < kPerImageSmallMacs;
  return per_image ? Conv2dPath::PerImage : Conv2dPath::BatchedColumns;
}

bool winograd_shape(const ConvGeometry& g) {
  const ConvWindow& w = g.window;
  return w.kernel_h == 3 && w.kernel_w == 3 && w.stride_h == 1 && w.stride_w == 1 &&
         w.dilation_h == 1 && w.dilation_w == 1;
}

bool winograd_pays(const ConvGeometry& g, std::int64_t out_channels) {
  // Measured per layer (docs/convolution.md): Winograd F(4x4, 3x3) ran 1.2-1.8x faster than
  // oneDNN's direct kernels from 32 channels on 28x28 maps and from 64 channels on 14x14 maps,
  // and lost up to 1.15x on 7x7 maps (mostly padding in its 6x6 tiles), on 16 channels and on 32
  // channels at 14x14.
  const std::int64_t pixels = g.out_h * g.out_w;
  const std::int64_t narrowest = std::min(g.channels, out_channels);
  return pixels >= kWinogradMinPixels && narrowest >= kWinogradMinChannels &&
         narrowest * pixels >= kWinogradMinChannelPixels;
}

namespace {

// Y'[O, N*OH*OW] = W[O, C*kh*kw] * col[C*kh*kw, N*OH*OW]: one GEMM for the whole batch, then
// batch and channel axes swap to give NCHW.
Tensor forward_batched(const Tensor& x, const Tensor& weight, const ConvGeometry& g,
                       Conv2dSaved* saved) {
  const std::int64_t out_channels = weight.dim(0);
  Tensor col = im2col(x, g.window);
  Tensor w = weight.reshape({out_channels, g.col_rows()});
  Tensor y_swapped = Tensor::empty({out_channels, g.col_cols()}, x.dtype(), x.device());
  matmul(w, false, col, false, y_swapped);
  Tensor y = swap_leading_axes(y_swapped.reshape({out_channels, g.batch, g.out_h * g.out_w}));
  if (saved) saved->columns = col;
  return y.reshape({g.batch, out_channels, g.out_h, g.out_w});
}

Conv2dGradients backward_batched(const Tensor& dy, const Tensor& weight, const Conv2dSaved& saved,
                                 bool input_gradient) {
  const ConvGeometry& g = saved.geometry;
  const std::int64_t out_channels = weight.dim(0);
  // dY'[O, N*OH*OW]: the gradient with batch and channel swapped, as the forward GEMM made Y'.
  Tensor dy_swapped = swap_leading_axes(dy.reshape({g.batch, out_channels, g.out_h * g.out_w}))
                          .reshape({out_channels, g.col_cols()});
  // dW[O, C*kh*kw] = dY' * col^T: one GEMM summing over every output pixel of the batch.
  Conv2dGradients grads;
  grads.weight = Tensor::empty(weight.shape(), dy.dtype(), dy.device());
  Tensor dw = grads.weight.reshape({out_channels, g.col_rows()});
  matmul(dy_swapped, false, saved.columns, true, dw);
  if (!input_gradient) return grads;
  // dcol = W^T * dY', folded back onto the image by col2im.
  Tensor w = weight.reshape({out_channels, g.col_rows()});
  Tensor dcol = Tensor::empty({g.col_rows(), g.col_cols()}, dy.dtype(), dy.device());
  matmul(w, true, dy_swapped, false, dcol);
  grads.input = col2im(dcol, {g.batch, g.channels, g.height, g.width}, g.window);
  return grads;
}

Tensor forward_per_image(const Tensor& x, const Tensor& weight, const ConvGeometry& g, bool direct,
                         const Tensor* direct_bias) {
  const cpu::PerImageConv2d plan(g, weight.dim(0), dtype_size(x.dtype()), direct);
  Tensor y = Tensor::empty({g.batch, plan.o, g.out_h, g.out_w}, x.dtype(), x.device());
  Tensor columns;  // one image's columns per thread
  if (plan.column_elements() > 0) columns = Tensor::empty({plan.column_elements()}, x.dtype());
  DLFS_DISPATCH_FLOATING(x.dtype(), "Convolution", [&] {
    cpu::conv2d_forward_per_image<scalar_t>(plan, x.data<scalar_t>(), weight.data<scalar_t>(),
                                            y.data<scalar_t>(),
                                            columns.defined() ? columns.data<scalar_t>() : nullptr,
                                            direct_bias ? direct_bias->data<scalar_t>() : nullptr);
  });
  return y;
}

Conv2dGradients backward_per_image(const Tensor& dy, const Tensor& weight, const Conv2dSaved& saved,
                                   bool input_gradient) {
  const Tensor& x = saved.input;
  const cpu::PerImageConv2d plan(saved.geometry, weight.dim(0), dtype_size(x.dtype()),
                                 saved.path == Conv2dPath::Direct);
  Conv2dGradients grads;
  grads.weight = Tensor::empty(weight.shape(), dy.dtype(), dy.device());
  if (input_gradient) grads.input = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor columns;  // one image's columns (then their gradient) per thread
  if (plan.column_elements() > 0) columns = Tensor::empty({plan.column_elements()}, x.dtype());
  Tensor partial_dw;  // one dW per chunk when there are several
  if (plan.partial_weight_grad_elements() > 0)
    partial_dw = Tensor::empty({plan.partial_weight_grad_elements()}, x.dtype());
  DLFS_DISPATCH_FLOATING(x.dtype(), "Convolution", [&] {
    cpu::conv2d_backward_per_image<scalar_t>(
        plan, x.data<scalar_t>(), weight.data<scalar_t>(), dy.data<scalar_t>(),
        input_gradient ? grads.input.data<scalar_t>() : nullptr, grads.weight.data<scalar_t>(),
        columns.defined() ? columns.data<scalar_t>() : nullptr,
        partial_dw.defined() ? partial_dw.data<scalar_t>() : nullptr);
  });
  return grads;
}

#if !DLFS_HAVE_CUDNN
[[noreturn]] void no_cudnn() {
  throw Error("Convolution: this build of dlfs has no cuDNN");
}
#endif

onednn::ConvolutionPlan& onednn_plan_for(Conv2dCache& cache, const ConvGeometry& g,
                                         std::int64_t out_channels, Conv2dPath path) {
  const bool winograd = path == Conv2dPath::OnednnWinograd;
  if (!cache.onednn_plan || !onednn::plan_matches(*cache.onednn_plan, g, out_channels, winograd))
    cache.onednn_plan = onednn::make_convolution_plan(g, out_channels, winograd);
  return *cache.onednn_plan;
}

// conv2d_forward with the bias added where the path adds it itself (`*bias_added`): in the Direct
// path's sums, to each oneDNN chunk as it is made; the other paths leave it to the caller.
Tensor forward_by_path(const Tensor& x, const Tensor& weight, const ConvGeometry& g,
                       Conv2dPath path, Conv2dCache& cache, Conv2dSaved* saved, const Tensor* bias,
                       bool* bias_added) {
  *bias_added = false;
  switch (path) {
    case Conv2dPath::BatchedColumns:
      return forward_batched(x, weight, g, saved);
    case Conv2dPath::PerImage:
    case Conv2dPath::Direct: {
      const bool direct = path == Conv2dPath::Direct;
      Tensor y = forward_per_image(x, weight, g, direct, direct ? bias : nullptr);
      *bias_added = direct;
      if (saved) saved->input = x;  // backward lowers each image again
      return y;
    }
    case Conv2dPath::Onednn:
    case Conv2dPath::OnednnWinograd: {
      const std::int64_t out_channels = weight.dim(0), spatial = g.out_h * g.out_w;
      onednn::ChunkEpilogue add_bias;
      if (bias)
        add_bias = [b = bias->data<float>(), out_channels, spatial](float* y_chunk, std::int64_t,
                                                                    std::int64_t images) {
          cpu::bias_add(y_chunk, b, images, out_channels, spatial);
        };
      Tensor y = onednn::convolution_forward(onednn_plan_for(cache, g, out_channels, path), x,
                                             weight, add_bias);
      *bias_added = true;
      if (saved) saved->input = x;
      return y;
    }
    case Conv2dPath::Cudnn: {
#if DLFS_HAVE_CUDNN
      const std::int64_t out_channels = weight.dim(0);
      if (!cache.cudnn_plan || !cudnn::plan_matches(*cache.cudnn_plan, g, out_channels, x.device()))
        cache.cudnn_plan = cudnn::make_convolution_plan(g, out_channels, x.device());
      Tensor y = cudnn::convolution_forward(*cache.cudnn_plan, x, weight);
      if (saved) saved->input = x;
      return y;
#else
      (void)cache;
      no_cudnn();
#endif
    }
  }
  throw Error("Convolution: unknown path");
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const ConvGeometry& g, Conv2dPath path,
                      Conv2dCache& cache, Conv2dSaved* saved, const Tensor* bias) {
  if (saved) *saved = Conv2dSaved{path, g, Tensor(), Tensor()};
  bool bias_added = false;
  Tensor y = forward_by_path(x, weight, g, path, cache, saved, bias, &bias_added);
  if (bias && !bias_added) bias_add_(y, *bias);
  return y;
}

Tensor conv2d_forward_fused(const Tensor& x, const Tensor& weight, const ConvGeometry& g,
                            Conv2dPath path, Conv2dCache& cache, const Tensor* bias,
                            const ChannelEpilogue* epilogue, const PoolWindow* pool,
                            Conv2dSaved* saved, Tensor* argmax) {
  if (saved && epilogue)
    throw Error("Convolution: an epilogue is for inference; training has no fused forward for it");
  const std::int64_t out_channels = weight.dim(0), spatial = g.out_h * g.out_w;
  const Shape conv_shape{g.batch, out_channels, g.out_h, g.out_w};
  std::optional<Pool2dGeometry> pooled;
  if (pool) pooled = pool2d_geometry("MaxPool", conv_shape, *pool);
  const Shape out_shape = pooled ? pooled->output_shape() : conv_shape;
  Pool2dGeometry one_image;  // one image's pooling (batch 1)
  if (pooled) {
    one_image = *pooled;
    one_image.batch = 1;
  }
  const bool onednn_path = path == Conv2dPath::Onednn || path == Conv2dPath::OnednnWinograd;
  const bool fused_here = path == Conv2dPath::PerImage || path == Conv2dPath::Direct || onednn_path;
  Tensor indices;  // the pool's argmax, in training
  if (fused_here) {
    if (saved) {
      *saved = Conv2dSaved{};
      saved->path = path;
      saved->geometry = g;
      saved->input = x;  // these paths' backward works from x
    }
    if (pooled && argmax) *argmax = indices = Tensor::empty(out_shape, DType::Int32, x.device());
  }
  std::int32_t* argmax_data = indices.defined() ? indices.data<std::int32_t>() : nullptr;
  if (path == Conv2dPath::PerImage || path == Conv2dPath::Direct) {
    const cpu::PerImageConv2d plan(g, out_channels, dtype_size(x.dtype()),
                                   path == Conv2dPath::Direct);
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    Tensor scratch = Tensor::empty(
        {std::max<std::int64_t>(cpu::fused_scratch_elements(plan, pool != nullptr), 1)}, x.dtype());
    DLFS_DISPATCH_FLOATING(x.dtype(), "Convolution", [&] {
      cpu::conv2d_forward_fused_per_image<scalar_t>(
          plan, x.data<scalar_t>(), weight.data<scalar_t>(),
          bias ? bias->data<scalar_t>() : nullptr, epilogue, pooled ? &one_image : nullptr,
          y.data<scalar_t>(), argmax_data, scratch.data<scalar_t>());
    });
    return y;
  }
  if (onednn_path) {
    Tensor y_pooled;
    if (pooled) y_pooled = Tensor::empty(out_shape);
    const float* b = bias ? bias->data<float>() : nullptr;
    const std::int64_t pooled_image = one_image.output_numel();
    const auto finish_chunk = [&](float* y_chunk, std::int64_t first, std::int64_t images) {
      if (epilogue)  // the bias in the epilogue's pass
        cpu::apply_channel_epilogue(y_chunk, y_chunk, images, out_channels, spatial, *epilogue, b);
      else if (b)
        cpu::bias_add(y_chunk, b, images, out_channels, spatial);
      if (!pooled) return;
      Pool2dGeometry chunk_pool = one_image;
      chunk_pool.batch = images;
      cpu::max_pool_forward<float>(y_chunk, y_pooled.data<float>() + first * pooled_image,
                                   argmax_data ? argmax_data + first * pooled_image : nullptr,
                                   chunk_pool);
    };
    Tensor y = onednn::convolution_forward(onednn_plan_for(cache, g, out_channels, path), x, weight,
                                           finish_chunk, /*write_output=*/!pooled);
    return pooled ? y_pooled : y;
  }
  Tensor y = conv2d_forward(x, weight, g, path, cache, saved, bias);
  if (epilogue) apply_channel_epilogue_(y, *epilogue);
  return pool ? max_pool_forward(y, *pool, argmax) : y;
}

Conv2dGradients conv2d_backward(const Tensor& dy, const Tensor& weight, const Conv2dSaved& saved,
                                Conv2dCache& cache, bool input_gradient) {
  switch (saved.path) {
    case Conv2dPath::BatchedColumns:
      return backward_batched(dy, weight, saved, input_gradient);
    case Conv2dPath::PerImage:
    case Conv2dPath::Direct:
      return backward_per_image(dy, weight, saved, input_gradient);
    case Conv2dPath::Onednn:
    case Conv2dPath::OnednnWinograd: {
      Conv2dGradients grads;
      onednn::convolution_backward(*cache.onednn_plan, saved.input, dy, weight,
                                   input_gradient ? &grads.input : nullptr, grads.weight);
      return grads;
    }
    case Conv2dPath::Cudnn: {
#if DLFS_HAVE_CUDNN
      Conv2dGradients grads;
      grads.weight = cudnn::convolution_backward_filter(*cache.cudnn_plan, saved.input, dy);
      if (input_gradient)
        grads.input = cudnn::convolution_backward_data(*cache.cudnn_plan, dy, weight);
      return grads;
#else
      (void)cache;
      no_cudnn();
#endif
    }
  }
  throw Error("Convolution: unknown path");
}

}  // namespace dlfs::kernels
