#include "dlfs/layers/dropout.hpp"

#include <sstream>

#include "dlfs/kernels/dropout.hpp"

namespace dlfs {

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), seed_(seed) {
  kernels::dropout_scale(p);  // rejects p outside [0, 1] now rather than at the first forward
}

std::string Dropout::describe() const {
  std::ostringstream s;
  s << "p=" << p_;
  return s.str();
}

Tensor Dropout::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "Dropout");
  if (mode == Mode::Inference) {
    mask_ = Tensor();
    return x;
  }
  Tensor mask;
  Tensor y = kernels::dropout_forward(x, p_, seed_, offset_, &mask);
  offset_ += static_cast<std::uint64_t>(x.numel());
  mask_ = mask;
  return y;
}

std::vector<Tensor> Dropout::backward(const Tensor& grad_output) {
  if (!mask_.defined()) throw Error("Dropout::backward called without a Train-mode forward");
  return {kernels::dropout_backward(grad_output, mask_, p_)};
}

}  // namespace dlfs
