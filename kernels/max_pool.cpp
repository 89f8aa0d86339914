#include "dlfs/kernels/max_pool.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

Tensor max_pool_forward(const Tensor& x, const PoolWindow& window, Tensor* argmax) {
  check_floating("max_pool_forward", x);
  const Pool2dGeometry g = pool2d_geometry("max_pool_forward", x.shape(), window);
  Tensor y = Tensor::empty(g.output_shape(), x.dtype(), x.device());
  // Without `argmax` (inference) the CPU skips it; the GPU kernel writes it to scratch.
  Tensor indices;
  if (argmax || x.device().is_cuda())
    indices = Tensor::empty(g.output_shape(), DType::Int32, x.device());
  if (argmax) *argmax = indices;
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("max_pool_forward",
                   cuda::max_pool_forward(x.data<float>(), y.data<float>(),
                                          indices.data<std::int32_t>(), g, stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "max_pool_forward", [&] {
    cpu::max_pool_forward(x.data<scalar_t>(), y.data<scalar_t>(),
                          indices.defined() ? indices.data<std::int32_t>() : nullptr, g);
  });
  return y;
}

Tensor max_pool_backward(const Tensor& dy, const Tensor& argmax, const Shape& input_shape,
                         const PoolWindow& window) {
  check_same_device("max_pool_backward", {&dy, &argmax});
  check_floating("max_pool_backward", dy);
  const Pool2dGeometry g = pool2d_geometry("max_pool_backward", input_shape, window);
  if (dy.shape() != g.output_shape() || argmax.shape() != g.output_shape() ||
      argmax.dtype() != DType::Int32)
    throw Error("max_pool_backward: gradient " + dy.str() + " and argmax " + argmax.str() +
                " do not match the output " + g.output_shape().str() + " of input " +
                input_shape.str() + " with window " + window.str());
  Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
  if (dy.device().is_cuda()) {
    DLFS_CUDA_CALL("max_pool_backward",
                   cuda::max_pool_backward(dy.data<float>(), argmax.data<std::int32_t>(),
                                           dx.data<float>(), g, stream_of(dy)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(dy.dtype(), "max_pool_backward", [&] {
    cpu::max_pool_backward(dy.data<scalar_t>(), argmax.data<std::int32_t>(), dx.data<scalar_t>(),
                           g);
  });
  return dx;
}

}  // namespace dlfs::kernels
