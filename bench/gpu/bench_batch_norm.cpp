// Batch normalization (spatial, per channel) against cuDNN's BatchNormalizationForwardTraining,
// ForwardInference and Backward (CUDNN_BATCHNORM_SPATIAL). Bytes charged, the same for both:
// the two-pass algorithm's traffic. Training forward reads x twice (statistics, then
// normalization) and writes y: 12 bytes an element; inference reads x and writes y: 8;
// backward reads dy and x twice (sums, then dx) and writes dx: 20.
#include <cstdint>

#include "cudnn_descriptors.hpp"
#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/runtime/cuda_check.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

namespace {

constexpr double kMomentum = 0.1;
constexpr double kEps = 1e-5;

void run_case(BenchContext& ctx, const Shape& shape) {
  const Device gpu = Device::cuda(0);
  const kernels::BatchNormShape s{shape.dim(0), shape.dim(1), shape.dim(2) * shape.dim(3)};
  const double elements = static_cast<double>(s.numel());
  const Shape channels{s.channels};
  Tensor x = random_device_tensor(shape, -2.0, 2.0, 11);
  Tensor dy = random_device_tensor(shape, -1.0, 1.0, 12);
  Tensor gamma = random_device_tensor(channels, 0.5, 1.5, 13);
  Tensor beta = random_device_tensor(channels, -0.5, 0.5, 14);
  Tensor running_mean = Tensor::zeros(channels, DType::Float32, gpu);
  Tensor running_var = Tensor::full(channels, 1.0, DType::Float32, gpu);
  Tensor save_mean = Tensor::empty(channels, DType::Float32, gpu);
  Tensor save_invstd = Tensor::empty(channels, DType::Float32, gpu);
  Tensor y = Tensor::empty(shape, DType::Float32, gpu);
  Tensor dx = Tensor::empty(shape, DType::Float32, gpu);
  Tensor dgamma = Tensor::empty(channels, DType::Float32, gpu);
  Tensor dbeta = Tensor::empty(channels, DType::Float32, gpu);
  // The split statistics' workspace, as kernels/batch_norm.cpp allocates it.
  Tensor partials =
      Tensor::empty(Shape{kernels::cuda::batch_norm_workspace_floats(s)}, DType::Float32, gpu);

  Timed train{0.0, 12.0 * elements}, infer{0.0, 8.0 * elements}, back{0.0, 20.0 * elements};
  train.ms = ctx.timer.median_ms([&] {
    kernels::cuda::batch_norm_train_forward(
        x.data<float>(), gamma.data<float>(), beta.data<float>(), y.data<float>(),
        running_mean.data<float>(), running_var.data<float>(), save_mean.data<float>(),
        save_invstd.data<float>(), nullptr, s, kMomentum, kEps, ctx.stream, partials.data<float>());
  });
  Tensor train_y = y.clone();
  infer.ms = ctx.timer.median_ms([&] {
    kernels::cuda::batch_norm_inference_forward(
        x.data<float>(), gamma.data<float>(), beta.data<float>(), running_mean.data<float>(),
        running_var.data<float>(), y.data<float>(), s, kEps, ctx.stream);
  });
  back.ms = ctx.timer.median_ms([&] {
    kernels::cuda::batch_norm_backward(dy.data<float>(), x.data<float>(), gamma.data<float>(),
                                       save_mean.data<float>(), save_invstd.data<float>(),
                                       dx.data<float>(), dgamma.data<float>(), dbeta.data<float>(),
                                       s, ctx.stream, partials.data<float>());
  });
  const std::string name = "batch_norm " + shape.str();

#if DLFS_HAVE_CUDNN
  CudnnHandle handle = cuda_context(0).cudnn();
  CudnnTensor x_desc(s.batch, s.channels, shape.dim(2), shape.dim(3));
  CudnnTensor bn_desc;
  DLFS_CUDNN_CHECK(
      cudnnDeriveBNTensorDescriptor(bn_desc.get(), x_desc.get(), CUDNN_BATCHNORM_SPATIAL));
  const float one = 1.0f, zero = 0.0f;
  Tensor v_running_mean = Tensor::zeros(channels, DType::Float32, gpu);
  Tensor v_running_var = Tensor::full(channels, 1.0, DType::Float32, gpu);
  Tensor v_save_mean = Tensor::empty(channels, DType::Float32, gpu);
  Tensor v_save_invstd = Tensor::empty(channels, DType::Float32, gpu);
  Tensor vy = Tensor::empty(shape, DType::Float32, gpu);
  Tensor vdx = Tensor::empty(shape, DType::Float32, gpu);
  Tensor v_dgamma = Tensor::empty(channels, DType::Float32, gpu);
  Tensor v_dbeta = Tensor::empty(channels, DType::Float32, gpu);
  Timed vtrain{0.0, train.work}, vinfer{0.0, infer.work}, vback{0.0, back.work};
  vtrain.ms = ctx.timer.median_ms([&] {
    DLFS_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
        handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, x_desc.get(), x.raw_data(), x_desc.get(),
        vy.raw_data(), bn_desc.get(), gamma.raw_data(), beta.raw_data(), kMomentum,
        v_running_mean.raw_data(), v_running_var.raw_data(), kEps, v_save_mean.raw_data(),
        v_save_invstd.raw_data()));
  });
  const double train_diff = sampled_max_abs_diff(train_y, vy);
  vinfer.ms = ctx.timer.median_ms([&] {
    DLFS_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
        handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, x_desc.get(), x.raw_data(), x_desc.get(),
        vy.raw_data(), bn_desc.get(), gamma.raw_data(), beta.raw_data(), running_mean.raw_data(),
        running_var.raw_data(), kEps));
  });
  const double infer_diff = sampled_max_abs_diff(y, vy);
  vback.ms = ctx.timer.median_ms([&] {
    DLFS_CUDNN_CHECK(cudnnBatchNormalizationBackward(
        handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, x_desc.get(), x.raw_data(),
        x_desc.get(), dy.raw_data(), x_desc.get(), vdx.raw_data(), bn_desc.get(), gamma.raw_data(),
        v_dgamma.raw_data(), v_dbeta.raw_data(), kEps, v_save_mean.raw_data(),
        v_save_invstd.raw_data()));
  });
  Measurement t = bandwidth_row(ctx, "batch_norm", name + " train forward", train,
                                "cuDNN BN forward training", vtrain);
  t.extra.push_back({"max_abs_diff", json_number(train_diff)});
  Measurement i = bandwidth_row(ctx, "batch_norm", name + " inference", infer,
                                "cuDNN BN forward inference", vinfer);
  i.extra.push_back({"max_abs_diff", json_number(infer_diff)});
  Measurement b =
      bandwidth_row(ctx, "batch_norm", name + " backward", back, "cuDNN BN backward", vback);
  b.extra.push_back({"max_abs_diff", json_number(sampled_max_abs_diff(dx, vdx))});
  ctx.report.add(t);
  ctx.report.add(i);
  ctx.report.add(b);
#else
  ctx.report.add(bandwidth_row(ctx, "batch_norm", name + " train forward", train));
  ctx.report.add(bandwidth_row(ctx, "batch_norm", name + " inference", infer));
  ctx.report.add(bandwidth_row(ctx, "batch_norm", name + " backward", back));
#endif
}

}  // namespace

void bench_batch_norm(BenchContext& ctx) {
  for (const Shape& shape :
       {Shape{128, 64, 112, 112}, Shape{128, 256, 28, 28}, Shape{256, 512, 7, 7}})
    run_case(ctx, shape);
}

}  // namespace dlfs::bench
