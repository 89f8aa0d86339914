#include "dlfs/layers/max_pool.hpp"

#include "dlfs/kernels/max_pool.hpp"

namespace dlfs {

MaxPool::MaxPool(int kernel, int stride, int padding)
    : MaxPool(kernels::PoolWindow::square(kernel, stride, padding)) {}

MaxPool::MaxPool(const kernels::PoolWindow& window) : window_(window) {
  kernels::check_pool_window("MaxPool", window_);
}

Tensor MaxPool::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "MaxPool");
  Tensor argmax;  // only a backward needs it
  Tensor y = kernels::max_pool_forward(x, window_, mode == Mode::Train ? &argmax : nullptr);
  argmax_ = argmax;
  input_shape_ = x.shape();
  return y;
}

void MaxPool::take_pooled_forward(const Tensor& argmax, const Shape& input_shape) {
  argmax_ = argmax;
  input_shape_ = input_shape;
}

std::vector<Tensor> MaxPool::backward(const Tensor& grad_output) {
  if (!argmax_.defined()) throw Error("MaxPool::backward called without a Train-mode forward");
  return {kernels::max_pool_backward(grad_output, argmax_, input_shape_, window_)};
}

}  // namespace dlfs
