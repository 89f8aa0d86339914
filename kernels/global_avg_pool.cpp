#include "dlfs/kernels/global_avg_pool.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {
void check_input_shape(const char* op, const Shape& input) {
  if (input.ndim() != 4 || input[2] < 1 || input[3] < 1)
    throw Error(std::string(op) + ": expects an [N, C, H, W] input with H, W >= 1, got " +
                input.str());
}
}  // namespace

Tensor global_avg_pool_forward(const Tensor& x) {
  check_floating("global_avg_pool_forward", x);
  check_input_shape("global_avg_pool_forward", x.shape());
  const std::int64_t planes = x.dim(0) * x.dim(1), spatial = x.dim(2) * x.dim(3);
  Tensor y = Tensor::empty({x.dim(0), x.dim(1), 1, 1}, x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("global_avg_pool_forward",
                   cuda::global_avg_pool_forward(x.data<float>(), y.data<float>(), planes, spatial,
                                                 stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "global_avg_pool_forward", [&] {
    cpu::global_avg_pool_forward(x.data<scalar_t>(), y.data<scalar_t>(), planes, spatial);
  });
  return y;
}

Tensor global_avg_pool_backward(const Tensor& dy, const Shape& input_shape) {
  check_floating("global_avg_pool_backward", dy);
  check_input_shape("global_avg_pool_backward", input_shape);
  if (dy.shape() != Shape{input_shape[0], input_shape[1], 1, 1})
    throw Error("global_avg_pool_backward: gradient " + dy.str() +
                " does not match the output of input " + input_shape.str());
  const std::int64_t planes = input_shape[0] * input_shape[1];
  const std::int64_t spatial = input_shape[2] * input_shape[3];
  Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
  if (dy.device().is_cuda()) {
    DLFS_CUDA_CALL("global_avg_pool_backward",
                   cuda::global_avg_pool_backward(dy.data<float>(), dx.data<float>(), planes,
                                                  spatial, stream_of(dy)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(dy.dtype(), "global_avg_pool_backward", [&] {
    cpu::global_avg_pool_backward(dy.data<scalar_t>(), dx.data<scalar_t>(), planes, spatial);
  });
  return dx;
}

}  // namespace dlfs::kernels
