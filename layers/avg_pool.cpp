#include "dlfs/layers/avg_pool.hpp"

#include "dlfs/kernels/avg_pool.hpp"

namespace dlfs {

AvgPool::AvgPool(int kernel, int stride, int padding)
    : AvgPool(kernels::PoolWindow::square(kernel, stride, padding)) {}

AvgPool::AvgPool(const kernels::PoolWindow& window) : window_(window) {
  kernels::check_pool_window("AvgPool", window_);
}

Tensor AvgPool::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "AvgPool");
  Tensor y = kernels::avg_pool_forward(x, window_);
  input_shape_ = x.shape();
  ready_for_backward_ = mode == Mode::Train;
  return y;
}

std::vector<Tensor> AvgPool::backward(const Tensor& grad_output) {
  if (!ready_for_backward_) throw Error("AvgPool::backward called without a Train-mode forward");
  return {kernels::avg_pool_backward(grad_output, input_shape_, window_)};
}

}  // namespace dlfs
