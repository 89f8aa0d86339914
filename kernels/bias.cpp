#include "dlfs/kernels/bias.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {
struct ChannelView {
  std::int64_t batch, channels, spatial;
};
ChannelView channel_view(const Tensor& t, const char* op) {
  if (t.ndim() < 2) throw Error(std::string(op) + ": expects [N, C, ...], got " + t.str());
  return {t.dim(0), t.dim(1), t.numel() / std::max<std::int64_t>(1, t.dim(0) * t.dim(1))};
}
}  // namespace

void bias_add_(Tensor& y, const Tensor& bias) {
  check_same_device("bias_add_", {&y, &bias});
  check_floating("bias_add_", y);
  const ChannelView v = channel_view(y, "bias_add_");
  if (bias.numel() != v.channels || bias.dtype() != y.dtype())
    throw Error("bias_add_: bias " + bias.str() + " does not match " + y.str());
  if (y.device().is_cuda()) {
    DLFS_CUDA_CALL("bias_add_", cuda::bias_add(y.data<float>(), bias.data<float>(), v.batch,
                                               v.channels, v.spatial, stream_of(y)));
    return;
  }
  DLFS_DISPATCH_FLOATING(y.dtype(), "bias_add_", [&] {
    cpu::bias_add(y.data<scalar_t>(), bias.data<scalar_t>(), v.batch, v.channels, v.spatial);
  });
}

Tensor bias_grad(const Tensor& dy) {
  check_floating("bias_grad", dy);
  const ChannelView v = channel_view(dy, "bias_grad");
  Tensor db = Tensor::empty({v.channels}, dy.dtype(), dy.device());
  if (dy.device().is_cuda()) {
    Tensor partials =
        Tensor::empty({cuda::bias_grad_workspace_floats(v.batch, v.channels, v.spatial)},
                      DType::Float32, dy.device());
    DLFS_CUDA_CALL("bias_grad",
                   cuda::bias_grad(dy.data<float>(), db.data<float>(), v.batch, v.channels,
                                   v.spatial, stream_of(dy), partials.data<float>()));
    return db;
  }
  DLFS_DISPATCH_FLOATING(dy.dtype(), "bias_grad", [&] {
    cpu::bias_grad(dy.data<scalar_t>(), db.data<scalar_t>(), v.batch, v.channels, v.spatial);
  });
  return db;
}

}  // namespace dlfs::kernels
