#include "dlfs/layers/global_avg_pool.hpp"

#include "dlfs/kernels/global_avg_pool.hpp"

namespace dlfs {

Tensor GlobalAvgPool::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "GlobalAvgPool");
  Tensor y = kernels::global_avg_pool_forward(x);
  input_shape_ = x.shape();
  ready_for_backward_ = mode == Mode::Train;
  return y;
}

std::vector<Tensor> GlobalAvgPool::backward(const Tensor& grad_output) {
  if (!ready_for_backward_)
    throw Error("GlobalAvgPool::backward called without a Train-mode forward");
  return {kernels::global_avg_pool_backward(grad_output, input_shape_)};
}

}  // namespace dlfs
