#include "dlfs/kernels/avg_pool.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

Tensor avg_pool_forward(const Tensor& x, const PoolWindow& window) {
  check_floating("avg_pool_forward", x);
  const Pool2dGeometry g = pool2d_geometry("avg_pool_forward", x.shape(), window);
  Tensor y = Tensor::empty(g.output_shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("avg_pool_forward",
                   cuda::avg_pool_forward(x.data<float>(), y.data<float>(), g, stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "avg_pool_forward",
                         [&] { cpu::avg_pool_forward(x.data<scalar_t>(), y.data<scalar_t>(), g); });
  return y;
}

Tensor avg_pool_backward(const Tensor& dy, const Shape& input_shape, const PoolWindow& window) {
  check_floating("avg_pool_backward", dy);
  const Pool2dGeometry g = pool2d_geometry("avg_pool_backward", input_shape, window);
  if (dy.shape() != g.output_shape())
    throw Error("avg_pool_backward: gradient " + dy.str() + " does not match the output " +
                g.output_shape().str() + " of input " + input_shape.str() + " with window " +
                window.str());
  Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
  if (dy.device().is_cuda()) {
    DLFS_CUDA_CALL("avg_pool_backward",
                   cuda::avg_pool_backward(dy.data<float>(), dx.data<float>(), g, stream_of(dy)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(dy.dtype(), "avg_pool_backward", [&] {
    cpu::avg_pool_backward(dy.data<scalar_t>(), dx.data<scalar_t>(), g);
  });
  return dx;
}

}  // namespace dlfs::kernels
